"""Dialect sniffing: any valid table written the ways spreadsheets write it reads back the same."""

from __future__ import annotations

import codecs

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from physics.errors import DataError
from physics.table import read_raw_table, read_table, table_notes, validate_table
from physics.table.dialect import column_letter

_ROW = st.fixed_dictionaries(
    {
        "zbo_fraction": st.sampled_from([0.0, 0.05, 0.1, 0.15, 0.2, 0.3, 0.5]),
        "sinter_temperature_c": st.sampled_from([900.0, 950.0, 1000.0, 1100.0, 1250.0]),
        "dwell_h": st.one_of(st.none(), st.sampled_from([1.0, 2.5, 6.0, 12.0])),
        "sigma_total_ms_cm": st.one_of(st.none(), st.floats(0.3, 2.0).map(lambda v: round(v, 4))),
        "electronic_fraction": st.one_of(
            st.none(), st.floats(0.001, 0.5).map(lambda v: round(v, 5))
        ),
        "source": st.sampled_from(["", "Müller lab", "10.1039/d1ta10816f", "Ångström 2"]),
    }
)
_ENCODINGS = ("utf-8", "utf-8-sig", "cp1252", "utf-16")


def _write(frame: pd.DataFrame, sep: str, comma: bool, encoding: str, crlf: bool) -> bytes:
    lines = [sep.join(frame.columns)]
    for _, row in frame.iterrows():
        cells = []
        for v in row.to_numpy():
            if v is None or (isinstance(v, float) and np.isnan(v)):
                cells.append("")
            elif isinstance(v, float):
                text = repr(v)
                cells.append(text.replace(".", ",") if comma else text)
            else:
                cells.append(str(v))
        lines.append(sep.join(cells))
    text = ("\r\n" if crlf else "\n").join(lines) + "\n"
    return text.encode(encoding)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    rows=st.lists(_ROW, min_size=1, max_size=6),
    sep=st.sampled_from([",", ";", "\t"]),
    comma=st.booleans(),
    encoding=st.sampled_from(_ENCODINGS),
    crlf=st.booleans(),
)
def test_any_dialect_reads_back_the_same_table(tmp_path, rows, sep, comma, encoding, crlf):
    comma = comma and sep != ","  # a comma-separated file cannot carry unquoted decimal commas
    frame = pd.DataFrame(rows)
    frame.insert(0, "sample_id", [f"s{i}" for i in range(len(frame))])
    frame.insert(4, "status", "ok")
    expected = validate_table(frame.astype(object).where(frame.notna(), None))
    path = tmp_path / "table.csv"
    path.write_bytes(_write(frame, sep, comma, encoding, crlf))
    got = read_table(path)
    pd.testing.assert_frame_equal(got, expected, check_dtype=False)


def test_spreadsheet_row_numbers_follow_the_file(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text(
        "Exported 2024\n\nsample_id,zbo_fraction,sinter_temperature_c,dwell_h\n"
        ",,C,h\ns1,0.1,1000,6\n\ns2,0.2,1000,6\n"
    )
    raw = read_raw_table(path)
    assert raw.attrs["gbs_table_rows"] == [5, 7]
    assert any("above the header" in n for n in table_notes(raw))


def test_a_subset_of_a_file_is_no_longer_numbered_as_the_file(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text(
        "sample_id,zbo_fraction,sinter_temperature_c,dwell_h\ns1,0.1,1000,6\ns2,5,1000,6\n"
    )
    raw = read_raw_table(path)
    with pytest.raises(DataError, match=r"^t\.csv row 3: zbo_fraction = 5"):
        validate_table(raw)
    with pytest.raises(DataError, match=r"^subset row 2: zbo_fraction = 5"):
        validate_table(raw.iloc[[1]], name="subset")


def test_in_memory_semicolon_frames_are_explained():
    frame = pd.DataFrame({"sample_id;zbo_fraction;sinter_temperature_c": ["a;0.1;1000"]})
    with pytest.raises(DataError, match="semicolon-separated"):
        validate_table(frame)


def test_family_checks_only_for_tables_a_person_gave():
    rows = [
        {"sample_id": f"s{i}", "zbo_fraction": 0.1, "sinter_temperature_c": 1000.0,
         "dwell_h": 6.0, "sigma_total_ms_cm": v}
        for i, v in enumerate([1.0, 1.2, 0.9, 1.1, 0.0011])
    ]  # fmt: skip
    frame = pd.DataFrame(rows)
    validate_table(frame)  # the loop's rows: a real sample may scatter
    with pytest.raises(DataError, match=r"row 6: sigma_total_ms_cm = 0\.0011 is ~1000x below"):
        validate_table(frame, check_family=True)


@pytest.mark.parametrize(("index", "letter"), [(0, "A"), (25, "Z"), (26, "AA"), (27, "AB")])
def test_column_letters(index, letter):
    assert column_letter(index) == letter


def test_bom_and_padding_together(tmp_path):
    path = tmp_path / "t.csv"
    path.write_bytes(
        codecs.BOM_UTF8
        + b" sample_id ; zbo_fraction ;sinter_temperature_c;dwell_h\r\ns1;0,2;1000;6\r\n"
    )
    table = read_table(path)
    assert table.loc[0, "zbo_fraction"] == 0.2

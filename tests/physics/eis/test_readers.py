"""Tests of physics.eis.readers on the real instrument files and on broken files made in tmp_path."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from physics.eis.readers import (
    SUPPORTED_FORMATS,
    read_spectrum,
)
from physics.errors import FileFormatError

INSTRUMENT_DIR = Path(__file__).resolve().parents[3] / ".." / "shared" / "instrument-files"
MPT = INSTRUMENT_DIR / "exampleDataBioLogic.mpt"
DTA = INSTRUMENT_DIR / "exampleDataGamry.DTA"
needs_files = pytest.mark.skipif(
    not (MPT.is_file() and DTA.is_file()),
    reason=f"real instrument files not found in {INSTRUMENT_DIR} (shared/ must sit beside the repo)",
)


# --------------------------------------------------------------------------- real files
@needs_files
def test_biologic_mpt_real_file():
    s = read_spectrum(MPT)
    assert s.n_points == 43
    assert s.frequency_hz[0] == pytest.approx(1000.3201)
    assert s.frequency_hz[-1] == pytest.approx(0.01689554)
    # first row: Re 65.470886, -Im 0.38998979 -> Z'' = -0.38998979
    assert s.z_ohm[0] == pytest.approx(65.470886 - 0.38998979j)
    assert np.mean(s.z_ohm.imag < 0) > 0.8  # -Im column mostly positive
    # 'Electrode surface area : 0.001 cm²' is EC-Lab's placeholder: unknown, and said so
    assert s.area_cm2 is None
    assert s.metadata["file_area_cm2"] == pytest.approx(0.001)
    assert any("placeholder" in n or "default" in n for n in s.metadata["notes"])
    assert s.metadata["instrument"] == "BioLogic EC-Lab"
    assert s.metadata["technique"] == "Potentio Electrochemical Impedance Spectroscopy"
    assert Path(s.source).name == MPT.name
    assert read_spectrum(MPT, fmt="mpt").n_points == 43


@needs_files
def test_gamry_dta_real_file():
    s = read_spectrum(DTA)
    assert s.n_points == 72  # ZCURVE Pt 0..71, the 387-row OCVCURVE is skipped
    assert s.frequency_hz[0] == pytest.approx(200015.6)
    assert s.frequency_hz[-1] == pytest.approx(0.0158898)
    assert s.z_ohm[0] == pytest.approx(825.8584 - 1367.239j)
    assert s.z_ohm[-1] == pytest.approx(17007.49 - 6635.557j)
    assert np.mean(s.z_ohm.imag < 0) > 0.9  # capacitive
    assert s.area_cm2 is None  # AREA 1 cm2 is the Framework's default: unknown
    assert s.metadata["file_area_cm2"] == pytest.approx(1.0)
    h = s.metadata["header"]
    assert h["FREQINIT"] == pytest.approx(2e5)
    assert h["VAC"] == pytest.approx(10.0)
    assert s.metadata["technique"] == "EISPOT"
    assert read_spectrum(DTA, fmt="dta").n_points == 72


@needs_files
def test_overrides_keep_file_values():
    s = read_spectrum(MPT, area_cm2=0.785, temperature_c=40.0)
    assert s.area_cm2 == 0.785
    assert s.temperature_c == 40.0
    assert s.metadata["file_area_cm2"] == pytest.approx(0.001)


@needs_files
def test_dispatch_by_content_and_fmt(tmp_path):
    copy = tmp_path / "spectrum.txt"
    copy.write_bytes(DTA.read_bytes())
    assert read_spectrum(copy).n_points == 72
    copy2 = tmp_path / "other.dat"
    copy2.write_bytes(MPT.read_bytes())
    assert read_spectrum(copy2).n_points == 43
    assert read_spectrum(copy2, fmt="mpt").n_points == 43
    with pytest.raises(FileFormatError, match="unknown format 'xlsx'"):
        read_spectrum(copy2, fmt="xlsx")
    assert set(SUPPORTED_FORMATS) == {"mpt", "mpr", "dta", "z", "chi", "par", "csv"}


@needs_files
def test_truncated_real_files(tmp_path):
    raw = MPT.read_bytes()
    cut = tmp_path / "cut.mpt"
    cut.write_bytes(raw[: len(raw) - 150])  # cut inside the last data line
    with pytest.raises(FileFormatError, match=r"cut\.mpt.*fields, expected 18"):
        read_spectrum(cut, fmt="mpt")
    head_only = tmp_path / "head.mpt"
    head_only.write_bytes(b"\n".join(raw.split(b"\n")[:30]))
    with pytest.raises(FileFormatError, match="truncated: header announces 61 lines"):
        read_spectrum(head_only)
    raw = DTA.read_bytes()
    cut = tmp_path / "cut.DTA"
    cut.write_bytes(raw[: len(raw) - 40])
    with pytest.raises(FileFormatError, match=r"cut\.DTA: line 520 has 7 fields, expected 11"):
        read_spectrum(cut)
    ocv_only = tmp_path / "ocv.DTA"
    ocv_only.write_bytes(raw[: raw.index(b"ZCURVE")])
    with pytest.raises(FileFormatError, match=r"not an impedance export.*no ZCURVE.*OCVCURVE"):
        read_spectrum(ocv_only)


# --------------------------------------------------------------------------- broken files
def test_missing_empty_and_binary(tmp_path):
    with pytest.raises(FileFormatError, match="no such file"):
        read_spectrum(tmp_path / "nope.mpt")
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    with pytest.raises(FileFormatError, match=r"empty\.csv: file is empty"):
        read_spectrum(empty)
    rng = np.random.default_rng(0)
    for ext in (".mpt", ".DTA", ".csv", ".bin"):
        junk = tmp_path / f"junk{ext}"
        junk.write_bytes(b"\x00\x01" + rng.integers(0, 256, 2000, dtype=np.uint8).tobytes())
        with pytest.raises(FileFormatError, match=rf"junk\{ext}"):
            read_spectrum(junk)


def test_cv_export_is_not_impedance(tmp_path):
    cv = tmp_path / "cv.mpt"
    cv.write_text(
        "EC-Lab ASCII FILE\nNb header lines : 5\n\nCyclic Voltammetry\n"
        "mode\tEwe/V\t<I>/mA\t\n1\t0.1\t0.01\t\n1\t0.2\t0.02\t\n",
        encoding="latin-1",
    )
    with pytest.raises(FileFormatError, match=r"not an impedance export: EC-Lab Cyclic .*Ewe/V"):
        read_spectrum(cv)
    dta = tmp_path / "cv.DTA"
    dta.write_text(
        "EXPLAIN\nTAG\tCV\nCURVE1\tTABLE\t2\n\tPt\tT\tVf\tIm\n\t#\ts\tV\tA\n"
        "\t0\t0.1\t0.2\t1e-6\n\t1\t0.2\t0.3\t2e-6\n",
        encoding="latin-1",
    )
    with pytest.raises(FileFormatError, match=r"not an impedance export: Gamry CV .*CURVE1"):
        read_spectrum(dta)


def test_csv_without_frequency(tmp_path):
    p = tmp_path / "nofreq.csv"
    p.write_text("time_s,voltage_v\n0,1\n1,2\n2,3\n")
    with pytest.raises(
        FileFormatError, match=r"nofreq\.csv: not an impedance export: no frequency"
    ):
        read_spectrum(p, fmt="csv")


def test_csv_bad_rows(tmp_path):
    p = tmp_path / "bad.csv"
    p.write_text("frequency_hz,z_real_ohm,z_imag_ohm\n1e3,10,-1\n1e2,11,abc\n1e1,12,-3\n")
    with pytest.raises(FileFormatError, match=r"line 3, column 'z_imag_ohm'.*'abc'"):
        read_spectrum(p)
    p.write_text("frequency_hz,z_real_ohm,z_imag_ohm\n1e3,10,-1\n1e2,11,-2\n1e1,12\n")
    with pytest.raises(FileFormatError, match="line 4 has 2 fields"):
        read_spectrum(p)
    p.write_text("frequency_hz,z_real_ohm,z_imag_ohm\n")
    with pytest.raises(FileFormatError, match="header only"):
        read_spectrum(p)
    p.write_text("frequency_hz,z_real_ohm,z_imag_ohm\n1e3,10,-1\n-5,11,-2\n1e1,12,-3\n")
    with pytest.raises(FileFormatError, match="data row 2: negative frequency -5 Hz"):
        read_spectrum(p)
    p.write_text("frequency_hz,z_real_ohm,z_imag_ohm\n0,0,0\n1e3,10,-1\n1e2,11,-2\n1e1,12,-3\n")
    s = read_spectrum(p)  # a DC point (f = 0) is dropped with a note
    assert s.n_points == 3 and "dropped 1 row(s) with f = 0 Hz" in s.metadata["notes"][0]


def test_csv_aliases_and_signs(tmp_path):
    p = tmp_path / "biologic_like.csv"
    p.write_text("freq/Hz;Re(Z)/Ohm;-Im(Z)/Ohm\n1000;10,5;1\n100;12;3\n10;15;2\n")
    s = read_spectrum(p)
    np.testing.assert_allclose(s.z_ohm, [10.5 - 1j, 12 - 3j, 15 - 2j])
    assert s.metadata["imag_column_negated"]
    p = tmp_path / "gamry_like.tsv"
    p.write_text(
        "# area_cm2: 0.785\n# temperature_c = 40\nFreq\tZreal\tZimag\n1e3\t1\t-1\n"
        "1e2\t2\t-2\n1e1\t3\t-3\n"
    )
    s = read_spectrum(p)
    np.testing.assert_allclose(s.z_ohm.imag, [-1, -2, -3])
    assert (s.area_cm2, s.temperature_c) == (0.785, 40.0)
    p = tmp_path / "spaces.csv"
    p.write_text('"Frequency (Hz)", "Z_real [Ohm]", "-Z\'\'"\n5,1,2\n4,1,2\n3,1,2\n')
    assert read_spectrum(p).z_ohm.imag.tolist() == [-2, -2, -2]


def test_csv_unit_spellings(tmp_path):
    p = tmp_path / "units.csv"
    p.write_text("Frequency [Hz],Zre (ohms),Im(Z) [Ω]\n3,1,-2\n2,1,-2\n1,1,-2\n", encoding="utf-8")
    s = read_spectrum(p)
    assert s.z_ohm.tolist() == [1 - 2j] * 3


def test_mpt_decimal_comma_and_signed_imag(tmp_path):
    p = tmp_path / "fr.mpt"
    p.write_bytes(
        "EC-Lab ASCII FILE\nNb header lines : 4\nElectrode surface area : 78,5 mm²\n"
        "freq/Hz\tRe(Z)/Ohm\tIm(Z)/Ohm\t\n1,0E+03\t10,5\t-1,5\t\n1,0E+02\t20\t-3\t\n"
        "1,0E+01\t30\t-2\t\n".encode("latin-1")
    )
    s = read_spectrum(p)
    np.testing.assert_allclose(s.frequency_hz, [1e3, 1e2, 1e1])
    np.testing.assert_allclose(s.z_ohm, [10.5 - 1.5j, 20 - 3j, 30 - 2j])
    assert s.area_cm2 == pytest.approx(0.785)  # 78.5 mm2


# --------------------------------------------------------------------------- .mpr
def _minimal_mpr(path: Path, f, re_z, minus_im_z) -> None:
    """Write a minimal EC-Lab .mpr (settings + version-2 data module) that galvani can read."""
    magic = b"BIO-LOGIC MODULAR FILE\x1a".ljust(48) + b"\x00\x00\x00\x00"

    def module(short: bytes, long: bytes, data: bytes, version: int) -> bytes:
        hdr = struct.pack(
            "<10s25sII8s", short.ljust(10), long.ljust(25), len(data), version, b"04/02/18"
        )
        return b"MODULE" + hdr + data

    col_ids = (32, 37, 38)  # freq/Hz, Re(Z)/Ohm, -Im(Z)/Ohm, all float32
    rec = np.rec.fromarrays(
        [np.asarray(f, "<f4"), np.asarray(re_z, "<f4"), np.asarray(minus_im_z, "<f4")],
        dtype=[("a", "<f4"), ("b", "<f4"), ("c", "<f4")],
    )
    head = struct.pack("<IB", len(f), len(col_ids)) + struct.pack(f"<{len(col_ids)}H", *col_ids)
    data = head.ljust(405, b"\x00") + rec.tobytes()
    path.write_bytes(
        magic
        + module(b"VMP Set   ", b"VMP settings", b"\x00" * 16, 0)
        + module(b"VMP data  ", b"VMP data", data, 2)
    )


def test_mpr_minimal_valid_file(tmp_path):
    p = tmp_path / "eis.mpr"
    _minimal_mpr(p, [1e4, 1e3, 1e2, 1e1], [10, 20, 40, 60], [5, 12, 9, 3])
    s = read_spectrum(p, area_cm2=0.785)
    np.testing.assert_allclose(s.frequency_hz, [1e4, 1e3, 1e2, 1e1])
    np.testing.assert_allclose(s.z_ohm, [10 - 5j, 20 - 12j, 40 - 9j, 60 - 3j])
    assert s.area_cm2 == 0.785
    assert s.metadata["format"] == "mpr"


def test_mpr_bad_files(tmp_path):
    p = tmp_path / "bad.mpr"
    p.write_bytes(b"not an mpr at all" * 10)
    with pytest.raises(FileFormatError, match=r"bad\.mpr: not a BioLogic \.mpr file"):
        read_spectrum(p, fmt="mpr")
    good = tmp_path / "good.mpr"
    _minimal_mpr(good, [1e4, 1e3, 1e2], [1, 2, 3], [1, 1, 1])
    cut = tmp_path / "cut.mpr"
    cut.write_bytes(good.read_bytes()[:-20])
    with pytest.raises(FileFormatError, match=r"cut\.mpr: corrupted or unsupported"):
        read_spectrum(cut)


def _mpr_columns(path: Path, columns: list[tuple[int, str, list[float]]]) -> None:
    """A version-2 .mpr of a PEIS run (technique code 0x1D) with the given (ID, dtype, values)."""
    magic = b"BIO-LOGIC MODULAR FILE\x1a".ljust(48) + b"\x00\x00\x00\x00"

    def module(short: bytes, long: bytes, data: bytes) -> bytes:
        hdr = struct.pack("<10s25sII8s", short.ljust(10), long.ljust(25), len(data), 2, b"04/02/18")
        return b"MODULE" + hdr + data

    n = len(columns[0][2])
    rec = np.rec.fromarrays(
        [np.asarray(v, dt) for _, dt, v in columns],
        dtype=[(f"c{k}", dt) for k, (_, dt, _) in enumerate(columns)],
    )
    ids = [cid for cid, _, _ in columns]
    head = struct.pack("<IB", n, len(ids)) + struct.pack(f"<{len(ids)}H", *ids)
    settings = b"\x1d" + b"\x00" * 15
    path.write_bytes(
        magic
        + module(b"VMP Set   ", b"VMP settings", settings)
        + module(b"VMP data  ", b"VMP data", head.ljust(405, b"\x00") + rec.tobytes())
    )


def test_mpr_unknown_column_read_around_or_refused(tmp_path):
    f, re_z, im_z = [1e4, 1e3, 1e2, 1e1], [10, 20, 40, 60], [5, 12, 9, 3]
    p = tmp_path / "unknown.mpr"
    _mpr_columns(p, [(32, "<f4", f), (37, "<f4", re_z), (38, "<f4", im_z), (999, "<f8", [7.0] * 4)])
    s = read_spectrum(p)  # galvani 0.5.0 refuses ID 999; the impedance columns are read
    np.testing.assert_allclose(s.z_ohm, [10 - 5j, 20 - 12j, 40 - 9j, 60 - 3j])
    assert "unsupported column ID(s) [999]" in s.metadata["notes"][0]
    _mpr_columns(
        p,
        [
            (32, "<f4", f),
            (998, "<f8", [1.0] * 4),
            (37, "<f4", re_z),
            (999, "<f4", [2.0] * 4),
            (38, "<f4", im_z),
        ],
    )  # Re(Z) sits between two unknown columns: where it starts cannot be known
    with pytest.raises(FileFormatError, match=r"unsupported column IDs \[998, 999\].*\.mpt"):
        read_spectrum(p)
    _mpr_columns(p, [(4, "<f8", [1.0, 2.0, 3.0, 4.0]), (6, "<f4", [0.1] * 4)])
    with pytest.raises(FileFormatError, match=r"not an impedance export: EC-Lab PEIS file"):
        read_spectrum(p)


# --------------------------------------------------------------------------- property test
finite = st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False)
# one sweep: distinct frequencies, high to low, as instruments write them
rows_strategy = st.lists(
    st.tuples(st.floats(1e-3, 1e7), finite, finite), unique_by=lambda r: r[0], min_size=3
).map(lambda rows: sorted(rows, reverse=True))


@settings(max_examples=25, deadline=None)
@given(
    rows=rows_strategy.filter(lambda rows: len(rows) <= 30),
    negated=st.booleans(),
)
def test_csv_round_trip(tmp_path_factory, rows, negated):
    p = tmp_path_factory.mktemp("rt") / "s.csv"
    imag_name = "-Im(Z)/Ohm" if negated else "z_imag_ohm"
    sign = -1.0 if negated else 1.0
    lines = [f"frequency_hz,z_real_ohm,{imag_name}"]
    lines += [f"{f!r},{r!r},{sign * i!r}" for f, r, i in rows]
    p.write_text("\n".join(lines) + "\n")
    s = read_spectrum(p)
    arr = np.asarray(rows)
    np.testing.assert_array_equal(s.frequency_hz, arr[:, 0])
    np.testing.assert_array_equal(s.z_ohm.real, arr[:, 1])
    np.testing.assert_array_equal(s.z_ohm.imag, arr[:, 2])


@settings(max_examples=20, deadline=None)
@given(rows=rows_strategy.filter(lambda rows: len(rows) <= 20))
def test_mpt_and_dta_round_trip(tmp_path_factory, rows):
    folder = tmp_path_factory.mktemp("rt")
    arr = np.asarray(rows)
    mpt = folder / "s.mpt"
    body = "".join(f"{f!r}\t{r!r}\t{-i!r}\t\n" for f, r, i in rows)
    mpt.write_bytes(
        (
            "EC-Lab ASCII FILE\nNb header lines : 5\n\nElectrode surface area : 0.785 cm²\n"
            "freq/Hz\tRe(Z)/Ohm\t-Im(Z)/Ohm\t\n" + body
        ).encode("latin-1")
    )
    dta = folder / "s.DTA"
    table = "".join(f"\t{k}\t{f!r}\t{r!r}\t{i!r}\n" for k, (f, r, i) in enumerate(rows))
    dta.write_bytes(
        (
            "EXPLAIN\nTAG\tEISPOT\nAREA\tQUANT\t0.5\t&Area (cm^2)\n"
            f"ZCURVE\tTABLE\t{len(rows)}\n\tPt\tFreq\tZreal\tZimag\n\t#\tHz\tohm\tohm\n" + table
        ).encode("latin-1")
    )
    for path, area in ((mpt, 0.785), (dta, 0.5)):
        s = read_spectrum(path)
        np.testing.assert_array_equal(s.frequency_hz, arr[:, 0])
        np.testing.assert_array_equal(s.z_ohm.real, arr[:, 1])
        np.testing.assert_array_equal(s.z_ohm.imag, arr[:, 2])
        assert s.area_cm2 == area

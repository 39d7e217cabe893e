"""Realistic mistakes in measurement tables, made from the paper's table as a scientist makes them.

Each :class:`Case` writes one file and says what reading it must give: a correct table (its
values checked against the paper's) or a one-line error containing some phrases (the file's
name, the spreadsheet row, the column, the likely mistake and its fix). The tests of
``physics.table`` and of the CLI commands run these same cases.
"""

from __future__ import annotations

import codecs
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[3]
PAPER_CSV = ROOT / "experiments" / "data" / "wang2022.csv"

# Three more rows as a lab adds them (spreadsheet rows 7-9), so that columns have a family.
_LAB_ROWS = [
    {"sample_id": "lab-1", "zbo_fraction": "0.15", "sinter_temperature_c": "1050",
     "dwell_h": "6", "status": "ok", "thickness_cm": "0.095", "sigma_total_ms_cm": "1.41",
     "electronic_fraction": "0.03", "ccd_ma_cm2": "0.4", "ccd_censored": "false",
     "source": "lab notebook 3"},
    {"sample_id": "lab-2", "zbo_fraction": "0.2", "sinter_temperature_c": "1100",
     "dwell_h": "6", "status": "ok", "thickness_cm": "0.092", "sigma_total_ms_cm": "1.22",
     "electronic_fraction": "0.025", "ccd_ma_cm2": "0.45", "ccd_censored": "false",
     "source": "lab notebook 3"},
    {"sample_id": "lab-3", "zbo_fraction": "0.25", "sinter_temperature_c": "1150",
     "dwell_h": "6", "status": "ok", "thickness_cm": "0.098", "sigma_total_ms_cm": "0.95",
     "electronic_fraction": "0.04", "ccd_ma_cm2": "0.35", "ccd_censored": "false",
     "source": "lab notebook 3"},
]  # fmt: skip


def paper_frame() -> pd.DataFrame:
    """The paper's table as strings (spreadsheet rows 2-6)."""
    return pd.read_csv(PAPER_CSV, dtype=str, keep_default_na=False)


def lab_frame() -> pd.DataFrame:
    """The paper's table plus three lab rows (spreadsheet rows 2-9), as strings."""
    paper = paper_frame()
    extra = pd.DataFrame(_LAB_ROWS, columns=paper.columns).fillna("")
    return pd.concat([paper, extra], ignore_index=True)


def to_text(frame: pd.DataFrame, sep: str = ",") -> str:
    buf = io.StringIO()
    frame.to_csv(buf, index=False, sep=sep, lineterminator="\n")
    return buf.getvalue()


def edited(frame: pd.DataFrame, **cells: dict[int, str]) -> pd.DataFrame:
    """``edited(f, sigma_total_ms_cm={7: "0.0012"})``: set cells by spreadsheet row."""
    out = frame.copy()
    for column, values in cells.items():
        for row, value in values.items():
            out.loc[row - 2, column] = value
    return out


def decimal_commas(frame: pd.DataFrame) -> pd.DataFrame:
    """The numbers written with a decimal comma (as a German or French Excel saves them)."""
    out = frame.copy()
    for col in out.columns:
        if col not in ("sample_id", "status", "ccd_censored", "source"):
            out[col] = out[col].str.replace(".", ",", regex=False)
    return out


@dataclass(frozen=True)
class Case:
    """One realistic file and what reading it must give.

    Attributes:
        id: the test id.
        content: the file's bytes.
        expect: phrases the one-line error must contain; empty: the file reads correctly.
        check: for a correct reading, a test of the table read.
        file_name: the file's name (messages must name it).
    """

    id: str
    content: bytes
    expect: tuple[str, ...] = ()
    check: Callable[[pd.DataFrame], None] | None = None
    file_name: str = "wang2022.csv"
    notes: tuple[str, ...] = field(default=())

    def write(self, folder: Path) -> Path:
        path = folder / self.file_name
        path.write_bytes(self.content)
        return path


def _b(text: str, encoding: str = "utf-8") -> bytes:
    return text.encode(encoding)


def _same_as_paper(table: pd.DataFrame) -> None:
    paper = paper_frame()
    assert list(table["sample_id"]) == list(paper["sample_id"])
    for col in ("zbo_fraction", "sinter_temperature_c", "sigma_total_ms_cm", "r_int_ohm_cm2",
                "electronic_fraction", "thickness_cm", "sigma_bulk_ms_cm"):  # fmt: skip
        expected = pd.to_numeric(paper[col].replace("", None))
        pd.testing.assert_series_equal(
            table[col].reset_index(drop=True), expected.astype(float), check_names=False
        )


def _column_is(column: str, values: list[float | None]) -> Callable[[pd.DataFrame], None]:
    def check(table: pd.DataFrame) -> None:
        got = [None if pd.isna(v) else round(float(v), 9) for v in table[column]]
        assert got == values, got

    return check


def _sources_are(sources: list[str]) -> Callable[[pd.DataFrame], None]:
    def check(table: pd.DataFrame) -> None:
        assert list(table["source"]) == sources

    return check


def _ids_are(ids: list[str]) -> Callable[[pd.DataFrame], None]:
    def check(table: pd.DataFrame) -> None:
        assert list(table["sample_id"]) == ids

    return check


def table_cases() -> list[Case]:
    """The corpus (see the module docstring)."""
    paper, lab = paper_frame(), lab_frame()
    text = to_text(paper)
    semicolon_comma = to_text(decimal_commas(paper), sep=";")
    units = ["", "", "°C", "h", "", "", "cm", "mS/cm", "mS/cm", "mS/cm", "eV", "", "ohm cm2"]
    unit_row = ",".join([*units, "mA/cm2", "", ""])
    header, _, body = text.partition("\n")
    cases = [
        Case("paper-table-as-is", _b(text), check=_same_as_paper),
        Case("lab-table-as-is", _b(to_text(lab)), check=_column_is("dwell_h", [None] * 5 + [6.0] * 3)),
        # -- unit mistakes, one row or a whole column
        Case("sigma-one-row-in-S-per-cm",
             _b(to_text(edited(lab, sigma_total_ms_cm={7: "0.0012"}))),
             ("wang2022.csv row 7", "sigma_total_ms_cm = 0.0012", "~1000x below", "S/cm instead of mS/cm", "multiply by 1000")),
        Case("sigma-all-in-S-per-cm",
             _b(to_text(edited(paper, sigma_total_ms_cm={2: "0.00053", 3: "0.00119", 4: "0.00158", 5: "0.00113"}))),
             ("wang2022.csv", "S/cm", "multiply by 1000")),
        Case("sigma-one-row-in-uS-per-cm",
             _b(to_text(edited(lab, sigma_total_ms_cm={3: "1190"}))),
             ("row 3", "sigma_total_ms_cm = 1190", "uS/cm", "divide by 1000")),
        Case("ccd-one-row-in-A-per-cm2",
             _b(to_text(edited(lab, ccd_ma_cm2={8: "0.00045"}))),
             ("row 8", "ccd_ma_cm2", "A/cm2 instead of mA/cm2")),
        Case("thickness-one-row-in-mm", _b(to_text(edited(paper, thickness_cm={2: "1.07"}))),
             ("row 2", "thickness_cm = 1.07", "mm instead of cm", "divide by 10")),
        Case("thickness-all-in-mm",
             _b(to_text(edited(paper, thickness_cm={2: "1.07", 3: "1.01", 4: "0.90", 5: "0.86"}))),
             ("thickness_cm", "rows 2, 3, 4, 5", "mm instead of cm")),
        Case("kelvin-one-row", _b(to_text(edited(lab, sinter_temperature_c={7: "1323"}))),
             ("row 7", "sinter_temperature_c = 1323", "kelvin", "subtract 273.15")),
        Case("kelvin-one-row-paper", _b(to_text(edited(paper, sinter_temperature_c={2: "1273"}))),
             ("row 2", "sinter_temperature_c = 1273", "kelvin")),
        Case("kelvin-all-rows",
             _b(to_text(edited(paper, sinter_temperature_c={r: "1273.15" for r in (2, 3, 4, 5)} | {6: "1523.15"}))),
             ("sinter_temperature_c", "kelvin", "subtract 273.15")),
        Case("kelvin-1173-to-1573",
             _b(to_text(edited(lab, sinter_temperature_c={2: "1173", 3: "1273", 4: "1373", 5: "1473", 6: "1573", 7: "1323", 8: "1373", 9: "1423"}))),
             ("sinter_temperature_c", "every value", "kelvin")),
        Case("dwell-zero", _b(to_text(edited(lab, dwell_h={8: "0"}))),
             ("row 8", "dwell_h = 0", "empty if it is not known")),
        Case("dwell-in-minutes", _b(to_text(edited(lab, dwell_h={7: "360"}))),
             ("row 7", "dwell_h = 360", "minutes", "divide by 60")),
        Case("t_e-in-percent-as-printed-in-the-paper",
             _b(to_text(edited(paper, electronic_fraction={2: "15.3", 3: "7.1", 4: "1.8", 5: "2.2"}))),
             ("electronic_fraction", "rows 2, 3, 4, 5", "percent", "divide by 100")),
        Case("t_e-in-percent-some-under-1",
             _b(to_text(edited(paper, electronic_fraction={2: "15.3", 3: "7.1", 4: "1.8", 5: "0.9"}))),
             ("electronic_fraction", "percent", "those under 1 too")),
        Case("t_e-one-row-in-percent", _b(to_text(edited(paper, electronic_fraction={2: "15.3"}))),
             ("row 2", "electronic_fraction = 15.3", "percent")),
        Case("density-in-percent", _b(to_text(edited(paper, relative_density={2: "73.7", 4: "99.8"}))),
             ("relative_density", "percent")),
        Case("density-in-g-per-cm3", _b(to_text(edited(paper, relative_density={4: "3.237"}))),
             ("row 4", "relative_density = 3.237", "g/cm3", "divide by 3.244")),
        Case("activation-energy-in-kJ-per-mol", _b(to_text(edited(paper, activation_energy_ev={4: "26"}))),
             ("row 4", "activation_energy_ev = 26", "kJ/mol")),
        Case("activation-energy-in-meV", _b(to_text(edited(paper, activation_energy_ev={4: "270"}))),
             ("row 4", "meV", "divide by 1000")),
        Case("x-in-percent", _b(to_text(edited(paper, zbo_fraction={3: "10", 4: "20", 5: "30"}))),
             ("zbo_fraction", "rows 3, 4, 5", "percent", "molar ratio")),
        Case("recipe-outside-the-plausible-space", _b(to_text(edited(paper, sinter_temperature_c={6: "1800"}))),
             ("row 6", "sinter_temperature_c = 1800", "outside the plausible")),
        Case("negative-x", _b(to_text(edited(paper, zbo_fraction={3: "-0.1"}))),
             ("row 3", "zbo_fraction = -0.1", "negative")),
        Case("value-1e300", _b(to_text(edited(paper, sigma_total_ms_cm={3: "1e300"}))),
             ("row 3", "sigma_total_ms_cm = 1e+300", "outside the plausible")),
        Case("value-inf", _b(to_text(edited(paper, r_int_ohm_cm2={2: "inf"}))),
             ("row 2", "r_int_ohm_cm2 = inf")),
        Case("swapped-x-and-temperature-headers",
             _b(text.replace("zbo_fraction,sinter_temperature_c", "sinter_temperature_c,zbo_fraction", 1)),
             ("zbo_fraction and sinter_temperature_c look swapped", "header")),
        Case("bulk-and-total-swapped",
             _b(to_text(edited(paper, sigma_total_ms_cm={2: "0.909091"}, sigma_bulk_ms_cm={2: "0.53"}))),
             ("row 2", "exceeds sigma_bulk_ms_cm", "swapped")),
        # -- dialects: read correctly, with a note
        Case("semicolon-and-decimal-comma", _b(semicolon_comma), check=_same_as_paper, notes=("semicolon", "decimal comma")),
        Case("tab-separated", _b(to_text(paper, sep="\t")), check=_same_as_paper, notes=("tab",)),
        Case("excel-sep-line", _b("sep=;\n" + to_text(paper, sep=";")), check=_same_as_paper),
        Case("utf8-bom", codecs.BOM_UTF8 + _b(text), check=_same_as_paper),
        Case("utf16-excel-unicode-text", codecs.BOM_UTF16_LE + to_text(paper, sep="\t").encode("utf-16-le"),
             check=_same_as_paper, notes=("UTF-16",)),
        Case("latin1-umlauts", _b(text.replace("10.1039/d1ta10816f", "Müller (Labor 2)"), "latin-1"),
             check=_sources_are(["Müller (Labor 2)"] * 5), notes=("Windows-1252",)),
        Case("crlf-line-ends", _b(text.replace("\n", "\r\n")), check=_same_as_paper),
        Case("padded-headers", _b(", ".join(f" {h} " for h in header.split(",")) + "\n" + body),
             check=_same_as_paper, notes=("headers read as",)),
        Case("capitalized-headers", _b(header.upper() + "\n" + body), check=_same_as_paper),
        Case("header-units-that-agree",
             _b(header.replace("sigma_total_ms_cm", "sigma_total_ms_cm (mS/cm)") + "\n" + body),
             check=_same_as_paper),
        Case("title-row-above-header", _b("Wang et al. 2022 table 1\n" + text), check=_same_as_paper,
             notes=("above the header",)),
        Case("excel-unit-row-under-header", _b(header + "\n" + unit_row + "\n" + body), check=_same_as_paper,
             notes=("holds units",)),
        Case("unit-row-then-a-wrong-row-keeps-sheet-row-numbers",
             _b(header + "\n" + unit_row + "\n" + to_text(edited(paper, dwell_h={4: "0"})).partition("\n")[2]),
             ("row 5", "dwell_h = 0")),
        Case("blank-line-keeps-sheet-row-numbers",
             _b(to_text(edited(lab, sigma_total_ms_cm={7: "0.0012"})).replace("\nlab-1", "\n\nlab-1")),
             ("row 8", "sigma_total_ms_cm = 0.0012")),
        Case("trailing-empty-rows", _b(text + ",,,,,,,,,,,,,,,\n\n,,,\n"), check=_same_as_paper),
        Case("trailing-empty-column", _b("\n".join(line + "," for line in text.splitlines()) + "\n"),
             check=_same_as_paper),
        Case("na-dash-nan-cells", _b(to_text(edited(paper, ccd_ma_cm2={3: "n/a", 5: "-"}, r_int_ohm_cm2={3: "NaN"}))),
             check=_column_is("ccd_ma_cm2", [0.15, None, 0.55, None, None]), notes=("read as empty",)),
        Case("percent-sign-cells", _b(to_text(edited(paper, electronic_fraction={2: "15.3%", 3: "7.1 %", 4: "1.8%", 5: "2.2%"}))),
             check=_column_is("electronic_fraction", [0.153, 0.071, 0.018, 0.022, None])),
        Case("unit-in-cells-that-agree", _b(to_text(edited(paper, sinter_temperature_c={r: "1000 °C" for r in (2, 3, 4, 5)}))),
             check=_column_is("sinter_temperature_c", [1000.0] * 4 + [1250.0])),
        Case("repeated-header-row", _b(text + header + "\n" + to_text(pd.DataFrame(_LAB_ROWS[:1], columns=paper.columns).fillna("")).partition("\n")[2]),
             check=_ids_are([*paper["sample_id"], "lab-1"]), notes=("repeats the header",)),
        # -- refused with the fix
        Case("unit-row-in-kelvin", _b(header + "\n" + unit_row.replace("°C", "K") + "\n" + body),
             ("row 2 (a row of units)", "sinter_temperature_c", "kelvin", "subtract 273.15")),
        Case("unit-row-in-S-per-cm", _b(header + "\n" + unit_row.replace("mS/cm", "S/cm", 1) + "\n" + body),
             ("row 2 (a row of units)", "sigma_total_ms_cm", "S/cm", "multiply by 1000")),
        Case("header-with-units-sigma", _b(header.replace("sigma_total_ms_cm", "sigma (mS/cm)") + "\n" + body),
             ("wang2022.csv", "'sigma (mS/cm)'", "rename it sigma_total_ms_cm")),
        Case("header-with-units-T", _b(header.replace("sinter_temperature_c", "T (°C)") + "\n" + body),
             ("'T (°C)'", "rename it sinter_temperature_c")),
        Case("header-units-that-disagree", _b(header.replace("sigma_total_ms_cm", "sigma_total_ms_cm [S/cm]") + "\n" + body),
             ("row 1", "S/cm", "multiply by 1000")),
        Case("unit-in-cells-kelvin", _b(to_text(edited(paper, sinter_temperature_c={3: "1273 K"}))),
             ("row 3", "sinter_temperature_c = '1273 K'", "kelvin")),
        Case("na-in-a-recipe", _b(to_text(edited(paper, zbo_fraction={4: "n/a"}))),
             ("row 4", "zbo_fraction is empty")),
        Case("excel-error-cell", _b(to_text(edited(paper, sigma_total_ms_cm={3: "#DIV/0!"}))),
             ("row 3", "'#DIV/0!'", "Excel error")),
        Case("text-in-a-number-cell", _b(to_text(edited(paper, thickness_cm={3: "approx 1 mm"}))),
             ("row 3", "thickness_cm", "not a number")),
        Case("duplicate-sample-ids", _b(to_text(edited(paper, sample_id={4: "wang2022-x0.0"}))),
             ("rows 2, 4", "duplicate sample_id 'wang2022-x0.0'")),
        Case("missing-sample-id", _b(to_text(edited(paper, sample_id={5: ""}))),
             ("row 5", "sample_id is empty")),
        Case("unknown-status", _b(to_text(edited(paper, status={3: "failed"}))),
             ("row 3", "status = 'failed'", "'ok' or 'cracked'")),
        Case("cracked-row-with-a-conductivity", _b(to_text(edited(paper, status={3: "cracked"}))),
             ("row 3", "status is cracked but sigma_total_ms_cm = 1.19")),
        Case("censored-ccd-without-its-bound", _b(to_text(edited(paper, ccd_censored={3: "true"}))),
             ("row 3", "ccd_censored is true but ccd_ma_cm2 is empty")),
        Case("missing-recipe-column", _b(to_text(paper.drop(columns=["zbo_fraction"]))),
             ("wang2022.csv", "missing required column", "zbo_fraction")),
        Case("duplicate-column", _b(header.replace("dwell_h", "sigma_total_ms_cm") + "\n" + body),
             ("row 1", "both named sigma_total_ms_cm")),
        Case("decimal-comma-in-a-comma-file", _b(text.replace("0.53", "0,53")),
             ("row 2", "the header has 16", "quote it")),
        Case("decimal-comma-and-point-mixed", _b(semicolon_comma.replace("1,58", "1.58")),
             ("both a decimal comma", "and a decimal point", "row 4")),
        Case("empty-file", b"", ("wang2022.csv", "empty")),
        Case("excel-workbook", b"PK\x03\x04" + b"\x00" * 64, ("workbook", "save the sheet as CSV")),
    ]  # fmt: skip
    return cases

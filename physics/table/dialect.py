"""Read a table file as a spreadsheet exports it: encoding, separator, decimal comma, header.

:func:`read_raw_table` turns the bytes of a CSV-like file into a frame of strings, one row
per data row, with

- the encoding found from the byte-order mark (UTF-8, UTF-16) or by trying UTF-8 and then
  Windows-1252 (a superset of Latin-1 for text);
- the separator chosen among ``,`` ``;`` tab and ``|`` as the one that splits the header into
  the most known column names (``sep=;`` on the first line, Excel's hint, is obeyed);
- the header found as the first row naming known columns (title or comment rows above it
  skipped), its cells stripped of spaces and case, ``name (unit)`` headers checked against
  the column's unit;
- a unit row under the header (Excel exports) checked and skipped; blank rows, trailing
  empty columns and repeated header rows skipped;
- decimal commas (``0,53``) read as decimal points when the whole file uses them;
- ``n/a``, ``-``, ``NaN`` and similar read as empty (not measured); ``15.3 %`` in a fraction
  column read as 0.153; a unit after a number (``1000 °C``) dropped when it is the column's.

Every such reading is noted (``frame.attrs`` ``"gbs_table_notes"``); anything ambiguous
raises :class:`~physics.errors.DataError` naming the file, the spreadsheet row (header = row
1 in a plain file) and column, and the fix. The spreadsheet row of each data row is kept in
``frame.attrs["gbs_table_rows"]`` and the file's name in ``frame.attrs["gbs_table_name"]``.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from pathlib import Path

import pandas as pd

from physics.errors import DataError
from physics.schema import MEASUREMENT_COLUMNS
from physics.table.columns import RULES, normalize_unit, split_header_unit, unit_mismatch

__all__ = ["ATTR_NAME", "ATTR_NOTES", "ATTR_ROWS", "NA_TOKENS", "column_letter", "read_raw_table"]

ATTR_NAME = "gbs_table_name"
ATTR_ROWS = "gbs_table_rows"
ATTR_NOTES = "gbs_table_notes"

#: Cells that mean "not measured" (compared in lower case).
NA_TOKENS = frozenset(
    {"na", "n/a", "n.a.", "nan", "-", "--", "—", "–", "none", "null", "nd", "n.d.", "#n/a"}
)
_SEPARATORS = (",", ";", "\t", "|")
_SEPARATOR_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "vertical bar"}
_PERCENT_COLUMNS = ("relative_density", "electronic_fraction")
_DOT_NUMBER = re.compile(r"^[+-]?(\d+\.\d*|\.\d+)([eE][+-]?\d+)?$")
_COMMA_NUMBER = re.compile(r"^[+-]?(\d+,\d*|,\d+)([eE][+-]?\d+)?$")
_THOUSANDS_DOT = re.compile(r"^[+-]?\d{1,3}(\.\d{3})+(,\d*)?$")
_NUMBER_UNIT = re.compile(r"^(?P<num>[+-]?(\d+[.,]?\d*|[.,]\d+)([eE][+-]?\d+)?)\s*(?P<unit>\D.*)$")
_SPACES = "\u00a0\u2009\u202f\ufeff"


def column_letter(index: int) -> str:
    """Spreadsheet letter of a 0-based column index: 0 -> A, 27 -> AB."""
    out = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        out = chr(65 + rem) + out
    return out


def _decode(data: bytes, name: str, notes: list[str]) -> str:
    if data.startswith(b"PK\x03\x04"):
        raise DataError(
            f"{name}: is a spreadsheet workbook (.xlsx/.ods), not a CSV file: "
            "save the sheet as CSV (UTF-8) and give that file"
        )
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise DataError(f"{name}: is an Excel .xls workbook, not a CSV file: save it as CSV")
    for bom, codec in (
        (codecs.BOM_UTF8, "utf-8-sig"),
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
    ):
        if data.startswith(bom):
            try:
                text = data.decode(codec)
            except UnicodeDecodeError as exc:
                raise DataError(f"{name}: starts as {codec} but does not decode ({exc})") from exc
            if codec == "utf-16":
                notes.append("read as UTF-16 text (Excel's 'Unicode text' export)")
            return text
    if b"\x00" in data[:4096]:
        raise DataError(f"{name}: holds binary data (NUL bytes), not a CSV text file")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        text = data.decode("cp1252")
        notes.append("not UTF-8: read as Windows-1252 (Latin-1) text")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
        notes.append("not UTF-8: read as Latin-1 text")
    return text


def _clean(cell: str) -> str:
    return cell.strip().strip(_SPACES).strip()


def _key(header: str) -> str:
    """A header cell as compared with the column names (case, spaces, hyphens)."""
    return re.sub(r"[\s\-]+", "_", _clean(header).lower())


def _header_column(cell: str) -> str | None:
    """The known column a header cell names, with or without a ``(unit)``."""
    key = _key(cell)
    if key in MEASUREMENT_COLUMNS:
        return key
    base, unit = split_header_unit(_clean(cell))
    if unit is not None and _key(base) in MEASUREMENT_COLUMNS:
        return _key(base)
    return None


def _records(text: str, sep: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=sep))


def _choose_separator(text: str, name: str, notes: list[str]) -> tuple[str, str]:
    """The separator, and the text without a leading ``sep=`` line."""
    first, _, rest = text.partition("\n")
    m = re.fullmatch(r"\s*\"?sep=(.)\"?\s*", first)
    if m is not None:
        return m.group(1), "\n" + rest  # keep the line so that row numbers stay the sheet's
    head = "\n".join(text.splitlines()[:30])
    best, best_score = ",", (-1, -1)
    for sep in _SEPARATORS:
        rows = [r for r in _records(head, sep) if any(_clean(c) for c in r)]
        known = max((sum(_header_column(c) is not None for c in r) for r in rows), default=0)
        width = max((len(r) for r in rows), default=0)
        score = (known, width if width > 1 else 0)
        if score > best_score:
            best, best_score = sep, score
    if best_score == (0, 0):
        return ",", text  # one column, or no table at all: the header search says which
    if best != ",":
        notes.append(f"separator: {_SEPARATOR_NAMES[best]}")
    return best, text


def _find_header(records: list[list[str]], name: str, sep: str) -> int:
    scores = [sum(_header_column(c) is not None for c in r) for r in records[:30]]
    if scores and max(scores) > 0:
        return scores.index(max(scores))
    for i, r in enumerate(records[:30]):
        if sum(bool(_clean(c)) for c in r) >= 2:
            return i
    raise DataError(
        f"{name}: no header row found (a row naming the columns, e.g. sample_id"
        f"{sep}zbo_fraction{sep}sinter_temperature_c)"
    )


def _header(raw: list[str], name: str, row: int, notes: list[str]) -> list[str]:
    out: list[str] = []
    changed: list[str] = []
    for j, cell in enumerate(raw):
        clean = _clean(cell)
        column = _header_column(clean)
        if column is None:
            out.append(clean)
            continue
        _base, unit = split_header_unit(clean)
        if unit is not None and column != _key(clean):
            problem = unit_mismatch(column, unit) if column in RULES else None
            if problem is not None:
                raise DataError(
                    f"{name} row {row} column {column_letter(j)}: header {clean!r} gives the "
                    f"unit as {problem}, and name the column {column}"
                )
        if column != cell:
            changed.append(f"{cell!r} -> {column}")
        out.append(column)
    if changed:
        notes.append(
            "headers read as " + ", ".join(changed[:4]) + (" ..." if len(changed) > 4 else "")
        )
    seen: dict[str, int] = {}
    for j, h in enumerate(out):
        if h and h in seen:
            raise DataError(
                f"{name} row {row}: columns {column_letter(seen[h])} and {column_letter(j)} "
                f"are both named {h}: keep one"
            )
        seen[h] = j
    return out


def _is_number(text: str) -> bool:
    try:
        float(text.replace(",", "."))
    except ValueError:
        return False
    return True


def _unit_row(header: list[str], cells: list[str], name: str, row: int) -> bool:
    """Whether ``cells`` is a row of units; raises when a unit is not the column's."""
    numeric = [(j, h) for j, h in enumerate(header) if h in RULES and j < len(cells)]
    values = [_clean(cells[j]) for j, _ in numeric]
    if not any(values) or any(_is_number(v) for v in values if v):
        return False
    known = [
        normalize_unit(v)
        in (*RULES[c].spellings, *(s for w in RULES[c].wrong for s in w.spellings))
        for (_j, c), v in zip(numeric, values, strict=True)
        if v and v.lower() not in NA_TOKENS
    ]
    if not any(known):
        return False  # text in a data row, not units: the validation names the cell
    for (_j, column), value in zip(numeric, values, strict=True):
        if value.lower() in NA_TOKENS or not value:
            continue
        problem = unit_mismatch(column, value)
        if problem is not None:
            raise DataError(
                f"{name} row {row} (a row of units): {column} is in {problem}, "
                "then fix or delete the unit row"
            )
    return True


def _decimal_comma(header: list[str], body: list[tuple[int, list[str]]], name: str) -> bool:
    comma = dot = None
    for row, cells in body:
        for j, h in enumerate(header):
            if h not in RULES or j >= len(cells):
                continue
            v = _clean(cells[j])
            if comma is None and _COMMA_NUMBER.match(v):
                comma = (row, h, v)
            if dot is None and _DOT_NUMBER.match(v) and not _THOUSANDS_DOT.match(v):
                dot = (row, h, v)
    if comma and dot:
        raise DataError(
            f"{name}: both a decimal comma (row {comma[0]} {comma[1]} = {comma[2]!r}) and a "
            f"decimal point (row {dot[0]} {dot[1]} = {dot[2]!r}) appear: use one of them"
        )
    return comma is not None


def _cell(value: str, column: str, comma: bool, name: str, row: int, notes: set[str]) -> str:
    """One numeric cell as a plain number string ('' = not measured)."""
    v = _clean(value)
    if not v:
        return ""
    if v.lower() in NA_TOKENS:
        notes.add(v)
        return ""
    if comma:
        if _THOUSANDS_DOT.match(v):
            v = v.replace(".", "")
        v = v.replace(",", ".")
    if v.endswith("%") and column in _PERCENT_COLUMNS and _is_number(v[:-1].strip()):
        notes.add(f"{column}: values written with % divided by 100")
        return repr(float(v[:-1].strip()) / 100.0)
    m = _NUMBER_UNIT.match(v)
    if m is not None and not _is_number(v):
        unit = m.group("unit")
        problem = unit_mismatch(column, unit)
        if problem is not None:
            raise DataError(f"{name} row {row}: {column} = {value.strip()!r} is in {problem}")
        notes.add(f"{column}: unit {unit.strip()!r} after the numbers dropped")
        return m.group("num")
    return v


def read_raw_table(path: str | Path, what: str = "measurement table") -> pd.DataFrame:
    """Read a CSV-like table file into a frame of strings (see the module docstring).

    Args:
        path: the file.
        what: what the file is, for messages (``"measurement table"``, ``"recipe file"``).

    Returns:
        One row per data row, one column per header cell (known columns named as in
        :data:`~physics.schema.MEASUREMENT_COLUMNS`), cells as strings (``""`` = empty).
        ``attrs``: the file name, the spreadsheet row of each row, the notes.

    Raises:
        DataError: no such file, not a text table, or an ambiguous reading.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: no such {what}")
    name = path.name
    notes: list[str] = []
    text = _decode(path.read_bytes(), name, notes)
    if not text.strip(_SPACES + " \t\r\n,;|"):
        raise DataError(f"{name}: is empty; a {what} needs a header row and data rows")
    sep, text = _choose_separator(text, name, notes)
    try:
        records = _records(text, sep)
    except csv.Error as exc:
        raise DataError(f"{name}: not a readable CSV file ({exc})") from exc
    h = _find_header(records, name, sep)
    skipped = [i + 1 for i in range(h) if any(_clean(c) for c in records[i])]
    if skipped:
        notes.append(f"row(s) {', '.join(map(str, skipped))} above the header skipped")
    header = _header(records[h], name, h + 1, notes)

    body: list[tuple[int, list[str]]] = []
    for i in range(h + 1, len(records)):
        cells = [_clean(c) for c in records[i]]
        if not any(cells):
            continue  # blank or trailing empty row
        if [_header_column(c) or _clean(c) for c in cells] == header[: len(cells)]:
            notes.append(f"row {i + 1} repeats the header: skipped")
            continue
        if not body and _unit_row(header, cells, name, i + 1):
            notes.append(f"row {i + 1} holds units, not data: skipped")
            continue
        if len(cells) > len(header):
            extra = [c for c in cells[len(header) :] if c]
            if extra:
                raise DataError(
                    f"{name} row {i + 1}: {len(cells)} cells but the header has {len(header)} "
                    f"(the extra {extra[0]!r} in column {column_letter(len(header))}): a "
                    f"{_SEPARATOR_NAMES[sep]} inside a value? quote it, or use another separator"
                )
            cells = cells[: len(header)]
        body.append((i + 1, cells + [""] * (len(header) - len(cells))))

    keep = []
    for j, h_name in enumerate(header):
        has_data = any(cells[j] for _, cells in body)
        if not h_name:
            if has_data:
                row = next(r for r, cells in body if cells[j])
                raise DataError(
                    f"{name} row {row} column {column_letter(j)}: a value under an empty header"
                )
            continue
        keep.append(j)

    comma = _decimal_comma(header, body, name)
    if comma:
        notes.append("decimal commas read as decimal points (0,53 -> 0.53)")
    cell_notes: set[str] = set()
    columns = {header[j]: [] for j in keep}  # type: dict[str, list[str]]
    for row, cells in body:
        for j in keep:
            col = header[j]
            value = cells[j]
            if col in RULES:
                value = _cell(value, col, comma, name, row, cell_notes)
            elif value.lower() in NA_TOKENS:
                value = ""
            columns[col].append(value)
    empties = sorted(n for n in cell_notes if n.lower() in NA_TOKENS)
    if empties:
        notes.append(f"cells {', '.join(map(repr, empties))} read as empty (not measured)")
    notes.extend(sorted(n for n in cell_notes if n.lower() not in NA_TOKENS))
    frame = pd.DataFrame(columns, dtype=object).replace("", float("nan"))
    frame.attrs[ATTR_NAME] = name
    frame.attrs[ATTR_ROWS] = [row for row, _ in body]
    frame.attrs[ATTR_NOTES] = notes
    return frame

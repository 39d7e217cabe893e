"""Validate, read and write the measurement table (version 1).

:func:`validate_table` is the one gate every table passes (files a person gives, the rows the
campaign loop produces, the tables it stores): columns, types, recipes, sample ids, status,
then :func:`~physics.table.checks.plausibility_problems`. Its first problem is raised as one
line naming the file, the spreadsheet row and column, and the fix.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from physics.errors import DataError
from physics.schema import MEASUREMENT_COLUMNS, RECIPE_COLUMNS
from physics.table.checks import plausibility_problems, rows_text
from physics.table.columns import NUMERIC_COLUMNS, guess_column
from physics.table.dialect import ATTR_NAME, ATTR_NOTES, ATTR_ROWS, NA_TOKENS, read_raw_table

__all__ = [
    "empty_table",
    "read_table",
    "table_notes",
    "validate_row",
    "validate_table",
    "write_table",
]

_TRUE = {"true", "1", "yes", "t", "y"}
_FALSE = {"false", "0", "no", "f", "n"}


def empty_table() -> pd.DataFrame:
    """An empty measurement table with every column."""
    return pd.DataFrame({c: pd.Series(dtype=_dtype(c)) for c in MEASUREMENT_COLUMNS})


def table_notes(frame: pd.DataFrame) -> list[str]:
    """What reading the table's file noted (separator, decimal comma, skipped rows...)."""
    return list(frame.attrs.get(ATTR_NOTES, []))


def _dtype(column: str) -> str:
    if column in NUMERIC_COLUMNS:
        return "float64"
    if column == "ccd_censored":
        return "boolean"
    return "object"


def _is_empty(value: Any) -> bool:
    if value is None or value is pd.NA:
        return True
    if isinstance(value, float) and np.isnan(value):
        return True
    return isinstance(value, str) and (not value.strip() or value.strip().lower() in NA_TOKENS)


def _parse_bool(value: Any, where: str) -> Any:
    if _is_empty(value):
        return pd.NA
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise DataError(f"{where}: ccd_censored = {value!r} must be true or false")


def _columns(frame: pd.DataFrame, label: str) -> pd.DataFrame:
    """Strip the headers; refuse unknown (with the likely column) and missing columns."""
    frame = frame.rename(columns=lambda c: str(c).strip())
    if frame.columns.duplicated().any():
        dup = frame.columns[frame.columns.duplicated()][0]
        raise DataError(f"{label}: two columns are named {dup}: keep one")
    unknown = [c for c in frame.columns if c not in MEASUREMENT_COLUMNS]
    if len(unknown) == 1 and len(frame.columns) == 1:
        only = unknown[0]
        for sep, sep_name in ((";", "semicolon"), ("\t", "tab")):
            if sep in only:
                raise DataError(
                    f"{label}: the header is one field {only[:40]!r}...: the file is "
                    f"{sep_name}-separated; read it with physics.table.read_table"
                )
    for col in unknown:
        guess, unit_note = guess_column(col)
        if guess is not None and guess not in frame.columns:
            fix = f"rename it {guess}" + (
                f" (its unit is {unit_note})"
                if unit_note
                else f" (units are part of the names: {guess})"
                if "(" in col or "[" in col
                else ""
            )
        else:
            fix = "remove it or check for typos"
        columns = "" if guess else f"; the columns are {', '.join(MEASUREMENT_COLUMNS)}"
        raise DataError(
            f"{label}: column {col!r} is not a measurement-table column: {fix}{columns}"
        )
    missing = [c for c in ("sample_id", *RECIPE_COLUMNS) if c not in frame.columns]
    if missing:
        raise DataError(
            f"{label}: missing required column(s) {', '.join(missing)}; "
            f"a measurement table has the columns {', '.join(MEASUREMENT_COLUMNS)}"
        )
    return frame


def _numbers(out: pd.DataFrame, label: str, rows: list[int]) -> None:
    for col in NUMERIC_COLUMNS:
        raw = out[col]
        empty = raw.map(_is_empty)
        converted = pd.to_numeric(raw.where(~empty, np.nan), errors="coerce")
        bad = ~empty & converted.isna()
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            text = str(raw.iloc[i]).strip()
            hint = (
                ": an Excel error; fix the formula"
                if text.startswith("#")
                else ": a decimal comma? read the file with physics.table.read_table"
                if "," in text
                else ": numbers only (units go in the column name)"
                if any(ch.isdigit() for ch in text)
                else ""
            )
            raise DataError(f"{label} row {rows[i]}: {col} = {text!r} is not a number{hint}")
        out[col] = converted.astype("float64")


def _identity(out: pd.DataFrame, label: str, rows: list[int]) -> None:
    for col in RECIPE_COLUMNS[:2]:
        empty = np.flatnonzero(out[col].isna().to_numpy())
        if len(empty):
            raise DataError(
                f"{label} {rows_text([rows[i] for i in empty])}: {col} is empty or NaN; every "
                "row needs its recipe (zbo_fraction, sinter_temperature_c; dwell_h may be empty)"
            )
    ids = out["sample_id"].map(lambda v: "" if _is_empty(v) else str(v).strip())
    if (ids == "").any():
        i = int(np.flatnonzero((ids == "").to_numpy())[0])
        raise DataError(f"{label} row {rows[i]}: sample_id is empty; every row needs a sample_id")
    dup = ids[ids.duplicated(keep=False)]
    if len(dup):
        first = dup.iloc[0]
        where = [rows[i] for i in np.flatnonzero((ids == first).to_numpy())]
        raise DataError(
            f"{label} {rows_text(where)}: duplicate sample_id {first!r}: each sample is one row "
            "(average repeated measurements, or give the samples distinct ids)"
        )
    out["sample_id"] = ids
    status = out["status"].map(lambda v: "ok" if _is_empty(v) else str(v).strip().lower())
    bad = ~status.isin(["ok", "cracked"])
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise DataError(
            f"{label} row {rows[i]}: status = {out['status'].iloc[i]!r} must be 'ok' or "
            "'cracked' (the pellet cracked or bloated in the furnace)"
        )
    out["status"] = status


def validate_table(
    frame: pd.DataFrame, *, name: str | None = None, check_family: bool | None = None
) -> pd.DataFrame:
    """Check and normalize a measurement table; return a cleaned copy.

    Args:
        frame: the table as read (strings or numbers), e.g. from :func:`read_raw_table`,
            whose ``attrs`` carry the file's name and spreadsheet rows for the messages.
        name: how to refer to the table when it was not read from a file.
        check_family: flag single rows out of family (orders of magnitude from the rest of
            their column); default: when ``frame`` is a file's rows as read (its ``attrs``
            give the file's name and a spreadsheet row for each row). Tables built in memory
            (the loop's own rows, a campaign's table, subsets) are checked value by value
            only, as real samples may scatter.

    Returns:
        A copy with every column of :data:`MEASUREMENT_COLUMNS`, numeric columns as floats,
        ``ccd_censored`` as a nullable boolean and ``status`` in {"ok", "cracked"}.

    Raises:
        DataError: missing or unknown columns, non-numeric or empty recipe values, a status
            other than ok/cracked, duplicate sample ids, implausible values (unit mix-ups,
            kelvin, percent, a zero dwell, rows out of family), contradictory rows. The message
            names the file, the spreadsheet row (header = row 1) and column, and the fix.
    """
    rows = list(frame.attrs.get(ATTR_ROWS) or [])
    from_file = len(rows) == len(frame) and bool(frame.attrs.get(ATTR_NAME))
    label = str(frame.attrs[ATTR_NAME]) if from_file else (name or "table")
    if not from_file:  # built in memory, or a subset of a file's rows
        rows = [i + 2 for i in range(len(frame))]
    family = from_file if check_family is None else check_family

    out = _columns(frame, label).copy()
    for col in MEASUREMENT_COLUMNS:
        if col not in out.columns:
            out[col] = pd.NA
    out = out[list(MEASUREMENT_COLUMNS)].reset_index(drop=True)
    _numbers(out, label, rows)
    _identity(out, label, rows)
    out["ccd_censored"] = pd.array(
        [_parse_bool(v, f"{label} row {rows[i]}") for i, v in enumerate(out["ccd_censored"])],
        dtype="boolean",
    )
    out["source"] = (
        out["source"].map(lambda v: "" if _is_empty(v) else str(v).strip()).astype(object)
    )

    problems = plausibility_problems(out, rows, family=family)
    if problems:
        first = problems[0]
        more = f" ({len(problems) - 1} more problem(s) in this table)" if len(problems) > 1 else ""
        sep = " " if first.startswith("row") else ": "
        raise DataError(f"{label}{sep}{first}{more}")
    # the rows are checked: later subsets of them are not a file's rows any more
    out.attrs = {ATTR_NOTES: table_notes(frame)} if table_notes(frame) else {}
    return out


def validate_row(row: Mapping[str, Any], *, name: str) -> dict[str, Any]:
    """Check one row (e.g. a cycler result's) value by value, as :func:`validate_table` does.

    Args:
        row: column -> value (None = not measured).
        name: what the row is, for messages (``"job j-000042"``).

    Returns:
        The cleaned row.

    Raises:
        DataError: ``"<name>: <problem>"`` (no row number: a row is not a spreadsheet).
    """
    frame = pd.DataFrame([dict(row)])
    try:
        clean = validate_table(frame, name=name, check_family=False)
    except DataError as exc:
        text = str(exc)
        prefix = f"{name} row 2: "
        raise DataError(
            f"{name}: {text[len(prefix) :]}" if text.startswith(prefix) else text
        ) from exc
    return clean.iloc[0].to_dict()


def read_table(path: str | Path) -> pd.DataFrame:
    """Read and validate a measurement-table file (any common CSV dialect).

    The reading's notes (separator, decimal comma, skipped rows) are in
    :func:`table_notes` of the result.

    Raises:
        DataError: the file is missing, not a readable table, or fails :func:`validate_table`.
    """
    return validate_table(read_raw_table(path))


def write_table(frame: pd.DataFrame, path: str | Path) -> Path:
    """Write a validated table as CSV with the columns in their canonical order."""
    path = Path(path)
    clean = validate_table(frame, name=str(path))
    out = clean.copy()
    out["ccd_censored"] = out["ccd_censored"].map(
        lambda v: "" if v is pd.NA else ("true" if v else "false")
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    out.to_csv(path, index=False, float_format="%.6g")
    return path

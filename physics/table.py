"""The measurement table, version 1: the one tabular form of measured data.

One row per sample; an empty cell means "not measured". Columns and units follow
``domain.md``. :func:`validate_table` rejects tables a scientist would not want silently
accepted (missing columns, NaN in recipes, sigma in S/cm where mS/cm is expected,
duplicate samples) with a message that names the offending rows.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from physics.errors import DataError
from physics.schema import MEASUREMENT_COLUMNS, PROPERTY_COLUMNS, RECIPE_COLUMNS

__all__ = [
    "empty_table",
    "read_table",
    "validate_table",
    "write_table",
]

_NUMERIC = (*RECIPE_COLUMNS, *(c for c in PROPERTY_COLUMNS if c != "ccd_censored"))

# Plausible ranges: a value outside is most likely a unit mix-up or a typo.
_RANGES: dict[str, tuple[float, float, str]] = {
    "zbo_fraction": (0.0, 1.0, "a molar ratio"),
    "sinter_temperature_c": (300.0, 2000.0, "degrees C (not K)"),
    "dwell_h": (0.0, 500.0, "hours"),
    "relative_density": (0.0, 1.05, "a fraction 0..1, not percent"),
    "thickness_cm": (0.001, 2.0, "cm (pellets are ~0.1 cm; mm values are 10x larger)"),
    "sigma_total_ms_cm": (1e-6, 100.0, "mS/cm"),
    "sigma_bulk_ms_cm": (1e-6, 1000.0, "mS/cm"),
    "sigma_gb_ms_cm": (1e-6, 1000.0, "mS/cm"),
    "activation_energy_ev": (0.01, 2.0, "eV"),
    "electronic_fraction": (0.0, 1.0, "a fraction 0..1, not percent"),
    "r_int_ohm_cm2": (0.0, 1e7, "ohm cm2"),
    "ccd_ma_cm2": (0.0, 100.0, "mA/cm2"),
}

_TRUE = {"true", "1", "yes", "t", "y"}
_FALSE = {"false", "0", "no", "f", "n", ""}


def empty_table() -> pd.DataFrame:
    """An empty measurement table with every column."""
    return pd.DataFrame({c: pd.Series(dtype=_dtype(c)) for c in MEASUREMENT_COLUMNS})


def _dtype(column: str) -> str:
    if column in _NUMERIC:
        return "float64"
    if column == "ccd_censored":
        return "boolean"
    return "object"


def _parse_bool(value: Any, row: int) -> Any:
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return pd.NA
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return pd.NA if text == "" else False
    raise DataError(f"row {row}: ccd_censored must be true or false, got {value!r}")


def validate_table(frame: pd.DataFrame, *, name: str = "table") -> pd.DataFrame:
    """Check and normalize a measurement table; return a cleaned copy.

    Args:
        frame: the table as read (strings or numbers).
        name: how to refer to the table in messages (usually its file name).

    Returns:
        A copy with every column of :data:`MEASUREMENT_COLUMNS`, numeric columns as floats,
        ``ccd_censored`` as a nullable boolean and ``status`` in {"ok", "cracked"}.

    Raises:
        DataError: missing recipe columns, NaN or non-numeric recipe values, a status other
            than ok/cracked, values outside plausible ranges (unit mix-ups), duplicate sample ids.
    """
    missing = [c for c in ("sample_id", *RECIPE_COLUMNS) if c not in frame.columns]
    if missing:
        raise DataError(
            f"{name}: missing required column(s) {', '.join(missing)}; "
            f"a measurement table has the columns {', '.join(MEASUREMENT_COLUMNS)}"
        )
    unknown = [c for c in frame.columns if c not in MEASUREMENT_COLUMNS]
    if unknown:
        raise DataError(
            f"{name}: unknown column(s) {', '.join(map(str, unknown))} "
            f"(check for typos or units in the name); expected {', '.join(MEASUREMENT_COLUMNS)}"
        )
    out = frame.copy()
    for col in MEASUREMENT_COLUMNS:
        if col not in out.columns:
            out[col] = pd.NA
    out = out[list(MEASUREMENT_COLUMNS)].reset_index(drop=True)

    for col in _NUMERIC:
        converted = pd.to_numeric(out[col], errors="coerce")
        bad = out[col].notna() & converted.isna() & (out[col].astype(str).str.strip() != "")
        if bad.any():
            rows = list(out.index[bad][:5])
            raise DataError(f"{name}: column {col} has non-numeric values in rows {rows}")
        out[col] = converted.astype("float64")

    for col in RECIPE_COLUMNS:
        if col == "dwell_h":
            continue
        nan_rows = list(out.index[out[col].isna()][:5])
        if nan_rows:
            raise DataError(f"{name}: {col} is empty or NaN in rows {nan_rows}")

    out["sample_id"] = out["sample_id"].astype(str).str.strip()
    if (out["sample_id"] == "").any() or out["sample_id"].isin(["nan", "<NA>"]).any():
        raise DataError(f"{name}: every row needs a sample_id")
    dup = out["sample_id"][out["sample_id"].duplicated()].unique().tolist()
    if dup:
        raise DataError(f"{name}: duplicate sample_id(s) {dup[:5]}: each sample is one row")

    status = out["status"].fillna("ok").astype(str).str.strip().str.lower()
    bad_status = ~status.isin(["ok", "cracked"])
    if bad_status.any():
        rows = list(out.index[bad_status][:5])
        raise DataError(
            f"{name}: status must be 'ok' or 'cracked', got {status[bad_status].iloc[0]!r} "
            f"in rows {rows}"
        )
    out["status"] = status

    for col, (lo, hi, unit) in _RANGES.items():
        values = out[col]
        out_of_range = values.notna() & ((values < lo) | (values > hi))
        if out_of_range.any():
            row = int(out.index[out_of_range][0])
            raise DataError(
                f"{name}: {col} = {values[row]!r} in row {row} is outside the plausible range "
                f"[{lo:g}, {hi:g}]; expected {unit}"
            )
    _check_sigma_units(out, name)

    out["ccd_censored"] = pd.array(
        [_parse_bool(v, i) for i, v in enumerate(out["ccd_censored"])], dtype="boolean"
    )
    out["source"] = out["source"].astype(object).where(out["source"].notna(), "")
    return out


def _check_sigma_units(frame: pd.DataFrame, name: str) -> None:
    """Flag conductivities that look like S/cm where mS/cm is expected.

    NZSP-type electrolytes conduct 0.01-5 mS/cm; values all below 0.005 in a column of a
    table that has several measured rows are S/cm read as mS/cm (1000x too small).
    """
    sigma = frame["sigma_total_ms_cm"].dropna()
    if len(sigma) >= 2 and float(sigma.max()) < 5e-3:
        raise DataError(
            f"{name}: every sigma_total_ms_cm is below 0.005 (max {sigma.max():.3g}); "
            "these look like S/cm values, but the column is in mS/cm (multiply by 1000)"
        )


def read_table(path: str | Path) -> pd.DataFrame:
    """Read and validate a measurement-table CSV.

    Raises:
        DataError: the file is missing, not a CSV, or fails :func:`validate_table`.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: no such measurement table")
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
        raise DataError(f"{path}: not a readable CSV file ({exc})") from exc
    return validate_table(frame, name=str(path))


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

"""Plausibility of a measurement table's values: the unit mistakes a person makes.

Each check returns problems as text beginning with ``"row N: "`` (a spreadsheet row) or
with the column's name; :func:`plausibility_problems` runs them in order of how specific
their diagnosis is:

1. two columns swapped (each holds values that fit the other's range);
2. temperatures in kelvin: every value a round Celsius value + 273 (1173, 1273...), or one
   such value among round Celsius ones;
3. values outside the column's plausible range (:data:`~physics.table.columns.RULES`), with
   the wrong unit that explains them (percent, mm, minutes, kJ/mol, uS/cm...) and a zero dwell;
4. a conductivity column entirely below 0.005 mS/cm (S/cm written as mS/cm);
5. a single row out of family: ``decades`` or more from the median of a column whose other
   rows agree (a row in S/cm among mS/cm rows is ~1000x below). Only for tables a person
   gave (``family=True``): the loop's own rows may legitimately scatter;
6. rows that contradict themselves: a total conductivity above one of its parts
   (1/sigma_total = 1/sigma_bulk + 1/sigma_gb), a cracked pellet with measured objectives, a
   censored CCD without its bound.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

from physics.constants import CELSIUS_TO_KELVIN
from physics.schema import OBJECTIVES
from physics.table.columns import NUMERIC_COLUMNS, RULES, ColumnRule, WrongUnit, fix_text

__all__ = ["plausibility_problems", "rows_text"]

_TOTAL, _BULK, _GB = "sigma_total_ms_cm", "sigma_bulk_ms_cm", "sigma_gb_ms_cm"
_FRACTIONS = ("relative_density", "electronic_fraction")


def _fmt(value: float) -> str:
    return f"{value:.4g}"


def rows_text(rows: Sequence[int], limit: int = 5) -> str:
    """``[2]`` -> ``"row 2"``; ``[2, 3, 9]`` -> ``"rows 2, 3, 9"`` (at most ``limit`` shown)."""
    shown = ", ".join(str(r) for r in rows[:limit]) + (" ..." if len(rows) > limit else "")
    return f"row {shown}" if len(rows) == 1 else f"rows {shown}"


def _values_text(values: Sequence[float], limit: int = 4) -> str:
    return ", ".join(_fmt(v) for v in values[:limit]) + (" ..." if len(values) > limit else "")


def _explaining_unit(column: str, values: np.ndarray) -> WrongUnit | None:
    """The first usual wrong unit that brings every value into the plausible range."""
    rule = RULES[column]
    for wrong in rule.wrong:
        if math.isfinite(wrong.factor) and all(rule.contains(v / wrong.factor) for v in values):
            return wrong
    return None


def _where(mask: np.ndarray) -> list[int]:
    return [int(i) for i in np.flatnonzero(mask)]


def _contains(rule: ColumnRule, values: pd.Series) -> pd.Series:
    """Vectorized :meth:`ColumnRule.contains` (NaN -> False)."""
    above = values > rule.lo if rule.lo_open else values >= rule.lo
    return above & (values <= rule.hi) & np.isfinite(values)


def _is_round(value: float, step: float = 5.0) -> bool:
    return abs(value - step * round(value / step)) < 1e-6


def _kelvin_like(value: float) -> bool:
    """A round Celsius value (multiple of 5) plus 273 or 273.15, itself not round."""
    if not math.isfinite(value) or value < 873.0 or _is_round(value):
        return False
    return any(_is_round(value - off) for off in (CELSIUS_TO_KELVIN, 273.0))


def _swapped(frame: pd.DataFrame) -> list[str]:
    bad = [
        c
        for c in NUMERIC_COLUMNS
        if frame[c].notna().any() and not all(RULES[c].contains(v) for v in frame[c].dropna())
    ]
    for i, a in enumerate(bad):
        for b in bad[i + 1 :]:
            both = frame[a].notna() & frame[b].notna()
            if not both.any():
                continue
            a_in_b = all(RULES[b].contains(v) for v in frame.loc[both, a])
            b_in_a = all(RULES[a].contains(v) for v in frame.loc[both, b])
            if a_in_b and b_in_a:
                va, vb = frame.loc[both, a], frame.loc[both, b]
                return [
                    f"columns {a} and {b} look swapped ({a} holds {_fmt(va.min())}-"
                    f"{_fmt(va.max())}, {b} holds {_fmt(vb.min())}-{_fmt(vb.max())}): "
                    "check the header's order"
                ]
    return []


def _kelvin(frame: pd.DataFrame, rows: Sequence[int]) -> list[str]:
    col = "sinter_temperature_c"
    values = frame[col]
    present = values.notna()
    like = values.map(_kelvin_like) & present
    if present.sum() >= 2 and like[present].all():
        return [
            f"{col}: every value ({_fmt(values.min())}-{_fmt(values.max())}) is a round Celsius "
            "temperature + 273: kelvin? the column is in C: subtract 273.15"
        ]
    others = values[present & ~like]
    if like.any() and len(others) and all(_is_round(v) for v in others):
        i = int(np.flatnonzero(like.to_numpy())[0])
        v = float(values.iloc[i])
        off = CELSIUS_TO_KELVIN if _is_round(v - CELSIUS_TO_KELVIN) else 273.0
        return [
            f"row {rows[i]}: {col} = {_fmt(v)} looks like kelvin ({_fmt(v - off)} C + {off:g}) "
            f"among round Celsius values ({_fmt(others.min())}-{_fmt(others.max())}): "
            "subtract 273.15"
        ]
    return []


def _range_one(column: str, value: float) -> str:
    rule = RULES[column]
    bounds = f"{'(' if rule.lo_open else '['}{rule.lo:g}, {rule.hi:g}]"
    head = f"{column} = {_fmt(value)}"
    if column == "dwell_h" and value == 0:
        return (
            f"{head}: a sintering needs a dwell time; leave the cell empty if it is not known "
            "(the default dwell is then assumed)"
        )
    if value < 0 and rule.lo >= 0:
        return f"{head} is negative: a sign error? it must lie in {bounds} {rule.unit}"
    if column == "sinter_temperature_c" and RULES[column].contains(value - CELSIUS_TO_KELVIN):
        return f"{head} is above {rule.hi:g} C: kelvin? subtract 273.15"
    wrong = _explaining_unit(column, np.array([value]))
    why = f"{wrong.label} instead of {rule.unit}? {fix_text(wrong)}" if wrong else "a typo?"
    return f"{head} is outside the plausible range {bounds} ({rule.unit}): {why}"


def _ranges(frame: pd.DataFrame, rows: Sequence[int], skip: tuple[str, ...]) -> list[str]:
    out: list[str] = []
    for column, rule in RULES.items():
        if column in skip:
            continue
        values = frame[column]
        bad = values.notna() & ~_contains(rule, values)
        if not bad.any():
            continue
        idx = [int(i) for i in np.flatnonzero(bad.to_numpy())]
        bad_values = values.to_numpy(float)[idx]
        wrong = _explaining_unit(column, bad_values) if len(idx) >= 2 else None
        if wrong is not None:
            whole = ""
            if column in _FRACTIONS and (values.notna() & ~bad).any():
                whole = " (every value of the column, those under 1 too)"
            out.append(
                f"{column}: {rows_text([rows[i] for i in idx])} hold "
                f"{_values_text(list(bad_values))}, outside the plausible range [{rule.lo:g}, "
                f"{rule.hi:g}] ({rule.unit}): {wrong.label} instead of {rule.unit}? "
                f"{fix_text(wrong)}{whole}"
            )
            continue
        out.extend(f"row {rows[i]}: {_range_one(column, float(values.iloc[i]))}" for i in idx)
    return out


def _sigma_all_low(frame: pd.DataFrame) -> list[str]:
    out = []
    for col in (_TOTAL, _BULK, _GB):
        sigma = frame[col].dropna()
        if len(sigma) >= 2 and float(sigma.max()) < 5e-3:
            out.append(
                f"every {col} is below 0.005 (max {_fmt(sigma.max())}): these look like S/cm "
                "values, but the column is in mS/cm: multiply by 1000"
            )
    return out


def _family(frame: pd.DataFrame, rows: Sequence[int]) -> list[str]:
    out = []
    for column, rule in RULES.items():
        if rule.family is None:
            continue
        decades, spread = rule.family
        values = frame[column]
        ok = values.notna() & (values > 0) & _contains(rule, values)
        if ok.sum() < 4:
            continue
        logs = np.log10(values[ok].to_numpy(float))
        dev = logs - np.median(logs)
        far = np.abs(dev) >= decades
        rest = logs[~far]
        if not far.any() or len(rest) < 3 or rest.max() - rest.min() > spread:
            continue
        median = 10 ** float(np.median(rest))
        for k in np.flatnonzero(far):
            i = int(np.flatnonzero(ok.to_numpy())[k])
            d = logs[k] - np.log10(median)
            ratio = 10 ** abs(d)
            ratio_text = f"{round(ratio, -math.floor(math.log10(ratio))):.0f}"
            side = "below" if d < 0 else "above"
            hint = "a typo or another unit?"
            for wrong in rule.wrong:
                if math.isfinite(wrong.factor) and abs(d - math.log10(wrong.factor)) < 0.5:
                    hint = f"{wrong.label} instead of {rule.unit}? {fix_text(wrong)}"
                    break
            out.append(
                f"row {rows[i]}: {column} = {_fmt(float(values.iloc[i]))} is ~{ratio_text}x "
                f"{side} the other rows (median {median:.3g}): {hint}"
            )
    return out


def _contradictions(frame: pd.DataFrame, rows: Sequence[int]) -> list[str]:
    out: list[str] = []
    total, bulk, gb = (frame[c].to_numpy(float) for c in (_TOTAL, _BULK, _GB))
    above = np.zeros(len(frame), dtype=bool)
    with np.errstate(invalid="ignore", divide="ignore"):
        for part, values in ((_BULK, bulk), (_GB, gb)):
            bad = total > 1.05 * values  # NaN compares False
            above |= bad
            out += [
                f"row {rows[i]}: {_TOTAL} = {_fmt(total[i])} exceeds {part} = {_fmt(values[i])}, "
                "but the total is below each part (1/total = 1/bulk + 1/gb): columns swapped?"
                for i in _where(bad)
            ]
        expected = 1.0 / (1.0 / bulk + 1.0 / gb)
        off = ~above & (np.abs(total / expected - 1.0) > 0.15)  # NaN compares False
    out += [
        f"row {rows[i]}: {_TOTAL} = {_fmt(total[i])} does not match its parts "
        f"(1/(1/{_fmt(bulk[i])} + 1/{_fmt(gb[i])}) = {_fmt(expected[i])}): check them"
        for i in _where(off)
    ]
    cracked = (frame["status"] == "cracked").to_numpy()
    for col in OBJECTIVES:
        given = cracked & frame[col].notna().to_numpy()
        out += [
            f"row {rows[i]}: status is cracked but {col} = {_fmt(frame[col].iloc[i])} is given: "
            "a cracked pellet has no measured properties; set status ok or empty the value"
            for i in _where(given)
        ]
    censored = frame["ccd_censored"].fillna(False).to_numpy(bool)
    unbounded = censored & frame["ccd_ma_cm2"].isna().to_numpy()
    out += [
        f"row {rows[i]}: ccd_censored is true but ccd_ma_cm2 is empty: a censored CCD needs its "
        "bound (the last step's current density)"
        for i in _where(unbounded)
    ]
    return out


def plausibility_problems(frame: pd.DataFrame, rows: Sequence[int], *, family: bool) -> list[str]:
    """Every unit mistake or contradiction found, most specific first.

    Args:
        frame: a table with every column, numeric columns as floats, ``status`` normalized,
            ``ccd_censored`` as booleans/NA.
        rows: the spreadsheet row of each of ``frame``'s rows.
        family: whether to flag single rows out of family (tables a person gave).

    Returns:
        Problem texts (empty when the table is plausible).
    """
    out = _swapped(frame)
    if out:
        return out
    out += _kelvin(frame, rows)
    out += _ranges(frame, rows, ("sinter_temperature_c",) if out else ())
    out += _sigma_all_low(frame)
    if family:
        out += _family(frame, rows)
    return out + _contradictions(frame, rows)

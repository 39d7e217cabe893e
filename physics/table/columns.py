"""What each numeric column of the measurement table may hold, and the unit mistakes it attracts.

One :class:`ColumnRule` per numeric column: its unit, its plausible range (outside it a value
is most likely a unit mix-up or a typo), the spellings of its unit a spreadsheet may carry
(in a unit row under the header, in ``name (unit)`` headers, or after a number in a cell),
and the usual wrong units with the factor that turns them into the column's unit.

A wrong unit is modelled as ``written = true * factor``: sigma written in S/cm where mS/cm is
expected has ``factor = 1e-3`` (the fix: multiply by 1000). Temperatures in kelvin are an
offset, not a factor, and are handled by the checks themselves.
"""

from __future__ import annotations

import difflib
import math
import re
from dataclasses import dataclass

from physics.constants import NZSP_THEORETICAL_DENSITY_G_CM3
from physics.schema import MEASUREMENT_COLUMNS, PROPERTY_COLUMNS, RECIPE_COLUMNS

__all__ = [
    "NUMERIC_COLUMNS",
    "RULES",
    "ColumnRule",
    "WrongUnit",
    "fix_text",
    "guess_column",
    "normalize_unit",
    "split_header_unit",
    "unit_mismatch",
]

NUMERIC_COLUMNS: tuple[str, ...] = (
    *RECIPE_COLUMNS,
    *(c for c in PROPERTY_COLUMNS if c != "ccd_censored"),
)


@dataclass(frozen=True)
class WrongUnit:
    """A unit people write instead of the column's: ``written = true * factor``.

    ``fix`` overrides the conversion text for units that are no factor (kelvin: an offset;
    ohm: needs the electrode area); their ``factor`` is NaN and never explains a value.
    """

    label: str
    factor: float
    spellings: tuple[str, ...] = ()
    fix: str | None = None


@dataclass(frozen=True)
class ColumnRule:
    """Plausibility of one numeric column.

    Attributes:
        unit: the column's unit as a person writes it.
        lo, hi: plausible range in that unit (``lo_open``: ``lo`` itself is implausible).
        spellings: normalized spellings of the column's unit (see :func:`normalize_unit`).
        wrong: the usual wrong units, tried in order to explain an implausible value.
        family: ``(decades, spread)``: a row ``decades`` or more (log10) from the median of a
            column whose other rows span at most ``spread`` decades is out of family; None
            for columns whose values do not scale (recipes, fractions).
    """

    unit: str
    lo: float
    hi: float
    spellings: tuple[str, ...]
    wrong: tuple[WrongUnit, ...] = ()
    lo_open: bool = False
    family: tuple[float, float] | None = None

    def contains(self, value: float) -> bool:
        """Whether ``value`` lies in the plausible range (finite, bounds included)."""
        if not math.isfinite(value):
            return False
        above_lo = value > self.lo if self.lo_open else value >= self.lo
        return above_lo and value <= self.hi


_FRACTION = ("", "-", "1", "fraction", "ratio")
_PERCENT = WrongUnit("percent", 100.0, ("%", "percent", "pct"))
_SIGMA_WRONG = (
    WrongUnit("S/cm", 1e-3, ("s/cm",)),
    WrongUnit("uS/cm", 1e3, ("us/cm",)),
    WrongUnit("S/m", 0.1, ("s/m",)),
)

RULES: dict[str, ColumnRule] = {
    "zbo_fraction": ColumnRule(
        "molar ratio",
        0.0,
        1.0,
        (*_FRACTION, "molarratio", "mol/mol", "x", "molratio"),
        (
            WrongUnit(
                "percent",
                100.0,
                ("%", "mol%", "percent"),
                "x is the molar ratio ZBO:NZSP (0.2, not 20): divide by 100",
            ),
            WrongUnit("wt%", math.nan, ("wt%",), "convert the weight percent to the molar ratio"),
        ),
    ),
    "sinter_temperature_c": ColumnRule(
        "C",
        600.0,
        1400.0,
        ("c", "degc", "celsius", "degreesc", "degreec", "oc"),
        (
            WrongUnit("kelvin", math.nan, ("k", "kelvin"), "subtract 273.15"),
            WrongUnit("Fahrenheit", math.nan, ("f", "degf"), "C = (F - 32) / 1.8"),
        ),
    ),
    "dwell_h": ColumnRule(
        "h",
        0.0,
        100.0,
        ("h", "hr", "hrs", "hour", "hours"),
        (
            WrongUnit("minutes", 60.0, ("min", "mins", "minute", "minutes")),
            WrongUnit("seconds", 3600.0, ("s", "sec", "secs", "seconds")),
        ),
        lo_open=True,
    ),
    "relative_density": ColumnRule(
        "fraction",
        0.4,
        1.05,
        (*_FRACTION, "rel", "relative"),
        (
            _PERCENT,
            WrongUnit(
                "g/cm3 (an absolute density)", NZSP_THEORETICAL_DENSITY_G_CM3, ("g/cm3", "g/cc")
            ),
        ),
    ),
    "thickness_cm": ColumnRule(
        "cm",
        0.01,
        0.5,
        ("cm",),
        (WrongUnit("mm", 10.0, ("mm",)), WrongUnit("um", 1e4, ("um", "micron", "microns"))),
        family=(0.7, 0.5),
    ),
    "sigma_total_ms_cm": ColumnRule(
        "mS/cm", 1e-6, 100.0, ("ms/cm",), _SIGMA_WRONG, family=(2.5, 1.5)
    ),
    "sigma_bulk_ms_cm": ColumnRule(
        "mS/cm", 1e-6, 1000.0, ("ms/cm",), _SIGMA_WRONG, family=(2.5, 1.5)
    ),
    "sigma_gb_ms_cm": ColumnRule(
        "mS/cm", 1e-6, 1000.0, ("ms/cm",), _SIGMA_WRONG, family=(2.5, 1.5)
    ),
    "activation_energy_ev": ColumnRule(
        "eV",
        0.05,
        2.0,
        ("ev",),
        (
            WrongUnit("kJ/mol", 96.485, ("kj/mol",)),
            WrongUnit("meV", 1000.0, ("mev",)),
            WrongUnit("kcal/mol", 23.061, ("kcal/mol",)),
        ),
    ),
    "electronic_fraction": ColumnRule("fraction", 0.0, 1.0, (*_FRACTION, "te", "t_e"), (_PERCENT,)),
    "r_int_ohm_cm2": ColumnRule(
        "ohm cm2",
        0.0,
        1e7,
        ("ohmcm2",),
        (
            WrongUnit("kohm cm2", 1e-3, ("kohmcm2",)),
            WrongUnit("ohm", math.nan, ("ohm",), "multiply by the electrode area (cm2)"),
        ),
        family=(3.0, 1.5),
    ),
    "ccd_ma_cm2": ColumnRule(
        "mA/cm2",
        0.0,
        100.0,
        ("ma/cm2",),
        (
            WrongUnit("A/cm2", 1e-3, ("a/cm2",)),
            WrongUnit("uA/cm2", 1e3, ("ua/cm2",)),
            WrongUnit("mA", math.nan, ("ma",), "divide by the electrode area (cm2)"),
        ),
        family=(2.5, 1.5),
    ),
}


def fix_text(wrong: WrongUnit) -> str:
    """How to turn values written in ``wrong`` into the column's unit, e.g. ``multiply by 1000``."""
    if wrong.fix is not None:
        return wrong.fix
    f = wrong.factor
    return f"multiply by {1 / f:g}" if f < 1 else f"divide by {f:g}"


def normalize_unit(text: str) -> str:
    """A unit as compared: lower case, no spaces, brackets, degree signs or powers.

    ``"[mS cm-1]"`` -> ``"ms/cm"``, ``"Ω·cm²"`` -> ``"ohmcm2"``, ``"°C"`` -> ``"c"``.
    """
    t = text.strip().strip("[]()").strip().lower()
    for a, b in (
        ("µ", "u"),
        ("μ", "u"),
        ("ω", "ohm"),
        ("²", "2"),
        ("³", "3"),
        ("^", ""),
        ("°", ""),
        ("º", ""),
        ("·", ""),
        ("⋅", ""),
        ("*", ""),
        (".", ""),
        (" ", ""),
        ("ohms", "ohm"),
    ):
        t = t.replace(a, b)
    t = re.sub(r"cm-1$", "/cm", t)
    t = re.sub(r"cm-2$", "/cm2", t)
    t = re.sub(r"cm-3$", "/cm3", t)
    return t


def unit_mismatch(column: str, unit_text: str) -> str | None:
    """None when ``unit_text`` is the column's unit; else what is wrong and the fix.

    Args:
        column: a numeric column of the table.
        unit_text: the unit as written (``"S/cm"``, ``"°C"``...).

    Returns:
        e.g. ``"S/cm, but the column is in mS/cm: multiply by 1000"``.
    """
    rule = RULES[column]
    unit = normalize_unit(unit_text)
    if unit in rule.spellings:
        return None
    for wrong in rule.wrong:
        if unit in wrong.spellings:
            return f"{wrong.label}, but the column is in {rule.unit}: {fix_text(wrong)}"
    return f"{unit_text.strip()!r}, not the column's unit ({rule.unit})"


_HEADER_UNIT = re.compile(r"^(?P<base>.*?)\s*[\(\[](?P<unit>[^\)\]]*)[\)\]]\s*$")


def split_header_unit(header: str) -> tuple[str, str | None]:
    """``"sigma (mS/cm)"`` -> ``("sigma", "mS/cm")``; a header without brackets -> ``(h, None)``."""
    m = _HEADER_UNIT.match(header.strip())
    if m is None or not m.group("base"):
        return header.strip(), None
    return m.group("base").strip(), m.group("unit").strip()


_ALIASES: dict[str, str] = {
    "id": "sample_id",
    "sample": "sample_id",
    "name": "sample_id",
    "x": "zbo_fraction",
    "zbo": "zbo_fraction",
    "zbo_x": "zbo_fraction",
    "t": "sinter_temperature_c",
    "temperature": "sinter_temperature_c",
    "sintering_temperature": "sinter_temperature_c",
    "sinter_temperature": "sinter_temperature_c",
    "t_sinter": "sinter_temperature_c",
    "dwell": "dwell_h",
    "dwell_time": "dwell_h",
    "time": "dwell_h",
    "density": "relative_density",
    "rho": "relative_density",
    "thickness": "thickness_cm",
    "l": "thickness_cm",
    "sigma": "sigma_total_ms_cm",
    "sigma_total": "sigma_total_ms_cm",
    "conductivity": "sigma_total_ms_cm",
    "sigma_bulk": "sigma_bulk_ms_cm",
    "sigma_gb": "sigma_gb_ms_cm",
    "ea": "activation_energy_ev",
    "activation_energy": "activation_energy_ev",
    "t_e": "electronic_fraction",
    "te": "electronic_fraction",
    "electronic_share": "electronic_fraction",
    "r_int": "r_int_ohm_cm2",
    "rint": "r_int_ohm_cm2",
    "asr": "r_int_ohm_cm2",
    "ccd": "ccd_ma_cm2",
    "censored": "ccd_censored",
}


def guess_column(header: str) -> tuple[str | None, str | None]:
    """The table column a header probably means, and what its unit annotation implies.

    Returns:
        ``(column, unit_note)``: ``column`` is None when nothing is close; ``unit_note`` is
        None when the header has no unit or the unit is the column's, else
        :func:`unit_mismatch`'s text.
    """
    base, unit = split_header_unit(header)
    key = re.sub(r"[\s\-]+", "_", base.strip().lower())
    column = key if key in MEASUREMENT_COLUMNS else _ALIASES.get(key)
    if column is None:
        close = difflib.get_close_matches(key, MEASUREMENT_COLUMNS, n=1, cutoff=0.75)
        column = close[0] if close else None
    note = None
    if column is not None and unit is not None and column in RULES:
        note = unit_mismatch(column, unit)
    return column, note

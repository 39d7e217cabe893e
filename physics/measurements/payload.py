"""Checks of a cycler result's payload before it is analysed (cycler protocol v1, "Result").

A payload that is broken or implausible raises :class:`~physics.errors.AnalysisError` naming
the job, the measurement and the field, with the likely mistake and its fix; one that is
merely written another way is read correctly with a note:

- numbers must be finite and within physical bounds (an impedance of 1e300 ohm, a current of
  1e300 A are refused instead of analysed);
- the sample's geometry must be plausible: a thickness in mm (1.056 for 0.1056 cm) would
  give a conductivity 10x too high, an area in mm2 one 100x too low;
- impedance spectra: repeated frequencies are refused (two sweeps in one measurement);
  ascending or unordered frequencies are put in descending order (noted); a spectrum whose
  |Z| rises with frequency has its frequencies reversed against its impedances (refused);
  a spectrum whose Z'' is positive at most points is read as -Z'' (noted), one positive at
  about half its points is refused (capacitive arcs have Z'' < 0);
- measurement temperatures that look like kelvin (298.15 = 25 C + 273.15) are refused.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from physics.constants import CELSIUS_TO_KELVIN
from physics.errors import AnalysisError
from physics.table.columns import RULES, fix_text

__all__ = [
    "MEASUREMENT_ARRAYS",
    "MEASUREMENT_SCALARS",
    "check_measurement",
    "check_sample",
    "number",
]

#: The arrays each protocol's measurement carries, all of one length (cycler-protocol.md,
#: "Result"): the one list the result analysis and the cycler client both check against.
MEASUREMENT_ARRAYS: dict[str, tuple[str, ...]] = {
    "eis_blocking": ("frequency_hz", "z_real_ohm", "z_imag_ohm"),
    "eis_symmetric": ("frequency_hz", "z_real_ohm", "z_imag_ohm"),
    "dc_polarization": ("time_s", "current_a"),
    "ccd_staircase": ("time_s", "current_ma_cm2", "voltage_v"),
}
#: The scalar settings each protocol's measurement carries besides ``temperature_c``.
MEASUREMENT_SCALARS: dict[str, tuple[str, ...]] = {
    "eis_blocking": (),
    "eis_symmetric": (),
    "dc_polarization": ("voltage_v",),
    "ccd_staircase": (
        "start_ma_cm2",
        "step_ma_cm2",
        "max_ma_cm2",
        "cycles_per_step",
        "half_cycle_s",
    ),
}
# Physical bounds (lo, hi, unit, lo excluded): beyond them a value is a corrupt number.
_ARRAY_LIMITS: dict[str, tuple[float, float, str, bool]] = {
    "frequency_hz": (0.0, 1e9, "Hz", True),
    "z_real_ohm": (-1e12, 1e12, "ohm", False),
    "z_imag_ohm": (-1e12, 1e12, "ohm", False),
    "time_s": (0.0, 1e8, "s", False),
    "current_a": (-10.0, 10.0, "A", False),
    "current_ma_cm2": (-1e4, 1e4, "mA/cm2", False),
    "voltage_v": (-100.0, 100.0, "V", False),
}
_SCALAR_LIMITS: dict[str, tuple[float, float, str, bool]] = {
    "voltage_v": (0.0, 100.0, "V", True),
    "start_ma_cm2": (0.0, 1e3, "mA/cm2", False),
    "step_ma_cm2": (0.0, 1e3, "mA/cm2", True),
    "max_ma_cm2": (0.0, 1e3, "mA/cm2", True),
    "cycles_per_step": (1.0, 1e4, "", False),
    "half_cycle_s": (0.0, 1e6, "s", True),
}
_TEMPERATURE_C = (-150.0, 1000.0)
_AREA_CM2 = (0.01, 20.0)


def number(value: Any, where: str) -> float:
    """``value`` as a finite float, or :class:`AnalysisError` naming ``where``."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise AnalysisError(f"{where}: expected a number, got {value!r}")
    out = float(value)
    if not math.isfinite(out):
        raise AnalysisError(f"{where}: is {value!r}, not a finite number")
    return out


def _within(value: float, limits: tuple[float, float, str, bool]) -> bool:
    lo, hi, _unit, lo_open = limits
    return (value > lo if lo_open else value >= lo) and value <= hi


def _limits_text(limits: tuple[float, float, str, bool]) -> str:
    lo, hi, unit, lo_open = limits
    return f"{'(' if lo_open else '['}{lo:g}, {hi:g}]" + (f" {unit}" if unit else "")


def _array(measurement: Mapping[str, Any], name: str, where: str) -> np.ndarray:
    if name not in measurement:
        raise AnalysisError(f"{where}: missing array {name!r}")
    raw = measurement[name]
    if not isinstance(raw, Sequence) or isinstance(raw, (str, bytes)):
        raise AnalysisError(f"{where}: {name} must be an array of numbers")
    try:
        values = np.asarray(raw, dtype=float)
    except (TypeError, ValueError) as exc:
        raise AnalysisError(f"{where}: {name} holds non-numeric values") from exc
    if values.ndim != 1 or values.size == 0:
        raise AnalysisError(f"{where}: {name} must be a non-empty 1-D array")
    if not np.all(np.isfinite(values)):
        bad = int(np.flatnonzero(~np.isfinite(values))[0])
        raise AnalysisError(f"{where}: {name}[{bad}] is not a finite number")
    limits = _ARRAY_LIMITS[name]
    lo, hi, _unit, lo_open = limits
    outside = (values <= lo if lo_open else values < lo) | (values > hi)
    if outside.any():
        bad = int(np.flatnonzero(outside)[0])
        raise AnalysisError(
            f"{where}: {name}[{bad}] = {values[bad]:.4g} is outside the physical range "
            f"{_limits_text(limits)}: a corrupt value"
        )
    return values


def _kelvin_offset(value: float) -> float | None:
    """273.15 or 273 when ``value`` looks like a round C value (multiple of 5) written in K."""
    if not 173.0 <= value <= 773.0 or abs(value - 5 * round(value / 5)) < 1e-6:
        return None
    for off in (CELSIUS_TO_KELVIN, 273.0):
        if abs((value - off) - 5 * round((value - off) / 5)) < 1e-6:
            return off
    return None


def _rank(values: np.ndarray) -> np.ndarray:
    return np.argsort(np.argsort(values)).astype(float)


def _spectrum(arrays: dict[str, np.ndarray], where: str, key: str, notes: list[str]) -> None:
    """Put a spectrum in descending frequency order and Z'' < 0, or refuse it (in place)."""
    f = arrays["frequency_hz"]
    values, counts = np.unique(f, return_counts=True)
    if (counts > 1).any():
        raise AnalysisError(
            f"{where}: frequency_hz repeats {values[counts > 1][0]:g} Hz: two sweeps in one "
            "measurement? give each sweep its own measurement"
        )
    step = np.diff(f)
    if not np.all(step < 0):
        order = np.argsort(-f)
        ascending = bool(np.all(step > 0))
        for name in ("frequency_hz", "z_real_ohm", "z_imag_ohm"):
            arrays[name] = arrays[name][order]
        notes.append(
            f"{key}: frequencies "
            + ("ascending: read in descending order" if ascending else "out of order: sorted")
        )
    f, re, im = arrays["frequency_hz"], arrays["z_real_ohm"], arrays["z_imag_ohm"]
    if f.size >= 5:
        rho = float(np.corrcoef(_rank(f), _rank(np.hypot(re, im)))[0, 1])
        if rho > 0.5:
            raise AnalysisError(
                f"{where}: |Z| rises with frequency (rank correlation {rho:+.2f}), but a cell's "
                "|Z| falls as frequency rises: frequency_hz seems reversed against z_real_ohm "
                "and z_imag_ohm (the protocol lists frequencies in descending order)"
            )
    negative_re = float(np.mean(re < 0))
    if negative_re > 0.5:
        raise AnalysisError(
            f"{where}: z_real_ohm is negative at {negative_re:.0%} of the points; a cell's "
            "resistance is positive: check the sign of the data"
        )
    positive_im = float(np.mean(im > 0))
    if positive_im >= 0.8:
        arrays["z_imag_ohm"] = -im
        notes.append(
            f"{key}: z_imag_ohm > 0 at {positive_im:.0%} of the points: read as -Z'' (sign "
            "flipped; capacitive arcs have z_imag_ohm < 0)"
        )
    elif positive_im > 0.5:
        raise AnalysisError(
            f"{where}: z_imag_ohm is positive at {positive_im:.0%} of the points, but capacitive "
            "arcs have z_imag_ohm < 0: check the sign convention of the imaginary part"
        )


def check_measurement(
    m: Any, index: int, job: str, notes: list[str]
) -> tuple[str, float, dict[str, np.ndarray]]:
    """Check one measurement; return ``(protocol, temperature_c, arrays and scalars)``.

    Spectra are returned in descending frequency order with capacitive Z'' < 0; what was
    reordered or flipped is appended to ``notes``.

    Raises:
        AnalysisError: naming the job, the protocol, the measurement's index and the field.
    """
    where = f"job {job}, measurement {index}"
    if not isinstance(m, Mapping):
        raise AnalysisError(f"{where}: must be an object")
    protocol = m.get("protocol")
    if protocol not in MEASUREMENT_ARRAYS:
        raise AnalysisError(
            f"{where}: unknown protocol {protocol!r}; expected one of {', '.join(MEASUREMENT_ARRAYS)}"
        )
    where = f"job {job}, {protocol} (measurement {index})"
    temperature_c = number(m.get("temperature_c"), f"{where}: temperature_c")
    if not _TEMPERATURE_C[0] <= temperature_c <= _TEMPERATURE_C[1]:
        raise AnalysisError(
            f"{where}: temperature_c = {temperature_c:g} is outside [{_TEMPERATURE_C[0]:g}, "
            f"{_TEMPERATURE_C[1]:g}] C"
        )
    offset = _kelvin_offset(temperature_c)
    if offset is not None:
        raise AnalysisError(
            f"{where}: temperature_c = {temperature_c:g} looks like kelvin "
            f"({temperature_c - offset:g} C + {offset:g}): temperature_c is in C"
        )
    arrays = {name: _array(m, name, where) for name in MEASUREMENT_ARRAYS[protocol]}
    lengths = {name: a.size for name, a in arrays.items()}
    if len(set(lengths.values())) > 1:
        raise AnalysisError(f"{where}: arrays differ in length {lengths}")
    for name in MEASUREMENT_SCALARS.get(protocol, ()):
        value = number(m.get(name), f"{where}: {name}")
        if not _within(value, _SCALAR_LIMITS[name]):
            raise AnalysisError(
                f"{where}: {name} = {value:.4g} is outside {_limits_text(_SCALAR_LIMITS[name])}"
            )
        arrays[name] = np.asarray(value)
    if protocol.startswith("eis_"):
        _spectrum(arrays, where, f"{protocol}@{temperature_c:g}C", notes)
    return protocol, temperature_c, arrays


def check_sample(
    sample: Mapping[str, Any], job: str, theoretical_density_g_cm3: float
) -> tuple[float, float, float]:
    """The sample's thickness (cm), electrode area (cm2) and relative density, checked.

    Raises:
        AnalysisError: a missing or implausible value, with the likely unit mistake.
    """
    where = f"job {job}: sample"
    thickness_cm = number(sample.get("thickness_cm"), f"{where}.thickness_cm")
    area_cm2 = number(sample.get("area_cm2"), f"{where}.area_cm2")
    density = number(sample.get("bulk_density_g_cm3"), f"{where}.bulk_density_g_cm3")
    if not (math.isfinite(theoretical_density_g_cm3) and theoretical_density_g_cm3 > 0):
        raise AnalysisError(
            f"theoretical density {theoretical_density_g_cm3!r} g/cm3 must be a positive number"
        )
    rule = RULES["thickness_cm"]
    if not rule.contains(thickness_cm):
        hint = next(
            (
                f"{w.label} instead of cm? {fix_text(w)}"
                for w in rule.wrong
                if rule.contains(thickness_cm / w.factor)
            ),
            "pellets are ~0.1 cm thick",
        )
        raise AnalysisError(
            f"{where}.thickness_cm = {thickness_cm:.4g} is outside the plausible "
            f"[{rule.lo:g}, {rule.hi:g}] cm (sigma scales with it): {hint}"
        )
    lo, hi = _AREA_CM2
    if not lo <= area_cm2 <= hi:
        hint = (
            "mm2 instead of cm2? divide by 100"
            if lo <= area_cm2 / 100 <= hi
            else "a placeholder? give the real electrode area (a 10 mm disc is 0.785 cm2)"
        )
        raise AnalysisError(
            f"{where}.area_cm2 = {area_cm2:.4g} is outside the plausible [{lo:g}, {hi:g}] cm2: "
            f"{hint}"
        )
    relative = density / theoretical_density_g_cm3
    lo, hi = RULES["relative_density"].lo, RULES["relative_density"].hi
    if not lo <= relative <= hi:
        hint = (
            "kg/m3 instead of g/cm3? divide by 1000"
            if lo <= relative / 1000 <= hi
            else "a relative density? the field is the Archimedes density in g/cm3"
            if lo <= density <= hi
            else "check it and the theoretical density"
        )
        raise AnalysisError(
            f"{where}.bulk_density_g_cm3 = {density:.4g} gives a relative density of "
            f"{relative:.3g} (theoretical {theoretical_density_g_cm3:g} g/cm3), outside "
            f"[{lo:g}, {hi:g}]: {hint}"
        )
    return thickness_cm, area_cm2, relative

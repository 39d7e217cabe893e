"""Cycler results to properties: one raw result becomes one measurement-table row.

A result (cycler protocol v1, section "Result") holds the sample's geometry and density and a
list of measurements. This module runs the analysis of each one and assembles the row:

- ``eis_blocking`` (Au): ``R0-p(R1,CPE1)-CPE2`` fit; bulk Rb = R0 (high-frequency intercept),
  grain boundary Rgb = R1; sigma = L / (R * A) at 25 C; an Arrhenius fit of the total
  conductivity over the temperatures measured gives Ea.
- ``dc_polarization`` (Au): I0, Iss, t_e = Iss / I0.
- ``eis_symmetric`` (Na|NZSP|Na): ``R0-p(R1,CPE1)-p(R2,CPE2)`` fit; the arc with the lower
  characteristic frequency is the Na/electrolyte interface; r_int = R_int * A (both
  interfaces together, ohm cm2).
- ``ccd_staircase``: the short, the CCD and whether it is censored.

A part that cannot be analysed (a fit that fails) leaves its columns empty with a note; a
payload that is broken (missing fields, NaN, arrays of unequal length) raises
:class:`~physics.errors.AnalysisError` naming the job, the measurement and the field.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from physics.constants import NZSP_THEORETICAL_DENSITY_G_CM3
from physics.eis.fitting import FitResult, fit_spectrum
from physics.eis.spectrum import Spectrum
from physics.errors import AnalysisError, FitError
from physics.measurements.ccd import CCDResult, analyze_ccd
from physics.measurements.conductivity import ArrheniusFit, arrhenius_fit, conductivity_parts
from physics.measurements.polarization import PolarizationResult, analyze_polarization
from physics.schema import MEASUREMENT_COLUMNS

__all__ = [
    "BLOCKING_CIRCUIT",
    "SYMMETRIC_CIRCUIT",
    "ResultAnalysis",
    "analyze_result",
]

BLOCKING_CIRCUIT = "R0-p(R1,CPE1)-CPE2"
SYMMETRIC_CIRCUIT = "R0-p(R1,CPE1)-p(R2,CPE2)"
ROOM_TEMPERATURE_C = 25.0

_ARRAYS = {
    "eis_blocking": ("frequency_hz", "z_real_ohm", "z_imag_ohm"),
    "eis_symmetric": ("frequency_hz", "z_real_ohm", "z_imag_ohm"),
    "dc_polarization": ("time_s", "current_a"),
    "ccd_staircase": ("time_s", "current_ma_cm2", "voltage_v"),
}
_SCALARS = {
    "dc_polarization": ("voltage_v",),
    "ccd_staircase": (
        "start_ma_cm2",
        "step_ma_cm2",
        "max_ma_cm2",
        "cycles_per_step",
        "half_cycle_s",
    ),
}


@dataclass
class ResultAnalysis:
    """Everything derived from one cycler result.

    Attributes:
        row: the measurement-table row, keyed by ``MEASUREMENT_COLUMNS`` (None = not measured).
        fits: impedance fits keyed like ``"eis_blocking@25C"``.
        arrhenius: the Arrhenius fit of the total conductivity, when >= 2 temperatures.
        polarization: the DC polarization analysis.
        ccd: the plating/stripping staircase analysis.
        notes: what was dropped, assumed or could not be analysed.
    """

    row: dict[str, Any]
    job_id: str
    fits: dict[str, FitResult] = field(default_factory=dict)
    arrhenius: ArrheniusFit | None = None
    polarization: PolarizationResult | None = None
    ccd: CCDResult | None = None
    notes: list[str] = field(default_factory=list)


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise AnalysisError(f"{where}: expected a number, got {value!r}")
    out = float(value)
    if not math.isfinite(out):
        raise AnalysisError(f"{where}: is {value!r}, not a finite number")
    return out


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
    return values


def _check_measurement(m: Any, index: int, job: str) -> tuple[str, float, dict[str, np.ndarray]]:
    where = f"job {job}, measurement {index}"
    if not isinstance(m, Mapping):
        raise AnalysisError(f"{where}: must be an object")
    protocol = m.get("protocol")
    if protocol not in _ARRAYS:
        raise AnalysisError(
            f"{where}: unknown protocol {protocol!r}; expected one of {', '.join(_ARRAYS)}"
        )
    where = f"job {job}, {protocol} (measurement {index})"
    temperature_c = _number(m.get("temperature_c"), f"{where}: temperature_c")
    arrays = {name: _array(m, name, where) for name in _ARRAYS[protocol]}
    lengths = {name: a.size for name, a in arrays.items()}
    if len(set(lengths.values())) > 1:
        raise AnalysisError(f"{where}: arrays differ in length {lengths}")
    for name in _SCALARS.get(protocol, ()):
        arrays[name] = np.asarray(_number(m.get(name), f"{where}: {name}"))
    return protocol, temperature_c, arrays


def _spectrum(
    arrays: dict[str, np.ndarray], temperature_c: float, area_cm2: float, source: str
) -> Spectrum:
    return Spectrum.from_arrays(
        arrays["frequency_hz"],
        arrays["z_real_ohm"],
        arrays["z_imag_ohm"],
        area_cm2=area_cm2,
        temperature_c=temperature_c,
        source=source,
    )


def _arc_frequency_hz(params: Mapping[str, float], r: str, cpe: str) -> float:
    """Characteristic frequency of an R||CPE arc: f = 1 / (2 pi (R Q)^(1/alpha))."""
    q, alpha = params[f"{cpe}_0"], params[f"{cpe}_1"]
    return 1.0 / (2 * math.pi * (params[r] * q) ** (1.0 / alpha))


def analyze_result(
    result: Mapping[str, Any],
    *,
    theoretical_density_g_cm3: float = NZSP_THEORETICAL_DENSITY_G_CM3,
) -> ResultAnalysis:
    """Turn one cycler result into a measurement-table row.

    Args:
        result: the JSON object of ``GET /v1/jobs/{id}/result``.
        theoretical_density_g_cm3: from the service's capabilities (relative density =
            Archimedes density / theoretical density).

    Returns:
        The analysis, with ``row`` ready for the measurement table.

    Raises:
        AnalysisError: the payload is broken (missing fields, NaN, unequal arrays).
    """
    if not isinstance(result, Mapping):
        raise AnalysisError("result: must be a JSON object")
    job = str(result.get("job_id") or "?")
    if "job_id" not in result:
        raise AnalysisError("result: missing job_id")
    sample = result.get("sample")
    recipe = result.get("recipe")
    if not isinstance(sample, Mapping):
        raise AnalysisError(f"job {job}: missing or malformed 'sample'")
    if not isinstance(recipe, Mapping):
        raise AnalysisError(f"job {job}: missing or malformed 'recipe'")
    thickness_cm = _number(sample.get("thickness_cm"), f"job {job}: sample.thickness_cm")
    area_cm2 = _number(sample.get("area_cm2"), f"job {job}: sample.area_cm2")
    density = _number(sample.get("bulk_density_g_cm3"), f"job {job}: sample.bulk_density_g_cm3")
    if thickness_cm <= 0 or area_cm2 <= 0 or density <= 0:
        raise AnalysisError(f"job {job}: sample thickness, area and density must be positive")
    measurements = result.get("measurements")
    if not isinstance(measurements, list):
        raise AnalysisError(f"job {job}: 'measurements' must be a list")
    checked = [_check_measurement(m, i, job) for i, m in enumerate(measurements)]

    row: dict[str, Any] = dict.fromkeys(MEASUREMENT_COLUMNS)
    row.update(
        sample_id=str(sample.get("sample_id") or job),
        zbo_fraction=_number(recipe.get("zbo_fraction"), f"job {job}: recipe.zbo_fraction"),
        sinter_temperature_c=_number(
            recipe.get("sinter_temperature_c"), f"job {job}: recipe.sinter_temperature_c"
        ),
        dwell_h=None
        if recipe.get("dwell_h") is None
        else _number(recipe["dwell_h"], f"job {job}: recipe.dwell_h"),
        status="ok",
        relative_density=density / theoretical_density_g_cm3,
        thickness_cm=thickness_cm,
        source=job,
    )
    analysis = ResultAnalysis(row=row, job_id=job)
    _analyze_blocking(analysis, checked, thickness_cm, area_cm2)
    _analyze_polarization(analysis, checked, thickness_cm, area_cm2)
    _analyze_symmetric(analysis, checked, area_cm2)
    _analyze_ccd(analysis, checked)
    return analysis


def _fit(
    analysis: ResultAnalysis,
    protocol: str,
    temperature_c: float,
    arrays: dict[str, np.ndarray],
    area_cm2: float,
    circuit: str,
) -> FitResult | None:
    """Fit one impedance measurement; record it under ``"<protocol>@<T>C"`` or note why not."""
    key = f"{protocol}@{temperature_c:g}C"
    spectrum = _spectrum(arrays, temperature_c, area_cm2, f"{analysis.job_id} {key}")
    try:
        fit = fit_spectrum(spectrum, circuit=circuit)
    except FitError as exc:
        analysis.notes.append(f"{key}: fit failed ({exc}); its columns are left empty")
        return None
    analysis.fits[key] = fit
    analysis.notes.extend(f"{key}: {note}" for note in fit.notes)
    return fit


def _analyze_blocking(
    analysis: ResultAnalysis, checked: list, thickness_cm: float, area_cm2: float
) -> None:
    temps: list[float] = []
    sigmas: list[float] = []
    for protocol, temperature_c, arrays in checked:
        if protocol != "eis_blocking":
            continue
        fit = _fit(analysis, protocol, temperature_c, arrays, area_cm2, BLOCKING_CIRCUIT)
        if fit is None:
            continue
        loose = [n for n in ("R0", "R1") if n in fit.unresolved]
        if loose:
            analysis.notes.append(
                f"{protocol}@{temperature_c:g}C: sigma not computed, {', '.join(loose)} "
                "unresolved by the fit (try another circuit or more points)"
            )
            continue
        parts = conductivity_parts(fit.params["R0"], fit.params["R1"], thickness_cm, area_cm2)
        temps.append(temperature_c)
        sigmas.append(parts.sigma_total_s_cm)
        if math.isclose(temperature_c, ROOM_TEMPERATURE_C, abs_tol=0.5):
            analysis.row["sigma_total_ms_cm"] = parts.sigma_total_ms_cm
            analysis.row["sigma_bulk_ms_cm"] = parts.sigma_bulk_ms_cm
            analysis.row["sigma_gb_ms_cm"] = parts.sigma_gb_ms_cm
    if temps and analysis.row["sigma_total_ms_cm"] is None:
        analysis.notes.append("eis_blocking: no spectrum at 25 C; sigma columns left empty")
    if len(set(temps)) >= 2:
        analysis.arrhenius = arrhenius_fit(np.array(temps), np.array(sigmas))
        analysis.row["activation_energy_ev"] = analysis.arrhenius.activation_energy_ev


def _analyze_polarization(
    analysis: ResultAnalysis, checked: list, thickness_cm: float, area_cm2: float
) -> None:
    for protocol, _temperature_c, arrays in checked:
        if protocol != "dc_polarization":
            continue
        try:
            pol = analyze_polarization(
                arrays["time_s"],
                arrays["current_a"],
                voltage_v=float(arrays["voltage_v"]),
                thickness_cm=thickness_cm,
                area_cm2=area_cm2,
            )
        except AnalysisError as exc:
            analysis.notes.append(f"dc_polarization: not analysed ({exc}); t_e left empty")
            return
        analysis.polarization = pol
        analysis.row["electronic_fraction"] = pol.electronic_fraction
        analysis.notes.extend(f"dc_polarization: {note}" for note in pol.notes)
        return


def _analyze_symmetric(analysis: ResultAnalysis, checked: list, area_cm2: float) -> None:
    for protocol, temperature_c, arrays in checked:
        if protocol != "eis_symmetric" or not math.isclose(
            temperature_c, ROOM_TEMPERATURE_C, abs_tol=0.5
        ):
            continue
        fit = _fit(analysis, protocol, temperature_c, arrays, area_cm2, SYMMETRIC_CIRCUIT)
        if fit is None:
            return
        arcs = [("R1", "CPE1"), ("R2", "CPE2")]
        r_int, _cpe = min(arcs, key=lambda rc: _arc_frequency_hz(fit.params, *rc))
        if r_int in fit.unresolved:
            analysis.notes.append(
                f"{protocol}@{temperature_c:g}C: r_int not computed, the interface arc's "
                f"{r_int} is unresolved by the fit (try another circuit or more points)"
            )
            return
        analysis.row["r_int_ohm_cm2"] = fit.params[r_int] * area_cm2
        return


def _analyze_ccd(analysis: ResultAnalysis, checked: list) -> None:
    for protocol, _temperature_c, arrays in checked:
        if protocol != "ccd_staircase":
            continue
        try:
            ccd = analyze_ccd(
                arrays["time_s"],
                arrays["current_ma_cm2"],
                arrays["voltage_v"],
                start_ma_cm2=float(arrays["start_ma_cm2"]),
                step_ma_cm2=float(arrays["step_ma_cm2"]),
                max_ma_cm2=float(arrays["max_ma_cm2"]),
                cycles_per_step=int(arrays["cycles_per_step"]),
                half_cycle_s=float(arrays["half_cycle_s"]),
            )
        except AnalysisError as exc:
            analysis.notes.append(f"ccd_staircase: not analysed ({exc}); CCD left empty")
            return
        analysis.ccd = ccd
        analysis.row["ccd_ma_cm2"] = ccd.ccd_ma_cm2
        analysis.row["ccd_censored"] = ccd.censored
        analysis.notes.extend(f"ccd_staircase: {note}" for note in ccd.notes)
        return

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
payload that is broken or implausible (missing fields, NaN, corrupt numbers, a thickness in mm,
reversed frequencies, no measurement at all: :mod:`physics.measurements.payload`) raises
:class:`~physics.errors.AnalysisError` naming the job, the measurement and the field. Several
blocking spectra at one temperature are repeats: their mean is used when they agree (within
20 %), none of them when they do not (mislabelled temperatures); an activation energy needs
two temperatures or more. The finished row passes :func:`physics.table.validate_row`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from physics.constants import NZSP_THEORETICAL_DENSITY_G_CM3
from physics.eis.fitting import FitResult, fit_spectrum
from physics.eis.spectrum import Spectrum
from physics.errors import AnalysisError, DataError, FitError
from physics.measurements.ccd import CCDResult, analyze_ccd
from physics.measurements.conductivity import (
    ArrheniusFit,
    ConductivityParts,
    arrhenius_fit,
    conductivity_parts,
)
from physics.measurements.payload import check_measurement, check_sample, number
from physics.measurements.polarization import PolarizationResult, analyze_polarization
from physics.schema import MEASUREMENT_COLUMNS
from physics.table import validate_row

__all__ = [
    "BLOCKING_CIRCUIT",
    "SYMMETRIC_CIRCUIT",
    "ResultAnalysis",
    "analyze_result",
]

BLOCKING_CIRCUIT = "R0-p(R1,CPE1)-CPE2"
SYMMETRIC_CIRCUIT = "R0-p(R1,CPE1)-p(R2,CPE2)"
ROOM_TEMPERATURE_C = 25.0

_SAME_T_SPREAD = 0.2  # repeats at one temperature agree within 20 % in sigma
_PROPERTIES = (
    "sigma_total_ms_cm",
    "activation_energy_ev",
    "electronic_fraction",
    "r_int_ohm_cm2",
    "ccd_ma_cm2",
)


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
    thickness_cm, area_cm2, relative_density = check_sample(sample, job, theoretical_density_g_cm3)
    measurements = result.get("measurements")
    if not isinstance(measurements, list):
        raise AnalysisError(f"job {job}: 'measurements' must be a list")
    if not measurements:
        raise AnalysisError(
            f"job {job}: 'measurements' is empty: the result holds no measurement to analyse"
        )
    notes: list[str] = []
    checked = [check_measurement(m, i, job, notes) for i, m in enumerate(measurements)]

    row: dict[str, Any] = dict.fromkeys(MEASUREMENT_COLUMNS)
    row.update(
        sample_id=str(sample.get("sample_id") or job),
        zbo_fraction=number(recipe.get("zbo_fraction"), f"job {job}: recipe.zbo_fraction"),
        sinter_temperature_c=number(
            recipe.get("sinter_temperature_c"), f"job {job}: recipe.sinter_temperature_c"
        ),
        dwell_h=None
        if recipe.get("dwell_h") is None
        else number(recipe["dwell_h"], f"job {job}: recipe.dwell_h"),
        status="ok",
        relative_density=relative_density,
        thickness_cm=thickness_cm,
        source=job,
    )
    analysis = ResultAnalysis(row=row, job_id=job, notes=notes)
    _analyze_blocking(analysis, checked, thickness_cm, area_cm2)
    _analyze_polarization(analysis, checked, thickness_cm, area_cm2)
    _analyze_symmetric(analysis, checked, area_cm2)
    _analyze_ccd(analysis, checked)
    _note_repeats(analysis, checked)
    if all(row[c] is None for c in _PROPERTIES):
        analysis.notes.append(
            f"no property could be computed from the {len(checked)} measurement(s) "
            "(see the notes above)"
        )
    try:
        validate_row(row, name=f"job {job}")
    except DataError as exc:
        raise AnalysisError(f"{exc} (the row computed from the result is implausible)") from exc
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
    key = base = f"{protocol}@{temperature_c:g}C"
    n = 2
    while key in analysis.fits:
        key, n = f"{base}-{n}", n + 1
    spectrum = _spectrum(arrays, temperature_c, area_cm2, f"{analysis.job_id} {key}")
    try:
        fit = fit_spectrum(spectrum, circuit=circuit)
    except (FitError, np.linalg.LinAlgError) as exc:
        analysis.notes.append(f"{key}: fit failed ({exc}); its columns are left empty")
        return None
    analysis.fits[key] = fit
    analysis.notes.extend(f"{key}: {note}" for note in fit.notes)
    return fit


def _analyze_blocking(
    analysis: ResultAnalysis, checked: list, thickness_cm: float, area_cm2: float
) -> None:
    by_temperature: dict[float, list[ConductivityParts]] = {}
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
        by_temperature.setdefault(round(temperature_c * 2) / 2, []).append(parts)

    temps: list[float] = []
    sigmas: list[float] = []
    consistent = True
    for temperature_c, group in sorted(by_temperature.items()):
        key = f"eis_blocking@{temperature_c:g}C"
        totals = np.array([p.sigma_total_ms_cm for p in group])
        spread = float(totals.max() / totals.min() - 1.0)
        if spread > _SAME_T_SPREAD:
            consistent = False
            analysis.notes.append(
                f"{key}: {len(group)} spectra labelled {temperature_c:g} C differ (sigma_total "
                f"{totals.min():.3g}-{totals.max():.3g} mS/cm): temperatures mislabelled? "
                "sigma at this temperature and Ea left empty"
            )
            continue
        if len(group) > 1:
            analysis.notes.append(
                f"{key}: {len(group)} spectra at {temperature_c:g} C agree within {spread:.0%}: "
                "their mean is used"
            )
        temps.append(temperature_c)
        sigmas.append(float(np.mean([p.sigma_total_s_cm for p in group])))
        if math.isclose(temperature_c, ROOM_TEMPERATURE_C, abs_tol=0.5):
            analysis.row["sigma_total_ms_cm"] = float(totals.mean())
            analysis.row["sigma_bulk_ms_cm"] = float(np.mean([p.sigma_bulk_ms_cm for p in group]))
            analysis.row["sigma_gb_ms_cm"] = float(np.mean([p.sigma_gb_ms_cm for p in group]))
    if temps and analysis.row["sigma_total_ms_cm"] is None and consistent:
        analysis.notes.append("eis_blocking: no spectrum at 25 C; sigma columns left empty")
    if consistent and len(temps) >= 2:
        analysis.arrhenius = arrhenius_fit(np.array(temps), np.array(sigmas))
        analysis.row["activation_energy_ev"] = analysis.arrhenius.activation_energy_ev
    elif consistent and len(temps) == 1:
        analysis.notes.append(
            f"eis_blocking: every spectrum is at {temps[0]:g} C: no Ea (it needs spectra at "
            "two temperatures or more)"
        )


def _note_repeats(analysis: ResultAnalysis, checked: list) -> None:
    """Say which one of several polarizations, symmetric spectra or staircases was used."""
    for protocol in ("dc_polarization", "eis_symmetric", "ccd_staircase"):
        temps = [t for p, t, _ in checked if p == protocol]
        if protocol == "eis_symmetric":
            temps = [t for t in temps if math.isclose(t, ROOM_TEMPERATURE_C, abs_tol=0.5)]
        if len(temps) > 1:
            analysis.notes.append(
                f"{protocol}: {len(temps)} measurements; the first one is analysed"
            )


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

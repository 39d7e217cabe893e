"""Fit every sweep of an impedance file on its own, and the conductivity of each when it is honest.

Sweeps are never merged (:mod:`physics.eis.readers.sweeps`). One circuit serves all sweeps of a
file, so their resistances can be compared: the given one, else the one
:func:`~physics.eis.fitting.choose_circuit` picks for most sweeps (noted when sweeps disagree).

The conductivity sigma = L / (R A) uses the electrolyte resistance R = R0 + R1 (bulk plus the
first, grain-boundary arc; a later arc is the electrode interface) and is computed only when
the thickness L is given, the area A is known (a placeholder area in the file is not), and
neither resistance is unresolved by the fit (relative standard error > 100 % or at a bound,
:attr:`~physics.eis.fitting.FitResult.unresolved`). Each missing sigma carries the reason.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from physics.eis.fitting import FitResult, choose_circuit, fit_spectrum
from physics.eis.kk import KKResult, lin_kk
from physics.eis.spectrum import Spectrum
from physics.errors import AnalysisError, FitError
from physics.measurements.conductivity import S_CM_TO_MS_CM, conductivity_s_cm

__all__ = ["ELECTROLYTE_RESISTANCES", "SweepFit", "fit_sweeps"]

#: Resistances summed into the electrolyte resistance for sigma, when the circuit has them.
ELECTROLYTE_RESISTANCES = ("R0", "R1")


@dataclass
class SweepFit:
    """The fit of one sweep and what follows from it.

    Attributes:
        spectrum: the sweep (``metadata["sweep"]`` is its 1-based number).
        circuit: the circuit fitted.
        circuit_reason: why that circuit.
        fit: the fit, or None when it failed (``error`` says why).
        kk: the Lin-KK check, or None when it could not run.
        sigma_ms_cm: L / (R A) in mS/cm, or None (``sigma_note`` says why).
        sigma_from: the resistances summed into R.
        sigma_note: why sigma is missing (None when it was computed).
        error: why the fit failed.
    """

    spectrum: Spectrum
    circuit: str
    circuit_reason: str
    fit: FitResult | None = None
    kk: KKResult | None = None
    sigma_ms_cm: float | None = None
    sigma_from: list[str] = field(default_factory=list)
    sigma_note: str | None = None
    error: str | None = None

    @property
    def sweep(self) -> int:
        return int(self.spectrum.metadata.get("sweep", 1))

    @property
    def start_time_s(self) -> float | None:
        value = self.spectrum.metadata.get("start_time_s")
        return None if value is None else float(value)


def _common_circuit(spectra: Sequence[Spectrum]) -> tuple[str, str, list[str]]:
    """The circuit most sweeps call for, its reason, and notes when sweeps disagree."""
    choices: list[tuple[str, str]] = []
    for s in spectra:
        try:
            choices.append(choose_circuit(s))
        except AnalysisError:
            continue
    if not choices:
        circuit = "R0-p(R1,CPE1)"
        return circuit, "no sweep has 5 capacitive points to choose from; one arc assumed", []
    counts = Counter(c for c, _ in choices)
    circuit, n = counts.most_common(1)[0]
    reason = next(r for c, r in choices if c == circuit)
    notes = []
    if len(counts) > 1:
        others = ", ".join(f"{c} ({k})" for c, k in counts.items() if c != circuit)
        reason = f"chosen for {n} of {len(choices)} sweeps; first such sweep: {reason}"
        notes.append(
            f"sweeps call for different circuits; all are fitted with {circuit} so that their "
            f"resistances compare (others: {others}); pass --circuit to choose"
        )
    return circuit, reason, notes


def _sigma(row: SweepFit, thickness_cm: float | None) -> None:
    fit, spectrum = row.fit, row.spectrum
    if fit is None:
        row.sigma_note = "no fit"
        return
    used = [n for n in ELECTROLYTE_RESISTANCES if n in fit.params]
    row.sigma_from = used
    if not used:
        row.sigma_note = f"the circuit has none of {list(ELECTROLYTE_RESISTANCES)}"
        return
    loose = {n: fit.unresolved[n] for n in used if n in fit.unresolved}
    if loose:
        why = ", ".join(f"{n} ({reason})" for n, reason in loose.items())
        row.sigma_note = (
            f"not computed: {why} unresolved, so R = {' + '.join(used)} is not determined by "
            "the data; try another circuit (e.g. fewer elements) or more points (a wider "
            "frequency range)"
        )
        return
    if thickness_cm is None:
        row.sigma_note = "give --thickness-cm (and --area-cm2 unless the file has a real area)"
        return
    if spectrum.area_cm2 is None:
        placeholder = "file_area_cm2" in spectrum.metadata
        row.sigma_note = "the electrode area is unknown" + (
            " (the file's value is a placeholder)" if placeholder else ""
        )
        row.sigma_note += "; give --area-cm2"
        return
    r_ohm = sum(fit.params[n] for n in used)
    row.sigma_ms_cm = (
        float(conductivity_s_cm(r_ohm, thickness_cm, spectrum.area_cm2)) * S_CM_TO_MS_CM
    )


def fit_sweeps(
    spectra: Sequence[Spectrum],
    *,
    circuit: str | None = None,
    thickness_cm: float | None = None,
    raise_single: bool = True,
) -> tuple[list[SweepFit], list[str]]:
    """Fit each sweep with one circuit, run Lin-KK, and compute sigma where honest.

    Args:
        spectra: the sweeps of one file (each with its ``area_cm2`` already decided).
        circuit: circuit string; default the one most sweeps call for.
        thickness_cm: pellet thickness in cm (sigma needs it).
        raise_single: with one sweep, let a failing fit raise instead of recording it.

    Returns:
        (one :class:`SweepFit` per sweep in order, notes about the whole set).

    Raises:
        CircuitError: a bad circuit string. FitError/AnalysisError: the only sweep's fit
            failed and ``raise_single``.
    """
    notes: list[str] = []
    reason = "given with --circuit"
    if circuit is None:
        circuit, reason, notes = _common_circuit(spectra)
    rows = []
    for spectrum in spectra:
        row = SweepFit(spectrum=spectrum, circuit=circuit, circuit_reason=reason)
        try:
            row.fit = fit_spectrum(spectrum, circuit=circuit)
        except (FitError, AnalysisError) as exc:
            if raise_single and len(spectra) == 1:
                raise
            row.error = str(exc)
        try:
            row.kk = lin_kk(spectrum.frequency_hz, spectrum.z_ohm)
        except (AnalysisError, FitError):
            row.kk = None
        _sigma(row, thickness_cm)
        rows.append(row)
    return rows, notes

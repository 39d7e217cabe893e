"""Fitting equivalent circuits to impedance spectra: single spectra and batches.

The fit is a complex nonlinear least-squares problem: minimize
sum_k [(Zfit_k - Z_k)' / s'_k]^2 + [(Zfit_k - Z_k)'' / s''_k]^2 over the circuit parameters,
with s from the weighting (see :func:`physics.eis.least_squares.residual_weights`), solved by a
batched Levenberg-Marquardt in log/logit-transformed parameters with an analytic Jacobian.
Initial guesses come from the spectrum (:mod:`physics.eis.initial_guess`, vectorized for batches in
:mod:`physics.eis.batch_guess`); no user guess is needed.

Inductive points: the contiguous run of top-frequency points with Z'' > 0 is dropped (and noted
in the result) unless the circuit has an ``L`` element or ``inductive="keep"``.

Arcs with the same structure at the top level of the circuit (e.g. the two ``p(R,CPE)`` of the
default circuit) are interchangeable; after the fit they are ordered by decreasing apex
frequency, so ``R1`` is always the high-frequency (grain-boundary) arc.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from physics.eis.batch_guess import guess_batch
from physics.eis.circuits import Circuit
from physics.eis.initial_guess import (
    _is_arc,
    choose_circuit,
    guess_vector,
    initial_guess,
    restart_guesses,
)
from physics.eis.least_squares import ParamTransform, levenberg_marquardt, residual_weights
from physics.eis.spectrum import Spectrum
from physics.errors import AnalysisError, FitError

__all__ = [
    "DEFAULT_CIRCUIT",
    "MAX_RELATIVE_STDERR",
    "FitResult",
    "choose_circuit",
    "fit_batch",
    "fit_spectrum",
    "initial_guess",
]

#: A parameter whose standard error exceeds this share of its value is unresolved.
MAX_RELATIVE_STDERR = 1.0

#: Symmetric Na|NZSP|Na cell: bulk + grain-boundary arc + interface arc.
DEFAULT_CIRCUIT = "R0-p(R1,CPE1)-p(R2,CPE2)"
INDUCTIVE_CHOICES = ("drop", "keep")


@dataclass
class FitResult:
    """Outcome of one circuit fit.

    Attributes:
        circuit: canonical circuit string.
        params: name -> fitted value (units in ``units``).
        stderr: name -> standard error, from cov = (J^T J)^-1 chi2 with J the weighted Jacobian
            in linear parameters at the optimum (so scaled by the observed misfit).
        units: name -> unit.
        chi2: reduced weighted chi-square, sum of squared weighted residuals / (2 n - p), with n
            the number of fitted points and p the number of parameters.
        residuals_real, residuals_imag: shape (n,), (Zfit - Z)' / |Z| and (Zfit - Z)'' / |Z|.
        frequency_hz, z_measured, z_fit: shape (n,), the fitted points, high to low frequency.
        n_inductive_dropped: number of top-frequency inductive points left out.
        notes: remarks (dropped points, unresolved parameters, restarts).
        success: the optimizer converged to finite values.
        weighting: the weighting used.
        n_starts_used: number of starting points tried.
        unresolved: name -> why the data do not determine that parameter: its relative
            standard error exceeds :data:`MAX_RELATIVE_STDERR` (or is not finite), or it sits
            at a bound. Quantities computed from an unresolved resistance (sigma, R_int) are
            not reported by the callers of the fit.
    """

    circuit: str
    params: dict[str, float]
    stderr: dict[str, float]
    units: dict[str, str]
    chi2: float
    residuals_real: np.ndarray
    residuals_imag: np.ndarray
    frequency_hz: np.ndarray
    z_measured: np.ndarray
    z_fit: np.ndarray
    n_inductive_dropped: int
    notes: list[str] = field(default_factory=list)
    success: bool = True
    weighting: str = "modulus"
    n_starts_used: int = 1
    unresolved: dict[str, str] = field(default_factory=dict)

    @property
    def rms_relative(self) -> float:
        """sqrt(mean(residuals_real^2 + residuals_imag^2) / 2), dimensionless."""
        return float(np.sqrt(np.mean(self.residuals_real**2 + self.residuals_imag**2) / 2))


def _check_arrays(frequency_hz, z_ohm) -> tuple[np.ndarray, np.ndarray]:
    f = np.asarray(frequency_hz, dtype=float)
    z = np.asarray(z_ohm, dtype=complex)
    if f.ndim != 1 or z.shape[-1:] != f.shape or z.ndim not in (1, 2):
        raise AnalysisError(
            f"frequency_hz must be 1-D and z_ohm (n,) or (m, n) on that grid; got shapes "
            f"{f.shape} and {z.shape}"
        )
    if not (np.all(np.isfinite(f)) and np.all(np.isfinite(z))):
        raise AnalysisError("frequency_hz or z_ohm contains NaN or infinite values")
    if np.any(f <= 0):
        raise AnalysisError("frequencies must be positive")
    return f, z


def _arc_order(circ: Circuit, params: np.ndarray) -> np.ndarray:
    """Reorder interchangeable top-level arcs by decreasing apex frequency; params (m, p)."""
    arcs = [node for node in circ.top_level() if _is_arc(node)]
    groups: dict[str, list] = {}
    for node in arcs:
        sig = str(node).translate(str.maketrans("", "", "0123456789"))
        groups.setdefault(sig, []).append(node)
    out = params.copy()
    for nodes in groups.values():
        if len(nodes) < 2:
            continue
        idx = [[c.start + k for c in n.children for k in range(c.spec.num_params)] for n in nodes]
        tau = []
        for n in nodes:  # tau = (R Q)^(1/alpha) or R C
            r = next(params[:, c.start] for c in n.children if c.kind == "R")
            cap = next(c for c in n.children if c.kind != "R")
            alpha = params[:, cap.start + 1] if cap.kind == "CPE" else 1.0
            tau.append(np.log(r * params[:, cap.start]) / alpha)
        order = np.argsort(np.array(tau), axis=0)  # (n_arcs, m): smallest tau first
        for dest, src_rank in enumerate(order):
            src_idx = np.array(idx)[src_rank]  # (m, k)
            out[:, idx[dest]] = np.take_along_axis(params, src_idx, axis=1)
    return out


def _fit_core(
    circ: Circuit,
    f: np.ndarray,
    z: np.ndarray,
    keep: np.ndarray,
    weighting: str,
    transform: ParamTransform,
    guesses: np.ndarray,
    n_starts: int,
    always_restart: bool,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Fit m spectra on grid f (n,): z (m, n), keep (m, n) mask, guesses (m, p).

    Returns params (m, p), cost (m,), converged (m,), starts used (m,).
    """
    s_re, s_im = residual_weights(z, weighting)
    inv_re = np.where(keep, 1.0 / np.maximum(s_re, 1e-300), 0.0)
    inv_im = np.where(keep, 1.0 / np.maximum(s_im, 1e-300), 0.0)
    theta0 = transform.to_theta(guesses)
    # a short first pass: most spectra converge in < 10 steps; the rest continue below,
    # alongside fresh starting points
    theta, cost, conv = levenberg_marquardt(
        circ, transform, f, z, inv_re, inv_im, theta0, max_iter=40 if n_starts > 1 else 200
    )
    used = np.ones(len(z), dtype=int)
    params = transform.to_params(theta)[0]
    n_keep = keep.sum(axis=1)
    dof = np.maximum(2 * n_keep - circ.n_params, 1)
    red = cost / dof
    redo = ~conv | ~np.isfinite(red)
    if always_restart:
        redo[:] = True
    elif len(z) >= 5:
        redo |= red > 2.0 * np.median(red)
    arcs = [node for node in circ.top_level() if _is_arc(node)]
    span = np.ptp(z.real, axis=1)
    for node in arcs:  # an arc that collapsed to nothing is a typical local minimum
        r_idx = next(c.start for c in node.children if c.kind == "R")
        redo |= params[:, r_idx] < 0.01 * span
    expo = np.array([u == "" for u in circ.param_units])
    if expo.any():  # strongly depressed "arcs" (alpha < 0.45) are usually spurious minima
        redo |= np.any(params[:, expo] < 0.45, axis=1)
    is_r = np.array([u == "Ohm" for u in circ.param_units])
    redo |= np.any(params[:, is_r] > 100 * np.abs(z).max(axis=1, keepdims=True), axis=1)
    which = np.flatnonzero(redo)
    if which.size and n_starts > 1:
        # per flagged spectrum: its first-pass end point, then n_starts - 1 new starts
        th_starts = []
        for i in which:
            fresh = restart_guesses(circ, guesses[i], n_starts, int(i), f[keep[i]], z[i, keep[i]])
            th_starts.append(theta[i][None, :])
            th_starts.append(transform.to_theta(_inside(fresh[1:], transform)))
        rep = np.repeat(which, n_starts)
        th2, c2, cv2 = levenberg_marquardt(
            circ, transform, f, z[rep], inv_re[rep], inv_im[rep], np.vstack(th_starts), max_iter=150
        )
        c2 = c2.reshape(which.size, n_starts)
        best = np.argmin(c2, axis=1)
        best_cost = c2[np.arange(which.size), best]
        flat = np.arange(which.size) * n_starts + best
        better = best_cost <= cost[which]
        upd = which[better]
        theta[upd] = th2[flat[better]]
        cost[upd] = best_cost[better]
        conv[upd] = cv2[flat[better]]
        used[which] = n_starts
        params = transform.to_params(theta)[0]
    return _arc_order(circ, params), cost, conv, used


def _results(
    circ: Circuit,
    f: np.ndarray,
    z: np.ndarray,
    keep: np.ndarray,
    weighting: str,
    params: np.ndarray,
    cost: np.ndarray,
    conv: np.ndarray,
    used: np.ndarray,
    transform: ParamTransform,
    note_restarts: bool = True,
) -> list[FitResult]:
    z_fit, jac = circ.impedance_and_jacobian(f, params, params_last=False)  # (m, p, n)
    s_re, s_im = residual_weights(z, weighting)
    w_re = np.where(keep, 1 / s_re, 0.0)[:, None, :]
    w_im = np.where(keep, 1 / s_im, 0.0)[:, None, :]
    jw = np.concatenate([jac.real * w_re, jac.imag * w_im], axis=2)
    a = jw @ jw.transpose(0, 2, 1)
    n_keep = keep.sum(axis=1)
    dof = np.maximum(2 * n_keep - circ.n_params, 1)
    chi2 = cost / dof
    with np.errstate(invalid="ignore"):
        # scale columns to unit diagonal first: dZ/dQ and dZ/dR differ by ~1e10
        d = 1 / np.sqrt(np.maximum(np.einsum("mii->mi", a), 1e-300))
        a_scaled = a * d[:, :, None] * d[:, None, :]
        cov = _pinv_or_nan(a_scaled) * d[:, :, None] * d[:, None, :] * chi2[:, None, None]
        se = np.sqrt(np.abs(np.einsum("mii->mi", cov)))
    units = dict(zip(circ.param_names, circ.param_units, strict=True))
    rel = (z_fit - z) / np.abs(z)
    near = (params - transform.lower) < 1e-4 * np.maximum(np.abs(params), 1e-300)
    near |= np.isfinite(transform.upper) & (transform.upper - params < 1e-4 * transform.upper)
    with np.errstate(invalid="ignore", divide="ignore"):
        loose = np.any(
            near | ~np.isfinite(se) | ~(se <= MAX_RELATIVE_STDERR * np.abs(params)), axis=1
        )
    out = []
    for i in range(len(z)):
        k = keep[i]
        notes = []
        if used[i] > 1 and note_restarts:
            notes.append(f"refitted from {used[i]} starting points (first fit looked poor)")
        unresolved = _unresolved(circ.param_names, params[i], se[i], near[i]) if loose[i] else {}
        if unresolved:
            notes.append(
                "unresolved (the data do not determine them): "
                + "; ".join(f"{n} ({why})" for n, why in unresolved.items())
            )
        ok = bool(conv[i] and np.all(np.isfinite(params[i])) and np.isfinite(chi2[i]))
        if not ok:
            notes.append("optimizer did not converge")
        out.append(
            FitResult(
                circuit=str(circ),
                params=dict(zip(circ.param_names, map(float, params[i]), strict=True)),
                stderr=dict(zip(circ.param_names, map(float, se[i]), strict=True)),
                units=units,
                chi2=float(chi2[i]),
                residuals_real=rel[i, k].real.copy(),
                residuals_imag=rel[i, k].imag.copy(),
                frequency_hz=f[k].copy(),
                z_measured=z[i, k].copy(),
                z_fit=z_fit[i, k].copy(),
                n_inductive_dropped=int((~k).sum()),
                notes=notes,
                success=ok,
                weighting=weighting,
                n_starts_used=int(used[i]),
                unresolved=unresolved,
            )
        )
    return out


def _pinv_or_nan(a: np.ndarray) -> np.ndarray:
    """Pseudo-inverse of each (p, p) matrix of a stack (m, p, p); NaN where SVD fails.

    Extreme values in a spectrum (|Z| ~ 1e300 ohm) overflow the normal matrix and LAPACK's SVD
    does not converge; such a fit's standard errors are unknown (NaN), so its parameters are
    marked unresolved instead of the whole call failing.
    """
    try:
        return np.linalg.pinv(a)
    except np.linalg.LinAlgError:
        out = np.full_like(a, np.nan)
        for i in range(len(a)):
            try:
                out[i] = np.linalg.pinv(a[i])
            except np.linalg.LinAlgError:
                pass
        return out


def _unresolved(
    names: list[str], values: np.ndarray, stderr: np.ndarray, at_bound: np.ndarray
) -> dict[str, str]:
    """name -> reason, for parameters at a bound or with stderr / |value| > MAX_RELATIVE_STDERR."""
    out = {}
    for name, value, se, bound in zip(names, values, stderr, at_bound, strict=True):
        if bound:
            out[name] = f"at a bound, {value:.3g}"
        elif not np.isfinite(se) or not np.isfinite(value) or value == 0:
            out[name] = "no finite standard error"
        elif se > MAX_RELATIVE_STDERR * abs(value):
            out[name] = f"relative standard error {100 * se / abs(value):.3g} %"
    return out


def _inside(guess: np.ndarray, transform: ParamTransform) -> np.ndarray:
    """Clip guesses into the open box between the bounds."""
    upper = np.where(np.isfinite(transform.upper), transform.upper * (1 - 1e-9), np.inf)
    return np.clip(guess, transform.lower * (1 + 1e-9) + 1e-300, upper)


def _prepare(circuit: str, f, z, inductive: str, weighting: str, bounds):
    circ = Circuit(circuit)
    if inductive not in INDUCTIVE_CHOICES:
        raise FitError(f"inductive={inductive!r} is not valid; choose one of {INDUCTIVE_CHOICES}")
    residual_weights(np.ones(1, dtype=complex), weighting)  # validates the name
    transform = ParamTransform.for_circuit(circ, bounds)
    f, z = _check_arrays(f, z)
    z = np.atleast_2d(z)
    order = np.argsort(-f)
    f, z = f[order], z[:, order]
    keep = np.ones(z.shape, dtype=bool)
    if inductive == "drop" and "L" not in circ.element_types:
        capacitive = z.imag <= 0
        first = np.where(capacitive.any(axis=1), np.argmax(capacitive, axis=1), z.shape[1])
        keep = np.arange(z.shape[1])[None, :] >= first[:, None]
    n_min = (circ.n_params + 2) // 2 + 1
    short = np.flatnonzero(keep.sum(axis=1) < max(n_min, 3))
    if short.size:
        which = f" (spectra {short[:10].tolist()} of the batch)" if z.shape[0] > 1 else ""
        raise FitError(
            f"too few points to fit {circ.n_params} parameters of {circ}: "
            f"{int(keep.sum(axis=1).min())} usable points (need at least {max(n_min, 3)}; "
            f"inductive points with Z'' > 0 at the top frequencies are not usable){which}"
        )
    if np.any(np.abs(z) == 0):
        raise AnalysisError("z_ohm contains exact zeros; weighting by |Z| is impossible")
    return circ, transform, f, z, keep


def fit_spectrum(
    spectrum: Spectrum | None = None,
    *,
    frequency_hz=None,
    z_ohm=None,
    circuit: str = DEFAULT_CIRCUIT,
    weighting: str = "modulus",
    bounds: dict[str, tuple[float, float]] | None = None,
    initial_guess: dict[str, float] | None = None,
    n_starts: int = 8,
    inductive: str = "drop",
) -> FitResult:
    """Fit a circuit to one spectrum (no initial guess needed).

    Args:
        spectrum: the spectrum; or give ``frequency_hz`` (n,) Hz and ``z_ohm`` (n,) complex ohm.
        circuit: circuit string.
        weighting: "modulus", "proportional" or "unit".
        bounds: name -> (lower, upper) overriding the element defaults.
        initial_guess: name -> value; replaces the automatic guess for the names given.
        n_starts: starting points of the multi-start stage: the end of a first 40-step fit from
            the automatic guess, the two other arc placements, then perturbations; all fitted
            together as one batch, the lowest cost wins. 1 = the automatic guess only.
        inductive: "drop" or "keep" the top-frequency points with Z'' > 0.

    Raises:
        AnalysisError: NaN, mismatched shapes. FitError: too few points, bad options.
        CircuitError: bad circuit string or unknown names in ``initial_guess``.
    """
    if spectrum is not None:
        if frequency_hz is not None or z_ohm is not None:
            raise FitError("give either a spectrum or frequency_hz and z_ohm, not both")
        frequency_hz, z_ohm = spectrum.frequency_hz, spectrum.z_ohm
    if frequency_hz is None or z_ohm is None:
        raise FitError("fit_spectrum needs a spectrum or both frequency_hz and z_ohm")
    if np.ndim(z_ohm) != 1:
        raise AnalysisError(f"z_ohm must be 1-D for fit_spectrum, got shape {np.shape(z_ohm)}")
    if n_starts < 1:
        raise FitError(f"n_starts must be >= 1, got {n_starts}")
    circ, transform, f, z, keep = _prepare(
        circuit, frequency_hz, z_ohm, inductive, weighting, bounds
    )
    guess = guess_vector(circ, f[keep[0]], z[0, keep[0]])
    if initial_guess:
        unknown = [n for n in initial_guess if n not in circ.param_names]
        if unknown:
            raise FitError(f"initial_guess has unknown names {unknown}; valid: {circ.param_names}")
        for name, value in initial_guess.items():
            guess[circ.param_names.index(name)] = value
    guess = _inside(guess, transform)
    params, cost, conv, used = _fit_core(
        circ, f, z, keep, weighting, transform, guess[None], n_starts, always_restart=True
    )
    result = _results(
        circ, f, z, keep, weighting, params, cost, conv, used, transform, note_restarts=False
    )[0]
    if result.n_inductive_dropped:
        result.notes.insert(
            0, f"dropped {result.n_inductive_dropped} inductive top-frequency point(s) (Z'' > 0)"
        )
    return result


def fit_batch(
    frequency_hz,
    z_ohm_batch,
    circuit: str = DEFAULT_CIRCUIT,
    weighting: str = "modulus",
    *,
    bounds: dict[str, tuple[float, float]] | None = None,
    n_starts: int = 8,
    inductive: str = "drop",
) -> list[FitResult]:
    """Fit one circuit to many spectra on one frequency grid, all at once.

    Every spectrum gets its automatic guess (vectorized, :mod:`physics.eis.batch_guess`) and a first
    fit of at most 40 steps; those that end badly (reduced chi-square above twice the batch
    median, no convergence, an arc collapsed to < 1 % of the Z' span, an exponent below 0.45,
    a resistance above 100 max|Z|) continue from where they stopped alongside ``n_starts - 1``
    further starting points, and the lowest cost is kept (noted in the result).

    Args:
        frequency_hz: shape (n,), Hz.
        z_ohm_batch: shape (m, n), complex ohm.
        circuit, weighting, bounds, n_starts, inductive: as in :func:`fit_spectrum`.

    Returns:
        m results in input order.
    """
    if np.ndim(z_ohm_batch) != 2:
        raise AnalysisError(f"z_ohm_batch must be 2-D (m, n), got shape {np.shape(z_ohm_batch)}")
    circ, transform, f, z, keep = _prepare(
        circuit, frequency_hz, z_ohm_batch, inductive, weighting, bounds
    )
    guesses = guess_batch(circ, f, z, keep)  # vectorized for the usual circuits
    if guesses is None:
        guesses = np.array([guess_vector(circ, f[k], zi[k]) for zi, k in zip(z, keep, strict=True)])
    guesses = _inside(guesses, transform)
    params, cost, conv, used = _fit_core(
        circ, f, z, keep, weighting, transform, guesses, n_starts, always_restart=False
    )
    results = _results(circ, f, z, keep, weighting, params, cost, conv, used, transform)
    for res in results:
        if res.n_inductive_dropped:
            res.notes.insert(
                0, f"dropped {res.n_inductive_dropped} inductive top-frequency point(s) (Z'' > 0)"
            )
    return results

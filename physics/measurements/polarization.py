"""DC polarization with ion-blocking (Au) electrodes: electronic leakage of the electrolyte.

A constant voltage V is applied at t = 0. The current decays from its ionic-plus-electronic
value I0 to the steady electronic value Iss as the blocking electrodes polarize. Then

    t_e = Iss / I0 = sigma_e / (sigma_e + sigma_ion),    sigma_e = Iss * L / (V * A).

Iss is the ASYMPTOTE of a fitted decay, not the last point: three models are fitted by
bounded least squares and the one with the lowest BIC = n ln(RSS / n) + k ln(n) is kept,

    exp1:       I(t) = Iss + a1 exp(-t / tau1)
    exp2:       I(t) = Iss + a1 exp(-t / tau1) + a2 exp(-t / tau2),   tau1 < tau2
    stretched:  I(t) = Iss + a exp(-(t / tau)^beta),                 0.15 <= beta <= 1

I0 is the fit extrapolated to t = 0, I0 = I_fit(0) = Iss + sum(a). When that extrapolation
lies more than 20 % above the first measured point (the fast decay was not resolved by the
sampling), I0 falls back to the first measured point and a note says so (t_e is then an upper
bound).

The record counts as *settled* when the decay the fit still carries at the last time,
``remaining = I_fit(t_last) - Iss``, is at most ``settle_rtol`` (5 %) of Iss AND the record is
at least 3 slowest time constants long; otherwise ``settled`` is False, a note explains, and
Iss is an extrapolation to be treated with care.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.optimize import least_squares

from physics.errors import AnalysisError

__all__ = [
    "PolarizationResult",
    "analyze_polarization",
    "decay_current_a",
]

_MIN_POINTS = 8
_I0_EXTRAPOLATION_RTOL = 0.2
_RECORD_MIN_TAUS = 3.0


def decay_current_a(time_s: Any, model: str, params: dict[str, Any]) -> np.ndarray:
    """Evaluate a fitted decay I(t) in A (formulas in the module docstring).

    Args:
        time_s: shape (n,), times in s.
        model: ``"exp1"``, ``"exp2"`` or ``"stretched"``.
        params: ``iss_a``, ``amplitudes_a`` (list), ``taus_s`` (list) and for ``stretched``
            ``beta``.

    Returns:
        shape (n,), current in A (positive, in the direction of the applied voltage).
    """
    t = np.asarray(time_s, dtype=float)
    out = np.full_like(t, float(params["iss_a"]))
    if model == "stretched":
        (a,), (tau,) = params["amplitudes_a"], params["taus_s"]
        return out + a * np.exp(-((np.clip(t, 0, None) / tau) ** params["beta"]))
    if model not in ("exp1", "exp2"):
        raise AnalysisError(f"unknown decay model {model!r}; must be exp1, exp2 or stretched")
    for a, tau in zip(params["amplitudes_a"], params["taus_s"], strict=True):
        out = out + a * np.exp(-t / tau)
    return out


@dataclass
class PolarizationResult:
    """Result of :func:`analyze_polarization`.

    Attributes:
        i0_a: initial (ionic + electronic) current magnitude in A.
        iss_a: steady-state (electronic) current magnitude in A, the fitted asymptote.
        iss_stderr_a: standard error of iss_a from the fit covariance, A.
        tau_s: slowest fitted time constant in s.
        settled: whether the record reached steady state (module docstring).
        electronic_fraction: t_e = Iss / I0.
        sigma_e_s_cm: sigma_e = Iss L / (V A) in S/cm; None without thickness and area.
        voltage_v: applied voltage in V.
        time_s: shape (n,), the record's times in s.
        current_a: shape (n,), the record's currents in A (as given, signed).
        fit_current_a: shape (n,), the fitted decay at time_s, same sign as current_a.
        notes: remarks (unsettled record, I0 fallback, poor fit...).
        model: the chosen decay model (``exp1``, ``exp2`` or ``stretched``).
        fit_params: the model's parameters in A and s (see :func:`decay_current_a`).
        remaining_a: fitted decay still present at the last time, I_fit(t_last) - Iss, in A.
        i0_first_point_a: magnitude of the first measured current, A.
        thickness_cm: L in cm, if given.
        area_cm2: A in cm2, if given.
    """

    i0_a: float
    iss_a: float
    iss_stderr_a: float
    tau_s: float
    settled: bool
    electronic_fraction: float
    sigma_e_s_cm: float | None
    voltage_v: float
    time_s: np.ndarray
    current_a: np.ndarray
    fit_current_a: np.ndarray
    notes: list[str] = field(default_factory=list)
    model: str = ""
    fit_params: dict[str, Any] = field(default_factory=dict)
    remaining_a: float = float("nan")
    i0_first_point_a: float = float("nan")
    thickness_cm: float | None = None
    area_cm2: float | None = None

    def fitted_current_a(self, time_s: Any) -> np.ndarray:
        """The fitted decay at ``time_s`` (s), signed like ``current_a``, in A."""
        sign = 1.0 if self.voltage_v > 0 else -1.0
        return sign * decay_current_a(time_s, self.model, self.fit_params)


# --------------------------------------------------------------------------- fitting
def _models(tn_min: float) -> dict[str, tuple[Callable[..., np.ndarray], list, list]]:
    """Models on normalized time tn = t / t_last and current yn = y / y_max, with bounds."""
    lt_lo, lt_hi = math.log(tn_min / 5.0), math.log(50.0)

    def exp1(p: np.ndarray, tn: np.ndarray) -> np.ndarray:
        return p[0] + p[1] * np.exp(-tn / np.exp(p[2]))

    def exp2(p: np.ndarray, tn: np.ndarray) -> np.ndarray:
        tau1 = np.exp(p[2])
        return p[0] + p[1] * np.exp(-tn / tau1) + p[3] * np.exp(-tn / (tau1 * np.exp(p[4])))

    def stretched(p: np.ndarray, tn: np.ndarray) -> np.ndarray:
        return p[0] + p[1] * np.exp(-((tn / np.exp(p[2])) ** p[3]))

    return {
        "exp1": (exp1, [0.0, 0.0, lt_lo], [2.0, 50.0, lt_hi]),
        "exp2": (exp2, [0.0, 0.0, lt_lo, 0.0, math.log(2.0)], [2.0, 50.0, lt_hi, 50.0, 12.0]),
        "stretched": (stretched, [0.0, 0.0, lt_lo, 0.15], [2.0, 50.0, lt_hi, 1.0]),
    }


def _starts(name: str, iss0: float, amp0: float, tau0: float) -> list[list[float]]:
    lt = math.log(tau0)
    if name == "exp1":
        return [[iss, amp0, lt + d] for iss in (iss0, 0.5 * iss0) for d in (-1.0, 0.0, 1.0)]
    if name == "exp2":
        return [
            [iss, 0.5 * amp0, lt + d, 0.5 * amp0, math.log(r)]
            for iss in (iss0, 0.5 * iss0)
            for d in (-2.5, -1.0)
            for r in (10.0, 40.0)
        ]
    return [[iss, amp0, lt, b] for iss in (iss0, 0.5 * iss0) for b in (0.5, 0.85)]


def _fit(tn: np.ndarray, yn: np.ndarray) -> dict[str, Any]:
    """Fit the three models, return the lowest-BIC one (normalized units)."""
    n = tn.size
    n_tail = max(3, n // 20)
    iss0 = float(np.clip(np.median(yn[-n_tail:]), 1e-6, 1.0))
    amp0 = max(float(yn[0]) - iss0, 1e-3)
    below = np.nonzero(yn - iss0 < amp0 / math.e)[0]
    tn_min = float(tn[tn > 0].min())
    tau0 = float(np.clip(tn[below[0]] if below.size else 1.0, tn_min, 10.0))
    best: dict[str, Any] | None = None
    for name, (fun, lo, hi) in _models(tn_min).items():
        if n <= len(lo) + 1:
            continue
        lo_a, hi_a = np.asarray(lo), np.asarray(hi)
        for start in _starts(name, iss0, amp0, tau0):
            x0 = np.clip(np.asarray(start, float), lo_a + 1e-9, hi_a - 1e-9)
            res = least_squares(
                lambda p, f=fun: f(p, tn) - yn,
                x0,
                bounds=(lo_a, hi_a),
                x_scale="jac",
                max_nfev=2000,
            )
            rss = float(np.sum(res.fun**2))
            bic = n * math.log(max(rss, 1e-300) / n) + len(lo) * math.log(n)
            if best is None or bic < best["bic"] - 1e-9:
                best = {"name": name, "p": res.x, "jac": res.jac, "rss": rss, "bic": bic}
    if best is None:  # pragma: no cover - guarded by _MIN_POINTS
        raise AnalysisError("too few points to fit a decay")
    k = best["p"].size
    jtj = best["jac"].T @ best["jac"]
    cov = np.linalg.pinv(jtj) * best["rss"] / max(n - k, 1)
    best["iss_stderr"] = float(np.sqrt(max(cov[0, 0], 0.0)))
    best["fun"] = _models(tn_min)[best["name"]][0]
    return best


def _params_physical(name: str, p: np.ndarray, t_last: float, scale: float) -> dict[str, Any]:
    """Normalized parameters -> {iss_a, amplitudes_a, taus_s[, beta]} as plain floats."""
    q = [float(x) for x in p]
    out: dict[str, Any] = {"iss_a": q[0] * scale}
    if name == "exp2":
        tau1 = math.exp(q[2]) * t_last
        out["amplitudes_a"] = [q[1] * scale, q[3] * scale]
        out["taus_s"] = [tau1, tau1 * math.exp(q[4])]
    else:
        out["amplitudes_a"] = [q[1] * scale]
        out["taus_s"] = [math.exp(q[2]) * t_last]
    if name == "stretched":
        out["beta"] = q[3]
    return out


# --------------------------------------------------------------------------- analysis
def _check_inputs(time_s: Any, current_a: Any, voltage_v: float) -> tuple[np.ndarray, np.ndarray]:
    t = np.asarray(time_s, dtype=float)
    i = np.asarray(current_a, dtype=float)
    if t.ndim != 1 or i.ndim != 1 or t.shape != i.shape:
        raise AnalysisError(
            f"time_s and current_a must be 1-D arrays of one length, got shapes {t.shape} and "
            f"{i.shape}"
        )
    if t.size < _MIN_POINTS:
        raise AnalysisError(f"DC polarization needs at least {_MIN_POINTS} points, got {t.size}")
    for name, arr in (("time_s", t), ("current_a", i)):
        bad = np.nonzero(~np.isfinite(arr))[0]
        if bad.size:
            raise AnalysisError(f"{name} has NaN/infinite values at indices {bad[:5].tolist()}")
    try:
        v = float(voltage_v)
    except (TypeError, ValueError):
        v = math.nan
    if not (math.isfinite(v) and v != 0):
        raise AnalysisError(f"voltage_v={voltage_v!r} must be a finite, non-zero number (V)")
    if np.any(t < 0):
        raise AnalysisError(f"time_s has negative values (first: {t[t < 0][0]!r} s)")
    steps = np.diff(t)
    if np.any(steps <= 0):
        k = int(np.nonzero(steps <= 0)[0][0])
        raise AnalysisError(
            f"time_s must increase strictly (t = 0 only as the first point): t[{k}] = {t[k]!r}, "
            f"t[{k + 1}] = {t[k + 1]!r}"
        )
    return t, i


def analyze_polarization(
    time_s: Any,
    current_a: Any,
    *,
    voltage_v: float,
    thickness_cm: float | None = None,
    area_cm2: float | None = None,
    settle_rtol: float = 0.05,
) -> PolarizationResult:
    """Analyze a DC polarization record: I0, Iss (fitted asymptote), t_e, sigma_e, settled.

    Formulas and the fitting/settling rules: module docstring.

    Args:
        time_s: shape (n,), n >= 8, times since the voltage step in s (>= 0, strictly
            increasing).
        current_a: shape (n,), current in A, the same sign as ``voltage_v``.
        voltage_v: applied constant voltage in V.
        thickness_cm: pellet thickness L in cm (for sigma_e).
        area_cm2: electrode area A in cm2 (for sigma_e).
        settle_rtol: largest remaining decay at the last point, relative to Iss, for a settled
            record.

    Returns:
        The result, with the data and the fitted decay for plotting.

    Raises:
        AnalysisError: shapes, NaN, negative or non-increasing times, a zero voltage, a
            current of the wrong sign, a current that rises or does not decay, bad L or A.
    """
    t, i = _check_inputs(time_s, current_a, voltage_v)
    for name, value in (("thickness_cm", thickness_cm), ("area_cm2", area_cm2)):
        if value is not None and not (math.isfinite(value) and value > 0):
            raise AnalysisError(f"{name}={value!r} must be finite and positive")
    sign = 1.0 if voltage_v > 0 else -1.0
    y = sign * i
    n = y.size
    if np.median(y) <= 0:
        raise AnalysisError(
            f"current_a (median {np.median(i):.3g} A) has the opposite sign to, or is zero for, "
            f"voltage_v = {voltage_v} V"
        )
    n_edge = max(3, n // 10)
    head, tail = float(np.median(y[:n_edge])), float(np.median(y[-n_edge:]))
    noise = float(np.median(np.abs(np.diff(y))) / (0.6745 * math.sqrt(2)))
    if tail >= head:
        raise AnalysisError(
            f"current increases from {head:.4g} A (first {n_edge} points) to {tail:.4g} A (last "
            f"{n_edge}): not a polarization decay"
        )
    if head - tail < 3 * noise:
        raise AnalysisError(
            f"no decay above the noise: current {head:.4g} -> {tail:.4g} A, noise ~{noise:.2g} A"
        )

    t_last = float(t[-1])
    scale = float(np.max(y))
    best = _fit(t / t_last, y / scale)
    params = _params_physical(best["name"], best["p"], t_last, scale)
    fit_y = decay_current_a(t, best["name"], params)
    iss = float(params["iss_a"])
    iss_stderr = best["iss_stderr"] * scale
    tau = float(max(params["taus_s"]))
    notes: list[str] = []

    i0_fit = float(decay_current_a(np.array([0.0]), best["name"], params)[0])
    i0_first = float(y[0])
    i0 = i0_fit
    if i0_fit > (1 + _I0_EXTRAPOLATION_RTOL) * i0_first:
        i0 = i0_first
        notes.append(
            f"I0 from the first point ({i0_first:.4g} A at t = {t[0]:.3g} s): the fit's t -> 0 "
            f"extrapolation ({i0_fit:.4g} A) is over {_I0_EXTRAPOLATION_RTOL:.0%} above it (fast "
            "decay not resolved); t_e is an upper bound"
        )

    remaining = float(fit_y[-1] - iss)
    floor = max(iss, 1e-3 * i0)
    long_enough = t_last >= _RECORD_MIN_TAUS * tau
    settled = bool(remaining <= settle_rtol * floor and long_enough)
    if not settled:
        notes.append(
            f"not settled: the fitted decay still carries {remaining:.3g} A "
            f"({remaining / floor:.1%} of Iss) at t = {t_last:.4g} s, slowest time constant "
            f"{tau:.4g} s vs a {t_last:.4g} s record; Iss = {iss:.4g} A is an extrapolation"
        )
    if iss <= 0 or iss_stderr > 0.2 * iss:
        notes.append(f"Iss poorly determined: {iss:.3g} +/- {iss_stderr:.2g} A")
    rms = math.sqrt(best["rss"] / n) * scale
    if rms > 0.1 * (i0 - iss):
        notes.append(f"poor fit: RMS residual {rms:.3g} A vs a decay of {i0 - iss:.3g} A")

    sigma_e = None
    if thickness_cm is not None and area_cm2 is not None:
        sigma_e = iss * thickness_cm / (abs(voltage_v) * area_cm2)
    return PolarizationResult(
        i0_a=i0,
        iss_a=iss,
        iss_stderr_a=iss_stderr,
        tau_s=tau,
        settled=settled,
        electronic_fraction=iss / i0,
        sigma_e_s_cm=sigma_e,
        voltage_v=float(voltage_v),
        time_s=t,
        current_a=i,
        fit_current_a=sign * fit_y,
        notes=notes,
        model=best["name"],
        fit_params=params,
        remaining_a=remaining,
        i0_first_point_a=i0_first,
        thickness_cm=thickness_cm,
        area_cm2=area_cm2,
    )

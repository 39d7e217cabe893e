"""Lin-KK validity test of impedance spectra (Schoenleber et al., Electrochim. Acta 131 (2014) 20).

A spectrum is Kramers-Kronig consistent when a KK-consistent model reproduces it. The model is

    Zhat(omega) = R_ohm + sum_{k=1..M} R_k / (1 + j omega tau_k) + j omega L [+ 1 / (j omega C)]

with tau_k fixed, log-spaced from tau_1 = 1 / omega_max to tau_M = 1 / omega_min, so the fit is
linear (real and imaginary parts together, each row weighted by 1 / |Z|). The number of RC
elements M grows from 1 until

    mu = 1 - sum_{R_k < 0} |R_k| / sum_{R_k >= 0} |R_k|

drops to ``c`` or below (over-fitting shows up as negative R_k). mu can also dip below c at
small M, while the model still under-fits (seen on two-arc spectra with M = 5-7 and 10-17 %
residuals); so, departing from the paper, only an M whose weighted chi-square is within
``chi2_factor`` of the smallest chi-square over M = 1..max_m (or of a 0.1 % rms misfit) qualifies (all M are fitted;
each fit is one small linear least-squares problem). The residuals
Delta' = (Z' - Zhat') / |Z|, Delta'' = (Z'' - Zhat'') / |Z| are the test: the spectrum passes
when every |Delta| <= ``residual_limit``.

Written from the paper for NumPy 2 (impedance.py's ``linKK`` needs ``np`` patched into its
element namespace there).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from physics.errors import AnalysisError

__all__ = ["KKResult", "lin_kk"]


@dataclass
class KKResult:
    """Outcome of a Lin-KK test.

    Attributes:
        m: number of RC elements used.
        mu: under/over-fitting measure at ``m``.
        z_fit: shape (n,), complex KK model at the input frequencies (input order), ohm.
        residuals_real, residuals_imag: shape (n,), (Z - Zhat) / |Z| of the real and imaginary parts.
        max_abs_residual: largest |residual|, dimensionless (0.01 = 1 %).
        passed: max_abs_residual <= residual_limit.
        rms_residual: sqrt(mean of squared residuals, real and imaginary together).
        residual_limit: the pass limit used.
        with_capacitance: whether a series capacitance was part of the model.
        r_ohm: series resistance of the KK model, ohm.
    """

    m: int
    mu: float
    z_fit: np.ndarray
    residuals_real: np.ndarray
    residuals_imag: np.ndarray
    max_abs_residual: float
    passed: bool
    rms_residual: float = 0.0
    residual_limit: float = 0.05
    with_capacitance: bool = False
    r_ohm: float = 0.0


def _time_constants(omega: np.ndarray, m: int) -> np.ndarray:
    """tau_k = 10^(log10 tau_min + (k-1)/(M-1) log10(tau_max/tau_min)); M = 1: sqrt(tau_min tau_max)."""
    t_min, t_max = 1 / omega.max(), 1 / omega.min()
    if m == 1:
        return np.array([np.sqrt(t_min * t_max)])
    return np.logspace(np.log10(t_min), np.log10(t_max), m)


def _design(omega: np.ndarray, taus: np.ndarray, with_cap: bool) -> np.ndarray:
    """Complex design matrix (n, 1 + M + 1 [+1]): columns R_ohm, R_k, L [, 1/C]."""
    cols = [np.ones_like(omega, dtype=complex)]
    cols.extend(1 / (1 + 1j * omega * t) for t in taus)
    cols.append(1j * omega)
    if with_cap:
        cols.append(1 / (1j * omega))
    return np.column_stack(cols)


def lin_kk(
    frequency_hz,
    z_ohm,
    *,
    c: float = 0.85,
    max_m: int = 50,
    residual_limit: float = 0.05,
    capacitance: bool | None = None,
    chi2_factor: float = 2.0,
) -> KKResult:
    """Lin-KK test with the mu criterion for the number of RC elements.

    Args:
        frequency_hz: shape (n,), Hz, any order.
        z_ohm: shape (n,), complex impedance, ohm.
        c: mu threshold; M grows until mu <= c.
        max_m: largest M tried (the result at max_m is returned if mu never drops).
        residual_limit: pass limit on every |residual| (0.05 = 5 % of |Z|).
        chi2_factor: guard against early dips of mu (see the module docstring).
        capacitance: add a series capacitance (blocking electrodes); None = add it when the
            phase at the lowest frequency is below -45 deg.

    Raises:
        AnalysisError: NaN, mismatched shapes, too few points, bad c or max_m.
    """
    f = np.asarray(frequency_hz, dtype=float)
    z = np.asarray(z_ohm, dtype=complex)
    if f.ndim != 1 or f.shape != z.shape:
        raise AnalysisError(
            f"lin_kk: frequency_hz and z_ohm must be 1-D of one length, got {f.shape} and {z.shape}"
        )
    if not (np.all(np.isfinite(f)) and np.all(np.isfinite(z))):
        raise AnalysisError("lin_kk: frequency_hz or z_ohm contains NaN or infinite values")
    if np.any(f <= 0) or np.any(np.abs(z) == 0):
        raise AnalysisError("lin_kk: frequencies must be positive and |Z| non-zero")
    if f.size < 5:
        raise AnalysisError(f"lin_kk: needs at least 5 points, got {f.size}")
    if not 0 < c < 1:
        raise AnalysisError(f"lin_kk: c must be in (0, 1), got {c}")
    if max_m < 1:
        raise AnalysisError(f"lin_kk: max_m must be >= 1, got {max_m}")
    omega = 2 * np.pi * f
    if capacitance is None:
        capacitance = bool(np.angle(z[np.argmin(f)]) < -np.pi / 4)
    weight = 1 / np.abs(z)
    n_extra = 3 if capacitance else 2
    max_m = int(min(max_m, 2 * f.size - n_extra - 1))
    rhs = np.concatenate([z.real * weight, z.imag * weight])
    fits = []  # (M, mu, chi2, coef, taus) for M = 1..max_m
    for m in range(1, max_m + 1):
        taus = _time_constants(omega, m)
        a = _design(omega, taus, capacitance) * weight[:, None]
        lhs = np.vstack([a.real, a.imag])
        coef = np.linalg.lstsq(lhs, rhs, rcond=None)[0]
        r_k = coef[1 : 1 + m]
        pos = np.abs(r_k[r_k >= 0]).sum()
        neg = np.abs(r_k[r_k < 0]).sum()
        mu = 1.0 - neg / pos if pos > 0 else 0.0
        chi2 = float(np.sum((lhs @ coef - rhs) ** 2))
        fits.append((m, float(mu), chi2, coef, taus))
    floor = min(fit[2] for fit in fits)
    tolerance = chi2_factor * floor + 1e-6 * rhs.size  # 0.1 % rms counts as a perfect fit
    good = [fit for fit in fits if fit[2] <= tolerance]
    chosen = next((fit for fit in good if fit[1] <= c), good[-1] if good else fits[-1])
    m, mu, _, coef, taus = chosen
    z_fit = _design(omega, taus, capacitance) @ coef
    res_re = (z.real - z_fit.real) / np.abs(z)
    res_im = (z.imag - z_fit.imag) / np.abs(z)
    max_abs = float(max(np.abs(res_re).max(), np.abs(res_im).max()))
    rms = float(np.sqrt(np.mean(np.concatenate([res_re, res_im]) ** 2)))
    return KKResult(
        m=m,
        mu=float(mu),
        z_fit=z_fit,
        residuals_real=res_re,
        residuals_imag=res_im,
        max_abs_residual=max_abs,
        passed=max_abs <= residual_limit,
        rms_residual=rms,
        residual_limit=residual_limit,
        with_capacitance=capacitance,
        r_ohm=float(coef[0]),
    )

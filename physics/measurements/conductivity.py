"""Ionic conductivity from resistances, its bulk/grain-boundary parts, and Arrhenius fits.

Units: resistances in ohm, area-specific resistances (ASR = R * A) in ohm cm2, thickness L in
cm, electrode area A in cm2, conductivity sigma in S/cm (times :data:`S_CM_TO_MS_CM` for the
mS/cm the paper and the measurement table use), temperatures in C at the interface and in K
inside the Arrhenius law.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from physics.constants import BOLTZMANN_EV_PER_K, CELSIUS_TO_KELVIN
from physics.errors import AnalysisError

__all__ = [
    "S_CM_TO_MS_CM",
    "ArrheniusFit",
    "ConductivityParts",
    "arrhenius_fit",
    "arrhenius_sigma_s_cm",
    "conductivity_from_asr_s_cm",
    "conductivity_parts",
    "conductivity_parts_from_asr",
    "conductivity_s_cm",
    "electronic_fraction_from_sigma",
]

#: Multiply S/cm by this to get mS/cm.
S_CM_TO_MS_CM: float = 1000.0


def _positive(name: str, value: Any) -> np.ndarray:
    arr = np.asarray(value, dtype=float)
    if not np.all(np.isfinite(arr)) or np.any(arr <= 0):
        raise AnalysisError(f"{name}={value!r} must be finite and positive")
    return arr


def _out(x: np.ndarray) -> Any:
    return float(x) if x.ndim == 0 else x


def conductivity_s_cm(resistance_ohm: Any, thickness_cm: Any, area_cm2: Any) -> Any:
    """Conductivity of a pellet from its resistance: sigma = L / (R * A).

    Args:
        resistance_ohm: R in ohm, scalar or array (broadcasts with the others).
        thickness_cm: L in cm.
        area_cm2: electrode area A in cm2.

    Returns:
        sigma in S/cm (float for scalar inputs, else an array).

    Raises:
        AnalysisError: a non-finite or non-positive input.
    """
    r = _positive("resistance_ohm", resistance_ohm)
    length = _positive("thickness_cm", thickness_cm)
    area = _positive("area_cm2", area_cm2)
    return _out(length / (r * area))


def conductivity_from_asr_s_cm(asr_ohm_cm2: Any, thickness_cm: Any) -> Any:
    """Conductivity from an area-specific resistance: sigma = L / ASR, ASR = R * A.

    Args:
        asr_ohm_cm2: ASR in ohm cm2, scalar or array.
        thickness_cm: L in cm.

    Returns:
        sigma in S/cm.

    Raises:
        AnalysisError: a non-finite or non-positive input.
    """
    asr = _positive("asr_ohm_cm2", asr_ohm_cm2)
    length = _positive("thickness_cm", thickness_cm)
    return _out(length / asr)


@dataclass(frozen=True)
class ConductivityParts:
    """Effective (geometric) bulk, grain-boundary and total ionic conductivity, S/cm.

    sigma_bulk = L / (Rb A), sigma_gb = L / (Rgb A), sigma_total = L / ((Rb + Rgb) A), so that
    1 / sigma_total = 1 / sigma_bulk + 1 / sigma_gb.
    """

    sigma_bulk_s_cm: float
    sigma_gb_s_cm: float
    sigma_total_s_cm: float

    @property
    def sigma_bulk_ms_cm(self) -> float:
        return self.sigma_bulk_s_cm * S_CM_TO_MS_CM

    @property
    def sigma_gb_ms_cm(self) -> float:
        return self.sigma_gb_s_cm * S_CM_TO_MS_CM

    @property
    def sigma_total_ms_cm(self) -> float:
        return self.sigma_total_s_cm * S_CM_TO_MS_CM


def conductivity_parts_from_asr(
    rb_ohm_cm2: float, rgb_ohm_cm2: float, thickness_cm: float
) -> ConductivityParts:
    """Bulk, grain-boundary and total conductivity from ASRs (ohm cm2) and L (cm).

    sigma_bulk = L / ASR_b, sigma_gb = L / ASR_gb, sigma_total = L / (ASR_b + ASR_gb), in S/cm.
    """
    rb = _positive("rb_ohm_cm2", rb_ohm_cm2)
    rgb = _positive("rgb_ohm_cm2", rgb_ohm_cm2)
    length = _positive("thickness_cm", thickness_cm)
    return ConductivityParts(
        sigma_bulk_s_cm=float(length / rb),
        sigma_gb_s_cm=float(length / rgb),
        sigma_total_s_cm=float(length / (rb + rgb)),
    )


def conductivity_parts(
    rb_ohm: float, rgb_ohm: float, thickness_cm: float, area_cm2: float
) -> ConductivityParts:
    """Bulk, grain-boundary and total conductivity from resistances (ohm), L (cm), A (cm2).

    sigma_bulk = L / (Rb A), sigma_gb = L / (Rgb A), sigma_total = L / ((Rb + Rgb) A), in S/cm.
    """
    area = _positive("area_cm2", area_cm2)
    rb = _positive("rb_ohm", rb_ohm)
    rgb = _positive("rgb_ohm", rgb_ohm)
    return conductivity_parts_from_asr(float(rb * area), float(rgb * area), thickness_cm)


def electronic_fraction_from_sigma(sigma_e_s_cm: Any, sigma_ion_s_cm: Any) -> Any:
    """Electronic transference number t_e = sigma_e / (sigma_e + sigma_ion) (dimensionless)."""
    se = np.asarray(sigma_e_s_cm, dtype=float)
    si = _positive("sigma_ion_s_cm", sigma_ion_s_cm)
    if not np.all(np.isfinite(se)) or np.any(se < 0):
        raise AnalysisError(f"sigma_e_s_cm={sigma_e_s_cm!r} must be finite and >= 0")
    return _out(se / (se + si))


@dataclass(frozen=True)
class ArrheniusFit:
    """Result of :func:`arrhenius_fit`: sigma * T = A * exp(-Ea / (kB * T)).

    Attributes:
        activation_energy_ev: Ea in eV.
        activation_energy_stderr_ev: standard error of Ea from the regression, eV; NaN with two
            temperatures (no degrees of freedom left), see ``notes``.
        prefactor_s_k_cm: A in S K / cm.
        temperature_c: shape (n,), the temperatures in C used.
        sigma_s_cm: shape (n,), the conductivities in S/cm used.
        n_points: n.
        r_squared: coefficient of determination of ln(sigma T) vs 1/T (NaN for n = 2).
        notes: remarks about the fit's reliability.
    """

    activation_energy_ev: float
    activation_energy_stderr_ev: float
    prefactor_s_k_cm: float
    temperature_c: np.ndarray
    sigma_s_cm: np.ndarray
    n_points: int
    r_squared: float = float("nan")
    notes: list[str] = field(default_factory=list)

    def predict_sigma_s_cm(self, temperature_c: Any) -> Any:
        """sigma(T) = A / T * exp(-Ea / (kB T)) in S/cm at ``temperature_c`` (C)."""
        return arrhenius_sigma_s_cm(temperature_c, self.activation_energy_ev, self.prefactor_s_k_cm)


def arrhenius_sigma_s_cm(
    temperature_c: Any, activation_energy_ev: float, prefactor_s_k_cm: float
) -> Any:
    """Arrhenius conductivity sigma = A / T * exp(-Ea / (kB T)), T = temperature_c + 273.15 K.

    Args:
        temperature_c: temperature(s) in C.
        activation_energy_ev: Ea in eV.
        prefactor_s_k_cm: A in S K / cm.

    Returns:
        sigma in S/cm, same shape as ``temperature_c``.
    """
    t_k = np.asarray(temperature_c, dtype=float) + CELSIUS_TO_KELVIN
    if np.any(t_k <= 0) or not np.all(np.isfinite(t_k)):
        raise AnalysisError(f"temperature_c={temperature_c!r} must be finite and above -273.15 C")
    sigma = prefactor_s_k_cm / t_k * np.exp(-activation_energy_ev / (BOLTZMANN_EV_PER_K * t_k))
    return _out(sigma)


def arrhenius_fit(temperature_c: Any, sigma_s_cm: Any) -> ArrheniusFit:
    """Fit sigma * T = A * exp(-Ea / (kB T)) by least squares of ln(sigma T) on 1/T.

    ln(sigma T) = ln A - (Ea / kB) * (1 / T): with slope b1 and intercept b0,
    Ea = -kB * b1 (eV), A = exp(b0) (S K / cm), stderr(Ea) = kB * stderr(b1), where
    stderr(b1) = sqrt(RSS / (n - 2) / sum((x - mean x)^2)).

    Args:
        temperature_c: shape (n,), n >= 2 distinct temperatures in C.
        sigma_s_cm: shape (n,), conductivities in S/cm (> 0).

    Returns:
        The fit; with n = 2 the line goes through both points and the standard error is NaN.

    Raises:
        AnalysisError: shapes differ, fewer than 2 distinct temperatures, NaN, sigma <= 0.
    """
    t_c = np.atleast_1d(np.asarray(temperature_c, dtype=float))
    sigma = np.atleast_1d(np.asarray(sigma_s_cm, dtype=float))
    if t_c.ndim != 1 or t_c.shape != sigma.shape:
        raise AnalysisError(
            f"temperature_c and sigma_s_cm must be 1-D of one length, got {t_c.shape} and "
            f"{sigma.shape}"
        )
    if not (np.all(np.isfinite(t_c)) and np.all(np.isfinite(sigma))):
        raise AnalysisError(f"NaN or infinite values in temperature_c={t_c} or sigma_s_cm={sigma}")
    if np.any(sigma <= 0):
        raise AnalysisError(f"sigma_s_cm must be positive, got {sigma}")
    t_k = t_c + CELSIUS_TO_KELVIN
    if np.any(t_k <= 0):
        raise AnalysisError(f"temperature_c={t_c} below absolute zero")
    if np.unique(t_c).size < 2:
        raise AnalysisError(
            f"an Arrhenius fit needs at least 2 distinct temperatures, got {t_c.tolist()} C"
        )
    n = t_c.size
    x = 1.0 / t_k
    y = np.log(sigma * t_k)
    x_mean = x.mean()
    sxx = float(np.sum((x - x_mean) ** 2))
    slope = float(np.sum((x - x_mean) * (y - y.mean())) / sxx)
    intercept = float(y.mean() - slope * x_mean)
    residuals = y - (intercept + slope * x)
    notes: list[str] = []
    if n > 2:
        rss = float(np.sum(residuals**2))
        slope_stderr = float(np.sqrt(rss / (n - 2) / sxx))
        tss = float(np.sum((y - y.mean()) ** 2))
        r2 = 1.0 - rss / tss if tss > 0 else float("nan")
    else:
        slope_stderr = float("nan")
        r2 = float("nan")
        notes.append("2 temperatures: the line passes through both, no standard error of Ea")
    ea = -slope * BOLTZMANN_EV_PER_K
    if ea <= 0:
        notes.append(f"non-physical Ea = {ea:.3g} eV (conductivity does not rise with T)")
    return ArrheniusFit(
        activation_energy_ev=float(ea),
        activation_energy_stderr_ev=float(slope_stderr * BOLTZMANN_EV_PER_K),
        prefactor_s_k_cm=float(np.exp(intercept)),
        temperature_c=t_c,
        sigma_s_cm=sigma,
        n_points=int(n),
        r_squared=float(r2),
        notes=notes,
    )

"""A mechanistic recipe -> electrolyte-properties model, written apart from ``physics``.

The model follows a pellet through the furnace (:func:`microstructure`: master sintering
curve plus a viscous liquid-phase term, grain growth, B2O3 and Na loss, ZrO2 and ZrSiO4,
glass coverage of the grain boundaries, Zn uptake) and then computes its room-temperature
properties from that microstructure (:func:`properties`: brick-layer conduction, glass
sealing, electronic leakage, Na interface, CCD, furnace failure). Every formula is listed
in :class:`~experiments.worlds.parameters.MechanisticParameters`. Keeping the two stages
apart lets a calibration change the property scales without refiring the pellet. Random
worlds through the paper's numbers: :mod:`experiments.worlds.sampling`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from experiments.worlds.parameters import (
    REFERENCE_DWELL_H,
    REFERENCE_GRAIN_UM,
    REFERENCE_TEMPERATURE_K,
    V_GLASS_REF,
    MechanisticParameters,
    glass_volume_fraction,
)
from physics.constants import BOLTZMANN_EV_PER_K, CELSIUS_TO_KELVIN
from physics.errors import ConfigError
from physics.process.model import PROPERTY_KEYS

__all__ = [
    "OUTPUT_KEYS",
    "RECIPE_BOUNDS",
    "MechanisticModel",
    "microstructure",
    "msc_log_theta",
    "properties",
]

#: The keys of :meth:`MechanisticModel.predict`: the same properties as the process model's.
OUTPUT_KEYS: tuple[str, ...] = PROPERTY_KEYS

#: Inputs :meth:`MechanisticModel.predict` accepts: name -> (low, high).
RECIPE_BOUNDS: dict[str, tuple[float, float]] = {
    "zbo_fraction": (0.0, 1.0),
    "sinter_temperature_c": (700.0, 1500.0),
    "dwell_h": (0.1, 100.0),
}


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def _softplus(z: np.ndarray) -> np.ndarray:
    return np.logaddexp(0.0, z)


def _arrhenius(energy_ev: Any, t_k: np.ndarray, onset_k: Any) -> np.ndarray:
    """``A(E, T0) = exp(E/k (1/T0 - 1/T))``: 1 at T0, capped against overflow."""
    return np.exp(np.minimum(energy_ev / BOLTZMANN_EV_PER_K * (1.0 / onset_k - 1.0 / t_k), 60.0))


def _ramp_time_h(p: MechanisticParameters, dwell_h: Any, t_k: Any, e_ev: Any) -> np.ndarray:
    """Ramp-equivalent time ``t + 2 k T^2 / (E r)`` (h) of a process of activation energy E."""
    return dwell_h + 2.0 * BOLTZMANN_EV_PER_K * t_k**2 / (e_ev * p.heating_rate_c_per_h)


def msc_log_theta(p: MechanisticParameters, sinter_temperature_c: Any, dwell_h: Any) -> np.ndarray:
    """Log work of sintering ``ln Th = ln(t_Q / T) - Q / (k T)`` (Th in h/K), any shape."""
    t_k = np.asarray(sinter_temperature_c, dtype=float) + CELSIUS_TO_KELVIN
    q = p.msc_activation_energy_ev
    t_q = _ramp_time_h(p, np.asarray(dwell_h, dtype=float), t_k, q)
    return np.log(t_q / t_k) - q / (BOLTZMANN_EV_PER_K * t_k)


def microstructure(
    p: MechanisticParameters, zbo_fraction: Any, sinter_temperature_c: Any, dwell_h: Any
) -> dict[str, np.ndarray]:
    """The fired pellet's microstructure (formulas: ``MechanisticParameters``).

    Args:
        p: the world's parameters.
        zbo_fraction, sinter_temperature_c, dwell_h: recipe arrays (broadcast), C and h.

    Returns:
        Arrays of the broadcast shape: ``v_glass``, ``rho_dense`` (before bloating),
        ``rho``, ``z_overfire``, ``grain_um``, ``v_gb``, ``v_zircon``, ``theta``,
        ``v_half``, ``na_loss``, ``zn_doping``, ``v_zro2``.
    """
    x, t_c, t_h = np.broadcast_arrays(
        *(np.asarray(a, dtype=float) for a in (zbo_fraction, sinter_temperature_c, dwell_h))
    )
    t_k = t_c + CELSIUS_TO_KELVIN
    t_ref = REFERENCE_TEMPERATURE_K
    v = glass_volume_fraction(x)
    kb = BOLTZMANN_EV_PER_K

    ln_theta = msc_log_theta(p, t_c, t_h)
    rho_s = p.green_density + (p.solid_max_density - p.green_density) * _sigmoid(
        (ln_theta - p.msc_log_theta_half) / p.msc_width_ln
    )
    e_l = p.liquid_activation_energy_ev
    theta_l = (
        np.exp(np.minimum(p.liquid_log_rate - e_l / (kb * t_k), 50.0))
        * _ramp_time_h(p, t_h, t_k, e_l) * (v / V_GLASS_REF) ** p.liquid_amount_exponent
    )  # fmt: skip
    rho_d = 1.0 - (1.0 - rho_s) * np.exp(-(theta_l**p.liquid_exponent))
    z_of = (t_c - (p.overfire_onset_c - p.overfire_shift_c_per_glass * v)) / p.overfire_width_c
    strain = p.bloat_max_strain * _sigmoid(z_of + 1.0) * t_h / (t_h + REFERENCE_DWELL_H)
    rho = rho_d / (1.0 + strain)

    qg = p.grain_growth_activation_energy_ev
    d0_3 = p.grain_size_initial_um**3
    growth = (
        (p.grain_size_1000c_um**3 - d0_3)
        * _ramp_time_h(p, t_h, t_k, qg)
        / _ramp_time_h(p, REFERENCE_DWELL_H, t_ref, qg)
        * _arrhenius(qg, t_k, t_ref)
        * (1.0 + p.liquid_coarsening_factor * v / (v + 0.02))
    )
    grain_um = np.cbrt(d0_3 + growth)

    e_b = p.glass_evaporation_activation_energy_ev
    v_av = v * np.exp(
        -0.105 * _ramp_time_h(p, t_h, t_k, e_b) / REFERENCE_DWELL_H
        * _arrhenius(e_b, t_k, p.glass_evaporation_onset_c + CELSIUS_TO_KELVIN)
    )  # fmt: skip
    x_on = p.zircon_onset_x - p.zircon_onset_shift_per_100c * (t_c - 1000.0) / 100.0
    tau_h = p.zircon_time_1000c_h / _arrhenius(p.zircon_activation_energy_ev, t_k, t_ref)
    raw = (
        p.zircon_yield * p.zircon_width_x * _softplus((x - x_on) / p.zircon_width_x)
        * (1.0 - np.exp(-t_h / tau_h))
    )  # fmt: skip
    r = p.zircon_glass_consumption
    v_zircon = raw / (1.0 + r * raw / (v_av + 1e-12))
    v_gb = np.maximum(v_av - r * v_zircon, 0.0)

    v_half = p.coverage_half_fraction * np.exp(-p.wetting_shift_per_100c * (t_c - 1000.0) / 100.0)
    n = p.coverage_hill_exponent
    theta = v_gb**n / (v_gb**n + v_half**n)

    e_v = p.na_loss_activation_energy_ev
    f_open = _sigmoid((1.0 - rho_d - 0.07) / 0.015)
    exposure = p.na_loss_closed_exposure + (1.0 - p.na_loss_closed_exposure) * f_open
    loss = (
        0.05 * _ramp_time_h(p, t_h, t_k, e_v) / REFERENCE_DWELL_H
        * _arrhenius(e_v, t_k, p.na_loss_onset_c + CELSIUS_TO_KELVIN)
        * exposure * np.maximum(1.0 - p.glass_na_seal * theta, 0.05)
    )  # fmt: skip
    e_p = p.na_partition_activation_energy_ev
    loss = loss + (
        0.02 * v_gb / V_GLASS_REF * _ramp_time_h(p, t_h, t_k, e_p) / REFERENCE_DWELL_H
        * _arrhenius(e_p, t_k, p.na_partition_onset_c + CELSIUS_TO_KELVIN)
    )  # fmt: skip
    na_loss = 0.3 * (1.0 - np.exp(-loss / 0.3))
    e_zn = p.zn_doping_activation_energy_ev
    tau_zn_h = p.zn_doping_time_1000c_h / _arrhenius(e_zn, t_k, t_ref)
    zn_doping = (1.0 - np.exp(-x / p.zn_solubility_x)) * (
        1.0 - np.exp(-_ramp_time_h(p, t_h, t_k, e_zn) / tau_zn_h)
    )
    return {
        "v_glass": v, "rho_dense": rho_d, "rho": rho, "z_overfire": z_of,
        "grain_um": grain_um, "v_gb": v_gb, "v_zircon": v_zircon, "theta": theta,
        "v_half": v_half, "na_loss": na_loss, "zn_doping": zn_doping,
        "v_zro2": p.zro2_base_fraction + p.zro2_per_na_loss * na_loss,
    }  # fmt: skip


def properties(p: MechanisticParameters, m: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Room-temperature properties of a microstructure ``m`` (:func:`microstructure`).

    Returns:
        The :data:`OUTPUT_KEYS` arrays (mS/cm, ohm cm2, mA/cm2, eV, fractions).
    """
    rho, d_um, theta, dna = m["rho"], m["grain_um"], m["theta"], m["na_loss"]
    blocked = p.glass_blocking * m["v_gb"] + m["v_zro2"] + m["v_zircon"]
    geom = np.clip(rho * (1.0 - blocked), 1e-3, 1.0)
    geom = geom**p.tortuosity_exponent
    mc_ratio = (d_um / p.microcrack_grain_size_um) ** p.microcrack_exponent
    sigma_b = (
        p.grain_conductivity_ms_cm * (1.0 + p.zn_doping_gain * m["zn_doping"])
        / (1.0 + dna / p.na_loss_conductivity_scale)
        * np.exp(-m["v_zircon"] / p.zircon_si_depletion_fraction) * geom
    )  # fmt: skip
    excess = 0.005 * _softplus((m["v_gb"] - p.film_saturation_ratio * m["v_half"]) / 0.005)
    film_nm = p.film_thickness_nm + p.film_thickening * excess * d_um * 1000.0 / 3.0
    neck = np.clip((rho - p.green_density) / (1.0 - p.green_density), 0.0, 1.0)
    contact = 0.005 + 0.995 * neck**p.neck_exponent
    g_film = theta * p.film_conductivity_ms_cm * 1e-3 / (film_nm * 1e-7)  # S/cm2
    decorated = 1.0 / (1.0 + dna / p.gb_na_loss_scale)
    g_dry = (1.0 - theta) * p.dry_conductance_s_cm2 * contact * decorated
    g_gb = g_film + g_dry
    sigma_gb = d_um * 1e-4 * g_gb * geom / (1.0 + mc_ratio) * 1e3  # mS/cm
    sigma_t = 1.0 / (1.0 / sigma_b + 1.0 / sigma_gb)
    ea_gb = (g_film * p.ea_film_ev + g_dry * p.ea_dry_ev) / g_gb
    ea_b = p.ea_bulk_ev + p.ea_na_loss_ev * dna
    ea = (ea_b / sigma_b + ea_gb / sigma_gb) * sigma_t

    sigma_e = geom * contact**p.electronic_density_exponent * (
        p.electronic_bulk_ms_cm * (1.0 + p.electronic_na_loss_factor * dna)
        * p.film_thickness_nm / film_nm
        + p.electronic_gb_ms_cm * (1.0 - theta) * decorated * REFERENCE_GRAIN_UM / d_um
    )  # fmt: skip
    t_e = sigma_e / (sigma_e + sigma_t)
    r_int = (
        p.r_int_sealed_ohm_cm2 * (1.0 + p.r_int_na_loss_factor * dna)
        / (rho**p.r_int_density_exponent * (theta + (1.0 - theta) * p.bare_wetting_fraction))
    )  # fmt: skip
    porosity = 1.0 - rho
    flaw_um = d_um * (1.0 + p.flaw_porosity_factor * porosity) * (1.0 + mc_ratio)
    r_ref = p.ccd_r_int_reference_ohm_cm2
    ccd = (
        p.ccd_scale_ma_cm2 * np.exp(-p.toughness_porosity_coefficient * porosity)
        * np.sqrt(REFERENCE_GRAIN_UM / flaw_um) * (r_ref / (r_int + r_ref)) ** p.ccd_r_int_exponent
        / (1.0 + (t_e / p.ccd_leak_fraction) ** p.ccd_leak_exponent)
    )  # fmt: skip
    hazard = (
        p.crack_base_hazard + np.exp(np.minimum(m["z_overfire"], 30.0)) + mc_ratio
        + (m["v_glass"] / p.glass_crack_fraction) ** 6 + (dna / p.crack_na_loss_fraction) ** 3
    )  # fmt: skip
    return {
        "relative_density": rho,
        "sigma_bulk_ms_cm": sigma_b,
        "sigma_gb_ms_cm": sigma_gb,
        "sigma_total_ms_cm": sigma_t,
        "electronic_fraction": t_e,
        "r_int_ohm_cm2": r_int,
        "ccd_ma_cm2": ccd,
        "activation_energy_ev": ea,
        "p_crack": -np.expm1(-hazard),
    }


class MechanisticModel:
    """Recipe -> properties of one world, with the interface ``Landscape`` uses.

    Args:
        params: the world's parameters.
    """

    def __init__(self, params: MechanisticParameters) -> None:
        self.params = params

    def __repr__(self) -> str:
        return f"MechanisticModel({self.params!r})"

    def microstructure(
        self, zbo_fraction: Any, sinter_temperature_c: Any, dwell_h: Any = REFERENCE_DWELL_H
    ) -> dict[str, np.ndarray]:
        """The fired microstructure (:func:`microstructure`) after checking the recipe."""
        x, t_c, t_h = _checked(zbo_fraction, sinter_temperature_c, dwell_h)
        return microstructure(self.params, x, t_c, t_h)

    def predict(
        self, zbo_fraction: Any, sinter_temperature_c: Any, dwell_h: Any = REFERENCE_DWELL_H
    ) -> dict[str, np.ndarray]:
        """True properties at 25 C of pellets fired with the given recipes (broadcast).

        Args:
            zbo_fraction: molar ratio ZBO : NZSP, 0..1.
            sinter_temperature_c: sintering temperature (C), 700..1500.
            dwell_h: dwell at that temperature (h), 0.1..100.

        Returns:
            :data:`OUTPUT_KEYS` -> float arrays of the broadcast shape.

        Raises:
            ConfigError: an input is not finite or outside the range above.
        """
        micro = self.microstructure(zbo_fraction, sinter_temperature_c, dwell_h)
        return properties(self.params, micro)


def _checked(*arrays: Any) -> list[np.ndarray]:
    """The recipe arrays broadcast, or a :class:`ConfigError` naming the bad input."""
    try:
        values = list(np.broadcast_arrays(*(np.asarray(a, dtype=float) for a in arrays)))
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"recipe inputs must be numbers that broadcast together: {exc}") from exc
    for (name, (lo, hi)), a in zip(RECIPE_BOUNDS.items(), values, strict=True):
        bad = ~np.isfinite(a) | (a < lo) | (a > hi)
        if bad.any():
            raise ConfigError(
                f"{name} must be finite and within [{lo:g}, {hi:g}]; got {a[bad].flat[0]!r}"
            )
    return values

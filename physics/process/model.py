"""The process model: recipe (x, T, dwell) -> electrolyte properties of a sintered pellet.

One set of smooth formulas, written against a tiny array namespace so that the same code runs
on numpy arrays (broadcasting) and on torch tensors (differentiable, dtype preserved).

Symbols: x ZBO fraction (molar ratio to NZSP), T sintering temperature (C, T_K in kelvin),
t dwell (h), rho relative density, s(z) = 1 / (1 + exp(-z)) the logistic function.

- Dwell factor: ``D = (t / t_ref)^n`` (n < 1: diminishing return).
- Molten ZBO: ``x_liq = x * s((T - T_melt) / w_melt)``.
- Arrhenius factor: ``A(E) = exp(-E / kB * (1/T_K - 1/1273.15 K))`` (1 at 1000 C).
- Density: ``rho = rho_g + (rho_max - rho_g) * (1 - exp(-(k_ss A(E_ss) + k_lp (x_liq/0.2)^p
  A(E_lp)) * D))``: solid-state sintering plus liquid-phase sintering above the ZBO melt.
- Na loss: ``f_Na = 1 - exp(-k_Na s((T - T_Na)/w_Na) D)``; glass lost by evaporation:
  ``f_v = 1 - exp(-k_v s((T - T_v)/w_v) D)``.
- GB sealing coverage (Hill): ``c = x_liq^h / (x_liq^h + x_half^h) * (1 - f_v)``; excess
  glass blocking ``g = (x_liq (1 - f_v) / x_g)^q``; ZrSiO4 ``z = s((x_liq - x_z)/w_z)``.
- Conduction (Archie): ``sigma_b = sigma_b0 rho^m (1 - a_Na f_Na)(1 - a_z z)``,
  ``sigma_gb = rho^m ((1-c) sigma_open + c sigma_sealed) / (1 + g)``,
  ``1/sigma_tot = 1/sigma_b + 1/sigma_gb``.
- Electronic: ``sigma_e = rho^m ((1-c) sigma_e_open + sigma_e_bulk (1 + b_Na f_Na))``,
  ``t_e = sigma_e / (sigma_e + sigma_tot)``.
- Interface: ``ln Rint = (1-c) ln R_open + c ln R_sealed - q_R ln rho + ln(1 + g)``.
- CCD: ``ccd = ccd_max rho^p_c (1 + Rint/R_half)^(-a) exp(-t_e / t_scale)``.
- Activation energy (series, resistance-weighted): ``Ea = (sigma_tot/sigma_b) Ea_b +
  (1 - sigma_tot/sigma_b) ((1-c) Ea_gb_open + c Ea_gb_sealed)``.
- Furnace failure: hazard ``H = (x_liq/x_c)^r exp((T - 1000)/T_c) D + (f_Na/f_c)^2``,
  ``p_crack = 1 - exp(-H)``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from physics.constants import BOLTZMANN_EV_PER_K, CELSIUS_TO_KELVIN
from physics.errors import ConfigError
from physics.process.parameters.process_parameters import ProcessParameters
from physics.schema import DEFAULT_DWELL_H

__all__ = [
    "PROPERTY_KEYS",
    "REFERENCE_TEMPERATURE_C",
    "REFERENCE_ZBO_FRACTION",
    "ProcessModel",
    "ProcessParameters",
]

PROPERTY_KEYS: tuple[str, ...] = (
    "relative_density",
    "sigma_bulk_ms_cm",
    "sigma_gb_ms_cm",
    "sigma_total_ms_cm",
    "electronic_fraction",
    "r_int_ohm_cm2",
    "ccd_ma_cm2",
    "activation_energy_ev",
    "p_crack",
)

#: Temperature at which the rate constants are quoted (C).
REFERENCE_TEMPERATURE_C = 1000.0
#: ZBO fraction at which the liquid-phase rate constant is quoted.
REFERENCE_ZBO_FRACTION = 0.2


class _Numpy:
    """numpy flavour of the array namespace."""

    exp = staticmethod(np.exp)
    expm1 = staticmethod(np.expm1)
    log = staticmethod(np.log)
    log1p = staticmethod(np.log1p)

    @staticmethod
    def sigmoid(z: Any) -> Any:
        """Logistic function, overflow-free."""
        return 0.5 * (1.0 + np.tanh(0.5 * z))

    @staticmethod
    def clip_min(a: Any, lo: float) -> Any:
        return np.maximum(a, lo)


class _Torch:
    """torch flavour of the array namespace (imported lazily)."""

    def __init__(self, torch: Any) -> None:
        self.exp = torch.exp
        self.expm1 = torch.expm1
        self.log = torch.log
        self.log1p = torch.log1p
        self.sigmoid = torch.sigmoid
        self._torch = torch

    def clip_min(self, a: Any, lo: float) -> Any:
        return self._torch.clamp(a, min=lo)


def _is_torch(value: Any) -> bool:
    return type(value).__module__.startswith("torch")


def _namespace(*values: Any) -> tuple[Any, list[Any]]:
    """Pick numpy or torch by the inputs and convert all inputs to that kind.

    Torch wins if any input is a tensor; the others become tensors of its dtype and device.
    """
    tensors = [v for v in values if _is_torch(v)]
    if tensors:
        import torch

        ref = tensors[0]
        dtype = ref.dtype if ref.is_floating_point() else torch.get_default_dtype()
        tensors_out: list[Any] = [
            torch.as_tensor(v, dtype=dtype, device=ref.device) for v in values
        ]
        return _Torch(torch), tensors_out
    arrays_out: list[Any] = [np.asarray(v, dtype=float) for v in values]
    return _Numpy, arrays_out


class ProcessModel:
    """Recipe -> properties of the sintered pellet (formulas in the module docstring).

    Args:
        params: the physical parameters; default :class:`ProcessParameters` (Wang 2022 set).
    """

    def __init__(self, params: ProcessParameters | None = None) -> None:
        if params is None:
            params = ProcessParameters()
        if not isinstance(params, ProcessParameters):
            raise ConfigError(f"params must be ProcessParameters, got {type(params).__name__}")
        self.params = params

    def __repr__(self) -> str:
        return f"ProcessModel({self.params!r})"

    def predict(
        self, zbo_fraction: Any, sinter_temperature_c: Any, dwell_h: Any = DEFAULT_DWELL_H
    ) -> dict[str, Any]:
        """Properties of the recipe(s), broadcasting the three inputs.

        Args:
            zbo_fraction: x, molar ratio ZBO : NZSP, any shape.
            sinter_temperature_c: T in C, broadcastable with ``zbo_fraction``.
            dwell_h: dwell at T in hours, broadcastable.

        Returns:
            ``{key: array}`` for every key of :data:`PROPERTY_KEYS` (units in the keys):
            numpy arrays for numpy/float inputs, torch tensors (with gradients) if any input
            is a tensor.
        """
        xp, (x, t_c, t_h) = _namespace(zbo_fraction, sinter_temperature_c, dwell_h)
        out = self._predict(xp, x, t_c, t_h)
        if xp is _Numpy:
            return {k: np.asarray(v, dtype=float) for k, v in out.items()}
        return out

    def intermediates(
        self, zbo_fraction: Any, sinter_temperature_c: Any, dwell_h: Any = DEFAULT_DWELL_H
    ) -> dict[str, Any]:
        """Internal state variables (for plots and tests): sealing coverage, Na loss, etc."""
        xp, (x, t_c, t_h) = _namespace(zbo_fraction, sinter_temperature_c, dwell_h)
        return self._state(xp, x, t_c, t_h)

    def _state(self, xp: Any, x: Any, t_c: Any, t_h: Any) -> dict[str, Any]:
        p = self.params
        x = xp.clip_min(x, 0.0)
        t_k = t_c + CELSIUS_TO_KELVIN
        inv_ref = 1.0 / (REFERENCE_TEMPERATURE_C + CELSIUS_TO_KELVIN)
        dwell = (xp.clip_min(t_h, 1e-6) / p.dwell_reference_h) ** p.dwell_exponent

        def arrhenius(energy_ev: float) -> Any:
            return xp.exp(-energy_ev / BOLTZMANN_EV_PER_K * (1.0 / t_k - inv_ref))

        melt = xp.sigmoid((t_c - p.zbo_melt_c) / p.zbo_melt_width_c)
        x_liq = x * melt
        k_ss = p.solid_state_rate_1000c * arrhenius(p.densification_activation_energy_ev)
        k_lp = (
            p.liquid_phase_rate_1000c
            * (x_liq / REFERENCE_ZBO_FRACTION) ** p.liquid_phase_x_exponent
            * arrhenius(p.liquid_phase_activation_energy_ev)
        )
        rho = p.green_relative_density + (p.max_relative_density - p.green_relative_density) * (
            -xp.expm1(-(k_ss + k_lp) * dwell)
        )
        na_loss = -xp.expm1(
            -p.na_loss_rate * xp.sigmoid((t_c - p.na_loss_onset_c) / p.na_loss_width_c) * dwell
        )
        volatilized = -xp.expm1(
            -p.glass_volatilization_rate
            * xp.sigmoid((t_c - p.glass_volatilization_onset_c) / p.glass_volatilization_width_c)
            * dwell
        )
        x_hill = x_liq**p.seal_hill_exponent
        seal = x_hill / (x_hill + p.seal_half_x**p.seal_hill_exponent) * (1.0 - volatilized)
        glass_block = (x_liq * (1.0 - volatilized) / p.glass_block_x) ** p.glass_block_exponent
        zrsio4 = xp.sigmoid((x_liq - p.zrsio4_onset_x) / p.zrsio4_width_x)
        hazard = (x_liq / p.crack_glass_x) ** p.crack_glass_exponent * xp.exp(
            (t_c - REFERENCE_TEMPERATURE_C) / p.crack_glass_temperature_scale_c
        ) * dwell + (na_loss / p.crack_na_loss_half) ** 2
        return {
            "dwell_factor": dwell,
            "x_liquid": x_liq,
            "relative_density": rho,
            "na_loss": na_loss,
            "glass_volatilized": volatilized,
            "seal_coverage": seal,
            "glass_block": glass_block,
            "zrsio4_fraction": zrsio4,
            "crack_hazard": hazard,
        }

    def _predict(self, xp: Any, x: Any, t_c: Any, t_h: Any) -> dict[str, Any]:
        p = self.params
        s = self._state(xp, x, t_c, t_h)
        rho, seal, g = s["relative_density"], s["seal_coverage"], s["glass_block"]
        na = s["na_loss"]
        archie = rho**p.archie_exponent
        sigma_b = (
            p.sigma_bulk_dense_ms_cm
            * archie
            * (1.0 - p.na_loss_bulk_drop * na)
            * (1.0 - p.zrsio4_bulk_drop * s["zrsio4_fraction"])
        )
        sigma_gb = (
            archie
            * ((1.0 - seal) * p.sigma_gb_open_ms_cm + seal * p.sigma_gb_sealed_ms_cm)
            / (1.0 + g)
        )
        sigma_tot = 1.0 / (1.0 / sigma_b + 1.0 / sigma_gb)
        sigma_e = archie * (
            (1.0 - seal) * p.sigma_e_open_ms_cm
            + p.sigma_e_bulk_ms_cm * (1.0 + p.na_loss_electronic_gain * na)
        )
        t_e = sigma_e / (sigma_e + sigma_tot)
        log_r = (
            (1.0 - seal) * np.log(p.r_int_open_ohm_cm2)
            + seal * np.log(p.r_int_sealed_ohm_cm2)
            - p.r_int_density_exponent * xp.log(rho)
            + xp.log1p(g)
        )
        r_int = xp.exp(log_r)
        ccd = (
            p.ccd_max_ma_cm2
            * rho**p.ccd_density_exponent
            * (1.0 + r_int / p.ccd_r_int_half_ohm_cm2) ** (-p.ccd_r_int_exponent)
            * xp.exp(-t_e / p.ccd_electronic_scale)
        )
        share_b = sigma_tot / sigma_b
        ea_gb = (1.0 - seal) * p.ea_gb_open_ev + seal * p.ea_gb_sealed_ev
        ea = share_b * p.ea_bulk_ev + (1.0 - share_b) * ea_gb
        p_crack = -xp.expm1(-s["crack_hazard"])
        return {
            "relative_density": rho,
            "sigma_bulk_ms_cm": sigma_b,
            "sigma_gb_ms_cm": sigma_gb,
            "sigma_total_ms_cm": sigma_tot,
            "electronic_fraction": t_e,
            "r_int_ohm_cm2": r_int,
            "ccd_ma_cm2": ccd,
            "activation_energy_ev": ea,
            "p_crack": p_crack,
        }

"""The named physical parameters of the process model, with units, meanings and bounds.

:class:`ProcessParameters` is a frozen dataclass: every field carries, in its
``dataclasses.field(metadata=...)``, its unit, a one-line meaning and the ``bounds`` a
calibration may move it within. Its defaults are the set calibrated on Wang et al. 2022
(:data:`physics.process.parameters.wang2022.WANG2022`; a test checks that both agree).

Reference state used by the rate constants: 1000 C (1273.15 K), ZBO fraction x = 0.2,
dwell 6 h (see :mod:`physics.process.model` for the formulas).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from physics.constants import ZBO_MELTING_POINT_C
from physics.errors import ConfigError

__all__ = ["ProcessParameters"]


def _p(default: float, lo: float, hi: float, unit: str, doc: str) -> Any:
    """A dataclass field with its unit, meaning and calibration bounds in the metadata."""
    return field(default=default, metadata={"unit": unit, "bounds": (lo, hi), "doc": doc})


@dataclass(frozen=True)
class ProcessParameters:
    """Physical parameters of the recipe -> properties model (units in the names).

    Each field's ``metadata`` holds ``unit``, ``doc`` and ``bounds`` (lo, hi) for calibration.
    """

    # --- densification -------------------------------------------------------------
    green_relative_density: float = _p(
        0.6, 0.45, 0.7, "1", "relative density of the pressed green pellet"
    )
    max_relative_density: float = _p(
        0.999, 0.97, 1.0, "1", "relative density reached after complete densification"
    )
    solid_state_rate_1000c: float = _p(
        0.420611,
        0.05,
        3.0,
        "1",
        "solid-state densification rate constant at 1000 C (bare NZSP, per unit dwell factor)",
    )
    densification_activation_energy_ev: float = _p(
        1.18, 0.6, 2.5, "eV", "activation energy of solid-state densification"
    )
    liquid_phase_rate_1000c: float = _p(
        5.39329,
        0.5,
        30.0,
        "1",
        "liquid-phase (molten ZBO) densification rate constant "
        "at 1000 C and x = 0.2, per unit dwell factor",
    )
    liquid_phase_x_exponent: float = _p(
        2.33394, 1.0, 4.0, "1", "power of x in the liquid-phase densification rate"
    )
    liquid_phase_activation_energy_ev: float = _p(
        0.8,
        0.2,
        2.0,
        "eV",
        "activation energy of liquid-phase densification (viscous flow, solution-reprecipitation)",
    )
    zbo_melt_c: float = _p(
        ZBO_MELTING_POINT_C, 780.0, 820.0, "C", "melting point of the ZBO additive"
    )
    zbo_melt_width_c: float = _p(10.0, 2.0, 40.0, "C", "width of the smoothed melting step")
    dwell_reference_h: float = _p(6.0, 1.0, 24.0, "h", "dwell at which the dwell factor is 1")
    dwell_exponent: float = _p(
        0.5, 0.2, 1.0, "1", "dwell factor (t / t_ref)^n: n < 1 is a diminishing return"
    )
    # --- conduction ----------------------------------------------------------------
    archie_exponent: float = _p(
        3.23702, 1.0, 5.0, "1", "porosity exponent m: effective conductivity ~ rho^m"
    )
    sigma_bulk_dense_ms_cm: float = _p(
        2.44788, 0.8, 6.0, "mS/cm", "bulk (grain) Na+ conductivity of dense NZSP at 25 C"
    )
    sigma_gb_open_ms_cm: float = _p(
        3.387, 0.3, 20.0, "mS/cm", "grain-boundary conductivity of dense, unsealed NZSP"
    )
    sigma_gb_sealed_ms_cm: float = _p(
        6.18473, 0.5, 50.0, "mS/cm", "grain-boundary conductivity of fully ZBO-sealed NZSP"
    )
    seal_half_x: float = _p(
        0.0946121, 0.03, 0.3, "1", "ZBO fraction at which half the grain boundaries are sealed"
    )
    seal_hill_exponent: float = _p(
        5.34903, 1.0, 8.0, "1", "steepness (Hill exponent) of the sealing coverage in x"
    )
    glass_block_x: float = _p(
        0.289904, 0.15, 1.5, "1", "ZBO fraction at which excess glass halves the GB conductivity"
    )
    glass_block_exponent: float = _p(
        3.0, 1.0, 6.0, "1", "power of x in the excess-glass (non-conducting GB) blocking"
    )
    zrsio4_onset_x: float = _p(
        0.27, 0.15, 0.5, "1", "ZBO fraction at which the ZrSiO4 secondary phase appears"
    )
    zrsio4_width_x: float = _p(0.02, 0.002, 0.1, "1", "width of the ZrSiO4 onset in x")
    zrsio4_bulk_drop: float = _p(
        0.301725, 0.0, 0.8, "1", "fractional loss of bulk conductivity once ZrSiO4 has formed"
    )
    # --- sodium loss and glass volatilization ---------------------------------------
    na_loss_onset_c: float = _p(
        1265.0, 1150.0, 1320.0, "C", "temperature of the onset of severe Na volatilization"
    )
    na_loss_width_c: float = _p(25.0, 5.0, 80.0, "C", "width of the Na-loss onset")
    na_loss_rate: float = _p(
        1.0, 0.1, 5.0, "1", "extent of Na loss far above the onset (per dwell factor)"
    )
    na_loss_bulk_drop: float = _p(
        0.7, 0.0, 0.95, "1", "fractional loss of bulk conductivity at complete Na loss (ZrO2)"
    )
    na_loss_electronic_gain: float = _p(
        10.0, 0.0, 100.0, "1", "relative rise of bulk electronic conductivity at complete Na loss"
    )
    glass_volatilization_onset_c: float = _p(
        1180.0, 1050.0, 1300.0, "C", "temperature where the sealing glass starts to evaporate"
    )
    glass_volatilization_width_c: float = _p(
        30.0, 5.0, 80.0, "C", "width of the glass-volatilization onset"
    )
    glass_volatilization_rate: float = _p(
        1.5, 0.1, 5.0, "1", "extent of glass loss far above its onset (per dwell factor)"
    )
    # --- electronic leakage ----------------------------------------------------------
    sigma_e_open_ms_cm: float = _p(
        0.232514,
        0.01,
        2.0,
        "mS/cm",
        "electronic conductivity via unsealed GBs and pore surfaces (dense-equivalent)",
    )
    sigma_e_bulk_ms_cm: float = _p(
        0.0241515, 1e-4, 0.2, "mS/cm", "electronic conductivity of the grains (dense-equivalent)"
    )
    # --- interface with Na metal --------------------------------------------------------
    r_int_open_ohm_cm2: float = _p(
        605.807, 100.0, 5000.0, "ohm cm2", "Na|NZSP interfacial resistance, dense unsealed"
    )
    r_int_sealed_ohm_cm2: float = _p(
        16.2149, 1.0, 200.0, "ohm cm2", "Na|NZSP interfacial resistance, dense fully sealed"
    )
    r_int_density_exponent: float = _p(
        1.49969, 0.0, 6.0, "1", "Rint ~ rho^-q: porosity reduces the Na contact area"
    )
    # --- critical current density ------------------------------------------------------
    ccd_max_ma_cm2: float = _p(
        0.63533, 0.1, 5.0, "mA/cm2", "CCD of a dense, sealed pellet with zero Rint and t_e"
    )
    ccd_density_exponent: float = _p(1.0, 0.0, 8.0, "1", "CCD ~ rho^p")
    ccd_r_int_half_ohm_cm2: float = _p(
        50.0, 5.0, 500.0, "ohm cm2", "Rint scale of the CCD loss (1 + Rint/R_half)^-a"
    )
    ccd_r_int_exponent: float = _p(
        0.27716, 0.0, 2.0, "1", "exponent a of the Rint dependence of the CCD"
    )
    ccd_electronic_scale: float = _p(
        0.5, 0.02, 2.0, "1", "t_e scale of the CCD loss exp(-t_e / scale)"
    )
    # --- activation energy ------------------------------------------------------------
    ea_bulk_ev: float = _p(0.260635, 0.2, 0.4, "eV", "activation energy of bulk Na+ conduction")
    ea_gb_open_ev: float = _p(
        0.4, 0.25, 0.7, "eV", "activation energy of conduction across unsealed GBs"
    )
    ea_gb_sealed_ev: float = _p(
        0.285408, 0.2, 0.6, "eV", "activation energy of conduction across sealed GBs"
    )
    # --- furnace failure (crack, bloat, melt) -------------------------------------------
    crack_glass_x: float = _p(
        0.55, 0.2, 2.0, "1", "ZBO fraction with unit bloating hazard at 1000 C, 6 h"
    )
    crack_glass_exponent: float = _p(
        4.0, 1.0, 8.0, "1", "power of x in the excess-hot-glass hazard"
    )
    crack_glass_temperature_scale_c: float = _p(
        80.0, 20.0, 300.0, "C", "e-folding temperature of the hot-glass hazard (fluidity)"
    )
    crack_na_loss_half: float = _p(
        0.7, 0.1, 2.0, "1", "Na-loss extent with unit hazard: hazard = (na_loss / this)^2"
    )

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            try:
                ok = float(value) == float(value)
            except (TypeError, ValueError):
                ok = False
            if not ok:
                raise ConfigError(f"ProcessParameters.{f.name} must be a number, got {value!r}")

    def replace(self, **changes: float) -> ProcessParameters:
        """A copy with some fields changed.

        Raises:
            ConfigError: a name is not a parameter (the message lists the valid names).
        """
        unknown = sorted(set(changes) - set(self.names()))
        if unknown:
            raise ConfigError(
                f"unknown process parameter(s) {unknown}; valid names: {', '.join(self.names())}"
            )
        return dataclasses.replace(self, **changes)

    @classmethod
    def names(cls) -> list[str]:
        """All parameter names, in declaration order."""
        return [f.name for f in dataclasses.fields(cls)]

    @classmethod
    def bounds(cls) -> dict[str, tuple[float, float]]:
        """Calibration bounds ``{name: (lo, hi)}`` from the field metadata."""
        return {f.name: tuple(f.metadata["bounds"]) for f in dataclasses.fields(cls)}

    @classmethod
    def units(cls) -> dict[str, str]:
        """Unit of each parameter (``"1"`` for dimensionless)."""
        return {f.name: f.metadata["unit"] for f in dataclasses.fields(cls)}

    @classmethod
    def docs(cls) -> dict[str, str]:
        """One-line meaning of each parameter."""
        return {f.name: f.metadata["doc"] for f in dataclasses.fields(cls)}

    def as_dict(self) -> dict[str, float]:
        """``{name: value}`` for every parameter."""
        return {name: float(getattr(self, name)) for name in self.names()}

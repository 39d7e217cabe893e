"""Random mechanistic worlds that all pass through the paper's numbers at 1000 C.

A world is drawn in two parts. Shape parameters (activation energies, onsets, widths,
exponents: :data:`PRIORS`) are drawn uniformly, or log-uniformly where marked. Two targets
the paper does not pin are drawn as well: CCD(x=0) / CCD(x=0.2) uniform in [0.1, 0.45]
(the paper: under one half; its bare cell shorted at 0.15 mA/cm2) and sigma_total of bare
NZSP fired at 1250 C log-uniform in [0.45, 1.3] mS/cm (published dense undoped NZSP:
0.45-1.2). Then the scales are solved for Wang et al. 2022 at 1000 C, 6 h, in this order:

1. ``msc_log_theta_half`` in closed form: rho(x=0) = 0.737 (no liquid at x = 0);
2. ``liquid_log_rate`` by root finding: rho(x=0.2) = 0.998;
3. one bounded least-squares fit (:data:`_FITTED`; scales in log) of the grain, glass-film
   and dry-contact conductances, film thickening, Na sensitivity of open boundaries, bulk
   and open-boundary electronic leakage, and of five shape parameters the data inform
   (liquid-amount exponent, coverage half-fraction and Hill exponent, grain-growth
   activation energy, neck exponent) to log sigma_total at the four x and at bare NZSP
   fired at 1250 C, and log t_e at the four x, with a weak pull to the drawn values;
4. ``r_int_sealed_ohm_cm2`` and ``bare_wetting_fraction`` in closed form from R_int at
   x = 0 (theta = 0) and x = 0.2;
5. ``ccd_r_int_exponent`` in closed form from the drawn CCD ratio, then
   ``ccd_scale_ma_cm2`` from CCD(x=0.2) = 0.55 mA/cm2.

A draw is rejected (and the next draw of the same generator tried) unless every paper
number is then met within :data:`ACCEPT_TOLERANCES` (tighter than the paper's noise),
CCD(x=0) >= 0.05 mA/cm2, p_crack < 0.15 at the four recipes, and the paper's NZSP-1250
(x = 0, 1250 C) is dense (rho >= 0.90), intact (p_crack < 0.3) and has R_int over
25 x 23.3 ohm cm2. The world of a seed is therefore deterministic.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
from scipy.optimize import brentq, least_squares

from experiments.worlds.landscapes import Landscape
from experiments.worlds.mechanistic import (
    MechanisticModel,
    microstructure,
    msc_log_theta,
    properties,
)
from experiments.worlds.parameters import MechanisticParameters
from physics.constants import BOLTZMANN_EV_PER_K, CELSIUS_TO_KELVIN
from physics.errors import ConfigError

__all__ = [
    "ACCEPT_TOLERANCES",
    "PAPER_POINTS",
    "PRIORS",
    "calibrate_to_paper",
    "draw_world_parameters",
    "mechanistic_world",
    "paper_point_errors",
    "sample_mechanistic_worlds",
]

#: Wang et al. 2022 at 1000 C: x -> {property: value}; units as in the property names.
PAPER_POINTS: dict[float, dict[str, float]] = {
    0.0: {"sigma_total_ms_cm": 0.53, "electronic_fraction": 0.153, "relative_density": 0.737,
          "r_int_ohm_cm2": 957.4},
    0.1: {"sigma_total_ms_cm": 1.19, "electronic_fraction": 0.071},
    0.2: {"sigma_total_ms_cm": 1.58, "electronic_fraction": 0.018, "relative_density": 0.998,
          "r_int_ohm_cm2": 23.3, "ccd_ma_cm2": 0.55},
    0.3: {"sigma_total_ms_cm": 1.13, "electronic_fraction": 0.022},
}  # fmt: skip
PAPER_TEMPERATURE_C = 1000.0
PAPER_DWELL_H = 6.0

#: Largest accepted error per property: relative, except relative_density (absolute).
ACCEPT_TOLERANCES: dict[str, float] = {
    "sigma_total_ms_cm": 0.08,
    "electronic_fraction": 0.20,
    "relative_density": 0.015,
    "r_int_ohm_cm2": 0.25,
    "ccd_ma_cm2": 0.15,
}

#: Shape parameters: name -> (low, high, log-uniform).
PRIORS: dict[str, tuple[float, float, bool]] = {
    "green_density": (0.52, 0.60, False),
    "solid_max_density": (0.95, 0.99, False),
    "msc_activation_energy_ev": (3.5, 7.0, False),
    "msc_width_ln": (0.8, 2.5, False),
    "liquid_activation_energy_ev": (2.5, 6.0, False),
    "liquid_amount_exponent": (0.8, 3.0, False),
    "liquid_exponent": (0.6, 1.5, False),
    "overfire_onset_c": (1300.0, 1480.0, False),
    "overfire_shift_c_per_glass": (200.0, 2200.0, False),
    "overfire_width_c": (6.0, 40.0, True),
    "bloat_max_strain": (0.02, 0.15, False),
    "grain_size_initial_um": (0.3, 0.8, False),
    "grain_size_1000c_um": (0.9, 2.5, False),
    "grain_growth_activation_energy_ev": (1.8, 4.0, False),
    "liquid_coarsening_factor": (0.5, 8.0, True),
    "microcrack_grain_size_um": (5.0, 20.0, False),
    "microcrack_exponent": (3.0, 8.0, False),
    "glass_evaporation_onset_c": (1150.0, 1500.0, False),
    "glass_evaporation_activation_energy_ev": (3.0, 7.0, False),
    "zircon_onset_x": (0.21, 0.29, False),
    "zircon_onset_shift_per_100c": (-0.02, 0.07, False),
    "zircon_width_x": (0.003, 0.04, True),
    "zircon_yield": (0.1, 0.6, False),
    "zircon_glass_consumption": (0.5, 2.0, False),
    "zircon_time_1000c_h": (0.5, 12.0, True),
    "zircon_activation_energy_ev": (1.0, 4.0, False),
    "zircon_si_depletion_fraction": (0.03, 0.3, True),
    "coverage_half_fraction": (0.05, 0.10, False),
    "coverage_hill_exponent": (3.0, 8.0, False),
    "wetting_shift_per_100c": (-0.3, 0.3, False),
    "film_thickness_nm": (0.8, 3.0, False),
    "film_saturation_ratio": (1.2, 2.5, False),
    "na_loss_onset_c": (1120.0, 1350.0, False),
    "na_loss_activation_energy_ev": (3.0, 8.0, False),
    "na_loss_closed_exposure": (0.1, 0.4, False),
    "glass_na_seal": (-0.5, 0.8, False),
    "na_partition_onset_c": (1050.0, 1450.0, False),
    "na_partition_activation_energy_ev": (2.0, 6.0, False),
    "na_loss_conductivity_scale": (0.01, 0.06, True),
    "zro2_base_fraction": (0.005, 0.04, False),
    "zro2_per_na_loss": (0.3, 1.0, False),
    "zn_doping_gain": (-0.3, 0.6, False),
    "zn_solubility_x": (0.03, 0.3, True),
    "zn_doping_time_1000c_h": (2.0, 100.0, True),
    "zn_doping_activation_energy_ev": (2.0, 5.0, False),
    "tortuosity_exponent": (1.3, 2.5, False),
    "glass_blocking": (0.3, 1.0, False),
    "neck_exponent": (1.0, 4.0, False),
    "ea_bulk_ev": (0.25, 0.30, False),
    "ea_film_ev": (0.30, 0.45, False),
    "ea_dry_ev": (0.35, 0.50, False),
    "ea_na_loss_ev": (0.0, 1.5, False),
    "electronic_density_exponent": (1.0, 2.5, False),
    "electronic_na_loss_factor": (0.0, 20.0, False),
    "r_int_density_exponent": (0.3, 1.8, False),
    "r_int_na_loss_factor": (0.0, 30.0, False),
    "toughness_porosity_coefficient": (0.5, 3.0, False),
    "flaw_porosity_factor": (0.5, 5.0, False),
    "ccd_r_int_reference_ohm_cm2": (5.0, 100.0, True),
    "ccd_leak_fraction": (0.1, 0.5, False),
    "ccd_leak_exponent": (1.0, 2.0, False),
    "crack_base_hazard": (0.005, 0.05, False),
    "glass_crack_fraction": (0.26, 0.5, False),
    "crack_na_loss_fraction": (0.08, 0.3, False),
}

#: Parameters of the transport fit: name -> (start or None for the drawn value, low, high,
#: fitted in log).
_FITTED: dict[str, tuple[float | None, float, float, bool]] = {
    "grain_conductivity_ms_cm": (3.0, 1.0, 6.0, True),
    "film_conductivity_ms_cm": (3e-3, 1e-5, 0.1, True),
    "dry_conductance_s_cm2": (20.0, 0.1, 1e4, True),
    "film_thickening": (0.3, 0.01, 5.0, True),
    "liquid_amount_exponent": (None, 0.8, 4.0, False),
    "coverage_half_fraction": (None, 0.04, 0.11, False),
    "coverage_hill_exponent": (None, 2.0, 10.0, False),
    "grain_growth_activation_energy_ev": (None, 1.0, 4.5, False),
    "neck_exponent": (None, 0.5, 4.0, False),
    "gb_na_loss_scale": (0.02, 0.003, 1.0, True),
    "electronic_bulk_ms_cm": (0.03, 1e-4, 0.3, True),
    "electronic_gb_ms_cm": (0.3, 1e-3, 30.0, True),
}
_X = np.array(sorted(PAPER_POINTS))
_X_FIT = np.append(_X, 0.0)
_T_FIT_C = np.append(np.full(len(_X), PAPER_TEMPERATURE_C), 1250.0)
_MAX_DRAWS = 500


def draw_world_parameters(rng: np.random.Generator) -> MechanisticParameters:
    """Shape parameters drawn from :data:`PRIORS`; scales left at their defaults."""
    values = {}
    for name, (lo, hi, log) in PRIORS.items():
        u = rng.random()
        values[name] = float(
            np.exp(np.log(lo) + u * np.log(hi / lo)) if log else lo + u * (hi - lo)
        )
    return MechanisticParameters(**values)


def _paper_micro(p: MechanisticParameters) -> dict[str, np.ndarray]:
    return microstructure(p, _X, PAPER_TEMPERATURE_C, PAPER_DWELL_H)


def _fit_micro(p: MechanisticParameters) -> dict[str, np.ndarray]:
    """Microstructure at the four paper recipes and at bare NZSP fired at 1250 C (last)."""
    return microstructure(p, _X_FIT, _T_FIT_C, PAPER_DWELL_H)


class _Rejected(Exception):
    """A drawn world misses a paper number or a check; the message says which."""


def calibrate_to_paper(
    p: MechanisticParameters, ccd_ratio: float = 0.3, sigma_bare_1250_ms_cm: float = 0.8
) -> MechanisticParameters | None:
    """Solve the scale parameters of ``p`` for the paper's numbers (module docstring).

    Args:
        p: drawn shape parameters.
        ccd_ratio: CCD(x=0) / CCD(x=0.2) the world shall have (the paper: under 0.5).
        sigma_bare_1250_ms_cm: sigma_total of bare NZSP fired at 1250 C for 6 h the world
            shall have (literature on dense undoped NZSP: 0.45-1.2 mS/cm).

    Returns:
        The calibrated parameters, or None when they miss a paper number or a check.
    """
    try:
        return _calibrate(p, ccd_ratio, sigma_bare_1250_ms_cm)
    except _Rejected:
        return None


def _calibrate(
    p: MechanisticParameters, ccd_ratio: float, sigma_bare_1250_ms_cm: float
) -> MechanisticParameters:
    # 1. solid-state master sintering curve through rho(x=0) = 0.737 (no liquid at x = 0)
    target = PAPER_POINTS[0.0]["relative_density"]
    u = (target - p.green_density) / (p.solid_max_density - p.green_density)
    if not 0.0 < u < 1.0:
        raise _Rejected("rho = 0.737 outside the solid-state sintering curve's range")
    ln_theta = float(msc_log_theta(p, PAPER_TEMPERATURE_C, PAPER_DWELL_H))
    p = dataclasses.replace(p, msc_log_theta_half=ln_theta - p.msc_width_ln * np.log(u / (1 - u)))
    if float(microstructure(p, 0.0, 1250.0, PAPER_DWELL_H)["rho"]) < 0.90:
        raise _Rejected("bare NZSP fired at 1250 C is not dense (rho < 0.90)")

    # 2. viscous liquid-phase rate through rho(x=0.2) = 0.998
    target = PAPER_POINTS[0.2]["relative_density"]

    def rho_gap(ln_rate: float) -> float:
        q = dataclasses.replace(p, liquid_log_rate=ln_rate)
        return float(microstructure(q, 0.2, PAPER_TEMPERATURE_C, PAPER_DWELL_H)["rho"]) - target

    t_ref_k = PAPER_TEMPERATURE_C + CELSIUS_TO_KELVIN
    center = p.liquid_activation_energy_ev / (BOLTZMANN_EV_PER_K * t_ref_k)
    lo, hi = center - 15.0, center + 15.0
    if rho_gap(hi) < 0 or rho_gap(lo) > 0:
        raise _Rejected("rho = 0.998 at x = 0.2 out of reach")
    p = dataclasses.replace(p, liquid_log_rate=float(brentq(rho_gap, lo, hi, xtol=1e-6)))
    p_crack = properties(p, _fit_micro(p))["p_crack"]
    if np.max(p_crack[:-1]) >= 0.15 or p_crack[-1] >= 0.3:
        raise _Rejected("p_crack >= 0.15 at a paper recipe or >= 0.3 at NZSP-1250")

    # 3. conductance and leakage scales and the shape parameters the data inform
    p = _fit_transport(p, sigma_bare_1250_ms_cm)
    micro = _paper_micro(p)

    # 4. interface: R_int = R_0 A / (theta + (1 - theta) w_bare), theta(x=0) = 0, so
    #    R(0) / R(0.2) = A_0 / A_2 (theta_2 + (1 - theta_2) w) / w
    a_term = properties(
        dataclasses.replace(p, r_int_sealed_ohm_cm2=1.0, bare_wetting_fraction=1.0), micro
    )["r_int_ohm_cm2"]  # = A, since theta + (1 - theta) * 1 = 1
    theta2 = float(micro["theta"][2])
    ratio = PAPER_POINTS[0.0]["r_int_ohm_cm2"] / PAPER_POINTS[0.2]["r_int_ohm_cm2"]
    a_ratio = float(a_term[0] / a_term[2])
    w_bare = a_ratio * theta2 / max(ratio - a_ratio * (1.0 - theta2), 1e-12)
    if not 0.0 < w_bare < 1.0:
        raise _Rejected(f"no bare wetting fraction fits R_int (w = {w_bare:.3g})")
    r_0 = PAPER_POINTS[0.0]["r_int_ohm_cm2"] * w_bare / float(a_term[0])
    p = dataclasses.replace(p, bare_wetting_fraction=w_bare, r_int_sealed_ohm_cm2=r_0)

    # 5. CCD: the interface exponent alpha so that CCD(0) / CCD(0.2) = ccd_ratio, then the
    #    scale so that CCD(0.2) = 0.55 mA/cm2
    flat = properties(dataclasses.replace(p, ccd_scale_ma_cm2=1.0, ccd_r_int_exponent=0.0), micro)
    r_ref = p.ccd_r_int_reference_ohm_cm2
    focus = r_ref / (flat["r_int_ohm_cm2"] + r_ref)
    ccd = flat["ccd_ma_cm2"]
    alpha = float(np.log(ccd_ratio * ccd[2] / ccd[0]) / np.log(focus[0] / focus[2]))
    if not 0.0 <= alpha <= 1.5:
        raise _Rejected(f"CCD ratio needs an interface exponent of {alpha:.3g}")
    p = dataclasses.replace(p, ccd_r_int_exponent=alpha)
    ccd = properties(dataclasses.replace(p, ccd_scale_ma_cm2=1.0), micro)["ccd_ma_cm2"]
    p = dataclasses.replace(p, ccd_scale_ma_cm2=PAPER_POINTS[0.2]["ccd_ma_cm2"] / float(ccd[2]))
    _check(p)
    return p


def _fit_transport(p: MechanisticParameters, sigma_bare_1250_ms_cm: float) -> MechanisticParameters:
    """Step 3 of the module docstring: one least-squares fit of :data:`_FITTED`."""
    sigma_target = np.array(
        [PAPER_POINTS[x]["sigma_total_ms_cm"] for x in _X] + [sigma_bare_1250_ms_cm]
    )
    t_target = np.array([PAPER_POINTS[x]["electronic_fraction"] for x in _X])
    names = list(_FITTED)
    logs = np.array([_FITTED[n][3] for n in names])
    start = [getattr(p, n) if _FITTED[n][0] is None else _FITTED[n][0] for n in names]
    lo_hi = [(_FITTED[n][1], _FITTED[n][2]) for n in names]
    init, lo, hi = (np.where(logs, np.log(a), a) for a in (start, *np.transpose(lo_hi)))
    init = np.clip(init, lo, hi)

    def with_values(z: np.ndarray) -> MechanisticParameters:
        """Parameters at z (n,), or a batch at z (k, n): fields become (k, 1) columns."""
        values = np.where(logs, np.exp(z), z)
        if values.ndim == 1:
            return dataclasses.replace(p, **dict(zip(names, values.tolist(), strict=True)))
        columns = {n: values[:, [i]] for i, n in enumerate(names)}
        return dataclasses.replace(p, **columns)  # type: ignore[arg-type]  # formulas broadcast

    def residuals(z: np.ndarray) -> np.ndarray:
        """Residuals at z (..., n) -> (..., 9 + n); a batch is evaluated in one model call."""
        q = with_values(z)
        pred = properties(q, _fit_micro(q))
        return np.concatenate([
            np.log(pred["sigma_total_ms_cm"] / sigma_target) / 0.04,
            np.log(pred["electronic_fraction"][..., :-1] / t_target) / 0.10,
            0.1 * (z - init) / (hi - lo),
        ], axis=-1)  # fmt: skip

    def jacobian(z: np.ndarray) -> np.ndarray:
        """Forward differences, all n steps in one batched model call."""
        step = 1e-6 * np.maximum(1.0, np.abs(z))
        step = np.where(z + step > hi, -step, step)  # stay inside the bounds
        batch = np.vstack([z, z + np.diag(step)])
        r = residuals(batch)
        return ((r[1:] - r[0]) / step[:, None]).T

    fit = least_squares(
        residuals, init, jac=jacobian, bounds=(lo, hi), ftol=1e-5, xtol=1e-5, gtol=1e-5
    )
    if np.any(np.abs(fit.fun[: 2 * len(_X) + 1]) >= 2.0):
        raise _Rejected("sigma_total or t_e cannot be fitted at the paper's recipes")
    return with_values(fit.x)


def paper_point_errors(model: Any) -> dict[str, np.ndarray]:
    """Errors of a model at the paper's recipes (1000 C, 6 h), per property.

    Returns:
        property -> array over the paper's x values that have it (sorted x): relative error
        ``pred / paper - 1``, except ``relative_density`` (``pred - paper``); ``p_crack``
        -> the predicted p_crack at all four recipes; ``ccd_ratio_x0`` -> CCD(0) / CCD(0.2).
    """
    pred = model.predict(_X, PAPER_TEMPERATURE_C, PAPER_DWELL_H)
    out: dict[str, np.ndarray] = {}
    for key in ACCEPT_TOLERANCES:
        idx = [i for i, x in enumerate(_X) if key in PAPER_POINTS[float(x)]]
        paper = np.array([PAPER_POINTS[float(_X[i])][key] for i in idx])
        diff = pred[key][idx] - paper
        out[key] = diff if key == "relative_density" else diff / paper
    out["p_crack"] = pred["p_crack"]
    out["ccd_ratio_x0"] = np.array([pred["ccd_ma_cm2"][0] / pred["ccd_ma_cm2"][2]])
    return out


def _check(p: MechanisticParameters) -> None:
    """Raise :class:`_Rejected` unless the calibrated world meets every paper number."""
    model = MechanisticModel(p)
    err = paper_point_errors(model)
    for key, tol in ACCEPT_TOLERANCES.items():
        if np.max(np.abs(err[key])) > tol:
            raise _Rejected(f"{key} misses the paper by {np.max(np.abs(err[key])):.3g}")
    ccd0 = float(model.predict(0.0, PAPER_TEMPERATURE_C, PAPER_DWELL_H)["ccd_ma_cm2"])
    if not (ccd0 >= 0.05 and err["ccd_ratio_x0"][0] < 0.5 and np.max(err["p_crack"]) < 0.15):
        raise _Rejected("CCD of bare NZSP or p_crack out of range")
    bare_1250 = model.predict(0.0, 1250.0, PAPER_DWELL_H)
    if float(bare_1250["r_int_ohm_cm2"]) <= 25.0 * PAPER_POINTS[0.2]["r_int_ohm_cm2"]:
        raise _Rejected("R_int of NZSP-1250 not above 25 x 23.3 ohm cm2")
    if float(bare_1250["p_crack"]) >= 0.3:
        raise _Rejected("NZSP-1250 would crack (p_crack >= 0.3)")


def mechanistic_world(seed: int) -> Landscape:
    """The world of ``seed``: the first accepted draw of ``np.random.default_rng(seed)``.

    Raises:
        ConfigError: no draw was accepted within 500 tries (should not happen).
    """
    rng = np.random.default_rng(seed)
    for _ in range(_MAX_DRAWS):
        params = calibrate_to_paper(
            draw_world_parameters(rng),
            ccd_ratio=float(rng.uniform(0.1, 0.45)),
            sigma_bare_1250_ms_cm=float(np.exp(rng.uniform(np.log(0.45), np.log(1.3)))),
        )
        if params is not None:
            return Landscape(
                f"mechanistic-{seed}",
                model=MechanisticModel(params),  # type: ignore[arg-type]  # only predict is used
                description=f"mechanistic world, seed {seed}, through the paper at 1000 C",
            )
    raise ConfigError(f"no mechanistic world accepted in {_MAX_DRAWS} draws for seed {seed}")


def sample_mechanistic_worlds(n_worlds: int, seed: int = 0) -> list[Landscape]:
    """``n_worlds`` worlds, those of seeds ``seed, seed + 1, ...``."""
    return [mechanistic_world(seed + i) for i in range(int(n_worlds))]

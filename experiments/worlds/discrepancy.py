"""Worlds built on the process model: random parameters, and random parameters + discrepancy.

Two families of benchmark worlds (each an :class:`experiments.landscapes.Landscape`), drawn
reproducibly from an integer index:

- **process-model** (:func:`process_model_world`): :class:`physics.process_model.ProcessModel`
  with random parameters. The prior's *form* is right, its parameters are not (the literature
  set is calibrated on the paper's four rows at 1000 C).
- **discrepancy** (:func:`discrepancy_world`): the same plus a smooth random function added in
  model space, so that no parameter set reproduces the world:

      log sigma_w = log sigma_pm + d_sigma(u),   log CCD_w = log CCD_pm + d_ccd(u),
      logit t_e_w = logit t_e_pm + d_te(u),      logit p_ok_w = logit p_ok_pm + d_crack(u),

  with ``u`` the recipe normalized to the unit cube of the recipe space (x in [0, 0.5],
  T in [900, 1300] C, dwell in [1, 24] h) and each ``d`` an independent draw of a zero-mean
  Gaussian process with squared-exponential kernel ``s^2 exp(-|u - u'|^2 / (2 l^2))``
  (lengthscale ``l`` = :data:`DISCREPANCY_LENGTHSCALE` on x and T, 4 l on dwell), sampled
  with 256 random Fourier features: ``d(u) = s sqrt(2 / M) sum_m w_m cos(omega_m . u + b_m)``,
  ``w ~ N(0, 1)``, ``omega ~ N(0, I / l^2)``, ``b ~ U(0, 2 pi)``.

  **Amplitude** (the prior standard deviation ``s`` of each ``d``, natural-log / logit
  units, :data:`DISCREPANCY_SD`): 0.3 on log sigma and log CCD (a factor of
  exp(0.3) = 1.35 at one sd), 0.5 on logit t_e, 0.5 on logit p_ok. The world's sigma_bulk
  and sigma_gb are both scaled by ``exp(d_sigma)``, so a simulated pellet's total
  conductivity ``1 / (1/sigma_b + 1/sigma_gb)`` carries the same factor.

**Random parameters** (:func:`random_parameters`): each parameter of :data:`RANDOMIZED`
moves from its literature value by ``U(-spread, spread)`` of its calibration range
(:meth:`ProcessParameters.bounds`, on a log scale where the lower bound is positive),
clipped to the range; ``spread`` = :data:`PARAMETER_SPREAD` (0.15). A draw is kept only if
the world is plausible (:func:`is_plausible`): the best feasible conductivity on the grid
lies in 0.4-8 mS/cm and at least 40 % of the grid survives the furnace (p_crack < 0.5).
"""

from __future__ import annotations

import numpy as np

from experiments.worlds.landscapes import FEASIBLE_P_CRACK, Landscape, default_grid
from physics.errors import ConfigError
from physics.process.model import ProcessModel, ProcessParameters
from physics.process.parameters.wang2022 import WANG2022

__all__ = [
    "DISCREPANCY_LENGTHSCALE",
    "DISCREPANCY_SD",
    "PARAMETER_SPREAD",
    "RANDOMIZED",
    "DiscrepantModel",
    "FourierDiscrepancy",
    "discrepancy_world",
    "is_plausible",
    "process_model_world",
    "random_parameters",
]

#: Parameters drawn at random (the rest keep their literature values).
RANDOMIZED: tuple[str, ...] = (
    "green_relative_density",
    "solid_state_rate_1000c",
    "densification_activation_energy_ev",
    "liquid_phase_rate_1000c",
    "liquid_phase_x_exponent",
    "liquid_phase_activation_energy_ev",
    "dwell_exponent",
    "archie_exponent",
    "sigma_bulk_dense_ms_cm",
    "sigma_gb_open_ms_cm",
    "sigma_gb_sealed_ms_cm",
    "seal_half_x",
    "seal_hill_exponent",
    "glass_block_x",
    "glass_block_exponent",
    "zrsio4_onset_x",
    "zrsio4_width_x",
    "zrsio4_bulk_drop",
    "na_loss_onset_c",
    "na_loss_width_c",
    "na_loss_rate",
    "na_loss_bulk_drop",
    "na_loss_electronic_gain",
    "glass_volatilization_onset_c",
    "glass_volatilization_width_c",
    "glass_volatilization_rate",
    "sigma_e_open_ms_cm",
    "sigma_e_bulk_ms_cm",
    "r_int_open_ohm_cm2",
    "r_int_sealed_ohm_cm2",
    "r_int_density_exponent",
    "ccd_max_ma_cm2",
    "ccd_density_exponent",
    "ccd_r_int_half_ohm_cm2",
    "ccd_r_int_exponent",
    "ccd_electronic_scale",
    "crack_glass_x",
    "crack_glass_exponent",
    "crack_glass_temperature_scale_c",
    "crack_na_loss_half",
)

#: Half-width of the uniform move of each parameter, as a fraction of its calibration range.
PARAMETER_SPREAD = 0.15
#: Prior sd of the discrepancy of each quantity in model space (log / logit units).
DISCREPANCY_SD: dict[str, float] = {
    "sigma_total_ms_cm": 0.3,
    "ccd_ma_cm2": 0.3,
    "electronic_fraction": 0.5,
    "p_crack": 0.5,
}
#: Lengthscale of the discrepancy on the normalized x and T axes (dwell: 4x longer).
DISCREPANCY_LENGTHSCALE = 0.3
_N_FEATURES = 256
#: Stream of each family in the seed sequence (never a string hash: those vary by process).
_FAMILY_CODES = {"process-model": 1, "discrepancy": 2}
_BOUNDS = np.array([[0.0, 900.0, 1.0], [0.5, 1300.0, 24.0]])
_MAX_DRAWS = 200
#: Plausibility limits of a world: best feasible sigma (mS/cm), feasible share of the grid.
_SIGMA_RANGE_MS_CM = (0.4, 8.0)
_MIN_FEASIBLE_SHARE = 0.4


def random_parameters(
    rng: np.random.Generator, spread: float = PARAMETER_SPREAD
) -> ProcessParameters:
    """One draw of the parameters (not checked for plausibility; see :func:`is_plausible`).

    Each name of :data:`RANDOMIZED` moves to ``z0 + U(-spread, spread)`` clipped to [0, 1],
    where ``z`` maps the calibration range to [0, 1] (log scale if its lower bound is > 0).
    """
    bounds = ProcessParameters.bounds()
    values = {}
    for name in RANDOMIZED:
        lo, hi = bounds[name]
        v0 = float(getattr(WANG2022, name))
        if lo > 0:
            z0 = (np.log(v0) - np.log(lo)) / (np.log(hi) - np.log(lo))
        else:
            z0 = (v0 - lo) / (hi - lo)
        z = float(np.clip(z0 + rng.uniform(-spread, spread), 0.0, 1.0))
        if lo > 0:
            values[name] = float(np.exp(np.log(lo) + z * (np.log(hi) - np.log(lo))))
        else:
            values[name] = lo + z * (hi - lo)
    return WANG2022.replace(**values)


def is_plausible(model: ProcessModel) -> bool:
    """Best feasible grid conductivity in 0.4-8 mS/cm and >= 40 % of the grid feasible."""
    g = default_grid()
    p = model.predict(g[:, 0], g[:, 1], g[:, 2])
    feasible = np.asarray(p["p_crack"]) < FEASIBLE_P_CRACK
    if feasible.mean() < _MIN_FEASIBLE_SHARE:
        return False
    best = float(np.max(np.asarray(p["sigma_total_ms_cm"])[feasible]))
    return _SIGMA_RANGE_MS_CM[0] <= best <= _SIGMA_RANGE_MS_CM[1]


class FourierDiscrepancy:
    """A draw of a zero-mean squared-exponential GP on the unit cube (random Fourier features).

    Args:
        rng: the random generator.
        sd: prior standard deviation ``s`` of the function.
        lengthscale: (3,) lengthscales on the normalized axes.
        n_features: number of features M.
    """

    def __init__(
        self,
        rng: np.random.Generator,
        sd: float,
        lengthscale: np.ndarray,
        n_features: int = _N_FEATURES,
    ) -> None:
        ls = np.asarray(lengthscale, float)
        self.sd = float(sd)
        self.omega = rng.standard_normal((n_features, len(ls))) / ls
        self.phase = rng.uniform(0.0, 2.0 * np.pi, n_features)
        self.weight = rng.standard_normal(n_features)

    def __call__(self, u: np.ndarray) -> np.ndarray:
        """Values at normalized points ``u`` (..., 3) -> (...)."""
        feats = np.cos(np.asarray(u, float) @ self.omega.T + self.phase)
        return self.sd * np.sqrt(2.0 / len(self.weight)) * (feats @ self.weight)


class DiscrepantModel(ProcessModel):
    """A process model whose objectives are moved by smooth random functions of the recipe.

    Args:
        params: the process-model parameters underneath.
        discrepancy: ``{quantity: function of normalized recipes}`` for any of the keys of
            :data:`DISCREPANCY_SD`.
    """

    def __init__(
        self, params: ProcessParameters, discrepancy: dict[str, FourierDiscrepancy]
    ) -> None:
        super().__init__(params)
        unknown = sorted(set(discrepancy) - set(DISCREPANCY_SD))
        if unknown:
            raise ConfigError(
                f"unknown discrepancy key(s) {unknown}; valid keys: {', '.join(DISCREPANCY_SD)}"
            )
        self.discrepancy = discrepancy

    def predict(self, zbo_fraction, sinter_temperature_c, dwell_h=6.0):  # type: ignore[no-untyped-def]
        """Properties of the process model with the discrepancy applied (numpy only)."""
        x, t, d = np.broadcast_arrays(
            *(np.asarray(v, float) for v in (zbo_fraction, sinter_temperature_c, dwell_h))
        )
        out = {k: np.array(v, dtype=float) for k, v in super().predict(x, t, d).items()}
        u = (np.stack([x, t, d], -1) - _BOUNDS[0]) / (_BOUNDS[1] - _BOUNDS[0])
        delta = {k: f(u) for k, f in self.discrepancy.items()}
        if "sigma_total_ms_cm" in delta:
            factor = np.exp(delta["sigma_total_ms_cm"])
            for key in ("sigma_bulk_ms_cm", "sigma_gb_ms_cm", "sigma_total_ms_cm"):
                out[key] = out[key] * factor
        if "ccd_ma_cm2" in delta:
            out["ccd_ma_cm2"] = out["ccd_ma_cm2"] * np.exp(delta["ccd_ma_cm2"])
        if "electronic_fraction" in delta:
            out["electronic_fraction"] = _shift_logit(
                out["electronic_fraction"], delta["electronic_fraction"]
            )
        if "p_crack" in delta:  # moves logit p_ok = -logit p_crack
            out["p_crack"] = _shift_logit(out["p_crack"], -delta["p_crack"])
        return out


def _shift_logit(p: np.ndarray, delta: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-12, 1.0 - 1e-12)
    return 1.0 / (1.0 + np.exp(-(np.log(p) - np.log1p(-p) + delta)))


def _plausible_draw(seed: int, family: str, make) -> ProcessModel:  # type: ignore[no-untyped-def]
    rng = np.random.default_rng([seed, _FAMILY_CODES[family]])
    for _ in range(_MAX_DRAWS):
        model = make(rng)
        if is_plausible(model):
            return model
    raise ConfigError(f"{family} world {seed}: no plausible draw in {_MAX_DRAWS} tries")


def process_model_world(index: int) -> Landscape:
    """World ``index`` of the process-model family (random parameters, right form)."""
    model = _plausible_draw(
        index, "process-model", lambda rng: ProcessModel(random_parameters(rng))
    )
    return Landscape(f"process-model-{index}", model, "process model with random parameters")


def discrepancy_world(index: int) -> Landscape:
    """World ``index`` of the discrepancy family (random parameters + GP-sample discrepancy)."""
    ls = DISCREPANCY_LENGTHSCALE * np.array([1.0, 1.0, 4.0])

    def make(rng: np.random.Generator) -> ProcessModel:
        params = random_parameters(rng)
        funcs = {k: FourierDiscrepancy(rng, sd, ls) for k, sd in DISCREPANCY_SD.items()}
        return DiscrepantModel(params, funcs)

    model = _plausible_draw(index, "discrepancy", make)
    return Landscape(
        f"discrepancy-{index}",
        model,
        "process model with random parameters + smooth random discrepancy "
        f"(sd {DISCREPANCY_SD}, lengthscale {DISCREPANCY_LENGTHSCALE})",
    )

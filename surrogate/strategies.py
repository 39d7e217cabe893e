"""The surrogate strategies behind one interface: ``physics-gp``, ``gp`` and ``sobol``.

``physics-gp``: at each ``fit`` the process model of ``physics/`` is re-calibrated on the
table (``physics.process.calibration.calibrate``) and cross-validated against the literature
parameters (``surrogate.physics_prior``): each objective's prior mean is whichever of the
two predicts held-out rows better, and its held-out error sets the floor of the residual
GP's variance and the model discrepancy the GP adds to the noise. Each objective then gets
a GP on its residual from that mean in model space (log sigma, log CCD, logit t_e),
hyperparameters by marginal likelihood, known per-point noise used when the optional
``<objective>_sd`` columns are given. Feasibility: a Laplace GP classifier around the
physics ``logit(1 - p_crack)``.

``gp``: a plain BoTorch ``SingleTaskGP`` per objective on the same transforms with default
priors and no physics at all (the feasibility classifier's prior is the observed
feasible fraction).

``sobol``: no model; ``predict`` returns NaN (and p_feasible NaN); the design layer draws
scrambled Sobol points on the grid.
"""

from __future__ import annotations

from typing import Any, Self

import numpy as np
import pandas as pd
import torch
from botorch.models import ModelListGP

from physics.errors import ConfigError
from physics.schema import DEFAULT_DWELL_H, OBJECTIVES
from surrogate.base import (
    DEFAULT_BOUNDS,
    STRATEGIES,
    Prediction,
    Surrogate,
    backtransform,
    encode,
    recipes_frame,
    split_noise_columns,
    to_model_space,
)
from surrogate.errors import ModelError
from surrogate.feasibility import FeasibilityClassifier
from surrogate.gp_models import DTYPE, PhysicsMean, fit_objective_gp, prior_model
from surrogate.physics_prior import PhysicsPrior, choose_physics_prior

__all__ = ["GPSurrogate", "SobolSurrogate", "make_surrogate"]

_LOGIT_CLIP = 6.0


class GPSurrogate:
    """A GP surrogate per objective, with (``physics=True``) or without a physics prior mean.

    Args:
        physics: use the calibrated process model as prior mean (physics-gp) or not (gp).
        seed: torch seed for the hyperparameter fits.
        bounds: (2, 3) recipe bounds for normalization (a RecipeSpace's ``bounds``).
        default_dwell_h: dwell used where a recipe has none.
        calibrate: re-calibrate the process model on the data at each fit.
        prior_weight: pull of the calibration towards the literature parameters (see
            ``physics.process.calibration.calibrate``); strong by default, because the calibration
            has ~20 free parameters and a campaign's first batches have only a few rows.
        min_outputscale: smallest floor of the residual GP's prior variance (model-space
            units^2): the physics mean is never trusted to better than
            ``sqrt(min_outputscale)`` (0.1 = ~10 %) away from the data, even when it
            predicts held-out rows better than that.
    """

    def __init__(
        self,
        *,
        physics: bool = True,
        seed: int = 0,
        bounds: Any = None,
        default_dwell_h: float = DEFAULT_DWELL_H,
        calibrate: bool = True,
        prior_weight: float = 3.0,
        min_outputscale: float = 0.01,
    ) -> None:
        self.physics = physics
        self.seed = seed
        self.bounds = bounds
        self.default_dwell_h = default_dwell_h
        self.calibrate = calibrate
        self.prior_weight = prior_weight
        self.min_outputscale = min_outputscale

    @property
    def strategy(self) -> str:
        return "physics-gp" if self.physics else "gp"

    def _bounds(self) -> np.ndarray:
        return DEFAULT_BOUNDS if self.bounds is None else np.asarray(self.bounds, float)

    def encode(self, recipes: pd.DataFrame | np.ndarray) -> np.ndarray:
        """Recipes -> normalized model inputs (n, 3)."""
        return encode(recipes_frame(recipes, self.default_dwell_h), self._bounds())

    def fit(self, table: pd.DataFrame) -> Self:
        """Fit to a measurement table (may be empty; then physics-gp is its prior)."""
        torch.manual_seed(self.seed)
        clean, noise = split_noise_columns(table, self.default_dwell_h)
        self.table_ = clean
        X = self.encode(clean)
        ok = (clean["status"] == "ok").to_numpy()
        self.physics_prior_ = self._physics_prior(clean, noise) if self.physics else None
        self.process_model_ = None
        if self.physics_prior_ is not None:
            self.process_model_ = self.physics_prior_.calibrated or self.physics_prior_.literature
        self.models_: dict[str, Any] = {}
        self.targets_: dict[str, np.ndarray] = {}
        for name in OBJECTIVES:
            values = clean[name].to_numpy(dtype=float)
            rows = ok & np.isfinite(values)
            mean = floor = None
            discrepancy = 0.0
            if self.physics_prior_ is not None:
                mean = PhysicsMean(self.physics_prior_.predict(name), name, self._bounds())
                floor = self.physics_prior_.floor[name]
                discrepancy = self.physics_prior_.discrepancy.get(name, 0.0)
            if not rows.any():
                self.models_[name] = None if mean is None else prior_model(mean, X.shape[1])
                continue
            y = to_model_space(name, values[rows])
            sd = noise[name].to_numpy(float)[rows]
            yvar = _model_space_var(name, values[rows], sd) if np.isfinite(sd).all() else None
            censored = None
            if name == "ccd_ma_cm2":
                censored = clean["ccd_censored"].fillna(False).to_numpy(dtype=bool)[rows]
            self.models_[name], self.targets_[name] = fit_objective_gp(
                X[rows],
                y,
                name=name,
                mean=mean,
                yvar=yvar,
                censored=censored,
                min_outputscale=floor,
                min_noise=discrepancy,
            )
        have_all = all(m is not None for m in self.models_.values())
        self.model_ = ModelListGP(*self.models_.values()) if have_all else None
        self.X_ok_ = X[ok]
        self.X_measured_ = X
        frac = (ok.sum() + 1.0) / (len(ok) + 2.0)
        self.base_logit_ = float(np.log(frac / (1 - frac)))
        self.feasibility_ = FeasibilityClassifier().fit(X, ok, self._prior_logit(X))
        return self

    def _physics_prior(self, clean: pd.DataFrame, noise: pd.DataFrame) -> PhysicsPrior:
        from physics.process.calibration import calibrate

        def recalibrate(table: pd.DataFrame, start: Any = None) -> Any:
            # folds start from the full calibration: a loose tolerance is enough for them
            tol = 1e-10 if start is None else 1e-5
            return calibrate(table, prior_weight=self.prior_weight, start=start, tol=tol).model

        noise_var = {}
        ok = (clean["status"] == "ok").to_numpy()
        for name in OBJECTIVES:
            values = clean[name].to_numpy(float)
            sd = noise[name].to_numpy(float)
            rows = ok & np.isfinite(values) & np.isfinite(sd)
            if rows.any():
                noise_var[name] = float(np.mean(_model_space_var(name, values[rows], sd[rows])))
        return choose_physics_prior(
            clean,
            recalibrate if self.calibrate else None,
            noise_var=noise_var,
            min_floor=self.min_outputscale,
            seed=self.seed,
        )

    def _prior_logit(self, X: np.ndarray) -> np.ndarray:
        if self.process_model_ is not None:
            raw = X * (self._bounds()[1] - self._bounds()[0]) + self._bounds()[0]
            p_crack = np.asarray(
                self.process_model_.predict(raw[:, 0], raw[:, 1], raw[:, 2])["p_crack"]
            )
            p_ok = np.clip(1.0 - p_crack, 1e-6, 1 - 1e-6)
            return np.clip(np.log(p_ok) - np.log1p(-p_ok), -_LOGIT_CLIP, _LOGIT_CLIP)
        return np.full(len(X), self.base_logit_)

    def p_feasible(self, Xn: np.ndarray) -> np.ndarray:
        """Probability of feasibility at normalized recipes (n, 3)."""
        self._check_fitted()
        return self.feasibility_.predict_proba(Xn, self._prior_logit(Xn))

    def _check_fitted(self) -> None:
        if not hasattr(self, "models_"):
            raise ModelError(f"{self.strategy} surrogate: call fit(table) before predict")

    def predict(self, recipes: pd.DataFrame | np.ndarray) -> Prediction:
        """Posterior at recipes: property-space mean/sd, model-space latent and noise sd."""
        self._check_fitted()
        frame = recipes_frame(recipes, self.default_dwell_h)
        Xn = self.encode(frame)
        Xt = torch.as_tensor(Xn, dtype=DTYPE)
        out: dict[str, dict[str, np.ndarray]] = {k: {} for k in ("m", "s", "lm", "ls", "ns")}
        for name in OBJECTIVES:
            model = self.models_[name]
            if model is None:
                nan = np.full(len(frame), np.nan)
                lm = ls = ns = nan
            else:
                # a batch of n one-point posteriors: marginals only, no n x n covariance
                with torch.no_grad():
                    post = model.posterior(Xt.unsqueeze(-2))
                    obs = model.posterior(Xt.unsqueeze(-2), observation_noise=True)
                lm = post.mean.reshape(-1).detach().numpy()
                var = post.variance.reshape(-1).clamp_min(0).detach().numpy()
                ls = np.sqrt(var)
                ns = np.sqrt(np.clip(obs.variance.reshape(-1).detach().numpy() - var, 0, None))
            out["m"][name], out["s"][name] = backtransform(name, lm, ls)
            out["lm"][name], out["ls"][name], out["ns"][name] = lm, ls, ns
        return Prediction(
            frame, out["m"], out["s"], self.p_feasible(Xn), out["lm"], out["ls"], out["ns"]
        )


def _model_space_var(name: str, value: np.ndarray, sd: np.ndarray) -> np.ndarray:
    """Delta-method variance in model space of a property measured with sd ``sd``."""
    value = np.asarray(value, float)
    if name == "electronic_fraction":
        slope = 1.0 / np.clip(value * (1 - value), 1e-9, None)
    else:
        slope = 1.0 / np.clip(value, 1e-9, None)
    return np.clip((sd * slope) ** 2, 1e-6, None)


class SobolSurrogate:
    """No model: space filling. ``predict`` returns NaN; the design layer draws Sobol points."""

    strategy = "sobol"

    def __init__(
        self, *, seed: int = 0, default_dwell_h: float = DEFAULT_DWELL_H, **_: Any
    ) -> None:
        self.seed = seed
        self.default_dwell_h = default_dwell_h

    def fit(self, table: pd.DataFrame) -> Self:
        """Validate and keep the table."""
        self.table_, _ = split_noise_columns(table, self.default_dwell_h)
        return self

    def predict(self, recipes: pd.DataFrame | np.ndarray) -> Prediction:
        """NaN predictions (no model)."""
        if not hasattr(self, "table_"):
            raise ModelError("sobol surrogate: call fit(table) before predict")
        frame = recipes_frame(recipes, self.default_dwell_h)
        nan = {name: np.full(len(frame), np.nan) for name in OBJECTIVES}
        return Prediction(frame, nan, dict(nan), np.full(len(frame), np.nan))


def make_surrogate(strategy: str, *, seed: int = 0, **kw: Any) -> Surrogate:
    """A surrogate by strategy name (one of :data:`STRATEGIES`).

    Raises:
        ConfigError: unknown strategy (the message lists the valid ones).
    """
    if strategy == "physics-gp":
        return GPSurrogate(physics=True, seed=seed, **kw)
    if strategy == "gp":
        return GPSurrogate(physics=False, seed=seed, **kw)
    if strategy == "sobol":
        return SobolSurrogate(seed=seed, **kw)
    raise ConfigError(f"unknown strategy {strategy!r}; valid strategies: {', '.join(STRATEGIES)}")

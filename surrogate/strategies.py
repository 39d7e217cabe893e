"""The surrogate strategies behind one interface: ``physics-gp``, ``gp`` and ``sobol``.

``physics-gp``: per objective in model space (log sigma, log CCD, logit t_e), two GPs on
the same rows, stacked by how well each predicts left-out rows (:mod:`surrogate.stacking`):

- the physics GP: the literature process model linearized in all its parameters
  (Kennedy-O'Hagan: parameter uncertainty plus a discrepancy GP,
  :mod:`surrogate.physics_kernel`), linearized once more at the parameters' posterior
  mean, hyperparameters by maximum a posteriori;
- the data-only GP (:func:`surrogate.gp_models.plain_gp`).

The weight of the physics and why is in ``physics_prior_`` and ``trust_summary()``. Both
GPs are widened for small samples (:func:`surrogate.gp_models.inflate`). Known per-point
noise is used when the optional ``<objective>_sd`` columns are given; censored CCDs are
imputed (:func:`surrogate.gp_models.fit_objective_gp`). Feasibility: a Laplace GP
classifier around the literature model's ``logit(1 - p_crack)``.

``gp``: the data-only GP alone (BoTorch's default recipe with a Matern-5/2 kernel on the
active inputs, widened for small samples); the feasibility classifier's prior is the
observed feasible fraction.

``sobol``: no model; ``predict`` returns NaN (and p_feasible NaN); the design layer draws
scrambled Sobol points on the grid.
"""

from __future__ import annotations

from typing import Any, Self

import numpy as np
import pandas as pd
import torch
from botorch.models.model import ModelList

from physics.errors import ConfigError
from physics.process.model import ProcessModel, ProcessParameters
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
from surrogate.gp_models import (
    DTYPE,
    fit,
    fit_objective_gp,
    inflate,
    loo,
    physics_gp,
    plain_gp,
    representer_weights,
    small_sample_factor,
)
from surrogate.physics_kernel import LinearizedPhysics, PhysicsFeatureKernel, relinearized
from surrogate.posterior import ObjectivesModel
from surrogate.stacking import StackedGP, stacking_weight
from surrogate.trust import ObjectiveTrust, PhysicsTrust

__all__ = ["GPSurrogate", "SobolSurrogate", "make_surrogate"]

_LOGIT_CLIP = 6.0


class GPSurrogate:
    """A GP surrogate per objective, with (``physics=True``) or without the physics.

    Args:
        physics: stack a physics GP with the data-only GP (physics-gp) or not (gp).
        seed: torch seed for the hyperparameter fits.
        bounds: (2, 3) recipe bounds for normalization (a RecipeSpace's ``bounds``).
        default_dwell_h: dwell used where a recipe has none.
        recenter: after the Gauss-Newton step, centre the parameter prior on the step's
            result (empirical Bayes, uses the data twice) instead of keeping it on the
            literature values (default; measured: a little less accurate on the
            process-model worlds, better calibrated on the mechanistic ones).
    """

    def __init__(
        self,
        *,
        physics: bool = True,
        seed: int = 0,
        bounds: Any = None,
        default_dwell_h: float = DEFAULT_DWELL_H,
        recenter: bool = False,
    ) -> None:
        self.physics = physics
        self.seed = seed
        self.bounds = bounds
        self.default_dwell_h = default_dwell_h
        self.recenter = recenter

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
        self.process_model_ = ProcessModel() if self.physics else None
        self.physics_prior_ = PhysicsTrust() if self.physics else None
        self.models_: dict[str, Any] = {}
        self.targets_: dict[str, np.ndarray] = {}
        self.fit_notes_: dict[str, str] = {}
        for name in OBJECTIVES:
            values = clean[name].to_numpy(dtype=float)
            rows = ok & np.isfinite(values)
            if not rows.any():
                self.models_[name] = self._prior_model(name, X.shape[1]) if self.physics else None
                if self.physics_prior_ is not None:
                    self.physics_prior_.objectives[name] = ObjectiveTrust(name, 1.0, 0)
                continue
            y = to_model_space(name, values[rows])
            sd = noise[name].to_numpy(float)[rows]
            yvar = _model_space_var(name, values[rows], sd) if np.isfinite(sd).all() else None
            censored = None
            if name == "ccd_ma_cm2":
                censored = clean["ccd_censored"].fillna(False).to_numpy(dtype=bool)[rows]
            plain, self.targets_[name] = fit_objective_gp(
                X[rows], y, plain_gp, yvar=yvar, censored=censored
            )
            self._note(name, "data-only GP", plain)
            factor = small_sample_factor(int(rows.sum()))
            if not self.physics:
                self.models_[name] = inflate(plain, factor)
                continue
            phys, trust = self._fit_physics(name, X[rows], y, yvar, censored, plain)
            self._note(name, "physics GP", phys)
            self.models_[name] = StackedGP(
                inflate(phys, factor), inflate(plain, factor), trust.weight
            )
            if self.physics_prior_ is not None:
                self.physics_prior_.objectives[name] = trust
        have_all = all(m is not None for m in self.models_.values())
        self.model_ = ModelList(*self.models_.values()) if have_all else None
        self.X_ok_ = X[ok]
        self.X_measured_ = X
        frac = (ok.sum() + 1.0) / (len(ok) + 2.0)
        self.base_logit_ = float(np.log(frac / (1 - frac)))
        self.feasibility_ = FeasibilityClassifier().fit(X, ok, self._prior_logit(X))
        return self

    def _note(self, name: str, which: str, model: Any) -> None:
        """Record a fitting problem of one objective's model in ``fit_notes_``."""
        note = getattr(model, "fit_note", None)
        if note:
            prev = self.fit_notes_.get(name)
            text = f"{which}: {note}"
            self.fit_notes_[name] = f"{prev}; {text}" if prev else text

    def _fit_physics(
        self,
        name: str,
        X: np.ndarray,
        y: np.ndarray,
        yvar: np.ndarray | None,
        censored: np.ndarray | None,
        plain: Any,
    ) -> tuple[Any, ObjectiveTrust]:
        """Physics GP of one objective (one Gauss-Newton step) and its stacking weight."""
        lin = LinearizedPhysics(ProcessParameters(), name, self._bounds())
        phys, targets = fit_objective_gp(
            X,
            y,
            lambda Xt, Yt, V: physics_gp(Xt, Yt, V, lin),
            yvar=yvar,
            censored=censored,
            prior_mean=lin.mean,
        )
        kernel = _feature_kernel(phys)
        lin = relinearized(lin, kernel, X, representer_weights(phys), self.recenter)
        Xt = torch.as_tensor(X, dtype=DTYPE)
        Yt = torch.as_tensor(targets[:, None], dtype=DTYPE)
        Vt = None if yvar is None else torch.as_tensor(yvar, dtype=DTYPE).reshape(-1, 1)
        phys = fit(physics_gp(Xt, Yt, Vt, lin), phys.state_dict())
        stack = stacking_weight(loo(phys), loo(plain))
        shift = lin.z_star - lin.to_z(ProcessParameters())
        top = np.argsort(-np.abs(shift))[:3]
        lit = lin.from_z(lin.to_z(ProcessParameters()))
        moved = [
            (lin.names[j], float(lit[j]), float(lin.from_z(lin.z_star)[j]))
            for j in top
            if abs(shift[j]) > 0.02
        ]
        trust = ObjectiveTrust(
            name,
            stack.weight,
            len(y),
            stack.n_rows,
            stack.rmse_physics,
            stack.rmse_plain,
            float(_feature_kernel(phys).scale.detach().sqrt()),
            moved,
        )
        return phys, trust

    def _prior_model(self, name: str, d: int) -> StackedGP:
        """physics-gp without data: the literature model with its parameter uncertainty."""
        lin = LinearizedPhysics(ProcessParameters(), name, self._bounds())
        X = torch.full((1, d), 0.5, dtype=DTYPE)
        y = torch.as_tensor(lin.mean(X.numpy()), dtype=DTYPE).reshape(1, 1)
        model = physics_gp(X, y, torch.full((1, 1), 1e6, dtype=DTYPE), lin)
        model.eval()
        return StackedGP(model, model, 1.0)

    def trust_summary(self) -> dict[str, Any]:
        """How much weight the physics carries for each objective, and why.

        Returns:
            ``{"lines": {objective: paragraph}, "numbers": {objective: figures}}``; both
            empty for the ``gp`` strategy.

        Raises:
            ModelError: called before ``fit``.
        """
        self._check_fitted()
        if self.physics_prior_ is None:
            return {"lines": {}, "numbers": {}}
        return {"lines": self.physics_prior_.lines(), "numbers": self.physics_prior_.numbers()}

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

    def posterior_model(self) -> Any:
        """The objectives' posterior as one BoTorch model (:class:`ObjectivesModel`), or None.

        None when an objective has no model (the gp strategy before any ok row).

        Raises:
            ModelError: called before ``fit``.
        """
        self._check_fitted()
        if any(self.models_.get(n) is None for n in OBJECTIVES):
            return None
        return ObjectivesModel([self.models_[n] for n in OBJECTIVES])

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


def _feature_kernel(model: Any) -> PhysicsFeatureKernel:
    for kernel in getattr(model.covar_module, "kernels", []):
        if isinstance(kernel, PhysicsFeatureKernel):
            return kernel
    raise ModelError("physics GP without a parameter kernel")


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

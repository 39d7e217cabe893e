"""The Gaussian processes: a physics mean for SingleTaskGP, builders, fitting with censoring.

physics-gp: ``SingleTaskGP(mean_module=PhysicsMean(...), outcome_transform=None)`` per
objective. The GP works on normalized recipes (no input transform: the mean de-normalizes
them itself) and on the model-space objective (no outcome transform: the mean returns
model-space values), so the prior is ``f(x) = physics(x) + residual GP`` and every BoTorch
acquisition function sees a proper posterior.

gp baseline: ``SingleTaskGP`` with BoTorch's default priors, kernel and ``Standardize``.

Censored CCD (``ccd_censored`` true: the cell survived, the CCD is at least the last step).
We use one EM-like imputation step: fit the GP on the exact values only (or the prior when
there are none), compute the predictive ``N(mu, s^2)`` at each censored recipe, replace the
bound ``b`` by the mean of the normal truncated to ``y > b``,
``mu + s * phi(a) / (1 - Phi(a))`` with ``a = (b - mu) / s`` (never below ``b``), and refit
on everything. A censored value thus counts as "at least this, probably more", never as an
exact (too low) value.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

import numpy as np
import torch
from botorch.exceptions.errors import ModelFittingError
from botorch.exceptions.warnings import InputDataWarning, OptimizationWarning
from botorch.fit import fit_gpytorch_mll
from botorch.models import SingleTaskGP
from gpytorch.constraints import GreaterThan
from gpytorch.kernels import MaternKernel, ScaleKernel
from gpytorch.likelihoods import GaussianLikelihood
from gpytorch.means import Mean
from gpytorch.mlls import ExactMarginalLogLikelihood
from gpytorch.priors import GammaPrior, LogNormalPrior
from scipy.stats import norm

from surrogate.base import to_model_space

__all__ = ["DTYPE", "PhysicsMean", "fit_objective_gp", "prior_model", "truncated_normal_mean"]

DTYPE = torch.double
#: Gamma(concentration, rate) prior of the residual lengthscales (unit-cube inputs).
_LS_PRIOR = (3.0, 6.0)


class PhysicsMean(Mean):
    """GPyTorch mean: model-space value of one objective of a process model.

    Args:
        predict: ``(x, T, dwell) -> dict`` of torch tensors (the process model's ``predict``).
        name: the objective (a key of the dict).
        bounds: (2, 3) recipe bounds used to de-normalize the unit-cube inputs.
    """

    def __init__(self, predict: Callable[..., dict], name: str, bounds: np.ndarray) -> None:
        super().__init__()
        self._predict = predict
        self._name = name
        b = torch.as_tensor(np.asarray(bounds, float), dtype=DTYPE)
        self.register_buffer("lower", b[0])
        self.register_buffer("width", torch.where(b[1] > b[0], b[1] - b[0], torch.ones_like(b[0])))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        raw = x * self.width.to(x) + self.lower.to(x)
        flat = raw.reshape(-1, raw.shape[-1])
        out = self._predict(flat[:, 0], flat[:, 1], flat[:, 2])[self._name]
        return to_model_space(self._name, out).reshape(raw.shape[:-1]).to(x)


def _physics_gp(
    X: torch.Tensor,
    Y: torch.Tensor,
    Yvar: torch.Tensor | None,
    mean: Mean,
    min_outputscale: float | None = None,
    min_noise: float = 0.0,
) -> SingleTaskGP:
    d = X.shape[-1]
    floor = 1e-4 if min_outputscale is None else float(min_outputscale)
    covar = ScaleKernel(
        MaternKernel(nu=2.5, ard_num_dims=d, lengthscale_prior=GammaPrior(*_LS_PRIOR)),
        outputscale_prior=GammaPrior(2.0, 10.0),
        outputscale_constraint=GreaterThan(floor),
    )
    covar.outputscale = max(0.1, 2 * floor)
    covar.base_kernel.lengthscale = 0.4
    likelihood = None
    if Yvar is None:
        likelihood = GaussianLikelihood(
            noise_prior=LogNormalPrior(np.log(5e-3), 1.0),
            noise_constraint=GreaterThan(max(1e-6, min_noise)),
        )
        likelihood.noise = max(5e-3, 2 * min_noise)
    elif min_noise > 0:
        Yvar = Yvar + min_noise
    return SingleTaskGP(
        X,
        Y,
        train_Yvar=Yvar,
        likelihood=likelihood,
        covar_module=covar,
        mean_module=mean,
        outcome_transform=None,
    )


def _plain_gp(X: torch.Tensor, Y: torch.Tensor, Yvar: torch.Tensor | None) -> SingleTaskGP:
    return SingleTaskGP(X, Y, train_Yvar=Yvar)


def _build_and_fit(X, Y, Yvar, mean, state=None, floor=None, min_noise=0.0) -> SingleTaskGP:
    with warnings.catch_warnings():
        # inputs are already in the unit cube; constant or tiny outcome sets are legitimate
        warnings.simplefilter("ignore", InputDataWarning)
        warnings.simplefilter("ignore", OptimizationWarning)
        return _build_and_fit_quiet(X, Y, Yvar, mean, state, floor, min_noise)


def _build_and_fit_quiet(X, Y, Yvar, mean, state=None, floor=None, min_noise=0.0) -> SingleTaskGP:
    if mean is None:
        model = _plain_gp(X, Y, Yvar)
    else:
        model = _physics_gp(X, Y, Yvar, mean, floor, min_noise)
    if state is not None:
        try:
            model.load_state_dict(state, strict=False)
        except RuntimeError:
            pass
    mll = ExactMarginalLogLikelihood(model.likelihood, model)
    try:
        fit_gpytorch_mll(mll, optimizer_kwargs={"options": {"maxiter": 200}})
    except ModelFittingError:  # keep the prior hyperparameters if every attempt fails
        pass
    model.eval()
    return model


def truncated_normal_mean(bound: np.ndarray, mu: np.ndarray, sd: np.ndarray) -> np.ndarray:
    """``E[y | y > bound]`` for ``y ~ N(mu, sd^2)`` (never below ``bound``)."""
    a = (bound - mu) / sd
    lam = np.exp(norm.logpdf(a) - norm.logsf(a))
    return np.maximum(mu + sd * lam, bound)


def fit_objective_gp(
    X: np.ndarray,
    y: np.ndarray,
    *,
    name: str,
    mean: Mean | None,
    yvar: np.ndarray | None = None,
    censored: np.ndarray | None = None,
    min_outputscale: float | None = None,
    min_noise: float = 0.0,
) -> tuple[SingleTaskGP, np.ndarray]:
    """Fit one objective's GP in model space; handle censored (lower-bound) values.

    Args:
        X: (n, d) normalized recipes, n >= 1.
        y: (n,) model-space values (for censored rows: the bound).
        name: objective name (only for the censored-CCD imputation of the prior).
        mean: the physics mean, or None for the plain BoTorch GP.
        yvar: (n,) known noise variances in model space, or None (learned noise).
        censored: (n,) bool, True where ``y`` is a lower bound.
        min_outputscale: floor of the residual kernel's variance (physics mean only).
        min_noise: model discrepancy (physics mean only): a variance added to the known
            noise, or the floor of the learned noise, so the GP does not take rows the
            re-calibrated mean was fitted to as exact.

    Returns:
        The fitted model (eval mode) and the targets it was trained on (imputed).
    """
    del name
    Xt = torch.as_tensor(X, dtype=DTYPE)
    Yvar = None if yvar is None else torch.as_tensor(yvar, dtype=DTYPE).reshape(-1, 1)
    y = np.asarray(y, dtype=float).copy()
    cens = np.zeros(len(y), bool) if censored is None else np.asarray(censored, bool)
    state = None
    if cens.any():
        exact = ~cens
        if exact.any():
            first = _build_and_fit(
                Xt[exact],
                torch.as_tensor(y[exact, None], dtype=DTYPE),
                None if Yvar is None else Yvar[exact],
                mean,
                floor=min_outputscale,
                min_noise=min_noise,
            )
            with torch.no_grad():
                post = first.posterior(Xt[cens], observation_noise=True)
            mu = post.mean.squeeze(-1).numpy()
            sd = post.variance.clamp_min(1e-12).sqrt().squeeze(-1).numpy()
            state = first.state_dict()
        elif mean is not None:
            with torch.no_grad():
                mu = mean(Xt[cens]).numpy()
            sd = np.full(len(mu), 0.5)
        else:
            mu, sd = y[cens], np.full(cens.sum(), 0.5)
        y[cens] = truncated_normal_mean(y[cens], mu, sd)
    model = _build_and_fit(
        Xt,
        torch.as_tensor(y[:, None], dtype=DTYPE),
        Yvar,
        mean,
        state,
        floor=min_outputscale,
        min_noise=min_noise,
    )
    return model, y


def prior_model(mean: Mean, d: int) -> SingleTaskGP:
    """The physics-gp prior without data: one pseudo-point with a huge noise variance.

    Its posterior is the prior, ``physics(x) + GP(0, k)``, to within 1e-6.
    """
    X = torch.full((1, d), 0.5, dtype=DTYPE)
    with torch.no_grad():
        y = mean(X).reshape(1, 1)
    model = _physics_gp(X, y, torch.full((1, 1), 1e6, dtype=DTYPE), mean)
    model.eval()
    return model

"""The Gaussian processes of one objective: builders, fitting with censoring, LOO, inflation.

Both GPs are BoTorch ``SingleTaskGP`` on recipes normalized to the unit cube and on the
objective in model space.

- **plain** (:func:`plain_gp`, the ``gp`` strategy and the data-only half of
  ``physics-gp``): BoTorch's default recipe, i.e. constant mean, ``Standardize`` outcome,
  the dimension-scaled lengthscale prior of Hvarfner et al. (2024) and a
  ``LogNormal(-4, 1)`` noise prior, with two changes measured to help
  (``benchmarks/bench_accuracy.py``): a Matern-5/2 kernel instead of the RBF, and only the
  *active* input dimensions in the kernel (x and T always, dwell only when the data vary
  it): a constant input column used to count in the prior's dimension and so pushed it
  to longer lengthscales.
- **physics** (:func:`physics_gp`): mean ``c + phys(x; z*) + J(x)(z_lit - z*)`` and kernel
  ``lambda^2 s^2 J(x).J(x') + v_r Matern52(x, x')`` of :mod:`surrogate.physics_kernel`.
  The residual variance ``v_r`` is fixed to the variance of the data around the literature
  model (what ``Standardize`` does for the plain GP; :data:`DEFAULT_RESIDUAL_SD` when
  there are fewer than 2 rows), its lengthscales get the same dimension-scaled prior,
  ``lambda^2`` a ``LogNormal(0, 1)`` prior, and the noise a ``LogNormal`` prior around a
  typical measurement scatter (:data:`NOISE_SD`; without it the ~40 parameter directions
  would absorb the noise).

Censored CCD (``ccd_censored``: the cell survived, the CCD is at least the last step):
one EM-like imputation step. Fit on the exact values only (or use the prior mean when
there are none), take the predictive ``N(mu, s^2)`` at each censored recipe, replace the
bound ``b`` by ``E[y | y > b] = mu + s phi(a) / (1 - Phi(a))``, ``a = (b - mu) / s`` (never
below ``b``), and refit on everything.

Small samples: the signal variance of both GPs is estimated from the same few rows it is
then used to predict, which makes intervals too narrow. :func:`inflate` scales the prior
covariance and the noise by ``(t_{0.975, n-1} / z_{0.975})^2``, the Student-t correction
for a variance estimated from ``n`` rows (posterior mean unchanged, posterior covariance
scaled by the same factor).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from math import log

import numpy as np
import torch
from botorch.exceptions.errors import ModelFittingError
from botorch.exceptions.warnings import InputDataWarning, OptimizationWarning
from botorch.fit import fit_gpytorch_mll
from botorch.models import SingleTaskGP
from botorch.models.utils.gpytorch_modules import get_covar_module_with_dim_scaled_prior
from gpytorch.constraints import GreaterThan
from gpytorch.kernels import ScaleKernel
from gpytorch.likelihoods import GaussianLikelihood
from gpytorch.mlls import ExactMarginalLogLikelihood
from gpytorch.priors import LogNormalPrior
from scipy.stats import norm
from scipy.stats import t as student_t

from surrogate.physics_kernel import LinearizedPhysics, PhysicsFeatureKernel, PhysicsFeatureMean

__all__ = [
    "DEFAULT_RESIDUAL_SD",
    "DTYPE",
    "NOISE_SD",
    "active_dims",
    "fit",
    "fit_objective_gp",
    "inflate",
    "loo",
    "physics_gp",
    "plain_gp",
    "representer_weights",
    "small_sample_factor",
    "truncated_normal_mean",
]

DTYPE = torch.double
#: Centre of the noise prior of the physics GP: measurement sd in model space.
NOISE_SD: dict[str, float] = {
    "sigma_total_ms_cm": 0.05,
    "ccd_ma_cm2": 0.1,
    "electronic_fraction": 0.1,
}
#: Residual sd of the physics GP around the literature model when it cannot be estimated.
DEFAULT_RESIDUAL_SD = 0.5
_Z975 = float(norm.ppf(0.975))

Builder = Callable[[torch.Tensor, torch.Tensor, torch.Tensor | None], SingleTaskGP]


def active_dims(X: np.ndarray) -> list[int]:
    """Kernel input dimensions: x and T always, any further one only if the data vary it."""
    X = np.atleast_2d(np.asarray(X, float))
    spread = np.ptp(X, axis=0) > 0 if len(X) else np.zeros(X.shape[1], bool)
    return [j for j in range(X.shape[1]) if j < 2 or spread[j]]


def _matern(dims: list[int]) -> ScaleKernel:
    base = get_covar_module_with_dim_scaled_prior(
        ard_num_dims=len(dims), active_dims=dims, use_rbf_kernel=False
    )
    return ScaleKernel(base)


def plain_gp(X: torch.Tensor, Y: torch.Tensor, Yvar: torch.Tensor | None) -> SingleTaskGP:
    """The data-only GP (unfitted): BoTorch defaults, Matern-5/2 on the active dimensions."""
    covar = _matern(active_dims(X.numpy()))
    covar.outputscale = 1.0  # Standardize sets the scale; kept as a parameter for inflate()
    covar.raw_outputscale.requires_grad_(False)
    return SingleTaskGP(X, Y, train_Yvar=Yvar, covar_module=covar)


def physics_gp(
    X: torch.Tensor, Y: torch.Tensor, Yvar: torch.Tensor | None, lin: LinearizedPhysics
) -> SingleTaskGP:
    """The physics GP (unfitted) of objective ``lin.name`` on normalized recipes ``X``."""
    resid = Y.reshape(-1).numpy() - lin.mean(X.numpy()) if len(X) else np.zeros(0)
    sd = float(np.std(resid)) if len(resid) >= 2 else DEFAULT_RESIDUAL_SD
    sd = max(sd, 1e-3)
    offset = float(np.mean(resid)) if len(resid) else 0.0
    residual = _matern(active_dims(X.numpy()))
    residual.outputscale = sd**2
    residual.raw_outputscale.requires_grad_(False)
    params = PhysicsFeatureKernel(lin, scale_prior=LogNormalPrior(0.0, 1.0))
    params.set_scale(1.0)
    likelihood = None
    if Yvar is None:
        noise = NOISE_SD[lin.name] ** 2
        likelihood = GaussianLikelihood(
            noise_prior=LogNormalPrior(log(noise), 0.5), noise_constraint=GreaterThan(1e-6)
        )
        likelihood.noise = noise
    return SingleTaskGP(
        X,
        Y,
        train_Yvar=Yvar,
        likelihood=likelihood,
        covar_module=residual + params,
        mean_module=PhysicsFeatureMean(lin, offset),
        outcome_transform=None,
    )


def fit(model: SingleTaskGP, state: dict | None = None) -> SingleTaskGP:
    """Maximum a posteriori hyperparameters (from ``state`` when given); eval mode.

    Neither a warm start that does not fit the model nor an optimizer that fails on every
    attempt stops the fit; each is recorded in ``model.fit_note`` (one sentence, ``None``
    when all went well) so the surrogate can say so in its predictions' record.
    """
    notes: list[str] = []
    if state is not None:
        try:
            model.load_state_dict(state, strict=False)
        except RuntimeError as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            notes.append(f"warm start from the previous hyperparameters failed ({first})")
    with warnings.catch_warnings():
        # inputs are already in the unit cube; constant or tiny outcome sets are legitimate
        warnings.simplefilter("ignore", InputDataWarning)
        warnings.simplefilter("ignore", OptimizationWarning)
        try:
            mll = ExactMarginalLogLikelihood(model.likelihood, model)
            fit_gpytorch_mll(mll, optimizer_kwargs={"options": {"maxiter": 200}})
        except ModelFittingError:  # keep the prior hyperparameters if every attempt fails
            notes.append(
                "hyperparameter fitting failed on every attempt; the prior hyperparameters "
                "were kept"
            )
    model.fit_note = "; ".join(notes) or None
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
    build: Builder,
    *,
    yvar: np.ndarray | None = None,
    censored: np.ndarray | None = None,
    prior_mean: Callable[[np.ndarray], np.ndarray] | None = None,
) -> tuple[SingleTaskGP, np.ndarray]:
    """Fit one objective's GP in model space; impute censored (lower-bound) values.

    Args:
        X: (n, d) normalized recipes, n >= 1.
        y: (n,) model-space values (for censored rows: the bound).
        build: ``(X, Y, Yvar) -> SingleTaskGP``, unfitted (:func:`plain_gp`, a physics GP).
        yvar: (n,) known noise variances in model space, or None (learned noise).
        censored: (n,) bool, True where ``y`` is a lower bound.
        prior_mean: model-space prior mean at normalized recipes, used when every row
            is censored (default: the bound itself).

    Returns:
        The fitted model (eval mode) and the targets it was trained on (imputed).
    """
    Xt = torch.as_tensor(X, dtype=DTYPE)
    Yvar = None if yvar is None else torch.as_tensor(yvar, dtype=DTYPE).reshape(-1, 1)
    y = np.asarray(y, dtype=float).copy()
    cens = np.zeros(len(y), bool) if censored is None else np.asarray(censored, bool)
    state = None
    if cens.any():
        exact = ~cens
        if exact.any():
            Y0 = torch.as_tensor(y[exact, None], dtype=DTYPE)
            first = fit(build(Xt[exact], Y0, None if Yvar is None else Yvar[exact]))
            with torch.no_grad():
                post = first.posterior(Xt[cens], observation_noise=True)
            mu = post.mean.reshape(-1).numpy()
            sd = post.variance.clamp_min(1e-12).sqrt().reshape(-1).numpy()
            state = first.state_dict()
        else:
            mu = y[cens] if prior_mean is None else prior_mean(X[cens])
            sd = np.full(int(cens.sum()), 0.5)
        y[cens] = truncated_normal_mean(y[cens], mu, sd)
    model = fit(build(Xt, torch.as_tensor(y[:, None], dtype=DTYPE), Yvar), state)
    return model, y


def loo(model: SingleTaskGP) -> tuple[np.ndarray, np.ndarray]:
    """Closed-form leave-one-out residuals and predictive variances (model space).

    For ``K = k(X, X) + noise``, ``a = K^-1 (y - m(X))``: residual ``y_i - mu_-i =
    a_i / [K^-1]_ii``, variance ``1 / [K^-1]_ii`` (hyperparameters fixed; Rasmussen &
    Williams eq. 5.12). Undoes ``Standardize``.
    """
    X = model.train_inputs[0]
    y = model.train_targets
    with torch.no_grad():
        noise = model.likelihood.noise.reshape(-1).expand(len(y))
        K = model.covar_module(X, X).to_dense() + torch.diag_embed(noise)
        K = K + 1e-9 * K.diagonal().mean() * torch.eye(len(y), dtype=K.dtype)
        K_inv = torch.cholesky_inverse(torch.linalg.cholesky(K))
        a = K_inv @ (y - model.mean_module(X))
        d = K_inv.diagonal()
    tf = getattr(model, "outcome_transform", None)
    scale = float(tf.stdvs.reshape(-1)[0]) if tf is not None else 1.0
    return (a / d).numpy() * scale, (1.0 / d).numpy() * scale**2


def small_sample_factor(n: int) -> float:
    """``t_{0.975, n-1} / z_{0.975}`` (at least 1 dof): how much wider a 95 % interval is."""
    return float(student_t.ppf(0.975, max(int(n) - 1, 1))) / _Z975


def inflate(model: SingleTaskGP, factor: float) -> SingleTaskGP:
    """Scale every kernel term and the noise by ``factor^2`` (mean unchanged, cov x factor^2)."""
    f2 = float(factor) ** 2
    kernels = getattr(model.covar_module, "kernels", [model.covar_module])
    with torch.no_grad():
        for kernel in kernels:
            if isinstance(kernel, ScaleKernel):
                kernel.outputscale = kernel.outputscale * f2
            elif isinstance(kernel, PhysicsFeatureKernel):
                kernel.set_scale(kernel.scale * f2)
        model.likelihood.noise = model.likelihood.noise * f2
    model.train()  # drop the cached prediction strategy
    model.eval()
    return model


def representer_weights(model: SingleTaskGP) -> np.ndarray:
    """``K^-1 (y - m(X))`` of a fitted GP without outcome transform (n,)."""
    X = model.train_inputs[0]
    y = model.train_targets
    with torch.no_grad():
        noise = model.likelihood.noise.reshape(-1).expand(len(y))
        K = model.covar_module(X, X).to_dense() + torch.diag_embed(noise)
        K = K + 1e-9 * K.diagonal().mean() * torch.eye(len(y), dtype=K.dtype)
        L = torch.linalg.cholesky(K)
        a = torch.cholesky_solve((y - model.mean_module(X)).unsqueeze(-1), L)
    return a.squeeze(-1).numpy()

"""How far to trust the physics: stacking the physics GP with a data-only GP.

Per objective, physics-gp fits two GPs on the same rows: the physics GP
(:func:`surrogate.gp_models.physics_gp`) and the data-only GP
(:func:`surrogate.gp_models.plain_gp`). Their leave-one-out predictive densities
``p1_i``, ``p0_i`` (closed form for exact GPs) choose the weight of the physics GP,

    w = argmax_w  sum_i log(w p1_i + (1 - w) p0_i) + log Beta(w; 2, 1),

Bayesian stacking (Yao et al. 2018) with a prior that leans towards the physics
(:data:`WEIGHT_PRIOR`, mode w = 1): with fewer than :data:`MIN_LOO_ROWS` rows the weight
is that mode, 1. A world where the physics predicts left-out rows worse than the plain
GP pulls ``w`` towards 0; one where it predicts them better keeps it near 1.

The surrogate is the moment-matched mixture, itself a Gaussian process
(:class:`StackedGP`, a BoTorch ``Model`` whose ``posterior`` gives joint samples): with
``m_k``, ``C_k`` the posterior mean and covariance of each GP and ``d = m_1 - m_0``,

    mean  M(x) = w m_1(x) + (1 - w) m_0(x),
    cov   C(x, x') = w C_1(x, x') + (1 - w) C_0(x, x') + w (1 - w) d(x) d(x'),

the exact mean and covariance of the mixture at any finite set of recipes (the last term is
the models' disagreement: where they differ, the interval widens).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from botorch.models.model import Model
from botorch.posteriors.gpytorch import GPyTorchPosterior
from gpytorch.distributions import MultivariateNormal
from linear_operator.operators import RootLinearOperator
from scipy.stats import beta, norm

from surrogate.errors import ModelError

__all__ = ["MIN_LOO_ROWS", "WEIGHT_PRIOR", "StackedGP", "StackingWeight", "stacking_weight"]

#: Beta(a, b) prior of the physics weight.
WEIGHT_PRIOR: tuple[float, float] = (2.0, 1.0)
#: Fewer rows than this: no leave-one-out, the weight is the prior's mode.
MIN_LOO_ROWS = 3
_GRID = np.linspace(0.0, 1.0, 201)


@dataclass(frozen=True)
class StackingWeight:
    """The weight of the physics GP and the leave-one-out evidence behind it.

    Attributes:
        weight: w in [0, 1].
        n_rows: rows left out one at a time (0 when there were too few).
        rmse_physics: leave-one-out RMSE of the physics GP (model space; NaN if n_rows 0).
        rmse_plain: the same for the data-only GP.
        nlpd_physics: mean negative log predictive density of the left-out rows, physics GP.
        nlpd_plain: the same for the data-only GP.
    """

    weight: float
    n_rows: int
    rmse_physics: float = float("nan")
    rmse_plain: float = float("nan")
    nlpd_physics: float = float("nan")
    nlpd_plain: float = float("nan")


def stacking_weight(
    loo_physics: tuple[np.ndarray, np.ndarray],
    loo_plain: tuple[np.ndarray, np.ndarray],
    prior: tuple[float, float] = WEIGHT_PRIOR,
) -> StackingWeight:
    """Stacking weight of the physics GP from leave-one-out residuals and variances.

    Args:
        loo_physics: (residuals (n,), predictive variances (n,)) of the physics GP.
        loo_plain: the same for the data-only GP.
        prior: Beta(a, b) prior of the weight.
    """
    r1, v1 = (np.asarray(a, float) for a in loo_physics)
    r0, v0 = (np.asarray(a, float) for a in loo_plain)
    a, b = prior
    mode = (a - 1) / (a + b - 2) if a + b > 2 else 0.5
    n = len(r1)
    if n < MIN_LOO_ROWS:
        return StackingWeight(float(mode), 0)
    d1 = norm.logpdf(r1, scale=np.sqrt(v1))
    d0 = norm.logpdf(r0, scale=np.sqrt(v0))
    with np.errstate(divide="ignore"):
        lw, l1w = np.log(_GRID), np.log1p(-_GRID)
        score = np.logaddexp(lw[:, None] + d1, l1w[:, None] + d0).sum(1)
        score = score + beta.logpdf(_GRID, a, b)
    score = np.where(np.isfinite(score), score, -np.inf)
    w = float(_GRID[int(np.argmax(score))])
    return StackingWeight(
        w,
        n,
        float(np.sqrt(np.mean(r1**2))),
        float(np.sqrt(np.mean(r0**2))),
        float(-np.mean(d1)),
        float(-np.mean(d0)),
    )


class StackedGP(Model):
    """Moment-matched mixture ``w physics + (1 - w) plain`` of two single-output GPs.

    Args:
        physics: the fitted physics GP.
        plain: the fitted data-only GP.
        weight: ``w`` in [0, 1].
    """

    def __init__(self, physics: Model, plain: Model, weight: float) -> None:
        super().__init__()
        self.physics = physics
        self.plain = plain
        self.weight = float(weight)

    @property
    def num_outputs(self) -> int:
        return 1

    @property
    def batch_shape(self) -> torch.Size:
        return torch.Size()

    def posterior(  # type: ignore[override]
        self,
        X: torch.Tensor,
        output_indices: list[int] | None = None,
        observation_noise: bool | torch.Tensor = False,
        posterior_transform: Any = None,
        **kwargs: Any,
    ) -> GPyTorchPosterior:
        """Joint posterior at ``X`` (batch x q x d): mean and covariance of the mixture."""
        w = self.weight
        p1 = self.physics.posterior(X, observation_noise=observation_noise)
        p0 = self.plain.posterior(X, observation_noise=observation_noise)
        if not (isinstance(p1, GPyTorchPosterior) and isinstance(p0, GPyTorchPosterior)):
            raise ModelError("StackedGP needs two GPyTorch models (Gaussian posteriors)")
        m1, m0 = p1.mean.squeeze(-1), p0.mean.squeeze(-1)
        # kept lazy: a caller may need only some blocks (or the diagonal) of a large one
        c1 = p1.distribution.lazy_covariance_matrix
        c0 = p0.distribution.lazy_covariance_matrix
        if w >= 1.0:
            cov = c1
        elif w <= 0.0:
            cov = c0
        else:
            d = (m1 - m0).unsqueeze(-1)
            cov = c1 * w + c0 * (1 - w) + RootLinearOperator(d * math.sqrt(w * (1 - w)))
        mvn = MultivariateNormal(w * m1 + (1 - w) * m0, cov)
        post = GPyTorchPosterior(mvn)
        return post if posterior_transform is None else posterior_transform(post)

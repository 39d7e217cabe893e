"""Joint posterior samples of the objectives at incumbents and a finite candidate set.

For a finite candidate set (the furnace grid), the Monte Carlo acquisition functions of
BoTorch (qLogNEHVI, qLogNEI) scored one candidate at a time need the joint posterior of the
objectives at the incumbents (measured and pending recipes) and that candidate.
:class:`ConditionalSampler` draws the incumbents jointly once (quasi-random base samples)
and each candidate from its exact conditional given them,

    y_c | y_C ~ N(mu_c + S_cC S_CC^-1 (y_C - mu_C),  s_cc - S_cC S_CC^-1 S_Cc),

with a fixed standard normal per candidate (common random numbers). A recipe picked for
the batch joins the conditioning set ``C`` with the value it had in each sample, so later
candidates are scored given the pending ones, exactly as ``X_pending`` does in BoTorch.

The means and covariance blocks come from one call per objective of the surrogate's
``posterior_model().posterior(X, output_indices=[k])`` (the
:class:`surrogate.base.AcquisitionSurrogate` protocol) at incumbents and candidates
(candidates in chunks, each with the incumbents) and, for each pick, a batch of
two-point posteriors (candidate, pick): nothing of the model's internals is read, and no
n_c x n_c covariance is formed.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from botorch.sampling.qmc import NormalQMCEngine

from physics.schema import MAXIMIZE, OBJECTIVES
from surrogate.errors import ModelError
from surrogate.gp_models import DTYPE

__all__ = ["ConditionalSampler", "posterior_blocks"]

_MAX_SOBOL_DIM = 21201


def posterior_blocks(model: Any, XC: torch.Tensor, Xc: torch.Tensor) -> tuple[Any, ...]:
    """The posterior blocks the sampler needs, for each objective of ``model``.

    One ``posterior`` call per objective at incumbents and candidates together; its
    covariance is read lazily (``lazy_covariance_matrix``): the incumbents' joint block,
    the candidate-incumbent block and the candidates' variances, never the n_c x n_c
    block of the candidates.

    Args:
        model: a BoTorch model with one output per objective (model space), as returned
            by ``posterior_model()`` of an :class:`surrogate.base.AcquisitionSurrogate`.
        XC: (n_C, d) encoded incumbents.
        Xc: (n_c, d) encoded candidates.

    Returns:
        ``mu_C`` (k, n_C), ``S_CC`` (k, n_C, n_C), ``mu_c`` (k, n_c), ``S_cC`` (k, n_c, n_C),
        ``var_c`` (k, n_c), and the lazy covariances (one per objective, over
        ``[XC; Xc]``) for later columns.
    """
    n_C = len(XC)
    X = torch.cat([XC, Xc])
    out: list[list[Any]] = [[], [], [], [], [], []]
    with torch.no_grad():
        for k in range(len(OBJECTIVES)):
            post = model.posterior(X, output_indices=[k])
            lazy = post.distribution.lazy_covariance_matrix
            mean = post.mean.reshape(-1)
            out[0].append(mean[:n_C])
            out[1].append(lazy[:n_C, :n_C].to_dense())
            out[2].append(mean[n_C:])
            out[3].append(lazy[n_C:, :n_C].to_dense())
            out[4].append(lazy.diagonal(dim1=-2, dim2=-1)[n_C:])
            out[5].append(lazy)
    return (*(torch.stack(o) for o in out[:5]), out[5])


class ConditionalSampler:
    """Joint samples at incumbents; conditional samples at candidates (maximization form).

    Args:
        model: the surrogate's ``posterior_model()``: one output per objective of
            :data:`OBJECTIVES`, model space, on encoded recipes.
        X_inc: (n_i, d) encoded incumbents (measured ok and pending recipes).
        X_cand: (n_c, d) encoded candidates.
        n_samples: number of MC samples S.
        seed: seed of the quasi-random base samples.

    Attributes:
        Y_inc: (S, n_C, 3) samples at the conditioning set (grows with :meth:`add`).
        mean_c, sd_c: (n_c, 3) marginal posterior mean and sd at the candidates
            (maximization form: t_e's logit is negated).
    """

    def __init__(
        self,
        model: Any,
        X_inc: np.ndarray,
        X_cand: np.ndarray,
        n_samples: int = 128,
        seed: int = 0,
    ) -> None:
        if model is None or getattr(model, "num_outputs", None) != len(OBJECTIVES):
            raise ModelError(
                f"sampling needs a fitted posterior model with {len(OBJECTIVES)} outputs"
            )
        self.sign = torch.tensor([1.0 if MAXIMIZE[n] else -1.0 for n in OBJECTIVES], dtype=DTYPE)
        Xc = torch.as_tensor(np.asarray(X_cand, float), dtype=DTYPE)
        XC = torch.as_tensor(np.asarray(X_inc, float), dtype=DTYPE).reshape(-1, Xc.shape[-1])
        n_i, n_c, k = len(XC), len(Xc), len(OBJECTIVES)
        self.n_i0 = n_i
        self.mu_C, self.S_CC, self.mu_c, self.S_cC, var_c, self.lazy = posterior_blocks(
            model, XC, Xc
        )
        self.var_c = var_c.clamp_min(1e-12)
        dim = k * (n_i + n_c)
        if dim <= _MAX_SOBOL_DIM:
            drawn = NormalQMCEngine(d=dim, seed=seed).draw(n_samples, dtype=DTYPE)
            if drawn is None:  # draw(..., out=None) always returns the samples
                raise RuntimeError("quasi-random draw returned nothing")
            base = drawn
        else:
            base = torch.randn(
                n_samples, dim, generator=torch.Generator().manual_seed(seed), dtype=DTYPE
            )
        base = base.reshape(n_samples, k, n_i + n_c)
        self.z_c = base[:, :, n_i:]
        if n_i:
            L = torch.linalg.cholesky(self.S_CC + _jitter(self.S_CC))
            self.Y_C = self.mu_C[None] + torch.einsum("kij,skj->ski", L, base[:, :, :n_i])
        else:
            self.Y_C = torch.zeros(n_samples, k, 0, dtype=DTYPE)
        self._condition()
        self.mean_c = (self.mu_c * self.sign[:, None]).T
        self.sd_c = self.var_c.sqrt().T

    def _condition(self) -> None:
        """Cache ``A = S_cC S_CC^-1`` and the conditional sds of the candidates."""
        if self.S_CC.shape[-1] == 0:
            self.A = self.S_cC
            self.cond_sd = self.var_c.sqrt()
            return
        L = torch.linalg.cholesky(self.S_CC + _jitter(self.S_CC))
        self.A = torch.cholesky_solve(self.S_cC.transpose(-1, -2), L).transpose(-1, -2)
        reduce = (self.A * self.S_cC).sum(-1)
        self.cond_sd = (self.var_c - reduce).clamp_min(1e-12).sqrt()

    @property
    def incumbents(self) -> torch.Tensor:
        """(S, n_C, 3) samples at the conditioning set, maximization form."""
        return self.Y_C.transpose(-1, -2) * self.sign

    def candidates(self, idx: np.ndarray | slice) -> torch.Tensor:
        """(S, len(idx), 3) samples at candidates ``idx`` given the conditioning set."""
        mu = self.mu_c[:, idx]
        if self.Y_C.shape[-1]:
            mu = mu[None] + torch.einsum("kcj,skj->skc", self.A[:, idx], self.Y_C - self.mu_C[None])
        y = mu + self.cond_sd[:, idx] * self.z_c[:, :, idx]
        return y.transpose(-1, -2) * self.sign

    def add(self, i: int) -> None:
        """Condition on candidate ``i`` taking its current sampled values (a pending pick)."""
        y_i = self.candidates(np.array([i])).transpose(-1, -2) * self.sign[:, None]  # (S,k,1)
        j = self.n_i0 + i
        with torch.no_grad():  # (k, nc, 1)
            s_ci = torch.stack([c[self.n_i0 :, j : j + 1].to_dense() for c in self.lazy])
        s_Ci = self.S_cC[:, i, :, None]  # (k, nC, 1)
        s_ii = self.var_c[:, i].reshape(-1, 1, 1)  # (k, 1, 1)
        self.S_CC = torch.cat(
            [torch.cat([self.S_CC, s_Ci], -1), torch.cat([s_Ci.transpose(-1, -2), s_ii], -1)], -2
        )
        self.S_cC = torch.cat([self.S_cC, s_ci], -1)
        self.mu_C = torch.cat([self.mu_C, self.mu_c[:, i : i + 1]], -1)
        self.Y_C = torch.cat([self.Y_C, y_i], -1)
        self._condition()


def _jitter(S: torch.Tensor) -> torch.Tensor:
    n = S.shape[-1]
    scale = S.diagonal(dim1=-2, dim2=-1).mean(-1).clamp_min(1e-12)
    return 1e-8 * scale[..., None, None] * torch.eye(n, dtype=S.dtype)

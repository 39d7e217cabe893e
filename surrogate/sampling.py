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
Only the cross-covariances to ``C`` and the candidates' variances are computed: no
candidate-by-candidate covariance matrix (O(n_c n_C) instead of O(n_c^3)).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from botorch.sampling.qmc import NormalQMCEngine

from physics.schema import MAXIMIZE, OBJECTIVES
from surrogate.errors import ModelError
from surrogate.gp_models import DTYPE
from surrogate.stacking import StackedGP

__all__ = ["ConditionalSampler", "GPPosteriorParts", "MixtureParts", "posterior_parts"]

_MAX_SOBOL_DIM = 21201
_JITTER = 1e-8


class GPPosteriorParts:
    """Posterior mean and covariance blocks of one fitted SingleTaskGP (model space).

    Undoes a ``Standardize`` outcome transform when the model has one.
    """

    def __init__(self, model: Any) -> None:
        self.model = model
        X = model.train_inputs[0]
        y = model.train_targets
        noise = model.likelihood.noise.reshape(-1)
        with torch.no_grad():
            K = model.covar_module(X, X).to_dense()
            K = K + torch.diag_embed(noise.expand(X.shape[0]))
            self.L = torch.linalg.cholesky(K + _JITTER * torch.eye(len(K), dtype=K.dtype))
            resid = (y - model.mean_module(X)).unsqueeze(-1)
            self.alpha = torch.cholesky_solve(resid, self.L).squeeze(-1)
        self.X = X
        tf = getattr(model, "outcome_transform", None)
        self.shift = float(tf.means.reshape(-1)[0]) if tf is not None else 0.0
        self.scale = float(tf.stdvs.reshape(-1)[0]) if tf is not None else 1.0

    def mean(self, Xq: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            m = (
                self.model.mean_module(Xq)
                + self.model.covar_module(Xq, self.X).to_dense() @ self.alpha
            )
        return self.shift + self.scale * m

    def _v(self, Xq: torch.Tensor) -> torch.Tensor:
        k = self.model.covar_module(self.X, Xq).to_dense()
        return torch.linalg.solve_triangular(self.L, k, upper=False)

    def cov(self, A: torch.Tensor, B: torch.Tensor) -> torch.Tensor:
        """Posterior covariance block (len(A), len(B))."""
        with torch.no_grad():
            c = self.model.covar_module(A, B).to_dense() - self._v(A).T @ self._v(B)
        return self.scale**2 * c

    def var(self, A: torch.Tensor) -> torch.Tensor:
        """Posterior variances (len(A),)."""
        with torch.no_grad():
            prior = self.model.covar_module(A, A, diag=True)
            v = self._v(A)
            out = (prior - (v**2).sum(0)).clamp_min(1e-12)
        return self.scale**2 * out


class MixtureParts:
    """Posterior mean and covariance blocks of a :class:`surrogate.stacking.StackedGP`.

    ``M = w m1 + (1 - w) m0``, ``C(A, B) = w C1 + (1 - w) C0 + w (1 - w) d(A) d(B)^T``
    with ``d = m1 - m0``.
    """

    def __init__(self, model: StackedGP) -> None:
        self.w = model.weight
        self.p1 = GPPosteriorParts(model.physics)
        self.p0 = GPPosteriorParts(model.plain)
        self._means: dict[bytes, tuple[torch.Tensor, torch.Tensor]] = {}

    def _both(self, X: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(m1, m0) at X, remembered for the sampler's few input sets (candidates, incumbents)."""
        key = X.detach().contiguous().numpy().tobytes() + bytes(str(tuple(X.shape)), "ascii")
        if key not in self._means:
            if len(self._means) > 8:
                self._means.clear()
            self._means[key] = (self.p1.mean(X), self.p0.mean(X))
        return self._means[key]

    def _d(self, X: torch.Tensor) -> torch.Tensor:
        m1, m0 = self._both(X)
        return m1 - m0

    def mean(self, Xq: torch.Tensor) -> torch.Tensor:
        if self.w >= 1.0:
            return self.p1.mean(Xq)
        m1, m0 = self._both(Xq)
        return self.w * m1 + (1 - self.w) * m0

    def cov(self, A: torch.Tensor, B: torch.Tensor) -> torch.Tensor:
        """Posterior covariance block (len(A), len(B))."""
        w = self.w
        if w >= 1.0:
            return self.p1.cov(A, B)
        mix = w * self.p1.cov(A, B) + (1 - w) * self.p0.cov(A, B)
        return mix + w * (1 - w) * self._d(A)[:, None] * self._d(B)[None, :]

    def var(self, A: torch.Tensor) -> torch.Tensor:
        """Posterior variances (len(A),)."""
        w = self.w
        if w >= 1.0:
            return self.p1.var(A)
        return w * self.p1.var(A) + (1 - w) * self.p0.var(A) + w * (1 - w) * self._d(A) ** 2


def posterior_parts(model: Any) -> GPPosteriorParts | MixtureParts:
    """The posterior blocks of a fitted single-output model (SingleTaskGP or StackedGP)."""
    if isinstance(model, StackedGP):
        return MixtureParts(model)
    return GPPosteriorParts(model)


class ConditionalSampler:
    """Joint samples at incumbents; conditional samples at candidates (maximization form).

    Args:
        surrogate: a fitted GP surrogate (``models_``: objective -> SingleTaskGP).
        X_inc: (n_i, d) normalized incumbents (measured ok and pending recipes).
        X_cand: (n_c, d) normalized candidates.
        n_samples: number of MC samples S.
        seed: seed of the quasi-random base samples.

    Attributes:
        Y_inc: (S, n_C, 3) samples at the conditioning set (grows with :meth:`add`).
        mean_c, sd_c: (n_c, 3) marginal posterior mean and sd at the candidates
            (maximization form: t_e's logit is negated).
    """

    def __init__(
        self,
        surrogate: Any,
        X_inc: np.ndarray,
        X_cand: np.ndarray,
        n_samples: int = 128,
        seed: int = 0,
    ) -> None:
        models = getattr(surrogate, "models_", None)
        if not models or any(models.get(n) is None for n in OBJECTIVES):
            raise ModelError("sampling needs a fitted GP surrogate with a model per objective")
        self.parts = [posterior_parts(models[n]) for n in OBJECTIVES]
        self.sign = torch.tensor([1.0 if MAXIMIZE[n] else -1.0 for n in OBJECTIVES], dtype=DTYPE)
        self.XC = torch.as_tensor(X_inc, dtype=DTYPE).reshape(-1, X_cand.shape[-1])
        self.Xc = torch.as_tensor(X_cand, dtype=DTYPE)
        n_i, n_c, k = len(self.XC), len(self.Xc), len(OBJECTIVES)
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
        self.mu_C = torch.stack([p.mean(self.XC) for p in self.parts])  # (k, n_C)
        self.mu_c = torch.stack([p.mean(self.Xc) for p in self.parts])  # (k, n_c)
        self.var_c = torch.stack([p.var(self.Xc) for p in self.parts])
        self.S_CC = torch.stack([p.cov(self.XC, self.XC) for p in self.parts])  # (k, nC, nC)
        self.S_cC = torch.stack([p.cov(self.Xc, self.XC) for p in self.parts])  # (k, nc, nC)
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
        x_i = self.Xc[i : i + 1]
        s_ci = torch.stack([p.cov(self.Xc, x_i) for p in self.parts])  # (k, nc, 1)
        s_Ci = torch.stack([p.cov(self.XC, x_i) for p in self.parts])  # (k, nC, 1)
        s_ii = torch.stack([p.var(x_i) for p in self.parts])[..., None]  # (k, 1, 1)
        self.S_CC = torch.cat(
            [torch.cat([self.S_CC, s_Ci], -1), torch.cat([s_Ci.transpose(-1, -2), s_ii], -1)], -2
        )
        self.S_cC = torch.cat([self.S_cC, s_ci], -1)
        self.mu_C = torch.cat([self.mu_C, self.mu_c[:, i : i + 1]], -1)
        self.Y_C = torch.cat([self.Y_C, y_i], -1)
        self.XC = torch.cat([self.XC, x_i])
        self._condition()


def _jitter(S: torch.Tensor) -> torch.Tensor:
    n = S.shape[-1]
    scale = S.diagonal(dim1=-2, dim2=-1).mean(-1).clamp_min(1e-12)
    return 1e-8 * scale[..., None, None] * torch.eye(n, dtype=S.dtype)

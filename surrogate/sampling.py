"""Joint posterior samples of the objectives at incumbents and a finite candidate set.

For a finite candidate set (the furnace grid), the Monte Carlo acquisition functions of
BoTorch (qLogNEHVI, qLogNEI) scored one candidate at a time need the joint posterior of the
objectives at the incumbents (measured and pending recipes) and that candidate.
:class:`ConditionalSampler` draws the incumbents jointly once (quasi-random base samples)
and each candidate from its exact conditional given them,

    y_c | y_C ~ N(mu_c + S_cC S_CC^-1 (y_C - mu_C),  s_cc - S_cC S_CC^-1 S_Cc),

with a fixed standard normal per candidate (common random numbers; the incumbents' from a
scrambled Sobol sequence, each candidate's stratified over the samples). A recipe picked for
the batch joins the conditioning set ``C`` with the value it had in each sample, so later
candidates are scored given the pending ones, exactly as ``X_pending`` does in BoTorch.

The means and covariance blocks come from one call per objective of the surrogate's
``posterior_model().posterior(X, output_indices=[k])`` (the
:class:`surrogate.base.AcquisitionSurrogate` protocol) at incumbents and candidates
(candidates in chunks, each with the incumbents) and, for each pick, at the pick with
each chunk of candidates: nothing of the model's internals is read, and no n_c x n_c
covariance is formed.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
from botorch.sampling.qmc import NormalQMCEngine

from physics.schema import MAXIMIZE, OBJECTIVES
from surrogate.errors import ModelError
from surrogate.gp_models import DTYPE

__all__ = [
    "ConditionalSampler",
    "pick_covariances",
    "posterior_blocks",
    "stratified_normals",
]

_MAX_SOBOL_DIM = 21201
#: Candidates per posterior call.
CHUNK = 256


def posterior_blocks(
    model: Any, XC: torch.Tensor, Xc: torch.Tensor, chunk: int = CHUNK
) -> tuple[torch.Tensor, ...]:
    """The posterior blocks the sampler needs, for each objective of ``model``.

    Per objective, one ``posterior`` call at the incumbents alone and one per chunk of
    candidates together with the incumbents. GPyTorch's exact prediction forms the dense
    prior covariance of every point it is asked about, so a single call at incumbents and all
    candidates would build the n_c x n_c block the sampler never reads (about 0.3 s per
    objective at 2151 candidates); in chunks of ``m`` the work is
    ``(n_c / m) (n_C + m)^2`` kernel entries instead of ``(n_C + n_c)^2``.

    Args:
        model: a BoTorch model with one output per objective (model space), as returned
            by ``posterior_model()`` of an :class:`surrogate.base.AcquisitionSurrogate`.
        XC: (n_C, d) encoded incumbents.
        Xc: (n_c, d) encoded candidates.
        chunk: candidates per call.

    Returns:
        ``mu_C`` (k, n_C), ``S_CC`` (k, n_C, n_C), ``mu_c`` (k, n_c), ``S_cC`` (k, n_c, n_C),
        ``var_c`` (k, n_c).
    """
    n_C = len(XC)
    out: list[list[torch.Tensor]] = [[], [], [], [], []]
    with torch.no_grad():
        for k in range(len(OBJECTIVES)):
            if n_C:
                post = model.posterior(XC, output_indices=[k])
                out[0].append(post.mean.reshape(-1))
                out[1].append(post.distribution.lazy_covariance_matrix.to_dense())
            else:
                out[0].append(XC.new_zeros(0))
                out[1].append(XC.new_zeros(0, 0))
            mu, cross, var = [], [], []
            for start in range(0, len(Xc), chunk):
                part = Xc[start : start + chunk]
                post = model.posterior(torch.cat([XC, part]), output_indices=[k])
                lazy = post.distribution.lazy_covariance_matrix
                mu.append(post.mean.reshape(-1)[n_C:])
                cross.append(lazy[n_C:, :n_C].to_dense())
                var.append(lazy.diagonal(dim1=-2, dim2=-1)[n_C:])
            out[2].append(torch.cat(mu))
            out[3].append(torch.cat(cross))
            out[4].append(torch.cat(var))
    return tuple(torch.stack(o) for o in out)


def pick_covariances(
    model: Any, picks: torch.Tensor, Xc: torch.Tensor, chunk: int = CHUNK
) -> torch.Tensor:
    """(k, n_c, n_p): the posterior covariances of candidates ``Xc`` with ``picks``.

    One ``posterior`` call per objective and chunk of candidates, at ``[picks; chunk]``
    (see :func:`posterior_blocks` for why in chunks).
    """
    n_p = len(picks)
    cols = []
    with torch.no_grad():
        for k in range(len(OBJECTIVES)):
            col = []
            for start in range(0, len(Xc), chunk):
                X = torch.cat([picks, Xc[start : start + chunk]])
                lazy = model.posterior(X, output_indices=[k]).distribution.lazy_covariance_matrix
                col.append(lazy[n_p:, :n_p].to_dense())
            cols.append(torch.cat(col))
    return torch.stack(cols)


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
        self.model, self.Xc = model, Xc
        self._picks: list[int] = []
        self._known = np.full(n_c, n_i)  # columns of S_cC computed, per candidate
        self.mu_C, self.S_CC, self.mu_c, self.S_cC, var_c = posterior_blocks(model, XC, Xc)
        self.var_c = var_c.clamp_min(1e-12)
        gen = torch.Generator().manual_seed(seed)
        dim = k * n_i
        if 0 < dim <= _MAX_SOBOL_DIM:
            drawn = NormalQMCEngine(d=dim, seed=seed).draw(n_samples, dtype=DTYPE)
            if drawn is None:  # draw(..., out=None) always returns the samples
                raise RuntimeError("quasi-random draw returned nothing")
            base_C = drawn.reshape(n_samples, k, n_i)
        else:
            base_C = torch.randn(n_samples, k, n_i, generator=gen, dtype=DTYPE)
        self.z_c = stratified_normals(n_samples, (k, n_c), gen)
        if n_i:
            L = torch.linalg.cholesky(self.S_CC + _jitter(self.S_CC))
            self.Y_C = self.mu_C[None] + torch.einsum("kij,skj->ski", L, base_C)
        else:
            self.Y_C = torch.zeros(n_samples, k, 0, dtype=DTYPE)
        self._condition()
        self.mean_c = (self.mu_c * self.sign[:, None]).T
        self.sd_c = self.var_c.sqrt().T

    def _condition(self) -> None:
        """After the conditioning set changed: its Cholesky factor; every candidate's row of
        ``A = S_cC S_CC^-1`` and conditional sd is recomputed when next asked for."""
        n_C = self.S_CC.shape[-1]
        self._L = torch.linalg.cholesky(self.S_CC + _jitter(self.S_CC)) if n_C else None
        k, n_c = self.var_c.shape
        self.A = torch.zeros(k, n_c, n_C, dtype=DTYPE)
        self.cond_sd = self.var_c.sqrt().clone()
        self._fresh = np.zeros(n_c, bool) if n_C else np.ones(n_c, bool)

    def _ensure(self, idx: np.ndarray) -> None:
        """Rows ``idx`` of ``A`` and the conditional sds, computing first the covariances of
        those candidates with the picks they have not met (only the candidates the greedy
        re-scores after a pick ever need them)."""
        stale = np.unique(idx[~self._fresh[idx]])
        if not len(stale):
            return
        n_C = self.S_CC.shape[-1]
        for known in np.unique(self._known[stale]):
            rows = stale[self._known[stale] == known]
            if known < n_C:
                picks = self.Xc[self._picks[known - self.n_i0 :]]
                self.S_cC[:, rows, known:] = pick_covariances(self.model, picks, self.Xc[rows])
                self._known[rows] = n_C
        S = self.S_cC[:, stale]  # (k, r, n_C)
        A = torch.cholesky_solve(S.transpose(-1, -2), self._L).transpose(-1, -2)
        self.A[:, stale] = A
        var = self.var_c[:, stale] - (A * S).sum(-1)
        self.cond_sd[:, stale] = var.clamp_min(1e-12).sqrt()
        self._fresh[stale] = True

    @property
    def incumbents(self) -> torch.Tensor:
        """(S, n_C, 3) samples at the conditioning set, maximization form."""
        return self.Y_C.transpose(-1, -2) * self.sign

    def candidates(self, idx: np.ndarray | slice) -> torch.Tensor:
        """(S, len(idx), 3) samples at candidates ``idx`` given the conditioning set."""
        if isinstance(idx, slice):
            idx = np.arange(self.var_c.shape[-1])[idx]
        idx = np.asarray(idx, dtype=int).reshape(-1)
        mu = self.mu_c[:, idx]
        if self.Y_C.shape[-1]:
            self._ensure(idx)
            mu = mu[None] + torch.einsum("kcj,skj->skc", self.A[:, idx], self.Y_C - self.mu_C[None])
        y = mu + self.cond_sd[:, idx] * self.z_c[:, :, idx]
        return y.transpose(-1, -2) * self.sign

    def add(self, i: int) -> None:
        """Condition on candidate ``i`` taking its current sampled values (a pending pick)."""
        y_i = self.candidates(np.array([i])).transpose(-1, -2) * self.sign[:, None]  # (S,k,1)
        s_Ci = self.S_cC[:, i, :, None]  # (k, nC, 1): complete, as row i was just computed
        s_ii = self.var_c[:, i].reshape(-1, 1, 1)  # (k, 1, 1)
        self.S_CC = torch.cat(
            [torch.cat([self.S_CC, s_Ci], -1), torch.cat([s_Ci.transpose(-1, -2), s_ii], -1)], -2
        )
        k, n_c, _ = self.S_cC.shape
        self.S_cC = torch.cat([self.S_cC, torch.full((k, n_c, 1), math.nan, dtype=DTYPE)], -1)
        self._picks.append(int(i))
        self.mu_C = torch.cat([self.mu_C, self.mu_c[:, i : i + 1]], -1)
        self.Y_C = torch.cat([self.Y_C, y_i], -1)
        self._condition()


def stratified_normals(n: int, shape: tuple[int, ...], gen: torch.Generator) -> torch.Tensor:
    """(n, *shape) standard normals, each coordinate stratified over the n samples.

    Each coordinate takes one value in each of the n equal-probability strata, in a random
    order (Latin hypercube sampling): the one-dimensional evenness of a scrambled Sobol
    sequence at the cost of a permutation, where scrambling a Sobol sequence of thousands
    of dimensions costs a quarter of a second. A candidate's own standard normal is one
    coordinate per objective, so this is what matters for its conditional draw.
    """
    m = int(np.prod(shape)) if shape else 1
    order = torch.rand((m, n), generator=gen, dtype=DTYPE).argsort(-1)
    u = (order + torch.rand((m, n), generator=gen, dtype=DTYPE)) / n
    z = torch.special.ndtri(u.clamp(1e-12, 1 - 1e-12))
    return z.T.reshape(n, *shape)


def _jitter(S: torch.Tensor) -> torch.Tensor:
    n = S.shape[-1]
    scale = S.diagonal(dim1=-2, dim2=-1).mean(-1).clamp_min(1e-12)
    return 1e-8 * scale[..., None, None] * torch.eye(n, dtype=S.dtype)

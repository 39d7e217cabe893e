"""The conditional sampler against the dense joint posterior of a model we did not write."""

from __future__ import annotations

import numpy as np
import torch
from botorch.models import ModelListGP, SingleTaskGP

from physics.schema import MAXIMIZE, OBJECTIVES
from surrogate.sampling import CHUNK, ConditionalSampler, stratified_normals

SIGN = torch.tensor([1.0 if MAXIMIZE[n] else -1.0 for n in OBJECTIVES], dtype=torch.double)


def _model(seed: int) -> ModelListGP:
    gen = torch.Generator().manual_seed(seed)
    X = torch.rand(15, 3, generator=gen, dtype=torch.double)
    models = []
    for k in range(len(OBJECTIVES)):
        y = torch.sin(3 * X[:, :1] + k) + 0.1 * torch.randn(15, 1, generator=gen, dtype=X.dtype)
        models.append(SingleTaskGP(X, y))
    return ModelListGP(*models).eval()


def test_stratified_normals_take_each_stratum_once():
    z = stratified_normals(64, (3, 5), torch.Generator().manual_seed(1))
    assert z.shape == (64, 3, 5)
    u = torch.special.ndtr(z).reshape(64, -1)
    strata = (u * 64).floor().long()
    for j in range(strata.shape[1]):
        assert sorted(strata[:, j].tolist()) == list(range(64))


def test_conditionals_after_picks_equal_the_dense_posterior():
    model = _model(0)
    gen = torch.Generator().manual_seed(2)
    X_inc = torch.rand(6, 3, generator=gen, dtype=torch.double)
    X_cand = torch.rand(CHUNK + 90, 3, generator=gen, dtype=torch.double)  # two chunks
    sampler = ConditionalSampler(model, X_inc.numpy(), X_cand.numpy(), n_samples=16, seed=3)
    picks = [5, CHUNK + 7]
    sampler.candidates(np.arange(len(X_cand)))  # every row computed before the picks
    for i in picks:
        sampler.add(i)
    idx = np.array([0, 100, CHUNK + 3, CHUNK + 89])  # not the picks (jitter-sensitive)
    got = sampler.candidates(idx) * SIGN  # (S, c, k) in model orientation
    # dense: the joint posterior at incumbents, picks and candidates, conditioned directly
    C = torch.cat([X_inc, X_cand[picks]])
    Y_C = sampler.Y_C  # (S, k, n_C): the conditioning values the sampler used
    for k in range(len(OBJECTIVES)):
        with torch.no_grad():
            post = model.posterior(torch.cat([C, X_cand[idx]]), output_indices=[k])
        mu = post.mean.reshape(-1)
        cov = post.distribution.covariance_matrix
        n = len(C)
        A = torch.linalg.solve(cov[:n, :n], cov[:n, n:]).T  # (c, n)
        mean = mu[n:] + (Y_C[:, k] - mu[:n]) @ A.T  # (S, c)
        sd = (cov[n:, n:].diagonal() - (A * cov[n:, :n]).sum(-1)).clamp_min(1e-12).sqrt()
        z = sampler.z_c[:, k, idx]
        want = mean + sd * z
        np.testing.assert_allclose(got[..., k].numpy(), want.numpy(), rtol=1e-5, atol=1e-6)

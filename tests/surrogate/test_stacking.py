"""Stacking the physics GP with the data-only GP: the weight, the mixture posterior, the record."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from surrogate import make_surrogate
from surrogate.gp_models import loo
from surrogate.stacking import MIN_LOO_ROWS, StackedGP, stacking_weight
from tests.surrogate.data import simulated_table


def test_weight_follows_the_better_leave_one_out_predictions():
    rng = np.random.default_rng(0)
    small, large = 0.05 * rng.standard_normal(12), 0.5 * rng.standard_normal(12)
    var_s, var_l = np.full(12, 0.05**2), np.full(12, 0.5**2)
    assert stacking_weight((small, var_s), (large, var_l)).weight > 0.9
    # the data-only GP predicts better: the weight goes to it despite the prior
    assert stacking_weight((large, var_s), (small, var_s)).weight < 0.1
    few = stacking_weight((small[:2], var_s[:2]), (large[:2], var_l[:2]))
    assert few.n_rows == 0 < MIN_LOO_ROWS and few.weight == 1.0


@pytest.fixture(scope="module")
def fitted():
    return make_surrogate("physics-gp").fit(simulated_table(12, "shifted-optimum", seed=3))


def test_mixture_posterior_is_the_moment_matched_mixture(fitted):
    model = fitted.models_["sigma_total_ms_cm"]
    model = StackedGP(model.physics, model.plain, 0.3)
    X = torch.rand(5, 3, dtype=torch.double, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        post = model.posterior(X)
        p1, p0 = model.physics.posterior(X), model.plain.posterior(X)
    m1, m0 = p1.mean.squeeze(-1), p0.mean.squeeze(-1)
    c1, c0 = p1.distribution.covariance_matrix, p0.distribution.covariance_matrix
    d = m1 - m0
    expected = 0.3 * c1 + 0.7 * c0 + 0.21 * torch.outer(d, d)
    torch.testing.assert_close(post.mean.squeeze(-1), 0.3 * m1 + 0.7 * m0)
    torch.testing.assert_close(post.distribution.covariance_matrix, expected)
    samples = post.rsample(torch.Size([64]))
    assert samples.shape == (64, 5, 1)
    # the covariance stays lazy: a block or the diagonal alone agrees with the dense one
    lazy = post.distribution.lazy_covariance_matrix
    torch.testing.assert_close(lazy[3:, :3].to_dense(), expected[3:, :3])
    torch.testing.assert_close(lazy.diagonal(dim1=-2, dim2=-1), expected.diagonal())


def test_closed_form_loo_matches_refitting_without_the_row(fitted):
    """LOO with fixed hyperparameters: residual equals that of the GP conditioned on the rest."""
    plain = fitted.models_["ccd_ma_cm2"].plain
    resid, var = loo(plain)
    X, y = plain.train_inputs[0], plain.train_targets
    keep = torch.arange(len(y)) != 0
    tf = plain.outcome_transform
    y_raw = tf.untransform(y[:, None])[0]
    noise = plain.likelihood.noise.reshape(-1).expand(len(y))
    with torch.no_grad():
        K = plain.covar_module(X, X).to_dense() + torch.diag_embed(noise)
        mu = plain.mean_module(X)
        k = K[0, keep]
        a = torch.linalg.solve(K[keep][:, keep], y[keep] - mu[keep])
        pred = mu[0] + k @ a
        v = K[0, 0] - k @ torch.linalg.solve(K[keep][:, keep], k)
    s = float(tf.stdvs.reshape(-1)[0])
    m = float(tf.means.reshape(-1)[0])
    assert resid[0] == pytest.approx(float(y_raw[0, 0]) - (m + s * float(pred)), rel=1e-5)
    assert var[0] == pytest.approx(s**2 * float(v), rel=1e-5)


def test_trust_summary_says_how_much_the_physics_weighs_and_why(fitted):
    summary = fitted.trust_summary()
    assert set(summary["lines"]) == set(summary["numbers"]) == set(fitted.models_)
    for name, line in summary["lines"].items():
        numbers = summary["numbers"][name]
        assert f"physics weight {numbers['weight']:.2f}" in line
        assert numbers["n_loo"] >= MIN_LOO_ROWS and "left out one at a time" in line
        assert numbers["loo_rmse_physics"] > 0 and numbers["loo_rmse_plain"] > 0
    flat = fitted.physics_prior_.summary()
    assert flat["physics_prior_sigma_total_ms_cm"] == "literature"
    assert 0.0 <= flat["physics_prior_sigma_total_ms_cm_weight"] <= 1.0
    assert make_surrogate("gp").fit(simulated_table(6, seed=6)).trust_summary() == {
        "lines": {},
        "numbers": {},
    }


def test_trust_summary_with_too_few_rows_says_so():
    summary = make_surrogate("physics-gp").fit(simulated_table(2, seed=1)).trust_summary()
    for line in summary["lines"].values():
        assert "too few" in line or "no measurement" in line

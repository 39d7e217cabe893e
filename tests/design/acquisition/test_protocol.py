"""The acquisition needs only the AcquisitionSurrogate protocol; its BoTorch face."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from botorch.models import ModelListGP, SingleTaskGP
from botorch.optim import optimize_acqf_discrete

from design.acquisition.batch import MIN_P_FEASIBLE, GridAcquisition, suggest
from physics.schema import OBJECTIVES, RECIPE_COLUMNS, RecipeSpace
from surrogate import make_surrogate
from surrogate.base import (
    AcquisitionSurrogate,
    Prediction,
    backtransform,
    encode,
    recipes_frame,
    split_noise_columns,
    to_model_space,
)
from tests.surrogate.data import simulated_table

torch.set_num_threads(2)


class ToySurrogate:
    """Not one of ours: three unfitted BoTorch GPs and a step-shaped feasibility."""

    def fit(self, table: pd.DataFrame) -> ToySurrogate:
        clean, _ = split_noise_columns(table)
        ok = clean[clean["status"] == "ok"]
        X = torch.as_tensor(self.encode(ok), dtype=torch.double)
        models = [
            SingleTaskGP(
                X,
                torch.as_tensor(to_model_space(n, ok[n].to_numpy(float)), dtype=torch.double)[
                    :, None
                ],
            )
            for n in OBJECTIVES
        ]
        self.model = ModelListGP(*models).eval()
        return self

    def encode(self, recipes: pd.DataFrame | np.ndarray) -> np.ndarray:
        return encode(recipes_frame(recipes))

    def p_feasible(self, Xn: np.ndarray) -> np.ndarray:
        """Cracks below zbo 0.25 (normalized 0.5)."""
        return np.where(np.asarray(Xn)[:, 0] < 0.5, 1e-3, 0.9)

    def posterior_model(self) -> ModelListGP:
        return self.model

    def predict(self, recipes: pd.DataFrame | np.ndarray) -> Prediction:
        frame = recipes_frame(recipes)
        X = torch.as_tensor(self.encode(frame), dtype=torch.double)
        with torch.no_grad():
            post = self.model.posterior(X.unsqueeze(-2))
        lm = post.mean.reshape(len(X), -1).numpy()
        ls = post.variance.reshape(len(X), -1).sqrt().numpy()
        mean, sd = {}, {}
        for k, n in enumerate(OBJECTIVES):
            mean[n], sd[n] = backtransform(n, lm[:, k], ls[:, k])
        return Prediction(frame, mean, sd, self.p_feasible(self.encode(frame)))


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    return simulated_table(12, landscape="shifted-optimum", seed=11)


def test_any_object_with_the_protocol_can_propose(table):
    toy = ToySurrogate()
    assert isinstance(toy, AcquisitionSurrogate)
    assert not isinstance(make_surrogate("sobol"), AcquisitionSurrogate)
    out = suggest(table, batch_size=4, surrogate=toy, seed=3)
    recipes = {tuple(s.recipe[c] for c in RECIPE_COLUMNS) for s in out}
    measured = {tuple(r) for r in table[list(RECIPE_COLUMNS)].to_numpy(float)}
    assert len(recipes) == 4 and not recipes & measured
    for s in out:
        RecipeSpace().validate(s.recipe)
        # the toy's feasibility is obeyed: nothing where it says the pellet cracks
        assert s.recipe["zbo_fraction"] >= 0.25 and s.p_feasible == pytest.approx(0.9)
        assert s.acquisition_value is not None and np.isfinite(s.acquisition_value)


@pytest.mark.parametrize("strategy", ["physics-gp", "gp"])
def test_posterior_model_matches_predict(table, strategy):
    sur = make_surrogate(strategy, seed=0).fit(table)
    model = sur.posterior_model()
    assert model.num_outputs == len(OBJECTIVES)
    recipes = np.array(
        [[0.0, 900.0, 6.0], [0.2, 1000.0, 6.0], [0.35, 1150.0, 6.0], [0.5, 1300.0, 6.0]]
    )
    pred = sur.predict(recipes)
    with torch.no_grad():
        post = model.posterior(torch.as_tensor(sur.encode(recipes), dtype=torch.double))
    assert post.mean.shape == (4, 3)
    for k, name in enumerate(OBJECTIVES):
        np.testing.assert_allclose(
            post.mean[:, k].numpy(), pred.latent_mean[name], rtol=1e-6, atol=1e-8
        )
        np.testing.assert_allclose(
            post.variance[:, k].sqrt().numpy(), pred.latent_sd[name], rtol=1e-5, atol=1e-8
        )
    # a joint posterior: off-diagonal covariances, and samples of the right shape
    cov = post.distribution.covariance_matrix
    assert cov.shape == (12, 12) and float(cov.abs().sum() - cov.diagonal().abs().sum()) > 0
    assert post.rsample(torch.Size([8])).shape == (8, 4, 3)


def test_grid_acquisition_with_optimize_acqf_discrete_picks_what_suggest_picks(table):
    sur = make_surrogate("physics-gp", seed=0).fit(table)
    out = suggest(table, batch_size=3, surrogate=sur, seed=5)
    space = RecipeSpace()
    measured = {tuple(r) for r in table[list(RECIPE_COLUMNS)].to_numpy(float)}
    cand = np.array([r for r in space.grid() if tuple(r) not in measured])
    Xc = sur.encode(cand)
    pf = sur.p_feasible(Xc)
    log_pf = np.log(np.clip(pf, 1e-12, None))
    log_pf[pf < MIN_P_FEASIBLE] = -np.inf
    X_ok = sur.encode(table[table["status"] == "ok"])
    acqf = GridAcquisition(sur.posterior_model(), X_ok, Xc, log_pf, seed=5)
    X, values = optimize_acqf_discrete(acqf, q=3, choices=acqf.X_candidates[np.isfinite(log_pf)])
    got = [tuple(cand[i]) for i in acqf.indices(X)]
    assert got == [tuple(s.recipe[c] for c in RECIPE_COLUMNS) for s in out]
    np.testing.assert_allclose(values.numpy(), [s.acquisition_value for s in out], rtol=1e-6)
    assert acqf.X_pending is None  # optimize_acqf_discrete restored it
    # a q-batch is scored jointly: its gain is the sum of the sequential (pending) gains
    idx = acqf.indices(X)
    gains = np.exp(values.numpy()[:2] - log_pf[idx[:2]])
    joint = float(acqf(X[None, :2]))
    assert joint == pytest.approx(np.log(gains.sum()) + log_pf[idx[:2]].sum(), rel=1e-6)
    with pytest.raises(ValueError, match="candidates"):
        acqf(torch.full((1, 1, 3), 0.123, dtype=torch.double))

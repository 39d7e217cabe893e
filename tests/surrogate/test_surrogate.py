"""Tests of the surrogates: fit/predict contract, physics prior, censoring, noise, bad data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from gpytorch.likelihoods import FixedNoiseGaussianLikelihood

from physics.errors import ConfigError, DataError
from physics.schema import OBJECTIVES
from surrogate import STRATEGIES, make_surrogate
from surrogate.base import backtransform, to_model_space
from surrogate.errors import ModelError
from tests.surrogate.data import simulated_table, table_from_recipes


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    return simulated_table(20, seed=1)


@pytest.mark.parametrize("strategy", ["physics-gp", "gp"])
def test_reproduces_its_data_within_noise(table, strategy):
    s = make_surrogate(strategy).fit(table)
    ok = table[table["status"] == "ok"]
    pred = s.predict(ok)
    for name in OBJECTIVES:
        resid = to_model_space(name, ok[name].to_numpy(float)) - pred.latent_mean[name]
        # landscape scatter: 4-10 % (log units 0.04-0.1); the fit may not be much worse
        assert np.sqrt(np.mean(resid**2)) < 0.15, name
        assert (np.abs(resid) < 4 * np.hypot(pred.latent_sd[name], pred.noise_sd[name])).all()


def test_prediction_records_shape(table):
    pred = make_surrogate("physics-gp").fit(table).predict(np.array([[0.2, 1000.0, 6.0]]))
    (rec,) = pred.to_records()
    assert set(rec) == {
        "zbo_fraction",
        "sinter_temperature_c",
        "dwell_h",
        "p_feasible",
        *OBJECTIVES,
    }
    for name in OBJECTIVES:
        assert set(rec[name]) == {"mean", "sd"} and rec[name]["mean"] > 0 and rec[name]["sd"] > 0
    assert 0 < rec["p_feasible"] <= 1


def test_backtransform_matches_sampling():
    rng = np.random.default_rng(0)
    for name in OBJECTIVES:
        z = 0.3 + 0.5 * rng.standard_normal(400_000)
        y = np.exp(z) if name != "electronic_fraction" else 1 / (1 + np.exp(-z))
        m, s = backtransform(name, np.array([0.3]), np.array([0.5]))
        assert m[0] == pytest.approx(y.mean(), rel=5e-3)
        assert s[0] == pytest.approx(y.std(), rel=1e-2)


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_predict_before_fit_raises(strategy):
    with pytest.raises(ModelError, match="before predict"):
        make_surrogate(strategy).predict(np.array([[0.2, 1000.0, 6.0]]))


def test_unknown_strategy_lists_valid_ones():
    with pytest.raises(ConfigError, match="physics-gp, gp, sobol"):
        make_surrogate("kriging")


def test_gp_baseline_runs_without_physics(table, monkeypatch):
    import physics.process.calibration
    import physics.process.model

    def boom(*args, **kwargs):
        raise RuntimeError("physics must not be used by the gp baseline")

    monkeypatch.setattr(physics.process.model.ProcessModel, "predict", boom)
    monkeypatch.setattr(physics.process.calibration, "calibrate", boom)
    pred = make_surrogate("gp").fit(table).predict(np.array([[0.2, 1000.0, 6.0]]))
    assert np.isfinite(pred.mean["sigma_total_ms_cm"]).all()
    with pytest.raises(RuntimeError, match="physics must not"):
        make_surrogate("physics-gp").fit(table)


def test_cold_start_is_the_physics_prior():
    from physics.process.model import ProcessModel

    s = make_surrogate("physics-gp").fit(simulated_table(0))
    pred = s.predict(np.array([[0.2, 1000.0, 6.0], [0.1, 1200.0, 6.0]]))
    truth = ProcessModel().predict(np.array([0.2, 0.1]), np.array([1000.0, 1200.0]), 6.0)
    for name in OBJECTIVES:
        np.testing.assert_allclose(
            pred.latent_mean[name], to_model_space(name, truth[name]), atol=1e-4
        )
        assert (pred.latent_sd[name] > 0.1).all()


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda t: t.drop(columns=["zbo_fraction"]), "missing required column"),
        (lambda t: t.assign(sinter_temperature_c=[np.nan, *t.sinter_temperature_c[1:]]), "NaN"),
        (lambda t: t.assign(sigma_total_ms_cm=t.sigma_total_ms_cm / 1000), "S/cm"),
        (lambda t: t.assign(sample_id=["a"] * len(t)), "duplicate"),
    ],
    ids=["missing-column", "nan-recipe", "sigma-in-S-per-cm", "duplicate-samples"],
)
@pytest.mark.parametrize("strategy", STRATEGIES)
def test_bad_data_rejected(table, mutate, message, strategy):
    with pytest.raises(DataError, match=message):
        make_surrogate(strategy).fit(mutate(table))


def test_censored_ccd_is_a_lower_bound():
    """Cells that survived 0.15 mA/cm2: treated as exact, the CCD there would be ~0.15."""
    recipes = np.array([[x, t, 6.0] for x in (0.15, 0.2, 0.25) for t in (1000.0, 1050.0)])
    table = table_from_recipes(recipes, seed=3)
    table["ccd_ma_cm2"] = 0.15
    exact = table.assign(ccd_censored=False)
    censored = table.assign(ccd_censored=True)
    at = recipes[:3]
    for strategy in ("physics-gp", "gp"):
        p_exact = make_surrogate(strategy).fit(exact).predict(at).mean["ccd_ma_cm2"]
        p_cens = make_surrogate(strategy).fit(censored).predict(at).mean["ccd_ma_cm2"]
        assert (p_cens > 0.15).all(), strategy
        assert (p_cens > 1.2 * p_exact).all(), strategy


def test_known_noise_column_is_used(table):
    noisy = table.assign(sigma_total_ms_cm_sd=0.05 * table["sigma_total_ms_cm"])
    s = make_surrogate("physics-gp").fit(noisy)
    for part in ("physics", "plain"):  # both halves of the stacked surrogate
        sigma, ccd = (getattr(s.models_[n], part) for n in ("sigma_total_ms_cm", "ccd_ma_cm2"))
        assert isinstance(sigma.likelihood, FixedNoiseGaussianLikelihood), part
        assert not isinstance(ccd.likelihood, FixedNoiseGaussianLikelihood), part
    with pytest.raises(DataError, match="non-negative"):
        make_surrogate("gp").fit(table.assign(sigma_total_ms_cm_sd=-1.0))


def test_feasibility_learns_a_cracked_region(table):
    bad = np.array([[x, t, 6.0] for x in (0.1, 0.12) for t in (1000.0, 1020.0)])
    cracked = pd.DataFrame(
        {
            "sample_id": [f"c{i}" for i in range(4)],
            "zbo_fraction": bad[:, 0],
            "sinter_temperature_c": bad[:, 1],
            "dwell_h": 6.0,
            "status": "cracked",
        }
    )
    for strategy in ("physics-gp", "gp"):
        before = make_surrogate(strategy).fit(table).predict(bad).p_feasible
        after = make_surrogate(strategy).fit(pd.concat([table, cracked])).predict(bad).p_feasible
        assert (after < 0.5).all() and (after < before - 0.2).all(), strategy


def test_a_failed_hyperparameter_fit_is_recorded_not_swallowed(monkeypatch):
    """Every optimizer attempt failing keeps the prior hyperparameters, and says so."""
    from botorch.exceptions.errors import ModelFittingError

    import surrogate.gp_models as gp_models
    from surrogate import make_surrogate
    from tests.surrogate.data import simulated_table

    def failing(*args, **kwargs):
        raise ModelFittingError("all attempts failed")

    monkeypatch.setattr(gp_models, "fit_gpytorch_mll", failing)
    model = make_surrogate("gp", seed=0).fit(simulated_table(8, seed=3))
    assert set(model.fit_notes_) == {"sigma_total_ms_cm", "ccd_ma_cm2", "electronic_fraction"}
    assert "prior hyperparameters were kept" in model.fit_notes_["sigma_total_ms_cm"]
    assert all(np.isfinite(v).all() for v in model.predict(model.table_).mean.values())


def test_a_good_fit_has_no_notes():
    from surrogate import make_surrogate
    from tests.surrogate.data import simulated_table

    assert make_surrogate("gp", seed=0).fit(simulated_table(8, seed=3)).fit_notes_ == {}

"""The physics prior of physics-gp: chosen by cross-validation, sized by held-out error."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from experiments import paper_table_path
from physics.errors import CalibrationError
from physics.process.calibration import calibrate
from physics.process.model import ProcessModel
from physics.schema import OBJECTIVES
from surrogate import holdout_validate, make_surrogate
from surrogate.physics_prior import MAX_FOLDS, choose_physics_prior
from tests.surrogate.data import simulated_table, table_from_recipes

RECIPE = ["zbo_fraction", "sinter_temperature_c", "dwell_h"]
PAPER_CSV = paper_table_path()


def _recalibrate(table: pd.DataFrame, start=None) -> ProcessModel:
    return calibrate(table, prior_weight=3.0, start=start).model


def test_without_recalibration_every_objective_uses_the_literature_model():
    table = simulated_table(8, "shifted-optimum", seed=1)
    prior = choose_physics_prior(table, None)
    assert prior.calibrated is None and prior.n_folds == 0
    assert set(prior.choice.values()) == {"literature"}
    assert all(v == 0.0 for v in prior.discrepancy.values())
    # the literature model was fitted to nothing: its floor is its plain error on the rows
    sigma = prior.cv_mse["sigma_total_ms_cm"]["literature"]
    assert prior.floor["sigma_total_ms_cm"] == pytest.approx(max(0.01, sigma))


def test_a_failing_calibration_falls_back_to_the_literature_model():
    def broken(table, start=None):
        raise CalibrationError("no convergence")

    prior = choose_physics_prior(simulated_table(6, seed=2), broken)
    assert prior.calibrated is None
    assert all(prior.model(name) is prior.literature for name in OBJECTIVES)


def test_held_out_error_of_the_recalibrated_model_exceeds_its_in_sample_error():
    """On a landscape the literature gets wrong, re-calibration fits its own rows better
    than it predicts new ones; that gap becomes the model discrepancy of the GP."""
    table = simulated_table(12, "shifted-optimum", seed=3)
    prior = choose_physics_prior(table, _recalibrate, seed=0)
    assert prior.n_folds == MAX_FOLDS
    name = "sigma_total_ms_cm"
    mse = prior.cv_mse[name]
    assert set(mse) == {"literature", "calibrated"}
    assert prior.choice[name] == min(mse, key=mse.get)
    if prior.choice[name] == "calibrated":
        assert prior.discrepancy[name] > 0
    assert prior.floor[name] >= 0.01
    assert prior.floor[name] == pytest.approx(max(0.01, mse[prior.choice[name]]))


def test_known_noise_is_taken_out_of_the_floor():
    table = simulated_table(8, "shifted-optimum", seed=4)
    plain = choose_physics_prior(table, None, min_floor=0.0)
    noisy = choose_physics_prior(table, None, min_floor=0.0, noise_var={"ccd_ma_cm2": 0.004})
    assert noisy.floor["ccd_ma_cm2"] == pytest.approx(max(0.0, plain.floor["ccd_ma_cm2"] - 0.004))


def test_a_satisfied_ccd_lower_bound_is_not_an_error():
    recipes = np.array([[0.2, 1050.0, 6.0], [0.1, 1000.0, 6.0], [0.15, 1100.0, 6.0]])
    table = table_from_recipes(recipes, seed=5)
    table["status"] = "ok"
    predicted = ProcessModel().predict(recipes[:, 0], recipes[:, 1], recipes[:, 2])["ccd_ma_cm2"]
    table["ccd_ma_cm2"] = np.asarray(predicted) * 0.5  # the cells survived half the prediction
    table["ccd_censored"] = True
    prior = choose_physics_prior(table, None)
    assert prior.cv_mse["ccd_ma_cm2"]["literature"] == pytest.approx(0.0, abs=1e-12)
    table["ccd_censored"] = False  # as exact values they are off by log(2)
    prior = choose_physics_prior(table, None)
    assert prior.cv_mse["ccd_ma_cm2"]["literature"] == pytest.approx(np.log(2) ** 2, rel=1e-6)


def test_intervals_hold_on_a_landscape_where_the_physics_is_wrong():
    """95 % intervals of physics-gp on held-out pellets of the shifted-optimum landscape.

    Re-calibrating ~20 parameters on 10 rows used to give intervals that held 63 % of
    new measurements on this landscape (0.3 of them in the worst draw)."""
    coverages = []
    for seed in range(3):
        train = simulated_table(10, "shifted-optimum", seed=seed)
        test = simulated_table(150, "shifted-optimum", seed=100 + seed)
        seen = train.set_index(RECIPE).index
        test = test[~test.set_index(RECIPE).index.isin(seen)]
        report = holdout_validate("physics-gp", train, test, seed=seed)
        coverages.append(report.coverage["sigma_total_ms_cm"])
    assert np.mean(coverages) >= 0.8, coverages


def test_the_surrogate_exposes_its_prior_choice():
    model = make_surrogate("physics-gp").fit(simulated_table(6, seed=6))
    summary = model.physics_prior_.summary()
    assert summary["physics_prior_folds"] == 5
    assert summary["physics_prior_sigma_total_ms_cm"] in {"calibrated", "literature"}
    assert make_surrogate("gp").fit(simulated_table(6, seed=6)).physics_prior_ is None


def test_the_papers_own_rows_are_not_scored_when_there_are_others():
    """The literature parameters were calibrated on the paper's table: their error there is
    in-sample, so only the new rows judge the candidates (the paper rows stay in training)."""
    from physics.table import read_table
    from surrogate.base import split_noise_columns

    paper, _ = split_noise_columns(read_table(PAPER_CSV))
    new = simulated_table(6, "shifted-optimum", seed=7)
    both, _ = split_noise_columns(pd.concat([paper, new], ignore_index=True))
    on_new = choose_physics_prior(split_noise_columns(new)[0], None)
    on_both = choose_physics_prior(both, None)
    for name in OBJECTIVES:
        assert on_both.cv_mse[name]["literature"] == pytest.approx(
            on_new.cv_mse[name]["literature"], nan_ok=True
        )
    # a table of nothing but the paper's rows is scored on them (there is nothing else)
    only = choose_physics_prior(paper, None)
    assert np.isfinite(only.cv_mse["sigma_total_ms_cm"]["literature"])
    # with re-calibration, the folds hold out new rows only
    prior = choose_physics_prior(both, _recalibrate)
    assert prior.n_folds == MAX_FOLDS

"""Tests of leave-one-out and held-out validation."""

from __future__ import annotations

import numpy as np
import pytest

from physics.errors import DataError
from physics.schema import OBJECTIVES
from surrogate import holdout_validate, loo_validate, make_surrogate
from surrogate.validation import score
from tests.surrogate.data import simulated_table


def test_loo_reports_rmse_and_coverage_per_objective():
    table = simulated_table(6, seed=2)
    report = loo_validate("physics-gp", table)
    n_ok = int((table["status"] == "ok").sum())
    for name in OBJECTIVES:
        assert report.n[name] == n_ok
        assert 0.0 <= report.coverage[name] <= 1.0
        assert np.isfinite(report.rmse[name])
    # the calibrated landscape is the physics prior's own family: LOO error is small
    assert report.rmse["sigma_total_ms_cm"] < 0.3
    assert set(report.to_dict()["ccd_ma_cm2"]) == {"rmse", "coverage", "n"}


def test_loo_needs_three_rows():
    with pytest.raises(DataError, match="at least 3"):
        loo_validate("gp", simulated_table(2, seed=0))


def test_holdout_physics_beats_plain_gp_with_few_points():
    train, test = simulated_table(5, seed=4), simulated_table(40, seed=5)
    physics = holdout_validate("physics-gp", train, test)
    plain = holdout_validate("gp", train, test)
    assert physics.n["sigma_total_ms_cm"] > 20
    assert physics.rmse["sigma_total_ms_cm"] < plain.rmse["sigma_total_ms_cm"]


def test_score_detects_a_wrong_model():
    """A surrogate fitted on another landscape scores worse on held-out data."""
    test = simulated_table(30, landscape="shifted-optimum", seed=6)
    right = make_surrogate("gp").fit(simulated_table(30, landscape="shifted-optimum", seed=7))
    wrong = make_surrogate("gp").fit(simulated_table(30, landscape="calibrated", seed=7))
    from surrogate.base import split_noise_columns

    held, _ = split_noise_columns(test)
    assert (
        score(right, held).rmse["sigma_total_ms_cm"] < score(wrong, held).rmse["sigma_total_ms_cm"]
    )

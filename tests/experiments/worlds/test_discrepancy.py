"""Worlds of the process model with random parameters, with and without discrepancy."""

from __future__ import annotations

import numpy as np
import pytest

from experiments.worlds.discrepancy import (
    DISCREPANCY_LENGTHSCALE,
    DISCREPANCY_SD,
    DiscrepantModel,
    FourierDiscrepancy,
    discrepancy_world,
    is_plausible,
    process_model_world,
    random_parameters,
)
from experiments.worlds.landscapes import default_grid
from physics.errors import ConfigError
from physics.process.model import ProcessModel
from physics.process.parameters.wang2022 import WANG2022

GRID = default_grid()


@pytest.mark.parametrize("make", [process_model_world, discrepancy_world])
def test_worlds_are_deterministic_distinct_and_plausible(make):
    a, b, c = make(3), make(3), make(4)
    pa, pb, pc = (w.true_properties(GRID[:, 0], GRID[:, 1], GRID[:, 2]) for w in (a, b, c))
    np.testing.assert_array_equal(pa["sigma_total_ms_cm"], pb["sigma_total_ms_cm"])
    assert not np.allclose(pa["sigma_total_ms_cm"], pc["sigma_total_ms_cm"])
    assert is_plausible(a.model) and 0.4 <= a.best_sigma_total_ms_cm() <= 8.0


def test_random_parameters_stay_within_their_spread():
    p = random_parameters(np.random.default_rng(0), spread=0.15)
    lit, new = WANG2022.as_dict(), p.as_dict()
    bounds = type(p).bounds()
    moved = 0
    for name, (lo, hi) in bounds.items():
        if lo > 0:
            dz = (np.log(new[name]) - np.log(lit[name])) / (np.log(hi) - np.log(lo))
        else:
            dz = (new[name] - lit[name]) / (hi - lo)
        assert abs(dz) <= 0.15 + 1e-9, name
        moved += abs(dz) > 0
    assert moved >= 30


def test_fourier_discrepancy_has_the_documented_amplitude():
    u = np.random.default_rng(1).random((400, 3))
    values = np.concatenate(
        [
            FourierDiscrepancy(np.random.default_rng(k), 0.3, np.full(3, DISCREPANCY_LENGTHSCALE))(
                u
            )
            for k in range(200)
        ]
    )
    assert abs(values.mean()) < 0.03
    assert values.std() == pytest.approx(0.3, rel=0.1)


def test_discrepancy_moves_each_objective_in_model_space():
    rng = np.random.default_rng(2)
    funcs = {k: FourierDiscrepancy(rng, sd, np.full(3, 0.3)) for k, sd in DISCREPANCY_SD.items()}
    world = DiscrepantModel(WANG2022, funcs)
    x, t = GRID[::97, 0], GRID[::97, 1]
    base = ProcessModel(WANG2022).predict(x, t, 6.0)
    moved = world.predict(x, t, 6.0)
    u = (np.stack([x, t, np.full_like(x, 6.0)], -1) - [0.0, 900.0, 1.0]) / [0.5, 400.0, 23.0]
    for key in ("sigma_bulk_ms_cm", "sigma_gb_ms_cm", "sigma_total_ms_cm"):
        np.testing.assert_allclose(
            np.log(moved[key] / base[key]), funcs["sigma_total_ms_cm"](u), atol=1e-10
        )
    np.testing.assert_allclose(
        np.log(moved["ccd_ma_cm2"] / base["ccd_ma_cm2"]), funcs["ccd_ma_cm2"](u)
    )

    def logit(p):
        return np.log(p) - np.log1p(-p)

    np.testing.assert_allclose(
        logit(moved["electronic_fraction"]) - logit(base["electronic_fraction"]),
        funcs["electronic_fraction"](u),
        atol=1e-8,
    )
    np.testing.assert_array_equal(moved["relative_density"], base["relative_density"])


def test_unknown_discrepancy_key_is_refused():
    with pytest.raises(ConfigError, match="unknown discrepancy key"):
        DiscrepantModel(
            WANG2022, {"density": FourierDiscrepancy(np.random.default_rng(0), 1, [1, 1, 1])}
        )

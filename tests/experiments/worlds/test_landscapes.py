"""Tests of the simulation landscapes: truth, pellet sampler, Pareto front, hypervolume."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from experiments import paper_table_path
from experiments.worlds.landscapes import (
    HV_REFERENCE_POINT,
    LANDSCAPES,
    Landscape,
    Pellet,
    default_grid,
    get_landscape,
    hypervolume,
    pareto_mask,
)
from physics.errors import ConfigError
from physics.process.model import PROPERTY_KEYS, ProcessModel
from physics.process.parameters import WANG2022
from physics.table import read_table


def test_names_and_unknown_name():
    assert LANDSCAPES == ("calibrated", "shifted-optimum", "phase-boundary")
    for name in LANDSCAPES:
        land = get_landscape(name)
        assert isinstance(land, Landscape) and land.name == name
    with pytest.raises(ConfigError, match="calibrated, shifted-optimum, phase-boundary"):
        get_landscape("flat")


def test_paper_table_path_reads():
    table = read_table(paper_table_path())
    assert paper_table_path().name == "wang2022.csv"
    assert table["thickness_cm"].dropna().between(0.08, 0.11).all()


def test_calibrated_truth_is_the_wang2022_model():
    land = get_landscape()
    x, t = np.array([0.0, 0.2, 0.3]), np.array([1000.0, 1000.0, 1200.0])
    truth = land.true_properties(x, t, 6.0)
    ref = ProcessModel(WANG2022).predict(x, t, 6.0)
    assert set(truth) == set(PROPERTY_KEYS)
    for key in PROPERTY_KEYS:
        np.testing.assert_allclose(truth[key], ref[key])
    assert truth["sigma_total_ms_cm"][1] == pytest.approx(1.58, rel=0.01)
    assert land.true_properties(0.2, np.array([900.0, 1000.0]))["p_crack"].shape == (2,)


def test_best_recipes():
    cal = get_landscape("calibrated").best_recipe()
    assert 0.12 <= cal["zbo_fraction"] <= 0.22
    assert 1000.0 <= cal["sinter_temperature_c"] <= 1150.0
    shifted = get_landscape("shifted-optimum").best_recipe()
    assert 0.27 <= shifted["zbo_fraction"] <= 0.36
    assert 1050.0 <= shifted["sinter_temperature_c"] <= 1150.0
    # The paper's recipe is clearly worse on the shifted landscape.
    paper = float(
        get_landscape("shifted-optimum").true_properties(0.2, 1000.0)["sigma_total_ms_cm"]
    )
    assert paper < 0.85 * shifted["sigma_total_ms_cm"]
    assert get_landscape().best_sigma_total_ms_cm() == pytest.approx(cal["sigma_total_ms_cm"])


def test_phase_boundary_is_a_cliff_beside_the_optimum():
    land = get_landscape("phase-boundary")
    best = land.best_recipe()
    x = best["zbo_fraction"]
    sigma = land.true_properties(np.array([x, x + 0.02]), best["sinter_temperature_c"])
    assert sigma["sigma_total_ms_cm"][1] < 0.6 * sigma["sigma_total_ms_cm"][0]
    # Same as calibrated well below the boundary.
    a = land.true_properties(0.1, 1000.0)["sigma_total_ms_cm"]
    b = get_landscape().true_properties(0.1, 1000.0)["sigma_total_ms_cm"]
    assert float(a) == pytest.approx(float(b), rel=1e-3)


def test_sample_pellet_is_reproducible_and_scattered_around_truth():
    land = get_landscape()
    recipe = {"zbo_fraction": 0.2, "sinter_temperature_c": 1000.0, "dwell_h": 6.0}
    a = land.sample_pellet(recipe, np.random.default_rng(7))
    b = land.sample_pellet(recipe, np.random.default_rng(7))
    assert a == b and isinstance(a, Pellet)
    assert {f.name for f in dataclasses.fields(Pellet)} >= {
        "cracked",
        "thickness_cm",
        "area_cm2",
        "bulk_density_g_cm3",
        "relative_density",
        "sigma_bulk_ms_cm",
        "sigma_gb_ms_cm",
        "sigma_total_ms_cm",
        "activation_energy_ev",
        "electronic_fraction",
        "r_int_ohm_cm2",
        "ccd_ma_cm2",
    }
    rng = np.random.default_rng(1)
    pellets = [land.sample_pellet(recipe, rng) for _ in range(300)]
    ok = [p for p in pellets if not p.cracked]
    sigma = np.array([p.sigma_total_ms_cm for p in ok])
    assert np.mean(sigma) == pytest.approx(1.58, rel=0.03)
    assert 0.01 < np.std(np.log(sigma)) < 0.1
    for p in ok[:20]:
        assert p.area_cm2 == 0.785
        assert 0.06 <= p.thickness_cm <= 0.14
        assert p.bulk_density_g_cm3 == pytest.approx(3.244 * p.relative_density)
        assert 1 / p.sigma_total_ms_cm == pytest.approx(
            1 / p.sigma_bulk_ms_cm + 1 / p.sigma_gb_ms_cm
        )


def test_denser_pellets_are_thinner():
    land = get_landscape()
    rng = np.random.default_rng(3)
    bare = np.mean(
        [
            land.sample_pellet(
                {"zbo_fraction": 0.0, "sinter_temperature_c": 1000.0}, rng
            ).thickness_cm
            for _ in range(30)
        ]
    )
    gbs = np.mean(
        [
            land.sample_pellet(
                {"zbo_fraction": 0.2, "sinter_temperature_c": 1000.0}, rng
            ).thickness_cm
            for _ in range(30)
        ]
    )
    assert gbs < bare
    assert bare == pytest.approx(0.107, rel=0.05) and gbs == pytest.approx(0.080, rel=0.05)


def test_cracking_follows_p_crack():
    land = get_landscape()
    recipe = {"zbo_fraction": 0.45, "sinter_temperature_c": 1100.0}
    p = float(land.true_properties(0.45, 1100.0)["p_crack"])
    rng = np.random.default_rng(11)
    pellets = [land.sample_pellet(recipe, rng) for _ in range(400)]
    frac = np.mean([q.cracked for q in pellets])
    assert frac == pytest.approx(p, abs=0.08)
    cracked = next(q for q in pellets if q.cracked)
    assert np.isnan(cracked.sigma_total_ms_cm) and np.isnan(cracked.thickness_cm)


def test_bad_recipes():
    land = get_landscape()
    rng = np.random.default_rng(0)
    with pytest.raises(ConfigError, match="sinter_temperature_c"):
        land.sample_pellet({"zbo_fraction": 0.2}, rng)
    with pytest.raises(ConfigError, match="finite"):
        land.sample_pellet({"zbo_fraction": float("nan"), "sinter_temperature_c": 1000.0}, rng)


def test_hypervolume_known_values():
    assert hypervolume(np.array([[1.0, 1.0, -0.25]])) == pytest.approx(0.25)
    two = np.array([[2.0, 1.0, -0.5 + 1.0], [1.0, 2.0, -0.5 + 1.0]])
    assert hypervolume(two, (0.0, 0.0, -0.5)) == pytest.approx(3.0)
    three = np.array([[1.0, 1.0, 1.0], [2.0, 2.0, 0.5]])
    assert hypervolume(three, (0.0, 0.0, 0.0)) == pytest.approx(0.5 * 1.0 + 0.5 * 4.0)
    assert hypervolume(np.array([[-1.0, 1.0, 0.0]])) == 0.0


def test_pareto_mask():
    y = np.array([[1.0, 1.0], [2.0, 0.5], [0.5, 0.5], [2.0, 0.5]])
    assert pareto_mask(y).tolist() == [True, True, False, True]


def test_pareto_front_is_feasible_and_non_dominated():
    land = get_landscape()
    front = land.pareto_front()
    assert front.recipes.shape[1] == 3 and front.objectives.shape == (len(front.recipes), 3)
    assert pareto_mask(front.objectives).all()
    p = land.true_properties(front.recipes[:, 0], front.recipes[:, 1], front.recipes[:, 2])
    assert np.all(p["p_crack"] < 0.5)
    assert land.relative_hypervolume(front.objectives) == pytest.approx(1.0)
    # One paper recipe alone covers only part of the front.
    one = np.array([[1.58, 0.55, -0.018]])
    assert 0.3 < land.relative_hypervolume(one) < 1.0
    assert len(default_grid()) == 51 * 41
    assert HV_REFERENCE_POINT == (0.0, 0.0, -0.5)

"""Tests of the mechanistic worlds: paper constraints, physical ranges, variety, formulas."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from experiments.worlds import (
    OUTPUT_KEYS,
    MechanisticModel,
    MechanisticParameters,
    calibrate_to_paper,
    mechanistic_world,
    sample_mechanistic_worlds,
)
from experiments.worlds.landscapes import FEASIBLE_P_CRACK, Landscape, default_grid
from experiments.worlds.mechanistic import msc_log_theta, properties
from experiments.worlds.parameters import glass_volume_fraction
from physics.errors import ConfigError
from physics.process.model import PROPERTY_KEYS

N_WORLDS = 30
PAPER_X = np.array([0.0, 0.1, 0.2, 0.3])
PAPER_SIGMA_MS_CM = np.array([0.53, 1.19, 1.58, 1.13])
PAPER_T_E = np.array([0.153, 0.071, 0.018, 0.022])


@pytest.fixture(scope="module")
def worlds() -> list[Landscape]:
    return sample_mechanistic_worlds(N_WORLDS, seed=0)


@pytest.fixture(scope="module")
def grid_props(worlds) -> list[dict[str, np.ndarray]]:
    g = default_grid()
    return [w.true_properties(g[:, 0], g[:, 1], g[:, 2]) for w in worlds]


def test_paper_numbers_hold_in_every_world(worlds):
    for w in worlds:
        p = w.true_properties(PAPER_X, 1000.0, 6.0)
        assert np.all(np.abs(p["sigma_total_ms_cm"] / PAPER_SIGMA_MS_CM - 1) <= 0.10), w.name
        assert np.all(np.abs(p["electronic_fraction"] / PAPER_T_E - 1) <= 0.25), w.name
        assert abs(p["relative_density"][0] - 0.737) <= 0.02, w.name
        assert abs(p["relative_density"][2] - 0.998) <= 0.02, w.name
        assert abs(p["r_int_ohm_cm2"][0] / 957.4 - 1) <= 0.30, w.name
        assert abs(p["r_int_ohm_cm2"][2] / 23.3 - 1) <= 0.30, w.name
        assert abs(p["ccd_ma_cm2"][2] / 0.55 - 1) <= 0.20, w.name
        assert p["ccd_ma_cm2"][0] < 0.5 * p["ccd_ma_cm2"][2], w.name
        assert np.all(p["p_crack"] < 0.2), w.name
        # the paper's NZSP-1250: dense, R_int over 25 x that of x = 0.2
        bare = w.true_properties(0.0, 1250.0, 6.0)
        assert bare["relative_density"] >= 0.9 and bare["r_int_ohm_cm2"] > 25 * 23.3, w.name


def test_outputs_finite_and_physical_over_the_grid(worlds):
    g = default_grid()
    for w in worlds:
        for dwell_h in (1.0, 6.0, 24.0):
            p = w.true_properties(g[:, 0], g[:, 1], dwell_h)
            assert set(p) == set(OUTPUT_KEYS)
            for key, v in p.items():
                assert v.shape == (len(g),) and np.all(np.isfinite(v)), (w.name, key)
            # physical ranges everywhere
            assert np.all((p["relative_density"] > 0.5) & (p["relative_density"] <= 1.0))
            inv = 1 / p["sigma_bulk_ms_cm"] + 1 / p["sigma_gb_ms_cm"]
            np.testing.assert_allclose(1 / p["sigma_total_ms_cm"], inv, rtol=1e-10)
            assert np.all((p["electronic_fraction"] > 0) & (p["electronic_fraction"] < 1))
            for key in ("sigma_total_ms_cm", "r_int_ohm_cm2", "ccd_ma_cm2"):
                assert np.all(p[key] > 0), (w.name, key)
            assert np.all((p["p_crack"] >= 0) & (p["p_crack"] <= 1))
            # plausible values where a pellet survives the furnace (what can be measured)
            ok = p["p_crack"] < FEASIBLE_P_CRACK
            assert np.all((p["sigma_total_ms_cm"][ok] > 1e-3) & (p["sigma_total_ms_cm"][ok] < 6))
            assert np.all(p["electronic_fraction"][ok] < 0.7), w.name
            assert np.all((p["r_int_ohm_cm2"][ok] > 10) & (p["r_int_ohm_cm2"][ok] < 5e3))
            assert np.all(p["ccd_ma_cm2"][ok] < 2.0)
            ea = p["activation_energy_ev"][ok]
            assert np.all((ea > 0.2) & (ea < 0.7)), w.name


def test_worlds_differ(worlds, grid_props):
    g = default_grid()
    best = [w.best_recipe(g) for w in worlds]
    optima = {(b["zbo_fraction"], b["sinter_temperature_c"]) for b in best}
    assert len(optima) >= 20
    xs = [b["zbo_fraction"] for b in best]
    ts = [b["sinter_temperature_c"] for b in best]
    assert max(xs) - min(xs) >= 0.1 and max(ts) - min(ts) >= 150.0
    # log sigma at 1250 C: the spread across worlds, per x, is wide
    at_1250 = np.array([np.log10(p["sigma_total_ms_cm"][g[:, 1] == 1250.0]) for p in grid_props])
    spread = np.percentile(at_1250, 90, axis=0) - np.percentile(at_1250, 10, axis=0)
    assert np.median(spread) > 0.3
    feasible = [np.mean(p["p_crack"] < FEASIBLE_P_CRACK) for p in grid_props]
    assert max(feasible) - min(feasible) > 0.2


def test_dwell_matters(worlds):
    x, t = np.array([0.05, 0.1, 0.15]), 1000.0
    ratios = []
    for w in worlds:
        short, long = w.true_properties(x, t, 1.0), w.true_properties(x, t, 24.0)
        assert np.all(long["relative_density"] >= short["relative_density"] - 1e-3), w.name
        ratios.append(np.log(long["sigma_total_ms_cm"] / short["sigma_total_ms_cm"]))
    assert np.mean(np.abs(ratios)) > 0.05


def test_deterministic_by_seed():
    a, b, c = mechanistic_world(7), mechanistic_world(7), mechanistic_world(8)
    assert a.model.params == b.model.params
    assert a.model.params != c.model.params
    g = default_grid()
    pa, pb = a.true_properties(g[:, 0], g[:, 1]), b.true_properties(g[:, 0], g[:, 1])
    for key in OUTPUT_KEYS:
        np.testing.assert_array_equal(pa[key], pb[key])


def test_landscape_interface(worlds):
    assert set(OUTPUT_KEYS) == set(PROPERTY_KEYS)
    w = worlds[0]
    table = w.measure_table(default_grid()[::300], np.random.default_rng(0))
    assert len(table) == 7 and set(table["status"]) <= {"ok", "cracked"}
    front = w.pareto_front()
    assert len(front.recipes) > 0
    assert w.relative_hypervolume(front.objectives) == pytest.approx(1.0)


def test_predict_broadcasts():
    model = mechanistic_world(3).model
    x, t = np.linspace(0, 0.5, 51)[:, None], np.linspace(900, 1300, 41)[None, :]
    pred = model.predict(x, t, 6.0)
    assert pred["sigma_total_ms_cm"].shape == (51, 41)
    point = model.predict(x[20, 0], t[0, 30], 6.0)
    assert float(point["ccd_ma_cm2"]) == pytest.approx(pred["ccd_ma_cm2"][20, 30], rel=1e-12)


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"zbo_fraction": -0.1, "sinter_temperature_c": 1000.0}, "zbo_fraction"),
        ({"zbo_fraction": 0.1, "sinter_temperature_c": float("nan")}, "sinter_temperature_c"),
        ({"zbo_fraction": 0.1, "sinter_temperature_c": 1000.0, "dwell_h": 0.0}, "dwell_h"),
    ],
)
def test_bad_recipe_raises_one_clear_error(kwargs, name):
    with pytest.raises(ConfigError, match=name):
        MechanisticModel(MechanisticParameters()).predict(**kwargs)


def test_glass_volume_fraction_by_hand():
    # V_zbo = 371.61 / 3.2 cm3/mol, V_nzsp = 530.55 / 3.244 cm3/mol
    v_zbo, v_nzsp = 371.61 / 3.2, 530.55 / 3.244
    expected = 0.2 * v_zbo / (v_nzsp + 0.2 * v_zbo)
    assert float(glass_volume_fraction(0.2)) == pytest.approx(expected, rel=1e-12)
    assert expected == pytest.approx(0.12435, abs=1e-5)


def test_master_sintering_curve_by_hand():
    p = MechanisticParameters(msc_activation_energy_ev=5.5, heating_rate_c_per_h=300.0)
    k, t_k = 8.617333262e-5, 1273.15
    t_q = 6.0 + 2 * k * t_k**2 / (5.5 * 300.0)
    expected = math.log(t_q / t_k) - 5.5 / (k * t_k)
    assert float(msc_log_theta(p, 1000.0, 6.0)) == pytest.approx(expected, rel=1e-9)
    assert expected == pytest.approx(-55.46, abs=0.01)


def test_property_formulas_by_hand():
    p = MechanisticParameters()
    m = {
        "rho": np.array(1.0), "grain_um": np.array(2.0), "theta": np.array(1.0),
        "na_loss": np.array(0.0), "v_gb": np.array(0.0), "v_zro2": np.array(0.0),
        "v_zircon": np.array(0.0), "v_half": np.array(1.0), "zn_doping": np.array(0.0),
        "v_glass": np.array(0.0), "z_overfire": np.array(-100.0),
    }  # fmt: skip
    out = properties(p, m)
    # dense, no second phase: G = 1, sigma_b = sigma_g = 3 mS/cm
    assert float(out["sigma_bulk_ms_cm"]) == pytest.approx(3.0)
    # sealed boundaries, film 1.5 nm: g = 3e-6 S/cm / 1.5e-7 cm = 20 S/cm2;
    # sigma_gb = 2e-4 cm * 20 S/cm2 / (1 + (2/10)^4) = 3.9936e-3 S/cm
    sigma_gb = 2e-4 * 20.0 / (1 + 0.2**4) * 1e3
    assert float(out["sigma_gb_ms_cm"]) == pytest.approx(sigma_gb, rel=1e-9)
    sigma_t = 1 / (1 / 3.0 + 1 / sigma_gb)
    t_e = 0.025 / (0.025 + sigma_t)
    assert float(out["electronic_fraction"]) == pytest.approx(t_e, rel=1e-9)
    assert float(out["r_int_ohm_cm2"]) == pytest.approx(22.0)
    ccd = math.sqrt(1 / (2 * (1 + 0.2**4))) * (30 / 52) ** 0.4 / (1 + (t_e / 0.2) ** 1.5)
    assert float(out["ccd_ma_cm2"]) == pytest.approx(ccd, rel=1e-9)
    assert float(out["p_crack"]) == pytest.approx(1 - math.exp(-(0.02 + 0.2**4)), rel=1e-6)
    # Ea: series resistances weight the bulk and the (glass-film) boundary energies
    ea = (0.27 / 3.0 + 0.42 / sigma_gb) * sigma_t
    assert float(out["activation_energy_ev"]) == pytest.approx(ea, rel=1e-9)


def test_calibration_refuses_an_impossible_draw():
    # green density above the paper's 0.737: no solid-state curve passes through it
    assert (
        calibrate_to_paper(dataclasses.replace(MechanisticParameters(), green_density=0.8)) is None
    )

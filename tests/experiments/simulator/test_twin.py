"""The digital twin's raw data: shapes, signs, order, physics, determinism."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pytest

from experiments.cycler.models import PROTOCOLS, validate_result
from experiments.simulator.twin import (
    CcdSettings,
    Hidden,
    arrhenius_factor,
    ccd_staircase,
    dc_polarization,
    measure,
)


@dataclass(frozen=True)
class FakePellet:
    """A pellet with known truth (the landscape's Pellet fields)."""

    cracked: bool = False
    thickness_cm: float = 0.09
    area_cm2: float = 0.785
    bulk_density_g_cm3: float = 3.237
    relative_density: float = 0.998
    sigma_bulk_ms_cm: float = 2.5
    sigma_gb_ms_cm: float = 4.6
    sigma_total_ms_cm: float = 1.62
    activation_energy_ev: float = 0.28
    electronic_fraction: float = 0.018
    r_int_ohm_cm2: float = 23.3
    ccd_ma_cm2: float = 0.52


def _by_protocol(measurements: list[dict]) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for m in measurements:
        out.setdefault(m["protocol"], []).append(m)
    return out


@pytest.fixture(scope="module")
def measured() -> dict[str, list[dict]]:
    return _by_protocol(measure(FakePellet(), PROTOCOLS, np.random.default_rng(7)))


def test_all_protocols_measured_in_order_and_pass_client_validation(measured):
    pellet = FakePellet()
    result = {
        "job_id": "j-000001",
        "recipe": {"zbo_fraction": 0.2, "sinter_temperature_c": 1000.0, "dwell_h": 6.0},
        "sample": {
            "sample_id": "S-000001",
            "thickness_cm": pellet.thickness_cm,
            "area_cm2": pellet.area_cm2,
            "bulk_density_g_cm3": pellet.bulk_density_g_cm3,
        },
        "measurements": measure(pellet, PROTOCOLS, np.random.default_rng(7)),
    }
    validate_result(result, "j-000001")
    assert [m["protocol"] for m in result["measurements"]] == [
        "eis_blocking",
        "eis_blocking",
        "eis_blocking",
        "dc_polarization",
        "eis_symmetric",
        "ccd_staircase",
    ]
    assert [m["temperature_c"] for m in measured["eis_blocking"]] == [25.0, 40.0, 60.0]


def test_only_requested_protocols():
    out = measure(FakePellet(), ["dc_polarization"], np.random.default_rng(1))
    assert [m["protocol"] for m in out] == ["dc_polarization"]


def test_blocking_spectrum_shape_order_and_signs(measured):
    for m in measured["eis_blocking"]:
        f = np.array(m["frequency_hz"])
        assert f.size == 70 and f[0] == pytest.approx(7e6) and f[-1] == pytest.approx(1.0)
        assert np.all(np.diff(f) < 0)
        assert len(m["z_real_ohm"]) == len(m["z_imag_ohm"]) == 70
        assert m["electrodes"] == "Au"
    z_imag = np.array(measured["eis_blocking"][0]["z_imag_ohm"])
    assert z_imag[0] > 0  # inductive tail at 7 MHz
    assert np.all(z_imag[-20:] < 0)  # capacitive spike at low frequency
    assert -z_imag[-1] > 1e4  # blocking electrode: no arc closing


def test_blocking_high_frequency_intercept_is_bulk_and_arrhenius(measured):
    p = FakePellet()
    rb_25 = p.thickness_cm / (p.sigma_bulk_ms_cm * 1e-3 * p.area_cm2)
    rb_plus_gb = rb_25 + p.thickness_cm / (p.sigma_gb_ms_cm * 1e-3 * p.area_cm2)
    spectra = measured["eis_blocking"]
    z_real_25 = np.array(spectra[0]["z_real_ohm"])
    assert z_real_25[0] == pytest.approx(rb_25, rel=0.1)
    # Between the grain-boundary arc (apex 0.1-1 MHz) and the electrode spike, z_real ~ Rb + Rgb.
    f = np.array(spectra[0]["frequency_hz"])
    foot = (f > 5e3) & (f < 3e4)
    assert np.median(z_real_25[foot]) == pytest.approx(rb_plus_gb, rel=0.15)
    # The bulk resistance falls with temperature as Arrhenius says.
    ratio = z_real_25[0] / spectra[2]["z_real_ohm"][0]
    assert ratio == pytest.approx(arrhenius_factor(p.activation_energy_ev, 60.0), rel=0.15)


def test_arrhenius_factor_values():
    assert arrhenius_factor(0.3, 25.0) == pytest.approx(1.0)
    assert arrhenius_factor(0.3, 60.0) > 2.5
    assert arrhenius_factor(0.0, 60.0) == pytest.approx(298.15 / 333.15)


def test_symmetric_spectrum_closes_at_total_resistance(measured):
    p = FakePellet()
    (m,) = measured["eis_symmetric"]
    assert m["electrodes"] == "Na" and len(m["frequency_hz"]) == 70
    r_total = p.thickness_cm / (p.area_cm2 * 1e-3) * (1 / p.sigma_bulk_ms_cm + 1 / p.sigma_gb_ms_cm)
    r_total += p.r_int_ohm_cm2 / p.area_cm2
    assert m["z_real_ohm"][-1] == pytest.approx(r_total, rel=0.1)


def test_polarization_settles_to_electronic_share(measured):
    p = FakePellet()
    (m,) = measured["dc_polarization"]
    t, i = np.array(m["time_s"]), np.array(m["current_a"])
    assert m["voltage_v"] == 0.5 and t.size == i.size == 200
    assert t[0] == pytest.approx(0.1) and t[-1] == pytest.approx(7200) and np.all(np.diff(t) > 0)
    r_ion = p.thickness_cm / (p.area_cm2 * 1e-3) * (1 / p.sigma_bulk_ms_cm + 1 / p.sigma_gb_ms_cm)
    i0 = 0.5 / (r_ion * (1 - p.electronic_fraction))
    assert i[0] == pytest.approx(i0, rel=0.05)
    assert np.mean(i[-10:]) == pytest.approx(p.electronic_fraction * i0, rel=0.03)
    assert np.all(i > 0)


@pytest.mark.parametrize("seed", range(8))
def test_polarization_settled_for_any_hidden_draw(seed):
    p = FakePellet()
    hidden = Hidden.draw(np.random.default_rng(seed))
    m = dc_polarization(p, hidden, np.random.default_rng(seed))
    r_ion = p.thickness_cm / (p.area_cm2 * 1e-3) * (1 / p.sigma_bulk_ms_cm + 1 / p.sigma_gb_ms_cm)
    iss = p.electronic_fraction * 0.5 / (r_ion * (1 - p.electronic_fraction))
    assert np.mean(m["current_a"][-5:]) == pytest.approx(iss, rel=0.02)
    assert m["time_s"][-1] >= 10 * max(hidden.decay_tau_s)  # at least ten slowest decay times


def _steps_reached(m: dict) -> np.ndarray:
    return np.unique(np.abs(np.round(m["current_ma_cm2"], 6)))


def _shorted(m: dict, settings: CcdSettings) -> bool:
    v, i = np.abs(np.asarray(m["voltage_v"])), np.abs(np.asarray(m["current_ma_cm2"]))
    per_step = round(settings.half_cycle_s / settings.sample_every_s) * 2 * settings.cycles_per_step
    last = slice(-per_step // 10, None)
    return bool(np.median(v[last] / i[last]) < 0.02)  # below 20 ohm cm2: ohmic short


def test_staircase_shorts_at_first_step_above_ccd():
    settings = CcdSettings()
    p = FakePellet(ccd_ma_cm2=0.52)
    m = ccd_staircase(p, Hidden.draw(np.random.default_rng(3)), np.random.default_rng(3), settings)
    steps = _steps_reached(m)
    assert steps[-1] == pytest.approx(0.55)  # the first step above 0.52
    assert _shorted(m, settings)
    n = len(m["time_s"])
    assert n == len(m["current_ma_cm2"]) == len(m["voltage_v"]) == 11 * 300
    assert np.all(np.diff(m["time_s"]) == 60.0) and m["time_s"][0] == 0.0
    # Before the short: voltage has the sign of the current, and the steps before are intact.
    v, i = np.asarray(m["voltage_v"]), np.asarray(m["current_ma_cm2"])
    before = slice(0, 10 * 300)
    assert np.all(np.sign(v[before]) == np.sign(i[before]))
    assert np.min(np.abs(v[before]) / np.abs(i[before])) > 0.05  # ASR > 50 ohm cm2: no short


def test_staircase_survives_when_ccd_above_max():
    settings = CcdSettings()
    m = ccd_staircase(
        FakePellet(ccd_ma_cm2=1.4),
        Hidden.draw(np.random.default_rng(4)),
        np.random.default_rng(4),
        settings,
    )
    assert _steps_reached(m)[-1] == pytest.approx(1.0)
    assert len(m["time_s"]) == 20 * 300
    assert not _shorted(m, settings)
    assert m["time_s"][-1] == 359940.0


def test_staircase_ccd_below_first_step_shorts_in_first_step():
    settings = CcdSettings()
    m = ccd_staircase(
        FakePellet(ccd_ma_cm2=0.01),
        Hidden.draw(np.random.default_rng(5)),
        np.random.default_rng(5),
        settings,
    )
    assert len(m["time_s"]) == 300 and _shorted(m, settings)


def test_deterministic_given_seed_and_independent_of_other_protocols():
    p = FakePellet()
    a = measure(p, PROTOCOLS, np.random.default_rng([11, 3]))
    b = measure(p, PROTOCOLS, np.random.default_rng([11, 3]))
    c = measure(p, PROTOCOLS, np.random.default_rng([11, 4]))
    assert a == b and a != c
    only_ccd = measure(p, ["ccd_staircase"], np.random.default_rng([11, 3]))
    assert only_ccd[0] == a[-1]


def test_lower_conductivity_gives_larger_resistance():
    good = measure(FakePellet(), ["eis_blocking"], np.random.default_rng(0))[0]
    poor = measure(
        replace(FakePellet(), sigma_gb_ms_cm=0.5), ["eis_blocking"], np.random.default_rng(0)
    )[0]
    assert poor["z_real_ohm"][35] > good["z_real_ohm"][35] + 150


def test_same_hidden_parameters_same_cell_new_noise():
    p = FakePellet(ccd_ma_cm2=0.42)
    hidden = Hidden.draw(np.random.default_rng([5, 1, 1]))
    first = measure(p, ["ccd_staircase"], np.random.default_rng([5, 1, 1]))[0]
    again = measure(p, ["ccd_staircase"], np.random.default_rng([5, 9, 1]), hidden=hidden)[0]
    other = measure(p, ["ccd_staircase"], np.random.default_rng([5, 9, 1]))[0]
    # The first measurement drew exactly these hidden parameters: the cell shorts at the
    # same step, the same fraction into it; the noise differs.
    assert len(again["time_s"]) == len(first["time_s"])
    assert again["voltage_v"] != first["voltage_v"]
    v1, v2, v3 = (np.abs(np.array(m["voltage_v"])) for m in (first, again, other))
    assert np.median(np.abs(v2 - v1)) < np.median(np.abs(v3 - v1))

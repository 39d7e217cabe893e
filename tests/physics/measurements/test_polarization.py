"""Tests of physics.measurements.polarization on synthetic decays, bad input and the cycler example result."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from physics.errors import AnalysisError
from physics.measurements.polarization import (
    PolarizationResult,
    analyze_polarization,
    decay_current_a,
)
from physics.plotting.measurements import plot_polarization

EXAMPLE = Path(__file__).resolve().parents[3] / ".." / "shared" / "cycler-example-result.json"


def _decay(t, iss, amps, taus):
    return iss + sum(a * np.exp(-t / tau) for a, tau in zip(amps, taus, strict=True))


@pytest.fixture
def log_time():
    return np.concatenate([[0.1], np.geomspace(1.0, 20000.0, 250)])


def test_two_exponentials_with_noise(log_time):
    rng = np.random.default_rng(0)
    iss, amps, taus = 2e-5, [4e-4, 3e-4], [30.0, 600.0]  # I0 = 7.2e-4, t_e = 0.02778
    current = _decay(log_time, iss, amps, taus) + rng.normal(0, 1e-6, log_time.size)
    r = analyze_polarization(log_time, current, voltage_v=0.5, thickness_cm=0.09, area_cm2=0.785)
    assert isinstance(r, PolarizationResult)
    assert r.iss_a == pytest.approx(iss, rel=0.03)
    assert r.i0_a == pytest.approx(7.2e-4, rel=0.02)
    assert r.electronic_fraction == pytest.approx(iss / 7.2e-4, rel=0.05)
    assert 0 < r.iss_stderr_a < 2e-6
    assert r.settled, r.notes
    assert r.tau_s == pytest.approx(600.0, rel=0.1)
    # sigma_e = Iss L / (V A)
    assert r.sigma_e_s_cm == pytest.approx(r.iss_a * 0.09 / (0.5 * 0.785))
    assert r.fit_current_a.shape == current.shape
    assert np.sqrt(np.mean((r.fit_current_a - current) ** 2)) < 2e-6


def test_single_exponential_linear_time_negative_voltage():
    rng = np.random.default_rng(1)
    t = np.linspace(0.0, 3600.0, 400)  # a t = 0 first point is allowed
    clean = _decay(t, 1e-6, [9e-6], [200.0])  # I0 = 1e-5, t_e = 0.1
    current = -(clean + rng.normal(0, 5e-8, t.size))
    r = analyze_polarization(t, current, voltage_v=-1.0)
    assert r.iss_a == pytest.approx(1e-6, rel=0.03)
    assert r.i0_a == pytest.approx(1e-5, rel=0.02)
    assert r.electronic_fraction == pytest.approx(0.1, rel=0.04)
    assert r.settled
    assert r.sigma_e_s_cm is None  # no L, A given
    assert np.all(r.fit_current_a < 0)  # signed like the data
    assert r.fitted_current_a(np.array([0.0]))[0] == pytest.approx(-r.i0_a)


def test_stretched_decay():
    t = np.geomspace(0.5, 1e5, 300)
    current = 5e-5 + 1e-3 * np.exp(-((t / 300.0) ** 0.5))
    r = analyze_polarization(t, current, voltage_v=0.5)
    assert r.iss_a == pytest.approx(5e-5, rel=0.05)
    assert r.electronic_fraction == pytest.approx(5e-5 / 1.05e-3, rel=0.06)


def test_unsettled_record_is_flagged(log_time):
    rng = np.random.default_rng(2)
    t = log_time[log_time <= 2000.0]
    current = _decay(t, 1e-4, [5e-3], [2000.0]) + rng.normal(0, 2e-6, t.size)
    r = analyze_polarization(t, current, voltage_v=0.5)
    assert not r.settled
    assert any("not settled" in n for n in r.notes)
    assert r.remaining_a > 0.05 * r.iss_a
    # the last point overestimates the asymptote; the fit goes below it
    assert r.iss_a < current[-1]


def test_almost_settled_record_uses_asymptote_not_last_point():
    """The last point still sits 10 % above Iss: Iss from the fit, the record is not settled."""
    t = np.geomspace(1.0, 3000.0, 200)
    tau = 3000.0 / np.log(1e-3 / 1e-5)  # a * exp(-t_end / tau) = 0.1 * Iss
    current = _decay(t, 1e-4, [1e-3], [tau])
    r = analyze_polarization(t, current, voltage_v=0.5)
    assert current[-1] == pytest.approx(1.1e-4, rel=1e-6)
    assert r.iss_a == pytest.approx(1e-4, rel=0.01)
    assert not r.settled


def test_coarse_start_falls_back_to_first_point():
    t = np.geomspace(100.0, 1e5, 100)  # the 50 s decay is mostly over at the first sample
    current = _decay(t, 1e-5, [1e-2, 1e-4], [50.0, 2000.0])
    r = analyze_polarization(t, current, voltage_v=0.5)
    assert r.i0_a == pytest.approx(current[0])
    assert any("first point" in n for n in r.notes)


def test_decay_current_formulas():
    t = np.array([0.0, 10.0])
    out = decay_current_a(
        t, "exp2", {"iss_a": 1.0, "amplitudes_a": [2.0, 3.0], "taus_s": [10.0, 20.0]}
    )
    np.testing.assert_allclose(out, [6.0, 1 + 2 / np.e + 3 / np.sqrt(np.e)])
    out = decay_current_a(
        t, "stretched", {"iss_a": 1.0, "amplitudes_a": [2.0], "taus_s": [40.0], "beta": 0.5}
    )
    np.testing.assert_allclose(out, [3.0, 1 + 2 * np.exp(-0.5)])
    with pytest.raises(AnalysisError, match="unknown decay model 'exp9'"):
        decay_current_a(t, "exp9", {"iss_a": 1.0})


@pytest.mark.parametrize(
    ("time_s", "current_a", "kwargs", "match"),
    [
        (np.arange(1.0, 21.0), np.r_[np.nan, np.ones(19)], {}, "NaN"),
        (np.arange(-1.0, 19.0), np.geomspace(1, 0.1, 20), {}, "negative"),
        (np.zeros(20), np.geomspace(1, 0.1, 20), {}, "increase strictly"),
        (np.r_[1.0, 2.0, 2.0, np.arange(4.0, 21.0)], np.geomspace(1, 0.1, 20), {}, "strictly"),
        (np.arange(1.0, 21.0), np.geomspace(1, 0.1, 19), {}, "one length"),
        (np.arange(1.0, 21.0), np.geomspace(0.1, 1, 20), {}, "increases"),
        (np.arange(1.0, 6.0), np.geomspace(1, 0.1, 5), {}, "at least 8"),
        (np.arange(1.0, 21.0), np.geomspace(1, 0.1, 20), {"voltage_v": 0.0}, "non-zero"),
        (np.arange(1.0, 21.0), -np.geomspace(1, 0.1, 20), {}, "opposite sign"),
        (np.arange(1.0, 21.0), np.geomspace(1, 0.1, 20), {"thickness_cm": -1.0}, "thickness"),
    ],
)
def test_bad_input(time_s, current_a, kwargs, match):
    kw = {"voltage_v": 0.5, **kwargs}
    with pytest.raises(AnalysisError, match=match):
        analyze_polarization(time_s, current_a, **kw)


def test_flat_noise_is_no_decay():
    rng = np.random.default_rng(3)
    current = 1e-5 + rng.normal(0, 1e-7, 100)
    current[:10] = np.sort(current[:10])[::-1] + 1e-9  # no trend beyond noise
    with pytest.raises(AnalysisError, match=r"(no decay|increases)"):
        analyze_polarization(np.arange(1.0, 101.0), current, voltage_v=0.5)


@pytest.mark.skipif(not EXAMPLE.is_file(), reason=f"{EXAMPLE} not found (shared/ beside the repo)")
def test_cycler_example_result(tmp_path):
    doc = json.loads(EXAMPLE.read_text())
    m = next(x for x in doc["measurements"] if x["protocol"] == "dc_polarization")
    sample = doc["sample"]
    r = analyze_polarization(
        m["time_s"],
        m["current_a"],
        voltage_v=m["voltage_v"],
        thickness_cm=sample["thickness_cm"],
        area_cm2=sample["area_cm2"],
    )
    assert 0 < r.electronic_fraction < 1
    assert r.settled
    assert r.iss_a == pytest.approx(1.433e-4, rel=0.01)  # the flat tail after ~3000 s
    assert r.i0_a == pytest.approx(5.83e-3, rel=0.02)
    assert r.electronic_fraction == pytest.approx(0.0246, abs=0.001)
    assert r.sigma_e_s_cm == pytest.approx(3.86e-5, rel=0.02)
    out = plot_polarization(r, tmp_path / "pol.png")
    assert out.is_file() and out.stat().st_size > 5000

"""Tests of physics.measurements.ccd on synthetic staircases, bad input and the cycler example result."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from physics.errors import AnalysisError
from physics.measurements.ccd import CCDResult, CCDStep, analyze_ccd
from physics.plotting.measurements import plot_ccd

EXAMPLE = Path(__file__).resolve().parents[3] / ".." / "shared" / "cycler-example-result.json"
PROTOCOL = {
    "start_ma_cm2": 0.05,
    "step_ma_cm2": 0.05,
    "max_ma_cm2": 0.5,
    "cycles_per_step": 3,
    "half_cycle_s": 600.0,
}


def staircase(
    *,
    short_time_s: float | None = None,
    asr_ohm_cm2: float = 200.0,
    noise_v: float = 3e-4,
    short_noise_v: float = 1.5e-3,
    dt_s: float = 30.0,
    stop_ma_cm2: float | None = None,
    seed: int = 0,
    protocol: dict | None = None,
):
    """A galvanostatic staircase: V = j * ASR (with a 20 % transient) until the short, then
    V = j * 2 ohm cm2 + noise."""
    p = {**PROTOCOL, **(protocol or {})}
    rng = np.random.default_rng(seed)
    top = p["max_ma_cm2"] if stop_ma_cm2 is None else stop_ma_cm2
    n_steps = round((top - p["start_ma_cm2"]) / p["step_ma_cm2"]) + 1
    half = p["half_cycle_s"]
    per_step = 2 * p["cycles_per_step"] * half
    t = np.arange(0.0, n_steps * per_step, dt_s)
    k = np.floor(t / per_step).astype(int)
    j = (p["start_ma_cm2"] + k * p["step_ma_cm2"]) * np.where(np.floor(t / half) % 2 == 0, 1, -1)
    in_half = (t % half) / half
    v = j * asr_ohm_cm2 / 1000.0 * (1 + 0.2 * np.exp(-in_half / 0.05)) + rng.normal(
        0, noise_v, t.size
    )
    if short_time_s is not None:
        after = t >= short_time_s
        v[after] = j[after] * 2.0 / 1000.0 + rng.normal(0, short_noise_v, after.sum())
    return t, j, v


def test_short_detected_with_noise():
    per_step = 2 * 3 * 600.0
    t_short = 4 * per_step + 1500.0  # in the 5th step (0.25 mA/cm2), 3rd half cycle
    t, j, v = staircase(short_time_s=t_short)
    r = analyze_ccd(t, j, v, **PROTOCOL)
    assert isinstance(r, CCDResult)
    assert r.ccd_ma_cm2 == pytest.approx(0.25)
    assert r.last_passed_ma_cm2 == pytest.approx(0.20)
    assert not r.censored
    assert r.short_time_s == pytest.approx(t_short, abs=30.0)
    assert [s.current_density_ma_cm2 for s in r.steps] == pytest.approx(
        [0.05, 0.1, 0.15, 0.2, 0.25]
    )
    assert [s.shorted for s in r.steps] == [False, False, False, False, True]
    assert all(isinstance(s, CCDStep) for s in r.steps)
    # polarization = j * ASR in the second halves of the half cycles (transient decayed)
    for s in r.steps[:4]:
        assert s.polarization_v == pytest.approx(s.current_density_ma_cm2 * 0.2, rel=0.03)
        assert s.complete
    assert not r.steps[-1].complete
    assert r.pre_short_asr_ohm_cm2 == pytest.approx(200.0, rel=0.05)
    assert abs(r.short_asr_ohm_cm2) < 10.0
    assert any("after the short" in n for n in r.notes)


def test_no_short_is_censored():
    t, j, v = staircase(seed=1)
    r = analyze_ccd(t, j, v, **PROTOCOL)
    assert r.censored
    assert r.ccd_ma_cm2 == pytest.approx(0.5)
    assert r.last_passed_ma_cm2 == pytest.approx(0.5)
    assert r.short_time_s is None and r.short_index is None
    assert len(r.steps) == 10 and not any(s.shorted for s in r.steps)
    assert r.notes == []


def test_data_stop_before_max_without_short():
    t, j, v = staircase(stop_ma_cm2=0.3, seed=2)
    r = analyze_ccd(t, j, v, **PROTOCOL)
    assert r.censored and r.ccd_ma_cm2 == pytest.approx(0.3)
    assert any("before the planned max" in n for n in r.notes)
    # and a record cut in the middle of its last step
    cut = t < t[-1] - 1000.0
    r = analyze_ccd(t[cut], j[cut], v[cut], **PROTOCOL)
    assert r.censored and r.ccd_ma_cm2 == pytest.approx(0.3)
    assert r.last_passed_ma_cm2 == pytest.approx(0.25)
    assert any("incomplete" in n for n in r.notes)


def test_data_stop_after_short():
    t_short = 2 * 3600.0 + 900.0  # 0.15 mA/cm2
    t, j, v = staircase(short_time_s=t_short, seed=3)
    keep = t < t_short + 1200.0
    r = analyze_ccd(t[keep], j[keep], v[keep], **PROTOCOL)
    assert r.ccd_ma_cm2 == pytest.approx(0.15) and not r.censored
    assert r.last_passed_ma_cm2 == pytest.approx(0.10)


def test_short_on_first_step():
    t, j, v = staircase(short_time_s=1300.0, seed=4)
    r = analyze_ccd(t, j, v, **PROTOCOL)
    assert r.ccd_ma_cm2 == pytest.approx(0.05)
    assert r.last_passed_ma_cm2 is None
    assert not r.censored
    assert r.short_time_s == pytest.approx(1300.0, abs=30.0)
    assert len(r.steps) == 1 and r.steps[0].shorted


def test_short_in_first_half_cycle_and_from_start():
    t, j, v = staircase(short_time_s=300.0, seed=5)
    r = analyze_ccd(t, j, v, **PROTOCOL)
    assert r.ccd_ma_cm2 == pytest.approx(0.05) and r.last_passed_ma_cm2 is None
    assert r.short_time_s == pytest.approx(300.0, abs=30.0)
    t, j, v = staircase(short_time_s=0.0, seed=6)
    r = analyze_ccd(t, j, v, **PROTOCOL)
    assert r.ccd_ma_cm2 == pytest.approx(0.05) and r.short_time_s == 0.0
    assert any("from the first point" in n for n in r.notes)


def test_short_near_noise_floor():
    """A low-ASR cell whose voltage is only ~4x the noise at 0.05 mA/cm2: after the short the
    voltage is noise (|V| only ~3x lower, but its sign no longer follows j): found."""
    t, j, v = staircase(
        short_time_s=1300.0, asr_ohm_cm2=80.0, noise_v=1e-3, short_noise_v=2e-3, seed=7
    )
    r = analyze_ccd(t, j, v, **PROTOCOL)
    assert r.ccd_ma_cm2 == pytest.approx(0.05)
    assert r.short_time_s == pytest.approx(1300.0, abs=120.0)
    assert r.steps[0].polarization_v == pytest.approx(0.004, abs=6e-4)


def test_opposite_voltage_sign_convention():
    t_short = 3 * 3600.0 + 1000.0
    t, j, v = staircase(short_time_s=t_short, seed=10)
    r = analyze_ccd(t, j, -v, **PROTOCOL)
    assert r.ccd_ma_cm2 == pytest.approx(0.2)
    assert r.short_time_s == pytest.approx(t_short, abs=30.0)
    assert any("flipped" in n for n in r.notes)


def test_transient_collapse_is_not_a_short():
    t, j, v = staircase(seed=8)
    dip = (t >= 5000.0) & (t < 5600.0)  # one half cycle at 0.1 mA/cm2 drops, then recovers
    v[dip] *= 0.05
    r = analyze_ccd(t, j, v, **PROTOCOL)
    assert r.censored and r.ccd_ma_cm2 == pytest.approx(0.5)
    assert any("transient" in n for n in r.notes)


def test_butler_volmer_like_decreasing_asr_is_not_a_short():
    """Polarization growing slower than j (ASR falls 3x over the staircase) is healthy."""
    t, j, v = staircase(seed=9)
    v = v / (1 + 4.0 * np.abs(j))
    r = analyze_ccd(t, j, v, **PROTOCOL)
    assert r.censored


@pytest.mark.parametrize(
    ("mutate", "kw", "match"),
    [
        (lambda t, j, v: (t, j, v[:-1]), {}, "one length"),
        (lambda t, j, v: (t, j, np.r_[np.nan, v[1:]]), {}, "NaN"),
        (lambda t, j, v: (t[::-1], j, v), {}, "increase strictly"),
        (lambda t, j, v: (t, j * 1.3, v), {}, "not on the staircase"),
        (lambda t, j, v: (t, j[::-1], v), {}, "not a rising staircase"),
        (lambda t, j, v: (t, j * 0, v), {}, "zero throughout"),
        (lambda t, j, v: (t, j, v), {"step_ma_cm2": 0.0}, "step_ma_cm2"),
        (lambda t, j, v: (t, j, v), {"cycles_per_step": 2.5}, "positive integer"),
        (lambda t, j, v: (t, j, v), {"max_ma_cm2": 0.01}, "below start"),
        (lambda t, j, v: (t, j, v), {"half_cycle_s": 60.0}, "too coarse"),
    ],
)
def test_bad_input(mutate, kw, match):
    t, j, v = mutate(*staircase(stop_ma_cm2=0.15))
    with pytest.raises(AnalysisError, match=match):
        analyze_ccd(t, j, v, **{**PROTOCOL, **kw})


def test_plot(tmp_path):
    t, j, v = staircase(short_time_s=5000.0)
    out = plot_ccd(analyze_ccd(t, j, v, **PROTOCOL), tmp_path / "ccd.png")
    assert out.is_file() and out.stat().st_size > 5000


@pytest.mark.skipif(not EXAMPLE.is_file(), reason=f"{EXAMPLE} not found (shared/ beside the repo)")
def test_cycler_example_result(tmp_path):
    doc = json.loads(EXAMPLE.read_text())
    m = next(x for x in doc["measurements"] if x["protocol"] == "ccd_staircase")
    keys = ("start_ma_cm2", "step_ma_cm2", "max_ma_cm2", "cycles_per_step", "half_cycle_s")
    r = analyze_ccd(m["time_s"], m["current_ma_cm2"], m["voltage_v"], **{k: m[k] for k in keys})
    assert r.ccd_ma_cm2 == pytest.approx(0.6)
    assert r.last_passed_ma_cm2 == pytest.approx(0.55)
    assert not r.censored
    assert r.short_time_s == pytest.approx(199800.0)  # 2nd half cycle of the 0.6 step
    assert len(r.steps) == 12
    assert r.steps[0].polarization_v == pytest.approx(0.0128, abs=5e-4)
    assert r.steps[-2].polarization_v == pytest.approx(0.1406, abs=2e-3)
    assert r.pre_short_asr_ohm_cm2 == pytest.approx(255.0, rel=0.05)
    assert plot_ccd(r, tmp_path / "ccd.png").is_file()

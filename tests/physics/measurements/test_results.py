"""Cycler result -> measurement-table row, on the shipped example and on synthetic results."""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path

import numpy as np
import pytest

from physics.errors import AnalysisError
from physics.measurements.results import analyze_result
from physics.plotting.measurements import plot_analysis
from physics.schema import MEASUREMENT_COLUMNS
from physics.table import validate_table

EXAMPLE = (
    Path(__file__).resolve().parents[3]
    / "experiments"
    / "samples"
    / "example-result-x0.15-1050C.json"
)
KB_EV = 8.617333262e-5


@pytest.fixture(scope="module")
def example() -> dict:
    return json.loads(EXAMPLE.read_text())


def _arc(omega, r, q, alpha):
    return r / (1 + r * q * (1j * omega) ** alpha)


def _synthetic_result(
    *,
    rb_ohm=60.0,
    rgb_ohm=40.0,
    rint_ohm=30.0,
    ea_ev=0.30,
    t_e=0.03,
    ccd_ma_cm2=0.35,
    seed=1,
) -> dict:
    """A result written from known truth with closed-form impedances (independent of physics/)."""
    rng = np.random.default_rng(seed)
    f = np.logspace(np.log10(7e6), 0, 70)
    w = 2 * np.pi * f
    area, thickness = 0.785, 0.095

    def noisy(z):
        scale = 0.003 * np.abs(z)
        return z + scale * (rng.standard_normal(z.size) + 1j * rng.standard_normal(z.size))

    measurements = []
    for t_c in (25.0, 40.0, 60.0):
        t_k, t25 = t_c + 273.15, 298.15
        # sigma T = A exp(-Ea / kT) -> R(T) = R25 * (T / T25) * exp(Ea/k (1/T - 1/T25))
        scale = (t_k / t25) * math.exp(ea_ev / KB_EV * (1 / t_k - 1 / t25))
        z = rb_ohm * scale + _arc(w, rgb_ohm * scale, 2e-9, 0.9) + 1 / (1e-6 * (1j * w) ** 0.85)
        z = noisy(z)
        measurements.append(
            {
                "protocol": "eis_blocking",
                "temperature_c": t_c,
                "electrodes": "Au",
                "frequency_hz": f.tolist(),
                "z_real_ohm": z.real.tolist(),
                "z_imag_ohm": z.imag.tolist(),
            }
        )
    t = np.logspace(-1, np.log10(7200), 200)
    i0 = 0.5 / (rb_ohm + rgb_ohm)
    current = i0 * (t_e + (1 - t_e) * np.exp(-t / 150.0))
    current = current * (1 + 0.002 * rng.standard_normal(t.size))
    measurements.append(
        {
            "protocol": "dc_polarization",
            "temperature_c": 25.0,
            "electrodes": "Au",
            "voltage_v": 0.5,
            "time_s": t.tolist(),
            "current_a": current.tolist(),
        }
    )
    z = rb_ohm + _arc(w, rgb_ohm, 2e-9, 0.9) + _arc(w, rint_ohm, 2e-5, 0.85)
    z = noisy(z)
    measurements.append(
        {
            "protocol": "eis_symmetric",
            "temperature_c": 25.0,
            "electrodes": "Na",
            "frequency_hz": f.tolist(),
            "z_real_ohm": z.real.tolist(),
            "z_imag_ohm": z.imag.tolist(),
        }
    )
    # Staircase: 0.05 -> 1.0 mA/cm2, 5 cycles per step, 1800 s half cycles, sampled every 60 s.
    asr_ohm_cm2 = (rb_ohm + rgb_ohm + rint_ohm) * area
    times, currents, volts = [], [], []
    clock, shorted = 0.0, False
    for k in range(20):
        j = round(0.05 + 0.05 * k, 10)
        for half in range(10):
            sign = 1.0 if half % 2 == 0 else -1.0
            for s in range(30):
                if not shorted and j > ccd_ma_cm2 and half >= 3:
                    shorted = True
                if shorted:
                    v = sign * j * 1e-3 * 2.0 + 2e-4 * rng.standard_normal()
                else:
                    v = (
                        sign * j * 1e-3 * asr_ohm_cm2 * (1 + 0.3 * (1 - math.exp(-s / 5)))
                        + 2e-4 * rng.standard_normal()
                    )
                times.append(clock)
                currents.append(sign * j)
                volts.append(v)
                clock += 60.0
        if shorted:
            break
    measurements.append(
        {
            "protocol": "ccd_staircase",
            "temperature_c": 25.0,
            "electrodes": "Na",
            "start_ma_cm2": 0.05,
            "step_ma_cm2": 0.05,
            "max_ma_cm2": 1.0,
            "cycles_per_step": 5,
            "half_cycle_s": 1800.0,
            "time_s": times,
            "current_ma_cm2": currents,
            "voltage_v": volts,
        }
    )
    return {
        "job_id": "j-synthetic",
        "recipe": {"zbo_fraction": 0.2, "sinter_temperature_c": 1000.0, "dwell_h": 6.0},
        "sample": {
            "sample_id": "S-syn",
            "thickness_cm": thickness,
            "area_cm2": area,
            "bulk_density_g_cm3": 3.2,
        },
        "measurements": measurements,
    }


def test_example_result_gives_a_complete_plausible_row(example):
    analysis = analyze_result(example)
    row = analysis.row
    assert list(row) == list(MEASUREMENT_COLUMNS)
    assert row["source"] == example["job_id"]
    assert row["sample_id"] == example["sample"]["sample_id"]
    assert row["relative_density"] == pytest.approx(3.2035 / 3.244)
    assert row["zbo_fraction"] == 0.15 and row["sinter_temperature_c"] == 1050.0
    assert 0.05 < row["sigma_total_ms_cm"] < 10
    assert row["sigma_total_ms_cm"] < min(row["sigma_bulk_ms_cm"], row["sigma_gb_ms_cm"])
    # series resistances: 1/sigma_total = 1/sigma_bulk + 1/sigma_gb
    assert 1 / row["sigma_total_ms_cm"] == pytest.approx(
        1 / row["sigma_bulk_ms_cm"] + 1 / row["sigma_gb_ms_cm"], rel=1e-9
    )
    assert 0.1 < row["activation_energy_ev"] < 0.6
    assert 0 < row["electronic_fraction"] < 1
    assert row["r_int_ohm_cm2"] > 0
    assert row["ccd_ma_cm2"] > 0 and isinstance(row["ccd_censored"], bool)
    validate_table(__import__("pandas").DataFrame([row]))  # the row is a valid table row


def test_synthetic_result_recovers_the_truth():
    truth = dict(rb_ohm=60.0, rgb_ohm=40.0, rint_ohm=30.0, ea_ev=0.30, t_e=0.03, ccd_ma_cm2=0.35)
    result = _synthetic_result(**truth)
    row = analyze_result(result).row
    area, thickness = 0.785, 0.095
    expected_total = thickness / ((truth["rb_ohm"] + truth["rgb_ohm"]) * area) * 1000
    assert row["sigma_total_ms_cm"] == pytest.approx(expected_total, rel=0.03)
    assert row["sigma_bulk_ms_cm"] == pytest.approx(
        thickness / (truth["rb_ohm"] * area) * 1000, rel=0.08
    )
    assert row["activation_energy_ev"] == pytest.approx(truth["ea_ev"], abs=0.02)
    assert row["electronic_fraction"] == pytest.approx(truth["t_e"], rel=0.1)
    assert row["r_int_ohm_cm2"] == pytest.approx(truth["rint_ohm"] * area, rel=0.1)
    # shorts on the 0.40 mA/cm2 step (first above 0.35), last passed 0.35
    assert row["ccd_ma_cm2"] == pytest.approx(0.40)
    assert row["ccd_censored"] is False


def test_broken_payloads_are_rejected_naming_the_problem(example):
    bad = copy.deepcopy(example)
    bad["measurements"][0]["z_real_ohm"][5] = float("nan")
    with pytest.raises(AnalysisError, match=r"eis_blocking.*z_real_ohm\[5\]"):
        analyze_result(bad)
    bad = copy.deepcopy(example)
    del bad["measurements"][3]["current_a"]
    with pytest.raises(AnalysisError, match=r"dc_polarization.*current_a"):
        analyze_result(bad)
    bad = copy.deepcopy(example)
    bad["measurements"][5]["voltage_v"] = bad["measurements"][5]["voltage_v"][:-3]
    with pytest.raises(AnalysisError, match="differ in length"):
        analyze_result(bad)
    bad = copy.deepcopy(example)
    bad["measurements"][0]["protocol"] = "eis_mystery"
    with pytest.raises(AnalysisError, match="unknown protocol 'eis_mystery'"):
        analyze_result(bad)
    bad = copy.deepcopy(example)
    del bad["sample"]
    with pytest.raises(AnalysisError, match="sample"):
        analyze_result(bad)
    with pytest.raises(AnalysisError, match="JSON object"):
        analyze_result([1, 2, 3])  # type: ignore[arg-type]


def test_only_requested_protocols_fill_their_columns(example):
    partial = copy.deepcopy(example)
    partial["measurements"] = [
        m for m in partial["measurements"] if m["protocol"] == "eis_blocking"
    ]
    row = analyze_result(partial).row
    assert row["sigma_total_ms_cm"] is not None
    assert (
        row["electronic_fraction"] is None
        and row["ccd_ma_cm2"] is None
        and row["r_int_ohm_cm2"] is None
    )


def test_plots_are_written(example, tmp_path):
    paths = plot_analysis(analyze_result(example), tmp_path)
    names = " ".join(p.name for p in paths)
    for part in ("eis_blocking_25C", "eis_symmetric_25C", "arrhenius", "polarization", "ccd"):
        assert part in names
    assert all(p.stat().st_size > 5000 for p in paths)


def test_an_unanalysable_part_leaves_its_columns_empty_with_a_note(example):
    flat = copy.deepcopy(example)
    pol = next(m for m in flat["measurements"] if m["protocol"] == "dc_polarization")
    pol["current_a"] = list(
        np.linspace(1e-4, 5e-3, len(pol["time_s"]))
    )  # rising: no decay to analyse
    analysis = analyze_result(flat)
    assert analysis.row["electronic_fraction"] is None
    assert analysis.row["sigma_total_ms_cm"] is not None
    assert any(note.startswith("dc_polarization: not analysed") for note in analysis.notes)


def test_unresolved_resistance_leaves_sigma_empty_with_the_reason():
    # no bulk resistance at all: R0 is not determined by the spectra, so no sigma from it
    analysis = analyze_result(_synthetic_result(rb_ohm=1e-9))
    row = analysis.row
    assert row["sigma_total_ms_cm"] is None and row["sigma_bulk_ms_cm"] is None
    assert row["activation_energy_ev"] is None
    assert any(
        n.startswith("eis_blocking@25C: sigma not computed, R0 unresolved") for n in analysis.notes
    ), analysis.notes
    assert "R0" in analysis.fits["eis_blocking@25C"].unresolved

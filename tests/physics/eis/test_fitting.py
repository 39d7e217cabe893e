"""Tests of physics.eis.fitting and physics.eis.initial_guess: recovery, example data, inputs, plots."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from physics.eis.batch_guess import guess_batch
from physics.eis.circuits import Circuit
from physics.eis.fitting import (
    DEFAULT_CIRCUIT,
    choose_circuit,
    fit_batch,
    fit_spectrum,
    initial_guess,
)
from physics.eis.initial_guess import guess_vector
from physics.eis.spectrum import Spectrum
from physics.errors import AnalysisError, CircuitError, FitError
from physics.plotting.eis import plot_fit

_REPO = Path(__file__).resolve().parents[3]
EXAMPLE = _REPO / "experiments" / "samples" / "example-result-x0.15-1050C.json"
if not EXAMPLE.exists():  # the same file as shipped to the team
    EXAMPLE = _REPO.parent / "shared" / "cycler-example-result.json"
F_HZ = np.logspace(6, -1, 71)


def two_arc(r0, r1, a1, f1, r2, a2, f2):
    """Parameters of R0-p(R1,CPE1)-p(R2,CPE2) with Q = 1 / (R (2 pi f_apex)^alpha)."""
    return np.array([r0, r1, 1 / (r1 * (2 * np.pi * f1) ** a1), a1,
                     r2, 1 / (r2 * (2 * np.pi * f2) ** a2), a2])  # fmt: skip


def noisy(z, rel, seed):
    rng = np.random.default_rng(seed)
    return z + rel * np.abs(z) * (rng.normal(size=z.shape) + 1j * rng.normal(size=z.shape))


def example_spectra() -> dict[str, Spectrum]:
    if not EXAMPLE.exists():
        pytest.skip(f"example cycler result not found at {EXAMPLE}")
    data = json.loads(EXAMPLE.read_text())
    out = {}
    for m in data["measurements"]:
        if m["protocol"].startswith("eis") and m["protocol"] not in out:
            out[m["protocol"]] = Spectrum.from_arrays(
                m["frequency_hz"], m["z_real_ohm"], m["z_imag_ohm"], source=m["protocol"]
            )
    return out


# ------------------------------------------------------------------ parameter recovery


def test_recovers_two_arc_parameters_from_noisy_spectrum():
    true = two_arc(120, 800, 0.85, 5e4, 2500, 0.9, 10)
    z = noisy(Circuit(DEFAULT_CIRCUIT).impedance(F_HZ, true), 0.01, seed=1)
    res = fit_spectrum(frequency_hz=F_HZ, z_ohm=z)
    got = np.array([res.params[n] for n in Circuit(DEFAULT_CIRCUIT).param_names])
    np.testing.assert_allclose(got[[0, 1, 4]], true[[0, 1, 4]], rtol=0.05)
    np.testing.assert_allclose(got[[3, 6]], true[[3, 6]], atol=0.03)
    assert res.success
    assert res.chi2 == pytest.approx(1e-4, rel=0.3)  # 1 % of |Z| on each part -> ~1e-4
    # standard errors: finite, positive, and the truth within 4 of them
    for k, name in enumerate(res.params):
        assert 0 < res.stderr[name] < abs(res.params[name])
        assert abs(got[k] - true[k]) < 4 * res.stderr[name]
    assert res.units["CPE1_0"] == "Ohm^-1 s^a" and res.units["R0"] == "Ohm"
    assert res.residuals_real.shape == res.frequency_hz.shape == (71,)


def test_standard_errors_are_calibrated():
    # over many noisy spectra, (fit - truth) / stderr should scatter with a spread of ~1
    circ = Circuit(DEFAULT_CIRCUIT)
    true = random_params(DEFAULT_CIRCUIT, 150, np.random.default_rng(4))
    z = noisy(circ.impedance(F_HZ, true), 0.01, seed=9)
    results = fit_batch(F_HZ, z)
    got = np.array([[r.params[k] for k in circ.param_names] for r in results])
    err = np.array([[r.stderr[k] for k in circ.param_names] for r in results])
    spread = 1.4826 * np.median(np.abs((got - true) / err), axis=0)  # robust standard deviation
    assert np.all((spread > 0.7) & (spread < 1.4)), spread


def test_noise_free_fit_is_exact_and_arcs_ordered_by_frequency():
    # arcs given in the "wrong" order: the fit reports the high-frequency arc as arc 1
    true = two_arc(50, 3000, 0.8, 2, 400, 0.92, 1e5)
    z = Circuit(DEFAULT_CIRCUIT).impedance(F_HZ, true)
    res = fit_spectrum(frequency_hz=F_HZ, z_ohm=z, n_starts=2)
    assert res.params["R1"] == pytest.approx(400, rel=1e-4)
    assert res.params["R2"] == pytest.approx(3000, rel=1e-4)
    assert res.params["CPE2_1"] == pytest.approx(0.8, abs=1e-4)
    assert np.max(np.abs(res.residuals_real)) < 1e-6


def test_batch_recovers_all_and_matches_input_order():
    rng = np.random.default_rng(7)
    n = 40
    true = np.array([
        two_arc(rng.uniform(50, 500), np.exp(rng.uniform(np.log(100), np.log(5000))),
                rng.uniform(0.7, 0.95), np.exp(rng.uniform(np.log(1e4), np.log(2e5))),
                np.exp(rng.uniform(np.log(300), np.log(5000))), rng.uniform(0.7, 0.95),
                np.exp(rng.uniform(0, np.log(100))))
        for _ in range(n)
    ])  # fmt: skip
    z = noisy(Circuit(DEFAULT_CIRCUIT).impedance(F_HZ, true), 0.01, seed=3)
    results = fit_batch(F_HZ, z)
    assert len(results) == n
    got = np.array([[r.params[k] for k in Circuit(DEFAULT_CIRCUIT).param_names] for r in results])
    rel = np.abs(got - true) / true
    assert np.all(rel[:, [0, 1, 4]] < 0.2), rel[:, [0, 1, 4]].max(axis=0)
    assert np.median(rel[:, [0, 1, 4]]) < 0.02
    assert all(r.success for r in results)


def test_batch_recovers_blocking_electrode_spectra():
    circ = Circuit("R0-p(R1,CPE1)-CPE2")
    rng = np.random.default_rng(11)
    n = 20
    r1 = np.exp(rng.uniform(np.log(200), np.log(3000), n))
    a1 = rng.uniform(0.75, 0.95, n)
    f1 = np.exp(rng.uniform(np.log(1e4), np.log(2e5), n))
    true = np.column_stack(
        [
            rng.uniform(30, 300, n),
            r1,
            1 / (r1 * (2 * np.pi * f1) ** a1),
            a1,
            np.exp(rng.uniform(np.log(1e-7), np.log(1e-5), n)),
            rng.uniform(0.8, 0.97, n),
        ]
    )
    z = noisy(circ.impedance(F_HZ, true), 0.01, seed=5)
    results = fit_batch(F_HZ, z, str(circ))
    got = np.array([[r.params[k] for k in circ.param_names] for r in results])
    rel = np.abs(got - true) / true
    # R0 alone is poorly determined when the arc is still open at 1 MHz (apex near 200 kHz,
    # alpha ~0.75); Rb + Rgb, which gives the conductivity, is not
    r_total = got[:, 0] + got[:, 1]
    np.testing.assert_allclose(r_total, true[:, 0] + true[:, 1], rtol=0.05)
    assert np.all(rel[:, 1] < 0.2), rel[:, 1].max()
    assert np.all(np.abs(got[:, 5] - true[:, 5]) < 0.02)


def test_initial_guess_reads_the_spectrum():
    true = two_arc(200, 1000, 0.85, 5e4, 3000, 0.85, 10)
    z = Circuit(DEFAULT_CIRCUIT).impedance(F_HZ, true)
    guess = initial_guess(F_HZ, z, DEFAULT_CIRCUIT)
    assert list(guess) == Circuit(DEFAULT_CIRCUIT).param_names
    assert guess["R0"] == pytest.approx(200, rel=0.3)
    assert guess["R1"] == pytest.approx(1000, rel=0.3)
    assert guess["R2"] == pytest.approx(3000, rel=0.3)
    assert 0.6 < guess["CPE1_1"] <= 1.0


def random_params(circuit: str, m: int, rng) -> np.ndarray:
    """m parameter sets with arcs at 10-200 kHz and 1-100 Hz, for the circuits used below."""
    r0, r1, r2 = rng.uniform(30, 300, m), rng.uniform(200, 3000, m), rng.uniform(300, 5000, m)
    a1, a2 = rng.uniform(0.75, 0.95, (2, m))
    f1, f2 = np.exp(rng.uniform(np.log(1e4), np.log(2e5), m)), np.exp(rng.uniform(0, 4.6, m))
    q1 = 1 / (r1 * (2 * np.pi * f1) ** a1)
    if circuit == DEFAULT_CIRCUIT:
        return np.column_stack([r0, r1, q1, a1, r2, 1 / (r2 * (2 * np.pi * f2) ** a2), a2])
    if circuit == "R0-p(R1,CPE1)-CPE2":
        return np.column_stack([r0, r1, q1, a1, rng.uniform(1e-7, 1e-5, m), a2])
    return np.column_stack([np.full(m, 2e-7), r0, r1, 1 / (2 * np.pi * f1 * r1)])


@pytest.mark.parametrize("circuit", [DEFAULT_CIRCUIT, "R0-p(R1,CPE1)-CPE2", "L0-R0-p(R1,C1)"])
def test_vectorized_guess_equals_per_spectrum_guess(circuit):
    circ = Circuit(circuit)
    z = noisy(circ.impedance(F_HZ, random_params(circuit, 12, np.random.default_rng(2))), 0.01, 8)
    batch = guess_batch(circ, F_HZ, z, np.ones(z.shape, dtype=bool))
    single = np.array([guess_vector(circ, F_HZ, zi) for zi in z])
    np.testing.assert_allclose(batch, single, rtol=1e-9)


def test_vectorized_guess_declines_other_circuits():
    circ = Circuit("R0-Wo1")
    z = circ.impedance(F_HZ, [10.0, 100.0, 1.0])[None, :]
    assert guess_batch(circ, F_HZ, z, np.ones(z.shape, dtype=bool)) is None


def test_blocking_guess_reads_the_spike():
    circ = "R0-p(R1,CPE1)-CPE2"
    true = np.array([60, 30, 1 / (30 * (2 * np.pi * 3e5) ** 0.9), 0.9, 1.5e-6, 0.88])
    z = Circuit(circ).impedance(F_HZ, true)
    guess = initial_guess(F_HZ, z, circ)
    assert guess["CPE2_1"] == pytest.approx(0.88, abs=0.02)
    assert guess["CPE2_0"] == pytest.approx(1.5e-6, rel=0.2)


# ------------------------------------------------------------------ inductive points, options


def test_inductive_points_dropped_with_note_or_fitted_with_l():
    true = two_arc(100, 500, 0.9, 1e5, 2000, 0.85, 20)
    f = np.logspace(7, -1, 81)
    z = Circuit("L0-" + DEFAULT_CIRCUIT).impedance(f, np.r_[3e-7, true])
    assert np.sum(z.imag > 0) >= 3
    res = fit_spectrum(frequency_hz=f, z_ohm=z)
    n_ind = int(np.argmax(z.imag <= 0))
    assert res.n_inductive_dropped == n_ind
    assert "inductive" in res.notes[0] and res.frequency_hz.size == f.size - n_ind
    res_l = fit_spectrum(frequency_hz=f, z_ohm=z, circuit="L0-" + DEFAULT_CIRCUIT)
    assert res_l.n_inductive_dropped == 0
    assert res_l.params["L0"] == pytest.approx(3e-7, rel=1e-3)


def test_bounds_are_respected_and_weightings_run():
    true = two_arc(120, 800, 0.85, 5e4, 2500, 0.9, 10)
    z = noisy(Circuit(DEFAULT_CIRCUIT).impedance(F_HZ, true), 0.01, seed=2)
    res = fit_spectrum(frequency_hz=F_HZ, z_ohm=z, bounds={"R0": (130.0, 140.0)}, n_starts=2)
    assert 130 <= res.params["R0"] <= 140
    for weighting in ("proportional", "unit"):
        r = fit_spectrum(frequency_hz=F_HZ, z_ohm=z, weighting=weighting, n_starts=2)
        assert r.params["R2"] == pytest.approx(2500, rel=0.1)
        assert r.weighting == weighting


def test_user_initial_guess_is_used():
    true = two_arc(120, 800, 0.85, 5e4, 2500, 0.9, 10)
    z = Circuit(DEFAULT_CIRCUIT).impedance(F_HZ, true)
    guess = dict(zip(Circuit(DEFAULT_CIRCUIT).param_names, true * 1.3, strict=True))
    guess["CPE1_1"] = guess["CPE2_1"] = 0.8
    res = fit_spectrum(frequency_hz=F_HZ, z_ohm=z, initial_guess=guess, n_starts=1)
    assert res.params["R2"] == pytest.approx(2500, rel=1e-4)


# ------------------------------------------------------------------ example cycler result


def test_fits_example_symmetric_cell_out_of_the_box():
    spec = example_spectra()["eis_symmetric"]
    circuit, reason = choose_circuit(spec)
    assert circuit == DEFAULT_CIRCUIT and "two arcs" in reason
    res = fit_spectrum(spec)
    assert res.success and res.rms_relative < 0.015
    assert res.n_inductive_dropped == 4
    assert 60 < res.params["R0"] < 75  # high-frequency intercept ~67 ohm
    assert 10 < res.params["R1"] < 30  # small grain-boundary arc near 200 kHz
    total = res.params["R0"] + res.params["R1"] + res.params["R2"]
    assert total == pytest.approx(float(np.mean(spec.z_ohm.real[-8:])), rel=0.02)


def test_fits_example_blocking_cell_out_of_the_box():
    spec = example_spectra()["eis_blocking"]
    circuit, reason = choose_circuit(spec)
    assert circuit == "R0-p(R1,CPE1)-CPE2" and "blocking" in reason
    res = fit_spectrum(spec, circuit=circuit)
    assert res.success and res.rms_relative < 0.015
    assert 60 < res.params["R0"] < 75
    assert 0.8 < res.params["CPE2_1"] <= 1.0


def test_choose_circuit_single_arc():
    z = Circuit("R0-p(R1,CPE1)").impedance(
        F_HZ, [50, 1000, 1 / (1000 * (2 * np.pi * 1e3) ** 0.9), 0.9]
    )
    circuit, reason = choose_circuit(Spectrum(F_HZ, z))
    assert circuit == "R0-p(R1,CPE1)" and "one arc" in reason


def test_choose_circuit_plain_resistor_noise_is_not_two_arcs():
    rng = np.random.default_rng(0)
    z = 100 + 0.5 * (rng.normal(size=71) + 1j * rng.normal(size=71))
    circuit, reason = choose_circuit(Spectrum(F_HZ, z))
    assert circuit == "R0-p(R1,CPE1)" and "no clear arc" in reason


def test_batch_error_names_the_spectrum_without_usable_points():
    z = Circuit(DEFAULT_CIRCUIT).impedance(F_HZ, two_arc(10, 100, 0.9, 1e4, 100, 0.9, 1))
    batch = np.vstack([z, z, 300j - z])  # the last one is inductive everywhere
    with pytest.raises(FitError, match=r"spectra \[2\] of the batch"):
        fit_batch(F_HZ, batch)


def test_plot_fit_writes_file(tmp_path):
    true = two_arc(120, 800, 0.85, 5e4, 2500, 0.9, 10)
    z = noisy(Circuit(DEFAULT_CIRCUIT).impedance(F_HZ, true), 0.01, seed=4)
    res = fit_spectrum(frequency_hz=F_HZ, z_ohm=z, n_starts=1)
    out = plot_fit(res, tmp_path / "sub" / "fit.png", title="test")
    assert out.exists() and out.stat().st_size > 10_000


# ------------------------------------------------------------------ bad inputs


def test_rejects_nan():
    z = Circuit("R0-p(R1,C1)").impedance(F_HZ, [10, 100, 1e-6])
    z[5] = np.nan
    with pytest.raises(AnalysisError, match="NaN"):
        fit_spectrum(frequency_hz=F_HZ, z_ohm=z, circuit="R0-p(R1,C1)")


def test_rejects_mismatched_shapes():
    with pytest.raises(AnalysisError, match="shapes"):
        fit_spectrum(frequency_hz=F_HZ, z_ohm=np.ones(70, dtype=complex))
    with pytest.raises(AnalysisError, match="2-D"):
        fit_batch(F_HZ, np.ones(71, dtype=complex))


def test_rejects_too_few_points():
    f = np.array([1e3, 1e2, 1e1, 1.0])
    z = Circuit(DEFAULT_CIRCUIT).impedance(f, two_arc(10, 100, 0.9, 1e3, 100, 0.9, 1))
    with pytest.raises(FitError, match="too few points"):
        fit_spectrum(frequency_hz=f, z_ohm=z)


def test_rejects_bad_options():
    z = Circuit(DEFAULT_CIRCUIT).impedance(F_HZ, two_arc(10, 100, 0.9, 1e4, 100, 0.9, 1))
    with pytest.raises(FitError, match="modulus, proportional, unit"):
        fit_spectrum(frequency_hz=F_HZ, z_ohm=z, weighting="square")
    with pytest.raises(FitError, match="inductive"):
        fit_spectrum(frequency_hz=F_HZ, z_ohm=z, inductive="ignore")
    with pytest.raises(FitError, match="unknown parameter 'R9'"):
        fit_spectrum(frequency_hz=F_HZ, z_ohm=z, bounds={"R9": (1, 2)})
    with pytest.raises(FitError, match="unknown names"):
        fit_spectrum(frequency_hz=F_HZ, z_ohm=z, initial_guess={"C7": 1.0})
    with pytest.raises(CircuitError, match="unknown element"):
        fit_spectrum(frequency_hz=F_HZ, z_ohm=z, circuit="R0-Q1")
    with pytest.raises(FitError, match="either a spectrum"):
        fit_spectrum(Spectrum(F_HZ, z), frequency_hz=F_HZ, z_ohm=z)

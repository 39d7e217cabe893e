"""Tests of physics.eis.kk: the Lin-KK test passes valid spectra and fails corrupted ones."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from physics.eis.circuits import Circuit
from physics.eis.kk import lin_kk
from physics.errors import AnalysisError

_REPO = Path(__file__).resolve().parents[3]
EXAMPLE = _REPO / "experiments" / "samples" / "example-result-x0.15-1050C.json"
if not EXAMPLE.exists():  # the same file as shipped to the team
    EXAMPLE = _REPO.parent / "shared" / "cycler-example-result.json"
F_HZ = np.logspace(6, -1, 71)
CIRCUIT = "R0-p(R1,CPE1)-p(R2,CPE2)"
TRUE = [100, 500, 1 / (500 * (2 * np.pi * 5e4) ** 0.85), 0.85,
        2000, 1 / (2000 * (2 * np.pi * 10) ** 0.9), 0.9]  # fmt: skip


def valid_spectrum(noise=0.005, seed=1):
    z = Circuit(CIRCUIT).impedance(F_HZ, TRUE)
    rng = np.random.default_rng(seed)
    return z + noise * np.abs(z) * (rng.normal(size=z.shape) + 1j * rng.normal(size=z.shape))


def test_rc_circuit_is_reproduced_exactly():
    z = Circuit("R0-p(R1,C1)").impedance(F_HZ, [20.0, 300.0, 1e-6])
    res = lin_kk(F_HZ, z)
    assert res.passed
    assert res.max_abs_residual < 5e-3  # the M choice accepts a 0.1 % rms misfit as perfect
    assert res.rms_residual < 1e-3
    assert res.z_fit.shape == z.shape


def test_valid_noisy_spectrum_passes_with_mu_below_c():
    res = lin_kk(F_HZ, valid_spectrum())
    assert res.passed
    assert res.mu <= 0.85
    assert 3 <= res.m <= 50
    assert res.rms_residual < 0.01  # about the 0.5 % noise
    assert res.residuals_real.shape == res.residuals_imag.shape == (71,)


def test_many_noisy_two_arc_spectra_pass():
    rng = np.random.default_rng(0)
    circ = Circuit(CIRCUIT)
    for seed in range(10):
        p = np.array(TRUE) * np.exp(rng.normal(0, 0.5, 7))
        p[[3, 6]] = rng.uniform(0.7, 0.95, 2)
        z = circ.impedance(F_HZ, p)
        z = z + 0.01 * np.abs(z) * (rng.normal(size=71) + 1j * rng.normal(size=71))
        res = lin_kk(F_HZ, z)
        assert res.passed, (seed, res.max_abs_residual, res.m, res.mu)


def test_drift_in_real_part_fails():
    # the cell drifts while it is measured from high to low frequency: Z' grows 20 %
    z = valid_spectrum()
    drift = z.real * (1 + 0.2 * np.arange(z.size) / (z.size - 1)) + 1j * z.imag
    res = lin_kk(F_HZ, drift)
    assert not res.passed
    assert res.max_abs_residual > 0.05


def test_corrupted_points_fail():
    z = valid_spectrum()
    bad = z.copy()
    bad[[5, 25, 45]] = bad[[5, 25, 45]].conj()  # three points with the wrong sign of Z''
    res = lin_kk(F_HZ, bad)
    assert not res.passed
    assert res.max_abs_residual > 0.3


def test_input_order_does_not_matter():
    z = valid_spectrum()
    a = lin_kk(F_HZ, z)
    b = lin_kk(F_HZ[::-1], z[::-1])
    assert (a.m, a.passed) == (b.m, b.passed)
    np.testing.assert_allclose(a.z_fit, b.z_fit[::-1], rtol=1e-8)


def test_example_cycler_spectra_pass():
    if not EXAMPLE.exists():
        pytest.skip(f"example cycler result not found at {EXAMPLE}")
    data = json.loads(EXAMPLE.read_text())
    for m in data["measurements"]:
        if m["protocol"].startswith("eis"):
            z = np.array(m["z_real_ohm"]) + 1j * np.array(m["z_imag_ohm"])
            res = lin_kk(m["frequency_hz"], z)
            assert res.passed, (m["protocol"], res.max_abs_residual)
            assert res.with_capacitance == (m["protocol"] == "eis_blocking")


def test_rejects_bad_input():
    z = valid_spectrum()
    with pytest.raises(AnalysisError, match="NaN"):
        lin_kk(F_HZ, np.where(np.arange(71) == 3, np.nan, z))
    with pytest.raises(AnalysisError, match="one length"):
        lin_kk(F_HZ[:-1], z)
    with pytest.raises(AnalysisError, match="at least 5 points"):
        lin_kk(F_HZ[:4], z[:4])
    with pytest.raises(AnalysisError, match="c must be"):
        lin_kk(F_HZ, z, c=1.5)

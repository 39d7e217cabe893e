"""Tests of physics.measurements.conductivity: sigma = L / (R A), parts, Arrhenius fits; paper numbers pinned."""

from __future__ import annotations

import numpy as np
import pytest

from physics.constants import BOLTZMANN_EV_PER_K
from physics.errors import AnalysisError
from physics.measurements.conductivity import (
    S_CM_TO_MS_CM,
    ArrheniusFit,
    arrhenius_fit,
    arrhenius_sigma_s_cm,
    conductivity_from_asr_s_cm,
    conductivity_parts,
    conductivity_parts_from_asr,
    conductivity_s_cm,
    electronic_fraction_from_sigma,
)


def test_sigma_formula_pinned():
    # L = 0.1 cm, R = 100 ohm, A = 0.5 cm2 -> 0.1 / 50 = 2e-3 S/cm
    assert conductivity_s_cm(100.0, 0.1, 0.5) == pytest.approx(2e-3, rel=1e-12)
    assert conductivity_from_asr_s_cm(50.0, 0.1) == pytest.approx(2e-3, rel=1e-12)
    assert S_CM_TO_MS_CM == 1000.0


def test_array_friendly():
    r = np.array([100.0, 200.0, 400.0])
    np.testing.assert_allclose(conductivity_s_cm(r, 0.1, 0.5), [2e-3, 1e-3, 5e-4])
    np.testing.assert_allclose(conductivity_from_asr_s_cm(r, 0.1), [1e-3, 5e-4, 2.5e-4])


def test_paper_x0_total_conductivity():
    """Wang et al. 2022, x = 0: L = 0.107 cm, Rb + Rgb = 117.7 + 85.0 = 202.7 ohm cm2 -> 0.53 mS/cm."""
    sigma_ms = conductivity_from_asr_s_cm(117.7 + 85.0, 0.107) * S_CM_TO_MS_CM
    assert sigma_ms == pytest.approx(0.5279, abs=5e-4)
    assert round(sigma_ms, 2) == 0.53
    # the same through a resistance and the cycler's 0.785 cm2 electrode
    assert conductivity_s_cm(202.7 / 0.785, 0.107, 0.785) * 1e3 == pytest.approx(sigma_ms)


def test_paper_x0_parts():
    parts = conductivity_parts_from_asr(117.7, 85.0, 0.107)
    assert parts.sigma_bulk_ms_cm == pytest.approx(0.9091, abs=1e-4)  # 0.107 / 117.7
    assert parts.sigma_gb_ms_cm == pytest.approx(1.2588, abs=1e-4)  # 0.107 / 85.0
    assert parts.sigma_total_ms_cm == pytest.approx(0.5279, abs=1e-4)
    # series resistances: 1/sigma_total = 1/sigma_bulk + 1/sigma_gb
    assert 1 / parts.sigma_total_s_cm == pytest.approx(
        1 / parts.sigma_bulk_s_cm + 1 / parts.sigma_gb_s_cm
    )
    same = conductivity_parts(117.7 / 0.785, 85.0 / 0.785, 0.107, 0.785)
    assert same.sigma_total_s_cm == pytest.approx(parts.sigma_total_s_cm)


@pytest.mark.parametrize(
    ("thickness_cm", "sigma_ms_cm", "asr_ohm_cm2"),
    [(0.107, 0.53, 201.9), (0.101, 1.19, 84.87), (0.090, 1.58, 56.96), (0.086, 1.13, 76.11)],
)
def test_paper_table_thickness_is_cm(thickness_cm, sigma_ms_cm, asr_ohm_cm2):
    """The paper's 'mm' thicknesses are cm: pellets of ~1 mm give ASRs of 50-200 ohm cm2."""
    assert conductivity_from_asr_s_cm(asr_ohm_cm2, thickness_cm) * 1e3 == pytest.approx(
        sigma_ms_cm, abs=0.005
    )
    # reading L in mm would make sigma 10x smaller, out of the 0.45-1.2+ mS/cm NZSP range
    assert conductivity_from_asr_s_cm(asr_ohm_cm2, thickness_cm / 10) * 1e3 < 0.2


def test_electronic_fraction():
    assert electronic_fraction_from_sigma(1.0, 3.0) == pytest.approx(0.25)
    # x = 0: t_e = 15.3 % of 0.53 mS/cm ionic -> sigma_e = 0.153 / 0.847 * 0.53 mS/cm
    sigma_e = 0.153 / 0.847 * 0.53e-3
    assert electronic_fraction_from_sigma(sigma_e, 0.53e-3) == pytest.approx(0.153)


@pytest.mark.parametrize(
    "call",
    [
        lambda: conductivity_s_cm(0.0, 0.1, 0.5),
        lambda: conductivity_s_cm(100.0, -0.1, 0.5),
        lambda: conductivity_s_cm(100.0, 0.1, np.nan),
        lambda: conductivity_from_asr_s_cm([100.0, -1.0], 0.1),
        lambda: conductivity_parts_from_asr(0.0, 85.0, 0.107),
        lambda: electronic_fraction_from_sigma(-1.0, 1.0),
    ],
)
def test_bad_inputs(call):
    with pytest.raises(AnalysisError, match="must be finite"):
        call()


def test_arrhenius_two_points_pinned():
    fit = arrhenius_fit([25.0, 60.0], [1e-3, 3e-3])
    # Ea = kB ln(3 * 333.15 / 298.15) / (1/298.15 - 1/333.15)
    assert fit.activation_energy_ev == pytest.approx(0.295818, abs=1e-6)
    assert np.isnan(fit.activation_energy_stderr_ev)
    assert any("2 temperatures" in n for n in fit.notes)
    assert fit.n_points == 2
    assert fit.predict_sigma_s_cm(25.0) == pytest.approx(1e-3)
    assert fit.predict_sigma_s_cm(60.0) == pytest.approx(3e-3)


def test_arrhenius_recovers_paper_activation_energy():
    """The full cell's electrolyte: Ea = 0.27 eV; sigma(25 C) = 1.58 mS/cm (x = 0.2)."""
    t_c = np.array([25.0, 40.0, 60.0, 80.0])
    t_k = t_c + 273.15
    prefactor = 1.58e-3 * 298.15 / np.exp(-0.27 / (BOLTZMANN_EV_PER_K * 298.15))
    sigma = arrhenius_sigma_s_cm(t_c, 0.27, prefactor)
    np.testing.assert_allclose(sigma * t_k, prefactor * np.exp(-0.27 / (BOLTZMANN_EV_PER_K * t_k)))
    fit = arrhenius_fit(t_c, sigma)
    assert isinstance(fit, ArrheniusFit)
    assert fit.activation_energy_ev == pytest.approx(0.27, abs=1e-9)
    assert fit.activation_energy_stderr_ev < 1e-9
    assert fit.prefactor_s_k_cm == pytest.approx(prefactor, rel=1e-8)
    assert fit.r_squared == pytest.approx(1.0)
    assert fit.predict_sigma_s_cm(25.0) == pytest.approx(1.58e-3, rel=1e-9)


def test_arrhenius_with_noise_has_a_standard_error():
    rng = np.random.default_rng(1)
    t_c = np.array([25.0, 40.0, 60.0, 80.0, 100.0])
    sigma = arrhenius_sigma_s_cm(t_c, 0.30, 2e4) * np.exp(rng.normal(0, 0.05, t_c.size))
    fit = arrhenius_fit(t_c, sigma)
    assert 0 < fit.activation_energy_stderr_ev < 0.05
    assert abs(fit.activation_energy_ev - 0.30) < 4 * fit.activation_energy_stderr_ev


@pytest.mark.parametrize(
    ("t_c", "sigma", "match"),
    [
        ([25.0], [1e-3], "2 distinct temperatures"),
        ([25.0, 25.0], [1e-3, 1.1e-3], "2 distinct temperatures"),
        ([25.0, 40.0], [1e-3, -1e-3], "positive"),
        ([25.0, np.nan], [1e-3, 2e-3], "NaN"),
        ([25.0, 40.0, 60.0], [1e-3, 2e-3], "one length"),
    ],
)
def test_arrhenius_bad_input(t_c, sigma, match):
    with pytest.raises(AnalysisError, match=match):
        arrhenius_fit(t_c, sigma)

"""Tests of physics.eis.least_squares: the batched Levenberg-Marquardt and its stopping rules."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from physics.eis.circuits import Circuit
from physics.eis.fitting import fit_spectrum
from physics.eis.least_squares import ParamTransform, levenberg_marquardt, residual_weights
from physics.eis.readers import read_spectra

CIRCUIT = "R0-p(R1,CPE1)-p(R2,CPE2)"
GEIS = (
    next(p for p in Path(__file__).resolve().parents if (p / "pyproject.toml").is_file()).parent
    / "shared"
    / "instrument-files"
    / "yadg"
    / "geis.mpt"
)
F_HZ = np.logspace(4, 0, 29)
#: An ideal capacitor in the first arc: CPE1 alpha sits at its upper bound 1.
AT_BOUND = np.array([100.0, 200.0, 8e-7, 1.0, 500.0, 4e-4, 0.5])


def test_exact_fit_with_a_parameter_at_its_bound_converges():
    # alpha -> 1 is reached only as theta -> inf, so the cost keeps falling by large relative
    # amounts at round-off level; the exact-fit rule must stop it
    circ = Circuit(CIRCUIT)
    transform = ParamTransform.for_circuit(circ)
    z = circ.impedance(F_HZ, AT_BOUND)[None]
    s_re, s_im = residual_weights(z, "modulus")
    start = AT_BOUND * np.array([1.1, 0.9, 1.2, 0.95, 1.1, 0.8, 1.1])
    theta, _, converged = levenberg_marquardt(
        circ, transform, F_HZ, z, 1 / s_re, 1 / s_im, transform.to_theta(start[None]), max_iter=150
    )
    assert converged[0]
    np.testing.assert_allclose(transform.to_params(theta)[0][0], AT_BOUND, rtol=1e-6)


def test_fit_spectrum_of_exact_data_at_a_bound_reports_success():
    z = Circuit(CIRCUIT).impedance(F_HZ, AT_BOUND)
    res = fit_spectrum(frequency_hz=F_HZ, z_ohm=z, circuit=CIRCUIT)
    assert res.success, res.notes
    assert res.chi2 < 1e-12


def test_crawl_of_unresolved_parameters_counts_as_converged():
    # two-arc fits of GEIS sweeps whose data determine only one arc: R0, R1 and CPE1 are
    # unresolved and creep towards their bounds for the whole step limit, while the cost falls
    # by far less than the noise level
    if not GEIS.is_file():
        pytest.skip(f"instrument file not found: {GEIS}")
    for sweep in (2, 3):
        spectrum = read_spectra(GEIS)[sweep - 1]
        res = fit_spectrum(spectrum, circuit=CIRCUIT)
        assert res.success, (sweep, res.notes)
        assert "R0" in res.unresolved

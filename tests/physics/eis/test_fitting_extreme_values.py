"""A spectrum with an absurd value (1e300 ohm) gives an unresolved fit, never a LinAlgError."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from physics.eis.fitting import _pinv_or_nan, fit_spectrum
from physics.eis.spectrum import Spectrum

EXAMPLE = (
    Path(__file__).resolve().parents[3]
    / "experiments"
    / "samples"
    / "example-result-x0.15-1050C.json"
)


def test_pinv_or_nan_marks_only_the_matrix_that_fails():
    good = np.eye(2)
    bad = np.array([[np.nan, 1.0], [1.0, 1.0]])  # LAPACK's SVD does not converge
    out = _pinv_or_nan(np.stack([good, bad]))
    assert np.allclose(out[0], good) and np.isnan(out[1]).all()


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # overflow in trial steps, by design
def test_huge_value_in_a_measured_spectrum_is_unresolved_not_a_crash():
    if not EXAMPLE.exists():
        pytest.skip(f"example result not found at {EXAMPLE}")
    m = json.loads(EXAMPLE.read_text())["measurements"][0]
    z_imag = list(m["z_imag_ohm"])
    z_imag[3] = -1e300
    spectrum = Spectrum.from_arrays(m["frequency_hz"], m["z_real_ohm"], z_imag, source="huge")
    fit = fit_spectrum(spectrum)
    assert fit.unresolved  # the data determine nothing here, and the fit says so

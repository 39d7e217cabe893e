"""Impedance spectroscopy: spectra, equivalent circuits, fitting, Lin-KK and file readers.

- :mod:`physics.eis.spectrum`: the one :class:`Spectrum` type (Hz, ohm, Z'' < 0 for arcs).
- :mod:`physics.eis.elements` + :mod:`physics.eis.circuits`: circuit elements and the
  circuit-string parser (vectorized, no eval).
- :mod:`physics.eis.fitting` (+ ``least_squares``, ``initial_guess``, ``batch_guess``):
  complex nonlinear least squares with automatic initial guesses.
- :mod:`physics.eis.kk`: the Lin-KK validity check.
- :mod:`physics.eis.readers`: instrument files to spectra.
"""

from physics.eis.circuits import Circuit
from physics.eis.fitting import FitResult, choose_circuit, fit_batch, fit_spectrum
from physics.eis.kk import KKResult, lin_kk
from physics.eis.spectrum import Spectrum

__all__ = [
    "Circuit",
    "FitResult",
    "KKResult",
    "Spectrum",
    "choose_circuit",
    "fit_batch",
    "fit_spectrum",
    "lin_kk",
]

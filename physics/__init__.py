"""physics: from raw measurements to electrolyte properties, and the process model.

Imports nothing else of this project. Each module lists its public names in ``__all__``;
the most used are re-exported here.
"""

from physics.eis.circuits import Circuit
from physics.eis.fitting import FitResult, choose_circuit, fit_batch, fit_spectrum
from physics.eis.kk import KKResult, lin_kk
from physics.eis.readers import read_spectra, read_spectrum
from physics.eis.spectrum import Spectrum
from physics.errors import GBSError
from physics.measurements.ccd import CCDResult, analyze_ccd
from physics.measurements.conductivity import arrhenius_fit, conductivity_s_cm
from physics.measurements.polarization import PolarizationResult, analyze_polarization
from physics.measurements.results import ResultAnalysis, analyze_result
from physics.process.model import ProcessModel, ProcessParameters
from physics.schema import MEASUREMENT_COLUMNS
from physics.table import read_table, validate_table, write_table

__all__ = [
    "MEASUREMENT_COLUMNS",
    "CCDResult",
    "Circuit",
    "FitResult",
    "GBSError",
    "KKResult",
    "PolarizationResult",
    "ProcessModel",
    "ProcessParameters",
    "ResultAnalysis",
    "Spectrum",
    "analyze_ccd",
    "analyze_polarization",
    "analyze_result",
    "arrhenius_fit",
    "choose_circuit",
    "conductivity_s_cm",
    "fit_batch",
    "fit_spectrum",
    "lin_kk",
    "read_spectra",
    "read_spectrum",
    "read_table",
    "validate_table",
    "write_table",
]

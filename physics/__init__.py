"""physics: from raw measurements to electrolyte properties, and the process model.

Imports nothing else of this project. Each module lists its public names in ``__all__``;
the most used are re-exported here.
"""

from physics.ccd import CCDResult, analyze_ccd
from physics.circuits import Circuit
from physics.conductivity import arrhenius_fit, conductivity_s_cm
from physics.errors import GBSError
from physics.fitting import FitResult, choose_circuit, fit_batch, fit_spectrum
from physics.kk import KKResult, lin_kk
from physics.polarization import PolarizationResult, analyze_polarization
from physics.process_model import ProcessModel, ProcessParameters
from physics.readers import read_spectra, read_spectrum
from physics.results import ResultAnalysis, analyze_result
from physics.spectrum import Spectrum
from physics.table import MEASUREMENT_COLUMNS, read_table, validate_table, write_table

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

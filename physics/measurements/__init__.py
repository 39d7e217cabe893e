"""Cell tests to properties: conductivity, DC polarization, CCD staircase, whole cycler results.

- :mod:`physics.measurements.conductivity`: sigma = L / (R A), Arrhenius fits.
- :mod:`physics.measurements.polarization`: electronic fraction from a DC polarization decay.
- :mod:`physics.measurements.ccd`: critical current density from a plating/stripping staircase.
- :mod:`physics.measurements.results`: a cycler result to a measurement-table row.
"""

from physics.measurements.ccd import CCDResult, analyze_ccd
from physics.measurements.conductivity import arrhenius_fit, conductivity_s_cm
from physics.measurements.polarization import PolarizationResult, analyze_polarization
from physics.measurements.results import ResultAnalysis, analyze_result

__all__ = [
    "CCDResult",
    "PolarizationResult",
    "ResultAnalysis",
    "analyze_ccd",
    "analyze_polarization",
    "analyze_result",
    "arrhenius_fit",
    "conductivity_s_cm",
]

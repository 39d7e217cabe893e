"""physics: from raw measurements to electrolyte properties, and the process model.

Imports nothing else of this project. Each module lists its public names in ``__all__``;
the most used are re-exported here and loaded on first use, so that importing a light
module (``physics.schema``, ``physics.errors``) does not import SciPy and the fitting code.
"""

from __future__ import annotations

import importlib
from typing import Any

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

_WHERE = {
    "CCDResult": "physics.measurements.ccd",
    "Circuit": "physics.eis.circuits",
    "FitResult": "physics.eis.fitting",
    "GBSError": "physics.errors",
    "KKResult": "physics.eis.kk",
    "MEASUREMENT_COLUMNS": "physics.schema",
    "PolarizationResult": "physics.measurements.polarization",
    "ProcessModel": "physics.process.model",
    "ProcessParameters": "physics.process.model",
    "ResultAnalysis": "physics.measurements.results",
    "Spectrum": "physics.eis.spectrum",
    "analyze_ccd": "physics.measurements.ccd",
    "analyze_polarization": "physics.measurements.polarization",
    "analyze_result": "physics.measurements.results",
    "arrhenius_fit": "physics.measurements.conductivity",
    "choose_circuit": "physics.eis.fitting",
    "conductivity_s_cm": "physics.measurements.conductivity",
    "fit_batch": "physics.eis.fitting",
    "fit_spectrum": "physics.eis.fitting",
    "lin_kk": "physics.eis.kk",
    "read_spectra": "physics.eis.readers",
    "read_spectrum": "physics.eis.readers",
    "read_table": "physics.table",
    "validate_table": "physics.table",
    "write_table": "physics.table",
}


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'physics' has no attribute {name!r}")
    return getattr(importlib.import_module(_WHERE[name]), name)


def __dir__() -> list[str]:
    return sorted(__all__)

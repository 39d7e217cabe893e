"""The process model: recipe (ZBO fraction, sintering temperature, dwell) to properties.

- :mod:`physics.process.model`: :class:`ProcessModel`, the formulas.
- :mod:`physics.process.parameters`: named parameter sets, one per literature source.
- :mod:`physics.process.calibration`: fitting the parameters to a measurement table.
"""

from physics.process.model import PROPERTY_KEYS, ProcessModel
from physics.process.parameters import WANG2022, ProcessParameters

__all__ = ["PROPERTY_KEYS", "WANG2022", "ProcessModel", "ProcessParameters"]

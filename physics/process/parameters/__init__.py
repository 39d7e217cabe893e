"""Parameter sets of the process model, one module per literature source (DOI in its docstring).

- :mod:`physics.process.parameters.process_parameters`: the :class:`ProcessParameters` dataclass.
- :mod:`physics.process.parameters.wang2022`: calibrated on C. Wang et al. 2022 (10.1039/d1ta10816f).
"""

from physics.process.parameters.process_parameters import ProcessParameters
from physics.process.parameters.wang2022 import WANG2022, WANG2022_PRIOR

__all__ = ["WANG2022", "WANG2022_PRIOR", "ProcessParameters"]

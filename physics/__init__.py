"""physics: from raw measurements to electrolyte properties, and the process model.

Imports nothing else of this project. Public names are listed in ``__all__`` of each module;
the most used are re-exported here.
"""

from physics.errors import GBSError
from physics.spectrum import Spectrum

__all__ = ["GBSError", "Spectrum"]

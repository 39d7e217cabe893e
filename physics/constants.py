"""Physical constants and material constants, in one place, with units in their names."""

from __future__ import annotations

from scipy import constants as _c

__all__ = [
    "BOLTZMANN_EV_PER_K",
    "CELSIUS_TO_KELVIN",
    "NZSP_THEORETICAL_DENSITY_G_CM3",
    "PAPER_DOI",
    "ZBO_MELTING_POINT_C",
]

#: Boltzmann constant in eV/K (scipy.constants, CODATA).
BOLTZMANN_EV_PER_K: float = _c.physical_constants["Boltzmann constant in eV/K"][0]

#: Offset between degrees Celsius and kelvin.
CELSIUS_TO_KELVIN: float = _c.zero_Celsius

#: Theoretical density of monoclinic Na3Zr2Si2PO12 at 25 C (Wang et al. 2022).
NZSP_THEORETICAL_DENSITY_G_CM3: float = 3.244

#: Melting point of (ZnO)2-(B2O3)3, the sintering additive (Wang et al. 2022).
ZBO_MELTING_POINT_C: float = 800.9

#: C. Wang et al., J. Mater. Chem. A, 2022, 10, 5280-5286.
PAPER_DOI: str = "10.1039/d1ta10816f"

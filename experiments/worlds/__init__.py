"""Benchmark worlds: true recipe -> property maps written apart from ``physics``.

- :mod:`experiments.worlds.parameters`: its parameters, with every formula.
- :mod:`experiments.worlds.mechanistic`: a furnace-to-properties model (sintering curve,
  viscous liquid phase, grain growth, Na and B2O3 loss, ZrO2 and ZrSiO4, brick-layer
  conduction, glass sealing, electronic leakage, interface, CCD, cracking).
"""

from experiments.worlds.mechanistic import OUTPUT_KEYS, MechanisticModel
from experiments.worlds.parameters import MechanisticParameters

__all__ = ["OUTPUT_KEYS", "MechanisticModel", "MechanisticParameters"]

"""Benchmark worlds: true recipe -> property maps written apart from ``physics``.

- :mod:`experiments.worlds.parameters`: its parameters, with every formula.
- :mod:`experiments.worlds.mechanistic`: a furnace-to-properties model (sintering curve,
  viscous liquid phase, grain growth, Na and B2O3 loss, ZrO2 and ZrSiO4, brick-layer
  conduction, glass sealing, electronic leakage, interface, CCD, cracking).
- :mod:`experiments.worlds.sampling`: random worlds of that model, each passing through the
  paper's numbers at 1000 C.
"""

from experiments.worlds.mechanistic import OUTPUT_KEYS, MechanisticModel
from experiments.worlds.parameters import MechanisticParameters
from experiments.worlds.sampling import (
    PAPER_POINTS,
    calibrate_to_paper,
    draw_world_parameters,
    mechanistic_world,
    paper_point_errors,
    sample_mechanistic_worlds,
)

__all__ = [
    "OUTPUT_KEYS",
    "PAPER_POINTS",
    "MechanisticModel",
    "MechanisticParameters",
    "calibrate_to_paper",
    "draw_world_parameters",
    "mechanistic_world",
    "paper_point_errors",
    "sample_mechanistic_worlds",
]

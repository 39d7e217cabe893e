"""Simulated worlds: "true" recipe -> property maps behind the simulator and the benchmarks.

- :mod:`experiments.worlds.landscapes`: :class:`Landscape` (truth kept apart from measurement:
  pellets sampled with scatter and cracking) and the named landscapes built on the process
  model.
- :mod:`experiments.worlds.parameters`: the mechanistic model's parameters, with every formula.
- :mod:`experiments.worlds.mechanistic`: a furnace-to-properties model written apart from
  ``physics`` (sintering curve, viscous liquid phase, grain growth, Na and B2O3 loss, ZrO2
  and ZrSiO4, brick-layer conduction, glass sealing, electronic leakage, interface, CCD,
  cracking).
- :mod:`experiments.worlds.sampling`: random worlds of that model, each passing through the
  paper's numbers at 1000 C.
- :mod:`experiments.worlds.discrepancy`: the process model with random parameters, with or
  without a smooth random discrepancy (a Gaussian-process sample).
"""

from experiments.worlds.discrepancy import (
    DISCREPANCY_SD,
    DiscrepantModel,
    discrepancy_world,
    process_model_world,
    random_parameters,
)
from experiments.worlds.landscapes import LANDSCAPES, Landscape, get_landscape
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
    "DISCREPANCY_SD",
    "LANDSCAPES",
    "OUTPUT_KEYS",
    "PAPER_POINTS",
    "DiscrepantModel",
    "Landscape",
    "MechanisticModel",
    "MechanisticParameters",
    "calibrate_to_paper",
    "discrepancy_world",
    "draw_world_parameters",
    "get_landscape",
    "mechanistic_world",
    "paper_point_errors",
    "process_model_world",
    "random_parameters",
    "sample_mechanistic_worlds",
]

"""Families of benchmark worlds: truths the surrogate was not written from.

Each family draws many :class:`experiments.landscapes.Landscape` objects with random
parameters, for accuracy and campaign benchmarks that report distributions over worlds.

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

__all__ = [
    "DISCREPANCY_SD",
    "DiscrepantModel",
    "discrepancy_world",
    "process_model_world",
    "random_parameters",
]

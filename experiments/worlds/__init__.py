"""Simulated worlds: "true" recipe -> property maps behind the simulator and the benchmarks.

- :mod:`experiments.worlds.landscapes`: :class:`Landscape` (truth kept apart from measurement)
  and the named landscapes built on the process model.
"""

from experiments.worlds.landscapes import LANDSCAPES, Landscape, get_landscape

__all__ = ["LANDSCAPES", "Landscape", "get_landscape"]

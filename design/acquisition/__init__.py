"""Acquisition: which recipes to make next, from a fitted surrogate over the furnace grid.

``batch`` (multi-objective batch acquisition), ``staged`` (new samples or CCD follow-ups by
expected hypervolume gain per instrument-hour), ``extrapolation``, ``thresholds``.
"""

__all__: list[str] = []

"""Acquisition: which recipes to make next, from a fitted surrogate over the furnace grid."""

__all__: list[str] = []

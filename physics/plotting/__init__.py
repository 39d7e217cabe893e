"""Figures of the physics layer (matplotlib's object API, no GUI backend needed).

Matplotlib is imported only here, so the analysis modules stay light.
"""

__all__: list[str] = []

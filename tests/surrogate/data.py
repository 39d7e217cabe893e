"""Simulated measurement tables for the surrogate and design tests."""

from __future__ import annotations

import numpy as np
import pandas as pd

from experiments.worlds.landscapes import get_landscape
from physics.schema import RecipeSpace

__all__ = ["simulated_table", "table_from_recipes"]


def table_from_recipes(
    recipes: np.ndarray, landscape: str = "calibrated", seed: int = 0, prefix: str = "s"
) -> pd.DataFrame:
    """Sinter one simulated pellet per recipe (noise and cracking included)."""
    rng = np.random.default_rng(seed)
    return get_landscape(landscape).measure_table(recipes, rng, prefix=prefix)


def simulated_table(n: int, landscape: str = "calibrated", seed: int = 0) -> pd.DataFrame:
    """``n`` distinct random grid recipes, sintered on ``landscape``."""
    grid = RecipeSpace().grid()
    idx = np.random.default_rng(seed).choice(len(grid), n, replace=False)
    return table_from_recipes(grid[idx], landscape, seed)

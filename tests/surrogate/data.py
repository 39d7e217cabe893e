"""Simulated measurement tables for the surrogate and design tests."""

from __future__ import annotations

import numpy as np
import pandas as pd

from design.space import RecipeSpace
from experiments.landscapes import get_landscape

__all__ = ["simulated_table", "table_from_recipes"]


def table_from_recipes(
    recipes: np.ndarray, landscape: str = "calibrated", seed: int = 0, prefix: str = "s"
) -> pd.DataFrame:
    """Sinter one simulated pellet per recipe (noise and cracking included)."""
    land = get_landscape(landscape)
    rng = np.random.default_rng(seed)
    rows = []
    for i, (x, t, d) in enumerate(np.asarray(recipes, float).reshape(-1, 3)):
        p = land.sample_pellet({"zbo_fraction": x, "sinter_temperature_c": t, "dwell_h": d}, rng)
        ok = not p.cracked
        rows.append(
            {
                "sample_id": f"{prefix}{i}",
                "zbo_fraction": x,
                "sinter_temperature_c": t,
                "dwell_h": d,
                "status": "ok" if ok else "cracked",
                "sigma_total_ms_cm": p.sigma_total_ms_cm if ok else None,
                "ccd_ma_cm2": p.ccd_ma_cm2 if ok else None,
                "ccd_censored": False if ok else None,
                "electronic_fraction": p.electronic_fraction if ok else None,
                "source": "simulated",
            }
        )
    return pd.DataFrame(rows)


def simulated_table(n: int, landscape: str = "calibrated", seed: int = 0) -> pd.DataFrame:
    """``n`` distinct random grid recipes, sintered on ``landscape``."""
    grid = RecipeSpace().grid()
    idx = np.random.default_rng(seed).choice(len(grid), n, replace=False)
    return table_from_recipes(grid[idx], landscape, seed)

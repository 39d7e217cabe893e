"""Recipes outside the recipe space, and predictions far from any measured recipe.

A surrogate answers anywhere, even at ``zbo_fraction = 20`` or 1500 C, with numbers that look
as confident as those next to the data. Two checks keep that honest:

- **Outside the space** (refused): a recipe value below an axis's minimum or above its
  maximum (``zbo_fraction = 20 is outside [0, 0.5]``), see :func:`check_in_space`.
- **Far from data** (flagged): each recipe axis is scaled to [0, 1] over its range in the
  recipe space, u = (v - min) / (max - min); the distance of a recipe to the data is the
  Euclidean distance in u to the nearest measured recipe,
  d = min_j ||u - u_j||. A prediction with d > :data:`FAR_FROM_DATA` (0.2) is marked "far
  from data": in the default space that is 0.1 in zbo_fraction, 80 C in sintering temperature
  or 4.6 h of dwell away from every recipe in the table (or a mix of them). There the
  prediction rests on the physics prior and the GP's prior, not on measurements.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from physics.errors import DataError
from physics.schema import RECIPE_COLUMNS, RecipeSpace

__all__ = [
    "FAR_FROM_DATA",
    "RecipeOutsideSpaceError",
    "check_in_space",
    "distance_to_data",
    "far_from_data",
]

#: Normalized distance (fraction of each axis's range) beyond which a recipe is far from data.
FAR_FROM_DATA: float = 0.2
_CHUNK = 1024


class RecipeOutsideSpaceError(DataError):
    """A recipe lies outside the recipe space (the message names the value and the bounds)."""


def _matrix(recipes: pd.DataFrame | np.ndarray, space: RecipeSpace) -> np.ndarray:
    if isinstance(recipes, pd.DataFrame):
        frame = recipes.reindex(columns=list(RECIPE_COLUMNS))
        frame["dwell_h"] = frame["dwell_h"].fillna(space.default_dwell_h)
        return frame.to_numpy(dtype=float)
    return np.atleast_2d(np.asarray(recipes, dtype=float))


def check_in_space(
    recipes: pd.DataFrame, space: RecipeSpace, *, source: str, first_row: int = 2
) -> None:
    """Refuse recipes outside the space, naming the first offending value and the bounds.

    Args:
        recipes: frame with zbo_fraction, sinter_temperature_c and (optionally) dwell_h;
            a missing dwell means the default dwell.
        space: the recipe space.
        source: what to call the recipes in the message (a file name).
        first_row: spreadsheet row number of the first recipe (2: a CSV with a header row).

    Raises:
        RecipeOutsideSpaceError: e.g. ``at.csv row 3: zbo_fraction = 20 is outside [0, 0.5]``.
    """
    x = _matrix(recipes, space)
    bad: list[str] = []
    for j, axis in enumerate(space.axes):
        values = x[:, j]
        outside = np.flatnonzero(
            np.isfinite(values) & ((values < axis.min_value) | (values > axis.max_value))
        )
        for i in outside:
            bad.append(
                f"row {int(i) + first_row}: {axis.name} = {values[i]:g} is outside "
                f"[{axis.min_value:g}, {axis.max_value:g}]"
            )
    if bad:
        more = f" (and {len(bad) - 3} more)" if len(bad) > 3 else ""
        raise RecipeOutsideSpaceError(
            f"{source} {'; '.join(bad[:3])}{more}; the recipe space is "
            + ", ".join(f"{a.name} in [{a.min_value:g}, {a.max_value:g}]" for a in space.axes)
        )


def distance_to_data(recipes: Any, data: pd.DataFrame, space: RecipeSpace) -> np.ndarray:
    """Normalized distance of each recipe to the nearest recipe in ``data``.

    d_i = min_j ||(x_i - x_j) / (max - min)||_2 over the three recipe axes (see the module
    docstring); ``inf`` when ``data`` has no recipe.

    Args:
        recipes: frame or array (n, 3) of recipes (zbo_fraction, sinter_temperature_c, dwell_h).
        data: the measurement table (its recipe columns; a missing dwell is the default).
        space: gives each axis's range.

    Returns:
        Shape (n,), dimensionless.
    """
    lo, hi = space.bounds
    span = np.where(hi > lo, hi - lo, 1.0)
    x = (_matrix(recipes, space) - lo) / span
    ref = _matrix(data, space) if len(data) else np.empty((0, 3))
    ref = (ref[np.isfinite(ref).all(axis=1)] - lo) / span
    if not len(ref):
        return np.full(len(x), np.inf)
    out = np.empty(len(x))
    for start in range(0, len(x), _CHUNK):  # bounded memory: chunk x len(data) x 3 floats
        diff = x[start : start + _CHUNK, None, :] - ref[None, :, :]
        out[start : start + _CHUNK] = np.sqrt((diff**2).sum(axis=2)).min(axis=1)
    return out


def far_from_data(recipes: Any, data: pd.DataFrame, space: RecipeSpace) -> np.ndarray:
    """Boolean (n,): the recipe is more than :data:`FAR_FROM_DATA` from every measured recipe."""
    return distance_to_data(recipes, data, space) > FAR_FROM_DATA

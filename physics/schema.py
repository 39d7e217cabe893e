"""The schema every layer shares: recipe columns and space, table columns, the objectives.

Cheap to import (numpy only). Units are in the names.

- Recipes: ``(zbo_fraction, sinter_temperature_c, dwell_h)``; :class:`RecipeSpace` holds the
  bounds and furnace grid, built from a cycler service's capabilities (``recipe_space``) or
  from defaults that match the protocol's example. Every recipe the loop proposes lies on
  this grid.
- The measurement table, version 1 (``domain.md``): :data:`MEASUREMENT_COLUMNS`.
- The design objectives: :data:`OBJECTIVES` and their direction :data:`MAXIMIZE`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from physics.errors import ConfigError

__all__ = [
    "DEFAULT_DWELL_H",
    "MAXIMIZE",
    "MEASUREMENT_COLUMNS",
    "OBJECTIVES",
    "PROPERTY_COLUMNS",
    "RECIPE_COLUMNS",
    "TABLE_VERSION",
    "Axis",
    "RecipeSpace",
]

TABLE_VERSION = 1

RECIPE_COLUMNS: tuple[str, ...] = ("zbo_fraction", "sinter_temperature_c", "dwell_h")

#: Dwell at the sintering temperature (h) where a recipe or a service names none.
DEFAULT_DWELL_H = 6.0

PROPERTY_COLUMNS: tuple[str, ...] = (
    "relative_density",
    "thickness_cm",
    "sigma_total_ms_cm",
    "sigma_bulk_ms_cm",
    "sigma_gb_ms_cm",
    "activation_energy_ev",
    "electronic_fraction",
    "r_int_ohm_cm2",
    "ccd_ma_cm2",
    "ccd_censored",
)

MEASUREMENT_COLUMNS: tuple[str, ...] = (
    "sample_id",
    *RECIPE_COLUMNS,
    "status",
    *PROPERTY_COLUMNS,
    "source",
)

#: The design objectives, in the order every model and acquisition uses.
OBJECTIVES: tuple[str, ...] = ("sigma_total_ms_cm", "ccd_ma_cm2", "electronic_fraction")
#: Direction of each objective: conductivity and CCD up, electronic leakage down.
MAXIMIZE: dict[str, bool] = {
    "sigma_total_ms_cm": True,
    "ccd_ma_cm2": True,
    "electronic_fraction": False,
}

_REL_TOL = 1e-9


@dataclass(frozen=True)
class Axis:
    """One recipe variable: ``[min_value, max_value]`` on the grid ``min_value + k * step``."""

    name: str
    min_value: float
    max_value: float
    step: float
    default: float | None = None

    def __post_init__(self) -> None:
        if not (np.isfinite(self.min_value) and np.isfinite(self.max_value)):
            raise ConfigError(f"{self.name}: bounds must be finite numbers")
        if self.max_value < self.min_value:
            raise ConfigError(f"{self.name}: max {self.max_value} is below min {self.min_value}")
        if not (self.step > 0):
            raise ConfigError(f"{self.name}: step must be positive, got {self.step}")

    @property
    def values(self) -> np.ndarray:
        """All grid values, shape (k,)."""
        n = int(np.floor((self.max_value - self.min_value) / self.step * (1 + _REL_TOL))) + 1
        return np.round(self.min_value + self.step * np.arange(n), 10)

    def snap(self, value: float) -> float:
        """The nearest grid value within bounds."""
        k = np.clip(np.round((value - self.min_value) / self.step), 0, len(self.values) - 1)
        return float(np.round(self.min_value + k * self.step, 10))

    def contains(self, value: float) -> bool:
        """Whether ``value`` is within bounds and on the grid (relative tolerance 1e-9)."""
        if not np.isfinite(value):
            return False
        tol = _REL_TOL * max(1.0, abs(value), abs(self.max_value))
        if value < self.min_value - tol or value > self.max_value + tol:
            return False
        k = (value - self.min_value) / self.step
        return abs(k - round(k)) * self.step <= tol


@dataclass(frozen=True)
class RecipeSpace:
    """The three recipe axes; dwell is held at its default unless ``dwell_free``."""

    zbo_fraction: Axis = field(default_factory=lambda: Axis("zbo_fraction", 0.0, 0.5, 0.01))
    sinter_temperature_c: Axis = field(
        default_factory=lambda: Axis("sinter_temperature_c", 900.0, 1300.0, 10.0)
    )
    dwell_h: Axis = field(default_factory=lambda: Axis("dwell_h", 1.0, 24.0, 0.5, DEFAULT_DWELL_H))
    dwell_free: bool = False

    @classmethod
    def from_capabilities(
        cls, capabilities: dict[str, Any], *, dwell_free: bool = False
    ) -> RecipeSpace:
        """Build from the ``GET /v1/capabilities`` answer of a cycler service."""
        try:
            space = capabilities["recipe_space"]
            axes = {}
            for name in RECIPE_COLUMNS:
                spec = space[name]
                axes[name] = Axis(
                    name,
                    float(spec["min"]),
                    float(spec["max"]),
                    float(spec["step"]),
                    None if spec.get("default") is None else float(spec["default"]),
                )
        except (KeyError, TypeError, ValueError) as exc:
            raise ConfigError(
                f"capabilities: recipe_space is incomplete or malformed ({exc!r})"
            ) from exc
        return cls(dwell_free=dwell_free, **axes)

    @property
    def axes(self) -> tuple[Axis, Axis, Axis]:
        return (self.zbo_fraction, self.sinter_temperature_c, self.dwell_h)

    @property
    def default_dwell_h(self) -> float:
        d = self.dwell_h.default
        return self.dwell_h.snap(d if d is not None else DEFAULT_DWELL_H)

    @property
    def bounds(self) -> np.ndarray:
        """Shape (2, 3): lower and upper bounds in recipe order."""
        return np.array([[a.min_value for a in self.axes], [a.max_value for a in self.axes]])

    def grid(self) -> np.ndarray:
        """Every candidate recipe, shape (n, 3) in the order of ``RECIPE_COLUMNS``.

        With dwell fixed the third column is the default dwell.
        """
        dwell = self.dwell_h.values if self.dwell_free else np.array([self.default_dwell_h])
        xs, ts, ds = np.meshgrid(
            self.zbo_fraction.values, self.sinter_temperature_c.values, dwell, indexing="ij"
        )
        return np.column_stack([xs.ravel(), ts.ravel(), ds.ravel()])

    def snap(self, recipe: dict[str, float]) -> dict[str, float]:
        """The nearest grid recipe (dwell set to the default when it is not free)."""
        out = {a.name: a.snap(float(recipe[a.name])) for a in self.axes[:2]}
        if self.dwell_free and recipe.get("dwell_h") is not None:
            out["dwell_h"] = self.dwell_h.snap(float(recipe["dwell_h"]))
        else:
            out["dwell_h"] = self.default_dwell_h
        return out

    def validate(self, recipe: dict[str, Any]) -> dict[str, float]:
        """Check a recipe is complete, finite, in bounds and on the grid; return it as floats.

        Raises:
            ConfigError: naming the offending field and the valid range and step.
        """
        out: dict[str, float] = {}
        for axis in self.axes:
            raw = recipe.get(axis.name, axis.default if axis.name == "dwell_h" else None)
            if raw is None:
                raise ConfigError(f"recipe is missing {axis.name}")
            try:
                value = float(raw)
            except (TypeError, ValueError) as exc:
                raise ConfigError(f"recipe {axis.name} = {raw!r} is not a number") from exc
            if not axis.contains(value):
                raise ConfigError(
                    f"recipe {axis.name} = {value!r} is outside [{axis.min_value:g}, "
                    f"{axis.max_value:g}] or off its grid (step {axis.step:g})"
                )
            out[axis.name] = value
        return out

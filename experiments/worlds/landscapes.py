"""Simulation landscapes: the "true" recipe -> property maps the simulator and benchmarks use.

As in BoTorch's ``BaseTestProblem``, truth is kept apart from measurement:
:meth:`Landscape.true_properties` is the noiseless map (``evaluate_true``), and
:meth:`Landscape.sample_pellet` draws one sintered pellet with sample-to-sample scatter and a
furnace failure drawn from ``p_crack`` (``forward(noise=True)``).

Landscapes (all built on :class:`physics.process.model.ProcessModel`):

- ``calibrated``: the model calibrated on Wang et al. 2022 (optimum near x = 0.2, 1000-1100 C).
- ``shifted-optimum``: sealing needs more glass and liquid-phase sintering a hotter furnace,
  so the best conductivity sits near x ~ 0.3, T ~ 1100 C: the paper-calibrated prior is wrong.
- ``phase-boundary``: the calibrated landscape with a secondary phase that appears abruptly
  at x ~ 0.165, one grid step above the optimum's x (a cliff in conductivity beside the best recipe).

Benchmark helpers: :meth:`Landscape.best_sigma_total_ms_cm`, :meth:`Landscape.pareto_front`
(maximize sigma_total, maximize CCD, minimize t_e over feasible grid points, p_crack < 0.5),
and :func:`hypervolume` / :meth:`Landscape.relative_hypervolume`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from physics.constants import NZSP_THEORETICAL_DENSITY_G_CM3
from physics.errors import ConfigError
from physics.process.model import PROPERTY_KEYS, ProcessModel, ProcessParameters
from physics.process.parameters.wang2022 import WANG2022
from physics.schema import DEFAULT_DWELL_H

__all__ = [
    "FEASIBLE_P_CRACK",
    "HV_REFERENCE_POINT",
    "LANDSCAPES",
    "Landscape",
    "ParetoFront",
    "Pellet",
    "default_grid",
    "get_landscape",
    "hypervolume",
    "pareto_mask",
]

LANDSCAPES: tuple[str, ...] = ("calibrated", "shifted-optimum", "phase-boundary")

#: A grid point is feasible when its true p_crack is below this.
FEASIBLE_P_CRACK = 0.5

#: Hypervolume reference in maximization form: (sigma_total mS/cm, CCD mA/cm2, -t_e).
HV_REFERENCE_POINT: tuple[float, float, float] = (0.0, 0.0, -0.5)

#: Electrode area of every pellet (cm2): a 10 mm disc.
PELLET_AREA_CM2 = 0.785
#: Thickness a fully dense pellet would have (cm); L = this / rho (same powder mass).
DENSE_THICKNESS_CM = 0.0795

_PARAMS: dict[str, ProcessParameters] = {
    "calibrated": WANG2022,
    "shifted-optimum": WANG2022.replace(
        seal_half_x=0.24,
        sigma_gb_sealed_ms_cm=8.0,
        glass_block_x=0.55,
        zrsio4_onset_x=0.42,
        liquid_phase_rate_1000c=1.0,
        liquid_phase_activation_energy_ev=2.0,
        glass_volatilization_onset_c=1240.0,
        crack_glass_x=0.85,
    ),
    "phase-boundary": WANG2022.replace(
        zrsio4_onset_x=0.165, zrsio4_width_x=0.002, zrsio4_bulk_drop=0.7
    ),
}

_DESCRIPTIONS = {
    "calibrated": "process model calibrated on Wang et al. 2022 (doi 10.1039/d1ta10816f)",
    "shifted-optimum": "optimum moved to more ZBO and a hotter furnace (x ~ 0.3, T ~ 1100 C)",
    "phase-boundary": "calibrated model with an abrupt secondary phase at x ~ 0.165, beside the optimum",
}


@dataclass(frozen=True)
class Pellet:
    """One simulated pellet after sintering (NaN properties when it cracked).

    Attributes carry their units in their names; ``area_cm2`` is the electrode area.
    """

    cracked: bool
    thickness_cm: float
    area_cm2: float
    bulk_density_g_cm3: float
    relative_density: float
    sigma_bulk_ms_cm: float
    sigma_gb_ms_cm: float
    sigma_total_ms_cm: float
    activation_energy_ev: float
    electronic_fraction: float
    r_int_ohm_cm2: float
    ccd_ma_cm2: float


@dataclass(frozen=True)
class ParetoFront:
    """Non-dominated feasible grid points.

    Attributes:
        recipes: shape (n, 3): zbo_fraction, sinter_temperature_c, dwell_h.
        objectives: shape (n, 3) in maximization form: sigma_total_ms_cm, ccd_ma_cm2, -t_e.
    """

    recipes: np.ndarray
    objectives: np.ndarray


def default_grid(dwell_h: float = DEFAULT_DWELL_H) -> np.ndarray:
    """The cycler's recipe grid at a fixed dwell: x 0..0.5 step 0.01, T 900..1300 step 10 C.

    Returns:
        Shape (51 * 41, 3): columns zbo_fraction, sinter_temperature_c, dwell_h.
    """
    x = np.round(np.arange(51) * 0.01, 10)
    t = 900.0 + 10.0 * np.arange(41)
    xx, tt = np.meshgrid(x, t, indexing="ij")
    return np.column_stack([xx.ravel(), tt.ravel(), np.full(xx.size, float(dwell_h))])


def pareto_mask(objectives: np.ndarray) -> np.ndarray:
    """Boolean mask of the non-dominated rows of ``objectives`` (n, k), all maximized."""
    y = np.asarray(objectives, dtype=float)
    keep = np.ones(len(y), dtype=bool)
    for i in range(len(y)):
        if not keep[i]:
            continue
        dominated = np.all(y >= y[i], axis=1) & np.any(y > y[i], axis=1)
        if dominated.any():
            keep[i] = False
    return keep


def hypervolume(objectives: np.ndarray, reference: Any = HV_REFERENCE_POINT) -> float:
    """Exact hypervolume of points (n, 3) in maximization form above ``reference``.

    Slices along the third objective: ``HV = sum_i (z_i - z_{i+1}) * HV2D(points with
    z >= z_i)``, with the 2-D area computed by a sweep. Points not above the reference in
    every objective contribute nothing.
    """
    ref = np.asarray(reference, dtype=float)
    y = np.asarray(objectives, dtype=float).reshape(-1, 3)
    y = y[np.all(np.isfinite(y), axis=1) & np.all(y > ref, axis=1)]
    if len(y) == 0:
        return 0.0
    y = y[np.argsort(-y[:, 2])]
    levels = np.append(y[:, 2], ref[2])
    total = 0.0
    for i in range(len(y)):
        height = levels[i] - levels[i + 1]
        if height <= 0:
            continue
        total += height * _area_2d(y[: i + 1, :2], ref[:2])
    return float(total)


def _area_2d(points: np.ndarray, ref: np.ndarray) -> float:
    """Area dominated by 2-D points (maximization) above ``ref``."""
    pts = points[np.argsort(-points[:, 0])]
    area, best_y = 0.0, ref[1]
    for i, (px, py) in enumerate(pts):
        next_x = pts[i + 1, 0] if i + 1 < len(pts) else ref[0]
        best_y = max(best_y, py)
        area += (px - next_x) * (best_y - ref[1])
    return area


class Landscape:
    """A true recipe -> properties map with a pellet sampler.

    Args:
        name: one of :data:`LANDSCAPES`.
        model: the process model that defines the truth.
        description: one line for logs and reports.
    """

    #: Lognormal sigma (relative scatter) of each property between pellets of one recipe.
    scatter: dict[str, float] = {  # noqa: RUF012 - read-only class constant
        "sigma_bulk_ms_cm": 0.04,
        "sigma_gb_ms_cm": 0.06,
        "electronic_fraction": 0.10,
        "r_int_ohm_cm2": 0.10,
        "ccd_ma_cm2": 0.08,
        "thickness_cm": 0.02,
    }
    #: Absolute scatter (standard deviation) of the relative density and of Ea (eV).
    density_sd: float = 0.005
    activation_energy_sd_ev: float = 0.005

    def __init__(self, name: str, model: ProcessModel, description: str = "") -> None:
        self.name = name
        self.model = model
        self.description = description

    def __repr__(self) -> str:
        return f"Landscape({self.name!r})"

    def true_properties(
        self, zbo_fraction: Any, sinter_temperature_c: Any, dwell_h: Any = DEFAULT_DWELL_H
    ) -> dict[str, np.ndarray]:
        """Noiseless properties, keys :data:`~physics.process.model.PROPERTY_KEYS`, broadcast."""
        pred = self.model.predict(
            np.asarray(zbo_fraction, float),
            np.asarray(sinter_temperature_c, float),
            np.asarray(dwell_h, float),
        )
        shape = np.broadcast_shapes(
            np.shape(zbo_fraction), np.shape(sinter_temperature_c), np.shape(dwell_h)
        )
        return {k: np.broadcast_to(np.asarray(pred[k], float), shape).copy() for k in PROPERTY_KEYS}

    def measure_table(
        self, recipes: np.ndarray, rng: np.random.Generator, *, prefix: str = "s", start: int = 0
    ) -> pd.DataFrame:
        """Measurement-table rows of one sampled pellet per recipe (the three objectives).

        Args:
            recipes: shape (n, 3), columns zbo_fraction, sinter_temperature_c, dwell_h.
            rng: the random generator, consumed in recipe order.
            prefix, start: sample ids are ``f"{prefix}{start + i}"``.
        """
        rows = []
        for i, (x, t, d) in enumerate(np.asarray(recipes, float).reshape(-1, 3)):
            p = self.sample_pellet(
                {"zbo_fraction": x, "sinter_temperature_c": t, "dwell_h": d}, rng
            )
            ok = not p.cracked
            rows.append(
                {
                    "sample_id": f"{prefix}{start + i}",
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

    def sample_pellet(self, recipe: dict[str, Any], rng: np.random.Generator) -> Pellet:
        """Sinter one pellet: true properties with scatter, or a cracked pellet.

        Args:
            recipe: ``zbo_fraction``, ``sinter_temperature_c`` and optionally ``dwell_h``
                (default 6 h).
            rng: the random generator (the only source of randomness).

        Raises:
            ConfigError: a recipe key is missing or not a finite number.
        """
        x, t, d = _recipe_values(recipe)
        true = {k: float(v) for k, v in self.true_properties(x, t, d).items()}
        if rng.random() < true["p_crack"]:
            nan = float("nan")
            return Pellet(True, nan, PELLET_AREA_CM2, nan, nan, nan, nan, nan, nan, nan, nan, nan)

        def logn(key: str) -> float:
            return true[key] * float(np.exp(self.scatter[key] * rng.standard_normal()))

        rho = float(
            np.clip(true["relative_density"] + self.density_sd * rng.standard_normal(), 0.3, 1.0)
        )
        sigma_b, sigma_gb = logn("sigma_bulk_ms_cm"), logn("sigma_gb_ms_cm")
        t_e = float(np.clip(logn("electronic_fraction"), 1e-6, 0.99))
        thickness = (
            DENSE_THICKNESS_CM
            / rho
            * float(np.exp(self.scatter["thickness_cm"] * rng.standard_normal()))
        )
        return Pellet(
            cracked=False,
            thickness_cm=float(np.clip(thickness, 0.06, 0.14)),
            area_cm2=PELLET_AREA_CM2,
            bulk_density_g_cm3=rho * NZSP_THEORETICAL_DENSITY_G_CM3,
            relative_density=rho,
            sigma_bulk_ms_cm=sigma_b,
            sigma_gb_ms_cm=sigma_gb,
            sigma_total_ms_cm=1.0 / (1.0 / sigma_b + 1.0 / sigma_gb),
            activation_energy_ev=true["activation_energy_ev"]
            + self.activation_energy_sd_ev * float(rng.standard_normal()),
            electronic_fraction=t_e,
            r_int_ohm_cm2=logn("r_int_ohm_cm2"),
            ccd_ma_cm2=logn("ccd_ma_cm2"),
        )

    def _grid_props(self, grid: np.ndarray | None) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        g = default_grid() if grid is None else np.asarray(grid, dtype=float)
        if g.ndim != 2 or g.shape[1] not in (2, 3):
            raise ConfigError(f"grid must have shape (n, 2) or (n, 3), got {g.shape}")
        if g.shape[1] == 2:
            g = np.column_stack([g, np.full(len(g), DEFAULT_DWELL_H)])
        return g, self.true_properties(g[:, 0], g[:, 1], g[:, 2])

    def best_sigma_total_ms_cm(self, grid: np.ndarray | None = None) -> float:
        """Best true total conductivity over the feasible points of ``grid`` (default grid)."""
        return float(self.best_recipe(grid)["sigma_total_ms_cm"])

    def best_recipe(self, grid: np.ndarray | None = None) -> dict[str, float]:
        """The feasible grid recipe of highest true sigma_total, with that sigma."""
        g, props = self._grid_props(grid)
        sigma = np.where(props["p_crack"] < FEASIBLE_P_CRACK, props["sigma_total_ms_cm"], -np.inf)
        i = int(np.argmax(sigma))
        if not np.isfinite(sigma[i]):
            raise ConfigError("no feasible point (p_crack < 0.5) on the grid")
        return {
            "zbo_fraction": float(g[i, 0]),
            "sinter_temperature_c": float(g[i, 1]),
            "dwell_h": float(g[i, 2]),
            "sigma_total_ms_cm": float(sigma[i]),
        }

    def pareto_front(self, grid: np.ndarray | None = None) -> ParetoFront:
        """True Pareto front (max sigma, max CCD, min t_e) of the feasible grid points."""
        g, props = self._grid_props(grid)
        feasible = props["p_crack"] < FEASIBLE_P_CRACK
        obj = np.column_stack(
            [props["sigma_total_ms_cm"], props["ccd_ma_cm2"], -props["electronic_fraction"]]
        )[feasible]
        recipes = g[feasible]
        mask = pareto_mask(obj)
        return ParetoFront(recipes=recipes[mask], objectives=obj[mask])

    def relative_hypervolume(
        self,
        objectives: np.ndarray,
        grid: np.ndarray | None = None,
        reference: Any = HV_REFERENCE_POINT,
    ) -> float:
        """HV of observed objectives (n, 3; maximization form) / HV of the true front."""
        true_hv = hypervolume(self.pareto_front(grid).objectives, reference)
        return hypervolume(objectives, reference) / true_hv if true_hv > 0 else 0.0


def _recipe_values(recipe: dict[str, Any]) -> tuple[float, float, float]:
    values = []
    for key, default in (
        ("zbo_fraction", None),
        ("sinter_temperature_c", None),
        ("dwell_h", DEFAULT_DWELL_H),
    ):
        raw = recipe.get(key, default) if isinstance(recipe, dict) else None
        if raw is None:
            raise ConfigError(f"recipe needs {key!r}; got {recipe!r}")
        try:
            value = float(raw)
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"recipe {key} must be a number, got {raw!r}") from exc
        if not np.isfinite(value):
            raise ConfigError(f"recipe {key} must be finite, got {raw!r}")
        values.append(value)
    return values[0], values[1], values[2]


def get_landscape(name: str = "calibrated") -> Landscape:
    """The landscape called ``name``.

    Raises:
        ConfigError: unknown name (the message lists :data:`LANDSCAPES`).
    """
    if name not in _PARAMS:
        raise ConfigError(
            f"'{name}' is not a valid landscape. Landscape must be one of: {', '.join(LANDSCAPES)}"
        )
    return Landscape(name, ProcessModel(_PARAMS[name]), _DESCRIPTIONS[name])

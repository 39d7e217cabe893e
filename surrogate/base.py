"""Shared pieces of the surrogates: objectives, their transforms, the Prediction record.

Each objective is modelled in a transformed space where a Gaussian is a fair description:

=======================  ==================  ================================
objective                model space          direction
=======================  ==================  ================================
``sigma_total_ms_cm``    ``log(sigma)``       maximize
``ccd_ma_cm2``           ``log(ccd)``         maximize
``electronic_fraction``  ``logit(t_e)``       minimize
=======================  ==================  ================================

Predictions are reported back in the units of the property itself: the mean and standard
deviation of ``exp(f)`` (lognormal moments, closed form) or of ``sigmoid(f)`` (logit-normal
moments, 32-point Gauss-Hermite quadrature), where ``f ~ N(mean, sd^2)`` is the latent
(noise-free) posterior in model space.

Recipes enter the models normalized to the unit cube by the bounds of the recipe space.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, Self, runtime_checkable

import numpy as np
import pandas as pd

from physics.errors import DataError
from physics.jsonsafe import finite_or_none
from physics.schema import DEFAULT_DWELL_H, OBJECTIVES, RECIPE_COLUMNS, RecipeSpace
from physics.table import empty_table, validate_table

if TYPE_CHECKING:  # torch stays out of ``import surrogate.base``
    from botorch.models.model import Model

__all__ = [
    "DEFAULT_BOUNDS",
    "NOISE_COLUMNS",
    "STRATEGIES",
    "AcquisitionSurrogate",
    "Prediction",
    "Surrogate",
    "backtransform",
    "encode",
    "from_model_space",
    "recipes_frame",
    "split_noise_columns",
    "to_model_space",
]

#: The surrogate strategies (``make_surrogate``), the first is the default.
STRATEGIES: tuple[str, ...] = ("physics-gp", "gp", "sobol")
# Optional columns with the known measurement standard deviation of each objective (in the
# objective's own units). They are not part of the measurement table: they are split off
# before validation and used as fixed per-point noise.
NOISE_COLUMNS: dict[str, str] = {name: f"{name}_sd" for name in OBJECTIVES}

# Bounds of (zbo_fraction, sinter_temperature_c, dwell_h) used to normalize recipes when the
# caller passes none (the design layer passes the cycler's RecipeSpace bounds).
DEFAULT_BOUNDS = RecipeSpace().bounds

_EPS = 1e-9
_GH_X, _GH_W = np.polynomial.hermite_e.hermegauss(32)
_GH_W = _GH_W / _GH_W.sum()


def to_model_space(name: str, value: Any) -> Any:
    """Property -> model space: ``log`` for sigma and CCD, ``logit`` for t_e.

    Works on numpy arrays and torch tensors alike.
    """
    lib = _lib(value)
    if name == "electronic_fraction":
        v = lib.clip(value, _EPS, 1 - _EPS)
        return lib.log(v) - lib.log(1 - v)
    return lib.log(lib.clip(value, _EPS, None))


def from_model_space(name: str, value: Any) -> Any:
    """Model space -> property (the inverse of :func:`to_model_space`)."""
    lib = _lib(value)
    if name == "electronic_fraction":
        return 1.0 / (1.0 + lib.exp(-value))
    return lib.exp(value)


def _lib(value: Any) -> Any:
    import torch

    return torch if isinstance(value, torch.Tensor) else np


def backtransform(name: str, mean: np.ndarray, sd: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and sd of the property when its model-space value is ``N(mean, sd^2)``.

    Lognormal: ``E = exp(m + s^2/2)``, ``SD = E * sqrt(exp(s^2) - 1)``. Logit-normal: by
    Gauss-Hermite quadrature.
    """
    mean = np.asarray(mean, dtype=float)
    sd = np.asarray(sd, dtype=float)
    if name == "electronic_fraction":
        z = mean[..., None] + sd[..., None] * _GH_X
        p = 1.0 / (1.0 + np.exp(-z))
        m1 = (p * _GH_W).sum(-1)
        m2 = (p**2 * _GH_W).sum(-1)
        return m1, np.sqrt(np.clip(m2 - m1**2, 0.0, None))
    s2 = np.minimum(sd**2, 50.0)
    m1 = np.exp(mean + s2 / 2)
    return m1, m1 * np.sqrt(np.expm1(s2))


def recipes_frame(
    recipes: pd.DataFrame | np.ndarray, default_dwell_h: float = DEFAULT_DWELL_H
) -> pd.DataFrame:
    """Recipes as a frame with the three recipe columns (dwell filled with the default).

    Raises:
        DataError: a missing recipe column or a non-finite recipe value.
    """
    if isinstance(recipes, pd.DataFrame):
        frame = recipes.copy()
        missing = [c for c in RECIPE_COLUMNS[:2] if c not in frame.columns]
        if missing:
            raise DataError(
                f"recipes: missing column(s) {', '.join(missing)}; "
                f"expected {', '.join(RECIPE_COLUMNS)}"
            )
        if "dwell_h" not in frame.columns:
            frame["dwell_h"] = default_dwell_h
        frame = frame[list(RECIPE_COLUMNS)].astype(float)
        frame["dwell_h"] = frame["dwell_h"].fillna(default_dwell_h)
    else:
        arr = np.atleast_2d(np.asarray(recipes, dtype=float))
        if arr.shape[-1] == 2:
            arr = np.column_stack([arr, np.full(len(arr), default_dwell_h)])
        if arr.ndim != 2 or arr.shape[-1] != 3:
            raise DataError(f"recipes: expected shape (n, 3), got {arr.shape}")
        frame = pd.DataFrame(arr, columns=list(RECIPE_COLUMNS))
    if not np.isfinite(frame.to_numpy()).all():
        raise DataError("recipes: every recipe value must be a finite number")
    return frame.reset_index(drop=True)


def encode(recipes: pd.DataFrame, bounds: np.ndarray = DEFAULT_BOUNDS) -> np.ndarray:
    """Recipes (n, 3) -> unit cube by ``bounds`` (2, 3) (a zero-width axis maps to 0)."""
    lo, hi = np.asarray(bounds, dtype=float)
    width = np.where(hi > lo, hi - lo, 1.0)
    return (recipes[list(RECIPE_COLUMNS)].to_numpy(dtype=float) - lo) / width


def split_noise_columns(
    table: pd.DataFrame, default_dwell_h: float = DEFAULT_DWELL_H
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Validate ``table``; return it and the optional known-noise columns (NaN if absent).

    Raises:
        DataError: from :func:`physics.table.validate_table` (missing columns, NaN recipes,
            unit mix-ups, duplicate samples), or a negative known sd.
    """
    if len(table) == 0 and not set(RECIPE_COLUMNS) <= set(table.columns):
        table = empty_table()  # an empty frame without columns is an empty table too
    noise_cols = [c for c in NOISE_COLUMNS.values() if c in table.columns]
    noise = pd.DataFrame(index=range(len(table)))
    for name, col in NOISE_COLUMNS.items():
        values = (
            pd.to_numeric(table[col], errors="coerce").to_numpy(float)
            if col in noise_cols
            else np.full(len(table), np.nan)
        )
        if (values < 0).any():
            raise DataError(f"table: {col} must be a non-negative standard deviation")
        noise[name] = values
    clean = validate_table(table.drop(columns=noise_cols), name="table")
    if clean["dwell_h"].isna().any():
        clean["dwell_h"] = clean["dwell_h"].fillna(default_dwell_h)
    return clean, noise


@dataclass
class Prediction:
    """Posterior predictions at some recipes.

    Attributes:
        recipes: the recipes, columns ``RECIPE_COLUMNS``, n rows.
        mean: objective -> (n,) mean of the property in its own units.
        sd: objective -> (n,) standard deviation of the property (latent, no noise).
        p_feasible: (n,) probability that the recipe does not crack.
        latent_mean: objective -> (n,) posterior mean in model space (log / logit).
        latent_sd: objective -> (n,) posterior sd in model space.
        noise_sd: objective -> (n,) measurement-noise sd in model space (for coverage).
    """

    recipes: pd.DataFrame
    mean: dict[str, np.ndarray]
    sd: dict[str, np.ndarray]
    p_feasible: np.ndarray
    latent_mean: dict[str, np.ndarray] = field(default_factory=dict)
    latent_sd: dict[str, np.ndarray] = field(default_factory=dict)
    noise_sd: dict[str, np.ndarray] = field(default_factory=dict)

    def to_records(self) -> list[dict[str, Any]]:
        """One JSON-ready dict per recipe (NaN becomes ``None``)."""
        out = []
        for i, row in enumerate(self.recipes.to_dict("records")):
            rec: dict[str, Any] = {k: float(v) for k, v in row.items()}
            for name in OBJECTIVES:
                rec[name] = {
                    "mean": finite_or_none(self.mean[name][i]),
                    "sd": finite_or_none(self.sd[name][i]),
                }
            rec["p_feasible"] = finite_or_none(self.p_feasible[i])
            out.append(rec)
        return out


class Surrogate(Protocol):
    """What every strategy provides (scikit-learn style: ``fit`` returns ``self``)."""

    def fit(self, table: pd.DataFrame) -> Self:
        """Fit to a measurement table (may be empty)."""
        ...

    def predict(self, recipes: pd.DataFrame | np.ndarray) -> Prediction:
        """Posterior at recipes (a frame with recipe columns, or an (n, 3) array)."""
        ...


@runtime_checkable
class AcquisitionSurrogate(Surrogate, Protocol):
    """What the acquisition (:mod:`design.acquisition.batch`) needs of a surrogate.

    Nothing else of a surrogate is read by the acquisition: any object with these methods
    (``isinstance(obj, AcquisitionSurrogate)`` checks that they exist) can propose batches.
    """

    def encode(self, recipes: pd.DataFrame | np.ndarray) -> np.ndarray:
        """Recipes (a frame with recipe columns, or (n, 3)) -> model inputs (n, d)."""
        ...

    def p_feasible(self, Xn: np.ndarray) -> np.ndarray:
        """(n,) probability that the recipe does not crack, at encoded recipes (n, d)."""
        ...

    def posterior_model(self) -> Model | None:
        """The fitted posterior over the objectives, or None when there is none yet.

        A BoTorch ``Model`` with one output per objective of :data:`OBJECTIVES`, in that
        order and in model space (``log sigma``, ``log CCD``, ``logit t_e``), on encoded
        recipes; ``posterior(X)`` is a ``GPyTorchPosterior`` (joint Gaussian, latent: no
        measurement noise) whose marginals are :meth:`predict`'s ``latent_mean`` and
        ``latent_sd``; ``output_indices=[k]`` gives objective ``k`` alone.
        """
        ...

"""The record of how far physics-gp trusts the process model, per objective, in plain words.

:class:`PhysicsTrust` is built at each ``fit`` of physics-gp (``GPSurrogate.physics_prior_``)
and read with ``GPSurrogate.trust_summary()``: for each objective the physics weight of the
stacked surrogate (:mod:`surrogate.stacking`), the leave-one-out errors that decided it, and
which literature parameters the data moved most. ``summary()`` flattens it for MLflow
parameters (the keys ``physics_prior_<objective>`` and
``physics_prior_<objective>_cv_rmse_literature`` keep their earlier meaning: which model
the prior mean comes from, and its held-out RMSE).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from physics.schema import OBJECTIVES

__all__ = ["ObjectiveTrust", "PhysicsTrust"]

_UNITS = {
    "sigma_total_ms_cm": "natural-log units",
    "ccd_ma_cm2": "natural-log units",
    "electronic_fraction": "logit units",
}
_SHORT = {"sigma_total_ms_cm": "sigma", "ccd_ma_cm2": "CCD", "electronic_fraction": "t_e"}


@dataclass
class ObjectiveTrust:
    """Trust in the physics for one objective.

    Attributes:
        name: the objective.
        weight: physics weight w in [0, 1] of the stacked surrogate.
        n_rows: measured rows of this objective.
        n_loo: rows left out one at a time to choose w (0: too few, w is the prior's mode).
        rmse_physics: leave-one-out RMSE of the physics GP (model space).
        rmse_plain: leave-one-out RMSE of the data-only GP.
        parameter_scale: ``lambda`` (how far the data let the parameters move, relative to
            the prior sd of 10 % of each range).
        moved: up to three ``(parameter, literature value, value the data suggest)``,
            largest moves first (in units of each parameter's range).
    """

    name: str
    weight: float
    n_rows: int
    n_loo: int = 0
    rmse_physics: float = float("nan")
    rmse_plain: float = float("nan")
    parameter_scale: float = float("nan")
    moved: list[tuple[str, float, float]] = field(default_factory=list)

    def line(self) -> str:
        """One paragraph a scientist reads."""
        head = f"{_SHORT[self.name]}: physics weight {self.weight:.2f}"
        if self.n_rows == 0:
            return f"{head} - no measurement yet: the literature process model alone."
        if self.n_loo == 0:
            return (
                f"{head} - only {self.n_rows} measured row(s), too few to test the physics on "
                "left-out rows: the literature model, corrected by the data."
            )
        verdict = (
            "the physics predicts them better"
            if self.rmse_physics < self.rmse_plain
            else "the physics does not predict them better"
        )
        text = (
            f"{head} - left out one at a time, {self.n_loo} measured rows are predicted to "
            f"{self.rmse_physics:.3g} ({_UNITS[self.name]}) by the physics-informed model and "
            f"to {self.rmse_plain:.3g} by a GP without physics: {verdict}."
        )
        if self.moved and self.weight > 0:
            moves = ", ".join(f"{n} {a:.4g} -> {b:.4g}" for n, a, b in self.moved)
            text += f" The data move the literature parameters most in: {moves}."
        return text

    def numbers(self) -> dict[str, Any]:
        """The figures behind :meth:`line` (JSON-ready)."""
        return {
            "weight": self.weight,
            "n_rows": self.n_rows,
            "n_loo": self.n_loo,
            "loo_rmse_physics": _num(self.rmse_physics),
            "loo_rmse_plain": _num(self.rmse_plain),
            "parameter_scale": _num(self.parameter_scale),
            "moved": [{"parameter": n, "literature": a, "data": b} for n, a, b in self.moved],
        }


def _num(value: float) -> float | None:
    return float(value) if np.isfinite(value) else None


@dataclass
class PhysicsTrust:
    """Trust in the physics for every objective (``objectives``: name -> ObjectiveTrust)."""

    objectives: dict[str, ObjectiveTrust] = field(default_factory=dict)

    @property
    def choice(self) -> dict[str, str]:
        """Where each objective's prior mean comes from: always the literature model."""
        return {name: "literature" for name in self.objectives}

    def lines(self) -> dict[str, str]:
        """``{objective: paragraph}``."""
        return {name: t.line() for name, t in self.objectives.items()}

    def numbers(self) -> dict[str, dict[str, Any]]:
        """``{objective: figures}``."""
        return {name: t.numbers() for name, t in self.objectives.items()}

    def summary(self) -> dict[str, Any]:
        """Flat record for MLflow parameters (4 significant digits)."""
        out: dict[str, Any] = {
            "physics_prior_folds": max((t.n_loo for t in self.objectives.values()), default=0)
        }
        for name in OBJECTIVES:
            t = self.objectives.get(name)
            if t is None:
                continue
            out[f"physics_prior_{name}"] = "literature"
            out[f"physics_prior_{name}_weight"] = float(f"{t.weight:.4g}")
            for key, value in (("literature", t.rmse_physics), ("plain", t.rmse_plain)):
                if np.isfinite(value):
                    out[f"physics_prior_{name}_cv_rmse_{key}"] = float(f"{value:.4g}")
        return out

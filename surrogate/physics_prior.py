"""The physics prior mean of physics-gp, chosen and sized by cross-validation.

Re-calibrating ~20 process-model parameters on a handful of rows makes the model pass
through those rows whether or not it is right between them. A residual GP fitted to the
in-sample residuals then sees almost nothing left to explain, learns a tiny variance and
reports intervals that are far too narrow wherever the physics is wrong.

So the calibrated model is judged on rows it was not fitted to. For each objective (in its
model space: log sigma, log CCD, logit t_e):

1. **Out-of-fold error of the re-calibrated model**: ``K = min(5, n)`` folds of the
   uncracked rows; each fold is predicted by a calibration on the other folds
   (warm-started from the full calibration).
2. **Error of the literature model** (the parameters before any re-calibration) on all
   rows: it was fitted to none of them, so its in-sample error is already out-of-sample.
3. The objective's prior mean is the candidate with the smaller mean squared error, and
   that error (less the known measurement noise, when given) becomes the floor of the
   residual GP's variance: away from the data the surrogate is never more confident than
   the prior mean has proven to be on held-out rows.

A censored CCD (a lower bound) counts only when the prediction falls below it, as in
:func:`physics.process.calibration.calibrate`. The literature parameters were calibrated on the
paper's own table (``source`` = :data:`physics.constants.PAPER_DOI`): those rows always stay
in training and are scored only when the table has no other uncracked row.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from physics.constants import PAPER_DOI
from physics.errors import GBSError
from physics.process.model import ProcessModel
from physics.schema import OBJECTIVES
from surrogate.base import to_model_space

__all__ = ["MAX_FOLDS", "PhysicsPrior", "choose_physics_prior"]

#: Number of cross-validation folds (fewer when there are fewer uncracked rows).
MAX_FOLDS = 5


@dataclass
class PhysicsPrior:
    """The prior mean of each objective and how well it predicts held-out rows.

    Attributes:
        calibrated: the process model re-calibrated on all rows (None if that failed).
        literature: the process model with the starting (literature) parameters.
        choice: ``{objective: "calibrated" | "literature"}``.
        cv_mse: ``{objective: {candidate: mean squared held-out error in model space}}``
            (NaN where the objective has no measured row).
        floor: ``{objective: residual-variance floor (model-space units^2)}``.
        discrepancy: ``{objective: held-out minus in-sample mean squared error}`` of the
            chosen model: what the re-calibration absorbed at its own rows and will not
            reproduce at new ones (0 for the literature model).
        n_folds: folds used (0 when nothing was cross-validated).
    """

    calibrated: ProcessModel | None
    literature: ProcessModel
    choice: dict[str, str] = field(default_factory=dict)
    cv_mse: dict[str, dict[str, float]] = field(default_factory=dict)
    floor: dict[str, float] = field(default_factory=dict)
    discrepancy: dict[str, float] = field(default_factory=dict)
    n_folds: int = 0

    def model(self, name: str) -> ProcessModel:
        """The process model behind objective ``name``'s prior mean."""
        if self.choice.get(name) == "calibrated" and self.calibrated is not None:
            return self.calibrated
        return self.literature

    def predict(self, name: str) -> Callable[..., dict]:
        """``(x, T, dwell) -> dict`` of the model behind ``name``."""
        return self.model(name).predict

    def summary(self) -> dict[str, Any]:
        """Flat record for logs: folds, choice and held-out RMSE (4 digits) of each candidate."""
        out: dict[str, Any] = {"physics_prior_folds": self.n_folds}
        for name in OBJECTIVES:
            out[f"physics_prior_{name}"] = self.choice.get(name, "literature")
            for cand, mse in self.cv_mse.get(name, {}).items():
                out[f"physics_prior_{name}_cv_rmse_{cand}"] = float(f"{np.sqrt(mse):.4g}")
        return out


def _targets(table: pd.DataFrame, name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Row mask, model-space value and lower-bound flag of ``name`` over the table."""
    values = pd.to_numeric(table[name], errors="coerce").to_numpy(float)
    rows = (table["status"] == "ok").to_numpy() & np.isfinite(values)
    y = np.full(len(table), np.nan)
    y[rows] = to_model_space(name, values[rows])
    lower = np.zeros(len(table), bool)
    if name == "ccd_ma_cm2" and "ccd_censored" in table.columns:
        lower = table["ccd_censored"].fillna(False).to_numpy(dtype=bool)
    return rows, y, lower


def _errors(model: ProcessModel, table: pd.DataFrame, at: np.ndarray) -> dict[str, np.ndarray]:
    """Model-space prediction errors of ``model`` at rows ``at`` (NaN where unmeasured)."""
    sub = table.iloc[at]
    pred = model.predict(
        sub["zbo_fraction"].to_numpy(float),
        sub["sinter_temperature_c"].to_numpy(float),
        sub["dwell_h"].to_numpy(float),
    )
    out = {}
    for name in OBJECTIVES:
        rows, y, lower = _targets(sub, name)
        err = np.where(rows, to_model_space(name, np.asarray(pred[name])) - y, np.nan)
        out[name] = np.where(lower & rows, np.minimum(err, 0.0), err)
    return out


def choose_physics_prior(
    table: pd.DataFrame,
    calibrate_fn: Callable[..., Any] | None,
    *,
    noise_var: dict[str, float] | None = None,
    min_floor: float = 0.01,
    seed: int = 0,
) -> PhysicsPrior:
    """Calibrate, cross-validate and choose each objective's physics prior mean.

    Args:
        table: the clean measurement table (recipes with dwell filled in).
        calibrate_fn: ``(table, start=None) -> ProcessModel``, the re-calibration; None to
            use the literature model only (no re-calibration, no cross-validation).
        noise_var: known mean measurement variance per objective in model space, subtracted
            from the held-out error before it becomes the variance floor.
        min_floor: the smallest variance floor (model-space units^2).
        seed: fold assignment.

    Returns:
        A :class:`PhysicsPrior`. If the full calibration fails, the literature model is
        used for every objective.
    """
    literature = ProcessModel()
    noise_var = noise_var or {}
    ok = (table["status"] == "ok").to_numpy()
    ok_rows = np.flatnonzero(ok)
    calibrated = None
    if calibrate_fn is not None and len(ok_rows) and table["sigma_total_ms_cm"].notna().any():
        try:
            calibrated = calibrate_fn(table)
        except GBSError:
            calibrated = None
    prior = PhysicsPrior(calibrated, literature)
    if len(ok_rows) == 0:
        prior.floor = {name: min_floor for name in OBJECTIVES}
        return prior
    scored = _scored_rows(table, ok)
    errors = {"literature": _errors(literature, table, scored)}
    in_sample = dict(errors)
    if calibrated is not None:
        k = min(MAX_FOLDS, len(scored))
        folds = np.random.default_rng(seed).permutation(len(scored)) % k
        oof = {name: np.full(len(scored), np.nan) for name in OBJECTIVES}
        for f in range(k):
            held = scored[folds == f]
            train = np.setdiff1d(np.arange(len(table)), held)
            model = literature
            if calibrate_fn is not None and (table.iloc[train]["status"] == "ok").any():
                try:
                    model = calibrate_fn(table.iloc[train], start=calibrated.params)
                except GBSError:
                    model = literature
            for name, e in _errors(model, table, held).items():
                oof[name][folds == f] = e
        errors["calibrated"] = oof
        in_sample["calibrated"] = _errors(calibrated, table, scored)
        prior.n_folds = k
    for name in OBJECTIVES:
        mse = {c: _mse(e[name]) for c, e in errors.items()}
        prior.cv_mse[name] = mse
        finite = {c: v for c, v in mse.items() if np.isfinite(v)}
        # ties (e.g. no measured row) go to the re-calibrated model when there is one
        best = min(finite, key=lambda c: (finite[c], c != "calibrated")) if finite else None
        prior.choice[name] = best or ("calibrated" if calibrated is not None else "literature")
        held_out = finite.get(prior.choice[name], 0.0) - noise_var.get(name, 0.0)
        prior.floor[name] = max(min_floor, held_out)
        if best is not None:
            gap = finite[best] - _mse(in_sample[best][name])
            prior.discrepancy[name] = max(0.0, gap) if np.isfinite(gap) else 0.0
    return prior


def _scored_rows(table: pd.DataFrame, ok: np.ndarray) -> np.ndarray:
    """Uncracked rows to score on: all but the paper's own, unless those are all there is."""
    source = table["source"].astype(str).to_numpy() if "source" in table.columns else None
    if source is not None:
        new = ok & (source != PAPER_DOI)
        if new.any():
            return np.flatnonzero(new)
    return np.flatnonzero(ok)


def _mse(err: np.ndarray) -> float:
    err = err[np.isfinite(err)]
    return float(np.mean(err**2)) if err.size else float("nan")

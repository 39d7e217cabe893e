"""Validation of a surrogate: leave-one-out and held-out RMSE and 95 % interval coverage.

Errors are computed per objective in model space (natural log of sigma and CCD, logit of
t_e), on measured ``ok`` rows only; censored CCD values (lower bounds) are left out of the
scores. The 95 % interval of a new measurement is ``mean +- 1.96 sqrt(latent var + noise
var)``; coverage is the fraction of held-out measurements inside it (0.95 when calibrated).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from physics.errors import DataError
from physics.schema import OBJECTIVES
from surrogate.base import Surrogate, split_noise_columns, to_model_space
from surrogate.strategies import make_surrogate

__all__ = ["ValidationReport", "holdout_validate", "loo_validate", "score"]

_Z95 = 1.959963984540054


@dataclass
class ValidationReport:
    """Scores per objective.

    Attributes:
        rmse: objective -> RMSE in model space (log / logit units).
        coverage: objective -> fraction of measurements inside the 95 % predictive interval.
        n: objective -> number of scored measurements.
        residuals: objective -> (n,) measured minus predicted, model space.
    """

    rmse: dict[str, float] = field(default_factory=dict)
    coverage: dict[str, float] = field(default_factory=dict)
    n: dict[str, int] = field(default_factory=dict)
    residuals: dict[str, np.ndarray] = field(default_factory=dict)

    def to_dict(self) -> dict[str, dict[str, float]]:
        """``{objective: {"rmse", "coverage", "n"}}`` (JSON-ready)."""
        return {
            k: {"rmse": self.rmse[k], "coverage": self.coverage[k], "n": self.n[k]}
            for k in self.rmse
        }


def _scorable(table: pd.DataFrame, name: str) -> np.ndarray:
    ok = (table["status"] == "ok").to_numpy() & table[name].notna().to_numpy()
    if name == "ccd_ma_cm2":
        ok &= ~table["ccd_censored"].fillna(False).to_numpy(dtype=bool)
    return ok


def score(surrogate: Surrogate, test: pd.DataFrame) -> ValidationReport:
    """Score a fitted surrogate on a validated table of held-out measurements."""
    report = ValidationReport()
    pred = surrogate.predict(test)
    for name in OBJECTIVES:
        rows = _scorable(test, name)
        y = to_model_space(name, test[name].to_numpy(float)[rows])
        mu = np.asarray(pred.latent_mean.get(name, pred.mean[name]))[rows]
        sd = np.hypot(
            pred.latent_sd.get(name, np.zeros(len(test)))[rows],
            pred.noise_sd.get(name, np.zeros(len(test)))[rows],
        )
        _record(report, name, y - mu, sd)
    return report


def _record(report: ValidationReport, name: str, resid: np.ndarray, sd: np.ndarray) -> None:
    resid = np.asarray(resid, float)
    report.residuals[name] = resid
    report.n[name] = len(resid)
    report.rmse[name] = float(np.sqrt(np.mean(resid**2))) if len(resid) else float("nan")
    inside = np.abs(resid) <= _Z95 * np.asarray(sd, float)
    report.coverage[name] = float(np.mean(inside)) if len(resid) else float("nan")


def _factory(
    strategy: str | Callable[[], Surrogate], seed: int, kw: dict
) -> Callable[[], Surrogate]:
    if callable(strategy):
        return strategy
    return lambda: make_surrogate(strategy, seed=seed, **kw)


def holdout_validate(
    strategy: str | Callable[[], Surrogate],
    train: pd.DataFrame,
    test: pd.DataFrame,
    *,
    seed: int = 0,
    **kw: Any,
) -> ValidationReport:
    """Fit on ``train``, score on ``test``.

    Args:
        strategy: a strategy name or a zero-argument factory returning an unfitted surrogate.
        train, test: measurement tables.
        seed: seed of the surrogate (with a strategy name).
        **kw: passed to :func:`surrogate.make_surrogate`.
    """
    surrogate = _factory(strategy, seed, kw)().fit(train)
    clean, _ = split_noise_columns(test)
    return score(surrogate, clean)


def loo_validate(
    strategy: str | Callable[[], Surrogate], table: pd.DataFrame, *, seed: int = 0, **kw: Any
) -> ValidationReport:
    """Leave-one-out: refit without each ok row (physics re-calibrated too) and score it.

    Raises:
        DataError: fewer than 3 ok rows.
    """
    clean, _ = split_noise_columns(table)
    ok_idx = np.flatnonzero((clean["status"] == "ok").to_numpy())
    if len(ok_idx) < 3:
        raise DataError(f"leave-one-out needs at least 3 ok rows, got {len(ok_idx)}")
    make = _factory(strategy, seed, kw)
    resid: dict[str, list[float]] = {k: [] for k in OBJECTIVES}
    sds: dict[str, list[float]] = {k: [] for k in OBJECTIVES}
    for i in ok_idx:
        surrogate = make().fit(clean.drop(index=i))
        row = clean.loc[[i]].reset_index(drop=True)
        rep = score(surrogate, row)
        pred = surrogate.predict(row)
        for name in OBJECTIVES:
            if rep.n[name]:
                resid[name].append(float(rep.residuals[name][0]))
                sds[name].append(float(np.hypot(pred.latent_sd[name][0], pred.noise_sd[name][0])))
    report = ValidationReport()
    for name in OBJECTIVES:
        _record(report, name, np.array(resid[name]), np.array(sds[name]))
    return report

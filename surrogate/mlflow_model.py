"""Logging a fitted surrogate as an MLflow pyfunc model, and its prediction frame.

The model is defined in :mod:`surrogate.pyfunc_model` ("models from code", no pickle); see
there for what ``predict`` returns.
"""

from __future__ import annotations

import tempfile
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from physics.errors import DataError
from physics.schema import DEFAULT_DWELL_H, OBJECTIVES, RECIPE_COLUMNS
from physics.table import write_table

__all__ = ["MODEL_FILE", "log_surrogate_model", "prediction_frame"]

MODEL_FILE = Path(__file__).with_name("pyfunc_model.py")
_REQUIREMENTS = ("torch", "botorch", "gpytorch", "mlflow", "numpy", "scipy", "pandas")


def prediction_frame(surrogate: Any, recipes: pd.DataFrame) -> pd.DataFrame:
    """Predictions of ``surrogate`` at ``recipes`` as a flat DataFrame.

    Args:
        surrogate: a fitted surrogate (``predict(recipes) -> Prediction``).
        recipes: columns ``zbo_fraction``, ``sinter_temperature_c`` and optionally
            ``dwell_h`` (default 6 h); other columns are ignored.

    Returns:
        The recipe columns, then ``<objective>_mean`` and ``<objective>_sd`` for each
        objective and ``p_feasible``, one row per recipe.

    Raises:
        DataError: a recipe column is missing or not numeric.
    """
    if not isinstance(recipes, pd.DataFrame):
        raise DataError("predict needs a DataFrame with columns " + ", ".join(RECIPE_COLUMNS))
    frame = recipes.copy()
    if "dwell_h" not in frame.columns:
        frame["dwell_h"] = DEFAULT_DWELL_H
    missing = [c for c in RECIPE_COLUMNS if c not in frame.columns]
    if missing:
        raise DataError(f"recipes lack column(s) {', '.join(missing)}")
    try:
        frame = frame[list(RECIPE_COLUMNS)].astype(float)
    except (TypeError, ValueError) as exc:
        raise DataError(f"recipe columns must be numeric ({exc})") from exc
    if not np.isfinite(frame.to_numpy()).all():
        raise DataError("recipes contain NaN or infinite values")
    pred = surrogate.predict(frame.reset_index(drop=True))
    out = frame.reset_index(drop=True)
    for name in OBJECTIVES:
        out[f"{name}_mean"] = np.asarray(pred.mean[name], dtype=float)
        out[f"{name}_sd"] = np.asarray(pred.sd[name], dtype=float)
    out["p_feasible"] = np.asarray(pred.p_feasible, dtype=float)
    return out


def _requirements() -> list[str]:
    pins = []
    for name in _REQUIREMENTS:
        try:
            pins.append(f"{name}=={metadata.version(name)}")
        except metadata.PackageNotFoundError:
            continue
    return pins


def log_surrogate_model(
    table: pd.DataFrame,
    *,
    strategy: str,
    seed: int,
    run_id: str,
    name: str = "surrogate",
    tracking_uri: str | None = None,
) -> str:
    """Log the surrogate fitted on ``table`` to the run ``run_id``; return the model URI.

    The physics/ and surrogate/ packages travel with the model (``code_paths``), so it loads
    wherever its pinned requirements are installed.
    """
    import mlflow

    root = Path(__file__).resolve().parents[1]
    example = pd.DataFrame(
        {"zbo_fraction": [0.2], "sinter_temperature_c": [1000.0], "dwell_h": [6.0]}
    )
    if tracking_uri is not None:
        mlflow.set_tracking_uri(tracking_uri)
    with tempfile.TemporaryDirectory() as tmp:
        csv = write_table(table, Path(tmp) / "measurements.csv")
        with mlflow.start_run(run_id=run_id):
            info = mlflow.pyfunc.log_model(
                name=name,
                python_model=str(MODEL_FILE),
                artifacts={"measurements": str(csv)},
                model_config={"surrogate_strategy": strategy, "surrogate_seed": int(seed)},
                code_paths=[str(root / "physics"), str(root / "surrogate")],
                pip_requirements=_requirements(),
                input_example=example,
            )
    return info.model_uri

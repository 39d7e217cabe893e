"""The campaign's surrogate as an MLflow pyfunc model ("models from code").

MLflow loads this file and calls :func:`mlflow.models.set_model` on the object it defines.
The model carries no pickle: its artifacts are the measurement table it was fitted on (CSV)
and its configuration (strategy, seed); ``load_context`` refits the surrogate on that table,
which is deterministic for a given seed and takes about a second. ``predict`` takes a
DataFrame of recipes (``zbo_fraction``, ``sinter_temperature_c``, ``dwell_h``) and returns
the recipes with ``<objective>_mean`` and ``<objective>_sd`` for each objective (in the
objective's own units: mS/cm, mA/cm2, fraction) and ``p_feasible``.

Log one with :func:`surrogate.mlflow_model.log_surrogate_model`.
"""

from __future__ import annotations

from typing import Any

import mlflow
import pandas as pd
from mlflow.pyfunc import PythonModel

__all__ = ["SurrogateModel"]


class SurrogateModel(PythonModel):
    """pyfunc wrapper of a fitted surrogate (see the module docstring)."""

    def load_context(self, context: Any) -> None:
        from physics.table import read_table
        from surrogate.strategies import make_surrogate

        config = dict(context.model_config or {})
        table = read_table(context.artifacts["measurements"])
        self.surrogate_ = make_surrogate(
            str(config.get("surrogate_strategy", "physics-gp")),
            seed=int(config.get("surrogate_seed", 0)),
        ).fit(table)

    def predict(self, context: Any, model_input: pd.DataFrame, params: Any = None) -> pd.DataFrame:
        from surrogate.mlflow_model import prediction_frame

        return prediction_frame(self.surrogate_, model_input)


mlflow.models.set_model(SurrogateModel())

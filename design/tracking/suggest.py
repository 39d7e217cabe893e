"""MLflow logging of one ``gbs suggest`` call: a run in the experiment ``gbs-suggest``.

The run carries the measurement table as its training dataset, the call's settings as params,
the suggested recipes as ``suggestions.json`` and as a table, and the plots. Its name says what
it suggested (``4 recipes, physics-gp``); the experiment is tagged as model development
(``mlflow.experimentKind``) so the MLflow UI opens on its runs table.
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path
from typing import Any

import pandas as pd

from design.errors import TrackingError
from design.tracking.connection import check_tracking_store, short_http_retries
from design.tracking.store import MODEL_DEVELOPMENT_TAGS, ensure_experiment, resolve_tracking_uri

__all__ = ["SUGGEST_EXPERIMENT", "check_suggest_store", "log_suggestions"]

logger = logging.getLogger(__name__)

#: The MLflow experiment of ``gbs suggest``.
SUGGEST_EXPERIMENT = "gbs-suggest"


def check_suggest_store(tracking_uri: str | None) -> str:
    """Resolve the tracking URI and check it answers (seconds); return it.

    Raises:
        TrackingError: unreachable or unwritable store (one line saying what to do).
    """
    import os

    from design.tracking.store import default_tracking_uri

    short_http_retries()
    uri = tracking_uri or os.environ.get("MLFLOW_TRACKING_URI") or default_tracking_uri()
    check_tracking_store(uri)
    return uri


def log_suggestions(
    tracking_uri: str,
    data: Path,
    table: pd.DataFrame,
    params: dict[str, Any],
    records: list[dict[str, Any]],
    plots: list[Path],
) -> str:
    """Log one suggest call; return the run id.

    Args:
        tracking_uri: the store (checked with :func:`check_suggest_store` first).
        data: the measurement-table file (the dataset's source).
        table: the table as read (the dataset).
        params: settings of the call (strategy, batch, thresholds, ...).
        records: the suggestions as JSON records.
        plots: PNG files to attach under ``plots/``.

    Raises:
        TrackingError: MLflow failed (the message is one line; the caller has already shown
            the suggestions).
    """
    import mlflow
    from mlflow.data.pandas_dataset import from_pandas

    try:
        resolve_tracking_uri(tracking_uri)
        experiment_id = ensure_experiment(
            SUGGEST_EXPERIMENT, tracking_uri=tracking_uri, tags=MODEL_DEVELOPMENT_TAGS
        )
        run_name = f"{len(records)} recipes, {params.get('strategy')}"
        with mlflow.start_run(experiment_id=experiment_id, run_name=run_name) as run:
            with warnings.catch_warnings():  # "source can be interpreted in multiple ways"
                warnings.simplefilter("ignore", UserWarning)
                dataset = from_pandas(table, source=str(data.resolve()), name=data.name)
            mlflow.log_input(dataset, context="training")
            mlflow.log_params(params)
            mlflow.log_dict(records, "suggestions.json")  # type: ignore[arg-type]  # a JSON list
            mlflow.log_table(pd.json_normalize(records), artifact_file="suggestions_table.json")
            for path in plots:
                mlflow.log_artifact(str(path), artifact_path="plots")
    except TrackingError:
        raise
    except Exception as exc:  # MLflow raises many kinds; the user needs one line
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        logger.debug("MLflow logging failed", exc_info=True)
        raise TrackingError(
            f"logging to MLflow ({tracking_uri}) failed: {first[:300]}; the suggestions above "
            "are not logged (rerun with --no-mlflow or another --tracking-uri)"
        ) from None
    return run.info.run_id

"""What the MLflow UI (3.17) shows first: the link to open and the saved view of the runs table.

What the UI shows first is decided in the browser, not by a server setting:

- The GenAI / Model-training switch. The UI reads it from the URL's ``workflowType``
  parameter (``genai`` or ``machine_learning``), else from the browser's localStorage
  (``mlflow.workflowType``), and defaults to ``genai``: its Overview of traces and latency
  ("No data"). The experiment's ``mlflow.experimentKind`` tag does not change it, and no
  server flag or environment variable sets the default. So the links printed by ``gbs ui``
  and ``gbs demo`` carry ``workflowType=machine_learning`` (:func:`runs_url`). Some of the
  UI's own links drop the parameter (to a run's page, from the experiments list), and those
  pages show the GenAI sidebar or overview until the scientist clicks "Model training" once;
  the browser keeps that choice (``gbs ui`` says so).
- The assistant panel ("MLflow Assistant", beta) opens by itself on the first visit to a UI
  served on localhost; no server setting or URL turns that off. It is closed with its X and
  stays closed in that browser.
- The runs table's columns. By default it shows attributes only (source, models, dataset),
  no params or metrics, and nests child runs under their collapsed parent. Its columns,
  their order and widths and the sort come from the user's browser, or from a *saved view*:
  an experiment tag ``mlflow.sharedViewState.<key>`` holding ``{"name", "createdAt",
  "updatedAt", "state"}`` with ``state`` the JSON of the table's settings. The UI lists saved
  views in its "Views" menu and opens one with ``?viewStateShareKey=<key>``; this is what
  its "Save view" and "Copy link" buttons write and read. :func:`runs_view_tag` writes the
  view "Recipes and objectives": the objectives (``OBJECTIVES``, as metrics) and the recipe
  (``RECIPE_COLUMNS`` and ``status``, as params) as columns, sorted by total conductivity,
  best first. The UI nests child runs only when sorted by start time, so with this sort the
  per-pellet runs show flat, at the top; the iteration runs and the campaign's parent run
  (which have no conductivity) follow below, and ``mlflow.parentRunId`` and the ``gbs.role``
  tags keep the structure for searches. Expanded rows cannot be part of a saved view (the UI
  drops them), which is why the sort, not an expanded parent, brings the pellets up.

The view's tag format is the UI's, not a documented API: if a later MLflow changes it, the
link still opens the runs table (the UI shows "share key is invalid"), and the browser test
(``tests/integration/test_mlflow_ui_browser.py``) fails and says so.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from physics.schema import OBJECTIVES, RECIPE_COLUMNS

__all__ = [
    "RUNS_VIEW_KEY",
    "RUNS_VIEW_NAME",
    "VIEW_TAG_PREFIX",
    "WORKFLOW_QUERY",
    "experiments_url",
    "models_url",
    "runs_url",
    "runs_view_state",
    "runs_view_tag",
    "ui_links",
]

logger = logging.getLogger(__name__)

#: Experiment-tag prefix of the UI's saved views.
VIEW_TAG_PREFIX = "mlflow.sharedViewState."
#: Key of the campaign runs view (the tag is ``VIEW_TAG_PREFIX + RUNS_VIEW_KEY``).
RUNS_VIEW_KEY = "gbs-recipes-objectives"
#: Its name in the UI's "Views" menu.
RUNS_VIEW_NAME = "Recipes and objectives"
#: The URL query that selects the UI's model-training workflow.
WORKFLOW_QUERY = "workflowType=machine_learning"

# column widths in pixels: wide enough for the header, not for 16 digits
_METRIC_WIDTH_PX = {"sigma_total_ms_cm": 145, "ccd_ma_cm2": 105, "electronic_fraction": 140}
_PARAM_WIDTH_PX = {"zbo_fraction": 110, "sinter_temperature_c": 160, "dwell_h": 80, "status": 80}
_RUN_NAME_COLUMN, _CREATED_COLUMN = "attributes.`Run Name`", "runDateAndNestInfo"


def _metric(name: str) -> str:
    return f"metrics.`{name}`"


def _param(name: str) -> str:
    return f"params.`{name}`"


def runs_view_state() -> dict[str, Any]:
    """The runs table's settings of the view: columns, their order and widths, the sort.

    Objectives first (metrics, in ``OBJECTIVES`` order), then the recipe and the pellet's
    status (params); sorted by ``sigma_total_ms_cm``, descending.
    """
    columns = [_metric(m) for m in OBJECTIVES]
    columns += [_param(p) for p in (*RECIPE_COLUMNS, "status")]
    widths = {_RUN_NAME_COLUMN: 190, _CREATED_COLUMN: 130}
    widths |= {_metric(m): _METRIC_WIDTH_PX.get(m, 130) for m in OBJECTIVES}
    widths |= {_param(p): _PARAM_WIDTH_PX.get(p, 110) for p in (*RECIPE_COLUMNS, "status")}
    return {
        "selectedColumns": columns,
        "columnOrder": [_RUN_NAME_COLUMN, _CREATED_COLUMN, *columns],
        "columnWidths": widths,
        "orderByKey": _metric("sigma_total_ms_cm"),
        "orderByAsc": False,
    }


def runs_view_tag(now_ms: int) -> tuple[str, str]:
    """The experiment tag ``(key, value)`` of the saved view "Recipes and objectives".

    Args:
        now_ms: creation time, milliseconds since the epoch.
    """
    envelope = {
        "name": RUNS_VIEW_NAME,
        "createdAt": now_ms,
        "updatedAt": now_ms,
        "state": json.dumps(runs_view_state()),
    }
    return VIEW_TAG_PREFIX + RUNS_VIEW_KEY, json.dumps(envelope)


def runs_url(base_url: str, experiment_id: str, *, view: bool = True) -> str:
    """The experiment's runs table in the model-training workflow (with the saved view)."""
    query = f"viewStateShareKey={RUNS_VIEW_KEY}&{WORKFLOW_QUERY}" if view else WORKFLOW_QUERY
    return f"{base_url.rstrip('/')}/#/experiments/{experiment_id}/runs?{query}"


def experiments_url(base_url: str) -> str:
    """The experiments list in the model-training workflow."""
    return f"{base_url.rstrip('/')}/#/experiments?{WORKFLOW_QUERY}"


def models_url(base_url: str, model: str | None = None) -> str:
    """The model registry (or one registered model's versions)."""
    path = f"models/{model}" if model else "models"
    return f"{base_url.rstrip('/')}/#/{path}?{WORKFLOW_QUERY}"


def ui_links(tracking_uri: str, base_url: str, campaign: str | None = None) -> dict[str, str]:
    """What to open in the UI at ``base_url`` serving ``tracking_uri``, by label.

    ``campaign``: the runs table of that campaign (else of the latest campaign, by creation
    time), with the saved view when its experiment has it; then the experiments list and the
    campaign's registered surrogate (its versions), or the model registry when it has none.
    A store that cannot be read gives the experiments list and the registry only.
    """
    import mlflow

    from design.tracking.campaign import experiment_name, registered_model_name

    links: dict[str, str] = {}
    model: str | None = None
    try:
        client = mlflow.MlflowClient(tracking_uri)
        if campaign is not None:
            exp = client.get_experiment_by_name(experiment_name(campaign))
        else:
            found = client.search_experiments(
                filter_string=f"name LIKE '{experiment_name('')}%'",
                order_by=["creation_time DESC"],
                max_results=1,
            )
            exp = found[0] if found else None
        if exp is not None:
            name = exp.tags.get("gbs.campaign") or exp.name
            view = VIEW_TAG_PREFIX + RUNS_VIEW_KEY in exp.tags
            links[f"campaign {name}"] = runs_url(base_url, exp.experiment_id, view=view)
            wanted = registered_model_name(name)
            if client.search_registered_models(f"name = '{wanted}'", max_results=1):
                model = wanted
    except Exception:  # the UI still starts; the list below finds the experiments
        logger.debug("could not look up the latest campaign in %s", tracking_uri, exc_info=True)
    links["all experiments"] = experiments_url(base_url)
    links[f"surrogate {model}" if model else "model registry"] = models_url(base_url, model)
    return links

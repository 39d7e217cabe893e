"""MLflow logging of a campaign: one experiment and one parent run per campaign.

- Experiment ``gbs-campaign-<name>`` with a description and tags (strategy, thresholds, the
  cycler URL without credentials).
- The experiment is tagged ``mlflow.experimentKind = custom_model_development`` (the UI's
  experiment-type prompt does not appear) and carries a saved view of the runs table,
  "Recipes and objectives" (:mod:`design.tracking.views`). The MLflow UI (3.17) opens on its
  GenAI view unless the link says ``workflowType=machine_learning``, and shows no param or
  metric columns and collapsed child runs unless a view says otherwise; so ``gbs ui`` and
  ``gbs demo`` print a link with both, and the scientist lands on the runs table with one row
  per pellet: objectives and recipe as columns, best conductivity first. Of the ways to get
  there this is the one that needs no change to the logged runs: the per-pellet runs stay
  children of the campaign's parent run (nesting shows only under the start-time sort, the
  view sorts by conductivity, so they show flat), under the measurement table's column
  names; a link with the view's settings in the URL is not possible (the UI keeps columns
  out of the URL), and localStorage belongs to the browser. The view is written once, so a
  scientist's "Overwrite view" in the UI survives a resume.
- Parent run: the configuration as params; campaign metrics over steps (``step`` = experiments
  done): best sigma, best CCD, lowest t_e, hypervolume, experiments done, and the
  instrument-hours spent (``instrument_hours``, and ``instrument_hours_<part>`` for
  ``sintering`` and each protocol), logged in batches (``MlflowClient.log_batch``); and
  ``hypervolume_by_hours`` with ``step`` = whole instrument-hours spent (MLflow steps are
  integers), so the hypervolume can be read against lab time. Its id is stored in the campaign
  database, so ``resume`` continues the same run.
- A child run per iteration: the proposals with their predictions and acquisition values
  (``proposals.json``) and the model's plots.
- A child run per finished experiment: the raw result (``raw_result.json``), the analysis plots,
  the derived row as params (recipe, ids) and metrics (properties), under the column names of
  the measurement table, so the runs table reads like it.
- At the finish, the final surrogate is logged on the parent run and registered in the model
  registry as ``gbs-surrogate-<campaign>`` (:func:`registered_model_name`): one version per
  finished campaign run.

The store is checked (:func:`design.tracking.connection.check_tracking_store`, seconds) when
the tracker starts: an unreachable server or an unwritable store stops the start with one line
instead of minutes of retries.

The tracking URI is always explicit (``design.tracking.store.resolve_tracking_uri``). MLflow is a
record, not the source of truth: a failure to log is reported once and retried later, and never
stops a campaign. Child runs carry the job's idempotency key as a tag, so a crash between MLflow
and the database does not create a second run after resume.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from design.campaign.config import CampaignConfig, redact_url
from design.errors import TrackingError
from design.store.database import (
    CampaignRecord,
    Store,
    get_record,
    loads,
)
from design.tracking.connection import check_tracking_store, short_http_retries
from design.tracking.runs import RunContext, log_experiment_run, log_iteration_run, now_ms
from design.tracking.store import MODEL_DEVELOPMENT_TAGS
from design.tracking.views import runs_view_tag
from physics.jsonsafe import finite_or_none

__all__ = ["CampaignTracker", "experiment_name", "registered_model_name"]

logger = logging.getLogger(__name__)


def _budget_text(config: CampaignConfig) -> str:
    parts = []
    if config.budget is not None:
        parts.append(f"{config.budget} samples")
    if config.budget_hours is not None:
        parts.append(f"{config.budget_hours:g} instrument-hours")
    return " and ".join(parts)


def experiment_name(campaign: str) -> str:
    """The MLflow experiment of a campaign."""
    return f"gbs-campaign-{campaign}"


def registered_model_name(campaign: str) -> str:
    """The model-registry name of a campaign's final surrogate (one version per finish)."""
    return f"gbs-surrogate-{campaign}"


class CampaignTracker:
    """Logs a campaign to MLflow.

    Args:
        tracking_uri: explicit tracking URI (``None``: ``MLFLOW_TRACKING_URI`` or the repo's
            ``mlruns/mlflow.db``).
        plots: draw model and analysis plots as artifacts.
    """

    def __init__(
        self, tracking_uri: str | None = None, *, plots: bool = True, background: bool = True
    ) -> None:
        from design.tracking.store import default_tracking_uri

        os.environ.setdefault("MPLBACKEND", "Agg")
        short_http_retries()
        self.tracking_uri = (
            tracking_uri or os.environ.get("MLFLOW_TRACKING_URI") or default_tracking_uri()
        )
        self.plots = plots
        self.parent_run_id: str | None = None
        self.experiment_id: str | None = None
        self._last_step: int | None = None
        self._last_hours: tuple[int, float] | None = None
        self._warned = False
        self._client: Any = None
        # Child runs (plots are slow) are logged by one worker thread, off the loop's path;
        # one worker also keeps matplotlib single-threaded.
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="gbs-mlflow") if background else None
        self._queued: set[tuple[str, int]] = set()
        self.busy_s = 0.0  # time spent logging child runs (in the worker when background)
        self._lock = threading.Lock()

    def _submit(self, key: tuple[str, int], what: str, fn: Any, *args: Any) -> None:
        with self._lock:
            if key in self._queued:
                return
            self._queued.add(key)

        def task() -> None:
            t0 = time.perf_counter()
            try:
                self._safe(what, fn, *args)
            finally:
                with self._lock:
                    self._queued.discard(key)
                    self.busy_s += time.perf_counter() - t0

        if self._pool is None:
            task()
        else:
            self._pool.submit(task)

    def flush(self) -> None:
        """Wait until every queued child run is logged."""
        if self._pool is not None:
            self._pool.submit(lambda: None).result()

    def close(self) -> None:
        """Stop the worker: the task in progress ends, queued ones are dropped (resume logs them)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    @property
    def client(self) -> Any:
        if self._client is None:
            import mlflow

            self._client = mlflow.MlflowClient(self.tracking_uri)
        return self._client

    def _safe(self, what: str, fn: Any, *args: Any, **kwargs: Any) -> bool:
        try:
            fn(*args, **kwargs)
        except Exception as exc:  # MLflow is a record: never let it stop the campaign
            if not self._warned:
                first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
                logger.warning("MLflow logging failed (%s): %s; will retry", what, first[:300])
                self._warned = True
            logger.debug("MLflow logging failed (%s)", what, exc_info=True)
            return False
        return True

    # -- parent run ---------------------------------------------------------------------
    def start(self, store: Store, campaign: CampaignRecord, config: CampaignConfig) -> None:
        """Create or reuse the campaign's experiment and parent run (its id goes to the DB).

        Raises:
            TrackingError: the store does not answer within seconds or cannot be written (the
                campaign itself is stored; the message says how to continue).
        """
        from design.tracking.store import resolve_tracking_uri

        try:
            check_tracking_store(self.tracking_uri)
            resolve_tracking_uri(self.tracking_uri)
        except (TrackingError, OSError) as exc:
            raise TrackingError(
                f"{exc}; campaign {config.name} is stored: continue it with "
                f"`gbs campaign resume {config.name} --tracking-uri URI`"
            ) from None
        self._safe("start", self._start, store, campaign, config)

    def _start(self, store: Store, campaign: CampaignRecord, config: CampaignConfig) -> None:
        from mlflow.entities import Param

        from design.tracking.store import ensure_experiment

        thresholds = ", ".join(f"{k}={v:g}" for k, v in config.thresholds.items()) or "none"
        tags = {
            **MODEL_DEVELOPMENT_TAGS,
            "gbs.campaign": config.name,
            "gbs.strategy": config.strategy,
            "gbs.thresholds": thresholds,
            "gbs.cycler_url": ", ".join(redact_url(u) for u in config.cycler_urls),
            "gbs.protocols": config.protocol_policy,
            "mlflow.note.content": (
                f"Closed-loop campaign {config.name!r}: {_budget_text(config)} on the cycler "
                f"service(s) {', '.join(redact_url(u) for u in config.cycler_urls)}, "
                f"strategy {config.strategy}, protocols {config.protocol_policy}, "
                f"thresholds {thresholds}."
            ),
        }
        self.experiment_id = ensure_experiment(
            experiment_name(config.name), tracking_uri=self.tracking_uri, tags=tags
        )
        for key, value in tags.items():
            self.client.set_experiment_tag(self.experiment_id, key, value)
        view_key, view = runs_view_tag(now_ms())
        if view_key not in self.client.get_experiment(self.experiment_id).tags:
            self.client.set_experiment_tag(self.experiment_id, view_key, view)  # keep edits
        run_id = campaign.mlflow_run_id
        if run_id is None:
            found = self.client.search_runs(
                [self.experiment_id], "tags.`gbs.role` = 'campaign'", max_results=1
            )
            run_id = found[0].info.run_id if found else None
        if run_id is None:
            run = self.client.create_run(
                self.experiment_id, run_name=config.name, tags={**tags, "gbs.role": "campaign"}
            )
            run_id = run.info.run_id
            params = [
                Param(k, str(v)[:500])
                for k, v in config.to_json().items()
                if k not in ("thresholds", "cycler_url", "other_cycler_urls")
            ]
            params += [Param("cycler_url", redact_url(config.cycler_url))]
            params += [
                Param(f"cycler_url_{i + 2}", redact_url(u))
                for i, u in enumerate(config.other_cycler_urls)
            ]
            params += [Param(f"threshold.{k}", str(v)) for k, v in config.thresholds.items()]
            self.client.log_batch(run_id, params=params)
        else:
            self.client.update_run(run_id, status="RUNNING")
        self.parent_run_id = run_id
        with store.transaction() as s:
            rec = get_record(s, CampaignRecord, campaign.id)
            rec.mlflow_run_id, rec.mlflow_experiment_id = run_id, self.experiment_id
        self._catch_up_iterations(store, campaign)

    def _catch_up_iterations(self, store: Store, campaign: CampaignRecord) -> None:
        """Log rounds a crash kept from MLflow (their proposals, from the database; no plots)."""
        by_iteration: dict[int, list[dict[str, Any]]] = {}
        for prop in store.proposals(campaign.id):
            by_iteration.setdefault(prop.iteration, []).append(
                {
                    "recipe": prop.recipe,
                    "prediction": loads(prop.prediction_json),
                    "acquisition_value": prop.acquisition_value,
                }
            )
        for it in store.iterations(campaign.id):
            if it.mlflow_run_id is None:
                table = [None] * it.n_rows
                log_iteration_run(
                    self._context(),
                    store,
                    campaign,
                    it.iteration,
                    by_iteration.get(it.iteration, []),
                    table,
                    None,
                    None,
                )

    def log_progress(self, snap: Any) -> None:
        """Campaign metrics at step = experiments done (one batch per new step), and the
        hypervolume at step = whole instrument-hours whenever either changed."""
        if self.parent_run_id is None:
            return
        from mlflow.entities import Metric

        ts = now_ms()
        if snap.experiments_done != self._last_step:
            metrics = [
                Metric(k, v, ts, snap.experiments_done)
                for k, v in snap.metrics.items()
                if finite_or_none(v) is not None
            ]
            if self._safe("progress", self.client.log_batch, self.parent_run_id, metrics=metrics):
                self._last_step = snap.experiments_done
        hours = getattr(snap, "hours", None)
        hv = finite_or_none(snap.metrics.get("hypervolume"))
        if hours is None or hv is None:
            return
        point = (round(hours.spent_h), hv)
        if point != self._last_hours and self._safe(
            "progress",
            self.client.log_batch,
            self.parent_run_id,
            metrics=[Metric("hypervolume_by_hours", hv, ts, point[0])],
        ):
            self._last_hours = point

    def finish(self, snap: Any, *, store: Store | None = None, space: Any = None) -> None:
        """Mark the parent run finished; attach the best recipes and the campaign summary.

        With ``store`` the parent run also gets the summary of :mod:`design.reporting.summary`:
        progress, posterior and Pareto plots, the HTML report, the measurement table as a
        dataset input, the next suggestions and the final surrogate as a pyfunc model.
        """
        if self.parent_run_id is None:
            return
        self.flush()
        self._safe(
            "finish",
            self.client.log_dict,
            self.parent_run_id,
            {"best": snap.best, "jobs": snap.jobs, "metrics": snap.metrics},
            "summary.json",
        )
        if store is not None:
            self._safe("summary", self._log_summary, store, snap.name, space)
        self._safe("finish", self.client.set_terminated, self.parent_run_id, "FINISHED")

    def _log_summary(self, store: Store, name: str, space: Any) -> None:
        import tempfile

        from mlflow.data.pandas_dataset import from_pandas
        from mlflow.entities import DatasetInput, InputTag

        from design.reporting.html import write_report
        from design.reporting.summary import summarize_campaign
        from surrogate.mlflow_model import log_surrogate_model

        run_id = self.parent_run_id
        if run_id is None:
            return
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            summary = summarize_campaign(
                store, name, folder / "plots", space=space, plots=self.plots
            )
            if summary.plots:
                self.client.log_artifacts(run_id, str(folder / "plots"), "plots")
            self.client.log_artifact(run_id, str(write_report(summary, folder / "report.html")))
            self.client.log_dict(
                run_id,
                json.loads(
                    json.dumps(
                        {"next_suggestions": [vars(s) for s in summary.suggestions]},
                        default=float,
                    )
                ),
                "next_suggestions.json",
            )
            table = summary.table.astype({"ccd_censored": "object"})
            dataset = from_pandas(table, name=f"{name}-measurements")
            self.client.log_inputs(
                run_id,
                datasets=[
                    DatasetInput(
                        dataset._to_mlflow_entity(),
                        tags=[InputTag("mlflow.data.context", "training")],
                    )
                ],
            )
            if summary.surrogate is not None:
                model_uri = log_surrogate_model(
                    summary.table,
                    strategy=str(summary.config.get("strategy")),
                    seed=int(summary.config.get("seed", 0)),
                    run_id=run_id,
                    tracking_uri=self.tracking_uri,
                )
                self._register(model_uri, name, summary)

    def _register(self, model_uri: str, name: str, summary: Any) -> None:
        """A new version of ``gbs-surrogate-<campaign>`` in the model registry."""
        from mlflow.exceptions import MlflowException

        model = registered_model_name(name)
        try:
            self.client.get_registered_model(model)
        except MlflowException:
            self.client.create_registered_model(
                model,
                tags={"gbs.campaign": name},
                description=(
                    f"Surrogate (recipe -> sigma, CCD, t_e, p_feasible) of campaign {name!r}, "
                    "fitted on its whole measurement table; one version per finished run. "
                    "Load with mlflow.pyfunc.load_model('models:/" + model + "/latest')."
                ),
            )
        import mlflow

        mlflow.set_tracking_uri(self.tracking_uri)
        mlflow.register_model(
            model_uri,
            model,
            await_registration_for=30,
            tags={
                "gbs.campaign": name,
                "gbs.strategy": str(summary.config.get("strategy")),
                "gbs.n_rows": str(len(summary.table)),
            },
        )

    def _context(self) -> RunContext:
        if self.experiment_id is None or self.parent_run_id is None:
            raise RuntimeError("CampaignTracker.start() has not run")
        return RunContext(self.client, self.experiment_id, self.parent_run_id, self.plots)

    # -- iterations ---------------------------------------------------------------------
    def log_iteration(
        self,
        store: Store,
        campaign: CampaignRecord,
        iteration: int,
        proposals: list[dict[str, Any]],
        table: Any,
        proposed: Any,
        space: Any,
    ) -> None:
        """A child run with the round's proposals, predictions and the model's plots."""
        if self.parent_run_id is None:
            return
        self._submit(
            ("iteration", iteration),
            "iteration",
            log_iteration_run,
            self._context(),
            store,
            campaign,
            iteration,
            proposals,
            table,
            proposed,
            space,
        )

    # -- experiments --------------------------------------------------------------------
    def log_experiment(
        self, store: Store, job_pk: int, raw: dict[str, Any] | None, analysis: Any
    ) -> None:
        """A child run for a finished experiment (``done`` or ``cracked``); marks it tracked."""
        if self.parent_run_id is None:
            return
        self._submit(
            ("experiment", job_pk),
            "experiment",
            log_experiment_run,
            self._context(),
            store,
            job_pk,
            raw,
            analysis,
        )

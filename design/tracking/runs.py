"""MLflow child runs of a campaign: one per proposal round, one per finished experiment.

Each carries a tag that identifies it (``gbs.iteration``, ``gbs.key`` = the job's idempotency
key), so that after a crash between MLflow and the database the run is found and completed
rather than created twice.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select

from design.store.database import (
    CampaignRecord,
    IterationRecord,
    JobRecord,
    ResultRecord,
    RowRecord,
    SampleRecord,
    Store,
    get_record,
    loads,
)
from physics.jsonsafe import finite_or_none
from physics.schema import PROPERTY_COLUMNS, RECIPE_COLUMNS

__all__ = ["RunContext", "log_experiment_run", "log_iteration_run", "now_ms"]

_METRIC_COLUMNS = [c for c in PROPERTY_COLUMNS if c != "ccd_censored"]


@dataclass(frozen=True)
class RunContext:
    """Where child runs go: the client, the campaign's experiment and parent run."""

    client: Any
    experiment_id: str
    parent_run_id: str
    plots: bool


def now_ms() -> int:
    """Milliseconds since the epoch (MLflow timestamps)."""
    return int(time.time() * 1000)


def _child(ctx: RunContext, run_name: str, tags: dict[str, str]) -> str:
    run = ctx.client.create_run(
        ctx.experiment_id,
        run_name=run_name,
        tags={
            "mlflow.parentRunId": ctx.parent_run_id,
            "gbs.campaign_run": ctx.parent_run_id,
            **tags,
        },
    )
    return run.info.run_id


def _existing(ctx: RunContext, role: str, key: str, value: str) -> str | None:
    found = ctx.client.search_runs(
        [ctx.experiment_id],
        f"tags.`gbs.role` = '{role}' and tags.`{key}` = '{value}'",
        max_results=1,
    )
    return found[0].info.run_id if found else None


def log_iteration_run(
    ctx: RunContext,
    store: Store,
    campaign: CampaignRecord,
    iteration: int,
    proposals: list[dict[str, Any]],
    table: Any,
    proposed: Any,
    space: Any,
) -> None:
    from mlflow.entities import Metric, Param

    run_id = _existing(ctx, "iteration", "gbs.iteration", str(iteration)) or _child(
        ctx,
        f"iteration-{iteration:03d}",
        {"gbs.role": "iteration", "gbs.iteration": str(iteration)},
    )
    ts = now_ms()
    params = [
        Param("iteration", str(iteration)),
        Param("n_rows", str(len(table))),
        Param("n_proposals", str(len(proposals))),
    ]
    surrogate = getattr(proposed, "surrogate", None)
    prior = getattr(surrogate, "physics_prior_", None)
    if prior is not None:  # which physics prior each objective used, and its held-out error
        params += [Param(key, str(value)) for key, value in prior.summary().items()]
    for name, note in (getattr(surrogate, "fit_notes_", None) or {}).items():
        params.append(Param(f"fit_note_{name}", note[:500]))  # a model that did not fit
    acq = [
        v for v in (finite_or_none(p.get("acquisition_value")) for p in proposals) if v is not None
    ]
    metrics = [Metric("max_acquisition_value", max(acq), ts, iteration)] if acq else []
    ctx.client.log_batch(run_id, metrics=metrics, params=params)
    ctx.client.log_dict(run_id, {"iteration": iteration, "proposals": proposals}, "proposals.json")
    trust = getattr(surrogate, "trust_summary", None)
    if callable(trust):  # how far this round's model trusted the physics, in words
        summary = trust()
        if summary["lines"]:
            ctx.client.log_dict(run_id, summary, "physics_trust.json")
    if ctx.plots and surrogate is not None:
        try:
            from design.reporting.plots import plot_pareto, plot_posterior_maps

            with tempfile.TemporaryDirectory() as tmp:
                plot_posterior_maps(surrogate, space, table, proposed.suggestions, Path(tmp))
                plot_pareto(surrogate, space, table, proposed.suggestions, Path(tmp))
                ctx.client.log_artifacts(run_id, tmp, "plots")
        except Exception as exc:  # a plot is not worth a campaign
            ctx.client.log_text(run_id, f"plots failed: {exc!r}", "plots_error.txt")
    ctx.client.set_terminated(run_id, "FINISHED")
    with store.transaction() as s:
        rec = s.scalar(
            select(IterationRecord).where(
                IterationRecord.campaign_id == campaign.id,
                IterationRecord.iteration == iteration,
            )
        )
        if rec is not None:
            rec.mlflow_run_id = run_id


def log_experiment_run(
    ctx: RunContext, store: Store, job_pk: int, raw: dict[str, Any] | None, analysis: Any
) -> None:
    from mlflow.entities import Metric, Param

    with store.transaction() as s:
        job = get_record(s, JobRecord, job_pk)
        row_rec = s.scalar(select(RowRecord).where(RowRecord.job_pk == job_pk))
        if row_rec is None and job.sample_pk is not None:  # a follow-up: its sample's row
            sample = get_record(s, SampleRecord, job.sample_pk)
            row_rec = s.scalar(
                select(RowRecord).where(
                    RowRecord.campaign_id == job.campaign_id, RowRecord.sample_id == sample.key
                )
            )
        if job.tracked or row_rec is None:
            return
        if raw is None:
            res = s.scalar(select(ResultRecord).where(ResultRecord.job_pk == job_pk))
            raw = loads(res.raw_json) if res is not None else None
    row, key = row_rec.row, job.idempotency_key
    run_id = _existing(ctx, "experiment", "gbs.key", key)
    if run_id is None or ctx.client.get_run(run_id).info.status != "FINISHED":
        run_id = run_id or _child(
            ctx,
            f"{job.job_id} x={row.get('zbo_fraction')} T={row.get('sinter_temperature_c')}",
            {
                "gbs.role": "experiment",
                "gbs.key": key,
                "gbs.job_id": str(job.job_id),
                "gbs.status": str(row.get("status")),
                "gbs.kind": str(job.kind),
                "gbs.service": str(job.service),
            },
        )
        ts = now_ms()
        params = [
            Param(c, str(row.get(c))) for c in ("sample_id", *RECIPE_COLUMNS, "status", "source")
        ]
        params += [
            Param("attempt", str(job.attempt)),
            Param("ccd_censored", str(row.get("ccd_censored"))),
            Param("kind", str(job.kind)),
            Param("service", str(job.service)),
            Param("protocols", "+".join(job.protocols)),
        ]
        values = {c: finite_or_none(row.get(c)) for c in _METRIC_COLUMNS}
        values["instrument_hours"] = finite_or_none(job.instrument_hours)
        metrics = [Metric(c, v, ts, 0) for c, v in values.items() if v is not None]
        ctx.client.log_batch(run_id, metrics=metrics, params=params)
        if raw is not None:
            ctx.client.log_dict(run_id, raw, "raw_result.json")
        ctx.client.log_dict(run_id, {"row": row, "notes": loads(row_rec.notes_json)}, "row.json")
        if ctx.plots and analysis is not None:
            try:
                from physics.plotting.measurements import plot_analysis

                with tempfile.TemporaryDirectory() as tmp:
                    plot_analysis(analysis, Path(tmp))
                    ctx.client.log_artifacts(run_id, tmp, "analysis")
            except Exception as exc:  # a plot is not worth a campaign
                ctx.client.log_text(run_id, f"plots failed: {exc!r}", "plots_error.txt")
        ctx.client.set_terminated(run_id, "FINISHED")
    with store.transaction() as s:
        get_record(s, JobRecord, job_pk).tracked = True

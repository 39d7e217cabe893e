"""What a campaign has achieved so far: counts, best recipes, hypervolume, export."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from design.store.database import Store
from design.store.hours import HoursSummary, hours_summary
from design.store.ledger import job_counts, measurement_table
from design.store.states import JobKind, JobStatus, ProposalStatus
from physics.schema import RECIPE_COLUMNS
from physics.table import write_table

__all__ = [
    "CampaignSnapshot",
    "best_rows",
    "export_csv",
    "progress_metrics",
    "snapshot",
]


def _hypervolume(table: pd.DataFrame, thresholds: dict[str, float], four_d: bool = False) -> float:
    """Hypervolume of the ok rows (3-D, or 4-D with the temperature); NaN if not computable."""
    ok = table[table["status"] == "ok"]
    if ok.empty:
        return 0.0
    try:
        from design.acquisition.hypervolume import hypervolume, hypervolume_4d
    except ImportError:
        return math.nan
    measure = hypervolume_4d if four_d else hypervolume
    try:
        return float(measure(table, thresholds=thresholds or None))
    except (ValueError, KeyError, TypeError, ArithmeticError):
        return math.nan


def progress_metrics(
    table: pd.DataFrame,
    thresholds: dict[str, float],
    experiments_done: int,
    minimize_temperature: bool = False,
) -> dict[str, float]:
    """Campaign metrics for MLflow and the display (NaN where nothing is measured yet).

    Returns:
        ``best_sigma_ms_cm``, ``best_ccd_ma_cm2``, ``lowest_electronic_fraction``,
        ``hypervolume`` (3-D: the objectives), ``experiments_done``; with
        ``minimize_temperature`` also ``hypervolume_4d`` (the objectives and the sintering
        temperature, minimized: :func:`design.acquisition.hypervolume.hypervolume_4d`, model-space
        volume x degC, reference temperature the ``sinter_temperature_c`` threshold, else
        the default space's top plus one step, 1310 C).
    """
    ok = table[table["status"] == "ok"]

    def pick(col: str, how: str) -> float:
        values = pd.to_numeric(ok[col], errors="coerce").dropna()
        if values.empty:
            return math.nan
        return float(values.max() if how == "max" else values.min())

    return {
        "best_sigma_ms_cm": pick("sigma_total_ms_cm", "max"),
        "best_ccd_ma_cm2": pick("ccd_ma_cm2", "max"),
        "lowest_electronic_fraction": pick("electronic_fraction", "min"),
        "hypervolume": _hypervolume(table, thresholds),
        **(
            {"hypervolume_4d": _hypervolume(table, thresholds, four_d=True)}
            if minimize_temperature
            else {}
        ),
        "experiments_done": float(experiments_done),
    }


def best_rows(table: pd.DataFrame, k: int = 3) -> pd.DataFrame:
    """The ``k`` feasible rows of highest total conductivity (then CCD)."""
    ok = table[(table["status"] == "ok") & table["sigma_total_ms_cm"].notna()]
    return ok.sort_values(["sigma_total_ms_cm", "ccd_ma_cm2"], ascending=False).head(k)


@dataclass
class CampaignSnapshot:
    """A campaign's state at one moment (what ``gbs campaign status`` shows).

    Attributes:
        budget: the sample budget (``None``: none; then ``hours.budget_h`` is set).
        proposals: actions recorded (new samples and follow-ups).
        experiments_done: samples with a row (``ok`` or ``cracked``).
        followups_done: follow-ups whose properties joined their sample's row.
        hours: instrument-hours spent, committed and by part (sintering, each protocol).
        notes: what the loop says about its services (one away, its jobs waiting).
    """

    name: str
    status: str
    message: str | None
    budget: int | None
    proposals: int
    proposals_open: int
    proposals_abandoned: int
    experiments_done: int
    jobs: dict[str, int]
    metrics: dict[str, float]
    best: list[dict[str, Any]] = field(default_factory=list)
    rejected_reasons: list[str] = field(default_factory=list)
    followups_done: int = 0
    hours: HoursSummary = field(default_factory=HoursSummary)
    notes: list[str] = field(default_factory=list)

    def budget_text(self) -> str:
        """``6/12 experiments done`` (``6 experiments done`` without a sample budget), then
        ``, 412/1000 h`` (``, 412 h`` without an hours budget)."""
        done = (
            f"{self.experiments_done}/{self.budget}" if self.budget else str(self.experiments_done)
        )
        spent = f"{self.hours.spent_h:.0f}"
        if self.hours.budget_h is not None:
            spent += f"/{self.hours.budget_h:.0f}"
        return f"{done} experiments done, {spent} h"

    @property
    def in_flight(self) -> int:
        return sum(self.jobs.get(k, 0) for k in ("submitting", "queued", "running", "fetched"))


def snapshot(store: Store, name: str, *, with_metrics: bool = True) -> CampaignSnapshot:
    """Collect a :class:`CampaignSnapshot` of campaign ``name`` from the database."""
    rec = store.campaign(name)
    config = rec.config
    props = store.proposals(rec.id)
    table = measurement_table(store, rec.id)
    done_rows = [r for r in store.rows(rec.id) if r.origin == "campaign"]
    metrics = (
        progress_metrics(
            table,
            config.get("thresholds") or {},
            len(done_rows),
            bool(config.get("minimize_temperature", False)),
        )
        if with_metrics
        else {}
    )
    best = []
    for _, row in best_rows(table).iterrows():
        best.append(
            {
                c: row[c]
                for c in (
                    "sample_id",
                    *RECIPE_COLUMNS,
                    "sigma_total_ms_cm",
                    "ccd_ma_cm2",
                    "electronic_fraction",
                    "source",
                )
            }
        )
    reasons = [
        f"{j.job_id or j.idempotency_key}: {j.error_message}"
        for j in store.jobs(rec.id, statuses=(JobStatus.REJECTED,))
    ]
    budget_h = config.get("budget_hours")
    hours = hours_summary(store, rec.id, budget_h=None if budget_h is None else float(budget_h))
    if with_metrics:
        metrics.update(hours.metrics())
    budget = config.get("budget")
    return CampaignSnapshot(
        name=name,
        status=rec.status,
        message=rec.message,
        budget=None if budget is None else int(budget),
        proposals=len(props),
        proposals_open=sum(p.status == ProposalStatus.OPEN for p in props),
        proposals_abandoned=sum(p.status == ProposalStatus.ABANDONED for p in props),
        experiments_done=len(done_rows),
        jobs=job_counts(store, rec.id),
        metrics=metrics,
        best=best,
        rejected_reasons=reasons,
        followups_done=sum(
            p.kind == JobKind.FOLLOW_UP and p.status == ProposalStatus.DONE for p in props
        ),
        hours=hours,
    )


def export_csv(store: Store, name: str, path: str | Path, *, include_initial: bool = True) -> Path:
    """Write the campaign's measurement table as CSV (``physics.table.write_table``)."""
    rec = store.campaign(name)
    table = measurement_table(store, rec.id, origin=None if include_initial else "campaign")
    return write_table(table, path)

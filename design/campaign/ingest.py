"""Turning fetched results into the measurement table: new samples' rows and follow-ups.

A new-sample job's result becomes its sample's row (:func:`design.store.ledger.record_row`).
A follow-up's result is analysed on its own and the properties of its protocols join the
sample's row (:func:`design.store.samples.merge_properties`); its result must name the same
sample. A result that fails analysis, whose row is implausible or that names another sample
is set aside as ``rejected`` with the reason and the job re-run
(:func:`design.store.ledger.record_rejected`).

The instrument-hours of a finished job (:meth:`Ingester.job_hours`): the service's
``instrument_hours`` when the job object carries it (protocol 1.1), else the estimate from the
service's durations (:func:`design.store.hours.estimate_hours`; a cracked pellet counts its
sintering only), split over sintering and protocols.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import pandas as pd

from design.campaign.config import CampaignConfig
from design.campaign.services import ServicePool
from design.errors import CampaignError
from design.store import ledger
from design.store.database import CampaignRecord, JobRecord, Store, get_record, loads
from design.store.hours import JobHours, estimate_hours, split_hours
from design.store.samples import merge_properties, record_followup, row_key, sample_row
from design.store.states import JobKind, JobStatus
from physics.errors import GBSError
from physics.table import validate_table

__all__ = ["Ingester"]

_MAX_FETCH_ERRORS = 3
_ANALYSIS_ERRORS = (GBSError, ValueError, KeyError, TypeError, IndexError, ArithmeticError)


class Ingester:
    """Ingests a campaign's fetched results (see the module docstring).

    Args:
        store: the campaign database.
        record: the campaign.
        config: its configuration.
        pool: its services (density of each, durations, whether there are several).
        analyzer: raw result, theoretical density -> analysis with ``.row`` and ``.notes``.
        tracker: the MLflow tracker or ``None``.
    """

    def __init__(
        self,
        store: Store,
        record: CampaignRecord,
        config: CampaignConfig,
        pool: ServicePool,
        analyzer: Callable[[dict[str, Any], float], Any],
        tracker: Any,
    ) -> None:
        self.store, self.record, self.config, self.pool = store, record, config, pool
        self.analyzer, self.tracker = analyzer, tracker

    def row_key(self, service: str, sample_id: str) -> str:
        """The campaign's name of a sample of ``service`` (prefixed with several services)."""
        return row_key(service, sample_id, several=self.pool.several)

    def job_hours(self, job: JobRecord, remote: Any, *, cracked: bool = False) -> JobHours:
        """The instrument-hours a finished job used (see the module docstring)."""
        link = self.pool[job.service]
        recipe = job.request.get("recipe") or {}
        dwell = recipe.get("dwell_h")
        if dwell is None and link.space is not None:
            dwell = link.space.default_dwell_h
        dwell_h = None if dwell is None else float(dwell)
        reported = getattr(remote, "instrument_hours", None)
        if isinstance(reported, int | float) and math.isfinite(reported):
            total, source = float(reported), "service"
        else:
            total = estimate_hours(
                link.durations, job.kind, job.protocols, dwell_h, cracked=cracked
            )
            source = "estimate"
        parts = split_hours(
            total, link.durations, job.kind, job.protocols, dwell_h, cracked=cracked
        )
        return JobHours(total, source, parts)

    def fetch_error(self, job: JobRecord, reason: str) -> None:
        """A result that could not be read; after three, set aside and re-run."""
        with self.store.transaction() as s:
            rec = get_record(s, JobRecord, job.id)
            rec.fetch_errors += 1
            errors = rec.fetch_errors
        if errors >= _MAX_FETCH_ERRORS:
            ledger.record_rejected(
                self.store,
                job.id,
                f"result unreadable: {reason}",
                max_reruns=self.config.max_reruns,
            )

    def ingest(self) -> bool:
        """Analyse every fetched result; whether anything was fetched."""
        jobs = self.store.jobs(self.record.id, statuses=(JobStatus.FETCHED,))
        if not jobs:
            return self._track_untracked()
        raws = {
            r.job_pk: r
            for r in self.store.results(self.record.id, job_pks=[job.id for job in jobs])
        }
        for job in jobs:
            result = loads(raws[job.id].raw_json)
            try:
                analysis = self.analyzer(result, self.pool[job.service].density_g_cm3)
                if job.kind == JobKind.FOLLOW_UP:
                    self._followup(job, result, analysis)
                else:
                    self._new_sample(job, analysis)
            except _ANALYSIS_ERRORS as exc:
                self._reject(job, f"{type(exc).__name__}: {exc}")
                continue
            except CampaignError as exc:
                self._reject(job, str(exc))
                continue
            if self.tracker is not None:
                self.tracker.log_experiment(self.store, job.id, result, analysis)
        self._track_untracked()
        return True

    def _reject(self, job: JobRecord, reason: str) -> None:
        ledger.record_rejected(self.store, job.id, reason, max_reruns=self.config.max_reruns)

    def _new_sample(self, job: JobRecord, analysis: Any) -> None:
        row = dict(analysis.row)
        service_id = str(row["sample_id"])
        row.update(status="ok", source=job.job_id, sample_id=self.row_key(job.service, service_id))
        validate_table(pd.DataFrame([row]), name=f"row of job {job.job_id}")
        ledger.record_row(
            self.store, job.id, row, list(getattr(analysis, "notes", [])), sample_id=service_id
        )

    def _followup(self, job: JobRecord, result: dict[str, Any], analysis: Any) -> None:
        expected = job.request.get("sample_id")
        named = (result.get("sample") or {}).get("sample_id")
        if named != expected:
            raise CampaignError(
                f"the result of follow-up {job.job_id} names sample {named!r}, not {expected!r}"
            )
        if job.sample_pk is None:
            raise CampaignError(f"follow-up {job.job_id} has no sample in the database")
        merged = merge_properties(
            sample_row(self.store, job.sample_pk), analysis.row, job.protocols, str(job.job_id)
        )
        validate_table(pd.DataFrame([merged]), name=f"row of sample {merged['sample_id']}")
        record_followup(self.store, job.id, merged, list(getattr(analysis, "notes", [])))

    def _track_untracked(self) -> bool:
        """Log finished experiments MLflow has not seen (after a crash between DB and MLflow)."""
        if self.tracker is None:
            return False
        for job in self.store.jobs(self.record.id, statuses=(JobStatus.DONE, JobStatus.CRACKED)):
            if not job.tracked:
                self.tracker.log_experiment(self.store, job.id, None, None)
        return False

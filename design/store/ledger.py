"""The campaign's state machine: every state change as one database transaction.

A proposal (an action: a new sample, or a follow-up on a sample already made) owns one or
more jobs; at most one job of a proposal is live at a time. The job's life::

    created --POST ok--> submitted --succeeded--> fetched --analysis ok--> done
                                   \\--failed: sample_cracked--------------> cracked
                                   \\--failed: retryable (instrument)------> fault    (+ new job)
                                   \\--failed: other / cancelled-----------> failed   (proposal abandoned)
                                    fetched --analysis error--------------> rejected (+ new job)

Budget rules (documented in :mod:`design.campaign.runner`): a new-sample proposal counts
against the sample budget once; re-runs after instrument faults and after rejected results are
new jobs of the *same* proposal (a follow-up's re-run measures the same sample again) and do
not count. A proposal whose re-runs are exhausted is ``abandoned`` (a new-sample one still used
its slot, so a campaign always ends). Each finished job records its instrument-hours once
(:mod:`design.store.hours`).

Follow-ups and samples: :mod:`design.store.samples`.
"""

from __future__ import annotations

import json
from typing import Any

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from design.errors import CampaignError
from design.store.actions import add_actions, add_proposals, new_job, new_key
from design.store.database import (
    CampaignRecord,
    JobRecord,
    ProposalRecord,
    ResultRecord,
    RowRecord,
    SampleRecord,
    Store,
    dumps,
    get_record,
    utcnow,
)
from design.store.hours import JobHours, set_job_hours
from design.store.states import (
    LIVE_JOB_STATUSES,
    CampaignStatus,
    JobKind,
    JobStatus,
    ProposalStatus,
)
from physics.schema import MEASUREMENT_COLUMNS
from physics.table import empty_table, validate_table

__all__ = [
    "add_actions",
    "add_proposals",
    "create_campaign",
    "job_counts",
    "mark_submitted",
    "measurement_table",
    "new_key",
    "record_cracked",
    "record_failed",
    "record_fault",
    "record_rejected",
    "record_row",
    "reset_to_created",
    "set_campaign_status",
    "set_service_status",
    "store_result",
]


def create_campaign(
    store: Store, name: str, config: dict[str, Any], initial_rows: pd.DataFrame | None = None
) -> CampaignRecord:
    """Create a campaign with its configuration and initial data, in one transaction.

    Raises:
        CampaignError: a campaign of that name exists already.
    """
    try:
        with store.transaction() as s:
            rec = CampaignRecord(name=name, config_json=dumps(config), status=CampaignStatus.ACTIVE)
            s.add(rec)
            s.flush()
            if initial_rows is not None and len(initial_rows):
                clean = validate_table(initial_rows, name="initial data")
                for row in clean.to_dict(orient="records"):
                    s.add(
                        RowRecord(
                            campaign_id=rec.id,
                            sample_id=str(row["sample_id"]),
                            status=str(row["status"]),
                            origin="initial",
                            row_json=dumps(row),
                        )
                    )
            return rec
    except IntegrityError as exc:
        raise CampaignError(
            f"a campaign named {name!r} exists already in {store.safe_url}; "
            f"continue it with `gbs campaign resume {name}` or choose another name"
        ) from exc


def set_campaign_status(
    store: Store, campaign_id: int, status: str, message: str | None = None
) -> None:
    """Record the campaign's status (``active``, ``done``, ``stopped``) and a plain message."""
    with store.transaction() as s:
        rec = get_record(s, CampaignRecord, campaign_id)
        rec.status, rec.message, rec.updated_at = status, message, utcnow()


def mark_submitted(store: Store, job_pk: int, job_id: str, service_status: str) -> None:
    """The service confirmed the job: record its id (unique within the campaign's service)."""
    try:
        with store.transaction() as s:
            rec = get_record(s, JobRecord, job_pk)
            if rec.job_id not in (None, job_id):
                raise CampaignError(
                    f"service answered job {job_id} for key {rec.idempotency_key}, which was "
                    f"job {rec.job_id} before: the service broke its idempotency promise"
                )
            rec.job_id, rec.service_status, rec.updated_at = job_id, service_status, utcnow()
            rec.post_attempts += 1
            if rec.status == JobStatus.CREATED:
                rec.status = JobStatus.SUBMITTED
    except IntegrityError as exc:
        raise CampaignError(
            f"service job {job_id} is already recorded for another key: refusing to ingest it twice"
        ) from exc


def reset_to_created(store: Store, job_pk: int, reason: str) -> None:
    """The service forgot a job (404): send the same key and body again."""
    with store.transaction() as s:
        rec = get_record(s, JobRecord, job_pk)
        rec.job_id, rec.status, rec.service_status = None, JobStatus.CREATED, None
        rec.error_message, rec.updated_at = reason, utcnow()


def set_service_status(store: Store, job_pk: int, service_status: str) -> None:
    """Record the service's latest status of a live job (queued/running)."""
    with store.transaction() as s:
        rec = get_record(s, JobRecord, job_pk)
        rec.service_status, rec.updated_at = service_status, utcnow()


def store_result(
    store: Store, job_pk: int, raw: dict[str, Any], *, hours: JobHours | None = None
) -> None:
    """Store the raw result durably; the job becomes ``fetched`` (analysed next)."""
    with store.transaction() as s:
        rec = get_record(s, JobRecord, job_pk)
        if rec.status != JobStatus.SUBMITTED:
            return
        set_job_hours(rec, hours)
        exists = s.scalar(select(ResultRecord.id).where(ResultRecord.job_pk == job_pk))
        if exists is None:
            # verbatim (NaN kept as the non-standard literal), so a set-aside result can be inspected
            s.add(ResultRecord(job_pk=job_pk, job_id=rec.job_id, raw_json=json.dumps(raw)))
        rec.status, rec.service_status, rec.updated_at = JobStatus.FETCHED, "succeeded", utcnow()


def record_row(
    store: Store,
    job_pk: int,
    row: dict[str, Any],
    notes: list[str],
    *,
    sample_id: str | None = None,
    hours: JobHours | None = None,
) -> bool:
    """Ingest the row of a new-sample job: row, sample, job ``done``, proposal ``done`` together.

    Args:
        row: the measurement row; its ``sample_id`` is the campaign's key of the sample.
        sample_id: the service's name of the sample (default: the row's ``sample_id``).
        hours: what the job used, if not recorded yet.

    Returns:
        False if the job was already ingested (nothing changes), True otherwise.

    Raises:
        CampaignError: the sample is already in this campaign (nothing is stored), or the
            job is a follow-up (:func:`design.store.samples.record_followup` adds those).
    """
    cracked = row.get("status") == "cracked"
    try:
        with store.transaction() as s:
            rec = get_record(s, JobRecord, job_pk)
            if rec.status in (JobStatus.DONE, JobStatus.CRACKED):
                return False
            if rec.kind == JobKind.FOLLOW_UP:
                raise CampaignError(
                    f"job {rec.job_id} is a follow-up: its properties join its sample's row"
                )
            key = str(row["sample_id"])
            s.add(
                RowRecord(
                    campaign_id=rec.campaign_id,
                    job_pk=rec.id,
                    proposal_id=rec.proposal_id,
                    sample_id=key,
                    status=str(row.get("status", "ok")),
                    origin="campaign",
                    row_json=dumps({c: row.get(c) for c in MEASUREMENT_COLUMNS}),
                    notes_json=dumps(notes),
                )
            )
            measured = [] if cracked else rec.protocols
            consumed_by = "cracked in the furnace" if cracked else None
            if "ccd_staircase" in measured:
                consumed_by = f"ccd_staircase by job {rec.job_id}"
            sample = SampleRecord(
                campaign_id=rec.campaign_id,
                service=rec.service,
                sample_id=str(sample_id or key),
                key=key,
                proposal_id=rec.proposal_id,
                recipe_json=dumps(
                    {c: row.get(c) for c in ("zbo_fraction", "sinter_temperature_c", "dwell_h")}
                ),
                protocols_json=dumps(measured),
                consumed=consumed_by is not None,
                consumed_reason=consumed_by,
            )
            s.add(sample)
            s.flush()
            set_job_hours(rec, hours)
            rec.status = JobStatus.CRACKED if cracked else JobStatus.DONE
            rec.updated_at, rec.sample_pk = utcnow(), sample.id
            prop = get_record(s, ProposalRecord, rec.proposal_id)
            prop.status, prop.sample_pk = ProposalStatus.DONE, sample.id
            return True
    except IntegrityError as exc:
        raise CampaignError(
            f"sample {row.get('sample_id')!r} of job {job_pk} is already in the campaign"
        ) from exc


def record_cracked(
    store: Store,
    job_pk: int,
    message: str,
    *,
    row_id: str | None = None,
    sample_id: str | None = None,
    hours: JobHours | None = None,
) -> bool:
    """The pellet cracked: an infeasible recipe, stored as a ``cracked`` row.

    Args:
        row_id: the row's ``sample_id`` (default ``cracked-<job id>``).
        sample_id: the service's name of the pellet, if it gave one.
    """
    job = _get(store, job_pk)
    recipe = job.request["recipe"]
    row: dict[str, Any] = dict.fromkeys(MEASUREMENT_COLUMNS)
    row.update(recipe)
    row.update(sample_id=row_id or f"cracked-{job.job_id}", status="cracked", source=job.job_id)
    return record_row(store, job_pk, row, [message], sample_id=sample_id, hours=hours)


def _get(store: Store, job_pk: int) -> JobRecord:
    with store.transaction() as s:
        return get_record(s, JobRecord, job_pk)


def _close_and_rerun(
    store: Store,
    job_pk: int,
    status: JobStatus,
    code: str,
    message: str,
    *,
    limit: int,
    hours: JobHours | None = None,
) -> JobRecord | None:
    with store.transaction() as s:
        rec = get_record(s, JobRecord, job_pk)
        if rec.status not in LIVE_JOB_STATUSES:
            return None
        set_job_hours(rec, hours)
        rec.status, rec.error_code, rec.error_message, rec.updated_at = (
            status,
            code,
            message,
            utcnow(),
        )
        prop = get_record(s, ProposalRecord, rec.proposal_id)
        used = s.scalar(
            select(func.count(JobRecord.id)).where(
                JobRecord.proposal_id == prop.id, JobRecord.status == status
            )
        )
        if (used or 0) > limit:
            prop.status = ProposalStatus.ABANDONED
            prop.reason = f"{used} jobs ended as {status} (last: {code}: {message})"
            return None
        campaign = get_record(s, CampaignRecord, rec.campaign_id)
        return new_job(s, campaign, prop, rec.attempt + 1)


def record_fault(
    store: Store,
    job_pk: int,
    code: str,
    message: str,
    *,
    max_retries: int,
    hours: JobHours | None = None,
) -> JobRecord | None:
    """Instrument fault: close the job and run it again under a new key (not counted).

    A new-sample job is re-run from its recipe (a new pellet); a follow-up measures the same
    sample again (the pellet is not lost).
    """
    return _close_and_rerun(
        store, job_pk, JobStatus.FAULT, code, message, limit=max_retries, hours=hours
    )


def record_rejected(store: Store, job_pk: int, reason: str, *, max_reruns: int) -> JobRecord | None:
    """The result failed analysis: set it aside with the reason, re-run at most ``max_reruns``."""
    return _close_and_rerun(
        store, job_pk, JobStatus.REJECTED, "analysis_failed", reason, limit=max_reruns
    )


def record_failed(
    store: Store,
    job_pk: int,
    code: str,
    message: str,
    *,
    hours: JobHours | None = None,
    consume_sample: bool = False,
) -> None:
    """A final, non-retryable failure: the job is ``failed`` and its proposal abandoned.

    Args:
        hours: what the job used (a job refused at its POST used none: leave ``None``).
        consume_sample: the failure says the job's sample can be measured no more (used up,
            of another campaign, unknown to the service): it is marked consumed, with
            ``code: message`` as the reason, so no policy proposes it again.
    """
    with store.transaction() as s:
        rec = get_record(s, JobRecord, job_pk)
        if rec.status not in LIVE_JOB_STATUSES:
            return
        set_job_hours(rec, hours)
        if consume_sample and rec.sample_pk is not None:
            sample = get_record(s, SampleRecord, rec.sample_pk)
            if not sample.consumed:
                sample.consumed, sample.consumed_reason = True, f"{code}: {message}"
                sample.updated_at = utcnow()
        rec.status, rec.error_code, rec.error_message, rec.updated_at = (
            JobStatus.FAILED,
            code,
            message,
            utcnow(),
        )
        prop = get_record(s, ProposalRecord, rec.proposal_id)
        prop.status, prop.reason = ProposalStatus.ABANDONED, f"{code}: {message}"


def measurement_table(store: Store, campaign_id: int, *, origin: str | None = None) -> pd.DataFrame:
    """The campaign's measurement table (initial data and ingested rows), validated."""
    rows = [r.row for r in store.rows(campaign_id) if origin is None or r.origin == origin]
    if not rows:
        return empty_table()
    frame = pd.DataFrame(rows, columns=list(MEASUREMENT_COLUMNS))
    return validate_table(frame, name="campaign table")


def job_counts(store: Store, campaign_id: int) -> dict[str, int]:
    """Number of jobs per display status (``queued``/``running`` for live ones)."""
    counts: dict[str, int] = {}
    for job in store.jobs(campaign_id):
        key = job.status
        if job.status == JobStatus.SUBMITTED:
            key = job.service_status or "queued"
            key = key if key in ("queued", "running") else "running"
        elif job.status == JobStatus.CREATED:
            key = "submitting"
        counts[key] = counts.get(key, 0) + 1
    return counts

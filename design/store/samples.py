"""Samples and follow-ups: one pellet, one row, measured by one or more jobs.

A new-sample job's row creates the sample (:func:`design.store.ledger.record_row`). A
follow-up job (protocol 1.1) measures further protocols on it: its result is kept as it came
(``results``, like every job's), and the properties its protocols measure
(:data:`MEASURED_BY`) join the sample's existing row (:func:`merge_properties`,
:func:`record_followup`), so the measurement table keeps one row per sample. A property the
follow-up could not compute (a failed fit) leaves the row's value as it was.

A sample is *consumed* once it can be measured no more: a CCD staircase plated it through
(as soon as that job is done), it cracked in the furnace, or the service refused a follow-up
on it (``sample_consumed``, ``sample_not_in_campaign``, ``unknown_sample``:
:func:`design.store.ledger.record_failed` with ``consume_sample``).

Sample keys: the row's ``sample_id`` is the service's name of the sample, prefixed with the
service's name when the campaign uses several services (:func:`row_key`), since two services
may both have an ``S-000001``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import select

from design.errors import CampaignError
from design.store.database import (
    JobRecord,
    ProposalRecord,
    RowRecord,
    SampleRecord,
    Store,
    dumps,
    get_record,
    loads,
    utcnow,
)
from design.store.hours import JobHours, set_job_hours
from design.store.states import JobKind, JobStatus, ProposalStatus
from physics.schema import MEASUREMENT_COLUMNS

__all__ = [
    "MEASURED_BY",
    "merge_properties",
    "record_followup",
    "row_key",
    "sample_row",
    "samples_of",
]

#: The measurement-table columns each protocol measures.
MEASURED_BY: dict[str, tuple[str, ...]] = {
    "eis_blocking": (
        "sigma_total_ms_cm",
        "sigma_bulk_ms_cm",
        "sigma_gb_ms_cm",
        "activation_energy_ev",
    ),
    "dc_polarization": ("electronic_fraction",),
    "eis_symmetric": ("r_int_ohm_cm2",),
    "ccd_staircase": ("ccd_ma_cm2", "ccd_censored"),
}


def row_key(service: str, sample_id: str, *, several: bool) -> str:
    """The campaign's name of a sample: ``sample_id``, or ``<service>:<sample_id>``."""
    return f"{service}:{sample_id}" if several else sample_id


def samples_of(store: Store, campaign_id: int) -> list[SampleRecord]:
    """The campaign's samples in the order they were made."""
    with store.transaction() as s:
        q = select(SampleRecord).where(SampleRecord.campaign_id == campaign_id)
        return list(s.scalars(q.order_by(SampleRecord.id)))


def sample_row(store: Store, sample_pk: int) -> dict[str, Any]:
    """The measurement row of a sample.

    Raises:
        CampaignError: the sample or its row is not in the database.
    """
    with store.transaction() as s:
        sample = get_record(s, SampleRecord, sample_pk)
        row = s.scalar(
            select(RowRecord).where(
                RowRecord.campaign_id == sample.campaign_id, RowRecord.sample_id == sample.key
            )
        )
        if row is None:
            raise CampaignError(f"sample {sample.key} has no row in the campaign database")
        return row.row


def merge_properties(
    row: Mapping[str, Any], measured: Mapping[str, Any], protocols: Iterable[str], job_id: str
) -> dict[str, Any]:
    """The sample's row with what a follow-up job measured added.

    Args:
        row: the sample's row so far.
        measured: the row computed from the follow-up's own result.
        protocols: the follow-up's protocols (only their columns are taken, and only where
            the follow-up computed a value).
        job_id: the follow-up's job id (appended to ``source``: ``j-000003+j-000007``).

    Returns:
        The merged row (keys :data:`physics.schema.MEASUREMENT_COLUMNS`).
    """
    out = {c: row.get(c) for c in MEASUREMENT_COLUMNS}
    for protocol in protocols:
        for column in MEASURED_BY.get(protocol, ()):
            if measured.get(column) is not None:
                out[column] = measured[column]
    source = str(out.get("source") or "")
    out["source"] = f"{source}+{job_id}" if source else job_id
    return out


def record_followup(
    store: Store,
    job_pk: int,
    row: dict[str, Any],
    notes: list[str],
    *,
    hours: JobHours | None = None,
) -> bool:
    """Ingest a follow-up: the merged row, the sample's protocols, job and proposal ``done``.

    Args:
        row: the sample's row with the follow-up's properties (:func:`merge_properties`).
        notes: the follow-up's analysis notes (appended to the row's).
        hours: what the job used, if not recorded yet.

    Returns:
        False if the job was already ingested (nothing changes), True otherwise.

    Raises:
        CampaignError: the job is not a follow-up, or its sample has no row.
    """
    with store.transaction() as s:
        job = get_record(s, JobRecord, job_pk)
        if job.status == JobStatus.DONE:
            return False
        if job.kind != JobKind.FOLLOW_UP or job.sample_pk is None:
            raise CampaignError(f"job {job.job_id} is not a follow-up on a sample")
        sample = get_record(s, SampleRecord, job.sample_pk)
        rec = s.scalar(
            select(RowRecord).where(
                RowRecord.campaign_id == sample.campaign_id, RowRecord.sample_id == sample.key
            )
        )
        if rec is None:
            raise CampaignError(f"sample {sample.key} has no row to add job {job.job_id} to")
        rec.row_json = dumps({c: row.get(c) for c in MEASUREMENT_COLUMNS})
        rec.notes_json = dumps([*loads(rec.notes_json), *(f"{job.job_id}: {n}" for n in notes)])
        sample.protocols_json = dumps([*sample.protocols, *job.protocols])
        if "ccd_staircase" in job.protocols and not sample.consumed:
            sample.consumed = True
            sample.consumed_reason = f"ccd_staircase by job {job.job_id}"
        sample.updated_at = utcnow()
        set_job_hours(job, hours)
        job.status, job.updated_at = JobStatus.DONE, utcnow()
        prop = get_record(s, ProposalRecord, job.proposal_id)
        prop.status = ProposalStatus.DONE
        return True

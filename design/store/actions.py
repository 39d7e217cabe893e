"""Recording the loop's decisions: a round of actions, and the jobs that carry them out.

Each action (a new sample, or a follow-up on a sample already made) becomes a proposal and
its first job in one transaction, the job's idempotency key and exact request body included,
before anything is sent (the crash-safety rule of :mod:`design.store.ledger`). A round may
be fenced by the lease (:func:`check_lease`), so a process that lost the lease while it was
stalled cannot add work behind the process that took over.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from design.errors import CampaignError
from design.store.database import (
    CampaignRecord,
    IterationRecord,
    JobRecord,
    ProposalRecord,
    SampleRecord,
    Store,
    dumps,
    get_record,
)
from design.store.states import DEFAULT_SERVICE, JobKind, JobStatus
from experiments.cycler.models import PROTOCOLS

__all__ = ["add_actions", "add_proposals", "check_lease", "new_job", "new_key"]


def new_key(campaign: str, proposal_id: int, attempt: int) -> str:
    """A fresh idempotency key (at most 128 characters), readable and globally unique."""
    return f"{campaign[:48]}-p{proposal_id}-a{attempt}-{uuid.uuid4().hex}"


def add_proposals(
    store: Store,
    campaign: CampaignRecord,
    iteration: int,
    proposals: Sequence[dict[str, Any]],
    *,
    protocols: list[str] | None,
    info: dict[str, Any],
) -> list[JobRecord]:
    """Record a round of new-sample proposals on the first service (see :func:`add_actions`).

    Args:
        proposals: dicts with ``recipe``, ``prediction`` (dict) and ``acquisition_value``.
        protocols: the protocols of every job (``None``: all, the body names none).
        info: what to keep about the round.
    """
    actions = [{**p, "kind": JobKind.NEW, "protocols": protocols} for p in proposals]
    return add_actions(store, campaign, iteration, actions, info=info)


def check_lease(s: Session, campaign_id: int, owner: str) -> None:
    """Within a transaction: refuse to write unless ``owner`` holds the campaign's lease.

    The row is locked (``FOR UPDATE`` on PostgreSQL; SQLite serializes writers anyway), so a
    process that lost its lease while it was stalled cannot add work behind the new owner.

    Raises:
        CampaignError: another process holds the lease now.
    """
    rec = s.scalar(select(CampaignRecord).where(CampaignRecord.id == campaign_id).with_for_update())
    if rec is None or rec.lease_owner != owner:
        holder = None if rec is None else rec.lease_owner
        raise CampaignError(
            f"this process ({owner}) no longer drives the campaign (the lease is {holder}'s): "
            "stopping without proposing"
        )


def add_actions(
    store: Store,
    campaign: CampaignRecord,
    iteration: int,
    actions: Sequence[dict[str, Any]],
    *,
    info: dict[str, Any],
    owner: str | None = None,
) -> list[JobRecord]:
    """Record a round of actions and one job per action, keys included, before any POST.

    Args:
        actions: dicts with ``kind`` (``new`` or ``follow_up``), ``recipe`` (for a
            follow-up: its sample's), ``protocols`` (``None``: all), and optionally
            ``service`` (default ``cycler-1``), ``sample_pk`` (a follow-up's sample),
            ``expected_hours``, ``prediction`` (dict) and ``acquisition_value``.
        info: what to keep about the round (rows seen, pending, fit time...); its
            ``strategy`` and ``fallback_reason`` also fill the iteration's columns.
        owner: when given, the round is written only while this process holds the lease
            (:func:`check_lease`).

    Raises:
        CampaignError: a follow-up without its sample, or the lease was lost.
    """
    with store.transaction() as s:
        if owner is not None:
            check_lease(s, campaign.id, owner)
        s.add(
            IterationRecord(
                campaign_id=campaign.id,
                iteration=iteration,
                n_rows=int(info.get("n_rows", 0)),
                n_pending=int(info.get("n_pending", 0)),
                fit_seconds=float(info.get("fit_seconds", 0.0)),
                info_json=dumps(info),
                strategy=info.get("strategy"),
                fallback_reason=info.get("fallback_reason"),
            )
        )
        jobs = []
        for action in actions:
            kind = JobKind(action.get("kind", JobKind.NEW))
            if kind == JobKind.FOLLOW_UP and action.get("sample_pk") is None:
                raise CampaignError("a follow-up action must name its sample (sample_pk)")
            protocols = action.get("protocols")
            rec = ProposalRecord(
                campaign_id=campaign.id,
                iteration=iteration,
                recipe_json=dumps(action["recipe"]),
                prediction_json=dumps(action.get("prediction", {})),
                acquisition_value=action.get("acquisition_value"),
                kind=kind,
                service=action.get("service") or DEFAULT_SERVICE,
                sample_pk=action.get("sample_pk"),
                protocols_json=None if not protocols else dumps(list(protocols)),
                expected_hours=action.get("expected_hours"),
            )
            s.add(rec)
            s.flush()
            jobs.append(new_job(s, campaign, rec, 1))
        return jobs


def new_job(
    s: Session, campaign: CampaignRecord, proposal: ProposalRecord, attempt: int
) -> JobRecord:
    """The next job of ``proposal``: its body from the proposal (a new sample or a follow-up)."""
    protocols = proposal.protocols
    body: dict[str, Any] = {"campaign": campaign.name}
    if proposal.kind == JobKind.FOLLOW_UP:
        sample = get_record(s, SampleRecord, int(proposal.sample_pk or 0))
        body.update(sample_id=sample.sample_id, protocols=list(protocols or PROTOCOLS))
    else:
        body["recipe"] = proposal.recipe
        if protocols:
            body["protocols"] = list(protocols)
    job = JobRecord(
        campaign_id=campaign.id,
        proposal_id=proposal.id,
        attempt=attempt,
        idempotency_key=new_key(campaign.name, proposal.id, attempt),
        request_json=dumps(body),
        status=JobStatus.CREATED,
        kind=proposal.kind,
        service=proposal.service,
        sample_pk=proposal.sample_pk,
        protocols_json=dumps(list(protocols or PROTOCOLS)),
        expected_hours=proposal.expected_hours,
    )
    s.add(job)
    s.flush()
    return job

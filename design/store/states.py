"""The states a campaign, a proposal and a job can be in (string enums, stored as their value).

``StrEnum`` members compare equal to their strings, so rows written before these enums
existed read back unchanged.

A job's life (see :mod:`design.store.ledger`)::

    created --POST ok--> submitted --succeeded--> fetched --analysis ok--> done
                                   \\--failed: sample_cracked--------------> cracked
                                   \\--failed: retryable (instrument)------> fault    (+ new job)
                                   \\--failed: other / cancelled-----------> failed   (proposal abandoned)
                                    fetched --analysis error--------------> rejected (+ new job)
    created --POST refused: sample used up / unknown------------------> failed   (sample consumed)

A follow-up job (kind ``follow_up``) lives the same life on the sample's service; its row is
its sample's, to which it adds the properties it measured.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = [
    "DEFAULT_SERVICE",
    "LIVE_JOB_STATUSES",
    "CampaignStatus",
    "JobKind",
    "JobStatus",
    "ProposalStatus",
]

#: The name of a campaign's first (or only) cycler service; the others are ``cycler-2``...
DEFAULT_SERVICE = "cycler-1"


class CampaignStatus(StrEnum):
    """A campaign: running (or resumable), ended by its budget, or stopped with a reason."""

    ACTIVE = "active"
    DONE = "done"
    STOPPED = "stopped"


class ProposalStatus(StrEnum):
    """An experiment slot of the budget: waiting for its measurement, measured, given up."""

    OPEN = "open"
    DONE = "done"
    ABANDONED = "abandoned"


class JobKind(StrEnum):
    """What a proposal (and each of its jobs) does: make a new sample, or measure one again."""

    NEW = "new"  # a new pellet from a recipe (sintering + protocols)
    FOLLOW_UP = "follow_up"  # further protocols on a sample already made (protocol 1.1)


class JobStatus(StrEnum):
    """One submission to a cycler service, as the campaign database records it."""

    CREATED = "created"  # key and body committed, POST not confirmed
    SUBMITTED = "submitted"  # the service has it (see the job's service_status)
    FETCHED = "fetched"  # raw result stored, not yet analysed
    DONE = "done"  # measurement row written
    CRACKED = "cracked"  # the pellet cracked: a row with status cracked
    FAULT = "fault"  # instrument fault: re-run under a new key
    REJECTED = "rejected"  # the result failed analysis: re-run under a new key
    FAILED = "failed"  # any other failure: the proposal is abandoned


#: Jobs that may still produce a result.
LIVE_JOB_STATUSES: tuple[JobStatus, ...] = (
    JobStatus.CREATED,
    JobStatus.SUBMITTED,
    JobStatus.FETCHED,
)

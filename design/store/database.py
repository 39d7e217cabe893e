"""Campaign state in a relational database (SQLAlchemy 2): SQLite by default, PostgreSQL on request.

Tables, one per concept, each row plain JSON text (never pickle):

- ``campaigns``: name, configuration (JSON), status, MLflow parent run id, a lease naming the
  process that drives it.
- ``proposals``: one per action the loop chose: a new sample (``kind`` ``new``: an
  experiment slot of the sample budget) or further protocols on a sample already made
  (``follow_up``); recipe, protocols, service, expected instrument-hours, predictions,
  acquisition value, iteration; ``open`` until it yields its measurements (``done``) or is
  given up (``abandoned``).
- ``jobs``: one per submission to a cycler service (``service`` names which). The idempotency
  key and the exact request body are committed *before* the ``POST``; the service's ``job_id``
  (unique within the campaign and service) is recorded after, and the instrument-hours the job
  used once it has finished.
- ``samples``: the pellets the campaign made, per service (two services may both have an
  ``S-000001``): recipe, protocols measured on it, and whether it is used up (a CCD staircase,
  a crack, or the service said so).
- ``results``: the raw result JSON of every succeeded job, stored before the job counts as done
  (unique per job).
- ``rows``: the measurement-table rows, one per sample (unique per sample within a campaign;
  a follow-up adds its properties to its sample's row), including the campaign's initial data
  (``job_pk`` empty).
- ``iterations``: one per proposal round, with its MLflow child run and the strategy that
  actually proposed (``fallback_reason`` says why it is not the configured one).

The schema evolves by Alembic migrations (:mod:`design.store.migrate`), applied when a
:class:`Store` opens the database; ``Store(url, read_only=True)`` never writes (status, export
and report use it).

The default database is ``<repo>/campaigns/campaigns.db`` (override with ``--db`` or the
environment variable ``GBS_CAMPAIGN_DB``). Every state change goes through one transaction of
:func:`transaction`, so a crash at any instant leaves either the old or the new state.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import (
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    select,
)
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

from design.errors import CampaignError
from design.store.engine import open_database, safe_url
from design.store.states import DEFAULT_SERVICE, CampaignStatus, JobKind, JobStatus, ProposalStatus

__all__ = [
    "DEFAULT_DB_PATH",
    "Base",
    "CampaignRecord",
    "IterationRecord",
    "JobRecord",
    "MetaRecord",
    "ProposalRecord",
    "ResultRecord",
    "RowRecord",
    "SampleRecord",
    "Store",
    "dumps",
    "get_record",
    "loads",
    "resolve_db_url",
    "utcnow",
]

DEFAULT_DB_PATH = Path(__file__).resolve().parents[2] / "campaigns" / "campaigns.db"


def utcnow() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


def _clean(value: Any) -> Any:
    """JSON-safe copy: NaN/inf become null, numpy scalars become Python numbers."""
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        try:
            value = value.item()
        except (ValueError, TypeError):
            return str(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if str(value) in ("<NA>", "NaT"):
        return None
    return str(value)


def dumps(value: Any) -> str:
    """Serialize state to JSON text (sorted keys, NaN as null)."""
    return json.dumps(_clean(value), sort_keys=True, allow_nan=False)


def loads(text: str | None) -> Any:
    """Inverse of :func:`dumps` (``None`` stays ``None``)."""
    return None if text is None else json.loads(text)


class Base(DeclarativeBase):
    """Declarative base of the campaign tables."""


class CampaignRecord(Base):
    """A campaign: its configuration, status and who is driving it."""

    __tablename__ = "campaigns"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    config_json: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(32), default=CampaignStatus.ACTIVE)
    message: Mapped[str | None] = mapped_column(Text, nullable=True)
    mlflow_run_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    mlflow_experiment_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    lease_owner: Mapped[str | None] = mapped_column(String(200), nullable=True)
    lease_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    @property
    def config(self) -> dict[str, Any]:
        return loads(self.config_json)


class IterationRecord(Base):
    """One proposal round (a refit and a batch of suggestions)."""

    __tablename__ = "iterations"
    __table_args__ = (UniqueConstraint("campaign_id", "iteration"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), index=True)
    iteration: Mapped[int] = mapped_column(Integer)
    n_rows: Mapped[int] = mapped_column(Integer)
    n_pending: Mapped[int] = mapped_column(Integer)
    fit_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    info_json: Mapped[str] = mapped_column(Text, default="{}")
    mlflow_run_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    #: the strategy that proposed this round (``None`` in rounds recorded before revision 0002)
    strategy: Mapped[str | None] = mapped_column(String(32), nullable=True)
    #: why that is not the configured strategy (the error that forced the fallback), else None
    fallback_reason: Mapped[str | None] = mapped_column(Text, nullable=True)


class ProposalRecord(Base):
    """One action the loop chose: a new sample or a follow-up, and what the model expected.

    ``kind`` ``new`` (an experiment slot of the sample budget) or ``follow_up`` (further
    protocols on ``sample_pk``; ``recipe_json`` is that sample's recipe). ``protocols_json``
    ``None`` means every protocol (a job body without ``protocols``).
    """

    __tablename__ = "proposals"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), index=True)
    iteration: Mapped[int] = mapped_column(Integer)
    recipe_json: Mapped[str] = mapped_column(Text)
    prediction_json: Mapped[str] = mapped_column(Text, default="{}")
    acquisition_value: Mapped[float | None] = mapped_column(Float, nullable=True)
    status: Mapped[str] = mapped_column(String(32), default=ProposalStatus.OPEN)
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    kind: Mapped[str] = mapped_column(String(16), default=JobKind.NEW, server_default="new")
    service: Mapped[str] = mapped_column(
        String(64), default=DEFAULT_SERVICE, server_default=DEFAULT_SERVICE
    )
    sample_pk: Mapped[int | None] = mapped_column(
        ForeignKey("samples.id", name="fk_proposals_sample_pk_samples"), nullable=True
    )
    protocols_json: Mapped[str | None] = mapped_column(Text, nullable=True)
    expected_hours: Mapped[float | None] = mapped_column(Float, nullable=True)

    @property
    def recipe(self) -> dict[str, float]:
        return loads(self.recipe_json)

    @property
    def protocols(self) -> list[str] | None:
        """The protocols asked for (``None``: every protocol)."""
        return loads(self.protocols_json)


class JobRecord(Base):
    """One submission to a cycler service.

    ``status`` (local): ``created`` (key committed, POST not confirmed), ``submitted`` (the
    service has it: see ``service_status``), ``fetched`` (raw result stored, not yet analysed),
    and the terminal ``done``, ``cracked``, ``fault`` (instrument fault, re-run under a new
    key), ``rejected`` (result failed analysis, re-run) and ``failed``.

    ``kind``, ``service``, ``sample_pk`` and ``protocols_json`` are its proposal's (the sample
    of a new-sample job once its result is in; ``protocols_json`` is the full list when the
    body leaves ``protocols`` out). ``expected_hours`` is the estimate it was admitted with;
    ``instrument_hours`` what it used once finished (the service's figure when it gives one,
    ``hours_source`` ``service``, else ``estimate``), split over sintering and protocols in
    ``hours_json``.
    """

    __tablename__ = "jobs"
    # job ids are the service's: unique within a campaign and service (two services may both
    # have a j-000001)
    __table_args__ = (
        UniqueConstraint("campaign_id", "service", "job_id", name="uq_jobs_campaign_service_job"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), index=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id"), index=True)
    attempt: Mapped[int] = mapped_column(Integer, default=1)
    idempotency_key: Mapped[str] = mapped_column(String(128), unique=True)
    request_json: Mapped[str] = mapped_column(Text)
    job_id: Mapped[str | None] = mapped_column(String(128), nullable=True)
    status: Mapped[str] = mapped_column(String(32), default=JobStatus.CREATED, index=True)
    service_status: Mapped[str | None] = mapped_column(String(32), nullable=True)
    post_attempts: Mapped[int] = mapped_column(Integer, default=0)
    fetch_errors: Mapped[int] = mapped_column(Integer, default=0)
    error_code: Mapped[str | None] = mapped_column(String(64), nullable=True)
    error_message: Mapped[str | None] = mapped_column(Text, nullable=True)
    tracked: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    kind: Mapped[str] = mapped_column(String(16), default=JobKind.NEW, server_default="new")
    service: Mapped[str] = mapped_column(
        String(64), default=DEFAULT_SERVICE, server_default=DEFAULT_SERVICE
    )
    sample_pk: Mapped[int | None] = mapped_column(
        ForeignKey("samples.id", name="fk_jobs_sample_pk_samples"), nullable=True
    )
    protocols_json: Mapped[str | None] = mapped_column(Text, nullable=True)
    expected_hours: Mapped[float | None] = mapped_column(Float, nullable=True)
    instrument_hours: Mapped[float | None] = mapped_column(Float, nullable=True)
    hours_source: Mapped[str | None] = mapped_column(String(16), nullable=True)
    hours_json: Mapped[str | None] = mapped_column(Text, nullable=True)

    @property
    def request(self) -> dict[str, Any]:
        return loads(self.request_json)

    @property
    def protocols(self) -> list[str]:
        """The protocols the job runs (every protocol when its body leaves them out)."""
        return list(loads(self.protocols_json) or [])


class SampleRecord(Base):
    """A pellet the campaign made on one service.

    ``sample_id`` is the service's name for it; ``key`` the campaign's (the ``sample_id`` of
    its measurement row: the service's name, prefixed ``<service>:`` when the campaign uses
    several services). ``protocols_json`` lists the protocols measured on it (one entry per
    job that measured it, so a repeat appears twice); ``consumed`` says it can be measured no
    more, ``consumed_reason`` why.
    """

    __tablename__ = "samples"
    __table_args__ = (
        UniqueConstraint("campaign_id", "service", "sample_id", name="uq_samples_service_id"),
        UniqueConstraint("campaign_id", "key", name="uq_samples_key"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), index=True)
    service: Mapped[str] = mapped_column(String(64))
    sample_id: Mapped[str] = mapped_column(String(200))
    key: Mapped[str] = mapped_column(String(270))
    # the new-sample proposal that made it (no foreign key: proposals point here already)
    proposal_id: Mapped[int] = mapped_column(Integer, unique=True)
    recipe_json: Mapped[str] = mapped_column(Text)
    protocols_json: Mapped[str] = mapped_column(Text, default="[]")
    consumed: Mapped[bool] = mapped_column(Boolean, default=False)
    consumed_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    @property
    def recipe(self) -> dict[str, float]:
        return loads(self.recipe_json)

    @property
    def protocols(self) -> list[str]:
        """Protocols measured on the sample, in order (a repeat appears twice)."""
        return list(loads(self.protocols_json) or [])


class ResultRecord(Base):
    """The raw result of a succeeded job, exactly as the service sent it."""

    __tablename__ = "results"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job_pk: Mapped[int] = mapped_column(ForeignKey("jobs.id"), unique=True)
    job_id: Mapped[str] = mapped_column(String(128))
    raw_json: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class RowRecord(Base):
    """A measurement-table row: from a job (``job_pk``) or from the initial data."""

    __tablename__ = "rows"
    __table_args__ = (UniqueConstraint("campaign_id", "sample_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), index=True)
    job_pk: Mapped[int | None] = mapped_column(ForeignKey("jobs.id"), unique=True, nullable=True)
    proposal_id: Mapped[int | None] = mapped_column(
        ForeignKey("proposals.id"), unique=True, nullable=True
    )
    sample_id: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16))
    origin: Mapped[str] = mapped_column(String(16), default="campaign")  # campaign | initial
    row_json: Mapped[str] = mapped_column(Text)
    notes_json: Mapped[str] = mapped_column(Text, default="[]")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    @property
    def row(self) -> dict[str, Any]:
        return loads(self.row_json)


_T = TypeVar("_T")


def get_record(s: Session, model: type[_T], pk: int) -> _T:
    """Row ``pk`` of ``model`` within session ``s``.

    Raises:
        CampaignError: no such row (a damaged or foreign database).
    """
    rec = s.get(model, pk)
    if rec is None:
        name = getattr(model, "__tablename__", model.__name__)
        raise CampaignError(f"the campaign database has no {name} row {pk}")
    return rec


class MetaRecord(Base):
    """Key-value facts about the database itself.

    ``schema_version`` is the pre-Alembic schema stamp: 1 up to revision 0001, then 2, and 3
    from revision 0003, so a gbs from before Alembic refuses a database that a newer gbs has
    migrated.
    """

    __tablename__ = "gbs_meta"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


def resolve_db_url(url: str | None = None) -> str:
    """The database URL: the argument, else ``GBS_CAMPAIGN_DB``, else the default SQLite file."""
    chosen = url or os.environ.get("GBS_CAMPAIGN_DB")
    if chosen:
        return chosen
    return f"sqlite:///{DEFAULT_DB_PATH}"


class Store:
    """A connection to the campaign database; migrates it to this code's schema on open.

    Args:
        url: a SQLAlchemy URL (``sqlite:///path.db``, ``postgresql+psycopg://host/db``) or
            ``None`` for :func:`resolve_db_url`'s choice.
        read_only: never write (``campaign status``, ``export``, ``report``): see
            :func:`design.store.engine.open_database`.

    Attributes:
        display: how messages name the database (the file, or the URL without password).
        found: the schema found on open, before any upgrade.

    Raises:
        ConfigError: the URL is not usable.
        CampaignError: the database cannot be opened, is not a campaign database, or has a
            schema newer than this code (one line saying which and what to do).
    """

    def __init__(self, url: str | None = None, *, read_only: bool = False) -> None:
        self.url = resolve_db_url(url)
        self.read_only = read_only
        opened = open_database(self.url, read_only=read_only)
        self.engine: Engine = opened.engine
        self.display, self.found = opened.display, opened.found
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def safe_url(self) -> str:
        """The URL with any password hidden."""
        return safe_url(self.url)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session whose changes are committed together on success and rolled back on error."""
        with self._sessions() as session, session.begin():
            yield session

    def close(self) -> None:
        """Release the connection pool."""
        self.engine.dispose()

    def campaign(self, name: str) -> CampaignRecord:
        """The campaign called ``name``.

        Raises:
            CampaignError: no such campaign (the message lists the known ones).
        """
        with self.transaction() as s:
            rec = s.scalar(select(CampaignRecord).where(CampaignRecord.name == name))
            if rec is None:
                names = list(s.scalars(select(CampaignRecord.name).order_by(CampaignRecord.id)))
                known = ", ".join(names[-10:]) if names else "none yet"
                raise CampaignError(
                    f"no campaign named {name!r} in {self.safe_url} (known: {known})"
                )
            return rec

    def find_campaign(self, name: str) -> CampaignRecord | None:
        """The campaign called ``name``, or ``None``."""
        with self.transaction() as s:
            return s.scalar(select(CampaignRecord).where(CampaignRecord.name == name))

    def jobs(self, campaign_id: int, *, statuses: tuple[str, ...] | None = None) -> list[JobRecord]:
        """Jobs of a campaign in creation order, optionally only those in ``statuses``."""
        with self.transaction() as s:
            q = select(JobRecord).where(JobRecord.campaign_id == campaign_id)
            if statuses:
                q = q.where(JobRecord.status.in_(statuses))
            return list(s.scalars(q.order_by(JobRecord.id)))

    def proposals(self, campaign_id: int, *, status: str | None = None) -> list[ProposalRecord]:
        """Proposals of a campaign in creation order, optionally only those with ``status``."""
        with self.transaction() as s:
            q = select(ProposalRecord).where(ProposalRecord.campaign_id == campaign_id)
            if status:
                q = q.where(ProposalRecord.status == status)
            return list(s.scalars(q.order_by(ProposalRecord.id)))

    def rows(self, campaign_id: int) -> list[RowRecord]:
        """Measurement rows of a campaign (initial data first, then in arrival order)."""
        with self.transaction() as s:
            q = select(RowRecord).where(RowRecord.campaign_id == campaign_id)
            return list(s.scalars(q.order_by(RowRecord.id)))

    def results(
        self, campaign_id: int, *, job_pks: Sequence[int] | None = None
    ) -> list[ResultRecord]:
        """Raw results stored for a campaign's jobs (only those of ``job_pks`` when given)."""
        with self.transaction() as s:
            q = (
                select(ResultRecord)
                .join(JobRecord, JobRecord.id == ResultRecord.job_pk)
                .where(JobRecord.campaign_id == campaign_id)
            )
            if job_pks is not None:
                q = q.where(ResultRecord.job_pk.in_(list(job_pks)))
            return list(s.scalars(q.order_by(ResultRecord.id)))

    def iterations(self, campaign_id: int) -> list[IterationRecord]:
        """Proposal rounds of a campaign in order."""
        with self.transaction() as s:
            q = select(IterationRecord).where(IterationRecord.campaign_id == campaign_id)
            return list(s.scalars(q.order_by(IterationRecord.iteration)))

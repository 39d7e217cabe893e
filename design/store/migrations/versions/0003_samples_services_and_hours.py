"""Samples per service, job kinds (new / follow-up), services and instrument-hours.

- ``samples``: the pellets a campaign made, per service (unique per campaign, service and the
  service's sample id, and per the campaign's row key).
- ``proposals`` and ``jobs`` gain ``kind`` (``new`` for every older one), ``service``
  (``cycler-1``: older campaigns had one service), ``sample_pk``, ``protocols_json`` and
  ``expected_hours``; ``jobs`` also ``instrument_hours``, ``hours_source`` and ``hours_json``
  (empty for older jobs: their hours were not recorded).
- A job id is unique per campaign *and service* (was: per campaign), since two services may
  both have a ``j-000001``.
- Data: ``jobs.protocols_json`` is filled from each older job's request (every protocol when
  it named none), ``proposals.protocols_json`` from its first job's request.
  ``gbs_meta.schema_version`` becomes 3.

On SQLite the ``jobs`` and ``proposals`` tables are rebuilt (batch mode), with foreign keys
off and checked before the commit (:func:`design.store.migrate.locked`).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 14:42:38.464586
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ALL = ["eis_blocking", "dc_polarization", "eis_symmetric", "ccd_staircase"]
# names SQLite's unnamed constraints get when batch mode reflects them
_NAMING = {"uq": "uq_%(table_name)s_%(column_0_N_name)s"}


def _unique_name(table: str, columns: list[str]) -> str:
    """The name of the unique constraint on ``columns`` (as batch mode names it on SQLite)."""
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        for uq in sa.inspect(bind).get_unique_constraints(table):
            if list(uq["column_names"]) == columns and uq.get("name"):
                return str(uq["name"])
    return f"uq_{table}_{'_'.join(columns)}"


def upgrade() -> None:
    op.create_table(
        "samples",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("service", sa.String(length=64), nullable=False),
        sa.Column("sample_id", sa.String(length=200), nullable=False),
        sa.Column("key", sa.String(length=270), nullable=False),
        sa.Column("proposal_id", sa.Integer(), nullable=False),
        sa.Column("recipe_json", sa.Text(), nullable=False),
        sa.Column("protocols_json", sa.Text(), nullable=False),
        sa.Column("consumed", sa.Boolean(), nullable=False),
        sa.Column("consumed_reason", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaigns.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("campaign_id", "key", name="uq_samples_key"),
        sa.UniqueConstraint("campaign_id", "service", "sample_id", name="uq_samples_service_id"),
        sa.UniqueConstraint("proposal_id"),
    )
    op.create_index(op.f("ix_samples_campaign_id"), "samples", ["campaign_id"], unique=False)
    old_unique = _unique_name("jobs", ["campaign_id", "job_id"])
    with op.batch_alter_table("jobs", naming_convention=_NAMING) as batch:
        batch.add_column(
            sa.Column("kind", sa.String(length=16), server_default="new", nullable=False)
        )
        batch.add_column(
            sa.Column("service", sa.String(length=64), server_default="cycler-1", nullable=False)
        )
        batch.add_column(sa.Column("sample_pk", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("protocols_json", sa.Text(), nullable=True))
        batch.add_column(sa.Column("expected_hours", sa.Float(), nullable=True))
        batch.add_column(sa.Column("instrument_hours", sa.Float(), nullable=True))
        batch.add_column(sa.Column("hours_source", sa.String(length=16), nullable=True))
        batch.add_column(sa.Column("hours_json", sa.Text(), nullable=True))
        batch.drop_constraint(old_unique, type_="unique")
        batch.create_unique_constraint(
            "uq_jobs_campaign_service_job", ["campaign_id", "service", "job_id"]
        )
        batch.create_foreign_key("fk_jobs_sample_pk_samples", "samples", ["sample_pk"], ["id"])
    with op.batch_alter_table("proposals", naming_convention=_NAMING) as batch:
        batch.add_column(
            sa.Column("kind", sa.String(length=16), server_default="new", nullable=False)
        )
        batch.add_column(
            sa.Column("service", sa.String(length=64), server_default="cycler-1", nullable=False)
        )
        batch.add_column(sa.Column("sample_pk", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("protocols_json", sa.Text(), nullable=True))
        batch.add_column(sa.Column("expected_hours", sa.Float(), nullable=True))
        batch.create_foreign_key("fk_proposals_sample_pk_samples", "samples", ["sample_pk"], ["id"])
    _fill_protocols()
    op.execute("UPDATE gbs_meta SET value = '3' WHERE key = 'schema_version'")


def _fill_protocols() -> None:
    """Older jobs' protocols from their requests; a proposal's from its first job's."""
    bind = op.get_bind()
    jobs = bind.execute(sa.text("SELECT id, proposal_id, request_json FROM jobs ORDER BY id"))
    first: dict[int, list[str] | None] = {}
    for job_pk, proposal_id, request_json in jobs.all():
        asked = json.loads(request_json).get("protocols")
        first.setdefault(proposal_id, asked)
        bind.execute(
            sa.text("UPDATE jobs SET protocols_json = :p WHERE id = :id"),
            {"p": json.dumps(asked or _ALL), "id": job_pk},
        )
    for proposal_id, asked in first.items():
        if asked:
            bind.execute(
                sa.text("UPDATE proposals SET protocols_json = :p WHERE id = :id"),
                {"p": json.dumps(asked), "id": proposal_id},
            )


def downgrade() -> None:
    op.execute("UPDATE gbs_meta SET value = '2' WHERE key = 'schema_version'")
    with op.batch_alter_table("proposals") as batch:
        batch.drop_constraint("fk_proposals_sample_pk_samples", type_="foreignkey")
        for column in ("expected_hours", "protocols_json", "sample_pk", "service", "kind"):
            batch.drop_column(column)
    with op.batch_alter_table("jobs") as batch:
        batch.drop_constraint("fk_jobs_sample_pk_samples", type_="foreignkey")
        batch.drop_constraint("uq_jobs_campaign_service_job", type_="unique")
        batch.create_unique_constraint("uq_jobs_campaign_id_job_id", ["campaign_id", "job_id"])
        for column in (
            "hours_json",
            "hours_source",
            "instrument_hours",
            "expected_hours",
            "protocols_json",
            "sample_pk",
            "service",
            "kind",
        ):
            batch.drop_column(column)
    op.drop_index(op.f("ix_samples_campaign_id"), table_name="samples")
    op.drop_table("samples")

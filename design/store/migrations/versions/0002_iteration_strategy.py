"""Iterations record the strategy that actually proposed, and why it is not the configured one.

``iterations.strategy`` and ``iterations.fallback_reason`` (both empty for older rounds: their
``info_json`` holds the configured strategy only). ``gbs_meta.schema_version`` becomes 2, so
a gbs from before Alembic refuses a database whose schema it no longer describes.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 13:52:23.285351
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("iterations", sa.Column("strategy", sa.String(length=32), nullable=True))
    op.add_column("iterations", sa.Column("fallback_reason", sa.Text(), nullable=True))
    op.execute("UPDATE gbs_meta SET value = '2' WHERE key = 'schema_version'")


def downgrade() -> None:
    op.execute("UPDATE gbs_meta SET value = '1' WHERE key = 'schema_version'")
    with op.batch_alter_table("iterations") as batch:  # SQLite before 3.35 cannot drop columns
        batch.drop_column("fallback_reason")
        batch.drop_column("strategy")

"""Computed metric tables cached per snapshot, so start-up reads them instead of recomputing.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03

``metric_tables`` holds one encoded :class:`~desktop.engine.metrics.StockTable` per snapshot and
cache key (a digest of the engine's source, the metric parameters and the theme files), with the
sha256 of its stored bytes. Rows are a cache: deleting them loses nothing (issue #17).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "metric_tables",
        sa.Column("snapshot_id", sa.Integer(),
                  sa.ForeignKey("snapshots.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("cache_key", sa.String(64), primary_key=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("codec", sa.String(16), nullable=False),
        sa.Column("raw_size", sa.Integer(), nullable=False),
        sa.Column("checksum", sa.String(64), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
    )

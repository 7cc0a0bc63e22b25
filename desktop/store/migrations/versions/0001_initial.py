"""First schema: snapshots, content-addressed parts, saved screens, runs, watchlist.

Revision ID: 0001
Revises:
Create Date: 2026-11-25

Frozen: never edit a released revision; add a new one instead.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "snapshots",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("sources", sa.JSON(), nullable=False),
        sa.Column("summary", sa.JSON(), nullable=False),
        sa.Column("securities_schema", sa.JSON(), nullable=False),
        sa.Column("n_securities", sa.Integer(), nullable=False),
    )
    op.create_index("ix_snapshots_as_of", "snapshots", ["as_of"])
    op.create_table(
        "snapshot_securities",
        sa.Column("snapshot_id", sa.Integer(),
                  sa.ForeignKey("snapshots.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("symbol", sa.String(32), primary_key=True),
        sa.Column("in_index", sa.Boolean(), nullable=True),
        sa.Column("data", sa.JSON(), nullable=False),
    )
    op.create_table(
        "blobs",
        sa.Column("digest", sa.String(64), primary_key=True),
        sa.Column("codec", sa.String(16), nullable=False),
        sa.Column("raw_size", sa.Integer(), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
    )
    op.create_table(
        "snapshot_parts",
        sa.Column("snapshot_id", sa.Integer(),
                  sa.ForeignKey("snapshots.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("kind", sa.String(16), primary_key=True),
        sa.Column("symbol", sa.String(32), primary_key=True),
        sa.Column("digest", sa.String(64), sa.ForeignKey("blobs.digest"), nullable=False),
        sa.Column("n_rows", sa.Integer(), nullable=False),
    )
    op.create_index("ix_snapshot_parts_digest", "snapshot_parts", ["digest"])
    op.create_table(
        "screens",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False, unique=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("current_version", sa.Integer(), nullable=False),
    )
    op.create_table(
        "screen_versions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("screen_id", sa.Integer(), sa.ForeignKey("screens.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("definition", sa.JSON(), nullable=False),
        sa.Column("saved_at", sa.DateTime(), nullable=False),
        sa.Column("restored_from", sa.Integer(), nullable=True),
        sa.UniqueConstraint("screen_id", "version", name="uq_screen_versions_screen_version"),
    )
    op.create_table(
        "screen_runs",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("screen_name", sa.String(200), nullable=False),
        sa.Column("screen_version", sa.Integer(), nullable=True),
        sa.Column("definition", sa.JSON(), nullable=False),
        sa.Column("snapshot_id", sa.Integer(), sa.ForeignKey("snapshots.id", ondelete="SET NULL"),
                  nullable=True),
        sa.Column("snapshot_as_of", sa.Date(), nullable=False),
        sa.Column("ran_at", sa.DateTime(), nullable=False),
        sa.Column("n_passed", sa.Integer(), nullable=False),
    )
    op.create_index("ix_screen_runs_name", "screen_runs", ["screen_name", "id"])
    op.create_table(
        "run_members",
        sa.Column("run_id", sa.Integer(), sa.ForeignKey("screen_runs.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("symbol", sa.String(32), primary_key=True),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("score", sa.Float(), nullable=True),
    )
    op.create_table(
        "watchlist",
        sa.Column("symbol", sa.String(32), primary_key=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("added_at", sa.DateTime(), nullable=False),
    )

"""Raw payload cache for the resumable refresh; member count stored on each snapshot.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25

``snapshots.n_members`` is back-filled from ``snapshot_securities.in_index`` so listing
snapshots no longer counts members row by row.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("snapshots") as batch:
        batch.add_column(sa.Column("n_members", sa.Integer(), nullable=False, server_default="0"))
    op.execute(
        "UPDATE snapshots SET n_members = (SELECT COUNT(*) FROM snapshot_securities s "
        "WHERE s.snapshot_id = snapshots.id AND s.in_index = true)"
    )
    op.create_table(
        "raw_payloads",
        sa.Column("source", sa.String(32), primary_key=True),
        sa.Column("symbol", sa.String(32), primary_key=True),
        sa.Column("kind", sa.String(64), primary_key=True),
        sa.Column("encoding", sa.String(16), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=True),
        sa.Column("fetched_at", sa.DateTime(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
    )
    op.create_index("ix_raw_payloads_fetched", "raw_payloads", ["source", "kind", "fetched_at"])

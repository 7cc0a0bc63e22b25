"""Content checksums of snapshot parts, so a damaged snapshot is refused instead of screened.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02

* ``snapshot_parts.checksum``: sha256 of the part's stored (compressed) bytes.
* ``snapshots.securities_checksum``: sha256 of the securities rows in a canonical JSON form.
* ``snapshots.n_parts``: how many parts were written, so a missing one is noticed.

All three stay NULL for snapshots written before this revision; those are checked by decoding
(and each part against its content address, the sha256 of its decoded bytes). Issue #13.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("snapshot_parts") as batch:
        batch.add_column(sa.Column("checksum", sa.String(64), nullable=True))
    with op.batch_alter_table("snapshots") as batch:
        batch.add_column(sa.Column("securities_checksum", sa.String(64), nullable=True))
        batch.add_column(sa.Column("n_parts", sa.Integer(), nullable=True))

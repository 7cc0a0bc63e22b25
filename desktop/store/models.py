"""The ORM schema (SQLAlchemy 2.x typed declarative). These classes never leave ``desktop.store``:
repository functions return dataclasses and DataFrames.

Layout (schema revision ``0004``, see ``desktop/store/migrations``):

* ``snapshots`` one row per immutable snapshot; ``snapshot_securities`` one row per security with
  its values as a JSON object (missing values are absent keys, never zero); ``snapshot_parts``
  maps (snapshot, kind, symbol) to a content-addressed ``blobs`` row holding a compressed frame
  (history, market, provenance: one part per snapshot; prices: one part per symbol). Identical
  parts are stored once, so snapshots that carry the previous prices forward cost nothing extra.
  Since 0003 every part row carries a checksum of its stored bytes and every snapshot one of its
  securities rows plus its number of parts, verified on load (NULL on older snapshots).
* ``screens`` / ``screen_versions``: saved screens, every save is a new version.
* ``screen_runs`` / ``run_members``: which screen version ran on which snapshot, and the ranked
  tickers it returned.
* ``watchlist``; ``raw_payloads``: the per-ticker cache of the resumable refresh.
* ``metric_tables`` (0004): computed metric tables per snapshot and cache key, a cache that
  start-up reads instead of recomputing (``tables.py``).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

SYMBOL = String(32)


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON}


class Snapshot(Base):
    __tablename__ = "snapshots"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    as_of: Mapped[date] = mapped_column(Date, index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    sources: Mapped[list[Any]] = mapped_column(JSON)
    summary: Mapped[dict[str, Any]] = mapped_column(JSON)
    # [[column, dtype], ...] of Dataset.securities, so a load restores the exact dtypes.
    securities_schema: Mapped[list[Any]] = mapped_column(JSON)
    n_securities: Mapped[int] = mapped_column(Integer)
    n_members: Mapped[int] = mapped_column(Integer, server_default="0")  # added in 0002
    # Added in 0003, NULL on older snapshots: sha256 of the canonical securities rows, and the
    # number of snapshot_parts rows written with the snapshot.
    securities_checksum: Mapped[str | None] = mapped_column(String(64))
    n_parts: Mapped[int | None] = mapped_column(Integer)


class SnapshotSecurity(Base):
    __tablename__ = "snapshot_securities"

    snapshot_id: Mapped[int] = mapped_column(
        ForeignKey("snapshots.id", ondelete="CASCADE"), primary_key=True
    )
    symbol: Mapped[str] = mapped_column(SYMBOL, primary_key=True)
    in_index: Mapped[bool | None]  # NULL: the source did not say
    data: Mapped[dict[str, Any]] = mapped_column(JSON)  # {field: value}; missing = absent key


class Blob(Base):
    __tablename__ = "blobs"

    digest: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256 of the raw bytes
    codec: Mapped[str] = mapped_column(String(16))  # "frame1" | "series1"
    raw_size: Mapped[int] = mapped_column(Integer)
    payload: Mapped[bytes] = mapped_column(LargeBinary)


class SnapshotPart(Base):
    __tablename__ = "snapshot_parts"
    __table_args__ = (Index("ix_snapshot_parts_digest", "digest"),)

    snapshot_id: Mapped[int] = mapped_column(
        ForeignKey("snapshots.id", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)  # history|market|provenance|prices
    symbol: Mapped[str] = mapped_column(SYMBOL, primary_key=True)  # "" for whole-snapshot parts
    digest: Mapped[str] = mapped_column(ForeignKey("blobs.digest"))
    n_rows: Mapped[int] = mapped_column(Integer)
    checksum: Mapped[str | None] = mapped_column(String(64))  # 0003: sha256 of the stored payload


class SavedScreenRow(Base):
    __tablename__ = "screens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime)
    current_version: Mapped[int] = mapped_column(Integer)


class ScreenVersion(Base):
    __tablename__ = "screen_versions"
    __table_args__ = (UniqueConstraint("screen_id", "version", name="uq_screen_versions_screen_version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    screen_id: Mapped[int] = mapped_column(ForeignKey("screens.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    description: Mapped[str] = mapped_column(Text, default="")
    definition: Mapped[dict[str, Any]] = mapped_column(JSON)
    saved_at: Mapped[datetime] = mapped_column(DateTime)
    restored_from: Mapped[int | None] = mapped_column(Integer)  # NULL unless a restore made it


class ScreenRun(Base):
    __tablename__ = "screen_runs"
    __table_args__ = (Index("ix_screen_runs_name", "screen_name", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # The name, not a foreign key: presets and unsaved files run too, and history outlives a delete.
    screen_name: Mapped[str] = mapped_column(String(200))
    screen_version: Mapped[int | None] = mapped_column(Integer)  # NULL for presets/unsaved files
    definition: Mapped[dict[str, Any]] = mapped_column(JSON)
    # SET NULL: deleting a snapshot keeps the shortlist history (the date stays in snapshot_as_of).
    snapshot_id: Mapped[int | None] = mapped_column(ForeignKey("snapshots.id", ondelete="SET NULL"))
    snapshot_as_of: Mapped[date] = mapped_column(Date)
    ran_at: Mapped[datetime] = mapped_column(DateTime)
    n_passed: Mapped[int] = mapped_column(Integer)


class RunMember(Base):
    __tablename__ = "run_members"

    run_id: Mapped[int] = mapped_column(ForeignKey("screen_runs.id", ondelete="CASCADE"), primary_key=True)
    symbol: Mapped[str] = mapped_column(SYMBOL, primary_key=True)
    rank: Mapped[int] = mapped_column(Integer)
    score: Mapped[float | None] = mapped_column(Float)


class WatchItem(Base):
    __tablename__ = "watchlist"

    symbol: Mapped[str] = mapped_column(SYMBOL, primary_key=True)
    note: Mapped[str] = mapped_column(Text, default="")
    added_at: Mapped[datetime] = mapped_column(DateTime)


class RawPayload(Base):  # added in 0002
    __tablename__ = "raw_payloads"
    __table_args__ = (Index("ix_raw_payloads_fetched", "source", "kind", "fetched_at"),)

    source: Mapped[str] = mapped_column(String(32), primary_key=True)
    symbol: Mapped[str] = mapped_column(SYMBOL, primary_key=True)
    kind: Mapped[str] = mapped_column(String(64), primary_key=True)
    encoding: Mapped[str] = mapped_column(String(16))  # json | text | bytes | frame | none
    payload: Mapped[bytes | None] = mapped_column(LargeBinary)  # zlib-compressed
    fetched_at: Mapped[datetime] = mapped_column(DateTime)
    status: Mapped[str] = mapped_column(String(16))
    error: Mapped[str | None] = mapped_column(Text)


class MetricTableRow(Base):  # added in 0004
    __tablename__ = "metric_tables"

    snapshot_id: Mapped[int] = mapped_column(
        ForeignKey("snapshots.id", ondelete="CASCADE"), primary_key=True
    )
    cache_key: Mapped[str] = mapped_column(String(64), primary_key=True)  # see tables.table_key
    created_at: Mapped[datetime] = mapped_column(DateTime)
    codec: Mapped[str] = mapped_column(String(16))  # "tables2.zlib"
    raw_size: Mapped[int] = mapped_column(Integer)
    checksum: Mapped[str] = mapped_column(String(64))  # sha256 of payload as stored
    payload: Mapped[bytes] = mapped_column(LargeBinary)

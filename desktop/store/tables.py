"""Computed :class:`~desktop.engine.metrics.StockTable`s cached per snapshot (issue #17).

Computing every metric of a 2,000-stock snapshot takes about half a second; reading the stored
result takes a few tens of milliseconds, so start-up reads it. A row of ``metric_tables`` holds one
table under a cache key that the caller derives from everything the table depends on besides the
snapshot (the engine's code, the metric parameters, the theme files; see
``desktop.services.screening.table_key``): a change to any of them is simply a different key, and
the stale row is never read again (the oldest rows beyond :data:`KEEP` are deleted on each save).

The table is encoded without pickle: its frames with :func:`desktop.store.codec.encode_frames`
(notes and zombie years as frames too), its date and parameters in the JSON header, the whole
zlib-compressed, with the sha256 of the stored bytes beside it. A row that does not match its
checksum or does not decode is ignored (logged) and the caller recomputes: it is only a cache.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
from collections.abc import Iterator, Mapping
from datetime import date
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.orm import Session

from desktop.engine.metrics import MetricParams, StockTable
from desktop.store import codec
from desktop.store.db import begin_write
from desktop.store.models import MetricTableRow
from desktop.store.snapshots import utcnow

log = logging.getLogger(__name__)

TABLE_CODEC = "tables2.zlib"  # 2: frames version 2 (a cached "tables1" row is recomputed once)
KEEP = 4  # cached tables kept (a few MB each): the latest snapshots, and the one "What changed" compares


def encode_table(table: StockTable) -> Iterator[bytes]:
    """The uncompressed bytes of ``table``, as the stream of pieces they join (inverse:
    :func:`decode_table`; see :func:`desktop.store.codec.encode_frames`)."""
    notes = pd.DataFrame({"symbol": [k[0] for k in table.notes], "field": [k[1] for k in table.notes],
                          "note": list(table.notes.values())}, dtype=object)
    years = [(symbol, year, cov) for symbol, rows in table.zombie_years.items() for year, cov in rows]
    zombie = pd.DataFrame({"symbol": pd.Series([r[0] for r in years], dtype=object),
                           "fiscal_year": np.array([r[1] for r in years], dtype=np.int64),
                           "coverage": np.array([r[2] for r in years], dtype=np.float64)})
    frames = {"values": table.values, "status": table.status, "notes": notes,
              "theme_matches": table.theme_matches, "zombie_years": zombie, "provenance": table.provenance,
              "period_end": table.period_end, "origin": table.origin}
    meta = {"as_of": table.as_of.isoformat(), "params": codec.jsonable(dataclasses.asdict(table.params))}
    return codec.encode_frames(frames, meta)


def decode_table(raw: bytes) -> StockTable:
    """A table from :func:`encode_table`'s bytes (joined).

    Raises:
        codec.CodecError, ValueError, KeyError, TypeError: the bytes are not such a table.
    """
    meta, frames = codec.decode_frames(raw)
    notes, zombie = frames["notes"], frames["zombie_years"]
    years: dict[str, list[tuple[int, float]]] = {}
    for symbol, year, cov in zip(zombie["symbol"].tolist(), zombie["fiscal_year"].tolist(),
                                 zombie["coverage"].tolist(), strict=True):
        years.setdefault(symbol, []).append((year, cov))
    fields: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v for k, v in meta["params"].items()}
    params = MetricParams(**fields)
    return StockTable(
        as_of=date.fromisoformat(meta["as_of"]), values=frames["values"], status=frames["status"],
        notes=StoredNotes(notes["symbol"].to_numpy(), notes["field"].to_numpy(), notes["note"].to_numpy()),
        theme_matches=frames["theme_matches"], zombie_years=years, provenance=frames["provenance"],
        params=params, period_end=frames["period_end"], origin=frames["origin"])


class StoredNotes(Mapping[tuple[str, str], str]):
    """A cached table's notes, made a dict only when first read (issue #17).

    The 163,000 notes of the full universe take ~30 ms to put in a dict, on the start-up's critical
    path; nothing reads them until a tooltip, the detail pane or an export asks for one.
    """

    def __init__(self, symbols: np.ndarray, fields: np.ndarray, texts: np.ndarray) -> None:
        self._columns: tuple[np.ndarray, ...] | None = (symbols, fields, texts)

    @cached_property
    def _notes(self) -> dict[tuple[str, str], str]:
        assert self._columns is not None
        symbols, fields, texts = (c.tolist() for c in self._columns)  # lists: zipping arrays is 5x slower
        self._columns = None
        return dict(zip(zip(symbols, fields, strict=True), texts, strict=True))

    def __getitem__(self, key: tuple[str, str]) -> str:
        return self._notes[key]

    def __contains__(self, key: object) -> bool:
        return key in self._notes

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter(self._notes)

    def __len__(self) -> int:
        return len(self._notes)


def save_table(session: Session, snapshot_id: int, key: str, table: StockTable) -> None:
    """Store ``table`` as the cached table of ``snapshot_id`` under ``key`` (replacing one there),
    then delete all but the :data:`KEEP` newest cached tables."""
    begin_write(session)
    payload, raw_size = codec.compress_chunks(encode_table(table))
    session.execute(sa.delete(MetricTableRow).where(MetricTableRow.snapshot_id == snapshot_id,
                                                    MetricTableRow.cache_key == key))
    session.add(MetricTableRow(snapshot_id=snapshot_id, cache_key=key, created_at=utcnow(), codec=TABLE_CODEC,
                               raw_size=raw_size, checksum=hashlib.sha256(payload).hexdigest(), payload=payload))
    session.flush()
    for old_snapshot, old_key in cached_keys(session)[KEEP:]:
        session.execute(sa.delete(MetricTableRow).where(MetricTableRow.snapshot_id == old_snapshot,
                                                        MetricTableRow.cache_key == old_key))


def load_table(session: Session, snapshot_id: int, key: str) -> StockTable | None:
    """The cached table of ``snapshot_id`` under ``key``; None when there is none, or when the row
    is damaged (a checksum mismatch or bytes that do not decode: logged, and never used)."""
    row = session.execute(sa.select(MetricTableRow.codec, MetricTableRow.raw_size, MetricTableRow.checksum,
                                    MetricTableRow.payload)
                          .where(MetricTableRow.snapshot_id == snapshot_id, MetricTableRow.cache_key == key)).first()
    if row is None:
        return None
    codec_name, raw_size, checksum, payload = row
    what = f"the cached metric table of snapshot {snapshot_id}"
    if codec_name != TABLE_CODEC:
        log.info("%s has codec %r, not %r: recomputing", what, codec_name, TABLE_CODEC)
        return None
    if hashlib.sha256(payload).hexdigest() != checksum:
        log.warning("%s does not match its checksum: it is ignored and recomputed", what)
        return None
    try:
        raw = codec.decompress(payload)
        if len(raw) != raw_size:
            raise codec.CodecError(f"{len(raw)} bytes, {raw_size} were stored")
        return decode_table(raw)
    except (codec.CodecError, ValueError, KeyError, IndexError, TypeError, OverflowError, RecursionError,
            MemoryError) as error:
        log.warning("%s cannot be decoded (%s): it is ignored and recomputed", what, error)
        return None


def cached_keys(session: Session) -> list[tuple[int, str]]:
    """``(snapshot_id, cache_key)`` of every cached table, newest first."""
    query = sa.select(MetricTableRow.snapshot_id, MetricTableRow.cache_key).order_by(
        MetricTableRow.created_at.desc(), MetricTableRow.snapshot_id.desc())
    return [(int(s), str(k)) for s, k in session.execute(query)]

"""Cached metric tables (issue #17): exact round trips, keys, damage ignored, pruning, deletion."""

from __future__ import annotations

import hashlib
import logging
import math
from dataclasses import replace

import pandas as pd
import pytest
import sqlalchemy as sa
from store_synth import make_dataset

from desktop.engine.metrics import MetricParams, StockTable, compute_metrics
from desktop.store import codec, snapshots, tables
from desktop.store.db import Database
from desktop.store.models import MetricTableRow

FRAMES = ("values", "status", "theme_matches", "provenance", "period_end", "origin")


def assert_same_table(loaded: StockTable, original: StockTable) -> None:
    assert loaded.as_of == original.as_of and type(loaded.as_of) is type(original.as_of)
    assert loaded.params == original.params
    for name in FRAMES:
        pd.testing.assert_frame_equal(getattr(loaded, name), getattr(original, name), check_exact=True)
    assert loaded.notes == original.notes
    assert list(loaded.zombie_years) == list(original.zombie_years)
    for symbol, rows in original.zombie_years.items():
        back = loaded.zombie_years[symbol]
        assert [y for y, _ in back] == [y for y, _ in rows]
        assert all(a == b or (math.isnan(a) and math.isnan(b)) for (_, a), (_, b) in zip(back, rows, strict=True))


def test_stored_notes_become_a_dict_only_when_read(computed: tuple[int, StockTable]) -> None:
    _, table = computed
    loaded = tables.decode_table(b"".join(tables.encode_table(table)))
    notes = loaded.notes
    assert isinstance(notes, tables.StoredNotes) and "_notes" not in vars(notes)  # nothing built yet
    key, text = next(iter(table.notes.items()))
    assert notes[key] == text and key in notes and ("NOPE", "x") not in notes
    assert len(notes) == len(table.notes) and set(notes) == set(table.notes)
    assert notes.get(("NOPE", "x")) is None
    assert dict(notes) == dict(table.notes)


@pytest.fixture
def computed(db: Database) -> tuple[int, StockTable]:
    dataset = make_dataset(40, 300)
    with db.session() as s:
        sid = snapshots.save_snapshot(s, dataset, {})
    return sid, compute_metrics(dataset, MetricParams(shocks_bp=(100, 250)))


def _save(db: Database, sid: int, key: str, table: StockTable) -> None:
    with db.session() as s:
        tables.save_table(s, sid, key, table)


def _load(db: Database, sid: int, key: str) -> StockTable | None:
    with db.read_session() as s:
        return tables.load_table(s, sid, key)


def test_round_trip_is_exact(db: Database, computed: tuple[int, StockTable]) -> None:
    sid, table = computed
    assert table.notes and table.zombie_years and table.values["themes"].map(type).eq(tuple).all()
    _save(db, sid, "k1", table)
    loaded = _load(db, sid, "k1")
    assert loaded is not None
    assert_same_table(loaded, table)
    assert loaded.params.shocks_bp == (100, 250)


def test_only_the_same_key_and_snapshot_hit(db: Database, computed: tuple[int, StockTable]) -> None:
    sid, table = computed
    assert _load(db, sid, "k1") is None
    _save(db, sid, "k1", table)
    assert _load(db, sid, "k2") is None
    assert _load(db, sid + 1, "k1") is None
    _save(db, sid, "k1", table)  # saving again replaces the row
    with db.read_session() as s:
        assert tables.cached_keys(s) == [(sid, "k1")]


def _damage(db: Database, sid: int, key: str, payload: bytes, *, fix_checksum: bool) -> None:
    values = {"payload": payload}
    if fix_checksum:
        values["checksum"] = hashlib.sha256(payload).hexdigest()
    with db.session() as s:
        s.execute(sa.update(MetricTableRow).where(MetricTableRow.snapshot_id == sid,
                                                  MetricTableRow.cache_key == key).values(**values))


@pytest.mark.parametrize("damage", ["flipped byte", "not zlib", "not a table", "cut short"])
def test_a_damaged_row_is_ignored(db: Database, computed: tuple[int, StockTable], damage: str,
                                  caplog: pytest.LogCaptureFixture) -> None:
    sid, table = computed
    _save(db, sid, "k1", table)
    with db.read_session() as s:
        stored = s.scalar(sa.select(MetricTableRow.payload).where(MetricTableRow.snapshot_id == sid))
    assert stored is not None
    if damage == "flipped byte":
        bad = bytearray(stored)
        bad[len(bad) // 2] ^= 0xFF
        _damage(db, sid, "k1", bytes(bad), fix_checksum=False)
    elif damage == "not zlib":
        _damage(db, sid, "k1", b"garbage" * 10, fix_checksum=True)
    elif damage == "not a table":
        frames = b"".join(codec.encode_frames({"values": table.values}, {"as_of": "2026-05-05", "params": {}}))
        _damage(db, sid, "k1", codec.compress(frames), fix_checksum=True)
    else:
        raw = codec.decompress(stored)
        _damage(db, sid, "k1", codec.compress(raw[: len(raw) - 100]), fix_checksum=True)
    with caplog.at_level(logging.INFO, logger="desktop.store.tables"):
        assert _load(db, sid, "k1") is None
    assert "ignored and recomputed" in caplog.text


def test_the_newest_tables_are_kept(db: Database, computed: tuple[int, StockTable]) -> None:
    sid, table = computed
    small = replace(table, values=table.values.iloc[:3], status=table.status.iloc[:3])
    for i in range(tables.KEEP + 2):
        _save(db, sid, f"k{i}", small)
    with db.read_session() as s:
        keys = [k for _, k in tables.cached_keys(s)]
    assert keys == [f"k{i}" for i in reversed(range(2, tables.KEEP + 2))]
    assert _load(db, sid, "k0") is None and _load(db, sid, f"k{tables.KEEP + 1}") is not None


def test_deleting_a_snapshot_deletes_its_tables(db: Database, computed: tuple[int, StockTable]) -> None:
    sid, table = computed
    _save(db, sid, "k1", table)
    with db.session() as s:
        snapshots.delete_snapshot(s, sid)
    with db.read_session() as s:
        assert tables.cached_keys(s) == []


def test_an_empty_table_round_trips(db: Database, computed: tuple[int, StockTable]) -> None:
    sid, table = computed
    empty = StockTable(table.as_of, table.values.iloc[:0], table.status.iloc[:0], {}, table.theme_matches.iloc[:0],
                       {}, table.provenance.iloc[:0], table.params, table.period_end.iloc[:0], table.origin.iloc[:0])
    _save(db, sid, "empty", empty)
    loaded = _load(db, sid, "empty")
    assert loaded is not None
    assert_same_table(loaded, empty)
    assert loaded.values.dtypes.equals(table.values.dtypes)

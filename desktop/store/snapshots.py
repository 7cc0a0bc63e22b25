"""Immutable, dated snapshots of the canonical :class:`~desktop.engine.dataset.Dataset`.

Storage (see ``models.py``): the securities frame is one row per security with a JSON object of
its values (missing values are absent keys), so the latest snapshot of 2,000 tickers loads in a
few tens of milliseconds and stays queryable in SQL. History, market series and provenance are
whole-snapshot compressed frames (daily volumes too, where any source had them); prices are one
compressed part per symbol (int64 day numbers +
float64 closes, NaNs dropped). Parts are content-addressed, so a snapshot that carries the
previous prices forward stores no new price bytes. Nothing is pickled.

Loaded frames come back sorted by symbol (securities index and price columns) with the dtypes
they were saved with.

Nothing damaged is used (issue #13): every part row carries the sha256 of its stored bytes, every
snapshot the sha256 of its securities rows and its number of parts; a load verifies them and
raises :class:`DamagedSnapshotError` naming the snapshot. Snapshots saved before schema 0003
have no checksums; their parts are checked against their content address (the sha256 of the
decoded bytes) and by decoding.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, cast

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.orm import Session

from desktop.engine.dataset import (
    HISTORY_COLUMNS,
    KEY,
    Dataset,
    empty_history,
    empty_provenance,
    empty_series_frame,
    history_frame,
)
from desktop.errors import StoreError
from desktop.store import codec
from desktop.store.db import NotFoundError, begin_write
from desktop.store.models import Blob, Snapshot, SnapshotPart, SnapshotSecurity

log = logging.getLogger(__name__)

_INDEX_KEY = "__index__"
_CHUNK = 500  # bound parameters per IN (...) / executemany batch
# Whole-snapshot parts every save writes (prices parts are one per symbol and may be none).
_REQUIRED_PARTS = ("history", "market", "provenance", "prices_index")


class DamagedSnapshotError(StoreError):
    """A stored snapshot's content does not match its checksums or cannot be decoded."""

    def __init__(self, snapshot_id: int, as_of: Any, what: str) -> None:
        day = as_of.isoformat() if hasattr(as_of, "isoformat") else str(as_of)
        super().__init__(
            f"Snapshot {snapshot_id} (as of {day}) is damaged: {what}; it was not used.",
            hint=f"Delete it (pickaxe-cli snapshots delete {snapshot_id}) and import or refresh again, "
                 "or restore the database from a backup.")
        self.snapshot_id = snapshot_id


@dataclass(frozen=True)
class SnapshotInfo:
    """What a snapshot is, without its data."""

    id: int
    as_of: date
    created_at: datetime  # naive UTC
    sources: tuple[dict[str, Any], ...]
    summary: dict[str, Any] = field(default_factory=dict)
    n_members: int = 0
    n_securities: int = 0


def utcnow() -> datetime:
    """Naive UTC now (the store keeps every timestamp as naive UTC)."""
    return datetime.now(UTC).replace(tzinfo=None)


# --- saving ---------------------------------------------------------------------------------


def _column_json(values: pd.Series) -> list[Any]:
    """One securities column as JSON-ready values (None for missing)."""
    dtype = values.dtype
    if isinstance(dtype, np.dtype) and dtype.kind == "f":
        return [None if v != v or v in (np.inf, -np.inf) else v for v in values.to_numpy().tolist()]
    if isinstance(dtype, np.dtype) and dtype.kind in "iub":
        return values.to_numpy().tolist()
    if isinstance(dtype, np.dtype) and dtype.kind == "M":
        return [None if pd.isna(v) else pd.Timestamp(v).isoformat() for v in values]
    return [codec.json_value(v) for v in values.astype(object)]


def _securities_checksum(rows: Iterable[tuple[str, bool | None, str]]) -> str:
    """sha256 of ``(symbol, in_index, data as JSON text)`` rows, sorted by symbol.

    The JSON text is hashed exactly as stored (Pickaxe writes it itself, see
    :func:`_insert_securities`; SQLite keeps text and PostgreSQL's ``json`` type keeps "an exact
    copy of the input text"), so checking costs one hash, not a second serialisation (~2 ms instead
    of ~50 ms for 2,000 securities)."""
    digest = hashlib.sha256()
    for symbol, in_index, text in sorted(rows, key=lambda r: r[0]):
        member = "" if in_index is None else "1" if in_index else "0"
        digest.update(f"{symbol}\t{member}\t{text}\n".encode())
    return digest.hexdigest()


def _insert_securities(session: Session, rows: list[dict[str, Any]]) -> str:
    """Insert securities rows with their ``data`` serialised here; returns their checksum."""
    table = cast(sa.Table, SnapshotSecurity.__table__)
    texts = [json.dumps(r["data"]) for r in rows]  # what SQLAlchemy's JSON type would write
    data_param = sa.bindparam("p_data", type_=sa.Text)
    if session.get_bind().dialect.name == "postgresql":
        data_value: Any = sa.cast(data_param, table.c.data.type)  # text -> json, kept verbatim
    else:
        data_value = data_param  # SQLite's JSON is text
    statement = sa.insert(table).values(snapshot_id=sa.bindparam("p_snapshot"), symbol=sa.bindparam("p_symbol"),
                                        in_index=sa.bindparam("p_member"), data=data_value)
    params = [{"p_snapshot": r["snapshot_id"], "p_symbol": r["symbol"], "p_member": r["in_index"], "p_data": t}
              for r, t in zip(rows, texts, strict=True)]
    for i in range(0, len(params), _CHUNK):
        session.execute(statement, params[i:i + _CHUNK])
    return _securities_checksum((r["symbol"], r["in_index"], t) for r, t in zip(rows, texts, strict=True))


def _securities_rows(snapshot_id: int, securities: pd.DataFrame) -> tuple[list[dict[str, Any]], int]:
    if securities.index.has_duplicates:
        dupes = securities.index[securities.index.duplicated()].unique()[:5].tolist()
        raise StoreError(f"cannot save a snapshot with duplicate symbols: {dupes}")
    columns = {c: _column_json(securities[c]) for c in securities.columns if c != "in_index"}
    if "in_index" in securities:
        in_index = [None if v is None or v != v else bool(v) for v in securities["in_index"].astype(object)]
    else:
        in_index = [None] * len(securities)
    rows = []
    for pos, symbol in enumerate(securities.index.astype(str)):
        data = {c: col[pos] for c, col in columns.items() if col[pos] is not None}
        rows.append({"snapshot_id": snapshot_id, "symbol": symbol, "in_index": in_index[pos], "data": data})
    return rows, sum(1 for v in in_index if v)


# Blob codecs: "frame1.zlib" = zlib(codec.encode_frame(...)); "series1" = codec.encode_series
# (which compresses its own dates and leaves the closes raw).
FRAME_CODEC = "frame1.zlib"
SERIES_CODEC = "series1"


def _store_payload(codec_name: str, raw: bytes) -> bytes:
    return codec.compress(raw) if codec_name.endswith(".zlib") else raw


def _load_payload(codec_name: str, payload: bytes) -> bytes:
    return codec.decompress(payload) if codec_name.endswith(".zlib") else payload


def _insert_blobs(session: Session, parts: list[tuple[str, str, str, bytes, int]], snapshot_id: int) -> None:
    """Store parts ``(kind, symbol, codec_name, raw_bytes, n_rows)``, each distinct blob once."""
    digests = [hashlib.sha256(raw).hexdigest() for _, _, _, raw, _ in parts]
    existing: set[str] = set()
    unique = sorted(set(digests))
    for i in range(0, len(unique), _CHUNK):
        chunk = unique[i:i + _CHUNK]
        existing.update(session.scalars(sa.select(Blob.digest).where(Blob.digest.in_(chunk))))
    new_blobs: dict[str, dict[str, Any]] = {}
    for (_, _, codec_name, raw, _), digest in zip(parts, digests, strict=True):
        if digest not in existing and digest not in new_blobs:
            new_blobs[digest] = {"digest": digest, "codec": codec_name, "raw_size": len(raw),
                                 "payload": _store_payload(codec_name, raw)}
    if new_blobs:
        dialect = session.get_bind().dialect.name
        # Another writer (PostgreSQL) may insert the same content concurrently: that is fine.
        if dialect == "postgresql":
            from sqlalchemy.dialects import postgresql  # here, not at import: ~25 ms of start-up

            insert: Any = postgresql.insert(Blob)
        elif dialect == "sqlite":
            from sqlalchemy.dialects import sqlite

            insert = sqlite.insert(Blob)
        else:
            insert = sa.insert(Blob)
        if hasattr(insert, "on_conflict_do_nothing"):
            insert = insert.on_conflict_do_nothing(index_elements=["digest"])
        values = list(new_blobs.values())
        for i in range(0, len(values), _CHUNK):
            session.execute(insert, values[i:i + _CHUNK])
    # The checksum is of the bytes as stored, so a flipped byte is caught before decompressing.
    checksums: dict[str, str] = {}
    for (_, _, codec_name, raw, _), digest in zip(parts, digests, strict=True):
        if digest not in checksums:
            payload = new_blobs[digest]["payload"] if digest in new_blobs else _store_payload(codec_name, raw)
            checksums[digest] = hashlib.sha256(payload).hexdigest()
    rows = [{"snapshot_id": snapshot_id, "kind": kind, "symbol": symbol, "digest": digest, "n_rows": n,
             "checksum": checksums[digest]}
            for (kind, symbol, _, _, n), digest in zip(parts, digests, strict=True)]
    for i in range(0, len(rows), _CHUNK):
        session.execute(sa.insert(SnapshotPart), rows[i:i + _CHUNK])


def _price_parts(prices: pd.DataFrame) -> list[tuple[str, str, str, bytes, int]]:
    if prices.columns.has_duplicates:
        raise StoreError("cannot save prices with duplicate symbol columns")
    parts = [("prices_index", "", FRAME_CODEC, codec.encode_frame(pd.DataFrame(index=prices.index)), len(prices))]
    dates = prices.index.to_numpy()
    matrix = prices.to_numpy(dtype=np.float64, na_value=np.nan) if len(prices.columns) else None
    for j, symbol in enumerate(prices.columns):
        assert matrix is not None
        column = matrix[:, j]
        present = ~np.isnan(column)
        parts.append(("prices", str(symbol), SERIES_CODEC,
                      codec.encode_series(dates[present], column[present]), int(present.sum())))
    return parts


def save_snapshot(session: Session, dataset: Dataset, summary: dict[str, Any]) -> int:
    """Store ``dataset`` as a new immutable snapshot and return its id.

    Args:
        session: an open session; the caller commits (``Database.session()`` does on exit).
        dataset: the canonical dataset; ``securities`` must be indexed by unique symbols.
        summary: the import/refresh summary shown with the snapshot (free-form JSON-able dict).
    """
    begin_write(session)
    securities = dataset.securities
    index_dtype = str(securities.index.dtype)
    schema = [[_INDEX_KEY, index_dtype]] + [[str(c), str(securities[c].dtype)] for c in securities.columns]
    snapshot = Snapshot(
        as_of=pd.Timestamp(dataset.as_of).date(),
        created_at=utcnow(),
        sources=codec.jsonable(list(dataset.sources)),
        summary=codec.jsonable(dict(summary)),
        securities_schema=schema,
        n_securities=len(securities),
        n_members=0,
    )
    session.add(snapshot)
    session.flush()
    rows, n_members = _securities_rows(snapshot.id, securities)
    snapshot.n_members = n_members
    snapshot.securities_checksum = _insert_securities(session, rows)
    parts: list[tuple[str, str, str, bytes, int]] = [
        ("history", "", FRAME_CODEC, codec.encode_frame(dataset.history), len(dataset.history)),
        ("market", "", FRAME_CODEC, codec.encode_frame(dataset.market), len(dataset.market)),
        ("provenance", "", FRAME_CODEC, codec.encode_frame(dataset.provenance), len(dataset.provenance)),
    ]
    if len(dataset.volumes.columns):  # issue #16; snapshots without volumes have no such part
        parts.append(("volumes", "", FRAME_CODEC, codec.encode_frame(dataset.volumes), len(dataset.volumes)))
    parts.extend(_price_parts(dataset.prices))
    snapshot.n_parts = len(parts)
    _insert_blobs(session, parts, snapshot.id)
    session.flush()
    return snapshot.id


# --- reading --------------------------------------------------------------------------------


def _info(row: Snapshot) -> SnapshotInfo:
    return SnapshotInfo(id=row.id, as_of=row.as_of, created_at=row.created_at,
                        sources=tuple(_restore_source(s) for s in row.sources or ()),
                        summary=dict(row.summary or {}), n_members=row.n_members,
                        n_securities=row.n_securities)


def _restore_source(source: dict[str, Any]) -> dict[str, Any]:
    """Dates in ``sources`` were saved as ISO text; give them back as date / datetime."""
    out = dict(source)
    for key, kind in (("as_of", "date"), ("fetched_at", "datetime")):
        value = out.get(key)
        if isinstance(value, str):
            try:
                stamp = pd.Timestamp(value)
            except ValueError:
                continue
            out[key] = stamp.date() if kind == "date" else stamp.to_pydatetime()
    return out


def list_snapshots(session: Session) -> list[SnapshotInfo]:
    """Every snapshot, newest data first (as-of date, then creation).

    A snapshot whose description no longer decodes is listed with ``summary["damaged"]`` saying
    so (and no sources) rather than hiding the others; loading it raises DamagedSnapshotError.
    """
    query = sa.select(Snapshot).order_by(Snapshot.as_of.desc(), Snapshot.id.desc())
    try:
        return [_info(r) for r in session.scalars(query)]
    except (ValueError, TypeError, RecursionError):
        pass
    out: list[SnapshotInfo] = []
    ids = session.execute(sa.select(Snapshot.id, sa.type_coerce(Snapshot.as_of, sa.Text))
                          .order_by(Snapshot.as_of.desc(), Snapshot.id.desc())).all()
    for snapshot_id, as_of_text in ids:
        try:
            out.append(_info(_snapshot_row(session, snapshot_id)))
        except DamagedSnapshotError as error:
            log.warning("%s", error)
            try:
                as_of = date.fromisoformat(str(as_of_text)[:10])
            except ValueError:
                continue  # not even its date is readable: loading it by id still says why
            out.append(SnapshotInfo(id=snapshot_id, as_of=as_of, created_at=datetime(1970, 1, 1),
                                    sources=(), summary={"damaged": error.message}))
    return out


def latest_snapshot_id(session: Session) -> int | None:
    """The snapshot with the newest as-of date (the most recently created among equals)."""
    return session.scalar(sa.select(Snapshot.id).order_by(Snapshot.as_of.desc(), Snapshot.id.desc()).limit(1))


def _snapshot_row(session: Session, snapshot_id: int) -> Snapshot:
    """The ORM row of a snapshot; a row whose JSON or date columns do not decode is damaged."""
    try:
        row = session.get(Snapshot, snapshot_id)
    except (ValueError, TypeError, RecursionError) as error:  # JSON / date columns that do not decode
        raise _damaged(session, snapshot_id, f"its description cannot be read ({error})") from error
    if row is None:
        raise NotFoundError(f"There is no snapshot {snapshot_id}.", hint="See: pickaxe-cli snapshots list")
    return row


def get_snapshot(session: Session, snapshot_id: int) -> SnapshotInfo:
    return _info(_snapshot_row(session, snapshot_id))


def resolve_snapshot(session: Session, ref: str | int | None) -> int:
    """A snapshot id from a user's reference: an id ("12"), a date ("2026-05-05": the latest
    snapshot with that as-of date), "latest" or None (the latest snapshot).

    Raises:
        NotFoundError: no such snapshot (or no snapshot at all).
    """
    text = str(ref).strip() if ref is not None else "latest"
    if text.lower() == "latest":
        found = latest_snapshot_id(session)
        if found is None:
            raise NotFoundError("There are no snapshots yet.", hint="Import a holdings file or refresh first.")
        return found
    if text.isdigit():
        return get_snapshot(session, int(text)).id
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise StoreError(f"{text!r} is neither a snapshot number nor a date (YYYY-MM-DD).") from None
    found = session.scalar(sa.select(Snapshot.id).where(Snapshot.as_of == day)
                           .order_by(Snapshot.id.desc()).limit(1))
    if found is None:
        raise NotFoundError(f"There is no snapshot as of {day.isoformat()}.",
                            hint="See: pickaxe-cli snapshots list")
    return found


def _decode_column(values: list[Any], dtype_name: str) -> Any:
    try:
        dtype = pd.api.types.pandas_dtype(dtype_name)
    except TypeError:
        dtype = np.dtype(object)
    if isinstance(dtype, np.dtype):
        if dtype.kind == "f":
            return np.array(values, dtype=dtype)  # None -> NaN
        if dtype.kind in "iub":
            if any(v is None for v in values):  # cannot happen for frames we saved; stay lossless
                return np.array(values, dtype=object)
            return np.array(values, dtype=dtype)
        if dtype.kind == "M":
            return pd.to_datetime(pd.Series(values, dtype=object), format="ISO8601").to_numpy().astype(dtype)
        return np.array([codec.from_json(v) for v in values], dtype=object)
    restored = [codec.from_json(v) for v in values]
    if isinstance(dtype, pd.CategoricalDtype):
        return pd.Categorical(restored)
    return pd.array(restored, dtype=cast(Any, dtype))


def _load_securities(session: Session, snapshot: Snapshot) -> pd.DataFrame:
    table = SnapshotSecurity.__table__
    # Core select (no ORM identity map), `data` fetched as text and decoded in ONE json.loads call:
    # half the cost of decoding 2,000 documents one by one. CAST: PostgreSQL then sends the stored
    # text too (psycopg would decode a json column itself), which the checksum is over.
    result = session.execute(
        sa.select(table.c.symbol, table.c.in_index, sa.cast(table.c.data, sa.Text))
        .where(table.c.snapshot_id == snapshot.id).order_by(table.c.symbol))
    # Sorted here, not only in SQL: PostgreSQL orders text by its locale's collation.
    rows = sorted(result.all(), key=lambda r: str(r[0]))
    symbols = [r[0] for r in rows]
    texts = [r[2] for r in rows]
    try:
        if all(isinstance(t, str) for t in texts):
            datas: list[dict[str, Any]] = json.loads("[" + ",".join(texts) + "]")
        else:
            datas = [json.loads(t) if isinstance(t, str | bytes) else t for t in texts]
    except (ValueError, RecursionError):
        bad = next((r[0] for r in rows if not _is_json(r[2])), "?")
        raise DamagedSnapshotError(snapshot.id, snapshot.as_of,
                                   f"the stored values of {bad} are not valid JSON") from None
    if not all(isinstance(d, dict) for d in datas):
        bad = next(r[0] for r, d in zip(rows, datas, strict=True) if not isinstance(d, dict))
        raise DamagedSnapshotError(snapshot.id, snapshot.as_of, f"the stored values of {bad} are not an object")
    if snapshot.securities_checksum is not None:
        actual = _securities_checksum((r[0], r[1], r[2]) for r in rows)
        if actual != snapshot.securities_checksum:
            raise DamagedSnapshotError(snapshot.id, snapshot.as_of,
                                       "its securities rows do not match their checksum")
    if len(rows) != snapshot.n_securities:
        raise DamagedSnapshotError(snapshot.id, snapshot.as_of,
                                   f"it holds {len(rows)} securities rows, {snapshot.n_securities} were saved")
    schema = snapshot.securities_schema
    index_dtype = next((d for c, d in schema if c == _INDEX_KEY), "object")
    columns: dict[str, Any] = {}
    for name, dtype_name in schema:
        if name == _INDEX_KEY:
            continue
        if name == "in_index":
            values = [r[1] for r in rows]
        else:
            values = [d.get(name) for d in datas]
        columns[name] = _decode_column(values, dtype_name)
    index = pd.Index(_decode_column(symbols, index_dtype), name=KEY, dtype=None if index_dtype != "object"
                     else object)
    return codec.frame_from_arrays(columns, index)


def _is_json(text: Any) -> bool:
    if not isinstance(text, str | bytes):
        return True
    try:
        json.loads(text)
    except (ValueError, RecursionError):
        return False
    return True


def _damaged(session: Session, snapshot_id: int, what: str) -> DamagedSnapshotError:
    as_of = session.scalar(sa.select(sa.type_coerce(Snapshot.as_of, sa.Text)).where(Snapshot.id == snapshot_id))
    return DamagedSnapshotError(snapshot_id, as_of or "unknown date", what)


def _part_name(kind: str, symbol: str) -> str:
    return f"the {kind} part" if not symbol else f"the {kind} part of {symbol}"


def _check_part(session: Session, snapshot_id: int, kind: str, symbol: str, codec_name: str,
                payload: bytes, digest: str, checksum: str | None) -> bytes:
    """The decoded bytes of one part, after checking them (see the module docstring)."""
    if checksum is not None and hashlib.sha256(payload).hexdigest() != checksum:
        raise _damaged(session, snapshot_id, f"{_part_name(kind, symbol)} does not match its checksum")
    try:
        raw = _load_payload(codec_name, payload)
    except codec.CodecError as error:
        raise _damaged(session, snapshot_id, f"{_part_name(kind, symbol)} cannot be read ({error})") from error
    if checksum is None and hashlib.sha256(raw).hexdigest() != digest:  # saved before 0003
        raise _damaged(session, snapshot_id, f"{_part_name(kind, symbol)} does not match its content address")
    return raw


def _decoded(session: Session, snapshot_id: int, kind: str, symbol: str, decode: Any, raw: bytes) -> Any:
    """``decode(raw)``; anything a damaged part makes the decoder raise becomes DamagedSnapshotError."""
    try:
        return decode(raw)
    except (codec.CodecError, ValueError, KeyError, IndexError, TypeError, StopIteration,
            RecursionError, OverflowError, MemoryError) as error:
        raise _damaged(session, snapshot_id, f"{_part_name(kind, symbol)} cannot be decoded ({error})") from error


def verify_parts(session: Session, snapshot: Snapshot) -> None:
    """Check that every part written with ``snapshot`` is still there (without reading them).

    Raises:
        DamagedSnapshotError: a part row is missing (or more are present than were written).
    """
    rows = session.execute(sa.select(SnapshotPart.kind, sa.func.count()).where(
        SnapshotPart.snapshot_id == snapshot.id).group_by(SnapshotPart.kind)).all()
    if snapshot.n_parts is None:
        return  # saved before schema 0003: no record of its parts (they are checked as they load)
    counts = {kind: int(n) for kind, n in rows}
    missing = [kind for kind in _REQUIRED_PARTS if kind not in counts]
    if missing:
        raise DamagedSnapshotError(snapshot.id, snapshot.as_of,
                                   f"its {', '.join(missing)} part{'s are' if len(missing) > 1 else ' is'} missing")
    total = sum(counts.values())
    if total != snapshot.n_parts:
        raise DamagedSnapshotError(snapshot.id, snapshot.as_of,
                                   f"it has {total} stored parts, {snapshot.n_parts} were saved")


def _blob_bytes(session: Session, snapshot_id: int, kinds: Iterable[str],
                symbols: list[str] | None = None) -> list[tuple[str, str, bytes]]:
    """Raw (decompressed) bytes of a snapshot's parts: ``[(kind, symbol, raw), ...]``."""
    query = (sa.select(SnapshotPart.kind, SnapshotPart.symbol, Blob.codec, Blob.payload, Blob.digest,
                       SnapshotPart.checksum)
             .join(Blob, Blob.digest == SnapshotPart.digest)
             .where(SnapshotPart.snapshot_id == snapshot_id, SnapshotPart.kind.in_(list(kinds))))
    queries = [query] if symbols is None else [
        query.where(SnapshotPart.symbol.in_(symbols[i:i + _CHUNK])) for i in range(0, len(symbols), _CHUNK)]
    out: list[tuple[str, str, bytes]] = []
    for q in queries:
        out.extend((k, s, _check_part(session, snapshot_id, k, s, c, p, d, x))
                   for k, s, c, p, d, x in session.execute(q))
    return out


def _frame_part(session: Session, snapshot_id: int, kind: str, default: pd.DataFrame) -> pd.DataFrame:
    parts = _blob_bytes(session, snapshot_id, [kind])
    return _decoded(session, snapshot_id, kind, "", codec.decode_frame, parts[0][2]) if parts else default


def _price_index(session: Session, snapshot_id: int) -> pd.Index | None:
    parts = _blob_bytes(session, snapshot_id, ["prices_index"])
    return _decoded(session, snapshot_id, "prices_index", "", codec.decode_frame, parts[0][2]).index if parts else None


def load_price_dates(session: Session, snapshot_id: int) -> pd.DatetimeIndex:
    """Every trading day of the snapshot's daily closes (the index of :func:`load_prices`)."""
    index = _price_index(session, snapshot_id)
    return pd.DatetimeIndex(empty_series_frame().index if index is None else index)


def load_prices(session: Session, snapshot_id: int, symbols: list[str] | None = None, *,
                since: Any = None) -> pd.DataFrame:
    """Daily closes of a snapshot (all symbols, or just ``symbols``), columns sorted by symbol.

    ``since`` (a date) keeps only the days from it on: the metrics read two years of closes, and
    a real snapshot's price dates span ~25 years (~100 MB for 2,000 stocks, issue #17). Every part
    read is checked as a whole either way.
    """
    full_index = _price_index(session, snapshot_id)
    if full_index is None:
        return empty_series_frame()
    first_day = None
    if since is not None:
        first_day = np.datetime64(pd.Timestamp(since).date(), "D")
        full_index = full_index[full_index.to_numpy().astype("datetime64[D]") >= first_day]
    series = _blob_bytes(session, snapshot_id, ["prices"], symbols)
    series.sort(key=lambda part: part[1])
    days_index = full_index.to_numpy().astype("datetime64[D]")
    # One row per symbol, C-contiguous: its transpose is exactly the block pandas keeps for a
    # float frame, so the DataFrame below wraps it without copying (~100 MB for real data).
    matrix = np.full((len(series), len(full_index)), np.nan)
    for j, (_, symbol, raw) in enumerate(series):
        days, values = _decoded(session, snapshot_id, "prices", symbol, codec.decode_series, raw)
        if len(days) != len(values):
            raise _damaged(session, snapshot_id, f"{_part_name('prices', symbol)} is cut short")
        if first_day is not None:
            keep = int(np.searchsorted(days, first_day))
            days, values = days[keep:], values[keep:]
        if not len(days):
            continue
        start = int(np.searchsorted(days_index, days[0]))
        stop = start + len(days)
        if stop <= len(days_index) and days_index[stop - 1] == days[-1]:
            matrix[j, start:stop] = values  # contiguous run of trading days (the usual case)
        else:
            positions = np.searchsorted(days_index, days)
            if (positions >= len(days_index)).any() or (days_index[np.minimum(positions, len(days_index) - 1)]
                                                        != days).any():
                raise _damaged(session, snapshot_id, f"{_part_name('prices', symbol)} has dates outside "
                                                     "the snapshot's price dates")
            matrix[j, positions] = values
    return pd.DataFrame(matrix.T, index=full_index, columns=pd.Index([s for _, s, _ in series]), copy=False)


def load_market(session: Session, snapshot_id: int) -> pd.DataFrame:
    """The snapshot's market series (IWM, SPY, the 10-year yield...), without the rest."""
    return _frame_part(session, snapshot_id, "market", empty_series_frame())


def price_coverage(session: Session, snapshot_id: int) -> tuple[int, int]:
    """(symbols with stored closes, trading days in the price index) of a snapshot."""
    n_symbols = session.scalar(sa.select(sa.func.count()).select_from(SnapshotPart).where(
        SnapshotPart.snapshot_id == snapshot_id, SnapshotPart.kind == "prices", SnapshotPart.n_rows > 0))
    days = session.scalar(sa.select(SnapshotPart.n_rows).where(
        SnapshotPart.snapshot_id == snapshot_id, SnapshotPart.kind == "prices_index"))
    return int(n_symbols or 0), int(days or 0)


def load_provenance(session: Session, snapshot_id: int, symbols: list[str] | None = None,
                    *, chosen_only: bool = False) -> pd.DataFrame:
    """The snapshot's provenance rows (``dataset.PROVENANCE_COLUMNS``), optionally filtered."""
    frame = _frame_part(session, snapshot_id, "provenance", empty_provenance())
    if symbols is not None and "symbol" in frame:
        frame = frame[frame["symbol"].isin(symbols)]
    if chosen_only and "chosen" in frame:
        frame = frame[frame["chosen"].astype(bool)]
    return frame.reset_index(drop=True) if (symbols is not None or chosen_only) else frame


def load_dataset(session: Session, snapshot_id: int | None = None, *, with_prices: bool = True,
                 with_provenance: bool = True, prices_since: Any = None) -> Dataset:
    """Rebuild the :class:`Dataset` of a snapshot (None = the latest).

    Args:
        with_prices: False leaves ``prices`` empty (the screen needs no daily closes).
        prices_since: a date: daily closes only from it on (see :func:`load_prices`).
        with_provenance: False leaves ``provenance`` empty; fetch it later with
            :func:`load_provenance`.

    Raises:
        NotFoundError: no such snapshot, or no snapshot at all.
    """
    if snapshot_id is None:
        snapshot_id = resolve_snapshot(session, "latest")
    snapshot = _snapshot_row(session, snapshot_id)
    verify_parts(session, snapshot)
    wanted = ["history", "market"] + (["provenance"] if with_provenance else []) + (["volumes"] if with_prices else [])
    frames = {kind: _decoded(session, snapshot_id, kind, "", codec.decode_frame, raw)
              for kind, _, raw in _blob_bytes(session, snapshot_id, wanted)}
    return Dataset(
        as_of=snapshot.as_of,
        securities=_load_securities(session, snapshot),
        # A snapshot saved by an older Pickaxe lacks the statement lines added since: they are NaN.
        history=_with_all_lines(frames["history"]) if "history" in frames else empty_history(),
        prices=load_prices(session, snapshot_id, since=prices_since) if with_prices else empty_series_frame(),
        market=frames.get("market", empty_series_frame()),
        provenance=frames.get("provenance", empty_provenance()) if with_provenance else empty_provenance(),
        sources=_info(snapshot).sources,
        volumes=_since(frames.get("volumes", empty_series_frame()), prices_since),
    )


def _with_all_lines(history: pd.DataFrame) -> pd.DataFrame:
    """``history`` as stored, normalised only when it lacks columns (an older snapshot): exact otherwise."""
    return history if set(HISTORY_COLUMNS) <= set(history.columns) else history_frame(history)


def index_members(session: Session, snapshot_id: int) -> frozenset[str]:
    """The symbols a snapshot lists as index members (its securities checked as for a load)."""
    securities = _load_securities(session, _snapshot_row(session, snapshot_id))
    if "in_index" not in securities:
        return frozenset()
    flags = securities["in_index"].astype(object)
    return frozenset(str(s) for s, member in zip(securities.index, flags, strict=True)
                     if member is not None and member == member and bool(member))


def _since(frame: pd.DataFrame, day: Any) -> pd.DataFrame:
    """The rows of a daily frame from ``day`` on (all of them when ``day`` is None)."""
    return frame if day is None or not len(frame) else frame.loc[pd.DatetimeIndex(frame.index) >= pd.Timestamp(day)]


# --- deleting -------------------------------------------------------------------------------


def delete_snapshot(session: Session, snapshot_id: int) -> None:
    """Delete one snapshot and the stored parts no other snapshot shares. Runs made on it keep
    their ranked tickers (their snapshot id becomes empty; the as-of date stays)."""
    from desktop.store.models import ScreenRun

    begin_write(session)
    if session.get(Snapshot, snapshot_id) is None:
        raise NotFoundError(f"There is no snapshot {snapshot_id}.", hint="See: pickaxe-cli snapshots list")
    session.execute(sa.update(ScreenRun).where(ScreenRun.snapshot_id == snapshot_id).values(snapshot_id=None))
    session.execute(sa.delete(SnapshotPart).where(SnapshotPart.snapshot_id == snapshot_id))
    session.execute(sa.delete(SnapshotSecurity).where(SnapshotSecurity.snapshot_id == snapshot_id))
    session.execute(sa.delete(Snapshot).where(Snapshot.id == snapshot_id))
    orphan = ~sa.exists().where(SnapshotPart.digest == Blob.digest)
    session.execute(sa.delete(Blob).where(orphan))
    session.expire_all()

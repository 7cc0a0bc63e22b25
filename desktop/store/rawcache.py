"""Per-ticker raw payloads of a refresh, so an interrupted refresh resumes where it stopped.

The refresh service calls :func:`put_raw` and commits after each ticker (one short transaction per
ticker: a crash loses at most the ticker in flight), asks :func:`fresh_symbols` which tickers it
can skip, and rebuilds the dataset from :func:`load_raw`. A payload is a JSON-able value (dict,
list, number), text, bytes, or a DataFrame with text column names; it is stored compressed and
comes back as the same kind of value. Re-putting (source, symbol, kind) replaces the entry.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.orm import Session

from desktop.store import codec
from desktop.store.db import begin_write
from desktop.store.models import RawPayload

_CHUNK = 500


@dataclass(frozen=True)
class RawEntry:
    source: str
    symbol: str
    kind: str
    payload: Any  # None when status is not "ok" and nothing was kept
    fetched_at: datetime  # naive UTC
    status: str  # "ok" | "nodata" | "error" | ... as the caller chose
    error: str | None


def _naive_utc(moment: datetime) -> datetime:
    if moment.tzinfo is not None:
        return pd.Timestamp(moment).tz_convert("UTC").tz_localize(None).to_pydatetime()
    return moment


def _encode(payload: Any) -> tuple[str, bytes | None]:
    if payload is None:
        return "none", None
    if isinstance(payload, pd.DataFrame):
        return "frame", codec.compress(codec.encode_frame(payload))
    if isinstance(payload, bytes):
        return "bytes", codec.compress(payload)
    if isinstance(payload, str):
        return "text", codec.compress(payload.encode("utf-8"))
    return "json", codec.compress(json.dumps(codec.jsonable(payload), allow_nan=False).encode("utf-8"))


def _decode(encoding: str, payload: bytes | None) -> Any:
    if encoding == "none" or payload is None:
        return None
    raw = codec.decompress(payload)
    if encoding == "frame":
        return codec.decode_frame(raw)
    if encoding == "bytes":
        return raw
    if encoding == "text":
        return raw.decode("utf-8")
    return json.loads(raw)


def put_raw(session: Session, source: str, symbol: str, kind: str, payload: Any, fetched_at: datetime,
            status: str = "ok", error: str | None = None) -> None:
    """Store (or replace) one raw payload. The caller commits, ideally once per ticker.

    Args:
        source: "yahoo", ...; kind: "info", "income_annual", ... (the caller's vocabulary).
        payload: dict/list/number (stored as JSON; NaN becomes null), str, bytes, DataFrame or None.
        fetched_at: when it was downloaded (aware datetimes are converted to naive UTC).
        status: "ok" for a usable payload; anything else (e.g. "nodata", "error") is recorded too,
            so a resumed refresh can decide whether to retry it.
    """
    begin_write(session)
    encoding, blob = _encode(payload)
    key = {"source": source, "symbol": symbol, "kind": kind}
    session.execute(sa.delete(RawPayload).filter_by(**key))
    session.execute(sa.insert(RawPayload).values(
        **key, encoding=encoding, payload=blob, fetched_at=_naive_utc(fetched_at), status=status, error=error))


def fresh_symbols(session: Session, source: str, kind: str, newer_than: datetime,
                  *, statuses: Iterable[str] = ("ok",)) -> set[str]:
    """Symbols with a ``kind`` payload fetched at or after ``newer_than`` with one of ``statuses``."""
    query = sa.select(RawPayload.symbol).where(
        RawPayload.source == source, RawPayload.kind == kind,
        RawPayload.fetched_at >= _naive_utc(newer_than), RawPayload.status.in_(list(statuses)))
    return set(session.scalars(query))


def load_raw(session: Session, source: str, kinds: Iterable[str] | str,
             symbols: Iterable[str] | None = None) -> dict[tuple[str, str], RawEntry]:
    """Cached entries keyed ``(symbol, kind)``, for the given kinds (and symbols, if given)."""
    kind_list = [kinds] if isinstance(kinds, str) else list(kinds)
    base = sa.select(RawPayload).where(RawPayload.source == source, RawPayload.kind.in_(kind_list))
    rows: list[RawPayload] = []
    if symbols is None:
        rows.extend(session.scalars(base))
    else:
        wanted = list(symbols)
        for i in range(0, len(wanted), _CHUNK):
            rows.extend(session.scalars(base.where(RawPayload.symbol.in_(wanted[i:i + _CHUNK]))))
    return {(r.symbol, r.kind): RawEntry(r.source, r.symbol, r.kind, _decode(r.encoding, r.payload),
                                         r.fetched_at, r.status, r.error) for r in rows}


def clear_raw(session: Session, source: str | None = None, older_than: datetime | None = None) -> int:
    """Delete cached payloads (all, one source's, or those fetched before ``older_than``)."""
    begin_write(session)
    query = sa.delete(RawPayload)
    if source is not None:
        query = query.where(RawPayload.source == source)
    if older_than is not None:
        query = query.where(RawPayload.fetched_at < _naive_utc(older_than))
    result = session.execute(query)
    return int(getattr(result, "rowcount", 0) or 0)

"""The watchlist: tickers the user pins, each with a note."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from desktop.errors import StoreError
from desktop.store.db import begin_write
from desktop.store.models import WatchItem
from desktop.store.snapshots import utcnow


@dataclass(frozen=True)
class WatchEntry:
    symbol: str
    note: str
    added_at: datetime  # naive UTC


def _clean(symbol: str) -> str:
    clean = symbol.strip().upper()
    if not clean or len(clean) > 32 or any(ch.isspace() for ch in clean):
        raise StoreError(f"{symbol!r} is not a ticker symbol.")
    return clean


def add(session: Session, symbol: str, note: str = "") -> WatchEntry:
    """Pin ``symbol`` (upper-cased). Adding a pinned ticker again replaces its note only when a
    note is given, and keeps its original date."""
    begin_write(session)
    key = _clean(symbol)
    item = session.get(WatchItem, key)
    if item is None:
        item = WatchItem(symbol=key, note=note, added_at=utcnow())
        session.add(item)
    elif note:
        item.note = note
    session.flush()
    return WatchEntry(item.symbol, item.note, item.added_at)


def set_note(session: Session, symbol: str, note: str) -> bool:
    """Replace the note of a pinned ticker ("" clears it); False when it is not on the watchlist."""
    begin_write(session)
    item = session.get(WatchItem, _clean(symbol))
    if item is None:
        return False
    item.note = note
    session.flush()
    return True


def remove(session: Session, symbol: str) -> bool:
    """Unpin ``symbol``; False when it was not on the watchlist."""
    begin_write(session)
    result = session.execute(sa.delete(WatchItem).where(WatchItem.symbol == _clean(symbol)))
    session.expire_all()
    return bool(getattr(result, "rowcount", 0))


def list_watchlist(session: Session) -> list[WatchEntry]:
    """Every pinned ticker, alphabetically."""
    rows = session.scalars(sa.select(WatchItem).order_by(WatchItem.symbol))
    return [WatchEntry(r.symbol, r.note, r.added_at) for r in rows]


def symbols(session: Session) -> set[str]:
    return set(session.scalars(sa.select(WatchItem.symbol)))

"""The watchlist."""

from __future__ import annotations

import pytest

from desktop.errors import StoreError
from desktop.store import watchlist
from desktop.store.db import Database


def test_add_list_remove(db: Database) -> None:
    with db.session() as s:
        watchlist.add(s, "zqa", "check the debt maturities")
        watchlist.add(s, "MOG-A")
        first = watchlist.add(s, "ZQA")  # again without a note: note kept
    assert first.note == "check the debt maturities"
    with db.session() as s:
        watchlist.add(s, "ZQA", "new note")
        assert [(w.symbol, w.note) for w in watchlist.list_watchlist(s)] == [
            ("MOG-A", ""), ("ZQA", "new note")]
        assert watchlist.remove(s, "zqa") is True
        assert watchlist.remove(s, "ZQA") is False
        assert watchlist.symbols(s) == {"MOG-A"}
        with pytest.raises(StoreError, match="not a ticker"):
            watchlist.add(s, "two words")


def test_set_note_replaces_and_clears(db: Database) -> None:
    with db.session() as s:
        watchlist.add(s, "ZQA", "first")
        assert watchlist.set_note(s, "zqa", "") is True  # a note can be cleared, which add() cannot do
        assert watchlist.set_note(s, "NOPE", "x") is False
    with db.session() as s:
        assert [(w.symbol, w.note) for w in watchlist.list_watchlist(s)] == [("ZQA", "")]

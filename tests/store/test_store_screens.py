"""Saved screens: versions on every save, history, restore, delete, diff of definitions."""

from __future__ import annotations

import pytest

from desktop.errors import StoreError
from desktop.store import screens
from desktop.store.db import Database, NotFoundError

V1 = {"version": 1, "name": "Cash survivors", "criteria": [{"field": "free_cash_flow", "min": 0}]}
V2 = {"version": 1, "name": "Cash survivors", "criteria": [{"field": "free_cash_flow", "min": 1e6},
                                                          {"field": "market_cap", "max": 2e9}]}


def test_every_save_keeps_the_previous_version(db: Database) -> None:
    with db.session() as s:
        assert screens.save_screen(s, "Cash survivors", V1, "first") == 1
        assert screens.save_screen(s, "Cash survivors", V2, "tighter") == 2
        assert screens.save_screen(s, "Cash survivors", V2, "tighter") == 2  # unchanged: no version
        assert screens.save_screen(s, "Cash survivors", V2, "new words") == 3
    with db.session() as s:
        current = screens.get_screen(s, "Cash survivors")
        assert (current.version, current.definition, current.description) == (3, V2, "new words")
        assert current.is_current
        first = screens.get_screen(s, "Cash survivors", 1)
        assert (first.definition, first.description, first.is_current) == (V1, "first", False)
        assert [h.version for h in screens.screen_history(s, "Cash survivors")] == [1, 2, 3]


def test_restore_adds_a_version(db: Database) -> None:
    with db.session() as s:
        screens.save_screen(s, "S", V1)
        screens.save_screen(s, "S", V2)
        assert screens.restore_screen(s, "S", 1) == 3
    with db.session() as s:
        restored = screens.get_screen(s, "S")
        assert restored.definition == V1 and restored.restored_from == 1
        assert len(screens.screen_history(s, "S")) == 3
        with pytest.raises(NotFoundError, match="no version 7"):
            screens.restore_screen(s, "S", 7)


def test_list_and_delete(db: Database) -> None:
    with db.session() as s:
        screens.save_screen(s, "Beta", V1)
        screens.save_screen(s, "Alpha", V1)
        screens.save_screen(s, "Alpha", V2)
    with db.session() as s:
        listed = screens.list_screens(s)
        assert [(x.name, x.version) for x in listed] == [("Alpha", 2), ("Beta", 1)]
        screens.delete_screen(s, "Alpha")
    with db.session() as s:
        assert [x.name for x in screens.list_screens(s)] == ["Beta"]
        assert not screens.screen_exists(s, "Alpha")
        with pytest.raises(NotFoundError, match="no saved screen named 'Alpha'"):
            screens.get_screen(s, "Alpha")
        with pytest.raises(NotFoundError):
            screens.delete_screen(s, "Alpha")
    with db.session() as s:  # a deleted name can be reused and starts again at version 1
        assert screens.save_screen(s, "Alpha", V1) == 1


def test_names_and_definitions_are_checked(db: Database) -> None:
    with db.session() as s:
        with pytest.raises(StoreError, match="needs a name"):
            screens.save_screen(s, "   ", V1)
        with pytest.raises(StoreError, match="at most"):
            screens.save_screen(s, "x" * 201, V1)
        assert screens.save_screen(s, "  Padded  ", V1) == 1
        assert screens.get_screen(s, "Padded").name == "Padded"


def test_definitions_with_nan_and_unicode_survive(db: Database) -> None:
    doc = {"version": 1, "name": "Ünïcode 株", "criteria": [{"field": "beta", "max": float("nan")}]}
    with db.session() as s:
        screens.save_screen(s, "Ünïcode 株", doc)
    with db.session() as s:
        got = screens.get_screen(s, "Ünïcode 株").definition
    assert got == {"version": 1, "name": "Ünïcode 株", "criteria": [{"field": "beta", "max": None}]}


def test_diff_definitions() -> None:
    lines = screens.diff_definitions(V1, V2)
    assert lines == ["criteria[0].min: 0 -> 1000000.0",
                     'criteria[1]: added {"field": "market_cap", "max": 2000000000.0}']
    assert screens.diff_definitions(V2, V1)[-1].startswith("criteria[1]: removed")
    assert screens.diff_definitions(V1, V1) == []
    assert screens.diff_definitions({"a": 1}, {"b": 1}) == ["a: removed (was 1)", "b: added 1"]

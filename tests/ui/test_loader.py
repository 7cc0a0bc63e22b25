"""The store loader on its own (issue #17): the store opened after the loading page's first paint,
snapshots read on one worker, and a newer read replacing an older one."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from desktop.services import screening
from desktop.ui.backend import Backend
from desktop.ui.loader import Loaded, Opened, StoreLoader, store_name
from desktop.ui.widgets import LoadingState
from desktop.ui.workers import read_pool

pytestmark = pytest.mark.qt_log_ignore("This plugin does not support")


def _loader(qtbot: Any, url: str | None) -> tuple[StoreLoader, dict[str, list[Any]]]:
    loader = StoreLoader(url)  # no parent: it lives as long as the test holds it
    seen: dict[str, list[Any]] = {"opened": [], "open_failed": [], "loaded": [], "load_failed": []}
    for name, got in seen.items():
        getattr(loader, name).connect(got.append)
    return loader, seen


def test_a_hidden_page_opens_the_store_at_once_and_only_once(qtbot: Any, store_path: Path) -> None:
    loader, seen = _loader(qtbot, str(store_path))
    page = LoadingState()
    qtbot.addWidget(page)
    loader.open_after_paint(page, visible=False)
    loader.open()  # a second request (the fallback timer, a late paint) opens nothing more
    qtbot.waitUntil(lambda: bool(seen["opened"]), timeout=20000)
    qtbot.wait(50)
    assert len(seen["opened"]) == 1 and not seen["open_failed"] and not loader.is_busy()
    opened = seen["opened"][0]
    assert isinstance(opened, Opened) and [i.as_of.isoformat() for i in opened.infos] == ["2026-04-30"]
    opened.backend.close()


def test_a_visible_page_waits_for_its_first_paint(qtbot: Any, store_path: Path) -> None:
    loader, seen = _loader(qtbot, str(store_path))
    page = LoadingState()
    qtbot.addWidget(page)
    page.opening(store_name(str(store_path)))
    loader.open_after_paint(page, visible=True)
    assert not loader.is_busy()  # nothing opened before the page is painted
    page.show()
    qtbot.waitUntil(lambda: bool(seen["opened"]), timeout=20000)
    assert page.was_painted
    seen["opened"][0].backend.close()


def test_a_store_that_cannot_be_opened_is_reported(qtbot: Any, tmp_path: Path) -> None:
    path = tmp_path / "damaged.sqlite3"
    path.write_bytes(b"not a database " * 300)
    loader, seen = _loader(qtbot, str(path))
    loader.open()
    qtbot.waitUntil(lambda: bool(seen["open_failed"]), timeout=20000)
    assert not seen["opened"] and "cannot" in str(seen["open_failed"][0]).lower()


def test_a_snapshot_is_read_with_its_coverage_and_the_watchlist(qtbot: Any, store_path: Path) -> None:
    backend = Backend(str(store_path))
    try:
        backend.set_pinned("ALFA", True)
        loader, seen = _loader(qtbot, str(store_path))
        loader.load(backend, None)
        qtbot.waitUntil(lambda: bool(seen["loaded"]), timeout=20000)
        loaded = seen["loaded"][0]
        assert isinstance(loaded, Loaded) and loaded.pinned == frozenset({"ALFA"})
        table = loaded.bundle.table
        assert set(loaded.coverage) == set(table.values.columns)  # every field, text ones too
        some = next(iter(loaded.coverage.values()))
        assert some.total == len(table.values)
    finally:
        read_pool().waitForDone(5000)
        backend.close()


def test_a_newer_read_replaces_one_in_flight(qtbot: Any, two_snapshot_store: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    release = threading.Event()
    load_table = screening.load_table

    def slow_first(db: Any, snapshot: Any = None, **kwargs: Any) -> Any:
        if snapshot == first_id:
            assert release.wait(20)
        return load_table(db, snapshot, **kwargs)

    monkeypatch.setattr(screening, "load_table", slow_first)
    backend = Backend(str(two_snapshot_store))
    try:
        first_id, second_id = sorted(int(i.id) for i in backend.snapshots())
        loader, seen = _loader(qtbot, str(two_snapshot_store))
        loader.load(backend, first_id)
        loader.load(backend, second_id)
        qtbot.waitUntil(lambda: bool(seen["loaded"]), timeout=20000)
        release.set()
        read_pool().waitForDone(10000)
        qtbot.wait(50)  # the first read's late result must not land
        assert [int(x.bundle.info.id) for x in seen["loaded"]] == [second_id]
    finally:
        release.set()
        read_pool().waitForDone(5000)
        backend.close()


def test_a_failed_read_is_reported(qtbot: Any, store_path: Path) -> None:
    backend = Backend(str(store_path))
    try:
        loader, seen = _loader(qtbot, str(store_path))
        loader.load(backend, 999)
        qtbot.waitUntil(lambda: bool(seen["load_failed"]), timeout=20000)
        assert not seen["loaded"] and "999" in str(seen["load_failed"][0])
    finally:
        read_pool().waitForDone(5000)
        backend.close()


def test_the_store_is_named_without_its_password() -> None:
    assert store_name("postgresql+psycopg://me:secret@db.example:5432/pickaxe") == \
        "postgresql+psycopg://db.example:5432/pickaxe"
    assert store_name("/tmp/x.sqlite3").endswith("x.sqlite3")

"""The snapshot list on its own (issue #17): the picker, and snapshots made outside the window."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QComboBox, QWidget

from desktop.errors import StoreError
from desktop.ui.backend import Backend
from desktop.ui.snapshot_list import SNAPSHOT_POLL_MS, SnapshotList
from desktop.ui.widgets import Banner
from tests.ui.conftest import make_dataset, save_fixture_snapshot


class _Parts:
    """A controller with the widgets it is given, and what it asked for."""

    def __init__(self, qtbot: Any, backend: Backend | None, ready: bool = True) -> None:
        self.owner = QWidget()
        qtbot.addWidget(self.owner)
        self.combo = QComboBox(self.owner)
        self.banner = Banner("InfoBanner", self.owner)
        self.ready = ready
        self.list = SnapshotList(self.owner, backend, self.combo, self.banner, is_ready=lambda: self.ready)
        self.shown: list[int] = []
        self.emptied = 0
        self.list.show_requested.connect(self.shown.append)
        self.list.emptied.connect(self._emptied)

    def _emptied(self) -> None:
        self.emptied += 1

    def ids(self) -> list[int]:
        return [int(self.combo.itemData(i)) for i in range(self.combo.count())]


def _backend(path: Path) -> Iterator[Backend]:
    backend = Backend(str(path))
    yield backend
    backend.close()


@pytest.fixture
def backend(store_path: Path) -> Iterator[Backend]:
    yield from _backend(store_path)


@pytest.fixture
def backend2(two_snapshot_store: Path) -> Iterator[Backend]:
    yield from _backend(two_snapshot_store)


def test_reload_lists_newest_first_and_keeps_the_chosen_snapshot(qtbot: Any, backend2: Backend,
                                                                 two_snapshot_store: Path) -> None:
    parts = _Parts(qtbot, backend2)
    parts.list.reload(select_latest=True)
    assert parts.ids() == [2, 1] and parts.list.known == {1, 2}
    assert parts.shown == [2]
    assert parts.combo.itemText(0) == "2026-04-30  (#2, 12 members)"
    parts.combo.setCurrentIndex(1)
    parts.combo.activated.emit(1)  # the user picks the older one
    assert parts.shown == [2, 1]
    newest = save_fixture_snapshot(str(two_snapshot_store), make_dataset(date(2026, 5, 29)))
    parts.list.reload()  # e.g. after an import without a snapshot id: the pick stays
    assert parts.ids() == [newest, 2, 1] and parts.list.current_id() == 1 and parts.shown == [2, 1, 1]
    parts.list.reload(select_id=2)
    assert parts.list.current_id() == 2 and parts.shown[-1] == 2
    parts.list.fill(backend2.snapshots(), select=999)  # gone: the newest, and no request
    assert parts.list.current_id() == newest and parts.shown[-1] == 2


def test_a_snapshot_made_outside_is_listed_and_offered_but_not_shown(qtbot: Any, backend: Backend,
                                                                     store_path: Path) -> None:
    parts = _Parts(qtbot, backend)
    parts.list.reload(select_latest=True)
    assert parts.shown == [1] and not parts.banner.isVisibleTo(parts.owner)
    assert parts.list.check_new() == []  # nothing new
    new_id = save_fixture_snapshot(str(store_path), make_dataset(date(2026, 5, 29), bump=2.0))  # e.g. the CLI
    with qtbot.assertNotEmitted(parts.list.show_requested):
        assert parts.list.check_new() == [new_id]
    assert parts.ids() == [new_id, 1] and parts.list.current_id() == 1  # never switched without the user
    assert parts.banner.isVisibleTo(parts.owner)
    assert parts.banner.text.text() == ("A new snapshot was made outside this window: #2 as of 2026-05-29 "
                                        "(12 members).")
    assert parts.list.check_new() == []  # offered once
    assert parts.shown == [1]

    with qtbot.waitSignal(parts.list.show_requested) as asked:
        parts.banner.actions_box.itemAt(0).widget().click()  # "Show it"
    assert asked.args == [new_id] and parts.list.current_id() == new_id
    assert not parts.banner.isVisibleTo(parts.owner)


def test_several_new_snapshots_offer_the_newest(qtbot: Any, backend: Backend, store_path: Path) -> None:
    parts = _Parts(qtbot, backend)
    parts.list.reload(select_latest=True)
    first = save_fixture_snapshot(str(store_path), make_dataset(date(2026, 5, 29)))
    second = save_fixture_snapshot(str(store_path), make_dataset(date(2026, 6, 30)))
    assert parts.list.check_new() == [second, first]  # newest first, as listed
    assert "#3 as of 2026-06-30" in parts.banner.text.text() and "2 new snapshots in all" in parts.banner.text.text()
    parts.banner.actions_box.itemAt(0).widget().click()
    assert parts.shown == [1, second]


def test_the_poll_and_the_activation_look_again(qtbot: Any, backend: Backend, store_path: Path) -> None:
    parts = _Parts(qtbot, backend)
    parts.list.reload(select_latest=True)
    assert parts.list.timer.interval() == SNAPSHOT_POLL_MS and not parts.list.timer.isActive()
    parts.list.start_polling()
    assert parts.list.timer.isActive()
    save_fixture_snapshot(str(store_path), make_dataset(date(2026, 5, 29)))
    parts.list.timer.timeout.emit()
    assert parts.list.known == {1, 2}
    save_fixture_snapshot(str(store_path), make_dataset(date(2026, 6, 30)))
    parts.list.window_activated()  # looks once the activation is handled, not during it
    assert parts.list.known == {1, 2}
    qtbot.waitUntil(lambda: parts.list.known == {1, 2, 3})
    parts.list.stop_polling()
    assert not parts.list.timer.isActive()


def test_nothing_is_offered_without_a_store_or_before_the_window_is_ready(qtbot: Any, backend: Backend,
                                                                          store_path: Path) -> None:
    assert _Parts(qtbot, None).list.check_new() == []  # the store is still being opened
    parts = _Parts(qtbot, backend, ready=False)
    parts.list.reload(select_latest=True)  # the start-up: listed, the first snapshot still loading
    new_id = save_fixture_snapshot(str(store_path), make_dataset(date(2026, 5, 29)))
    assert parts.list.check_new() == []
    assert parts.ids() == [1] and not parts.banner.isVisibleTo(parts.owner)
    parts.ready = True
    assert parts.list.check_new() == [new_id]  # offered once the window is ready
    assert parts.shown == [1]


def test_an_empty_store_says_so_then_shows_the_first_snapshot_at_once(qtbot: Any, tmp_path: Path) -> None:
    path = tmp_path / "empty.sqlite3"
    for backend in _backend(path):
        parts = _Parts(qtbot, backend)
        parts.list.reload(select_latest=True)
        assert parts.emptied == 1 and parts.shown == [] and parts.list.current_id() is None
        new_id = save_fixture_snapshot(str(path), make_dataset())
        assert parts.list.check_new() == [new_id]
        assert parts.shown == [new_id]  # the empty state had nothing to keep
        # ... and it says so, without offering to show what is shown already
        assert not parts.banner.isHidden() and parts.banner.text.text().startswith("Showing a snapshot made outside")
        assert f"#{new_id} as of" in parts.banner.text.text() and parts.banner.actions_box.count() == 0


def test_a_store_that_cannot_list_is_empty_with_a_message_and_quiet_when_polled(
        qtbot: Any, backend: Backend, monkeypatch: pytest.MonkeyPatch) -> None:
    shown_errors: list[BaseException] = []
    monkeypatch.setattr("desktop.ui.messages.show_error", lambda parent, exc, title="": shown_errors.append(exc))
    parts = _Parts(qtbot, backend)
    parts.list.reload(select_latest=True)

    def locked() -> list[Any]:
        raise StoreError("the database is locked")

    monkeypatch.setattr(backend, "snapshots", locked)
    assert parts.list.check_new() == [] and shown_errors == []  # polled: logged, no dialog
    assert parts.list.current_id() == 1
    parts.list.reload()
    assert [str(e) for e in shown_errors] == ["the database is locked"]
    assert parts.emptied == 1 and parts.combo.count() == 0

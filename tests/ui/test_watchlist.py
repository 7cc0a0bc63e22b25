"""The watchlist controller on its own (issue #17): pins, notes and the view, on a real store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from PySide6.QtWidgets import QWidget

from desktop.ui.backend import Backend
from desktop.ui.watchlist import WatchlistController
from desktop.ui.workers import TaskSlot, write_pool


@pytest.fixture
def backend(store_path: Path) -> Iterator[Backend]:
    backend = Backend(str(store_path))
    yield backend
    backend.close()


@pytest.fixture
def controller(qtbot: Any, backend: Backend) -> WatchlistController:
    owner = QWidget()
    qtbot.addWidget(owner)
    names = pd.Series({"ALFA": "Alfa Foundry Inc", "BRVO": "Bravo Lending Corp"})
    return WatchlistController(owner, backend, TaskSlot("write", pool=write_pool(), parent=owner),
                               stock_names=lambda: names)


def test_toggle_pins_then_unpins_what_the_first_symbol_decides(qtbot: Any, controller: WatchlistController,
                                                                backend: Backend) -> None:
    with qtbot.waitSignal(controller.pins_changed):
        controller.toggle(["ALFA"])
    assert backend.watchlist() == {"ALFA"} and controller.is_pinned("ALFA")
    # The first symbol is pinned: the whole selection is unpinned, BRVO included (never pinned).
    with qtbot.waitSignals([controller.pins_changed, controller.status]):
        controller.toggle(["ALFA", "BRVO"])
    assert backend.watchlist() == set() and controller.pinned == set()
    with qtbot.assertNotEmitted(controller.pins_changed, wait=50):
        controller.toggle([])


def test_the_view_follows_pins_and_saves_notes(qtbot: Any, controller: WatchlistController,
                                               backend: Backend) -> None:
    for symbol in ("ALFA", "CHRL"):
        with qtbot.waitSignal(controller.pins_changed):
            controller.toggle([symbol])
    controller.show()
    dialog = controller.dialog
    assert dialog.isVisible()
    rows = {dialog.table.item(r, 0).text(): dialog.table.item(r, 1).text() for r in range(dialog.table.rowCount())}
    assert rows == {"ALFA": "Alfa Foundry Inc", "CHRL": "(not in this snapshot)"}  # names of the shown snapshot
    assert dialog.caption.text().startswith("2 stocks pinned.")

    with qtbot.waitSignal(controller.status) as saved:
        dialog.note_edited.emit("ALFA", "refinancing in 2027")
    assert saved.args[0] == "Note saved for ALFA"
    assert {e.symbol: e.note for e in backend.watch_entries()}["ALFA"] == "refinancing in 2027"

    with qtbot.waitSignal(controller.symbol_activated) as activated:
        dialog.symbol_activated.emit("CHRL")
    assert activated.args == ["CHRL"]

    with qtbot.waitSignal(controller.pins_changed):
        dialog.unpin_requested.emit(["ALFA"])
    assert controller.pinned == {"CHRL"} and backend.watchlist() == {"CHRL"}
    assert dialog.table.rowCount() == 1 and dialog.table.item(0, 0).text() == "CHRL"
    assert dialog.caption.text().startswith("1 stock pinned.")


def test_reset_takes_the_pins_read_with_a_snapshot(controller: WatchlistController) -> None:
    controller.reset(frozenset({"DLTA"}))
    assert controller.is_pinned("DLTA") and not controller.is_pinned("ALFA")

"""What changed since the last run, the controller on its own (issue #17), on a real store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QLabel, QWidget

from desktop.engine.evaluate import evaluate
from desktop.engine.screen import parse_screen
from desktop.errors import StoreError
from desktop.ui.backend import Backend
from desktop.ui.what_changed import WhatChangedController
from desktop.ui.workers import TaskSlot, write_pool

SCREEN = {"version": 1, "name": "Caps", "universe": "russell2000", "match": "all",
          "criteria": [{"field": "market_cap", "min": 1e9}]}


@pytest.fixture
def backend(two_snapshot_store: Path) -> Iterator[Backend]:
    backend = Backend(str(two_snapshot_store))
    yield backend
    backend.close()


@pytest.fixture
def controller(qtbot: Any, backend: Backend) -> WhatChangedController:
    owner = QWidget()
    qtbot.addWidget(owner)
    return WhatChangedController(owner, backend, TaskSlot("write", pool=write_pool(), parent=owner))


def _compare(qtbot: Any, controller: WhatChangedController, bundle: Any, *, records: bool = True,
             document: dict[str, Any] = SCREEN) -> Any:
    """Compare the screen on ``bundle``; returns its shortlist once the run is recorded (or, with
    ``records=False``, once the comparison is shown)."""
    screen = parse_screen(dict(document))
    ranked = evaluate(screen, bundle.table, near_misses=False).ranked
    slot = controller.write_slot if records else controller.slot
    with qtbot.waitSignal(slot.busy_changed, check_params_cb=lambda busy: not busy, timeout=20000):
        controller.compare(screen, bundle, ranked)
    return ranked


def test_a_first_run_lists_nothing_and_a_second_look_records_no_copy(
        qtbot: Any, controller: WhatChangedController, backend: Backend) -> None:
    newest = backend.load_table(int(backend.snapshots()[0].id))
    _compare(qtbot, controller, newest)
    assert controller.dialog is not None and not controller.dialog.tree.isVisibleTo(controller.dialog)
    controller.dialog.close()
    with qtbot.assertNotEmitted(controller.write_slot.busy_changed, wait=200):
        _compare(qtbot, controller, newest, records=False)
    dialog = controller.dialog
    assert dialog.tree.isVisibleTo(dialog) and dialog.tree.topLevelItem(2).text(0) == "No change"
    assert "no new run is recorded" in dialog.findChild(QLabel).text()
    assert len(backend.runs("Caps")) == 1


def test_a_run_whose_snapshot_is_gone_still_lists_who_entered_and_left(
        qtbot: Any, controller: WhatChangedController, backend: Backend, monkeypatch: pytest.MonkeyPatch) -> None:
    newest, older = (backend.load_table(int(info.id)) for info in backend.snapshots())
    first = _compare(qtbot, controller, newest)
    assert controller.dialog is not None and "no recorded run yet" in controller.dialog.findChild(QLabel).text()
    assert [r.n_passed for r in backend.runs("Caps")] == [len(first)]

    controller.dialog.close()
    gone = int(newest.info.id)
    load_table = backend.load_table

    def without_the_runs_snapshot(snapshot: int | None = None) -> Any:
        if snapshot == gone:
            raise StoreError("snapshot deleted")
        return load_table(snapshot)

    monkeypatch.setattr(backend, "load_table", without_the_runs_snapshot)
    second = _compare(qtbot, controller, older)  # the older snapshot: caps half as large
    dialog = controller.dialog
    left = dialog.tree.topLevelItem(1)
    assert sorted(left.child(i).text(0) for i in range(left.childCount())) == sorted(
        set(first.index) - set(second.index)) != []
    assert all(left.child(i).text(1) == "" for i in range(left.childCount()))  # no reasons without the table
    assert "snapshot is gone" in dialog.findChild(QLabel).text()
    assert dialog.history.count() == 1 and len(backend.runs("Caps")) == 2



def test_stocks_moved_by_an_edit_say_so(qtbot: Any, controller: WhatChangedController, backend: Backend) -> None:
    newest = backend.load_table(int(backend.snapshots()[0].id))
    first = _compare(qtbot, controller, newest)
    controller.dialog.close()
    looser = {**SCREEN, "criteria": [{"field": "market_cap", "min": 1e8}]}
    second = _compare(qtbot, controller, newest, document=looser)  # same snapshot, edited screen
    entered = controller.dialog.tree.topLevelItem(0)
    assert entered.childCount() == len(set(second.index) - set(first.index)) > 0
    assert all(entered.child(i).text(1).startswith("moved by the screen's edits") for i in range(entered.childCount()))

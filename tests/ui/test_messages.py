"""Errors for people, the uncaught-exception dialog, the Qt -> logging bridge, and shortcuts."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import qInstallMessageHandler, qWarning
from PySide6.QtWidgets import QApplication, QMessageBox

from desktop import errors
from desktop.ui import messages, qtlog

pytestmark = pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints")


@pytest.mark.parametrize(("exc", "step"), [
    (errors.SourceUnreachableError("Yahoo Finance is unreachable"), "latest snapshot"),
    (errors.RateLimitedError("Yahoo Finance is rate limiting us"), "Wait a few minutes"),
    (errors.DatabaseBusyError("The database is busy"), "other Pickaxe window"),
    (errors.InputError("bad number", path="x.csv", line=3, field="Price", hint="Fix the cell."), "Fix the cell."),
])
def test_known_errors_become_a_sentence_and_a_next_step(exc: errors.PickaxeError, step: str) -> None:
    sentence, next_step = messages.describe_error(exc)
    assert sentence == exc.message and step in next_step


def test_input_errors_name_file_line_and_field() -> None:
    sentence, _ = messages.describe_error(errors.InputError("bad number", path="x.csv", line=3, field="Price"))
    assert sentence == "x.csv, line 3, field 'Price': bad number"


def _boxes() -> list[QMessageBox]:
    return [w for w in QApplication.topLevelWidgets() if isinstance(w, QMessageBox) and w.isVisible()]


def test_uncaught_exception_is_logged_and_shown_with_the_log_folder(qtbot: Any, caplog: pytest.LogCaptureFixture,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)  # restored after the test
    import threading

    monkeypatch.setattr(threading, "excepthook", threading.excepthook)
    messages.install_excepthooks()
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        with caplog.at_level(logging.ERROR):
            sys.excepthook(*sys.exc_info())  # type: ignore[arg-type]
    qtbot.waitUntil(lambda: bool(_boxes()))
    box = _boxes()[-1]
    assert "RuntimeError" in box.text() and "pickaxe.log" in box.text()
    assert "boom" in box.detailedText()
    assert any("uncaught exception" in r.message for r in caplog.records)
    box.close()


def test_worker_thread_exceptions_reach_the_dialog(qtbot: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    import threading

    monkeypatch.setattr(sys, "excepthook", sys.excepthook)
    monkeypatch.setattr(threading, "excepthook", threading.excepthook)
    messages.install_excepthooks()

    def crash() -> None:
        raise ValueError("from a thread")

    thread = threading.Thread(target=crash)
    thread.start()
    thread.join()
    qtbot.waitUntil(lambda: any("ValueError" in b.text() for b in _boxes()))
    for box in _boxes():
        box.close()


def test_cancelled_is_silent(qtbot: Any) -> None:
    before = len(_boxes())
    messages.show_error(None, errors.Cancelled())
    assert len(_boxes()) == before


def test_qt_messages_go_to_logging(qapp: Any, caplog: pytest.LogCaptureFixture) -> None:
    previous = qtlog.install()
    try:
        with caplog.at_level(logging.WARNING, logger="qt"):
            qWarning("a message from Qt")
    finally:
        qInstallMessageHandler(previous)  # give pytest-qt its handler back
    assert any(r.name == "qt" and "a message from Qt" in r.message for r in caplog.records)


def test_every_shortcut_is_unique(qtbot: Any, store_path: Path) -> None:
    from desktop.ui.main_window import MainWindow

    window = MainWindow(db_url=str(store_path))
    qtbot.addWidget(window)
    with qtbot.waitSignal(window.ready, timeout=20000):
        window.show()
    keys = [a.shortcut().toString() for a in window.actions() if not a.shortcut().isEmpty()]
    assert len(keys) == len(set(keys)), keys
    for name in ("act_add", "act_remove", "act_find", "act_save", "act_export", "act_refresh", "act_focus_table"):
        assert not getattr(window, name).shortcut().isEmpty(), name
    window.close()

"""Start-up (issue #17): what the window paints before its snapshot is shown, the hidden chart tabs
built on first use, and a start on a current store that never imports Alembic."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QMessageBox

from desktop.errors import StoreError
from desktop.services import screening
from desktop.ui.main_window import MainWindow
from desktop.ui.workers import read_pool, write_pool

pytestmark = pytest.mark.qt_log_ignore("This plugin does not support")

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def _close(window: MainWindow) -> None:
    window.close()
    read_pool().waitForDone(5000)
    write_pool().waitForDone(5000)


def test_the_first_paint_is_a_calm_loading_page(qtbot: Any, store_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    release = threading.Event()
    load_table = screening.load_table

    def slow(*args: Any, **kwargs: Any) -> Any:
        assert release.wait(20)
        return load_table(*args, **kwargs)

    monkeypatch.setattr(screening, "load_table", slow)
    window = MainWindow(db_url=str(store_path), restore_state=False)
    qtbot.addWidget(window)
    # Before the snapshot is read: no empty table and no "Welcome" page, the loading page.
    assert window.stack.currentWidget() is window.loading_state
    window.show()
    qtbot.waitUntil(lambda: "Loading the snapshot of 2026-04-30" in window.loading_state.title.text())
    assert window.stack.currentWidget() is window.loading_state and not window.is_ready()
    # The screen is built while the table is read (issue #17), but nothing is screened or shown yet.
    assert window.builder.leaves() and window.result is None and window.model.rowCount() == 0
    with qtbot.waitSignal(window.ready, timeout=20000):
        release.set()
    assert window.stack.currentWidget() is window.workspace
    assert window.model.rowCount() > 0 and window.result is not None
    first = next(row for row in window.builder.leaves() if row.kind == "numeric")
    assert window.charts.histogram_field == first.field_name  # its first criterion is drawn
    _close(window)


def test_a_snapshot_that_cannot_be_loaded_says_so_instead_of_an_empty_table(
        qtbot: Any, store_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def damaged(*_args: Any, **_kwargs: Any) -> Any:
        raise StoreError("Snapshot 1 (as of 2026-04-30) is damaged: its market part is missing; it was not used.")

    monkeypatch.setattr(screening, "load_table", damaged)
    monkeypatch.setattr(QMessageBox, "exec", lambda *_a: 0)
    monkeypatch.setattr(QMessageBox, "open", lambda *_a: None)
    window = MainWindow(db_url=str(store_path), restore_state=False)
    qtbot.addWidget(window)
    with qtbot.waitSignal(window.ready, timeout=20000):
        window.show()
    assert window.stack.currentWidget() is window.loading_state
    assert window.loading_state.title.text() == "The snapshot could not be shown"
    assert "market part is missing" in window.loading_state.detail.text()
    _close(window)


@pytest.fixture
def slow_store(monkeypatch: pytest.MonkeyPatch) -> Iterator[threading.Event]:
    """Opening the store waits until the test sets the event (and records the thread it ran on)."""
    from desktop.ui import backend as backend_module

    release = threading.Event()
    real = backend_module.Backend.__init__
    threads: list[threading.Thread] = []

    def held(self: Any, *args: Any, **kwargs: Any) -> None:
        threads.append(threading.current_thread())
        assert release.wait(20)
        real(self, *args, **kwargs)

    monkeypatch.setattr(backend_module.Backend, "__init__", held)
    release.threads = threads  # type: ignore[attr-defined]
    yield release
    release.set()


def test_the_store_is_opened_on_a_worker_after_the_first_paint(qtbot: Any, store_path: Path,
                                                               slow_store: threading.Event) -> None:
    """Issue #17: the loading page says the store is being opened; the window never waits for it."""
    window = MainWindow(db_url=str(store_path), restore_state=False)
    qtbot.addWidget(window)
    assert window.backend is None and not slow_store.threads  # nothing opened while constructing
    window.show()
    qtbot.waitUntil(lambda: bool(slow_store.threads))  # type: ignore[attr-defined]
    assert window.loading_state.was_painted  # the page was painted before the store was asked for
    assert slow_store.threads[0] is not threading.main_thread()  # type: ignore[attr-defined]
    assert window.stack.currentWidget() is window.loading_state and not window.is_ready()
    assert window.loading_state.title.text() == "Opening the store…"
    assert str(store_path) in window.loading_state.detail.text()
    assert not window.act_import.isEnabled() and not window.act_refresh.isEnabled()
    with qtbot.waitSignal(window.ready, timeout=20000):
        slow_store.set()
    assert window.backend is not None and window.tasks.backend is window.backend
    assert window.document.backend is window.backend
    assert window.stack.currentWidget() is window.workspace and window.model.rowCount() > 0
    assert window.snapshot_combo.count() == 1 and window.act_import.isEnabled() and window.act_refresh.isEnabled()
    _close(window)


def test_a_window_that_is_never_shown_still_opens_its_store(qtbot: Any, store_path: Path) -> None:
    window = MainWindow(db_url=str(store_path), restore_state=False)
    qtbot.addWidget(window)
    with qtbot.waitSignal(window.ready, timeout=20000):
        pass
    assert window.bundle is not None and window.model.rowCount() > 0
    _close(window)


def test_closing_while_the_store_opens_drops_it_quietly(qtbot: Any, store_path: Path,
                                                        slow_store: threading.Event) -> None:
    window = MainWindow(db_url=str(store_path), restore_state=False)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: bool(slow_store.threads))  # type: ignore[attr-defined]
    window.shutdown()  # cancels the opening; the late result must not land
    slow_store.set()
    read_pool().waitForDone(10000)
    qtbot.wait(50)  # let any (wrongly) queued result arrive
    assert window.backend is None and not window.is_ready()


def test_a_damaged_store_opened_on_the_worker_says_so(qtbot: Any, tmp_path: Path) -> None:
    path = tmp_path / "damaged.sqlite3"
    path.write_bytes(b"this is not a database at all " * 200)
    window = MainWindow(db_url=str(path), restore_state=False)
    qtbot.addWidget(window)
    with qtbot.waitSignal(window.ready, timeout=20000):
        window.show()
    assert window.backend is None
    assert window.stack.currentWidget() is window.empty_state
    assert window.info_banner.isVisible()
    text = window.info_banner.text.text()
    assert text.startswith("The database cannot be opened: ") and text.count("--db") == 1, text
    assert "Traceback" not in text
    assert not window.empty_state.download.isEnabled() and not window.empty_state.import_button.isEnabled()
    _close(window)


def test_a_failed_migration_on_the_worker_says_so(qtbot: Any, store_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    from desktop.store import db

    def failed(*_args: Any, **_kwargs: Any) -> Any:
        raise StoreError("The database could not be upgraded to this version of Pickaxe: no such column x.")

    monkeypatch.setattr(db, "open_database", failed)
    window = MainWindow(db_url=str(store_path), restore_state=False)
    qtbot.addWidget(window)
    with qtbot.waitSignal(window.ready, timeout=20000):
        window.show()
    assert "could not be upgraded" in window.info_banner.text.text()
    assert window.stack.currentWidget() is window.empty_state
    _close(window)


def test_a_bug_while_opening_the_store_shows_the_bug_dialog(qtbot: Any, store_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    from desktop.store import db
    from desktop.ui import messages

    def broken(*_args: Any, **_kwargs: Any) -> Any:
        raise ZeroDivisionError("a bug")

    shown: list[BaseException] = []
    monkeypatch.setattr(db, "open_database", broken)
    monkeypatch.setattr(messages, "show_bug_dialog", lambda _parent, exc: shown.append(exc))
    window = MainWindow(db_url=str(store_path), restore_state=False)
    qtbot.addWidget(window)
    with qtbot.waitSignal(window.ready, timeout=20000):
        window.show()
    assert [type(e) for e in shown] == [ZeroDivisionError]
    assert "unexpected error" in window.info_banner.text.text()
    _close(window)


def test_hidden_chart_tabs_are_built_and_drawn_when_first_shown(qtbot: Any, store_path: Path) -> None:
    window = MainWindow(db_url=str(store_path), restore_state=False)
    qtbot.addWidget(window)
    with qtbot.waitSignal(window.ready, timeout=20000):
        window.show()
    charts = window.charts
    pages = (charts.breakdown_page, charts.price_page, charts.market_page)
    assert not any(page.built for page in pages)
    symbol = window.model.symbol_at(0)
    window.select_symbol(symbol)
    assert not charts.price_page.built  # a selection does not build (or read prices for) a hidden tab
    window.chart_tabs.setCurrentWidget(charts.price_page)
    assert charts.price_page.built
    assert symbol in _texts(charts.price_page)  # its closes, read when the tab was shown
    window.chart_tabs.setCurrentWidget(charts.market_page)
    assert charts.market_page.built
    window.chart_tabs.setCurrentWidget(charts.breakdown_page)
    assert charts.breakdown_page.built
    _close(window)


def _texts(widget: Any) -> str:
    from PySide6.QtWidgets import QLabel

    return " ".join(label.text() for label in widget.findChildren(QLabel))


START_AND_REPORT = """
import sys
from desktop.app import main
code = main(["--db", sys.argv[1], "--screenshot", sys.argv[2]])
print(code, "alembic" in sys.modules)
"""


def test_start_up_on_a_current_store_does_not_import_alembic(store_path: Path, tmp_path: Path) -> None:
    """Alembic is needed only to migrate (~0.1 s of every start otherwise)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PICKAXE_")}
    env.update(QT_QPA_PLATFORM="offscreen", PICKAXE_HOME=str(tmp_path / "home"))
    png = tmp_path / "window.png"
    done = subprocess.run([sys.executable, "-c", START_AND_REPORT, str(store_path), str(png)], env=env,
                          cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.split()[-2:] == ["0", "False"], done.stdout
    assert png.stat().st_size > 0


FIRST_PAINT_REPORT = """
import sys
from desktop.app import main
import desktop.ui.application as application

def at_first_paint(window, timeout_ms=0):
    from PySide6.QtCore import QEventLoop
    if not window.loading_state.was_painted:
        loop = QEventLoop()
        window.loading_state.painted.connect(loop.quit)
        loop.exec()
    print("painted", window.loading_state.title.text(), *(m in sys.modules for m in
          ("sqlalchemy", "desktop.store.db", "desktop.services.library", "requests")))
    return application.SCREENSHOT_TIMEOUT_MS and wait(window)

wait = application.wait_until_ready
application.wait_until_ready = at_first_paint
print("exit", main(["--db", sys.argv[1], "--screenshot", sys.argv[2]]), "requests" in sys.modules)
"""


def test_the_first_paint_comes_before_the_store_is_imported(store_path: Path, tmp_path: Path) -> None:
    """Issue #17: SQLAlchemy, the store and the services load on the worker after the first paint;
    the SEC client (requests) not at all on a start."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PICKAXE_")}
    env.update(QT_QPA_PLATFORM="offscreen", PICKAXE_HOME=str(tmp_path / "home"))
    png = tmp_path / "window.png"
    done = subprocess.run([sys.executable, "-c", FIRST_PAINT_REPORT, str(store_path), str(png)], env=env,
                          cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    lines = done.stdout.splitlines()
    assert "painted Opening the store… False False False False" in lines, done.stdout
    assert lines[-1] == "exit 0 False", done.stdout
    assert png.stat().st_size > 0

"""Create the QApplication and the main window (the Qt half of ``desktop.app``)."""

from __future__ import annotations

import argparse
import logging

from PySide6.QtCore import QEventLoop, QLocale, QTimer, QTranslator
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

from desktop import APP_NAME, ORG_NAME
from desktop.resources import resource_path
from desktop.ui import feature_scan

log = logging.getLogger(__name__)

SCREENSHOT_SIZE = (1600, 1000)
SCREENSHOT_TIMEOUT_MS = 60_000


def load_stylesheet() -> str:
    """The numbered ``resources/styles/*.qss`` files, concatenated in name order."""
    folder = resource_path("styles")
    if not folder.is_dir():
        return ""
    return "\n".join(p.read_text(encoding="utf-8") for p in sorted(folder.glob("*.qss")))


def install_translations(app: QApplication) -> None:
    """Load ``resources/i18n/pickaxe_<locale>.qm`` when present (English ships built in)."""
    folder = resource_path("icons").parent / "i18n"
    translator = QTranslator(app)
    if folder.is_dir() and translator.load(QLocale(), "pickaxe", "_", str(folder)):
        app.installTranslator(translator)


_garbage_collector: object | None = None


def create_application() -> QApplication:
    global _garbage_collector
    feature_scan.install()  # before pyqtgraph, the window and the store are imported
    app = QApplication.instance() or QApplication([])
    assert isinstance(app, QApplication)
    if _garbage_collector is None:
        # Collect cycles on a GUI-thread timer only: a collection triggered on a worker thread
        # would destroy Qt widgets there and can deadlock or crash.
        from pyqtgraph.util.garbage_collector import GarbageCollector

        _garbage_collector = GarbageCollector(interval=1.0)
    app.setApplicationName(APP_NAME)
    app.setOrganizationName(ORG_NAME)
    # No setApplicationVersion: nothing reads it, and looking the version up costs ~20 ms of
    # start-up (the About box asks desktop.__version__ itself).
    icon = resource_path("icons", "pickaxe.png")
    if icon.is_file():
        app.setWindowIcon(QIcon(str(icon)))
    app.setStyleSheet(load_stylesheet())
    install_translations(app)
    return app


def wait_until_ready(window: object, timeout_ms: int = SCREENSHOT_TIMEOUT_MS) -> bool:
    """Spin the event loop until ``window.ready`` fired (or the timeout); True when ready."""
    if window.is_ready():  # type: ignore[attr-defined]
        return True
    loop = QEventLoop()
    window.ready.connect(loop.quit)  # type: ignore[attr-defined]
    QTimer.singleShot(timeout_ms, loop.quit)
    loop.exec()
    return bool(window.is_ready())  # type: ignore[attr-defined]


def _report_settings_problems(window: object) -> None:
    """Tell the user once, without a dialog, that damaged settings were reset (issue #13)."""
    problems: list[str] = list(getattr(getattr(window, "settings", None), "problems", []))
    if not problems:
        return
    text = problems[0] + (f" ({len(problems) - 1} more in the log.)" if len(problems) > 1 else "")
    shown = False

    def show() -> None:
        nonlocal shown
        if not shown:  # after loading: the snapshot load clears the status bar
            shown = True
            window.statusBar().showMessage(text, 30_000)  # type: ignore[attr-defined]

    window.ready.connect(show)  # type: ignore[attr-defined]
    if window.is_ready():  # type: ignore[attr-defined]
        show()


def run_app(args: argparse.Namespace) -> int:
    """Show the window; with ``--screenshot`` render it at a fixed size, save the PNG, exit."""
    app = create_application()
    from desktop.ui import messages, qtlog
    from desktop.ui.main_window import MainWindow

    qtlog.install()
    messages.install_excepthooks()
    screenshot = getattr(args, "screenshot", None)
    window = MainWindow(db_url=args.db, screen=getattr(args, "screen", None),
                        select=getattr(args, "select", None), restore_state=not screenshot)
    _report_settings_problems(window)
    if screenshot:
        window.resize(*SCREENSHOT_SIZE)
        window.show()
        if not wait_until_ready(window):
            log.error("the window did not finish loading within %d s", SCREENSHOT_TIMEOUT_MS // 1000)
        for _ in range(5):  # let layouts and charts settle
            app.processEvents()
        ok = window.grab().save(screenshot)
        window.shutdown()
        window.deleteLater()
        app.processEvents()
        if not ok:
            log.error("could not write the screenshot to %s", screenshot)
        return 0 if ok else 1
    window.show()
    return app.exec()

"""What the user reads when something goes wrong (STYLE.md section 6).

Errors the user can act on (:class:`desktop.errors.PickaxeError`) become one plain sentence plus
a next step; cancellation stays silent; anything else is a bug: logged with its traceback and
shown in a dialog that points at the log folder, and the app keeps running.
"""

from __future__ import annotations

import logging
import sys
import threading
import traceback
from types import TracebackType

from PySide6.QtCore import QCoreApplication, QObject, Qt, QUrl, Signal, Slot
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

from desktop import errors
from desktop import log as applog

log = logging.getLogger(__name__)


def tr(text: str) -> str:
    """Translate a message of this module (context "messages")."""
    return QCoreApplication.translate("messages", text)


def describe_error(exc: BaseException) -> tuple[str, str]:
    """(sentence, next step) for an error the user can act on; a generic pair for bugs."""
    if isinstance(exc, errors.SourceUnreachableError):
        return str(exc.message), tr("Check the internet connection; Pickaxe keeps working on the latest snapshot.")
    if isinstance(exc, errors.RateLimitedError):
        return str(exc.message), tr("Wait a few minutes and refresh again; what was fetched is kept.")
    if isinstance(exc, errors.DatabaseBusyError):
        return str(exc.message), tr("Close the other Pickaxe window using this database, then try again.")
    if isinstance(exc, errors.ExportError):
        return str(exc.message), exc.hint or tr("Choose another folder or close the file in the other program.")
    if isinstance(exc, errors.PickaxeError):
        return str(exc.message), exc.hint
    return (tr("Something unexpected went wrong: %s") % type(exc).__name__,
            tr("The details are in the log file; Pickaxe keeps running."))


def show_error(parent: QWidget | None, exc: BaseException, title: str = "") -> None:
    """Show ``exc`` to the user: known errors plainly, bugs with a pointer to the log folder."""
    if isinstance(exc, errors.Cancelled):
        return
    sentence, step = describe_error(exc)
    if not isinstance(exc, errors.PickaxeError):
        log.error("unexpected error", exc_info=(type(exc), exc, exc.__traceback__))
        show_bug_dialog(parent, exc)
        return
    log.info("user-facing error: %s", exc)
    box = QMessageBox(QMessageBox.Icon.Warning, title or tr("Pickaxe"), sentence, parent=parent)
    if step:
        box.setInformativeText(step)
    box.setWindowModality(Qt.WindowModality.WindowModal)
    _keep_open(box)
    box.open()


def show_bug_dialog(parent: QWidget | None, exc: BaseException) -> QMessageBox:
    """A non-blocking dialog for an unexpected exception, with a button opening the log folder."""
    box = QMessageBox(QMessageBox.Icon.Critical, tr("Pickaxe: unexpected error"),
                      tr("Something unexpected went wrong (%s). Pickaxe keeps running; the details "
                         "were written to the log file:\n%s") % (type(exc).__name__, applog.log_file()),
                      parent=parent)
    box.setDetailedText("".join(traceback.format_exception(type(exc), exc, exc.__traceback__)))
    open_logs = box.addButton(tr("Open log folder"), QMessageBox.ButtonRole.ActionRole)
    box.addButton(QMessageBox.StandardButton.Close)

    def _clicked(button: object) -> None:
        if button is open_logs:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(applog.log_file().parent)))

    box.buttonClicked.connect(_clicked)
    box.setWindowModality(Qt.WindowModality.NonModal)
    _keep_open(box)
    box.open()
    return box


_open_boxes: list[QMessageBox] = []


def _keep_open(box: QMessageBox) -> None:
    # A parentless box would be garbage-collected as soon as the caller returns.
    _open_boxes.append(box)
    box.finished.connect(lambda _result: _open_boxes.remove(box) if box in _open_boxes else None)


class _ExceptionRelay(QObject):
    """Carries exceptions from any thread to the GUI thread, where the dialog is shown."""

    raised = Signal(object)

    @Slot(object)
    def show(self, exc: object) -> None:
        if isinstance(exc, BaseException):
            show_bug_dialog(QApplication.activeWindow(), exc)


_relay: _ExceptionRelay | None = None


def install_excepthooks() -> None:
    """Log uncaught exceptions (main and worker threads) and show them without quitting."""
    global _relay
    _relay = _ExceptionRelay()
    _relay.raised.connect(_relay.show)

    def _hook(exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        if issubclass(exc_type, KeyboardInterrupt):
            sys.__excepthook__(exc_type, exc, tb)
            return
        log.error("uncaught exception", exc_info=(exc_type, exc, tb))
        if _relay is not None:
            _relay.raised.emit(exc)

    def _thread_hook(args: threading.ExceptHookArgs) -> None:
        if args.exc_value is not None:
            _hook(args.exc_type, args.exc_value, args.exc_traceback)

    sys.excepthook = _hook
    threading.excepthook = _thread_hook

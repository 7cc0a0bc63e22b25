"""Long work started from the window (issue #17): refresh, first download, import and export.

Each kind runs in its own :class:`TaskSlot` (one task per kind) with a progress dialog that can
cancel it; the user keeps working on the shown snapshot meanwhile. The controller reports what
finished through signals, and the window decides what to show (a new snapshot, a banner).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QWidget

from desktop.ui import messages
from desktop.ui.backend import Backend
from desktop.ui.dialogs.export_dialog import ask_export_path
from desktop.ui.dialogs.import_dialog import ImportDialog
from desktop.ui.dialogs.progress_dialog import ProgressDialog
from desktop.ui.dialogs.sec_contact_dialog import with_sec_contact
from desktop.ui.settings import Settings
from desktop.ui.workers import TaskSlot, write_pool


class TaskController(QObject):
    """Starts refresh, download, import and export tasks, with progress and cancel.

    Signals:
        refreshed(object): a refresh or download finished (its report).
        refresh_failed(object): it failed (the exception; unreachable sources included).
        imported(object): an import finished (its report).
        exported(str): an export finished; the path written.
        status(str, int): a status-bar message and its timeout in ms (0: until replaced).
    """

    refreshed = Signal(object)
    refresh_failed = Signal(object)
    imported = Signal(object)
    exported = Signal(str)
    status = Signal(str, int)

    def __init__(self, owner: QWidget, backend: Backend | None, settings: Settings) -> None:
        super().__init__(owner)
        self._owner = owner
        self.backend = backend
        self.settings = settings
        self.refresh_slot = TaskSlot("refresh", parent=self)
        # Imports write a whole snapshot: they queue with saves on the one-thread write pool. A
        # refresh runs for hours and commits per ticker itself, so it keeps its own thread (its
        # short commits and ours are ordered by SQLite's write lock with a busy timeout).
        self.import_slot = TaskSlot("import", pool=write_pool(), parent=self)
        self.export_slot = TaskSlot("export", parent=self)
        self.progress_dialogs: dict[str, ProgressDialog] = {}
        self.import_dialog: ImportDialog | None = None

    def slots(self) -> tuple[TaskSlot, ...]:
        return self.refresh_slot, self.import_slot, self.export_slot

    # -- progress -------------------------------------------------------------------------------
    def _progress_dialog(self, key: str, title: str, slot: TaskSlot) -> ProgressDialog:
        dialog = self.progress_dialogs.get(key)
        if dialog is None:
            dialog = ProgressDialog(title, self._owner)
            dialog.cancel_requested.connect(slot.cancel)
            dialog.cancel_requested.connect(lambda: self._ended(key, self.tr("Cancelled")))
            self.progress_dialogs[key] = dialog
        dialog.setWindowTitle(title)
        dialog.cancel_button.setEnabled(True)
        dialog.set_progress(0, 0, self.tr("Starting…"), None)
        dialog.show()
        return dialog

    def _on_progress(self, key: str, slot: TaskSlot) -> Any:
        def handler(done: int, total: int, message: str) -> None:
            eta = slot.current.eta_seconds() if slot.current is not None else None
            self.progress_dialogs[key].set_progress(done, total, message, eta)
            pct = f" {done * 100 // total}%" if total else ""
            self.status.emit(f"{self.progress_dialogs[key].windowTitle()}{pct} {message}", 0)
        return handler

    def _ended(self, key: str, message: str = "") -> None:
        dialog = self.progress_dialogs.get(key)
        if dialog is not None:
            dialog.hide()
        self.status.emit(message, 5000)

    # -- refresh --------------------------------------------------------------------------------
    def refresh(self) -> None:
        """Fetch fresh data in the background; the user keeps working on the current snapshot. The
        SEC contact is asked once first (issue #14)."""
        if self.backend is None:
            return
        backend = self.backend

        def start(sec_user_agent: str | None) -> None:
            backend.sec_user_agent = sec_user_agent
            self._start_refresh(self.tr("Refreshing from SEC EDGAR and Yahoo Finance") if sec_user_agent
                                else self.tr("Refreshing"),
                                lambda state: backend.refresh(state.progress, state.is_cancelled),
                                self.tr("Refresh cancelled; fetched data is kept"))

        with_sec_contact(self._owner, self.settings, start)

    def download_universe(self) -> None:
        """First run online: the iShares holdings, then SEC fundamentals (the contact is asked once)
        and Yahoo prices and profiles."""
        if self.backend is None:
            return
        backend = self.backend

        def start(sec_user_agent: str | None) -> None:
            backend.sec_user_agent = sec_user_agent
            self._start_refresh(self.tr("Downloading the Russell 2000"),
                                lambda state: backend.download_universe(state.progress, state.is_cancelled),
                                self.tr("Download cancelled"))

        with_sec_contact(self._owner, self.settings, start)

    def _start_refresh(self, title: str, work: Any, cancelled: str) -> None:
        self._progress_dialog("refresh", title, self.refresh_slot)

        def done(report: Any) -> None:
            self._ended("refresh", self.tr("Refresh finished"))
            self.refreshed.emit(report)

        def failed(exc: BaseException) -> None:
            self._ended("refresh")
            self.refresh_failed.emit(exc)

        self.refresh_slot.start(work, done, failed, self._on_progress("refresh", self.refresh_slot),
                                lambda: self._ended("refresh", cancelled))

    def cancel_refresh(self) -> None:
        """Stop the refresh at its next check; what was fetched stays in the cache."""
        if self.refresh_slot.is_busy():
            self.refresh_slot.cancel()
            self._ended("refresh", self.tr("Refresh cancelled; fetched data is kept"))

    # -- import ---------------------------------------------------------------------------------
    def import_files(self) -> None:
        if self.backend is None:
            return
        dialog = ImportDialog(self._owner, self.settings.last_folder)
        self.import_dialog = dialog
        dialog.accepted.connect(lambda: self.start_import(*dialog.request(), folder=dialog.folder()))
        dialog.open()

    def start_import(self, kind: str, files: list[Path], as_of: Any, folder: str = "") -> None:
        if folder:
            self.settings.last_folder = folder
        if self.backend is None:
            return
        backend = self.backend
        self._progress_dialog("import", self.tr("Importing %s") % kind, self.import_slot)

        def done(report: Any) -> None:
            self._ended("import", self.tr("Import finished"))
            self.imported.emit(report)

        def failed(exc: BaseException) -> None:
            self._ended("import")
            messages.show_error(self._owner, exc, self.tr("Import"))

        self.import_slot.start(lambda state: backend.import_files(kind, files, as_of, state.progress,
                                                                 state.is_cancelled),
                               done, failed, self._on_progress("import", self.import_slot),
                               lambda: self._ended("import", self.tr("Import cancelled; nothing was changed")))

    # -- export ---------------------------------------------------------------------------------
    def export(self, screen: Any, snapshot_id: int, as_of: str, path: Path | None = None) -> None:
        """Export ``screen``'s result on a snapshot (asks for the file unless ``path`` is given)."""
        if self.backend is None:
            return
        if path is None:
            path = ask_export_path(self._owner, self.settings.last_folder, screen.name, as_of)
            if path is None:
                return
            self.settings.last_folder = str(path.parent)
        backend, target = self.backend, path
        self._progress_dialog("export", self.tr("Exporting"), self.export_slot)

        def done(written: Path) -> None:
            self._ended("export", self.tr("Exported to %s") % written)
            self.exported.emit(str(written))

        def failed(exc: BaseException) -> None:
            self._ended("export")
            messages.show_error(self._owner, exc, self.tr("Export"))

        self.export_slot.start(lambda state: backend.export(target, screen, snapshot_id, state.progress,
                                                            state.is_cancelled),
                               done, failed, self._on_progress("export", self.export_slot),
                               lambda: self._ended("export", self.tr("Export cancelled")))

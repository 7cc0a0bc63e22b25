"""The open screen as a document (issue #17): open, save, dirty state, versions and recovery.

The builder edits the screen's JSON document; this controller knows where the document came from
(a saved screen, a preset, a file or nothing), what its saved state is, and how to open, save,
revert, restore a version, and keep unsaved edits across a crash (a recovery file written shortly
after each edit). It never evaluates a screen: it emits ``opened`` and the window re-screens.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QFileDialog, QInputDialog, QMessageBox, QWidget

from desktop import paths
from desktop.errors import PickaxeError, ScreenDefinitionError
from desktop.ui import messages
from desktop.ui.backend import Backend
from desktop.ui.dialogs.history_dialog import VersionEntry, VersionHistoryDialog
from desktop.ui.screen_builder import ScreenBuilderWidget
from desktop.ui.settings import Settings
from desktop.ui.workers import TaskSlot

log = logging.getLogger(__name__)

EMPTY_SCREEN: dict[str, Any] = {"version": 2, "name": "New screen", "universe": "russell2000", "match": "all",
                                "criteria": []}


@dataclass
class ScreenSource:
    """Where the open screen came from: ``saved`` (a name in the store), ``preset``, ``file``, ``new``."""

    kind: str
    name: str


def normalised(doc: dict[str, Any]) -> dict[str, Any] | None:
    """``doc`` as the engine writes it (defaults dropped), or None when it is not a valid screen."""
    from desktop.engine.screen import parse_screen, screen_to_dict

    try:
        return screen_to_dict(parse_screen(doc))
    except ScreenDefinitionError:
        return None


class ScreenDocument(QObject):
    """The open screen: its source, its saved state and every way to open or save it.

    Signals:
        opened(): a document was put into the builder (the window re-screens and retitles).
        saved(): a save or a restore was written to the database.
        changed(): the dirty state or the source may have changed (the window retitles).
        status(str, int): a status-bar message and its timeout in ms (0: until replaced).
    """

    opened = Signal()
    saved = Signal()
    changed = Signal()
    status = Signal(str, int)

    def __init__(self, owner: QWidget, builder: ScreenBuilderWidget, settings: Settings,
                 backend: Backend | None, write_slot: TaskSlot, *, can_lose_edits: Callable[[], bool]) -> None:
        super().__init__(owner)
        self._owner = owner
        self.builder = builder
        self.settings = settings
        self.backend = backend
        self.write_slot = write_slot
        self._can_lose_edits = can_lose_edits  # False while nothing is loaded: nothing to ask about
        self.source = ScreenSource("new", "")
        self.baseline: dict[str, Any] = normalised(EMPTY_SCREEN) or dict(EMPTY_SCREEN)
        self.recovered_document: dict[str, Any] | None = None
        self._recovery_timer = QTimer(self)
        self._recovery_timer.setSingleShot(True)
        self._recovery_timer.setInterval(1500)
        self._recovery_timer.timeout.connect(self.write_recovery)

    # -- state ----------------------------------------------------------------------------------
    def is_dirty(self) -> bool:
        """True when the builder's screen differs from the last saved or opened version."""
        current = normalised(self.builder.document())
        return current is None or current != self.baseline

    def edited(self) -> None:
        """The builder changed: schedule the recovery file when the screen now differs."""
        if self.is_dirty():
            self._recovery_timer.start()

    def title(self, app_name: str) -> str:
        name = self.builder.document().get("name") or self.tr("Untitled")
        kind = {"preset": self.tr(" (preset)"), "file": self.tr(" (file)"), "new": ""}.get(self.source.kind, "")
        return f"{name}{kind}[*] — {app_name}"  # Qt puts "*" at [*] while modified

    # -- opening --------------------------------------------------------------------------------
    def presets(self) -> dict[str, dict]:
        if self.backend is None:
            return {}
        try:
            return self.backend.presets()
        except (PickaxeError, ImportError, OSError) as exc:
            log.warning("presets unavailable: %s", exc)
            return {}

    def saved_names(self) -> list[str]:
        try:
            return self.backend.saved_screens() if self.backend else []
        except (PickaxeError, ImportError) as exc:
            log.info("saved screens unavailable: %s", exc)
            return []

    def set_document(self, doc: dict[str, Any], source: ScreenSource, *, baseline: bool = True) -> None:
        """Show ``doc`` in the builder; ``baseline`` marks it as the saved state."""
        self.source = source
        if baseline:
            self.baseline = normalised(doc) or doc
        self.builder.set_document(doc)
        self.opened.emit()

    def open(self, name_or_file: str, quiet: bool = False, ask: bool = True) -> bool:
        """Open a saved screen, preset or file by name; False (with a message) when it fails.

        Unsaved edits to the open screen are asked about first unless ``ask`` is False.
        """
        if ask and not self.confirm_discard():
            return False
        if self.backend is None:
            return False
        try:
            screen = self.backend.load_screen(name_or_file)
        except (PickaxeError, ImportError, OSError) as exc:
            if not quiet:
                messages.show_error(self._owner, exc if isinstance(exc, PickaxeError) else PickaxeError(str(exc)))
            log.info("cannot open screen %r: %s", name_or_file, exc)
            return False
        from desktop.engine.screen import screen_to_dict

        if Path(name_or_file).suffix.lower() in (".json", ".xlsx"):
            source = ScreenSource("file", name_or_file)
        elif name_or_file in self.presets() and name_or_file not in self.saved_names():
            source = ScreenSource("preset", name_or_file)
        else:
            source = ScreenSource("saved", screen.name)
        self.set_document(screen_to_dict(screen), source)
        self.settings.last_screen = name_or_file
        return True

    def open_initial(self, explicit: str | None) -> None:
        """The screen asked for on the command line, else the last one, else the first preset."""
        wanted = explicit or self.settings.last_screen
        if wanted and self.open(wanted, quiet=not explicit, ask=False):
            return
        presets = self.presets()
        if presets:
            self.open(next(iter(presets)), quiet=True, ask=False)
        else:
            self.set_document(dict(EMPTY_SCREEN), ScreenSource("new", ""))

    def new(self) -> None:
        if self.confirm_discard():
            self.set_document(dict(EMPTY_SCREEN), ScreenSource("new", ""))
            self.builder.add_criterion()

    def open_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self._owner, self.tr("Open screen"), self.settings.last_folder,
                                              self.tr("Screens (*.json *.xlsx);;All files (*)"))
        if path:
            self.settings.last_folder = str(Path(path).parent)
            self.open(path)

    # -- saving ---------------------------------------------------------------------------------
    def save(self) -> None:
        """Save under the current name; presets, files and new screens ask for a name first."""
        if self.source.kind != "saved":
            self.save_as()
            return
        self._save(self.builder.document())

    def save_as(self) -> None:
        doc = self.builder.document()
        suggestion = str(doc.get("name") or "")
        if self.source.kind == "preset":
            suggestion = self.tr("%s (my copy)") % suggestion
        name, ok = QInputDialog.getText(self._owner, self.tr("Save screen as"), self.tr("Name:"), text=suggestion)
        if not ok or not name.strip():
            return
        doc["name"] = name.strip()
        self._save(doc)

    def _save(self, doc: dict[str, Any]) -> None:
        from desktop.engine.screen import parse_screen, screen_to_dict

        try:
            screen = parse_screen(doc)
        except ScreenDefinitionError as exc:
            messages.show_error(self._owner, exc, self.tr("The screen cannot be saved"))
            return
        if self.backend is None:
            return
        backend = self.backend
        self.status.emit(self.tr("Saving…"), 0)

        def done(saved: Any) -> None:
            name = str(getattr(saved, "name", screen.name))
            version = getattr(saved, "version", None)
            self.source = ScreenSource("saved", name)
            self.baseline = screen_to_dict(screen)
            self.builder.set_name(name)
            self.settings.last_screen = name
            self.clear_recovery()
            self.changed.emit()
            self.status.emit(self.tr("Saved “%s” (version %s)") % (name, version), 5000)
            self.saved.emit()

        self.write_slot.start(lambda state: backend.save_screen(screen), done,
                              lambda exc: messages.show_error(self._owner, exc, self.tr("Saving the screen")))

    def revert(self) -> None:
        self.set_document(dict(self.baseline), self.source)
        self.clear_recovery()

    def confirm_discard(self) -> bool:
        """Ask before unsaved edits would be replaced; True when it is fine to go on."""
        if not self._can_lose_edits() or not self.is_dirty():
            return True
        answer = QMessageBox.question(
            self._owner, self.tr("Unsaved changes"),
            self.tr("The screen “%s” has unsaved changes. Save them first?") % (
                self.builder.document().get("name") or self.tr("Untitled")),
            QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard
            | QMessageBox.StandardButton.Cancel, QMessageBox.StandardButton.Save)
        if answer == QMessageBox.StandardButton.Cancel:
            return False
        if answer == QMessageBox.StandardButton.Save:
            self.save()
            return not self.is_dirty() or self.write_slot.is_busy()
        self.clear_recovery()
        return True

    # -- versions -------------------------------------------------------------------------------
    def show_history(self) -> None:
        if self.source.kind != "saved" or self.backend is None:
            return
        try:
            rows = self.backend.history(self.source.name)
        except (PickaxeError, ImportError) as exc:
            messages.show_error(self._owner, exc if isinstance(exc, PickaxeError) else PickaxeError(str(exc)))
            return
        entries = [VersionEntry(int(getattr(r, "version", 0)),
                                str(getattr(r, "saved_at", getattr(r, "created_at", "")) or "")[:19],
                                str(getattr(r, "description", "") or ""),
                                dict(getattr(r, "definition", {}) or {})) for r in rows]
        dialog = VersionHistoryDialog(self.source.name, entries, self._owner)
        self.history_dialog = dialog
        dialog.accepted.connect(lambda: self._restore_version(dialog.chosen_version()))
        dialog.open()

    def _restore_version(self, version: int | None) -> None:
        if version is None or self.backend is None:
            return
        backend, name = self.backend, self.source.name

        def done(_new_version: Any) -> None:
            self.open(name, ask=False)
            self.status.emit(self.tr("Restored version %d of “%s”") % (version, name), 5000)
            self.saved.emit()

        self.write_slot.start(lambda state: backend.restore(name, version), done,
                              lambda exc: messages.show_error(self._owner, exc))

    # -- recovery -------------------------------------------------------------------------------
    @staticmethod
    def recovery_file() -> Path:
        return paths.data_dir() / "recovery" / "screen.json"

    def write_recovery(self) -> None:
        if not self.is_dirty():
            return
        path = self.recovery_file()
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"source": [self.source.kind, self.source.name],
                                   "document": self.builder.document()}, ensure_ascii=False, indent=1),
                       encoding="utf-8")
        tmp.replace(path)

    def clear_recovery(self) -> None:
        self._recovery_timer.stop()
        self.recovery_file().unlink(missing_ok=True)

    def pending_recovery(self) -> tuple[dict[str, Any], Callable[[], None], Callable[[], None]] | None:
        """Unsaved edits kept from the last session: (document, restore, discard), or None."""
        path = self.recovery_file()
        if not path.is_file():
            return None
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            doc = dict(data["document"])
            kind, name = data.get("source", ["new", ""])
        except (OSError, ValueError, KeyError, TypeError) as exc:
            log.warning("ignoring unreadable recovery file %s: %s", path, exc)
            return None
        self.recovered_document = doc

        def restore() -> None:
            self.set_document(doc, ScreenSource(str(kind), str(name)), baseline=False)
            self.baseline = {}
            self.changed.emit()

        return doc, restore, self.clear_recovery

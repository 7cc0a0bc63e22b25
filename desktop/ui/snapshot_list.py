"""The snapshot picker and the snapshots made outside the window (issue #17).

The controller lists the store's snapshots, newest first, in the window's picker and remembers
which ids it has listed. It looks again every :data:`SNAPSHOT_POLL_MS` and when the window is
activated: a snapshot made elsewhere (the CLI, a refresh in another window) is added to the picker
and offered in the info banner, but the snapshot shown is never switched without the user. It
never loads anything itself: the window hears ``show_requested`` and loads that snapshot.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QComboBox, QWidget

from desktop.engine.formatting import counted
from desktop.errors import PickaxeError
from desktop.ui import messages
from desktop.ui.backend import Backend
from desktop.ui.widgets import Banner

log = logging.getLogger(__name__)

# How often the list looks for snapshots made outside the window (the CLI, another window).
SNAPSHOT_POLL_MS = 30_000


class SnapshotList(QObject):
    """The snapshot picker, kept in step with the store.

    Signals:
        show_requested(int): show this snapshot (picked, chosen on a reload, or offered and accepted).
        emptied(): the store has no snapshot (or they could not be listed).
    """

    show_requested = Signal(int)
    emptied = Signal()

    def __init__(self, owner: QWidget, backend: Backend | None, combo: QComboBox, banner: Banner,
                 is_ready: Callable[[], bool]) -> None:
        """``is_ready`` tells whether the window shows its first result (or its empty state):
        until then nothing is offered, the start-up lists the snapshots itself."""
        super().__init__(owner)
        self._owner = owner
        self.backend = backend
        self.combo = combo
        self._banner = banner
        self._is_ready = is_ready
        self._known: set[int] = set()
        self.timer = QTimer(self)
        self.timer.setInterval(SNAPSHOT_POLL_MS)
        self.timer.timeout.connect(self.check_new)
        combo.activated.connect(self._picked)

    @property
    def known(self) -> frozenset[int]:
        """The ids listed in the picker."""
        return frozenset(self._known)

    def current_id(self) -> int | None:
        """The snapshot chosen in the picker (None when the list is empty)."""
        data = self.combo.currentData()
        return None if data is None else int(data)

    def start_polling(self) -> None:
        self.timer.start()

    def stop_polling(self) -> None:
        self.timer.stop()

    def window_activated(self) -> None:
        """Look for new snapshots once the activation's own events are handled."""
        QTimer.singleShot(0, self.check_new)

    def fill(self, infos: list[Any], select: int | None = None) -> None:
        """List ``infos`` (newest first) in the picker, ``select`` chosen (else the newest)."""
        self._known = {int(info.id) for info in infos}
        self.combo.blockSignals(True)  # refilling is not the user picking
        self.combo.clear()
        for info in infos:
            label = self.tr("%s  (#%d, %s)") % (info.as_of.isoformat(), info.id, counted(info.n_members, self.tr("member")))
            self.combo.addItem(label, info.id)
        index = self.combo.findData(select) if select is not None else -1
        self.combo.setCurrentIndex(max(index, 0))
        self.combo.blockSignals(False)

    def reload(self, *, select_latest: bool = False, select_id: int | None = None,
               infos: list[Any] | None = None) -> None:
        """List the snapshots (``infos`` when just read, else the store's) and ask for one to be
        shown: ``select_id``, else the newest with ``select_latest``, else the one chosen now."""
        assert self.backend is not None
        if infos is None:
            try:
                infos = self.backend.snapshots()
            except PickaxeError as exc:
                messages.show_error(self._owner, exc)
                infos = []
        if select_id is None and not select_latest:
            select_id = self.current_id()
        self.fill(infos, select_id)
        current = self.current_id()
        if current is None:
            self.emptied.emit()
        else:
            self.show_requested.emit(current)

    def check_new(self) -> list[int]:
        """Offer snapshots made outside this window; returns their ids (each is offered once).

        The picker lists them at once, the chosen snapshot stays; a banner offers the newest.
        """
        if self.backend is None or not self._is_ready():
            return []
        try:
            infos = self.backend.snapshots()
        except PickaxeError as exc:  # polled: a passing lock is no reason for a dialog
            log.info("cannot list snapshots: %s", exc)
            return []
        new = [info for info in infos if int(info.id) not in self._known]
        if not new:
            return []
        newest = max(new, key=lambda info: int(info.id))
        was_empty = not self._known
        self.fill(infos, self.current_id())
        described = self.tr("#%d as of %s (%s)") % (newest.id, newest.as_of.isoformat(),
                                                 counted(newest.n_members, self.tr("member")))
        if was_empty:  # the empty state has nothing to keep: show the newest at once, and say so
            self.show(int(newest.id))
            self._banner.show_message(self.tr("Showing a snapshot made outside this window: %s.") % described)
            return [int(info.id) for info in new]
        text = self.tr("A new snapshot was made outside this window: %s.") % described
        if len(new) > 1:
            text += " " + self.tr("%d new snapshots in all.") % len(new)
        self._banner.show_message(text, ((self.tr("Show it"), lambda: self.show(int(newest.id))),))
        return [int(info.id) for info in new]

    def show(self, snapshot_id: int) -> None:
        """Choose ``snapshot_id`` in the picker and ask for it to be shown (the offer is done)."""
        self._banner.hide()
        self.combo.setCurrentIndex(max(self.combo.findData(snapshot_id), 0))
        self.show_requested.emit(snapshot_id)

    def _picked(self, _index: int) -> None:
        current = self.current_id()
        if current is not None:
            self.show_requested.emit(current)

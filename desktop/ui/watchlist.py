"""Pinning stocks and the watchlist view (issue #17).

The controller owns the pinned set and the non-modal :class:`WatchlistDialog` (built on first
use). Pins and notes are written on the window's write pool, so they queue behind a save; the
dialog is refilled after each write, and the window hears of every change of pins to update the
detail pane and the Pin action.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import pandas as pd
from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QWidget

from desktop.errors import PickaxeError
from desktop.ui import messages
from desktop.ui.backend import Backend
from desktop.ui.workers import TaskSlot, TaskState


class WatchlistController(QObject):
    """Pins and unpins stocks, saves notes and keeps the watchlist view in step.

    Signals:
        pins_changed(): the pinned set changed (after the write).
        symbol_activated(str): the user asked for this stock in the results (from the view).
        status(str, int): a status-bar message and its timeout in ms.
    """

    pins_changed = Signal()
    symbol_activated = Signal(str)
    status = Signal(str, int)

    def __init__(self, owner: QWidget, backend: Backend | None, write_slot: TaskSlot,
                 stock_names: Callable[[], pd.Series | None]) -> None:
        """``stock_names`` gives the shown snapshot's name column (None without one)."""
        super().__init__(owner)
        self._owner = owner
        self.backend = backend
        self.write_slot = write_slot
        self._stock_names = stock_names
        self.pinned: set[str] = set()  # the watchlist's symbols, as last read or written
        self.dialog: Any = None  # the WatchlistDialog, built on first use

    def reset(self, pinned: Iterable[str]) -> None:
        """The pinned symbols as read with a snapshot (no signal: the window shows it next)."""
        self.pinned = set(pinned)

    def is_pinned(self, symbol: str) -> bool:
        return symbol in self.pinned

    def toggle(self, symbols: list[str]) -> None:
        """Pin ``symbols``, or unpin them when the first is pinned already."""
        if not symbols or self.backend is None:
            return
        pin = symbols[0] not in self.pinned
        backend = self.backend

        def work(state: TaskState) -> None:
            for s in symbols:
                backend.set_pinned(s, pin)

        def done(_r: Any) -> None:
            self.pinned = (self.pinned | set(symbols)) if pin else (self.pinned - set(symbols))
            self.pins_changed.emit()
            self._fill()
            self.status.emit((self.tr("Pinned %s") if pin else self.tr("Unpinned %s")) % ", ".join(symbols), 4000)

        self.write_slot.start(work, done, lambda exc: messages.show_error(self._owner, exc))

    def show(self) -> None:
        """The watchlist view: pinned stocks with notes (non-modal, kept in step with pins)."""
        if self.backend is None:
            return
        if self.dialog is None:
            from desktop.ui.dialogs.watchlist_dialog import WatchlistDialog

            dialog = WatchlistDialog(self._owner)
            dialog.note_edited.connect(self._note_edited)
            dialog.unpin_requested.connect(self._unpin)
            dialog.symbol_activated.connect(self.symbol_activated)
            self.dialog = dialog
        self._fill()
        self.dialog.show()
        self.dialog.raise_()

    def _fill(self) -> None:
        if self.dialog is None or self.backend is None:
            return
        try:
            entries = self.backend.watch_entries()
        except PickaxeError as exc:
            messages.show_error(self._owner, exc)
            return
        names: dict[str, str] = {}
        col = self._stock_names()
        if col is not None:
            names = {str(e.symbol): str(col.get(e.symbol)) for e in entries if isinstance(col.get(e.symbol), str)}
        self.dialog.set_entries(entries, names)

    def _note_edited(self, symbol: str, note: str) -> None:
        assert self.backend is not None
        backend = self.backend
        self.write_slot.start(lambda state: backend.set_note(symbol, note),
                              lambda _r: self.status.emit(self.tr("Note saved for %s") % symbol, 3000),
                              lambda exc: messages.show_error(self._owner, exc))

    def _unpin(self, symbols: list[str]) -> None:
        if not symbols or self.backend is None:
            return
        backend = self.backend

        def work(state: TaskState) -> None:
            for s in symbols:
                backend.set_pinned(s, False)

        def done(_r: Any) -> None:
            self.pinned -= set(symbols)
            self._fill()
            self.pins_changed.emit()

        self.write_slot.start(work, done, lambda exc: messages.show_error(self._owner, exc))

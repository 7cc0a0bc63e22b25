"""Opening the store and reading snapshots on the load worker (issue #17: start-up).

The window shows its calm loading page first; :class:`StoreLoader` opens the store only once that
page has been painted (SQLAlchemy, the models and the migration check need not delay it), lists the
snapshots, and reads each snapshot the window asks for, with every field's coverage and the
watchlist, off the GUI thread. One load slot serves both, so a newer request always replaces an
older one and a stale result never lands. What the window does with the results stays in the window.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QObject, Qt, QTimer, Signal

from desktop import paths
from desktop.engine.coverage import FieldCoverage, field_coverage
from desktop.errors import Cancelled, PickaxeError
from desktop.ui.backend import Backend
from desktop.ui.widgets import LoadingState
from desktop.ui.workers import TaskSlot, TaskState

log = logging.getLogger(__name__)

# The store is opened once the loading page is painted, or after this long without a paint.
OPEN_STORE_FALLBACK_MS = 500


def store_name(db_url: str | None) -> str:
    """The store as the loading page names it: its file, or the URL without a password."""
    url = paths.database_url(db_url)
    if url.startswith("sqlite:///"):
        return url.removeprefix("sqlite:///")
    scheme, _, rest = url.partition("://")
    return f"{scheme}://{rest.rpartition('@')[2]}"


@dataclass(frozen=True)
class Opened:
    """What the start-up worker found: the open store and its snapshots, newest first."""

    backend: Backend
    infos: list[Any]


@dataclass(frozen=True)
class Loaded:
    """A snapshot read on a worker: its ``TableBundle`` and every field's coverage (both off the
    GUI thread: the coverage counts ~0.1 s on the full universe)."""

    bundle: Any
    coverage: Mapping[str, FieldCoverage]
    pinned: frozenset[str] = frozenset()  # the watchlist's symbols (read on the worker too)

    @classmethod
    def of(cls, backend: Backend, snapshot_id: int | None) -> Loaded:
        bundle = backend.load_table(snapshot_id)
        try:
            pinned = backend.watchlist()
        except (PickaxeError, ImportError) as exc:
            log.info("watchlist unavailable: %s", exc)
            pinned = set()
        return cls(bundle, field_coverage(bundle.table.values, bundle.table.status), frozenset(pinned))


def open_store(db_url: str | None, state: TaskState) -> Opened:
    """Open the store at ``db_url`` and list its snapshots (on a worker).

    Raises:
        PickaxeError: the store cannot be opened (locked, damaged, too new, a failed migration).
    """
    backend = Backend(db_url)
    try:
        infos = backend.snapshots()
        if state.is_cancelled():  # the window closed while opening
            raise Cancelled()
    except BaseException:
        backend.close()
        raise
    return Opened(backend, infos)


class StoreLoader(QObject):
    """Opens the store after the loading page's first paint, then reads snapshots, on one worker.

    Signals:
        opened(Opened): the store is open and its snapshots listed.
        open_failed(BaseException): it could not be opened.
        loaded(Loaded): a snapshot asked for with :meth:`load` was read.
        load_failed(BaseException): it could not be read.
    """

    opened = Signal(object)
    open_failed = Signal(object)
    loaded = Signal(object)
    load_failed = Signal(object)

    def __init__(self, db_url: str | None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._db_url = db_url
        self._opening_started = False
        self.slot = TaskSlot("load", parent=self)

    def is_busy(self) -> bool:
        return self.slot.is_busy()

    def cancel(self) -> None:
        self.slot.cancel()

    def open_after_paint(self, page: LoadingState, visible: bool) -> None:
        """Open the store once ``page`` has been painted (at once when it cannot be: hidden)."""
        if visible and not page.was_painted:
            # The timer opens it anyway should no paint come (a minimised window).
            page.painted.connect(self.open, Qt.ConnectionType.QueuedConnection)
            QTimer.singleShot(OPEN_STORE_FALLBACK_MS, self.open)
        else:
            self.open()

    def open(self) -> None:
        """Open the store and list its snapshots on the worker (once)."""
        if self._opening_started:
            return
        self._opening_started = True
        url = self._db_url
        self.slot.start(lambda state: open_store(url, state), self.opened.emit, self.open_failed.emit)

    def load(self, backend: Backend, snapshot_id: int | None) -> None:
        """Read ``snapshot_id`` (None: the newest) on the worker, replacing any read in flight."""
        self.slot.start(lambda _state: Loaded.of(backend, snapshot_id), self.loaded.emit, self.load_failed.emit)

"""Background work for the window: QRunnables on QThreadPool reporting through a task state.

The services take plain ``progress(done, total, message)`` and ``is_cancelled()`` callables
(docs/architecture.md); :class:`TaskState` binds both to one task and re-emits progress as Qt
signals, which reach GUI-thread slots through queued connections. :class:`TaskSlot` keeps one
task of a kind alive at a time: starting a new one cancels and disconnects the old one, so a stale
result can never land (issue #6; Orange's ``TaskState``/``ConcurrentMixin``).

Workers never touch widgets. Database writes go to a one-thread pool so they are serialized.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, Slot

from desktop.errors import Cancelled

log = logging.getLogger(__name__)

_WRITE_POOL: QThreadPool | None = None


def read_pool() -> QThreadPool:
    """The shared pool for reads and network fetches (may run in parallel)."""
    return QThreadPool.globalInstance()


def write_pool() -> QThreadPool:
    """A single-thread pool: every database write queues here, one at a time."""
    global _WRITE_POOL
    if _WRITE_POOL is None:
        _WRITE_POOL = QThreadPool()
        _WRITE_POOL.setMaxThreadCount(1)
        _WRITE_POOL.setObjectName("pickaxe-db-writes")
    return _WRITE_POOL


class TaskState(QObject):
    """Progress, cancellation and outcome of one background task.

    Emits:
        progress_changed(done, total, message): from the worker thread; queued to GUI slots.
        finished(result): the work function returned.
        failed(exception): the work function raised (not :class:`Cancelled`).
        cancelled(): the user (or a newer task) cancelled it.
    """

    progress_changed = Signal(int, int, str)
    finished = Signal(object)
    failed = Signal(object)
    cancelled = Signal()

    def __init__(self, name: str = "") -> None:
        super().__init__()
        self.name = name
        self._cancel = threading.Event()
        self.started_at = time.monotonic()
        self.done = 0
        self.total = 0

    def cancel(self) -> None:
        """Ask the work to stop at its next check."""
        self._cancel.set()

    def is_cancelled(self) -> bool:
        """The ``is_cancelled`` callable handed to services."""
        return self._cancel.is_set()

    def progress(self, done: int, total: int, message: str = "") -> None:
        """The ``progress`` callable handed to services (called from the worker thread)."""
        self.done, self.total = int(done), int(total)
        self.progress_changed.emit(int(done), int(total), str(message))

    def eta_seconds(self) -> float | None:
        """Remaining seconds, extrapolated linearly from the rate so far; None until known."""
        if self.done <= 0 or self.total <= 0 or self.done > self.total:
            return None
        elapsed = time.monotonic() - self.started_at
        return elapsed / self.done * (self.total - self.done)


class FunctionWorker(QRunnable):
    """Runs ``fn(state)`` on a pool thread and reports the outcome through ``state``."""

    def __init__(self, fn: Callable[[TaskState], Any], state: TaskState) -> None:
        super().__init__()
        self.fn = fn
        self.state = state
        self.setAutoDelete(True)

    def run(self) -> None:  # noqa: D102 - QRunnable override
        state = self.state
        try:
            if state.is_cancelled():
                raise Cancelled()
            result = self.fn(state)
        except Cancelled:
            state.cancelled.emit()
        except Exception as exc:  # handed to the GUI thread, which logs and shows it
            log.debug("task %s failed: %r", state.name, exc)
            state.failed.emit(exc)
        else:
            if state.is_cancelled():
                state.cancelled.emit()
            else:
                state.finished.emit(result)


class TaskSlot(QObject):
    """One running task of a kind (refresh, import, export...); a new start cancels the old one.

    Handlers are called on the GUI thread and only for the current task: the previous task's
    signals are disconnected the moment a newer task starts.
    """

    busy_changed = Signal(bool)

    def __init__(self, name: str, pool: QThreadPool | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.name = name
        self._pool = pool
        self.current: TaskState | None = None
        self._on_done: Callable[[Any], None] | None = None
        self._on_failed: Callable[[BaseException], None] | None = None
        self._on_progress: Callable[[int, int, str], None] | None = None
        self._on_cancelled: Callable[[], None] | None = None

    def is_busy(self) -> bool:
        return self.current is not None

    def start(
        self,
        fn: Callable[[TaskState], Any],
        on_done: Callable[[Any], None],
        on_failed: Callable[[BaseException], None] | None = None,
        on_progress: Callable[[int, int, str], None] | None = None,
        on_cancelled: Callable[[], None] | None = None,
    ) -> TaskState:
        """Cancel any running task of this slot and start ``fn(state)`` in the background."""
        self.cancel()
        state = TaskState(self.name)
        self._on_done, self._on_failed = on_done, on_failed
        self._on_progress, self._on_cancelled = on_progress, on_cancelled
        # Bound slots of this QObject: Qt queues them to the GUI thread.
        state.finished.connect(self._finished)
        state.failed.connect(self._failed)
        state.cancelled.connect(self._cancelled)
        state.progress_changed.connect(self._progress)
        self.current = state
        self.busy_changed.emit(True)
        (self._pool or read_pool()).start(FunctionWorker(fn, state))
        return state

    def cancel(self) -> None:
        """Cancel the running task (if any); its late signals are ignored."""
        state = self.current
        if state is None:
            return
        state.cancel()
        for signal in (state.finished, state.failed, state.cancelled, state.progress_changed):
            try:
                signal.disconnect()
            except (RuntimeError, TypeError):  # already disconnected
                pass
        self.current = None
        self.busy_changed.emit(False)

    def _is_current(self) -> bool:
        return self.sender() is self.current and self.current is not None

    def _end(self) -> None:
        self.current = None
        self.busy_changed.emit(False)

    @Slot(object)
    def _finished(self, result: object) -> None:
        if not self._is_current():
            return
        self._end()
        if self._on_done:
            self._on_done(result)

    @Slot(object)
    def _failed(self, exc: object) -> None:
        if not self._is_current():
            return
        self._end()
        if self._on_failed and isinstance(exc, BaseException):
            self._on_failed(exc)

    @Slot()
    def _cancelled(self) -> None:
        if not self._is_current():
            return
        self._end()
        if self._on_cancelled:
            self._on_cancelled()

    @Slot(int, int, str)
    def _progress(self, done: int, total: int, message: str) -> None:
        if self._is_current() and self._on_progress:
            self._on_progress(done, total, message)


def shutdown(timeout_ms: int = 3000) -> bool:
    """Wait for running work after cancellation was requested; True if everything stopped."""
    ok = read_pool().waitForDone(timeout_ms)
    if _WRITE_POOL is not None:
        ok = _WRITE_POOL.waitForDone(timeout_ms) and ok
    return ok

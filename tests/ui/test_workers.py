"""Workers: outcome signals on the GUI thread, progress, cancellation, stale results dropped."""

from __future__ import annotations

import threading

import pytest

from desktop.errors import Cancelled
from desktop.ui.workers import TaskSlot, TaskState, read_pool, write_pool


@pytest.fixture
def slot(qtbot: object) -> TaskSlot:
    s = TaskSlot("test")
    yield s
    s.cancel()
    read_pool().waitForDone(5000)


def test_result_and_progress_arrive_on_the_gui_thread(qtbot: object, slot: TaskSlot) -> None:
    seen: list[tuple[int, int, str]] = []
    results: list[object] = []
    main = threading.get_ident()
    threads: list[int] = []

    def work(state: TaskState) -> int:
        for i in range(3):
            state.progress(i + 1, 3, f"step {i + 1}")
        return 42

    def on_progress(done: int, total: int, message: str) -> None:
        threads.append(threading.get_ident())
        seen.append((done, total, message))

    with qtbot.waitSignal(slot.busy_changed, check_params_cb=lambda busy: busy is False):  # type: ignore[attr-defined]
        slot.start(work, results.append, on_progress=on_progress)
    qtbot.waitUntil(lambda: len(seen) == 3)  # type: ignore[attr-defined]
    assert results == [42]
    assert seen[-1] == (3, 3, "step 3")
    assert set(threads) == {main}


def test_failure_is_reported_not_raised(qtbot: object, slot: TaskSlot) -> None:
    errors: list[BaseException] = []
    with qtbot.waitSignal(slot.busy_changed, check_params_cb=lambda busy: not busy):  # type: ignore[attr-defined]
        slot.start(lambda state: 1 / 0, lambda r: None, errors.append)
    assert isinstance(errors[0], ZeroDivisionError)


def test_cancel_is_seen_by_the_work_and_reported_silently(qtbot: object, slot: TaskSlot) -> None:
    started = threading.Event()
    results: list[object] = []

    def work(state: TaskState) -> None:
        started.set()
        while not state.is_cancelled():
            state.progress(0, 0)
            threading.Event().wait(0.005)
        raise Cancelled()

    state = slot.start(work, results.append)
    assert started.wait(5)
    slot.cancel()
    assert state.is_cancelled() and not slot.is_busy()
    read_pool().waitForDone(5000)
    assert results == []


def test_a_newer_task_cancels_the_older_and_its_result_never_lands(qtbot: object, slot: TaskSlot) -> None:
    release = threading.Event()
    results: list[object] = []

    def old(state: TaskState) -> str:
        release.wait(5)
        return "stale"  # finishes after the newer task started: must be dropped

    first = slot.start(old, results.append)
    with qtbot.waitSignal(slot.busy_changed, check_params_cb=lambda busy: not busy):  # type: ignore[attr-defined]
        slot.start(lambda state: "fresh", results.append)
    assert first.is_cancelled()
    release.set()
    read_pool().waitForDone(5000)
    qtbot.wait(20)  # type: ignore[attr-defined]  # let any queued (disconnected) signal be delivered
    assert results == ["fresh"]


def test_eta_is_extrapolated() -> None:
    state = TaskState()
    assert state.eta_seconds() is None
    state.started_at -= 10
    state.progress(1, 5)
    eta = state.eta_seconds()
    assert eta is not None and 35 < eta < 45


def test_write_pool_is_serial() -> None:
    assert write_pool().maxThreadCount() == 1

"""The token bucket that keeps Yahoo requests polite (desktop/data/throttle.py)."""

from __future__ import annotations

import threading
import time
from bisect import bisect_left

import pytest

from desktop.data.throttle import TokenBucket
from desktop.errors import Cancelled


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def bucket(rate: float, capacity: float = 1.0) -> tuple[TokenBucket, FakeClock]:
    clock = FakeClock()
    return TokenBucket(rate, capacity, clock=clock, sleep=clock.sleep), clock


def max_in_window(stamps: list[float], window: float) -> int:
    stamps = sorted(stamps)
    return max(bisect_left(stamps, t + window - 1e-9) - i for i, t in enumerate(stamps))


def test_spacing_at_the_configured_rate() -> None:
    limiter, clock = bucket(rate=10)
    stamps = []
    for _ in range(50):
        limiter.acquire()
        stamps.append(clock.now)
    gaps = [b - a for a, b in zip(stamps, stamps[1:], strict=False)]
    assert gaps == pytest.approx([0.1] * 49)
    assert max_in_window(stamps, 1.0) == 10


def test_burst_up_to_capacity_then_the_rate() -> None:
    limiter, clock = bucket(rate=4, capacity=5)
    stamps = []
    for _ in range(13):
        limiter.acquire()
        stamps.append(clock.now - 100.0)
    assert stamps[:5] == [0.0] * 5
    assert stamps[5:] == pytest.approx([0.25 * i for i in range(1, 9)])
    # any window of w seconds holds at most capacity + rate * w requests
    assert max_in_window(stamps, 1.0) <= 5 + 4


def test_weighted_acquire_counts_requests() -> None:
    limiter, clock = bucket(rate=2, capacity=6)
    limiter.acquire(6)
    assert clock.now == 100.0
    waited = limiter.acquire(3)
    assert waited == pytest.approx(1.5)
    with pytest.raises(ValueError, match="capacity"):
        limiter.acquire(7)


def test_idle_time_refills_but_never_beyond_capacity() -> None:
    limiter, clock = bucket(rate=1, capacity=2)
    limiter.acquire(2)
    clock.now += 60
    assert limiter.try_acquire(2)
    assert not limiter.try_acquire(1)


def test_pause_holds_everyone_back() -> None:
    limiter, clock = bucket(rate=100, capacity=1)
    limiter.pause(2.0)
    assert not limiter.try_acquire()
    waited = limiter.acquire()
    assert waited == pytest.approx(2.0)


def test_cancel_while_waiting_gives_the_tokens_back() -> None:
    limiter, clock = bucket(rate=1, capacity=1)
    limiter.acquire()
    calls = iter([False, True])
    with pytest.raises(Cancelled):
        limiter.acquire(1, is_cancelled=lambda: next(calls))
    clock.now += 1.0
    assert limiter.try_acquire()


@pytest.mark.parametrize(("rate", "capacity"), [(0, 1), (-1, 1), (1, 0.5)])
def test_rejects_nonsense_settings(rate: float, capacity: float) -> None:
    with pytest.raises(ValueError):
        TokenBucket(rate, capacity)


def test_threads_share_one_rate() -> None:
    limiter = TokenBucket(rate=400, capacity=1)
    stamps: list[float] = []
    lock = threading.Lock()

    def work() -> None:
        for _ in range(40):
            limiter.acquire()
            now = time.monotonic()
            with lock:
                stamps.append(now)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(stamps) == 160
    # 0.05 s of slack for thread wake-up between the grant and the time stamp; unthrottled, all
    # 160 would land in the same millisecond
    assert max_in_window(stamps, 0.2) <= 1 + 400 * (0.2 + 0.05)

"""A thread-safe token bucket that keeps us polite to remote sources (issue #3).

Every request to Yahoo first takes tokens from one shared bucket: ``rate`` tokens per second refill
it, up to ``capacity``. In any time window of length ``w`` at most ``capacity + rate * w`` tokens
are handed out, whatever the number of threads, because a caller that finds the bucket short
*reserves* its tokens (the level goes negative) and sleeps until they have been paid for; later
callers queue behind it. A 429 answer can ``pause`` the whole bucket so that no thread hammers a
source that has just asked us to back off.

Hand-written rather than pyrate-limiter because the refresh needs three things together that its
public API does not give in one piece: weighted acquisition (one Yahoo call costs several HTTP
requests), a global pause on 429 and an injectable clock/sleep for deterministic tests.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from desktop.errors import Cancelled

# Sleep in slices this long so that a cancelled refresh stops waiting promptly.
_SLICE_S = 0.25


class TokenBucket:
    """Token bucket limiter.

    Args:
        rate: tokens added per second (> 0); one token = one HTTP request.
        capacity: the most tokens that can be taken in a burst (>= 1).
        clock: monotonic seconds (injectable for tests).
        sleep: sleeps the calling thread (injectable for tests).
    """

    def __init__(
        self,
        rate: float,
        capacity: float = 1.0,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not rate > 0:
            raise ValueError(f"rate must be positive, got {rate!r}")
        if not capacity >= 1:
            raise ValueError(f"capacity must be at least 1, got {capacity!r}")
        self.rate = float(rate)
        self.capacity = float(capacity)
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._level = self.capacity
        self._stamp = clock()
        self._paused_until = float("-inf")

    def _reserve(self, tokens: float) -> float:
        """Take ``tokens`` now (possibly going into debt); the time at which they are paid for."""
        with self._lock:
            start = max(self._clock(), self._paused_until)
            if start > self._stamp:
                self._level = min(self.capacity, self._level + (start - self._stamp) * self.rate)
                self._stamp = start
            self._level -= tokens
            if self._level >= 0:
                return start
            return self._stamp + (-self._level) / self.rate

    def acquire(self, tokens: float = 1.0, is_cancelled: Callable[[], bool] | None = None) -> float:
        """Block until ``tokens`` may be spent; returns the seconds waited.

        Raises:
            ValueError: more tokens than the bucket can ever hold.
            Cancelled: ``is_cancelled()`` turned true while waiting.
        """
        if tokens > self.capacity:
            raise ValueError(f"cannot take {tokens} tokens from a bucket of capacity {self.capacity}")
        began = self._clock()
        ready_at = self._reserve(tokens)
        while True:
            remaining = ready_at - self._clock()
            if remaining <= 0:
                return self._clock() - began
            if is_cancelled is not None and is_cancelled():
                self._refund(tokens)
                raise Cancelled()
            self._sleep(min(remaining, _SLICE_S) if is_cancelled is not None else remaining)

    def try_acquire(self, tokens: float = 1.0) -> bool:
        """Take ``tokens`` only if they are available right now."""
        with self._lock:
            now = self._clock()
            if now < self._paused_until:
                return False
            level = min(self.capacity, self._level + max(0.0, now - self._stamp) * self.rate)
            if level < tokens:
                return False
            self._level = level - tokens
            self._stamp = max(self._stamp, now)
            return True

    def pause(self, seconds: float) -> None:
        """Hand out no tokens for ``seconds`` from now (the source asked us to back off)."""
        with self._lock:
            self._paused_until = max(self._paused_until, self._clock() + seconds)

    def _refund(self, tokens: float) -> None:
        # A cancelled waiter gives its reservation back so the others do not wait for nothing.
        with self._lock:
            self._level = min(self.capacity, self._level + tokens)

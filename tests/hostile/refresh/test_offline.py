"""Refresh offline gives up within a deadline (issue #13, root cause 10: 100 s for one ticker).

A closed port on 127.0.0.1 stands for the unreachable source: connections are refused at once.
"""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

import pytest
import requests

from desktop.data import yahoo
from desktop.errors import SourceUnreachableError
from desktop.services.refresh import RetryPolicy, refresh
from desktop.store.db import open_database
from tests.hostile.readers.builders import store_state


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # closed again on leaving: nothing listens there


class FakeClock:
    """Monotonic time that only moves when someone sleeps (deterministic backoff)."""

    def __init__(self) -> None:
        self.now = 0.0
        self.lock = threading.Lock()

    def __call__(self) -> float:
        with self.lock:
            return self.now

    def sleep(self, seconds: float) -> None:
        with self.lock:
            self.now += max(seconds, 0.001)


class ClosedPortProvider:
    """Every fetch is a real HTTP request to a closed local port, translated as YahooProvider does."""

    source = "yahoo"
    request_cost = {"prices": 1, "info": 1, "statements": 1}
    market_symbols = {"^TNX": "yield_10y"}

    def __init__(self, port: int) -> None:
        self.url = f"http://127.0.0.1:{port}/v8/finance/chart"
        self.attempts = 0
        self.lock = threading.Lock()

    def kinds_for(self, symbol: str) -> tuple[str, ...]:
        return ("prices",) if symbol in self.market_symbols else ("prices", "info", "statements")

    def fetch(self, symbol: str, kind: str) -> str:
        with self.lock:
            self.attempts += 1
        try:
            requests.get(self.url, timeout=5)
        except requests.RequestException as exc:
            raise yahoo.translate_error(exc, symbol) from exc
        raise AssertionError("nothing should answer on a closed port")

    def to_source_data(self, raw, as_of=None):  # type: ignore[no-untyped-def]
        raise AssertionError("no snapshot is built from nothing")


@pytest.fixture
def store(tmp_path: Path) -> Path:
    return tmp_path / "store.sqlite3"


def test_probe_of_a_closed_port_fails_fast_and_changes_nothing(store: Path) -> None:
    db = open_database(str(store))
    db.dispose()
    before = store_state(store)
    provider = yahoo.YahooProvider(session=requests.Session(), probe_address=("127.0.0.1", closed_port()))
    db = open_database(str(store))
    started = time.monotonic()
    try:
        with pytest.raises(SourceUnreachableError, match="cannot connect to 127.0.0.1"):
            refresh(db, provider, ["QAAAA"], max_rate=100)
    finally:
        db.dispose()
    assert time.monotonic() - started < 60  # a generous guard against retrying for minutes
    assert store_state(store) == before


def test_unreachable_source_stops_at_the_offline_deadline(store: Path) -> None:
    clock = FakeClock()
    provider = ClosedPortProvider(closed_port())
    db = open_database(str(store))
    try:
        with pytest.raises(SourceUnreachableError, match=r"no answer for \d+ s; stopped trying"):
            refresh(db, provider, ["QAAAA", "QAAAB"], max_rate=1000, workers=2, clock=clock, sleep=clock.sleep,
                    retry=RetryPolicy(attempts=50, initial_s=2.0, max_s=120.0, jitter_s=0.0),
                    offline_after_s=15.0)
    finally:
        db.dispose()
    # Without the deadline, 50 attempts per item with backoff up to 120 s: ~5,000 s of (fake) waiting.
    assert clock.now < 15.0 + 2 * 16.0
    assert provider.attempts < 7 * 6  # a few attempts per item, not 50

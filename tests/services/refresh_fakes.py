"""A scripted stand-in for ``YahooProvider``: same interface, payloads in Yahoo's shape, and faults
on demand (errors at ticker N, 429 storms, timeouts, a "kill" that no handler may swallow)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Mapping
from datetime import date

from desktop.data import yahoo
from desktop.data.source import SourceData


class Killed(BaseException):  # noqa: N818 - it stands for the process dying, not an error
    """Simulates the process being killed mid-refresh: nothing in the refresh may catch it."""


# script(symbol, kind, attempt) -> an exception to raise, or None to answer normally.
Script = Callable[[str, str, int], BaseException | None]


def payload_for(symbol: str, kind: str) -> str:
    """A small, deterministic payload in the shape YahooProvider returns."""
    seed = sum(ord(c) for c in symbol)
    if kind == "info":
        return json.dumps({"quoteType": "EQUITY", "longName": f"{symbol} Holdings", "marketCap": 1e8 + seed,
                           "debtToEquity": 50.0 + seed % 7, "sector": "Industrials", "exchange": "NMS"})
    if kind == "statements":
        return json.dumps({"income_annual": {"EBIT": {"2023-12-31": 1e7 + seed},
                                             "Interest Expense": {"2023-12-31": 1e6}}})
    return json.dumps({"interval": "1d", "adjusted": True,
                       "close": {"2024-01-02": 10.0 + seed % 5, "2024-01-03": 10.5 + seed % 5}})


class ScriptedProvider:
    """Fake provider. Every call is logged with its monotonic time (for rate checks)."""

    source = "yahoo"
    market_symbols = yahoo.MARKET_SYMBOLS

    def __init__(self, script: Script | None = None, *, latency: float = 0.0,
                 cost: Mapping[str, int] | None = None) -> None:
        self.script = script
        self.latency = latency
        self.request_cost = dict(cost or {"info": 1, "statements": 1, "prices": 1})
        self.calls: list[tuple[float, str, str]] = []
        self.answered: list[tuple[str, str]] = []
        self._attempts: dict[tuple[str, str], int] = {}
        self._lock = threading.Lock()

    def kinds_for(self, symbol: str) -> tuple[str, ...]:
        return ("prices",) if symbol in self.market_symbols else yahoo.KINDS

    def fetch(self, symbol: str, kind: str) -> str:
        stamp = time.monotonic()
        with self._lock:
            attempt = self._attempts.get((symbol, kind), 0) + 1
            self._attempts[(symbol, kind)] = attempt
            self.calls.append((stamp, symbol, kind))
        if self.latency:
            time.sleep(self.latency)
        fault = self.script(symbol, kind, attempt) if self.script else None
        if fault is not None:
            raise fault
        with self._lock:
            self.answered.append((symbol, kind))
        return payload_for(symbol, kind)

    def fetched_symbols(self) -> set[str]:
        return {symbol for _, symbol, _ in self.calls}

    def to_source_data(self, raw: Mapping[str, Mapping[str, yahoo.CachedPayload]], as_of: date | None = None) -> SourceData:
        return yahoo.parse_raw(raw, as_of=as_of)


def tickers(n: int) -> list[str]:
    """``n`` fictional symbols: QA000, QA001, ..."""
    return [f"QA{i:03d}" if n <= 1000 else f"Q{i:04d}" for i in range(n)]

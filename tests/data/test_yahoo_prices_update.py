"""Incremental Yahoo prices (issue #14): only the days after the cached series, checked on an overlap.

yfinance runs for real against a replay transport whose chart endpoint answers from a hand-made
series of adjusted closes (a fictional ticker), honouring ``period1`` (a start date) or ``range``.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from desktop.data.yahoo import YahooProvider
from tests.conftest import FIXTURES
from tests.data.yahoo_http import Body, recorded_router, replay_session

DAYS = [d.strftime("%Y-%m-%d") for d in pd.bdate_range("2026-10-01", "2026-11-30")]


def _chart(symbol: str, closes: dict[str, float]) -> str:
    stamps = [int(datetime.fromisoformat(d).replace(hour=14, minute=30, tzinfo=UTC).timestamp()) for d in closes]
    base = json.loads((FIXTURES / "yahoo" / "chart_v8_QLWX.json").read_text())
    result = base["chart"]["result"][0]
    result["meta"]["symbol"] = symbol
    values = list(closes.values())
    result["timestamp"] = stamps
    result["indicators"] = {"quote": [{"open": values, "high": values, "low": values, "close": values,
                                       "volume": [1000] * len(values)}],
                            "adjclose": [{"adjclose": values}]}
    return json.dumps(base)


def _provider(truth: dict[str, float], asked: list[dict[str, list[str]]], tmp_path: Path) -> YahooProvider:
    fallback = recorded_router(FIXTURES / "yahoo")

    def route(host: str, path: str, query: dict[str, list[str]]) -> Body:
        if "chart" not in path:
            return fallback(host, path, query)
        asked.append(query)
        if "period1" in query:
            start = datetime.fromtimestamp(int(query["period1"][0]), UTC).strftime("%Y-%m-%d")
            return Body(200, _chart("QUPD", {d: v for d, v in truth.items() if d >= start}))
        return Body(200, _chart("QUPD", truth))

    session, _ = replay_session(route)
    return YahooProvider(session=session, cache_dir=tmp_path / "yf")


def _history_requests(asked: list[dict[str, list[str]]]) -> list[dict[str, list[str]]]:
    """The chart requests for closes (yfinance first asks range=1d for the time zone)."""
    return [q for q in asked if q.get("range") != ["1d"]]


def _cached(closes: dict[str, float]) -> str:
    return json.dumps({"interval": "1d", "adjusted": True, "close": closes})


def test_only_the_missing_days_are_fetched_and_merged(tmp_path: Path) -> None:
    truth = {d: 10.0 + i / 10 for i, d in enumerate(DAYS)}
    cached = {d: v for d, v in truth.items() if d <= "2026-11-20"}
    asked: list[dict[str, list[str]]] = []
    provider = _provider(truth, asked, tmp_path)
    merged = json.loads(provider.fetch_update("QUPD", "prices", _cached(cached)))["close"]
    assert merged == truth
    charts = _history_requests(asked)
    assert len(charts) == 1 and "period1" in charts[0] and "range" not in charts[0]
    start = datetime.fromtimestamp(int(charts[0]["period1"][0]), UTC).date().isoformat()
    assert "2026-11-10" <= start <= "2026-11-13"  # a week of overlap, not five years


def test_rebased_adjusted_closes_refetch_the_whole_period(tmp_path: Path) -> None:
    truth = {d: 10.0 + i / 10 for i, d in enumerate(DAYS)}
    cached = {d: v * 1.01 for d, v in truth.items() if d <= "2026-11-20"}  # before a 1 % dividend
    asked: list[dict[str, list[str]]] = []
    provider = _provider(truth, asked, tmp_path)
    merged = json.loads(provider.fetch_update("QUPD", "prices", _cached(cached)))["close"]
    assert merged == truth  # the re-based series as Yahoo now serves it, not a mix of two bases
    charts = _history_requests(asked)
    assert ["period1" in q for q in charts] == [True, False] and charts[1]["range"] == ["5y"]
    assert provider.requests_made() >= 2  # both fetches are charged to the throttle


def test_an_unreadable_cached_payload_falls_back_to_a_full_fetch(tmp_path: Path) -> None:
    truth = {d: 10.0 for d in DAYS}
    asked: list[dict[str, list[str]]] = []
    provider = _provider(truth, asked, tmp_path)
    assert json.loads(provider.fetch_update("QUPD", "prices", "{not json"))["close"] == truth
    assert [q.get("range") for q in _history_requests(asked)] == [["5y"]]

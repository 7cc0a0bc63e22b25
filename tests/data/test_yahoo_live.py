"""Live Yahoo Finance (off by default: ``pytest -m network``). Needs the internet."""

from __future__ import annotations

import json

import pytest

from desktop.data import yahoo
from desktop.data.yahoo import CachedPayload, YahooProvider

pytestmark = [pytest.mark.network,
              pytest.mark.filterwarnings("ignore::DeprecationWarning:yfinance", "ignore::FutureWarning:yfinance")]


def test_live_fetch_and_parse() -> None:
    from datetime import datetime

    provider = YahooProvider()
    now = datetime.now()
    raw = {"AAPL": {kind: CachedPayload(provider.fetch("AAPL", kind), now) for kind in yahoo.KINDS},
           "^TNX": {"prices": CachedPayload(provider.fetch("^TNX", "prices"), now)}}
    info = json.loads(raw["AAPL"]["info"].payload)
    assert info["marketCap"] > 1e11
    data = yahoo.parse_raw(raw)
    fields = set(data.observations["field"])
    assert {"market_cap", "reported_debt_to_equity", "ebit", "free_cash_flow"} <= fields
    assert len(data.history) >= 3
    assert data.prices is not None and len(data.prices) > 200
    assert data.market is not None and "yield_10y" in data.market


def test_live_unknown_symbol_is_no_data() -> None:
    with pytest.raises(yahoo.NoDataError):
        YahooProvider().fetch("ZZZZQQQQX", "info")

"""Replay recorded Yahoo response bodies through yfinance's own HTTP layer and parsing.

The real bodies in ../shared/data/yahoo_raw are read in place (skipped when absent) and the
results compared with what yfinance 1.7.0 made of the same bodies (yahoo_raw/derived). The
hand-made bodies of a fictional company in tests/data_files/yahoo run everywhere.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd
import pytest
import yfinance as yf

from desktop.data import yahoo
from desktop.data.yahoo import CachedPayload, YahooProvider
from tests.conftest import FIXTURES, shared_file
from tests.data.yahoo_http import recorded_router, replay_session, reset_yfinance

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:yfinance", "ignore::FutureWarning:yfinance")


@pytest.fixture(autouse=True)
def _fresh_yfinance() -> None:
    reset_yfinance()


def _raw_dir() -> Path:
    return shared_file("yahoo_raw", "derived").parent


def _observations(source: yahoo.SourceData) -> dict[tuple[str, str], pd.Series]:
    obs = source.observations
    assert obs is not None
    return {(r.symbol, r.field): r for r in obs.itertuples(index=False)}


def _derived_frame(path: Path) -> pd.DataFrame:
    frame = pd.read_csv(path, index_col=0)
    frame.columns = pd.to_datetime(frame.columns)
    return frame


def _assert_frame_payload_equals(payload: dict, expected: pd.DataFrame) -> None:
    """Every non-missing cell yfinance produced is in our payload with the same value, and no more."""
    n = 0
    for row, values in expected.iterrows():
        for column, value in values.items():
            key = pd.Timestamp(column).strftime("%Y-%m-%d")
            got = payload.get(str(row), {}).get(key)
            if pd.isna(value):
                assert got is None, (row, key)
            else:
                assert got == pytest.approx(float(value), rel=1e-12), (row, key)
                n += 1
    assert n > 50
    assert set(payload) == {str(r) for r, v in expected.iterrows() if v.notna().any()}


@pytest.mark.parametrize("symbol", ["EPAC", "BFLY"])
def test_info_replay_equals_yfinance_derived(symbol: str) -> None:
    raw = _raw_dir()
    expected = json.loads((raw / "derived" / f"yfinance1.7.0_info_{symbol}.json").read_text())
    session, urls = replay_session(recorded_router(raw))

    # yfinance itself, fed the recorded bodies, makes the same .info as when it was recorded ...
    direct = yf.Ticker(symbol, session=session).info
    assert direct == expected
    # ... and our provider keeps exactly that as its raw payload.
    info = json.loads(YahooProvider(session=session).fetch(symbol, "info"))
    assert info == json.loads(json.dumps(expected))
    assert any("/v10/finance/quoteSummary/" + symbol in u for u in urls)
    assert any("/v7/finance/quote" in u for u in urls)

    fetched = pd.Timestamp("2025-02-15")
    data = yahoo.parse_raw({symbol: {"info": CachedPayload(json.dumps(info), fetched.to_pydatetime())}})
    obs = _observations(data)
    assert obs[(symbol, "reported_debt_to_equity")].value_num == pytest.approx(expected["debtToEquity"] / 100)
    assert obs[(symbol, "levered_free_cash_flow")].value_num == expected["freeCashflow"]
    assert (symbol, "free_cash_flow") not in obs  # .info's freeCashflow is levered FCF, not OCF + capex
    assert (symbol, "interest_expense") not in obs  # .info has no interest expense
    assert obs[(symbol, "market_cap")].value_num == expected["marketCap"]
    assert obs[(symbol, "price")].value_num == expected["currentPrice"]
    assert obs[(symbol, "cash")].value_num == expected["totalCash"]
    assert obs[(symbol, "total_debt")].value_num == expected["totalDebt"]
    assert obs[(symbol, "sector")].value_text == expected["sector"]
    assert obs[(symbol, "industry")].value_text == expected["industry"]
    assert obs[(symbol, "description")].value_text == expected["longBusinessSummary"].strip()
    assert obs[(symbol, "operating_cash_flow")].period == "TTM"
    assert obs[(symbol, "market_cap")].as_of == fetched


@pytest.mark.parametrize("symbol", ["EPAC", "BFLY"])
def test_quarterly_income_statement_replay(symbol: str) -> None:
    raw = _raw_dir()
    expected = _derived_frame(raw / "derived" / f"yfinance1.7.0_quarterly_income_stmt_{symbol}.csv")
    session, _ = replay_session(recorded_router(raw))

    direct = yf.Ticker(symbol, session=session).quarterly_income_stmt
    pd.testing.assert_frame_equal(direct, expected, check_freq=False, check_names=False, check_index_type=False)

    reset_yfinance()
    payload = json.loads(YahooProvider(session=session).fetch(symbol, "statements"))
    _assert_frame_payload_equals(payload["income_quarterly"], expected)

    data = yahoo.parse_raw({symbol: {"statements": CachedPayload(json.dumps(payload), pd.Timestamp("2025-02-15").to_pydatetime())}})
    obs = _observations(data)
    quarters = expected.loc["Interest Expense"].dropna()
    if len(quarters) < 4:  # no trailing twelve months from fewer than four quarters
        assert (symbol, "interest_expense") not in obs or obs[(symbol, "interest_expense")].period != "TTM"


def test_aapl_annual_cash_flow_and_balance_sheet_replay() -> None:
    raw = _raw_dir()
    cash = _derived_frame(raw / "derived" / "yfinance1.7.0_cashflow_annual_AAPL.csv")
    balance = _derived_frame(raw / "derived" / "yfinance1.7.0_balance_sheet_annual_AAPL.csv")
    session, _ = replay_session(recorded_router(raw))

    ticker = yf.Ticker("AAPL", session=session)
    pd.testing.assert_frame_equal(ticker.cashflow, cash, check_freq=False, check_names=False)
    pd.testing.assert_frame_equal(ticker.balance_sheet, balance, check_freq=False, check_names=False)

    reset_yfinance()
    payload = json.loads(YahooProvider(session=session).fetch("AAPL", "statements"))
    _assert_frame_payload_equals(payload["cashflow_annual"], cash)
    _assert_frame_payload_equals(payload["balance_annual"], balance)

    data = yahoo.parse_raw({"AAPL": {"statements": CachedPayload(json.dumps(payload), pd.Timestamp("2025-02-15").to_pydatetime())}})
    history = data.history.set_index("period_end")
    for column, row in [("free_cash_flow", "Free Cash Flow"), ("operating_cash_flow", "Operating Cash Flow"),
                        ("capital_expenditure", "Capital Expenditure")]:
        for period_end, value in cash.loc[row].dropna().items():
            assert history.loc[period_end, column] == value
    for column, row in [("total_debt", "Total Debt"), ("current_debt", "Current Debt"),
                        ("long_term_debt", "Long Term Debt"), ("total_equity", "Stockholders Equity")]:
        for period_end, value in balance.loc[row].dropna().items():
            assert history.loc[period_end, column] == value
    # The statement definition of free cash flow holds: OCF + capex.
    fy = history.dropna(subset=["free_cash_flow"])
    assert (fy["operating_cash_flow"] + fy["capital_expenditure"] == fy["free_cash_flow"]).all()
    obs = _observations(data)
    newest = cash.columns.max()
    assert obs[("AAPL", "free_cash_flow")].value_num == cash.loc["Free Cash Flow", newest]
    assert obs[("AAPL", "free_cash_flow")].period == "FY"
    assert obs[("AAPL", "long_term_debt")].value_num == balance.loc["Long Term Debt", newest]


def test_chart_replay_gives_adjusted_close() -> None:
    raw = _raw_dir()
    body = json.loads(shared_file("yahoo_raw", "chart_v8_EPAC_2020-01-02.json").read_text())
    bar = body["chart"]["result"][0]
    session, _ = replay_session(recorded_router(raw, {"chart:EPAC": "chart_v8_EPAC_2020-01-02.json"}))
    payload = json.loads(YahooProvider(session=session).fetch("EPAC", "prices"))
    day = pd.Timestamp(bar["timestamp"][0], unit="s").strftime("%Y-%m-%d")
    assert payload["close"] == {day: pytest.approx(bar["indicators"]["adjclose"][0]["adjclose"][0])}


# ---- hand-made bodies (a fictional company), no shared data needed -------------------------------

FIXTURE = FIXTURES / "yahoo"


def _fixture_provider() -> YahooProvider:
    session, _ = replay_session(recorded_router(FIXTURE))
    return YahooProvider(session=session)


def test_fixture_info_maps_to_catalogue_fields() -> None:
    info = json.loads(_fixture_provider().fetch("QLWX", "info"))
    assert info["debtToEquity"] == 85.0 and info["marketCap"] == 500000000
    data = yahoo.parse_raw({"QLWX": {"info": CachedPayload(json.dumps(info), pd.Timestamp("2024-05-01").to_pydatetime())}})
    obs = _observations(data)
    assert obs[("QLWX", "reported_debt_to_equity")].value_num == pytest.approx(0.85)
    assert obs[("QLWX", "levered_free_cash_flow")].value_num == 18_000_000
    assert obs[("QLWX", "exchange")].value_text == "NASDAQ"
    assert obs[("QLWX", "name")].value_text == "Quarry Lantern Works Inc."
    assert obs[("QLWX", "listing_date")].value_text == "2010-01-04"
    assert "\xa0" not in obs[("QLWX", "description")].value_text
    assert obs[("QLWX", "net_income")].value_num == 21_000_000
    assert data.as_of == pd.Timestamp("2024-05-01").date()


def test_fixture_statements_history_and_trailing_values() -> None:
    payload = json.loads(_fixture_provider().fetch("QLWX", "statements"))
    assert set(payload) == set(yahoo.STATEMENT_PARTS)
    assert payload["cashflow_quarterly"] == {}  # not served: an empty statement, not an error
    data = yahoo.parse_raw({"QLWX": {"statements": CachedPayload(json.dumps(payload), pd.Timestamp("2024-05-01").to_pydatetime())}})
    history = data.history
    assert list(history["fiscal_year"]) == [2021, 2022, 2023]
    assert list(history["interest_expense"]) == [6e6, 7.5e6, 9e6]
    assert list(history["ebit"]) == [30e6, 36e6, 41e6]
    assert list(history["cash"]) == [30e6, 35e6, 40e6]
    assert (history["source"] == "yahoo").all()
    obs = _observations(data)
    # Four consecutive quarters: trailing twelve months, marked derived.
    ttm = obs[("QLWX", "interest_expense")]
    assert (ttm.value_num, ttm.period, bool(ttm.derived)) == (pytest.approx(9e6), "TTM", True)
    assert obs[("QLWX", "ebit")].value_num == pytest.approx(42e6)
    # Only three quarters of operating income: fall back to the latest fiscal year.
    op = obs[("QLWX", "operating_income")]
    assert (op.value_num, op.period, bool(op.derived)) == (40e6, "FY", False)
    # A newer quarterly balance sheet wins over the annual one; equity has only annual values.
    assert (obs[("QLWX", "long_term_debt")].value_num, obs[("QLWX", "long_term_debt")].period) == (104e6, "MRQ")
    assert (obs[("QLWX", "total_equity")].value_num, obs[("QLWX", "total_equity")].period) == (141e6, "FY")
    assert obs[("QLWX", "free_cash_flow")].value_num == 19e6


def test_fixture_prices_and_market_series() -> None:
    provider = _fixture_provider()
    payload = provider.fetch("QLWX", "prices")
    closes = json.loads(payload)["close"]
    assert closes == {"2024-01-02": 12.1, "2024-01-03": 12.2, "2024-01-04": 12.3}
    stamp = pd.Timestamp("2024-01-05").to_pydatetime()
    data = yahoo.parse_raw({"QLWX": {"prices": CachedPayload(payload, stamp)}, "^TNX": {"prices": CachedPayload(payload, stamp)}})
    assert data.prices is not None and list(data.prices.columns) == ["QLWX"]
    assert data.market is not None and list(data.market.columns) == ["yield_10y"]
    assert data.prices.index.name == "date"
    assert math.isclose(data.prices["QLWX"].iloc[-1], 12.3)


def test_unreadable_cached_payload_is_skipped_with_reason() -> None:
    stamp = pd.Timestamp("2024-01-05").to_pydatetime()
    data = yahoo.parse_raw({"QLWX": {"info": CachedPayload("{not json", stamp)},
                            "QLWY": {"info": CachedPayload('{"marketCap": 5}', stamp)}})
    assert [s.ticker for s in data.skipped] == ["QLWX"]
    assert "unreadable cached info payload" in data.skipped[0].reason
    assert _observations(data)[("QLWY", "market_cap")].value_num == 5


def test_unknown_symbol_is_no_data() -> None:
    with pytest.raises(yahoo.NoDataError, match="no data for symbol NOPEX"):
        _fixture_provider().fetch("NOPEX", "info")


def test_requests_made_counts_every_http_request_of_the_last_fetch() -> None:
    session, urls = replay_session(recorded_router(FIXTURE))
    provider = YahooProvider(session=session)
    provider.fetch("QLWX", "info")
    before = len(urls)
    provider.fetch("QLWX", "statements")
    assert provider.requests_made() == len(urls) - before >= yahoo.REQUEST_COST["statements"]

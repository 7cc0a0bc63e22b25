"""Momentum, risk and liquidity from daily closes and volumes (issue #16), on invented price paths."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from desktop.engine.metrics import MISSING, OK, STALE
from tests.engine.conftest import AS_OF, securities, table_of
from tests.engine.test_fundamentals import provenance

END = pd.Timestamp(AS_OF)


def closes(values: dict[str, np.ndarray], end: pd.Timestamp = END) -> pd.DataFrame:
    """Business-day closes ending at ``end`` (one column per symbol, all of one length)."""
    n = len(next(iter(values.values())))
    days = pd.bdate_range(end=end, periods=n, name="date")
    return pd.DataFrame(values, index=days)


def table(px: pd.DataFrame, volumes: pd.DataFrame | None = None, **kwargs):
    sec = securities(symbol=list(px.columns), market_cap=[1e9] * len(px.columns))
    extra = {"volumes": volumes} if volumes is not None else {}
    return table_of(sec, prices=px, **extra, **kwargs)


def test_returns_over_calendar_months() -> None:
    n = 300
    px = closes({"ZZA": 100.0 * np.exp(0.001 * np.arange(n))})
    t = table(px)
    days = px.index
    for months in (1, 3, 6, 12):
        target = END - pd.DateOffset(months=months)
        ref = px["ZZA"][days <= target].iloc[-1]
        assert t.values.at["ZZA", f"return_{months}m"] == pytest.approx(px["ZZA"].iloc[-1] / ref - 1), months
        assert t.status.at["ZZA", f"return_{months}m"] == OK
        assert t.origin.at["ZZA", f"return_{months}m"] == f"daily closes to {END.date()}"


def test_a_short_history_has_no_12_month_return() -> None:
    t = table(closes({"ZZA": np.linspace(10, 20, 150)}))
    assert t.status.at["ZZA", "return_12m"] == MISSING
    assert t.status.at["ZZA", "return_3m"] == OK
    assert t.status.at["ZZA", "volatility_1y"] == OK  # 149 returns >= 126


def test_range_moving_averages_and_drawdown() -> None:
    path = np.concatenate([np.linspace(100, 200, 100), np.linspace(200, 100, 60), np.linspace(100, 150, 100)])
    t = table(closes({"ZZA": path}))
    v = t.values.loc["ZZA"]
    assert v["dist_52w_high"] == pytest.approx(150 / 200 - 1)
    assert v["dist_52w_low"] == pytest.approx(150 / 100 - 1)
    assert v["max_drawdown_1y"] == pytest.approx(-0.5)
    assert v["sma50_distance"] == pytest.approx(150 / path[-50:].mean() - 1)
    assert v["sma200_distance"] == pytest.approx(150 / path[-200:].mean() - 1)


def test_volatility_is_annualised_daily_log_return_deviation() -> None:
    steps = np.tile([0.01, -0.01], 150)
    path = 50.0 * np.exp(np.concatenate([[0.0], np.cumsum(steps)]))
    t = table(closes({"ZZA": path}))
    window = np.log(path[-253:])  # the last year: 252 returns at most
    expected = np.diff(window)[-251:].std(ddof=1) * np.sqrt(252)
    assert t.values.at["ZZA", "volatility_1y"] == pytest.approx(expected, rel=0.02)


def test_a_bad_print_does_not_make_a_52_week_high() -> None:
    path = np.full(260, 20.0)
    path[100] = 2000.0  # a one-day spike that reverts (README: PVLA)
    t = table(closes({"ZZA": path}))
    assert t.values.at["ZZA", "dist_52w_high"] == pytest.approx(0.0)
    assert t.values.at["ZZA", "max_drawdown_1y"] == pytest.approx(0.0)


def test_old_closes_are_stale_and_dated_by_the_last_close() -> None:
    px = closes({"ZZA": np.linspace(10, 12, 300)}, end=END - pd.Timedelta(days=100))
    t = table(px)
    assert t.status.at["ZZA", "return_1m"] == STALE
    assert t.period_end.at["ZZA", "return_1m"] == px.index[-1]


def test_prices_after_the_snapshot_are_not_used() -> None:
    px = closes({"ZZA": np.concatenate([np.full(280, 10.0), np.full(20, 99.0)])}, end=END + pd.Timedelta(days=28))
    t = table(px)
    assert t.values.at["ZZA", "dist_52w_high"] == pytest.approx(0.0)
    assert t.period_end.at["ZZA", "dist_52w_high"] <= END


def test_liquidity_from_volumes() -> None:
    px = closes({"ZZA": np.full(100, 10.0), "ZZB": np.full(100, 5.0)})
    vol = pd.DataFrame({"ZZA": np.arange(100, dtype=float) * 1000.0}, index=px.index)
    t = table(px, vol)
    assert t.values.at["ZZA", "avg_volume"] == pytest.approx(np.arange(37, 100).mean() * 1000.0)
    assert t.values.at["ZZA", "avg_dollar_volume"] == pytest.approx(np.arange(37, 100).mean() * 10_000.0)
    assert t.status.at["ZZB", "avg_volume"] == MISSING  # closes without volumes


def test_the_reported_figure_stands_in_when_it_is_more_recent() -> None:
    px = closes({"ZZA": np.linspace(10, 12, 300), "ZZB": np.linspace(10, 12, 300)}, end=END - pd.Timedelta(days=90))
    sec = securities(symbol=["ZZA", "ZZB"], market_cap=[1e9, 1e9], reported_return_1m=[0.07, 0.07],
                     reported_avg_volume=[5e5, 5e5])
    prov = provenance([("ZZA", "reported_return_1m", 0.07, "finviz", str(END.date())),
                       ("ZZB", "reported_return_1m", 0.07, "finviz", "2025-01-02"),
                       ("ZZA", "reported_avg_volume", 5e5, "finviz", str(END.date()))])
    t = table_of(sec, prices=px, provenance=prov)
    assert t.values.at["ZZA", "return_1m"] == 0.07  # Finviz's figure is newer than the last close
    assert t.origin.at["ZZA", "return_1m"] == "finviz (reported figure)"
    assert t.status.at["ZZA", "return_1m"] == OK
    assert t.values.at["ZZB", "return_1m"] != 0.07  # older than the closes: the closes win
    assert t.values.at["ZZA", "avg_volume"] == 5e5
    assert t.values.at["ZZA", "days_to_cover"] != t.values.at["ZZA", "days_to_cover"]  # no short interest: NaN

"""The backtest on a hand-built universe whose answer is known (fictional tickers, invented prices).

Prices step on the first trading day of each month and stay flat otherwise, so every return,
weight, cost and turnover below is worked out by hand.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from desktop.engine.backtest import (
    IWM,
    SCREEN,
    UNIVERSE,
    BacktestSettings,
    Membership,
    calendar,
    members_at,
    run_backtest,
)
from desktop.engine.dataset import Dataset
from desktop.engine.pointintime import PointInTime
from desktop.engine.screen import parse_screen
from desktop.errors import Cancelled, InputError
from tests.engine.conftest import history, securities

DAYS = pd.bdate_range("2024-01-02", "2024-04-30", name="date")
# Month -> close, from that month's first trading day on.
PATHS = {
    "AAA": {1: 10.0, 2: 11.0, 3: 11.0, 4: 12.1},
    "BBB": {1: 20.0, 2: 20.0, 3: 30.0, 4: 24.0},
    "CCC": {1: 5.0, 2: 4.0, 3: 5.0, 4: 5.5},
}
IWM_PATH = {1: 100.0, 2: 105.0, 3: 102.9, 4: 108.045}
FCF_SCREEN = parse_screen({"version": 1, "name": "FCF positive", "criteria": [{"field": "fcf_positive", "is": True}]})


def closes(paths: dict[str, dict[int, float]]) -> pd.DataFrame:
    return pd.DataFrame({s: [p[d.month] for d in DAYS] for s, p in paths.items()}, index=DAYS)


def universe(paths: dict[str, dict[int, float]] | None = None, rows: list[dict] | None = None) -> Dataset:
    paths = paths or PATHS
    symbols = list(paths)
    sec = securities(symbol=symbols, name=[f"{s} Corp" for s in symbols], sector=["Industrials"] * len(symbols),
                     industry=["Machinery"] * len(symbols), shares_outstanding=[100.0, 300.0, 1000.0][:len(symbols)])
    statements = rows if rows is not None else [
        # AAA: free cash flow positive, published before the first rebalance.
        {"symbol": "AAA", "fiscal_year": 2023, "filed": "2024-01-15", "operating_cash_flow": 8.0,
         "capital_expenditure": -3.0},
        # BBB: positive, published the day after the February rebalance (2024-02-29).
        {"symbol": "BBB", "fiscal_year": 2023, "filed": "2024-03-01", "operating_cash_flow": 5.0,
         "capital_expenditure": -2.0},
        # CCC: negative free cash flow.
        {"symbol": "CCC", "fiscal_year": 2023, "filed": "2024-01-10", "operating_cash_flow": 1.0,
         "capital_expenditure": -3.0},
    ]
    market = pd.DataFrame({"IWM": [IWM_PATH[d.month] for d in DAYS], "yield_10y": 4.0}, index=DAYS)
    return Dataset(date(2024, 6, 3), sec, history(statements), prices=closes(paths), market=market)


MEMBERS = [Membership(date(2024, 6, 3), frozenset(PATHS), "holdings 2024-06-03")]
SETTINGS = BacktestSettings(date(2024, 2, 1), date(2024, 4, 30), cost_bps=0.0)


def test_calendar_forms_each_period_at_the_last_close_before_it() -> None:
    periods, notes = calendar(DAYS, SETTINGS)
    assert [(p.start.date(), p.end.date()) for p in periods] == [
        (date(2024, 1, 31), date(2024, 2, 29)), (date(2024, 2, 29), date(2024, 3, 29)),
        (date(2024, 3, 29), date(2024, 4, 30))]
    assert notes == []
    quarterly, _ = calendar(DAYS, BacktestSettings(date(2024, 2, 1), date(2024, 4, 30), rebalance="quarterly"))
    assert [(p.start.date(), p.end.date()) for p in quarterly] == [(date(2024, 1, 31), date(2024, 4, 30))]


def test_calendar_says_where_the_data_cut_the_range() -> None:
    periods, notes = calendar(DAYS, BacktestSettings(date(2023, 11, 1), date(2024, 8, 31)))
    assert periods[0].start.date() == date(2024, 1, 31) and periods[-1].end.date() == date(2024, 4, 30)
    assert len(notes) == 2 and "start" in notes[0] and "end" in notes[1]
    with pytest.raises(InputError, match="do not cover"):
        calendar(DAYS, BacktestSettings(date(2025, 1, 1), date(2025, 3, 31)))


def test_known_answer_equal_weight_without_costs() -> None:
    result = run_backtest(FCF_SCREEN, universe(), MEMBERS, SETTINGS)
    periods = result.periods
    assert list(periods["holdings"]) == [1, 1, 2]
    # AAA alone (10 -> 11, then flat); then AAA and BBB half each (+10 % and -20 %).
    np.testing.assert_allclose(periods[SCREEN], [0.10, 0.0, -0.05], atol=1e-12)
    np.testing.assert_allclose(periods[IWM], [0.05, -0.02, 0.05], atol=1e-12)
    # The universe: a third each, rebalanced monthly.
    expected_universe = [(1.1 + 1.0 + 0.8) / 3 - 1, (1.0 + 1.5 + 1.25) / 3 - 1, (1.1 + 0.8 + 1.1) / 3 - 1]
    np.testing.assert_allclose(periods[UNIVERSE], expected_universe, atol=1e-12)
    np.testing.assert_allclose(periods["turnover"], [0.5, 0.0, 0.5], atol=1e-12)
    curve = result.curves[SCREEN]
    assert curve.index[0] == pd.Timestamp("2024-01-31") and curve.iloc[0] == 1.0
    assert curve.iloc[-1] == pytest.approx(1.1 * 1.0 * 0.95)
    assert result.stats.loc[SCREEN, "total_return"] == pytest.approx(1.1 * 0.95 - 1)
    assert result.summary["share_beating_iwm"] == pytest.approx(2 / 3)  # February and March
    assert result.summary["average_holdings"] == pytest.approx(4 / 3)
    assert result.summary["average_turnover"] == pytest.approx(0.25)  # (0 + 0.5) / 2, the first buy excluded


def test_known_answer_with_costs() -> None:
    settings = BacktestSettings(date(2024, 2, 1), date(2024, 4, 30), cost_bps=10.0)
    result = run_backtest(FCF_SCREEN, universe(), MEMBERS, settings)
    c = 0.001
    v1 = (1 - c) * 1.1  # buy AAA with everything: 1.0 traded
    v2 = v1  # nothing traded
    v3 = v2 * (1 - c * 1.0) * 0.95  # sell half of AAA, buy BBB: 1.0 traded
    assert result.curves[SCREEN].loc["2024-04-30"] == pytest.approx(v3, rel=1e-12)
    np.testing.assert_allclose(result.periods["cost"], [c, 0.0, c], atol=1e-15)
    assert result.summary["total_cost"] == pytest.approx(2 * c)
    np.testing.assert_allclose(result.periods[SCREEN], [v1 - 1, 0.0, v3 / v2 - 1], atol=1e-12)


def test_market_cap_weights() -> None:
    settings = BacktestSettings(date(2024, 2, 1), date(2024, 4, 30), cost_bps=0.0, weight="cap")
    result = run_backtest(FCF_SCREEN, universe(), MEMBERS, settings)
    march = result.holdings[result.holdings["date"] == pd.Timestamp("2024-03-29")].set_index("symbol")
    caps = {"AAA": 11.0 * 100, "BBB": 30.0 * 300}  # close then x share count
    total = sum(caps.values())
    assert march.loc["AAA", "weight"] == pytest.approx(caps["AAA"] / total)
    assert march.loc["BBB", "weight"] == pytest.approx(caps["BBB"] / total)
    expected = caps["AAA"] / total * 0.10 + caps["BBB"] / total * -0.20
    assert result.periods[SCREEN].iloc[-1] == pytest.approx(expected)


def test_no_look_ahead_a_fact_filed_the_day_after_a_rebalance() -> None:
    """BBB's statements are filed on 2024-03-01, one day after the 2024-02-29 rebalance: not used
    on that date, used on the next one."""
    result = run_backtest(FCF_SCREEN, universe(), MEMBERS, SETTINGS)
    held = result.holdings[result.holdings["status"].isin(["entered", "kept"])]
    by_date = held.groupby("date")["symbol"].apply(set)
    assert by_date[pd.Timestamp("2024-02-29")] == {"AAA"}
    assert by_date[pd.Timestamp("2024-03-29")] == {"AAA", "BBB"}
    entered = held[held["symbol"] == "BBB"].iloc[0]
    assert entered["status"] == "entered" and "✓ FCF positive: yes → yes" in entered["reason"]
    pit = PointInTime(universe())
    assert pit.dataset_at(pd.Timestamp("2024-02-29"), ["BBB"]).history.empty
    assert len(pit.dataset_at(pd.Timestamp("2024-03-01"), ["BBB"]).history) == 1


def test_an_export_without_a_filing_date_counts_only_from_its_own_date() -> None:
    rows = [{"symbol": "AAA", "fiscal_year": 2024, "period_type": "TTM", "source": "finviz",
             "period_end": "2024-03-15", "free_cash_flow": 4.0}]
    pit = PointInTime(universe(rows=rows))
    assert pit.dataset_at(pd.Timestamp("2024-03-14"), ["AAA"]).history.empty
    assert len(pit.dataset_at(pd.Timestamp("2024-03-15"), ["AAA"]).history) == 1
    result = run_backtest(FCF_SCREEN, universe(rows=rows), MEMBERS, SETTINGS)
    assert list(result.periods["holdings"]) == [0, 0, 1]
    assert any("finviz" in r and "its own as-of date" in r for r in result.data_rules)
    assert any("had no stock passing" in w for w in result.warnings)


def test_prices_after_the_date_are_not_seen() -> None:
    pit = PointInTime(universe())
    data = pit.dataset_at(pd.Timestamp("2024-02-29"), ["AAA", "BBB"])
    assert data.prices.index.max() == pd.Timestamp("2024-02-29")
    assert data.market.index.max() == pd.Timestamp("2024-02-29")
    assert data.securities.loc["BBB", "price"] == 20.0  # not March's 30


def test_reasons_name_the_criteria_and_values() -> None:
    rows = [
        {"symbol": "AAA", "fiscal_year": 2023, "filed": "2024-01-15", "operating_cash_flow": 8.0,
         "capital_expenditure": -3.0},
        {"symbol": "AAA", "fiscal_year": 2024, "period_end": "2024-02-29", "filed": "2024-03-05",
         "operating_cash_flow": 1.0, "capital_expenditure": -3.0},
    ]
    result = run_backtest(FCF_SCREEN, universe(rows=rows), MEMBERS, SETTINGS)
    left = result.holdings[result.holdings["status"] == "left"]
    assert list(left["symbol"]) == ["AAA"] and left["date"].iloc[0] == pd.Timestamp("2024-03-29")
    assert left["reason"].iloc[0] == "✗ FCF positive: yes → no"


def test_a_delisted_holding_keeps_its_last_close_then_is_sold() -> None:
    paths = {**PATHS, "AAA": {1: 10.0, 2: 11.0, 3: 11.0, 4: 12.1}}
    data = universe(paths)
    prices = data.prices.copy()
    prices.loc["2024-02-15":, "AAA"] = np.nan  # stops trading mid-February at 11
    data = Dataset(data.as_of, data.securities, data.history, prices=prices, market=data.market)
    result = run_backtest(FCF_SCREEN, data, MEMBERS, SETTINGS)
    assert result.periods[SCREEN].iloc[0] == pytest.approx(0.10)  # valued at its last close
    assert result.events["symbol"].tolist() == ["AAA"]
    assert "no close after 2024-02-14" in result.events["event"].iloc[0]
    feb = result.holdings[result.holdings["date"] == pd.Timestamp("2024-02-29")]
    assert feb.set_index("symbol").loc["AAA", "status"] == "left"
    assert "no close since 2024-02-14" in feb.set_index("symbol").loc["AAA", "reason"]
    assert result.periods[SCREEN].iloc[1] == 0.0  # cash (nothing else passes until March)


def test_membership_in_force_and_the_survivorship_warning() -> None:
    early = Membership(date(2024, 2, 15), frozenset({"AAA", "CCC"}), "holdings 2024-02-15")
    late = Membership(date(2024, 3, 15), frozenset(PATHS), "holdings 2024-03-15")
    assert members_at([late, early], pd.Timestamp("2024-03-01")) == (early, True)
    assert members_at([late, early], pd.Timestamp("2024-01-31")) == (early, False)
    result = run_backtest(FCF_SCREEN, universe(), [early, late], SETTINGS)
    assert list(result.periods["members"]) == [2, 2, 3]
    assert result.warnings[0].startswith("SURVIVORSHIP BIAS") and "1 of 3 rebalance dates" in result.warnings[0]
    only = run_backtest(FCF_SCREEN, universe(), MEMBERS, SETTINGS)
    assert "only one holdings file" in only.warnings[0] and "3 of 3" in only.warnings[0]


def test_every_assumption_is_stated() -> None:
    result = run_backtest(FCF_SCREEN, universe(), MEMBERS, BacktestSettings(date(2024, 2, 1), date(2024, 4, 30)))
    text = " ".join(result.assumptions)
    for words in ("20 basis points", "close", "cash", "dividend", "share count", "today's", "Sharpe",
                  "risk-free rate 0.00 %", "first publication"):
        assert words in text, words
    rules = " ".join(result.data_rules)
    assert "filing or publication date" in rules and "holdings file as of 2024-06-03" in rules


def test_a_profile_criterion_prefilters_without_changing_the_answer() -> None:
    sector = parse_screen({"version": 1, "name": "FCF industrials", "criteria": [
        {"field": "sector", "any_of": ["Industrials"]}, {"field": "fcf_positive", "is": True}]})
    pct = parse_screen({"version": 1, "name": "FCF industrials", "criteria": [
        {"field": "sector", "any_of": ["Industrials"]}, {"field": "fcf_positive", "is": True},
        {"field": "free_cash_flow", "percentile_min": 0}]})
    a = run_backtest(sector, universe(), MEMBERS, SETTINGS)
    b = run_backtest(pct, universe(), MEMBERS, SETTINGS)  # a percentile criterion: no prefilter
    pd.testing.assert_frame_equal(a.curves, b.curves)
    none = parse_screen({"version": 1, "name": "Banks", "criteria": [{"field": "sector", "any_of": ["Banks"]},
                                                                    {"field": "fcf_positive", "is": True}]})
    assert run_backtest(none, universe(), MEMBERS, SETTINGS).summary["cash_periods"] == 3


def test_progress_and_cancel() -> None:
    seen: list[tuple[int, int]] = []
    run_backtest(FCF_SCREEN, universe(), MEMBERS, SETTINGS, progress=lambda d, t, m: seen.append((d, t)))
    # Through the stages of the one panel of three dates, then done.
    assert seen[0] == (0, 3) and seen[-1] == (3, 3) and len(seen) > 2
    assert [d for d, _ in seen] == sorted(d for d, _ in seen) and {t for _, t in seen} == {3}
    with pytest.raises(Cancelled):
        run_backtest(FCF_SCREEN, universe(), MEMBERS, SETTINGS, is_cancelled=lambda: True)


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"end": date(2024, 1, 1)}, "to"), ({"cost_bps": -1.0}, "cost_bps"), ({"cost_bps": float("nan")}, "cost_bps"),
    ({"rebalance": "weekly"}, "rebalance"), ({"weight": "score"}, "weight"), ({"max_price_age_days": 0}, None),
])
def test_settings_are_checked(kwargs: dict, field: str | None) -> None:
    with pytest.raises(InputError) as err:
        BacktestSettings(**{"start": date(2024, 2, 1), "end": date(2024, 4, 30), **kwargs})
    if field:
        assert err.value.field == field


def test_without_a_holdings_file() -> None:
    with pytest.raises(InputError, match="holdings file"):
        run_backtest(FCF_SCREEN, universe(), [], SETTINGS)


def test_themes_tagged_once_match_a_screen_run_on_that_day() -> None:
    from desktop.engine.metrics import compute_metrics
    from desktop.engine.themes import ThemeTaxonomy
    from tests.conftest import PROJECT_ROOT

    taxonomy = ThemeTaxonomy.from_toml((PROJECT_ROOT / "resources" / "themes.toml").read_text(encoding="utf-8"))
    data = universe()
    sec = data.securities.copy()
    sec["industry"] = ["Semiconductors", "Banks - Regional", "Machinery"]
    data = Dataset(data.as_of, sec, data.history, prices=data.prices, market=data.market)
    pit = PointInTime(data, taxonomy=taxonomy)
    when = pd.Timestamp("2024-03-29")
    table = pit.table_at(when, ["AAA", "BBB", "CCC"])
    direct = compute_metrics(pit.dataset_at(when, ["AAA", "BBB", "CCC"]), taxonomy=taxonomy)
    pd.testing.assert_series_equal(table.values["themes"], direct.values["themes"])
    pd.testing.assert_frame_equal(table.theme_matches.reset_index(drop=True),
                                  direct.theme_matches.reset_index(drop=True))
    assert table.values.loc["AAA", "themes"] == ("semiconductors",)


def test_the_price_window_given_to_the_metrics_is_long_enough() -> None:
    """dataset_at passes the closes and market of a window only (speed); every price-based metric
    must come out the same as with the whole history before the date."""
    from dataclasses import replace as copy_with

    from desktop.engine.metrics import compute_metrics

    days = pd.bdate_range("2019-01-01", "2024-04-30", name="date")
    rng = np.random.default_rng(7)
    closes = pd.DataFrame(np.exp(np.cumsum(rng.normal(0, 0.02, (len(days), 3)), axis=0)) * 20,
                          index=days, columns=list(PATHS))
    market = pd.DataFrame({"IWM": np.exp(np.cumsum(rng.normal(0, 0.01, len(days)))) * 100,
                           "yield_10y": 2 + np.cumsum(rng.normal(0, 0.03, len(days)))}, index=days)
    data = copy_with(universe(), prices=closes, market=market)
    pit = PointInTime(data)
    when = pd.Timestamp("2024-03-28")
    windowed = pit.dataset_at(when, list(PATHS))
    assert windowed.prices.index.min() > days[0]
    full = copy_with(windowed, prices=closes.loc[:when], market=market.loc[:when])
    a, b = compute_metrics(windowed), compute_metrics(full)
    assert a.values["rate_beta"].notna().all()
    pd.testing.assert_frame_equal(a.values.drop(columns=["themes"]), b.values.drop(columns=["themes"]))
    pd.testing.assert_frame_equal(a.status, b.status)


def test_without_iwm_the_result_says_so() -> None:
    from dataclasses import replace as copy_with

    data = universe()
    result = run_backtest(FCF_SCREEN, copy_with(data, market=data.market[["yield_10y"]]), MEMBERS, SETTINGS)
    assert result.curves[IWM].isna().all() and np.isnan(result.stats.loc[IWM, "cagr"])
    assert np.isnan(result.summary["share_beating_iwm"])
    assert any("IWM is not in the market data" in w for w in result.warnings)
    assert result.periods[SCREEN].iloc[0] == pytest.approx(0.10)


def test_a_panel_of_dates_gives_the_table_of_each_date() -> None:
    pit = PointInTime(universe())
    periods, _ = calendar(DAYS, SETTINGS)
    whens = [p.start for p in periods]
    closes = [pit.last_closes(w, 7) for w in whens]
    symbols = [sorted(c.index) for c in closes]
    for table, when, syms, close in zip(pit.tables_at(whens, symbols, closes), whens, symbols, closes, strict=True):
        one = pit.table_at(when, syms, close)
        for name in ("values", "status", "period_end", "origin"):
            pd.testing.assert_frame_equal(getattr(table, name), getattr(one, name), obj=name)
        assert dict(table.notes) == dict(one.notes)
    # BBB's statement, filed 2024-03-01, is in the third table only.
    fcf = [t.values.loc["BBB", "free_cash_flow"] for t in pit.tables_at(whens, symbols, closes)]
    assert np.isnan(fcf[0]) and np.isnan(fcf[1]) and fcf[2] == 3.0


def test_the_backtest_reads_the_fields_of_its_criteria_sort_and_formulas() -> None:
    from desktop.engine.backtest import screen_fields

    ranked = parse_screen({"version": 2, "name": "s", "criteria": [{"field": "fcf_positive", "is": True}],
                           "sort": [{"field": "fcf_yield", "descending": True}], "columns": ["return_12m"],
                           "score": {"weights": {"rate_beta": 1}}})
    assert screen_fields(ranked) == {"fcf_positive", "fcf_yield", "market_cap"}  # a sort ranks: no score
    scored = parse_screen({"version": 2, "name": "s", "criteria": [{"field": "momentum", "min": 0}],
                           "formulas": [{"name": "momentum", "expression": "return_12m - return_1m"}],
                           "score": {"weights": {"rate_beta": 1}}})
    assert {"return_12m", "return_1m", "rate_beta"} <= screen_fields(scored)

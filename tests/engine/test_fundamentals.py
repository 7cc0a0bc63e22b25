"""Valuation, profitability, growth, capital and ownership fields (issue #16) on tiny hand-built frames."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import pytest

from desktop.engine.catalog import TWINS
from desktop.engine.dataset import empty_provenance
from desktop.engine.metrics import MISSING, NOT_MEANINGFUL, OK, STALE, SUSPECT, MetricParams
from tests.engine.conftest import securities, table_of

NAN = math.nan


def one(**fields: Any) -> pd.DataFrame:
    return securities(symbol=["ZZA"], **{k: [v] for k, v in fields.items()})


def provenance(rows: list[tuple[str, str, float, str, str]]) -> pd.DataFrame:
    """Chosen observations ``(symbol, field, value, source, as_of)``."""
    frame = pd.DataFrame([{"symbol": s, "field": f, "value_num": v, "value_text": None, "source": src,
                           "origin": "test", "as_of": pd.Timestamp(when), "fetched_at": pd.Timestamp(when),
                           "period": "point", "derived": False, "chosen": True} for s, f, v, src, when in rows])
    return pd.concat([empty_provenance(), frame], ignore_index=True).astype({"derived": bool, "chosen": bool})


def fy(year: int, **lines: float) -> dict[str, Any]:
    return {"symbol": "ZZA", "fiscal_year": year, **lines}


CASES = [
    # valuation: market cap per dollar of a line of one row
    ({"market_cap": 1e9, "net_income": 50e6}, "pe_ratio", 20.0, OK, None),
    ({"market_cap": 1e9, "net_income": -5e6}, "pe_ratio", NAN, NOT_MEANINGFUL, "net income"),
    ({"market_cap": 1e9}, "pe_ratio", NAN, MISSING, None),
    ({"market_cap": 1e9, "revenue": 500e6}, "ps_ratio", 2.0, OK, None),
    ({"market_cap": 1e9, "total_equity": -1.0}, "pb_ratio", NAN, NOT_MEANINGFUL, "equity"),
    ({"market_cap": 1e9, "free_cash_flow": 100e6}, "pfcf_ratio", 10.0, OK, None),
    ({"market_cap": 1e9, "fcf_nonpositive": 1.0, "revenue": 5.0}, "pfcf_ratio", NAN, NOT_MEANINGFUL, "free cash"),
    ({"market_cap": 1e9, "net_income": -50e6}, "earnings_yield", -0.05, OK, None),
    ({"net_income": 10e6, "shares_diluted": 5e6}, "eps", 2.0, OK, None),
    ({"market_cap": 800.0, "total_debt": 300.0, "cash": 100.0, "ebitda": 100.0}, "ev_to_ebitda", 10.0, OK, None),
    ({"market_cap": 800.0, "total_debt": 300.0, "cash": 100.0, "ebitda": -1.0}, "ev_to_ebitda", NAN,
     NOT_MEANINGFUL, "EBITDA"),
    ({"market_cap": 800.0, "total_debt": 300.0, "cash": 100.0, "revenue": 500.0}, "ev_to_sales", 2.0, OK, None),
    ({"market_cap": 800.0, "revenue": 500.0}, "ev_to_sales", NAN, MISSING, None),  # no debt and cash known
    # profitability: one row's line over another
    ({"gross_profit": 40.0, "revenue": 100.0}, "gross_margin", 0.4, OK, None),
    ({"operating_income": 15.0, "revenue": 100.0}, "operating_margin", 0.15, OK, None),
    ({"ebit": 12.0, "revenue": 100.0}, "operating_margin", 0.12, OK, None),  # EBIT where no OI line
    ({"net_income": 5.0, "revenue": 0.0}, "net_margin", NAN, NOT_MEANINGFUL, "revenue"),
    ({"ebitda": 30.0, "revenue": 100.0}, "ebitda_margin", 0.3, OK, None),
    ({"net_income": 5.0, "total_assets": 100.0}, "roa", 0.05, OK, None),
    ({"net_income": 5.0, "total_equity": 50.0}, "roe", 0.1, OK, None),
    ({"operating_income": 100.0, "total_debt": 300.0, "total_equity": 500.0, "cash": 400.0}, "roic", 0.79 / 4, OK,
     None),
    ({"operating_income": 100.0, "total_debt": 0.0, "total_equity": 50.0, "cash": 400.0}, "roic", NAN,
     NOT_MEANINGFUL, "invested capital"),
    ({"net_income": 30.0, "operating_cash_flow": 10.0, "total_assets": 200.0}, "accruals", 0.1, OK, None),
    # capital
    ({"net_equity_issuance": -20e6, "market_cap": 1e9}, "net_buyback_yield", 0.02, OK, None),
    ({"net_equity_issuance": 50e6, "market_cap": 1e9}, "net_buyback_yield", -0.05, OK, None),
    ({"stock_based_compensation": 5.0, "revenue": 100.0}, "sbc_to_revenue", 0.05, OK, None),
    ({"dividends_paid": -30e6, "market_cap": 1e9}, "dividend_yield", 0.03, OK, None),
    ({"dividends_paid": -30e6, "net_income": 60e6}, "payout_ratio", 0.5, OK, None),
    ({"dividends_paid": -30e6, "net_income": -1.0}, "payout_ratio", NAN, NOT_MEANINGFUL, "net income"),
    ({"market_cap": 1e9}, "dividend_yield", NAN, MISSING, None),  # no statement shows dividends: never 0
    # ownership
    ({"short_interest": 2e6, "shares_outstanding": 40e6}, "short_interest_share", 0.05, OK, None),
    ({"short_interest": 2e6, "reported_avg_volume": 5e5}, "days_to_cover", 4.0, OK, None),
]


@pytest.mark.parametrize(("inputs", "name", "value", "state", "note"), CASES,
                         ids=[f"{c[1]}-{i}" for i, c in enumerate(CASES)])
def test_field(inputs: dict[str, float], name: str, value: float, state: int, note: str | None) -> None:
    table = table_of(one(**inputs))
    got = table.values.at["ZZA", name]
    assert (math.isnan(got) and math.isnan(value)) or got == pytest.approx(value), (name, got)
    assert table.status.at["ZZA", name] == state
    if note is not None:
        assert note in table.notes[("ZZA", name)]


def test_a_ratio_takes_its_statement_inputs_from_one_row() -> None:
    # FY2024 has net income only; FY2023 has both: the margin is FY2023's, dated by FY2023.
    table = table_of(one(market_cap=1.0), [fy(2023, net_income=10.0, revenue=100.0), fy(2024, net_income=30.0)])
    assert table.values.at["ZZA", "net_margin"] == pytest.approx(0.1)
    assert table.origin.at["ZZA", "net_margin"] == "simfin FY2023 (period ended 2023-12-31)"
    assert table.period_end.at["ZZA", "net_margin"] == pd.Timestamp("2023-12-31")


def test_growth_compares_consecutive_years_of_one_source() -> None:
    rows = [fy(2021, revenue=100.0), fy(2022, revenue=110.0), fy(2023, revenue=121.0), fy(2024, revenue=133.1),
            # a fresher year from another source cannot pair with SimFin's FY2024
            {**fy(2025, revenue=500.0), "source": "sec"}]
    table = table_of(one(market_cap=1.0), rows)
    assert table.values.at["ZZA", "revenue_growth_1y"] == pytest.approx(0.1)
    assert table.values.at["ZZA", "revenue_cagr_3y"] == pytest.approx(0.1)
    assert table.origin.at["ZZA", "revenue_cagr_3y"] == "simfin FY2024 (period ended 2024-12-31) vs FY2021"
    assert table.status.at["ZZA", "revenue_growth_1y"] == OK


def test_growth_needs_a_year_between_period_ends() -> None:
    # A fiscal-year-end change: FY2024 ends six months after FY2023; no growth, not a wrong one.
    rows = [fy(2023, revenue=100.0), {**fy(2024, revenue=150.0), "period_end": pd.Timestamp("2024-06-30")}]
    table = table_of(one(market_cap=1.0), rows)
    assert table.status.at["ZZA", "revenue_growth_1y"] == MISSING


def test_growth_from_a_loss_is_not_meaningful() -> None:
    table = table_of(one(market_cap=1.0), [fy(2023, operating_income=-10.0), fy(2024, operating_income=20.0)])
    assert table.status.at["ZZA", "operating_income_growth_1y"] == NOT_MEANINGFUL
    assert "growth from it has no meaning" in table.notes[("ZZA", "operating_income_growth_1y")]
    dropped = table_of(one(market_cap=1.0), [fy(2023, operating_income=10.0), fy(2024, operating_income=-5.0)])
    assert dropped.values.at["ZZA", "operating_income_growth_1y"] == pytest.approx(-1.5)


def test_eps_growth_and_dilution_use_diluted_shares() -> None:
    rows = [fy(2021, net_income=10.0, shares_diluted=10.0), fy(2022, net_income=12.0, shares_diluted=10.0),
            fy(2023, net_income=12.0, shares_diluted=12.0), fy(2024, net_income=16.0, shares_diluted=16.0)]
    table = table_of(one(market_cap=1.0), rows)
    v = table.values.loc["ZZA"]
    assert v["eps"] == pytest.approx(1.0)
    assert v["eps_growth_1y"] == pytest.approx(0.0)  # 16/16 against 12/12
    assert v["eps_cagr_3y"] == pytest.approx(0.0)
    assert v["share_change_1y"] == pytest.approx(16 / 12 - 1)
    assert v["share_change_3y"] == pytest.approx(0.6)  # not annualised


def test_growth_is_suspect_when_either_year_breaks_a_rule() -> None:
    # FY2023's revenue is 20x FY2022's (rule revenue_jump): FY2024 against FY2023 is suspect too.
    table = table_of(one(market_cap=1.0), [fy(2022, revenue=5.0), fy(2023, revenue=100.0), fy(2024, revenue=110.0)])
    assert table.values.at["ZZA", "revenue_growth_1y"] == pytest.approx(0.1)
    assert table.status.at["ZZA", "revenue_growth_1y"] == SUSPECT
    assert "10x the previous fiscal year" in table.notes[("ZZA", "revenue_growth_1y")]


def test_a_ratio_to_market_value_inherits_a_stale_market_cap() -> None:
    sec = one(market_cap=1e9, net_income=50e6)
    prov = provenance([("ZZA", "market_cap", 1e9, "finviz", "2025-08-21")])
    table = table_of(sec, provenance=prov)
    assert table.status.at["ZZA", "market_cap"] == STALE
    assert table.values.at["ZZA", "pe_ratio"] == pytest.approx(20.0)
    assert table.status.at["ZZA", "pe_ratio"] == STALE
    assert "its input market cap is stale" in table.notes[("ZZA", "pe_ratio")]
    assert table.status.at["ZZA", "net_margin"] != STALE  # no market input


def test_the_reported_twin_stands_in_only_where_no_row_gives_a_value() -> None:
    sec = securities(symbol=["ZZA", "ZZB"], market_cap=[1e9, 1e9], net_income=[50e6, np.nan],
                     reported_pe=[99.0, 15.0])
    prov = provenance([("ZZA", "reported_pe", 99.0, "finviz", "2026-05-01"),
                       ("ZZB", "reported_pe", 15.0, "finviz", "2026-05-01")])
    table = table_of(sec, provenance=prov)
    assert table.values.at["ZZA", "pe_ratio"] == pytest.approx(20.0)
    assert table.values.at["ZZB", "pe_ratio"] == 15.0
    assert table.origin.at["ZZB", "pe_ratio"] == "finviz (reported figure)"
    assert "reported_pe" in table.notes[("ZZB", "pe_ratio")]
    # the twin is dated and goes stale by its own freshness (a multiple moves with the price: 45 days)
    old = table_of(sec.iloc[1:], provenance=provenance([("ZZB", "reported_pe", 15.0, "finviz", "2025-08-21")]))
    assert old.status.at["ZZB", "pe_ratio"] == STALE


def test_reported_fields_go_stale_by_their_freshness() -> None:
    sec = one(insider_ownership=0.2, reported_roe=0.1, rsi_14=55.0)
    when = "2026-01-05"  # four months before the snapshot
    prov = provenance([("ZZA", f, v, "finviz", when) for f, v in
                       (("insider_ownership", 0.2), ("reported_roe", 0.1), ("rsi_14", 55.0))])
    table = table_of(sec, provenance=prov)
    assert table.status.at["ZZA", "rsi_14"] == STALE  # market: 45 days
    assert table.status.at["ZZA", "insider_ownership"] == STALE  # ownership: 90 days
    assert table.status.at["ZZA", "reported_roe"] == OK  # fundamental: 18 months
    looser = table_of(sec, provenance=prov, params=MetricParams(ownership_stale_days=200))
    assert looser.status.at["ZZA", "insider_ownership"] == OK


def test_every_twin_is_a_source_field() -> None:
    from desktop.engine import catalog

    for name, twin in TWINS.items():
        assert catalog.get(twin).freshness, twin
        assert catalog.get(name).unit == catalog.get(twin).unit, (name, twin)


def test_banks_have_no_gross_margin_or_ev_multiples() -> None:
    sec = one(industry="Banks - Regional", market_cap=1e9, gross_profit=10.0, revenue=100.0, total_debt=5.0,
              cash=1.0, ebitda=4.0)
    table = table_of(sec)
    for name in ("gross_margin", "ev_to_ebitda", "ev_to_sales", "roic"):
        assert table.status.at["ZZA", name] == NOT_MEANINGFUL, name
    assert table.status.at["ZZA", "net_margin"] in (OK, MISSING)

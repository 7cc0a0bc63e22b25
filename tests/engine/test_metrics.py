"""Every metric on one-stock hand-built frames, including the not-meaningful and missing cases."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import pandas.testing as pdt
import pytest

from desktop.engine import catalog
from desktop.engine.metrics import (
    METRIC_FIELDS,
    MISSING,
    NOT_MEANINGFUL,
    OK,
    STALE,
    SUSPECT,
    MetricParams,
    compute_metrics,
)
from desktop.errors import Cancelled
from tests.engine.conftest import AS_OF, securities, table_of

INF = math.inf
NAN = math.nan


def one(**fields: Any) -> pd.DataFrame:
    return securities(symbol=["ZZA"], **{k: [v] for k, v in fields.items()})


# (inputs, field, expected value, expected status, note fragment or None)
CASES = [
    # cash flow
    ({"free_cash_flow": 50e6, "market_cap": 1e9}, "fcf_yield", 0.05, OK, None),
    ({"free_cash_flow": -50e6, "market_cap": 1e9}, "fcf_yield", -0.05, OK, None),
    ({"free_cash_flow": 50e6, "market_cap": 0.0}, "fcf_yield", NAN, NOT_MEANINGFUL, "market cap"),
    ({"free_cash_flow": 50e6}, "fcf_yield", NAN, MISSING, None),
    ({"operating_cash_flow": 80e6, "capital_expenditure": -30e6, "market_cap": 1e9}, "fcf_yield", 0.05, OK, None),
    ({"free_cash_flow": 20e6, "revenue": 200e6}, "fcf_margin", 0.1, OK, None),
    ({"free_cash_flow": 20e6, "revenue": 0.0}, "fcf_margin", NAN, NOT_MEANINGFUL, "revenue"),
    ({"free_cash_flow": 20e6, "revenue": -5.0}, "fcf_margin", NAN, NOT_MEANINGFUL, "revenue"),
    ({"operating_cash_flow": 1.0}, "ocf_positive", 1.0, OK, None),
    ({"operating_cash_flow": 0.0}, "ocf_positive", 0.0, OK, None),
    ({"operating_cash_flow": -3.0}, "ocf_positive", 0.0, OK, None),
    ({"revenue": 3.0}, "ocf_positive", NAN, MISSING, None),
    ({"free_cash_flow": -1.0}, "fcf_positive", 0.0, OK, None),
    ({"free_cash_flow": -12e6, "cash": 30e6}, "cash_runway_months", 30.0, OK, None),
    ({"free_cash_flow": 0.0, "cash": 30e6}, "cash_runway_months", INF, OK, "no burn"),
    ({"free_cash_flow": 5e6, "cash": 0.0}, "cash_runway_months", INF, OK, "no burn"),
    ({"free_cash_flow": -12e6, "cash": 0.0}, "cash_runway_months", 0.0, OK, None),
    ({"free_cash_flow": -12e6}, "cash_runway_months", NAN, MISSING, None),
    # leverage
    ({"total_debt": 100.0, "cash": 30.0}, "net_debt", 70.0, OK, None),
    ({"total_debt": 0.0, "cash": 30.0}, "net_debt", -30.0, OK, None),
    ({"total_debt": 300.0, "cash": 100.0, "ebitda": 100.0}, "net_debt_to_ebitda", 2.0, OK, None),
    ({"total_debt": 0.0, "cash": 100.0, "ebitda": 50.0}, "net_debt_to_ebitda", -2.0, OK, None),
    ({"total_debt": 300.0, "cash": 100.0, "ebitda": -10.0}, "net_debt_to_ebitda", NAN, NOT_MEANINGFUL, "EBITDA"),
    ({"total_debt": 300.0, "cash": 100.0, "ebitda": 0.0}, "net_debt_to_ebitda", NAN, NOT_MEANINGFUL, "EBITDA"),
    ({"total_debt": 300.0, "cash": 100.0}, "net_debt_to_ebitda", NAN, MISSING, None),
    ({"total_debt": 50.0, "total_equity": 100.0}, "debt_to_equity", 0.5, OK, None),
    ({"total_debt": 50.0, "total_equity": -100.0}, "debt_to_equity", NAN, NOT_MEANINGFUL, "equity"),
    ({"total_debt": 0.0, "total_equity": 100.0}, "debt_to_equity", 0.0, OK, None),
    ({"total_debt": 25.0, "total_assets": 100.0}, "debt_to_assets", 0.25, OK, None),
    ({"total_debt": 25.0, "total_assets": 0.0}, "debt_to_assets", NAN, NOT_MEANINGFUL, "assets"),
    ({"total_debt": 25.0}, "debt_to_assets", NAN, MISSING, None),
    # rate sensitivity
    ({"ebit": 80.0, "interest_expense": 20.0}, "interest_coverage", 4.0, OK, None),
    ({"ebit": -40.0, "interest_expense": 20.0}, "interest_coverage", -2.0, OK, None),
    ({"ebit": 80.0, "interest_expense": 0.0}, "interest_coverage", INF, OK, "infinite"),
    # An operating loss while net interest is income: no coverage, not an infinite one (issue #12, TDOC).
    ({"ebit": -80.0, "interest_expense": -5.0}, "interest_coverage", NAN, NOT_MEANINGFUL, "operating loss"),
    ({"ebit": 80.0, "interest_expense": -5.0}, "interest_coverage", INF, OK, "no net interest expense"),
    ({"ebit": 80.0, "total_debt": 0.0}, "interest_coverage", INF, OK, "no debt"),
    ({"ebit": 80.0, "total_debt": 10.0}, "interest_coverage", NAN, MISSING, None),
    ({"interest_expense": 10.0}, "interest_coverage", NAN, MISSING, None),
    ({"operating_income": 60.0, "interest_expense": 20.0}, "interest_coverage", 3.0, OK, "operating income"),
    ({"ebit": 90.0, "operating_income": 60.0, "interest_expense": 20.0}, "interest_coverage", 4.5, OK, None),
    ({"current_debt": 30.0, "total_debt": 120.0}, "short_term_debt_share", 0.25, OK, None),
    ({"current_debt": 0.0, "total_debt": 0.0}, "short_term_debt_share", NAN, NOT_MEANINGFUL, "no debt"),
    # Current debt above total debt is a vendor inconsistency: shown as it is, suspect (issue #12).
    ({"current_debt": 150.0, "total_debt": 120.0}, "short_term_debt_share", 1.25, SUSPECT, "suspect"),
    ({"current_debt": 40.0, "long_term_debt": 80.0}, "repricing_debt", 60.0, OK, None),
    ({"total_debt": 100.0}, "repricing_debt", 100.0, OK, "maturity split not in this balance sheet"),
    # EBIT 90; interest 10; repricing 40 + 0.25 x 160 = 80; +200 bp adds 1.6 -> 90 / 11.6
    ({"ebit": 90.0, "interest_expense": 10.0, "current_debt": 40.0, "long_term_debt": 160.0, "total_debt": 200.0},
     "shocked_coverage_200", 90.0 / 11.6, OK, None),
    ({"ebit": 90.0, "interest_expense": 10.0, "current_debt": 40.0, "long_term_debt": 160.0, "total_debt": 200.0},
     "shocked_coverage_100", 90.0 / 10.8, OK, None),
    ({"ebit": 90.0, "interest_expense": 10.0, "current_debt": 40.0, "long_term_debt": 160.0, "total_debt": 200.0},
     "shocked_coverage_300", 90.0 / 12.4, OK, None),
    ({"ebit": 90.0, "interest_expense": 0.0, "current_debt": 0.0, "long_term_debt": 0.0, "total_debt": 0.0},
     "shocked_coverage_200", INF, OK, None),
    ({"ebit": 90.0, "interest_expense": -4.0, "current_debt": 100.0, "total_debt": 100.0},
     "shocked_coverage_200", 45.0, OK, None),
    ({"operating_income": 90.0, "interest_expense": 10.0, "current_debt": 40.0, "long_term_debt": 0.0},
     "shocked_coverage_100", 90.0 / 10.4, OK, "operating income"),
    ({"ebit": 90.0, "current_debt": 40.0, "total_debt": 40.0}, "shocked_coverage_200", NAN, MISSING, None),
]


@pytest.mark.parametrize(("inputs", "name", "value", "status", "note"), CASES,
                         ids=[f"{c[1]}-{i}" for i, c in enumerate(CASES)])
def test_metric(inputs: dict, name: str, value: float, status: int, note: str | None) -> None:
    table = table_of(one(**inputs))
    got = table.values.at["ZZA", name]
    if math.isnan(value):
        assert math.isnan(got)
    else:
        assert got == pytest.approx(value)
    assert table.status.at["ZZA", name] == status
    if note is not None:
        assert note in table.notes[("ZZA", name)]
    elif status == OK:
        assert ("ZZA", name) not in table.notes or "from fiscal year" in table.notes[("ZZA", name)]


def test_repricing_assumption_is_adjustable() -> None:
    sec = one(ebit=90.0, interest_expense=10.0, current_debt=40.0, long_term_debt=160.0)
    table = table_of(sec, params=MetricParams(floating_share_long_term=1.0, shocks_bp=(100, 250)))
    assert table.values.at["ZZA", "repricing_debt"] == 200.0
    assert table.values.at["ZZA", "shocked_coverage_250"] == pytest.approx(90.0 / 15.0)
    assert catalog.get("shocked_coverage_250").unit == "ratio"


@pytest.mark.parametrize("bad", [{"floating_share_long_term": 1.5}, {"rate_beta_weeks": 40, "min_weeks": 40},
                                 {"rate_beta_weeks": 60, "min_weeks": 80}])
def test_params_are_checked(bad: dict) -> None:
    with pytest.raises(ValueError):
        MetricParams(**bad)


def test_columns_dtypes_and_status_shape() -> None:
    sec = securities(symbol=["ZZA", "ZZB"], name=["Alpha Co", None], sector=["Technology", None],
                     market_cap=[1e9, np.nan], in_index=[True, False])
    table = table_of(sec)
    v = table.values
    assert list(v.index) == ["ZZA", "ZZB"] and v.index.name == "symbol"
    for f in catalog.all_fields():
        if f.name == "symbol":
            continue
        assert f.name in v.columns, f.name
        if f.is_numeric or f.unit == "bool":
            assert v[f.name].dtype == np.float64, f.name
            assert table.status[f.name].dtype == np.int8
        elif f.unit in ("text", "category", "tags"):
            assert v[f.name].dtype == object, f.name
    pdt.assert_series_equal(v["in_index"], pd.Series([1.0, 0.0], index=v.index, name="in_index"))
    assert v.at["ZZB", "name"] is None
    assert v.at["ZZA", "themes"] == ()
    assert table.status.at["ZZB", "market_cap"] == MISSING


def test_every_metric_is_documented() -> None:
    for f in METRIC_FIELDS:
        assert f.label and f.definition and f.formula and f.sources, f.name
        assert catalog.get(f.name) == f


def test_history_fallback_and_notes() -> None:
    sec = one(market_cap=1e9)
    hist = [
        {"symbol": "ZZA", "fiscal_year": 2022, "operating_income": 10.0, "interest_expense": 20.0,
         "operating_cash_flow": 5.0, "capital_expenditure": -1.0, "total_debt": 300.0},
        {"symbol": "ZZA", "fiscal_year": 2023, "operating_income": 40.0, "interest_expense": 20.0,
         "operating_cash_flow": 9.0, "capital_expenditure": -2.0},
    ]
    table = table_of(sec, hist)
    assert table.values.at["ZZA", "operating_income"] == 40.0
    assert table.values.at["ZZA", "free_cash_flow"] == 7.0  # OCF + capex of FY2023
    assert table.values.at["ZZA", "total_debt"] == 300.0  # latest year that has it
    assert table.origin.at["ZZA", "total_debt"] == "simfin FY2022 (period ended 2022-12-31)"
    assert table.status.at["ZZA", "total_debt"] == STALE  # 40 months before the snapshot
    assert "stale" in table.notes[("ZZA", "total_debt")]
    # Coverage takes operating income AND interest of one year (FY2023), never two years mixed.
    assert table.values.at["ZZA", "interest_coverage"] == 2.0
    assert table.origin.at["ZZA", "interest_coverage"].startswith("simfin FY2023")
    assert "operating income" in table.notes[("ZZA", "interest_coverage")]


def test_securities_win_over_history() -> None:
    sec = one(ebit=50.0, interest_expense=10.0)
    hist = [{"symbol": "ZZA", "fiscal_year": 2024, "ebit": 1.0, "interest_expense": 100.0}]
    table = table_of(sec, hist)
    assert table.values.at["ZZA", "interest_coverage"] == 5.0
    assert ("ZZA", "ebit") not in table.notes


def fcf_rows(values: list[float | None], start: int = 2020) -> list[dict]:
    return [{"symbol": "ZZA", "fiscal_year": start + i, "free_cash_flow": v}
            for i, v in enumerate(values) if v is not None]


@pytest.mark.parametrize(("values", "expected", "note"), [
    ([1.0, 2.0, -1.0, 3.0], 3.0, None),
    ([5.0, -1.0, 2.0, -1.0, 3.0], 2.0, None),  # only the last four years count
    ([5.0, 5.0], 2.0, "only 2 of the last 4"),
    ([-1.0, -2.0, -3.0, -4.0], 0.0, None),
    ([], NAN, None),
])
def test_fcf_positive_years(values: list, expected: float, note: str | None) -> None:
    table = table_of(one(market_cap=1.0), fcf_rows(values))
    got = table.values.at["ZZA", "fcf_positive_years"]
    assert (math.isnan(got) and math.isnan(expected)) or got == expected
    if note:
        assert note in table.notes[("ZZA", "fcf_positive_years")]


def cov_rows(pairs: list[tuple[float | None, float | None]], start: int = 2021) -> list[dict]:
    return [{"symbol": "ZZA", "fiscal_year": start + i, "operating_income": e, "interest_expense": i_}
            for i, (e, i_) in enumerate(pairs)]


@pytest.mark.parametrize(("pairs", "listed", "expected"), [
    ([(5.0, 10.0), (2.0, 10.0), (-1.0, 10.0)], None, 1.0),
    ([(5.0, 10.0), (20.0, 10.0), (-1.0, 10.0)], None, 0.0),
    ([(50.0, 10.0), (5.0, 10.0), (5.0, 10.0), (5.0, 10.0)], None, 1.0),  # the last three years
    ([(5.0, 10.0), (5.0, 0.0), (5.0, 10.0)], None, 0.0),  # no interest one year: coverage infinite
    ([(5.0, 10.0), (None, 10.0), (5.0, 10.0)], None, NAN),  # one unknown year, all known below 1
    ([(5.0, 10.0), (None, 10.0), (50.0, 10.0)], None, 0.0),  # a known year clears 1
    ([(5.0, 10.0), (5.0, 10.0)], None, NAN),  # two years only
    ([(5.0, 10.0), (2.0, 10.0), (-1.0, 10.0)], "2021-01-04", 0.0),  # young firm
    ([(5.0, 10.0), (2.0, 10.0), (-1.0, 10.0)], "1990-01-02", 1.0),
])
def test_zombie(pairs: list, listed: str | None, expected: float) -> None:
    fields: dict[str, Any] = {"market_cap": 1.0}
    if listed:
        fields["listing_date"] = pd.Timestamp(listed)
    table = table_of(one(**fields), cov_rows(pairs))
    got = table.values.at["ZZA", "zombie"]
    assert (math.isnan(got) and math.isnan(expected)) or got == expected
    years = table.zombie_years["ZZA"]
    assert [y for y, _ in years] == sorted(y for y, _ in years)
    assert len(years) <= 3
    if listed == "2021-01-04":
        assert "BIS" in table.notes[("ZZA", "zombie")]


def test_zombie_years_values() -> None:
    table = table_of(one(market_cap=1.0), cov_rows([(5.0, 10.0), (2.0, 10.0), (-1.0, 10.0)]))
    assert table.zombie_years["ZZA"] == [(2021, 0.5), (2022, 0.2), (2023, -0.1)]
    assert table.values.at["ZZA", "zombie"] == 1.0
    assert table.status.at["ZZA", "zombie"] == STALE  # FY2023 is 28 months before the 2026 snapshot


def test_years_listed() -> None:
    table = table_of(one(listing_date=pd.Timestamp("2016-05-05")))
    assert table.values.at["ZZA", "years_listed"] == pytest.approx(10.0, abs=0.01)


# --- rate beta --------------------------------------------------------------------------------

def _market(n_days: int, seed: int = 1) -> tuple[pd.DatetimeIndex, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    days = pd.bdate_range("2023-01-02", periods=n_days, name="date")
    iwm = 200 * np.exp(np.cumsum(rng.normal(0, 0.01, n_days)))
    y10 = 4.0 + np.cumsum(rng.normal(0, 0.03, n_days))
    return days, iwm, y10


def _stock(iwm: np.ndarray, y10: np.ndarray, beta_y: float, beta_m: float, noise: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    r = beta_m * np.diff(np.log(iwm), prepend=np.log(iwm[0])) + beta_y * np.diff(y10, prepend=y10[0])
    r += rng.normal(0, noise, len(r))
    return 50 * np.exp(np.cumsum(r))


def test_rate_beta_recovers_known_slopes() -> None:
    days, iwm, y10 = _market(600)
    prices = pd.DataFrame({"ZZA": _stock(iwm, y10, -0.08, 1.2, 0.001, 2),
                           "ZZB": _stock(iwm, y10, 0.05, 0.5, 0.001, 3)}, index=days)
    market = pd.DataFrame({"IWM": iwm, "yield_10y": y10}, index=days)
    sec = securities(symbol=["ZZA", "ZZB", "ZZC"], market_cap=[1.0, 1.0, 1.0])
    table = table_of(sec, prices=prices, market=market)
    v = table.values
    assert v.at["ZZA", "rate_beta"] == pytest.approx(-0.08, abs=0.01)
    assert v.at["ZZB", "rate_beta"] == pytest.approx(0.05, abs=0.01)
    assert v.at["ZZA", "iwm_beta"] == pytest.approx(1.2, abs=0.05)
    assert v.at["ZZA", "rate_beta_t"] < -10
    assert 0.5 < v.at["ZZA", "rate_beta_r2"] <= 1.0
    assert v.at["ZZA", "rate_beta_weeks"] == 104
    assert math.isnan(v.at["ZZC", "rate_beta"])  # no prices
    assert table.status.at["ZZC", "rate_beta"] == MISSING


def test_rate_beta_needs_52_weeks() -> None:
    days, iwm, y10 = _market(240)  # about 48 weeks
    prices = pd.DataFrame({"ZZA": _stock(iwm, y10, -0.08, 1.2, 0.001, 2)}, index=days)
    market = pd.DataFrame({"IWM": iwm, "yield_10y": y10}, index=days)
    table = table_of(one(market_cap=1.0), prices=prices, market=market)
    assert math.isnan(table.values.at["ZZA", "rate_beta"])
    assert table.status.at["ZZA", "rate_beta"] == MISSING


def test_rate_beta_is_robust_to_bad_prints() -> None:
    days, iwm, y10 = _market(520)
    clean = _stock(iwm, y10, -0.08, 1.2, 0.001, 2)
    dirty = clean.copy()
    # one-day spikes that revert (a Friday among them), and a run of unadjusted prints
    fridays = np.flatnonzero(days.day_of_week == 4)
    for i in (fridays[-10], fridays[-30], 400, 455):
        dirty[i] = dirty[i] * 0.01
    dirty[fridays[-50]] = dirty[fridays[-50]] * 80
    market = pd.DataFrame({"IWM": iwm, "yield_10y": y10}, index=days)
    t_clean = table_of(one(market_cap=1.0), prices=pd.DataFrame({"ZZA": clean}, index=days), market=market)
    t_dirty = table_of(one(market_cap=1.0), prices=pd.DataFrame({"ZZA": dirty}, index=days), market=market)
    # Dropped prints shift a day between weeks, so the estimates differ slightly, not wildly.
    assert t_dirty.values.at["ZZA", "rate_beta"] == pytest.approx(t_clean.values.at["ZZA", "rate_beta"], abs=0.01)
    naive = table_of(one(market_cap=1.0), prices=pd.DataFrame({"ZZA": dirty}, index=days), market=market,
                     params=MetricParams(spike_threshold=1e9, return_clip=1e9))
    assert abs(naive.values.at["ZZA", "rate_beta"] - t_clean.values.at["ZZA", "rate_beta"]) > 0.05


def test_progress_and_cancel() -> None:
    from desktop.engine.dataset import Dataset

    calls: list[tuple] = []
    ds = Dataset(AS_OF, one(market_cap=1.0))
    compute_metrics(ds, progress=lambda d, t, m="": calls.append((d, t, m)))
    assert calls[-1][0] == calls[-1][1] and len(calls) >= 3
    with pytest.raises(Cancelled):
        compute_metrics(ds, is_cancelled=lambda: True)


def test_inputs_are_not_modified() -> None:
    sec = one(ebit=80.0, interest_expense=20.0)
    before = sec.copy()
    table_of(sec)
    pdt.assert_frame_equal(sec, before)


def test_docs_list_every_computed_field() -> None:
    from tests.conftest import PROJECT_ROOT

    text = (PROJECT_ROOT / "docs" / "metrics.md").read_text(encoding="utf-8")
    for f in METRIC_FIELDS:
        assert f"`{f.name}`" in text, f"docs/metrics.md does not document {f.name}"


def test_zombie_notes() -> None:
    unknown_year = table_of(one(market_cap=1.0), cov_rows([(5.0, 10.0), (None, 10.0), (5.0, 10.0)]))
    assert unknown_year.notes[("ZZA", "zombie")].startswith(
        "coverage unknown in part of the last fiscal years; coverage uses operating income (the source has no EBIT)")
    with_ebit = table_of(one(market_cap=1.0), [{"symbol": "ZZA", "fiscal_year": 2021 + i, "ebit": 5.0,
                                               "interest_expense": 10.0} for i in range(3)])
    assert with_ebit.values.at["ZZA", "zombie"] == 1.0
    assert "operating income" not in with_ebit.notes.get(("ZZA", "zombie"), "")


def test_leverage_block_on_several_stocks_at_once() -> None:
    sec = securities(symbol=["ZZA", "ZZB", "ZZC", "ZZD"],
                     total_debt=[300.0, 300.0, 0.0, np.nan], cash=[100.0, 100.0, 50.0, 10.0],
                     ebitda=[100.0, -20.0, 25.0, 40.0], total_equity=[400.0, -5.0, 100.0, 100.0],
                     current_debt=[60.0, 300.0, 0.0, np.nan])
    table = table_of(sec)
    cols = ["net_debt", "net_debt_to_ebitda", "debt_to_equity", "short_term_debt_share"]
    expected_values = pd.DataFrame({
        "net_debt": [200.0, 200.0, -50.0, np.nan],
        "net_debt_to_ebitda": [2.0, np.nan, -2.0, np.nan],
        "debt_to_equity": [0.75, np.nan, 0.0, np.nan],
        "short_term_debt_share": [0.2, 1.0, np.nan, np.nan],
    }, index=pd.Index(["ZZA", "ZZB", "ZZC", "ZZD"], name="symbol"))
    expected_status = pd.DataFrame({
        "net_debt": [OK, OK, OK, MISSING],
        "net_debt_to_ebitda": [OK, NOT_MEANINGFUL, OK, MISSING],
        "debt_to_equity": [OK, NOT_MEANINGFUL, OK, MISSING],
        "short_term_debt_share": [OK, OK, NOT_MEANINGFUL, MISSING],
    }, index=expected_values.index).astype("int8")
    pdt.assert_frame_equal(table.values[cols], expected_values)
    pdt.assert_frame_equal(table.status[cols], expected_status)


def test_docs_list_every_sanity_rule_and_kind() -> None:
    from desktop.engine.rules import COMPANY_KINDS, SANITY_RULES
    from tests.conftest import PROJECT_ROOT

    text = (PROJECT_ROOT / "docs" / "metrics.md").read_text(encoding="utf-8")
    for r in SANITY_RULES:
        assert f"`{r.id}`" in text and r.reason in text, r.id
    for k in COMPANY_KINDS:
        assert k.reason in text, k.kind

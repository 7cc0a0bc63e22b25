"""Issue #12 "done when", checked on the real universe in ../shared/data (skipped when absent).

Every file is imported through the committed readers and ``canonical.merge``, as an import does;
each check recomputes what it asserts from the dataset's own statement rows, independently of the
engine's selection code. Nothing from those files is copied here.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from desktop.data.canonical import MergeReport
from desktop.engine.dataset import Dataset
from desktop.engine.evaluate import evaluate
from desktop.engine.metrics import MISSING, NOT_MEANINGFUL, OK, STALE, SUSPECT, StockTable, compute_metrics
from desktop.engine.screen import parse_screen
from desktop.engine.statements import prepare
from desktop.engine.themes import ThemeTaxonomy
from tests.conftest import PROJECT_ROOT
from tests.engine.real_data import real_sources

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def real() -> tuple[Dataset, StockTable, MergeReport]:
    from desktop.data import canonical

    sources = real_sources(with_fred=True)
    report = MergeReport()
    dataset = canonical.merge(None, sources, report=report)
    taxonomy = ThemeTaxonomy.from_toml((PROJECT_ROOT / "resources" / "themes.toml").read_text(encoding="utf-8"))
    return dataset, compute_metrics(dataset, taxonomy=taxonomy), report


def _row_of(ds: Dataset, symbol: str, origin: str) -> pd.Series:
    """The one statement row an origin text names ("simfin FY2024 (period ended 2024-12-31)")."""
    source = origin.split(" ", 1)[0]
    end = pd.Timestamp(origin.rsplit("period ended ", 1)[1].rstrip(")"))
    h = ds.history
    rows = h[(h["symbol"] == symbol) & (h["source"] == source) & (h["period_end"] == end)]
    assert len(rows) >= 1, (symbol, origin)
    return rows.sort_values("filed", na_position="first").iloc[-1]


# ratio -> (numerator line, denominator line) recomputed from the named row alone
RATIOS = {
    "debt_to_equity": ("total_debt", "total_equity"),
    "debt_to_assets": ("total_debt", "total_assets"),
    "short_term_debt_share": ("current_debt", "total_debt"),
    "fcf_margin": ("free_cash_flow", "revenue"),
}


@pytest.mark.parametrize("name", sorted(RATIOS))
def test_every_ratio_comes_from_one_period_of_one_source(real, name: str) -> None:
    ds, table, _ = real
    num, den = RATIOS[name]
    shown = table.status[name].isin([OK, STALE, SUSPECT]) & table.origin[name].notna()
    shown &= ~table.origin[name].astype(str).str.contains("(reported figure)", regex=False)
    checked = 0
    for sym in table.values.index[shown]:
        row = _row_of(ds, sym, table.origin.at[sym, name])
        a, b = row[num], row[den]
        if num == "free_cash_flow" and np.isnan(a):
            a = row["operating_cash_flow"] + row["capital_expenditure"]
        for line in (num, den):
            if line == "total_debt" and np.isnan(row["total_debt"]):
                derived = row["current_debt"] + row["long_term_debt"]
                # Both lines absent: zero debt, only because the reported D/E agrees (rules in data-sources.md).
                value = 0.0 if np.isnan(row["current_debt"]) and np.isnan(row["long_term_debt"]) else derived
                a, b = (value, b) if line == num else (a, value)
        assert table.values.at[sym, name] == pytest.approx(a / b, rel=1e-9), (sym, name, table.origin.at[sym, name])
        checked += 1
    assert checked > 300


def test_coverage_takes_earnings_and_interest_of_one_row(real) -> None:
    ds, table, _ = real
    finite = table.status["interest_coverage"].isin([OK, STALE, SUSPECT]) \
        & np.isfinite(table.values["interest_coverage"])
    for sym in table.values.index[finite]:
        row = _row_of(ds, sym, table.origin.at[sym, "interest_coverage"])
        earn = row["ebit"] if not np.isnan(row["ebit"]) else row["operating_income"]
        assert table.values.at[sym, "interest_coverage"] == pytest.approx(earn / row["interest_expense"])


def test_no_value_older_than_the_limit_is_shown_without_the_stale_state(real) -> None:
    _, table, _ = real
    as_of = pd.Timestamp(table.as_of)
    seen = 0
    for name in table.period_end.columns:
        if name not in table.status:
            continue
        limit = (table.params.market_stale_days if name in ("price", "market_cap", "enterprise_value", "beta",
                                                            "shares_outstanding") or name.startswith(("rate_beta", "iwm"))
                 else table.params.stale_months * 30.44)
        age = (as_of - table.period_end[name]).dt.days
        old = (age > limit + 1).to_numpy()
        states = table.status[name].to_numpy()
        assert not np.any(old & (states == OK)), (name, table.values.index[old & (states == OK)][:5].tolist())
        seen += int(old.sum())
    assert seen > 1000  # the shared data is old: many stale values, none shown as current


def test_equal_notes_are_one_text_object(real) -> None:
    # The stale notes repeat per stock (tens of thousands of copies of a few thousand texts):
    # the table keeps one string object per text (issue #17: the first start's peak memory).
    _, table, _ = real
    notes = [text for text in table.notes.values() if "stale: " in text or "suspect: " in text]
    assert len(notes) > 10_000
    assert len({id(text) for text in notes}) == len(set(notes))


def test_censored_fcf_is_never_overridden_by_an_older_positive_figure(real) -> None:
    ds, table, _ = real
    h = ds.history[ds.history["symbol"].isin(table.values.index)]
    fin = h[(h["source"] == "finviz") & (h["fcf_nonpositive"] == 1.0)].set_index("symbol")["period_end"]
    positive = table.values["fcf_positive"] == 1.0
    for sym in table.values.index[positive]:
        if sym in fin.index:
            chosen = table.period_end.at[sym, "fcf_positive"]
            assert chosen > fin.loc[sym], (sym, "shows FCF > 0 against a fresher FCF <= 0")
    assert table.values.at["VHI", "fcf_positive"] == 0.0
    assert table.values.at["MED", "fcf_positive"] == 0.0


def test_cash_survivors_leave_out_vhi_and_med(real) -> None:
    _, table, _ = real
    screen = parse_screen(json.loads((PROJECT_ROOT / "resources/presets/cash_survivors.json").read_text("utf-8")))
    ranked = evaluate(screen, table).ranked
    assert 20 <= len(ranked) <= 400
    assert "VHI" not in ranked.index and "MED" not in ranked.index


def test_named_cases(real) -> None:
    ds, table, _ = real
    v, st = table.values, table.status
    # NCMI: repricing debt from the same balance sheet as total debt, so never above it.
    assert v.at["NCMI", "repricing_debt"] <= v.at["NCMI", "total_debt"]
    assert table.origin.at["NCMI", "repricing_debt"] == table.origin.at["NCMI", "total_debt"]
    # MTH: coverage from one fiscal year; its interest bill is immaterial, so the ratio is suspect.
    assert table.origin.at["MTH", "interest_coverage"].startswith("simfin FY")
    assert st.at["MTH", "interest_coverage"] in (SUSPECT, STALE)
    # TDOC: an operating loss while net interest is income: not meaningful, not infinite.
    assert st.at["TDOC", "interest_coverage"] == NOT_MEANINGFUL
    # Reused tickers carry no other company's statements.
    h = ds.history
    for sym in ("AKTS", "BBBY", "SPWR", "CNR"):
        assert not ((h["symbol"] == sym) & (h["source"] == "simfin")).any(), sym
    # Nameless Yahoo records dated while the ticker was another company's (SPWR 2024-07: the old
    # SunPower, a year before Finviz first names Complete Solaria under SPWR).
    for sym in ("AKTS", "SPWR"):
        assert not ((h["symbol"] == sym) & (h["source"] == "yahoo")).any(), sym
    # HTZ: its SimFin FCF rests on positive capex (fleet sales) and is suspect; nothing confident shown.
    rows = prepare(h[h["symbol"] == "HTZ"], pd.Index(["HTZ"]))
    positive_capex = rows.rows["capital_expenditure"] > 0
    assert positive_capex.any()
    assert (rows.suspect["free_cash_flow"][positive_capex.to_numpy()] == "positive_capex").all()
    assert st.at["HTZ", "fcf_yield"] != OK
    # A bank's FCF yield is not meaningful, whatever its cash-flow lines say.
    assert st.at["ONB", "fcf_yield"] == NOT_MEANINGFUL
    # Debt / equity has a value wherever a statement or a source reports it.
    assert (st["debt_to_equity"] != MISSING).sum() > 1500


def test_merge_reports_identity_rejections_and_future_data(real) -> None:
    _, _, report = real
    sentences = [r.sentence() for r in report.rejections]
    assert any(s.startswith("simfin AKTS is Akoustis Technologies") and "Aktis Oncology".upper() in s
               for s in sentences)
    assert {r.symbol for r in report.rejections} >= {"AKTS", "BBBY", "SPWR", "CNR", "ABX", "LION", "SI"}
    assert any("after the snapshot's as-of date" in w for w in report.warnings)  # FRED runs to 2026-09

"""The five presets backtested on the real universe in ../shared/data (skipped when absent).

The dataset is built through the committed readers and ``canonical.merge``, as an import does;
nothing from those files is copied here. One year of monthly rebalancing keeps the test short;
benchmarks/bench_backtest.py runs five years.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from desktop.engine.backtest import (
    IWM,
    SCREEN,
    UNIVERSE,
    BacktestResult,
    BacktestSettings,
    Membership,
    run_backtest,
)
from desktop.engine.dataset import Dataset
from desktop.engine.metrics import StockTable
from desktop.engine.pointintime import PointInTime
from desktop.engine.screen import parse_screen
from desktop.engine.themes import ThemeTaxonomy
from tests.conftest import PROJECT_ROOT
from tests.engine.real_data import real_sources

pytestmark = pytest.mark.slow
PRESETS = sorted((PROJECT_ROOT / "resources" / "presets").glob("*.json"))


@pytest.fixture(scope="module")
def real() -> tuple[Dataset, PointInTime, list[Membership]]:
    from desktop.data import canonical

    dataset = canonical.merge(None, real_sources())
    taxonomy = ThemeTaxonomy.from_toml((PROJECT_ROOT / "resources" / "themes.toml").read_text(encoding="utf-8"))
    members = [Membership(dataset.as_of, frozenset(dataset.members.index.astype(str)), "IWM holdings")]
    return dataset, PointInTime(dataset, taxonomy=taxonomy), members


@pytest.fixture(scope="module")
def results(real: tuple[Dataset, PointInTime, list[Membership]]) -> dict[str, BacktestResult]:
    dataset, pit, members = real
    settings = BacktestSettings(date(2024, 1, 1), date(2024, 12, 31))
    out = {}
    for path in PRESETS:
        screen = parse_screen(json.loads(path.read_text(encoding="utf-8")))
        out[path.stem] = run_backtest(screen, pit, members, settings)
    return out


@pytest.mark.parametrize("path", PRESETS, ids=lambda p: p.stem)
def test_presets_backtest_on_the_real_universe(results: dict[str, BacktestResult], path: Path) -> None:
    r = results[path.stem]
    assert len(r.periods) == 12
    assert np.isfinite(r.curves.to_numpy()).all()
    assert r.curves.index[0] == pd.Timestamp("2023-12-29")
    assert r.warnings[0].startswith("SURVIVORSHIP BIAS")  # one holdings file: today's members
    assert (r.periods["universe"] > 1500).all()
    assert r.stats.loc[IWM, "total_return"] == pytest.approx(r.curves[IWM].iloc[-1] - 1)
    assert -0.6 < r.stats.loc[SCREEN, "max_drawdown"] <= 0
    held = r.holdings[r.holdings["status"].isin(["entered", "kept"])]
    assert held.groupby("date")["weight"].sum().pipe(lambda w: np.allclose(w[w > 0], 1.0))
    assert (held["reason"].str.count("✓") >= 1).all()


def test_cash_survivors_hold_a_real_list(results: dict[str, BacktestResult]) -> None:
    r = results["cash_survivors"]
    assert r.periods["holdings"].min() >= 50
    assert 0 <= r.summary["share_beating_iwm"] <= 1
    assert 0 < r.summary["average_turnover"] < 0.5


def test_universe_benchmark_tracks_the_index_loosely(results: dict[str, BacktestResult]) -> None:
    periods = results["zombie_watch"].periods
    corr = np.corrcoef(periods[UNIVERSE], periods[IWM])[0, 1]
    assert corr > 0.9  # the same small caps, equally weighted


def test_statements_filed_later_are_not_used(real: tuple[Dataset, PointInTime, list[Membership]]) -> None:
    dataset, pit, members = real
    when = pd.Timestamp("2022-06-30")
    symbols = [s for s in sorted(members[0].symbols) if s in pit.last_closes(when, 7).index]
    known = pit.dataset_at(when, symbols)
    public = known.history["filed"].fillna(known.history["period_end"])
    assert (public <= when).all()
    assert not (known.history["source"] == "finviz").any()  # the export is dated 2025-08-21
    later = dataset.history[(dataset.history["filed"] > when) & dataset.history["symbol"].isin(symbols)]
    assert len(later) > 1000  # there was something to leave out
    table = pit.table_at(when, symbols)
    ends = table.period_end["free_cash_flow"].dropna()
    assert (ends <= when).all()


def _same_tables(a: StockTable, b: StockTable, notes: bool = True) -> None:
    for name in ("values", "status", "period_end", "origin"):
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name), obj=name)
    if notes:
        assert dict(a.notes) == dict(b.notes)
        assert repr(sorted(a.zombie_years.items())) == repr(sorted(b.zombie_years.items()))


def test_one_panel_of_dates_gives_the_tables_of_each_date(real: tuple[Dataset, PointInTime, list[Membership]]) -> None:
    """The backtest screens all its dates as one panel: it must see exactly what a screen run on
    each of those days sees, prices, rate betas and notes included."""
    _, pit, members = real
    whens = [pd.Timestamp("2021-03-31"), pd.Timestamp("2023-06-30"), pd.Timestamp("2025-02-28")]
    closes = [pit.last_closes(w, 7) for w in whens]
    symbols = [[s for s in sorted(members[0].symbols)[:400] if s in c.index] for c in closes]
    panel = pit.tables_at(whens, symbols, closes)
    for table, when, syms, close in zip(panel, whens, symbols, closes, strict=True):
        one = pit.table_at(when, syms, close)
        _same_tables(table, one)
        pd.testing.assert_frame_equal(table.provenance, one.provenance)
        assert table.as_of == when.date()
    assert panel[1].values["rate_beta"].notna().sum() > 250  # the price stage ran per date (2023)


def test_a_panel_for_a_few_fields_computes_those_alone(real: tuple[Dataset, PointInTime, list[Membership]]) -> None:
    _, pit, members = real
    whens = [pd.Timestamp("2022-09-30"), pd.Timestamp("2024-09-30")]
    closes = [pit.last_closes(w, 7) for w in whens]
    symbols = [[s for s in sorted(members[0].symbols) if s in c.index] for c in closes]
    wanted = frozenset({"fcf_yield", "zombie", "interest_coverage"})
    few = pit.tables_at(whens, symbols, closes, fields=wanted, explain=False)
    full = pit.tables_at(whens, symbols, closes)
    for small, big in zip(few, full, strict=True):
        computed = set(small.status.columns)
        assert wanted | {"market_cap"} <= computed  # fcf_yield inherits the market cap's state
        assert not computed & {"rate_beta", "return_12m", "pe_ratio", "revenue_growth_1y", "fcf_positive_years"}
        for f in computed:
            pd.testing.assert_series_equal(small.values[f], big.values[f], obj=f)
            pd.testing.assert_series_equal(small.status[f], big.status[f], obj=f)
        assert {"name", "sector", "themes"} <= set(small.values.columns)
        assert not small.notes and small.provenance.empty
        assert small.origin[["fcf_yield", "interest_coverage", "zombie"]].isna().all().all()
    assert full[1].values["zombie"].eq(1.0).sum() > 10


def test_every_optional_stage_declares_what_it_writes(real: tuple[Dataset, PointInTime, list[Membership]]) -> None:
    """A stage left out must take exactly its declared fields with it: with no field asked for,
    every field still in the table has its full value, and what is gone is declared."""
    from desktop.engine.metrics import compute_metrics, optional_stages

    dataset, _, _ = real
    full = compute_metrics(dataset)
    stages = optional_stages(full.params)
    declared = frozenset().union(*stages.values())
    bare = compute_metrics(dataset, fields=frozenset(set(full.status.columns) - declared))  # no optional stage
    assert set(full.status.columns) - set(bare.status.columns) == declared
    for f in bare.status.columns:
        pd.testing.assert_series_equal(bare.values[f], full.values[f], obj=f)
        pd.testing.assert_series_equal(bare.status[f], full.status[f], obj=f)
    for name, written in stages.items():
        table = compute_metrics(dataset, fields=written)
        for f in written:
            pd.testing.assert_series_equal(table.values[f], full.values[f], obj=f"{name}: {f}")
            pd.testing.assert_series_equal(table.status[f], full.status[f], obj=f"{name}: {f}")
        assert full.values[list(written)].notna().any().any(), name  # the data exercises the stage

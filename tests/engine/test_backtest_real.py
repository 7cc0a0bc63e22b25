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

"""The five presets backtested over five years of monthly rebalancing on the real universe (issue #15).

"Five years" is as much as the shared closes allow: they run 2020-07-27 to 2025-04-04, so the
backtest forms its first portfolio on 2020-07-31 and its last on 2025-02-28 (56 rebalances, returns
to 2025-03-31). ``backtest_*`` runs are cold: the point-in-time view of the dataset is prepared
inside the timed call (the dataset itself is in memory, as the service has it after loading the
snapshot; ~0.6 s, mostly tagging themes). ``backtest_warm_*`` runs start from that view prepared,
as every backtest after the first on a snapshot does (``services.backtest`` keeps it).

The baseline is one screen run on today's data (``compute_metrics`` + ``evaluate`` on the whole
universe), so ``ratio`` says how many screen runs a backtest costs. The backtest screens all its
rebalance dates as one panel of (stock, date) rows (``PointInTime.tables_at``) and computes only the
stages the screen reads, so a backtest of 56 dates costs a few screen runs, not 56.
The synthetic universe has two years of prices and no filing dates, so these skip on it.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from benchmarks import Skip, data_kind, measure, result, universe

START, END = date(2020, 8, 1), date(2025, 3, 31)


def _backtest(stem: str, warm: bool = False) -> dict[str, Any]:
    from desktop.engine.backtest import BacktestSettings, Membership, run_backtest
    from desktop.engine.evaluate import evaluate
    from desktop.engine.metrics import compute_metrics
    from desktop.engine.pointintime import PointInTime
    from desktop.engine.screen import parse_screen
    from desktop.engine.themes import ThemeTaxonomy
    from desktop.resources import resource_path

    if data_kind() != "real":
        raise Skip("needs the real universe (five years of closes and statements with publish dates)")
    dataset = universe()
    taxonomy = ThemeTaxonomy.from_toml(resource_path("themes.toml").read_text(encoding="utf-8"))
    screen = parse_screen(resource_path("presets", f"{stem}.json").read_text(encoding="utf-8"))
    members = [Membership(dataset.as_of, frozenset(dataset.members.index.astype(str)), "IWM holdings")]
    settings = BacktestSettings(START, END)

    periods: list[int] = []
    data = PointInTime(dataset, taxonomy=taxonomy) if warm else dataset

    def run() -> None:
        periods.append(len(run_backtest(screen, data, members, settings, taxonomy=taxonomy).periods))

    median, peak = measure(run, repeat=2, warmup=0)
    base, _ = measure(lambda: evaluate(screen, compute_metrics(dataset, taxonomy=taxonomy)), repeat=3,
                      trace_memory=False)
    return result(median, peak, periods[-1], base)


def bench_backtest_cash_survivors() -> dict[str, Any]:
    """Cash survivors, 56 monthly rebalances, equal weight, 20 bp (cold)."""
    return _backtest("cash_survivors")


def bench_backtest_rate_shock_resilient() -> dict[str, Any]:
    """Rate-shock resilient, 56 monthly rebalances (cold)."""
    return _backtest("rate_shock_resilient")


def bench_backtest_real_tech_runway() -> dict[str, Any]:
    """Real-tech with runway, 56 monthly rebalances (cold; the theme criterion prefilters)."""
    return _backtest("real_tech_runway")


def bench_backtest_reit_bank_stress() -> dict[str, Any]:
    """REIT and regional-bank stress, 56 monthly rebalances (cold; rate betas at every date)."""
    return _backtest("reit_bank_stress")


def bench_backtest_zombie_watch() -> dict[str, Any]:
    """Zombie watch, 56 monthly rebalances (cold; no profile criterion: the whole universe every date)."""
    return _backtest("zombie_watch")


def bench_backtest_warm_cash_survivors() -> dict[str, Any]:
    """Cash survivors, the snapshot's point-in-time view prepared (the service keeps it per snapshot)."""
    return _backtest("cash_survivors", warm=True)


def bench_backtest_warm_rate_shock_resilient() -> dict[str, Any]:
    """Rate-shock resilient, point-in-time view prepared."""
    return _backtest("rate_shock_resilient", warm=True)


def bench_backtest_warm_real_tech_runway() -> dict[str, Any]:
    """Real-tech with runway, point-in-time view prepared."""
    return _backtest("real_tech_runway", warm=True)


def bench_backtest_warm_reit_bank_stress() -> dict[str, Any]:
    """REIT and regional-bank stress, point-in-time view prepared."""
    return _backtest("reit_bank_stress", warm=True)


def bench_backtest_warm_zombie_watch() -> dict[str, Any]:
    """Zombie watch, point-in-time view prepared."""
    return _backtest("zombie_watch", warm=True)

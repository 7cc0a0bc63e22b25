"""Engine speed (issue #5), measured here and never in unit tests.

Targets:
- ``bench_screen_2000``: a 12-criterion screen with its state matrix and funnel on 2,000 stocks,
  median < 5 ms (the UI re-screens on every keystroke);
- ``bench_screen_200k``: the same screen on 200,000 synthetic rows, median < 300 ms;
- ``bench_metrics_2000``: ``compute_metrics`` for 2,000 stocks with five fiscal years of history
  and rate betas from two years of daily prices, median < 2 s.
- ``bench_formula_2000``: a formula field of ten terms evaluated on 2,000 stocks (states carried),
  median well under 5 ms (issue #16); ``with_formulas_median_s`` adds it to the table as a column
  (what a screen with a new formula pays once; re-screening the same formula is cached).

Baseline for the screens: a naive row-by-row evaluation of the same screen in plain Python (the
same three-valued logic and funnel, percentiles from one sort per criterion). Every number is
invented (seeded), so runs are comparable and nothing depends on ``../shared/data``.

    python -m benchmarks.bench_engine
"""

from __future__ import annotations

import statistics
import time
import tracemalloc
from collections.abc import Callable
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from desktop.engine.dataset import HISTORY_COLUMNS, Dataset
from desktop.engine.evaluate import evaluate
from desktop.engine.metrics import StockTable, compute_metrics
from desktop.engine.screen import (
    FlagCriterion,
    Group,
    Node,
    Not,
    PercentileCriterion,
    RangeCriterion,
    Screen,
    SetCriterion,
    parse_screen,
)

AS_OF = date(2026, 5, 5)
SECTORS = ["Technology", "Healthcare", "Industrials", "Financial Services", "Consumer Cyclical", "Energy",
           "Real Estate", "Utilities", "Basic Materials", "Communication Services"]
THEMES = ["semiconductors", "ai", "fintech", "ar_vr", "blockchain", "biotech", "clean_energy", "reit"]

# Twelve criteria of every kind, with a nested any and a not.
SCREEN_DOC: dict[str, Any] = {
    "version": 2, "name": "Benchmark: 12 criteria", "universe": "russell2000", "match": "all",
    "criteria": [
        {"field": "market_cap", "min": 1e8, "max": 2e10},
        {"field": "ocf_positive", "is": True},
        {"field": "fcf_yield", "min": -0.05},
        {"field": "net_debt_to_ebitda", "max": 4, "missing": "pass"},
        {"field": "interest_coverage", "min": 1.5, "missing": "pass"},
        {"field": "shocked_coverage_200", "min": 1.0, "missing": "pass"},
        {"field": "short_term_debt_share", "max": 0.6, "not_meaningful": "pass", "missing": "pass"},
        {"field": "sector", "none_of": ["Utilities"], "missing": "pass"},
        {"any": [
            {"field": "fcf_margin", "percentile_min": 20, "within": "sector"},
            {"field": "themes", "any_of": ["semiconductors", "ai", "fintech"]},
        ]},
        {"not": {"field": "zombie", "is": True}},
        {"field": "debt_to_equity", "max": 3, "missing": "pass"},
    ],
    "sort": [{"field": "fcf_yield", "descending": True}],
    "score": {"weights": {"fcf_yield": 2, "interest_coverage": 1, "net_debt_to_ebitda": -1}},
}


# --- synthetic inputs ---------------------------------------------------------------------------

def synthetic_dataset(n: int = 2000, days: int = 504, seed: int = 7) -> Dataset:
    """A dataset of the real shape: base fields, 5 fiscal years, ``days`` daily closes, market."""
    rng = np.random.default_rng(seed)
    symbols = pd.Index([f"ZB{i:04d}" for i in range(n)], name="symbol")

    def amount(scale: float, p_missing: float = 0.05) -> np.ndarray:
        x = rng.lognormal(np.log(scale), 1.0, n)
        x[rng.random(n) < p_missing] = np.nan
        return x

    revenue = amount(5e8)
    ocf = revenue * rng.normal(0.06, 0.12, n)
    capex = -np.abs(revenue * rng.normal(0.04, 0.02, n))
    debt = amount(3e8, 0.1) * (rng.random(n) > 0.15)
    sec = pd.DataFrame({
        "ticker": symbols.str.replace("-", ""), "name": [f"Company {i}" for i in range(n)],
        "in_index": True, "sector": rng.choice(SECTORS, n), "industry": rng.choice(["A", "B", "C", "D"], n),
        "description": _descriptions(rng, n), "market_cap": amount(1.5e9, 0.01),
        "price": amount(30.0, 0.0), "revenue": revenue, "ebitda": revenue * rng.normal(0.12, 0.15, n),
        "ebit": revenue * rng.normal(0.07, 0.12, n), "interest_expense": debt * rng.uniform(0.03, 0.09, n),
        "operating_cash_flow": ocf, "capital_expenditure": capex,
        "total_debt": debt, "current_debt": debt * rng.uniform(0, 0.5, n),
        "long_term_debt": debt * rng.uniform(0.5, 1, n), "cash": amount(1e8),
        "total_equity": amount(6e8) * np.where(rng.random(n) < 0.06, -1, 1), "total_assets": amount(2e9),
        "listing_date": pd.Timestamp("2000-01-03") + pd.to_timedelta(rng.integers(0, 9000, n), unit="D"),
    }, index=symbols)
    years = np.arange(2020, 2025)
    hist = pd.DataFrame({
        "symbol": np.repeat(symbols.to_numpy(dtype=object), len(years)),
        "fiscal_year": np.tile(years, n).astype("int64"),
        "source": "simfin",
    })
    m = len(hist)
    rev_h = np.repeat(revenue, len(years)) * rng.normal(1, 0.1, m)
    hist["period_end"] = pd.to_datetime(hist["fiscal_year"].astype(str) + "-12-31")
    hist["revenue"] = rev_h
    hist["ebit"] = np.nan
    hist["operating_income"] = rev_h * rng.normal(0.06, 0.12, m)
    hist["interest_expense"] = np.repeat(np.nan_to_num(debt), len(years)) * rng.uniform(0.02, 0.08, m)
    hist["operating_cash_flow"] = rev_h * rng.normal(0.06, 0.12, m)
    hist["capital_expenditure"] = -np.abs(rev_h * rng.normal(0.04, 0.02, m))
    hist["free_cash_flow"] = hist["operating_cash_flow"] + hist["capital_expenditure"]
    for c in HISTORY_COLUMNS:
        if c not in hist:
            hist[c] = np.nan
    hist = hist[list(HISTORY_COLUMNS)]

    dates = pd.bdate_range(end="2026-05-01", periods=days, name="date")
    mkt = rng.normal(0.0003, 0.012, days)
    dy = rng.normal(0, 0.05, days)
    betas = rng.normal(1.0, 0.4, n)
    rbetas = rng.normal(0, 0.04, n)
    rets = mkt[:, None] * betas + dy[:, None] * rbetas + rng.normal(0, 0.02, (days, n))
    closes = 20 * np.exp(np.cumsum(rets, axis=0))
    # bad prints and late listings, as in the real file
    closes[rng.integers(0, days, 60), rng.integers(0, n, 60)] *= 0.01
    late = rng.random(n) < 0.05
    closes[: days // 2, late] = np.nan
    prices = pd.DataFrame(closes, index=dates, columns=symbols)
    market = pd.DataFrame({"IWM": 200 * np.exp(np.cumsum(mkt)), "yield_10y": 4 + np.cumsum(dy)}, index=dates)
    return Dataset(AS_OF, sec, hist, prices, market)


_FILLER = ("the company designs manufactures and sells products services solutions for customers in the "
           "United States Europe and Asia through segments including industrial commercial consumer and "
           "government markets it was founded in and is headquartered in").split()
_THEME_WORDS = ("semiconductor", "integrated circuits", "artificial intelligence", "machine learning", "AI",
                "payment processing", "bitcoin mining", "augmented reality", "clinical-stage biotechnology",
                "solar", "renewable energy", "electric vehicles", "real estate investment trust",
                "bank holding company", "REIT", "are", "AR")


def _descriptions(rng: np.random.Generator, n: int) -> list[str]:
    """Business summaries of the real median length (~630 characters), a few theme words each."""
    out = []
    for _ in range(n):
        words = list(rng.choice(_FILLER, 95))
        for k in rng.integers(0, len(_THEME_WORDS), rng.integers(0, 4)):
            words.insert(int(rng.integers(0, len(words))), _THEME_WORDS[k])
        out.append(" ".join(words).capitalize() + ".")
    return out


def synthetic_table(n: int, seed: int = 11) -> StockTable:
    """A StockTable of ``n`` rows with the fields the benchmark screen uses (no metrics run)."""
    rng = np.random.default_rng(seed)
    index = pd.Index([f"ZS{i:06d}" for i in range(n)], name="symbol")
    numeric = {
        "market_cap": rng.lognormal(np.log(1.5e9), 1.0, n), "fcf_yield": rng.normal(0.02, 0.08, n),
        "net_debt_to_ebitda": rng.normal(2, 2, n), "interest_coverage": rng.normal(5, 6, n),
        "shocked_coverage_200": rng.normal(3, 4, n), "short_term_debt_share": rng.uniform(0, 1, n),
        "fcf_margin": rng.normal(0.03, 0.1, n), "debt_to_equity": rng.lognormal(0, 1, n),
        "ocf_positive": (rng.random(n) < 0.7).astype(float), "zombie": (rng.random(n) < 0.08).astype(float),
        "in_index": np.ones(n),
    }
    status = {}
    for k, v in numeric.items():
        st = np.zeros(n, dtype=np.int8)
        if k != "in_index":
            miss = rng.random(n) < 0.08
            v[miss] = np.nan
            st[miss] = 1
        if k in ("net_debt_to_ebitda", "debt_to_equity", "short_term_debt_share"):
            nm = (rng.random(n) < 0.05) & ~miss
            v[nm] = np.nan
            st[nm] = 2
        status[k] = st
    sector = rng.choice(np.array(SECTORS + [None], dtype=object), n)
    themes = [tuple(THEMES[j] for j in np.flatnonzero(row)) for row in rng.random((n, len(THEMES))) < 0.06]
    values = pd.DataFrame({**{k: pd.Series(v, index=index) for k, v in numeric.items()},
                           "name": pd.Series([f"Co {i}" for i in range(n)], index=index, dtype=object),
                           "sector": pd.Series(sector, index=index, dtype=object),
                           "industry": pd.Series(["X"] * n, index=index, dtype=object),
                           "themes": pd.Series(themes, index=index, dtype=object)}, index=index)
    rows = [(s, t) for s, ts in zip(index, themes, strict=True) for t in ts]
    matches = pd.DataFrame({"symbol": pd.Series([r[0] for r in rows], dtype=object),
                            "theme": pd.Series([r[1] for r in rows], dtype=object),
                            "rule": "ticker", "matched": ""})
    return StockTable(AS_OF, values, pd.DataFrame(status, index=index), {}, matches, {}, pd.DataFrame())


# --- the naive baseline ---------------------------------------------------------------------------

def naive_evaluate(screen: Screen, table: StockTable) -> tuple[list[str], list[tuple[str, int]]]:
    """Row by row in plain Python: passing symbols and the funnel (what a first version would do)."""
    values, status = table.values, table.status
    rows = [i for i, v in enumerate(values["in_index"].tolist()) if v == 1.0]
    symbols = values.index.tolist()
    cols = {c: values[c].tolist() for c in values.columns}
    stats = {c: status[c].tolist() for c in status.columns}
    policy = {"fail": 0, "pass": 1, "unknown": 2}
    pct: dict[tuple[str, str], dict[int, float]] = {}
    for leaf in screen.leaves():
        if isinstance(leaf, PercentileCriterion):
            groups: dict[Any, list[int]] = {}
            for i in rows:
                if stats[leaf.field][i] in (0, 3, 4):  # stale and suspect values keep a rank
                    key = cols["sector"][i] if leaf.within == "sector" else None
                    if leaf.within == "sector" and key is None:
                        continue
                    groups.setdefault(key, []).append(i)
            ranks: dict[int, float] = {}
            for members in groups.values():
                ordered = sorted(members, key=lambda i, f=leaf.field: cols[f][i])
                pos = 0
                while pos < len(ordered):  # average ranks for ties
                    end = pos
                    while end + 1 < len(ordered) and cols[leaf.field][ordered[end + 1]] == cols[leaf.field][ordered[pos]]:
                        end += 1
                    for j in range(pos, end + 1):
                        ranks[ordered[j]] = 100.0 * ((pos + end) / 2 + 1) / len(ordered)
                    pos = end + 1
            pct[(leaf.field, leaf.within)] = ranks

    def leaf_state(c: Node, i: int) -> int:
        if isinstance(c, RangeCriterion | PercentileCriterion):
            s = stats[c.field][i]
            if isinstance(c, PercentileCriterion):
                p = pct[(c.field, c.within)].get(i)
                if s == 0 and p is None:
                    s = 1
            if s == 1:
                return policy[c.missing]
            if s == 2:
                return policy[c.not_meaningful]
            state_policy = {3: c.stale, 4: c.suspect}.get(s, "use")
            if state_policy != "use":
                return policy[state_policy]
            if isinstance(c, PercentileCriterion):
                return 1 if p >= c.percentile_min else 0
            v = cols[c.field][i]
            ok = (c.min is None or v >= c.min) and (c.max is None or v <= c.max)
            return 1 if ok else 0
        if isinstance(c, SetCriterion):
            if c.field == "themes":
                hit = any(t in cols["themes"][i] for t in c.values)
            else:
                v = cols[c.field][i]
                if v is None:
                    return policy[c.missing]
                hit = v.casefold() in {x.casefold() for x in c.values}
            return 1 if hit != c.exclude else 0
        assert isinstance(c, FlagCriterion)
        s = stats[c.field][i]
        if s in (3, 4):
            state_policy = c.stale if s == 3 else c.suspect
            if state_policy != "use":
                return policy[state_policy]
        elif s != 0:
            return policy[c.missing]
        return 1 if cols[c.field][i] == (1.0 if c.is_ else 0.0) else 0

    rank = {0: 0, 2: 1, 1: 2}
    back = {0: 0, 1: 2, 2: 1}

    def truth(node: Node, i: int) -> int:
        if isinstance(node, Group):
            parts = [truth(ch, i) for ch in node.children]
            return min(parts) if node.op == "all" else max(parts)
        if isinstance(node, Not):
            return 2 - truth(node.child, i)
        return rank[leaf_state(node, i)]

    passed, funnel = [], []
    alive = list(rows)
    for node in screen.root.children:
        before = len(alive)
        alive = [i for i in alive if truth(node, i) == 2]
        funnel.append((node.id, before - len(alive)))
    states = {i: [back[rank[leaf_state(c, i)]] for c in screen.leaves()] for i in rows}  # the matrix
    passed = [symbols[i] for i in alive]
    assert len(states) == len(rows)
    return passed, funnel


# --- measuring ---------------------------------------------------------------------------------------

def _measure(fn: Callable[[], object], repeats: int) -> tuple[float, float]:
    fn()  # warm caches (the UI re-screens the same table)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    tracemalloc.start()
    fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return statistics.median(times), peak / 1e6


def _screen_bench(table: StockTable, repeats: int, baseline_repeats: int) -> dict[str, Any]:
    screen = parse_screen(SCREEN_DOC)
    assert len(screen.leaves()) == 12
    fast = evaluate(screen, table)
    naive, naive_funnel = naive_evaluate(screen, table)
    # The baseline must agree, or the comparison means nothing.
    assert sorted(naive) == sorted(fast.ranked.index), "naive and vectorised screens disagree"
    assert [r for _, r in naive_funnel] == [s.removed for s in fast.funnel]
    # The measured unit: ranked list, state matrix, funnel and score (what every keystroke needs).
    median, peak = _measure(lambda: evaluate(screen, table), repeats)
    # Near misses are computed when first read (the near-miss panel); timed separately.
    with_near, _ = _measure(lambda: evaluate(screen, table).near_misses, repeats)
    base, _ = _measure(lambda: naive_evaluate(screen, table), baseline_repeats) if baseline_repeats else (None, 0)
    return {"median_s": median, "peak_mb": peak, "n": len(table.values), "baseline_median_s": base,
            "with_near_misses_median_s": with_near, "passing": len(fast.ranked),
            "near_misses": len(fast.near_misses)}


def bench_screen_2000() -> dict[str, Any]:
    """12-criterion screen with states, funnel, near misses and score on 2,000 stocks (< 5 ms)."""
    table = compute_metrics(synthetic_dataset(2000))
    return _screen_bench(table, repeats=50, baseline_repeats=5)


def bench_screen_200k() -> dict[str, Any]:
    """The same screen on 200,000 synthetic rows (< 300 ms)."""
    return _screen_bench(synthetic_table(200_000), repeats=7, baseline_repeats=1)


def bench_metrics_2000() -> dict[str, Any]:
    """compute_metrics for 2,000 stocks, 5 fiscal years, rate betas from 2 years of daily prices and
    theme tagging of ~630-character descriptions with the shipped taxonomy (< 2 s)."""
    from desktop.engine.themes import ThemeTaxonomy
    from desktop.resources import resource_path

    taxonomy = ThemeTaxonomy.from_toml(resource_path("themes.toml").read_text(encoding="utf-8"))
    ds = synthetic_dataset(2000, days=504)
    median, peak = _measure(lambda: compute_metrics(ds, taxonomy=taxonomy), 5)
    table = compute_metrics(ds, taxonomy=taxonomy)
    assert table.values["rate_beta"].notna().sum() > 1500
    assert len(table.theme_matches) > 500
    return {"median_s": median, "peak_mb": peak, "n": len(ds.securities), "baseline_median_s": None}


FORMULA = "(free_cash_flow - capital_expenditure) / max(interest_expense, 1) + log(market_cap) - abs(net_debt) / total_assets"


def bench_formula_2000() -> dict[str, Any]:
    """A ten-term formula with max, log and abs on 2,000 stocks (< 5 ms); baseline: the same formula
    row by row in plain Python (with the same missing / n.m. rules)."""
    import math

    from desktop.engine.formula_columns import with_formulas
    from desktop.engine.screen import formula_field

    table = compute_metrics(synthetic_dataset(2000))
    f = formula_field("bench", FORMULA)
    assert f.parsed is not None
    n = len(table.values)
    median, peak = _measure(lambda: f.parsed.evaluate(table.numeric, n), 200)

    def added() -> object:
        table._cache.pop("formulas", None)
        return with_formulas(table, (f,))

    with_col, _ = _measure(added, 50)
    cols = {k: table.values[k].to_numpy() for k in f.parsed.fields}

    def naive() -> list[float]:
        out = []
        for i in range(n):
            fcf, capex, ie, mcap, nd, ta = (cols[k][i] for k in ("free_cash_flow", "capital_expenditure",
                                                                    "interest_expense", "market_cap", "net_debt",
                                                                    "total_assets"))
            if any(x != x for x in (fcf, capex, ie, mcap, nd, ta)) or mcap <= 0 or ta == 0:
                out.append(math.nan)
                continue
            out.append((fcf - capex) / max(ie, 1) + math.log(mcap) - abs(nd) / ta)
        return out

    base, _ = _measure(naive, 5)
    values, _st, _why = f.parsed.evaluate(table.numeric, n)
    expected = np.array(naive())
    assert np.allclose(np.nan_to_num(values, nan=-1.0), np.nan_to_num(expected, nan=-1.0)), "naive and vectorised disagree"
    return {"median_s": median, "peak_mb": peak, "n": n, "baseline_median_s": base, "with_formulas_median_s": with_col}


def _taxonomy() -> Any:
    from desktop.engine.themes import ThemeTaxonomy
    from desktop.resources import resource_path

    return ThemeTaxonomy.from_toml(resource_path("themes.toml").read_text(encoding="utf-8"))


def bench_metrics_universe() -> dict[str, Any]:
    """compute_metrics with themes on the benchmark universe (real ../shared/data when present)."""
    from benchmarks import measure, result, universe

    ds = universe()
    taxonomy = _taxonomy()
    median, peak = measure(lambda: compute_metrics(ds, taxonomy=taxonomy), repeat=3)
    return result(median, peak, len(ds.securities))


def bench_presets_universe() -> dict[str, Any]:
    """All five shipped presets (ranked, states, funnel and near misses) on the benchmark universe;
    baseline: the naive row-by-row evaluation of the same presets."""
    from benchmarks import measure, result, universe
    from desktop.resources import resource_path

    table = compute_metrics(universe(), taxonomy=_taxonomy())
    screens = [parse_screen(p.read_text(encoding="utf-8"), source=p.name)
               for p in sorted(resource_path("presets").glob("*.json"))]
    for screen in screens:  # the baseline must agree
        assert sorted(naive_evaluate(screen, table)[0]) == sorted(evaluate(screen, table).ranked.index)
    median, peak = measure(lambda: [evaluate(s, table).near_misses for s in screens], repeat=20)
    base, _ = measure(lambda: [naive_evaluate(s, table) for s in screens], repeat=3, trace_memory=False)
    return result(median, peak, len(table.values), base)


if __name__ == "__main__":
    for fn in (bench_screen_2000, bench_screen_200k, bench_metrics_2000, bench_formula_2000, bench_metrics_universe,
               bench_presets_universe):
        r = fn()
        base = f", baseline {1e3 * r['baseline_median_s']:.1f} ms" if r.get("baseline_median_s") else ""
        if "with_near_misses_median_s" in r:
            base += f", with near misses {1e3 * r['with_near_misses_median_s']:.2f} ms"
        print(f"{fn.__name__}: median {1e3 * r['median_s']:.2f} ms, peak {r['peak_mb']:.1f} MB, n={r['n']}{base}")

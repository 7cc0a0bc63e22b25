"""Screen evaluation: three-valued states, policies, groups, funnel, near misses, ranking, score."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pandas.testing as pdt
import pytest

from desktop.engine.evaluate import FAIL, PASS, UNKNOWN, FunnelStep, evaluate, percentile_ranks
from desktop.engine.screen import parse_screen
from tests.engine.conftest import stock_table

SYMS = ["ZZA", "ZZB", "ZZC", "ZZD", "ZZE"]


@pytest.fixture
def table():  # noqa: ANN201 - a StockTable
    return stock_table({
        "name": ["Alpha", "Beta", "Gamma", "Delta", "Epsilon"],
        "sector": ["Technology", "Technology", "Energy", None, "Energy"],
        "fcf_yield": [0.08, 0.02, None, 0.12, -0.01],
        "net_debt_to_ebitda": [1.0, None, 0.5, 3.0, 2.0],
        "interest_coverage": [12.0, float("inf"), 0.5, 3.0, -1.0],
        "zombie": [0.0, 0.0, 1.0, None, 0.0],
        "market_cap": [5e8, 1e9, 2e8, 3e9, 7e8],
        "themes": [("ai",), ("ai", "semiconductors"), (), ("fintech",), ()],
        "in_index": [1.0, 1.0, 1.0, 1.0, 0.0],
    }, SYMS, status={"net_debt_to_ebitda": [0, 2, 0, 0, 0]})


def run(table, criteria: list, **kw):  # noqa: ANN001, ANN201
    return evaluate(parse_screen({"version": 1, "name": "T", "criteria": criteria, **kw}), table)


def states(table, criterion: dict, **kw) -> list[int]:  # noqa: ANN001
    return list(run(table, [criterion], universe="all", **kw).states["c1"])


@pytest.mark.parametrize(("criterion", "expected"), [
    ({"field": "fcf_yield", "min": 0.05}, [PASS, FAIL, UNKNOWN, PASS, FAIL]),
    ({"field": "fcf_yield", "min": 0.02, "max": 0.08}, [PASS, PASS, UNKNOWN, FAIL, FAIL]),  # inclusive
    ({"field": "fcf_yield", "min": 0.05, "missing": "fail"}, [PASS, FAIL, FAIL, PASS, FAIL]),
    ({"field": "fcf_yield", "min": 0.05, "missing": "pass"}, [PASS, FAIL, PASS, PASS, FAIL]),
    ({"field": "net_debt_to_ebitda", "max": 2}, [PASS, FAIL, PASS, FAIL, PASS]),  # n.m. fails
    ({"field": "net_debt_to_ebitda", "max": 2, "not_meaningful": "pass"}, [PASS, PASS, PASS, FAIL, PASS]),
    ({"field": "net_debt_to_ebitda", "max": 2, "not_meaningful": "unknown"}, [PASS, UNKNOWN, PASS, FAIL, PASS]),
    ({"field": "interest_coverage", "min": 5}, [PASS, PASS, FAIL, FAIL, FAIL]),  # infinite passes a min
    ({"field": "interest_coverage", "max": 5}, [FAIL, FAIL, PASS, PASS, PASS]),
    ({"field": "sector", "any_of": ["technology"]}, [PASS, PASS, FAIL, UNKNOWN, FAIL]),  # case-insensitive
    ({"field": "sector", "none_of": ["Energy"]}, [PASS, PASS, FAIL, UNKNOWN, FAIL]),
    ({"field": "sector", "none_of": ["Energy"], "missing": "pass"}, [PASS, PASS, FAIL, PASS, FAIL]),
    ({"field": "themes", "any_of": ["semiconductors", "fintech"]}, [FAIL, PASS, FAIL, PASS, FAIL]),
    ({"field": "themes", "none_of": ["ai"]}, [FAIL, FAIL, PASS, PASS, PASS]),
    ({"field": "zombie", "is": True}, [FAIL, FAIL, PASS, UNKNOWN, FAIL]),
    ({"field": "zombie", "is": False}, [PASS, PASS, FAIL, UNKNOWN, PASS]),
])
def test_leaf_states(table, criterion: dict, expected: list[int]) -> None:  # noqa: ANN001
    got = run(table, [criterion], universe="all")
    assert list(got.states["c1"]) == expected
    assert got.ranked.index.tolist() == [s for s, e in zip(SYMS, expected, strict=True) if e == PASS]


def test_not_inverts_and_keeps_unknown(table) -> None:  # noqa: ANN001
    got = run(table, [{"not": {"field": "zombie", "is": True}}], universe="all")
    assert list(got.states["c1"]) == [FAIL, FAIL, PASS, UNKNOWN, FAIL]  # the leaf itself
    assert got.ranked.index.tolist() == ["ZZA", "ZZB", "ZZE"]  # ZZD stays unknown: not listed


def test_percentile_ranks_universe_and_sector(table) -> None:  # noqa: ANN001
    # universe "all": meaningful values 0.08, 0.02, 0.12, -0.01 -> ranks 3, 2, 4, 1 of 4
    pct = percentile_ranks(table, "fcf_yield", "universe", "all")
    np.testing.assert_allclose(pct, [75.0, 50.0, np.nan, 100.0, 25.0])
    # n.m. values are not ranked
    np.testing.assert_allclose(percentile_ranks(table, "net_debt_to_ebitda", "universe", "all"),
                               [50.0, np.nan, 25.0, 100.0, 75.0])
    # within sector: Technology 0.08 > 0.02, Energy only -0.01 known; no sector -> no rank
    np.testing.assert_allclose(percentile_ranks(table, "fcf_yield", "sector", "all"),
                               [100.0, 50.0, np.nan, np.nan, 100.0])
    assert states(table, {"field": "fcf_yield", "percentile_min": 75}) == [PASS, FAIL, UNKNOWN, PASS, FAIL]
    assert states(table, {"field": "fcf_yield", "percentile_min": 100, "within": "sector"}) == \
        [PASS, FAIL, UNKNOWN, UNKNOWN, PASS]


def test_universe_russell2000_uses_index_members(table) -> None:  # noqa: ANN001
    res = run(table, [{"field": "market_cap", "min": 0}])
    assert res.universe_count == 4
    assert list(res.states.index) == SYMS[:4]
    assert "ZZE" not in res.ranked.index
    # percentiles are computed within the screen's universe
    pct = percentile_ranks(table, "market_cap", "universe", "russell2000")
    np.testing.assert_allclose(pct, [50.0, 75.0, 25.0, 100.0])


def test_groups_use_three_valued_logic(table) -> None:  # noqa: ANN001
    crit = [{"any": [{"field": "fcf_yield", "min": 0.05}, {"field": "zombie", "is": True}]}]
    res = run(table, crit, universe="all")
    # ZZC: fcf unknown, zombie pass -> pass; ZZD: fcf pass; ZZB: fail, fail; ZZE fail, fail
    assert res.ranked.index.tolist() == ["ZZA", "ZZC", "ZZD"]
    crit = [{"all": [{"field": "fcf_yield", "min": 0.0}, {"field": "zombie", "is": False}]}]
    res = run(table, crit, universe="all")
    assert res.ranked.index.tolist() == ["ZZA", "ZZB"]  # ZZC unknown & fail = fail; ZZD pass & unknown = unknown


def test_funnel_in_order(table) -> None:  # noqa: ANN001
    res = run(table, [{"field": "interest_coverage", "min": 2}, {"field": "fcf_yield", "min": 0.05},
                      {"field": "zombie", "is": False}], universe="all")
    assert res.funnel == [
        FunnelStep("c1", "Interest coverage ≥ 2.0x", 2, 3),
        FunnelStep("c2", "FCF yield ≥ 5.0 %", 1, 2),
        FunnelStep("c3", "Zombie: no", 1, 1),
    ]
    assert res.ranked.index.tolist() == ["ZZA"]


def test_funnel_for_match_any_counts_admissions(table) -> None:  # noqa: ANN001
    res = run(table, [{"field": "fcf_yield", "min": 0.1}, {"field": "zombie", "is": True}], universe="all",
              match="any")
    assert [(s.removed, s.remaining) for s in res.funnel] == [(-1, 1), (-1, 2)]
    assert sorted(res.ranked.index) == ["ZZC", "ZZD"]


def test_near_misses(table) -> None:  # noqa: ANN001
    res = run(table, [{"field": "interest_coverage", "min": 2}, {"field": "fcf_yield", "min": 0.05},
                      {"field": "sector", "any_of": ["Technology", "Energy"]}], universe="all")
    nm = res.near_misses
    # ZZB fails only the FCF yield (0.02 < 0.05); ZZC fails coverage but fcf is unknown -> not near;
    # ZZD fails only the sector (missing -> unknown, not failing); ZZE fails two.
    assert nm["symbol"].tolist() == ["ZZB"]
    row = nm.iloc[0]
    assert (row.criterion_id, row.value, row.threshold) == ("c2", 0.02, 0.05)
    assert row.distance == pytest.approx(0.03)
    assert row.relative_distance == pytest.approx(0.6)
    assert row.label == "FCF yield ≥ 5.0 %"


def test_near_misses_for_max_and_percentile(table) -> None:  # noqa: ANN001
    res = run(table, [{"field": "net_debt_to_ebitda", "max": 2.5}, {"field": "market_cap", "percentile_min": 60}],
              universe="all")
    # market cap percentiles: A 40, B 80, C 20, D 100, E 60
    nm = res.near_misses.set_index("symbol")
    assert sorted(nm.index) == ["ZZA", "ZZC", "ZZD"]
    assert nm.at["ZZD", "criterion_id"] == "c1" and nm.at["ZZD", "distance"] == pytest.approx(0.5)
    assert nm.at["ZZA", "criterion_id"] == "c2" and nm.at["ZZA", "distance"] == pytest.approx(20.0)
    assert nm.at["ZZC", "value"] == pytest.approx(20.0) and nm.at["ZZC", "threshold"] == 60.0
    # ZZB fails c1 only because its value is n.m.: not a near miss
    assert list(nm.index) == ["ZZD", "ZZA", "ZZC"]  # closest first (relative distance)


def test_ranked_sort_columns_and_missing_last(table) -> None:  # noqa: ANN001
    res = run(table, [{"field": "market_cap", "min": 0}], universe="all",
              sort=[{"field": "fcf_yield", "descending": True}], columns=["name", "fcf_yield"])
    assert res.ranked.index.tolist() == ["ZZD", "ZZA", "ZZB", "ZZE", "ZZC"]
    assert list(res.ranked.columns) == ["rank", "name", "fcf_yield"]
    assert res.ranked["rank"].tolist() == [1, 2, 3, 4, 5]
    res = run(table, [{"field": "market_cap", "min": 0}], universe="all",
              sort=[{"field": "sector"}, {"field": "market_cap", "descending": True}])
    assert res.ranked.index.tolist() == ["ZZE", "ZZC", "ZZB", "ZZA", "ZZD"]


def test_default_columns(table) -> None:  # noqa: ANN001
    res = run(table, [{"field": "fcf_yield", "min": 0.05}], universe="all")
    assert list(res.ranked.columns) == ["rank", "name", "sector", "market_cap", "fcf_yield"]


def test_composite_score(table) -> None:  # noqa: ANN001
    res = run(table, [{"field": "market_cap", "min": 0}], universe="all",
              score={"weights": {"fcf_yield": 1, "net_debt_to_ebitda": -1}})
    # fcf pct: A 75, B 50, C -, D 100, E 25; net debt/EBITDA reversed pct (lower is better):
    # A 1.0 -> 75, B n.m. -, C 0.5 -> 100, D 3.0 -> 25, E 2.0 -> 50
    expected = pd.Series([75.0, 50.0, 100.0, 62.5, 37.5], index=pd.Index(SYMS, name="symbol"))
    pdt.assert_series_equal(res.scores, expected, check_names=False)
    assert res.ranked.index.tolist() == ["ZZC", "ZZA", "ZZD", "ZZB", "ZZE"]
    assert res.ranked["score"].tolist() == [100.0, 75.0, 62.5, 50.0, 37.5]


def test_empty_screen_passes_everyone(table) -> None:  # noqa: ANN001
    res = run(table, [], universe="all")
    assert len(res.ranked) == 5 and res.funnel == [] and res.states.shape == (5, 0)


def test_states_matrix_shape_and_dtype(table) -> None:  # noqa: ANN001
    res = run(table, [{"field": "fcf_yield", "min": 0}, {"not": {"field": "zombie", "is": True}}], universe="all")
    assert list(res.states.columns) == ["c1", "c2"]
    assert all(res.states.dtypes == np.int8)
    assert [c.id for c in res.criteria] == ["c1", "c2"]

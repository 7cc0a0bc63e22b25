"""Screen diff between two snapshots."""

from __future__ import annotations

import pandas as pd

from desktop.engine.diff import UNIVERSE_ID, diff_results
from desktop.engine.evaluate import FAIL, PASS
from desktop.engine.screen import parse_screen
from tests.engine.conftest import stock_table

SCREEN = parse_screen({"version": 1, "name": "D", "criteria": [
    {"field": "fcf_yield", "min": 0.05}, {"field": "interest_coverage", "min": 2},
    {"field": "fcf_yield", "percentile_min": 50}]})


def test_entered_exited_stayed_with_reasons() -> None:
    before = stock_table({"fcf_yield": [0.10, 0.02, 0.08, 0.06], "interest_coverage": [5.0, 5.0, 1.0, 3.0]},
                         ["ZZA", "ZZB", "ZZC", "ZZD"])
    after = stock_table({"fcf_yield": [0.10, 0.09, 0.08, 0.20], "interest_coverage": [5.0, 5.0, 3.0, 3.0]},
                        ["ZZA", "ZZB", "ZZC", "ZZE"])
    d = diff_results(SCREEN, before, after)
    # before: A (0.10, pct 100) and D (0.06, pct 50) pass; C fails coverage
    # after: fcf pct A 75, B 50, C 25, E 100 -> A, B, E pass
    assert set(d.entered) == {"ZZB", "ZZE"}
    assert d.exited == ["ZZD"]
    assert d.stayed == ["ZZA"]
    ch = d.changes.set_index(["symbol", "criterion_id"])
    row = ch.loc[("ZZB", "c1")]
    assert (row.change, row.state_before, row.state_after) == ("entered", FAIL, PASS)
    assert (row.value_before, row.value_after) == (0.02, 0.09)
    assert ch.loc[("ZZB", "c3")].value_after == 50.0  # percentile criteria report the percentile
    assert ch.loc[("ZZE", UNIVERSE_ID)].label == "joined the universe"
    assert ch.loc[("ZZD", UNIVERSE_ID)].state_after == -1
    assert ("ZZC", "c2") not in ch.index  # ZZC passes coverage now but not the percentile: neither list
    assert list(d.changes.columns) == ["symbol", "change", "criterion_id", "label", "state_before", "state_after",
                                       "value_before", "value_after"]


def test_identical_snapshots_have_no_changes() -> None:
    t = stock_table({"fcf_yield": [0.10, 0.02], "interest_coverage": [5.0, 5.0]})
    d = diff_results(SCREEN, t, t)
    assert d.entered == [] and d.exited == [] and d.stayed == ["ZZ000"]
    assert isinstance(d.changes, pd.DataFrame) and d.changes.empty

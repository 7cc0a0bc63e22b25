"""Field coverage: how many members have a value, by state (issue #12)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from desktop.engine.coverage import FieldCoverage, field_coverage
from desktop.engine.rules import MISSING, NOT_MEANINGFUL, OK, STALE, SUSPECT


def test_counts_by_state_and_for_text_fields() -> None:
    idx = pd.Index(list("ABCDEF"), name="symbol")
    values = pd.DataFrame({"fcf_yield": [0.1, 0.2, 0.3, np.nan, np.nan, 0.5],
                           "sector": ["Energy", None, "", "Tech", np.nan, "Tech"],
                           "themes": [("ai",), (), ("semis",), (), (), ()]}, index=idx)
    status = pd.DataFrame({"fcf_yield": np.array([OK, STALE, SUSPECT, NOT_MEANINGFUL, MISSING, OK], dtype="int8")},
                          index=idx)
    cov = field_coverage(values, status)
    assert cov["fcf_yield"] == FieldCoverage(6, ok=2, stale=1, suspect=1, not_meaningful=1)
    assert cov["fcf_yield"].missing == 1
    assert cov["fcf_yield"].short() == "4 of 6"
    assert cov["fcf_yield"].sentence() == "4 of 6 stocks have a value (1 stale, 1 suspect); 1 n.m.; 1 missing"
    assert cov["sector"].short() == "3 of 6" and cov["themes"].short() == "2 of 6"
    assert FieldCoverage(1914, 1914).sentence() == "1,914 of 1,914 stocks have a value"

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from desktop.data import simfin
from desktop.engine.dataset import HISTORY_COLUMNS
from desktop.errors import InputError
from tests.conftest import shared_file
from tests.data.conftest import FIXTURES

DIR = FIXTURES / "simfin"


def test_history_mapping_and_signs() -> None:
    src = simfin.read_simfin(DIR)
    h = src.history.set_index(["symbol", "fiscal_year"])
    assert list(src.history.columns) == list(HISTORY_COLUMNS)
    row = h.loc[("QZAL", 2023)]
    assert row["interest_expense"] == pytest.approx(11e6)  # -11M net expense -> +11M
    assert h.loc[("QQZ-A", 2023), "interest_expense"] == pytest.approx(-2e6)  # net interest income
    assert np.isnan(h.loc[("QQZ-A", 2022), "interest_expense"])  # empty is missing, not zero
    assert np.isnan(row["ebit"])  # SimFin has no EBIT line
    assert row["operating_income"] == pytest.approx(60e6)
    assert row["total_debt"] == pytest.approx(200e6)
    assert h.loc[("QZAL", 2022), "total_debt"] == pytest.approx(200e6)  # short-term empty
    assert np.isnan(h.loc[("QQZ-A", 2023), "total_debt"])  # both empty
    assert h.loc[("QZAL", 2021), "free_cash_flow"] == pytest.approx(50e6)
    assert np.isnan(h.loc[("QZAL", 2023), "free_cash_flow"])  # capex missing
    assert row["period_end"] == pd.Timestamp("2023-12-31")
    assert (src.history["source"] == "simfin").all()


def test_skipped_rows_have_reasons() -> None:
    src = simfin.read_simfin(DIR)
    reasons = {(r.ticker, r.reason) for r in src.skipped}
    assert ("PLNK_delisted", "old listing (delisted)") in reasons
    assert ("-", "no ticker") in reasons


def test_companies_and_industries() -> None:
    src = simfin.read_simfin(DIR)
    obs = src.observations.set_index(["symbol", "field"])
    assert obs.loc[("QZAL", "sector"), "value_text"] == "Industrials"
    assert obs.loc[("BANQ", "industry"), "value_text"] == "Banks"
    desc = obs.loc[("QZAL", "description"), "value_text"]
    assert "second paragraph; with a semicolon" in desc and '"quotes"' in desc
    assert ("PLNK", "description") not in obs.index
    assert obs.loc[("QZAL", "description"), "period"] == "static"


def test_statements_are_dated_rows_not_observations() -> None:
    src = simfin.read_simfin(DIR)
    assert not src.observations["field"].isin(["revenue", "total_debt"]).any()
    h = src.history.set_index(["symbol", "fiscal_year"])
    assert h.loc[("QZAL", 2023), "revenue"] == pytest.approx(800e6)
    assert h.loc[("QZAL", 2023), "period_end"] == pd.Timestamp("2023-12-31")
    assert h.loc[("QZAL", 2023), "period_type"] == "FY" and h.loc[("QZAL", 2023), "source"] == "simfin"


def test_companies_without_industries_warns() -> None:
    src = simfin.read_simfin(DIR / "us-companies.csv")
    assert any("industries" in w for w in src.warnings)
    assert "sector" not in set(src.observations["field"])


def test_not_a_simfin_file(tmp_path: Path) -> None:
    p = tmp_path / "x.csv"
    p.write_text("a;b;c\n1;2;3\n")
    with pytest.raises(InputError, match="not a SimFin file"):
        simfin.read_simfin(p)


def test_missing_column(tmp_path: Path) -> None:
    p = tmp_path / "inc.csv"
    p.write_text((DIR / "us-income-annual.csv").read_text().replace("Interest Expense, Net", "Interest"))
    with pytest.raises(InputError) as info:
        simfin.read_simfin(p)
    assert info.value.field == "Interest Expense, Net"


def test_bad_value_names_line(tmp_path: Path) -> None:
    p = tmp_path / "inc.csv"
    text = (DIR / "us-income-annual.csv").read_text().replace(";760000000;", ";76O000000;")
    p.write_text(text)
    with pytest.raises(InputError) as info:
        simfin.read_simfin(p)
    assert info.value.line == 3 and info.value.field == "Revenue"


def test_real_files_for_members() -> None:
    paths = [shared_file("statements", f) for f in ("simfin_us-income-annual_2026-04-09.csv",
                                                    "simfin_us-balance-annual_2026-04-09.csv",
                                                    "simfin_us-cashflow-annual_2025-09-18.csv")]
    paths += [shared_file("profiles", "simfin_us-companies_2026-04-09.csv"),
              shared_file("profiles", "simfin_industries_2026-04-09.csv")]
    src = simfin.read_simfin(paths)
    h = src.history.set_index(["symbol", "fiscal_year"])
    assert ("MOG-A", 2023) in h.index
    # EPAC: an empty "Interest Expense, Net" stays missing (README: FY2020-2022)
    assert np.isnan(h.loc[("EPAC", 2021), "interest_expense"])
    assert h.loc[("EPAC", 2024), "operating_cash_flow"] > 0  # cash flow file runs to FY2024
    assert not src.history.duplicated(["symbol", "fiscal_year"]).any()
    obs = src.observations.set_index(["symbol", "field"])
    assert "Marathon Patent Group" in obs.loc[("MARA", "description"), "value_text"]
    assert obs.loc[("ONB", "sector"), "value_text"] == "Financial Services"

"""SEC first (issue #14): precedence of SEC statement rows, and SIC codes feeding kinds and themes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from desktop.engine.rules import NOT_MEANINGFUL, OK, kind_of
from desktop.engine.statements import prepare
from desktop.engine.themes import ThemeFileError, ThemeTaxonomy, tag
from tests.engine.conftest import history, securities, table_of


def _row(source: str, end: str, revenue: float, kind: str = "TTM", filed: str | None = None) -> dict:
    return {"symbol": "QSEC", "source": source, "period_type": kind, "period_end": pd.Timestamp(end),
            "fiscal_year": pd.Timestamp(end).year, "filed": pd.Timestamp(filed) if filed else pd.NaT,
            "revenue": revenue}


def _chosen_revenue(rows: list[dict]) -> float:
    st = prepare(history(rows), pd.Index(["QSEC"]))
    sel = st.pick(~np.isnan(st.column("revenue")))
    return float(st.take("revenue", sel)[0])


def test_an_sec_quarter_beats_a_vendor_row_dated_by_its_file() -> None:
    # Yahoo's .info TTM is dated by the download day; it is built from the same last 10-Q.
    assert _chosen_revenue([_row("sec", "2026-03-31", 100.0, filed="2026-05-01"),
                            _row("yahoo", "2026-05-05", 105.0)]) == 100.0


def test_a_later_filing_of_the_same_period_by_a_vendor_does_not_beat_the_sec() -> None:
    # SimFin publishes after the SEC: same fiscal year, later "filed", SEC still first.
    assert _chosen_revenue([_row("sec", "2025-12-31", 100.0, "FY", filed="2026-02-20"),
                            _row("simfin", "2025-12-31", 99.0, "FY", filed="2026-03-15")]) == 100.0


def test_a_company_whose_sec_facts_stopped_gets_the_newer_vendor_figures() -> None:
    assert _chosen_revenue([_row("sec", "2023-12-31", 100.0, "FY", filed="2024-02-20"),
                            _row("finviz", "2026-05-05", 140.0)]) == 140.0


def test_without_an_sec_row_the_freshest_row_wins_as_before() -> None:
    assert _chosen_revenue([_row("simfin", "2025-12-31", 90.0, "FY", filed="2026-03-15"),
                            _row("yahoo", "2026-05-05", 105.0)]) == 105.0


def test_multi_year_fields_use_the_sec_fiscal_years() -> None:
    sec = securities(symbol=["QSEC"], industry=["Software - Application"])
    rows = []
    for year, (sec_fcf, vendor_fcf) in enumerate([(5.0, -1.0), (6.0, -1.0), (7.0, -1.0)], start=2023):
        for source, fcf, filed in (("sec", sec_fcf, f"{year + 1}-02-20"), ("simfin", vendor_fcf, f"{year + 1}-03-20")):
            rows.append({"symbol": "QSEC", "source": source, "fiscal_year": year, "period_type": "FY",
                         "period_end": pd.Timestamp(f"{year}-12-31"), "filed": pd.Timestamp(filed),
                         "free_cash_flow": fcf})
    table = table_of(sec, rows)
    assert table.values.loc["QSEC", "fcf_positive_years"] == 3.0
    assert table.origin.loc["QSEC", "fcf_positive_years"] == "sec FY2025 and earlier"


@pytest.mark.parametrize("industry, sic, expected", [
    (None, "6022", "bank"),                        # a state commercial bank by SIC alone
    ("Software - Application", "6021", "bank"),    # the SEC's code comes first
    ("Insurance Brokers", "6311", "insurer"),      # 63xx insurance carriers
    (None, "6411", None),                          # agents and brokers are no insurer
    ("REIT - Mortgage", "6798", "lender"),         # 6798 names no kind: the industry decides
    ("REIT - Office", "6798", None),
    ("Banks - Regional", "3674", "bank"),          # a code without a kind falls back to the industry
    ("Banks - Regional", None, "bank"),
    (None, "not a code", None),
    (None, "6162", "lender"),
])
def test_kind_of_reads_the_sic_code_first(industry: str | None, sic: str | None, expected: str | None) -> None:
    kind = kind_of(industry, sic)
    assert (kind.kind if kind else None) == expected


def test_a_bank_by_sic_has_no_meaningful_free_cash_flow() -> None:
    sec = securities(symbol=["QBNK", "QIND"], sic=["6022", "3511"], industry=[None, None],
                     operating_cash_flow=[5e7, 5e7], capital_expenditure=[-1e7, -1e7], revenue=[2e8, 2e8])
    table = table_of(sec)
    assert table.status.loc["QBNK", "free_cash_flow"] == NOT_MEANINGFUL
    assert table.status.loc["QIND", "free_cash_flow"] == OK


def test_themes_match_sic_codes() -> None:
    taxonomy = ThemeTaxonomy.from_toml('version = 1\n[themes.semis]\nlabel = "Semis"\nsic = ["3674"]\n'
                                       'exclude_tickers = ["QOUT"]\n')
    frame = pd.DataFrame({"sic": ["3674", "3674", "3672", None], "industry": ["Solar", None, None, None]},
                         index=pd.Index(["QSOL", "QCHP", "QPCB", "QOUT"], name="symbol"))
    frame.loc["QOUT", "sic"] = "3674"
    matches = tag(frame, taxonomy)
    assert sorted(matches["symbol"]) == ["QCHP", "QSOL"]
    assert set(matches["rule"]) == {"sic"} and set(matches["matched"]) == {"SIC 3674"}


def test_a_theme_sic_must_be_four_digits() -> None:
    with pytest.raises(ThemeFileError, match="four-digit SIC") as err:
        ThemeTaxonomy.from_toml('version = 1\n[themes.semis]\nlabel = "Semis"\nsic = ["36"]\n')
    assert err.value.field == "themes.semis.sic"


def test_the_shipped_themes_tag_sic_3674_as_semiconductors() -> None:
    from desktop.resources import resource_path

    taxonomy = ThemeTaxonomy.from_toml(resource_path("themes.toml").read_text(encoding="utf-8"))
    frame = pd.DataFrame({"sic": ["3674", "6798", "6022"]}, index=pd.Index(["QWLF", "QREI", "QBNK"], name="symbol"))
    themes = tag(frame, taxonomy).groupby("symbol")["theme"].apply(set)
    assert themes["QWLF"] == {"semiconductors"} and themes["QREI"] == {"reit"}
    assert themes["QBNK"] == {"regional_banks"}

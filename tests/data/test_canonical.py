from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime

import numpy as np
import pandas as pd
import pytest

from desktop.data import canonical
from desktop.data._text import observations_frame
from desktop.data.source import SourceData
from desktop.engine.dataset import PROVENANCE_COLUMNS, history_frame
from desktop.errors import InputError

T0 = datetime(2026, 5, 6, 12, 0)


def _members(*symbols: str) -> pd.DataFrame:
    frame = pd.DataFrame({
        "ticker": [s.replace("-", "") for s in symbols], "name": [f"{s} CORP" for s in symbols],
        "index_sector": "Industrials", "index_weight": 0.01, "exchange": "NYSE", "price": 10.0,
    }, index=pd.Index(list(symbols), name="symbol"))
    return frame


def _universe(*symbols: str, as_of: date = date(2026, 5, 5)) -> SourceData:
    members = _members(*symbols)
    rows = [{"symbol": s, "field": f, "value_num": members.loc[s, f] if f in ("index_weight", "price") else np.nan,
             "value_text": None if f in ("index_weight", "price") else members.loc[s, f], "period": "point",
             "derived": False, "as_of": None}
            for s in symbols for f in ("ticker", "name", "index_sector", "exchange", "index_weight", "price")]
    return SourceData("ishares", "iwm.csv", as_of, T0, observations=observations_frame(rows), members=members,
                      rows_read=len(symbols))


def _source(name: str, rows: list[tuple[str, str, object]], as_of: date, derived: bool = False,
            period: str = "TTM") -> SourceData:
    obs = observations_frame([
        {"symbol": s, "field": f, "value_num": v if not isinstance(v, str) else np.nan,
         "value_text": v if isinstance(v, str) else None, "period": period, "derived": derived, "as_of": None}
        for s, f, v in rows])
    return SourceData(name, f"{name}.csv", as_of, T0, observations=obs, rows_read=len(rows))


def _chosen(ds: canonical.Dataset, symbol: str, field: str) -> pd.Series:
    p = ds.provenance
    return p[(p.symbol == symbol) & (p.field == field) & p.chosen].iloc[0]


def test_statement_lines_become_one_dated_row_per_source() -> None:
    # Issue #12: no field-by-field pick; each source's statement lines form one dated row.
    u = _universe("AAA", "BBB")
    fv = _source("finviz", [("AAA", "revenue", 100.0), ("AAA", "net_income", 4.0)], date(2026, 5, 1))
    sf = _source("simfin", [("AAA", "revenue", 90.0)], date(2025, 12, 31), period="FY")
    ds = canonical.merge(None, [u, fv, sf])
    h = ds.history.set_index("source")
    assert h.loc["finviz", "revenue"] == 100.0 and h.loc["finviz", "net_income"] == 4.0
    assert h.loc["finviz", "period_type"] == "TTM" and h.loc["finviz", "period_end"] == pd.Timestamp("2026-05-01")
    assert h.loc["simfin", "revenue"] == 90.0 and h.loc["simfin", "period_type"] == "FY"
    assert "revenue" not in ds.securities and not ds.provenance["field"].eq("revenue").any()
    assert list(ds.provenance.columns) == list(PROVENANCE_COLUMNS)


def test_legacy_snapshot_observations_become_rows() -> None:
    u = _universe("AAA")
    old = canonical.merge(None, [u])
    legacy = pd.DataFrame([{"symbol": "AAA", "field": "free_cash_flow", "value_num": 45.0, "value_text": None,
                            "source": "finviz", "origin": "f.csv", "as_of": pd.Timestamp("2025-08-21"),
                            "fetched_at": pd.Timestamp(T0), "period": "TTM", "derived": True, "chosen": True}])
    old = replace(old, provenance=pd.concat([old.provenance, legacy], ignore_index=True))
    ds = canonical.merge(old, [])
    assert ds.history.loc[0, "free_cash_flow"] == 45.0 and ds.history.loc[0, "source"] == "finviz"
    assert not ds.provenance["field"].eq("free_cash_flow").any()


def test_newest_wins_for_market_fields() -> None:
    u = _universe("AAA")  # ishares price 10.0 as of 2026-05-05
    fv = _source("finviz", [("AAA", "price", 12.0), ("AAA", "market_cap", 5e8)], date(2025, 8, 21))
    ds = canonical.merge(None, [u, fv])
    assert ds.securities.loc["AAA", "price"] == 10.0  # the newer iShares price
    fv2 = _source("finviz", [("AAA", "price", 12.0)], date(2026, 5, 5))
    ds2 = canonical.merge(None, [u, fv2])
    assert ds2.securities.loc["AAA", "price"] == 12.0  # same date: finviz before ishares


def test_universe_import_replaces_membership_keeps_observations() -> None:
    first = canonical.merge(None, [_universe("AAA", "BBB"),
                                   _source("finviz", [("AAA", "sector", "Technology"),
                                                      ("CCC", "sector", "Energy")], date(2026, 5, 1))])
    assert set(first.securities.index) == {"AAA", "BBB"}  # non-members dropped once a universe exists
    second = canonical.merge(first, [_universe("AAA", "CCC", as_of=date(2026, 6, 5))])
    assert set(second.members.index) == {"AAA", "CCC"}
    assert second.securities.loc["AAA", "sector"] == "Technology"  # kept from the previous snapshot
    assert second.as_of == date(2026, 6, 5)
    assert not (second.provenance.symbol == "BBB").any()


def test_fundamentals_before_universe_are_kept_for_later() -> None:
    first = canonical.merge(None, [_source("finviz", [("AAA", "sector", "Technology"),
                                                      ("ZZZ", "sector", "Energy")], date(2026, 5, 1))])
    assert set(first.securities.index) == {"AAA", "ZZZ"}
    assert not first.securities["in_index"].any()
    second = canonical.merge(first, [_universe("AAA")])
    assert list(second.securities.index) == ["AAA"]
    assert second.securities.loc["AAA", "sector"] == "Technology"
    assert bool(second.securities.loc["AAA", "in_index"])


def test_reimport_replaces_same_source() -> None:
    u = _universe("AAA")
    one = canonical.merge(None, [u, _source("finviz", [("AAA", "beta", 1.0)], date(2026, 1, 1))])
    two = canonical.merge(one, [_source("finviz", [("AAA", "beta", 1.5)], date(2026, 2, 1))])
    p = two.provenance[two.provenance.field == "beta"]
    assert len(p) == 1 and p.iloc[0].value_num == 1.5
    assert two.securities.loc["AAA", "beta"] == 1.5


def test_universe_fields_only_from_ishares() -> None:
    u = _universe("AAA")
    other = _source("finviz", [("AAA", "exchange", "AMEX")], date(2026, 5, 5))
    ds = canonical.merge(None, [u, other])
    assert ds.securities.loc["AAA", "exchange"] == "NYSE"
    assert not _chosen(ds, "AAA", "exchange").source != "ishares"


def test_history_prices_market_merge() -> None:
    u = _universe("AAA")
    hist = pd.DataFrame({"symbol": ["AAA", "AAA"], "fiscal_year": [2023, 2024],
                         "period_end": pd.to_datetime(["2023-12-31", "2024-12-31"]), "source": "simfin",
                         "revenue": [1.0, 2.0]})
    idx = pd.DatetimeIndex(pd.to_datetime(["2024-01-02", "2024-01-03"]), name="date")
    s1 = SourceData("simfin", "s", date(2024, 12, 31), T0, history=hist)
    p1 = SourceData("prices", "p", date(2024, 1, 3), T0, prices=pd.DataFrame({"AAA": [1.0, 2.0], "ZZZ": [3.0, 4.0]},
                                                                               index=idx),
                    market=pd.DataFrame({"yield_10y": [4.0, 4.1]}, index=idx))
    ds = canonical.merge(None, [u, s1, p1])
    assert list(ds.history.fiscal_year) == [2023, 2024]
    assert list(ds.prices.columns) == ["AAA"]  # non-members dropped
    hist2 = hist.assign(revenue=[1.5, np.nan]).iloc[:1]
    idx2 = pd.DatetimeIndex(pd.to_datetime(["2024-01-03", "2024-01-04"]), name="date")
    later = [SourceData("simfin", "s2", date(2024, 12, 31), T0, history=hist2),
             SourceData("fred", "f", date(2024, 1, 4), T0, market=pd.DataFrame({"yield_10y": [4.2, 4.3]}, index=idx2))]
    ds2 = canonical.merge(ds, later)
    h = ds2.history.set_index("fiscal_year")
    assert h.loc[2023, "revenue"] == 1.5 and h.loc[2024, "revenue"] == 2.0
    assert list(ds2.market["yield_10y"]) == [4.0, 4.2, 4.3]  # newer import wins on common dates
    assert list(ds2.prices["AAA"]) == [1.0, 2.0]


def test_as_of_rules() -> None:
    assert canonical.merge(None, [_universe("AAA")]).as_of == date(2026, 5, 5)
    assert canonical.merge(None, [_universe("AAA")], date(2026, 5, 6)).as_of == date(2026, 5, 6)
    with pytest.raises(InputError, match="as-of"):
        canonical.merge(None, [_source("finviz", [("AAA", "beta", 1.0)], None)])  # type: ignore[arg-type]


def test_dtypes() -> None:
    ds = canonical.merge(None, [_universe("AAA", "BBB"), _source("finviz", [("AAA", "beta", 1.0)], date(2026, 5, 1))])
    s = ds.securities
    assert s["in_index"].dtype == bool and s["beta"].dtype == "float64" and s["name"].dtype == object
    assert np.isnan(s.loc["BBB", "beta"])
    assert s.index.name == "symbol"


def test_identity_is_checked_against_the_index_name_in_later_imports() -> None:
    # A later import compares with the holdings file's name, not with a name another source gave.
    u = _universe("AAA")
    first = canonical.merge(None, [u, _source("finviz", [("AAA", "name", "AAA Widgets Holdings")],
                                              date(2026, 4, 9), period="static")])
    assert first.securities.loc["AAA", "name"] == "AAA Widgets Holdings"  # the chosen display name
    report = canonical.MergeReport()
    canonical.merge(first, [_source("yahoo", [("AAA", "name", "AAA Zephyr")], date(2026, 5, 1))], report=report)
    assert report.rejections == []  # "AAA Zephyr" agrees with the index's "AAA CORP"


def test_a_rejection_holds_for_sources_imported_later() -> None:
    # SimFin's AAA is another company (statements to 2024-06); a nameless Yahoo file of 2024-07
    # imported in a later step is that company's too, whatever the import order.
    u = _universe("AAA")
    sf = _source("simfin", [("AAA", "name", "Unrelated Shipping Corp")], date(2026, 4, 9), period="static")
    sf.history = history_frame(pd.DataFrame([{"symbol": "AAA", "fiscal_year": 2024, "source": "simfin",
                                              "period_end": pd.Timestamp("2024-06-30"), "revenue": 5.0}]))
    first = canonical.merge(None, [u, sf])
    assert not (first.history["source"] == "simfin").any()
    report = canonical.MergeReport()
    yahoo = _source("yahoo", [("AAA", "revenue", 7.0)], date(2024, 7, 6))
    second = canonical.merge(first, [yahoo], date(2026, 5, 5), report=report)
    assert [(r.symbol, r.source) for r in report.rejections] == [("AAA", "yahoo")]
    assert "Unrelated Shipping Corp" in report.rejections[0].reason
    assert not (second.history["source"] == "yahoo").any()
    assert "identity_rejected" not in second.securities


def test_a_nameless_record_counts_only_from_the_members_first_accepted_name() -> None:
    # The other company's statements end 2022-12; Finviz first names the member under AAA on
    # 2025-08-21. A nameless Yahoo file of 2024-07 (more than a year after 2022-12) cannot be
    # confirmed as the member's and is rejected; one dated after the Finviz name is kept.
    u = _universe("AAA")
    sf = _source("simfin", [("AAA", "name", "Unrelated Shipping Corp")], date(2026, 4, 9), period="static")
    sf.history = history_frame(pd.DataFrame([{"symbol": "AAA", "fiscal_year": 2022, "source": "simfin",
                                              "period_end": pd.Timestamp("2022-12-31"), "revenue": 5.0}]))
    fv = _source("finviz", [("AAA", "name", "AAA Corp"), ("AAA", "revenue", 9.0)], date(2025, 8, 21))
    for when, kept in ((date(2024, 7, 6), False), (date(2025, 9, 1), True)):
        report = canonical.MergeReport()
        ds = canonical.merge(None, [u, sf, fv, _source("yahoo", [("AAA", "revenue", 7.0)], when)], report=report)
        assert bool((ds.history["source"] == "yahoo").any()) is kept, when
        assert (("AAA", "yahoo") in {(r.symbol, r.source) for r in report.rejections}) is not kept

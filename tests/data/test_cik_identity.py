"""CIK is the company's identity in the merge (issue #14): it attaches, rejects and ends ticker reuse."""

from __future__ import annotations

from datetime import date

import pandas as pd

from desktop.data import canonical
from desktop.data.identity import same_cik
from desktop.data.source import SourceData
from desktop.engine.dataset import history_frame
from tests.data.test_canonical import T0, _source, _universe


def _with_history(source: SourceData, symbol: str, end: str, revenue: float, *, filed: str | None = None) -> SourceData:
    source.history = history_frame(pd.DataFrame([{
        "symbol": symbol, "fiscal_year": int(end[:4]), "period_end": pd.Timestamp(end), "period_type": "FY",
        "source": source.source, "filed": pd.Timestamp(filed) if filed else pd.NaT, "revenue": revenue}]))
    return source


def _sec(symbol: str, cik: str, name: str, end: str, revenue: float) -> SourceData:
    src = _source("sec", [(symbol, "cik", cik), (symbol, "name", name)], date(2026, 5, 1), period="static")
    return _with_history(src, symbol, end, revenue, filed="2026-02-20")


def _simfin(symbol: str, cik: str, name: str, revenue: float) -> SourceData:
    src = _source("simfin", [(symbol, "cik", cik), (symbol, "name", name)], date(2025, 12, 31), period="static")
    return _with_history(src, symbol, "2025-12-31", revenue, filed="2026-03-20")


def test_same_cik() -> None:
    assert same_cik("0000320193", "320193") is True
    assert same_cik("0000320193", "0001045810") is False
    assert same_cik("0000320193", "n/a") is None


def test_a_shared_cik_attaches_a_record_whose_name_disagrees() -> None:
    # SimFin keeps a pre-rename name ("AAA CORP" is the index name): the CIK vouches for it.
    ds = canonical.merge(None, [_universe("AAA"), _sec("AAA", "0000000042", "AAA Corp", "2025-12-31", 100.0),
                                _simfin("AAA", "0000000042", "Zebra Patent Group", 99.0)])
    assert set(ds.history["source"]) == {"sec", "simfin"}
    assert ds.securities.loc["AAA", "cik"] == "0000000042"


def test_a_different_cik_rejects_a_record_whose_name_agrees() -> None:
    report = canonical.MergeReport()
    ds = canonical.merge(None, [_universe("AAA"), _sec("AAA", "0000000042", "AAA Corp", "2025-12-31", 100.0),
                                _simfin("AAA", "0000000777", "AAA Corporation", 99.0)], report=report)
    assert set(ds.history["source"]) == {"sec"}
    [rej] = report.rejections
    assert (rej.symbol, rej.source) == ("AAA", "simfin")
    assert "CIK 0000000777, not the member's CIK 0000000042" in rej.sentence()


def test_without_an_sec_cik_the_name_decides_as_before() -> None:
    report = canonical.MergeReport()
    ds = canonical.merge(None, [_universe("AAA"), _simfin("AAA", "0000000777", "Zebra Patent Group", 99.0)],
                         report=report)
    assert not len(ds.history) and [r.source for r in report.rejections] == ["simfin"]


def test_an_sec_record_of_another_company_is_rejected_by_name_and_vouches_for_nothing() -> None:
    # An offline ticker map older than the universe: AAA was another company then.
    report = canonical.MergeReport()
    ds = canonical.merge(None, [_universe("AAA"), _sec("AAA", "0000000042", "Quiet Acoustics Inc", "2025-12-31", 1.0),
                                _simfin("AAA", "0000000042", "AAA Corp", 99.0)], report=report)
    assert [r.source for r in report.rejections] == ["sec"]
    assert set(ds.history["source"]) == {"simfin"}


def test_a_ticker_whose_cik_changed_is_another_company() -> None:
    first = canonical.merge(None, [_universe("AAA"), _sec("AAA", "0000000042", "AAA Corp", "2024-12-31", 100.0)])
    assert first.securities.loc["AAA", "cik"] == "0000000042"
    # The ticker now belongs to CIK 99 (same name family, so the name check alone would attach both).
    report = canonical.MergeReport()
    second = canonical.merge(first, [_sec("AAA", "0000000099", "AAA Corp", "2025-12-31", 7.0)], report=report)
    sec_rows = second.history[second.history["source"] == "sec"]
    assert list(sec_rows["revenue"]) == [7.0]  # the old company's FY2024 row is gone, not mixed in
    assert second.securities.loc["AAA", "cik"] == "0000000099"
    [rej] = report.rejections
    assert rej.source == "sec" and "moved from CIK 0000000042 to CIK 0000000099" in rej.reason


def test_a_nameless_source_dated_under_the_old_cik_is_rejected() -> None:
    first = canonical.merge(None, [_universe("AAA"), _sec("AAA", "0000000042", "AAA Corp", "2023-12-31", 100.0)])
    nameless = SourceData("yahoo", "financialData.json", date(2024, 7, 6), T0,
                          observations=_source("yahoo", [("AAA", "total_debt", 5.0)], date(2024, 7, 6)).observations)
    report = canonical.MergeReport()
    second = canonical.merge(first, [_sec("AAA", "0000000099", "AAA Corp", "2025-12-31", 7.0), nameless],
                             report=report)
    assert {(r.source, r.source_name) for r in report.rejections} == {("sec", "AAA Corp"), ("yahoo", "(no company name)")}
    assert set(second.history["source"]) == {"sec"}  # Yahoo's 2024 debt row was the old company's

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from desktop.data import finviz
from desktop.errors import InputError
from tests.conftest import shared_file
from tests.finviz_fixture import write_finviz


@pytest.fixture
def export(tmp_path: Path) -> Path:
    """An invented Finviz export dated by its file name."""
    return write_finviz(tmp_path / "finviz_export_2024-03-15.csv")


def _values(src: finviz.SourceData) -> dict[tuple[str, str], object]:
    obs = src.observations
    return {(r.symbol, r.field): (r.value_text if r.value_text is not None else r.value_num)
            for r in obs.itertuples()}


def test_units_and_fields(export: Path) -> None:
    src = finviz.read_finviz(export)
    assert src.as_of == date(2024, 3, 15)
    v = _values(src)
    assert v["QZAL", "market_cap"] == pytest.approx(1204.37e6)  # millions -> USD
    assert v["QZAL", "revenue"] == pytest.approx(640e6)
    assert v["QZAL", "shares_outstanding"] == pytest.approx(24.99e6)
    assert v["QZAL", "reported_debt_to_equity"] == pytest.approx(0.45)  # a ratio already
    assert v["PLNK", "reported_debt_to_equity"] == 0.0  # zero debt is a value
    assert v["QZAL", "sector"] == "Industrials"
    assert v["BANQ", "sector"] == "Financial Services"  # Finviz "Financial" -> Yahoo naming
    assert v["QQZ-A", "name"] == "Quizzical Holdings Inc"


def test_empty_is_missing_not_zero(export: Path) -> None:
    v = _values(finviz.read_finviz(export))
    assert ("LOMBA", "revenue") not in v
    assert ("QQZ-A", "reported_debt_to_equity") not in v
    assert ("LOMBA", "market_cap") in v


def test_derived_values_are_labelled(export: Path) -> None:
    src = finviz.read_finviz(export)
    obs = src.observations.set_index(["symbol", "field"])
    assert obs.loc[("QZAL", "free_cash_flow"), "value_num"] == pytest.approx(1204.37e6 / 20.0)
    assert bool(obs.loc[("QZAL", "free_cash_flow"), "derived"])
    assert obs.loc[("QZAL", "ebitda"), "value_num"] == pytest.approx(1500e6 / 10.0)
    assert bool(obs.loc[("QZAL", "ebitda"), "derived"])
    assert not bool(obs.loc[("QZAL", "market_cap"), "derived"])
    # Censoring (issue #12): P/FCF empty -> FCF known <= 0, no amount; a negative EV/EBITDA -> EBITDA <= 0
    assert ("PLNK", "free_cash_flow") not in obs.index
    assert ("QQZ-A", "ebitda") not in obs.index
    assert obs.loc[("QQZ-A", "ebitda_nonpositive"), "value_num"] == 1.0
    # negative book value: equity < 0 tells "D/E not meaningful" from "no data"
    assert obs.loc[("QQZ-A", "total_equity"), "value_num"] == pytest.approx(-2.0 * 8.27e6)


def test_periods(export: Path) -> None:
    obs = finviz.read_finviz(export).observations.set_index(["symbol", "field"])
    assert obs.loc[("QZAL", "revenue"), "period"] == "TTM"
    assert obs.loc[("QZAL", "market_cap"), "period"] == "point"


def test_missing_ticker_column(tmp_path: Path, export: Path) -> None:
    bad = tmp_path / "renamed.csv"
    bad.write_text(export.read_text().replace('"Ticker"', '"Symbol"', 1))
    with pytest.raises(InputError, match="no 'Ticker' column") as info:
        finviz.read_finviz(bad)
    assert info.value.line == 1


def test_bad_number_names_line(tmp_path: Path, export: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text(export.read_text().replace("655.12", "655.1six"))
    with pytest.raises(InputError) as info:
        finviz.read_finviz(bad)
    assert info.value.line == 3 and info.value.field == "Market Cap"


def test_real_export() -> None:
    src = finviz.read_finviz(shared_file("fundamentals", "finviz_export_2025-08-21.csv"))
    assert src.rows_read == 10377
    assert src.skipped == []
    obs = src.observations.set_index(["symbol", "field"])
    assert ("MOG-A", "market_cap") in obs.index and ("CRD-A", "sector") in obs.index
    derived = src.observations[src.observations["derived"]]
    assert set(derived["field"]) == {"free_cash_flow", "ebitda", "total_equity", "fcf_nonpositive",
                                     "ebitda_nonpositive", "reported_avg_dollar_volume", "reported_high_52w",
                                     "reported_low_52w"}
    # Every one of the 66 columns but the row number is read (issue #16), with its unit.
    assert src.warnings == []
    fields = set(src.observations["field"])
    assert {f for f, _m, _p in finviz.NUMERIC.values()} | set(finviz.TEXT.values()) | set(finviz.DATES.values()) \
        <= fields
    riot = obs.loc["RIOT"]["value_num"]
    assert 1e7 < riot["reported_avg_volume"] < 1e8  # thousands of shares, not millions
    assert riot["short_interest"] > 1e6  # millions of shares
    assert -1.0 <= riot["reported_dist_52w_high"] <= 0.0  # a percent string read as a fraction


def test_every_column_has_a_catalogue_field() -> None:
    from desktop.engine import catalog
    from tests.finviz_fixture import FINVIZ_COLUMNS

    read = {**{c: f for c, (f, _m, _p) in finviz.NUMERIC.items()}, **finviz.TEXT, **finviz.DATES}
    assert set(FINVIZ_COLUMNS) - set(read) == set(finviz.IGNORED)
    for column, name in read.items():
        assert catalog.get(name).sources, column


def test_units_of_the_new_columns(export: Path) -> None:
    v = _values(finviz.read_finviz(export))
    assert v["QZAL", "reported_gross_margin"] == pytest.approx(0.412)  # "41.20%"
    assert v["QZAL", "earnings_date"] == "2024-03-14"  # "3/14/2024 4:30:00 PM": the date
    assert v["QZAL", "price_change_today"] == pytest.approx(-0.0031)
    assert v["QZAL", "country"] == "USA"


def test_bad_earnings_date_names_line(tmp_path: Path, export: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text(export.read_text().replace("3/14/2024 4:30:00 PM", "14/3/2024 4:30:00 PM", 1))
    with pytest.raises(InputError, match="not a date") as info:
        finviz.read_finviz(bad)
    assert info.value.line == 2 and info.value.field == "Earnings Date"

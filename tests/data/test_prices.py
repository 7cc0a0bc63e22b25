from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from desktop.data import prices
from desktop.errors import InputError
from tests.conftest import shared_file
from tests.data.conftest import FIXTURES

DIR = FIXTURES / "prices"


def test_classic_layout_uses_adj_close_without_trailing_newline() -> None:
    src = prices.read_prices(DIR / "QZAL_daily_fixture.csv")
    s = src.prices["QZAL"]
    assert s.iloc[-1] == pytest.approx(9.42)
    assert s.index[-1] == pd.Timestamp("2024-03-08")
    assert src.as_of == date(2024, 3, 8)


def test_tz_aware_datetime_becomes_the_local_date() -> None:
    s = prices.read_prices(DIR / "CALQ_yfinance_history.csv").prices["CALQ"]
    assert list(s.index) == list(pd.to_datetime(["2024-03-06", "2024-03-07", "2024-03-08"]))
    assert s.iloc[0] == pytest.approx(32.6)


def test_benchmarks_go_to_market() -> None:
    src = prices.read_prices([DIR / "TNX_fixture_yfinance.csv", DIR / "IWM_daily_yfinance.csv",
                              DIR / "GSPC_close_volume_fixture.csv"])
    assert set(src.market.columns) == {"yield_10y", "IWM", "GSPC"}
    assert src.market["yield_10y"].iloc[0] == pytest.approx(3.62)
    assert src.prices.empty


def test_wide_file_maps_ishares_spelling() -> None:
    src = prices.read_prices(DIR / "closes_wide_fixture.csv")
    assert set(src.prices.columns) == {"PLNK", "QQZ-A", "QZAL"}
    assert pd.isna(src.prices.loc["2024-03-07", "PLNK"])  # empty cell = no bar
    assert src.market["yield_10y"].iloc[-1] == pytest.approx(3.65)


def test_folder_of_files() -> None:
    src = prices.read_prices(DIR)
    assert {"QZAL", "CALQ", "PLNK"} <= set(src.prices.columns)
    assert any("more than one file" in w for w in src.warnings)  # QZAL is in two files


def test_non_positive_close_dropped_with_warning(tmp_path: Path) -> None:
    p = tmp_path / "ABCD.csv"
    p.write_text("Date,Close\n2024-01-02,10\n2024-01-03,0\n2024-01-04,-3\n2024-01-05,11\n")
    src = prices.read_prices(p)
    assert src.prices["ABCD"].isna().sum() == 2
    assert any("non-positive" in w and "line 3" in w for w in src.warnings)


@pytest.mark.parametrize(("body", "line", "field"), [
    ("Date,Close\n2024-01-02,10\n2024-01-33,11\n", 3, "Date"),
    ("Date,Close\n2024-01-02,10\n2024-01-03,1O\n", 3, "Close"),
    ("Date,Close\n2024-01-02,10\n2024-01-03,inf\n", 3, "Close"),
])
def test_bad_cells(tmp_path: Path, body: str, line: int, field: str) -> None:
    p = tmp_path / "ABCD.csv"
    p.write_text(body)
    with pytest.raises(InputError) as info:
        prices.read_prices(p)
    assert info.value.line == line and info.value.field == field


def test_ticker_from_file_name_required(tmp_path: Path) -> None:
    p = tmp_path / "my prices (copy).csv"
    p.write_text("Date,Close\n2024-01-02,10\n")
    with pytest.raises(InputError, match="cannot tell the ticker"):
        prices.read_prices(p)


def test_real_files() -> None:
    wide = prices.read_prices(shared_file("prices", "R2000_members_close_daily_wide_2020-07_to_2025-04.csv"))
    assert wide.prices.shape == (1180, 1832)
    assert {"MOG-A", "GEF-B", "CRD-A"} <= set(wide.prices.columns)
    calm = prices.read_prices(shared_file("prices", "CALM_yfinance_history_2022-2024.csv"))
    assert calm.prices.index[0] == pd.Timestamp("2022-01-03")
    tnx = prices.read_prices(shared_file("prices", "TNX_daily_yfinance.csv"))
    assert "yield_10y" in tnx.market
    folder = prices.read_prices(shared_file("prices", "smallcaps_daily"))
    assert folder.prices.shape[1] == 18


def test_volumes_of_one_ticker_files(tmp_path: Path) -> None:
    # Issue #16: liquidity from the daily volumes; a wide file of closes has none.
    src = prices.read_prices(DIR / "QZAL_daily_fixture.csv")
    assert src.volumes is not None and list(src.volumes.columns) == ["QZAL"]
    assert src.volumes.index.equals(src.prices.index)
    assert (src.volumes["QZAL"].dropna() >= 0).all() and src.volumes["QZAL"].notna().any()
    bad = tmp_path / "ABCD.csv"
    bad.write_text("Date,Close,Volume\n2024-03-07,10.0,100\n2024-03-08,10.5,-5\n")
    with pytest.raises(InputError, match="volume of -5") as info:
        prices.read_prices(bad)
    assert info.value.line == 3 and info.value.field == "Volume"
    empty = tmp_path / "EFGH.csv"
    empty.write_text("Date,Close,Volume\n2024-03-07,10.0,\n2024-03-08,10.5,0\n")
    vol = prices.read_prices(empty).volumes["EFGH"]
    assert vol.isna().iloc[0] and vol.iloc[1] == 0.0  # missing is not zero, and zero is a value

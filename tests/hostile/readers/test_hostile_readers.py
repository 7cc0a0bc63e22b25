"""Hostile inputs for the file readers (issue #3): each gives a clear InputError naming the file
(and line/field where there is one) or imports with a documented warning - never a traceback."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from desktop.data import finviz, fred, ishares, prices, simfin
from desktop.data.source import SourceData
from desktop.errors import InputError
from tests.finviz_fixture import RENAMED_COLUMNS, SAMPLE_ROWS, finviz_csv_text, with_changes

FILES = Path(__file__).resolve().parent / "files"

# Finviz cases are built from invented rows (no Finviz export is committed), then corrupted.
BUILT: dict[str, str] = {
    "finviz_duplicated_tickers.csv": finviz_csv_text([*SAMPLE_ROWS, {**SAMPLE_ROWS[0], "No.": "7"}]),
    "finviz_negative_market_cap.csv": finviz_csv_text(with_changes("PLNK", {"Market Cap": "-655.12"})),
    "finviz_inf_sales.csv": finviz_csv_text(with_changes("QZAL", {"Sales": "inf"})),
    "finviz_text_in_number.csv": finviz_csv_text(with_changes("QQZ-A", {"Market Cap": "two hundred"})),
    "finviz_renamed_columns.csv": finviz_csv_text(SAMPLE_ROWS, RENAMED_COLUMNS),
    "finviz_formula_names.csv": finviz_csv_text(
        with_changes("PLNK", {"Company": '=HYPERLINK("http://evil.example","Plinkett")'})),
}

Reader = Callable[[Path], SourceData]
ERROR, WARN, OK = "error", "warning", "ok"

# (file, reader, outcome, text expected in the message/warnings, line expected for errors)
CASES: list[tuple[str, Reader, str, str, int | None]] = [
    ("holdings_truncated_mid_row.csv", ishares.read_ishares, ERROR, "fields but the header has", 17),
    ("holdings_truncated_at_row_end.csv", ishares.read_ishares, ERROR, "the file looks truncated", 17),
    ("holdings_utf16.csv", ishares.read_ishares, WARN, "UTF-16", None),
    ("holdings_latin1.csv", ishares.read_ishares, WARN, "not UTF-8", None),
    ("holdings_html_error_page.csv", ishares.read_ishares, ERROR, "web page (HTML)", 1),
    ("holdings_renamed_ticker_column.csv", ishares.read_ishares, ERROR, "no header line starting with 'Ticker'", None),
    ("holdings_missing_asset_class.csv", ishares.read_ishares, ERROR, "column 'Asset Class' is missing", 10),
    ("holdings_nan_price.csv", ishares.read_ishares, ERROR, "'nan' is not a number", 13),
    ("holdings_inf_weight.csv", ishares.read_ishares, ERROR, "'inf' is not a number", 11),
    ("holdings_huge_price.csv", ishares.read_ishares, WARN, "implausible; treated as missing", None),
    ("holdings_negative_weight.csv", ishares.read_ishares, WARN, "implausible; treated as missing", None),
    ("holdings_very_long_name.csv", ishares.read_ishares, WARN, "kept the first 300", None),
    ("holdings_empty.csv", ishares.read_ishares, ERROR, "the file is empty", None),
    ("holdings_binary.csv", ishares.read_ishares, ERROR, "binary", None),
    ("holdings_shifted_row.csv", ishares.read_ishares, ERROR, "row has 16 fields but the header has 15", 13),
    ("holdings_bad_date.csv", ishares.read_ishares, ERROR, "cannot read the date", 2),
    ("finviz_duplicated_tickers.csv", finviz.read_finviz, OK, "", None),
    ("finviz_negative_market_cap.csv", finviz.read_finviz, WARN, "market_cap -6.5512e+08 of PLNK is implausible", None),
    ("finviz_inf_sales.csv", finviz.read_finviz, ERROR, "'inf' is not a number", 2),
    ("finviz_text_in_number.csv", finviz.read_finviz, ERROR, "'two hundred' is not a number", 4),
    ("finviz_renamed_columns.csv", finviz.read_finviz, ERROR, "no 'Ticker' column", 1),
    ("finviz_formula_names.csv", finviz.read_finviz, OK, "", None),
    ("finviz_html_saved_as_csv.csv", finviz.read_finviz, ERROR, "web page (HTML)", 1),
    ("simfin_truncated.csv", simfin.read_simfin, ERROR, "looks truncated", 6),
    ("simfin_extra_fields.csv", simfin.read_simfin, ERROR, "the row has 30 fields but the header has 28", 3),
    ("simfin_bad_year.csv", simfin.read_simfin, ERROR, "'20x2' is not a number", 3),
    ("simfin_huge_value.csv", simfin.read_simfin, ERROR, "not a plausible amount", 3),
    ("simfin_comma_separated.csv", simfin.read_simfin, ERROR, "not a SimFin file", 1),
    ("simfin_duplicate_year.csv", simfin.read_simfin, WARN, "appear more than once", None),
    ("simfin_duplicate_column.csv", simfin.read_simfin, ERROR, "appears twice in the header", 1),
    ("fred_nan_value.csv", fred.read_fred, ERROR, "'NaN' is not a number", 2),
    ("yields_utf16.csv", fred.read_fred, WARN, "UTF-16", None),
    ("prices_bad_date.csv", prices.read_prices, ERROR, "is not a date", 3),
    ("prices_wide_duplicate_columns.csv", prices.read_prices, ERROR, "appears twice in the header", 1),
    ("prices_negative_and_zero.csv", prices.read_prices, WARN, "non-positive or absurd closes", None),
    ("prices_huge.csv", prices.read_prices, WARN, "non-positive or absurd closes", None),
    ("prices_no_date_column.csv", prices.read_prices, ERROR, "first column must be Date", 1),
]


def _path(name: str, tmp_path: Path) -> Path:
    """The committed hostile file, or the built one written into ``tmp_path``."""
    if name not in BUILT:
        return FILES / name
    path = tmp_path / name
    path.write_text(BUILT[name], encoding="utf-8")
    return path


def test_corpus_is_complete() -> None:
    on_disk = {p.name for p in FILES.iterdir()}
    assert on_disk == {c[0] for c in CASES} - set(BUILT)
    assert set(BUILT) <= {c[0] for c in CASES}
    assert len(CASES) >= 15


@pytest.mark.parametrize(("name", "reader", "outcome", "text", "line"), CASES, ids=[c[0] for c in CASES])
def test_hostile_input(name: str, reader: Reader, outcome: str, text: str, line: int | None,
                       tmp_path: Path) -> None:
    path = _path(name, tmp_path)
    if outcome == ERROR:
        with pytest.raises(InputError) as info:
            reader(path)
        message = str(info.value)
        assert text in message
        assert name in message  # the file is named
        if line is not None:
            assert info.value.line == line
        return
    src = reader(path)
    assert isinstance(src, SourceData)
    if outcome == WARN:
        assert any(text in w for w in src.warnings), src.warnings


def test_duplicated_finviz_ticker_is_skipped_with_reason(tmp_path: Path) -> None:
    src = finviz.read_finviz(_path("finviz_duplicated_tickers.csv", tmp_path))
    assert [(r.ticker, r.reason) for r in src.skipped] == [("QZAL", "duplicate of line 2")]


def test_formula_names_are_plain_text(tmp_path: Path) -> None:
    obs = finviz.read_finviz(_path("finviz_formula_names.csv", tmp_path)).observations
    name = obs[(obs.symbol == "PLNK") & (obs.field == "name")].value_text.iloc[0]
    assert name.startswith("=HYPERLINK(")


def test_latin1_names_are_decoded() -> None:
    src = ishares.read_ishares(FILES / "holdings_latin1.csv")
    assert src.members.loc["QZAL", "name"] == "QUARTZALIN\u00c9 \u00c9NERGIE SA"


def test_huge_and_negative_values_become_missing() -> None:
    assert ishares.read_ishares(FILES / "holdings_huge_price.csv").members["price"].isna()["QZAL"]
    assert ishares.read_ishares(FILES / "holdings_negative_weight.csv").members["index_weight"].isna()["PLNK"]
    assert len(ishares.read_ishares(FILES / "holdings_very_long_name.csv").members.loc["PLNK", "name"]) == 300

"""A damaged file is not taken as complete (issue #13, root cause 4).

Each refused import goes through the import service into a tmp store, and the store's snapshot
list and database bytes are compared before and after.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from desktop.data import fred, ishares, prices, simfin
from desktop.data.guards import UniverseShrinkError
from desktop.errors import InputError
from desktop.services.importing import import_files
from desktop.store.db import open_database
from tests.hostile.readers.builders import NBSP, holdings_row, holdings_text, store_state, write


@pytest.fixture
def store(tmp_path: Path) -> Path:
    """A store holding one snapshot of a 2,000-member invented universe."""
    path = tmp_path / "store.sqlite3"
    db = open_database(str(path))
    try:
        import_files(db, "ishares", [write(tmp_path / "base.csv", holdings_text(2000))])
    finally:
        db.dispose()
    return path


def _refused(store: Path, kind: str, path: Path, **kwargs: object) -> InputError:
    before = store_state(store)
    db = open_database(str(store))
    try:
        with pytest.raises(InputError) as info:
            import_files(db, kind, [path], **kwargs)  # type: ignore[arg-type]
    finally:
        db.dispose()
    assert store_state(store) == before, "a refused import changed the store"
    assert str(path) in str(info.value)
    return info.value


def test_garbage_after_row_1000_is_refused_not_taken_for_the_footer(store: Path, tmp_path: Path) -> None:
    rows = [holdings_row(i) for i in range(1000)] + [f"#$%garbage{i}~~" for i in range(1000)]
    path = write(tmp_path / "damaged.csv", holdings_text(0, rows=rows))
    err = _refused(store, "ishares", path)
    assert err.line == 1006  # 5 preamble/header lines, 1,000 rows, then the first garbage line
    assert "damaged from this line on" in str(err)


def test_data_after_the_disclaimer_is_refused(store: Path, tmp_path: Path) -> None:
    text = holdings_text(1990) + "\n".join(holdings_row(i) for i in range(1990, 2000)) + "\n"
    path = write(tmp_path / "tail.csv", text)
    err = _refused(store, "ishares", path)
    assert "data after the end of the holdings" in str(err) and err.line == 1999


def test_file_with_preamble_but_no_footer_is_refused(store: Path, tmp_path: Path) -> None:
    path = write(tmp_path / "cut.csv", holdings_text(1950, footer=False))
    err = _refused(store, "ishares", path)
    assert "looks truncated" in str(err) and err.line == 1955


def test_real_footer_shape_is_a_valid_end(tmp_path: Path) -> None:
    src = ishares.read_ishares(write(tmp_path / "ok.csv", holdings_text(3) + NBSP + "\n\n"))
    assert len(src.members) == 3 and not [w for w in src.warnings if "truncated" in w]


def test_universe_losing_a_third_is_refused_then_allowed(store: Path, tmp_path: Path) -> None:
    path = write(tmp_path / "smaller.csv", holdings_text(1300))
    err = _refused(store, "ishares", path)
    assert isinstance(err, UniverseShrinkError)
    assert "700 members (35 %) would be dropped" in str(err) and "--allow-shrink" in str(err)
    db = open_database(str(store))
    try:
        report = import_files(db, "ishares", [path], allow_shrink=True)
    finally:
        db.dispose()
    assert report.members_total == 1300
    assert any("700 members (35 %) would be dropped" in w for w in report.warnings)


def test_small_universe_change_is_imported_with_a_warning(store: Path, tmp_path: Path) -> None:
    db = open_database(str(store))
    try:
        report = import_files(db, "ishares", [write(tmp_path / "recon.csv", holdings_text(2000, start=200))])
    finally:
        db.dispose()
    assert report.members_total == 2000
    assert any("200 members (10 %) would be dropped" in w for w in report.warnings)


@pytest.mark.parametrize(("reader", "name", "text", "column"), [
    (ishares.read_ishares, "h.csv", holdings_text(2).replace("Ticker,Name,Sector", "Ticker,Name,Name"), "Name"),
    (fred.read_fred, "f.csv", "date,value,value\n2024-01-02,4.1,4.2\n", "value"),
    (prices.read_prices, "QAAAA.csv", "Date,Close,Volume,Close\n2024-01-02,1,5,2\n", "Close"),
    (simfin.read_simfin, "s.csv", "Ticker;Fiscal Year;Revenue;Revenue\nQAAAA;2023;1;2\n", "Revenue"),
])
def test_repeated_header_name_is_refused_naming_the_column(reader, name: str, text: str, column: str,  # type: ignore[no-untyped-def]
                                                           tmp_path: Path) -> None:
    path = write(tmp_path / name, text)
    with pytest.raises(InputError) as info:
        reader(path)
    assert f"the column {column!r} appears twice in the header" in str(info.value)
    assert info.value.field == column and str(path) in str(info.value)


def test_repeated_finviz_header_name_is_refused(tmp_path: Path) -> None:
    from desktop.data import finviz
    from tests.finviz_fixture import SAMPLE_ROWS, finviz_csv_text

    text = finviz_csv_text(SAMPLE_ROWS)
    header, rest = text.split("\n", 1)
    path = write(tmp_path / "finviz_export_2025-08-21.csv", header.replace("Sector", "Company", 1) + "\n" + rest)
    with pytest.raises(InputError, match="the column 'Company' appears twice in the header"):
        finviz.read_finviz(path)


def test_first_row_longer_than_the_header_is_not_shifted(tmp_path: Path) -> None:
    path = write(tmp_path / "f.csv", "date,value\n2024-01-02,4.1,9\n2024-01-03,4.2\n")
    with pytest.raises(InputError) as info:
        fred.read_fred(path)
    assert info.value.line == 2

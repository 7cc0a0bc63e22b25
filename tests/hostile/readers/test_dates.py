"""Dates outside pandas' range or the snapshot's sense (issue #13, root cause 8).

The readers take ``today`` as a parameter, so these tests use a fixed one.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from desktop.data import fred, ishares, prices
from desktop.errors import InputError
from desktop.services.importing import import_files
from desktop.store.db import open_database
from tests.hostile.readers.builders import holdings_text, store_state, write

TODAY = date(2026, 5, 20)


@pytest.mark.parametrize("bad", ["9999-12-31", "1850-03-01", "2262-04-12", "1677-09-21"])
def test_prices_date_outside_the_window_is_refused(bad: str, tmp_path: Path) -> None:
    path = write(tmp_path / "QAAAA.csv", f"Date,Close\n2024-01-02,1\n{bad},2\n")
    with pytest.raises(InputError) as info:
        prices.read_prices(path, today=TODAY)
    assert f"the date '{bad}' is outside the accepted range 1900-01-01 to 2027-05-21" in str(info.value)
    assert (info.value.line, info.value.field) == (3, "Date") and str(path) in str(info.value)


def test_fred_9999_is_refused_not_wrapped_to_1816(tmp_path: Path) -> None:
    path = write(tmp_path / "DGS10.csv", "observation_date,DGS10\n2024-01-02,4.1\n9999-12-31,4.2\n")
    with pytest.raises(InputError) as info:
        fred.read_fred(path, today=TODAY)
    assert (info.value.line, info.value.field) == (3, "observation_date")


def test_wrapped_date_never_reaches_the_store(tmp_path: Path) -> None:
    store = tmp_path / "store.sqlite3"
    db = open_database(str(store))
    try:
        import_files(db, "fred", [write(tmp_path / "ok.csv", "date,value\n2024-01-02,4.1\n")])
    finally:
        db.dispose()
    before = store_state(store)
    db = open_database(str(store))
    try:
        with pytest.raises(InputError, match="outside the accepted range"):
            import_files(db, "fred", [write(tmp_path / "bad.csv", "date,value\n9999-12-31,4.1\n")])
    finally:
        db.dispose()
    assert store_state(store) == before


@pytest.mark.parametrize("as_of", ["Jan 02, 2031", "Mar 01, 1850", "Dec 31, 9999"])
def test_holdings_as_of_outside_the_window_is_refused(as_of: str, tmp_path: Path) -> None:
    path = write(tmp_path / "h.csv", holdings_text(3, as_of=as_of))
    with pytest.raises(InputError) as info:
        ishares.read_ishares(path, today=TODAY)
    assert "outside the accepted range" in str(info.value)
    assert (info.value.line, info.value.field) == (2, "Fund Holdings as of")


def test_holdings_as_of_in_the_coming_year_is_a_warning(tmp_path: Path) -> None:
    src = ishares.read_ishares(write(tmp_path / "h.csv", holdings_text(3, as_of="Aug 03, 2026")), today=TODAY)
    assert src.as_of == date(2026, 8, 3)
    assert any("dated 2026-08-03, after today (2026-05-20)" in w for w in src.warnings)


@pytest.mark.parametrize(("written", "expected"), [("05/06/2026", None), ("13/05/2026", date(2026, 5, 13)),
                                                   ("05/13/2026", date(2026, 5, 13)), ("05/05/2026", date(2026, 5, 5))])
def test_holdings_slashed_date_only_when_unambiguous(written: str, expected: date | None, tmp_path: Path) -> None:
    path = write(tmp_path / "h.csv", holdings_text(3, as_of=written))
    if expected is None:
        with pytest.raises(InputError, match="ambiguous") as info:
            ishares.read_ishares(path, today=TODAY)
        assert info.value.line == 2
    else:
        assert ishares.read_ishares(path, today=TODAY).as_of == expected


def test_prices_slashed_dates_follow_the_column(tmp_path: Path) -> None:
    dmy = write(tmp_path / "QAAAA.csv", "Date,Close\n12/05/2026,1\n13/05/2026,2\n")
    assert [str(d.date()) for d in prices.read_prices(dmy, today=TODAY).prices.index] == ["2026-05-12", "2026-05-13"]
    ambiguous = write(tmp_path / "QAAAB.csv", "Date,Close\n05/06/2026,1\n06/06/2026,2\n")
    with pytest.raises(InputError, match="ambiguous") as info:
        prices.read_prices(ambiguous, today=TODAY)
    assert (info.value.line, info.value.field) == (2, "Date")
    mixed = write(tmp_path / "QAAAC.csv", "Date,Close\n13/01/2026,1\n01/13/2026,2\n")
    with pytest.raises(InputError, match="mix day-first and month-first"):
        prices.read_prices(mixed, today=TODAY)

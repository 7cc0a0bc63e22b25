"""``import sec-companyfacts`` (issue #14): the bulk archive through the ordinary import path, with
TRIMMED real SEC bodies and a hand-made holdings file (invented weights and prices)."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from desktop.cli import main as cli_main
from desktop.errors import InputError
from desktop.services import importing
from desktop.services.sec_import import find_ticker_map, import_companyfacts
from desktop.store import snapshots
from desktop.store.db import open_database

FIXTURES = Path(__file__).resolve().parents[1] / "data_files" / "sec"
TICKERS = FIXTURES / "company_tickers_trimmed_sec_body.json"
HOLDINGS = """\ufeffiShares Fictional Small Cap ETF
Fund Holdings as of,"May 05, 2026"
Inception Date,"May 22, 2000"
Shares Outstanding,"12,500,000.00"
Stock,"-"
Bond,"-"
Cash,"-"
Other,"-"
\u00a0
Ticker,Name,Sector,Asset Class,Market Value,Weight (%),Notional Value,Quantity,Price,Location,Exchange,Currency,FX Rate,Market Currency,Accrual Date
"AAPL","APPLE INC","Information Technology","Equity","1,000.00","1.00","1,000.00","10.00","100.00","United States","NASDAQ","USD","1.00","USD","-"
"MRVL","MARVELL TECHNOLOGY INC","Information Technology","Equity","1,000.00","1.00","1,000.00","20.00","50.00","United States","NASDAQ","USD","1.00","USD","-"
"QZAL","QUARTZALINE ENERGY CORP","Industrials","Equity","1,000.00","1.00","1,000.00","10.00","100.00","United States","NYSE","USD","1.00","USD","-"
\u00a0
"An invented disclaimer: this fixture holds no real fund's holdings."
"""


def _archive(path: Path, replace: dict[str, bytes] | None = None) -> Path:
    members = {f"CIK{f.name[3:13]}.json": f.read_bytes() for f in FIXTURES.glob("CIK*_trimmed_sec_body.json")}
    members.update(replace or {})
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


@pytest.fixture
def db(tmp_path: Path):  # type: ignore[no-untyped-def]
    database = open_database(str(tmp_path / "pickaxe.sqlite3"))
    yield database
    database.dispose()


@pytest.fixture
def universe(db, tmp_path: Path):  # type: ignore[no-untyped-def]
    holdings = tmp_path / "IWM_holdings.csv"
    holdings.write_text(HOLDINGS, encoding="utf-8")
    importing.import_files(db, "ishares", [holdings])
    return db


def _snapshots(db) -> int:  # type: ignore[no-untyped-def]
    with db.session() as s:
        return len(snapshots.list_snapshots(s))


def test_import_reads_only_the_members(universe, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    calls: list[tuple[int, int, str]] = []
    report = import_companyfacts(universe, [_archive(tmp_path / "companyfacts.zip")], tickers=TICKERS,
                                 progress=lambda d, t, m="": calls.append((d, t, m)))
    assert report.kind == "sec-companyfacts" and report.snapshot_id is not None
    assert report.members_matched == 2  # AAPL and MRVL; QZAL is invented, NVDA/GOOGL are not members
    assert report.rows_read == 2  # companies read from the archive
    assert any("Reading SEC company facts: 2/2 companies" in m for _d, _t, m in calls)
    with universe.session() as s:
        dataset = snapshots.load_dataset(s)
    hist = dataset.history
    sec = hist[hist["source"] == "sec"]
    assert set(sec["symbol"]) == {"AAPL", "MRVL"}
    assert dataset.securities.loc["MRVL", "cik"] == "0001835632"
    assert report.as_of is not None


def test_a_bad_member_refuses_the_whole_import(universe, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    # CIK 0000320193 (Apple, a member) replaced by an HTML page: nothing is saved.
    bad = _archive(tmp_path / "bad.zip", {"CIK0000320193.json": b"<html>blocked</html>"})
    before = _snapshots(universe)
    with pytest.raises(InputError) as info:
        import_companyfacts(universe, [bad], tickers=TICKERS)
    assert "CIK0000320193.json" in str(info.value) and "nothing was imported" in str(info.value)
    assert _snapshots(universe) == before


def test_accept_skipped_imports_the_rest_and_lists_them(universe, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "bad.zip"
    with zipfile.ZipFile(bad, "w") as zf:
        zf.writestr("CIK0001835632.json", (FIXTURES / "CIK0001835632_marvell_trimmed_sec_body.json").read_bytes())
        zf.writestr("CIK0000320193.json", b"<html>blocked</html>")
    report = import_companyfacts(universe, [bad], tickers=TICKERS, accept_skipped=True)
    assert [row.ticker for _o, row in report.skipped] == ["CIK0000320193.json"]
    assert "Skipped 1 row:" in report.summary_text()


def test_ticker_map_found_beside_the_archive(db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    archive = _archive(tmp_path / "companyfacts.zip")
    with pytest.raises(InputError, match="company_tickers.json"):
        import_companyfacts(db, [archive])
    (tmp_path / "company_tickers.json").write_bytes(TICKERS.read_bytes())
    assert find_ticker_map(archive) == tmp_path / "company_tickers.json"
    report = import_companyfacts(db, [archive])  # no universe yet: every ticker of the map
    with db.session() as s:
        hist = snapshots.load_dataset(s).history
    assert {"AAPL", "MRVL", "NVDA", "GOOGL"} <= set(hist["symbol"])
    assert report.snapshot_id is not None


def test_cli_import_sec_companyfacts(universe, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    archive = _archive(tmp_path / "companyfacts.zip")
    db_path = str(tmp_path / "pickaxe.sqlite3")  # the fixture's database
    code = cli_main(["--db", db_path, "import", "sec-companyfacts", str(archive), "--tickers", str(TICKERS)])
    out = capsys.readouterr()
    assert code == 0, out.err
    assert "Imported sec-companyfacts" in out.out
    code = cli_main(["--db", db_path, "import", "sec-companyfacts", str(tmp_path / "missing.zip"),
                     "--tickers", str(TICKERS)])
    assert code != 0
    assert "missing.zip" in capsys.readouterr().err


def test_the_ticker_map_of_an_online_refresh_is_used_when_none_is_given(universe, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from datetime import datetime

    from desktop.services.sec_refresh import KIND_MAP, MAP_KEY, SOURCE
    from desktop.store import rawcache

    folder = tmp_path / "bulk"
    folder.mkdir()
    archive = _archive(folder / "companyfacts.zip")
    with pytest.raises(InputError, match="ticker map"):
        import_companyfacts(universe, [archive])
    with universe.session() as session:
        rawcache.put_raw(session, SOURCE, MAP_KEY, KIND_MAP, TICKERS.read_bytes(), datetime(2026, 5, 1))
    report = import_companyfacts(universe, [archive])
    assert report.snapshot_id is not None
    with universe.session() as session:
        hist = snapshots.load_dataset(session).history
    assert set(hist.loc[hist["source"] == "sec", "symbol"]) == {"AAPL", "MRVL"}

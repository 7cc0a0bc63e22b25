from __future__ import annotations

import argparse
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from desktop.data import symbols
from desktop.errors import Cancelled, InputError
from desktop.services.importing import ImportReport, import_files
from tests.conftest import shared_file
from tests.finviz_fixture import write_finviz

pytest.importorskip("desktop.store.snapshots", reason="the store is not built yet")
from desktop.store import snapshots  # noqa: E402
from desktop.store.db import open_database  # noqa: E402

FIX = Path(__file__).resolve().parents[1] / "data_files"


@pytest.fixture(autouse=True)
def _fictional_share_class(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(symbols.EXCEPTIONS, "QQZA", "QQZ-A")


@pytest.fixture
def db(tmp_path: Path):  # type: ignore[no-untyped-def]
    database = open_database(str(tmp_path / "pickaxe.sqlite3"))
    yield database
    database.dispose()


def _count(db) -> int:  # type: ignore[no-untyped-def]
    with db.session() as s:
        return len(snapshots.list_snapshots(s))


def test_universe_then_fundamentals(db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    calls: list[tuple[int, int]] = []
    r1 = import_files(db, "ishares", [FIX / "ishares" / "fund_full.csv"],
                      progress=lambda d, t, m="": calls.append((d, t)))
    assert isinstance(r1, ImportReport) and r1.snapshot_id is not None
    assert r1.as_of == date(2026, 5, 5)
    assert r1.members_total == 8 and r1.members_matched == 8
    assert r1.skipped_by_reason()["cash"] == 2
    assert calls[-1][0] == calls[-1][1]
    r2 = import_files(db, "finviz", [write_finviz(tmp_path / "finviz_export_2024-03-15.csv")])
    assert r2.members_matched == 4  # QZAL, PLNK, QQZ-A, LOMBA
    assert r2.symbols_outside_universe == 2  # the ETF and the bank are not members
    cov = r2.coverage["market_cap"]
    assert cov.covered == 4 and cov.total == 8
    assert set(cov.missing["in no imported fundamentals file"]) == {"MINR", "CVRX", "HALT", "EVIL"}
    de = r2.coverage["reported_debt_to_equity"]
    assert de.not_meaningful == 1  # QQZ-A has negative book equity
    assert de.missing.get("no value in finviz") == ["LOMBA"]
    with db.session() as s:
        ds = snapshots.load_dataset(s)
    assert ds.securities.loc["QZAL", "market_cap"] == pytest.approx(1204.37e6)
    assert ds.securities.loc["QQZ-A", "ticker"] == "QQZA"
    assert ds.securities.loc["EVIL", "name"].startswith("=HYPERLINK")
    text = r2.summary_text()
    assert "market_cap" in text and "matched" in text and "as of 2026-05-05" in text
    assert len(text.splitlines()) < 60
    r3 = import_files(db, "simfin", [FIX / "simfin"])
    # One folder holds five files: the summary counts the files, and a skipped row names its own file.
    assert r3.summary_text().startswith("Imported simfin: 5 files,")
    assert any(origin.endswith("us-income-annual.csv") and row.ticker == "PLNK_delisted"
               for origin, row in r3.skipped)
    assert "us-income-annual.csv line 7: PLNK_delisted" in r3.summary_text()
    dates = r3.summary_text().splitlines()[1:6]  # one line per file, each with its own date
    assert "  us-income-annual.csv: data as of 2023-12-31" in dates and "  industries.csv: no date in the file" in dates
    assert r3.members_with_history == 2
    assert r3.members_3y_interest_and_operating_income == 1  # QZAL 2021-2023
    r4 = import_files(db, "prices", [FIX / "prices" / "closes_wide_fixture.csv"])
    r5 = import_files(db, "fred", [FIX / "fred" / "yields_new_header.csv"])
    with db.session() as s:
        ds = snapshots.load_dataset(s)
        assert len(snapshots.list_snapshots(s)) == 5
    assert {"QZAL", "QQZ-A", "PLNK"} <= set(ds.prices.columns)
    assert "yield_10y" in ds.market
    assert r4.snapshot_id < r5.snapshot_id
    assert ds.securities.loc["QZAL", "description"].startswith("Quartzaline")


def test_a_price_import_counts_each_of_its_files(db) -> None:  # type: ignore[no-untyped-def]
    import_files(db, "ishares", [FIX / "ishares" / "fund_full.csv"])
    files = [FIX / "prices" / name for name in ("QZAL_daily_fixture.csv", "GSPC_close_volume_fixture.csv",
                                                "TNX_fixture_yfinance.csv")]
    report = import_files(db, "prices", files)
    assert report.files_read == 3
    assert report.summary_text().startswith("Imported prices: 3 files,")
    # Each file is listed with the date its own data reaches (issue #17), not one date for all.
    assert "  QZAL_daily_fixture.csv: data as of 2024-03-08" in report.summary_text().splitlines()
    assert [name for name, _d in report.source_dates] == [str(f) for f in files]
    one = import_files(db, "prices", files[:1])
    assert one.summary_text().startswith("Imported prices: 1 file,")


def test_a_folder_of_price_files_stays_a_one_screen_summary(db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import_files(db, "ishares", [FIX / "ishares" / "fund_full.csv"])
    folder = tmp_path / "daily"
    folder.mkdir()
    days = pd.date_range("2024-03-10", periods=55)
    for i, day in enumerate(days):
        (folder / f"Q{i:02d}X_daily.csv").write_text(f"Date,Close\n2024-03-01,10.0\n{day:%Y-%m-%d},10.5\n")
    report = import_files(db, "prices", [folder])
    lines = report.summary_text().splitlines()
    assert lines[0].startswith("Imported prices: 55 files,")
    assert "  Q00X_daily.csv: data as of 2024-03-10" in lines
    assert f"  and 45 more files: data as of {days[10]:%Y-%m-%d} to {days[-1]:%Y-%m-%d}" in lines
    assert not any("Q10X_daily.csv" in line for line in lines)
    digest = report.to_summary()  # stored with every snapshot: bounded however many files
    assert digest["files"] == 55 and len(digest["source_dates"]) == 50


def test_bad_file_changes_nothing(db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import_files(db, "ishares", [FIX / "ishares" / "fund_full.csv"])
    good = write_finviz(tmp_path / "finviz_export_2024-03-15.csv")
    bad = tmp_path / "finviz.csv"
    bad.write_text(good.read_text().replace("655.12", "7x1"))
    with pytest.raises(InputError) as info:
        import_files(db, "finviz", [good, bad])
    assert info.value.line == 3 and "finviz.csv" in str(info.value)
    assert _count(db) == 1


def test_failure_while_saving_rolls_back(db, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    real = snapshots.save_snapshot

    def broken(session, dataset, summary):  # type: ignore[no-untyped-def]
        real(session, dataset, summary)
        raise OSError("disk full")

    monkeypatch.setattr(snapshots, "save_snapshot", broken)
    with pytest.raises(OSError):
        import_files(db, "ishares", [FIX / "ishares" / "fund_full.csv"])
    monkeypatch.undo()
    assert _count(db) == 0


def test_cancel_saves_nothing(db) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(Cancelled):
        import_files(db, "ishares", [FIX / "ishares" / "fund_full.csv"], is_cancelled=lambda: True)
    assert _count(db) == 0


def test_stripped_preamble_needs_as_of(db) -> None:  # type: ignore[no-untyped-def]
    path = FIX / "ishares" / "fund_no_preamble.csv"
    with pytest.raises(InputError, match="--as-of"):
        import_files(db, "ishares", [path])
    assert _count(db) == 0
    report = import_files(db, "ishares", [path], as_of="2019-01-10")
    assert report.as_of == date(2019, 1, 10)
    assert any("used --as-of" in w for w in report.warnings)


def test_bad_arguments(db) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InputError, match="unknown import kind"):
        import_files(db, "excel", [FIX / "fred" / "yields_new_header.csv"])
    with pytest.raises(InputError, match="not a date"):
        import_files(db, "fred", [FIX / "fred" / "yields_new_header.csv"], as_of="May 5")
    with pytest.raises(InputError, match="one iShares holdings file"):
        import_files(db, "ishares", [FIX / "ishares" / "fund_full.csv"] * 2)
    with pytest.raises(InputError, match="file not found"):
        import_files(db, "finviz", [FIX / "nope.csv"])


def test_cli_import(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from desktop.cli import imports

    parser = argparse.ArgumentParser()
    parser.add_argument("--db")
    imports.register(parser.add_subparsers())
    args = parser.parse_args(["--db", str(tmp_path / "cli.sqlite3"), "import", "ishares",
                              str(FIX / "ishares" / "fund_no_preamble.csv"), "--as-of", "2019-01-10"])
    assert args.handler(args) == 0
    out = capsys.readouterr().out
    assert "Imported ishares" in out and "as of 2019-01-10" in out
    with pytest.raises(SystemExit):
        parser.parse_args(["import", "ishares", "x.csv", "--as-of", "yesterday"])


# --- done-when checks on the real files, in place -------------------------------------------


def _real(db, with_finviz: bool = False, with_simfin: bool = False) -> list[ImportReport]:  # type: ignore[no-untyped-def]
    reports = [import_files(db, "ishares", [shared_file("universe", "IWM_holdings_2026-05-05.csv")])]
    if with_finviz:
        reports.append(import_files(db, "finviz", [shared_file("fundamentals", "finviz_export_2025-08-21.csv")]))
    if with_simfin:
        reports.append(import_files(db, "simfin", [shared_file("statements"), shared_file("profiles")]))
    return reports


def test_real_universe_every_row_explained(db) -> None:  # type: ignore[no-untyped-def]
    (report,) = _real(db)
    assert report.members_total == 1914
    assert report.members_total + len(report.skipped) == report.rows_read == 1929
    assert all(row.reason for _o, row in report.skipped)


def test_real_finviz_coverage(db) -> None:  # type: ignore[no-untyped-def]
    _u, report = _real(db, with_finviz=True)
    for name in ("market_cap", "sector"):
        assert report.coverage[name].fraction >= 0.97, name
    de = report.coverage["reported_debt_to_equity"]
    # a value, or "not meaningful" because book equity is negative (Finviz leaves D/E empty then)
    assert de.explained_fraction >= 0.97
    missing = report.coverage["market_cap"].missing
    assert sum(len(v) for v in missing.values()) == report.members_total - report.coverage["market_cap"].covered
    assert "missing:" in report.summary_text()


def test_real_simfin_history_and_summaries(db) -> None:  # type: ignore[no-untyped-def]
    from desktop.data.simfin import read_simfin

    *_rest, report = _real(db, with_simfin=True)
    with db.session() as s:
        ds = snapshots.load_dataset(s, with_prices=False)
    src = read_simfin([shared_file("statements"), shared_file("profiles")])
    members = set(ds.members.index)
    refused = {r.split(" ", 2)[1] for r in report.identity_rejections if r.startswith("simfin ")}
    covered = members & set(src.history["symbol"]) - refused
    assert covered <= set(ds.history["symbol"])
    obs = src.observations
    assert {"AKTS", "CNR", "LION"} <= refused  # another company's SimFin records, listed with both names
    with_summary = members & set(obs.loc[obs["field"] == "description", "symbol"]) - refused
    assert ds.securities.loc[sorted(with_summary), "description"].notna().all()
    # README's measurement is 983; 6 of those members' SimFin records are another company's (identity check)
    assert report.members_3y_interest_and_operating_income == 977
    assert report.members_3y_operating_income == 1115  # README 1,121 minus the same identity rejections
    assert "3+ consecutive years of interest expense and operating income" in report.summary_text()


def test_real_yahoo_json_kind(db) -> None:  # type: ignore[no-untyped-def]
    _real(db)
    report = import_files(db, "yahoo-json", [shared_file("fundamentals", "yahoo_financialData_2024-07-06.json"),
                                             shared_file("fundamentals", "yahoo_sector_industry_2024-07-06.json")])
    assert report.members_matched > 1500
    assert report.coverage["sector"].fraction > 0.8
    assert sum("older than the snapshot" in w for w in report.warnings) == 1
    with db.session() as s:
        ds = snapshots.load_dataset(s, with_prices=False)
    assert ds.securities["reported_debt_to_equity"].dropna().median() < 5  # percent became a ratio


def test_as_of_that_disagrees_with_a_files_own_date_warns(db, tmp_path) -> None:  # type: ignore[no-untyped-def]
    # Issue #12: the holdings file's own date and --as-of must agree; any file dated after the
    # snapshot describes a later day. Older vendor files are normal (they get the age warnings).
    path = FIX / "ishares" / "fund_full.csv"
    own = import_files(db, "ishares", [path]).as_of
    assert own is not None
    report = import_files(db, "ishares", [path], as_of=own.replace(year=own.year - 1))
    assert any(f"the file is dated {own}" in w for w in report.warnings)
    later = write_finviz(tmp_path / f"finviz_export_{own.replace(year=own.year + 1)}.csv")
    report = import_files(db, "finviz", [later], as_of=own)
    assert any(f"the file is dated {own.replace(year=own.year + 1)}; the snapshot is dated --as-of {own}" in w
               for w in report.warnings)
    earlier = write_finviz(tmp_path / f"finviz_export_{own.replace(year=own.year - 1)}.csv")
    report = import_files(db, "finviz", [earlier], as_of=own)
    assert not any("the snapshot is dated --as-of" in w for w in report.warnings)

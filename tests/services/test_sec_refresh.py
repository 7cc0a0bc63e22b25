"""Online refresh with SEC EDGAR (issue #14): the real SEC client against a local 127.0.0.1 server
replaying the committed trimmed SEC bodies, side by side with the scripted Yahoo provider.

Members: AAPL, NVDA, GOOGL + GOOG (one CIK), MRVL (facts and submissions), WOLF and IMNN
(submissions only: no company facts, a 404), QZZZ (not in the SEC's ticker map).
"""

from __future__ import annotations

import json
import time
from datetime import date, timedelta
from pathlib import Path

import pytest

from desktop.errors import Cancelled, NoDataError
from desktop.services import sec_refresh
from desktop.services.refresh import RefreshReport, RetryPolicy, refresh
from desktop.store import rawcache, snapshots
from desktop.store.db import Database, open_database
from tests.data.sec_server import BLOCK_PAGE, Reply, SecServer, fixture_bodies, sec_server
from tests.services.refresh_fakes import ScriptedProvider

UA = "Pickaxe tests tests@example.com"
MEMBERS = ["AAPL", "NVDA", "GOOGL", "GOOG", "MRVL", "WOLF", "IMNN", "QZZZ"]
CIKS = {"AAPL": "0000320193", "NVDA": "0001045810", "GOOGL": "0001652044", "MRVL": "0001835632",
        "WOLF": "0000895419", "IMNN": "0000749647"}
WITH_FACTS = {"AAPL", "NVDA", "GOOGL", "MRVL"}
FAST = RetryPolicy(attempts=2, initial_s=0.001, max_s=0.005, jitter_s=0.001)


def facts_path(symbol: str) -> str:
    return f"/api/xbrl/companyfacts/CIK{CIKS[symbol]}.json"


def subs_path(symbol: str) -> str:
    return f"/submissions/CIK{CIKS[symbol]}.json"


@pytest.fixture
def server() -> SecServer:
    with sec_server(fixture_bodies()) as s:
        yield s


@pytest.fixture
def db(tmp_path: Path) -> Database:
    database = open_database(tmp_path / "sec.sqlite3")
    yield database
    database.dispose()


def settings(server: SecServer, **kw: object) -> sec_refresh.SecSettings:
    options = {"www": server.url, "data": server.url, "attempts": 2, "backoff": (0.01, 0.02),
               "block_pause_s": 0.01, "timeout": (2.0, 2.0)}
    return sec_refresh.SecSettings(kw.pop("user_agent", UA), max_rate=float(kw.pop("max_rate", 10.0)),  # type: ignore[arg-type]
                                   workers=2, client_options=options)


def run(db: Database, provider: ScriptedProvider, server: SecServer | None, **kw: object) -> RefreshReport:
    kw.setdefault("max_rate", 5000.0)
    kw.setdefault("retry", FAST)
    kw.setdefault("build_snapshot", False)
    if server is not None:
        kw.setdefault("sec", settings(server))
    return refresh(db, provider, MEMBERS, **kw)  # type: ignore[arg-type]


def paths(server: SecServer) -> list[str]:
    return [s.path for s in server.seen]


def test_first_refresh_fetches_company_facts_then_submissions_and_builds_an_sec_snapshot(
        db: Database, server: SecServer) -> None:
    provider = ScriptedProvider()
    report = run(db, provider, server, build_snapshot=True)
    sec = report.sec
    assert sec is not None and not sec.skipped and not sec.stopped
    assert (sec.companies, sec.fetched, sec.no_data, sec.submissions) == (6, 4, 2, 3)
    assert sec.not_in_map == ["QZZZ"]
    seen = paths(server)
    assert seen[0] == "/files/company_tickers.json"
    facts = [i for i, p in enumerate(seen) if p.startswith("/api/xbrl/")]
    subs = [i for i, p in enumerate(seen) if p.startswith("/submissions/")]
    assert len(facts) == 6 and len(subs) == 6 and max(facts) < min(subs)  # fundamentals first
    assert seen.count(facts_path("GOOGL")) == 1  # GOOG and GOOGL are one company
    assert {s.headers["User-Agent"] for s in server.seen} == {UA}
    # Yahoo keeps profile and prices; statements only for the member the SEC does not list.
    statements = {sym for _, sym, kind in provider.calls if kind == "statements"}
    assert statements == {"QZZZ"}
    assert {sym for _, sym, kind in provider.calls if kind == "prices"} >= set(MEMBERS)
    # Failures: the 404s are "no data", not failures; nothing else failed.
    assert report.failures == []
    text = report.summary_text()
    assert "SEC EDGAR: 6 companies: 4 company facts fetched" in text and "QZZZ" in text

    with db.session() as session:
        ds = snapshots.load_dataset(session)
    hist = ds.history
    assert set(hist.loc[hist["source"] == "sec", "symbol"]) == {"AAPL", "NVDA", "GOOGL", "GOOG", "MRVL"}
    sec_rows = hist[(hist["symbol"] == "MRVL") & (hist["source"] == "sec")]
    assert sec_rows["filed"].notna().all() and (sec_rows["period_type"] == "FY").any()
    assert ds.securities.loc["MRVL", "cik"] == "0001835632"
    assert ds.securities.loc["MRVL", "sic"] == "3674"  # from the submissions: the semiconductor kind
    assert ds.securities.loc["WOLF", "sic"] == "3674" and ds.securities.loc["IMNN", "sic"] == "2834"


def test_a_later_refresh_asks_with_validators_and_downloads_nothing_unchanged(db: Database, server: SecServer) -> None:
    run(db, ScriptedProvider(), server)
    with db.session() as session:
        before = rawcache.load_raw(session, "sec", ["companyfacts"], [CIKS["MRVL"]])[(CIKS["MRVL"], "companyfacts")]
    first = len(server.seen)
    # Within the max age nothing is asked at all.
    report = run(db, ScriptedProvider(), server)
    assert len(server.seen) == first and report.sec is not None and report.sec.fresh == 6
    # Due again: every company is asked with its ETag and answers 304; no body is downloaded.
    report = run(db, ScriptedProvider(), server, max_age={"sec_facts": timedelta(0), "sec_tickers": timedelta(0)})
    assert report.sec is not None and (report.sec.fetched, report.sec.unchanged) == (0, 4)
    again = server.seen[first:]
    assert [s.path for s in again if s.path.startswith("/submissions/")] == []  # master data is monthly
    facts = [s for s in again if s.path.startswith("/api/xbrl/") and s.path != facts_path("WOLF")
             and s.path != facts_path("IMNN")]
    assert len(facts) == 4 and all(s.headers.get("If-None-Match") for s in facts)
    assert any(s.path == "/files/company_tickers.json" and s.headers.get("If-None-Match") for s in again)
    with db.session() as session:
        after = rawcache.load_raw(session, "sec", ["companyfacts", "state"], [CIKS["MRVL"]])
    assert after[(CIKS["MRVL"], "companyfacts")].payload == before.payload
    assert after[(CIKS["MRVL"], "companyfacts")].fetched_at == before.fetched_at  # not downloaded again
    assert after[(CIKS["MRVL"], "state")].fetched_at > before.fetched_at  # but confirmed current


def test_without_validators_the_submissions_say_whether_the_facts_changed(db: Database, server: SecServer) -> None:
    body = fixture_bodies()[facts_path("MRVL")]
    server.then(facts_path("MRVL"), Reply(200, body))  # no ETag, no Last-Modified
    run(db, ScriptedProvider(), server)
    due = {"sec_facts": timedelta(0)}
    # Marvell's last financial filing (10-Q, 2026-05-28) is older than its facts: no facts request.
    start = len(server.seen)
    report = run(db, ScriptedProvider(), server, max_age=due)
    marvell = [s.path for s in server.seen[start:] if "1835632" in s.path]
    assert marvell == [subs_path("MRVL")] and report.sec is not None and report.sec.unchanged == 4
    # A 10-K filed today: the facts are fetched again.
    subs = json.loads(fixture_bodies()[subs_path("MRVL")])
    subs["filings"]["recent"]["form"].insert(0, "10-K")
    subs["filings"]["recent"]["filingDate"].insert(0, date.today().isoformat())
    for key, values in subs["filings"]["recent"].items():
        if key not in ("form", "filingDate") and isinstance(values, list):
            values.insert(0, values[0])
    server.then(subs_path("MRVL"), Reply(200, json.dumps(subs).encode()))
    server.then(facts_path("MRVL"), Reply(200, body))
    start = len(server.seen)
    report = run(db, ScriptedProvider(), server, max_age=due)
    marvell = [s.path for s in server.seen[start:] if "1835632" in s.path]
    assert marvell == [subs_path("MRVL"), facts_path("MRVL")] and report.sec is not None and report.sec.fetched == 1


def test_no_user_agent_means_no_sec_part_and_the_summary_says_why(db: Database, server: SecServer,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PICKAXE_SEC_USER_AGENT", raising=False)
    provider = ScriptedProvider()
    report = run(db, provider, server, sec=settings(server, user_agent=None))
    assert report.sec is not None and "contact e-mail" in report.sec.skipped
    assert server.seen == []
    assert {sym for _, sym, kind in provider.calls if kind == "statements"} == set(MEMBERS)  # Yahoo as before
    assert "SEC EDGAR not used: The SEC requires" in report.summary_text()


def test_a_rate_above_the_sec_limit_is_refused(db: Database, server: SecServer) -> None:
    report = run(db, ScriptedProvider(), server, sec=settings(server, max_rate=11.0))
    assert report.sec is not None and "not allowed for the SEC" in report.sec.skipped and server.seen == []


def test_the_block_page_stops_the_sec_part_and_yahoo_carries_on(db: Database, server: SecServer) -> None:
    for symbol in CIKS:
        server.then(facts_path(symbol), *[Reply(403, BLOCK_PAGE, "text/html")] * 4)
    provider = ScriptedProvider()
    report = run(db, provider, server)
    assert report.sec is not None and "refusing requests" in report.sec.stopped
    assert {sym for sym in report.fetched} >= set(MEMBERS)  # the Yahoo part finished
    sec_failures = [f for f in report.failures if f.kind.startswith("sec ")]
    assert {f.symbol for f in sec_failures} == {"AAPL", "NVDA", "GOOGL", "MRVL", "WOLF", "IMNN"}
    assert all("refusing requests" in f.reason for f in sec_failures)
    with db.session() as session:
        assert rawcache.load_raw(session, "sec", ["companyfacts", "submissions"]) == {}  # nothing half-done
    # Resumable: the next refresh (the SEC answering again) fetches what was not committed.
    server.script.clear()
    report = run(db, ScriptedProvider(), server)
    assert report.sec is not None and report.sec.fetched == 4 and not report.sec.stopped


def test_a_cancelled_refresh_keeps_the_committed_companies_and_resumes(db: Database, server: SecServer) -> None:
    server.latency_s = 0.05
    committed: list[int] = []

    def progress(done: int, total: int, message: str = "") -> None:
        if message.startswith("SEC "):
            committed.append(done)

    with pytest.raises(Cancelled):
        run(db, ScriptedProvider(), server, progress=progress, is_cancelled=lambda: len(committed) >= 1)
    with db.session() as session:
        kept = {cik for cik, _ in rawcache.load_raw(session, "sec", ["state"])} - {sec_refresh.MAP_KEY}
    assert 1 <= len(kept) < 6
    start = len(server.seen)
    run(db, ScriptedProvider(), server)
    asked = {s.path for s in server.seen[start:] if s.path.startswith("/api/xbrl/")}
    assert asked and not any(cik in p for p in asked for cik in kept)  # committed companies are not asked again


def test_sec_and_yahoo_work_side_by_side(db: Database, server: SecServer) -> None:
    # Yahoo's first fetch waits until the SEC has been asked for company facts: were the two parts run
    # one after the other, it would wait in vain (and fail the ticker after 10 s).
    def after_the_sec_started(symbol: str, kind: str, attempt: int) -> BaseException | None:
        deadline = time.monotonic() + 10
        while not any(s.path.startswith("/api/xbrl/") for s in list(server.seen)):
            if time.monotonic() > deadline:
                return NoDataError("the SEC part never started while Yahoo was fetching")
            time.sleep(0.005)
        return None

    provider = ScriptedProvider(after_the_sec_started)
    report = run(db, provider, server)
    assert report.failures == [] and report.sec is not None and report.sec.fetched == 4


class UpdatingProvider(ScriptedProvider):
    """A provider that can top up cached prices (like YahooProvider.fetch_update)."""

    def __init__(self) -> None:
        super().__init__()
        self.updates: list[tuple[str, str]] = []

    def fetch_update(self, symbol: str, kind: str, previous: str) -> str:
        self.updates.append((symbol, kind))
        assert json.loads(previous)["close"]  # the cached series is handed over
        return self.fetch(symbol, kind)


def test_prices_are_fetched_incrementally_when_the_provider_can(db: Database) -> None:
    run(db, ScriptedProvider(), None)
    provider = UpdatingProvider()
    run(db, provider, None, max_age={"prices": timedelta(0)})
    assert sorted(provider.updates) == sorted((s, "prices") for s in [*MEMBERS, "^TNX", "IWM", "SPY"])

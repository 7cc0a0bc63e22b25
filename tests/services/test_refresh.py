"""Refresh service: throttled, retried, per-ticker commits, incremental, cancellable, resumable.

Fault injection uses the scripted fake provider of ``refresh_fakes`` (same interface as
``YahooProvider``) against a real SQLite store in ``tmp_path``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from desktop.errors import Cancelled, InputError, NoDataError, RateLimitedError, SourceUnreachableError
from desktop.services.refresh import RetryPolicy, refresh
from desktop.store import rawcache
from desktop.store.db import Database, open_database
from tests.services.refresh_fakes import Killed, ScriptedProvider, payload_for, tickers

FAST = RetryPolicy(attempts=3, initial_s=0.001, max_s=0.005, jitter_s=0.001)
MARKET = ["^TNX", "IWM", "SPY"]


@pytest.fixture
def db(tmp_path: Path) -> Database:
    database = open_database(tmp_path / "refresh.sqlite3")
    yield database
    database.dispose()


def cached(db: Database, status: str = "ok") -> dict[tuple[str, str], rawcache.RawEntry]:
    with db.session() as session:
        entries = rawcache.load_raw(session, "yahoo", ["info", "statements", "prices"])
    return {key: entry for key, entry in entries.items() if entry.status == status}


def complete(db: Database) -> set[str]:
    """Symbols whose every kind is in the cache."""
    entries = cached(db)
    kinds = {s: {k for (sym, k) in entries if sym == s} for (s, _) in entries}
    return {s for s, ks in kinds.items() if ks == ({"prices"} if s in MARKET else {"info", "statements", "prices"})}


def run(db: Database, provider: ScriptedProvider, symbols: list[str], **kwargs: object) -> object:
    kwargs.setdefault("max_rate", 5000.0)
    kwargs.setdefault("retry", FAST)
    kwargs.setdefault("build_snapshot", False)
    return refresh(db, provider, symbols, **kwargs)  # type: ignore[arg-type]


def test_fetches_every_kind_commits_payloads_and_reports(db: Database) -> None:
    provider = ScriptedProvider()
    seen: list[tuple[int, int, str]] = []
    report = run(db, provider, tickers(6), workers=3, progress=lambda d, t, m="": seen.append((d, t, m)))
    assert report.failures == []
    assert set(report.fetched) == set(tickers(6)) | set(MARKET)
    assert report.fetched["QA001"] == ["info", "prices", "statements"]
    assert report.fetched["^TNX"] == ["prices"]
    assert report.requests == 6 * 3 + 3
    entries = cached(db)
    assert entries[("QA002", "info")].payload == payload_for("QA002", "info")
    assert entries[("QA002", "info")].status == "ok"
    # progress: starts at 0, counts every ticker once, ends at total, carries an ETA while running
    assert seen[0][0] == 0 and seen[-1][0] == seen[-1][1] == 9
    assert [d for d, _, _ in seen[1:]] == list(range(1, 10))
    assert any("left" in m for _, _, m in seen[1:-1])


def test_second_run_skips_fresh_data_and_prices_are_due_sooner(db: Database) -> None:
    run(db, ScriptedProvider(), tickers(4))
    again = ScriptedProvider()
    report = run(db, again, tickers(4))
    assert again.calls == [] and report.fetched == {}
    assert len(report.fresh) == 4 * 3 + 3
    # Prices older than their (short) max age are fetched again; profile and statements are not.
    prices_only = ScriptedProvider()
    report = run(db, prices_only, tickers(4), max_age={"prices": timedelta(0)})
    assert {k for _, _, k in prices_only.calls} == {"prices"}
    assert len(prices_only.calls) == 7


def test_everything_is_due_with_zero_max_age(db: Database) -> None:
    run(db, ScriptedProvider(), tickers(3))
    provider = ScriptedProvider()
    run(db, provider, tickers(3), max_age=timedelta(0))
    assert len(provider.calls) == 3 * 3 + 3


def test_error_at_ticker_n_is_reported_and_the_rest_goes_on(db: Database) -> None:
    def script(symbol: str, kind: str, attempt: int) -> BaseException | None:
        if symbol == "QA004" and kind == "info":
            return NoDataError("no data for symbol QA004")
        return None

    provider = ScriptedProvider(script)
    report = run(db, provider, tickers(8), workers=2)
    assert [(f.symbol, f.kind, f.reason) for f in report.failures] == [("QA004", "info", "no data for symbol QA004")]
    # no retries for "no data"; the ticker's other kinds are still committed
    assert sum(1 for _, s, k in provider.calls if (s, k) == ("QA004", "info")) == 1
    assert report.fetched["QA004"] == ["prices", "statements"]
    assert complete(db) == (set(tickers(8)) | set(MARKET)) - {"QA004"}


def test_a_failure_never_overwrites_older_committed_data(db: Database) -> None:
    run(db, ScriptedProvider(), tickers(3))
    before = cached(db)[("QA001", "statements")]
    down = ScriptedProvider(lambda s, k, a: SourceUnreachableError("Yahoo Finance unreachable: timed out"))
    report = run(db, down, tickers(3), max_age=timedelta(0))
    assert len(report.failures) == 3 * 3 + 3
    assert all("gave up after 3 attempts" in f.reason for f in report.failures)
    assert len(down.calls) == (3 * 3 + 3) * 3  # every item tried `attempts` times
    after = cached(db)[("QA001", "statements")]
    assert (after.payload, after.fetched_at, after.status) == (before.payload, before.fetched_at, "ok")


def test_429_storm_is_retried_with_backoff_and_reported(db: Database) -> None:
    def storm(symbol: str, kind: str, attempt: int) -> BaseException | None:
        if attempt <= 2:  # every first and second try is rate limited
            return RateLimitedError("Yahoo Finance rate limited, retrying in 0 s", retry_after=0.001)
        return None

    provider = ScriptedProvider(storm)
    messages: list[str] = []
    report = run(db, provider, tickers(5), workers=4, progress=lambda d, t, m="": messages.append(m))
    assert report.failures == []
    assert complete(db) == set(tickers(5)) | set(MARKET)
    assert report.retries == 2 * (5 * 3 + 3)
    assert len(provider.calls) == 3 * (5 * 3 + 3)
    assert any("rate limited, retrying in" in m for m in messages)


def test_429_that_never_ends_gives_up_with_the_reason(db: Database) -> None:
    provider = ScriptedProvider(lambda s, k, a: RateLimitedError("Yahoo Finance rate limited, retrying in 0 s",
                                                                  retry_after=0.001))
    report = run(db, provider, ["QA001"])
    assert {f.kind for f in report.failures if f.symbol == "QA001"} == {"info", "statements", "prices"}
    assert all(f.reason.startswith("Yahoo Finance rate limited") for f in report.failures)
    assert cached(db) == {}


def test_timeouts_then_success(db: Database) -> None:
    def flaky(symbol: str, kind: str, attempt: int) -> BaseException | None:
        return SourceUnreachableError("Yahoo Finance unreachable: timed out") if attempt == 1 else None

    provider = ScriptedProvider(flaky, latency=0.002)
    report = run(db, provider, tickers(4), workers=4)
    assert report.failures == [] and report.retries == 4 * 3 + 3


def test_bugs_are_not_swallowed(db: Database) -> None:
    provider = ScriptedProvider(lambda s, k, a: ZeroDivisionError("bug") if s == "QA002" else None)
    with pytest.raises(ZeroDivisionError):
        run(db, provider, tickers(4), workers=1)


def test_no_tickers_and_no_snapshot_is_an_input_error(db: Database) -> None:
    with pytest.raises(InputError, match="no universe"):
        refresh(db, ScriptedProvider(), None, build_snapshot=False)


@pytest.mark.parametrize("cancel_after", [0, 1, 5, 11])
def test_cancel_at_any_point_then_resume_without_refetching(db: Database, cancel_after: int) -> None:
    symbols = tickers(12)
    done: list[int] = []
    first = ScriptedProvider(latency=0.001)
    with pytest.raises(Cancelled):
        run(db, first, symbols, workers=2, progress=lambda d, t, m="": done.append(d),
            is_cancelled=lambda: len(done) > cancel_after)
    committed = complete(db)
    assert len(committed) == max(done)  # every ticker reported done is committed, no more, no less
    second = ScriptedProvider()
    report = run(db, second, symbols, workers=2)
    assert second.fetched_symbols().isdisjoint(committed)
    assert complete(db) == set(symbols) | set(MARKET)
    assert report.failures == []


@pytest.mark.parametrize("kill_at", ["QA000", "QA003", "QA009", "^TNX"])
def test_crash_at_any_ticker_then_resume_without_refetching(db: Database, kill_at: str) -> None:
    symbols = tickers(10)
    first = ScriptedProvider(lambda s, k, a: Killed() if (s, k) == (kill_at, "prices") else None)
    with pytest.raises(Killed):
        run(db, first, symbols, workers=3)
    committed = complete(db)
    assert kill_at not in committed
    # nothing half-written: a symbol is either complete in the cache or absent
    assert {s for s, _ in cached(db)} == committed
    second = ScriptedProvider()
    run(db, second, symbols, workers=3)
    assert second.fetched_symbols().isdisjoint(committed)
    assert kill_at in second.fetched_symbols()
    assert complete(db) == set(symbols) | set(MARKET)


def test_a_failed_commit_leaves_no_partial_ticker(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    real_put = rawcache.put_raw

    def put(session: object, source: str, symbol: str, kind: str, *args: object, **kwargs: object) -> None:
        if (symbol, kind) == ("QA002", "statements"):  # the second of QA002's three writes
            raise OSError("disk full")
        real_put(session, source, symbol, kind, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(rawcache, "put_raw", put)
    with pytest.raises(OSError, match="disk full"):
        run(db, ScriptedProvider(), tickers(5), workers=1)
    monkeypatch.undo()
    assert not any(s == "QA002" for s, _ in cached(db))  # rolled back as a whole
    assert complete(db) == {"QA000", "QA001"}
    second = ScriptedProvider()
    run(db, second, tickers(5), workers=1)
    assert second.fetched_symbols() == {"QA002", "QA003", "QA004", *MARKET}


def test_fetched_at_is_recorded_per_ticker(db: Database) -> None:
    before = datetime.now(UTC).replace(tzinfo=None, microsecond=0) - timedelta(seconds=1)
    run(db, ScriptedProvider(), ["QA001"])
    entry = cached(db)[("QA001", "info")]
    assert entry.fetched_at >= before


def _universe_snapshot(db: Database, symbols: list[str]) -> None:
    """A first snapshot whose members are ``symbols`` (as an iShares import would make)."""
    import pandas as pd

    from desktop.data import canonical
    from desktop.data.source import SourceData
    from desktop.store import snapshots

    members = pd.DataFrame({"ticker": symbols, "name": [f"{s} Holdings" for s in symbols],
                            "index_sector": "Industrials", "index_weight": 0.001, "exchange": "NASDAQ",
                            "price": 10.0}, index=pd.Index(symbols, name="symbol"))
    universe = SourceData("ishares", "holdings.csv", datetime(2026, 5, 5).date(), datetime(2026, 5, 6),
                          members=members, rows_read=len(symbols))
    with db.session() as session:
        snapshots.save_snapshot(session, canonical.merge(None, [universe], None), {"kind": "import"})


def test_refresh_of_the_universe_builds_a_new_snapshot(db: Database) -> None:
    from desktop.store import snapshots

    members = tickers(4)
    _universe_snapshot(db, members)
    provider = ScriptedProvider(lambda s, k, a: NoDataError("no data for symbol QA003")
                                if (s, k) == ("QA003", "statements") else None)
    report = refresh(db, provider, None, max_rate=5000.0, retry=FAST)
    assert provider.fetched_symbols() == set(members) | set(MARKET)
    assert report.snapshot_id is not None
    with db.session() as session:
        dataset = snapshots.load_dataset(session, report.snapshot_id)
        info = snapshots.get_snapshot(session, report.snapshot_id)
    assert sorted(dataset.members.index) == members  # membership unchanged by a refresh
    seed = sum(ord(c) for c in "QA001")
    assert dataset.securities.loc["QA001", "reported_debt_to_equity"] == pytest.approx((50 + seed % 7) / 100)
    assert dataset.securities.loc["QA001", "market_cap"] > 1e8
    h = dataset.history  # its statements failed: no statement row at all (missing, not zero)
    assert h.loc[h["symbol"] == "QA003", "ebit"].isna().all()
    q2 = h[h["symbol"] == "QA002"].sort_values("period_end")  # the freshest row holds the TTM interest
    assert q2["interest_expense"].dropna().iloc[-1] == 1e6
    assert {"IWM", "SPY", "yield_10y"} <= set(dataset.market.columns)
    assert set(dataset.prices.columns) == set(members)
    assert sorted(dataset.history["symbol"].unique()) == ["QA000", "QA001", "QA002"]
    assert info.summary["failed"] == ["QA003"]
    # the previous snapshot is untouched
    with db.session() as session:
        assert {s.id for s in snapshots.list_snapshots(session)} == {1, report.snapshot_id}
        assert sorted(snapshots.load_dataset(session, 1).members.index) == members
        assert "market_cap" not in snapshots.load_dataset(session, 1).securities


def pd_isna(value: object) -> bool:
    import pandas as pd

    return bool(pd.isna(value))


def test_requests_beyond_the_declared_cost_are_charged(db: Database) -> None:
    class Chatty(ScriptedProvider):
        def requests_made(self) -> int:
            return 3  # e.g. cookie + crumb + the call itself

    provider = Chatty()
    report = run(db, provider, ["QA001"])
    assert len(provider.calls) == 3 + 3
    assert report.requests == 3 * len(provider.calls)


def test_no_data_is_remembered_until_its_max_age_but_never_over_good_data(db: Database) -> None:
    def nodata(symbol: str, kind: str, attempt: int) -> BaseException | None:
        return NoDataError(f"no data for symbol {symbol}") if kind == "statements" else None

    run(db, ScriptedProvider(), ["QA001"])  # QA001 had statements once
    first = ScriptedProvider(nodata)
    report = run(db, first, ["QA001", "QA002"], max_age={"statements": timedelta(0)})
    assert {(f.symbol, f.kind) for f in report.failures} == {("QA001", "statements"), ("QA002", "statements")}
    assert cached(db)[("QA001", "statements")].payload == payload_for("QA001", "statements")  # kept
    remembered = cached(db, "nodata")
    assert set(remembered) == {("QA002", "statements")}
    assert remembered[("QA002", "statements")].error == "no data for symbol QA002"
    # within the max age, the "no data" answer is not asked again; afterwards it is
    second = ScriptedProvider(nodata)
    run(db, second, ["QA002"])
    assert ("QA002", "statements") not in {(s, k) for _, s, k in second.calls}
    third = ScriptedProvider()
    run(db, third, ["QA002"], max_age={"statements": timedelta(0)})
    assert ("QA002", "statements") in {(s, k) for _, s, k in third.calls}
    assert cached(db)[("QA002", "statements")].payload == payload_for("QA002", "statements")
    assert cached(db, "nodata") == {}

"""Refresh: fetch Yahoo data (and SEC EDGAR fundamentals, issue #14) for the universe into the raw
cache, then build a new snapshot (issue #3).

The SEC part (:mod:`desktop.services.sec_refresh`) runs beside the Yahoo part as a second lane: its own
thread pool and its own rate limit (the SEC client's token bucket), committed by the same calling
thread. Yahoo then fetches statements only for members the SEC's ticker map does not list, and tops
up cached prices with the missing days (``fetch_update``). The Yahoo part is

* **throttled**: one :class:`~desktop.data.throttle.TokenBucket` shared by every worker counts HTTP
  requests (``provider.request_cost``) against ``max_rate``; a 429 pauses the whole bucket;
* **retried** with exponential backoff and jitter (tenacity) on 429, 5xx and network errors;
* **parallel**: fetches run on ``workers`` threads, while the database is written by the calling
  thread only (one writer; ORM objects never cross threads);
* **committed per ticker** into the raw cache, so a crash, kill or cancel loses at most the
  tickers in flight, and a rerun skips what is already fresh (**resumable** and **incremental**:
  prices are due daily, the profile weekly, statements monthly by default);
* **cancellable** and **reporting progress with an ETA** (the slower lane's) through the plain callbacks.

At the end the cached payloads of every requested symbol (fresh, old or just fetched) are parsed
and merged, with the cached SEC parses, with the previous snapshot into a new immutable snapshot.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, Protocol

from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential,
    wait_random,
)
from tenacity.stop import stop_base

from desktop.data.source import SourceData
from desktop.data.throttle import TokenBucket
from desktop.data.yahoo import CachedPayload
from desktop.engine.formatting import counted
from desktop.errors import (
    Cancelled,
    DataSourceError,
    InputError,
    NoDataError,
    RateLimitedError,
    SourceUnreachableError,
)
from desktop.services.sec_refresh import SecSettings, SecSummary

log = logging.getLogger(__name__)

# Polite by default: four HTTP requests a second, at ~11 requests per ticker, is ~1.5 hours for
# the full Russell 2000 on a first run and ~20 minutes for a daily price top-up. Eight workers
# keep that rate busy despite Yahoo's ~0.3-1 s latency per request.
DEFAULT_MAX_RATE = 4.0
DEFAULT_WORKERS = 8
DEFAULT_MAX_AGE: dict[str, timedelta] = {
    "prices": timedelta(hours=20),
    "info": timedelta(days=7),
    "statements": timedelta(days=30),
}

# Offline detection (issue #13: one ticker offline took 100 s of retries before giving up): a
# provider with ``probe(timeout)`` is probed once before fetching; and once every request has
# failed as unreachable for this long with no success in between, no request is retried or sent.
DEFAULT_OFFLINE_AFTER_S = 15.0
DEFAULT_PROBE_TIMEOUT_S = 5.0

Progress = Callable[..., None]


class _Connectivity:
    """Shared by the workers: trips once the source has been unreachable for ``after_s`` seconds
    with no successful request in between (a circuit breaker with a deadline)."""

    def __init__(self, after_s: float, clock: Callable[[], float]) -> None:
        self.after_s = after_s
        self.clock = clock
        self._lock = threading.Lock()
        self._failing_since: float | None = None
        self.reason = ""  # set when tripped

    @property
    def offline(self) -> bool:
        return bool(self.reason)

    def success(self) -> None:
        with self._lock:
            self._failing_since = None

    def unreachable(self, exc: SourceUnreachableError) -> None:
        with self._lock:
            now = self.clock()
            if self._failing_since is None:
                self._failing_since = now
            if not self.reason and now - self._failing_since >= self.after_s:
                self.reason = (f"{exc.message} (no answer for {now - self._failing_since:.0f} s; "
                               "stopped trying)")

    def trip(self, reason: str) -> None:
        with self._lock:
            self.reason = self.reason or reason


class Provider(Protocol):
    """What the refresh needs from a data provider (``desktop.data.yahoo.YahooProvider``).

    A provider may also offer ``requests_made() -> int``: the HTTP requests the calling thread's
    last ``fetch`` really sent; any beyond ``request_cost`` are then charged to the throttle too.
    """

    @property
    def source(self) -> str: ...

    @property
    def request_cost(self) -> Mapping[str, int]:
        """HTTP requests one ``fetch`` of each kind makes (what the throttle counts)."""

    @property
    def market_symbols(self) -> Mapping[str, str]:
        """Symbols always refreshed (benchmarks, the 10-year yield) -> market column."""

    def kinds_for(self, symbol: str) -> tuple[str, ...]: ...

    def fetch(self, symbol: str, kind: str) -> str: ...

    def to_source_data(self, raw: Mapping[str, Mapping[str, CachedPayload]], as_of: date | None = None) -> SourceData: ...


@dataclass(frozen=True)
class RetryPolicy:
    """Retries of one fetch: ``attempts`` in all, waits ``initial_s * 2**n`` plus up to
    ``jitter_s`` random seconds, never more than ``max_s`` (but at least a 429's ``retry_after``,
    itself capped at ``max_s``)."""

    attempts: int = 5
    initial_s: float = 2.0
    max_s: float = 120.0
    jitter_s: float = 1.0


@dataclass(frozen=True)
class Failure:
    symbol: str
    kind: str
    reason: str
    no_data: bool = False  # the source has nothing for it (not worth asking again before max_age)


@dataclass
class RefreshReport:
    """What a refresh did.

    Attributes:
        symbols: every symbol asked for (members plus market series).
        fetched: symbol -> kinds fetched and committed in this run.
        fresh: (symbol, kind) pairs skipped because the cache was fresh enough (or the source
            answered "no data" for them within the max age).
        failures: what could not be fetched, with the reason (its older cached data, if any, is kept).
        requests: HTTP requests spent (by the providers' cost accounting), retries included.
        retries: fetch attempts that were retried.
        elapsed_s: wall time.
        snapshot_id: the new snapshot, None when none was built.
        warnings: parse warnings and skipped payloads of the snapshot build.
    """

    symbols: list[str] = field(default_factory=list)
    fetched: dict[str, list[str]] = field(default_factory=dict)
    fresh: list[tuple[str, str]] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    requests: int = 0
    retries: int = 0
    elapsed_s: float = 0.0
    snapshot_id: int | None = None
    as_of: date | None = None
    coverage: dict[str, float] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    sec: SecSummary | None = None  # the SEC part (issue #14); None when it was not asked for

    @property
    def failed_symbols(self) -> set[str]:
        return {f.symbol for f in self.failures}

    def summary_text(self) -> str:
        """The one-screen summary: what was fetched, skipped as fresh, failed and why; coverage."""
        items = sum(len(k) for k in self.fetched.values())
        out = [f"Refreshed {counted(len(self.symbols), 'symbol')} from Yahoo Finance in {_duration(self.elapsed_s)}: "
               f"{len(self.fetched):,} fetched ({counted(items, 'item')}), {counted(len(self.fresh), 'item')} still "
               f"fresh, {len(self.failed_symbols):,} with failures; {counted(self.requests, 'request')}, "
               f"{counted(self.retries, 'retry', 'retries')}"]
        if self.sec is not None:
            out.extend(self.sec.lines())
        if self.snapshot_id is not None:
            out.append(f"New snapshot {self.snapshot_id}" + (f" as of {self.as_of.isoformat()}" if self.as_of else ""))
        if self.failures:
            by_reason = Counter(f.reason for f in self.failures)
            out.append(f"Failed {counted(len(self.failures), 'item')}:")
            for reason, n in by_reason.most_common(6):
                symbols = sorted({f.symbol for f in self.failures if f.reason == reason})
                out.append(f"  {n:>5} {reason} ({', '.join(symbols[:6])}{', ...' if len(symbols) > 6 else ''})")
            if len(by_reason) > 6:
                out.append(f"  ... {counted(len(by_reason) - 6, 'more reason')}")
        if self.coverage:
            out.append("Fields covered (requested symbols with a value):")
            out.extend(f"  {name:<24} {100 * frac:5.1f} %" for name, frac in self.coverage.items())
        if self.warnings:
            out.append("Warnings:")
            out.extend(f"  {w}" for w in self.warnings[:8])
            if len(self.warnings) > 8:
                out.append(f"  ... {len(self.warnings) - 8} more")
        return "\n".join(out)


@dataclass
class _Outcome:
    symbol: str
    payloads: dict[str, tuple[str, datetime]] = field(default_factory=dict)
    failures: list[Failure] = field(default_factory=list)
    requests: int = 0
    retries: int = 0


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _resolve_max_age(max_age: timedelta | Mapping[str, timedelta] | None) -> dict[str, timedelta]:
    ages = dict(DEFAULT_MAX_AGE)
    if isinstance(max_age, timedelta):
        return {kind: max_age for kind in ages}
    if max_age:
        ages.update(max_age)
    return ages


class _StopWhenOffline(stop_base):
    """Tenacity stop condition: no more retries once the source is known to be offline."""

    def __init__(self, connectivity: _Connectivity) -> None:
        self.connectivity = connectivity

    def __call__(self, retry_state: RetryCallState) -> bool:
        return self.connectivity.offline


class _Fetcher:
    """Fetches every due kind of one symbol with throttle and retries (runs on worker threads)."""

    def __init__(self, provider: Provider, bucket: TokenBucket, policy: RetryPolicy,
                 is_cancelled: Callable[[], bool], clock: Callable[[], float],
                 sleep: Callable[[float], None], notify: Callable[[str], None],
                 connectivity: _Connectivity | None = None) -> None:
        self.connectivity = connectivity or _Connectivity(float("inf"), clock)
        self.provider = provider
        self.bucket = bucket
        self.policy = policy
        self.is_cancelled = is_cancelled
        self.clock = clock
        self.sleep = sleep
        self.notify = notify
        # initial * 2**n capped at max, plus uniform jitter (the same as wait_exponential_jitter,
        # spelled with parts that exist in every tenacity >= 8.2).
        self._backoff = wait_exponential(multiplier=policy.initial_s, max=policy.max_s) + wait_random(
            0, policy.jitter_s)

    def _wait(self, state: RetryCallState) -> float:
        delay = min(float(self._backoff(state)), self.policy.max_s)
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, RateLimitedError) and exc.retry_after:
            delay = max(delay, min(float(exc.retry_after), self.policy.max_s))
        return delay

    def _sleep(self, seconds: float) -> None:
        end = self.clock() + seconds
        while True:
            if self.is_cancelled():
                raise Cancelled()
            remaining = end - self.clock()
            if remaining <= 0 or self.connectivity.offline:
                return
            self.sleep(min(remaining, 0.25))

    def _settle(self, cost: int, outcome: _Outcome) -> None:
        """Charge requests the provider sent beyond the declared cost (cookie/crumb, fallbacks), so
        the long-run rate stays within the limit; this worker waits for them."""
        made = getattr(self.provider, "requests_made", None)
        extra = int(made()) - cost if made is not None else 0
        while extra > 0:
            chunk = min(extra, int(self.bucket.capacity))
            self.bucket.acquire(chunk, self.is_cancelled)
            outcome.requests += chunk
            extra -= chunk

    def __call__(self, symbol: str, kinds: Iterable[str], previous: Mapping[str, str] | None = None) -> _Outcome:
        """Fetch ``kinds`` of ``symbol``; a kind in ``previous`` (its cached payload) is fetched
        incrementally through the provider's ``fetch_update`` (prices: only the missing days)."""
        outcome = _Outcome(symbol)
        previous = previous or {}
        for kind in kinds:
            if self.is_cancelled():
                raise Cancelled()
            cost = int(self.provider.request_cost.get(kind, 1))

            def attempt(kind: str = kind, cost: int = cost) -> str:
                if self.connectivity.offline:
                    raise SourceUnreachableError(self.connectivity.reason)
                self.bucket.acquire(cost, self.is_cancelled)
                outcome.requests += cost
                try:
                    if kind in previous:
                        payload = self.provider.fetch_update(symbol, kind, previous[kind])  # type: ignore[attr-defined]
                    else:
                        payload = self.provider.fetch(symbol, kind)
                    self.connectivity.success()
                    return payload
                except SourceUnreachableError as exc:
                    self.connectivity.unreachable(exc)
                    raise
                except RateLimitedError as exc:
                    # Everyone backs off, not just this thread: the source asked us to slow down.
                    self.bucket.pause(min(exc.retry_after or self.policy.initial_s, self.policy.max_s))
                    raise
                finally:
                    self._settle(cost, outcome)

            def before_sleep(state: RetryCallState, kind: str = kind) -> None:
                outcome.retries += 1
                exc = state.outcome.exception() if state.outcome else None
                wait_s = state.next_action.sleep if state.next_action else 0.0
                what = "rate limited" if isinstance(exc, RateLimitedError) else str(exc)
                self.notify(f"{symbol} {kind}: {what}, retrying in {wait_s:.0f} s")

            retrying = Retrying(
                stop=stop_after_attempt(max(1, self.policy.attempts)) | _StopWhenOffline(self.connectivity),
                wait=self._wait,
                retry=retry_if_exception_type((RateLimitedError, SourceUnreachableError)),
                sleep=self._sleep,
                before_sleep=before_sleep,
                reraise=True,
            )
            try:
                payload = retrying(attempt)
            except DataSourceError as exc:
                reason = exc.message
                if self.connectivity.offline and isinstance(exc, SourceUnreachableError):
                    reason = self.connectivity.reason
                elif isinstance(exc, RateLimitedError | SourceUnreachableError):
                    reason = f"{reason} (gave up after {self.policy.attempts} attempts)"
                outcome.failures.append(Failure(symbol, kind, reason, no_data=isinstance(exc, NoDataError)))
                continue
            outcome.payloads[kind] = (payload, _now())
        return outcome


@dataclass
class _Lane:
    """One source's queue of work on its own thread pool (Yahoo tickers, SEC companies), each within
    its own rate limit; results are committed by the calling thread, one item at a time."""

    name: str
    pending: list[Any]  # the next item last (pop)
    work: Callable[[Any], Any]  # runs on the lane's pool
    commit: Callable[[Any], str]  # calling thread: store the result, return the progress text
    skip: Callable[[Any, str], None]  # record an item that will not be tried, with the reason
    stopped: Callable[[], str]  # why no more items may be sent ("" while they may)
    workers: int
    prepare: Callable[[Any], Any] = lambda item: item  # calling thread, just before submitting
    running: dict[Future[Any], Any] = field(default_factory=dict)
    total: int = 0
    done: int = 0

    def eta(self, elapsed: float) -> float:
        return elapsed / self.done * (self.total - self.done) if 0 < self.done < self.total else 0.0


def refresh(
    db: Any,
    provider: Provider,
    tickers: Iterable[str] | None = None,
    max_rate: float = DEFAULT_MAX_RATE,
    max_age: timedelta | Mapping[str, timedelta] | None = None,
    workers: int = DEFAULT_WORKERS,
    progress: Progress | None = None,
    is_cancelled: Callable[[], bool] | None = None,
    *,
    retry: RetryPolicy | None = None,
    build_snapshot: bool = True,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    offline_after_s: float = DEFAULT_OFFLINE_AFTER_S,
    sec: SecSettings | None = None,
) -> RefreshReport:
    """Fetch what is stale for ``tickers`` into the raw cache and build a new snapshot.

    Args:
        db: an open ``desktop.store.db.Database``.
        provider: the data provider (``YahooProvider`` or a test double with its interface).
        tickers: Yahoo symbols; None = the members of the latest snapshot. The market series
            (^TNX, IWM, SPY) are always added.
        max_rate: HTTP requests per second to Yahoo, shared by all Yahoo workers.
        max_age: how old cached data may be before it is fetched again: one ``timedelta`` for
            every kind or ``{kind: timedelta}`` (defaults ``DEFAULT_MAX_AGE`` and
            ``sec_refresh.DEFAULT_MAX_AGE``); ``timedelta(0)`` fetches (or, for the SEC, checks) all.
        workers: Yahoo threads fetching in parallel (within the rate limit).
        progress: ``progress(done, total, message)`` after each ticker; the message has an ETA.
        is_cancelled: polled between requests and while waiting.
        retry: retry policy (``RetryPolicy()`` by default).
        build_snapshot: parse the cache and save a new snapshot at the end.
        clock, sleep: injectable time for tests.
        offline_after_s: give up on every remaining request once all of them have failed as
            unreachable for this long (deadline on offline detection).
        sec: fetch the fundamentals from SEC EDGAR too (issue #14), side by side with Yahoo and
            within the SEC's own limit; Yahoo then fetches statements only for members the SEC's
            ticker map does not list. Without a declared User-Agent the SEC part does not start and
            ``report.sec.skipped`` says why.

    Returns:
        The report; every requested (symbol, kind) is fetched, fresh or in ``failures``.

    Raises:
        Cancelled: ``is_cancelled()`` turned true (tickers committed so far stay committed).
        SourceUnreachableError: the provider's probe failed, or the source went unreachable before
            anything was fetched (nothing is changed).
        InputError: no tickers given and no snapshot to take members from.
    """
    from desktop.store import rawcache

    started = clock()
    cancelled = is_cancelled or (lambda: False)
    policy = retry or RetryPolicy()
    ages = _resolve_max_age(max_age)
    report = RefreshReport()
    abort = threading.Event()  # set on a crash so that the workers stop at their next check

    def stop_requested() -> bool:
        return abort.is_set() or cancelled()

    symbols = _requested_symbols(db, provider, tickers)
    report.symbols = symbols
    members = [s for s in symbols if s not in provider.market_symbols]
    lanes: list[_Lane] = []
    sec_lane = _sec_lane(db, sec, members, max_age, stop_requested, report) if sec is not None else None
    sec_members = set(sec_lane.ciks) if sec_lane is not None else set()

    plan: dict[str, list[str]] = {}
    with db.session() as session:
        now = _now()
        fresh_by_kind = {
            kind: set(rawcache.fresh_symbols(session, provider.source, kind, now - age,
                                             statuses=("ok", "nodata")))
            for kind, age in ages.items()
        }
    for symbol in symbols:
        due = []
        for kind in provider.kinds_for(symbol):
            if kind == "statements" and symbol in sec_members:
                continue  # the SEC has this company's statements
            if symbol in fresh_by_kind.get(kind, set()):
                report.fresh.append((symbol, kind))
            else:
                due.append(kind)
        if due:
            plan[symbol] = due

    capacity = max([1, *(int(provider.request_cost.get(k, 1)) for k in ages)])
    bucket = TokenBucket(max_rate, capacity=capacity, clock=clock, sleep=sleep)
    notes: list[str] = []
    connectivity = _Connectivity(offline_after_s, clock)
    probe = getattr(provider, "probe", None)
    if plan and probe is not None:
        try:
            probe(DEFAULT_PROBE_TIMEOUT_S)  # raises SourceUnreachableError within seconds when offline
        except SourceUnreachableError as exc:
            if sec_lane is None or not sec_lane.lane.pending:
                raise
            connectivity.trip(exc.message)  # the SEC part may still work
    fetcher = _Fetcher(provider, bucket, policy, stop_requested, clock, sleep, notes.append, connectivity)
    updates = callable(getattr(provider, "fetch_update", None))

    def yahoo_prepare(item: tuple[str, list[str]]) -> tuple[str, list[str], dict[str, str]]:
        symbol, kinds = item
        return symbol, kinds, _previous_prices(db, provider.source, symbol) if updates and "prices" in kinds else {}

    def yahoo_commit(outcome: _Outcome) -> str:
        _commit(db, rawcache, provider.source, outcome)
        report.requests += outcome.requests
        report.retries += outcome.retries
        report.failures.extend(outcome.failures)
        if outcome.payloads:
            report.fetched[outcome.symbol] = sorted(outcome.payloads)
        return _outcome_text(outcome, notes)

    def yahoo_skip(item: tuple[str, list[str]], reason: str) -> None:
        symbol, kinds = item
        report.failures.extend(Failure(symbol, k, f"not tried: {reason}") for k in kinds)

    lanes.append(_Lane("yahoo", list(reversed(plan.items())), lambda item: fetcher(*item), yahoo_commit,
                       yahoo_skip, lambda: connectivity.reason, max(1, workers), prepare=yahoo_prepare,
                       total=len(plan)))
    if sec_lane is not None:
        lanes.append(sec_lane.lane)
    total = sum(lane.total for lane in lanes)
    log.info("refresh: %d symbols, %d due, %d items fresh; %.3g requests/s, %d workers; SEC: %s",
             len(symbols), len(plan), len(report.fresh), max_rate, workers,
             f"{sec_lane.lane.total} jobs" if sec_lane is not None else "off")
    if progress is not None:
        progress(0, total, f"{counted(len(plan), 'ticker')} to fetch, {counted(len(report.fresh), 'cached item')} "
                 "fresh" + (f"; {counted(sec_lane.lane.total, 'SEC job')}" if sec_lane is not None else ""))
    _run_lanes(lanes, stop_requested, abort, progress, total, clock, started)
    if cancelled():
        report.elapsed_s = clock() - started
        raise Cancelled()

    for failure in report.failures:
        log.info("refresh: %s %s failed: %s", failure.symbol, failure.kind, failure.reason)
    if report.sec is not None and sec_lane is not None:
        report.sec.requests = sec_lane.client.requests_sent
    sec_got = report.sec is not None and (report.sec.fetched or report.sec.unchanged or report.sec.submissions)
    if connectivity.offline and not report.fetched and not sec_got:
        raise SourceUnreachableError(connectivity.reason,
                                     hint="Check the internet connection, or import saved files instead.")
    if build_snapshot:
        report.snapshot_id = _build_snapshot(db, provider, symbols, report, with_sec=sec_lane is not None)
    report.elapsed_s = clock() - started
    log.info("refresh: %d fetched, %d with failures, %d requests, %d retries in %.1f s; snapshot %s",
             len(report.fetched), len(report.failed_symbols), report.requests, report.retries,
             report.elapsed_s, report.snapshot_id)
    return report


def _run_lanes(lanes: list[_Lane], stop_requested: Callable[[], bool], abort: threading.Event,
               progress: Progress | None, total: int, clock: Callable[[], float], started: float) -> None:
    """Run every lane's items on its own pool, side by side; commit each result on this thread."""
    pools = {lane.name: ThreadPoolExecutor(max_workers=lane.workers, thread_name_prefix=f"refresh-{lane.name}")
             for lane in lanes}
    done = 0
    interrupted = False
    try:
        while True:
            for lane in lanes:
                reason = lane.stopped()
                while lane.pending and reason:  # no request is sent any more: say so per item
                    lane.skip(lane.pending.pop(), reason)
                # Keep a short queue so a cancel or crash leaves little work in flight.
                while lane.pending and len(lane.running) < 2 * lane.workers and not stop_requested():
                    item = lane.pending.pop()
                    lane.running[pools[lane.name].submit(lane.work, lane.prepare(item))] = item
            running = {future: lane for lane in lanes for future in lane.running}
            if not running:
                break  # all done, or cancelled before anything else was submitted
            finished, _ = wait(running, timeout=0.25, return_when=FIRST_COMPLETED)
            for future in finished:
                lane = running[future]
                del lane.running[future]
                try:
                    outcome = future.result()
                except Cancelled:
                    continue
                text = lane.commit(outcome)
                lane.done += 1
                done += 1
                if progress is not None:
                    eta = max(other.eta(clock() - started) for other in lanes)
                    progress(done, total, text + (f" - about {_duration(eta)} left" if eta and done < total else ""))
    except BaseException:  # a crash or kill: stop the workers, keep what is committed
        interrupted = True
        abort.set()
        for lane in lanes:
            for future in lane.running:
                future.cancel()
            lane.pending.clear()
        raise
    finally:
        if interrupted:  # drop what was queued on every pool first, then wait for the running items
            for pool in pools.values():
                pool.shutdown(wait=False, cancel_futures=True)
        for pool in pools.values():
            pool.shutdown(wait=True)


@dataclass
class _SecLane:
    lane: _Lane
    client: Any
    ciks: dict[str, str]


def _sec_lane(db: Any, settings: SecSettings, members: list[str], max_age: Any,
              stop_requested: Callable[[], bool], report: RefreshReport) -> _SecLane | None:
    """The SEC part's lane (issue #14), or None (with ``report.sec.skipped``) when it cannot start."""
    from desktop.services import sec_refresh

    summary = report.sec = sec_refresh.SecSummary()
    stop = _Connectivity(float("inf"), time.monotonic)  # tripped by a block or an unreachable SEC
    try:
        client = settings.client(is_cancelled=lambda: stop_requested() or stop.offline)
    except DataSourceError as exc:
        summary.skipped = exc.message + (f" {exc.hint}" if exc.hint else "")
        return None
    plan = sec_refresh.plan(db, client, members, sec_refresh.resolve_ages(max_age), summary)
    if summary.skipped:
        return None

    def commit(out: sec_refresh.Outcome) -> str:
        if out.fatal is not None:
            stop.trip(out.fatal)
            summary.stopped = stop.reason
            skip(out.job, out.fatal)
        else:
            sec_refresh.commit(db, out, summary)
        if out.failure is not None:
            report.failures.append(Failure(out.job.symbols[0], f"sec {out.failure[0]}", out.failure[1]))
        return sec_refresh.describe(out)

    def skip(job: sec_refresh.Job, reason: str) -> None:
        kind = "submissions" if job.what == "submissions" else "companyfacts"
        report.failures.append(Failure(job.symbols[0], f"sec {kind}", f"not tried: {reason}"))

    lane = _Lane("sec", list(reversed(plan.jobs)), lambda job: sec_refresh.fetch_job(client, job, lambda: stop.reason or None),
                 commit, skip, lambda: stop.reason, max(1, settings.workers), total=len(plan.jobs))
    return _SecLane(lane, client, plan.ciks)


def _previous_prices(db: Any, source: str, symbol: str) -> dict[str, str]:
    """The cached prices payload of ``symbol`` ({"prices": text}) for an incremental fetch."""
    from desktop.store import rawcache

    with db.read_session() as session:
        entry = rawcache.load_raw(session, source, ["prices"], [symbol]).get((symbol, "prices"))
    if entry is None or entry.status != "ok" or not isinstance(entry.payload, str):
        return {}
    return {"prices": entry.payload}


def _requested_symbols(db: Any, provider: Provider, tickers: Iterable[str] | None) -> list[str]:
    if tickers is not None:
        wanted = [t.strip().upper() for t in tickers if t and t.strip()]
    else:
        from desktop.store import snapshots

        with db.session() as session:
            if snapshots.latest_snapshot_id(session) is None:
                raise InputError("there is no universe to refresh yet",
                                 hint="Import the iShares holdings first, or name --tickers.")
            members = snapshots.load_dataset(session, with_prices=False).members
        wanted = [str(s) for s in members.index]
    seen: set[str] = set()
    ordered = []
    for symbol in [*wanted, *provider.market_symbols]:
        if symbol not in seen:
            seen.add(symbol)
            ordered.append(symbol)
    return ordered


def _commit(db: Any, rawcache: Any, source: str, outcome: _Outcome) -> None:
    """One transaction per ticker: either all of its fetched kinds are stored or none.

    A "no data" answer is remembered too (status ``nodata``), so that the next refresh does not
    ask again before the kind's max age, but never over a usable payload fetched earlier.
    """
    no_data = [f for f in outcome.failures if f.no_data]
    if not outcome.payloads and not no_data:
        return
    with db.session() as session:
        for kind, (payload, fetched_at) in sorted(outcome.payloads.items()):
            rawcache.put_raw(session, source, outcome.symbol, kind, payload, fetched_at)
        if no_data:
            kept = rawcache.load_raw(session, source, [f.kind for f in no_data], [outcome.symbol])
            for failure in no_data:
                entry = kept.get((outcome.symbol, failure.kind))
                if entry is None or entry.status != "ok":
                    rawcache.put_raw(session, source, outcome.symbol, failure.kind, None, _now(),
                                     status="nodata", error=failure.reason)


def _outcome_text(outcome: _Outcome, notes: list[str]) -> str:
    state = "ok" if not outcome.failures else "; ".join(f"{f.kind}: {f.reason}" for f in outcome.failures)
    latest = f" ({notes[-1]})" if notes else ""
    notes.clear()
    return f"{outcome.symbol}: {state}{latest}"


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def _build_snapshot(db: Any, provider: Provider, symbols: list[str], report: RefreshReport,
                    with_sec: bool = False) -> int | None:
    """Parse every cached payload of the requested symbols (and their SEC facts) into a new snapshot."""
    from desktop.data import canonical
    from desktop.services import sec_refresh
    from desktop.store import rawcache, snapshots

    members = [s for s in symbols if s not in provider.market_symbols]
    sec_source = sec_refresh.source_data(db, members) if with_sec else None
    with db.session() as session:
        raw = _raw_entries(rawcache.load_raw(session, provider.source, list(_all_kinds(provider, symbols)),
                                             symbols))
        if not raw and sec_source is None:
            report.warnings.append("nothing is cached for these symbols: no snapshot was made")
            return None
        today = _now().date()
        sources = [provider.to_source_data(raw, as_of=today)] if raw else []
        if sec_source is not None:
            sources.append(sec_source)
        for source_data in sources:
            report.warnings.extend(source_data.warnings)
            report.warnings.extend(f"{s.ticker}: {s.reason}" for s in source_data.skipped)
        previous = snapshots.load_dataset(session) if snapshots.latest_snapshot_id(session) is not None else None
        merged = canonical.MergeReport()
        dataset = canonical.merge(previous, sources, today, report=merged)
        report.warnings.extend(f"identity: {r.sentence()}" for r in merged.rejections)
        report.warnings.extend(merged.warnings)
        report.as_of = dataset.as_of
        report.coverage = _coverage(dataset, members)
        summary = {
            "kind": "refresh",
            "source": provider.source + (" + sec" if sec_source is not None else ""),
            "symbols": len(symbols),
            "fetched": len(report.fetched),
            "fresh": len(report.fresh),
            "failed": sorted(report.failed_symbols),
            "requests": report.requests + (report.sec.requests if report.sec is not None else 0),
        }
        return int(snapshots.save_snapshot(session, dataset, summary))


# Fields whose coverage the summary shows (the ones the screens lean on).
KEY_FIELDS = ("price", "market_cap", "sector", "total_debt", "cash", "ebitda", "operating_cash_flow",
              "free_cash_flow", "levered_free_cash_flow", "interest_expense", "ebit", "reported_debt_to_equity")


def _coverage(dataset: Any, symbols: list[str]) -> dict[str, float]:
    securities = dataset.securities
    rows = securities.index.intersection(symbols)
    if not len(symbols):
        return {}
    return {name: (float(securities.loc[rows, name].notna().sum()) / len(symbols) if name in securities else 0.0)
            for name in KEY_FIELDS}


def export_yahoo_json(db: Any, path: str, symbols: Iterable[str] | None = None) -> int:
    """Write the cached Yahoo ``.info`` payloads as ``{ticker: info}`` (``read_yahoo_json``'s format).

    Returns:
        The number of tickers written.
    """
    from desktop.data.yahoo import SOURCE, write_yahoo_json
    from desktop.store import rawcache

    with db.session() as session:
        entries = _raw_entries(rawcache.load_raw(session, SOURCE, ["info"], list(symbols) if symbols else None))
    infos = {symbol: json.loads(kinds["info"].payload) for symbol, kinds in entries.items()}
    write_yahoo_json(path, infos)
    return len(infos)


def _all_kinds(provider: Provider, symbols: list[str]) -> set[str]:
    return {kind for symbol in symbols for kind in provider.kinds_for(symbol)}


def _raw_entries(entries: Mapping[tuple[str, str], Any]) -> dict[str, dict[str, CachedPayload]]:
    """``rawcache.load_raw``'s ``{(symbol, kind): entry}`` as ``{symbol: {kind: CachedPayload}}`` (usable only)."""
    out: dict[str, dict[str, CachedPayload]] = {}
    for (symbol, kind), entry in entries.items():
        if entry.status != "ok" or entry.payload is None:
            continue
        payload = entry.payload
        if isinstance(payload, bytes):
            payload = payload.decode("utf-8")
        elif not isinstance(payload, str):
            payload = json.dumps(payload)
        out.setdefault(symbol, {})[kind] = CachedPayload(payload, entry.fetched_at)
    return out

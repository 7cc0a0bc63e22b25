"""A thin, polite HTTP client for SEC EDGAR's JSON APIs (issue #14). Fetching only; parsing is in
:mod:`desktop.data.sec_facts`.

The SEC's access rules are part of the feature, so they live here and cannot be switched off:

* at most ``max_rate`` requests per second (default 9; refused above 10, the SEC's published limit),
  shared by every thread through one :class:`~desktop.data.throttle.TokenBucket`;
* a declared User-Agent naming the requester with a contact e-mail (argument ``user_agent`` or the
  ``PICKAXE_SEC_USER_AGENT`` environment variable); without one the client refuses to start;
* ``Accept-Encoding: gzip, deflate`` (requests decodes the body);
* retries with exponential backoff and jitter (tenacity) on 429, 5xx, timeouts, dropped connections
  and the SEC's block page (an HTML page saying the request rate was exceeded or that the request
  comes from an "Undeclared Automated Tool"); a 429 or a block page also pauses the shared bucket so
  no other thread keeps knocking. When the retries are spent, :class:`SecBlockedError` says plainly
  that the SEC blocks a client for about ten minutes and what to check;
* timeouts on connect and read.

Incremental refresh: every :class:`SecResponse` carries the HTTP validators (``ETag``,
``Last-Modified``); pass them back and an unchanged body answers 304 (``not_modified``). The
submissions' ``latest_financial_filing`` (see :func:`sec_facts.parse_submissions`) tells a refresh
which companies filed since their facts were fetched.

Why a thin client rather than edgartools (measured 2026-12-03 with ``pip install --dry-run``):
edgartools 5.62 brings 26 new distributions into this environment, 63 MB of wheels (pyarrow alone
53 MB, plus httpx, pydantic, orjson, rapidfuzz, stamina, pyrate-limiter, Jinja2...), several of them
compiled, each also in the frozen bundle. What Pickaxe needs from it is three GET endpoints with the
SEC's politeness rules, about 200 lines on top of requests (already a dependency through yfinance
and our own), tenacity (a dependency) and the project's token bucket. The concept resolution
(edgartools' ``get_concept``, the most recent fact across synonyms) is the part worth copying, and it
is data here (``resources/sec_concepts.toml``).
"""

from __future__ import annotations

import logging
import os
import re
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import requests
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_random_exponential,
)

from desktop.data.throttle import TokenBucket
from desktop.errors import (
    Cancelled,
    DataSourceError,
    NoDataError,
    RateLimitedError,
    SourceUnreachableError,
)

log = logging.getLogger(__name__)

ENV_USER_AGENT = "PICKAXE_SEC_USER_AGENT"
DEFAULT_MAX_RATE = 9.0  # requests per second: what well-behaved tools use
SEC_MAX_RATE = 10.0  # the SEC's published limit per user; never exceeded
DEFAULT_TIMEOUT = (5.0, 30.0)  # connect, read (seconds)
DEFAULT_ATTEMPTS = 5
BLOCK_PAUSE_S = 10.0  # the bucket pauses this long after a 429 or a block page (all threads)
MAX_BODY_BYTES = 256 * 2**20  # the largest companyfacts bodies are tens of MB

WWW = "https://www.sec.gov"
DATA = "https://data.sec.gov"

_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
# Phrases of the SEC's block page (served with 403 or 200 as text/html in place of the JSON).
_BLOCK_PHRASES = (b"request rate threshold exceeded", b"undeclared automated tool",
                  b"your request has been identified as part of a network of automated tools",
                  b"to allow for equitable access to all users")


class SecBlockedError(RateLimitedError):
    """The SEC refused us (429 or its block page) and kept refusing after the retries."""


def resolve_user_agent(user_agent: str | None = None) -> str:
    """The declared User-Agent: the argument, else ``$PICKAXE_SEC_USER_AGENT``.

    Raises:
        DataSourceError: none given, or it holds no contact e-mail address.
    """
    value = (user_agent if user_agent is not None else os.environ.get(ENV_USER_AGENT, "")).strip()
    if not value:
        raise DataSourceError(
            "The SEC requires every program that downloads from EDGAR to say who is asking, with a "
            "contact e-mail, and blocks requests that do not; no User-Agent is set.",
            hint=f"Pass --user-agent \"Your Name you@example.com\" or set {ENV_USER_AGENT}.")
    if not _EMAIL.search(value):
        raise DataSourceError(
            f"The SEC User-Agent {value[:60]!r} has no contact e-mail address; the SEC requires one "
            "(\"Sample Company Name AdminContact@example.com\").",
            hint=f"Add your e-mail address to --user-agent or {ENV_USER_AGENT}.")
    return value


def check_rate(max_rate: float) -> float:
    """``max_rate`` if it is a polite rate (0 < rate <= 10 requests/s).

    Raises:
        DataSourceError: above the SEC's limit of 10 requests per second, or not positive.
    """
    if not (isinstance(max_rate, int | float) and 0 < max_rate <= SEC_MAX_RATE):
        raise DataSourceError(
            f"{max_rate!r} requests per second is not allowed for the SEC: its limit is "
            f"{SEC_MAX_RATE:g} per second per user and it blocks faster clients for ten minutes.",
            hint=f"Use a rate between 1 and {SEC_MAX_RATE:g} (default {DEFAULT_MAX_RATE:g}).")
    return float(max_rate)


def is_block_page(status: int, content_type: str, body: bytes) -> bool:
    """True for the SEC's "request rate exceeded" / "undeclared automated tool" HTML page."""
    head = body[:20_000].lower()
    looks_html = "html" in content_type.lower() or head.lstrip().startswith((b"<!doctype html", b"<html"))
    return looks_html and any(p in head for p in _BLOCK_PHRASES) and status in (200, 403, 429, 503)


class _Retryable(Exception):
    """A transient answer worth another try (429, 5xx, block page, timeout, dropped connection)."""

    def __init__(self, message: str, *, blocked: bool = False, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.blocked = blocked
        self.retry_after = retry_after


@dataclass(frozen=True)
class SecResponse:
    """One answer: the decoded body (empty when ``not_modified``) and its HTTP validators."""

    url: str
    status: int
    body: bytes
    etag: str | None = None
    last_modified: str | None = None
    not_modified: bool = False


class SecClient:
    """GETs against EDGAR under the SEC's rules (see the module docstring). Thread-safe.

    Args:
        user_agent: "Name e-mail"; None reads ``$PICKAXE_SEC_USER_AGENT``.
        max_rate: requests per second shared by all threads (<= 10).
        timeout: (connect, read) seconds.
        attempts: tries per request, the first included.
        bucket: a shared :class:`TokenBucket` (one is made from ``max_rate`` otherwise).
        www, data: base URLs (tests point them at a local server).
        backoff: (initial, maximum) seconds of the exponential backoff between tries.
        is_cancelled: checked while waiting for the rate limiter and between tries.
    """

    def __init__(self, user_agent: str | None = None, *, max_rate: float = DEFAULT_MAX_RATE,
                 timeout: tuple[float, float] = DEFAULT_TIMEOUT, attempts: int = DEFAULT_ATTEMPTS,
                 bucket: TokenBucket | None = None, www: str = WWW, data: str = DATA,
                 backoff: tuple[float, float] = (1.0, 30.0), block_pause_s: float = BLOCK_PAUSE_S,
                 is_cancelled: Callable[[], bool] | None = None,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.user_agent = resolve_user_agent(user_agent)
        self.max_rate = check_rate(max_rate)
        if bucket is not None and bucket.rate > SEC_MAX_RATE:
            check_rate(bucket.rate)
        self.bucket = bucket or TokenBucket(self.max_rate, capacity=1.0)
        self.timeout = timeout
        self.attempts = max(1, int(attempts))
        self.www = www.rstrip("/")
        self.data = data.rstrip("/")
        self.backoff = backoff
        self.block_pause_s = block_pause_s
        self.is_cancelled = is_cancelled
        self._sleep_fn = sleep
        self.requests_sent = 0
        self._local = threading.local()
        self._count_lock = threading.Lock()

    # -- endpoints -------------------------------------------------------------------------------

    def company_tickers(self, exchange: bool = False, etag: str | None = None,
                        last_modified: str | None = None) -> SecResponse:
        """``/files/company_tickers.json`` (or the ``_exchange`` variant with exchanges)."""
        name = "company_tickers_exchange.json" if exchange else "company_tickers.json"
        return self.get(f"{self.www}/files/{name}", etag=etag, last_modified=last_modified,
                        what="the SEC's ticker map")

    def companyfacts(self, cik: str, etag: str | None = None, last_modified: str | None = None) -> SecResponse:
        """``/api/xbrl/companyfacts/CIK##########.json``; NoDataError when the SEC has none."""
        return self.get(f"{self.data}/api/xbrl/companyfacts/CIK{cik}.json", etag=etag, last_modified=last_modified,
                        what=f"company facts for CIK {cik}")

    def submissions(self, cik: str, etag: str | None = None, last_modified: str | None = None) -> SecResponse:
        """``/submissions/CIK##########.json`` (name, SIC, former names, filing index)."""
        return self.get(f"{self.data}/submissions/CIK{cik}.json", etag=etag, last_modified=last_modified,
                        what=f"filings of CIK {cik}")

    # -- one GET with the rules ------------------------------------------------------------------

    def _session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:  # requests.Session is not documented thread-safe: one per thread
            session = requests.Session()
            session.headers.update({"User-Agent": self.user_agent, "Accept-Encoding": "gzip, deflate",
                                    "Accept": "application/json"})
            self._local.session = session
        return session

    def get(self, url: str, *, etag: str | None = None, last_modified: str | None = None,
            what: str = "") -> SecResponse:
        """GET ``url`` with rate limiting, retries and the block-page check.

        Raises:
            NoDataError: 404 (the SEC's XML "NoSuchKey" body).
            SecBlockedError: still 429 or blocked after the retries.
            SourceUnreachableError: no connection or timeouts after the retries.
            DataSourceError: any other refusal.
            Cancelled: ``is_cancelled()`` turned true.
        """
        headers = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        retrying = Retrying(
            stop=stop_after_attempt(self.attempts),
            wait=self._wait,
            retry=retry_if_exception_type(_Retryable),
            sleep=self._sleep,
            reraise=True,
        )
        try:
            for attempt in retrying:
                with attempt:
                    return self._once(url, headers, what or url)
        except _Retryable as exc:
            if exc.blocked:
                raise SecBlockedError(
                    f"The SEC is refusing requests from this computer ({exc}). It blocks a client that "
                    "exceeds 10 requests per second or does not declare itself, for about ten minutes.",
                    retry_after=600.0,
                    hint="Wait ten minutes, check that the User-Agent names you with your e-mail, and "
                         "lower the request rate if this repeats.") from None
            raise SourceUnreachableError(f"SEC EDGAR did not answer {what or url}: {exc}",
                                         hint="Check the network connection and try again.") from None
        raise AssertionError("unreachable")  # pragma: no cover - Retrying either returns or raises

    def _wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome is not None else None
        backoff = wait_random_exponential(multiplier=self.backoff[0], max=self.backoff[1])(state)
        if isinstance(exc, _Retryable) and exc.retry_after is not None:
            return max(min(exc.retry_after, self.backoff[1]), backoff)
        return backoff

    def _sleep(self, seconds: float) -> None:
        # Sleep in slices so that a cancel is honoured while backing off.
        remaining = seconds
        while remaining > 0:
            if self.is_cancelled is not None and self.is_cancelled():
                raise Cancelled()
            step = min(remaining, 0.25)
            self._sleep_fn(step)
            remaining -= step

    def _once(self, url: str, headers: dict[str, str], what: str) -> SecResponse:
        self.bucket.acquire(1.0, self.is_cancelled)
        with self._count_lock:
            self.requests_sent += 1
        try:
            resp = self._session().get(url, headers=headers, timeout=self.timeout, stream=True)
        except requests.Timeout as exc:
            raise _Retryable(f"timed out ({type(exc).__name__})") from None
        except requests.ConnectionError as exc:
            raise _Retryable(f"connection failed ({str(exc)[:120]})") from None
        except requests.RequestException as exc:
            raise DataSourceError(f"SEC EDGAR request for {what} failed: {str(exc)[:160]}") from None
        try:
            body = self._read(resp)
        except requests.RequestException as exc:  # timeout or drop while reading the body
            raise _Retryable(f"the answer was cut off ({type(exc).__name__})") from None
        finally:
            resp.close()
        status = resp.status_code
        ctype = resp.headers.get("Content-Type", "")
        if is_block_page(status, ctype, body):
            self.bucket.pause(self.block_pause_s)
            log.warning("SEC block page for %s (HTTP %s); pausing %.0f s", url, status, self.block_pause_s)
            raise _Retryable(f"HTTP {status}, block page", blocked=True, retry_after=self.block_pause_s)
        if status == 429:
            retry_after = _retry_after(resp.headers.get("Retry-After"))
            self.bucket.pause(retry_after if retry_after is not None else self.block_pause_s)
            raise _Retryable("HTTP 429 Too Many Requests", blocked=True, retry_after=retry_after)
        if status >= 500:
            raise _Retryable(f"HTTP {status}")
        if status == 304:
            return SecResponse(url, status, b"", resp.headers.get("ETag"), resp.headers.get("Last-Modified"), True)
        if status == 404:
            raise NoDataError(f"SEC EDGAR has no {what} (HTTP 404)",
                              hint="Check the CIK; a company that never filed XBRL statements has no facts.")
        if status != 200:
            raise DataSourceError(f"SEC EDGAR refused {what}: HTTP {status}")
        if "html" in ctype.lower():
            raise DataSourceError(f"SEC EDGAR answered {what} with a web page instead of JSON")
        return SecResponse(url, status, body, resp.headers.get("ETag"), resp.headers.get("Last-Modified"))

    @staticmethod
    def _read(resp: requests.Response) -> bytes:
        chunks = []
        size = 0
        for chunk in resp.iter_content(chunk_size=1 << 16):
            size += len(chunk)
            if size > MAX_BODY_BYTES:
                raise DataSourceError(f"SEC EDGAR sent more than {MAX_BODY_BYTES >> 20} MB for {resp.url}")
            chunks.append(chunk)
        return b"".join(chunks)


def _retry_after(value: str | None) -> float | None:
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:
        return None  # an HTTP date: fall back to the pause


@dataclass
class FetchResult:
    """One company's fetch: the bodies (None when unchanged or failed) and what went wrong."""

    symbol: str
    cik: str
    facts: SecResponse | None = None
    submissions: SecResponse | None = None
    error: str | None = None


def fetch_companies(client: SecClient, ciks: dict[str, str], *, workers: int = 4,
                    with_submissions: bool = True, validators: dict[str, dict[str, Any]] | None = None,
                    progress: Callable[[int, int], None] | None = None,
                    is_cancelled: Callable[[], bool] | None = None,
                    on_result: Callable[[FetchResult], None] | None = None) -> list[FetchResult]:
    """Fetch companyfacts (and submissions) for ``{symbol: cik}`` with a small thread pool.

    The pool only hides latency: every request still takes a token from the client's shared
    bucket, so the rate never exceeds ``client.max_rate`` whatever ``workers`` is. A company's
    NoDataError (404) is recorded in its result; a block or an unreachable SEC stops everything.

    ``validators`` maps a CIK to ``{"facts": (etag, last_modified), "submissions": (...)}`` from a
    previous fetch: unchanged bodies come back ``not_modified``. ``on_result`` is called in the worker
    thread as each company arrives (parse there: the workers mostly wait for the rate limiter).
    """
    items = sorted(ciks.items())
    results: list[FetchResult] = []

    def one(symbol: str, cik: str) -> FetchResult:
        if is_cancelled is not None and is_cancelled():
            raise Cancelled()
        result = FetchResult(symbol, cik)
        known = (validators or {}).get(cik, {})
        try:
            result.facts = client.companyfacts(cik, *known.get("facts", (None, None)))
            if with_submissions:
                result.submissions = client.submissions(cik, *known.get("submissions", (None, None)))
        except NoDataError as exc:
            result.error = str(exc)
        if on_result is not None:
            on_result(result)
        return result

    with ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="sec") as pool:
        futures = [pool.submit(one, s, c) for s, c in items]
        try:
            for future in futures:
                results.append(future.result())
                if progress is not None:
                    progress(len(results), len(items))
        except BaseException:
            for f in futures:
                f.cancel()
            raise
    return results

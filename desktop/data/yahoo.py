"""Yahoo Finance: the online provider (through yfinance) and the offline ``{ticker: info}`` JSON files.

Split as fetch -> raw payload -> parse (issue #3):

* :class:`YahooProvider` fetches one ``kind`` for one symbol and returns the raw payload as JSON
  text: ``info`` (yfinance ``Ticker.info``), ``statements`` (annual and quarterly income statement,
  cash flow and balance sheet as ``{row: {period_end: value}}``) or ``prices`` (daily adjusted
  closes). The refresh service keeps these payloads in the raw cache so that they can be parsed
  again, and exported, without asking Yahoo a second time. yfinance, requests and curl_cffi
  exceptions never leave this module: they become :class:`SourceUnreachableError`,
  :class:`RateLimitedError` or :class:`NoDataError`.
* :func:`parse_raw` turns cached payloads into one :class:`SourceData`; :func:`read_yahoo_json`
  reads a ``{ticker: info-dict}`` file (or its ``{ticker: {"sector", "industry"}}`` companion) and
  :func:`write_yahoo_json` writes the first format.

Units: Yahoo's ``debtToEquity`` is a percent (48.5 -> 0.485); ``.info`` ``freeCashflow`` is
*levered* free cash flow (field ``levered_free_cash_flow``) while the statement row
``Free Cash Flow`` is operating cash flow + capex (field ``free_cash_flow``); ``.info`` has no
interest expense, so it comes from the income statement.
"""

from __future__ import annotations

import functools
import json
import logging
import math
import os
import re
import socket
import tempfile
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from desktop.data._text import read_bytes
from desktop.data.source import SkippedRow, SourceData
from desktop.engine import dataset as ds
from desktop.errors import (
    DataSourceError,
    InputError,
    NoDataError,
    RateLimitedError,
    SourceUnreachableError,
)

log = logging.getLogger(__name__)

SOURCE = "yahoo"
ENDPOINT = "https://query2.finance.yahoo.com"
KINDS = ("info", "statements", "prices")
# Market series fetched with the members: Yahoo symbol -> Dataset.market column.
MARKET_SYMBOLS: dict[str, str] = {"^TNX": "yield_10y", "IWM": "IWM", "SPY": "SPY"}
# HTTP requests one fetch makes (info: quoteSummary + v7 quote + one timeseries; statements: one
# timeseries per statement and frequency; prices: time zone + chart), so that a throttle can
# count requests, not calls.
REQUEST_COST: dict[str, int] = {"info": 3, "statements": 6, "prices": 2}
STATEMENT_PARTS = (
    "income_annual", "income_quarterly", "cashflow_annual", "cashflow_quarterly",
    "balance_annual", "balance_quarterly",
)
DEFAULT_RATE_LIMIT_COOLDOWN_S = 30.0
# Incremental prices (issue #14): a cached series is topped up from a few days before its last day;
# the overlap must agree, else a dividend or split re-based the adjusted closes and the whole
# period is fetched again.
PRICE_OVERLAP_DAYS = 7
ADJUSTED_TOLERANCE = 1e-5  # relative; a re-basing by a dividend of even 0.01 % is ten times larger
# The host yfinance asks first; the refresh probes it once before fetching (issue #13).
PROBE_ADDRESS = ("query1.finance.yahoo.com", 443)
DEFAULT_PROBE_TIMEOUT_S = 5.0
# No listed company is worth a quadrillion dollars: larger magnitudes are corrupt input.
MAX_ABS_VALUE = 1e15

# ``.info`` key -> (catalogue field, period, scale). Order matters only for first-wins fallbacks.
INFO_NUMERIC: tuple[tuple[str, str, str, float], ...] = (
    ("currentPrice", "price", "point", 1.0),
    ("regularMarketPrice", "price", "point", 1.0),
    ("marketCap", "market_cap", "point", 1.0),
    ("enterpriseValue", "enterprise_value", "point", 1.0),
    ("sharesOutstanding", "shares_outstanding", "point", 1.0),
    ("beta", "beta", "point", 1.0),
    ("totalRevenue", "revenue", "TTM", 1.0),
    ("ebitda", "ebitda", "TTM", 1.0),
    ("netIncomeToCommon", "net_income", "TTM", 1.0),
    ("operatingCashflow", "operating_cash_flow", "TTM", 1.0),
    ("freeCashflow", "levered_free_cash_flow", "TTM", 1.0),
    ("totalDebt", "total_debt", "MRQ", 1.0),
    ("totalCash", "cash", "MRQ", 1.0),
    ("currentRatio", "current_ratio", "MRQ", 1.0),
    ("quickRatio", "quick_ratio", "MRQ", 1.0),
    ("debtToEquity", "reported_debt_to_equity", "MRQ", 0.01),  # Yahoo gives a percent
    # Issue #16: ratios and estimates (fractions as Yahoo gives them: 0.41 is 41 %)
    ("grossMargins", "reported_gross_margin", "TTM", 1.0),
    ("operatingMargins", "reported_operating_margin", "TTM", 1.0),
    ("profitMargins", "reported_net_margin", "TTM", 1.0),
    ("ebitdaMargins", "reported_ebitda_margin", "TTM", 1.0),
    ("returnOnAssets", "reported_roa", "TTM", 1.0),
    ("returnOnEquity", "reported_roe", "TTM", 1.0),
    ("revenueGrowth", "revenue_growth_quarter", "MRQ", 1.0),
    ("earningsGrowth", "earnings_growth_quarter", "MRQ", 1.0),
    ("totalCashPerShare", "cash_per_share", "MRQ", 1.0),
    ("revenuePerShare", "revenue_per_share", "TTM", 1.0),
    ("recommendationMean", "analyst_recommendation", "point", 1.0),
    ("numberOfAnalystOpinions", "analyst_count", "point", 1.0),
    ("targetMeanPrice", "target_price", "point", 1.0),
)
INFO_TEXT: tuple[tuple[str, str], ...] = (
    ("longName", "name"),
    ("shortName", "name"),
    ("sector", "sector"),
    ("industry", "industry"),
    ("longBusinessSummary", "description"),
)
# Yahoo exchange codes -> the catalogue's normalised exchange names.
EXCHANGES = {
    "NMS": "NASDAQ", "NGM": "NASDAQ", "NCM": "NASDAQ", "NAS": "NASDAQ",
    "NYQ": "NYSE", "NYS": "NYSE", "ASE": "NYSE American", "PCX": "NYSE Arca",
}

# Statement rows (yfinance names) -> history/catalogue field; first present row wins.
STATEMENT_ROWS: dict[str, tuple[str, tuple[str, ...]]] = {
    "revenue": ("income", ("Total Revenue", "Operating Revenue")),
    "ebit": ("income", ("EBIT",)),
    "operating_income": ("income", ("Operating Income", "Total Operating Income As Reported")),
    "interest_expense": ("income", ("Interest Expense", "Interest Expense Non Operating")),
    "net_income": ("income", ("Net Income", "Net Income Common Stockholders")),
    "operating_cash_flow": ("cashflow", ("Operating Cash Flow",
                                         "Cash Flow From Continuing Operating Activities")),
    "capital_expenditure": ("cashflow", ("Capital Expenditure",)),
    "free_cash_flow": ("cashflow", ("Free Cash Flow",)),
    "total_debt": ("balance", ("Total Debt",)),
    "current_debt": ("balance", ("Current Debt", "Current Debt And Capital Lease Obligation")),
    "long_term_debt": ("balance", ("Long Term Debt", "Long Term Debt And Capital Lease Obligation")),
    "cash": ("balance", ("Cash Cash Equivalents And Short Term Investments",
                         "Cash And Cash Equivalents")),
    "total_equity": ("balance", ("Stockholders Equity", "Common Stock Equity")),
    "total_assets": ("balance", ("Total Assets",)),
    # Issue #16
    "gross_profit": ("income", ("Gross Profit",)),
    "shares_diluted": ("income", ("Diluted Average Shares",)),
    "dividends_paid": ("cashflow", ("Cash Dividends Paid", "Common Stock Dividend Paid")),
    "net_equity_issuance": ("cashflow", ("Net Common Stock Issuance",)),
    "stock_based_compensation": ("cashflow", ("Stock Based Compensation",)),
}
# Statement fields that .info lacks and so become current observations (flows: the sum of the
# last four quarters).
FLOW_OBSERVATIONS = ("ebit", "operating_income", "interest_expense", "capital_expenditure", "free_cash_flow",
                     "gross_profit", "dividends_paid", "net_equity_issuance", "stock_based_compensation")
BALANCE_OBSERVATIONS = ("current_debt", "long_term_debt", "total_equity", "total_assets")

_SYMBOL_RE = re.compile(r"^\^?[A-Z0-9][A-Z0-9.\-=]{0,19}$")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


# --------------------------------------------------------------------------------------------
# Errors at the boundary


class _Recorder(threading.local):
    """HTTP statuses seen by the current thread's last fetch (yfinance hides some of them)."""

    statuses: list[int]
    failed: int  # requests that got no answer at all (network errors, timeouts)

    def __init__(self) -> None:
        self.statuses = []
        self.failed = 0


_RECORDER = _Recorder()


def _status_of(exc: BaseException) -> int | None:
    response = getattr(exc, "response", None)
    status = getattr(response, "status_code", None)
    return int(status) if isinstance(status, int) else None


def _is_timeout(exc: BaseException) -> bool:
    if isinstance(exc, TimeoutError | socket.timeout):
        return True
    return any(cls.__name__ in {"Timeout", "ReadTimeout", "ConnectTimeout"} for cls in type(exc).__mro__)


def translate_error(exc: BaseException, symbol: str, *, statuses: Iterable[int] = (),
                    cooldown_s: float = DEFAULT_RATE_LIMIT_COOLDOWN_S) -> DataSourceError:
    """Our error for a yfinance / requests / curl_cffi exception raised while fetching ``symbol``.

    Args:
        exc: the library exception.
        symbol: the Yahoo symbol being fetched.
        statuses: HTTP statuses the fetch saw (yfinance swallows some, e.g. a 503 HTML body that
            then fails to parse as JSON).
        cooldown_s: the wait suggested after HTTP 429 when Yahoo gives none.
    """
    if isinstance(exc, DataSourceError):
        return exc
    from yfinance import exceptions as yfe  # imported lazily: yfinance is slow to import

    seen = list(statuses)
    status = _status_of(exc)
    if status is not None:
        seen.append(status)
    if isinstance(exc, yfe.YFRateLimitError) or 429 in seen:
        return RateLimitedError(f"Yahoo Finance rate limited, retrying in {cooldown_s:.0f} s",
                                retry_after=cooldown_s, hint="Lower --max-rate if this persists.")
    if isinstance(exc, yfe.YFTickerMissingError | yfe.YFInvalidPeriodError) or status == 404:
        return NoDataError(f"no data for symbol {symbol} (Yahoo Finance knows no such listing; "
                           "possibly delisted or renamed)")
    if _is_timeout(exc):
        return SourceUnreachableError(f"Yahoo Finance unreachable: the request for {symbol} timed out",
                                      hint="Check the internet connection.")
    server_errors = [s for s in seen if s >= 500]
    if server_errors:
        return SourceUnreachableError(f"Yahoo Finance unreachable: HTTP {server_errors[-1]} for {symbol}")
    if status is not None:
        return SourceUnreachableError(f"Yahoo Finance unreachable: HTTP {status} for {symbol}",
                                      hint="Yahoo may be refusing anonymous requests; try later.")
    if isinstance(exc, json.JSONDecodeError):  # before OSError: requests' own JSON error is both
        return DataSourceError(f"Yahoo Finance sent an answer for {symbol} that is not JSON "
                               "(perhaps a login or consent page)", hint="Try again later.")
    if isinstance(exc, OSError):  # requests and curl_cffi errors are OSErrors
        return SourceUnreachableError(f"Yahoo Finance unreachable: {type(exc).__name__} for {symbol}",
                                      hint="Check the internet connection.")
    if isinstance(exc, ValueError | KeyError | TypeError | IndexError | yfe.YFException):
        return DataSourceError(f"Yahoo Finance sent an answer for {symbol} that could not be read "
                               f"({type(exc).__name__}: {str(exc)[:120]})")
    raise exc  # a bug, not the environment: let it surface with its traceback


def _instrument(session: Any) -> None:
    """Record every HTTP status on the calling thread (works for requests and curl_cffi)."""
    if getattr(session, "_pickaxe_recording", False):
        return
    original = session.request

    def request(*args: Any, **kwargs: Any) -> Any:
        try:
            response = original(*args, **kwargs)
        except Exception:
            _RECORDER.failed += 1
            raise
        status = getattr(response, "status_code", None)
        if isinstance(status, int):
            _RECORDER.statuses.append(status)
        return response

    session.request = request
    session._pickaxe_recording = True


# --------------------------------------------------------------------------------------------
# The provider


@dataclass(frozen=True)
class CachedPayload:
    """One cached payload: the JSON text a fetch returned and when it was fetched (naive UTC)."""

    payload: str
    fetched_at: datetime


class YahooProvider:
    """Fetches raw Yahoo payloads through yfinance, one (symbol, kind) at a time. Thread-safe.

    Args:
        session: a ``requests.Session`` or ``curl_cffi`` session for yfinance; None lets yfinance
            make its own (curl_cffi with browser impersonation). Tests pass a session whose
            transport answers from recorded bodies or from a server on 127.0.0.1.
        price_period: history fetched for daily prices (yfinance period string).
        cooldown_s: wait suggested after HTTP 429.
        cache_dir: where yfinance keeps its time-zone/cookie cache (default: our cache folder).
    """

    source = SOURCE
    kinds = KINDS
    request_cost = REQUEST_COST
    market_symbols = MARKET_SYMBOLS

    def __init__(self, session: Any = None, *, price_period: str = "5y",
                 cooldown_s: float = DEFAULT_RATE_LIMIT_COOLDOWN_S, cache_dir: Path | None = None,
                 probe_address: tuple[str, int] | None = None) -> None:
        import yfinance as yf

        from desktop import paths

        # Surface yfinance's errors instead of its default log-and-return-empty, so that they
        # can be translated here.
        yf.config.debug.hide_exceptions = False
        yf.set_tz_cache_location(str(cache_dir or (paths.cache_dir() / "yfinance")))
        # A session passed in (tests replaying bodies, a caller's own transport) is not probed
        # unless a probe address is given too: the probe checks the real network path.
        self._probe_network = session is None or probe_address is not None
        if session is None:
            from yfinance._http import new_session

            session = new_session()
        _instrument(session)
        self._session = session
        self._yf = yf
        self.price_period = price_period
        self.cooldown_s = cooldown_s
        self.probe_address = probe_address

    def probe(self, timeout: float = DEFAULT_PROBE_TIMEOUT_S) -> None:
        """One TCP connection to Yahoo (or to the HTTPS proxy in use), so an offline refresh fails
        in seconds instead of retrying every request (issue #13: 100 s for one ticker).

        Raises:
            SourceUnreachableError: no DNS answer, connection refused or no answer within ``timeout``.

        A provider made with its own ``session`` and no ``probe_address`` is not probed.
        """
        if not self._probe_network:
            return
        host, port = self.probe_address or _proxy_address() or PROBE_ADDRESS
        try:
            with socket.create_connection((host, port), timeout=timeout):
                return
        except TimeoutError:
            reason = f"no answer from {host} within {timeout:g} s"
        except socket.gaierror:
            reason = f"cannot resolve {host} (no DNS)"
        except OSError as exc:
            reason = f"cannot connect to {host}:{port} ({exc.strerror or type(exc).__name__})"
        raise SourceUnreachableError(f"Yahoo Finance is unreachable: {reason}",
                                     hint="Check the internet connection, or import saved files instead.")

    def kinds_for(self, symbol: str) -> tuple[str, ...]:
        """Which kinds a symbol has: market series (^TNX, IWM, SPY) have prices only."""
        return ("prices",) if symbol in MARKET_SYMBOLS else KINDS

    def fetch(self, symbol: str, kind: str) -> str:
        """Fetch one kind for one symbol; returns the raw payload as JSON text.

        Raises:
            RateLimitedError: Yahoo answered HTTP 429.
            SourceUnreachableError: network error, timeout or HTTP 5xx.
            NoDataError: Yahoo has nothing for this symbol.
            DataSourceError: Yahoo answered something unreadable.
        """
        if kind not in KINDS:
            raise ValueError(f"unknown kind {kind!r}")
        _RECORDER.statuses = []
        _RECORDER.failed = 0
        return self._fetch(kind, symbol)

    def _fetch(self, kind: str, symbol: str, start: date | None = None) -> str:
        from yfinance.data import YfData

        # yfinance memoises GET responses by URL, errors included; a retry must really ask again.
        YfData.cache_get.cache_clear()
        try:
            ticker = self._yf.Ticker(symbol, session=self._session)
            if kind == "info":
                payload = _info_payload(symbol, ticker.info)
            elif kind == "statements":
                payload = _statements_payload(symbol, ticker)
            elif start is not None:  # the days since ``start`` only (fetch_update)
                payload = _prices_payload(symbol, ticker.history(start=start.isoformat(), interval="1d",
                                                                 auto_adjust=True, timeout=20))
            else:
                payload = _prices_payload(symbol, ticker.history(period=self.price_period, interval="1d",
                                                                 auto_adjust=True, timeout=20))
        except Exception as exc:  # noqa: BLE001 - translated; unknown exceptions are re-raised
            translated = translate_error(exc, symbol, statuses=_RECORDER.statuses, cooldown_s=self.cooldown_s)
            log.debug("yahoo %s %s: %s: %s (HTTP %s) -> %s", symbol, kind, type(exc).__name__, exc,
                      _RECORDER.statuses, type(translated).__name__)
            raise translated from exc
        return payload

    def fetch_update(self, symbol: str, kind: str, previous: str) -> str:
        """Like :meth:`fetch`, given the cached payload of the same kind: prices fetch only the days
        after the cached ones (plus an overlap that must agree) and return the merged series.

        Raises:
            the errors of :meth:`fetch`.
        """
        if kind != "prices":
            return self.fetch(symbol, kind)
        try:
            closes = json.loads(previous).get("close") or {}
            last = max(closes) if isinstance(closes, dict) and closes else None
            start = date.fromisoformat(last) - timedelta(days=PRICE_OVERLAP_DAYS) if last else None
        except (ValueError, TypeError, AttributeError):
            start = None
        if start is None:
            return self.fetch(symbol, kind)
        _RECORDER.statuses = []
        _RECORDER.failed = 0
        recent = json.loads(self._fetch("prices", symbol, start=start))["close"]
        if not _overlap_agrees(closes, recent):
            log.info("yahoo %s: adjusted closes changed (dividend or split): fetching the whole period", symbol)
            return self._fetch("prices", symbol)  # requests_made() counts both fetches
        merged = {**{d: v for d, v in closes.items() if d < min(recent)}, **recent}
        return json.dumps({"interval": "1d", "adjusted": True, "close": dict(sorted(merged.items()))},
                          sort_keys=True)

    def requests_made(self) -> int:
        """HTTP requests the calling thread's last :meth:`fetch` really sent (yfinance may send more
        than ``request_cost`` says: cookie and crumb, chunked fallbacks), so a throttle can charge them."""
        return len(_RECORDER.statuses) + _RECORDER.failed

    def to_source_data(self, raw: Mapping[str, Mapping[str, CachedPayload]], as_of: date | None = None) -> SourceData:
        """Parse cached payloads (see :func:`parse_raw`)."""
        return parse_raw(raw, as_of=as_of)


def _overlap_agrees(old: Mapping[str, Any], new: Mapping[str, Any]) -> bool:
    """The days both series have carry the same adjusted close (within ADJUSTED_TOLERANCE)."""
    common = [d for d in new if d in old]
    if not common:
        return False  # no overlap: the cached series cannot be checked, so it is not extended
    for day in common:
        a, b = old[day], new[day]
        if not (isinstance(a, int | float) and isinstance(b, int | float)) or abs(b - a) > ADJUSTED_TOLERANCE * abs(a):
            return False
    return True


def _proxy_address() -> tuple[str, int] | None:
    """The HTTPS proxy requests would use (``HTTPS_PROXY``), as (host, port); None when direct."""
    import urllib.parse
    import urllib.request

    proxy = urllib.request.getproxies().get("https")
    if not proxy or urllib.request.proxy_bypass(PROBE_ADDRESS[0]):
        return None
    parsed = urllib.parse.urlsplit(proxy if "://" in proxy else f"http://{proxy}")
    if not parsed.hostname:
        return None
    try:
        port = parsed.port
    except ValueError:
        port = None
    return parsed.hostname, port or (443 if parsed.scheme == "https" else 80)


def _info_payload(symbol: str, info: Any) -> str:
    if not isinstance(info, Mapping) or not info:
        raise NoDataError(f"no data for symbol {symbol} (Yahoo Finance returned an empty profile)")
    # A bare {"trailingPegRatio": None} (or similar) is what yfinance returns for an unknown symbol.
    if not any(k in info for k in ("quoteType", "longName", "shortName", "currentPrice", "marketCap")):
        raise NoDataError(f"no data for symbol {symbol}")
    return json.dumps(_jsonable(dict(info)), sort_keys=True)


def _statements_payload(symbol: str, ticker: Any) -> str:
    from yfinance import exceptions as yfe

    frames: dict[str, Any] = {}
    getters: dict[str, Callable[[], Any]] = {
        "income_annual": lambda: ticker.income_stmt,
        "income_quarterly": lambda: ticker.quarterly_income_stmt,
        "cashflow_annual": lambda: ticker.cashflow,
        "cashflow_quarterly": lambda: ticker.quarterly_cashflow,
        "balance_annual": lambda: ticker.balance_sheet,
        "balance_quarterly": lambda: ticker.quarterly_balance_sheet,
    }
    for part, get in getters.items():
        try:
            frame = get()
        except yfe.YFException as exc:
            # An empty timeseries answer means "no such statement" (funds, new listings), unless
            # the answer was an HTTP error, which translate_error then reports.
            if "Empty fundamentals-timeseries" not in str(exc) or any(s >= 400 for s in _RECORDER.statuses):
                raise
            frame = None
        frames[part] = frame_to_dict(frame)
    if not any(frames.values()):
        raise NoDataError(f"no data for symbol {symbol} (Yahoo Finance has no financial statements)")
    return json.dumps(frames, sort_keys=True)


def _prices_payload(symbol: str, history: Any) -> str:
    if not isinstance(history, pd.DataFrame) or history.empty or "Close" not in history:
        raise NoDataError(f"no data for symbol {symbol} (no daily prices)")
    close = pd.to_numeric(history["Close"], errors="coerce")
    index = pd.DatetimeIndex(history.index)
    days = [ts.strftime("%Y-%m-%d") for ts in index]
    closes = {d: _finite_or_none(v) for d, v in zip(days, close.to_numpy(), strict=True)}
    payload: dict[str, Any] = {"interval": "1d", "adjusted": True, "close": closes}
    if "Volume" in history:  # issue #16: liquidity from the daily volumes
        volume = pd.to_numeric(history["Volume"], errors="coerce").to_numpy(dtype="float64")
        payload["volume"] = {d: _finite_or_none(v) for d, v in zip(days, volume, strict=True)}
    return json.dumps(payload, sort_keys=True)


def frame_to_dict(frame: Any) -> dict[str, dict[str, float | None]]:
    """A yfinance statement frame (rows x period-end columns) as ``{row: {"YYYY-MM-DD": value}}``."""
    if not isinstance(frame, pd.DataFrame) or frame.empty:
        return {}
    out: dict[str, dict[str, float | None]] = {}
    columns = [pd.Timestamp(c).strftime("%Y-%m-%d") for c in frame.columns]
    for row, values in frame.iterrows():
        numbers = pd.to_numeric(values, errors="coerce").to_numpy(dtype="float64")
        cells = {c: _finite_or_none(v) for c, v in zip(columns, numbers, strict=True)}
        if any(v is not None for v in cells.values()):
            out[str(row)] = cells
    return out


def _finite_or_none(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _jsonable(value: Any) -> Any:
    """Plain JSON types; non-finite floats become None (JSON has no NaN)."""
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return _finite_or_none(value)
    if isinstance(value, pd.Timestamp | datetime | date):
        return value.isoformat()
    return str(value)


# --------------------------------------------------------------------------------------------
# Parsing payloads into observations


class _Collector:
    """Observation rows plus warnings, aggregated so a file with thousands of bad cells says so once."""

    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []
        self.problems: dict[str, list[str]] = {}

    def problem(self, kind: str, where: str) -> None:
        self.problems.setdefault(kind, []).append(where)

    def add(self, symbol: str, field: str, *, num: float = math.nan, text: str | None = None,
            period: str, as_of: Any = pd.NaT, derived: bool = False) -> None:
        self.rows.append({"symbol": symbol, "field": field, "value_num": num, "value_text": text,
                          "period": period, "derived": derived, "as_of": as_of})

    def frame(self) -> pd.DataFrame:
        rows = self.rows

        def column(name: str, dtype: str) -> pd.Series:
            # Built column by column: pandas 3 would infer a string dtype (NaN for None) for text.
            return pd.Series([r[name] for r in rows], dtype=dtype)

        return pd.DataFrame({
            "symbol": column("symbol", "object"),
            "field": column("field", "object"),
            "value_num": column("value_num", "float64"),
            "value_text": column("value_text", "object"),
            "period": column("period", "object"),
            "derived": column("derived", "bool"),
            "as_of": pd.to_datetime(pd.Series([r["as_of"] for r in rows], dtype="object")),
        })

    def warnings(self) -> list[str]:
        messages = {
            "non-finite": "values that are not finite numbers (NaN/inf) were treated as missing",
            "huge": f"values larger than {MAX_ABS_VALUE:.0e} in magnitude were treated as missing",
            "not-number": "values that are not numbers were treated as missing",
            "formula": "text values that start like a spreadsheet formula were kept as plain text",
            "not-text": "text fields that are not strings were treated as missing",
        }
        out = []
        for kind, where in self.problems.items():
            sample = ", ".join(where[:5]) + (", ..." if len(where) > 5 else "")
            out.append(f"{len(where)} {messages[kind]}: {sample}")
        return out


def _number(value: Any, where: str, out: _Collector) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        out.problem("not-number", where)
        return None
    try:
        number = float(value)
    except OverflowError:  # an integer too large for a float
        out.problem("huge", where)
        return None
    if not math.isfinite(number):
        out.problem("non-finite", where)
        return None
    if abs(number) > MAX_ABS_VALUE:
        out.problem("huge", where)
        return None
    return number


def _text(value: Any, where: str, out: _Collector) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        out.problem("not-text", where)
        return None
    text = value.replace("\xa0", " ").strip()
    if text.startswith(_FORMULA_START):
        out.problem("formula", where)
    return text or None


def parse_info(symbol: str, info: Mapping[str, Any], out: _Collector, as_of: Any = pd.NaT) -> None:
    """Add the catalogue fields found in one ``.info`` dict to ``out``."""
    done: set[str] = set()
    for key, field, period, scale in INFO_NUMERIC:
        if field in done or key not in info:
            continue
        number = _number(info[key], f"{symbol}.{key}", out)
        if number is not None:
            out.add(symbol, field, num=number * scale, period=period, as_of=as_of)
            done.add(field)
    for key, field in INFO_TEXT:
        if field in done or key not in info:
            continue
        text = _text(info[key], f"{symbol}.{key}", out)
        if text is not None:
            out.add(symbol, field, text=text, period="static", as_of=as_of)
            done.add(field)
    code = info.get("exchange")
    if isinstance(code, str) and code in EXCHANGES:
        out.add(symbol, "exchange", text=EXCHANGES[code], period="static", as_of=as_of)
    first_ms = info.get("firstTradeDateMilliseconds")
    if isinstance(first_ms, int) and not isinstance(first_ms, bool) and 0 < first_ms < 4e12:
        day = datetime.fromtimestamp(first_ms / 1000, tz=UTC).date().isoformat()
        out.add(symbol, "listing_date", text=day, period="static", as_of=as_of)


# Statement payloads are parsed on plain dicts keyed by ISO dates (which sort as dates): building
# DataFrames per statement costs ~50 ms a ticker, minutes for the whole universe.
Row = dict[str, float]


def _row(part: Any, names: tuple[str, ...], symbol: str, out: _Collector) -> Row | None:
    """The first present row among ``names``: ``{"YYYY-MM-DD": value}`` with usable values only."""
    if not isinstance(part, Mapping):
        return None
    for name in names:
        cells = part.get(name)
        if isinstance(cells, Mapping):
            row: Row = {}
            for day, value in cells.items():
                number = _number(value, f"{symbol}.{name}", out) if value is not None else None
                if number is not None and isinstance(day, str) and _ISO_DAY.match(day):
                    row[day] = number
            return row
    return None


_ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def parse_statements(symbol: str, parts: Mapping[str, Any], out: _Collector) -> list[dict[str, Any]]:
    """History records (one per fiscal year, ``dataset.HISTORY_COLUMNS``) from a statements payload;
    current values (trailing twelve months, latest quarter or fiscal year) go to ``out``."""
    annual: dict[str, dict[str, float]] = {}
    for field, (statement, names) in STATEMENT_ROWS.items():
        row = _row(parts.get(f"{statement}_annual"), names, symbol, out)
        for day, value in (row or {}).items():
            annual.setdefault(day, {})[field] = value
    records = []
    for day in sorted(annual):
        period_end = pd.Timestamp(day)
        records.append({"symbol": symbol, "fiscal_year": int(period_end.year), "period_end": period_end,
                        "source": SOURCE, **annual[day]})

    for field in FLOW_OBSERVATIONS:
        statement, names = STATEMENT_ROWS[field]
        ttm = _trailing_sum(_row(parts.get(f"{statement}_quarterly"), names, symbol, _Collector()))
        if ttm is not None:
            out.add(symbol, field, num=ttm[0], period="TTM", as_of=pd.Timestamp(ttm[1]), derived=True)
            continue
        latest = _latest(_row(parts.get(f"{statement}_annual"), names, symbol, _Collector()))
        if latest is not None:
            out.add(symbol, field, num=latest[0], period="FY", as_of=pd.Timestamp(latest[1]))
    for field in BALANCE_OBSERVATIONS:
        _, names = STATEMENT_ROWS[field]
        quarterly = _latest(_row(parts.get("balance_quarterly"), names, symbol, _Collector()))
        annual_latest = _latest(_row(parts.get("balance_annual"), names, symbol, _Collector()))
        if quarterly is not None and (annual_latest is None or quarterly[1] >= annual_latest[1]):
            out.add(symbol, field, num=quarterly[0], period="MRQ", as_of=pd.Timestamp(quarterly[1]))
        elif annual_latest is not None:
            out.add(symbol, field, num=annual_latest[0], period="FY", as_of=pd.Timestamp(annual_latest[1]))
    return records


def _latest(row: Row | None) -> tuple[float, str] | None:
    if not row:
        return None
    newest = max(row)
    return row[newest], newest


def _trailing_sum(row: Row | None) -> tuple[float, str] | None:
    """Sum of the four latest quarters, only when they are present and consecutive."""
    if not row or len(row) < 4:
        return None
    days = sorted(row, reverse=True)[:4]
    ends = [date.fromisoformat(d) for d in days]
    if not all(80 <= (a - b).days <= 100 for a, b in zip(ends, ends[1:], strict=False)):
        return None
    total = math.fsum(row[d] for d in days)
    if abs(total) > MAX_ABS_VALUE:
        return None
    return total, days[0]


def parse_prices(symbol: str, payload: Mapping[str, Any]) -> pd.Series:
    """Daily closes of a prices payload as a float Series on a DatetimeIndex named ``date``."""
    closes = payload.get("close") or {}
    if not isinstance(closes, Mapping):
        raise ValueError("'close' is not an object")
    values = np.fromiter((v if type(v) in (float, int) else math.nan for v in closes.values()),
                         dtype="float64", count=len(closes))
    series = pd.Series(values, index=_day_index(tuple(closes)), name=symbol)
    return series[np.isfinite(values) & (values > 0)].sort_index()


def parse_volumes(symbol: str, payload: Mapping[str, Any]) -> pd.Series | None:
    """Daily volumes of a prices payload (None when it has none: payloads cached before issue #16)."""
    volumes = payload.get("volume")
    if volumes is None:
        return None
    if not isinstance(volumes, Mapping):
        raise ValueError("'volume' is not an object")
    values = np.fromiter((v if type(v) in (float, int) else math.nan for v in volumes.values()),
                         dtype="float64", count=len(volumes))
    series = pd.Series(values, index=_day_index(tuple(volumes)), name=symbol)
    return series[np.isfinite(values) & (values >= 0)].sort_index()


@functools.lru_cache(maxsize=32)
def _day_index(days: tuple[str, ...]) -> pd.DatetimeIndex:
    # Most symbols share the same trading days: parse each distinct calendar once.
    return pd.DatetimeIndex(pd.to_datetime(list(days), format="%Y-%m-%d"), name="date")


def parse_raw(raw: Mapping[str, Mapping[str, CachedPayload]], as_of: date | None = None) -> SourceData:
    """One :class:`SourceData` from cached payloads ``{symbol: {kind: CachedPayload}}``.

    A payload that cannot be parsed is skipped with its reason (the rest still counts).
    Market symbols (``MARKET_SYMBOLS``) go to ``market``; the others' prices to ``prices``.
    """
    out = _Collector()
    histories: list[dict[str, Any]] = []
    prices: dict[str, pd.Series] = {}
    volumes: dict[str, pd.Series] = {}
    market: dict[str, pd.Series] = {}
    skipped: list[SkippedRow] = []
    fetched = [entry.fetched_at for kinds in raw.values() for entry in kinds.values()]
    for symbol in sorted(raw):
        for kind, entry in sorted(raw[symbol].items()):
            fetched_day = pd.Timestamp(entry.fetched_at).normalize()
            try:
                payload = json.loads(entry.payload)
                if not isinstance(payload, dict):
                    raise ValueError("payload is not a JSON object")
                if kind == "info":
                    parse_info(symbol, payload, out, as_of=fetched_day)
                elif kind == "statements":
                    histories.extend(parse_statements(symbol, payload, out))
                elif kind == "prices":
                    series = parse_prices(symbol, payload)
                    if symbol in MARKET_SYMBOLS:
                        market[MARKET_SYMBOLS[symbol]] = series
                    else:
                        prices[symbol] = series
                        volume = parse_volumes(symbol, payload)
                        if volume is not None and len(volume):
                            volumes[symbol] = volume
            except (ValueError, TypeError, KeyError, AttributeError, RecursionError) as exc:
                skipped.append(SkippedRow(0, symbol, f"unreadable cached {kind} payload: {str(exc)[:200]}"))
    history = ds.history_frame(pd.DataFrame(histories)) if histories else ds.empty_history()
    return SourceData(
        source=SOURCE,
        origin=ENDPOINT,
        as_of=as_of or (max(fetched).date() if fetched else None),
        fetched_at=max(fetched) if fetched else datetime.now(UTC).replace(tzinfo=None),
        observations=out.frame(),
        history=history,
        prices=_wide(prices),
        market=_wide(market),
        volumes=_wide(volumes) if volumes else None,
        skipped=skipped,
        warnings=out.warnings(),
        rows_read=len(raw),
    )


def _wide(columns: Mapping[str, pd.Series]) -> pd.DataFrame:
    if not columns:
        return ds.empty_series_frame()
    frame = pd.concat(list(columns.values()), axis=1, keys=list(columns)).astype("float64").sort_index()
    frame.index = pd.DatetimeIndex(frame.index, name="date")
    return frame


# --------------------------------------------------------------------------------------------
# Offline files


_DATE_IN_NAME = re.compile(r"(\d{4}-\d{2}-\d{2})")
_PROFILE_KEYS = frozenset({"sector", "industry", "longBusinessSummary", "longName", "shortName"})


def _date_in_name(name: str) -> date | None:
    for match in _DATE_IN_NAME.finditer(name):
        try:
            return date.fromisoformat(match.group(1))
        except ValueError:  # 2024-13-45 is not a date; look for another
            continue
    return None


def _line_of(text: str, key: str) -> int | None:
    pos = text.find(json.dumps(key))
    return text.count("\n", 0, pos) + 1 if pos >= 0 else None


def read_yahoo_json(path: str | os.PathLike[str]) -> SourceData:
    """Read a ``{ticker: info-dict}`` file (yfinance ``.info`` key names) or its sector/industry
    companion ``{ticker: {"sector", "industry"}}``; the format is detected from the content.

    The as-of date comes from a ``YYYY-MM-DD`` in the file name; without one it is None and a
    warning says so. Missing keys are missing values. Entries whose ticker is not a plausible
    symbol are skipped with the reason; non-finite, huge or non-numeric values become missing
    with an aggregated warning.

    Raises:
        InputError: the file is unreadable, not JSON, or not an object of objects (names the file,
            line and ticker).
    """
    source = Path(path)
    raw_bytes = read_bytes(source, "yahoo-json")  # regular files only, size-capped (issue #13)
    try:
        text = raw_bytes.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError("not UTF-8 text, so not a Yahoo JSON file", path=str(source)) from exc
    if text.lstrip()[:1] == "<":
        raise InputError("this is an HTML page (perhaps a saved error page), not Yahoo JSON", path=str(source),
                         line=1)
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"not valid JSON ({exc.msg}, column {exc.colno}); the file may be truncated",
                         path=str(source), line=exc.lineno) from exc
    except RecursionError as exc:
        raise InputError("JSON nested too deeply", path=str(source)) from exc
    except ValueError as exc:  # e.g. an integer with more digits than Python converts
        raise InputError(f"not valid JSON ({exc})", path=str(source)) from exc
    if not isinstance(doc, dict):
        raise InputError(f"expected an object {{ticker: {{...}}}}, found a JSON {type(doc).__name__}",
                         path=str(source), line=1)
    for ticker, entry in doc.items():
        if not isinstance(entry, dict):
            raise InputError(f"the entry for {ticker!r} is a JSON {type(entry).__name__}, expected an object",
                             path=str(source), line=_line_of(text, ticker), field=ticker)

    profile_only = bool(doc) and all(set(entry) <= _PROFILE_KEYS for entry in doc.values())
    out = _Collector()
    skipped: list[SkippedRow] = []
    seen: set[str] = set()
    as_of = _date_in_name(source.name)
    stamp = pd.Timestamp(as_of) if as_of else pd.NaT
    for ticker, entry in doc.items():
        symbol = ticker.strip().upper()
        if not _SYMBOL_RE.match(symbol):
            skipped.append(SkippedRow(_line_of(text, ticker) or 0, ticker[:40], "not a ticker symbol"))
            continue
        if symbol in seen:
            skipped.append(SkippedRow(_line_of(text, ticker) or 0, ticker, "duplicate ticker (first kept)"))
            continue
        seen.add(symbol)
        parse_info(symbol, entry, out, as_of=stamp)
    warnings = out.warnings()
    if as_of is None:
        warnings.insert(0, f"{source.name}: no YYYY-MM-DD date in the file name; the as-of date is unknown")
    return SourceData(
        source=SOURCE,
        origin=str(source),
        as_of=as_of,
        fetched_at=datetime.fromtimestamp(source.stat().st_mtime, tz=UTC).replace(tzinfo=None),
        observations=out.frame(),
        skipped=skipped,
        warnings=[f"{source.name} ({'sector/industry file' if profile_only else 'info file'}): {w}"
                  if not w.startswith(source.name) else w for w in warnings],
        rows_read=len(doc),
    )


def write_yahoo_json(path: str | os.PathLike[str], infos: Mapping[str, Mapping[str, Any]]) -> None:
    """Write ``{ticker: info-dict}`` (the format :func:`read_yahoo_json` reads), atomically.

    Non-finite numbers are dropped (a missing value is an absent key, as in Yahoo's own files).
    """
    target = Path(path)
    doc: dict[str, dict[str, Any]] = {}
    for ticker in sorted(infos):
        entry = _jsonable(infos[ticker])
        doc[str(ticker)] = {k: v for k, v in entry.items() if v is not None}
    fd, tmp = tempfile.mkstemp(prefix=target.name, suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(doc, handle, indent=1, sort_keys=True, allow_nan=False)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise

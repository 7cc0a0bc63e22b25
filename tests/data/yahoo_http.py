"""Test transports for yfinance's own HTTP layer.

``ReplaySession`` is a real ``requests.Session`` (so yfinance accepts it) whose transport answers
Yahoo's URLs from recorded response bodies instead of the network: yfinance then builds ``.info``
and its statement frames exactly as it would from Yahoo. ``LoopbackSession`` sends yfinance's
requests to a server on 127.0.0.1 instead of Yahoo's hosts.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import requests
from requests.adapters import BaseAdapter, HTTPAdapter
from yfinance import const as yf_const

EMPTY_TIMESERIES = json.dumps({"timeseries": {"result": [], "error": None}})


@dataclass
class Body:
    status: int
    text: str
    content_type: str = "application/json;charset=utf-8"


Router = Callable[[str, str, dict[str, list[str]]], Body]


def statement_of(types: list[str]) -> tuple[str, str] | None:
    """(timescale, statement name) of a fundamentals-timeseries ``type=`` list, as yfinance asks it."""
    for timescale in ("annual", "quarterly", "trailing"):
        if types and all(t.startswith(timescale) for t in types):
            keys = {t[len(timescale):] for t in types}
            for name, known in yf_const.fundamentals_keys.items():
                if keys <= set(known):
                    return timescale, name
    return None


def only_modules(text: str, modules: list[str]) -> str:
    """A quoteSummary body cut down to the modules asked for, as Yahoo answers."""
    doc = json.loads(text)
    for result in doc.get("quoteSummary", {}).get("result") or []:
        for name in [k for k in result if k not in modules]:
            del result[name]
    return json.dumps(doc)


def recorded_router(folder: Path, files: dict[str, str] | None = None) -> Router:
    """Answer Yahoo's endpoints from the recorded bodies in ``folder`` (yahoo_raw layout).

    ``files`` maps a recording key to a file name; keys: ``summary:T``, ``quote:T``,
    ``chart:T``, ``ts:T:<annual|quarterly>:<financials|cash-flow|balance-sheet>``. Defaults
    follow the shared data's naming. Anything not recorded is an empty timeseries answer or 404.
    """
    files = dict(files or {})

    def body_of(key: str, default_name: str) -> Body | None:
        path = folder / files.get(key, default_name)
        if path.exists():
            return Body(200, path.read_text(encoding="utf-8"))
        return None

    def route(host: str, path: str, query: dict[str, list[str]]) -> Body:
        if host == "fc.yahoo.com":
            return Body(200, "", "text/html")
        if path.endswith("/v1/test/getcrumb"):
            return Body(200, "replaycrumb", "text/plain")
        parts = [unquote(p) for p in path.strip("/").split("/")]
        if "quoteSummary" in parts:
            symbol = parts[-1]
            found = body_of(f"summary:{symbol}", f"quoteSummary_allModules_{symbol}.json")
            modules = ",".join(query.get("modules", [])).split(",")
            if found is not None and found.status == 200 and modules != [""]:
                found = Body(200, only_modules(found.text, modules))
        elif path.endswith("/v7/finance/quote"):
            symbol = query.get("symbols", [""])[0]
            found = body_of(f"quote:{symbol}", f"quote_v7_{symbol}.json")
        elif "chart" in parts:
            symbol = parts[-1]
            found = body_of(f"chart:{symbol}", f"chart_v8_{symbol}.json")
        elif "timeseries" in parts:
            symbol = parts[-1]
            types = ",".join(query.get("type", [])).split(",")
            which = statement_of(types)
            if which is None:
                return Body(200, EMPTY_TIMESERIES)
            timescale, name = which
            label = {"financials": "financials", "cash-flow": "cash-flow", "balance-sheet": "balance-sheet"}[name]
            found = body_of(f"ts:{symbol}:{timescale}:{name}", f"timeseries_{symbol}_{label}_{timescale}.json")
            if found is None:
                return Body(200, EMPTY_TIMESERIES)
        else:
            found = None
        if found is not None:
            return found
        # Yahoo's own "unknown symbol" answers, shaped per endpoint.
        if "chart" in parts:
            return Body(404, json.dumps({"chart": {"result": None, "error": {
                "code": "Not Found", "description": "No data found, symbol may be delisted"}}}))
        if "quoteSummary" in parts:
            return Body(404, json.dumps({"quoteSummary": {"result": None, "error": {
                "code": "Not Found", "description": "Quote not found for symbol"}}}))
        if path.endswith("/v7/finance/quote"):
            return Body(200, json.dumps({"quoteResponse": {"result": [], "error": None}}))
        return Body(404, json.dumps({"finance": {"result": None, "error": {"code": "Not Found"}}}))

    return route


class _ReplayAdapter(BaseAdapter):
    def __init__(self, router: Router, log: list[str]) -> None:
        super().__init__()
        self.router = router
        self.log = log

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        parts = urlsplit(request.url or "")
        self.log.append(request.url or "")
        body = self.router(parts.hostname or "", parts.path, parse_qs(parts.query))
        response = requests.Response()
        response.status_code = body.status
        response._content = body.text.encode("utf-8")
        response.headers["Content-Type"] = body.content_type
        response.url = request.url or ""
        response.request = request
        response.encoding = "utf-8"
        return response

    def close(self) -> None:
        pass


def replay_session(router: Router) -> tuple[requests.Session, list[str]]:
    """A requests Session answering every http(s) URL through ``router``; also returns the URL log."""
    log: list[str] = []
    session = requests.Session()
    adapter = _ReplayAdapter(router, log)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session, log


class _LoopbackAdapter(HTTPAdapter):
    """Sends every request to ``http://127.0.0.1:port`` (path and query kept, host in a header)."""

    def __init__(self, port: int, timeout: float) -> None:
        super().__init__()
        self.port = port
        self.forced_timeout = timeout

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        parts = urlsplit(request.url or "")
        request.headers["X-Original-Host"] = parts.hostname or ""
        request.url = f"http://127.0.0.1:{self.port}{parts.path}" + (f"?{parts.query}" if parts.query else "")
        kwargs["timeout"] = self.forced_timeout  # yfinance's .info waits 30 s; tests cannot
        return super().send(request, **kwargs)


def loopback_session(port: int, timeout: float = 1.0) -> requests.Session:
    session = requests.Session()
    adapter = _LoopbackAdapter(port, timeout)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


Handler = Callable[[BaseHTTPRequestHandler], None]


@contextmanager
def local_server(handle: Handler) -> Iterator[ThreadingHTTPServer]:
    """A throw-away HTTP server on 127.0.0.1 whose GETs are answered by ``handle``."""

    class _Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            handle(self)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def reply(handler: BaseHTTPRequestHandler, status: int, body: str, content_type: str = "application/json") -> None:
    data = body.encode("utf-8")
    handler.send_response(status)
    handler.send_header("Content-Type", content_type)
    handler.send_header("Content-Length", str(len(data)))
    handler.end_headers()
    handler.wfile.write(data)


def reset_yfinance() -> None:
    """Forget yfinance's process-wide cookie, crumb and response cache between tests."""
    from yfinance.data import YfData

    data = YfData()
    data._set_cookie_strategy("basic")
    data._crumb = None
    data._cookie = None
    data.fundamentals_use_chunked = False
    YfData.cache_get.cache_clear()

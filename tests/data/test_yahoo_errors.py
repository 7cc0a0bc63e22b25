"""yfinance / requests / curl_cffi failures become our errors at the provider boundary.

yfinance's requests are routed to a throw-away HTTP server on 127.0.0.1 that misbehaves on
purpose (429, 503, 404, HTML instead of JSON, hanging, closed port)."""

from __future__ import annotations

import socket
import time
from http.server import BaseHTTPRequestHandler

import pytest

from desktop.data import yahoo
from desktop.data.yahoo import YahooProvider, translate_error
from desktop.errors import DataSourceError, NoDataError, RateLimitedError, SourceUnreachableError
from tests.data.yahoo_http import local_server, loopback_session, reply, reset_yfinance

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:yfinance", "ignore::FutureWarning:yfinance")


@pytest.fixture(autouse=True)
def _fresh_yfinance() -> None:
    reset_yfinance()


def fetch_through(handle, kind: str = "info", timeout: float = 1.0, symbol: str = "QLWX") -> None:  # noqa: ANN001
    with local_server(handle) as server:
        session = loopback_session(server.server_address[1], timeout=timeout)
        YahooProvider(session=session, cooldown_s=7).fetch(symbol, kind)


@pytest.mark.parametrize("kind", ["info", "statements", "prices"])
def test_http_429_is_rate_limited(kind: str) -> None:
    def handle(h: BaseHTTPRequestHandler) -> None:
        reply(h, 429, "Too Many Requests", "text/plain")

    with pytest.raises(RateLimitedError, match="rate limited, retrying in 7 s") as caught:
        fetch_through(handle, kind)
    assert caught.value.retry_after == 7


@pytest.mark.parametrize("kind", ["info", "statements", "prices"])
def test_http_503_is_unreachable(kind: str) -> None:
    def handle(h: BaseHTTPRequestHandler) -> None:
        reply(h, 503, "<html><body>Service Unavailable</body></html>", "text/html")

    with pytest.raises(SourceUnreachableError, match="Yahoo Finance unreachable: HTTP 503"):
        fetch_through(handle, kind)


@pytest.mark.parametrize("kind", ["info", "prices"])
def test_http_404_is_no_data(kind: str) -> None:
    body = '{"quoteSummary":{"result":null,"error":{"code":"Not Found","description":"Quote not found"}}}'
    if kind == "prices":
        body = '{"chart":{"result":null,"error":{"code":"Not Found","description":"No data found, symbol may be delisted"}}}'

    def handle(h: BaseHTTPRequestHandler) -> None:
        reply(h, 404, body)

    with pytest.raises(NoDataError, match="no data for symbol QLWX"):
        fetch_through(handle, kind)


def test_html_page_instead_of_json_is_unreadable_not_a_crash() -> None:
    def handle(h: BaseHTTPRequestHandler) -> None:
        reply(h, 200, "<!doctype html><html><body>Please accept our cookies</body></html>", "text/html")

    with pytest.raises(DataSourceError, match="not JSON") as caught:
        fetch_through(handle, "info")
    assert not isinstance(caught.value, SourceUnreachableError | RateLimitedError | NoDataError)


def test_hanging_server_times_out_as_unreachable() -> None:
    def handle(h: BaseHTTPRequestHandler) -> None:
        time.sleep(1.0)
        try:
            reply(h, 200, "{}")
        except OSError:
            pass  # the client gave up

    started = time.monotonic()
    with pytest.raises(SourceUnreachableError, match="timed out"):
        fetch_through(handle, "info", timeout=0.2)
    assert time.monotonic() - started < 30  # not yfinance's own 30 s wait


def test_closed_port_is_unreachable() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    session = loopback_session(port, timeout=0.5)
    with pytest.raises(SourceUnreachableError, match="Yahoo Finance unreachable"):
        YahooProvider(session=session).fetch("QLWX", "prices")


def test_curl_cffi_errors_are_translated_and_statuses_recorded() -> None:
    from curl_cffi import requests as curl_requests

    def handle(h: BaseHTTPRequestHandler) -> None:
        if h.path.startswith("/slow"):
            time.sleep(1.0)
            try:
                reply(h, 200, "{}")
            except OSError:
                pass
        else:
            reply(h, 503, "busy", "text/plain")

    session = curl_requests.Session()
    yahoo._instrument(session)
    with local_server(handle) as server:
        base = f"http://127.0.0.1:{server.server_address[1]}"
        yahoo._RECORDER.statuses = []
        assert session.get(f"{base}/fast", timeout=2).status_code == 503
        assert yahoo._RECORDER.statuses == [503]
        with pytest.raises(Exception) as timeout:
            session.get(f"{base}/slow", timeout=0.2)
    translated = translate_error(timeout.value, "QLWX")
    assert isinstance(translated, SourceUnreachableError) and "timed out" in translated.message
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(Exception) as refused:
        session.get(f"http://127.0.0.1:{port}/", timeout=1)
    assert isinstance(translate_error(refused.value, "QLWX"), SourceUnreachableError)


def test_a_5xx_hidden_behind_a_parse_error_is_still_unreachable() -> None:
    translated = translate_error(ValueError("Expecting value"), "QLWX", statuses=[200, 502])
    assert isinstance(translated, SourceUnreachableError) and "HTTP 502" in translated.message
    assert isinstance(translate_error(KeyError("x"), "QLWX", statuses=[429]), RateLimitedError)


def test_bugs_are_not_disguised_as_source_errors() -> None:
    with pytest.raises(ZeroDivisionError):
        translate_error(ZeroDivisionError("bug"), "QLWX")

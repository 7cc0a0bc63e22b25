"""The SEC client against a local HTTP server replaying TRIMMED real SEC bodies (issue #14).

Every request goes through the real client (requests, tenacity, the token bucket) to 127.0.0.1;
no test talks to the SEC. Back-off waits are shortened through the client's parameters.
"""

from __future__ import annotations

import gzip
import json

import pytest

from desktop.data import sec_client, sec_facts
from desktop.data.sec_client import SecBlockedError, SecClient
from desktop.data.throttle import TokenBucket
from desktop.errors import Cancelled, DataSourceError, NoDataError, SourceUnreachableError
from tests.data.sec_server import BLOCK_PAGE, Reply, fixture_bodies, sec_server

UA = "Pickaxe tests tests@example.com"
MRVL = "0001835632"
FACTS_PATH = f"/api/xbrl/companyfacts/CIK{MRVL}.json"


def _client(server, **kw) -> SecClient:
    kw.setdefault("backoff", (0.01, 0.05))
    kw.setdefault("block_pause_s", 0.01)
    kw.setdefault("timeout", (2.0, 2.0))
    return SecClient(UA, www=server.url, data=server.url, **kw)


@pytest.fixture
def server():
    with sec_server(fixture_bodies()) as s:
        yield s


def test_companyfacts_replayed_with_gzip_and_declared_user_agent(server):
    client = _client(server)
    resp = client.companyfacts(MRVL)
    assert resp.status == 200 and not resp.not_modified
    assert resp.body == fixture_bodies()[FACTS_PATH]  # decoded from gzip
    seen = server.seen[-1]
    assert seen.headers["User-Agent"] == UA
    assert "gzip" in seen.headers["Accept-Encoding"]
    company = sec_facts.parse_companyfacts(resp.body, resp.url)
    assert company.cik == MRVL and company.rows


def test_gzip_really_travelled(server):
    # The server compressed the body (it answers gzip only when asked): the wire held fewer bytes.
    body = fixture_bodies()[FACTS_PATH]
    assert len(gzip.compress(body, compresslevel=1)) < len(body) / 3
    _client(server).companyfacts(MRVL)
    assert "gzip" in server.seen[-1].headers.get("Accept-Encoding", "")


def test_tickers_and_submissions(server):
    client = _client(server)
    tickers = sec_facts.parse_company_tickers(client.company_tickers().body)
    assert tickers["MRVL"] == MRVL
    sub = sec_facts.parse_submissions(client.submissions(MRVL).body)
    assert sub.name.upper().startswith("MARVELL") and sub.sic


def test_429_then_success_pauses_and_retries(server):
    server.then(FACTS_PATH, Reply(429, b"Too Many Requests", "text/plain", {"Retry-After": "0"}))
    client = _client(server)
    resp = client.companyfacts(MRVL)
    assert resp.status == 200
    assert client.requests_sent == 2
    assert [s.path for s in server.seen] == [FACTS_PATH, FACTS_PATH]


def test_5xx_then_success(server):
    server.then(FACTS_PATH, Reply(503, b"busy", "text/plain"), Reply(500, b"oops", "text/plain"))
    client = _client(server)
    assert client.companyfacts(MRVL).status == 200
    assert client.requests_sent == 3


def test_block_page_then_success(server):
    server.then(FACTS_PATH, Reply(403, BLOCK_PAGE, "text/html"))
    client = _client(server)
    assert client.companyfacts(MRVL).status == 200
    assert client.requests_sent == 2


def test_block_page_every_time_is_a_clear_known_error(server):
    server.then(FACTS_PATH, *[Reply(403, BLOCK_PAGE, "text/html")] * 3)
    client = _client(server, attempts=3)
    with pytest.raises(SecBlockedError) as info:
        client.companyfacts(MRVL)
    message = str(info.value)
    assert "ten minutes" in message and "User-Agent" in message and "e-mail" in message
    assert client.requests_sent == 3


def test_block_page_served_with_200_is_detected(server):
    server.then(FACTS_PATH, *[Reply(200, BLOCK_PAGE, "text/html; charset=utf-8")] * 2)
    with pytest.raises(SecBlockedError):
        _client(server, attempts=2).companyfacts(MRVL)


def test_persistent_429_is_a_block(server):
    server.then(FACTS_PATH, *[Reply(429, b"", "text/plain")] * 2)
    with pytest.raises(SecBlockedError):
        _client(server, attempts=2).companyfacts(MRVL)


def test_404_xml_body_is_no_data(server):
    client = _client(server)
    with pytest.raises(NoDataError, match="CIK 0000000001"):
        client.companyfacts("0000000001")
    assert client.requests_sent == 1  # a 404 is an answer, not worth retrying


def test_timeout_retries_then_unreachable(server):
    server.then(FACTS_PATH, Reply(200, b"{}", delay_s=1.5), Reply(200, b"{}", delay_s=1.5))
    client = _client(server, attempts=2, timeout=(1.0, 0.3))
    with pytest.raises(SourceUnreachableError, match="did not answer"):
        client.companyfacts(MRVL)
    assert client.requests_sent == 2


def test_timeout_then_success(server):
    server.then(FACTS_PATH, Reply(200, b"{}", delay_s=1.5))
    client = _client(server, attempts=3, timeout=(1.0, 0.3))
    assert client.companyfacts(MRVL).body == fixture_bodies()[FACTS_PATH]


def test_unreachable_host():
    with sec_server({}) as s:
        url = s.url
    client = SecClient(UA, www=url, data=url, attempts=2, backoff=(0.01, 0.02), timeout=(0.5, 0.5))
    with pytest.raises(SourceUnreachableError):
        client.company_tickers()


def test_other_4xx_and_html_on_200_are_known_errors(server):
    server.then(FACTS_PATH, Reply(403, b"Forbidden", "text/plain"))
    with pytest.raises(DataSourceError, match="HTTP 403"):
        _client(server).companyfacts(MRVL)
    server.then(FACTS_PATH, Reply(200, b"<html><body>maintenance</body></html>", "text/html"))
    with pytest.raises(DataSourceError, match="web page"):
        _client(server).companyfacts(MRVL)


def test_validators_give_304_not_modified(server):
    client = _client(server)
    first = client.companyfacts(MRVL)
    assert first.etag and first.last_modified
    again = client.companyfacts(MRVL, etag=first.etag, last_modified=first.last_modified)
    assert again.not_modified and again.status == 304 and again.body == b""
    assert server.seen[-1].headers["If-None-Match"] == first.etag


# ---- the SEC's rules ----------------------------------------------------------------------------

def test_refuses_to_start_without_a_user_agent(monkeypatch):
    monkeypatch.delenv(sec_client.ENV_USER_AGENT, raising=False)
    with pytest.raises(DataSourceError) as info:
        SecClient()
    assert "contact e-mail" in str(info.value) and sec_client.ENV_USER_AGENT in str(info.value)


def test_user_agent_needs_an_email(monkeypatch):
    monkeypatch.delenv(sec_client.ENV_USER_AGENT, raising=False)
    with pytest.raises(DataSourceError, match="no contact e-mail"):
        SecClient("Pickaxe")


def test_user_agent_from_the_environment(monkeypatch):
    monkeypatch.setenv(sec_client.ENV_USER_AGENT, "Jane Doe jane@example.org")
    assert SecClient().user_agent == "Jane Doe jane@example.org"


@pytest.mark.parametrize("rate", [10.5, 50, 0, -1])
def test_rate_above_ten_or_not_positive_is_refused(rate):
    with pytest.raises(DataSourceError, match="requests per second"):
        SecClient(UA, max_rate=rate)


def test_shared_bucket_faster_than_the_sec_allows_is_refused():
    with pytest.raises(DataSourceError):
        SecClient(UA, bucket=TokenBucket(20.0))


def test_default_rate_is_nine():
    client = SecClient(UA)
    assert client.max_rate == 9.0 and client.bucket.rate == 9.0


def test_block_page_detector():
    assert sec_client.is_block_page(403, "text/html", BLOCK_PAGE)
    assert sec_client.is_block_page(200, "", BLOCK_PAGE)  # no content type, but an HTML page
    assert not sec_client.is_block_page(200, "application/json", json.dumps({"a": "rate"}).encode())
    assert not sec_client.is_block_page(200, "text/html", b"<html><body>maintenance</body></html>")


def test_cancel_while_backing_off(server):
    server.then(FACTS_PATH, *[Reply(503, b"", "text/plain")] * 5)
    # Let the first request go, then cancel: the back-off (random, up to 5 s) must notice it. (Counting
    # calls was flaky: a back-off under one sleep slice checked only once, and the retry succeeded.)
    client = _client(server, backoff=(5.0, 5.0), is_cancelled=lambda: len(server.seen) >= 1)
    with pytest.raises(Cancelled):
        client.companyfacts(MRVL)
    assert len(server.seen) == 1


# ---- the pooled fetch ----------------------------------------------------------------------------

def test_fetch_companies_with_a_pool(server):
    client = _client(server)
    ciks = {"MRVL": MRVL, "AAPL": "0000320193", "NVDA": "0001045810", "NOPE": "0000000001"}
    done: list[tuple[int, int]] = []
    results = sec_client.fetch_companies(client, ciks, workers=3, with_submissions=True,
                                         progress=lambda d, t: done.append((d, t)))
    by_symbol = {r.symbol: r for r in results}
    assert by_symbol["NOPE"].error and "HTTP 404" in by_symbol["NOPE"].error
    assert by_symbol["MRVL"].facts is not None and by_symbol["MRVL"].submissions is not None
    assert by_symbol["AAPL"].facts is not None and by_symbol["AAPL"].error is not None  # no submissions fixture
    assert done[-1] == (4, 4)


def test_fetch_companies_stops_on_a_block(server):
    server.then(FACTS_PATH, *[Reply(403, BLOCK_PAGE, "text/html")] * 5)
    client = _client(server, attempts=2)
    with pytest.raises(SecBlockedError):
        sec_client.fetch_companies(client, {"MRVL": MRVL}, workers=2, with_submissions=False)

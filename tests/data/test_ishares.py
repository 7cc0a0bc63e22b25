from __future__ import annotations

import http.server
import threading
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from desktop.data import ishares
from desktop.errors import DataSourceError, InputError, SourceUnreachableError
from tests.conftest import shared_file
from tests.data.conftest import FIXTURES

FULL = FIXTURES / "ishares" / "fund_full.csv"


def test_full_file_members_and_skips() -> None:
    src = ishares.read_ishares(FULL)
    assert src.source == "ishares"
    assert src.as_of == date(2026, 5, 5)
    assert list(src.members.columns) == list(ishares.MEMBER_COLUMNS)
    assert set(src.members.index) == {"QZAL", "PLNK", "QQZ-A", "LOMBA", "MINR", "CVRX", "HALT", "EVIL"}
    assert src.members.loc["QQZ-A", "ticker"] == "QQZA"  # both spellings kept
    assert src.members.loc["QZAL", "index_weight"] == pytest.approx(0.0152)
    assert src.members.loc["QZAL", "price"] == pytest.approx(48.20)
    assert src.members.loc["MINR", "exchange"] == "NYSE American"
    reasons = {(r.ticker, r.reason) for r in src.skipped}
    assert ("XFUND", "money market") in reasons
    assert ("USD", "cash") in reasons and ("CAD", "cash") in reasons
    assert ("MSFUT", "cash collateral") in reasons
    assert ("RTYZ9", "futures") in reasons
    assert ("INHQ", "CVR (contingent value right)") in reasons
    assert ("GTXQ", "CVR (contingent value right)") in reasons  # CVR on an exchange is still a CVR
    assert ("DUPL", "unlisted") in reasons
    assert ("TSEQF", "OTC (not an exchange listing)") in reasons
    assert ("-", "private placement") in reasons
    assert ("P9X999", "escrow") in reasons
    assert any(r.ticker == "PLNK" and r.reason.startswith("duplicate of line") for r in src.skipped)
    assert any(r.reason.startswith("not a ticker symbol") for r in src.skipped)
    # every data row is either a member or explained
    assert src.rows_read == len(src.members) + len(src.skipped)
    assert all(r.line > 10 for r in src.skipped)


def test_price_zero_is_missing_not_zero() -> None:
    src = ishares.read_ishares(FULL)
    assert src.members["price"].isna()["HALT"]


def test_formula_looking_name_is_kept_as_text() -> None:
    src = ishares.read_ishares(FULL)
    assert src.members.loc["EVIL", "name"].startswith("=HYPERLINK(")


def test_cvr_energy_style_name_is_not_a_cvr() -> None:
    assert "CVRX" in ishares.read_ishares(FULL).members.index


def test_observations_carry_member_fields() -> None:
    obs = ishares.read_ishares(FULL).observations
    row = obs[(obs.symbol == "QQZ-A") & (obs.field == "ticker")].iloc[0]
    assert row.value_text == "QQZA"
    assert set(obs.field) == {"ticker", "name", "index_sector", "exchange", "index_weight", "price"}


def test_older_shares_column_and_exchange_spelling() -> None:
    src = ishares.read_ishares(FIXTURES / "ishares" / "fund_shares_column.csv")
    assert src.as_of == date(2019, 1, 10)
    assert src.members.loc["QZAL", "exchange"] == "NYSE"
    assert src.members.loc["MINR", "exchange"] == "NYSE American"
    assert len(src.members) == 3


def test_stripped_preamble_has_no_date_and_warns() -> None:
    src = ishares.read_ishares(FIXTURES / "ishares" / "fund_no_preamble.csv")
    assert src.as_of is None
    assert any("no 'Fund Holdings as of' date" in w for w in src.warnings)
    assert len(src.members) == 2


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("New York Stock Exchange Inc.", "NYSE"), ("Nyse Mkt Llc", "NYSE American"), ("NASDAQ", "NASDAQ"),
     ("nasdaq global select", "NASDAQ"), ("Cboe BZX formerly known as BATS", "Cboe BZX")],
)
def test_normalise_exchange(raw: str, expected: str) -> None:
    assert ishares.normalise_exchange(raw) == expected


def test_bad_number_names_line_and_field(tmp_path: Path) -> None:
    text = FULL.read_text(encoding="utf-8-sig").replace('"48.20"', '"4x8.20"')
    bad = tmp_path / "bad.csv"
    bad.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as info:
        ishares.read_ishares(bad)
    assert info.value.line == 11 and info.value.field == "Price"
    assert "bad.csv" in str(info.value)


# --- the real file, in place --------------------------------------------------------------


def test_real_file_every_row_explained() -> None:
    path = shared_file("universe", "IWM_holdings_2026-05-05.csv")
    src = ishares.read_ishares(path)
    assert src.as_of == date(2026, 5, 5)
    assert src.rows_read == 1929  # 1,924 Equity + 5 cash/money-market/futures rows
    assert len(src.members) + len(src.skipped) == src.rows_read
    assert len(src.members) == 1914
    assert {"MOG-A", "GEF-B", "CRD-A", "BATRA", "LILA", "RUSHA", "BELFA"} <= set(src.members.index)
    assert src.members.loc["MOG-A", "ticker"] == "MOGA"
    reasons = {r.reason for r in src.skipped}
    assert {"cash", "money market", "cash collateral", "futures", "private placement", "escrow", "unlisted",
            "CVR (contingent value right)", "OTC (not an exchange listing)"} == reasons
    assert set(src.members["exchange"]) == {"NASDAQ", "NYSE", "NYSE American"}
    assert src.warnings == []


# --- download -----------------------------------------------------------------------------


class _Handler(http.server.BaseHTTPRequestHandler):
    body = b""
    status = 200
    content_type = "text/csv"
    delay = 0.0

    def do_GET(self) -> None:  # noqa: N802 - http.server API
        if self.delay:
            time.sleep(self.delay)
        self.send_response(self.status)
        self.send_header("Content-Type", self.content_type)
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        try:
            self.wfile.write(self.body)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[tuple[str, type[_Handler]]]:
    handler = type("H", (_Handler,), {})
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/holdings.csv", handler
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_download_serves_the_fixture(server: tuple[str, type[_Handler]]) -> None:
    url, handler = server
    handler.body = FULL.read_bytes()
    body = ishares.download_holdings(url, timeout=5)
    assert body == FULL.read_bytes()
    src = ishares.fetch_holdings(url, timeout=5)
    assert src.origin == url and len(src.members) == 8


def test_download_html_error_page(server: tuple[str, type[_Handler]]) -> None:
    url, handler = server
    handler.body = b"<!DOCTYPE html><html><body>Sorry, something went wrong</body></html>"
    handler.content_type = "text/html; charset=utf-8"
    with pytest.raises(DataSourceError, match="web page"):
        ishares.download_holdings(url, timeout=5)


def test_download_html_page_with_csv_content_type(server: tuple[str, type[_Handler]]) -> None:
    url, handler = server
    handler.body = b"\n  <html><head><title>Maintenance</title></head></html>"
    with pytest.raises(DataSourceError, match="web page"):
        ishares.download_holdings(url, timeout=5)


def test_download_http_error(server: tuple[str, type[_Handler]]) -> None:
    url, handler = server
    handler.status = 503
    handler.body = b"busy"
    with pytest.raises(DataSourceError, match="HTTP 503"):
        ishares.download_holdings(url, timeout=5)


def test_download_timeout(server: tuple[str, type[_Handler]]) -> None:
    url, handler = server
    handler.delay = 2.0
    handler.body = FULL.read_bytes()
    with pytest.raises(SourceUnreachableError, match="did not answer"):
        ishares.download_holdings(url, timeout=0.3)


def test_download_unreachable() -> None:
    import socket

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()  # nothing listens there now
    with pytest.raises(SourceUnreachableError, match="unreachable"):
        ishares.download_holdings(f"http://127.0.0.1:{port}/x.csv", timeout=2)

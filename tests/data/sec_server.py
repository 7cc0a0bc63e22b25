"""A local stand-in for SEC EDGAR on 127.0.0.1 (issue #14): real bodies, scripted failures, latency.

Used by the replay tests (``tests/data/test_sec_client.py``) and the throughput benchmark
(``benchmarks/bench_sec.py``). It answers like the SEC: gzip when the client asks for it, ETag and
Last-Modified validators with 304 on a match, the S3-style XML body on 404, and whatever a test
scripts for a path (429, 5xx, the block page, a hang longer than the client's timeout).
"""

from __future__ import annotations

import gzip
import hashlib
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

FIXTURES = Path(__file__).resolve().parents[1] / "data_files" / "sec"
NOT_FOUND_XML = (FIXTURES / "error_404_sec_body.xml").read_bytes()
# Hand-written in the words of the SEC's block page (not a recorded body): the page the SEC serves,
# as text/html, to clients that exceed its rate or do not declare a User-Agent.
BLOCK_PAGE = (FIXTURES / "block_page_handmade.html").read_bytes()
LAST_MODIFIED = "Tue, 02 Jun 2026 03:15:00 GMT"


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0  # sleep before answering (a hang when longer than the client's timeout)


@dataclass
class Seen:
    path: str
    headers: dict[str, str]
    at: float


class SecServer:
    """Serves ``bodies`` (path -> bytes) with ``latency_s`` per request; ``script[path]`` replies go first."""

    def __init__(self, bodies: dict[str, bytes] | None = None, latency_s: float | Callable[[], float] = 0.0) -> None:
        self.bodies = dict(bodies or {})
        self.script: dict[str, list[Reply]] = {}
        self.latency_s = latency_s
        self.seen: list[Seen] = []
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> SecServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def then(self, path: str, *replies: Reply) -> None:
        """Answer the next requests for ``path`` with ``replies`` in order, then normally."""
        with self._lock:
            self.script.setdefault(path, []).extend(replies)

    def _next(self, path: str) -> Reply:
        with self._lock:
            queue = self.script.get(path)
            if queue:
                return queue.pop(0)
        body = self.bodies.get(path)
        if body is None:
            return Reply(404, NOT_FOUND_XML, "application/xml")
        etag = '"' + hashlib.md5(body, usedforsecurity=False).hexdigest() + '"'
        return Reply(200, body, headers={"ETag": etag, "Last-Modified": LAST_MODIFIED})

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base signature
                pass

            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                path = self.path.split("?", 1)[0]
                with server._lock:
                    server.seen.append(Seen(path, dict(self.headers.items()), time.monotonic()))
                reply = server._next(path)
                latency = server.latency_s() if callable(server.latency_s) else server.latency_s
                time.sleep(latency + reply.delay_s)
                body = reply.body
                headers = dict(reply.headers)
                if reply.status == 200 and headers.get("ETag") and self.headers.get("If-None-Match") == headers["ETag"]:
                    self.send_response(304)
                    for k, v in headers.items():
                        self.send_header(k, v)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                if "gzip" in (self.headers.get("Accept-Encoding") or "") and body and "Content-Encoding" not in headers:
                    body = gzip.compress(body, compresslevel=1)
                    headers["Content-Encoding"] = "gzip"
                self.send_response(reply.status)
                self.send_header("Content-Type", reply.content_type)
                self.send_header("Content-Length", str(len(body)))
                for k, v in headers.items():
                    self.send_header(k, v)
                self.end_headers()
                try:
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a timeout test)

        return Handler


@contextmanager
def sec_server(bodies: dict[str, bytes] | None = None, latency_s: float | Callable[[], float] = 0.0,
               ) -> Iterator[SecServer]:
    server = SecServer(bodies, latency_s).start()
    try:
        yield server
    finally:
        server.stop()


def fixture_bodies() -> dict[str, bytes]:
    """The committed trimmed SEC bodies under the paths the SEC serves them at."""
    bodies = {"/files/company_tickers.json": (FIXTURES / "company_tickers_trimmed_sec_body.json").read_bytes()}
    for f in FIXTURES.glob("CIK*_trimmed_sec_body.json"):
        bodies[f"/api/xbrl/companyfacts/{f.name[:13]}.json"] = f.read_bytes()
    for f in FIXTURES.glob("submissions_CIK*_trimmed_sec_body.json"):
        bodies[f"/submissions/{f.name[12:25]}.json"] = f.read_bytes()
    return bodies


def synthetic_bodies(n: int, prefix: str = "QS") -> tuple[dict[str, bytes], dict[str, str]]:
    """``n`` companies made of the committed trimmed real bodies under new CIKs (9,000,001 on) and
    fictional tickers (QS000, ...), as the SEC would serve them: (path -> body, ticker -> CIK).

    The facts and submissions are real filings' figures; only the identity is made up, so a test can
    have many companies without committing more SEC data.
    """
    import json

    facts = [json.loads(f.read_bytes()) for f in sorted(FIXTURES.glob("CIK*_trimmed_sec_body.json"))
             if "ifrs" not in f.name]
    subs = json.loads((FIXTURES / "submissions_CIK0001835632_marvell_trimmed_sec_body.json").read_bytes())
    bodies: dict[str, bytes] = {}
    tickers: dict[str, str] = {}
    table = {}
    for i in range(n):
        cik = f"{9_000_001 + i:010d}"
        symbol = f"{prefix}{i:03d}"
        tickers[symbol] = cik
        table[str(i)] = {"cik_str": int(cik), "ticker": symbol, "title": f"Synthetic Company {i}"}
        doc = dict(facts[i % len(facts)], cik=int(cik), entityName=f"Synthetic Company {i}")
        bodies[f"/api/xbrl/companyfacts/CIK{cik}.json"] = json.dumps(doc).encode()
        bodies[f"/submissions/CIK{cik}.json"] = json.dumps(
            dict(subs, cik=cik, name=f"Synthetic Company {i}", tickers=[symbol])).encode()
    bodies["/files/company_tickers.json"] = json.dumps(table).encode()
    return bodies, tickers

"""SEC EDGAR fundamentals (issue #14): throughput at the SEC's politeness, and the bulk reader's memory.

``bench_sec_fetch``: company facts of ``MEMBERS`` companies fetched by the real client
(:class:`desktop.data.sec_client.SecClient`: requests, tenacity, one shared token bucket at 9 requests/s,
a pool of ``WORKERS`` threads) from a local 127.0.0.1 server that serves the real bodies of
``../shared/data/sec/companyfacts`` (gzip, as the SEC does) with a latency drawn uniformly from
50-150 ms (seeded), and parsed into statement rows. Target (#14): at most 5 minutes for ~2,000 members.
The baseline is today's yfinance refresh of the same members at its politeness, computed from the
Yahoo settings (``desktop.services.refresh.DEFAULT_MAX_RATE`` = 4 requests/s, ~9 requests per
ticker): ``members * 9 / 4`` seconds; the rate limit is the bottleneck of both, so the ratio is the
ratio of requests per member and of the rates.

``bench_sec_bulk_rss``: peak RSS of a child process reading a synthetic 2,000-member
``companyfacts.zip`` built from the real bodies (each full real body once, the rest the trimmed real
bodies of ``tests/data_files/sec`` under new CIKs), with ``sec_bulk.read_companyfacts_bulk``.

``bench_sec_refresh``: the refresh service's SEC lane end to end (ticker map, company facts, then
submissions, committed per company, then the snapshot), then an incremental rerun where every company
is due and answers 304; the real company-facts bodies are served under each member's CIK.

Measured 2026-12-03 (2 logical CPUs shared with other suites; figures and discussion in
docs/benchmarks.md), ``python -m benchmarks.bench_sec 2000 --with-fetch``:

    sec_refresh: company facts of 2,000 members in 274.5 s (target <= 300 s met), SEC part with
               submissions 496.3 s, with the snapshot 501.2 s; incremental rerun 223.3 s (2,000 x 304);
               raw cache 624 MB; peak RSS 391 MB
    sec_bulk_rss: 2,000 members read in 31.9 s, peak RSS 219 MB (limit 500 MB)
    sec_fetch: 222.4 s on an idle machine (8.99 req/s), 270.0 s under a load average of 6

    python -m benchmarks.bench_sec [MEMBERS] [--with-fetch]
"""

from __future__ import annotations

import gzip
import json
import random
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path
from typing import Any

from benchmarks import PROJECT_ROOT, SHARED_DATA, Skip, result

MEMBERS = 2_000
WORKERS = 4
RATE = 9.0
LATENCY_S = (0.05, 0.15)
YAHOO_REQUESTS_PER_TICKER = 9  # quoteSummary modules + three statements x annual/quarterly/trailing
REAL = SHARED_DATA / "sec" / "companyfacts"
TRIMMED = PROJECT_ROOT / "tests" / "data_files" / "sec"


def _real_bodies() -> list[bytes]:
    files = sorted(REAL.glob("CIK*.json"))
    if not files:
        raise Skip(f"no real SEC bodies in {REAL}")
    return [f.read_bytes() for f in files]


def _with_cik(body: bytes, cik: int) -> bytes:
    doc = json.loads(body)
    doc["cik"] = cik
    return json.dumps(doc, separators=(",", ":")).encode()


def bench_sec_fetch(members: int = MEMBERS) -> dict[str, Any]:
    """Fetch + parse company facts of ``members`` companies at 9 req/s against a local server."""
    from desktop.data import sec_client, sec_facts
    from desktop.services.refresh import DEFAULT_MAX_RATE
    from tests.data.sec_server import Reply, SecServer

    real = _real_bodies()
    zipped = [gzip.compress(b, compresslevel=6) for b in real]
    rng = random.Random(14)
    server = SecServer({}, latency_s=lambda: rng.uniform(*LATENCY_S))
    ciks = {f"M{i:04d}": f"{i + 1:010d}" for i in range(members)}
    for i, cik in enumerate(ciks.values()):
        # Pre-compressed like the SEC's own gzip answers (the server thread must not be the bottleneck).
        server.then(f"/api/xbrl/companyfacts/CIK{cik}.json",
                    Reply(200, zipped[i % len(zipped)], headers={"Content-Encoding": "gzip"}))
    server.start()
    try:
        client = sec_client.SecClient("Pickaxe benchmark bench@example.com", max_rate=RATE, www=server.url,
                                      data=server.url)
        counts: list[int] = []

        def parse(r: sec_client.FetchResult) -> None:
            if r.facts is None:
                raise RuntimeError(f"benchmark fetch failed for {r.symbol}: {r.error}")
            counts.append(len(sec_facts.parse_companyfacts(r.facts.body, r.facts.url, keep_facts=False).rows))

        started = time.perf_counter()
        sec_client.fetch_companies(client, ciks, workers=WORKERS, with_submissions=False, on_result=parse)
        elapsed = time.perf_counter() - started
        rows = sum(counts)
    finally:
        server.stop()
    yahoo_s = members * YAHOO_REQUESTS_PER_TICKER / DEFAULT_MAX_RATE
    return {**result(elapsed, None, members, yahoo_s), "requests_per_s": client.requests_sent / elapsed,
            "statement_rows": rows,
            "settings": f"{WORKERS} workers, {LATENCY_S[0] * 1000:.0f}-{LATENCY_S[1] * 1000:.0f} ms latency, "
                        f"{RATE:g} req/s; baseline yfinance {YAHOO_REQUESTS_PER_TICKER} req/ticker at "
                        f"{DEFAULT_MAX_RATE:g} req/s"}


# The child's own peak (VmHWM): ru_maxrss would also count the parent's resident size at the fork,
# which after bench_sec_fetch (whose results keep every body) was 5.9 GB.
_CHILD = """
import sys, time
from desktop.data.sec_bulk import read_companyfacts_bulk
t = time.perf_counter()
r = read_companyfacts_bulk(sys.argv[1])
hwm = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:"))
print(r.members_read, len(r.skipped), time.perf_counter() - t, hwm / 1024)
"""


def peak_rss_mb() -> float:
    """This process's peak resident size (Linux VmHWM), in MB."""
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:")) / 1024


def bench_sec_bulk_rss(members: int = MEMBERS) -> dict[str, Any]:
    """Peak RSS of the bulk reader on a synthetic ``members``-member zip of real bodies."""
    real = _real_bodies()
    trimmed = [f.read_bytes() for f in sorted(TRIMMED.glob("CIK*_trimmed_sec_body.json"))]
    with tempfile.TemporaryDirectory() as folder:
        archive = Path(folder) / "companyfacts.zip"
        with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
            for i in range(members):
                body = real[i] if i < len(real) else trimmed[i % len(trimmed)]
                zf.writestr(f"CIK{i + 1:010d}.json", _with_cik(body, i + 1))
        size_mb = archive.stat().st_size / 2**20
        out = subprocess.run([sys.executable, "-c", _CHILD, str(archive)], capture_output=True, text=True,
                             cwd=PROJECT_ROOT, check=True).stdout.split()
    read, skipped, seconds, rss_mb = int(out[0]), int(out[1]), float(out[2]), float(out[3])
    if read != members or skipped:
        raise RuntimeError(f"bulk benchmark read {read} of {members} members, skipped {skipped}")
    return {**result(seconds, rss_mb, members), "archive_mb": size_mb, "peak_rss_mb": rss_mb}


SUBMISSIONS = SHARED_DATA / "sec" / "submissions"


class _CikServer:
    """A 127.0.0.1 SEC that serves the real company-facts bodies under any CIK, cheaply: each body is
    gzip-compressed once without its leading ``{"cik":N`` and answered as two gzip members (a tiny
    one with the asked CIK, then the stored rest), which a gzip reader decodes as one body."""

    def __init__(self, facts: list[bytes], submissions: list[bytes], tickers: bytes, latency: Any) -> None:
        import gzip
        import re

        from tests.data.sec_server import LAST_MODIFIED, Reply, SecServer

        self.rests = []
        for body in facts:
            head = re.match(rb'\s*\{\s*"cik"\s*:\s*"?\d+"?', body)
            if head is None:
                raise RuntimeError("a company-facts body that does not start with its CIK")
            self.rests.append(gzip.compress(body[head.end():], compresslevel=6))
        self.subs = [gzip.compress(b, compresslevel=6) for b in submissions]
        self.tickers = gzip.compress(tickers, compresslevel=6)
        outer = self

        class Server(SecServer):
            def _next(self, path: str) -> Reply:
                return outer.reply(path, Reply, LAST_MODIFIED)

        self.server = Server({}, latency_s=latency)

    def reply(self, path: str, reply: Any, modified: str) -> Any:
        import gzip

        name = path.rsplit("/", 1)[-1]
        headers = {"Content-Encoding": "gzip", "Last-Modified": modified, "ETag": f'"{name}"'}
        if path == "/files/company_tickers.json":
            return reply(200, self.tickers, headers=headers)
        cik = int(name[3:13])
        if path.startswith("/api/xbrl/companyfacts/"):
            rest = self.rests[cik % len(self.rests)]
            return reply(200, gzip.compress(b'{"cik":%d' % cik, compresslevel=1) + rest, headers=headers)
        return reply(200, self.subs[cik % len(self.subs)], headers=headers)


def bench_sec_refresh(members: int = MEMBERS) -> dict[str, Any]:
    """The refresh service's SEC part for ``members`` companies (company facts and submissions of the
    real bodies, 9 req/s, 50-150 ms latency), then an incremental rerun where every company is due and
    the SEC answers 304. Yahoo is the scripted provider (no latency): the SEC part is what is timed."""
    import os
    import random
    from datetime import timedelta

    from desktop.services.refresh import DEFAULT_MAX_RATE, refresh
    from desktop.services.sec_refresh import SecSettings
    from desktop.store.db import open_database
    from tests.services.refresh_fakes import ScriptedProvider

    facts = _real_bodies()
    subs = [f.read_bytes() for f in sorted(SUBMISSIONS.glob("CIK*.json")) if "-submissions-" not in f.name]
    symbols = [f"M{i:04d}" for i in range(members)]
    table = {str(i): {"cik_str": i + 1, "ticker": s, "title": f"Benchmark company {i}"} for i, s in enumerate(symbols)}
    rng = random.Random(14)
    fake = _CikServer(facts, subs, json.dumps(table).encode(), lambda: rng.uniform(*LATENCY_S))
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bench.sqlite3"
        db = open_database(path)
        fake.server.start()
        try:
            sec = SecSettings("Pickaxe benchmark bench@example.com", max_rate=RATE, workers=WORKERS,
                              client_options={"www": fake.server.url, "data": fake.server.url})
            marks: dict[str, float] = {}
            facts_done = [0]
            started = time.perf_counter()

            def progress(done: int, total: int, message: str = "") -> None:
                if message.startswith("SEC ") and "company facts fetched" in message:
                    facts_done[0] += 1
                    if facts_done[0] == members:
                        marks["facts"] = time.perf_counter() - started
                if message.startswith("SEC "):
                    marks["sec"] = time.perf_counter() - started

            first = refresh(db, ScriptedProvider(), symbols, max_rate=10_000.0, progress=progress, sec=sec)
            total = time.perf_counter() - started
            if first.sec is None or first.sec.fetched != members or first.failures:
                raise RuntimeError(f"benchmark refresh incomplete: {first.sec} {first.failures[:3]}")
            requests_first = first.sec.requests
            db_mb = sum(p.stat().st_size for p in Path(folder).glob("bench.sqlite3*")) / 2**20
            started = time.perf_counter()
            again = refresh(db, ScriptedProvider(), symbols, max_rate=10_000.0, sec=sec,
                            max_age={"sec_facts": timedelta(0), "prices": timedelta(days=1), "info": timedelta(days=1),
                                     "statements": timedelta(days=1)}, build_snapshot=False)
            incremental = time.perf_counter() - started
            if again.sec is None or again.sec.unchanged != members or again.sec.fetched:
                raise RuntimeError(f"benchmark rerun was not incremental: {again.sec}")
        finally:
            fake.server.stop()
            db.dispose()
    yahoo_s = members * YAHOO_REQUESTS_PER_TICKER / DEFAULT_MAX_RATE
    return {**result(marks["facts"], None, members, yahoo_s), "sec_part_s": marks["sec"], "total_s": total,
            "incremental_s": incremental, "requests_first": requests_first, "requests_again": again.sec.requests,
            "db_mb": db_mb, "cpus": os.cpu_count(), "process_peak_rss_mb": peak_rss_mb(),
            "settings": f"{WORKERS} workers, {LATENCY_S[0] * 1000:.0f}-{LATENCY_S[1] * 1000:.0f} ms latency, "
                        f"{RATE:g} req/s; {len(facts)} real company-facts bodies, {len(subs)} real submissions"}


if __name__ == "__main__":
    n = int(sys.argv[1]) if len(sys.argv) > 1 else MEMBERS
    # The refresh first, in a fresh process, so that its peak RSS is its own.
    sec = bench_sec_refresh(n)
    print(f"sec_refresh: {n:,} members: company facts of all in {sec['median_s']:.1f} s, SEC part (with "
          f"submissions) {sec['sec_part_s']:.1f} s, refresh with snapshot {sec['total_s']:.1f} s, "
          f"{sec['requests_first']:,} requests; incremental rerun {sec['incremental_s']:.1f} s "
          f"({sec['requests_again']:,} requests, all 304); store {sec['db_mb']:.0f} MB; peak RSS "
          f"{sec['process_peak_rss_mb']:.0f} MB (with the local server); {sec['settings']}")
    bulk = bench_sec_bulk_rss(n)
    print(f"sec_bulk_rss: {n:,} members ({bulk['archive_mb']:.0f} MB zip) read in {bulk['median_s']:.1f} s, "
          f"peak RSS {bulk['peak_rss_mb']:.0f} MB (limit 500 MB)")
    if "--with-fetch" in sys.argv:
        fetch = bench_sec_fetch(n)
        print(f"sec_fetch: {n:,} companies in {fetch['median_s']:.1f} s ({fetch['requests_per_s']:.2f} req/s; "
              f"{fetch['settings']}); yfinance baseline {fetch['baseline_median_s']:,.0f} s -> ratio "
              f"{fetch['median_s'] / fetch['baseline_median_s']:.3f}; {fetch['statement_rows']:,} statement rows")

"""Kill -9 (issue #13) during the SEC work of issue #14: a refresh resumes without loss, a bulk import
leaves the store exactly as it was.

The SEC is a local 127.0.0.1 server in this process serving committed trimmed real bodies under
synthetic CIKs; the work runs in a child process that is SIGKILLed mid-way.
"""

from __future__ import annotations

import hashlib
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from desktop.services import sec_refresh
from desktop.services.refresh import refresh
from desktop.services.sec_import import import_companyfacts
from desktop.store import rawcache, snapshots
from desktop.store.db import open_database
from tests.conftest import PROJECT_ROOT
from tests.data.sec_server import sec_server, synthetic_bodies
from tests.services.refresh_fakes import ScriptedProvider

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")
UA = "Pickaxe kill tests kill-tests@example.com"
DEADLINE_S = 60  # a guard against hangs, not a timing assertion


def _env() -> dict[str, str]:
    return {**{k: v for k, v in os.environ.items() if not k.startswith("PICKAXE_SEC")}, "PYTHONPATH": str(PROJECT_ROOT)}


def _count(path: Path, sql: str) -> int:
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5) as conn:
            return int(conn.execute(sql).fetchone()[0])
    except sqlite3.OperationalError:  # not created yet, or busy
        return 0


@contextmanager
def _child(*argv: str) -> Iterator[subprocess.Popen[bytes]]:
    """A Python child running ``argv``; killed on the way out if still alive."""
    child = subprocess.Popen([sys.executable, "-c", *argv], env=_env(), cwd=PROJECT_ROOT,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        yield child
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()


def _kill(child: subprocess.Popen[bytes]) -> None:
    assert child.poll() is None, child.communicate()
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=10)
    assert child.returncode == -signal.SIGKILL


REFRESH_CHILD = textwrap.dedent("""
    import sys
    from desktop.services.refresh import refresh
    from desktop.services.sec_refresh import SecSettings
    from desktop.store.db import open_database
    from tests.services.refresh_fakes import ScriptedProvider

    db = open_database(sys.argv[1])
    url, symbols = sys.argv[2], sys.argv[3].split(",")
    sec = SecSettings(sys.argv[4], max_rate=10.0, workers=2, client_options={"www": url, "data": url})
    refresh(db, ScriptedProvider(latency=0.01), symbols, max_rate=1000.0, workers=2, build_snapshot=False, sec=sec)
    print("finished")
""")


def test_sigkill_mid_sec_refresh_then_resume(tmp_path: Path) -> None:
    bodies, tickers = synthetic_bodies(30)
    path = tmp_path / "killed.sqlite3"
    committed_sql = "SELECT count(*) FROM raw_payloads WHERE source = 'sec' AND kind = 'parsed'"
    with sec_server(bodies, latency_s=0.02) as server:
        with _child(REFRESH_CHILD, str(path), server.url, ",".join(tickers), UA) as child:
            deadline = time.monotonic() + DEADLINE_S
            while _count(path, committed_sql) < 8 and time.monotonic() < deadline and child.poll() is None:
                time.sleep(0.01)
            _kill(child)

        db = open_database(path)
        try:
            with db.session() as session:
                before = rawcache.load_raw(session, "sec", ["companyfacts", "parsed", "state", "submissions"])
            done = {cik for cik, kind in before if kind == "parsed"}
            assert 8 <= len(done) < 30
            # One transaction per company: every company with a parse has its body and a state saying so.
            for cik in done:
                assert before[(cik, "companyfacts")].status == "ok"
                assert "checked" in before[(cik, "state")].payload
            assert {cik for cik, kind in before if kind == "companyfacts"} == done

            first = len(server.seen)
            report = refresh(db, ScriptedProvider(), list(tickers), max_rate=1000.0, build_snapshot=False,
                             sec=sec_refresh.SecSettings(UA, max_rate=10.0, workers=2,
                                                         client_options={"www": server.url, "data": server.url}))
            asked = {s.path for s in server.seen[first:] if s.path.startswith("/api/xbrl/")}
            assert not any(cik in p for p in asked for cik in done)  # nothing committed is fetched again
            assert report.sec is not None and report.sec.fetched == 30 - len(done) and report.failures == []
            with db.session() as session:
                after = rawcache.load_raw(session, "sec", ["companyfacts", "parsed"])
            assert {cik for cik, kind in after if kind == "parsed"} == set(tickers.values())
            assert all(after[key].payload == before[key].payload and after[key].fetched_at == before[key].fetched_at
                       for key in before if key[1] in ("companyfacts", "parsed"))  # nothing lost or redone
        finally:
            db.dispose()


IMPORT_CHILD = textwrap.dedent("""
    import sys
    from desktop.services.sec_import import import_companyfacts
    from desktop.store.db import open_database

    def progress(done, total, message=""):
        print(f"progress {done} {total} {message}", flush=True)

    db = open_database(sys.argv[1])
    import_companyfacts(db, [sys.argv[2]], tickers=sys.argv[3], progress=progress)
    print("finished", flush=True)
""")


def _archive(folder: Path, n: int) -> tuple[Path, Path]:
    folder.mkdir()
    bodies, _tickers = synthetic_bodies(n)
    archive = folder / "companyfacts.zip"
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        for path_, body in bodies.items():
            if path_.startswith("/api/xbrl/companyfacts/"):
                zf.writestr(path_.rsplit("/", 1)[1], body)
    ticker_map = folder / "company_tickers.json"
    ticker_map.write_bytes(bodies["/files/company_tickers.json"])
    return archive, ticker_map


def _store_digest(path: Path) -> tuple[list[tuple[object, ...]], str]:
    """The snapshot list and a digest of every snapshot table's rows (what a screen can read)."""
    digest = hashlib.sha256()
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5) as conn:
        listing = conn.execute("SELECT * FROM snapshots ORDER BY id").fetchall()
        for table in ("snapshots", "snapshot_securities", "snapshot_parts", "blobs"):
            for row in conn.execute(f"SELECT * FROM {table} ORDER BY 1, 2"):  # noqa: S608 - fixed names
                digest.update(repr(row).encode())
    return listing, digest.hexdigest()


@pytest.mark.parametrize("when", ["reading", "saving"])
def test_sigkill_mid_sec_bulk_import_leaves_the_store_as_it_was(tmp_path: Path, when: str) -> None:
    path = tmp_path / "bulk.sqlite3"
    small, small_map = _archive(tmp_path / "small", 5)
    db = open_database(path)
    try:
        import_companyfacts(db, [small], tickers=small_map)  # the store before: one snapshot
    finally:
        db.dispose()
    before = _store_digest(path)
    big, big_map = _archive(tmp_path / "big", 300)
    finished_first = False
    with _child(IMPORT_CHILD, str(path), str(big), str(big_map)) as child:
        assert child.stdout is not None
        for line in iter(child.stdout.readline, b""):
            words = line.split()
            if words[:1] == [b"progress"] and int(words[1]) > 0:
                done, total = int(words[1]), int(words[2])
                if (when == "reading" and b"Reading" in line and done >= total // 2) or \
                        (when == "saving" and b"Saving" in line):
                    break
        if when == "saving":
            time.sleep(0.02)  # into the snapshot's transaction (about 0.1 s for 300 companies)
        if child.poll() is None:
            _kill(child)
        else:
            finished_first = True  # the save won the race: then it must be complete
    db = open_database(path)
    try:
        with db.session() as session:
            infos = snapshots.list_snapshots(session)
        if finished_first:
            assert len(infos) == 2
        else:
            assert _store_digest(path) == before  # all or nothing: nothing
            # and the import, run again, completes
            report = import_companyfacts(db, [big], tickers=big_map)
            assert report.snapshot_id is not None
        with db.session() as session:
            latest = snapshots.load_dataset(session)
        assert latest.history["symbol"].nunique() == 300
    finally:
        db.dispose()

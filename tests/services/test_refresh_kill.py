"""A refresh process killed with SIGKILL mid-way resumes without refetching what it committed."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from desktop.services.refresh import refresh
from desktop.store import rawcache
from desktop.store.db import open_database
from tests.conftest import PROJECT_ROOT
from tests.services.refresh_fakes import ScriptedProvider, tickers

CHILD = textwrap.dedent("""
    import sys
    from desktop.services.refresh import refresh
    from desktop.store.db import open_database
    from tests.services.refresh_fakes import ScriptedProvider, tickers

    db = open_database(sys.argv[1])
    refresh(db, ScriptedProvider(latency=0.02), tickers(40), max_rate=1000.0, workers=2, build_snapshot=False)
    print("finished")
""")


def rows(path: Path) -> int:
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5) as conn:
            return int(conn.execute("SELECT count(*) FROM raw_payloads").fetchone()[0])
    except sqlite3.OperationalError:  # not created yet
        return 0


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")
def test_sigkill_mid_refresh_then_resume(tmp_path: Path) -> None:
    path = tmp_path / "killed.sqlite3"
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(path)], env=env, cwd=PROJECT_ROOT,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while rows(path) < 30 and time.monotonic() < deadline and child.poll() is None:
            time.sleep(0.01)
        assert child.poll() is None, child.communicate()
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=10)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert child.returncode == -signal.SIGKILL

    db = open_database(path)
    try:
        with db.session() as session:
            entries = rawcache.load_raw(session, "yahoo", ["info", "statements", "prices"])
        by_symbol: dict[str, set[str]] = {}
        for symbol, kind in entries:
            by_symbol.setdefault(symbol, set()).add(kind)
        committed = set(by_symbol)
        assert 10 <= len(committed) < 40
        # one transaction per ticker: no ticker is half-written, even when killed mid-commit
        assert all(kinds == {"info", "statements", "prices"} for kinds in by_symbol.values())

        again = ScriptedProvider()
        report = refresh(db, again, tickers(40), max_rate=1000.0, build_snapshot=False)
        assert again.fetched_symbols().isdisjoint(committed)
        assert report.failures == []
        with db.session() as session:
            after = rawcache.load_raw(session, "yahoo", ["info", "statements", "prices"])
        assert {s for s, _ in after} == set(tickers(40)) | {"^TNX", "IWM", "SPY"}
        assert all(after[key].payload == entry.payload and after[key].fetched_at == entry.fetched_at
                   for key, entry in entries.items())  # nothing committed was lost or redone
    finally:
        db.dispose()

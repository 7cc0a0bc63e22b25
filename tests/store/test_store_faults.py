"""Faults: a writer killed (SIGKILL) in the middle of saving snapshots or screens, again and again,
never corrupts the database nor loses anything committed; two writers on one SQLite file both get
their work in."""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa
from store_synth import make_dataset
from store_writer import N_SCREENS, screen_definition

from desktop.store import screens, snapshots
from desktop.store.db import Database, open_database
from desktop.store.models import Blob, SnapshotPart

WRITER = Path(__file__).resolve().parent / "store_writer.py"
PROJECT = Path(__file__).resolve().parents[2]


def _start(url: str, mode: str, tag: str, limit: int | None = None) -> subprocess.Popen[str]:
    args = [sys.executable, str(WRITER), url, mode, tag] + ([str(limit)] if limit else [])
    env = dict(os.environ, PYTHONPATH=str(PROJECT))
    return subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                            cwd=PROJECT)


def _wait_ready(proc: subprocess.Popen[str]) -> None:
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if line.strip() != "ready":
        proc.kill()
        raise AssertionError(f"writer did not start: {line!r} {proc.stderr.read() if proc.stderr else ''}")


def _kill_after(proc: subprocess.Popen[str], delay: float) -> tuple[int, bool]:
    """SIGKILL after ``delay`` s; returns (transactions reported committed, killed mid-transaction)."""
    time.sleep(delay)
    proc.send_signal(signal.SIGKILL)
    out, _ = proc.communicate(timeout=30)
    assert proc.returncode == -signal.SIGKILL, "the writer finished before it was killed"
    committed = out.count("commit ")
    mid_write = bool(out.strip()) and out.strip().splitlines()[-1].startswith("begin")
    return committed, mid_write


def _integrity_ok(path: Path) -> None:
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    finally:
        conn.close()


def _check_snapshots(db: Database, baseline_id: int, baseline, expected_new: range,  # noqa: ANN001
                     checked: set[int]) -> None:
    with db.read_session() as s:
        loaded = snapshots.load_dataset(s, baseline_id)
        pd.testing.assert_frame_equal(loaded.securities, baseline.securities.sort_index())
        pd.testing.assert_frame_equal(loaded.prices, baseline.prices[sorted(baseline.prices.columns)],
                                      check_freq=False)
        infos = [i for i in snapshots.list_snapshots(s) if i.id != baseline_id]
        assert len(infos) in expected_new, (len(infos), expected_new)
        for info in infos:  # every snapshot that exists is complete
            if info.id in checked:
                continue
            checked.add(info.id)
            data = snapshots.load_dataset(s, info.id, with_provenance=False)
            assert len(data.securities) == info.n_securities == 300
            assert data.prices.shape == (500, 300) and not data.prices.isna().all().any()
        dangling = s.scalar(sa.select(sa.func.count()).select_from(SnapshotPart)
                            .outerjoin(Blob, Blob.digest == SnapshotPart.digest).where(Blob.digest.is_(None)))
        assert dangling == 0


def _check_screens(db: Database, tag: str, expected_rounds: range) -> None:
    with db.session() as s:
        assert screens.get_screen(s, "Baseline").definition == {"version": 1, "keep": True}
        names = [x.name for x in screens.list_screens(s) if x.name.startswith(f"{tag}-")]
        if not names:
            assert 0 in expected_rounds
            return
        assert len(names) == N_SCREENS  # a transaction saves all 20 or none
        for name in names:
            n = int(name.rsplit("-", 1)[1])
            history = screens.screen_history(s, name)
            assert len(history) in expected_rounds
            for version in history:
                assert version.definition == screen_definition(tag, n, version.version - 1)


def _run_kills(url: str, mode: str, kills: int, sqlite_path: Path | None, db_check) -> int:  # noqa: ANN001
    """Kill ``kills`` writers; returns how many kills landed inside a transaction."""
    rng = random.Random(4)
    committed_total = 0
    mid_writes = 0
    for _ in range(kills):
        proc = _start(url, mode, "w")
        _wait_ready(proc)
        committed, mid = _kill_after(proc, rng.uniform(0.05, 0.5))
        mid_writes += mid
        if sqlite_path is not None:
            _integrity_ok(sqlite_path)
        # The last transaction may have committed just before the kill, before its "commit" line.
        with open_database(url) as db:
            db_check(db, range(committed_total + committed, committed_total + committed + 2))
            with db.session() as s:
                if mode == "snapshot":
                    actual = len(snapshots.list_snapshots(s)) - 1
                else:
                    names = [x for x in screens.list_screens(s) if x.name.startswith("w-")]
                    actual = names[0].version if names else 0
        committed_total = actual
    return mid_writes


@pytest.mark.slow
def test_kill_during_snapshot_save(db_url: str, tmp_path: Path) -> None:
    baseline = make_dataset(40, 60, seed=3)
    with open_database(db_url) as db, db.session() as s:
        baseline_id = snapshots.save_snapshot(s, baseline, {"baseline": True})
    sqlite_path = tmp_path / "pickaxe.sqlite3" if db_url.startswith("sqlite") else None
    kills = 12 if sqlite_path else 4
    checked: set[int] = set()
    mid = _run_kills(db_url, "snapshot", kills, sqlite_path,
                     lambda db, expected: _check_snapshots(db, baseline_id, baseline, expected, checked))
    assert mid >= kills // 3, f"only {mid} of {kills} kills landed inside a transaction"


@pytest.mark.slow
def test_kill_during_screen_save(db_url: str, tmp_path: Path) -> None:
    with open_database(db_url) as db, db.session() as s:
        screens.save_screen(s, "Baseline", {"version": 1, "keep": True})
    sqlite_path = tmp_path / "pickaxe.sqlite3" if db_url.startswith("sqlite") else None
    kills = 12 if sqlite_path else 4
    mid = _run_kills(db_url, "screens", kills, sqlite_path,
                     lambda db, expected: _check_screens(db, "w", expected))
    assert mid >= kills // 3, f"only {mid} of {kills} kills landed inside a transaction"


@pytest.mark.parametrize("mode", ["screens"])
def test_two_writers_on_one_file(db_url: str, tmp_path: Path, mode: str) -> None:
    open_database(db_url).dispose()
    procs = [_start(db_url, mode, tag, limit=15) for tag in ("a", "b")]
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        assert out.count("commit ") == 15
    if db_url.startswith("sqlite"):
        _integrity_ok(tmp_path / "pickaxe.sqlite3")
    with open_database(db_url) as db, db.session() as s:
        for tag in ("a", "b"):
            for n in range(N_SCREENS):
                history = screens.screen_history(s, f"{tag}-{n}")
                assert [h.definition for h in history] == [screen_definition(tag, n, i) for i in range(15)]

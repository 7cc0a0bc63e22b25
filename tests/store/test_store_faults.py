"""Faults: a writer killed (SIGKILL) in the middle of saving snapshots or screens, again and again,
never corrupts the database nor loses anything committed; two writers on one SQLite file both get
their work in."""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import time
import traceback
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa
import store_writer
from store_synth import make_dataset
from store_writer import N_SCREENS, screen_definition

from desktop.engine.dataset import Dataset
from desktop.store import screens, snapshots
from desktop.store.db import Database, open_database
from desktop.store.models import Blob, SnapshotPart


class Writer:
    """A forked child running :func:`store_writer.run`; its begin/commit lines come through a pipe.

    Forking (instead of starting an interpreter) keeps 24+ kills fast. The parent holds no open
    database connection when it forks (every check disposes its engine)."""

    def __init__(self, url: str, mode: str, tag: str, limit: int = 10**9, base: Dataset | None = None) -> None:
        read_fd, write_fd = os.pipe()
        self.pid = os.fork()
        if self.pid == 0:  # the child: write, report, and never return into pytest
            os.close(read_fd)
            code = 0
            try:
                store_writer.run(url, mode, tag, limit, lambda line: os.write(write_fd, f"{line}\n".encode()),
                                 base)
            except BaseException:  # noqa: BLE001 - report anything to the parent, then exit
                os.write(write_fd, f"error {traceback.format_exc()!r}\n".encode())
                code = 1
            finally:
                os._exit(code)
        os.close(write_fd)
        self.stream = os.fdopen(read_fd, "r")
        self.lines: list[str] = []

    def read_until(self, wanted: str) -> None:
        while True:
            line = self.stream.readline()
            if not line:
                raise AssertionError(f"writer stopped early: {self.lines[-3:]}")
            self.lines.append(line.strip())
            if line.strip().startswith("error"):
                raise AssertionError(line)
            if line.strip() == wanted:
                return

    def kill(self) -> None:
        os.kill(self.pid, signal.SIGKILL)
        _, status = os.waitpid(self.pid, 0)
        assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL, "finished before the kill"
        self.lines += [x.strip() for x in self.stream.read().splitlines() if x.strip()]
        self.stream.close()

    def wait(self) -> int:
        self.lines += [x.strip() for x in self.stream.read().splitlines() if x.strip()]
        self.stream.close()
        _, status = os.waitpid(self.pid, 0)
        return os.waitstatus_to_exitcode(status)

    @property
    def committed(self) -> int:
        return sum(1 for x in self.lines if x.startswith("commit "))


def _kill_during(writer: Writer, transaction: int, delay: float) -> tuple[int, bool]:
    """SIGKILL ``delay`` s after the writer reported starting transaction ``transaction``.

    Returns (transactions it reported committed, whether it was inside a transaction when killed).
    """
    writer.read_until(f"begin {transaction}")
    time.sleep(delay)
    writer.kill()
    return writer.committed, writer.lines[-1].startswith("begin")


def _integrity_ok(path: Path) -> None:
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    finally:
        conn.close()


def _check_snapshots(db: Database, baseline_id: int, baseline, expected_new: range,  # noqa: ANN001
                     checked: set[int], writer_base: Dataset) -> None:
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
            expected = writer_base.prices * (1 + info.summary["round"] / 1000)
            pd.testing.assert_frame_equal(data.prices, expected[sorted(expected.columns)], check_freq=False)
        dangling = s.scalar(sa.select(sa.func.count()).select_from(SnapshotPart)
                            .outerjoin(Blob, Blob.digest == SnapshotPart.digest).where(Blob.digest.is_(None)))
        assert dangling == 0


def _check_screens(db: Database, tag: str, expected_rounds: range) -> None:
    with db.read_session() as s:
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


def _run_kills(url: str, mode: str, kills: int, sqlite_path: Path | None, db_check,  # noqa: ANN001
               base: Dataset | None = None) -> int:
    """Kill ``kills`` writers; returns how many kills landed inside a transaction."""
    rng = random.Random(4)
    committed_total = 0
    mid_writes = 0
    for _ in range(kills):
        proc = Writer(url, mode, "w", base=base)
        # Transactions take well over 50 ms (a 300-stock snapshot, or 20 screen saves), so most
        # kills land inside one; some land just after a commit, which must be kept too.
        committed, mid = _kill_during(proc, rng.randint(0, 2), rng.uniform(0.0, 0.05))
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
    kills = 15 if sqlite_path else 5
    checked: set[int] = set()
    writer_base = store_writer.writer_dataset()
    mid = _run_kills(db_url, "snapshot", kills, sqlite_path,
                     lambda db, expected: _check_snapshots(db, baseline_id, baseline, expected, checked,
                                                           writer_base),
                     base=writer_base)
    print(f"{mid} of {kills} kills landed inside a transaction")
    assert mid >= kills // 3, f"only {mid} of {kills} kills landed inside a transaction"


@pytest.mark.slow
def test_kill_during_screen_save(db_url: str, tmp_path: Path) -> None:
    with open_database(db_url) as db, db.session() as s:
        screens.save_screen(s, "Baseline", {"version": 1, "keep": True})
    sqlite_path = tmp_path / "pickaxe.sqlite3" if db_url.startswith("sqlite") else None
    kills = 15 if sqlite_path else 5
    mid = _run_kills(db_url, "screens", kills, sqlite_path,
                     lambda db, expected: _check_screens(db, "w", expected))
    print(f"{mid} of {kills} kills landed inside a transaction")
    assert mid >= kills // 3, f"only {mid} of {kills} kills landed inside a transaction"


@pytest.mark.parametrize("mode", ["screens"])
def test_two_writers_on_one_file(db_url: str, tmp_path: Path, mode: str) -> None:
    open_database(db_url).dispose()
    procs = [Writer(db_url, mode, tag, limit=15) for tag in ("a", "b")]
    for proc in procs:
        assert proc.wait() == 0, proc.lines[-3:]
        assert proc.committed == 15
    if db_url.startswith("sqlite"):
        _integrity_ok(tmp_path / "pickaxe.sqlite3")
    with open_database(db_url) as db, db.session() as s:
        for tag in ("a", "b"):
            for n in range(N_SCREENS):
                history = screens.screen_history(s, f"{tag}-{n}")
                assert [h.definition for h in history] == [screen_definition(tag, n, i) for i in range(15)]

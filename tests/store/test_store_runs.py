"""Screen runs and "what entered / what left since last time"."""

from __future__ import annotations

import numpy as np
import pandas as pd
from store_synth import make_dataset

from desktop.store import runs, snapshots
from desktop.store.db import Database


def _ranked(symbols: list[str], scores: list[float] | None = None) -> pd.DataFrame:
    frame = pd.DataFrame({"rank": np.arange(1, len(symbols) + 1)}, index=pd.Index(symbols, name="symbol"))
    if scores is not None:
        frame["score"] = scores
    return frame


def test_record_and_changes(db: Database) -> None:
    with db.session() as s:
        sid = snapshots.save_snapshot(s, make_dataset(5, 3), {})
        assert runs.run_changes(s, "Survivors") == ([], [])
        first = runs.record_run(s, "Survivors", 1, {"version": 1}, sid, _ranked(["ZA", "ZB", "ZC"]))
        assert runs.run_changes(s, "Survivors") == ([], [])  # one run: nothing to compare
        runs.record_run(s, "Other", None, {}, sid, _ranked(["ZX"]))
        second = runs.record_run(s, "Survivors", 2, {"version": 1}, sid,
                                 _ranked(["ZD", "ZB", "ZE"], [3.0, np.nan, 1.0]))
    with db.session() as s:
        entered, exited = runs.run_changes(s, "Survivors")
        assert entered == ["ZD", "ZE"]  # latest run's rank order
        assert exited == ["ZA", "ZC"]  # previous run's rank order
        latest = runs.latest_runs(s, "Survivors", n=5)
        assert [r.id for r in latest] == [second, first]
        assert latest[0].symbols == ("ZD", "ZB", "ZE")
        assert latest[0].screen_version == 2 and latest[0].n_passed == 3
        assert runs.get_run(s, first).symbols == ("ZA", "ZB", "ZC")


def test_runs_survive_snapshot_deletion(db: Database) -> None:
    dataset = make_dataset(5, 3)
    with db.session() as s:
        sid = snapshots.save_snapshot(s, dataset, {})
        rid = runs.record_run(s, "Survivors", None, {}, sid, _ranked(["ZA"]))
    with db.session() as s:
        snapshots.delete_snapshot(s, sid)
    with db.session() as s:
        run = runs.get_run(s, rid)
        assert run.snapshot_id is None and run.snapshot_as_of == dataset.as_of
        assert run.symbols == ("ZA",)
        assert runs.delete_runs(s, "Survivors") == 1
        assert runs.latest_runs(s, "Survivors") == []


def test_empty_result_is_recorded(db: Database) -> None:
    with db.session() as s:
        sid = snapshots.save_snapshot(s, make_dataset(3, 3), {})
        runs.record_run(s, "Strict", 1, {}, sid, _ranked(["ZA"]))
        runs.record_run(s, "Strict", 1, {}, sid, _ranked([]))
        assert runs.run_changes(s, "Strict") == ([], ["ZA"])

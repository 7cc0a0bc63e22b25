"""The store (issue #4): loading the latest snapshot of the full universe in under 300 ms.

The universe is :func:`benchmarks.universe` - the real files of ``../shared/data`` merged exactly as
importing them would (about 2,000 members with the wide file of member closes), or the synthetic
universe when that folder is absent. It is saved once as the latest snapshot of a SQLite store.

* ``store_load_latest``: ``load_dataset(with_prices=False, with_provenance=False)`` - the
  securities frame a screen runs on (the 300 ms target). Baseline: fetching the same rows with a
  raw ``sqlite3`` cursor (no JSON decoding, no DataFrame).
* ``store_load_latest_prices``: the same plus every daily close (2,000 x ~1,200 for real data).
  Baseline: fetching the same rows and price blobs raw.
* ``store_load_full``: everything, provenance included.
* ``store_save``: saving the universe as a new snapshot into a fresh database.

    python -m benchmarks.bench_store
"""

from __future__ import annotations

import sqlite3
import tempfile
from functools import cache
from pathlib import Path
from typing import Any

import benchmarks
from benchmarks import measure, result

REPEAT = 7


@cache
def _store() -> tuple[str, Path]:
    path = benchmarks.work_dir() / "bench-store.sqlite3"
    return benchmarks.make_store(path), path


def _load(**options: Any) -> Any:
    from desktop.store.db import open_database
    from desktop.store.snapshots import load_dataset

    url, _ = _store()
    db = open_database(url)
    try:
        # Time only the load, not opening the database (the app opens it once at start).
        def run() -> Any:
            with db.read_session() as session:
                return load_dataset(session, **options)

        median, peak = measure(run, repeat=REPEAT)
        dataset = run()
    finally:
        db.dispose()
    return median, peak, dataset


def _raw_fetch(with_prices: bool) -> float:
    _, path = _store()

    def run() -> int:
        conn = sqlite3.connect(path)
        try:
            rows = conn.execute("SELECT symbol, in_index, data FROM snapshot_securities "
                                "WHERE snapshot_id = (SELECT max(id) FROM snapshots)").fetchall()
            if with_prices:
                rows += conn.execute(
                    "SELECT p.symbol, b.payload FROM snapshot_parts p JOIN blobs b ON b.digest = p.digest "
                    "WHERE p.snapshot_id = (SELECT max(id) FROM snapshots) AND p.kind = 'prices'").fetchall()
            return len(rows)
        finally:
            conn.close()

    median, _ = measure(run, repeat=REPEAT, trace_memory=False)
    return median


def bench_store_load_latest() -> dict:
    median, peak, dataset = _load(with_prices=False, with_provenance=False)
    return result(median, peak, len(dataset.securities), _raw_fetch(False))


def bench_store_load_latest_prices() -> dict:
    median, peak, dataset = _load(with_prices=True, with_provenance=False)
    return result(median, peak, dataset.prices.size, _raw_fetch(True))


def bench_store_load_full() -> dict:
    median, peak, dataset = _load(with_prices=True, with_provenance=True)
    return result(median, peak, len(dataset.securities) + dataset.prices.size + len(dataset.provenance))


def bench_store_save() -> dict:
    from desktop.store.db import open_database
    from desktop.store.snapshots import save_snapshot

    dataset = benchmarks.universe()

    def run() -> None:
        with tempfile.TemporaryDirectory(dir=benchmarks.work_dir()) as folder:
            db = open_database(Path(folder) / "save.sqlite3")
            try:
                with db.session() as session:
                    save_snapshot(session, dataset, {"benchmark": True})
            finally:
                db.dispose()

    median, peak = measure(run, repeat=3)
    return result(median, peak, len(dataset.securities))


if __name__ == "__main__":
    print(benchmarks.describe_data())
    for name, fn in sorted(globals().items()):
        if name.startswith("bench_") and callable(fn):
            print(name, fn())

"""Importing the full universe from files (issue #3): under 5 s and 300 MB peak on this machine.

``bench_import_files``: the five imports a user runs - iShares holdings, the Finviz export, the SimFin
files, FRED DGS10 and the wide file of member closes - each through
``desktop.services.importing.import_files`` (parse, merge with the latest snapshot, save a new
snapshot in one transaction) into a fresh SQLite store. The baseline is the raw floor: reading the
same files with plain ``pandas.read_csv`` and nothing else.

``bench_parse_merge``: the same files parsed and merged once, without the store.

    python -m benchmarks.bench_import
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import benchmarks
from benchmarks import Skip, measure, result

REPEAT = 3


def _files() -> list[tuple[str, list[Path]]]:
    """(kind, paths) in import order; the real files in place, or the synthetic universe."""
    if benchmarks.data_kind() == "real":
        d = benchmarks.SHARED_DATA
        wide = sorted((d / "prices").glob("R2000_members_close_daily_wide_*.csv"))
        order = [
            ("ishares", sorted(d.glob(benchmarks.UNIVERSE_GLOB))[-1:]),
            ("finviz", sorted((d / "fundamentals").glob("finviz_export_*.csv"))),
            ("simfin", sorted((d / "statements").glob("simfin_*.csv")) + sorted((d / "profiles").glob("simfin_*.csv"))),
            ("fred", sorted((d / "prices").glob("DGS10_fred_1980-*.csv"))),
            ("prices", wide),
        ]
    else:
        files = benchmarks.source_files()
        order = [(k, files.get(k, [])) for k in ("ishares", "finviz", "simfin", "fred", "prices")]
    order = [(k, p) for k, p in order if p]
    if not order or order[0][0] != "ishares":
        raise Skip("no universe file to import")
    return order


def _import_all(order: list[tuple[str, list[Path]]]) -> int:
    from desktop.services.importing import import_files
    from desktop.store.db import open_database

    with tempfile.TemporaryDirectory(dir=benchmarks.work_dir()) as folder:
        db = open_database(str(Path(folder) / "bench.sqlite3"))
        try:
            last = None
            for kind, paths in order:
                last = import_files(db, kind, paths)
        finally:
            db.dispose()
    assert last is not None and last.snapshot_id == len(order)
    return last.members_total


def _raw_floor(order: list[tuple[str, list[Path]]]) -> None:
    import pandas as pd

    for kind, paths in order:
        for p in paths:
            if p.is_dir():
                continue
            sep = ";" if kind == "simfin" else ","
            skip = 9 if kind == "ishares" else 0
            pd.read_csv(p, sep=sep, skiprows=skip, dtype=str, on_bad_lines="skip", encoding_errors="replace")


def bench_import_files() -> dict[str, Any]:
    """Median wall time of the five imports into a fresh store, with the raw-read floor as baseline."""
    order = _files()
    median, peak = measure(lambda: _import_all(order), repeat=REPEAT)
    baseline, _ = measure(lambda: _raw_floor(order), repeat=REPEAT, trace_memory=False)
    return result(median, peak, n=_import_all(order), baseline_median_s=baseline)


def bench_parse_merge() -> dict[str, Any]:
    """Parse every file and merge once (no store): the share of the import spent in desktop.data."""
    from desktop.data.canonical import merge
    from desktop.services.importing import _read

    order = _files()

    def run() -> int:
        sources = [s for kind, paths in order for s in _read(kind, paths)]
        return len(merge(None, sources).members)

    median, peak = measure(run, repeat=REPEAT)
    baseline, _ = measure(lambda: _raw_floor(order), repeat=REPEAT, trace_memory=False)
    return result(median, peak, n=run(), baseline_median_s=baseline)


if __name__ == "__main__":
    import resource

    for fn in (bench_parse_merge, bench_import_files):
        print(fn.__name__, fn())
    print("max RSS of this process (MB):", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)

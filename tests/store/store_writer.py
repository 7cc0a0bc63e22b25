"""The writer the fault tests kill: writes to a database in a loop.

:func:`run` emits ``ready``, then ``begin I`` / ``commit I`` around every transaction, so whoever
kills it knows what was committed. Mode ``snapshot``: each transaction saves one snapshot of
fictional data; mode ``screens``: each transaction saves one new version of 20 screens.
The tests fork it (no interpreter start-up per kill); ``python store_writer.py URL MODE TAG [N]``
runs it by hand.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from store_synth import make_dataset  # noqa: E402

from desktop.engine.dataset import Dataset  # noqa: E402
from desktop.store import screens, snapshots  # noqa: E402
from desktop.store.db import open_database  # noqa: E402

N_SCREENS = 20


def screen_definition(tag: str, screen: int, round_no: int) -> dict[str, Any]:
    """Deterministic content, so the parent can check every committed version."""
    return {"version": 1, "name": f"{tag}-{screen}",
            "criteria": [{"field": "market_cap", "max": 1e9 + round_no}], "note": "x" * 2000}


def writer_dataset() -> Dataset:
    return make_dataset(300, 500, seed=7)


def run(url: str, mode: str, tag: str, limit: int, emit: Callable[[str], None],
        base: Dataset | None = None) -> None:
    db = open_database(url, busy_timeout=30)
    if mode == "snapshot" and base is None:
        base = writer_dataset()
    emit("ready")
    for i in range(limit):
        emit(f"begin {i}")
        with db.session() as session:
            if mode == "snapshot":
                assert base is not None
                dataset = replace(base, prices=base.prices * (1 + i / 1000))  # new price blobs
                snapshots.save_snapshot(session, dataset, {"writer": tag, "round": i})
            else:
                for n in range(N_SCREENS):
                    name = f"{tag}-{n}"
                    # Version v+1 always holds round v, across writer restarts.
                    done = screens.get_screen(session, name).version if screens.screen_exists(
                        session, name) else 0
                    screens.save_screen(session, name, screen_definition(tag, n, done))
        emit(f"commit {i}")
    db.dispose()


if __name__ == "__main__":
    run(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]) if len(sys.argv) > 4 else 10**9,
        lambda line: print(line, flush=True))

"""Child process for the fault tests: writes to a database in a loop until it is killed.

Usage: ``python store_writer.py URL MODE TAG [N]`` with MODE ``snapshot`` (each transaction saves
one snapshot of fictional data) or ``screens`` (each transaction saves one new version of 20
screens). Prints ``ready``, then ``begin I`` / ``commit I`` around every transaction (flushed), so
the parent knows what was committed when it killed us. Stops after N transactions when given.
"""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from store_synth import make_dataset  # noqa: E402

from desktop.store import screens, snapshots  # noqa: E402
from desktop.store.db import open_database  # noqa: E402

N_SCREENS = 20


def screen_definition(tag: str, screen: int, round_no: int) -> dict:
    """Deterministic content, so the parent can check every committed version."""
    return {"version": 1, "name": f"{tag}-{screen}",
            "criteria": [{"field": "market_cap", "max": 1e9 + round_no}], "note": "x" * 2000}


def main() -> int:
    url, mode, tag = sys.argv[1], sys.argv[2], sys.argv[3]
    limit = int(sys.argv[4]) if len(sys.argv) > 4 else 10**9
    db = open_database(url, busy_timeout=30)
    base = make_dataset(300, 500, seed=7) if mode == "snapshot" else None
    print("ready", flush=True)
    for i in range(limit):
        print(f"begin {i}", flush=True)
        with db.session() as session:
            if mode == "snapshot":
                assert base is not None
                dataset = replace(base, prices=base.prices * (1 + i / 1000))
                snapshots.save_snapshot(session, dataset, {"writer": tag, "round": i})
            else:
                for n in range(N_SCREENS):
                    name = f"{tag}-{n}"
                    # Version v+1 always holds round v, across writer restarts.
                    done = screens.get_screen(session, name).version if screens.screen_exists(
                        session, name) else 0
                    screens.save_screen(session, name, screen_definition(tag, n, done))
        print(f"commit {i}", flush=True)
    db.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())

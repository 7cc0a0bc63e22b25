"""Hostile inputs built in tmp_path from invented rows (issue #13): no piece of a real file.

Also the two guards every hostile test applies: :func:`run_bounded` (a subprocess with a wall-time
guard and a 1 GB address-space limit) and :func:`store_state` (the snapshot list plus the database
file's bytes, to prove a refused import changed nothing).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.conftest import PROJECT_ROOT

NBSP = "\u00a0"
HOLDINGS_HEADER = ("Ticker,Name,Sector,Asset Class,Market Value,Weight (%),Notional Value,Quantity,Price,"
                   "Location,Exchange,Currency,FX Rate,Market Currency,Accrual Date")
DISCLAIMER = '"The content is invented for tests.\nIt spans two lines."'
GB = 1 << 30


def ticker(i: int) -> str:
    """An invented ticker for row ``i``: Q + four letters (QAAAA, QAAAB, ...)."""
    letters = ""
    for _ in range(4):
        i, r = divmod(i, 26)
        letters = chr(65 + r) + letters
    return "Q" + letters


def holdings_row(i: int) -> str:
    return (f'"{ticker(i)}","INVENTED COMPANY {i} INC","Industrials","Equity","1,000.00","0.05","1,000.00",'
            f'"100.00","10.00","United States","NASDAQ","USD","1.00","USD","-"')


def holdings_text(n: int, *, as_of: str = "May 05, 2026", start: int = 0, footer: bool = True,
                  rows: list[str] | None = None) -> str:
    """An iShares-shaped holdings file of ``n`` invented members (the real layout: preamble,
    NBSP line, header, quoted rows, NBSP line, one quoted disclaimer)."""
    body = rows if rows is not None else [holdings_row(i) for i in range(start, start + n)]
    parts = ["\ufeffiShares Invented Small Cap ETF", f'Fund Holdings as of,"{as_of}"',
             'Inception Date,"May 22, 2000"', NBSP, HOLDINGS_HEADER, *body]
    if footer:
        parts += [NBSP, DISCLAIMER]
    return "\n".join(parts) + "\n"


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8", newline="")
    return path


def sparse(path: Path, size: int) -> Path:
    """A file that reports ``size`` bytes without using the disk (its content is zeros)."""
    with open(path, "wb") as f:
        f.truncate(size)
    return path


_RUNNER = r"""
import json, resource, sys
limit = int(sys.argv[1])
resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
from desktop.errors import InputError
from desktop.data import finviz, fred, ishares, prices, simfin
readers = {"ishares": ishares.read_ishares, "finviz": finviz.read_finviz, "fred": fred.read_fred,
           "prices": prices.read_prices, "simfin": simfin.read_simfin}
try:
    src = readers[sys.argv[2]](sys.argv[3])
except InputError as exc:
    print(json.dumps({"error": str(exc), "line": exc.line, "field": exc.field}))
else:
    print(json.dumps({"rows": src.rows_read, "warnings": src.warnings}))
"""


def run_bounded(kind: str, path: Path, *, timeout: float = 120.0, memory: int = GB) -> dict[str, Any]:
    """Run one reader on ``path`` in a subprocess limited to ``memory`` bytes of address space,
    killed after ``timeout`` seconds (a generous guard against hangs, not a timing assertion).

    Returns the reader's outcome: ``{"error", "line", "field"}`` or ``{"rows", "warnings"}``.
    A traceback, a MemoryError or a hang fails the calling test with the subprocess's output.
    """
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    try:
        done = subprocess.run([sys.executable, "-c", _RUNNER, str(memory), kind, str(path)], cwd=PROJECT_ROOT,
                              capture_output=True, text=True, timeout=timeout, env=env, check=False)
    except subprocess.TimeoutExpired as exc:
        raise AssertionError(f"the {kind} reader did not finish within {timeout:g} s on {path.name}") from exc
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr[-3000:]
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def store_state(db_path: Path) -> tuple[str, bytes]:
    """The snapshot list (ids, dates, members, sources, summaries) and the database's bytes."""
    from desktop.store import snapshots
    from desktop.store.db import open_database

    db = open_database(str(db_path))
    try:
        with db.session() as session:
            infos = snapshots.list_snapshots(session)
            listing = json.dumps([[i.id, str(i.as_of), i.n_members, i.sources, i.summary] for i in infos],
                                 sort_keys=True, default=str)
    finally:
        db.dispose()
    data = b"".join(p.read_bytes() for p in sorted(db_path.parent.glob(db_path.name + "*")))
    return listing, data

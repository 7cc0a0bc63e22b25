"""Use case: backtest a screen on the stored snapshots (issue #15, docs/backtest.md).

The latest snapshot (or a chosen one) gives the data: statements with their filing dates and the
whole price history. Every snapshot gives the index membership of its holdings file: a file is in
force from its as-of date until the next one. :func:`run` prepares the point-in-time view once per
snapshot (cached: a second screen on the same data skips that step) and runs the engine.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from desktop.engine.backtest import BacktestResult, BacktestSettings, Membership, run_backtest
from desktop.engine.pointintime import PointInTime
from desktop.engine.screen import Screen
from desktop.errors import ExportError, InputError
from desktop.services.screening import load_taxonomy
from desktop.store import snapshots
from desktop.store.db import Database
from desktop.store.snapshots import SnapshotInfo

log = logging.getLogger(__name__)

Progress = Callable[..., None]
IsCancelled = Callable[[], bool]


@dataclass(frozen=True)
class BacktestOutcome:
    """One backtest: the screen, the snapshot whose data it used, and the result."""

    screen: Screen
    info: SnapshotInfo
    result: BacktestResult


_cache: dict[tuple[Any, ...], PointInTime] = {}
_lock = threading.Lock()


def holdings_date(info: SnapshotInfo) -> date:
    """The as-of date of the holdings file behind a snapshot (the snapshot's date when unknown)."""
    for source in info.sources:
        if source.get("source") == "ishares" and isinstance(source.get("as_of"), date):
            return source["as_of"]
    return info.as_of


def index_memberships(db: Database) -> list[Membership]:
    """One membership per holdings file among the snapshots (the newest snapshot of each)."""
    with db.read_session() as session:
        infos = [i for i in snapshots.list_snapshots(session) if "damaged" not in i.summary]
        newest: dict[date, SnapshotInfo] = {}
        for info in infos:  # newest data first
            newest.setdefault(holdings_date(info), info)
        out = []
        for day, info in sorted(newest.items()):
            members = snapshots.index_members(session, info.id)
            if members:
                origin = next((str(s.get("origin")) for s in info.sources if s.get("source") == "ishares"),
                              f"snapshot {info.id}")
                out.append(Membership(day, members, Path(origin).name if origin else f"snapshot {info.id}"))
    return out


def run(db: Database, screen: Screen, settings: BacktestSettings, snapshot: int | str | None = None, *,
        progress: Progress | None = None, is_cancelled: IsCancelled | None = None) -> BacktestOutcome:
    """Backtest ``screen`` with the data of ``snapshot`` (None: the latest).

    Raises:
        NotFoundError: no such snapshot (or none at all).
        InputError: no daily closes in the snapshot, no holdings file, or the range is not covered.
        Cancelled: ``is_cancelled()`` returned True.
    """
    if progress is not None:
        progress(0, 1, "Loading the snapshot")
    with db.read_session() as session:
        info = snapshots.get_snapshot(session, snapshots.resolve_snapshot(session, snapshot))
    pit = _point_in_time(db, info, settings)
    if pit.closes.empty:
        raise InputError(f"snapshot {info.id} (as of {info.as_of:%Y-%m-%d}) has no daily closes",
                         hint="Import a price file (daily closes of the members), then backtest again.")
    memberships = index_memberships(db)

    result = run_backtest(screen, pit, memberships, settings, progress=progress, is_cancelled=is_cancelled)
    log.info("backtest of %s on snapshot %s: %s rebalances", screen.name, info.id, len(result.periods))
    return BacktestOutcome(screen, info, result)


def _point_in_time(db: Database, info: SnapshotInfo, settings: BacktestSettings) -> PointInTime:
    taxonomy = load_taxonomy()  # the built-in themes with the user's file: part of the cache key
    key = (db.url, info.id, info.created_at, settings.params, taxonomy)
    with _lock:
        hit = _cache.get(key)
    if hit is not None:
        return hit
    with db.read_session() as session:
        dataset = snapshots.load_dataset(session, info.id, with_prices=True)
    pit = PointInTime(dataset, settings.params, taxonomy)
    with _lock:
        _cache.clear()  # one prepared snapshot at a time: it holds the whole price history
        _cache[key] = pit
    return pit


def clear_cache() -> None:
    with _lock:
        _cache.clear()


def export(path: str | Path, outcome: BacktestOutcome, progress: Progress | None = None,
           is_cancelled: IsCancelled | None = None) -> Path:
    """Write the Backtest workbook (``.xlsx``) of ``outcome`` to ``path`` atomically.

    Raises:
        ExportError: not an .xlsx name, missing or read-only folder, locked file.
    """
    from desktop.export.backtest_workbook import write_backtest_workbook  # lazy: openpyxl is slow to import

    target = check_path(path)
    return write_backtest_workbook(target, outcome.result, snapshot=f"snapshot {outcome.info.id} as of "
                                   f"{outcome.info.as_of:%Y-%m-%d}", progress=progress, is_cancelled=is_cancelled)


def check_path(path: str | Path) -> Path:
    """``path`` if a Backtest workbook can be written there (before the work, not after it).

    Raises:
        ExportError: naming the file and what is wrong with it.
    """
    from desktop.export.atomic import check_target

    target = Path(path)
    if target.suffix.lower() != ".xlsx":
        raise ExportError(f"Cannot export the backtest to {target}: it is written as an Excel workbook.",
                          hint="Use a name ending in .xlsx.")
    check_target(target.expanduser().absolute())
    return target


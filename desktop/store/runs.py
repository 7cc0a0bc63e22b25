"""Screen runs: which screen version ran on which snapshot, and the ranked tickers it returned,
so "what entered and what left my shortlist since last time" is a query, not a recomputation."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.orm import Session

from desktop.engine.dataset import KEY
from desktop.errors import StoreError
from desktop.store.codec import jsonable
from desktop.store.db import NotFoundError, begin_write
from desktop.store.models import RunMember, ScreenRun, Snapshot
from desktop.store.snapshots import utcnow

_CHUNK = 500


@dataclass(frozen=True)
class RunInfo:
    id: int
    screen_name: str
    screen_version: int | None  # None for presets and unsaved screen files
    definition: dict[str, Any]
    snapshot_id: int | None  # None once that snapshot was deleted
    snapshot_as_of: date
    ran_at: datetime  # naive UTC
    n_passed: int
    symbols: tuple[str, ...]  # in rank order


def _ranked_rows(run_id: int, ranked: pd.DataFrame) -> list[dict[str, Any]]:
    symbols = ranked.index.astype(str) if ranked.index.name == KEY or KEY not in ranked else ranked[KEY].astype(str)
    if pd.Index(symbols).has_duplicates:
        raise StoreError("a screen result lists a ticker twice; cannot record the run")
    ranks = (ranked["rank"].to_numpy() if "rank" in ranked else np.arange(1, len(ranked) + 1))
    scores = ranked["score"].to_numpy(dtype=float, na_value=np.nan) if "score" in ranked else None
    rows = []
    for i, symbol in enumerate(symbols):
        score = None if scores is None or np.isnan(scores[i]) else float(scores[i])
        rows.append({"run_id": run_id, "symbol": symbol, "rank": int(ranks[i]), "score": score})
    return rows


def record_run(session: Session, screen_name: str, screen_version: int | None, definition: dict[str, Any],
               snapshot_id: int, ranked: pd.DataFrame) -> int:
    """Store one run. ``ranked`` is ``ScreenResult.ranked`` (index ``symbol``, ``rank``, optional
    ``score``); only the symbols, ranks and scores are kept. Returns the run id."""
    begin_write(session)
    snapshot = session.get(Snapshot, snapshot_id)
    if snapshot is None:
        raise NotFoundError(f"There is no snapshot {snapshot_id}.")
    run = ScreenRun(screen_name=screen_name, screen_version=screen_version, definition=jsonable(definition),
                    snapshot_id=snapshot_id, snapshot_as_of=snapshot.as_of, ran_at=utcnow(),
                    n_passed=len(ranked))
    session.add(run)
    session.flush()
    rows = _ranked_rows(run.id, ranked)
    for i in range(0, len(rows), _CHUNK):
        session.execute(sa.insert(RunMember), rows[i:i + _CHUNK])
    return run.id


def _info(session: Session, run: ScreenRun) -> RunInfo:
    symbols = session.scalars(sa.select(RunMember.symbol).where(RunMember.run_id == run.id)
                              .order_by(RunMember.rank, RunMember.symbol))
    return RunInfo(run.id, run.screen_name, run.screen_version, dict(run.definition), run.snapshot_id,
                   run.snapshot_as_of, run.ran_at, run.n_passed, tuple(symbols))


def latest_runs(session: Session, screen_name: str, n: int = 2) -> list[RunInfo]:
    """The ``n`` most recent runs of ``screen_name``, newest first."""
    runs = session.scalars(sa.select(ScreenRun).where(ScreenRun.screen_name == screen_name)
                           .order_by(ScreenRun.id.desc()).limit(n))
    return [_info(session, r) for r in runs]


def get_run(session: Session, run_id: int) -> RunInfo:
    run = session.get(ScreenRun, run_id)
    if run is None:
        raise NotFoundError(f"There is no run {run_id}.")
    return _info(session, run)


def run_changes(session: Session, screen_name: str) -> tuple[list[str], list[str]]:
    """What entered and what left the shortlist of ``screen_name`` between its last two runs.

    Returns:
        ``(entered, exited)``: entered in the latest run's rank order, exited in the previous
        run's rank order. Both empty when the screen has run fewer than twice.
    """
    last_two = session.scalars(sa.select(ScreenRun.id).where(ScreenRun.screen_name == screen_name)
                               .order_by(ScreenRun.id.desc()).limit(2)).all()
    if len(last_two) < 2:
        return [], []
    latest, previous = last_two

    def only_in(run_id: int, other_id: int) -> list[str]:
        other = sa.select(RunMember.symbol).where(RunMember.run_id == other_id)
        query = (sa.select(RunMember.symbol)
                 .where(RunMember.run_id == run_id, RunMember.symbol.not_in(other))
                 .order_by(RunMember.rank, RunMember.symbol))
        return list(session.scalars(query))

    return only_in(latest, previous), only_in(previous, latest)


def delete_runs(session: Session, screen_name: str) -> int:
    """Forget every run of ``screen_name``; returns how many were deleted."""
    begin_write(session)
    ids = session.scalars(sa.select(ScreenRun.id).where(ScreenRun.screen_name == screen_name)).all()
    if ids:
        session.execute(sa.delete(RunMember).where(RunMember.run_id.in_(ids)))
        session.execute(sa.delete(ScreenRun).where(ScreenRun.id.in_(ids)))
    return len(ids)

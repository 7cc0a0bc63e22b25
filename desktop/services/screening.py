"""Use case: run a screen on a snapshot (issue #7, docs/architecture.md "Services").

``load_table`` turns a stored snapshot into a :class:`~desktop.engine.metrics.StockTable` (themes
from ``resources/themes.toml`` plus the user's ``themes.toml`` in the config folder) and caches it
per snapshot, because computing metrics takes a second or two while a screen takes milliseconds.
``run_screen`` evaluates a screen on it and records the run in the store, so that "what entered
and left my shortlist" is a query later.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from desktop import paths
from desktop.engine.dataset import Dataset
from desktop.engine.evaluate import ScreenResult, evaluate
from desktop.engine.metrics import MetricParams, StockTable, compute_metrics
from desktop.engine.screen import Screen, parse_screen, screen_to_dict
from desktop.engine.themes import ThemeFileError, ThemeTaxonomy
from desktop.errors import InputError
from desktop.resources import resource_path
from desktop.store import runs, screens, snapshots
from desktop.store.db import Database, NotFoundError
from desktop.store.snapshots import SnapshotInfo

log = logging.getLogger(__name__)

USER_THEMES_FILE = "themes.toml"
USER_THEMES_LABEL = "user theme file"  # how engine.themes names the override in its errors
CACHE_SIZE = 3  # a StockTable of 2,000 stocks is a few MB; keep the last few snapshots

Progress = Callable[..., None]
IsCancelled = Callable[[], bool]


@dataclass(frozen=True)
class TableBundle:
    """A snapshot's metadata, its dataset and the computed metrics."""

    info: SnapshotInfo
    dataset: Dataset
    table: StockTable


@dataclass(frozen=True)
class RunOutcome:
    """One screen run: the screen, the snapshot it ran on, the table, the result and the run id
    (None when the run was not recorded)."""

    screen: Screen
    info: SnapshotInfo
    table: StockTable
    result: ScreenResult
    run_id: int | None


_cache: OrderedDict[tuple[Any, ...], TableBundle] = OrderedDict()
_lock = threading.Lock()


def clear_cache() -> None:
    """Forget every cached table (after deleting snapshots or editing themes, for instance)."""
    with _lock:
        _cache.clear()


def user_themes_path() -> Path:
    """The user's theme override file (may not exist)."""
    return paths.config_dir() / USER_THEMES_FILE


def load_taxonomy() -> ThemeTaxonomy:
    """The built-in theme taxonomy with the user's override applied.

    Raises:
        InputError: the user's override file cannot be read or is malformed (names the file).
    """
    return _taxonomy(_override_text())


def _taxonomy(override: str | None) -> ThemeTaxonomy:
    base = resource_path("themes.toml").read_text(encoding="utf-8")
    try:
        return ThemeTaxonomy.from_toml(base, override)
    except ThemeFileError as exc:
        if exc.path != USER_THEMES_LABEL:
            raise
        # The engine cannot know where the override lives: name the real file for the user.
        path = str(user_themes_path())
        error = ThemeFileError(exc.message.replace(USER_THEMES_LABEL, path, 1),
                               hint=exc.hint or "Fix the file, or delete it to use the built-in themes.")
        error.path, error.line, error.field = path, exc.line, exc.field
        raise error from None


def _override_text() -> str | None:
    path = user_themes_path()
    if not path.is_file():
        return None
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read the theme override file: {exc}", path=str(path)) from exc


def load_table(db: Database, snapshot: int | str | None = None, *, params: MetricParams | None = None,
               progress: Progress | None = None, is_cancelled: IsCancelled | None = None) -> TableBundle:
    """Load a snapshot and compute its metrics (cached per snapshot, themes file and parameters).

    Args:
        db: the open database.
        snapshot: an id, an id or as-of date as text ("12", "2026-05-05"), "latest" or None (latest).
        params: metric assumptions; None for the defaults.
        progress: ``progress(done, total, message)`` while computing.
        is_cancelled: polled while computing; cancellation raises ``Cancelled``.

    Raises:
        NotFoundError: no such snapshot (or none at all).
        InputError: the user's theme override file is malformed.
    """
    params = params or MetricParams()
    override = _override_text()
    with db.read_session() as session:  # reads never wait for, or block, a writer
        snapshot_id = snapshots.resolve_snapshot(session, snapshot)
        info = snapshots.get_snapshot(session, snapshot_id)
    key = (db.url, info.id, info.created_at, _digest(override), params)
    with _lock:
        hit = _cache.get(key)
        if hit is not None:
            _cache.move_to_end(key)
            return hit
    taxonomy = _taxonomy(override)
    with db.read_session() as session:
        dataset = snapshots.load_dataset(session, info.id, with_prices=True)
    log.info("computing metrics for snapshot %s (%s securities)", info.id, len(dataset.securities))
    table = compute_metrics(dataset, params, taxonomy=taxonomy, progress=progress, is_cancelled=is_cancelled)
    bundle = TableBundle(info, dataset, table)
    with _lock:
        _cache[key] = bundle
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
    return bundle


def _digest(text: str | None) -> str:
    return "" if text is None else hashlib.sha256(text.encode("utf-8")).hexdigest()


def run_screen(db: Database, screen: Screen, snapshot: int | str | None = None, record: bool = True, *,
               progress: Progress | None = None, is_cancelled: IsCancelled | None = None) -> RunOutcome:
    """Evaluate ``screen`` on a snapshot and, when ``record``, store the run.

    Args:
        db: the open database.
        screen: the parsed screen.
        snapshot: as for :func:`load_table`.
        record: store the run (screen name and version, snapshot, ranked tickers).
        progress: passed to :func:`load_table`.
        is_cancelled: passed to :func:`load_table`.

    Returns:
        The :class:`RunOutcome`.
    """
    bundle = load_table(db, snapshot, progress=progress, is_cancelled=is_cancelled)
    result = evaluate(screen, bundle.table)
    run_id = record_result(db, screen, bundle.info.id, result.ranked) if record else None
    return RunOutcome(screen, bundle.info, bundle.table, result, run_id)


def record_result(db: Database, screen: Screen, snapshot_id: int, ranked: pd.DataFrame) -> int:
    """Record ``screen``'s ranked result on a snapshot as a run (with its saved version, if any)."""
    definition = screen_to_dict(screen)
    with db.session() as session:
        version = _saved_version(session, screen.name, definition)
        return runs.record_run(session, screen.name, version, definition, snapshot_id, ranked)


def _saved_version(session: Any, name: str, definition: dict[str, Any]) -> int | None:
    """The saved screen version this definition is, or None for a preset, a file or an edited screen."""
    try:
        saved = screens.get_screen(session, name)
    except NotFoundError:
        return None
    try:
        stored = screen_to_dict(parse_screen(saved.definition))
    except InputError:  # a stored document the current engine rejects is not this screen
        return None
    return int(saved.version) if stored == definition else None

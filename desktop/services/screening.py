"""Use case: run a screen on a snapshot (issue #7, docs/architecture.md "Services").

``load_table`` turns a stored snapshot into a :class:`~desktop.engine.metrics.StockTable` (themes
from ``resources/themes.toml`` plus the user's ``themes.toml`` in the config folder) and caches it
per snapshot, because computing metrics takes half a second or more while a screen takes
milliseconds. The table is cached twice: in memory for this process, and in the store
(``desktop.store.tables``) for the next one, under :func:`table_key` - a digest of the engine's
source, the parameters and the theme files - so start-up reads it instead of recomputing, and
a new field or formula invalidates it by itself (issue #17). The store copy is written after the
first compute on one background thread (:func:`flush_table_writes` waits for it); the caller
never waits for it. A cached table comes with the snapshot's data loaded only when asked for
(:class:`SnapshotData`). ``run_screen`` evaluates a screen on the table and records the run in
the store, so that "what entered and left my shortlist" is a query later.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy.exc import SQLAlchemyError

from desktop import __version__, engine, paths
from desktop.engine.dataset import Dataset
from desktop.engine.evaluate import ScreenResult, evaluate
from desktop.engine.metrics import MetricParams, StockTable, compute_metrics, rate_beta_window
from desktop.engine.screen import Screen, parse_screen, screen_to_dict
from desktop.engine.themes import ThemeFileError, ThemeTaxonomy
from desktop.errors import InputError, PickaxeError
from desktop.memory import release_free_memory
from desktop.resources import resource_path
from desktop.store import runs, screens, snapshots, tables
from desktop.store.db import Database, NotFoundError
from desktop.store.snapshots import SnapshotInfo

log = logging.getLogger(__name__)

USER_THEMES_FILE = "themes.toml"
USER_THEMES_LABEL = "user theme file"  # how engine.themes names the override in its errors
CACHE_SIZE = 3  # a StockTable of 2,000 stocks is a few MB; keep the last few snapshots

Progress = Callable[..., None]
IsCancelled = Callable[[], bool]


class SnapshotData:
    """The stored data of one snapshot, read from the store only when first asked for.

    A table read from the store cache needs none of it to be shown; the charts want the market
    series at once and one stock's closes per selection, so those are read alone (a few ms)
    instead of all prices (~100 MB, ~0.2 s). Thread-safe.
    """

    def __init__(self, db: Database, snapshot_id: int) -> None:
        self._db, self._id = db, snapshot_id
        self._dataset: Dataset | None = None
        self._market: pd.DataFrame | None = None
        self._lock = threading.Lock()

    def dataset(self) -> Dataset:
        """The whole dataset, prices included (loaded once)."""
        with self._lock:
            if self._dataset is None:
                with self._db.read_session() as session:
                    self._dataset = snapshots.load_dataset(session, self._id, with_prices=True)
            return self._dataset

    def market(self) -> pd.DataFrame:
        """The market series (IWM, 10-year yield, ...), indexed by date."""
        with self._lock:
            if self._dataset is not None:
                return self._dataset.market
            if self._market is None:
                with self._db.read_session() as session:
                    self._market = snapshots.load_market(session, self._id)
            return self._market

    def price_dates(self) -> pd.DatetimeIndex:
        """Every trading day of the snapshot's daily closes (without reading the closes)."""
        with self._lock:
            dataset = self._dataset
        if dataset is not None:
            return pd.DatetimeIndex(dataset.prices.index)
        with self._db.read_session() as session:
            return snapshots.load_price_dates(session, self._id)

    def prices_of(self, symbol: str) -> pd.Series:
        """One stock's daily closes (empty when the snapshot has none for it)."""
        with self._lock:
            dataset = self._dataset
        if dataset is None:
            with self._db.read_session() as session:
                frame = snapshots.load_prices(session, self._id, [symbol])
        else:
            frame = dataset.prices
        return frame[symbol] if symbol in frame.columns else pd.Series(dtype=float)


@dataclass(frozen=True)
class TableBundle:
    """A snapshot's metadata, the computed metrics and the snapshot's data (read on demand)."""

    info: SnapshotInfo
    table: StockTable
    data: SnapshotData = field(repr=False)
    from_store: bool = False  # the table was read from the store cache, not computed

    @property
    def dataset(self) -> Dataset:
        """The whole dataset (read from the store on first use when the table came from its cache)."""
        return self.data.dataset()


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
# One thread writes computed tables into the store cache: never in the caller's way, never two at
# once. Its futures are kept until done so flush_table_writes() can wait for them.
_writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pickaxe-table-cache")
_pending: set[Future[None]] = set()
TABLE_CACHE_VERSION = 1  # bump when the meaning of a cached table changes outside desktop/engine


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
    """Load a snapshot's metrics: from memory, else from the store's cache, else computed (and then
    written to the store's cache in the background). Keyed by snapshot, themes files and parameters.

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
    stored_key = table_key(info, params, override)
    with db.read_session() as session:
        table = tables.load_table(session, info.id, stored_key)
    if table is not None:  # (computed with this very override file, so it parses)
        bundle = TableBundle(info, table, SnapshotData(db, info.id), from_store=True)
    else:
        taxonomy = _taxonomy(override)
        with db.read_session() as session:
            dataset = _metrics_input(session, info, params)
        log.info("computing metrics for snapshot %s (%s securities)", info.id, len(dataset.securities))
        table = compute_metrics(dataset, params, taxonomy=taxonomy, progress=progress, is_cancelled=is_cancelled)
        del dataset  # its ~60 MB are freed before the cache write and the window's work allocate more
        release_free_memory()
        bundle = TableBundle(info, table, SnapshotData(db, info.id))
        _write_later(db, info.id, stored_key, table)
    with _lock:
        _cache[key] = bundle
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
    return bundle


def _metrics_input(session: Any, info: SnapshotInfo, params: MetricParams) -> Dataset:
    """The snapshot as compute_metrics reads it: everything, but daily closes only over the days
    the rate betas use (a real snapshot's closes span ~25 years, ~100 MB; issue #17: peak memory)."""
    window = rate_beta_window(snapshots.load_price_dates(session, info.id), snapshots.load_market(session, info.id),
                              info.as_of, params)
    return snapshots.load_dataset(session, info.id, prices_since=window[0] if window else None)


@cache
def engine_fingerprint() -> str:
    """sha256 of the engine's source files and the numeric libraries' versions: whatever changes
    how a table is computed (a new field, a formula, a catalogue entry) changes this."""
    digest = hashlib.sha256(f"pandas {pd.__version__} numpy {np.__version__}".encode())
    files = sorted(Path(engine.__file__).parent.glob("*.py"))
    for path in files:
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    if not files:  # a build without the engine's sources (installer/hooks ships them): the version
        log.info("engine sources not found beside %s; cached tables are keyed by version", engine.__file__)
        digest.update(f"pickaxe {__version__}".encode())
    return digest.hexdigest()


def table_key(info: SnapshotInfo, params: MetricParams, override: str | None) -> str:
    """The store cache key of a snapshot's table: its snapshot (id and creation time, as ids can be
    reused after a delete), the engine's code, the parameters and both theme files."""
    parts = {"version": TABLE_CACHE_VERSION, "snapshot": [info.id, info.created_at.isoformat()],
             "engine": engine_fingerprint(), "params": dataclasses.asdict(params),
             "themes": _digest(resource_path("themes.toml").read_text(encoding="utf-8")),
             "override": _digest(override)}
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


def _write_later(db: Database, snapshot_id: int, key: str, table: StockTable) -> None:
    def write() -> None:
        try:
            with db.session() as session:
                tables.save_table(session, snapshot_id, key, table)
        except (PickaxeError, SQLAlchemyError, OSError) as exc:  # a cache: the next start recomputes
            log.warning("could not cache the metric table of snapshot %s: %s", snapshot_id, exc)

    future = _writer.submit(write)
    with _lock:
        _pending.add(future)
    future.add_done_callback(_forget)


def _forget(future: Future[None]) -> None:
    with _lock:
        _pending.discard(future)


def flush_table_writes(timeout: float | None = None) -> bool:
    """Wait for the background writes of computed tables; True when none is left."""
    with _lock:
        pending = set(_pending)
    return not wait(pending, timeout=timeout).not_done


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

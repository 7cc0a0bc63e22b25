"""The window's single door to the services and the store (no Qt here, but only ui uses it).

Every method runs on whichever thread calls it and opens its own session, so workers can call
them; ORM objects never leave (results are dataclasses and frames). Tests swap single methods
(e.g. :meth:`Backend.refresh` with a scripted fake provider) without touching the window.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path
from typing import Any

from desktop import paths

log = logging.getLogger(__name__)

Progress = Callable[..., None]
IsCancelled = Callable[[], bool]


class Backend:
    """Use cases of the desktop app over one open database."""

    def __init__(self, db_url: str | None = None) -> None:
        from desktop.store.db import open_database

        self.url = paths.database_url(db_url)
        self.db = open_database(self.url)
        self.provider_factory: Callable[[], Any] = _yahoo_provider
        # The User-Agent declared to SEC EDGAR (issue #14), set by the window before a refresh;
        # None refreshes from Yahoo alone.
        self.sec_user_agent: str | None = None

    def close(self) -> None:
        self.db.dispose()

    # -- snapshots --------------------------------------------------------------------------
    def snapshots(self) -> list[Any]:
        """Snapshot infos, newest first."""
        from desktop.store.snapshots import list_snapshots

        with self.db.read_session() as session:
            infos = list(list_snapshots(session))
        return sorted(infos, key=lambda s: (s.as_of, s.id), reverse=True)

    def load_table(self, snapshot: int | None = None) -> Any:
        """``TableBundle(info, table, data)`` of a snapshot (None = latest), its market series read."""
        from desktop.services.screening import load_table

        bundle = load_table(self.db, snapshot)
        bundle.data.market()  # read here, on the worker, not when the window draws the market chart
        return bundle

    # -- screens ----------------------------------------------------------------------------
    def presets(self) -> dict[str, dict]:
        from desktop.services.library import presets

        return presets()

    def saved_screens(self) -> list[str]:
        from desktop.store.screens import list_screens

        with self.db.read_session() as session:
            rows = list_screens(session)
        return sorted({str(getattr(r, "name", r)) for r in rows}, key=str.casefold)

    def load_screen(self, name_or_file: str) -> Any:
        from desktop.services.library import load_screen_any

        return load_screen_any(self.db, name_or_file)

    def save_screen(self, screen: Any, description: str = "") -> Any:
        from desktop.services.library import save_screen

        return save_screen(self.db, screen, description)

    def history(self, name: str) -> list[Any]:
        from desktop.store.screens import screen_history

        with self.db.read_session() as session:
            return list(screen_history(session, name))

    def restore(self, name: str, version: int) -> int:
        from desktop.store.screens import restore_screen

        with self.db.session() as session:
            return int(restore_screen(session, name, version))

    def run_screen(self, screen: Any, snapshot: int | None, record: bool = True) -> Any:
        from desktop.services.screening import run_screen

        return run_screen(self.db, screen, snapshot=snapshot, record=record)

    def runs(self, screen_name: str, n: int = 20) -> list[Any]:
        """The screen's recorded runs, newest first (``RunInfo``)."""
        from desktop.store import runs

        with self.db.read_session() as session:
            return runs.latest_runs(session, screen_name, n)

    def record_run(self, screen: Any, snapshot: int, ranked: Any) -> int:
        """Record ``screen``'s ranked result on ``snapshot`` as a run; returns the run id."""
        from desktop.services.screening import record_result

        return record_result(self.db, screen, snapshot, ranked)

    # -- watchlist --------------------------------------------------------------------------
    def watchlist(self) -> set[str]:
        from desktop.store import watchlist

        with self.db.read_session() as session:
            rows = watchlist.list_watchlist(session)
        return {str(getattr(r, "symbol", r)) for r in rows}

    def watch_entries(self) -> list[Any]:
        """The watchlist with notes and dates (``WatchEntry``), alphabetically."""
        from desktop.store import watchlist

        with self.db.read_session() as session:
            return watchlist.list_watchlist(session)

    def set_note(self, symbol: str, note: str) -> None:
        from desktop.store import watchlist

        with self.db.session() as session:
            watchlist.set_note(session, symbol, note)

    def set_pinned(self, symbol: str, pinned: bool) -> None:
        from desktop.store import watchlist

        with self.db.session() as session:
            if pinned:
                watchlist.add(session, symbol)
            else:
                watchlist.remove(session, symbol)

    # -- long work --------------------------------------------------------------------------
    def import_files(self, kind: str, files: Sequence[Path], as_of: date | None,
                     progress: Progress, is_cancelled: IsCancelled) -> Any:
        from desktop.services.importing import import_files

        if kind == "sec-companyfacts":  # the archive or folder, and the SEC's ticker map if added too
            from desktop.services.sec_import import import_companyfacts

            maps = [p for p in files if p.name.lower().startswith("company_tickers")]
            return import_companyfacts(self.db, [p for p in files if p not in maps], tickers=maps[0] if maps else None,
                                       as_of=as_of, progress=progress, is_cancelled=is_cancelled)
        return import_files(self.db, kind, list(files), as_of=as_of, progress=progress, is_cancelled=is_cancelled)

    def refresh(self, progress: Progress, is_cancelled: IsCancelled) -> Any:
        from desktop.services.refresh import refresh
        from desktop.services.sec_refresh import SecSettings

        sec = SecSettings(self.sec_user_agent) if self.sec_user_agent else None
        return refresh(self.db, self.provider_factory(), progress=progress, is_cancelled=is_cancelled, sec=sec)

    def download_universe(self, progress: Progress, is_cancelled: IsCancelled) -> Any:
        """First run online: download the iShares IWM holdings, import them, then refresh (SEC EDGAR
        fundamentals when ``sec_user_agent`` is set, Yahoo prices and profiles)."""
        from desktop.data.ishares import download_holdings

        progress(0, 0, "Downloading the Russell 2000 holdings from iShares…")
        body = download_holdings()
        target = paths.cache_dir() / f"IWM_holdings_{date.today().isoformat()}.csv"
        target.write_bytes(body)
        if is_cancelled():
            from desktop.errors import Cancelled

            raise Cancelled()
        self.import_files("ishares", [target], None, progress, is_cancelled)
        return self.refresh(progress, is_cancelled)

    def export(self, path: Path, screen: Any, snapshot: int | None,
               progress: Progress, is_cancelled: IsCancelled) -> Path:
        """Run ``screen`` (recording the run) and export its outcome to ``path``."""
        from desktop.services.exporting import export_result

        progress(0, 0, "Running the screen…")
        outcome = self.run_screen(screen, snapshot, record=True)
        if is_cancelled():
            from desktop.errors import Cancelled

            raise Cancelled()
        export_result(path, outcome, progress, is_cancelled)  # reports per sheet, cancellable
        return path

    def backtest(self, screen: Any, settings: Any, snapshot: int | None, progress: Progress,
                 is_cancelled: IsCancelled) -> Any:
        """Backtest ``screen`` on ``snapshot``'s data (issue #15)."""
        from desktop.services.backtest import run

        return run(self.db, screen, settings, snapshot, progress=progress, is_cancelled=is_cancelled)

    def export_backtest(self, path: Path, outcome: Any, progress: Progress, is_cancelled: IsCancelled) -> Path:
        from desktop.services.backtest import export

        return export(path, outcome, progress, is_cancelled)


def _yahoo_provider() -> Any:
    from desktop.data.yahoo import YahooProvider

    return YahooProvider()

"""Import use case for the SEC's bulk company facts (issue #14): ``companyfacts.zip`` or a folder.

``pickaxe-cli import sec-companyfacts FILE.zip|FOLDER [--tickers company_tickers.json]`` and the
GUI's Import dialog call :func:`import_companyfacts`. It reads the archive member by member
(:mod:`desktop.data.sec_bulk`), maps each company's CIK to the universe's symbols through the SEC's
``company_tickers.json``, and hands the resulting :class:`SourceData` to the ordinary import path
(:func:`desktop.services.importing.import_files`, kind ``sec-companyfacts``), which merges it with
the latest snapshot and saves a new one in one transaction: all or nothing.

The bulk file names companies by CIK only, so the ticker map is required: ``--tickers FILE``, or a
``company_tickers*.json`` in the folder / beside the archive, or else the copy an online refresh
keeps in the store. With a universe already imported only
its members' CIKs are read (the other ~16,000 companies are never decompressed); without one,
every company of the ticker map is.

A member that cannot be read (not JSON, not a companyfacts body, a zip-bomb suspect) refuses the
whole import, naming the members; ``accept_skipped=True`` (``--accept-skipped``) imports the rest
and lists them in the summary instead.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from desktop.data import sec_bulk, sec_facts
from desktop.data.source import SkippedRow, SourceData
from desktop.errors import InputError

KIND = "sec-companyfacts"
_SHOW = 5


@dataclass(frozen=True)
class _Options:
    tickers: Path | bytes | None  # a file, or the body of the copy kept by an online refresh
    accept_skipped: bool
    members: frozenset[str] | None
    progress: Callable[..., None] | None
    is_cancelled: Callable[[], bool] | None


# import_files() reads its files through importing._read(kind, paths); the options of this import
# (ticker map, members, progress, cancel) reach read_for_import() through this context variable.
_OPTIONS: ContextVar[_Options | None] = ContextVar("sec_import_options", default=None)


def import_companyfacts(db: Any, paths: Sequence[str | Path], *, tickers: str | Path | None = None,
                        accept_skipped: bool = False, as_of: date | str | None = None,
                        progress: Callable[..., None] | None = None,
                        is_cancelled: Callable[[], bool] | None = None) -> Any:
    """Import ``companyfacts.zip`` (or a folder of ``CIK##########.json``) into a new snapshot.

    Args:
        db: an open :class:`desktop.store.db.Database`.
        paths: one archive or folder.
        tickers: the SEC's ``company_tickers.json`` (or the exchange variant); found beside the
            archive or in the folder when None.
        accept_skipped: import even when some members could not be read (they are listed).
        as_of: the snapshot's date (default: the latest snapshot's).
        progress: ``progress(done, total, message)``, per company while reading.
        is_cancelled: checked per company and before saving.

    Returns:
        The :class:`desktop.services.importing.ImportReport`.

    Raises:
        InputError: bad archive, no ticker map, unreadable members (nothing is saved).
        Cancelled: the user cancelled (nothing is saved).
    """
    from desktop.services import importing
    from desktop.store import snapshots

    if len(paths) != 1:
        raise InputError(f"import one companyfacts archive or folder at a time (got {len(paths)})")
    with db.session() as session:
        members: frozenset[str] | None = None
        if snapshots.latest_snapshot_id(session) is not None:
            dataset = snapshots.load_dataset(session)
            if len(dataset.members):
                members = frozenset(str(s) for s in dataset.members.index)
        ticker_map: Path | bytes | None = Path(tickers) if tickers is not None else None
        if ticker_map is None and len(paths) == 1 and find_ticker_map(Path(paths[0])) is None:
            ticker_map = _cached_ticker_map(session)
    options = _Options(ticker_map, accept_skipped, members, progress, is_cancelled)
    token = _OPTIONS.set(options)
    try:
        return importing.import_files(db, KIND, list(paths), as_of=as_of, progress=progress,
                                      is_cancelled=is_cancelled)
    finally:
        _OPTIONS.reset(token)


def read_for_import(paths: list[Path]) -> list[SourceData]:
    """The reader ``importing._read`` calls for kind ``sec-companyfacts`` (no database access)."""
    options = _OPTIONS.get() or _Options(None, False, None, None, None)
    if len(paths) != 1:
        raise InputError(f"import one companyfacts archive or folder at a time (got {len(paths)})")
    return [read_companyfacts_source(paths[0], tickers=options.tickers, members=options.members,
                                     accept_skipped=options.accept_skipped, progress=options.progress,
                                     is_cancelled=options.is_cancelled)]


def _cached_ticker_map(session: Any) -> bytes | None:
    """The SEC ticker map an online refresh keeps in the raw cache (issue #14), if any."""
    from desktop.services.sec_refresh import KIND_MAP, MAP_KEY, SOURCE
    from desktop.store import rawcache

    entry = rawcache.load_raw(session, SOURCE, [KIND_MAP], [MAP_KEY]).get((MAP_KEY, KIND_MAP))
    return entry.payload if entry is not None and entry.status == "ok" and isinstance(entry.payload, bytes) else None


def find_ticker_map(path: Path) -> Path | None:
    """A ``company_tickers*.json`` in the folder ``path`` or beside the archive ``path``."""
    folder = path if path.is_dir() else path.parent
    found = sorted(folder.glob("company_tickers*.json"))
    plain = [f for f in found if "exchange" not in f.name]
    choice = plain or found
    return choice[0] if choice else None


def read_companyfacts_source(path: str | Path, *, tickers: Path | bytes | None = None,
                             members: frozenset[str] | None = None,
                             accept_skipped: bool = False, progress: Callable[..., None] | None = None,
                             is_cancelled: Callable[[], bool] | None = None) -> SourceData:
    """Read the archive into one :class:`SourceData` (source ``sec``), for ``members`` or every ticker.

    Raises:
        InputError: see :func:`import_companyfacts`.
    """
    p = Path(path)
    map_path = tickers or find_ticker_map(p)
    if map_path is None:
        raise InputError(
            "the SEC's bulk company facts name companies by CIK only; Pickaxe needs the SEC's ticker "
            "map to know which company is which member", path=str(p),
            hint="Download company_tickers.json from https://www.sec.gov/files/company_tickers.json and "
                 "pass --tickers FILE (in the app: add it with the archive), or put it next to the archive.")
    if isinstance(map_path, bytes):
        raw, map_name = map_path, "company_tickers.json (kept by the last online refresh)"
    else:
        map_name = str(map_path)
        try:
            raw = map_path.read_bytes()
        except OSError as exc:
            raise InputError(f"cannot read the ticker map ({exc.strerror or exc})", path=str(map_path)) from None
    symbol_cik = sec_facts.parse_company_tickers(raw, map_name)
    wanted = {s: c for s, c in symbol_cik.items() if members is None or s in members}
    by_cik: dict[str, list[str]] = {}
    for symbol, cik in wanted.items():
        by_cik.setdefault(cik, []).append(symbol)

    started = time.monotonic()

    def report(done: int, total: int) -> None:
        if progress is None:
            return
        elapsed = time.monotonic() - started
        eta = elapsed / done * (total - done) if done else 0.0
        progress(done, total, f"Reading SEC company facts: {done:,}/{total:,} companies"
                              + (f", about {eta:,.0f} s left" if done and done < total else ""))

    result = sec_bulk.read_companyfacts_bulk(p, ciks=set(by_cik), progress=report, is_cancelled=is_cancelled)
    if result.skipped and not accept_skipped:
        names = "; ".join(f"{s.member}: {s.reason}" for s in result.skipped[:_SHOW])
        more = f" and {len(result.skipped) - _SHOW} more" if len(result.skipped) > _SHOW else ""
        raise InputError(f"{len(result.skipped)} member(s) could not be read ({names}{more}); nothing was imported",
                         path=str(p), hint="Download the archive again, or pass --accept-skipped to import the "
                                           "readable members and list the others.")
    pairs = [(symbol, company) for company in result.companies for symbol in sorted(by_cik.get(company.cik, []))]
    latest = max((row["filed"] for _s, c in pairs for row in c.rows), default=None)
    source = sec_facts.source_data(pairs, origin=str(p), as_of=date.fromisoformat(latest) if latest else None,
                                   rows_read=result.members_read)
    source.skipped.extend(SkippedRow(0, s.member, s.reason) for s in result.skipped)
    missing = len(by_cik) - len({c.cik for c in result.companies})
    if missing and members is not None:
        source.warnings.append(f"{p.name}: {missing} member CIK(s) of the ticker map have no company facts in the "
                               "archive (no XBRL statements filed)")
    unmapped = len(members - set(symbol_cik)) if members is not None else 0
    if unmapped:
        source.warnings.append(f"{Path(map_name).name}: {unmapped} universe member(s) are not in the ticker map (listed or "
                               "renamed after it was written); download a current company_tickers.json")
    source.warnings.extend(result.warnings)
    return source

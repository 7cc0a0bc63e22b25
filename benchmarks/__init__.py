"""Pickaxe's benchmarks (issue #9): ``python -m benchmarks`` runs every ``bench_*`` function.

A benchmark module ``benchmarks/bench_<area>.py`` defines functions ``bench_<name>() -> dict`` that
return :func:`result` (``median_s``, ``peak_mb``, ``n``, ``baseline_median_s`` or None); the runner
adds ``ratio``. Helpers for them:

* :func:`measure` / :func:`result` (from :mod:`benchmarks.timing`);
* :func:`universe` - the dataset to benchmark on: the real universe built from ``../shared/data``
  when that folder exists, otherwise the synthetic universe of :mod:`benchmarks.synthetic`
  (``python -m benchmarks --data synthetic|real`` forces one); :func:`data_kind` says which;
* :func:`source_files` - input files per import kind (the real files, or the synthetic universe
  written in the same formats);
* :func:`make_store` - a SQLite store holding a dataset as its latest snapshot;
* :class:`Skip` - raise it when a benchmark cannot run here (reported as skipped, with the reason).
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from benchmarks.timing import measure, peak_memory_mb, result

if TYPE_CHECKING:
    from desktop.engine.dataset import Dataset

__all__ = ["PROJECT_ROOT", "SHARED_DATA", "Skip", "configure", "data_kind", "describe_data", "make_store",
           "measure", "peak_memory_mb", "result", "source_files", "universe", "work_dir"]

PROJECT_ROOT = Path(__file__).resolve().parents[1]
# The real data lives beside the project, never in it (see ../shared/data/README.md).
SHARED_DATA = Path(os.environ.get("PICKAXE_SHARED_DATA", PROJECT_ROOT.parent / "shared" / "data"))
UNIVERSE_GLOB = "universe/IWM_holdings_*.csv"

DATA_MODES = ("auto", "real", "synthetic")
_mode = os.environ.get("PICKAXE_BENCH_DATA", "auto")


class Skip(Exception):  # noqa: N818 - reads as "raise Skip(reason)"
    """Raised by a benchmark that cannot run here; the runner reports it as skipped with the reason."""


def configure(data: str = "auto") -> None:
    """Choose the data: ``auto`` (real when ``../shared/data`` exists), ``real`` or ``synthetic``."""
    global _mode
    if data not in DATA_MODES:
        raise ValueError(f"data must be one of {', '.join(DATA_MODES)}, not {data!r}")
    if data != _mode:
        universe.cache_clear()
        source_files.cache_clear()
    _mode = data


def _real_available() -> bool:
    return any(SHARED_DATA.glob(UNIVERSE_GLOB))


def data_kind() -> str:
    """``"real"`` or ``"synthetic"``: what :func:`universe` and :func:`source_files` return.

    Raises:
        FileNotFoundError: ``real`` was asked for but ``../shared/data`` is absent.
    """
    if _mode == "synthetic":
        return "synthetic"
    if _real_available():
        return "real"
    if _mode == "real":
        raise FileNotFoundError(f"real data asked for, but {SHARED_DATA / UNIVERSE_GLOB} does not exist")
    return "synthetic"


def describe_data() -> str:
    """One line for people: which universe the benchmarks run on, and why."""
    if data_kind() == "real":
        return f"real universe from {SHARED_DATA}"
    from benchmarks.synthetic import N_SECURITIES, PRICE_DAYS, YEARS

    why = "forced with --data synthetic" if _mode == "synthetic" else f"{SHARED_DATA} is absent"
    return (f"synthetic universe ({N_SECURITIES:,} securities, {YEARS} fiscal years, {PRICE_DAYS} days "
            f"of prices; {why})")


@cache
def work_dir() -> Path:
    """A scratch folder for this benchmark process, removed at exit."""
    path = Path(tempfile.mkdtemp(prefix="pickaxe-bench-"))
    atexit.register(shutil.rmtree, path, ignore_errors=True)
    return path


def _real_files() -> dict[str, list[Path]]:
    d = SHARED_DATA
    prices = sorted(p for p in (d / "prices").glob("*.csv")
                    if not p.name.startswith(("DGS10", "CALM")))  # FRED is its own kind; CALM is a layout sample
    if (d / "prices" / "smallcaps_daily").is_dir():
        prices.append(d / "prices" / "smallcaps_daily")
    return {
        "ishares": sorted(d.glob(UNIVERSE_GLOB))[-1:],
        "simfin": sorted((d / "statements").glob("simfin_*.csv")) + sorted((d / "profiles").glob("simfin_*.csv")),
        "finviz": sorted((d / "fundamentals").glob("finviz_export_*.csv")),
        "yahoo-json": sorted((d / "fundamentals").glob("yahoo_*.json")),
        "prices": prices,
        "fred": sorted((d / "prices").glob("DGS10_fred_*.csv")),
    }


@cache
def source_files() -> dict[str, list[Path]]:
    """Input files per import kind (``desktop.services.importing.KINDS``) for the chosen data.

    Real data: the files in ``../shared/data`` (read in place, never copied). Synthetic: the synthetic
    universe written once per process into :func:`work_dir` (no ``finviz`` or ``yahoo-json`` files).
    """
    if data_kind() == "real":
        return _real_files()
    from benchmarks.synthetic import write_source_files

    return write_source_files(work_dir() / "synthetic-files")


def _read(kind: str, paths: list[Path]) -> list:
    from desktop.data import finviz, fred, ishares, prices, simfin, yahoo

    if kind == "ishares":
        return [ishares.read_ishares(paths[0])]
    if kind == "simfin":
        return [simfin.read_simfin(paths)]
    if kind == "prices":
        return [prices.read_prices(paths)]
    readers = {"finviz": finviz.read_finviz, "yahoo-json": yahoo.read_yahoo_json, "fred": fred.read_fred}
    return [readers[kind](p) for p in paths]


@cache
def universe() -> Dataset:
    """The dataset benchmarks run on (cached; treat it as immutable).

    Real data: every file of :func:`source_files` read with the app's own readers and merged with
    ``desktop.data.canonical.merge``, exactly as importing them would. Synthetic: the universe of
    :func:`benchmarks.synthetic.synthetic_dataset`.
    """
    if data_kind() == "synthetic":
        from benchmarks.synthetic import synthetic_dataset

        return synthetic_dataset()
    from desktop.data.canonical import merge

    sources = []
    for kind, paths in source_files().items():
        if paths:
            sources.extend(_read(kind, paths))
    return merge(None, sources)


def make_store(path: str | Path, dataset: Dataset | None = None) -> str:
    """Create a SQLite store at ``path`` whose latest snapshot is ``dataset`` (default :func:`universe`).

    Returns:
        The database URL.
    """
    from desktop.store.db import open_database
    from desktop.store.snapshots import save_snapshot

    url = f"sqlite:///{Path(path).resolve()}"
    database = open_database(url)
    try:
        with database.session() as session:
            save_snapshot(session, dataset if dataset is not None else universe(), {"benchmark": data_kind()})
    finally:
        database.dispose()
    return url

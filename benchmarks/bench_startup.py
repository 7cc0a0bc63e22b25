"""Start-up: Pickaxe to its first painted window with the full universe, against a bare window.

``bench_startup`` runs the app from Python, ``bench_startup_frozen`` the PyInstaller bundle when one is
built. Each run is a fresh subprocess (cold interpreter, warm OS file cache after the warm-up run), started
headless with ``--screenshot``: the app opens the store holding the whole universe with its prices, loads
the latest snapshot, fills its window, paints it into a PNG and exits. The baseline is the least any
PySide6 + pandas + pyqtgraph desktop app pays (issue #17): a fresh interpreter that imports pandas and
pyqtgraph, opens a QMainWindow of the same size holding one pyqtgraph plot, paints it into a PNG and
exits. App and baseline runs alternate so that both see the same load.

The time measured is from spawning the process to its PNG being written (the file's modification time
against the wall clock at spawn, so neither side's interpreter teardown after its window is painted
counts); ``bench_startup_exit`` reports spawn to exit of the same runs, ``bench_startup_cpu`` their CPU
time (user + system, to exit), which other work on the machine changes least. The warm-up run fills the
store's metric-table cache (as the first start after an import does); ``bench_startup_cold`` empties
that cache before every app run, so each computes the metrics again; ``bench_startup_first_paint``
saves what the window's first paint shows (the loading page, "Opening the store…") instead, the moment it
is painted. The package is byte-compiled
first, as installing it does (a source checkout under ``PYTHONDONTWRITEBYTECODE`` otherwise compiles
~100 modules on every start).

``peak_mb`` here is the app process's peak resident set size (``ru_maxrss``), not a tracemalloc peak:
most of a Qt app's memory is allocated outside Python.
"""

from __future__ import annotations

import compileall
import json
import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from benchmarks import PROJECT_ROOT, Skip, make_store, result, universe, work_dir

REPEAT = 5
WINDOW = (1600, 1000)

BASELINE = f"""
import sys
import pandas
import pyqtgraph
from PySide6.QtWidgets import QApplication, QMainWindow
app = QApplication([])
window = QMainWindow()
plot = pyqtgraph.PlotWidget(title="pandas " + pandas.__version__)
plot.plot([0.0, 1.0, 2.0], [0.0, 1.0, 0.0])
window.setCentralWidget(plot)
window.resize({WINDOW[0]}, {WINDOW[1]})
window.show()
app.processEvents()
sys.exit(0 if window.grab().save(sys.argv[1]) else 1)
"""


# The app as started by ``python -m desktop --screenshot``, but saving what its first paint shows:
# the modules are imported in ``desktop.app.main``'s order (the Qt-free ones before PySide6), then
# the wait for the snapshot is replaced by a wait for the loading page's first paint, which is saved
# at once (issue #17: an honest first paint; the store is opened on a worker only after it).
FIRST_PAINT = """
import os, sys
import pandas, desktop.app, desktop.log, desktop.engine.coverage, desktop.engine.evaluate, desktop.engine.formatting, desktop.engine.screen
import desktop.ui.application as application
from PySide6.QtCore import QEventLoop, QTimer

def first_paint(window, timeout_ms=application.SCREENSHOT_TIMEOUT_MS):
    page = window.loading_state
    if not page.was_painted:
        loop = QEventLoop()
        page.painted.connect(loop.quit)
        QTimer.singleShot(timeout_ms, loop.quit)
        loop.exec()
    ok = page.was_painted and window.stack.currentWidget() is page and window.grab().save(sys.argv[-1])
    sys.stdout.flush()
    os._exit(0 if ok else 1)  # the PNG is the measurement; nothing after the first paint is

application.wait_until_ready = first_paint
sys.exit(desktop.app.main(sys.argv[1:]))
"""


def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PICKAXE_")}
    env.update(QT_QPA_PLATFORM="offscreen", PICKAXE_HOME=str(home))
    return env


# Launches one command and reports its wall time, exit code and peak RSS as JSON. Linux's ru_maxrss
# of a child carries over the memory of the process that forked it (exec keeps the old high-water
# mark), so forking the app straight from this benchmark process - which holds the whole universe -
# would report this process's size. A fresh, small interpreter forks it instead.
LAUNCHER = """
import json, os, sys, time
log, command = sys.argv[1], sys.argv[2:]
spawned_ns = time.time_ns()
start = time.perf_counter()
pid = os.fork()
if pid == 0:
    fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.execvp(command[0], command)
_, status, usage = os.wait4(pid, 0)
elapsed = time.perf_counter() - start
print(json.dumps({"elapsed": elapsed, "code": os.waitstatus_to_exitcode(status), "maxrss": usage.ru_maxrss,
                  "spawned_ns": spawned_ns, "cpu": usage.ru_utime + usage.ru_stime}))
"""


@dataclass(frozen=True)
class Run:
    painted_s: float  # spawn to the PNG written (the file's mtime; the kernel's clock ticks: ~1-10 ms)
    exit_s: float  # spawn to exit
    peak_mb: float | None  # peak RSS (None where unknown)
    cpu_s: float | None = None  # CPU seconds (user + system) of the whole run, to exit (None where unknown)


def _run(command: list[str], png: Path, env: dict[str, str]) -> Run:
    """Launch ``command`` (which writes ``png``) once and time it."""
    png.unlink(missing_ok=True)
    log = png.with_suffix(".log")
    if hasattr(os, "fork"):
        done = subprocess.run([sys.executable, "-c", LAUNCHER, str(log), *command], capture_output=True, text=True,
                              env=env, stdin=subprocess.DEVNULL, cwd=png.parent, timeout=600)
        if done.returncode != 0:
            raise RuntimeError(f"the launcher failed: {done.stderr[-2000:]}")
        report = json.loads(done.stdout)
        elapsed, code, spawned_ns = float(report["elapsed"]), int(report["code"]), int(report["spawned_ns"])
        peak: float | None = report["maxrss"] / (1e6 if sys.platform == "darwin" else 1e3)  # bytes / KiB
        cpu: float | None = float(report["cpu"])
    else:  # Windows: no fork and no per-process rusage
        with open(log, "w", encoding="utf-8") as out:
            spawned_ns, start = time.time_ns(), time.perf_counter()
            code = subprocess.run(command, stdout=out, stderr=subprocess.STDOUT, env=env, stdin=subprocess.DEVNULL,
                                  cwd=png.parent, timeout=600).returncode
            elapsed, peak, cpu = time.perf_counter() - start, None, None
    if code != 0 or not png.is_file() or png.stat().st_size == 0:
        tail = log.read_text(encoding="utf-8", errors="replace")[-2000:]
        raise RuntimeError(f"{command[1:3]} exited with {code} without a screenshot:\n{tail}")
    painted = (png.stat().st_mtime_ns - spawned_ns) / 1e9
    return Run(min(max(painted, 0.0), elapsed), elapsed, peak, cpu)


@cache
def _store() -> tuple[Path, str, int]:
    """The scratch folder, a store holding the whole universe, and its number of securities."""
    try:
        dataset = universe()
    except ImportError as exc:  # the universe needs the app's readers/store: not built yet
        raise Skip(f"cannot build the universe: {exc}") from exc
    folder = work_dir() / "startup"
    folder.mkdir(exist_ok=True)
    return folder, make_store(folder / "universe.sqlite3", dataset), len(dataset.securities)


def _forget_cached_tables(url: str) -> None:
    """Empty the store's metric-table cache, as a new snapshot's first start finds it."""
    import sqlalchemy as sa

    from desktop.store.db import open_database
    from desktop.store.models import MetricTableRow

    database = open_database(url)
    try:
        with database.session() as session:
            session.execute(sa.delete(MetricTableRow))
    finally:
        database.dispose()


@dataclass(frozen=True)
class Comparison:
    app: list[Run]
    bare: list[Run]
    n: int

    def result(self, what: str) -> dict:
        """``painted``, ``exit`` or ``cpu`` medians of app and bare, with the app's peak RSS."""
        peaks = [r.peak_mb for r in self.app if r.peak_mb is not None]
        app = [getattr(r, f"{what}_s") for r in self.app]
        bare = [getattr(r, f"{what}_s") for r in self.bare]
        if None in app or None in bare:
            raise Skip(f"no {what} time on this platform")
        return result(statistics.median(app), max(peaks) if peaks else None, self.n, statistics.median(bare))


@cache
def _compare(launcher: tuple[str, ...], cold: bool = False) -> Comparison:
    """Alternate ``launcher --db STORE --screenshot PNG`` with the bare window, ``REPEAT`` times each."""
    folder, url, n = _store()
    compileall.compile_dir(PROJECT_ROOT / "desktop", quiet=1)  # what installing the package does
    env = _env(folder / "home")
    app = [*launcher, "--db", url, "--screenshot", str(folder / "app.png")]
    bare = [sys.executable, "-c", BASELINE, str(folder / "bare.png")]
    _run(app, folder / "app.png", env)  # warm-up: fills the OS file cache for both, and the table cache
    _run(bare, folder / "bare.png", env)
    app_runs: list[Run] = []
    bare_runs: list[Run] = []
    for _ in range(REPEAT):
        if cold:
            _forget_cached_tables(url)
        app_runs.append(_run(app, folder / "app.png", env))
        bare_runs.append(_run(bare, folder / "bare.png", env))
    return Comparison(app_runs, bare_runs, n)


def bench_startup() -> dict:
    """Median start of ``python -m desktop`` to its first painted window with the full universe
    (metric table cached in the store, as on every start after the first on a snapshot)."""
    return _compare((sys.executable, "-m", "desktop")).result("painted")


def bench_startup_exit() -> dict:
    """The same runs, timed to the process's exit (the window painted, saved and torn down)."""
    return _compare((sys.executable, "-m", "desktop")).result("exit")


def bench_startup_cpu() -> dict:
    """The same runs' CPU time (user + system, to exit): what a busy machine changes least."""
    return _compare((sys.executable, "-m", "desktop")).result("cpu")


def bench_startup_cold() -> dict:
    """The first start on a new snapshot: its metric table is not cached yet and is computed."""
    return _compare((sys.executable, "-m", "desktop"), cold=True).result("painted")


def bench_startup_first_paint() -> dict:
    """Start to the window's first paint, before its snapshot is on screen (the loading page)."""
    return _compare((sys.executable, "-c", FIRST_PAINT)).result("painted")


def bench_startup_frozen() -> dict:
    """The same for the PyInstaller bundle: ``PICKAXE_FROZEN_APP`` or ``build/frozen/dist/Pickaxe``
    (where ``.ci/run`` builds it), against the same bare window run from Python."""
    raw = os.environ.get("PICKAXE_FROZEN_APP")
    candidates = [Path(raw)] if raw else [PROJECT_ROOT / "build" / "frozen" / "dist" / "Pickaxe" / "Pickaxe",
                                          PROJECT_ROOT / "dist" / "Pickaxe" / "Pickaxe"]
    app = next((c for c in candidates if c.is_file()), None)
    if app is None:
        raise Skip("no frozen bundle: build it with `pyinstaller installer/pickaxe.spec` (docs/installer.md)")
    return _compare((str(app),)).result("painted")

"""Start-up: Pickaxe to its first painted window with the full universe, against a bare window.

``bench_startup`` runs the app from Python, ``bench_startup_frozen`` the PyInstaller bundle when one is
built. Each run is a fresh subprocess (cold interpreter, warm OS file cache after the warm-up run), started
headless with ``--screenshot``: the app opens the store holding the whole universe, loads the latest
snapshot, fills its window, paints it into a PNG and exits. The baseline is the least any PySide6 +
pandas desktop app pays: a fresh interpreter that imports pandas, opens a QMainWindow of the same size,
paints it into a PNG and exits. App and baseline runs alternate so that both see the same load.

``peak_mb`` here is the app process's peak resident set size (``ru_maxrss``), not a tracemalloc peak:
most of a Qt app's memory is allocated outside Python.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from functools import cache
from pathlib import Path

from benchmarks import PROJECT_ROOT, Skip, make_store, result, universe, work_dir

REPEAT = 5
WINDOW = (1600, 1000)

BASELINE = f"""
import sys
import pandas
from PySide6.QtWidgets import QApplication, QLabel, QMainWindow
app = QApplication([])
window = QMainWindow()
window.setCentralWidget(QLabel("pandas " + pandas.__version__))
window.resize({WINDOW[0]}, {WINDOW[1]})
window.show()
app.processEvents()
sys.exit(0 if window.grab().save(sys.argv[1]) else 1)
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
start = time.perf_counter()
pid = os.fork()
if pid == 0:
    fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.execvp(command[0], command)
_, status, usage = os.wait4(pid, 0)
elapsed = time.perf_counter() - start
print(json.dumps({"elapsed": elapsed, "code": os.waitstatus_to_exitcode(status), "maxrss": usage.ru_maxrss}))
"""


def _run(command: list[str], png: Path, env: dict[str, str]) -> tuple[float, float | None]:
    """Seconds from spawn to exit, and the command's peak RSS in MB (None where unknown)."""
    png.unlink(missing_ok=True)
    log = png.with_suffix(".log")
    if hasattr(os, "fork"):
        done = subprocess.run([sys.executable, "-c", LAUNCHER, str(log), *command], capture_output=True, text=True,
                              env=env, stdin=subprocess.DEVNULL, cwd=png.parent, timeout=600)
        if done.returncode != 0:
            raise RuntimeError(f"the launcher failed: {done.stderr[-2000:]}")
        report = json.loads(done.stdout)
        elapsed, code = float(report["elapsed"]), int(report["code"])
        peak: float | None = report["maxrss"] / (1e6 if sys.platform == "darwin" else 1e3)  # bytes / KiB
    else:  # Windows: no fork and no per-process rusage
        with open(log, "w", encoding="utf-8") as out:
            start = time.perf_counter()
            code = subprocess.run(command, stdout=out, stderr=subprocess.STDOUT, env=env, stdin=subprocess.DEVNULL,
                                  cwd=png.parent, timeout=600).returncode
            elapsed, peak = time.perf_counter() - start, None
    if code != 0 or not png.is_file() or png.stat().st_size == 0:
        tail = log.read_text(encoding="utf-8", errors="replace")[-2000:]
        raise RuntimeError(f"{command[1:3]} exited with {code} without a screenshot:\n{tail}")
    return elapsed, peak


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


def _compare(launcher: list[str]) -> dict:
    """Alternate ``launcher --db STORE --screenshot PNG`` with the bare window; medians and peak RSS."""
    folder, url, n = _store()
    env = _env(folder / "home")
    app = [*launcher, "--db", url, "--screenshot", str(folder / "app.png")]
    bare = [sys.executable, "-c", BASELINE, str(folder / "bare.png")]
    _run(app, folder / "app.png", env)  # warm-up: fills the OS file cache for both
    _run(bare, folder / "bare.png", env)
    app_times: list[float] = []
    bare_times: list[float] = []
    peaks: list[float] = []
    for _ in range(REPEAT):
        elapsed, peak = _run(app, folder / "app.png", env)
        app_times.append(elapsed)
        if peak is not None:
            peaks.append(peak)
        bare_times.append(_run(bare, folder / "bare.png", env)[0])
    return result(statistics.median(app_times), max(peaks) if peaks else None, n, statistics.median(bare_times))


def bench_startup() -> dict:
    """Median start-up of ``python -m desktop`` to its first painted window with the full universe."""
    return _compare([sys.executable, "-m", "desktop"])


def bench_startup_frozen() -> dict:
    """The same for the PyInstaller bundle: ``PICKAXE_FROZEN_APP`` or ``build/frozen/dist/Pickaxe``
    (where ``.ci/run`` builds it), against the same bare window run from Python."""
    raw = os.environ.get("PICKAXE_FROZEN_APP")
    candidates = [Path(raw)] if raw else [PROJECT_ROOT / "build" / "frozen" / "dist" / "Pickaxe" / "Pickaxe",
                                          PROJECT_ROOT / "dist" / "Pickaxe" / "Pickaxe"]
    app = next((c for c in candidates if c.is_file()), None)
    if app is None:
        raise Skip("no frozen bundle: build it with `pyinstaller installer/pickaxe.spec` (docs/installer.md)")
    return _compare([str(app)])

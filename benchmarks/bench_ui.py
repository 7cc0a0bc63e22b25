"""UI speed (issue #6): a threshold change must update table, funnel and charts in < 50 ms for
2,000 stocks; type-to-search in a field picker over the whole catalogue (150+ fields, issue #16)
stays instant (one keystroke well under 16 ms, a frame).

Measured on the real window (offscreen): the main window shows a 6-criterion screen on a synthetic
2,000-stock snapshot (benchmarks/synthetic.py); each step moves the market-cap minimum, as a
histogram drag does, and times ``MainWindow.rescreen`` - parse, ``evaluate``, results model reset,
funnel labels, scatter and the visible chart tab (the histogram); hidden tabs redraw when shown. Baseline: ``evaluate`` alone (the engine's share).

    QT_QPA_PLATFORM=offscreen python -m benchmarks.bench_ui
"""

from __future__ import annotations

import os
import resource
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

STEPS = 40
SCREEN: dict[str, Any] = {
    "version": 2, "name": "Benchmark", "universe": "all", "match": "all",
    "criteria": [
        {"field": "market_cap", "min": 3e8},
        {"field": "free_cash_flow", "min": 0, "missing": "pass"},
        {"field": "net_debt_to_ebitda", "max": 4, "missing": "pass"},
        {"any": [{"field": "interest_coverage", "min": 2}, {"field": "sector", "any_of": ["Technology"]}]},
        {"field": "fcf_yield", "min": -0.5, "missing": "pass"},
    ],
    "columns": ["fcf_yield", "interest_coverage", "debt_to_equity"],
}


def _window(db_path: Path) -> Any:
    from PySide6.QtCore import QEventLoop, QTimer
    from PySide6.QtWidgets import QApplication

    from benchmarks.synthetic import synthetic_dataset
    from desktop.store.db import open_database
    from desktop.store.snapshots import save_snapshot
    from desktop.ui.main_window import MainWindow, ScreenSource

    app = QApplication.instance() or QApplication([])
    db = open_database(str(db_path))
    with db.session() as session:
        save_snapshot(session, synthetic_dataset(), {"rows": 2000})
    db.dispose()
    window = MainWindow(db_url=str(db_path), restore_state=False)
    window.resize(1600, 1000)
    window.show()
    loop = QEventLoop()
    window.ready.connect(loop.quit)
    QTimer.singleShot(120_000, loop.quit)
    if not window.is_ready():
        loop.exec()
    window.set_screen_document(dict(SCREEN), ScreenSource("new", ""))
    app.processEvents()
    return app, window


def bench_threshold_change() -> dict:
    """Median time of one market-cap threshold change through the whole window."""
    from desktop.engine.evaluate import evaluate
    from desktop.engine.screen import parse_screen

    home = tempfile.mkdtemp(prefix="pickaxe-bench-ui-")
    os.environ["PICKAXE_HOME"] = home
    app, window = _window(Path(home) / "bench.sqlite3")
    row = window.builder.leaves()[0]
    row.activated.emit(row)
    thresholds = [1e8 * (1 + (i % 20)) for i in range(STEPS)]
    times = []
    for value in thresholds:
        row.min_edit.set_value(value, "usd")
        t0 = time.perf_counter()
        window.rescreen()
        times.append(time.perf_counter() - t0)
        app.processEvents()  # paint between steps, as the event loop would
    table = window.bundle.table
    n = len(table.values)
    base = []
    for value in thresholds:
        doc = dict(SCREEN, criteria=[{"field": "market_cap", "min": value}, *SCREEN["criteria"][1:]])
        t0 = time.perf_counter()
        evaluate(parse_screen(doc), table, near_misses=False)  # as the window calls it
        base.append(time.perf_counter() - t0)
    window.shutdown()
    window.deleteLater()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"median_s": statistics.median(times), "peak_mb": peak_mb, "n": n,
            "baseline_median_s": statistics.median(base), "p90_s": sorted(times)[int(0.9 * len(times))]}


WORDS = ("margin", "return", "share", "yield", "debt", "growth", "insider", "volume")


def bench_field_search() -> dict:
    """One keystroke of type-to-search in a field picker: the key event, the completer filtering every
    field (the catalogue plus two formula fields) and the popup update; also the time to build a
    picker (each criterion row has one). Baseline: the same substring filter in plain Python."""
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication

    from desktop.engine import catalog
    from desktop.engine.screen import formula_field
    from desktop.ui.screen_builder import FieldPicker

    app = QApplication.instance() or QApplication([])
    extra = [formula_field("cash_cover", "cash / total_debt").field, formula_field("off_low", "price / low_52w").field]
    t0 = time.perf_counter()
    picker = FieldPicker()
    picker.set_extra_fields(extra)
    build_s = time.perf_counter() - t0
    completer = picker.completer()
    edit = picker.lineEdit()
    assert completer is not None and edit is not None
    n = completer.model().rowCount()
    assert n >= 150, n
    picker.show()
    edit.setFocus()
    times, hits = [], {}
    for _ in range(5):
        for word in WORDS:
            edit.clear()
            app.processEvents()
            for ch in word:
                t0 = time.perf_counter()
                QTest.keyClick(edit, ch)
                app.processEvents()
                times.append(time.perf_counter() - t0)
            hits[word] = completer.completionCount()
    assert all(hits.values()), hits  # every word finds fields
    labels = [f"{f.label} {f.name} {f.group}".casefold() for f in catalog.all_fields()]
    base = []
    for word in WORDS * 5:
        for k in range(1, len(word) + 1):
            t0 = time.perf_counter()
            _ = [x for x in labels if word[:k] in x]
            base.append(time.perf_counter() - t0)
    picker.hide()
    picker.deleteLater()
    return {"median_s": statistics.median(times), "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "n": n, "baseline_median_s": statistics.median(base), "p90_s": sorted(times)[int(0.9 * len(times))],
            "build_picker_s": build_s}


if __name__ == "__main__":
    result = bench_threshold_change()
    print(f"threshold change, {result['n']:,} stocks: median {result['median_s'] * 1000:.1f} ms "
          f"(p90 {result['p90_s'] * 1000:.1f} ms; evaluate alone {result['baseline_median_s'] * 1000:.1f} ms; "
          f"peak RSS {result['peak_mb']:.0f} MB)")

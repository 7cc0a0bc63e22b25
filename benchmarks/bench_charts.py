"""Chart widget speed (issue #6): ``set_data`` and ``set_field`` with 2,000 stocks.

- ``scatter_full``: ``ScatterChartWidget.set_data`` with another y field each call (a full redraw of
  2,000 points in ~10 colour layers). Baseline: one bare ``pg.ScatterPlotItem.setData`` of the same
  2,000 points, pyqtgraph's own floor.
- ``scatter_rescreen``: ``set_data`` on the same table with a different passing set (what every
  threshold change does); only the bold layer is redrawn. Same baseline.
- ``histogram``: ``HistogramWidget.set_field`` with 2,000 values and both bounds. Baseline:
  ``np.histogram`` plus a bare step-mode ``PlotDataItem.setData`` of the result.

    QT_QPA_PLATFORM=offscreen python -m benchmarks.bench_charts
"""

from __future__ import annotations

import os
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

N = 2000
SECTORS = ("Technology", "Financial Services", "Healthcare", "Industrials", "Consumer Cyclical",
           "Real Estate", "Energy", "Basic Materials", "Communication Services", "Utilities",
           "Consumer Defensive")


def _app() -> Any:
    from PySide6.QtWidgets import QApplication

    return QApplication.instance() or QApplication([])


def _values() -> Any:
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(6)
    return pd.DataFrame(
        {
            "market_cap": 10 ** rng.uniform(7.5, 10.5, N),
            "revenue": 10 ** rng.uniform(6.0, 10.0, N),
            "current_ratio": rng.gamma(2.0, 1.0, N),
            "sector": rng.choice(np.array(SECTORS, dtype=object), N),
            "themes": [("AI",) if i % 7 == 0 else () for i in range(N)],
        },
        index=pd.Index([f"S{i:04d}" for i in range(N)], name="symbol"),
    )


def _scatter_baseline() -> float:
    import numpy as np
    import pyqtgraph as pg

    from benchmarks.timing import measure

    widget = pg.PlotWidget()
    item = pg.ScatterPlotItem()
    widget.addItem(item)
    rng = np.random.default_rng(1)
    x, y = rng.random(N), rng.random(N)
    pen, brush = pg.mkPen(None), pg.mkBrush("#4E79A7")
    median, _ = measure(lambda: item.setData(x=x, y=y, data=np.arange(N), size=6, pen=pen, brush=brush),
                        repeat=9, trace_memory=False)
    return median


def bench_scatter_full() -> dict:
    """Full scatter redraw of 2,000 points (fields change on every call)."""
    from benchmarks.timing import measure
    from desktop.ui.charts import ScatterChartWidget

    _app()
    values = _values()
    passed = values.index[::6]
    widget = ScatterChartWidget()
    widget.resize(900, 560)
    fields = iter(["revenue", "current_ratio"] * 100)

    def run() -> None:
        widget.set_data(values, "market_cap", next(fields), "sector", passed)

    median, peak = measure(run, repeat=9)
    return {"median_s": median, "peak_mb": peak, "n": N, "baseline_median_s": _scatter_baseline()}


def bench_scatter_rescreen() -> dict:
    """Same table, another passing set: the live-threshold path."""
    from benchmarks.timing import measure
    from desktop.ui.charts import ScatterChartWidget

    _app()
    values = _values()
    widget = ScatterChartWidget()
    widget.resize(900, 560)
    widget.set_data(values, "market_cap", "revenue", "sector", values.index[::6])
    steps = iter([values.index[:: 5 + (i % 4)] for i in range(100)])

    def run() -> None:
        widget.set_data(values, "market_cap", "revenue", "sector", next(steps))

    median, peak = measure(run, repeat=9)
    return {"median_s": median, "peak_mb": peak, "n": N, "baseline_median_s": _scatter_baseline()}


def bench_histogram() -> dict:
    """Histogram of 2,000 market caps with both bounds drawn."""
    import numpy as np
    import pyqtgraph as pg

    from benchmarks.timing import measure
    from desktop.engine import catalog
    from desktop.ui.charts import HistogramWidget

    _app()
    caps = _values()["market_cap"].to_numpy()
    field = catalog.get("market_cap")
    widget = HistogramWidget()
    widget.resize(700, 320)
    median, peak = measure(lambda: widget.set_field(caps, field, 3e8, 5e9), repeat=9)

    bare = pg.PlotWidget()
    item = pg.PlotDataItem(stepMode="center", fillLevel=0)
    bare.addItem(item)

    def baseline() -> None:
        counts, edges = np.histogram(np.log10(caps), bins=40)
        item.setData(edges, counts)

    base, _ = measure(baseline, repeat=9, trace_memory=False)
    return {"median_s": median, "peak_mb": peak, "n": N, "baseline_median_s": base}


if __name__ == "__main__":
    for bench in (bench_scatter_full, bench_scatter_rescreen, bench_histogram):
        result = bench()
        print(f"{bench.__name__:24s} median {result['median_s'] * 1000:7.2f} ms   "
              f"baseline {result['baseline_median_s'] * 1000:7.2f} ms   peak {result['peak_mb']:.1f} MB")

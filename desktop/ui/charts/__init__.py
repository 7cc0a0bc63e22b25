"""pyqtgraph chart widgets of the main window (issue #6); no business logic lives here.

The widgets take plain frames/arrays from the services layer and report user actions through
signals (see docs/architecture.md "UI charts" and docs/charts.md).
"""

from desktop.ui.charts.breakdown import BreakdownWidget
from desktop.ui.charts.histogram import HistogramWidget
from desktop.ui.charts.scatter import ScatterChartWidget
from desktop.ui.charts.timeseries import MarketContextWidget, PriceYieldWidget

__all__ = [
    "BreakdownWidget",
    "HistogramWidget",
    "MarketContextWidget",
    "PriceYieldWidget",
    "ScatterChartWidget",
]

"""The chart pane: the scatter beside the Criterion / Breakdown / Price / Market tabs (issue #17).

The coordinator owns the chart widgets and decides when each one is redrawn: the scatter on every
re-screen, hidden tabs only when they are shown, the histogram from the builder's current
criterion. The hidden tabs' charts are even built only when first shown (:class:`LazyChartPage`;
~0.1 s of start-up, issue #17), and the price chart reads the selected stock's closes then. It never shows state that is no longer true: when no numeric criterion is current
(after a preset switch to a screen without one, or when the drawn criterion was removed) the
histogram says so instead of keeping the old field and its lines.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

import pandas as pd
from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QLabel, QSplitter, QTabWidget, QVBoxLayout, QWidget

from desktop.engine import catalog
from desktop.engine.field import Field

log = logging.getLogger(__name__)


def chart_call(fn: Any, *args: Any, **kwargs: Any) -> None:
    """Update one chart; a chart bug is logged and leaves the rest of the window working."""
    try:
        fn(*args, **kwargs)
    except Exception:  # a broken chart must not stop the table, funnel and detail updates
        log.exception("chart update failed: %s", getattr(fn, "__qualname__", fn))


class LazyChartPage(QWidget):
    """A tab page that builds its chart the first time the chart is asked for."""

    def __init__(self, make: Callable[[QWidget], Any], parent: QWidget) -> None:
        super().__init__(parent)
        self._make = make
        self._chart: Any = None
        QVBoxLayout(self).setContentsMargins(0, 0, 0, 0)

    @property
    def chart(self) -> Any:
        if self._chart is None:
            self._chart = self._make(self)
            layout = self.layout()
            assert layout is not None
            layout.addWidget(self._chart)
        return self._chart

    @property
    def built(self) -> bool:
        return self._chart is not None


class ChartCoordinator(QObject):
    """Builds the charts into ``split`` and keeps them in step with the screen and the selection.

    Signals:
        point_clicked(str): a scatter point was clicked (its symbol).
        bounds_dragged(object, object): the histogram's min/max lines were moved.
        fields_changed(str, str) / color_by_changed(str): the scatter's axes or colouring changed.
        histogram_needed(): the Criterion tab was shown while stale; the window answers with
            :meth:`show_criterion` for the builder's current criterion.
    """

    histogram_needed = Signal()
    point_clicked = Signal(str)
    bounds_dragged = Signal(object, object)
    fields_changed = Signal(str, str)
    color_by_changed = Signal(str)

    def __init__(self, split: QSplitter, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.available = False
        self._stale_tabs: set[QWidget] = set()
        self._histogram_field: str | None = None  # the criterion field drawn, None when none is
        try:
            from desktop.ui import charts
        except ImportError as exc:  # the charts package is built separately; keep the window usable
            log.warning("charts unavailable: %s", exc)
            holder = QLabel(self.tr("Charts are not available in this build."), split)
            holder.setAlignment(Qt.AlignmentFlag.AlignCenter)
            return
        self.available = True
        self.scatter = charts.ScatterChartWidget(split)
        self.scatter.point_clicked.connect(self.point_clicked)
        self.scatter.fields_changed.connect(self.fields_changed)
        self.scatter.color_by_changed.connect(self.color_by_changed)
        self.tabs = QTabWidget(split)
        self.histogram = charts.HistogramWidget(self.tabs)
        self.histogram.bounds_changed.connect(self.bounds_dragged)
        self.tabs.addTab(self.histogram, self.tr("Criterion"))
        self.breakdown_page = LazyChartPage(charts.BreakdownWidget, self.tabs)
        self.price_page = LazyChartPage(charts.PriceYieldWidget, self.tabs)
        self.market_page = LazyChartPage(charts.MarketContextWidget, self.tabs)
        self.tabs.addTab(self.breakdown_page, self.tr("Breakdown"))
        self.tabs.addTab(self.price_page, self.tr("Price vs 10y"))
        self.tabs.addTab(self.market_page, self.tr("Market"))
        self.tabs.currentChanged.connect(self._tab_shown)
        self._values: pd.DataFrame | None = None
        self._fields: dict[str, Field] = {}  # the screen's formula fields
        self._ranked: pd.DataFrame | None = None
        self._market: pd.DataFrame | None = None
        self._prices: tuple[str, Any] | None = None  # (symbol, SnapshotData) the price tab is to show

    @property
    def breakdown(self) -> Any:
        return self.breakdown_page.chart

    @property
    def price_chart(self) -> Any:
        return self.price_page.chart

    @property
    def market_chart(self) -> Any:
        return self.market_page.chart

    # -- data in --------------------------------------------------------------------------------
    def set_market(self, market: Any) -> None:
        if self.available and isinstance(market, pd.DataFrame):
            self._market = market
            self._stale_tabs.add(self.market_page)
            self._tab_shown()

    def screened(self, values: pd.DataFrame, ranked: pd.DataFrame, preferred: tuple[str, str], color_by: str,
                 selected: list[str], *, histogram_current: bool, fields: Mapping[str, Field] | None = None) -> None:
        """A re-screen: redraw the scatter now, the hidden tabs when shown.

        ``histogram_current`` is True when the histogram itself moved the bounds (it is up to date);
        ``fields`` are the screen's formula fields (columns of ``values``, issue #16).
        """
        if not self.available:
            return
        self._values, self._ranked = values, ranked
        self._fields = dict(fields or {})
        x, y = self.scatter.fields() if self.scatter.fields()[0] else preferred
        x = x if x in values.columns else "market_cap"
        y = y if y in values.columns else next((c for c in ("fcf_yield", "free_cash_flow", "price")
                                                 if c in values.columns), x)
        chart_call(self.scatter.set_data, values, x, y, color_by, passed=ranked.index, fields=self._fields)
        chart_call(self.scatter.set_highlighted, selected)
        self._stale_tabs.add(self.breakdown_page)
        if histogram_current:
            self._stale_tabs.discard(self.histogram)
        else:
            self._stale_tabs.add(self.histogram)
        self._tab_shown()

    def show_criterion(self, field_name: str | None, raw: Any, bounds: tuple[float | None, float | None],
                       *, bring_forward: bool = False) -> None:
        """Draw ``field_name``'s distribution with the criterion's bounds; None clears the histogram.

        ``raw`` is the field's values for every member (only read when a field is given).
        """
        if not self.available:
            return
        field = None
        if field_name:
            try:
                field = self._fields.get(field_name) or catalog.get(field_name)
            except KeyError:
                field = None
        if field is None:
            self._histogram_field = None
            chart_call(self.histogram.clear,
                       self.tr("Pick a numeric criterion in the screen to see its distribution here."))
        else:
            self._histogram_field = field.name if field.is_numeric else None  # None: the message shows
            chart_call(self.histogram.set_field, raw, field, *bounds)
        self._stale_tabs.discard(self.histogram)
        if bring_forward and field is not None:
            self.tabs.setCurrentWidget(self.histogram)

    def highlight(self, symbols: list[str]) -> None:
        if self.available:
            chart_call(self.scatter.set_highlighted, symbols)

    def show_prices(self, symbol: str, data: Any) -> None:
        """``symbol``'s closes against the 10-year yield, drawn when the price tab is shown; ``data``
        is the snapshot's ``SnapshotData`` (it reads the one stock's closes, not all of them)."""
        if not self.available:
            return
        self._prices = (symbol, data)
        self._stale_tabs.add(self.price_page)
        self._tab_shown()

    def focus(self) -> None:
        if self.available:
            self.scatter.setFocus()

    @property
    def histogram_field(self) -> str | None:
        """The criterion field the histogram shows (None: it shows its "pick a criterion" message)."""
        return self._histogram_field

    # -- tabs -----------------------------------------------------------------------------------
    def _tab_shown(self, _index: int = -1) -> None:
        current = self.tabs.currentWidget()
        if current not in self._stale_tabs:
            return
        if current is self.market_page and self._market is not None:
            self._stale_tabs.discard(current)
            chart_call(self.market_chart.set_market, self._market)
        elif current is self.price_page and self._prices is not None:
            self._stale_tabs.discard(current)
            symbol, data = self._prices
            market = data.market()
            yields = market["yield_10y"] if "yield_10y" in market.columns else pd.Series(dtype=float)
            chart_call(self.price_chart.set_series, symbol, data.prices_of(symbol), yields)
        elif self._values is None or self._ranked is None:
            return
        elif current is self.breakdown_page:
            self._stale_tabs.discard(current)
            shortlist = self._values.loc[self._values.index.intersection(self._ranked.index)]
            by_sector = (shortlist["sector"].value_counts() if "sector" in shortlist.columns
                         else pd.Series(dtype=int))
            by_theme = (shortlist["themes"].explode().dropna().value_counts() if "themes" in shortlist.columns
                        else pd.Series(dtype=int))
            chart_call(self.breakdown.set_counts, by_sector, by_theme)
        elif current is self.histogram:
            self.histogram_needed.emit()

"""Time charts: a stock's price against the 10-year yield, and small caps against the S&P 500.

Both use a ``DateAxisItem``, a second ``ViewBox`` on a right axis linked on X for the yield (in
percent), clip-to-view with automatic peak downsampling (decades of daily closes stay smooth), and
a crosshair whose mouse moves are rate-limited by a ``pg.SignalProxy``.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from html import escape, unescape
from typing import Any

import numpy as np
import pandas as pd
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import QButtonGroup, QLabel, QToolButton, QVBoxLayout, QWidget

from desktop.ui.charts._axes import FieldAxisItem, clean_series, display_value, epoch_seconds
from desktop.ui.charts._base import (
    AXIS,
    LINE_BLUE,
    LINE_ORANGE,
    LINE_YIELD,
    MUTED,
    TEXT,
    ChartFrame,
    make_plot_widget,
    set_axis_label,
)

CROSSHAIR_RATE_HZ = 30
# The crosshair reads a series only when it has a point within this many seconds of the cursor.
_NEAREST_LIMIT_S = 7 * 86400


class _Line:
    """One drawn series plus what the crosshair readout needs."""

    def __init__(self, name: str, t: np.ndarray, v: np.ndarray, unit: str) -> None:
        self.name, self.t, self.v, self.unit = name, t, v, unit

    def value_at(self, x: float) -> float | None:
        if self.t.size == 0:
            return None
        i = int(np.clip(np.searchsorted(self.t, x), 1, self.t.size - 1)) if self.t.size > 1 else 0
        if i > 0 and abs(self.t[i - 1] - x) < abs(self.t[i] - x):
            i -= 1
        return float(self.v[i]) if abs(self.t[i] - x) <= _NEAREST_LIMIT_S else None


class _TimeChart(ChartFrame):
    """Left-axis lines, right-axis lines (second ViewBox), date axis, crosshair with readout."""

    def __init__(self, left_unit: str, right_unit: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._plot_widget = make_plot_widget(
            bottom=pg.DateAxisItem(orientation="bottom", utcOffset=0),
            left=FieldAxisItem("left", unit=left_unit),
            right=FieldAxisItem("right", unit=right_unit),
        )
        self._plot = self._plot_widget.getPlotItem()
        self._plot.showAxis("right")
        self._plot.vb.setAutoVisible(y=True)
        self._right = pg.ViewBox()
        self._right.setAutoVisible(y=True)
        self._right.setMouseEnabled(x=False, y=False)
        self._right.setZValue(-10)  # keep mouse zoom/pan on the main ViewBox
        self._plot.scene().addItem(self._right)
        self._plot.getAxis("right").linkToView(self._right)
        self._right.setXLink(self._plot)
        self._plot.vb.sigResized.connect(self._sync_views)
        # The colour key is a wrapping label above the plot rather than a legend over the lines.
        self._key = QLabel(self)
        self._key.setTextFormat(Qt.TextFormat.RichText)
        self._key.setWordWrap(True)
        self._key.setStyleSheet(f"color: {TEXT}; padding: 0px 6px;")
        self._key_entries: list[str] = []
        layout = self.layout()
        if isinstance(layout, QVBoxLayout):
            layout.insertWidget(1, self._key)
        # Fixed room for "10.25%" so the right axis never clips (it is often laid out while hidden).
        right_axis = self._plot.getAxis("right")
        right_axis.setWidth(QFontMetrics(right_axis.font() or self.font()).horizontalAdvance("00.00%") + 16)
        self._cursor = pg.InfiniteLine(angle=90, movable=False, pen=pg.mkPen(AXIS, style=Qt.PenStyle.DashLine))
        self._cursor.hide()
        self._plot.addItem(self._cursor, ignoreBounds=True)
        self._mouse_proxy = pg.SignalProxy(
            self._plot.scene().sigMouseMoved, rateLimit=CROSSHAIR_RATE_HZ, slot=self._on_mouse_moved
        )
        self._readout = QLabel(self)
        self._readout.setStyleSheet(f"color: {MUTED};")
        self._readout.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self._lines: list[_Line] = []
        self._items: list[tuple[pg.PlotDataItem, bool]] = []
        self._set_chart(self._plot_widget)

    def _sync_views(self) -> None:
        self._right.setGeometry(self._plot.vb.sceneBoundingRect())
        self._right.linkedViewChanged(self._plot.vb, self._right.XAxis)

    def _clear(self) -> None:
        for item, on_right in self._items:
            (self._right if on_right else self._plot).removeItem(item)
        self._items = []
        self._lines = []
        self._key_entries = []
        self._key.clear()
        self._cursor.hide()
        self._readout.clear()

    def _add_line(
        self, name: str, series: pd.Series, hex_code: str, unit: str, *, right: bool = False
    ) -> None:
        t = epoch_seconds(series.index)
        v = series.to_numpy(dtype=float)
        pen = pg.mkPen(hex_code, width=1.2 if right else 1.6)
        item = pg.PlotDataItem(
            pen=pen, name=name, clipToView=True, autoDownsample=True, downsampleMethod="peak"
        )
        # Data goes in after the item has its ViewBox: a clip-to-view item with data that is added
        # to a scene first asks the PlotWidget (not a ViewBox) for its range and fails.
        if right:
            self._right.addItem(item)
        else:
            self._plot.addItem(item)
        item.setData(t, v)
        self._key_entries.append(f'<span style="color:{hex_code}; font-weight:bold;">━━</span>&nbsp;{escape(name).replace(" ", "&nbsp;")}')
        self._key.setText("&nbsp;&nbsp;&nbsp; ".join(self._key_entries))
        self._items.append((item, right))
        self._lines.append(_Line(name.replace(self.tr(" (right)"), ""), t, v, unit))

    def _fit(self) -> None:
        self._plot.enableAutoRange()
        self._right.enableAutoRange(axis=pg.ViewBox.YAxis)
        self._plot.autoRange()
        self._sync_views()

    def show_message(self, text: str) -> None:
        super().show_message(text)
        self._key.hide()

    def show_chart(self, footnote: str = "") -> None:
        super().show_chart(footnote)
        self._key.setVisible(bool(self._key_entries))

    def key_text(self) -> str:
        """The colour key as plain text (series names in drawing order)."""
        return " · ".join(
            unescape(re.sub(r"<[^>]+>|━", "", e)).replace("\xa0", " ").strip() for e in self._key_entries
        )

    def readout(self) -> str:
        return self._readout.text()

    def _on_mouse_moved(self, event: Any) -> None:
        pos = event[0]
        if not self._lines or not self._plot.vb.sceneBoundingRect().contains(pos):
            self._cursor.hide()
            return
        x = float(self._plot.vb.mapSceneToView(pos).x())
        self.show_crosshair(x)

    def show_crosshair(self, x: float) -> None:
        """Put the crosshair at time ``x`` (epoch seconds) and read every series there."""
        self._cursor.setValue(x)
        self._cursor.show()
        day = datetime.fromtimestamp(x, tz=UTC).date().isoformat()
        parts = [day]
        for line in self._lines:
            value = line.value_at(x)
            if value is not None:
                parts.append(f"{line.name} {display_value(value, line.unit)}")
        self._readout.setText("  ·  ".join(parts))


class PriceYieldWidget(_TimeChart):
    """A stock's price history (left axis) against the 10-year Treasury yield (right axis, %)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("usd_share", "percent", parent)
        self._controls.addStretch(1)
        self._controls.addWidget(self._readout)
        set_axis_label(self._plot, "left", self.tr("Price (USD)"))
        set_axis_label(self._plot, "right", self.tr("10-year yield (%)"))
        self.show_message(self.tr("Select a stock to see its price against the 10-year yield."))

    def set_series(self, symbol: str, prices: pd.Series, yield_10y: pd.Series) -> None:
        """Plot ``prices`` of ``symbol`` and the 10-year yield over the same dates.

        Args:
            symbol: the stock's symbol (for the title and the empty message).
            prices: daily closes on a DatetimeIndex (NaN = no bar).
            yield_10y: the 10-year yield in percent on a DatetimeIndex; clipped to the price dates.
        """
        self._clear()
        price = clean_series(prices)
        if price.empty:
            self.show_message(
                self.tr("No price history for {symbol} in this snapshot.").format(symbol=symbol)
            )
            return
        rate = clean_series(yield_10y)
        rate = rate[(rate.index >= price.index[0]) & (rate.index <= price.index[-1])]
        self._add_line(self.tr("{symbol} price").format(symbol=symbol), price, LINE_BLUE, "usd_share")
        if not rate.empty:
            self._add_line(self.tr("10-year yield (right)"), rate, LINE_YIELD, "percent", right=True)
        self._plot.showAxis("right", show=not rate.empty)
        self._fit()
        note = "" if not rate.empty else self.tr("No 10-year yield for these dates in this snapshot.")
        self.show_chart(note)


RANGES = (("1Y", 1), ("3Y", 3), ("5Y", 5), ("All", None))
# Preference order of the small-cap and large-cap series (market frame columns).
_SMALL = ("IWM", "RUT")
_LARGE = ("SPY", "GSPC")


class MarketContextWidget(_TimeChart):
    """Small caps (IWM) against the S&P 500 (SPY or ^GSPC), both rebased to 100, and the yield."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("", "percent", parent)
        self._market: pd.DataFrame | None = None
        self._years: int | None = 5
        self._range_group = QButtonGroup(self)
        self._range_group.setExclusive(True)
        # Literal tr() calls so that lupdate finds every string.
        self._series_names = {
            "IWM": self.tr("Russell 2000 (IWM)"), "RUT": self.tr("Russell 2000 index"),
            "SPY": self.tr("S&P 500 (SPY)"), "GSPC": self.tr("S&P 500 index"),
        }
        labels = {"1Y": self.tr("1Y"), "3Y": self.tr("3Y"), "5Y": self.tr("5Y"), "All": self.tr("All")}
        for key, years in RANGES:
            button = QToolButton(self)
            button.setText(labels[key])
            button.setCheckable(True)
            button.setChecked(years == self._years)
            button.setProperty("years", years)
            button.clicked.connect(lambda _checked=False, y=years: self.set_range(y))
            self._range_group.addButton(button)
            self._controls.addWidget(button)
        self._controls.addStretch(1)
        self._controls.addWidget(self._readout)
        set_axis_label(self._plot, "left", self.tr("Rebased (start = 100)"))
        set_axis_label(self._plot, "right", self.tr("10-year yield (%)"))
        self._no_data = self.tr(
            "No market series in this snapshot. Import IWM and SPY prices and the 10-year yield "
            "(FRED DGS10 or ^TNX) to compare small caps with the S&P 500."
        )
        self.show_message(self._no_data)

    def set_market(self, market: pd.DataFrame) -> None:
        """Show the market frame (columns among IWM, SPY, GSPC, RUT, yield_10y; DatetimeIndex)."""
        self._market = market
        self._redraw()

    def set_range(self, years: int | None) -> None:
        """Show the last ``years`` years (None = everything), rebasing at the new start."""
        self._years = years
        for button in self._range_group.buttons():
            button.setChecked(button.property("years") == years)
        self._redraw()

    def _pick(self, columns: tuple[str, ...]) -> tuple[str, pd.Series] | None:
        """The first of ``columns`` with data, with its display name."""
        market = self._market
        for column in columns:
            if market is not None and column in market.columns:
                series = clean_series(market[column])
                if not series.empty:
                    return self._series_names[column], series
        return None

    def _redraw(self) -> None:
        self._clear()
        market = self._market
        small, large = self._pick(_SMALL), self._pick(_LARGE)
        rate = clean_series(market["yield_10y"]) if market is not None and "yield_10y" in market else None
        equities = [s for s in (small, large) if s is not None]
        if not equities and (rate is None or rate.empty):
            self.show_message(self._no_data)
            return
        ends = [s.index[-1] for _, s in equities] + ([rate.index[-1]] if rate is not None and not rate.empty else [])
        end = max(ends)
        start = end - pd.DateOffset(years=self._years) if self._years else None
        clipped = [(name, s[s.index >= start] if start is not None else s) for name, s in equities]
        clipped = [(name, s) for name, s in clipped if not s.empty]
        notes = []
        if clipped:
            # Rebase at the first day every shown equity series has a close.
            base_day = max(s.index[0] for _, s in clipped)
            for (name, s), hex_code in zip(clipped, (LINE_BLUE, LINE_ORANGE), strict=False):
                s = s[s.index >= base_day]
                self._add_line(name, s / s.iloc[0] * 100.0, hex_code, "")
            notes.append(self.tr("Rebased to 100 on {day}.").format(day=base_day.date().isoformat()))
        if small is None or large is None:
            notes.append(self.tr("Add IWM and SPY (or ^GSPC) prices to compare small caps with large caps."))
        if rate is not None and not rate.empty:
            rate = rate[rate.index >= start] if start is not None else rate
            if not rate.empty:
                self._add_line(self.tr("10-year yield (right)"), rate, LINE_YIELD, "percent", right=True)
        self._fit()
        self.show_chart(" ".join(notes))

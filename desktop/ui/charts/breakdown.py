"""Breakdown of the shortlist by sector and by theme as two horizontal bar charts.

Category names sit on the left axis, which is sized from the font's measure of the longest name
so that nothing is clipped; very long names are elided with the full text as a tooltip.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QFontMetrics, QResizeEvent
from PySide6.QtWidgets import QBoxLayout, QFrame, QScrollArea, QWidget

from desktop.ui.charts._axes import CountAxisItem
from desktop.ui.charts._base import (
    BACKGROUND,
    CATEGORY_COLOURS,
    OTHER_COLOUR,
    TEXT,
    ChartFrame,
    colour,
    make_plot_widget,
)

MAX_BARS = 12
MAX_LABEL_CHARS = 34
MIN_SLOTS = 8
ROW_PX = 22  # height per bar, enough for one line of label text
TITLE_PX = 64  # title and bottom axis
MIN_BAR_PX = 170  # room for the longest bar and its count


def top_categories(counts: pd.Series, other_label: str, limit: int = MAX_BARS) -> pd.Series:
    """The ``limit - 1`` largest categories plus one bar summing the rest (labels are strings)."""
    clean = pd.to_numeric(counts, errors="coerce").fillna(0)
    clean = clean[clean > 0]
    clean.index = [str(i) for i in clean.index]
    clean = clean.sort_values(ascending=False, kind="stable")
    if len(clean) <= limit:
        return clean
    head = clean.iloc[: limit - 1]
    rest = clean.iloc[limit - 1:]
    tail = pd.Series([rest.sum()], index=[other_label.format(n=len(rest))])
    return pd.concat([head, tail])


class _BarPanel(ChartFrame):
    """One horizontal bar chart with its own empty message."""

    def __init__(self, title: str, hex_code: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._hex = hex_code
        self._plot_widget = make_plot_widget(bottom=CountAxisItem("bottom"))
        self._plot = self._plot_widget.getPlotItem()
        self._plot.setTitle(title, color=TEXT, size="10pt")
        self._plot.showGrid(x=True, y=False, alpha=0.12)
        self._plot.setMouseEnabled(x=False, y=False)
        self._plot.setMenuEnabled(False)
        self._plot.hideButtons()
        self._plot.getAxis("left").setStyle(tickLength=0)
        self._labels: list[pg.TextItem] = []
        self._bars: pg.BarGraphItem | None = None
        self._shown_index: list[str] = []
        self._set_chart(self._plot_widget)

    def categories(self) -> list[str]:
        """The bar labels, top to bottom (for tests and screen readers)."""
        return list(self._shown_index)

    def set_counts(self, counts: pd.Series, other_label: str, empty_text: str) -> None:
        shown = top_categories(counts, other_label)
        self._shown_index = list(shown.index)
        if self._bars is not None:
            self._plot.removeItem(self._bars)
            self._bars = None
        for label in self._labels:
            self._plot.removeItem(label)
        self._labels = []
        if shown.empty:
            self.setMinimumSize(MIN_BAR_PX, TITLE_PX + ROW_PX * 3)
            self.show_message(empty_text)
            return
        n = len(shown)
        y = np.arange(n)[::-1].astype(float)  # largest on top
        widths = shown.to_numpy(dtype=float)
        brushes = [pg.mkBrush(colour(self._hex, 200))] * n
        if int((pd.to_numeric(counts, errors="coerce").fillna(0) > 0).sum()) > MAX_BARS:
            brushes[-1] = pg.mkBrush(colour(OTHER_COLOUR, 200))
        self._bars = pg.BarGraphItem(
            x0=0, y=y, height=0.66, width=widths, brushes=brushes, pen=pg.mkPen(colour(self._hex).darker(130))
        )
        self._plot.addItem(self._bars)
        for yi, w in zip(y, widths, strict=True):
            text = pg.TextItem(f"{int(w):,}", color=TEXT, anchor=(0, 0.5))
            text.setPos(w, yi)
            self._plot.addItem(text)
            self._labels.append(text)

        axis = self._plot.getAxis("left")
        metrics = QFontMetrics(axis.font() if axis.font() is not None else self.font())
        ticks = []
        for yi, name in zip(y, shown.index, strict=True):
            ticks.append((float(yi), metrics.elidedText(str(name), Qt.TextElideMode.ElideRight,
                                                        metrics.horizontalAdvance("M") * MAX_LABEL_CHARS // 2)))
        axis.setTicks([ticks])
        label_px = max(metrics.horizontalAdvance(t) for _, t in ticks) + 14
        axis.setWidth(label_px)
        axis.setToolTip("\n".join(f"{name}: {int(c):,}" for name, c in shown.items()))
        self._plot.getAxis("bottom").setTicks(None)
        # Room right of the longest bar for its count.
        self._plot.setXRange(0, widths.max() * 1.18, padding=0)
        # At least MIN_SLOTS rows tall so that two themes do not turn into two slabs.
        top = n - 0.4
        self._plot.setYRange(top - max(n, MIN_SLOTS), top, padding=0)
        # Never squeeze: the breakdown scrolls rather than clip a label or a bar.
        self.setMinimumSize(label_px + MIN_BAR_PX, TITLE_PX + ROW_PX * max(n, 3))
        self.show_chart()


class BreakdownWidget(ChartFrame):
    """How the shortlist splits by sector and by theme."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        container = QWidget(self)
        container.setObjectName("breakdown")
        container.setStyleSheet(f"#breakdown {{ background: {BACKGROUND}; }}")
        self._row = QBoxLayout(QBoxLayout.Direction.LeftToRight, container)
        self._row.setContentsMargins(0, 0, 0, 0)
        self._row.setSpacing(4)
        self.sector_panel = _BarPanel(self.tr("Shortlist by sector"), CATEGORY_COLOURS[0], container)
        self.theme_panel = _BarPanel(self.tr("Shortlist by theme"), CATEGORY_COLOURS[1], container)
        self._row.addWidget(self.sector_panel, 1)
        self._row.addWidget(self.theme_panel, 1)
        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(container)
        self._set_chart(scroll)
        self.show_message(self.tr("The shortlist is empty: there is nothing to break down yet."))

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt override
        super().resizeEvent(event)
        self._arrange()

    def _arrange(self) -> None:
        """Side by side when both charts fit the width, one above the other otherwise."""
        needed = self.sector_panel.minimumWidth() + self.theme_panel.minimumWidth() + 24
        direction = (
            QBoxLayout.Direction.LeftToRight if self.width() >= needed else QBoxLayout.Direction.TopToBottom
        )
        if self._row.direction() != direction:
            self._row.setDirection(direction)

    def is_side_by_side(self) -> bool:
        return self._row.direction() == QBoxLayout.Direction.LeftToRight

    def set_counts(self, by_sector: pd.Series, by_theme: pd.Series) -> None:
        """Show the shortlist's count per sector and per theme (a stock can count in several themes).

        Args:
            by_sector: count per sector name (missing sector under its own label, if any).
            by_theme: count per theme name.
        """
        sectors = by_sector if by_sector is not None else pd.Series(dtype=float)
        themes = by_theme if by_theme is not None else pd.Series(dtype=float)
        if pd.to_numeric(sectors, errors="coerce").fillna(0).sum() <= 0 and \
                pd.to_numeric(themes, errors="coerce").fillna(0).sum() <= 0:
            self.show_message(self.tr("The shortlist is empty: there is nothing to break down yet."))
            return
        other = self.tr("{n} others")
        self.sector_panel.set_counts(sectors, other, self.tr("No sector is known for the shortlist."))
        self.theme_panel.set_counts(themes, other, self.tr("No stock in the shortlist matches a theme."))
        self._arrange()
        self.show_chart()

"""Look and frame shared by the chart widgets: palette, light plot styling, inline empty message.

Styling is applied per widget (background, pens, text colours) rather than through
``pg.setConfigOption`` so that importing this package changes nothing globally.
"""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QHBoxLayout, QLabel, QStackedWidget, QVBoxLayout, QWidget

BACKGROUND = "#ffffff"
TEXT = "#2b2b2b"
MUTED = "#666666"
AXIS = "#8a8a8a"
GRID_ALPHA = 0.12

# Tableau 10 (designed to stay distinguishable for common colour-vision deficiencies), grey kept
# apart for "other / unknown".
CATEGORY_COLOURS = (
    "#4E79A7", "#F28E2B", "#E15759", "#76B7B2", "#59A14F",
    "#EDC948", "#B07AA1", "#FF9DA7", "#9C755F",
)
OTHER_COLOUR = "#A8A29E"
# Okabe-Ito colours for lines (blue, orange, vermillion); the yield is a neutral dark grey so that
# it never competes with the price lines.
LINE_BLUE = "#0072B2"
LINE_ORANGE = "#E69F00"
LINE_VERMILLION = "#D55E00"
LINE_YIELD = "#555555"


def colour(hex_code: str, alpha: int = 255) -> QColor:
    c = QColor(hex_code)
    c.setAlpha(alpha)
    return c


def style_plot(plot: pg.PlotItem, *, grid: bool = True) -> None:
    """Dark axes and text on the white background, faint grid."""
    for name in ("left", "bottom", "right", "top"):
        axis = plot.getAxis(name)
        axis.setPen(pg.mkPen(AXIS))
        axis.setTextPen(pg.mkPen(TEXT))
    if grid:
        plot.showGrid(x=True, y=True, alpha=GRID_ALPHA)


def make_plot_widget(**axis_items: pg.AxisItem) -> pg.PlotWidget:
    """A light ``PlotWidget`` styled for Pickaxe; ``axis_items`` as for ``pg.PlotWidget``."""
    widget = pg.PlotWidget(background=BACKGROUND, axisItems=axis_items or None)
    style_plot(widget.getPlotItem())
    return widget


def set_axis_label(plot: pg.PlotItem, side: str, text: str) -> None:
    plot.setLabel(side, text, color=TEXT)


class ChartFrame(QWidget):
    """A chart with optional controls above, a footnote below, and a calm message when empty.

    Subclasses put their plot in with :meth:`_set_chart` and call :meth:`show_message` or
    :meth:`show_chart`.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._controls = QHBoxLayout()
        self._controls.setContentsMargins(4, 2, 4, 2)
        self._stack = QStackedWidget(self)
        self._message = QLabel(self)
        self._message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._message.setWordWrap(True)
        self._message.setMargin(16)
        self._message.setStyleSheet(f"color: {MUTED}; background: {BACKGROUND};")
        self._message.setAutoFillBackground(True)
        self._stack.addWidget(self._message)
        self._footnote = QLabel(self)
        self._footnote.setWordWrap(True)
        self._footnote.setStyleSheet(f"color: {MUTED}; padding: 0px 6px 2px 6px;")
        self._footnote.hide()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addLayout(self._controls)
        layout.addWidget(self._stack, 1)
        layout.addWidget(self._footnote)

    def _set_chart(self, widget: QWidget) -> None:
        self._stack.addWidget(widget)

    def show_message(self, text: str) -> None:
        """Replace the plot with ``text`` (controls stay usable)."""
        self._message.setText(text)
        self._stack.setCurrentWidget(self._message)
        self._footnote.hide()

    def show_chart(self, footnote: str = "") -> None:
        self._stack.setCurrentIndex(1)
        self._footnote.setText(footnote)
        self._footnote.setVisible(bool(footnote))

    def message(self) -> str | None:
        """The inline message being shown instead of the plot, or None when the plot shows."""
        if self._stack.currentWidget() is self._message:
            return self._message.text()
        return None

    def footnote(self) -> str:
        return self._footnote.text() if self._footnote.isVisibleTo(self) else ""

"""Scatter of any two catalogue fields, coloured by sector or theme, linked to the results table.

One pair of ``ScatterPlotItem``s per colour category (faded non-passing points below, bold passing
points above), so each item draws with a single brush (fast for 2,000 points) and the legend can
hide a category with a click.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QIcon, QPen, QPixmap, QResizeEvent
from PySide6.QtWidgets import QBoxLayout, QCheckBox, QComboBox, QGridLayout, QLabel, QWidget

from desktop.engine import catalog
from desktop.engine.formatting import counted
from desktop.ui.charts._axes import UNIT_NAMES, FieldAxisItem, display_value
from desktop.ui.charts._base import (
    BACKGROUND,
    CATEGORY_COLOURS,
    OTHER_COLOUR,
    TEXT,
    ChartFrame,
    colour,
    make_plot_widget,
    set_axis_label,
)

# A field goes on a log axis when it is strictly positive and spans more than this many decades.
LOG_MIN_DECADES = 2.0
LEGEND_BESIDE_MIN_WIDTH = 720
# With this many points or more, the view is trimmed to the central 99 % when outliers would
# otherwise squash the cloud (pyqtgraph's "A" button still shows everything).
TRIM_MIN_POINTS = 50
TRIM_PERCENTILES = (0.5, 99.5)
_BOLD_SIZE = 8
_FADED_SIZE = 6
_FADED_ALPHA = 70


def wants_log_axis(values: np.ndarray) -> bool:
    """True when finite ``values`` are all > 0 and span more than two decades."""
    finite = values[np.isfinite(values)]
    if finite.size < 2 or finite.min() <= 0:
        return False
    return bool(math.log10(finite.max() / finite.min()) > LOG_MIN_DECADES)


@lru_cache(maxsize=64)
def _style(hex_code: str, bold: bool) -> tuple[QPen, QBrush]:
    """Shared pen and brush per colour: pyqtgraph caches rendered symbols by pen/brush identity."""
    if bold:
        return pg.mkPen(colour(hex_code).darker(135), width=1), pg.mkBrush(colour(hex_code))
    return pg.mkPen(None), pg.mkBrush(colour(hex_code, _FADED_ALPHA))


def _field(name: str, extra: Mapping[str, catalog.Field] | None = None) -> catalog.Field:
    if extra and name in extra:
        return extra[name]
    try:
        return catalog.get(name)
    except KeyError:  # a column the catalogue does not know: plot it with its own name
        return catalog.Field(name, name, "ratio", "")


class _LegendPanel(QWidget):
    """Colour key beside the plot (never over the points); unticking a category hides it."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("scatterLegend")
        self.setStyleSheet(f"#scatterLegend {{ background: {BACKGROUND}; }} QCheckBox {{ color: {TEXT}; }}")
        self.setAutoFillBackground(True)
        self._layout = QGridLayout(self)
        self._layout.setContentsMargins(6, 6, 8, 6)
        self._layout.setHorizontalSpacing(12)
        self._layout.setVerticalSpacing(2)
        self._columns = 1
        self._boxes: list[QCheckBox] = []
        self._key: list[tuple[str, str]] = []

    def set_columns(self, columns: int) -> None:
        """Lay the rows out in ``columns`` columns (1 beside the plot, more below it)."""
        columns = max(1, columns)
        if columns != self._columns:
            self._columns = columns
            self._place()

    def _place(self) -> None:
        while self._layout.count():
            self._layout.takeAt(0)
        for i, box in enumerate(self._boxes):
            self._layout.addWidget(box, i // self._columns, i % self._columns)
        rows = (len(self._boxes) + self._columns - 1) // self._columns
        for r in range(rows + 1):
            self._layout.setRowStretch(r, 1 if r == rows else 0)

    def set_entries(self, entries: list[tuple[str, str, list[pg.ScatterPlotItem]]]) -> None:
        """One tickable row per (label, colour, items it shows and hides)."""
        key = [(label, hex_code) for label, hex_code, _ in entries]
        if key == self._key:  # same categories (items are reused): keep rows and their ticks
            for box, (_, _, items) in zip(self._boxes, entries, strict=True):
                for item in items:
                    item.setVisible(box.isChecked())
            return
        self._key = key
        for box in self._boxes:
            self._layout.removeWidget(box)
            box.hide()  # deleteLater waits for the event loop; do not show stale rows meanwhile
            box.deleteLater()
        self._boxes = []
        for label, hex_code, items in entries:
            box = QCheckBox(label, self)
            font = box.font()
            font.setPointSizeF(font.pointSizeF() * 0.88)  # a key, not content: keep it compact
            box.setFont(font)
            swatch = QPixmap(12, 12)
            swatch.fill(colour(hex_code))
            box.setIcon(QIcon(swatch))
            box.setChecked(True)
            for item in items:
                item.setVisible(True)
            box.toggled.connect(lambda on, its=items: [i.setVisible(on) for i in its])
            self._boxes.append(box)
        self._place()

    def labels(self) -> list[str]:
        return [b.text() for b in self._boxes]

    def boxes(self) -> list[QCheckBox]:
        return list(self._boxes)


class ScatterChartWidget(ChartFrame):
    """Scatter of two numeric fields of a ``StockTable.values`` frame.

    Signals:
        point_clicked(str): the symbol of a clicked point.
        fields_changed(str, str): the user picked another x or y field in the widget's pickers.
        color_by_changed(str): the user picked "sector" or "themes" in the widget's colour picker
            (pass it back as ``color_by`` on the next ``set_data``).
    """

    point_clicked = Signal(str)
    fields_changed = Signal(str, str)
    color_by_changed = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._values: pd.DataFrame | None = None
        self._extra: dict[str, catalog.Field] = {}  # the screen's formula fields
        self._x_field = ""
        self._y_field = ""
        self._color_by = "sector"
        self._passed: pd.Index | None = None
        self._highlighted: list[str] = []
        self._symbols = np.array([], dtype=object)
        self._x = np.array([])
        self._y = np.array([])
        self._plotted = pd.Index([])  # symbols with both values, positions into the arrays
        self._plot_x = np.array([])  # drawn coordinates (log10 on a log axis)
        self._plot_y = np.array([])
        self._names: np.ndarray | None = None
        self._category_of = np.array([], dtype=object)
        self._x_info = self._y_info = _field("price")
        self._items: list[pg.ScatterPlotItem] = []
        # (category mask, bold layer, colour) per colour category
        self._groups: list[tuple[np.ndarray, pg.ScatterPlotItem, str]] = []
        self._n_missing = 0
        self._trimmed = False

        self.x_combo = QComboBox(self)
        self.y_combo = QComboBox(self)
        self.colour_combo = QComboBox(self)
        self.colour_combo.addItem(self.tr("Sector"), "sector")
        self.colour_combo.addItem(self.tr("Theme"), "themes")
        for combo in (self.x_combo, self.y_combo):
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
            combo.setMinimumContentsLength(12)
        self._controls.addWidget(QLabel(self.tr("X"), self))
        self._controls.addWidget(self.x_combo)
        self._controls.addWidget(QLabel(self.tr("Y"), self))
        self._controls.addWidget(self.y_combo)
        self._controls.addWidget(QLabel(self.tr("Colour by"), self))
        self._controls.addWidget(self.colour_combo)
        self._controls.addStretch(1)
        self._fill_pickers(None)
        self.x_combo.activated.connect(self._on_picker_changed)
        self.y_combo.activated.connect(self._on_picker_changed)
        self.colour_combo.activated.connect(self._on_colour_changed)

        self._x_axis = FieldAxisItem("bottom")
        self._y_axis = FieldAxisItem("left")
        self._plot_widget = make_plot_widget(bottom=self._x_axis, left=self._y_axis)
        self._plot = self._plot_widget.getPlotItem()
        self._legend = _LegendPanel(self)
        self._ring = pg.ScatterPlotItem(
            symbol="o", size=17, pen=pg.mkPen(TEXT, width=2), brush=None, hoverable=True,
            tip=self._tip,
        )
        self._ring.setZValue(10)
        self._ring.sigClicked.connect(self._on_points_clicked)
        self._plot.addItem(self._ring)
        page = QWidget(self)
        self._page_layout = QBoxLayout(QBoxLayout.Direction.LeftToRight, page)
        self._page_layout.setContentsMargins(0, 0, 0, 0)
        self._page_layout.setSpacing(0)
        self._page_layout.addWidget(self._plot_widget, 1)
        self._page_layout.addWidget(self._legend)
        self._set_chart(page)
        self.show_message(self.tr("No stocks to plot yet: load a snapshot or run a screen."))

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt override
        super().resizeEvent(event)
        # The colour key goes beside the plot, unless the widget is taller than wide (a narrow dock),
        # where beside it would leave the points a sliver.
        if self.width() >= min(LEGEND_BESIDE_MIN_WIDTH, self.height()):
            self._page_layout.setDirection(QBoxLayout.Direction.LeftToRight)
            self._legend.set_columns(1)
        else:
            self._page_layout.setDirection(QBoxLayout.Direction.TopToBottom)
            self._legend.set_columns(max(2, self.width() // 180))

    # ------------------------------------------------------------------ public API
    def set_data(
        self,
        values: pd.DataFrame,
        x_field: str,
        y_field: str,
        color_by: str = "sector",
        passed: pd.Index | None = None,
        fields: Mapping[str, catalog.Field] | None = None,
    ) -> None:
        """Plot ``y_field`` against ``x_field`` for every row of ``values``.

        Args:
            values: ``StockTable.values`` (index symbol, catalogue columns, ``sector``, ``themes``).
            x_field: catalogue field name for the horizontal axis.
            y_field: catalogue field name for the vertical axis.
            color_by: ``"sector"`` or ``"themes"`` (a stock with several themes takes its first).
            passed: symbols that pass the screen, drawn bold; None draws every point bold.
            fields: the screen's formula fields (columns of ``values``; issue #16), offered as axes.
        """
        color_by = "themes" if color_by in ("theme", "themes") else "sector"
        self._passed = passed
        self._extra = dict(fields or {})
        if (values is self._values and (x_field, y_field, color_by) ==
                (self._x_field, self._y_field, self._color_by) and self._groups):
            # A re-screen of the same table (e.g. while a histogram line is dragged): only the
            # bold layer changes, which costs a few ms instead of redrawing 2,000 points.
            self._update_passed()
            return
        self._values = values
        self._x_field, self._y_field = x_field, y_field
        self._color_by = color_by
        self._fill_pickers(values)
        self.colour_combo.setCurrentIndex(self.colour_combo.findData(self._color_by))
        self._redraw()

    def set_highlighted(self, symbols: list[str]) -> None:
        """Ring the points of ``symbols`` (the rows selected in the table)."""
        self._highlighted = list(symbols)
        self._update_ring()

    def legend_labels(self) -> list[str]:
        """The colour key's entries, e.g. "Technology (319)"."""
        return self._legend.labels()

    def highlighted(self) -> list[str]:
        """Symbols currently ringed (those of the last ``set_highlighted`` that are plotted)."""
        return [str(s) for s in self._symbols[self._ring_rows()]]

    def log_axes(self) -> tuple[bool, bool]:
        """Whether the x and y axes are on a log scale."""
        return bool(self._x_axis.logMode), bool(self._y_axis.logMode)

    def fields(self) -> tuple[str, str]:
        return self._x_field, self._y_field

    def plotted_symbols(self) -> list[str]:
        """Symbols with a point on the chart."""
        return [str(s) for s in self._symbols]

    def point_position(self, symbol: str) -> tuple[float, float]:
        """Where ``symbol``'s point is drawn, in view coordinates (log10 on a log axis)."""
        row = int(self._plotted.get_indexer(pd.Index([symbol]))[0])
        if row < 0:
            raise KeyError(f"{symbol!r} has no point on the chart")
        return float(self._plot_x[row]), float(self._plot_y[row])

    # ------------------------------------------------------------------ drawing
    def _fill_pickers(self, values: pd.DataFrame | None) -> None:
        columns = set(values.columns) if values is not None else None
        fields = [
            f for f in [*catalog.all_fields(), *self._extra.values()]
            if f.is_numeric and (columns is None or f.name in columns)
        ]
        for name in (self._x_field, self._y_field):
            if name and all(f.name != name for f in fields):
                fields.append(_field(name, self._extra))
        for combo, current in ((self.x_combo, self._x_field), (self.y_combo, self._y_field)):
            combo.blockSignals(True)
            combo.clear()
            for f in fields:
                combo.addItem(f.label, f.name)
                combo.setItemData(combo.count() - 1, f.definition, Qt.ItemDataRole.ToolTipRole)
            combo.setCurrentIndex(max(0, combo.findData(current)))
            combo.blockSignals(False)

    def _redraw(self) -> None:
        for item in self._items:
            item.setData([], [])
        self._groups = []
        self._symbols = np.array([], dtype=object)
        self._plotted = pd.Index([])
        self._ring.setData([], [])
        values = self._values
        if values is None or len(values) == 0:
            self.show_message(self.tr("No stocks to plot yet: load a snapshot or run a screen."))
            return
        x_info, y_info = _field(self._x_field, self._extra), _field(self._y_field, self._extra)
        for info in (x_info, y_info):
            if info.name not in values.columns:
                self.show_message(
                    self.tr("{label} is not available in this snapshot.").format(label=info.label)
                )
                return
        x = pd.to_numeric(values[x_info.name], errors="coerce").to_numpy(dtype=float)
        y = pd.to_numeric(values[y_info.name], errors="coerce").to_numpy(dtype=float)
        ok = np.isfinite(x) & np.isfinite(y)
        if not ok.any():
            self.show_message(
                self.tr("No stock has both {x} and {y}.").format(x=x_info.label, y=y_info.label)
            )
            return
        log_x, log_y = wants_log_axis(x[ok]), wants_log_axis(y[ok])
        self._symbols = values.index.to_numpy(dtype=object)[ok]
        self._plotted = pd.Index(self._symbols)
        self._x, self._y = x[ok], y[ok]
        self._plot_x = np.log10(self._x) if log_x else self._x
        self._plot_y = np.log10(self._y) if log_y else self._y
        self._names = (
            values["name"].to_numpy(dtype=object)[ok] if "name" in values.columns else None
        )
        self._x_info, self._y_info = x_info, y_info
        self._n_missing = int((~ok).sum())

        categories = self._categories(values, ok)
        self._category_of = categories
        self._draw_categories(categories)

        self._configure_axis(self._x_axis, "bottom", x_info, log_x)
        self._configure_axis(self._y_axis, "left", y_info, log_y)
        self._update_ring()
        self._trimmed = self._fit_view()
        self._update_passed()

    def _fit_view(self) -> bool:
        """Fit the view to the points, trimming far outliers; True when some points are outside."""
        self._plot.enableAutoRange()
        self._plot.autoRange()
        if len(self._plot_x) < TRIM_MIN_POINTS:
            return False
        trimmed = False
        for data, set_range in ((self._plot_x, self._plot.setXRange), (self._plot_y, self._plot.setYRange)):
            lo, hi = (float(v) for v in np.percentile(data, TRIM_PERCENTILES))
            full = float(data.max() - data.min())
            if hi > lo and full > 1.5 * (hi - lo):
                pad = (hi - lo) * 0.06
                set_range(lo - pad, hi + pad, padding=0)
                trimmed = True
        return trimmed

    def _update_passed(self) -> None:
        """Put the passing stocks of each category on its bold layer; update the footnote."""
        passed = np.ones(len(self._symbols), dtype=bool)
        if self._passed is not None:
            passed = self._plotted.isin(self._passed)
        for mask, bold, hex_code in self._groups:
            self._fill_layer(bold, np.flatnonzero(mask & passed), hex_code, bold=True)
        notes = [self.tr("{n} plotted").format(n=counted(len(self._symbols), self.tr("stock")))]
        if self._n_missing:
            notes.append(self.tr("{n} without both values").format(n=f"{self._n_missing:,}"))
        if self._trimmed:
            notes.append(self.tr("view trimmed to the central 99% (the A button shows all)"))
        if self._passed is not None:
            notes.append(
                self.tr("bold: passes the screen ({n}), faded: does not").format(n=int(passed.sum()))
            )
        self.show_chart("; ".join(notes) + ".")

    def _categories(self, values: pd.DataFrame, ok: np.ndarray) -> np.ndarray:
        """One label per plotted point: its sector, or its first theme."""
        n = int(ok.sum())
        if self._color_by == "themes":
            unknown = self.tr("No theme")
            if "themes" not in values.columns:
                return np.full(n, unknown, dtype=object)
            raw = values["themes"].to_numpy(dtype=object)[ok]
            return np.array(
                [t[0] if isinstance(t, (tuple, list)) and len(t) else unknown for t in raw], dtype=object
            )
        unknown = self.tr("Unknown sector")
        if "sector" not in values.columns:
            return np.full(n, unknown, dtype=object)
        sector = values["sector"]
        known = sector.notna() & (sector.astype(str).str.len() > 0)
        return sector.astype(object).where(known, unknown).to_numpy(dtype=object)[ok]

    def _draw_categories(self, categories: np.ndarray) -> None:
        unknown = {self.tr("No theme"), self.tr("Unknown sector")}
        codes, labels = pd.factorize(categories)
        counts = np.bincount(codes, minlength=len(labels))
        order = sorted(
            (k for k, lbl in enumerate(labels) if lbl not in unknown),
            key=lambda k: (-int(counts[k]), str(labels[k])),
        )
        named = order[: len(CATEGORY_COLOURS)]
        groups: list[tuple[str, str, np.ndarray]] = [
            (str(labels[k]), CATEGORY_COLOURS[i], codes == k) for i, k in enumerate(named)
        ]
        rest_codes = [k for k in range(len(labels)) if k not in named]
        if rest_codes:
            has_unknown = any(labels[k] in unknown for k in rest_codes)
            has_other = any(labels[k] not in unknown for k in rest_codes)
            label = (
                self.tr("Other or unknown") if has_other and has_unknown
                else self.tr("Other") if has_other
                else self.tr("No theme") if self._color_by == "themes"
                else self.tr("Unknown sector")
            )
            groups.append((label, OTHER_COLOUR, np.isin(codes, rest_codes)))
        entries = []
        for label, hex_code, mask in groups:
            # Every point sits on the faded layer; passing ones are drawn again, bigger, on top
            # (filled by _update_passed).
            faded, bold = self._layer_pair(len(self._groups))
            self._fill_layer(faded, np.flatnonzero(mask), hex_code, bold=False)
            self._groups.append((mask, bold, hex_code))
            entries.append((f"{label} ({int(mask.sum()):,})", hex_code, [faded, bold]))
        self._legend.set_entries(entries)

    def _layer_pair(self, index: int) -> tuple[pg.ScatterPlotItem, pg.ScatterPlotItem]:
        """The (faded, bold) items of the index-th category, created once and then reused.

        Creating pyqtgraph items costs ~1 ms each, so a redraw restyles existing ones instead.
        """
        while len(self._items) <= 2 * index + 1:
            bold = len(self._items) % 2 == 1
            item = pg.ScatterPlotItem(hoverable=True, hoverSize=12, hoverPen=pg.mkPen(TEXT, width=1.5),
                                      tip=self._tip)
            item.setZValue(2 if bold else 1)
            item.sigClicked.connect(self._on_points_clicked)
            self._plot.addItem(item)
            self._items.append(item)
        return self._items[2 * index], self._items[2 * index + 1]

    def _fill_layer(self, item: pg.ScatterPlotItem, rows: np.ndarray, hex_code: str, *, bold: bool) -> None:
        pen, brush = _style(hex_code, bold)
        item.setData(
            x=self._plot_x[rows], y=self._plot_y[rows], data=rows,
            size=_BOLD_SIZE if bold else _FADED_SIZE, pen=pen, brush=brush,
        )

    def _configure_axis(self, axis: FieldAxisItem, side: str, info: catalog.Field, log: bool) -> None:
        axis.unit = info.unit
        axis.setLogMode(log)
        unit = UNIT_NAMES.get(info.unit, "")
        label = f"{info.label} ({unit})" if unit else info.label
        if log:
            label += self.tr(", log scale")
        set_axis_label(self._plot, side, label)
        axis.setToolTip(info.definition)
        axis.picture = None  # tick text depends on unit/log: force a re-layout
        axis.update()

    def _ring_rows(self) -> np.ndarray:
        if not self._highlighted or len(self._plotted) == 0:
            return np.array([], dtype=int)
        rows = self._plotted.get_indexer(pd.Index(self._highlighted))
        return rows[rows >= 0]

    def _update_ring(self) -> None:
        rows = self._ring_rows()
        if rows.size == 0:
            self._ring.setData([], [])
            return
        self._ring.setData(x=self._plot_x[rows], y=self._plot_y[rows], data=rows)

    # ------------------------------------------------------------------ interaction
    def _tip(self, x: float, y: float, data: Any) -> str:
        row = int(data)
        symbol = str(self._symbols[row])
        head = symbol
        if self._names is not None and isinstance(self._names[row], str):
            head = f"{symbol} — {self._names[row]}"
        lines = [
            head,
            f"{self._x_info.label}: {display_value(float(self._x[row]), self._x_info.unit)}",
            f"{self._y_info.label}: {display_value(float(self._y[row]), self._y_info.unit)}",
            str(self._category_of[row]),
        ]
        return "\n".join(lines)

    def _on_points_clicked(self, item: pg.ScatterPlotItem, points: Any, event: Any = None) -> None:
        if len(points) == 0:
            return
        # pyqtgraph lists the topmost point first.
        self.point_clicked.emit(str(self._symbols[int(points[0].data())]))

    def _on_picker_changed(self, _index: int = 0) -> None:
        x, y = str(self.x_combo.currentData()), str(self.y_combo.currentData())
        if (x, y) == (self._x_field, self._y_field):
            return
        self._x_field, self._y_field = x, y
        self._redraw()
        self.fields_changed.emit(x, y)

    def _on_colour_changed(self, _index: int = 0) -> None:
        color_by = str(self.colour_combo.currentData())
        if color_by == self._color_by:
            return
        self._color_by = color_by
        self._redraw()
        self.color_by_changed.emit(color_by)

    def color_by(self) -> str:
        """The current colouring: "sector" or "themes"."""
        return self._color_by

"""Histogram of the current criterion's field with its minimum and maximum as draggable lines.

Dragging a line edits the criterion (issue #6): ``bounds_changed`` fires at most ~20 times a second
while dragging (``pg.SignalProxy``) and once more on release, with values rounded to three
significant digits so that a drag lands on a threshold a person would type (312M, not 312,345,678).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import pyqtgraph as pg
from PySide6.QtCore import Signal
from PySide6.QtWidgets import QCheckBox, QToolButton, QWidget

from desktop.engine import catalog
from desktop.ui.charts._axes import UNIT_NAMES, CountAxisItem, FieldAxisItem, display_value, round_significant
from desktop.ui.charts._base import (
    AXIS,
    BACKGROUND,
    CATEGORY_COLOURS,
    LINE_BLUE,
    LINE_VERMILLION,
    TEXT,
    ChartFrame,
    colour,
    make_plot_widget,
    set_axis_label,
)

DRAG_RATE_HZ = 20
# Below this many values every value is shown; above it the display range is the 1st-99th
# percentile so that one outlier does not squash the distribution into a single bar.
CLIP_MIN_VALUES = 50
CLIP_PERCENTILES = (1.0, 99.0)


def histogram_bins(data: np.ndarray) -> tuple[np.ndarray, np.ndarray, float, float]:
    """Counts and edges over a robust display range; returns (counts, edges, lo, hi)."""
    if data.size >= CLIP_MIN_VALUES:
        lo, hi = (float(v) for v in np.percentile(data, CLIP_PERCENTILES))
    else:
        lo, hi = float(data.min()), float(data.max())
    if hi <= lo:  # one distinct value: give the bar some width
        pad = abs(lo) * 0.05 or 0.5
        lo, hi = lo - pad, hi + pad
    shown = data[(data >= lo) & (data <= hi)]
    q75, q25 = np.percentile(shown, [75, 25]) if shown.size else (hi, lo)
    width = 2.0 * (q75 - q25) / max(shown.size, 1) ** (1 / 3)  # Freedman-Diaconis
    n_bins = int(np.clip(math.ceil((hi - lo) / width), 10, 60)) if width > 0 else 20
    counts, edges = np.histogram(shown, bins=n_bins, range=(lo, hi))
    return counts, edges, lo, hi


class _ValueText:
    """``InfLineLabel`` calls ``format.format(value=...)``: show the bound in the field's unit."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.unit = ""
        self.log = False

    def format(self, value: float) -> str:
        real = 10.0 ** value if self.log else value
        return f"{self.prefix} {display_value(round_significant(real), self.unit)}"


class HistogramWidget(ChartFrame):
    """Distribution of one field with draggable minimum / maximum lines.

    Signals:
        bounds_changed(object, object): (minimum, maximum) as floats or None while dragging
            (rate-limited), on release, and when a bound is added or removed with the buttons.
    """

    bounds_changed = Signal(object, object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._field: catalog.Field | None = None
        self._values = np.array([])
        self._bounds: list[float | None] = [None, None]
        self._log = False
        self._last_emitted: tuple[float | None, float | None] | None = None
        self._quiet = False

        self.log_box = QCheckBox(self.tr("Log scale"), self)
        self.log_box.setToolTip(self.tr("Spread amounts over orders of magnitude (positive values only)."))
        self.minimum_button = QToolButton(self)
        self.maximum_button = QToolButton(self)
        for button, text, tip in (
            (self.minimum_button, self.tr("Minimum"), self.tr("Show or remove the minimum line")),
            (self.maximum_button, self.tr("Maximum"), self.tr("Show or remove the maximum line")),
        ):
            button.setText(text)
            button.setToolTip(tip)
            button.setCheckable(True)
            self._controls.addWidget(button)
        self._controls.addStretch(1)
        self._controls.addWidget(self.log_box)
        self.log_box.toggled.connect(self._on_log_toggled)
        self.minimum_button.clicked.connect(lambda checked: self._toggle_bound(0, checked))
        self.maximum_button.clicked.connect(lambda checked: self._toggle_bound(1, checked))

        self._axis = FieldAxisItem("bottom")
        self._plot_widget = make_plot_widget(bottom=self._axis, left=CountAxisItem("left"))
        self._plot = self._plot_widget.getPlotItem()
        self._plot.setMouseEnabled(x=True, y=False)
        set_axis_label(self._plot, "left", self.tr("Stocks"))
        self._bars = pg.PlotDataItem(
            stepMode="center", fillLevel=0, pen=pg.mkPen(colour(CATEGORY_COLOURS[0]).darker(120)),
            brush=pg.mkBrush(colour(CATEGORY_COLOURS[0], 150)),
        )
        self._plot.addItem(self._bars)
        self._lines: list[pg.InfiniteLine] = []
        self._proxies: list[pg.SignalProxy] = []
        for hex_code, prefix, position in (
            (LINE_BLUE, self.tr("min"), 0.92), (LINE_VERMILLION, self.tr("max"), 0.80)
        ):
            line = pg.InfiniteLine(
                angle=90, movable=True, pen=pg.mkPen(hex_code, width=2),
                hoverPen=pg.mkPen(hex_code, width=4), label=_ValueText(prefix),
                labelOpts={"position": position, "color": TEXT, "fill": colour(BACKGROUND, 220),
                           "border": pg.mkPen(colour(AXIS, 140)), "movable": False},
            )
            line.setZValue(5)
            line.hide()
            line.sigPositionChanged.connect(self._on_line_moved)
            line.sigPositionChangeFinished.connect(self._on_line_released)
            self._plot.addItem(line, ignoreBounds=True)
            self._lines.append(line)
            self._proxies.append(
                pg.SignalProxy(line.sigPositionChanged, rateLimit=DRAG_RATE_HZ, slot=self._on_drag_tick)
            )
        self._set_chart(self._plot_widget)
        self.clear(self.tr("Pick a criterion to see how its field is distributed."))

    # ------------------------------------------------------------------ public API
    @property
    def minimum_line(self) -> pg.InfiniteLine:
        return self._lines[0]

    @property
    def maximum_line(self) -> pg.InfiniteLine:
        return self._lines[1]

    def is_log(self) -> bool:
        return self._log

    def bounds(self) -> tuple[float | None, float | None]:
        return self._bounds[0], self._bounds[1]

    def clear(self, text: str) -> None:
        """Forget the field and its bounds and show ``text``: nothing of a removed criterion stays
        drawn, and Minimum / Maximum have nothing to act on until a field is set again."""
        self._field = None
        self._values = np.array([])
        self._bounds = [None, None]
        self._last_emitted = None
        self._bars.setData([], [])
        for line in self._lines:
            line.hide()
        self._set_buttons()
        self.log_box.blockSignals(True)
        self.log_box.setChecked(False)
        self.log_box.blockSignals(False)
        self._log = False
        self._enable_controls(False)
        self.show_message(text)

    def _enable_controls(self, enabled: bool) -> None:
        for widget in (self.minimum_button, self.maximum_button, self.log_box):
            widget.setEnabled(enabled)

    def set_field(
        self,
        values: np.ndarray,
        field: catalog.Field,
        minimum: float | None,
        maximum: float | None,
    ) -> None:
        """Show the distribution of ``values`` (NaN = missing) and the criterion's bounds.

        Args:
            values: one value per stock in the universe, in the field's raw unit.
            field: the catalogue field (label and unit for the axis and the line labels).
            minimum: the criterion's lower bound, or None (no line).
            maximum: the criterion's upper bound, or None (no line).
        """
        if not field.is_numeric:
            self.clear(self.tr("{label} is not a number: no histogram.").format(label=field.label))
            return
        self._field = field
        self._enable_controls(True)
        self._values = np.asarray(pd.to_numeric(pd.Series(values), errors="coerce"), dtype=float)
        self._bounds = [_finite_or_none(minimum), _finite_or_none(maximum)]
        self._last_emitted = (self._bounds[0], self._bounds[1])
        positive = self._values[np.isfinite(self._values) & (self._values > 0)]
        can_log = self._log_allowed(positive)
        span = positive.size > 1 and positive.max() / positive.min() > 100
        self.log_box.blockSignals(True)
        self.log_box.setEnabled(can_log)
        self.log_box.setChecked(bool(can_log and span and positive.size == np.isfinite(self._values).sum()))
        self.log_box.blockSignals(False)
        self._redraw()

    # ------------------------------------------------------------------ drawing
    def _log_allowed(self, positive: np.ndarray) -> bool:
        if self._field is None or self._field.unit != "usd" or positive.size < 2:
            return False
        return all(b is None or b > 0 for b in self._bounds)

    def to_view(self, value: float) -> float:
        """The line position for a bound ``value``: log10 of it when the axis is on a log scale.

        ``minimum_line`` / ``maximum_line`` live in view coordinates, so code that moves them (tests,
        a keyboard nudge) converts first: ``line.setValue(widget.to_view(2e9))``.
        """
        return math.log10(value) if self._log else value

    def _to_view(self, value: float) -> float:
        return self.to_view(value)

    def _from_view(self, position: float) -> float:
        # Clamp the exponent: a position far off the axis must not overflow inside a Qt slot.
        return 10.0 ** min(position, 300.0) if self._log else position

    def _redraw(self) -> None:
        field = self._field
        if field is None:
            return
        self._log = self.log_box.isChecked()
        finite = self._values[np.isfinite(self._values)]
        data = finite
        dropped = 0
        if self._log:
            data = finite[finite > 0]
            dropped = int(finite.size - data.size)
            data = np.log10(data)
        self._set_buttons()
        if data.size == 0:
            self._bars.setData([], [])
            self.show_message(
                self.tr("None of the {total} stocks has a value for {label} in this snapshot.").format(
                    total=f"{self._values.size:,}", label=field.label)
            )
            return
        counts, edges, lo, hi = histogram_bins(data)
        self._bars.setData(edges, counts)
        outside = int(((data < lo) | (data > hi)).sum())

        unit = UNIT_NAMES.get(field.unit, "")
        label = f"{field.label} ({unit})" if unit else field.label
        if self._log:
            label += self.tr(", log scale")
        self._axis.unit = field.unit
        self._axis.setLogMode(self._log)
        self._axis.picture = None
        set_axis_label(self._plot, "bottom", label)
        self._axis.setToolTip(field.definition)

        self._quiet_lines(True)
        for line in self._lines:  # limits from the previous field would clamp the new positions
            line.setBounds((None, None))
        view_lo, view_hi = lo, hi
        for i, line in enumerate(self._lines):
            line.label.format.unit = field.unit
            line.label.format.log = self._log
            bound = self._bounds[i]
            line.setVisible(bound is not None)
            if bound is not None:
                pos = self._to_view(bound)
                line.setValue(pos)
                view_lo, view_hi = min(view_lo, pos), max(view_hi, pos)
        self._update_line_limits()
        self._quiet_lines(False)
        pad = (view_hi - view_lo) * 0.04
        self._plot.setXRange(view_lo - pad, view_hi + pad, padding=0)
        self._plot.setYRange(0, max(1, int(counts.max())) * 1.08, padding=0)

        # "898 of 1,914 have a value": the reader sees at once how much of the universe is drawn.
        notes = [self.tr("{n} of {total} have a value").format(n=f"{finite.size:,}", total=f"{self._values.size:,}")]
        if outside:
            notes.append(
                self.tr("showing the 1st–99th percentile, {n} beyond it").format(n=f"{outside:,}")
            )
        if dropped:
            notes.append(self.tr("{n} at or below zero not on the log scale").format(n=f"{dropped:,}"))

        self.show_chart("; ".join(notes) + ".")

    def _set_buttons(self) -> None:
        self.minimum_button.setChecked(self._bounds[0] is not None)
        self.maximum_button.setChecked(self._bounds[1] is not None)

    def _update_line_limits(self) -> None:
        lo_line, hi_line = self._lines
        lo_line.setBounds((None, hi_line.value() if hi_line.isVisible() else None))
        hi_line.setBounds((lo_line.value() if lo_line.isVisible() else None, None))

    def _quiet_lines(self, quiet: bool) -> None:
        # Programmatic moves must not come back out as user edits.
        self._quiet = quiet
        for proxy in self._proxies:
            proxy.blockSignal = quiet

    # ------------------------------------------------------------------ interaction
    def _read_lines(self) -> tuple[float | None, float | None]:
        out: list[float | None] = []
        for line in self._lines:
            out.append(round_significant(self._from_view(float(line.value()))) if line.isVisible() else None)
        return out[0], out[1]

    def _emit(self, bounds: tuple[float | None, float | None]) -> None:
        if bounds == self._last_emitted:
            return
        self._last_emitted = bounds
        self._bounds = [bounds[0], bounds[1]]
        self.bounds_changed.emit(bounds[0], bounds[1])

    def _on_line_moved(self, _line: Any = None) -> None:
        if not self._quiet:
            self._update_line_limits()

    def _on_drag_tick(self, _args: Any = None) -> None:
        if not self._quiet:
            self._emit(self._read_lines())

    def _on_line_released(self, line: pg.InfiniteLine) -> None:
        if self._quiet:
            return
        bounds = self._read_lines()
        # Snap the line onto the rounded value that is reported.
        self._quiet_lines(True)
        for i, item in enumerate(self._lines):
            if item is line and bounds[i] is not None:
                item.setValue(self._to_view(float(bounds[i])))  # type: ignore[arg-type]
        self._quiet_lines(False)
        self._emit(bounds)

    def _toggle_bound(self, index: int, present: bool) -> None:
        if self._field is None:
            return
        if present:
            finite = self._values[np.isfinite(self._values)]
            if self._log:
                finite = finite[finite > 0]
            if finite.size == 0:
                self._set_buttons()
                return
            start = float(np.percentile(finite, 10 if index == 0 else 90))
            self._bounds[index] = round_significant(start)
        else:
            self._bounds[index] = None
        self._redraw()
        self._emit((self._bounds[0], self._bounds[1]))

    def _on_log_toggled(self, _checked: bool) -> None:
        self._redraw()


def _finite_or_none(value: float | None) -> float | None:
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None

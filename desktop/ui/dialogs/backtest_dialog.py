"""The Backtest dialog (issue #15): run a screen's backtest on a worker, see it against IWM.

Equity and drawdown charts (pyqtgraph, date axis, X-linked) sit above the holdings of one period;
clicking a date on either chart (or picking a period in the list) shows what was held then, what
entered and left and why. Warnings (survivorship first) stay in a banner above everything; the
assumptions and data rules have their own tab. The run happens on a :class:`TaskSlot` worker with
progress and cancel; the dialog never blocks.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from html import escape
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyqtgraph as pg
from PySide6.QtCore import QAbstractTableModel, QDate, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QDialog,
    QDoubleSpinBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QSplitter,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from desktop.engine.backtest import (
    IWM,
    SCREEN,
    SERIES,
    STAT_ROWS,
    SUMMARY_ROWS,
    UNIVERSE,
    BacktestResult,
    BacktestSettings,
)
from desktop.engine.formatting import counted, format_value
from desktop.ui import messages
from desktop.ui.charts._axes import FieldAxisItem, epoch_seconds
from desktop.ui.charts._base import LINE_BLUE, LINE_ORANGE, MUTED, TEXT, make_plot_widget, set_axis_label
from desktop.ui.workers import TaskSlot, TaskState

COLOURS = {SCREEN: LINE_BLUE, IWM: LINE_ORANGE, UNIVERSE: "#7f7f7f"}
RunFn = Callable[[BacktestSettings, Callable[..., None], Callable[[], bool]], Any]
ExportFn = Callable[[Path, Any, Callable[..., None], Callable[[], bool]], Path]
HOLDING_HEADERS = ("Symbol", "Name", "Status", "Weight", "Return", "Why")


class TextTableModel(QAbstractTableModel):
    """A read-only table of text prepared once (``rows`` of display strings, ``tips`` per row)."""

    def __init__(self, headers: Sequence[str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._headers = list(headers)
        self._rows: list[tuple[str, ...]] = []
        self._align: list[bool] = [False] * len(self._headers)  # right-aligned columns

    def set_rows(self, rows: Sequence[tuple[str, ...]], right: Sequence[bool] | None = None) -> None:
        self.beginResetModel()
        self._rows = [tuple(r) for r in rows]
        if right is not None:
            self._align = list(right)
        self.endResetModel()

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(self._headers)

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        text = self._rows[index.row()][index.column()]
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return text
        if role == Qt.ItemDataRole.TextAlignmentRole and self._align[index.column()]:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def headerData(self, section: int, orientation: Qt.Orientation,  # noqa: N802
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal \
                and 0 <= section < len(self._headers):
            return self._headers[section]
        return None


class BacktestDialog(QDialog):
    """Backtest ``screen_name`` with the settings chosen here.

    Args:
        screen_name: shown in the title.
        run: ``run(settings, progress, is_cancelled)`` -> an object with ``.result`` (a
            :class:`BacktestResult`), called on a worker thread.
        export: ``export(path, outcome, progress, is_cancelled)`` -> the written path (worker thread).
        data_range: first and last day of the daily closes, for the default range.

    Signals:
        finished_run(result): a backtest ended and is shown.
    """

    finished_run = Signal(object)

    def __init__(self, screen_name: str, run: RunFn, export: ExportFn | None = None,
                 data_range: tuple[date, date] | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Backtest — %s") % screen_name)
        self.setObjectName("BacktestDialog")
        self.resize(1180, 860)
        self._run, self._export = run, export
        self.outcome: Any = None
        self.backtest_result: BacktestResult | None = None
        self.slot = TaskSlot("backtest", parent=self)
        self.export_slot = TaskSlot("backtest-export", parent=self)
        layout = QVBoxLayout(self)
        layout.addLayout(self._build_controls(data_range))
        self.status = QLabel(self.tr("Choose the range and press Run."), self)
        self.status.setStyleSheet(f"color: {MUTED};")
        self.progress = QProgressBar(self)
        self.progress.setMaximumHeight(14)
        self.progress.hide()
        row = QHBoxLayout()
        row.addWidget(self.status, 1)
        row.addWidget(self.progress, 1)
        layout.addLayout(row)
        self.banner = QLabel(self)
        self.banner.setObjectName("BacktestWarnings")
        self.banner.setWordWrap(True)
        self.banner.setTextFormat(Qt.TextFormat.RichText)
        self.banner.setStyleSheet("QLabel#BacktestWarnings { background: #fff4d6; border: 1px solid #e8c766;"
                                  f" color: {TEXT}; padding: 6px; }}")
        self.banner.hide()
        layout.addWidget(self.banner)
        split = QSplitter(Qt.Orientation.Vertical, self)
        split.addWidget(self._build_charts())
        split.addWidget(self._build_tabs())
        split.setSizes([440, 360])
        layout.addWidget(split, 1)

    @classmethod
    def for_backend(cls, backend: Any, screen: Any, snapshot: int | None, prices: pd.Index | None,
                    parent: QWidget | None = None) -> BacktestDialog:
        """The dialog for ``screen`` on the window's :class:`~desktop.ui.backend.Backend` and snapshot."""
        days = pd.DatetimeIndex(prices) if prices is not None else pd.DatetimeIndex([])
        span = (days[0].date(), days[-1].date()) if len(days) else None
        return cls(screen.name, lambda s, progress, cancelled: backend.backtest(screen, s, snapshot, progress, cancelled),
                   backend.export_backtest, span, parent)

    # --- building ---------------------------------------------------------------------------

    def _build_controls(self, data_range: tuple[date, date] | None) -> QHBoxLayout:
        row = QHBoxLayout()
        last = data_range[1] if data_range else date.today()
        end = (pd.Timestamp(last) - pd.offsets.MonthEnd(0 if pd.Timestamp(last).is_month_end else 1)).date()
        first = data_range[0] if data_range else date(end.year - 5, end.month, 1)
        start = max((pd.Timestamp(first) + pd.offsets.MonthBegin(1)).date(), date(end.year - 5, end.month, 1))
        self.start_edit = self._month_edit(start)
        self.end_edit = self._month_edit(end)
        self.rebalance = QComboBox(self)
        self.rebalance.addItem(self.tr("Monthly"), "monthly")
        self.rebalance.addItem(self.tr("Quarterly"), "quarterly")
        self.weight = QComboBox(self)
        self.weight.addItem(self.tr("Equal weights"), "equal")
        self.weight.addItem(self.tr("Market-cap weights"), "cap")
        self.cost = QDoubleSpinBox(self)
        self.cost.setRange(0.0, 1000.0)
        self.cost.setDecimals(0)
        self.cost.setValue(20.0)
        self.cost.setSuffix(self.tr(" bp"))
        self.cost.setToolTip(self.tr("Transaction cost in basis points of every dollar bought or sold"))
        self.run_button = QPushButton(self.tr("&Run"), self)
        self.run_button.setDefault(True)
        self.run_button.clicked.connect(self.start)
        self.cancel_button = QPushButton(self.tr("&Cancel"), self)
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancel)
        self.export_button = QPushButton(self.tr("&Export to Excel…"), self)
        self.export_button.setEnabled(False)
        self.export_button.clicked.connect(lambda: self.export_to())
        for label, widget in ((self.tr("From"), self.start_edit), (self.tr("to"), self.end_edit),
                              (self.tr("Rebalance"), self.rebalance), (self.tr("Weights"), self.weight),
                              (self.tr("Cost"), self.cost)):
            row.addWidget(QLabel(label, self))
            row.addWidget(widget)
        row.addStretch(1)
        for button in (self.run_button, self.cancel_button, self.export_button):
            row.addWidget(button)
        return row

    def _month_edit(self, day: date) -> QDateEdit:
        edit = QDateEdit(QDate(day.year, day.month, 1), self)
        edit.setDisplayFormat("yyyy-MM")
        edit.setCalendarPopup(False)
        return edit

    def _build_charts(self) -> QWidget:
        box = QWidget(self)
        layout = QVBoxLayout(box)
        layout.setContentsMargins(0, 0, 0, 0)
        self.key = QLabel(box)
        self.key.setTextFormat(Qt.TextFormat.RichText)
        self.key.setText("&nbsp;&nbsp;&nbsp; ".join(
            f'<span style="color:{COLOURS[n]}; font-weight:bold;">━━</span>&nbsp;{escape(n)}' for n in SERIES))
        layout.addWidget(self.key)
        self.equity = make_plot_widget(bottom=pg.DateAxisItem(orientation="bottom", utcOffset=0),
                                       left=FieldAxisItem("left", unit=""))
        self.drawdown = make_plot_widget(bottom=pg.DateAxisItem(orientation="bottom", utcOffset=0),
                                         left=FieldAxisItem("left", unit="fraction"))
        set_axis_label(self.equity.getPlotItem(), "left", self.tr("Growth of 1"))
        set_axis_label(self.drawdown.getPlotItem(), "left", self.tr("Drawdown"))
        self.drawdown.setXLink(self.equity)
        self.regions: list[pg.LinearRegionItem] = []
        for plot in (self.equity, self.drawdown):
            region = pg.LinearRegionItem(movable=False, brush=pg.mkBrush(0, 114, 178, 28),
                                         pen=pg.mkPen(None))
            region.hide()
            plot.addItem(region, ignoreBounds=True)
            self.regions.append(region)
            plot.scene().sigMouseClicked.connect(lambda ev, p=plot: self._chart_clicked(p, ev))
        self.curves: dict[tuple[str, str], pg.PlotDataItem] = {}
        for name in SERIES:
            for kind, plot in (("equity", self.equity), ("drawdown", self.drawdown)):
                item = pg.PlotDataItem(pen=pg.mkPen(COLOURS[name], width=1.8 if name == SCREEN else 1.3),
                                       name=name, clipToView=True, autoDownsample=True)
                plot.addItem(item)
                self.curves[(kind, name)] = item
        self.hint = QLabel(self.tr("Click a date on either chart to see the holdings of that period."), box)
        self.hint.setStyleSheet(f"color: {MUTED};")
        layout.addWidget(self.equity, 3)
        layout.addWidget(self.drawdown, 2)
        layout.addWidget(self.hint)
        return box

    def _build_tabs(self) -> QTabWidget:
        self.tabs = QTabWidget(self)
        holdings = QWidget(self.tabs)
        hl = QVBoxLayout(holdings)
        top = QHBoxLayout()
        self.period_combo = QComboBox(holdings)
        self.period_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.period_combo.currentIndexChanged.connect(self._period_picked)
        self.period_label = QLabel(holdings)
        self.period_label.setWordWrap(True)
        top.addWidget(QLabel(self.tr("Period"), holdings))
        top.addWidget(self.period_combo)
        top.addWidget(self.period_label, 1)
        hl.addLayout(top)
        self.holdings_model = TextTableModel(HOLDING_HEADERS, self)
        self.holdings_view = QTableView(holdings)
        self.holdings_view.setModel(self.holdings_model)
        self.holdings_view.verticalHeader().hide()
        self.holdings_view.setWordWrap(False)
        self.holdings_view.horizontalHeader().setStretchLastSection(True)
        hl.addWidget(self.holdings_view)
        self.why = QLabel(self.tr("Select a row to read why in full."), holdings)
        self.why.setWordWrap(True)
        self.why.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.why.setStyleSheet(f"color: {TEXT}; padding: 2px;")
        hl.addWidget(self.why)
        self.holdings_view.selectionModel().currentRowChanged.connect(self._row_picked)
        self.tabs.addTab(holdings, self.tr("Holdings"))
        self.stats_model = TextTableModel(("Statistic", *SERIES), self)
        self.stats_view = QTableView(self.tabs)
        self.stats_view.setModel(self.stats_model)
        self.stats_view.verticalHeader().hide()
        self.stats_view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.tabs.addTab(self.stats_view, self.tr("Statistics"))
        self.assumptions = QPlainTextEdit(self.tabs)
        self.assumptions.setReadOnly(True)
        self.tabs.addTab(self.assumptions, self.tr("Assumptions and data"))
        return self.tabs

    # --- running ----------------------------------------------------------------------------

    def settings(self) -> BacktestSettings:
        """The settings the controls say (raises InputError for an impossible range)."""
        s, e = self.start_edit.date(), self.end_edit.date()
        return BacktestSettings(date(s.year(), s.month(), 1), date(e.year(), e.month(), 1),
                                rebalance=self.rebalance.currentData(), weight=self.weight.currentData(),
                                cost_bps=float(self.cost.value()))

    def start(self) -> TaskState | None:
        """Run the backtest on a worker (a run already going is cancelled first)."""
        try:
            settings = self.settings()
        except Exception as exc:  # noqa: BLE001 - an InputError from the settings, shown plainly
            messages.show_error(self, exc, self.tr("Backtest"))
            return None
        self._busy(True, self.tr("Starting…"))
        run = self._run
        return self.slot.start(lambda state: run(settings, state.progress, state.is_cancelled),
                               self._done, self._failed, self._progress, self._cancelled)

    def cancel(self) -> None:
        self.slot.cancel()
        self._busy(False, self.tr("Cancelled."))

    def _busy(self, busy: bool, text: str) -> None:
        self.run_button.setEnabled(not busy)
        self.cancel_button.setEnabled(busy)
        self.export_button.setEnabled(not busy and self.backtest_result is not None and self._export is not None)
        self.progress.setVisible(busy)
        self.progress.setRange(0, 0)
        self.status.setText(text)

    def _progress(self, done: int, total: int, message: str) -> None:
        if total > 0:
            self.progress.setRange(0, total)
            self.progress.setValue(min(done, total))
        if message:
            self.status.setText(message)

    def _cancelled(self) -> None:
        self._busy(False, self.tr("Cancelled."))

    def _failed(self, exc: BaseException) -> None:
        self._busy(False, self.tr("The backtest failed."))
        messages.show_error(self, exc, self.tr("Backtest"))

    def _done(self, outcome: Any) -> None:
        self.outcome = outcome
        self.show_result(outcome.result)
        self.finished_run.emit(outcome.result)

    # --- showing ----------------------------------------------------------------------------

    def show_result(self, result: BacktestResult) -> None:
        """Draw ``result``: curves, banner, statistics, assumptions, and the last period's holdings."""
        self.backtest_result = result
        s = result.stats
        self._busy(False, self.tr("%s · Screen CAGR %s · IWM CAGR %s · max drawdown %s") % (
            counted(len(result.periods), self.tr("rebalance")), format_value(s.loc[SCREEN, "cagr"], "fraction"),
            format_value(s.loc[IWM, "cagr"], "fraction"), format_value(s.loc[SCREEN, "max_drawdown"], "fraction")))
        if result.warnings:
            self.banner.setText("<br>".join(f"<b>⚠</b> {escape(w)}" for w in result.warnings))
            self.banner.show()
        else:
            self.banner.hide()
        t = epoch_seconds(result.curves.index)
        for name in SERIES:
            for kind, frame in (("equity", result.curves), ("drawdown", result.drawdowns)):
                v = frame[name].to_numpy(dtype="float64")
                self.curves[(kind, name)].setData(t, np.where(np.isfinite(v), v, np.nan), connect="finite")
        self.equity.getPlotItem().autoRange()
        self.drawdown.getPlotItem().autoRange()
        rows = [(label, *(format_value(s.loc[n, key], unit) for n in SERIES)) for key, label, unit in STAT_ROWS]
        rows += [(label, format_value(result.summary.get(key), unit), "", "") for key, label, unit in SUMMARY_ROWS]
        self.stats_model.set_rows(rows, right=[False, True, True, True])
        text = [self.tr("Warnings"), *(f"• {w}" for w in result.warnings), "", self.tr("Assumptions"),
                *(f"• {a}" for a in result.assumptions), "", self.tr("Data and their date rules"),
                *(f"• {d}" for d in result.data_rules)]
        if len(result.events):
            text += ["", self.tr("Delisted or missing prices")]
            text += [f"• {e.date:%Y-%m-%d} {e.symbol}: {e.event}" for e in result.events.itertuples(index=False)]
        self.assumptions.setPlainText("\n".join(text))
        self.period_combo.blockSignals(True)
        self.period_combo.clear()
        for start, row in result.periods.iterrows():
            self.period_combo.addItem(f"{start:%Y-%m-%d} → {row['end']:%Y-%m-%d}", start)
        self.period_combo.blockSignals(False)
        if len(result.periods):
            self.select_period(len(result.periods) - 1)

    def select_date(self, when: pd.Timestamp) -> int:
        """Show the holdings of the period that holds ``when``; returns its index (-1: none)."""
        if self.backtest_result is None or not len(self.backtest_result.periods):
            return -1
        starts = pd.DatetimeIndex(self.backtest_result.periods.index).as_unit("ns")
        k = int(starts.searchsorted(pd.Timestamp(when).as_unit("ns"), side="left")) - 1
        k = min(max(k, 0), len(starts) - 1)
        self.select_period(k)
        return k

    def select_period(self, k: int) -> None:
        if self.period_combo.currentIndex() != k:
            self.period_combo.setCurrentIndex(k)  # calls back into _period_picked
        else:
            self._period_picked(k)

    def _period_picked(self, k: int) -> None:
        if self.backtest_result is None or k < 0:
            return
        periods = self.backtest_result.periods
        start = periods.index[k]
        row = periods.iloc[k]
        holdings = self.backtest_result.holdings[self.backtest_result.holdings["date"] == start]
        order = {"entered": 0, "kept": 1, "left": 2, "not held": 3}
        holdings = holdings.sort_values(["status", "weight"], key=lambda c: c.map(order) if c.name == "status"
                                        else -c)
        self.holdings_model.set_rows([
            (h.symbol, h.name or "", h.status, format_value(h.weight, "fraction") if h.weight else "—",
             format_value(h.period_return, "fraction"), h.reason) for h in holdings.itertuples(index=False)],
            right=[False, False, False, True, True, False])
        self.holdings_view.resizeColumnsToContents()
        self.holdings_view.setColumnWidth(5, max(self.holdings_view.columnWidth(5), 400))
        counts = holdings["status"].value_counts()
        self.period_label.setText(self.tr(
            "Formed at the close of %s, held to %s: %d held (%d entered, %d left) of %d passing in a universe of "
            "%s. Returns: Screen %s, IWM %s, universe %s.") % (
            f"{start:%Y-%m-%d}", f"{row['end']:%Y-%m-%d}", int(row["holdings"]), int(counts.get("entered", 0)),
            int(counts.get("left", 0)), int(row["passed"]), f"{int(row['universe']):,}",
            format_value(row[SCREEN], "fraction"), format_value(row[IWM], "fraction"),
            format_value(row[UNIVERSE], "fraction")))
        lo, hi = epoch_seconds(pd.DatetimeIndex([start, row["end"]]))
        for region in self.regions:
            region.setRegion((lo, hi))
            region.show()

    def _row_picked(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if not current.isValid():
            return
        m = self.holdings_model
        symbol = m.data(m.index(current.row(), 0))
        status = m.data(m.index(current.row(), 2))
        why = m.data(m.index(current.row(), 5))
        self.why.setText(f"<b>{escape(str(symbol))}</b> ({escape(str(status))}): {escape(str(why))}")

    def _chart_clicked(self, plot: pg.PlotWidget, event: Any) -> None:
        vb = plot.getPlotItem().vb
        if self.backtest_result is None or not vb.sceneBoundingRect().contains(event.scenePos()):
            return
        x = float(vb.mapSceneToView(event.scenePos()).x())
        self.select_date(pd.Timestamp(int(round(x)), unit="s"))

    # --- export -----------------------------------------------------------------------------

    def export_to(self, path: Path | None = None) -> TaskState | None:
        """Write the Backtest workbook (asks for the file when ``path`` is None) on a worker."""
        if self.outcome is None or self._export is None:
            return None
        if path is None:
            name, _ = QFileDialog.getSaveFileName(self, self.tr("Export the backtest"),
                                                  f"backtest {self.outcome.result.screen_name}.xlsx",
                                                  self.tr("Excel workbook (*.xlsx)"))
            if not name:
                return None
            path = Path(name)
        export, outcome = self._export, self.outcome
        self.status.setText(self.tr("Exporting…"))
        return self.export_slot.start(lambda state: export(path, outcome, state.progress, state.is_cancelled),
                                      lambda written: self.status.setText(self.tr("Exported to %s") % written),
                                      lambda exc: messages.show_error(self, exc, self.tr("Export")))

    def closeEvent(self, event: Any) -> None:  # noqa: N802 - Qt override
        self.slot.cancel()
        self.export_slot.cancel()
        super().closeEvent(event)

"""The main window (issue #6): screen builder, results, linked charts, detail pane.

Data flow: a snapshot's StockTable is loaded by a worker and cached; every valid edit in the
builder re-screens in the GUI thread with the engine's ``evaluate`` (a few ms for 2,000 stocks,
see benchmarks/bench_ui.py) and resets the results model, the funnel and the charts. Long work
(load, refresh, import, export, save) runs in :mod:`desktop.ui.workers`; one task per kind.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QIcon, QKeySequence
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QMainWindow,
    QMenu,
    QMessageBox,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QTabWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from desktop import APP_NAME, paths
from desktop.engine import catalog
from desktop.errors import PickaxeError, ScreenDefinitionError, SourceUnreachableError
from desktop.resources import resource_path
from desktop.ui import messages
from desktop.ui.backend import Backend
from desktop.ui.detail_pane import CriterionInfo, DetailPane
from desktop.ui.dialogs.changes_dialog import WhatChangedDialog
from desktop.ui.dialogs.export_dialog import ask_export_path
from desktop.ui.dialogs.history_dialog import VersionEntry, VersionHistoryDialog
from desktop.ui.dialogs.import_dialog import ImportDialog
from desktop.ui.dialogs.progress_dialog import ProgressDialog
from desktop.ui.dialogs.sec_contact_dialog import edit_sec_contact, with_sec_contact
from desktop.ui.results_model import FAIL, PASS, UNKNOWN, ColumnSpec, FormattedTable, ResultsTableModel
from desktop.ui.results_view import ResultsView
from desktop.ui.screen_builder import CriterionRow, ScreenBuilderWidget
from desktop.ui.settings import Settings
from desktop.ui.workers import TaskSlot, TaskState, write_pool

log = logging.getLogger(__name__)

DEFAULT_COLUMNS = ("rank", "symbol", "name")
TRAILING_COLUMNS = ("sector",)
EMPTY_SCREEN: dict[str, Any] = {"version": 1, "name": "New screen", "universe": "russell2000", "match": "all",
                                "criteria": []}


@dataclass
class ScreenSource:
    """Where the open screen came from: ``saved`` (a name in the store), ``preset``, ``file``, ``new``."""

    kind: str
    name: str


def _is_incomplete(leaf: dict[str, Any]) -> bool:
    """A criterion the user has not finished: no bound, no percentile, no chosen value."""
    if any(k in leaf for k in ("min", "max", "percentile_min", "is")):
        return False
    for key in ("any_of", "none_of"):
        if key in leaf:
            return not leaf[key]
    return True


def evaluable_document(doc: dict[str, Any]) -> tuple[dict[str, Any], list[str | None]]:
    """``doc`` without unfinished criteria (and groups left empty), plus, per leaf of ``doc`` in
    document order, the id the engine gives it in the result (``c1``...), or None when dropped.

    Adding a criterion should not blank the table while its bound is still being typed.
    """
    ids: list[str | None] = []
    counter = [0]

    def walk(node: dict[str, Any]) -> dict[str, Any] | None:
        for kind in ("all", "any"):
            if kind in node:
                kids = [k for k in (walk(c) for c in node[kind]) if k is not None]
                return {kind: kids} if kids else None
        if "not" in node:
            inner = walk(node["not"])
            return {"not": inner} if inner is not None else None
        if _is_incomplete(node):
            ids.append(None)
            return None
        counter[0] += 1
        ids.append(f"c{counter[0]}")
        return node

    out = dict(doc)
    out["criteria"] = [k for k in (walk(c) for c in doc.get("criteria", [])) if k is not None]
    return out, ids


class Banner(QFrame):
    """A calm, non-modal message strip above the workspace, with optional actions."""

    def __init__(self, object_name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(object_name)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(10, 6, 6, 6)
        self.text = QLabel(self)
        self.text.setWordWrap(True)
        layout.addWidget(self.text, 1)
        self.actions_box = QHBoxLayout()
        layout.addLayout(self.actions_box)
        close = QToolButton(self)
        close.setText("✕")
        close.setAutoRaise(True)
        close.setToolTip(self.tr("Dismiss"))
        close.clicked.connect(self.hide)
        layout.addWidget(close)
        self.hide()

    def show_message(self, text: str, actions: tuple[tuple[str, Any], ...] = ()) -> None:
        self.text.setText(text)
        while self.actions_box.count():
            item = self.actions_box.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.deleteLater()
        for label, slot in actions:
            button = QPushButton(label, self)
            button.clicked.connect(slot)
            self.actions_box.addWidget(button)
        self.show()


class EmptyState(QWidget):
    """First run: what Pickaxe needs and the two ways to get it."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("EmptyState")
        outer = QVBoxLayout(self)
        outer.addStretch(1)
        box = QVBoxLayout()
        title = QLabel(self.tr("Welcome to Pickaxe"), self)
        title.setObjectName("EmptyTitle")
        text = QLabel(self.tr(
            "Pickaxe screens the Russell 2000 for companies that live on real cash flow and can carry "
            "higher interest rates. It needs a snapshot of the index members and their fundamentals.<br><br>"
            "<b>Online:</b> download the current IWM holdings from iShares, the fundamentals from SEC EDGAR "
            "(Pickaxe asks once for the contact e-mail the SEC requires) and prices from Yahoo Finance "
            "(about 2,000 companies; this takes a while and runs in the background).<br>"
            "<b>Offline:</b> import files you already have: the iShares holdings CSV first, then the SEC's "
            "companyfacts.zip, a Finviz export, Yahoo JSON or SimFin bulk files, the FRED 10-year yield and "
            "daily prices."), self)
        text.setWordWrap(True)
        text.setTextFormat(Qt.TextFormat.RichText)
        text.setMaximumWidth(640)
        self.download = QPushButton(self.tr("Download the Russell 2000 now"), self)
        self.download.setObjectName("PrimaryButton")
        self.import_button = QPushButton(self.tr("Import files…"), self)
        buttons = QHBoxLayout()
        buttons.addWidget(self.download)
        buttons.addWidget(self.import_button)
        buttons.addStretch(1)
        box.addWidget(title)
        box.addWidget(text)
        box.addSpacing(12)
        box.addLayout(buttons)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addLayout(box)
        row.addStretch(1)
        outer.addLayout(row)
        outer.addStretch(2)


class MainWindow(QMainWindow):
    """Pickaxe's window.

    Signals:
        ready(): the first snapshot was loaded and screened (or the empty state is shown).
        screened(): a re-screen finished updating table, funnel and charts.
        saved(): a save or restore of the screen was written to the database.
        exported(str): an export finished; the path written.
        imported(): an import finished (the snapshot list is reloaded next).
    """

    ready = Signal()
    screened = Signal()
    saved = Signal()
    exported = Signal(str)
    imported = Signal()

    def __init__(self, db_url: str | None = None, *, backend: Backend | None = None,
                 screen: str | None = None, select: str | None = None, restore_state: bool = True) -> None:
        super().__init__()
        self.setWindowTitle(APP_NAME)
        icon = resource_path("icons", "pickaxe.svg")
        if icon.is_file():
            self.setWindowIcon(QIcon(str(icon)))
        self.settings = Settings()
        self.backend: Backend | None = backend
        self._db_error: BaseException | None = None
        if self.backend is None:
            try:
                self.backend = Backend(db_url)
            except PickaxeError as exc:
                self._db_error = exc
        self._requested_screen = screen
        self._requested_select = select
        self._is_ready = False
        self.bundle: Any = None  # TableBundle of the shown snapshot
        self.ftable: FormattedTable | None = None
        self.result: Any = None
        self.parsed_screen: Any = None
        self.source = ScreenSource("new", "")
        self._baseline: dict[str, Any] = dict(EMPTY_SCREEN)
        self._pinned: set[str] = set()
        self._choices: dict[str, list[str]] = {}
        self._from_histogram = False
        self._states_aligned: pd.DataFrame | None = None
        self._show_failing = False
        self.last_screen_ms = 0.0
        self._leaf_ids: list[str | None] = []  # engine criterion id per builder leaf (None: skipped)

        self.load_slot = TaskSlot("load", parent=self)
        self.refresh_slot = TaskSlot("refresh", parent=self)
        # Imports write a whole snapshot: they queue with saves on the one-thread write pool. A
        # refresh runs for hours and commits per ticker itself, so it keeps its own thread (its
        # short commits and ours are ordered by SQLite's write lock with a busy timeout).
        self.import_slot = TaskSlot("import", pool=write_pool(), parent=self)
        self.export_slot = TaskSlot("export", parent=self)
        self.write_slot = TaskSlot("write", pool=write_pool(), parent=self)
        self.diff_slot = TaskSlot("diff", parent=self)
        self.progress_dialogs: dict[str, ProgressDialog] = {}

        self._build_ui()
        self._build_actions()
        self.builder.set_document(dict(EMPTY_SCREEN))
        self._baseline = self._normalised(EMPTY_SCREEN) or dict(EMPTY_SCREEN)
        self._recovery_timer = QTimer(self)
        self._recovery_timer.setSingleShot(True)
        self._recovery_timer.setInterval(1500)
        self._recovery_timer.timeout.connect(self._write_recovery)
        if restore_state:
            self._restore_settings()
        QTimer.singleShot(0, self._start)

    # ====================================================================== construction
    def _build_ui(self) -> None:
        central = QWidget(self)
        layout = QVBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        self.offline_banner = Banner("OfflineBanner", central)
        self.info_banner = Banner("InfoBanner", central)
        layout.addWidget(self.offline_banner)
        layout.addWidget(self.info_banner)
        self.stack = QStackedWidget(central)
        layout.addWidget(self.stack, 1)
        self.setCentralWidget(central)

        self.empty_state = EmptyState(self.stack)
        self.empty_state.download.clicked.connect(self.download_universe)
        self.empty_state.import_button.clicked.connect(self.import_files)
        self.stack.addWidget(self.empty_state)

        self.workspace = QWidget(self.stack)
        wl = QVBoxLayout(self.workspace)
        wl.setContentsMargins(4, 4, 4, 4)
        self.main_split = QSplitter(Qt.Orientation.Horizontal, self.workspace)
        self.main_split.setObjectName("main")
        self.builder = ScreenBuilderWidget(self.main_split)
        self.builder.setMinimumWidth(300)
        self.builder.screen_changed.connect(self.rescreen)
        self.builder.current_changed.connect(self._current_criterion_changed)
        self.builder.set_choice_provider(self._choices_for)

        self.centre_split = QSplitter(Qt.Orientation.Vertical, self.main_split)
        self.centre_split.setObjectName("centre")
        table_box = QWidget(self.centre_split)
        tl = QVBoxLayout(table_box)
        tl.setContentsMargins(0, 0, 0, 0)
        head = QHBoxLayout()
        self.results_title = QLabel(self.tr("Shortlist"), table_box)
        self.results_title.setObjectName("PaneTitle")
        self.show_failing = QCheckBox(self.tr("Show stocks that fail"), table_box)
        self.show_failing.setToolTip(self.tr("List every stock, the passing ones first; cells show pass/fail"))
        self.show_failing.toggled.connect(self._toggle_failing)
        self.columns_button = QToolButton(table_box)
        self.columns_button.setText(self.tr("Columns"))
        self.columns_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        head.addWidget(self.results_title)
        head.addStretch(1)
        head.addWidget(self.show_failing)
        head.addWidget(self.columns_button)
        tl.addLayout(head)
        self.model = ResultsTableModel(self)
        self.view = ResultsView(table_box)
        self.view.setModel(self.model)
        self.view.set_extra_columns(self.settings.visible_columns)
        self.view.selection_symbols_changed.connect(self._selection_changed)
        self.view.columns_requested.connect(self._columns_requested)
        self.columns_button.setMenu(QMenu(self))
        self.columns_button.menu().aboutToShow.connect(self._fill_columns_menu)
        tl.addWidget(self.view)

        self.charts_split = QSplitter(Qt.Orientation.Horizontal, self.centre_split)
        self.charts_split.setObjectName("charts")
        self._build_charts()

        self.detail = DetailPane(self.main_split)
        self.detail.setMinimumWidth(260)
        for split, sizes in ((self.main_split, [340, 900, 380]), (self.centre_split, [560, 360]),
                             (self.charts_split, [600, 440])):
            split.setChildrenCollapsible(False)
            split.setSizes(sizes)
        wl.addWidget(self.main_split)
        self.stack.addWidget(self.workspace)

        self.snapshot_combo = QComboBox(self)
        self.snapshot_combo.setToolTip(self.tr("Snapshot (as-of date) the screen runs on"))
        self.snapshot_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.snapshot_combo.activated.connect(self._snapshot_picked)
        self.status_label = QLabel(self)
        self.statusBar().addPermanentWidget(self.status_label)

    def _build_charts(self) -> None:
        try:
            from desktop.ui import charts
        except ImportError as exc:  # the charts package is built separately; keep the window usable
            log.warning("charts unavailable: %s", exc)
            self.charts: Any = None
            holder = QLabel(self.tr("Charts are not available in this build."), self.charts_split)
            holder.setAlignment(Qt.AlignmentFlag.AlignCenter)
            return
        self.charts = charts
        self.scatter = charts.ScatterChartWidget(self.charts_split)
        self.scatter.point_clicked.connect(self._point_clicked)
        self.scatter.fields_changed.connect(self._scatter_fields_changed)
        self.scatter.color_by_changed.connect(self._scatter_color_changed)
        self.chart_tabs = QTabWidget(self.charts_split)
        self.histogram = charts.HistogramWidget(self.chart_tabs)
        self.histogram.bounds_changed.connect(self._histogram_bounds)
        self.breakdown = charts.BreakdownWidget(self.chart_tabs)
        self.price_chart = charts.PriceYieldWidget(self.chart_tabs)
        self.market_chart = charts.MarketContextWidget(self.chart_tabs)
        self.chart_tabs.addTab(self.histogram, self.tr("Criterion"))
        self.chart_tabs.addTab(self.breakdown, self.tr("Breakdown"))
        self.chart_tabs.addTab(self.price_chart, self.tr("Price vs 10y"))
        self.chart_tabs.addTab(self.market_chart, self.tr("Market"))
        self._stale_tabs: set[QWidget] = set()
        self.chart_tabs.currentChanged.connect(self._refresh_visible_tab)

    def _action(self, text: str, slot: Any, shortcut: QKeySequence | QKeySequence.StandardKey | str | None = None,
                tip: str = "",
                checkable: bool = False) -> QAction:
        action = QAction(text, self)
        if shortcut:
            action.setShortcut(QKeySequence(shortcut))
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        action.setToolTip(f"{tip or text.replace('&', '').rstrip('…')}"
                          + (f" ({action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)})"
                             if shortcut else ""))
        action.setStatusTip(tip)
        action.setCheckable(checkable)
        action.triggered.connect(slot)
        self.addAction(action)
        return action

    def _build_actions(self) -> None:
        std = QKeySequence.StandardKey
        a = self._action
        self.act_import = a(self.tr("&Import files…"), self.import_files, "Ctrl+I",
                            self.tr("Import iShares, Yahoo JSON, Finviz, SimFin, FRED or price files"))
        self.act_export = a(self.tr("&Export to Excel…"), self.export, "Ctrl+E",
                            self.tr("Export the shortlist to an Excel workbook or CSV"))
        self.act_quit = a(self.tr("&Quit"), self.close, std.Quit)
        self.act_new = a(self.tr("&New screen"), self.new_screen, std.New)
        self.act_open = a(self.tr("&Open screen file…"), self.open_screen_file, std.Open)
        self.act_save = a(self.tr("&Save"), self.save, std.Save, self.tr("Save the screen (keeps every version)"))
        self.act_save_as = a(self.tr("Save &as…"), self.save_as, "Ctrl+Shift+S")
        self.act_revert = a(self.tr("&Revert"), self.revert, "Ctrl+Shift+R",
                            self.tr("Discard unsaved edits to this screen"))
        self.act_history = a(self.tr("Version &history…"), self.show_history, "Ctrl+H")
        self.act_add = a(self.tr("&Add criterion"), self.add_criterion, "Ctrl+Shift+A")
        self.act_remove = a(self.tr("&Remove criterion"), self.builder.remove_current, "Ctrl+Del")
        self.act_find = a(self.tr("&Find field…"), self.builder.focus_field_search, std.Find,
                          self.tr("Search the field catalogue in the current criterion"))
        self.act_refresh = a(self.tr("&Refresh"), self.refresh, std.Refresh,
                             self.tr("Fetch fresh data from SEC EDGAR and Yahoo Finance in the background"))
        self.act_sec_contact = a(self.tr("SEC EDGAR &contact…"), lambda: edit_sec_contact(self, self.settings))
        self.act_cancel = a(self.tr("&Cancel refresh"), self.cancel_refresh, "Ctrl+.")
        self.act_changes = a(self.tr("What &changed since the last run…"), self.what_changed, "Ctrl+D")
        self.act_pin = a(self.tr("&Pin to watchlist"), self.toggle_pin, "Ctrl+B",
                         self.tr("Pin or unpin the selected stocks"))
        self.act_focus_builder = a(self.tr("Focus screen &builder"), lambda: self.builder.setFocus(), "Ctrl+1")
        self.act_focus_table = a(self.tr("Focus &table"), lambda: self.view.setFocus(), "Ctrl+2")
        self.act_focus_charts = a(self.tr("Focus c&harts"), self._focus_charts, "Ctrl+3")
        self.act_focus_detail = a(self.tr("Focus &detail"), lambda: self.detail.browser.setFocus(), "Ctrl+4")
        self.act_failing = a(self.tr("Show stocks that &fail"), self.show_failing.toggle, "Ctrl+Shift+F",
                             checkable=True)
        self.show_failing.toggled.connect(self.act_failing.setChecked)
        self.act_logs = a(self.tr("Open &log folder"), self._open_logs)
        self.act_about = a(self.tr("&About Pickaxe"), self._about)

        menu = self.menuBar()
        file_menu = menu.addMenu(self.tr("&File"))
        for act in (self.act_import, self.act_export, None, self.act_quit):
            file_menu.addSeparator() if act is None else file_menu.addAction(act)
        screen_menu = menu.addMenu(self.tr("&Screen"))
        self.presets_menu = QMenu(self.tr("&Presets"), self)
        self.presets_menu.aboutToShow.connect(self._fill_presets_menu)
        self.saved_menu = QMenu(self.tr("Saved &screens"), self)
        self.saved_menu.aboutToShow.connect(self._fill_saved_menu)
        for act in (self.act_new, self.act_open, None, self.act_save, self.act_save_as, self.act_revert,
                    self.act_history, None, self.act_add, self.act_remove, self.act_find):
            screen_menu.addSeparator() if act is None else screen_menu.addAction(act)
        screen_menu.insertMenu(self.act_save, self.presets_menu)
        screen_menu.insertMenu(self.act_save, self.saved_menu)
        data_menu = menu.addMenu(self.tr("&Data"))
        for act in (self.act_refresh, self.act_cancel, self.act_import, self.act_sec_contact, None, self.act_changes,
                    self.act_pin):
            data_menu.addSeparator() if act is None else data_menu.addAction(act)
        view_menu = menu.addMenu(self.tr("&View"))
        for act in (self.act_focus_builder, self.act_focus_table, self.act_focus_charts, self.act_focus_detail,
                    None, self.act_failing):
            view_menu.addSeparator() if act is None else view_menu.addAction(act)
        help_menu = menu.addMenu(self.tr("&Help"))
        help_menu.addAction(self.act_logs)
        help_menu.addAction(self.act_about)

        bar = self.addToolBar(self.tr("Main"))
        bar.setObjectName("MainToolBar")
        bar.setMovable(False)
        bar.addWidget(QLabel(self.tr(" Snapshot "), self))
        bar.addWidget(self.snapshot_combo)
        bar.addAction(self.act_refresh)
        bar.addAction(self.act_import)
        bar.addSeparator()
        presets_button = QToolButton(self)
        presets_button.setText(self.tr("Presets"))
        presets_button.setMenu(self.presets_menu)
        presets_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        bar.addWidget(presets_button)
        saved_button = QToolButton(self)
        saved_button.setText(self.tr("Open"))
        saved_button.setMenu(self.saved_menu)
        saved_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        bar.addWidget(saved_button)
        for act in (self.act_save, self.act_save_as, self.act_revert, self.act_history):
            bar.addAction(act)
        bar.addSeparator()
        for act in (self.act_changes, self.act_export, self.act_pin):
            bar.addAction(act)
        self.refresh_slot.busy_changed.connect(self._refresh_busy)
        self._refresh_busy(False)

    # ====================================================================== start-up and loading
    def _start(self) -> None:
        if self._db_error is not None or self.backend is None:
            self.stack.setCurrentWidget(self.empty_state)
            self.info_banner.show_message(
                self.tr("The database cannot be opened: %s") % (self._db_error or "")
                + " " + self.tr("Start Pickaxe with --db pointing at another file."))
            self._mark_ready()
            return
        self._reload_snapshots(select_latest=True)
        self._check_recovery()

    def _reload_snapshots(self, select_latest: bool = False, select_id: int | None = None) -> None:
        assert self.backend is not None
        try:
            infos = self.backend.snapshots()
        except PickaxeError as exc:
            messages.show_error(self, exc)
            infos = []
        current = select_id if select_id is not None else self.snapshot_combo.currentData()
        self.snapshot_combo.blockSignals(True)
        self.snapshot_combo.clear()
        for info in infos:
            label = self.tr("%s  (#%d, %s members)") % (info.as_of.isoformat(), info.id, f"{info.n_members:,}")
            self.snapshot_combo.addItem(label, info.id)
        self.snapshot_combo.blockSignals(False)
        if not infos:
            self.stack.setCurrentWidget(self.empty_state)
            self._set_enabled_for_data(False)
            self._mark_ready()
            return
        self.stack.setCurrentWidget(self.workspace)
        self._set_enabled_for_data(True)
        index = 0 if select_latest else max(self.snapshot_combo.findData(current), 0)
        self.snapshot_combo.setCurrentIndex(index)
        self.load_snapshot(int(self.snapshot_combo.currentData()))

    def _set_enabled_for_data(self, on: bool) -> None:
        for act in (self.act_export, self.act_changes, self.act_pin, self.act_add, self.act_remove,
                    self.act_find, self.act_save, self.act_save_as):
            act.setEnabled(on)
        self._update_title()

    def _snapshot_picked(self, _index: int) -> None:
        snapshot = self.snapshot_combo.currentData()
        if snapshot is not None:
            self.load_snapshot(int(snapshot))

    def load_snapshot(self, snapshot_id: int | None) -> None:
        """Load (in the background) and show a snapshot; the open screen is re-run on it."""
        assert self.backend is not None
        backend = self.backend
        self.statusBar().showMessage(self.tr("Loading snapshot…"))
        self.load_slot.start(lambda state: backend.load_table(snapshot_id), self._snapshot_loaded,
                             self._load_failed)

    def _load_failed(self, exc: BaseException) -> None:
        self.statusBar().clearMessage()
        messages.show_error(self, exc, self.tr("Loading the snapshot"))
        self._mark_ready()

    def _snapshot_loaded(self, bundle: Any) -> None:
        t0 = time.perf_counter()
        self.bundle = bundle
        table = bundle.table
        self.ftable = FormattedTable(table.values, table.status, getattr(table, "notes", {}))
        self._choices = {}
        self.builder.set_choice_provider(self._choices_for)
        try:
            self._pinned = self.backend.watchlist() if self.backend else set()
        except (PickaxeError, ImportError) as exc:
            log.info("watchlist unavailable: %s", exc)
            self._pinned = set()
        info = bundle.info
        self.status_label.setText(self.tr("Snapshot #%d as of %s · %s stocks") % (
            info.id, info.as_of.isoformat(), f"{len(table.values):,}"))
        self.statusBar().clearMessage()
        try:
            if self.charts is not None:
                market = getattr(bundle.dataset, "market", None)
                if isinstance(market, pd.DataFrame):
                    self._chart_call(self.market_chart.set_market, market)
            if self.parsed_screen is None and not self.builder.document().get("criteria"):
                self._open_initial_screen()
            else:
                self.rescreen()
            log.info("snapshot %s shown in %.0f ms", info.id, (time.perf_counter() - t0) * 1000)
            if self._requested_select:
                self.select_symbol(self._requested_select)
                self._requested_select = None
        finally:
            self._mark_ready()

    def _chart_call(self, fn: Any, *args: Any, **kwargs: Any) -> None:
        """Update one chart; a chart bug is logged and leaves the rest of the window working."""
        try:
            fn(*args, **kwargs)
        except Exception:  # a broken chart must not stop the table, funnel and detail updates
            log.exception("chart update failed: %s", getattr(fn, "__qualname__", fn))

    def _mark_ready(self) -> None:
        if not self._is_ready:
            self._is_ready = True
            self.ready.emit()

    def is_ready(self) -> bool:
        return self._is_ready

    def _open_initial_screen(self) -> None:
        explicit = self._requested_screen
        wanted = explicit or self.settings.last_screen
        self._requested_screen = None
        if wanted and self.open_screen(wanted, quiet=not explicit, ask=False):
            return
        presets = self._presets()
        if presets:
            self.open_screen(next(iter(presets)), quiet=True, ask=False)
        else:
            self.set_screen_document(dict(EMPTY_SCREEN), ScreenSource("new", ""))

    # ====================================================================== screens
    def _presets(self) -> dict[str, dict]:
        if self.backend is None:
            return {}
        try:
            return self.backend.presets()
        except (PickaxeError, ImportError, OSError) as exc:
            log.warning("presets unavailable: %s", exc)
            return {}

    def open_screen(self, name_or_file: str, quiet: bool = False, ask: bool = True) -> bool:
        """Open a saved screen, preset or file by name; False (with a message) when it fails.

        Unsaved edits to the open screen are asked about first unless ``ask`` is False.
        """
        if ask and not self._confirm_discard():
            return False
        assert self.backend is not None
        try:
            screen = self.backend.load_screen(name_or_file)
        except (PickaxeError, ImportError, OSError) as exc:
            if not quiet:
                messages.show_error(self, exc if isinstance(exc, PickaxeError) else PickaxeError(str(exc)))
            log.info("cannot open screen %r: %s", name_or_file, exc)
            return False
        from desktop.engine.screen import screen_to_dict

        if Path(name_or_file).suffix.lower() in (".json", ".xlsx"):
            source = ScreenSource("file", name_or_file)
        elif name_or_file in self._presets() and name_or_file not in self._saved_names():
            source = ScreenSource("preset", name_or_file)
        else:
            source = ScreenSource("saved", screen.name)
        self.set_screen_document(screen_to_dict(screen), source)
        self.settings.last_screen = name_or_file
        return True

    def _saved_names(self) -> list[str]:
        try:
            return self.backend.saved_screens() if self.backend else []
        except (PickaxeError, ImportError) as exc:
            log.info("saved screens unavailable: %s", exc)
            return []

    def set_screen_document(self, doc: dict[str, Any], source: ScreenSource, *, baseline: bool = True) -> None:
        """Show ``doc`` in the builder and re-screen; ``baseline`` marks it as the saved state."""
        self.source = source
        if baseline:
            self._baseline = self._normalised(doc) or doc
        self.builder.set_document(doc)
        self._update_title()
        self.rescreen()
        # Show the first numeric criterion in the histogram so the chart pane is never idle.
        first = next((row for row in self.builder.leaves() if row.kind == "numeric"), None)
        if first is not None:
            first.activated.emit(first)

    def _normalised(self, doc: dict[str, Any]) -> dict[str, Any] | None:
        from desktop.engine.screen import parse_screen, screen_to_dict

        try:
            return screen_to_dict(parse_screen(doc))
        except ScreenDefinitionError:
            return None

    def is_dirty(self) -> bool:
        """True when the builder's screen differs from the last saved or opened version."""
        current = self._normalised(self.builder.document())
        if current is None:
            return True
        return current != self._baseline

    def _update_title(self) -> bool:
        name = self.builder.document().get("name") or self.tr("Untitled")
        kind = {"preset": self.tr(" (preset)"), "file": self.tr(" (file)"), "new": ""}.get(self.source.kind, "")
        dirty = self.is_dirty()
        self.setWindowTitle(f"{name}{kind}[*] — {APP_NAME}")  # Qt puts "*" at [*] while modified
        self.setWindowModified(dirty)
        self.act_revert.setEnabled(dirty and self.source.kind != "new" and self.bundle is not None)
        self.act_history.setEnabled(self.source.kind == "saved")
        return dirty

    def new_screen(self) -> None:
        if self._confirm_discard():
            self.set_screen_document(dict(EMPTY_SCREEN), ScreenSource("new", ""))
            self.builder.add_criterion()

    def open_screen_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, self.tr("Open screen"), self.settings.last_folder,
                                              self.tr("Screens (*.json *.xlsx);;All files (*)"))
        if path:
            self.settings.last_folder = str(Path(path).parent)
            self.open_screen(path)

    def add_criterion(self) -> None:
        self.builder.add_criterion()

    def _fill_presets_menu(self) -> None:
        self.presets_menu.clear()
        presets = self._presets()
        if not presets:
            self.presets_menu.addAction(self.tr("(no presets found)")).setEnabled(False)
        for name, doc in presets.items():
            action = self.presets_menu.addAction(name)
            action.setToolTip(str(doc.get("description", "")))
            action.triggered.connect(lambda _c=False, n=name: self.open_screen(n))

    def _fill_saved_menu(self) -> None:
        self.saved_menu.clear()
        names = self._saved_names()
        if not names:
            self.saved_menu.addAction(self.tr("(no saved screens yet)")).setEnabled(False)
        for name in names:
            action = self.saved_menu.addAction(name)
            action.triggered.connect(lambda _c=False, n=name: self.open_screen(n))
        self.saved_menu.addSeparator()
        self.saved_menu.addAction(self.act_open)

    # -- saving --------------------------------------------------------------------------------
    def save(self) -> None:
        """Save under the current name; presets, files and new screens ask for a name first."""
        if self.source.kind != "saved":
            self.save_as()
            return
        self._save_document(self.builder.document())

    def save_as(self) -> None:
        doc = self.builder.document()
        suggestion = str(doc.get("name") or "")
        if self.source.kind == "preset":
            suggestion = self.tr("%s (my copy)") % suggestion
        name, ok = QInputDialog.getText(self, self.tr("Save screen as"), self.tr("Name:"), text=suggestion)
        if not ok or not name.strip():
            return
        doc["name"] = name.strip()
        self._save_document(doc)

    def _save_document(self, doc: dict[str, Any]) -> None:
        from desktop.engine.screen import parse_screen, screen_to_dict

        try:
            screen = parse_screen(doc)
        except ScreenDefinitionError as exc:
            messages.show_error(self, exc, self.tr("The screen cannot be saved"))
            return
        assert self.backend is not None
        backend = self.backend
        self.statusBar().showMessage(self.tr("Saving…"))

        def done(saved: Any) -> None:
            name = str(getattr(saved, "name", screen.name))
            version = getattr(saved, "version", None)
            self.source = ScreenSource("saved", name)
            self._baseline = screen_to_dict(screen)
            self.builder.set_name(name)
            self.settings.last_screen = name
            self._clear_recovery()
            self._update_title()
            self.statusBar().showMessage(self.tr("Saved “%s” (version %s)") % (name, version), 5000)
            self.saved.emit()

        self.write_slot.start(lambda state: backend.save_screen(screen), done,
                              lambda exc: messages.show_error(self, exc, self.tr("Saving the screen")))

    def revert(self) -> None:
        self.set_screen_document(dict(self._baseline), self.source)
        self._clear_recovery()

    def show_history(self) -> None:
        if self.source.kind != "saved" or self.backend is None:
            return
        try:
            rows = self.backend.history(self.source.name)
        except (PickaxeError, ImportError) as exc:
            messages.show_error(self, exc if isinstance(exc, PickaxeError) else PickaxeError(str(exc)))
            return
        entries = [VersionEntry(int(getattr(r, "version", 0)),
                                str(getattr(r, "saved_at", getattr(r, "created_at", "")) or "")[:19],
                                str(getattr(r, "description", "") or ""),
                                dict(getattr(r, "definition", {}) or {})) for r in rows]
        dialog = VersionHistoryDialog(self.source.name, entries, self)
        self.history_dialog = dialog
        dialog.accepted.connect(lambda: self._restore_version(dialog.chosen_version()))
        dialog.open()

    def _restore_version(self, version: int | None) -> None:
        if version is None or self.backend is None:
            return
        backend, name = self.backend, self.source.name

        def done(_new_version: Any) -> None:
            self.open_screen_unchecked(name)
            self.statusBar().showMessage(self.tr("Restored version %d of “%s”") % (version, name), 5000)
            self.saved.emit()

        self.write_slot.start(lambda state: backend.restore(name, version), done,
                              lambda exc: messages.show_error(self, exc))

    def open_screen_unchecked(self, name: str) -> None:
        """Open ``name`` without asking about unsaved edits (after a restore)."""
        self.open_screen(name, ask=False)

    def _confirm_discard(self) -> bool:
        """Ask before unsaved edits would be replaced; True when it is fine to go on."""
        if not self._is_ready or self.bundle is None or not self.is_dirty():
            return True
        answer = QMessageBox.question(
            self, self.tr("Unsaved changes"),
            self.tr("The screen “%s” has unsaved changes. Save them first?") % (
                self.builder.document().get("name") or self.tr("Untitled")),
            QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard
            | QMessageBox.StandardButton.Cancel, QMessageBox.StandardButton.Save)
        if answer == QMessageBox.StandardButton.Cancel:
            return False
        if answer == QMessageBox.StandardButton.Save:
            self.save()
            return not self.is_dirty() or self.write_slot.is_busy()
        self._clear_recovery()
        return True

    # ====================================================================== screening
    def rescreen(self) -> None:
        """Parse the builder's document, evaluate it on the loaded table, update every view."""
        if self._update_title():
            self._recovery_timer.start()
        if self.bundle is None:
            return
        from desktop.engine.evaluate import evaluate
        from desktop.engine.screen import parse_screen

        t0 = time.perf_counter()
        doc, self._leaf_ids = evaluable_document(self.builder.document())
        try:
            screen = parse_screen(doc)
        except ScreenDefinitionError as exc:
            self.builder.show_problem(str(exc))
            return
        skipped = self._leaf_ids.count(None)
        self.builder.show_problem(self.tr("%d criteria without a condition are ignored until you set one.") % skipped
                                  if skipped else "")
        table = self.bundle.table
        # Near misses are only exported (run_screen computes them); skipping them here saves
        # most of evaluate's time on every keystroke.
        result = evaluate(screen, table, near_misses=False)
        self.parsed_screen, self.result = screen, result
        self._apply_result()
        self.last_screen_ms = (time.perf_counter() - t0) * 1000
        log.debug("re-screen in %.1f ms", self.last_screen_ms)
        self.screened.emit()

    def _apply_result(self) -> None:
        assert self.ftable is not None and self.result is not None
        result, ftable, table = self.result, self.ftable, self.bundle.table
        ranked: pd.DataFrame = result.ranked
        leaves = self.builder.leaves()
        ids = self._leaf_ids
        funnel = {step.criterion_id: (int(step.removed), int(step.remaining)) for step in result.funnel}
        self.builder.set_funnel([funnel.get(cid) if cid else None for cid in ids])
        universe = int(getattr(result, "universe_count", len(table.values)))
        self.builder.set_match_count(len(ranked), universe)

        passing = ftable.positions(ranked.index)
        if self._show_failing:
            rest = np.setdiff1d(np.arange(len(ftable)), passing, assume_unique=False)
            positions = np.concatenate([passing, rest]).astype(np.intp)
        else:
            positions = passing
        symbols = ftable.symbols[positions]
        states: pd.DataFrame = result.states
        cell_states: dict[str, np.ndarray] = {}
        if len(states.columns):
            aligned = states.reindex(pd.Index(symbols)).to_numpy(dtype=np.float64, na_value=np.nan)
            col_of = {c: i for i, c in enumerate(states.columns)}
            by_field: dict[str, list[int]] = {}
            for cid, row in zip(ids, leaves, strict=False):
                if cid is not None and cid in col_of:
                    by_field.setdefault(row.field_name, []).append(col_of[cid])
            for field, cols in by_field.items():
                block = aligned[:, cols]
                cell_states[field] = np.where((block == FAIL).any(axis=1), FAIL,
                                              np.where((block == UNKNOWN).any(axis=1) | np.isnan(block).any(axis=1),
                                                       UNKNOWN, PASS)).astype(np.int8)
        extra: dict[str, np.ndarray] = {}
        for col in ("rank", "score"):
            if col in ranked.columns:
                extra[col] = ranked[col].reindex(pd.Index(symbols)).to_numpy(dtype=np.float64, na_value=np.nan)
        columns = [ColumnSpec.for_field(c) for c in self._column_names(extra)]
        selected = self.view.selected_symbols()
        self.model.set_rows(ftable, positions, columns, cell_states, extra)
        if selected:
            self.view.select_symbols(selected, scroll=False)
        self.results_title.setText(self.tr("Shortlist · %s stocks") % f"{len(ranked):,}")
        self._update_charts(ranked)

    def _column_names(self, extra: dict[str, np.ndarray]) -> list[str]:
        doc_columns = list(getattr(self.parsed_screen, "columns", ()) or ())
        names: list[str] = [c for c in DEFAULT_COLUMNS if c in extra or c in ("symbol", "name")]
        if "score" in extra:
            names.append("score")
        criteria_fields = [row.field_name for row in self.builder.leaves()]
        for name in doc_columns + criteria_fields + self.settings.visible_columns + list(TRAILING_COLUMNS):
            if name not in names and (name in self.bundle.table.values.columns):
                names.append(name)
        return names

    def _toggle_failing(self, on: bool) -> None:
        self._show_failing = on
        if self.result is not None:
            self._apply_result()

    def _columns_requested(self, names: list[str]) -> None:
        self.settings.visible_columns = names
        if self.result is not None:
            self._apply_result()

    def _fill_columns_menu(self) -> None:
        menu = self.columns_button.menu()
        menu.clear()
        for action in self.view.column_menu().actions():
            menu.addAction(action)

    # ====================================================================== charts and selection
    def _update_charts(self, ranked: pd.DataFrame) -> None:
        if self.charts is None or self.bundle is None:
            return
        values = self.bundle.table.values
        x, y = self.scatter.fields() if self.scatter.fields()[0] else self.settings.scatter_fields
        x = x if x in values.columns else "market_cap"
        y = y if y in values.columns else next((c for c in ("fcf_yield", "free_cash_flow", "price")
                                                 if c in values.columns), x)
        self._chart_call(self.scatter.set_data, values, x, y, self.settings.color_by, passed=ranked.index)
        self._chart_call(self.scatter.set_highlighted, self.view.selected_symbols())
        # Charts on hidden tabs are redrawn when their tab is shown, not on every keystroke.
        self._stale_tabs = {self.breakdown}
        if not self._from_histogram:
            self._stale_tabs.add(self.histogram)
        self._refresh_visible_tab()

    def _refresh_visible_tab(self, _index: int = -1) -> None:
        current = self.chart_tabs.currentWidget()
        if current not in self._stale_tabs or self.result is None or self.bundle is None:
            return
        self._stale_tabs.discard(current)
        if current is self.breakdown:
            values = self.bundle.table.values
            shortlist = values.loc[values.index.intersection(self.result.ranked.index)]
            by_sector = (shortlist["sector"].value_counts() if "sector" in shortlist.columns
                         else pd.Series(dtype=int))
            by_theme = (shortlist["themes"].explode().dropna().value_counts() if "themes" in shortlist.columns
                        else pd.Series(dtype=int))
            self._chart_call(self.breakdown.set_counts, by_sector, by_theme)
        elif current is self.histogram:
            self._update_histogram()

    def _update_histogram(self) -> None:
        if self.charts is None or self.ftable is None:
            return
        row = self.builder.current_row()
        if row is None or row.kind != "numeric":
            return
        try:
            field = catalog.get(row.field_name)
        except KeyError:
            return
        minimum, maximum = row.bounds()
        self._chart_call(self.histogram.set_field, self.ftable.raw(field.name), field, minimum, maximum)

    def _current_criterion_changed(self, row: object) -> None:
        if isinstance(row, CriterionRow) and row.kind == "numeric" and self.charts is not None:
            self._stale_tabs.discard(self.histogram)
            self._update_histogram()
            self.chart_tabs.setCurrentWidget(self.histogram)

    def _histogram_bounds(self, minimum: object, maximum: object) -> None:
        row = self.builder.current_row()
        if row is None:
            return
        self._from_histogram = True
        try:
            row.set_bounds(None if minimum is None else float(minimum),  # type: ignore[arg-type]
                           None if maximum is None else float(maximum))  # type: ignore[arg-type]
            self.builder.screen_changed.emit()  # re-screen now, not on the next event-loop turn
        finally:
            self._from_histogram = False

    def _scatter_fields_changed(self, x: str, y: str) -> None:
        self.settings.scatter_fields = (x, y)

    def _scatter_color_changed(self, color_by: str) -> None:
        self.settings.color_by = color_by

    def _point_clicked(self, symbol: str) -> None:
        self.select_symbol(symbol)

    def select_symbol(self, symbol: str) -> bool:
        """Select ``symbol`` in the table (showing failing stocks if it does not pass)."""
        if self.model.row_of(symbol) < 0 and self.ftable is not None and self.ftable.has("name") \
                and symbol in set(self.ftable.symbols) and not self._show_failing:
            self.show_failing.setChecked(True)
        if self.model.row_of(symbol) < 0:
            self.statusBar().showMessage(self.tr("%s is not in this snapshot") % symbol, 5000)
            return False
        self.view.select_symbols([symbol])
        return True

    def _selection_changed(self, symbols: list[str]) -> None:
        if self.charts is not None:
            self._chart_call(self.scatter.set_highlighted, symbols)
        if not symbols or self.bundle is None:
            self.detail.clear()
            return
        symbol = symbols[0]
        leaves = self.builder.leaves()
        criteria = [CriterionInfo(cid, row.field_name, row.to_dict())
                    for cid, row in zip(self._leaf_ids, leaves, strict=False) if cid is not None]
        states = self.result.states if self.result is not None else None
        self.detail.show_stock(symbol, self.bundle.table, states, criteria, pinned=symbol in self._pinned)
        self.act_pin.setText(self.tr("Un&pin from watchlist") if symbol in self._pinned
                             else self.tr("&Pin to watchlist"))
        if self.charts is not None:
            dataset = self.bundle.dataset
            prices = dataset.prices[symbol] if symbol in dataset.prices.columns else pd.Series(dtype=float)
            market = dataset.market
            yields = market["yield_10y"] if "yield_10y" in market.columns else pd.Series(dtype=float)
            self._chart_call(self.price_chart.set_series, symbol, prices, yields)

    def _focus_charts(self) -> None:
        if self.charts is not None:
            self.scatter.setFocus()

    def _choices_for(self, field: str) -> list[str]:
        if field in self._choices:
            return self._choices[field]
        out: list[str] = []
        if self.bundle is not None and field in self.bundle.table.values.columns:
            col = self.bundle.table.values[field]
            if field == "themes" or col.map(lambda v: isinstance(v, tuple | list)).any():
                out = sorted({str(t) for v in col if isinstance(v, tuple | list) for t in v}, key=str.casefold)
            else:
                out = sorted({str(v) for v in col.dropna().unique() if str(v)}, key=str.casefold)
        self._choices[field] = out
        return out

    # ====================================================================== watchlist
    def toggle_pin(self) -> None:
        symbols = self.view.selected_symbols()
        if not symbols or self.backend is None:
            return
        pin = symbols[0] not in self._pinned
        backend = self.backend

        def work(state: TaskState) -> None:
            for s in symbols:
                backend.set_pinned(s, pin)

        def done(_r: Any) -> None:
            self._pinned = (self._pinned | set(symbols)) if pin else (self._pinned - set(symbols))
            self._selection_changed(self.view.selected_symbols())
            self.statusBar().showMessage((self.tr("Pinned %s") if pin else self.tr("Unpinned %s"))
                                         % ", ".join(symbols), 4000)

        self.write_slot.start(work, done, lambda exc: messages.show_error(self, exc))

    # ====================================================================== long work
    def _progress_dialog(self, key: str, title: str, slot: TaskSlot) -> ProgressDialog:
        dialog = self.progress_dialogs.get(key)
        if dialog is None:
            dialog = ProgressDialog(title, self)
            dialog.cancel_requested.connect(slot.cancel)
            dialog.cancel_requested.connect(lambda: self._task_ended(key, self.tr("Cancelled")))
            self.progress_dialogs[key] = dialog
        dialog.cancel_button.setEnabled(True)
        dialog.set_progress(0, 0, self.tr("Starting…"), None)
        dialog.show()
        return dialog

    def _on_progress(self, key: str, slot: TaskSlot) -> Any:
        def handler(done: int, total: int, message: str) -> None:
            eta = slot.current.eta_seconds() if slot.current is not None else None
            self.progress_dialogs[key].set_progress(done, total, message, eta)
            pct = f" {done * 100 // total}%" if total else ""
            self.statusBar().showMessage(f"{self.progress_dialogs[key].windowTitle()}{pct} {message}")
        return handler

    def _task_ended(self, key: str, message: str = "") -> None:
        dialog = self.progress_dialogs.get(key)
        if dialog is not None:
            dialog.hide()
        if message:
            self.statusBar().showMessage(message, 5000)
        else:
            self.statusBar().clearMessage()

    def refresh(self) -> None:
        """Fetch fresh data in the background; the user keeps working on the current snapshot."""
        if self.backend is not None:
            with_sec_contact(self, self.settings, self._start_refresh)  # asks for the SEC contact once

    def _start_refresh(self, sec_user_agent: str | None) -> None:
        if self.backend is None:
            return
        backend = self.backend
        backend.sec_user_agent = sec_user_agent
        self._progress_dialog("refresh", self.tr("Refreshing from SEC EDGAR and Yahoo Finance") if sec_user_agent
                              else self.tr("Refreshing from Yahoo Finance"), self.refresh_slot)
        self.refresh_slot.start(lambda state: backend.refresh(state.progress, state.is_cancelled),
                                lambda report: self._refresh_done(report),
                                lambda exc: self._refresh_failed(exc),
                                self._on_progress("refresh", self.refresh_slot),
                                lambda: self._task_ended("refresh", self.tr("Refresh cancelled; fetched data is kept")))

    def download_universe(self) -> None:
        """First run online: iShares holdings, then SEC fundamentals and Yahoo prices and profiles."""
        if self.backend is not None:
            with_sec_contact(self, self.settings, self._start_download)  # asks for the SEC contact once

    def _start_download(self, sec_user_agent: str | None) -> None:
        if self.backend is None:
            return
        backend = self.backend
        backend.sec_user_agent = sec_user_agent
        self._progress_dialog("refresh", self.tr("Downloading the Russell 2000"), self.refresh_slot)
        self.refresh_slot.start(lambda state: backend.download_universe(state.progress, state.is_cancelled),
                                self._refresh_done, self._refresh_failed,
                                self._on_progress("refresh", self.refresh_slot),
                                lambda: self._task_ended("refresh", self.tr("Download cancelled")))

    def cancel_refresh(self) -> None:
        """Stop the refresh at its next check; what was fetched stays in the cache."""
        if self.refresh_slot.is_busy():
            self.refresh_slot.cancel()
            self._task_ended("refresh", self.tr("Refresh cancelled; fetched data is kept"))

    def _refresh_busy(self, busy: bool) -> None:
        self.act_refresh.setEnabled(not busy)
        self.act_cancel.setEnabled(busy)
        self.empty_state.download.setEnabled(not busy)

    def _refresh_done(self, report: Any) -> None:
        self._task_ended("refresh", self.tr("Refresh finished"))
        self.offline_banner.hide()
        failures = len(getattr(report, "failures", []) or [])
        if failures:
            self.info_banner.show_message(self.tr("Refresh finished; %d items could not be fetched and keep their "
                                                  "previous values.") % failures)
        snapshot_id = getattr(report, "snapshot_id", None)
        self._reload_snapshots(select_latest=snapshot_id is None, select_id=snapshot_id)

    def _refresh_failed(self, exc: BaseException) -> None:
        self._task_ended("refresh")
        if isinstance(exc, SourceUnreachableError):
            self.show_offline(str(exc))
            return
        messages.show_error(self, exc, self.tr("Refresh"))

    def show_offline(self, detail: str = "") -> None:
        """The non-modal banner saying Yahoo is unreachable; work continues on the snapshot."""
        text = self.tr("Yahoo Finance is unreachable, so Pickaxe keeps working on the latest snapshot.")
        if detail:
            text += f" ({detail})"
        self.offline_banner.show_message(text, ((self.tr("Try again"), self.refresh),))

    def import_files(self) -> None:
        if self.backend is None:
            return
        dialog = ImportDialog(self, self.settings.last_folder)
        self.import_dialog = dialog
        dialog.accepted.connect(lambda: self._start_import(*dialog.request(), folder=dialog.folder()))
        dialog.open()

    def _start_import(self, kind: str, files: list[Path], as_of: Any, folder: str = "") -> None:
        if folder:
            self.settings.last_folder = folder
        assert self.backend is not None
        backend = self.backend
        self._progress_dialog("import", self.tr("Importing %s") % kind, self.import_slot)

        def done(report: Any) -> None:
            self._task_ended("import", self.tr("Import finished"))
            summary_fn = getattr(report, "summary_text", None)
            summary = summary_fn() if callable(summary_fn) else ""
            if summary:
                self.info_banner.show_message(
                    summary.splitlines()[0], ((self.tr("Details…"), lambda: self._show_text(self.tr("Import"),
                                                                                              summary)),))
            self.imported.emit()
            snapshot_id = getattr(report, "snapshot_id", None)
            self._reload_snapshots(select_latest=snapshot_id is None, select_id=snapshot_id)

        def failed(exc: BaseException) -> None:
            self._task_ended("import")
            messages.show_error(self, exc, self.tr("Import"))

        self.import_slot.start(lambda state: backend.import_files(kind, files, as_of, state.progress,
                                                                 state.is_cancelled),
                               done, failed, self._on_progress("import", self.import_slot),
                               lambda: self._task_ended("import", self.tr("Import cancelled; nothing was changed")))

    def _show_text(self, title: str, text: str) -> None:
        box = QMessageBox(QMessageBox.Icon.Information, title, text.splitlines()[0], parent=self)
        box.setDetailedText(text)
        box.setWindowModality(Qt.WindowModality.NonModal)
        box.open()

    def export(self, path: Path | None = None) -> None:
        """Export the current screen's result (asks for the file unless ``path`` is given)."""
        if self.backend is None or self.parsed_screen is None or self.bundle is None:
            return
        if path is None or not isinstance(path, Path):
            path = ask_export_path(self, self.settings.last_folder, self.parsed_screen.name,
                                   self.bundle.info.as_of.isoformat())
            if path is None:
                return
            self.settings.last_folder = str(path.parent)
        backend, screen, snapshot = self.backend, self.parsed_screen, int(self.bundle.info.id)
        self._progress_dialog("export", self.tr("Exporting"), self.export_slot)

        def done(written: Path) -> None:
            self._task_ended("export", self.tr("Exported to %s") % written)
            self.exported.emit(str(written))

        def failed(exc: BaseException) -> None:
            self._task_ended("export")
            messages.show_error(self, exc, self.tr("Export"))

        self.export_slot.start(lambda state: backend.export(path, screen, snapshot, state.progress,
                                                            state.is_cancelled),
                               done, failed, self._on_progress("export", self.export_slot),
                               lambda: self._task_ended("export", self.tr("Export cancelled")))

    def what_changed(self) -> None:
        """The snapshot diff: this screen on the previous snapshot against the shown one."""
        if self.backend is None or self.bundle is None or self.parsed_screen is None:
            return
        ids = [int(self.snapshot_combo.itemData(i)) for i in range(self.snapshot_combo.count())]
        current = int(self.bundle.info.id)
        older = [i for i in ids[ids.index(current) + 1:]] if current in ids else []
        if not older:
            QMessageBox.information(self, self.tr("What changed"),
                                    self.tr("There is no earlier snapshot to compare with yet. Each refresh or "
                                            "import makes a new one."))
            return
        backend, screen, after = self.backend, self.parsed_screen, self.bundle

        def work(state: TaskState) -> tuple[Any, Any]:
            from desktop.engine.diff import diff_results

            before = backend.load_table(older[0])
            return before, diff_results(screen, before.table, after.table)

        self.diff_slot.start(work, lambda res: self._show_diff(*res), lambda exc: messages.show_error(self, exc))

    def _show_diff(self, before: Any, diff: Any) -> None:
        from desktop.engine.formatting import format_value

        units = {}
        for leaf in self.parsed_screen.leaves():
            try:
                units[leaf.id] = catalog.get(leaf.field).unit
            except KeyError:
                units[leaf.id] = ""
        changes: pd.DataFrame = getattr(diff, "changes", pd.DataFrame())

        def why(symbol: str) -> str:
            if changes.empty:
                return ""
            parts = []
            for _, r in changes[changes["symbol"] == symbol].iterrows():
                unit = units.get(str(r["criterion_id"]), "")
                if r["value_before"] is None and r["value_after"] is None:
                    parts.append(str(r["label"]))
                    continue
                b = format_value(r["value_before"], unit) if unit else str(r["value_before"])
                a = format_value(r["value_after"], unit) if unit else str(r["value_after"])
                parts.append(f"{r['label']}: {b} → {a}")
            return "; ".join(parts)

        title = self.tr("“%s”: snapshot %s → %s") % (self.parsed_screen.name, before.info.as_of.isoformat(),
                                                     self.bundle.info.as_of.isoformat())
        entered = [(s, why(s)) for s in getattr(diff, "entered", [])]
        exited = [(s, why(s)) for s in getattr(diff, "exited", [])]
        note = self.tr("%d stayed on the shortlist.") % len(getattr(diff, "stayed", []))
        dialog = WhatChangedDialog(title, entered, exited, self, note=note)
        self.changes_dialog = dialog
        dialog.open()

    # ====================================================================== recovery and settings
    def _recovery_file(self) -> Path:
        return paths.data_dir() / "recovery" / "screen.json"

    def _write_recovery(self) -> None:
        if not self.is_dirty():
            return
        path = self._recovery_file()
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"source": [self.source.kind, self.source.name],
                                   "document": self.builder.document()}, ensure_ascii=False, indent=1),
                       encoding="utf-8")
        tmp.replace(path)

    def _clear_recovery(self) -> None:
        self._recovery_timer.stop()
        self._recovery_file().unlink(missing_ok=True)

    def _check_recovery(self) -> None:
        path = self._recovery_file()
        if not path.is_file():
            return
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            doc = dict(data["document"])
            kind, name = data.get("source", ["new", ""])
        except (OSError, ValueError, KeyError, TypeError) as exc:
            log.warning("ignoring unreadable recovery file %s: %s", path, exc)
            return
        self.recovered_document = doc

        def restore() -> None:
            self.info_banner.hide()
            self.set_screen_document(doc, ScreenSource(str(kind), str(name)), baseline=False)
            self._baseline = {}

        def discard() -> None:
            self.info_banner.hide()
            self._clear_recovery()

        self.info_banner.show_message(
            self.tr("Unsaved edits to the screen “%s” were kept from the last session.") % (doc.get("name") or "?"),
            ((self.tr("Restore"), restore), (self.tr("Discard"), discard)))

    def _restore_settings(self) -> None:
        s = self.settings
        if not s.geometry.isEmpty():
            self.restoreGeometry(s.geometry)
        else:
            self.resize(1500, 940)
        if not s.window_state.isEmpty():
            self.restoreState(s.window_state)
        for split in (self.main_split, self.centre_split, self.charts_split):
            state = s.splitter_state(split.objectName())
            if not state.isEmpty():
                split.restoreState(state)

    def save_settings(self) -> None:
        s = self.settings
        s.geometry = self.saveGeometry()
        s.window_state = self.saveState()
        for split in (self.main_split, self.centre_split, self.charts_split):
            s.set_splitter_state(split.objectName(), split.saveState())
        if self.source.kind in ("saved", "preset", "file") and self.source.name:
            s.last_screen = self.source.name
        s.sync()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt override
        if self.bundle is not None and self.is_dirty():
            answer = QMessageBox.question(
                self, self.tr("Unsaved changes"),
                self.tr("Save the changes to “%s” before closing?") % (self.builder.document().get("name") or "?"),
                QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard
                | QMessageBox.StandardButton.Cancel, QMessageBox.StandardButton.Save)
            if answer == QMessageBox.StandardButton.Cancel:
                event.ignore()
                return
            if answer == QMessageBox.StandardButton.Save:
                self.save()
                if self.is_dirty() and not self.write_slot.is_busy():
                    event.ignore()  # "Save as" was cancelled
                    return
            else:
                self._clear_recovery()
        self.shutdown()
        event.accept()

    def shutdown(self) -> None:
        """Save UI state, cancel background work and wait a little for it to stop."""
        from desktop.ui import workers

        self.save_settings()
        for slot in (self.load_slot, self.refresh_slot, self.import_slot, self.export_slot, self.diff_slot):
            slot.cancel()
        write_pool().waitForDone(5000)  # a save in flight finishes: never lose a screen
        workers.shutdown(3000)

    # ====================================================================== misc
    def _open_logs(self) -> None:
        from PySide6.QtCore import QUrl
        from PySide6.QtGui import QDesktopServices

        from desktop import log as applog

        QDesktopServices.openUrl(QUrl.fromLocalFile(str(applog.log_file().parent)))

    def _about(self) -> None:
        from desktop import __version__

        QMessageBox.about(self, self.tr("About Pickaxe"), self.tr(
            "<b>Pickaxe %s</b><br>A small-cap screener for cash flow, leverage and interest-rate resilience "
            "in the Russell 2000.<br>Database: %s") % (__version__, self.backend.url if self.backend else "—"))

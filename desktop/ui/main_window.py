"""The main window (issue #6): screen builder, results, linked charts, detail pane.

Data flow: a snapshot's StockTable is loaded by a worker and cached; every valid edit in the
builder re-screens in the GUI thread with the engine's ``evaluate`` (a few ms for 2,000 stocks,
see benchmarks/bench_ui.py) and resets the results model, the funnel and the charts.

The window wires and lays out its parts (issue #17): :class:`ScreenDocument` (open, save, dirty
state, versions, recovery), :class:`TaskController` (refresh, import, export with progress and
cancel), :class:`ChartCoordinator` (the chart pane), :class:`WatchlistController` (pins, notes,
the watchlist view), :class:`WhatChangedController` (the shortlist against the screen's last
run), :class:`SnapshotList` (the snapshot picker, and snapshots made outside the window) and
:class:`StoreLoader` (the store opened after the first paint, snapshots read on a worker). What
stays here is the snapshot shown, the re-screen, the selection and the menus.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QGuiApplication, QIcon, QKeyEvent, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMenu,
    QMessageBox,
    QSplitter,
    QStackedWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from desktop import APP_NAME
from desktop.engine.formatting import counted
from desktop.errors import PickaxeError, ScreenDefinitionError, SourceUnreachableError
from desktop.resources import resource_path
from desktop.ui import messages
from desktop.ui.backend import Backend
from desktop.ui.chart_coordinator import ChartCoordinator
from desktop.ui.detail_pane import CriterionInfo, DetailPane
from desktop.ui.dialogs.sec_contact_dialog import edit_sec_contact
from desktop.ui.loader import Loaded, Opened, StoreLoader, store_name
from desktop.ui.results_model import FAIL, PASS, UNKNOWN, ColumnSpec, FormattedTable, ResultsTableModel
from desktop.ui.results_view import ResultsView
from desktop.ui.screen_builder import CriterionRow, ScreenBuilderWidget
from desktop.ui.screen_document import EMPTY_SCREEN, ScreenDocument, ScreenSource
from desktop.ui.settings import Settings
from desktop.ui.snapshot_list import SnapshotList
from desktop.ui.tasks import TaskController
from desktop.ui.watchlist import WatchlistController
from desktop.ui.what_changed import WhatChangedController
from desktop.ui.widgets import Banner, EmptyState, LoadingState
from desktop.ui.workers import TaskSlot, write_pool

log = logging.getLogger(__name__)

__all__ = ["EMPTY_SCREEN", "MainWindow", "ScreenSource", "evaluable_document"]

DEFAULT_COLUMNS = ("rank", "symbol", "name")
TRAILING_COLUMNS = ("sector",)
# Text editing keeps these even where a window action shares a key (none does today).
_EDITING_KEYS = (QKeySequence.StandardKey.Copy, QKeySequence.StandardKey.Cut, QKeySequence.StandardKey.Paste,
                 QKeySequence.StandardKey.Undo, QKeySequence.StandardKey.Redo, QKeySequence.StandardKey.SelectAll)


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


class _ShortcutsWin(QObject):
    """Lets the window's menu shortcuts win over a focused text field's own bindings.

    A QLineEdit claims Ctrl+E (end of line), Ctrl+H, Ctrl+Del and others through a ShortcutOverride
    event, so the menu action never fires while a bound field has focus. Refusing the override for
    the window's own shortcuts makes every menu shortcut work wherever the focus is (issue #17).
    """

    def __init__(self, window: QMainWindow) -> None:
        super().__init__(window)
        self._window = window

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        if event.type() != QEvent.Type.ShortcutOverride or not isinstance(event, QKeyEvent):
            return False
        if not isinstance(watched, QWidget) or watched.window() is not self._window:
            return False
        pressed = QKeySequence(event.keyCombination())
        if any(pressed.matches(QKeySequence(k)) == QKeySequence.SequenceMatch.ExactMatch for k in _EDITING_KEYS):
            return False
        for action in self._window.actions():
            if action.isEnabled() and any(s.matches(pressed) == QKeySequence.SequenceMatch.ExactMatch
                                          for s in action.shortcuts()):
                return True  # not overridden: the shortcut (the action) handles the key
        return False


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
        # Without a backend the store is opened on a worker after the window's first paint (issue
        # #17: SQLAlchemy, the models and the migration check cost ~0.2 s the loading page need not
        # wait for); ``backend`` stays None until then, and every use of it checks.
        self.backend: Backend | None = backend
        self._db_url = db_url
        self._db_error: BaseException | None = None
        self._opened_before_data = False
        self._requested_screen = screen
        self._requested_select = select
        self._is_ready = False
        self.bundle: Any = None  # TableBundle of the shown snapshot
        self.ftable: FormattedTable | None = None  # of the table the open screen ran on (with its formulas)
        self._ftable_of: Any = None
        self.result: Any = None
        self.parsed_screen: Any = None
        self.backtest_dialog: Any = None  # the last Backtest dialog opened (non-modal)
        self._choices: dict[str, list[str]] = {}
        self._from_histogram = False
        self._show_failing = False
        self._new_document = False  # the next result is of a newly opened screen: start at the top
        self.last_screen_ms = 0.0
        self._leaf_ids: list[str | None] = []  # engine criterion id per builder leaf (None: skipped)

        self.loader = StoreLoader(db_url, self)
        self.loader.opened.connect(self._store_opened)
        self.loader.open_failed.connect(self._store_failed)
        self.loader.loaded.connect(self._snapshot_loaded)
        self.loader.load_failed.connect(self._load_failed)
        self.write_slot = TaskSlot("write", pool=write_pool(), parent=self)
        self.tasks = TaskController(self, self.backend, self.settings)
        self.tasks.refreshed.connect(self._refresh_done)
        self.tasks.refresh_failed.connect(self._refresh_failed)
        self.tasks.imported.connect(self._imported)
        self.tasks.exported.connect(self.exported)
        self.tasks.status.connect(self._status)
        self.watchlist = WatchlistController(
            self, self.backend, self.write_slot,
            stock_names=lambda: self.bundle.table.values.get("name") if self.bundle is not None else None)
        self.watchlist.pins_changed.connect(lambda: self._selection_changed(self.view.selected_symbols()))
        self.watchlist.symbol_activated.connect(self.select_symbol)
        self.watchlist.status.connect(self._status)
        self.changes = WhatChangedController(self, self.backend, self.write_slot)

        self._build_ui()
        self.snapshots = SnapshotList(self, self.backend, self.snapshot_combo, self.info_banner,
                                      is_ready=lambda: self._is_ready)
        self.snapshots.show_requested.connect(self._show_snapshot)
        self.snapshots.emptied.connect(self._show_empty)
        self.document = ScreenDocument(self, self.builder, self.settings, self.backend, self.write_slot,
                                       can_lose_edits=lambda: self._is_ready and self.bundle is not None)
        self.document.opened.connect(self._document_opened)
        self.document.changed.connect(self._update_title)
        self.document.saved.connect(self.saved)
        self.document.status.connect(self._status)
        self._build_actions()
        self.builder.set_document(dict(EMPTY_SCREEN))
        if restore_state:
            self._restore_settings()
        QTimer.singleShot(0, self._start)

    # -- compatibility with the parts' own names (tests and scripts use these) -------------------
    @property
    def source(self) -> ScreenSource:
        return self.document.source

    @property
    def refresh_slot(self) -> TaskSlot:
        return self.tasks.refresh_slot

    @property
    def progress_dialogs(self) -> dict[str, Any]:
        return self.tasks.progress_dialogs

    @property
    def import_dialog(self) -> Any:
        return self.tasks.import_dialog

    @property
    def watchlist_dialog(self) -> Any:
        return self.watchlist.dialog

    @property
    def changes_dialog(self) -> Any:
        return self.changes.dialog

    @property
    def histogram(self) -> Any:
        return self.charts.histogram

    @property
    def scatter(self) -> Any:
        return self.charts.scatter

    @property
    def chart_tabs(self) -> Any:
        return self.charts.tabs

    def is_dirty(self) -> bool:
        return self.document.is_dirty()

    def set_screen_document(self, doc: dict[str, Any], source: ScreenSource, *, baseline: bool = True) -> None:
        self.document.set_document(doc, source, baseline=baseline)

    def open_screen(self, name_or_file: str, quiet: bool = False, ask: bool = True) -> bool:
        return self.document.open(name_or_file, quiet, ask)

    def save(self) -> None:
        self.document.save()

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

        self.loading_state = LoadingState(self.stack)  # the first page: see load_snapshot
        self.stack.addWidget(self.loading_state)
        self.empty_state = EmptyState(self.stack)
        self.empty_state.download.clicked.connect(self.tasks.download_universe)
        self.empty_state.import_button.clicked.connect(self.tasks.import_files)
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
        self.charts = ChartCoordinator(self.charts_split, self)
        self.charts.point_clicked.connect(self.select_symbol)
        self.charts.bounds_dragged.connect(self._histogram_bounds)
        self.charts.histogram_needed.connect(self._update_histogram)
        self.charts.fields_changed.connect(lambda x, y: setattr(self.settings, "scatter_fields", (x, y)))
        self.charts.color_by_changed.connect(lambda c: setattr(self.settings, "color_by", c))

        self.detail = DetailPane(self.main_split)
        self.detail.setMinimumWidth(260)
        for split, sizes in ((self.main_split, [360, 880, 380]), (self.centre_split, [560, 360]),
                             (self.charts_split, [600, 440])):
            split.setChildrenCollapsible(False)
            split.setSizes(sizes)
        wl.addWidget(self.main_split)
        self.stack.addWidget(self.workspace)

        self.snapshot_combo = QComboBox(self)
        self.snapshot_combo.setToolTip(self.tr("Snapshot (as-of date) the screen runs on"))
        self.snapshot_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.status_label = QLabel(self)
        self.statusBar().addPermanentWidget(self.status_label)

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
        doc, tasks = self.document, self.tasks
        self.act_import = a(self.tr("&Import files…"), tasks.import_files, "Ctrl+I",
                            self.tr("Import iShares, Yahoo JSON, Finviz, SimFin, FRED or price files"))
        self.act_export = a(self.tr("&Export to Excel…"), self.export, "Ctrl+E",
                            self.tr("Export the shortlist to an Excel workbook or CSV"))
        self.act_quit = a(self.tr("&Quit"), self.close, std.Quit)
        self.act_new = a(self.tr("&New screen"), doc.new, std.New)
        self.act_open = a(self.tr("&Open screen file…"), doc.open_file, std.Open)
        self.act_save = a(self.tr("&Save"), doc.save, std.Save, self.tr("Save the screen (keeps every version)"))
        self.act_save_as = a(self.tr("Save &as…"), doc.save_as, "Ctrl+Shift+S")
        self.act_revert = a(self.tr("&Revert"), doc.revert, "Ctrl+Shift+R",
                            self.tr("Discard unsaved edits to this screen"))
        self.act_history = a(self.tr("Version &history…"), doc.show_history, "Ctrl+H")
        self.act_add = a(self.tr("&Add criterion"), lambda: self.builder.add_criterion(), "Ctrl+Shift+A")
        self.act_remove = a(self.tr("&Remove criterion"), self.builder.remove_current, "Ctrl+Del")
        self.act_find = a(self.tr("&Find field…"), self.builder.focus_field_search, std.Find,
                          self.tr("Search the field catalogue in the current criterion"))
        self.act_refresh = a(self.tr("&Refresh"), tasks.refresh, std.Refresh,
                             self.tr("Fetch fresh data from SEC EDGAR and Yahoo Finance in the background"))
        self.act_sec_contact = a(self.tr("SEC EDGAR &contact…"), lambda: edit_sec_contact(self, self.settings))
        self.act_cancel = a(self.tr("&Cancel refresh"), tasks.cancel_refresh, "Ctrl+.")
        self.act_changes = a(self.tr("What &changed since the last run…"), self.what_changed, "Ctrl+D")
        self.act_pin = a(self.tr("&Pin to watchlist"), lambda: self.watchlist.toggle(self.view.selected_symbols()),
                         "Ctrl+B",
                         self.tr("Pin or unpin the selected stocks"))
        self.act_watchlist = a(self.tr("&Watchlist…"), self.watchlist.show, "Ctrl+Shift+W",
                               self.tr("The pinned stocks with your notes"))
        self.act_focus_builder = a(self.tr("Focus screen &builder"), lambda: self.builder.setFocus(), "Ctrl+1")
        self.act_focus_table = a(self.tr("Focus &table"), lambda: self.view.setFocus(), "Ctrl+2")
        self.act_focus_charts = a(self.tr("Focus c&harts"), self.charts.focus, "Ctrl+3")
        self.act_focus_detail = a(self.tr("Focus &detail"), lambda: self.detail.browser.setFocus(), "Ctrl+4")
        self.act_failing = a(self.tr("Show stocks that &fail"), self.show_failing.toggle, "Ctrl+Shift+F",
                             checkable=True)
        self.show_failing.toggled.connect(self.act_failing.setChecked)
        self.act_logs = a(self.tr("Open &log folder"), self._open_logs)
        self.act_about = a(self.tr("&About Pickaxe"), self._about)
        self.act_backtest = a(self.tr("&Backtest…"), self.open_backtest, "Ctrl+Shift+B",
                              self.tr("Would this screen have worked? Point in time, against IWM"))

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
        screen_menu.addAction(self.act_backtest)
        screen_menu.insertMenu(self.act_save, self.saved_menu)
        data_menu = menu.addMenu(self.tr("&Data"))
        for act in (self.act_refresh, self.act_cancel, self.act_import, self.act_sec_contact, None, self.act_changes,
                    self.act_pin, self.act_watchlist):
            data_menu.addSeparator() if act is None else data_menu.addAction(act)
        self.data_menu = data_menu
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
        self.tasks.refresh_slot.busy_changed.connect(self._refresh_busy)
        self._refresh_busy(False)

    def _fill_presets_menu(self) -> None:
        self.presets_menu.clear()
        presets = self.document.presets()
        if not presets:
            self.presets_menu.addAction(self.tr("(no presets found)")).setEnabled(False)
        for name, doc in presets.items():
            action = self.presets_menu.addAction(name)
            action.setToolTip(str(doc.get("description", "")))
            action.triggered.connect(lambda _c=False, n=name: self.document.open(n))

    def _fill_saved_menu(self) -> None:
        self.saved_menu.clear()
        names = self.document.saved_names()
        if not names:
            self.saved_menu.addAction(self.tr("(no saved screens yet)")).setEnabled(False)
        for name in names:
            action = self.saved_menu.addAction(name)
            action.triggered.connect(lambda _c=False, n=name: self.document.open(n))
        self.saved_menu.addSeparator()
        self.saved_menu.addAction(self.act_open)

    def _status(self, text: str, timeout: int = 0) -> None:
        if text:
            self.statusBar().showMessage(text, timeout)
        else:
            self.statusBar().clearMessage()

    # ====================================================================== start-up and loading
    def _start(self) -> None:
        if self.backend is not None:  # given (tests, scripts): already open
            self._reload_snapshots(select_latest=True)
            self._check_recovery()
            self.snapshots.start_polling()
            return
        self._set_enabled_for_data(False)
        for act in (self.act_refresh, self.act_import):  # nothing to refresh or import into yet
            act.setEnabled(False)
        self.loading_state.opening(store_name(self._db_url))
        self.stack.setCurrentWidget(self.loading_state)
        self.statusBar().showMessage(self.tr("Opening the store…"))
        self.loader.open_after_paint(self.loading_state, self.isVisible())  # the newest then loads as usual

    def _store_failed(self, exc: BaseException) -> None:
        """The store could not be opened (locked, damaged, too new, a failed migration): say so."""
        self.statusBar().clearMessage()
        self._db_error = exc
        self.stack.setCurrentWidget(self.empty_state)
        for button in (self.empty_state.download, self.empty_state.import_button):  # no store to fill
            button.setEnabled(False)
        if isinstance(exc, PickaxeError):
            text = self.tr("The database cannot be opened: %s") % exc
            if "--db" not in text:  # the store's own message may already say what to do
                text += " " + self.tr("Start Pickaxe with --db pointing at another file.")
            self.info_banner.show_message(text)
        else:  # a bug: logged, and the dialog pointing at the log folder
            self.info_banner.show_message(self.tr("The database cannot be opened because of an unexpected error."))
            messages.show_error(self, exc, self.tr("Opening the store"))
        self._mark_ready()

    def _store_opened(self, opened: Opened) -> None:
        self.statusBar().clearMessage()
        self.backend = opened.backend
        self.tasks.backend = opened.backend
        self.document.backend = opened.backend
        self.watchlist.backend = opened.backend
        self.changes.backend = opened.backend
        self.snapshots.backend = opened.backend
        self.act_import.setEnabled(True)
        self._refresh_busy(self.tasks.refresh_slot.is_busy())
        self._reload_snapshots(select_latest=True, infos=opened.infos)
        if self.loader.is_busy():
            # While the worker reads the snapshot, build the screen it will run (its criterion rows
            # are a good part of the start-up's GUI work, issue #17); it is screened once the table
            # is here. The loading page stays up meanwhile.
            self.document.open_initial(self._requested_screen)
            self._requested_screen = None
            self._opened_before_data = True
        self._check_recovery()
        self.snapshots.start_polling()

    def _reload_snapshots(self, select_latest: bool = False, select_id: int | None = None,
                          infos: list[Any] | None = None) -> None:
        """List the snapshots (``infos`` when just read) and show the chosen one."""
        self.snapshots.reload(select_latest=select_latest, select_id=select_id, infos=infos)

    def check_new_snapshots(self) -> list[int]:
        """Offer snapshots made outside this window; returns their ids (see :class:`SnapshotList`)."""
        return self.snapshots.check_new()

    def _show_snapshot(self, snapshot_id: int) -> None:
        self.stack.setCurrentWidget(self.workspace)
        self._set_enabled_for_data(True)
        self.load_snapshot(snapshot_id)

    def _show_empty(self) -> None:
        self.stack.setCurrentWidget(self.empty_state)
        self._set_enabled_for_data(False)
        self._mark_ready()

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 - Qt override
        super().changeEvent(event)
        if event.type() == QEvent.Type.ActivationChange and self.isActiveWindow():
            self.snapshots.window_activated()

    def _set_enabled_for_data(self, on: bool) -> None:
        for act in (self.act_export, self.act_changes, self.act_pin, self.act_add, self.act_remove,
                    self.act_find, self.act_save, self.act_save_as):
            act.setEnabled(on)
        self._update_title()

    def load_snapshot(self, snapshot_id: int | None) -> None:
        """Load (in the background) and show a snapshot; the open screen is re-run on it."""
        assert self.backend is not None
        self.statusBar().showMessage(self.tr("Loading snapshot…"))
        if self.bundle is None:  # nothing shown yet: say what is coming, not an empty table (issue #17)
            shown = " ".join(self.snapshot_combo.currentText().split())
            self.loading_state.loading(self.tr("the snapshot of %s") % shown)
            self.stack.setCurrentWidget(self.loading_state)
        self.loader.load(self.backend, snapshot_id)

    def _load_failed(self, exc: BaseException) -> None:
        self.statusBar().clearMessage()
        if self.bundle is None:
            self.loading_state.failed(str(getattr(exc, "message", exc)))
        messages.show_error(self, exc, self.tr("Loading the snapshot"))
        self._mark_ready()

    def _snapshot_loaded(self, loaded: Loaded) -> None:
        t0 = time.perf_counter()
        bundle = loaded.bundle
        self.bundle = bundle
        self.stack.setCurrentWidget(self.workspace)
        table = bundle.table
        self.ftable = FormattedTable(table.values, table.status, getattr(table, "notes", {}),
                                     getattr(table, "period_end", None))
        self._ftable_of = table
        self._choices = {}
        self.builder.set_choice_provider(self._choices_for)
        self.builder.set_coverage(loaded.coverage)
        self.watchlist.reset(loaded.pinned)
        info = bundle.info
        self.status_label.setText(self.tr("Snapshot #%d as of %s · %s") % (
            info.id, info.as_of.isoformat(), counted(len(table.values), self.tr("stock"))))
        self.statusBar().clearMessage()
        try:
            self.charts.set_market(bundle.data.market())
            if self._opened_before_data:  # the screen opened while this table was read
                self._opened_before_data = False
                self._document_opened()  # screened now, its first criterion in the histogram
            elif self.parsed_screen is None and not self.builder.document().get("criteria"):
                self.document.open_initial(self._requested_screen)
                self._requested_screen = None
            else:
                self.rescreen()
            log.info("snapshot %s shown in %.0f ms", info.id, (time.perf_counter() - t0) * 1000)
            if self._requested_select:
                self.select_symbol(self._requested_select)
                self._requested_select = None
        finally:
            self._mark_ready()

    def _mark_ready(self) -> None:
        if not self._is_ready:
            # Installed once there is something to type into: an application-wide filter sees every
            # event, thousands of them while the window starts (issue #17).
            QApplication.instance().installEventFilter(_ShortcutsWin(self))  # type: ignore[union-attr]
            self._is_ready = True
            self.ready.emit()

    def is_ready(self) -> bool:
        return self._is_ready

    # ====================================================================== the open screen
    def _document_opened(self) -> None:
        """A new document is in the builder: re-screen from the top, draw its first criterion."""
        self._update_title()
        self._new_document = True
        self.rescreen()
        # Show the first numeric criterion in the histogram so the chart pane is never idle
        # (and never left on the previous screen's field: None clears it).
        first = next((row for row in self.builder.leaves() if row.kind == "numeric"), None)
        if first is not None:
            first.activated.emit(first)
        else:
            self._current_criterion_changed(None)

    def _update_title(self) -> bool:
        dirty = self.document.is_dirty()
        self.setWindowTitle(self.document.title(APP_NAME))
        self.setWindowModified(dirty)
        kind = self.document.source.kind
        self.act_revert.setEnabled(dirty and kind != "new" and self.bundle is not None)
        self.act_history.setEnabled(kind == "saved")
        return dirty

    # ====================================================================== screening
    def rescreen(self) -> None:
        """Parse the builder's document, evaluate it on the loaded table, update every view."""
        self._update_title()
        self.document.edited()
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
        self.builder.show_problem(
            (self.tr("1 criterion without a condition is ignored until you set one.") if skipped == 1 else
             self.tr("%d criteria without a condition are ignored until you set one.") % skipped)
            if skipped else "")
        table = self.bundle.table
        # Near misses are only exported (run_screen computes them); skipping them here saves
        # most of evaluate's time on every keystroke.
        result = evaluate(screen, table, near_misses=False)
        self.parsed_screen, self.result = screen, result
        self._format(result.table or table)
        self._apply_result()
        self.last_screen_ms = (time.perf_counter() - t0) * 1000
        log.debug("re-screen in %.1f ms", self.last_screen_ms)
        self.screened.emit()

    def _format(self, table: Any) -> None:
        """The formatted table of ``table`` (the snapshot's, or it plus the screen's formula fields:
        formatted once per set of formulas, issue #16)."""
        if table is not self._ftable_of:
            self.ftable = FormattedTable(table.values, table.status, getattr(table, "notes", {}),
                                         getattr(table, "period_end", None))
            self._ftable_of = table

    def _screened_table(self) -> Any:
        """The table the open screen ran on: the snapshot's plus the screen's formula fields."""
        table = getattr(self.result, "table", None) if self.result is not None else None
        return table if table is not None else self.bundle.table

    def _apply_result(self) -> None:
        assert self.ftable is not None and self.result is not None
        result, ftable, table = self.result, self.ftable, self._screened_table()
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
        columns = [ColumnSpec.for_field(c, table.field) for c in self._column_names(extra)]
        selected = self.view.selected_symbols()
        new_document, self._new_document = self._new_document, False
        self.model.set_rows(ftable, positions, columns, cell_states, extra)
        if selected:
            self.view.select_symbols(selected, scroll=False)
        if new_document:
            # A new screen's result starts at the top (not at the old scroll position); the
            # selection is kept when the stock is still listed.
            self.view.scrollToTop()
            self.view.horizontalScrollBar().setValue(0)
        self.results_title.setText(self.tr("Shortlist · %s") % counted(len(ranked), self.tr("stock")))
        self.charts.screened(table.values, ranked, self.settings.scatter_fields, self.settings.color_by,
                             self.view.selected_symbols(), histogram_current=self._from_histogram,
                             fields=getattr(table, "extra_fields", {}))

    def _column_names(self, extra: dict[str, np.ndarray]) -> list[str]:
        doc_columns = list(getattr(self.parsed_screen, "columns", ()) or ())
        names: list[str] = [c for c in DEFAULT_COLUMNS if c in extra or c in ("symbol", "name")]
        if "score" in extra:
            names.append("score")
        criteria_fields = [row.field_name for row in self.builder.leaves()]
        formulas = [f.name for f in getattr(self.parsed_screen, "formulas", ())]  # shown by default (issue #16)
        columns = self._screened_table().values.columns
        for name in doc_columns + criteria_fields + formulas + self.settings.visible_columns + list(TRAILING_COLUMNS):
            if name not in names and name in columns:
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
    def _update_histogram(self) -> None:
        row = self.builder.current_row()
        if self.ftable is None:
            return
        if row is None or row.kind != "numeric" or not self.ftable.has(row.field_name):
            self.charts.show_criterion(None, None, (None, None))
            return
        self.charts.show_criterion(row.field_name, self.ftable.raw(row.field_name), row.bounds())

    def _current_criterion_changed(self, row: object) -> None:
        if not self.charts.available or self.ftable is None:
            return
        if isinstance(row, CriterionRow) and row.kind == "numeric" and self.ftable.has(row.field_name):
            self.charts.show_criterion(row.field_name, self.ftable.raw(row.field_name), row.bounds(),
                                       bring_forward=True)
        else:  # no numeric criterion is current (removed, or the new screen has none)
            self.charts.show_criterion(None, None, (None, None))

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
        self.charts.highlight(symbols)
        if not symbols or self.bundle is None:
            self.detail.clear()
            return
        symbol = symbols[0]
        leaves = self.builder.leaves()
        criteria = [CriterionInfo(cid, row.field_name, row.to_dict())
                    for cid, row in zip(self._leaf_ids, leaves, strict=False) if cid is not None]
        states = self.result.states if self.result is not None else None
        pinned = self.watchlist.is_pinned(symbol)
        self.detail.show_stock(symbol, self._screened_table(), states, criteria, pinned=pinned)
        self.act_pin.setText(self.tr("Un&pin from watchlist") if pinned
                             else self.tr("&Pin to watchlist"))
        self.charts.show_prices(symbol, self.bundle.data)

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

    # ====================================================================== long work
    def export(self, path: Path | None = None) -> None:
        """Export the current screen's result (asks for the file unless ``path`` is given)."""
        if self.parsed_screen is None or self.bundle is None:
            return
        self.tasks.export(self.parsed_screen, int(self.bundle.info.id), self.bundle.info.as_of.isoformat(),
                          path if isinstance(path, Path) else None)

    def _refresh_busy(self, busy: bool) -> None:
        self.act_refresh.setEnabled(not busy)
        self.act_cancel.setEnabled(busy)
        self.empty_state.download.setEnabled(not busy)

    def _refresh_done(self, report: Any) -> None:
        self.offline_banner.hide()
        failures = len(getattr(report, "failures", []) or [])
        if failures:
            self.info_banner.show_message(
                self.tr("Refresh finished; 1 item could not be fetched and keeps its previous value.") if failures == 1
                else self.tr("Refresh finished; %s items could not be fetched and keep their previous values.")
                % f"{failures:,}")
        snapshot_id = getattr(report, "snapshot_id", None)
        self._reload_snapshots(select_latest=snapshot_id is None, select_id=snapshot_id)

    def _refresh_failed(self, exc: BaseException) -> None:
        if isinstance(exc, SourceUnreachableError):
            self.show_offline(str(exc))
            return
        messages.show_error(self, exc, self.tr("Refresh"))

    def show_offline(self, detail: str = "") -> None:
        """The non-modal banner saying a source is unreachable; work continues on what is shown."""
        text = self.tr("A data source is unreachable")
        if detail:
            text += f" ({detail})"
        if self.bundle is not None:
            text += self.tr(", so Pickaxe keeps working on snapshot #%d as of %s.") % (
                self.bundle.info.id, self.bundle.info.as_of.isoformat())
        else:
            text += self.tr(". There is no snapshot yet: import files (File ▸ Import files…) to work offline.")
        self.offline_banner.show_message(text, ((self.tr("Try again"), self.tasks.refresh),))

    def _imported(self, report: Any) -> None:
        summary_fn = getattr(report, "summary_text", None)
        summary = summary_fn() if callable(summary_fn) else ""
        if summary:
            self.info_banner.show_message(
                summary.splitlines()[0], ((self.tr("Details…"), lambda: self._show_text(self.tr("Import"), summary)),))
        self.imported.emit()
        snapshot_id = getattr(report, "snapshot_id", None)
        self._reload_snapshots(select_latest=snapshot_id is None, select_id=snapshot_id)

    def _show_text(self, title: str, text: str) -> None:
        box = QMessageBox(QMessageBox.Icon.Information, title, text.splitlines()[0], parent=self)
        box.setDetailedText(text)
        box.setWindowModality(Qt.WindowModality.NonModal)
        box.open()

    def open_backtest(self) -> None:
        """The Backtest dialog for the current screen (issue #15)."""
        from desktop.ui.dialogs.backtest_dialog import BacktestDialog

        if self.backend is not None and self.parsed_screen is not None:
            bundle = self.bundle
            self.backtest_dialog = BacktestDialog.for_backend(
                self.backend, self.parsed_screen, int(bundle.info.id) if bundle else None,
                bundle.data.price_dates() if bundle else None, self)  # the dates only, not every close
            self.backtest_dialog.show()

    # ====================================================================== what changed
    def what_changed(self) -> None:
        """This screen's shortlist now against its last recorded run, then record this run."""
        if self.bundle is not None and self.parsed_screen is not None and self.result is not None:
            self.changes.compare(self.parsed_screen, self.bundle, self.result.ranked)

    # ====================================================================== recovery and settings
    def _check_recovery(self) -> None:
        pending = self.document.pending_recovery()
        if pending is None:
            return
        doc, restore, discard = pending

        def restore_it() -> None:
            self.info_banner.hide()
            restore()

        def discard_it() -> None:
            self.info_banner.hide()
            discard()

        self.info_banner.show_message(
            self.tr("Unsaved edits to the screen “%s” were kept from the last session.") % (doc.get("name") or "?"),
            ((self.tr("Restore"), restore_it), (self.tr("Discard"), discard_it)))

    def _restore_settings(self) -> None:
        s = self.settings
        first = self._first_size()
        if s.geometry.isEmpty() or not self.restoreGeometry(s.geometry) \
                or self.width() < min(900, first[0]) or self.height() < min(600, first[1]):
            self.resize(*first)  # never reopen as a sliver (a geometry saved on another screen)
        if not s.window_state.isEmpty():
            self.restoreState(s.window_state)
        for split in (self.main_split, self.centre_split, self.charts_split):
            state = s.splitter_state(split.objectName())
            if not state.isEmpty():
                split.restoreState(state)

    @staticmethod
    def _first_size() -> tuple[int, int]:
        """The first window: 1500×940, or most of a smaller screen (never a sliver of a big one)."""
        screen = QGuiApplication.primaryScreen()
        if screen is None:
            return 1500, 940
        area = screen.availableGeometry()
        return min(1500, int(area.width() * 0.94)), min(940, int(area.height() * 0.94))

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
                self.document.clear_recovery()
        self.shutdown()
        event.accept()

    def shutdown(self) -> None:
        """Save UI state, cancel background work and wait a little for it to stop."""
        from desktop.ui import workers

        self.snapshots.stop_polling()
        self.save_settings()
        self.loader.cancel()
        for slot in (self.changes.slot, *self.tasks.slots()):
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

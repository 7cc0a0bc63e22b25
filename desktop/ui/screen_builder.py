"""The screen builder: a screen's criteria as editable rows (issue #6, left pane).

The builder edits the screen as its JSON document (docs/screen-format.md, the engine's
``screen_to_dict`` output) and never evaluates anything itself: every valid edit emits
``screen_changed`` and the window re-screens. Rows are a tree: :class:`GroupWidget` (all / any /
not) holding :class:`CriterionRow` leaves and nested groups. Leaves are numbered ``c1, c2, ...`` in
document order, as the engine numbers them, so funnel counts land on the right row.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QConcatenateTablesProxyModel, QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import (
    QAction,
    QActionGroup,
    QColor,
    QFocusEvent,
    QPainter,
    QStandardItem,
    QStandardItemModel,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QComboBox,
    QCompleter,
    QDoubleSpinBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListView,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from desktop.engine import catalog
from desktop.engine.coverage import FieldCoverage
from desktop.engine.field import Field
from desktop.engine.formatting import counted, parse_quantity
from desktop.engine.screen import SCREEN_VERSION, formula_field
from desktop.errors import ScreenDefinitionError

ChoiceProvider = Callable[[str], list[str]]
CoverageProvider = Callable[[str], FieldCoverage | None]  # how many members have a value (issue #12)


FieldLookup = Callable[[str], Field | None]  # a catalogue field or one of the screen's formulas (issue #16)


@dataclass(frozen=True)
class SnapshotFacts:
    """What the editors learn from the current snapshot (values to pick from, field coverage) and
    from the screen (its formula fields)."""

    choices: ChoiceProvider
    coverage: CoverageProvider
    lookup: FieldLookup = lambda name: _field_or_none(name)

_SET_FIELDS_UNITS = ("category", "tags", "text")
_MANAGED_KEYS = {"field", "min", "max", "percentile_min", "within", "any_of", "none_of", "is", "missing",
                 "stale", "suspect"}
_DEFAULT_POLICY = "unknown"  # the engine's default when a criterion names no policy


def quantity_text(value: float | None, unit: str) -> str:
    """Editable text for a bound that ``parse_quantity`` reads back to the same value."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if unit == "fraction":
        return f"{value * 100:.6g}%"
    magnitude = abs(value)
    if unit in ("usd", "shares", "count") and magnitude >= 1e3:
        for suffix, scale in (("T", 1e12), ("B", 1e9), ("M", 1e6), ("K", 1e3)):
            if magnitude >= scale:
                return f"{value / scale:.6g}{suffix}"
    return f"{value:.6g}"


def _shrinkable(combo: QComboBox) -> QComboBox:
    """A combo box that may shrink (eliding its text) in a narrow pane rather than clip the row."""
    combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
    combo.setMinimumContentsLength(6)
    return combo


def _line_edit(combo: QComboBox) -> QLineEdit:
    edit = combo.lineEdit()
    assert edit is not None, "the combo box is editable"
    return edit


def _field_or_none(name: str) -> catalog.Field | None:
    try:
        return catalog.get(name)
    except KeyError:
        return None


def _field_kind(field: catalog.Field | None) -> str:
    if field is None:
        return "numeric"
    if field.unit == "bool":
        return "bool"
    if field.unit in _SET_FIELDS_UNITS:
        return "set"
    return "numeric"


def field_tooltip(field: catalog.Field) -> str:
    """Label, unit and definition of a field, as rich text for tooltips."""
    parts = [f"<b>{field.label}</b> <span style='color:#777'>({field.name}, {field.unit})</span>",
             field.definition]
    if field.formula:
        parts.append(f"<i>= {field.formula}</i>")
    if field.caveats:
        parts.append(f"<span style='color:#8a5a00'>{field.caveats}</span>")
    return "<br>".join(parts)


class _CoverageDelegate(QStyledItemDelegate):
    """Draws each field's coverage in the snapshot ("898 of 1,914") right-aligned and muted."""

    def __init__(self, coverage: CoverageProvider, parent: QObject) -> None:
        super().__init__(parent)
        self._coverage = coverage

    def _of(self, index: Any) -> FieldCoverage | None:
        return self._coverage(str(index.data(Qt.ItemDataRole.UserRole) or ""))

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: Any) -> None:
        super().paint(painter, option, index)
        cov = self._of(index)
        if cov is not None:
            painter.save()
            if option.state & QStyle.StateFlag.State_Selected:  # type: ignore[attr-defined]
                painter.setPen(option.palette.highlightedText().color())  # type: ignore[attr-defined]
            else:  # muted; an empty field in a warning colour
                painter.setPen(QColor("#b04a2a") if cov.with_value == 0 else QColor("#7a7a7a"))
            painter.drawText(option.rect.adjusted(0, 0, -6, 0),  # type: ignore[attr-defined]
                             int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter), cov.short())
            painter.restore()

    def sizeHint(self, option: QStyleOptionViewItem, index: Any) -> Any:  # noqa: N802 - Qt override
        hint = super().sizeHint(option, index)
        cov = self._of(index)
        if cov is not None:
            extra = option.fontMetrics.horizontalAdvance(cov.short()) + 18  # type: ignore[attr-defined]
            hint.setWidth(hint.width() + extra)
        return hint


_CATALOGUE_MODEL: QStandardItemModel | None = None
_LIST_WIDTHS: dict[str, int] = {}


def _catalogue_model() -> QStandardItemModel:
    """The field catalogue as one list model, built once and shared by every field picker (issue
    #17: building it per criterion row cost ~5 ms a row at start-up). Never modified."""
    global _CATALOGUE_MODEL
    if _CATALOGUE_MODEL is None:
        model = QStandardItemModel(QApplication.instance())  # lives as long as the application
        for f in sorted(catalog.all_fields(), key=lambda f: (f.group, f.label)):
            if f.name in ("symbol", "ticker", "name", "description") or f.unit == "date":
                continue
            model.appendRow(FieldPicker._item(f))
        _CATALOGUE_MODEL = model
    return _CATALOGUE_MODEL


class FieldPicker(QComboBox):
    """A combo over the field catalogue with type-to-search on label, name and group.

    With a coverage provider, every field in the list shows how many members have a value. The
    catalogue's rows are shared by every picker; each picker's own rows (the screen's formula fields,
    a field this catalogue lacks) follow them.
    """

    def __init__(self, parent: QWidget | None = None, coverage: CoverageProvider | None = None) -> None:
        super().__init__(parent)
        self._coverage: CoverageProvider = coverage or (lambda _name: None)
        self.setEditable(True)
        self.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.setMinimumContentsLength(14)
        catalogue = _catalogue_model()
        self._own = QStandardItemModel(0, 1, self)  # one column, or the concatenation shows nothing
        model = QConcatenateTablesProxyModel(self)
        model.addSourceModel(catalogue)
        model.addSourceModel(self._own)
        self._model = model
        self._extra: dict[str, Field] = {}
        self.setModel(model)
        completer = QCompleter(self)
        completer.setModel(model)
        completer.setCompletionRole(Qt.ItemDataRole.DisplayRole)
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        completer.setCompletionMode(QCompleter.CompletionMode.PopupCompletion)
        self.setCompleter(completer)
        self._delegate = _CoverageDelegate(self._coverage, self)
        self._list_width = self._wide_enough(catalogue)
        view = self.view()
        assert view is not None  # exists once the model is set
        self._dress(view)
        self._completer_dressed = False  # its popup is built when the picker first has focus
        _line_edit(self).setPlaceholderText(self.tr("Type to search fields…"))

    def _wide_enough(self, catalogue: QStandardItemModel) -> int:
        """The list is wider than a narrow row: the longest label and "1,914 of 1,914" side by side
        (measured once per font)."""
        key = self.font().key()
        if key not in _LIST_WIDTHS:
            fm = self.fontMetrics()
            width = max((fm.horizontalAdvance(catalogue.item(i).text()) for i in range(catalogue.rowCount())),
                        default=0)
            _LIST_WIDTHS[key] = width + fm.horizontalAdvance("0,000 of 0,000") + 56
        return _LIST_WIDTHS[key]

    def _dress(self, view: QAbstractItemView) -> None:
        view.setItemDelegate(self._delegate)
        view.setMinimumWidth(self._list_width)
        if isinstance(view, QListView):  # one row's height for all: not 165 size hints per picker shown
            view.setUniformItemSizes(True)

    def focusInEvent(self, event: QFocusEvent) -> None:  # noqa: N802 - Qt override
        if not self._completer_dressed:  # type-to-search needs focus: dress its popup now
            self._completer_dressed = True
            completer = self.completer()
            popup = completer.popup() if completer is not None else None
            if popup is not None:
                self._dress(popup)
        super().focusInEvent(event)

    @staticmethod
    def _item(f: Field) -> QStandardItem:
        item = QStandardItem(f.label)
        item.setData(f.name, Qt.ItemDataRole.UserRole)
        item.setData(field_tooltip(f), Qt.ItemDataRole.ToolTipRole)
        item.setData(f"{f.label} {f.name} {f.group}", Qt.ItemDataRole.UserRole + 1)
        return item

    def set_extra_fields(self, fields: list[Field]) -> None:
        """The screen's formula fields (issue #16), listed after the catalogue's."""
        if list(self._extra.values()) == fields:
            return
        current = self.field_name()
        self.blockSignals(True)
        self._own.removeRows(0, self._own.rowCount())
        self._extra = {f.name: f for f in fields}
        for f in fields:
            self._own.appendRow(self._item(f))
        if current:
            self.set_field_name(current)
        self.blockSignals(False)

    def field_name(self) -> str:
        index = self.findText(self.currentText(), Qt.MatchFlag.MatchFixedString)
        if index < 0:
            return ""
        return str(self.itemData(index, Qt.ItemDataRole.UserRole))

    def set_field_name(self, name: str) -> None:
        index = self.findData(name, Qt.ItemDataRole.UserRole)
        if index < 0:  # a field the catalogue lacks (future document): keep it visible
            item = QStandardItem(name)
            item.setData(name, Qt.ItemDataRole.UserRole)
            self._own.appendRow(item)
            index = self.count() - 1
        self.setCurrentIndex(index)
        self.refresh_tooltip()

    def refresh_tooltip(self) -> None:
        name = self.field_name()
        field = self._extra.get(name) or _field_or_none(name)
        tip = field_tooltip(field) if field else name
        cov = self._coverage(name)
        if cov is not None:
            tip += f"<br><span style='color:#555'>{cov.sentence()} in this snapshot</span>"
        self.setToolTip(tip)


class ValuesPicker(QToolButton):
    """A button showing the chosen values; clicking opens a searchable checklist."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._selected: list[str] = []
        self._choices: list[str] = []
        self.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.clicked.connect(self._open)
        self._refresh_text()

    def set_choices(self, choices: list[str]) -> None:
        self._choices = list(choices)

    def selected(self) -> list[str]:
        return list(self._selected)

    def set_selected(self, values: list[str]) -> None:
        self._selected = [str(v) for v in values]
        self._refresh_text()

    def _refresh_text(self) -> None:
        if not self._selected:
            self.setText(self.tr("choose…"))
        elif len(self._selected) <= 2:
            self.setText(", ".join(self._selected))
        else:
            self.setText(self.tr("%s, %s +%d") % (self._selected[0], self._selected[1], len(self._selected) - 2))
        self.setToolTip("\n".join(self._selected))

    def _open(self) -> None:
        popup = _ChecklistPopup(sorted(set(self._choices) | set(self._selected), key=str.casefold),
                                self._selected, self)
        popup.accepted.connect(self._accept)
        popup.move(self.mapToGlobal(self.rect().bottomLeft()))
        popup.show()
        popup.filter.setFocus()

    def _accept(self, values: list[str]) -> None:
        if values != self._selected:
            self.set_selected(values)
            self.changed.emit()


class _ChecklistPopup(QFrame):
    accepted = Signal(list)

    def __init__(self, choices: list[str], selected: list[str], parent: QWidget) -> None:
        super().__init__(parent, Qt.WindowType.Popup)
        self.setObjectName("ChecklistPopup")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        layout = QVBoxLayout(self)
        self.filter = QLineEdit(self)
        self.filter.setPlaceholderText(self.tr("Filter…"))
        self.filter.setClearButtonEnabled(True)
        self.list = QListWidget(self)
        for value in choices:
            item = QListWidgetItem(value, self.list)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked if value in selected else Qt.CheckState.Unchecked)
        self.filter.textChanged.connect(self._filter)
        self.filter.returnPressed.connect(self.close)
        layout.addWidget(self.filter)
        layout.addWidget(self.list)
        self.resize(max(parent.width(), 260), 320)

    def _filter(self, text: str) -> None:
        needle = text.casefold()
        for i in range(self.list.count()):
            item = self.list.item(i)
            item.setHidden(needle not in item.text().casefold())

    def values(self) -> list[str]:
        return [self.list.item(i).text() for i in range(self.list.count())
                if self.list.item(i).checkState() == Qt.CheckState.Checked]

    def hideEvent(self, event: Any) -> None:  # noqa: N802 - Qt override
        self.accepted.emit(self.values())
        super().hideEvent(event)


# What a criterion does with a stock whose value is not a trustworthy number (issue #12):
# key -> (menu title, tooltip, {policy: menu label}); the engine's default is "unknown".
POLICY_KEYS = ("missing", "stale", "suspect")
_POLICIES: dict[str, tuple[str, str, dict[str, str]]] = {
    "missing": ("If missing", "a stock without data for this field",
                {"unknown": "unknown (neither passes nor fails)", "fail": "fails", "pass": "passes"}),
    "stale": ("If stale", "a value whose period ended more than the stale limit before the snapshot",
              {"unknown": "unknown (neither passes nor fails)", "fail": "fails", "pass": "passes",
               "use": "judge the old number as if fresh"}),
    "suspect": ("If suspect", "a value that breaks a sanity rule (positive capex, margin above 80 %, "
                "an immaterial interest bill, …)",
                {"unknown": "unknown (neither passes nor fails)", "fail": "fails", "pass": "passes",
                 "use": "judge the number anyway"}),
}
_SHORT = {"unknown": "unknown", "fail": "fails", "pass": "passes", "use": "used"}


class PolicyButton(QToolButton):
    """One button for a criterion's missing / stale / suspect policies, each a radio group in its menu.

    Its text names only the policies that differ from the default, so a row stays one short line.
    """

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("PolicyButton")
        self.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.setAutoRaise(True)
        self._actions: dict[str, dict[str, QAction]] = {}
        self._sections: dict[str, QAction] = {}
        menu = QMenu(self)
        for key, (title, _tip, labels) in _POLICIES.items():
            self._sections[key] = menu.addSection(self.tr(title))
            group = QActionGroup(menu)
            self._actions[key] = {}
            for policy, label in labels.items():
                action = menu.addAction(self.tr(label))
                action.setCheckable(True)
                action.setData(policy)
                group.addAction(action)
                action.triggered.connect(self._picked)
                self._actions[key][policy] = action
            self._actions[key]["unknown"].setChecked(True)
        self.setMenu(menu)
        self._shown = set(POLICY_KEYS)
        self._refresh_text()

    def policy(self, key: str) -> str:
        return next(p for p, a in self._actions[key].items() if a.isChecked())

    def set_policy(self, key: str, policy: str) -> None:
        self._actions[key].get(policy, self._actions[key]["unknown"]).setChecked(True)
        self._refresh_text()

    def set_states_shown(self, shown: bool) -> None:
        """Stale and suspect apply to numbers and flags only; a set criterion shows "missing" alone."""
        self._shown = set(POLICY_KEYS) if shown else {"missing"}
        for key in ("stale", "suspect"):
            self._sections[key].setVisible(shown)
            for action in self._actions[key].values():
                action.setVisible(shown)
        self._refresh_text()

    def _picked(self) -> None:
        self._refresh_text()
        self.changed.emit()

    def _refresh_text(self) -> None:
        keys = [k for k in POLICY_KEYS if k in self._shown]
        odd = [f"{k} {_SHORT[self.policy(k)]}" for k in keys if self.policy(k) != "unknown"]
        self.setText(" · ".join(odd) if odd else self.tr("%s: unknown") % ", ".join(keys))
        self.setToolTip("\n".join(f"{_POLICIES[k][0]} ({_POLICIES[k][1]}): {_POLICIES[k][2][self.policy(k)]}"
                                   for k in keys) + "\n" + self.tr("Click to change"))


class BoundEdit(QLineEdit):
    """A bound editor reading "300M", "2B", "15%" through the engine's ``parse_quantity``."""

    value_changed = Signal()

    def __init__(self, placeholder: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setPlaceholderText(placeholder)
        self.setClearButtonEnabled(True)
        self.setMinimumWidth(64)
        self._value: float | None = None
        self.textEdited.connect(self._edited)

    def value(self) -> float | None:
        return self._value

    def set_value(self, value: float | None, unit: str) -> None:
        self._value = None if value is None or (isinstance(value, float) and math.isnan(value)) else float(value)
        self.setText(quantity_text(self._value, unit))
        self._mark(True)

    def _edited(self, text: str) -> None:
        if not text.strip():
            self._value = None
            self._mark(True)
            self.value_changed.emit()
            return
        try:
            value = float(parse_quantity(text))
        except (ValueError, TypeError, ArithmeticError) as exc:
            self._mark(False, str(exc))
            return
        if math.isnan(value):
            self._mark(False, self.tr("Not a number."))
            return
        self._value = value
        self._mark(True)
        self.value_changed.emit()

    def _mark(self, ok: bool, why: str = "") -> None:
        self.setToolTip("" if ok else self.tr("Not understood: %s (try 300M, 2B, 15%%, 1.5)") % why)
        if bool(self.property("invalid")) != (not ok):  # re-polishing a style-sheet widget is not free
            self.setProperty("invalid", not ok)
            self.style().unpolish(self)
            self.style().polish(self)


class CriterionRow(QFrame):
    """One criterion: field, condition editors, missing-data policy and its funnel count."""

    changed = Signal()
    remove_requested = Signal(object)
    activated = Signal(object)

    def __init__(self, doc: dict[str, Any], facts: SnapshotFacts, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("CriterionRow")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self._choices = facts.choices
        self._lookup = facts.lookup
        self._extra = {k: copy.deepcopy(v) for k, v in doc.items() if k not in _MANAGED_KEYS}
        self._building = False

        outer = QVBoxLayout(self)
        outer.setContentsMargins(6, 4, 6, 4)
        outer.setSpacing(3)
        top = QHBoxLayout()
        self.picker = FieldPicker(self, facts.coverage)
        self.picker.activated.connect(self._field_picked)
        _line_edit(self.picker).editingFinished.connect(self._field_typed)
        self.funnel = QLabel(self)
        self.funnel.setObjectName("FunnelLabel")
        self.funnel.setMinimumWidth(84)
        self.funnel.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.remove = QToolButton(self)
        self.remove.setText("✕")
        self.remove.setAutoRaise(True)
        self.remove.setToolTip(self.tr("Remove this criterion (Ctrl+Del)"))
        self.remove.clicked.connect(lambda: self.remove_requested.emit(self))
        top.addWidget(self.picker, 1)
        top.addWidget(self.funnel)
        top.addWidget(self.remove)
        outer.addLayout(top)

        self.editors = QWidget(self)
        self.editor_layout = QHBoxLayout(self.editors)
        self.editor_layout.setContentsMargins(0, 0, 0, 0)
        self.editor_layout.setSpacing(4)
        self.mode = QComboBox(self.editors)
        self.mode.currentIndexChanged.connect(self._mode_changed)
        self.min_edit = BoundEdit(self.tr("min"), self.editors)
        self.max_edit = BoundEdit(self.tr("max"), self.editors)
        self.within = QComboBox(self.editors)
        self.within.addItem(self.tr("in universe"), "universe")
        self.within.addItem(self.tr("in sector"), "sector")
        self.values = ValuesPicker(self.editors)
        self.policies = PolicyButton(self.editors)
        for combo in (self.mode, self.within):
            _shrinkable(combo)
        for w in (self.mode, self.min_edit, self.max_edit, self.within, self.values):
            self.editor_layout.addWidget(w)
        outer.addWidget(self.editors)
        bottom = QHBoxLayout()
        bottom.addWidget(self.policies)
        bottom.addStretch(1)
        outer.addLayout(bottom)

        self.min_edit.value_changed.connect(self._edited)
        self.max_edit.value_changed.connect(self._edited)
        self.within.currentIndexChanged.connect(self._edited)
        self.values.changed.connect(self._edited)
        self.policies.changed.connect(self._edited)
        watched: tuple[QWidget, ...] = (self.picker, self.mode, self.min_edit, self.max_edit, self.within,
                                        self.values, self.policies, _line_edit(self.picker))
        for widget in watched:
            widget.installEventFilter(self)
        self._load(doc)

    # -- document <-> editors ---------------------------------------------------------------
    @property
    def field_name(self) -> str:
        return self._field

    @property
    def kind(self) -> str:
        return _field_kind(self._lookup(self._field))

    @property
    def unit(self) -> str:
        f = self._lookup(self._field)
        return f.unit if f else "ratio"

    def _load(self, doc: dict[str, Any]) -> None:
        self._building = True
        self._field = str(doc.get("field", ""))
        self.picker.set_field_name(self._field)
        self._setup_mode()
        kind = self.kind
        if kind == "numeric":
            if "percentile_min" in doc:
                self.mode.setCurrentIndex(1)
                self.min_edit.set_value(doc.get("percentile_min"), "percentile")
                idx = self.within.findData(doc.get("within", "universe"))
                self.within.setCurrentIndex(max(idx, 0))
            else:
                self.mode.setCurrentIndex(0)
                self.min_edit.set_value(doc.get("min"), self.unit)
                self.max_edit.set_value(doc.get("max"), self.unit)
        elif kind == "set":
            self.mode.setCurrentIndex(1 if "none_of" in doc else 0)
            self.values.set_selected(list(doc.get("none_of", doc.get("any_of", []))))
        else:
            self.mode.setCurrentIndex(1 if doc.get("is") is False else 0)
        for key in POLICY_KEYS:
            self.policies.set_policy(key, str(doc.get(key, _DEFAULT_POLICY)))
        self._building = False
        self._show_editors()

    def _setup_mode(self) -> None:
        self.mode.blockSignals(True)
        self.mode.clear()
        kind = self.kind
        if kind == "numeric":
            self.mode.addItem(self.tr("between"), "range")
            self.mode.addItem(self.tr("top percentile ≥"), "percentile")
        elif kind == "set":
            self.mode.addItem(self.tr("any of"), "any_of")
            self.mode.addItem(self.tr("none of"), "none_of")
            self.values.set_choices(self._choices(self._field))
        else:
            self.mode.addItem(self.tr("is yes"), True)
            self.mode.addItem(self.tr("is no"), False)
        self.mode.blockSignals(False)

    def _show_editors(self) -> None:
        kind, mode = self.kind, self.mode.currentData()
        self.min_edit.setVisible(kind == "numeric")
        self.max_edit.setVisible(kind == "numeric" and mode == "range")
        self.within.setVisible(kind == "numeric" and mode == "percentile")
        self.values.setVisible(kind == "set")
        self.policies.set_states_shown(kind != "set")
        self.min_edit.setPlaceholderText(self.tr("min") if mode == "range" else self.tr("percentile"))
        hint = {"fraction": self.tr("e.g. 15%"), "usd": self.tr("e.g. 300M, 2B")}.get(self.unit, "")
        self.min_edit.setToolTip(hint)

    def to_dict(self) -> dict[str, Any]:
        """This criterion as a screen-format document (last valid values of invalid editors)."""
        doc: dict[str, Any] = {"field": self._field}
        kind, mode = self.kind, self.mode.currentData()
        if kind == "numeric":
            if mode == "percentile":
                doc["percentile_min"] = self.min_edit.value() if self.min_edit.value() is not None else 0.0
                doc["within"] = self.within.currentData()
            else:
                if self.min_edit.value() is not None:
                    doc["min"] = self.min_edit.value()
                if self.max_edit.value() is not None:
                    doc["max"] = self.max_edit.value()
        elif kind == "set":
            doc[str(mode)] = self.values.selected()
        else:
            doc["is"] = bool(mode)
        doc["missing"] = self.policies.policy("missing")
        if kind != "set":  # the engine judges stale / suspect states on numbers and flags only
            for key in ("stale", "suspect"):
                if self.policies.policy(key) != _DEFAULT_POLICY:
                    doc[key] = self.policies.policy(key)
        doc.update(copy.deepcopy(self._extra))
        return doc

    def bounds(self) -> tuple[float | None, float | None]:
        """The (min, max) of a range criterion; (None, None) for other kinds."""
        if self.kind == "numeric" and self.mode.currentData() == "range":
            return self.min_edit.value(), self.max_edit.value()
        return None, None

    def set_bounds(self, minimum: float | None, maximum: float | None) -> None:
        """Set a range criterion's bounds (from the histogram) and announce the change."""
        if self.kind != "numeric":
            return
        if self.mode.currentData() != "range":
            self.mode.setCurrentIndex(0)
        self.min_edit.set_value(minimum, self.unit)
        self.max_edit.set_value(maximum, self.unit)
        self._edited()

    def set_funnel(self, removed: int | None, remaining: int | None = None) -> None:
        if removed is None:
            self.funnel.setText("")
            self.funnel.setToolTip("")
            return
        self.funnel.setText(self.tr("removes %s") % f"{removed:,}")
        if remaining is not None:
            self.funnel.setToolTip(self.tr("%s left after this criterion") % counted(remaining, self.tr("stock")))
        if self.funnel.property("zero") != (removed == 0):  # re-polish only when the style changes
            self.funnel.setProperty("zero", removed == 0)
            self.funnel.style().unpolish(self.funnel)
            self.funnel.style().polish(self.funnel)

    def refresh_choices(self) -> None:
        if self.kind == "set":
            self.values.set_choices(self._choices(self._field))

    # -- events -----------------------------------------------------------------------------
    def _field_typed(self) -> None:
        name = self.picker.field_name()
        if name and name != self._field:
            self._change_field(name)

    def _field_picked(self, index: int) -> None:
        name = str(self.picker.itemData(index, Qt.ItemDataRole.UserRole) or "")
        if name and name != self._field:
            self._change_field(name)

    def _change_field(self, name: str) -> None:
        kept = {key: self.policies.policy(key) for key in POLICY_KEYS}
        self._extra = {}
        self._load({"field": name, **kept})
        self.activated.emit(self)
        self._edited()

    def _mode_changed(self) -> None:
        if self._building:
            return
        self._show_editors()
        self._edited()

    def _edited(self) -> None:
        if not self._building:
            self.changed.emit()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        if event.type() == QEvent.Type.FocusIn:
            self.activated.emit(self)
        return False

    def set_current(self, current: bool) -> None:
        self.setProperty("current", current)
        self.style().unpolish(self)
        self.style().polish(self)


class GroupWidget(QFrame):
    """A group of criteria: all / any / not, holding rows and nested groups."""

    changed = Signal()
    remove_requested = Signal(object)
    row_activated = Signal(object)

    KINDS = ("all", "any", "not")

    def __init__(self, kind: str, children: list[dict[str, Any]], facts: SnapshotFacts, *,
                 root: bool = False, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("RootGroup" if root else "CriterionGroup")
        self._facts = facts
        self._root = root
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0 if root else 8, 0 if root else 4, 0 if root else 4, 4)
        layout.setSpacing(4)
        head = QHBoxLayout()
        self.kind = QComboBox(self)
        self.kind.addItem(self.tr("Match all of these"), "all")
        self.kind.addItem(self.tr("Match any of these"), "any")
        if not root:
            self.kind.addItem(self.tr("Match none of these"), "not")
        self.kind.setCurrentIndex(max(self.kind.findData(kind), 0))
        self.kind.currentIndexChanged.connect(lambda _i: self.changed.emit())
        head.addWidget(self.kind, 1)
        if not root:
            remove = QToolButton(self)
            remove.setText("✕")
            remove.setAutoRaise(True)
            remove.setToolTip(self.tr("Remove this group"))
            remove.clicked.connect(lambda: self.remove_requested.emit(self))
            head.addWidget(remove)
        layout.addLayout(head)
        self.rows_layout = QVBoxLayout()
        self.rows_layout.setSpacing(4)
        layout.addLayout(self.rows_layout)
        buttons = QHBoxLayout()
        self.add_row_button = QPushButton(self.tr("+ Criterion"), self)
        self.add_row_button.clicked.connect(lambda: self.add_child({"field": ""}, focus=True))
        self.add_group_button = QPushButton(self.tr("+ Group"), self)
        self.add_group_button.setToolTip(self.tr("Add a nested group (any of / none of)"))
        self.add_group_button.clicked.connect(lambda: self.add_child({"any": []}))
        buttons.addWidget(self.add_row_button)
        buttons.addWidget(self.add_group_button)
        buttons.addStretch(1)
        layout.addLayout(buttons)
        if root:
            layout.addStretch(1)  # rows stay at the top however tall the pane is
        for child in children:
            self.add_child(child, announce=False)

    def children_widgets(self) -> list[QWidget]:
        out: list[QWidget] = []
        for i in range(self.rows_layout.count()):
            item = self.rows_layout.itemAt(i)
            widget = item.widget() if item is not None else None
            if widget is not None:
                out.append(widget)
        return out

    def add_child(self, doc: dict[str, Any], *, announce: bool = True, focus: bool = False) -> QWidget:
        widget: QWidget
        group_kind = next((k for k in self.KINDS if k in doc), None)
        if group_kind is not None:
            inner = doc[group_kind]
            if group_kind == "not":
                # {"not": {"any": [...]}} is "none of" its children; {"not": X} anything else
                # keeps X (a leaf or an "all" group) as the single child, so it round-trips.
                children = list(inner["any"]) if isinstance(inner, dict) and "any" in inner else [inner]
            else:
                children = list(inner)
            widget = GroupWidget(group_kind, children, self._facts, parent=self)
            widget.changed.connect(self.changed)
            widget.row_activated.connect(self.row_activated)
            widget.remove_requested.connect(self._remove)
        else:
            if not doc.get("field"):
                doc = {**doc, "field": "market_cap"}
            widget = CriterionRow(doc, self._facts, self)
            widget.changed.connect(self.changed)
            widget.activated.connect(self.row_activated)
            widget.remove_requested.connect(self._remove)
        self.rows_layout.addWidget(widget)
        if focus and isinstance(widget, CriterionRow):
            widget.picker.setFocus()
            _line_edit(widget.picker).selectAll()
            self.row_activated.emit(widget)
        if announce:
            self.changed.emit()
        return widget

    def _remove(self, widget: QWidget) -> None:
        self.rows_layout.removeWidget(widget)
        widget.hide()
        widget.deleteLater()
        self.changed.emit()

    def remove_child(self, widget: QWidget) -> None:
        self._remove(widget)

    def leaves(self) -> list[CriterionRow]:
        """Leaf rows in document order (depth first), matching the engine's c1, c2, ..."""
        out: list[CriterionRow] = []
        for child in self.children_widgets():
            if isinstance(child, CriterionRow):
                out.append(child)
            elif isinstance(child, GroupWidget):
                out.extend(child.leaves())
        return out

    def group_kind(self) -> str:
        return str(self.kind.currentData())

    def children_docs(self) -> list[dict[str, Any]]:
        docs: list[dict[str, Any]] = []
        for child in self.children_widgets():
            if isinstance(child, CriterionRow):
                docs.append(child.to_dict())
            elif isinstance(child, GroupWidget):
                doc = child.to_dict()
                if doc is not None:
                    docs.append(doc)
        return docs

    def to_dict(self) -> dict[str, Any] | None:
        """This group as a document (None when empty: an empty group means nothing)."""
        children = self.children_docs()
        if not children:
            return None
        kind = self.group_kind()
        if kind == "not":
            return {"not": children[0] if len(children) == 1 else {"any": children}}
        return {kind: children}


class FormulaRow(QFrame):
    """One formula field (issue #16): name, formula and label, checked by the engine as typed.

    An invalid formula shows the engine's message (which names the position) under the row and
    keeps the last valid definition out of the screen until it is fixed.
    """

    changed = Signal()
    remove_requested = Signal(object)

    def __init__(self, doc: dict[str, Any], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("FormulaRow")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self._others: Callable[[], list[str]] = lambda: []
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 4)
        layout.setSpacing(3)
        top = QHBoxLayout()
        self.name = QLineEdit(str(doc.get("name", "")), self)
        self.name.setPlaceholderText(self.tr("name, e.g. fcf_cover"))
        self.label = QLineEdit(str(doc.get("label", "")), self)
        self.label.setPlaceholderText(self.tr("column title (optional)"))
        self.remove = QToolButton(self)
        self.remove.setText("✕")
        self.remove.setAutoRaise(True)
        self.remove.setToolTip(self.tr("Remove this formula"))
        self.remove.clicked.connect(lambda: self.remove_requested.emit(self))
        top.addWidget(self.name, 1)
        top.addWidget(self.label, 1)
        top.addWidget(self.remove)
        layout.addLayout(top)
        self.expression = QLineEdit(str(doc.get("expression", "")), self)
        self.expression.setPlaceholderText(self.tr("formula, e.g. fcf / interest_expense"))
        self.expression.setToolTip(self.tr("Numbers, field names, + - * /, parentheses, min(a, b), max(a, b), "
                                           "abs(x), log(x). Missing, n.m., stale and suspect inputs carry their "
                                           "state into the result."))
        layout.addWidget(self.expression)
        self.error = QLabel(self)
        self.error.setObjectName("InlineError")
        self.error.setWordWrap(True)
        self.error.hide()
        layout.addWidget(self.error)
        self._unit = str(doc.get("unit", ""))
        self._valid: dict[str, Any] | None = None
        self._field: Field | None = None
        for edit in (self.name, self.label, self.expression):
            edit.textEdited.connect(self._edited)
        self.check()

    def set_others(self, others: Callable[[], list[str]]) -> None:
        """Names of the screen's other formulas (a name may not repeat)."""
        self._others = others

    def check(self) -> bool:
        """Validate with the engine; True when the row holds a usable formula."""
        try:
            parsed = formula_field(self.name.text().strip(), self.expression.text(), self.label.text().strip(),
                                   self._unit, taken=self._others())
        except ScreenDefinitionError as exc:
            self._valid, self._field = None, None
            where = (exc.field or "").rsplit(".", 1)[-1]
            self.error.setText(self.tr("%s: %s") % (where or self.tr("formula"), getattr(exc, "detail", exc.message)))
            self.error.show()
            self.expression.setProperty("invalid", where == "expression")
            self.name.setProperty("invalid", where == "name")
        else:
            self._valid = {"name": parsed.name, "expression": parsed.expression}
            if parsed.label:
                self._valid["label"] = parsed.label
            if parsed.unit:
                self._valid["unit"] = parsed.unit
            self._field = parsed.field
            self.error.hide()
            self.expression.setProperty("invalid", False)
            self.name.setProperty("invalid", False)
        for edit in (self.name, self.expression):
            edit.style().unpolish(edit)
            edit.style().polish(edit)
        return self._valid is not None

    def to_dict(self) -> dict[str, Any] | None:
        """The formula as a screen-format object, or None while it is not valid."""
        return copy.deepcopy(self._valid)

    def field(self) -> Field | None:
        return self._field

    def _edited(self) -> None:
        self.check()
        self.changed.emit()


class FormulasSection(QFrame):
    """The screen's formula fields: usable as criteria, columns, sort keys, score weights and axes."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("FormulasSection")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 8, 0, 0)
        layout.setSpacing(4)
        head = QLabel(self.tr("<b>Formulas</b>"), self)
        head.setToolTip(self.tr("Your own fields, computed from catalogue fields."))
        layout.addWidget(head)
        self.rows_layout = QVBoxLayout()
        self.rows_layout.setSpacing(4)
        layout.addLayout(self.rows_layout)
        self.add_button = QPushButton(self.tr("+ Formula"), self)
        self.add_button.clicked.connect(lambda: self.add_formula({}, focus=True))
        buttons = QHBoxLayout()
        buttons.addWidget(self.add_button)
        buttons.addStretch(1)
        layout.addLayout(buttons)

    def rows(self) -> list[FormulaRow]:
        out = []
        for i in range(self.rows_layout.count()):
            item = self.rows_layout.itemAt(i)
            widget = item.widget() if item is not None else None
            if isinstance(widget, FormulaRow):
                out.append(widget)
        return out

    def set_formulas(self, docs: list[dict[str, Any]]) -> None:
        for row in self.rows():
            self.rows_layout.removeWidget(row)
            row.deleteLater()
        for doc in docs:
            self.add_formula(doc, announce=False)

    def add_formula(self, doc: dict[str, Any], *, announce: bool = True, focus: bool = False) -> FormulaRow:
        row = FormulaRow(doc, self)

        def others() -> list[str]:
            return [o.name.text().strip() for o in self.rows() if o is not row]

        row.set_others(others)
        row.check()
        row.changed.connect(self._row_changed)
        row.remove_requested.connect(self._remove)
        self.rows_layout.addWidget(row)
        if focus:
            row.name.setFocus()
        if announce:
            self.changed.emit()
        return row

    def _remove(self, row: object) -> None:
        if isinstance(row, FormulaRow):
            self.rows_layout.removeWidget(row)
            row.hide()
            row.deleteLater()
            self._row_changed()

    def _row_changed(self) -> None:
        for row in self.rows():  # a name freed or taken by another row changes this one's verdict
            row.check()
        self.changed.emit()

    def formulas(self) -> list[dict[str, Any]]:
        """The valid formulas as screen-format objects (invalid rows are left out until fixed)."""
        return [d for d in (row.to_dict() for row in self.rows()) if d is not None]

    def fields(self) -> list[Field]:
        return [f for f in (row.field() for row in self.rows()) if f is not None]


class WeightRow(QWidget):
    """One score weight: a numeric field and its weight (negative prefers low values)."""

    changed = Signal()
    remove_requested = Signal(object)

    def __init__(self, name: str, weight: float, facts: SnapshotFacts, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.picker = FieldPicker(self, facts.coverage)
        self.picker.set_field_name(name)
        self.weight = QDoubleSpinBox(self)
        self.weight.setRange(-100.0, 100.0)
        self.weight.setSingleStep(0.5)
        self.weight.setDecimals(2)
        self.weight.setValue(weight)
        self.weight.setToolTip(self.tr("Weight of this field's percentile rank; negative prefers low values. "
                                       "0 leaves the field out."))
        remove = QToolButton(self)
        remove.setText("✕")
        remove.setAutoRaise(True)
        remove.setToolTip(self.tr("Remove this weight"))
        remove.clicked.connect(lambda: self.remove_requested.emit(self))
        layout.addWidget(self.picker, 1)
        layout.addWidget(self.weight)
        layout.addWidget(remove)
        self.picker.activated.connect(lambda _i: self.changed.emit())
        _line_edit(self.picker).editingFinished.connect(self.changed)
        self.weight.valueChanged.connect(lambda _v: self.changed.emit())

    def item(self) -> tuple[str, float] | None:
        name = self.picker.field_name()
        return (name, float(self.weight.value())) if name and self.weight.value() != 0 else None


class ScoreSection(QFrame):
    """The composite score's weights, edited in place (issue #16; before, only in the JSON)."""

    changed = Signal()

    def __init__(self, facts: SnapshotFacts, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("ScoreSection")
        self._facts = facts
        self._extra: list[Field] = []
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 8, 0, 0)
        layout.setSpacing(4)
        head = QLabel(self.tr("<b>Score</b>"), self)
        head.setToolTip(self.tr("Ranks the shortlist by a weighted mean of percentile ranks (0-100)."))
        layout.addWidget(head)
        self.rows_layout = QVBoxLayout()
        self.rows_layout.setSpacing(2)
        layout.addLayout(self.rows_layout)
        self.add_button = QPushButton(self.tr("+ Weight"), self)
        self.add_button.clicked.connect(lambda: self.add_weight("fcf_yield", 1.0))
        buttons = QHBoxLayout()
        buttons.addWidget(self.add_button)
        buttons.addStretch(1)
        layout.addLayout(buttons)

    def rows(self) -> list[WeightRow]:
        out = []
        for i in range(self.rows_layout.count()):
            item = self.rows_layout.itemAt(i)
            widget = item.widget() if item is not None else None
            if isinstance(widget, WeightRow):
                out.append(widget)
        return out

    def set_weights(self, weights: Mapping[str, float]) -> None:
        for row in self.rows():
            self.rows_layout.removeWidget(row)
            row.deleteLater()
        for name, weight in weights.items():
            self.add_weight(str(name), float(weight), announce=False)

    def add_weight(self, name: str, weight: float, *, announce: bool = True) -> WeightRow:
        row = WeightRow(name, weight, self._facts, self)
        row.picker.set_extra_fields(self._extra)
        row.changed.connect(self.changed)
        row.remove_requested.connect(self._remove)
        self.rows_layout.addWidget(row)
        if announce:
            self.changed.emit()
        return row

    def set_extra_fields(self, fields: list[Field]) -> None:
        self._extra = list(fields)
        for row in self.rows():
            row.picker.set_extra_fields(self._extra)

    def _remove(self, row: object) -> None:
        if isinstance(row, WeightRow):
            self.rows_layout.removeWidget(row)
            row.hide()
            row.deleteLater()
            self.changed.emit()

    def weights(self) -> dict[str, float]:
        """Field -> weight, in order; a repeated field keeps its last weight; 0 weights are left out."""
        out: dict[str, float] = {}
        for item in (row.item() for row in self.rows()):
            if item is not None:
                out[item[0]] = item[1]
        return out


class ScreenBuilderWidget(QWidget):
    """The left pane: match count, the criteria tree and inline problems.

    Signals:
        screen_changed(): the document changed (valid edits only).
        current_changed(object): the focused criterion row (or None).
    """

    screen_changed = Signal()
    current_changed = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._doc: dict[str, Any] = {"version": SCREEN_VERSION, "name": "", "criteria": []}
        self._choices: ChoiceProvider = lambda _field: []
        self._coverage: Mapping[str, FieldCoverage] = {}
        self._current: CriterionRow | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        self.title = QLabel(self)
        self.title.setObjectName("ScreenTitle")
        self.title.setWordWrap(True)
        self.count = QLabel(self)
        self.count.setObjectName("MatchCount")
        self.problem = QLabel(self)
        self.problem.setObjectName("InlineError")
        self.problem.setWordWrap(True)
        self.problem.hide()
        self.scroll_area = QScrollArea(self)
        self.scroll_area.setWidgetResizable(True)
        self.scroll_area.setFrameShape(QFrame.Shape.NoFrame)
        self.scroll_area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        layout.addWidget(self.title)
        layout.addWidget(self.count)
        layout.addWidget(self.problem)
        layout.addWidget(self.scroll_area, 1)
        self.root: GroupWidget | None = None
        self.body = QWidget(self)  # the criteria tree, then the formulas and the score
        self.body_layout = QVBoxLayout(self.body)
        self.body_layout.setContentsMargins(0, 0, 0, 0)
        self.formulas = FormulasSection(self.body)
        self.formulas.changed.connect(self._formulas_changed)
        self.score = ScoreSection(self._facts(), self.body)
        self.score.changed.connect(self._changed)
        self.body_layout.addWidget(self.formulas)
        self.body_layout.addWidget(self.score)
        self.body_layout.addStretch(1)
        self.scroll_area.setWidget(self.body)
        self._emit_timer = QTimer(self)
        self._emit_timer.setSingleShot(True)
        self._emit_timer.setInterval(0)  # coalesce bursts from one user action into one re-screen
        self._emit_timer.timeout.connect(self.screen_changed)
        self.set_document(self._doc)

    def set_choice_provider(self, provider: ChoiceProvider) -> None:
        """Where any_of/none_of pickers get their values (distinct values in the snapshot)."""
        self._choices = provider
        if self.root is not None:
            for row in self.root.leaves():
                row.refresh_choices()

    def set_coverage(self, coverage: Mapping[str, FieldCoverage]) -> None:
        """How many members of the current snapshot have a value, per field (shown in the pickers)."""
        self._coverage = coverage
        if self.root is not None:
            for row in self.root.leaves():
                row.picker.refresh_tooltip()

    # -- document ---------------------------------------------------------------------------
    def _facts(self) -> SnapshotFacts:
        return SnapshotFacts(lambda f: self._choices(f), lambda f: self._coverage.get(f), self.field)

    def field(self, name: str) -> Field | None:
        """A catalogue field or one of the screen's (valid) formula fields."""
        return next((f for f in self.formulas.fields() if f.name == name), None) or _field_or_none(name)

    def set_document(self, doc: dict[str, Any]) -> None:
        """Show the screen document ``doc`` (as ``screen_to_dict`` writes it)."""
        self._doc = copy.deepcopy(doc)
        self._current = None
        old = self.root
        formulas = doc.get("formulas")
        self.formulas.set_formulas([f for f in formulas if isinstance(f, dict)] if isinstance(formulas, list) else [])
        self.root = GroupWidget(str(doc.get("match", "all")), list(doc.get("criteria", [])), self._facts(), root=True)
        self.root.changed.connect(self._changed)
        self.root.row_activated.connect(self._activate)
        self.body_layout.insertWidget(0, self.root)
        if old is not None:
            self.body_layout.removeWidget(old)
            old.hide()
            old.deleteLater()
        score = doc.get("score")
        weights = score.get("weights") if isinstance(score, dict) else None
        self.score.set_weights(weights if isinstance(weights, dict) else {})
        self._share_formula_fields()
        self.title.setText(str(doc.get("name") or self.tr("Untitled screen")))
        self.show_problem("")
        self.current_changed.emit(None)

    def document(self) -> dict[str, Any]:
        """The edited screen document (in the current format version); keys the builder does not
        edit are kept as loaded."""
        doc = copy.deepcopy(self._doc)
        assert self.root is not None
        doc["version"] = SCREEN_VERSION
        doc["match"] = self.root.group_kind()
        doc["criteria"] = self.root.children_docs()
        formulas = self.formulas.formulas()
        if formulas:
            doc["formulas"] = formulas
        else:
            doc.pop("formulas", None)
        weights = self.score.weights()
        if weights:
            doc["score"] = {"weights": weights}
        else:
            doc.pop("score", None)
        return doc

    def _share_formula_fields(self) -> None:
        """Every field picker lists the screen's formula fields."""
        fields = self.formulas.fields()
        for row in self.leaves():
            row.picker.set_extra_fields(fields)
        self.score.set_extra_fields(fields)

    def _formulas_changed(self) -> None:
        self._share_formula_fields()
        for row in self.leaves():  # a criterion on a formula field may change kind or unit
            row.picker.refresh_tooltip()
        self._changed()

    def set_name(self, name: str) -> None:
        self._doc["name"] = name
        self.title.setText(name)

    def leaves(self) -> list[CriterionRow]:
        return self.root.leaves() if self.root is not None else []

    # -- feedback from the engine -----------------------------------------------------------
    def set_funnel(self, steps: list[tuple[int, int] | None] | dict[str, tuple[int, int]]) -> None:
        """(removed, remaining) per leaf row in document order, or per engine id ``c1, c2, ...``
        when every leaf was evaluated; rows with None (or no entry) show nothing."""
        rows = self.leaves()
        if isinstance(steps, dict):
            steps = [steps.get(f"c{i}") for i in range(1, len(rows) + 1)]
        for row, hit in zip(rows, list(steps) + [None] * (len(rows) - len(steps)), strict=False):
            row.set_funnel(*(hit if hit else (None, None)))

    def set_match_count(self, matched: int | None, universe: int | None) -> None:
        if matched is None:
            self.count.setText(self.tr("No data yet"))
        else:
            self.count.setText(self.tr("%s of %s stocks match") % (f"{matched:,}", f"{universe or 0:,}"))

    def show_problem(self, text: str) -> None:
        self.problem.setText(text)
        self.problem.setVisible(bool(text))

    # -- editing ----------------------------------------------------------------------------
    def current_row(self) -> CriterionRow | None:
        return self._current

    def add_criterion(self, field: str = "") -> CriterionRow:
        """Add a criterion at the end of the top-level group and focus its field search."""
        assert self.root is not None
        widget = self.root.add_child({"field": field}, focus=True)
        assert isinstance(widget, CriterionRow)
        return widget

    def remove_current(self) -> None:
        row = self._current
        if row is None:
            return
        parent = row.parentWidget()
        if isinstance(parent, GroupWidget):
            parent.remove_child(row)
        self._current = None
        self.current_changed.emit(None)

    def focus_field_search(self) -> None:
        row = self._current or (self.leaves()[0] if self.leaves() else None)
        if row is None:
            row = self.add_criterion()
        row.picker.setFocus()
        _line_edit(row.picker).selectAll()

    def _activate(self, row: object) -> None:
        if isinstance(row, CriterionRow) and row is not self._current:
            if self._current is not None:
                try:
                    self._current.set_current(False)
                except RuntimeError:  # its C++ side was deleted with a removed group
                    pass
            self._current = row
            row.set_current(True)
            self.current_changed.emit(row)

    def _changed(self) -> None:
        self._share_formula_fields()  # a new criterion row lists the formulas too
        if self._current is not None and self._current not in self.leaves():
            # Its ✕ (or its group's) removed the current row; it is deleted on the next event-loop
            # turn, so nobody may ask it for its field or bounds after this (issue #13).
            self._current = None
            self.current_changed.emit(None)
        self._emit_timer.start()

"""Version history of a saved screen: list the versions, read one, restore it.

A version is shown as a reader reads a screen (its criteria in plain words, as the CLI's
``screens diff`` prints them) and with what changed from the version before, not as raw JSON.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from desktop.engine.screen import describe, parse_screen
from desktop.errors import ScreenDefinitionError


@dataclass(frozen=True)
class VersionEntry:
    """One saved version as the dialog lists it (converted from the store's rows)."""

    version: int
    saved_at: str
    description: str
    definition: dict[str, Any]


class VersionHistoryDialog(QDialog):
    """Pick a version to restore; :meth:`chosen_version` after ``exec()`` returns Accepted."""

    def __init__(self, name: str, versions: Sequence[VersionEntry], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Version history — %s") % name)
        self.resize(760, 460)
        layout = QVBoxLayout(self)
        body = QHBoxLayout()
        self.list = QListWidget(self)
        self.list.setWordWrap(True)  # a long description wraps in the list instead of being cut off
        self.list.setResizeMode(QListWidget.ResizeMode.Adjust)
        self.list.setSpacing(3)
        self.preview = QPlainTextEdit(self)
        self.preview.setReadOnly(True)
        body.addWidget(self.list, 1)
        body.addWidget(self.preview, 2)
        layout.addLayout(body)
        self._versions = {v.version: v for v in versions}
        for v in sorted(versions, key=lambda v: v.version, reverse=True):
            text = self.tr("Version %d — %s") % (v.version, v.saved_at)
            if v.description:
                text += f"\n{v.description}"
            item = QListWidgetItem(text, self.list)
            item.setToolTip(text)
            item.setData(256, v.version)
        self.list.currentItemChanged.connect(self._show)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Close)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText(self.tr("&Restore this version"))
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        if self.list.count():
            self.list.setCurrentRow(0)

    def _show(self, item: QListWidgetItem | None) -> None:
        if item is None:
            self.preview.clear()
            return
        v = self._versions[int(item.data(256))]
        self.preview.setPlainText(version_text(v, self._versions.get(v.version - 1)))

    def chosen_version(self) -> int | None:
        item = self.list.currentItem()
        return None if item is None else int(item.data(256))


def version_text(version: VersionEntry, previous: VersionEntry | None) -> str:
    """A version in plain words: its criteria, then what changed from ``previous``."""
    lines = [f"Version {version.version} — saved {version.saved_at}"]
    if version.description:
        lines.append(version.description)
    try:
        screen = parse_screen(version.definition)
    except ScreenDefinitionError as exc:  # a document this engine cannot read: say so, show nothing wrong
        return "\n".join([*lines, "", f"This version cannot be read by this Pickaxe: {exc}"])
    lines += ["", f"Criteria ({'all' if screen.match == 'all' else 'any'} of):"]
    lines += [f"  • {describe(c)}" for c in screen.criteria] or ["  (none)"]
    if previous is not None:
        from desktop.services.library import describe_changes  # the store's modules: not with the window

        changes = describe_changes(previous.definition, version.definition)
        lines += ["", f"Changes from version {previous.version}:"]
        lines += [f"  {line}" for line in changes] or ["  (no change)"]
    return "\n".join(lines)

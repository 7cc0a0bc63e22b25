"""Export to Excel…: choose the target file (.xlsx or .csv)."""

from __future__ import annotations

import re
from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QWidget


def default_export_name(screen_name: str, as_of: str) -> str:
    """A file name such as ``Cash survivors 2026-05-05.xlsx`` (unsafe characters removed)."""
    stem = re.sub(r"[^\w\- .]+", "_", screen_name or "Pickaxe").strip() or "Pickaxe"
    return f"{stem} {as_of}.xlsx".strip()


def ask_export_path(parent: QWidget | None, folder: str, screen_name: str, as_of: str) -> Path | None:
    """Ask where to export; None when the user cancels. The suffix picks the format."""
    start = str(Path(folder or Path.home()) / default_export_name(screen_name, as_of))
    path, chosen = QFileDialog.getSaveFileName(
        parent, parent.tr("Export shortlist") if parent else "Export shortlist", start,
        "Excel workbook (*.xlsx);;CSV, UTF-8 (*.csv)")
    if not path:
        return None
    out = Path(path)
    if out.suffix.lower() not in (".xlsx", ".csv"):
        out = out.with_suffix(".csv" if "csv" in chosen.lower() else ".xlsx")
    return out

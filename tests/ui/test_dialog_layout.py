"""Dialog texts are shown whole (issue #17): long version descriptions wrap, dates stay on one line."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from desktop.ui.dialogs.history_dialog import VersionEntry, VersionHistoryDialog
from desktop.ui.dialogs.watchlist_dialog import WatchlistDialog

LONG = "Tightened the interest coverage floor from 3x to 5x after the rate shock scenario and dropped REITs"


def test_a_long_version_description_wraps_instead_of_being_cut(qtbot: Any) -> None:
    dialog = VersionHistoryDialog("Cash survivors", [
        VersionEntry(1, "2026-12-01 10:11 UTC", LONG, {}), VersionEntry(2, "2026-12-02 10:12 UTC", "", {})])
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    line = dialog.list.fontMetrics().lineSpacing()
    rects = [dialog.list.visualItemRect(dialog.list.item(i)) for i in range(dialog.list.count())]
    short, long = rects  # newest first
    assert long.width() <= dialog.list.viewport().width()
    assert long.height() >= 3 * line > short.height()  # the heading plus at least two wrapped lines
    assert dialog.list.item(1).toolTip().endswith(LONG)


def test_the_pinned_date_is_not_wrapped_or_cut(qtbot: Any) -> None:
    dialog = WatchlistDialog()
    qtbot.addWidget(dialog)
    dialog.set_entries([SimpleNamespace(symbol="SXC", note="", added_at="2026-12-04 13:45:12")],
                       {"SXC": "SunCoke Energy Inc"})
    text = dialog.table.item(0, 3).text()
    assert text == "2026-12-04 13:45"
    assert dialog.table.columnWidth(3) >= dialog.table.sizeHintForColumn(3)

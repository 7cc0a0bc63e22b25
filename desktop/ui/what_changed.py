"""What changed since the screen's last run (issue #17): the shortlist now against the last one.

A run is the screen's ranked result on a snapshot at a time (``pickaxe-cli run`` records them
too); comparing with the last one answers "what entered and left since I last looked", whatever
the snapshots in between. The controller reads the run history and diffs the tables on a worker,
shows :class:`WhatChangedDialog`, then records this run on the write pool, unless it is the last run
again (same snapshot, definition and shortlist): the history keeps the moments that differ.
"""

from __future__ import annotations

import logging
from typing import Any

import pandas as pd
from PySide6.QtCore import QObject
from PySide6.QtWidgets import QWidget

from desktop.errors import PickaxeError
from desktop.ui import messages
from desktop.ui.backend import Backend
from desktop.ui.dialogs.changes_dialog import WhatChangedDialog
from desktop.ui.screen_document import normalised
from desktop.ui.workers import TaskSlot, TaskState

log = logging.getLogger(__name__)


class WhatChangedController(QObject):
    """Compares a screen's result with its last recorded run and records the new run if it differs."""

    def __init__(self, owner: QWidget, backend: Backend | None, write_slot: TaskSlot) -> None:
        super().__init__(owner)
        self._owner = owner
        self.backend = backend
        self.write_slot = write_slot
        self.slot = TaskSlot("diff", parent=self)
        self.dialog: WhatChangedDialog | None = None  # the last comparison shown

    def compare(self, screen: Any, bundle: Any, ranked: pd.DataFrame) -> None:
        """Show what entered and left ``screen``'s shortlist (``ranked`` on ``bundle``, the shown
        snapshot) since its last run, then record this run unless nothing differs from that one."""
        if self.backend is None:
            return
        backend = self.backend

        def work(state: TaskState) -> tuple[list[Any], Any, Any]:
            from desktop.engine.diff import diff_results

            history = backend.runs(screen.name)
            before = None
            if history and history[0].snapshot_id is not None:
                try:
                    before = backend.load_table(history[0].snapshot_id)
                except PickaxeError as exc:  # the run's snapshot was deleted: symbols only
                    log.info("run snapshot unavailable: %s", exc)
            diff = diff_results(screen, before.table, bundle.table) if before is not None else None
            return history, before, diff

        def done(res: tuple[list[Any], Any, Any]) -> None:
            if self._show(screen, bundle, *res, ranked):
                self.write_slot.start(lambda state: backend.record_run(screen, int(bundle.info.id), ranked),
                                      lambda _run: None, lambda exc: messages.show_error(self._owner, exc))

        self.slot.start(work, done, lambda exc: messages.show_error(self._owner, exc))

    def _show(self, screen: Any, after: Any, history: list[Any], before: Any, diff: Any,
              ranked: pd.DataFrame) -> bool:
        """Open the dialog; True when this run differs from the last one and is worth recording."""
        from desktop.engine.formatting import format_value
        from desktop.engine.screen import screen_to_dict

        now = [str(s) for s in ranked.index]
        runs = [self.tr("%s UTC · snapshot %s · %s passed%s") % (
            str(r.ran_at)[:16], r.snapshot_as_of.isoformat(), f"{r.n_passed:,}",
            self.tr(" · version %d") % r.screen_version if r.screen_version else "") for r in history]
        if not history:
            title = self.tr("“%s” has no recorded run yet") % screen.name
            note = self.tr("This run (%s passing on snapshot %s) is recorded now; next time you will see what "
                           "entered and left the shortlist since.") % (f"{len(now):,}", after.info.as_of.isoformat())
            self.dialog = WhatChangedDialog(title, [], [], self._owner, note=note, history=runs, compared=False)
            self.dialog.open()
            return True
        last = history[0]
        units = {}
        for leaf in screen.leaves():
            try:
                units[leaf.id] = screen.field(leaf.field).unit
            except KeyError:
                units[leaf.id] = ""
        changes: pd.DataFrame = getattr(diff, "changes", pd.DataFrame()) if diff is not None else pd.DataFrame()

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

        edited = normalised(dict(last.definition)) != screen_to_dict(screen)
        # No criterion of today's screen changed its verdict: the edit (a criterion removed or
        # loosened, the match changed) is what moved the stock, and the row says so.
        by_edit = self.tr("moved by the screen's edits: today's criteria judge its values as they did then") \
            if edited and before is not None else ""
        was = set(last.symbols)
        entered = [(s, why(s) or by_edit) for s in now if s not in was]
        exited = [(s, why(s) or by_edit) for s in last.symbols if s not in set(now)]
        title = self.tr("“%s”: last run %s UTC (snapshot %s) → now (snapshot %s)") % (
            screen.name, str(last.ran_at)[:16], last.snapshot_as_of.isoformat(), after.info.as_of.isoformat())
        notes = [self.tr("%d stayed on the shortlist.") % len(was & set(now))]
        if edited:
            notes.append(self.tr("The screen was edited since that run, so edits explain part of the change."))
        if before is None:
            notes.append(self.tr("That run's snapshot is gone: the reasons per stock are not available."))
        # Looking again at an unchanged result adds no run: the history keeps the moments that differ.
        repeat = not edited and last.snapshot_id == int(after.info.id) and list(last.symbols) == now
        if repeat:
            notes.append(self.tr("Nothing differs from that run, so no new run is recorded."))
        self.dialog = WhatChangedDialog(title, entered, exited, self._owner, note=" ".join(notes), history=runs)
        self.dialog.open()
        return not repeat

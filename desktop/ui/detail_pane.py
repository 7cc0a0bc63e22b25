"""The detail pane: why the selected stock is where it is (issue #6).

Every metric with value, unit, definition, source and as-of date; each criterion's state with the
value and threshold; the themes with the words that matched; zombie years; shocked coverage.
Rendered as one HTML document into a QTextBrowser (cheap, selectable, copyable).
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from PySide6.QtGui import QTextOption
from PySide6.QtWidgets import QTextBrowser, QVBoxLayout, QWidget

from desktop.engine import catalog
from desktop.engine.formatting import format_value, mark_state
from desktop.engine.rules import OK

_STATE_TEXT = {0: ("fail", "#b3261e"), 1: ("pass", "#1b7f3b"), 2: ("unknown", "#8a5a00")}


@dataclass(frozen=True)
class CriterionInfo:
    """A leaf criterion as the detail pane shows it."""

    criterion_id: str
    field: str
    doc: dict[str, Any]


def threshold_text(doc: dict[str, Any], unit: str) -> str:
    """The condition of a criterion document in a few words ("≥ $300M", "any of: A, B")."""
    parts = []
    if "min" in doc and doc["min"] is not None:
        parts.append(f"≥ {format_value(doc['min'], unit, 0)}")
    if "max" in doc and doc["max"] is not None:
        parts.append(f"≤ {format_value(doc['max'], unit, 0)}")
    if "percentile_min" in doc:
        parts.append(f"percentile ≥ {doc['percentile_min']:g} ({doc.get('within', 'universe')})")
    if "any_of" in doc:
        parts.append("any of: " + ", ".join(map(str, doc["any_of"])))
    if "none_of" in doc:
        parts.append("none of: " + ", ".join(map(str, doc["none_of"])))
    if "is" in doc:
        parts.append("is yes" if doc["is"] else "is no")
    return " and ".join(parts) or "—"


def _cell(value: Any, unit: str, status: int, period_end: Any = None) -> str:
    if isinstance(value, tuple | list):
        return ", ".join(map(str, value)) or "—"
    if unit in catalog.NUMERIC_UNITS or unit == "bool":
        return mark_state(format_value(value, unit, status), status, period_end)
    if value is None or value == "" or (not isinstance(value, str) and bool(pd.isna(value))):
        return format_value(None, unit, 1)
    return str(value)


def _end(table: Any, symbol: str, field: str) -> Any:
    """The period end of ``symbol``'s ``field`` value, or None where the table does not date it."""
    ends = getattr(table, "period_end", None)
    if isinstance(ends, pd.DataFrame) and field in ends.columns and symbol in ends.index:
        return ends.at[symbol, field]
    return None


class DetailPane(QWidget):
    """Shows one stock; call :meth:`show_stock` or :meth:`clear`."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("DetailPane")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.browser = QTextBrowser(self)
        self.browser.setOpenExternalLinks(True)
        # Break lines between words only: a long token scrolls rather than splitting mid-word.
        self.browser.setWordWrapMode(QTextOption.WrapMode.WordWrap)
        layout.addWidget(self.browser)
        self.symbol: str | None = None
        self.clear()

    def clear(self, message: str = "") -> None:
        self.symbol = None
        text = message or self.tr("Select a stock to see every metric, where it came from, and why it "
                                  "passed or failed each criterion.")
        self.browser.setHtml(f"<p style='color:#777'>{html.escape(text)}</p>")

    def show_stock(self, symbol: str, table: Any, states: pd.DataFrame | None,
                   criteria: Sequence[CriterionInfo], *, pinned: bool = False) -> None:
        """Render ``symbol`` of StockTable ``table`` with its criterion ``states`` (symbol × id)."""
        self.symbol = symbol
        values: pd.DataFrame = table.values
        if symbol not in values.index:
            self.clear(self.tr("%s is not in this snapshot.") % symbol)
            return
        row = values.loc[symbol]
        status = table.status.loc[symbol] if symbol in table.status.index else pd.Series(dtype="int8")
        notes: dict = getattr(table, "notes", {}) or {}
        prov = self._provenance(table, symbol)
        esc = html.escape
        out: list[str] = []
        name = row.get("name", "")
        out.append(f"<h2 style='margin-bottom:0'>{esc(symbol)} <span style='font-weight:normal'>"
                   f"{esc(str(name) if isinstance(name, str) else '')}</span></h2>")
        if pinned:  # words, not an emoji: a desktop without an emoji font would draw a box
            out.append(f"<p style='color:#8a5a00;margin:2px 0 0 0'><b>{esc(self.tr('On your watchlist'))}</b></p>")
        sub = [str(row.get(k)) for k in ("sector", "industry", "exchange") if isinstance(row.get(k), str)]
        out.append(f"<p style='color:#555;margin-top:2px'>{esc(' · '.join(sub))}</p>")

        if criteria:
            out.append(f"<h3>{esc(self.tr('Criteria'))}</h3><table cellspacing=0 cellpadding=3 width='100%'>")
            for c in criteria:
                state = None
                if states is not None and symbol in states.index and c.criterion_id in states.columns:
                    state = int(states.at[symbol, c.criterion_id])  # type: ignore[arg-type]
                word, colour = _STATE_TEXT.get(state, ("—", "#777")) if state is not None else ("—", "#777")
                field = _safe_field(c.field, table)
                unit = field.unit if field else "ratio"
                value = row.get(c.field) if c.field in values.columns else None
                st = int(status.get(c.field, 0)) if c.field in status.index else (0 if value is not None else 1)  # type: ignore[arg-type]
                out.append(
                    f"<tr><td><b style='color:{colour}'>{esc(word)}</b></td>"
                    f"<td>{esc(field.label if field else c.field)}</td>"
                    f"<td align=right>{esc(_cell(value, unit, st, _end(table, symbol, c.field)))}</td>"
                    f"<td style='color:#555'>{esc(threshold_text(c.doc, unit))}</td></tr>")
                why = notes.get((symbol, c.field)) if st != OK else None
                if why:  # why the value is not a plain number: stale (its age), suspect (the rule), n.m.
                    out.append(f"<tr><td></td><td colspan=3 style='color:#8a5a00;font-size:small'>"
                               f"{esc(why)}</td></tr>")
            out.append("</table>")

        themes = self._themes(table, symbol)
        if themes:
            out.append(f"<h3>{esc(self.tr('Themes'))}</h3><ul>")
            for theme, rule, matched in themes:
                out.append(f"<li><b>{esc(theme)}</b> — {esc(self.tr('matched'))} "
                           f"<i>{esc(matched)}</i> <span style='color:#777'>({esc(rule)})</span></li>")
            out.append("</ul>")

        shocked = [c for c in values.columns if c.startswith("shocked_coverage")]
        zombie = (getattr(table, "zombie_years", {}) or {}).get(symbol)
        if shocked or zombie:
            out.append(f"<h3>{esc(self.tr('Rate resilience'))}</h3><table cellpadding=3>")
            for col in shocked:
                f = _safe_field(col)
                st = int(status.get(col, 0)) if col in status.index else 0
                out.append(f"<tr><td>{esc(f.label if f else col)}</td>"
                           f"<td align=right>{esc(_cell(row.get(col), f.unit if f else 'ratio', st))}</td></tr>")
            out.append("</table>")
            if zombie:
                # the engine lists coverage per fiscal year; years below 1x are the zombie years
                years = ", ".join(
                    (f"<b style='color:#b3261e'>FY{int(y)}: {esc(format_value(cov, 'ratio', 0))}</b>"
                     if cov == cov and cov < 1 else f"FY{int(y)}: {esc(format_value(cov, 'ratio', 0))}")
                    for y, cov in zombie)
                flag = row.get("zombie")
                verdict = (self.tr("zombie (coverage below 1x in each of the last years)") if flag == 1
                           else self.tr("not a zombie") if flag == 0 else self.tr("zombie flag unknown"))
                out.append(f"<p><b>{esc(self.tr('Interest coverage by fiscal year'))}</b> — {esc(verdict)}:"
                           f"<br>{years}</p>")

        out.append(f"<h3>{esc(self.tr('All metrics'))}</h3>")
        out.append("<table cellspacing=0 cellpadding=2 width='100%'>")
        group = None
        for f in sorted((_safe_field(c, table) for c in values.columns), key=_group_key):
            if f is None or f.name in ("symbol", "name", "description"):
                continue
            if f.group != group:
                group = f.group
                out.append(f"<tr><td colspan=2 style='padding-top:8px;border-bottom:1px solid #ddd'>"
                           f"<b>{esc(group)}</b></td></tr>")
            st = int(status.get(f.name, 0)) if f.name in status.index else 0
            value = _cell(row.get(f.name), f.unit, st, _end(table, symbol, f.name))
            note = notes.get((symbol, f.name))
            source, as_of = prov.get(f.name, ("", ""))
            meta = " · ".join(part for part in (f.unit, source, as_of) if part)
            note_html = f"<br><span style='color:#8a5a00'>{esc(note)}</span>" if note else ""
            out.append(
                f"<tr><td>{esc(f.label)}</td><td align=right><b>{esc(value)}</b></td></tr>"
                f"<tr><td colspan=2 style='color:#777;font-size:small;padding-bottom:4px'>{esc(f.definition)}"
                f"<br><span style='color:#999'>{esc(meta)}</span>{note_html}</td></tr>")
        out.append("</table>")
        desc = row.get("description")
        if isinstance(desc, str) and desc:
            out.append(f"<h3>{esc(self.tr('Business'))}</h3><p>{esc(desc)}</p>")
        self.browser.setHtml("".join(out))

    @staticmethod
    def _provenance(table: Any, symbol: str) -> dict[str, tuple[str, str]]:
        prov = getattr(table, "provenance", None)
        if not isinstance(prov, pd.DataFrame) or prov.empty or "symbol" not in prov.columns:
            return {}
        rows = prov[prov["symbol"] == symbol]
        if "chosen" in rows.columns:
            rows = rows[rows["chosen"].fillna(False).astype(bool)]
        out: dict[str, tuple[str, str]] = {}
        for field, source, as_of, derived in zip(rows["field"], rows["source"], rows["as_of"],
                                                 rows.get("derived", pd.Series(False, index=rows.index)),
                                                 strict=True):
            when = "" if as_of is None or (isinstance(as_of, float) and np.isnan(as_of)) or pd.isna(as_of) \
                else pd.Timestamp(as_of).date().isoformat()
            out[str(field)] = (f"{source}{' (derived)' if bool(derived) else ''}", when)
        # The engine's record of each value's period wins (issue #12): "simfin FY2024 (period ended ...)".
        origin = getattr(table, "origin", None)
        ends = getattr(table, "period_end", None)
        if isinstance(origin, pd.DataFrame) and symbol in origin.index:
            for field, text in origin.loc[symbol].items():
                if not isinstance(text, str):
                    continue
                end: Any = ends.at[symbol, field] if isinstance(ends, pd.DataFrame) and field in ends.columns else None
                when = "" if end is None or pd.isna(end) or "period ended" in text \
                    else pd.Timestamp(end).date().isoformat()
                out[str(field)] = (text, when)
        return out

    @staticmethod
    def _themes(table: Any, symbol: str) -> list[tuple[str, str, str]]:
        matches = getattr(table, "theme_matches", None)
        if not isinstance(matches, pd.DataFrame) or matches.empty or "symbol" not in matches.columns:
            return []
        rows = matches[matches["symbol"] == symbol]
        out = []
        for _, r in rows.iterrows():
            matched = r.get("matched", "")
            if isinstance(matched, tuple | list):
                matched = ", ".join(map(str, matched))
            out.append((str(r.get("theme", "")), str(r.get("rule", "")), str(matched)))
        return out


def _safe_field(name: str, table: Any = None) -> catalog.Field | None:
    """A catalogue field, or a formula field of ``table`` (issue #16); None when neither."""
    try:
        return table.field(name) if hasattr(table, "field") else catalog.get(name)
    except KeyError:
        return None


def _group_key(f: catalog.Field | None) -> tuple[int, str]:
    order = ["Profile", "Market", "Income", "Cash flow", "Balance sheet"]
    if f is None:
        return (99, "")
    return (order.index(f.group) if f.group in order else len(order), f.group)

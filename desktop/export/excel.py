"""The shortlist workbook (issue #7): Shortlist, Why, Near misses, Screen, Provenance, Summary.

Written with openpyxl through :func:`desktop.export.atomic.atomic_target`, so a failed or cancelled
export never leaves a half-written file. Missing values are empty cells; "not meaningful" values
are the text "n.m." with a comment giving the reason - never a zero. Text from data that could
start a formula is stored as a quoted string cell (see :mod:`desktop.export.safe`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.cell.cell import Cell
from openpyxl.comments import Comment
from openpyxl.formatting.rule import CellIsRule, ColorScaleRule, FormulaRule
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.table import Table, TableStyleInfo
from openpyxl.worksheet.worksheet import Worksheet

from desktop.engine import catalog
from desktop.errors import Cancelled
from desktop.export import xlsx_style as st
from desktop.export.atomic import atomic_target, check_target
from desktop.export.content import (
    FAIL,
    MISSING,
    NOT_MEANINGFUL,
    NOT_MEANINGFUL_TEXT,
    STATE_WORDS,
    UNKNOWN,
    Column,
    ColumnData,
    ExportInput,
    column_data,
    column_for,
    exported_fields,
    shortlist_columns,
    value_counts,
    why_order,
)
from desktop.export.safe import is_risky
from desktop.export.screen_sheet import read_screen_definition, write_screen_sheet

__all__ = ["SHEETS", "read_screen_definition", "write_workbook", "yahoo_url"]

SHEETS = ("Shortlist", "Why", "Near misses", "Screen", "Provenance", "Summary")
TABLE_NAME = "Shortlist"
NM_DEFAULT_NOTE = "Not meaningful for this company (for example a ratio over a negative denominator)."
AUTHOR = "Pickaxe"

Progress = Callable[..., None]


def yahoo_url(symbol: str) -> str:
    """The Yahoo Finance quote page of ``symbol``."""
    return "https://finance.yahoo.com/quote/" + quote(symbol, safe="-.^=")


def write_workbook(path: str | Path, data: ExportInput, progress: Progress | None = None,
                   is_cancelled: Callable[[], bool] | None = None) -> Path:
    """Write the shortlist workbook to ``path`` atomically and return the path.

    Args:
        path: target ``.xlsx`` file; its folder must exist.
        data: the run to export.
        progress: ``progress(done, total, message)``, called once per sheet.
        is_cancelled: checked between sheets; a cancelled export raises
            :class:`~desktop.errors.Cancelled` and leaves the target untouched.

    Raises:
        ExportError: the folder is missing or read-only, or the file is locked by another program.
    """
    target = Path(path)
    check_target(target.expanduser().absolute())
    steps: list[tuple[str, Callable[[Workbook, ExportInput], None]]] = [
        ("Shortlist", _shortlist), ("Why", _why), ("Near misses", _near_misses), ("Screen", _screen),
        ("Provenance", _provenance), ("Summary", _summary),
    ]
    total = len(steps) + 1
    wb = Workbook()
    wb.remove(wb.active)
    for done, (message, step) in enumerate(steps):
        _check(is_cancelled)
        if progress:
            progress(done, total, f"Writing {message}")
        step(wb, data)
    _check(is_cancelled)
    if progress:
        progress(len(steps), total, "Saving")
    wb.properties.creator = AUTHOR
    wb.properties.title = f"Pickaxe shortlist: {data.screen_name}"
    with atomic_target(target) as tmp:
        wb.save(tmp)
        _check(is_cancelled)
    if progress:
        progress(total, total, "Done")
    return target


def _check(is_cancelled: Callable[[], bool] | None) -> None:
    if is_cancelled is not None and is_cancelled():
        raise Cancelled()


# --- cells ---------------------------------------------------------------------------------------

def put_text(ws: Worksheet, row: int, col: int, text: str) -> Cell:
    """Write ``text`` as a string cell; formula-like text gets the quote prefix (never a formula)."""
    cell = ws.cell(row, col)
    cell.value = text
    if isinstance(text, str) and (text.startswith("=") or is_risky(text)):
        cell.data_type = "s"
        cell.quotePrefix = True
    return cell


def _excel_values(col: ColumnData) -> list[Any]:
    """Cell values for a column: scaled numbers, n.m. text, None for missing."""
    unit = col.column.unit
    status = col.status
    if col.column.is_numeric:
        style = st.unit_style(unit) or st.UnitStyle("General")
        scaled = col.values * style.scale
        out: list[Any] = []
        for value, code in zip(scaled.tolist(), status.tolist(), strict=True):
            if code == NOT_MEANINGFUL:
                out.append(NOT_MEANINGFUL_TEXT)
            elif code == MISSING or math.isnan(value):
                out.append(None)
            elif math.isinf(value):
                out.append(st.INFINITY_TEXT if value > 0 else "-" + st.INFINITY_TEXT)
            else:
                out.append(value)
        return out
    out = []
    for value, code in zip(col.values, status.tolist(), strict=True):
        if code == NOT_MEANINGFUL:
            out.append(NOT_MEANINGFUL_TEXT)
        elif value is None or code == MISSING:
            out.append(None)
        elif isinstance(value, tuple):
            out.append(", ".join(value))
        elif isinstance(value, bool):  # text, as the app shows it; LibreOffice turns booleans into =TRUE()
            out.append("yes" if value else "no")
        else:
            out.append(value)
    return out


def _text_width(values: list[Any]) -> int:
    widest = 0
    for v in values:
        if isinstance(v, str):
            widest = max(widest, len(v))
        elif isinstance(v, (date, datetime)):
            widest = max(widest, 10)
        elif isinstance(v, bool):
            widest = max(widest, 5)
    return widest


def _column_width(col: ColumnData, cells: list[Any]) -> int:
    style = st.unit_style(col.column.unit)
    text = _text_width(cells)
    if col.column.is_numeric and style is not None:
        return max(text, st.numeric_width(col.values, style))
    return text


def _header(column: Column) -> str:
    style = st.unit_style(column.unit)
    return column.label + (style.header_suffix if style else "")


def _unique(headers: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for h in headers:
        key = h.lower()
        seen[key] = seen.get(key, 0) + 1
        out.append(h if seen[key] == 1 else f"{h} ({seen[key]})")
    return out


def _format_column(ws: Worksheet, col_idx: int, first: int, last: int, col: ColumnData,
                   cells: list[Any], notes: dict[tuple[str, str], str], symbols: list[str]) -> None:
    """Number formats, guarded text and n.m. comments for one written column."""
    unit = col.column.unit
    style = st.unit_style(unit)
    fmt = style.number_format if style else (st.DATE_FORMAT if unit == "date" else None)
    name = col.column.name
    for offset, value in enumerate(cells):
        if value is None:
            continue
        cell = ws.cell(first + offset, col_idx)
        note = notes.get((symbols[offset], name)) if notes else None
        if isinstance(value, str):
            if value == NOT_MEANINGFUL_TEXT and col.status[offset] == NOT_MEANINGFUL:
                note = note or NM_DEFAULT_NOTE
                cell.font = st.NM_FONT
                cell.alignment = st.CENTER
            elif value.startswith("=") or is_risky(value):
                cell.data_type = "s"
                cell.quotePrefix = True
        elif fmt is not None:
            cell.number_format = fmt
        if note:  # why a value is n.m. or unbounded, or a caveat on where it came from
            cell.comment = Comment(note, AUTHOR, width=260, height=90)


def _write_block(ws: Worksheet, columns: list[ColumnData], headers: list[str], symbols: list[str],
                 notes: dict[tuple[str, str], str], *, link_col: int | None) -> list[list[Any]]:
    """Header row + data rows starting at A1; returns each column's cell values."""
    ws.append(headers)
    per_column = [_excel_values(c) for c in columns]
    for row in zip(*per_column, strict=True):
        ws.append(row)
    last = len(symbols) + 1
    for idx, (col, cells) in enumerate(zip(columns, per_column, strict=True), start=1):
        _format_column(ws, idx, 2, last, col, cells, notes, symbols)
    if link_col is not None:
        for offset, symbol in enumerate(symbols):
            cell = ws.cell(2 + offset, link_col)
            cell.hyperlink = yahoo_url(symbol)
            cell.font = st.LINK_FONT
    for idx, (col, cells) in enumerate(zip(columns, per_column, strict=True), start=1):
        ws.column_dimensions[get_column_letter(idx)].width = st.fit_width(headers[idx - 1],
                                                                          _column_width(col, cells))
    for cell in ws[1]:
        cell.font = st.BOLD
        cell.alignment = st.WRAP_TOP
    return per_column


# --- sheets --------------------------------------------------------------------------------------

def _shortlist(wb: Workbook, data: ExportInput) -> None:
    ws = wb.create_sheet("Shortlist")
    columns = shortlist_columns(data)
    symbols = [str(s) for s in data.result.ranked.index]
    col_data = [column_data(data, c) for c in columns]
    headers = _unique([_header(c) for c in columns])
    symbol_col = next(i for i, c in enumerate(columns, start=1) if c.name == "symbol")
    _write_block(ws, col_data, headers, symbols, data.table.notes, link_col=symbol_col)
    last_col = get_column_letter(len(columns))
    n = len(symbols)
    ws.freeze_panes = ws.cell(2, symbol_col + 1)
    if n == 0:
        ws.cell(3, 1, "No stock passed this screen.").font = st.NM_FONT
        return
    table = Table(displayName=TABLE_NAME, ref=f"A1:{last_col}{n + 1}")
    table.tableStyleInfo = TableStyleInfo(name="TableStyleMedium2", showRowStripes=True,
                                          showColumnStripes=False, showFirstColumn=False,
                                          showLastColumn=False)
    ws.add_table(table)
    directions = _directions(data)
    for idx, col in enumerate(columns, start=1):
        better = directions.get(col.name, st.higher_is_better(col.name))
        if better is None or not col.is_numeric or n < 2:
            continue
        letter = get_column_letter(idx)
        low, high = ("FFF8696B", "FF63BE7B") if better else ("FF63BE7B", "FFF8696B")
        ws.conditional_formatting.add(
            f"{letter}2:{letter}{n + 1}",
            ColorScaleRule(start_type="percentile", start_value=10, start_color=low,
                           mid_type="percentile", mid_value=50, mid_color="FFFFEB84",
                           end_type="percentile", end_value=90, end_color=high))


def _directions(data: ExportInput) -> dict[str, bool]:
    """The screen's sort fields get a colour scale too, in their sort direction."""
    out: dict[str, bool] = {}
    for key in data.screen_definition.get("sort") or []:
        if isinstance(key, dict) and isinstance(key.get("field"), str):
            out[key["field"]] = bool(key.get("descending", False))
    return out


def _why(wb: Workbook, data: ExportInput) -> None:
    ws = wb.create_sheet("Why")
    order = why_order(data)
    states = data.result.states.reindex(order)
    ranks = data.result.ranked["rank"] if "rank" in data.result.ranked.columns else None
    headers = ["Rank", "Symbol", "Name", "Result", "Failed", "Unknown"]
    fixed = len(headers)
    for crit in data.criteria:
        headers += [f"{crit.id}: {crit.description}", f"{crit.id} value"]
    ws.append(_unique(headers))
    names = column_data(data, column_for("name"), order).values if order else []
    crit_cols = []
    for crit in data.criteria:
        codes = states[crit.id].to_numpy() if crit.id in states.columns else np.full(len(order), UNKNOWN)
        values = _excel_values(column_data(data, column_for(crit.field), order)) if crit.field else \
            [None] * len(order)
        crit_cols.append(([STATE_WORDS.get(int(c), "unknown") for c in codes], values))
    passed = set(data.result.ranked.index)
    matrix = states.to_numpy() if len(states.columns) else np.zeros((len(order), 0))
    failed = (matrix == FAIL).sum(axis=1) if matrix.size else np.zeros(len(order), dtype=int)
    unknown = (matrix == UNKNOWN).sum(axis=1) if matrix.size else np.zeros(len(order), dtype=int)
    for i, symbol in enumerate(order):
        rank = ranks.get(symbol) if ranks is not None else None
        row: list[Any] = [None if rank is None or pd.isna(rank) else int(rank), symbol, names[i],
                          "pass" if symbol in passed else "fail", int(failed[i]), int(unknown[i])]
        for words, values in crit_cols:
            row += [words[i], values[i]]
        ws.append(row)
    n = len(order)
    last = n + 1
    for i in range(n):  # symbol and name are untrusted text
        for col in (2, 3):
            cell = ws.cell(2 + i, col)
            if isinstance(cell.value, str) and (cell.value.startswith("=") or is_risky(cell.value)):
                cell.data_type = "s"
                cell.quotePrefix = True
    for k, crit in enumerate(data.criteria):
        state_col = fixed + 1 + 2 * k
        value_col = state_col + 1
        sl, vl = get_column_letter(state_col), get_column_letter(value_col)
        shown = column_for(crit.field) if crit.field else column_for("symbol")
        style = st.unit_style(shown.unit)
        fmt = style.number_format if style else (st.DATE_FORMAT if shown.unit == "date" else None)
        values = crit_cols[k][1]
        for i, value in enumerate(values):
            if value is None:
                continue
            cell = ws.cell(2 + i, value_col)
            if isinstance(value, str):
                if value.startswith("=") or is_risky(value):
                    cell.data_type = "s"
                    cell.quotePrefix = True
            elif fmt:
                cell.number_format = fmt
        if n:
            for word, fill, font in (("pass", st.PASS_FILL, st.PASS_FONT), ("fail", st.FAIL_FILL, st.FAIL_FONT),
                                     ("unknown", st.UNKNOWN_FILL, st.UNKNOWN_FONT)):
                ws.conditional_formatting.add(f"{sl}2:{sl}{last}",
                                              CellIsRule(operator="equal", formula=[f'"{word}"'],
                                                         fill=fill, font=font))
                ws.conditional_formatting.add(f"{vl}2:{vl}{last}",
                                              FormulaRule(formula=[f'${sl}2="{word}"'], fill=fill, font=font))
        ws.column_dimensions[sl].width = 16
        ws.column_dimensions[vl].width = st.fit_width(f"{crit.id} value", _text_width(values) if
                                                      not shown.is_numeric else 12)
    if n:
        ws.conditional_formatting.add(f"D2:D{last}", CellIsRule(operator="equal", formula=['"pass"'],
                                                                fill=st.PASS_FILL, font=st.PASS_FONT))
        ws.auto_filter.ref = f"A1:{get_column_letter(len(headers))}{last}"
    for letter, width in zip("ABCDEF", (7, 10, 32, 8, 8, 9), strict=True):
        ws.column_dimensions[letter].width = width
    for cell in ws[1]:
        cell.font = st.BOLD
        cell.alignment = st.WRAP_TOP
    ws.row_dimensions[1].height = 45
    ws.freeze_panes = "C2"


def _near_misses(wb: Workbook, data: ExportInput) -> None:
    ws = wb.create_sheet("Near misses")
    frame = data.result.near_misses
    headers = ["Symbol", "Name", "Criterion id", "Criterion", "Value", "Threshold", "Distance", "Unit"]
    ws.append(headers)
    if frame is None or len(frame) == 0:
        ws.cell(2, 1, "No stock fails exactly one criterion.").font = st.NM_FONT
        _finish_simple(ws, headers, [10, 32, 12, 44, 14, 14, 14, 10])
        return
    frame = frame.reset_index() if "symbol" not in frame.columns else frame
    by_id = {c.id: c for c in data.criteria}
    symbols = [str(s) for s in frame["symbol"]]
    names = column_data(data, column_for("name"), symbols).values
    for i, row in enumerate(frame.to_dict("records")):
        crit = by_id.get(str(row.get("criterion_id")))
        unit = _near_miss_unit(crit)
        style = st.unit_style(unit)
        r = i + 2
        put_text(ws, r, 1, symbols[i])
        ws.cell(r, 1).hyperlink = yahoo_url(symbols[i])
        ws.cell(r, 1).font = st.LINK_FONT
        if names[i] is not None:
            put_text(ws, r, 2, str(names[i]))
        put_text(ws, r, 3, str(row.get("criterion_id", "")))
        put_text(ws, r, 4, str(row.get("label") or (crit.description if crit else "")))
        for c, key in ((5, "value"), (6, "threshold"), (7, "distance")):
            value = row.get(key)
            cell = ws.cell(r, c)
            if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
                number = float(value)
                if math.isnan(number):
                    continue
                if math.isinf(number):
                    cell.value = st.INFINITY_TEXT if number > 0 else "-" + st.INFINITY_TEXT
                    continue
                cell.value = number * (style.scale if style else 1.0)
                if style:
                    cell.number_format = style.number_format
            elif value is not None and not (isinstance(value, float) and math.isnan(value)):
                put_text(ws, r, c, ", ".join(map(str, value)) if isinstance(value, (tuple, list)) else str(value))
        put_text(ws, r, 8, _unit_words(unit))
    _finish_simple(ws, headers, [10, 32, 12, 44, 14, 14, 14, 10])
    ws.auto_filter.ref = f"A1:H{len(frame) + 1}"


def _near_miss_unit(crit: Any) -> str:
    if crit is None or not crit.field:
        return ""
    if getattr(crit, "kind", "") == "percentile":
        return "percentile"
    return column_for(crit.field).unit


def _unit_words(unit: str) -> str:
    return {"usd": "$M", "usd_share": "$", "fraction": "%", "percent": "%", "ratio": "x",
            "months": "months", "years": "years", "percentile": "percentile"}.get(unit, unit)


def _finish_simple(ws: Worksheet, headers: list[str], widths: list[int]) -> None:
    for idx, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(idx)].width = width
    for cell in ws[1]:
        cell.font = st.BOLD
        cell.fill = st.HEADER_FILL
    ws.freeze_panes = "B2"


def _screen(wb: Workbook, data: ExportInput) -> None:
    ws = wb.create_sheet("Screen")
    write_screen_sheet(ws, data.screen_definition, data.criteria, put_text)


def _provenance(wb: Workbook, data: ExportInput) -> None:
    ws = wb.create_sheet("Provenance")
    ws["A1"] = "Provenance"
    ws["A1"].font = st.TITLE
    facts: list[tuple[str, Any]] = [
        ("Screen", data.screen_name),
        ("Snapshot", data.snapshot_id if data.snapshot_id is not None else "-"),
        ("Data as of", data.as_of),
        ("Snapshot created", data.snapshot_created_at),
        ("Exported at", data.exported_at),
        ("Run id", data.run_id),
        ("Pickaxe version", data.app_version),
        ("Stocks screened", int(data.result.universe_count)),
        ("Stocks passing", len(data.result.ranked)),
    ]
    row = 3
    for label, value in facts:
        ws.cell(row, 1, label).font = st.BOLD
        _put_any(ws, row, 2, value)
        row += 1
    row += 1
    ws.cell(row, 1, "How to read the numbers").font = st.BOLD
    for line in (
        "An empty cell means the value is missing from every source.",
        "\"n.m.\" means not meaningful (e.g. net debt / EBITDA with negative EBITDA); its comment gives "
        "the reason. Neither is ever written as zero.",
        "Money is in millions of US dollars ($M); percentages and ratios are as formatted; "
        "\"∞\" is an unbounded value (e.g. cash runway of a company that burns no cash).",
    ):
        row += 1
        put_text(ws, row, 1, line)
    row += 2
    ws.cell(row, 1, "Sources").font = st.BOLD
    row += 1
    heads = ("Source", "File or endpoint", "Data as of", "Fetched at", "Rows")
    for c, h in enumerate(heads, start=1):
        ws.cell(row, c, h).font = st.BOLD
        ws.cell(row, c).fill = st.HEADER_FILL
    for source in data.sources:
        row += 1
        for c, key in enumerate(("source", "origin", "as_of", "fetched_at", "rows"), start=1):
            _put_any(ws, row, c, source.get(key))
    if not data.sources:
        row += 1
        ws.cell(row, 1, "No source list recorded for this snapshot.").font = st.NM_FONT
    row += 2
    row = _field_section(ws, row, data)
    row += 2
    _notes_section(ws, row, data)
    for letter, width in zip("ABCDEFGH", (24, 60, 14, 60, 40, 40, 40, 40), strict=True):
        ws.column_dimensions[letter].width = width


def _field_section(ws: Worksheet, row: int, data: ExportInput) -> int:
    ws.cell(row, 1, "Exported fields").font = st.BOLD
    row += 1
    heads = ("Field", "Label", "Unit", "Definition", "Formula", "Sources", "Caveats", "Values by source")
    for c, h in enumerate(heads, start=1):
        ws.cell(row, c, h).font = st.BOLD
        ws.cell(row, c).fill = st.HEADER_FILL
    counts = _source_counts(data)
    for name in ["rank", *(["score"] if "score" in data.result.ranked.columns else []), *exported_fields(data)]:
        row += 1
        try:
            f = catalog.get(name)
            cells = (f.name, f.label, _unit_label(f.unit), f.definition, f.formula, f.sources, f.caveats)
        except KeyError:
            col = column_for(name)
            cells = (col.name, col.label, _unit_label(col.unit), col.definition, "", "", "")
        for c, value in enumerate(cells, start=1):
            if value:
                put_text(ws, row, c, value).alignment = st.WRAP_TOP
        if counts.get(name):
            put_text(ws, row, 8, counts[name]).alignment = st.WRAP_TOP
    return row


def _unit_label(unit: str) -> str:
    return {"usd": "US dollars (exported in $M)", "usd_share": "US dollars per share",
            "fraction": "fraction (shown as %)", "percent": "percent", "ratio": "multiple (x)",
            "score": "score 0-100", "percentile": "percentile 0-100"}.get(unit, unit)


def _source_counts(data: ExportInput) -> dict[str, str]:
    """For each exported field, how many shortlisted values came from which source."""
    prov = getattr(data.table, "provenance", None)
    if prov is None or len(prov) == 0 or not {"symbol", "field", "source"} <= set(prov.columns):
        return {}
    sub = prov[prov["symbol"].isin(data.result.ranked.index)]
    if "chosen" in sub.columns:
        sub = sub[sub["chosen"].fillna(False).astype(bool)]
    out = {}
    for name, group in sub.groupby("field", sort=False):
        counts = group["source"].astype(str).value_counts()
        out[str(name)] = ", ".join(f"{src}: {n:,}" for src, n in counts.items())
    return out


def _notes_section(ws: Worksheet, row: int, data: ExportInput) -> int:
    ws.cell(row, 1, "Notes on shortlisted values").font = st.BOLD
    row += 1
    for c, h in enumerate(("Symbol", "Field", "Note"), start=1):
        ws.cell(row, c, h).font = st.BOLD
        ws.cell(row, c).fill = st.HEADER_FILL
    shown = set(exported_fields(data))
    passed = set(map(str, data.result.ranked.index))
    items = sorted((s, f, n) for (s, f), n in data.table.notes.items() if s in passed and f in shown)
    for symbol, name, note in items:
        row += 1
        put_text(ws, row, 1, symbol)
        put_text(ws, row, 2, name)
        put_text(ws, row, 3, note)
    if not items:
        row += 1
        ws.cell(row, 1, "None.").font = st.NM_FONT
    return row


def _put_any(ws: Worksheet, row: int, col: int, value: Any) -> None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    if isinstance(value, datetime):
        cell = ws.cell(row, col, value.replace(tzinfo=None))
        cell.number_format = st.DATETIME_FORMAT
    elif isinstance(value, date):
        ws.cell(row, col, value).number_format = st.DATE_FORMAT
    elif isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
        ws.cell(row, col, value.item() if isinstance(value, np.generic) else value)
    else:
        put_text(ws, row, col, str(value))


def _summary(wb: Workbook, data: ExportInput) -> None:
    ws = wb.create_sheet("Summary")
    ws["A1"] = "Summary"
    ws["A1"].font = st.TITLE
    row = 3
    ws.cell(row, 1, "Funnel").font = st.BOLD
    row += 1
    for c, h in enumerate(("Step", "Criterion", "Removed", "Remaining"), start=1):
        ws.cell(row, c, h).font = st.BOLD
        ws.cell(row, c).fill = st.HEADER_FILL
    row += 1
    ws.cell(row, 1, "Universe")
    ws.cell(row, 2, "stocks screened")
    ws.cell(row, 4, int(data.result.universe_count))
    for step in data.result.funnel:
        row += 1
        put_text(ws, row, 1, str(step.criterion_id))
        put_text(ws, row, 2, str(step.label))
        ws.cell(row, 3, int(step.removed))
        ws.cell(row, 4, int(step.remaining))
    row += 1
    ws.cell(row, 1, "Passed").font = st.BOLD
    ws.cell(row, 4, len(data.result.ranked)).font = st.BOLD
    row += 2
    universe = list(data.result.states.index)
    passed = list(data.result.ranked.index)
    values = data.table.values
    for title, name, tags in (("By sector", "sector", False), ("By theme", "themes", True)):
        if name not in values.columns:
            continue
        ws.cell(row, 1, title).font = st.BOLD
        row += 1
        for c, h in enumerate((name.capitalize().rstrip("s") if tags else "Sector", "Shortlist",
                               "Universe"), start=1):
            ws.cell(row, c, h).font = st.BOLD
            ws.cell(row, c).fill = st.HEADER_FILL
        short = value_counts(values[name], passed, tags=tags)
        every = value_counts(values[name], universe, tags=tags)
        keys = list(short.index) + [k for k in every.index if k not in short.index]
        for key in keys:
            row += 1
            put_text(ws, row, 1, str(key))
            ws.cell(row, 2, int(short.get(key, 0)))
            ws.cell(row, 3, int(every.get(key, 0)))
        row += 2
    for letter, width in zip("ABCD", (28, 48, 12, 12), strict=True):
        ws.column_dimensions[letter].width = width


"""The shortlist workbook (issue #7): Shortlist, Why, Near misses, Screen, Provenance, Summary.

Written with openpyxl through :func:`desktop.export.atomic.atomic_target`, so a failed or cancelled
export never leaves a half-written file. Each sheet is built row by row from prepared cells (see
:class:`_Cells`) and saved by :func:`desktop.export.xlsx_writer.save_workbook` (openpyxl's writer
with the cells written as text), with the garbage collector paused: 2,000 rows x 40 columns take
~0.8 s against the 1.5 s budget of issue #7 (``benchmarks/bench_export.py``). openpyxl's streaming
(write-only) mode was measured too and is no faster here: it re-binds every prepared cell.

Missing values are empty cells; "not meaningful" values are the text "n.m." with a comment giving
the reason - never a zero. Text from data that could start a formula is stored as a quoted string
cell (see :mod:`desktop.export.safe`): every text cell goes through :class:`_Cells`.
"""

from __future__ import annotations

import contextlib
import gc
import math
from collections.abc import Callable, Iterator, Mapping, Sequence
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
from openpyxl.worksheet.filters import AutoFilter
from openpyxl.worksheet.table import Table, TableColumn, TableStyleInfo

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
from desktop.export.safe import clean_text, is_risky
from desktop.export.screen_sheet import read_screen_definition, screen_sheet_rows
from desktop.export.xlsx_writer import save_workbook

__all__ = ["SHEETS", "read_screen_definition", "write_workbook", "yahoo_url"]

SHEETS = ("Shortlist", "Why", "Near misses", "Screen", "Provenance", "Summary")
TABLE_NAME = "Shortlist"
NM_DEFAULT_NOTE = "Not meaningful for this company (for example a ratio over a negative denominator)."
AUTHOR = "Pickaxe"

Progress = Callable[..., None]
Sheet = Any  # an openpyxl Worksheet


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
    steps: list[tuple[str, Callable[[Sheet, ExportInput], None]]] = [
        ("Shortlist", _shortlist), ("Why", _why), ("Near misses", _near_misses), ("Screen", _screen),
        ("Provenance", _provenance), ("Summary", _summary),
    ]
    total = len(steps) + 1
    with _collector_paused():
        wb = Workbook()
        wb.remove(wb.active)
        wb.properties.creator = AUTHOR
        wb.properties.title = f"Pickaxe shortlist: {data.screen_name}"
        for done, (title, step) in enumerate(steps):
            _check(is_cancelled)
            if progress:
                progress(done, total, f"Writing {title}")
            step(wb.create_sheet(title), data)
        _check(is_cancelled)
        if progress:
            progress(len(steps), total, "Saving")
        with atomic_target(target) as tmp:
            save_workbook(wb, tmp)
            _check(is_cancelled)
    if progress:
        progress(total, total, "Done")
    return target


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while the workbook is built and saved.

    The export creates ~110,000 cells that all stay alive until the save; each few hundred new
    objects start a collection that walks them again (and, in an app holding a large heap, full
    collections): 0.15-0.2 s of the 2,000 x 40 export. They are all alive until the save, and the
    temporary values are freed by reference counting, so the pause keeps no garbage for long; the
    collector's previous state is restored on every exit.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _check(is_cancelled: Callable[[], bool] | None) -> None:
    if is_cancelled is not None and is_cancelled():
        raise Cancelled()


# --- cells ---------------------------------------------------------------------------------------

def _cell(ws: Sheet, value: Any, style_array: Any = None) -> Cell:
    """A cell for ``ws.append`` (which sets its row and column), sharing ``style_array``.

    openpyxl copies a style array given to ``Cell()`` (1.5 µs, a tenth of the export's time at
    2,000 x 40); the prepared arrays are never modified after creation, so cells can share them.
    """
    cell = Cell(ws, 1, 1, value)
    if style_array is not None:
        cell._style = style_array
    return cell


class _Cells:
    """Makes the cells of one sheet: guarded text, and styles prepared once per look.

    openpyxl's per-cell style setters cost ~8 µs each (0.6 s for 2,000 x 40 cells against the
    1.5 s budget of issue #7), so each look's style array is prepared once on a prototype cell
    (through the public setters) and shared by the new cells (see :func:`_cell`).
    """

    def __init__(self, ws: Sheet) -> None:
        self.ws = ws
        self._styles: dict[tuple[Any, ...], Any] = {}
        self._notes: dict[str, dict[str, str]] | None = None

    def notes_for(self, field: str, notes: Mapping[tuple[str, str], str]) -> dict[str, str]:
        """``symbol -> note`` for one field (the table's notes indexed once per sheet)."""
        if not notes:
            return {}
        if self._notes is None:
            self._notes = {}
            for (symbol, name), text in notes.items():
                self._notes.setdefault(name, {})[symbol] = text
        return self._notes.get(field, {})

    def style(self, number_format: str | None = None, font: Any = None, alignment: Any = None,
              fill: Any = None, quote: bool = False) -> Any:
        key = (number_format, font, alignment, fill, quote)
        hit = self._styles.get(key)
        if hit is None:
            proto = Cell(self.ws)
            if number_format:
                proto.number_format = number_format
            if font is not None:
                proto.font = font
            if alignment is not None:
                proto.alignment = alignment
            if fill is not None:
                proto.fill = fill
            if quote:
                proto.quotePrefix = True
            hit = self._styles[key] = proto._style
        return hit

    def text(self, value: Any, *, font: Any = None, alignment: Any = None, fill: Any = None) -> Any:
        """A text cell; formula-like text is stored as a quoted string, never as a formula."""
        if value is None:
            return None
        text = clean_text(str(value))
        risky = is_risky(text)
        if not risky and font is None and alignment is None and fill is None:
            return text
        cell = _cell(self.ws, value=text,
                    style_array=self.style(font=font, alignment=alignment, fill=fill, quote=risky))
        cell.data_type = "s"
        return cell

    def bold(self, value: Any) -> Any:
        return self.text(value, font=st.BOLD)

    def head(self, value: Any) -> Any:
        return self.text(value, font=st.BOLD, fill=st.HEADER_FILL)

    def any(self, value: Any) -> Any:
        """Facts of any type: dates and times formatted, numbers as numbers, the rest as text."""
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return None
        if isinstance(value, pd.Timestamp):
            value = value.to_pydatetime()
        if isinstance(value, datetime):
            return _cell(self.ws, value=value.replace(tzinfo=None), style_array=self.style(st.DATETIME_FORMAT))
        if isinstance(value, date):
            return _cell(self.ws, value=value, style_array=self.style(st.DATE_FORMAT))
        if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
            return value.item() if isinstance(value, np.generic) else value
        return self.text(value)

    def number(self, value: float, unit: str) -> Any:
        style = st.unit_style(unit)
        if math.isinf(value):
            return st.INFINITY_TEXT if value > 0 else "-" + st.INFINITY_TEXT
        if style is None:
            return value
        return _cell(self.ws, value=value * style.scale, style_array=self.style(style.number_format))


def _excel_values(col: ColumnData) -> list[Any]:
    """Cell values for a column: scaled numbers, n.m. text, None for missing."""
    status = col.status
    if col.column.is_numeric:
        style = st.unit_style(col.column.unit) or st.UnitStyle("General")
        scaled = col.values * style.scale
        if col.column.unit == "usd":  # $M to the dollar: drops float noise, and a third of the XML
            scaled = np.round(scaled, 6)
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


def _styled_cells(cells: _Cells, col: ColumnData, values: list[Any], notes: Mapping[tuple[str, str], str],
                  symbols: Sequence[str], *, link: bool = False) -> list[Any]:
    """Cells for one column: number formats, guarded text, n.m. styling, notes as comments and
    (``link``) the hyperlink look (see :func:`_link`). Plain values stay plain; None is empty."""
    ws = cells.ws
    unit = col.column.unit
    style = st.unit_style(unit)
    fmt = style.number_format if style else (st.DATE_FORMAT if unit == "date" else None)
    number_style = cells.style(fmt) if fmt else None
    nm_style = cells.style(font=st.NM_FONT, alignment=st.CENTER)
    quote_style = cells.style(font=st.LINK_FONT if link else None, quote=True)
    link_style = cells.style(font=st.LINK_FONT)
    noted_style = cells.style(alignment=st.NOTED)
    field_notes = cells.notes_for(col.column.name, notes)
    out: list[Any] = []
    for offset, value in enumerate(values):
        if value is None:
            out.append(None)
            continue
        if number_style is not None and type(value) is float and not field_notes:  # the common case
            out.append(_cell(ws, value, number_style))
            continue
        note = field_notes.get(symbols[offset]) if field_notes else None
        if isinstance(value, str):
            value = clean_text(value)
            if value == NOT_MEANINGFUL_TEXT and col.status[offset] == NOT_MEANINGFUL:
                cell = _cell(ws, value, nm_style)
                note = note or NM_DEFAULT_NOTE
            elif is_risky(value):
                cell = _cell(ws, value, quote_style)
                cell.data_type = "s"  # never a formula, whatever openpyxl guessed
            elif link:
                cell = _cell(ws, value, link_style)
            elif note is None or value in (st.INFINITY_TEXT, "-" + st.INFINITY_TEXT):
                out.append(value)  # the Provenance legend explains unbounded values once
                continue
            else:
                cell = _cell(ws, value, noted_style)
        elif number_style is not None:
            cell = _cell(ws, value=value, style_array=number_style)
        elif note is None:
            out.append(value)
            continue
        else:
            cell = _cell(ws, value, noted_style)
        if note:  # why a value is n.m., or a caveat on where it came from
            cell.comment = Comment(note, AUTHOR, width=260, height=90)
        out.append(cell)
    return out


def _link(ws: Sheet, column: int, symbols: Sequence[str]) -> None:
    """Yahoo Finance links on the symbol cells of rows 2... (a link takes its cell's final address)."""
    for offset, symbol in enumerate(symbols):
        ws.cell(2 + offset, column).hyperlink = yahoo_url(symbol)


def _text_width(values: list[Any]) -> int:
    widest = 0
    for v in values:
        if isinstance(v, str):
            widest = max(widest, len(v))
        elif isinstance(v, (date, datetime)):
            widest = max(widest, 10)
    return widest


def _column_width(col: ColumnData, values: list[Any]) -> int:
    style = st.unit_style(col.column.unit)
    text = _text_width(values)
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


def _widths(ws: Sheet, widths: Sequence[float]) -> None:
    for idx, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(idx)].width = width


def _header_row(cells: _Cells, headers: Sequence[str]) -> list[Any]:
    return [cells.text(h, font=st.BOLD, alignment=st.WRAP_TOP, fill=st.HEADER_FILL) for h in headers]


# --- sheets --------------------------------------------------------------------------------------

def _shortlist(ws: Sheet, data: ExportInput) -> None:
    cells = _Cells(ws)
    columns = shortlist_columns(data)
    symbols = [str(s) for s in data.result.ranked.index]
    n = len(symbols)
    col_data = [column_data(data, c) for c in columns]
    headers = _unique([_header(c) for c in columns])
    symbol_col = next(i for i, c in enumerate(columns, start=1) if c.name == "symbol")
    per_column = [_excel_values(c) for c in col_data]
    _widths(ws, [st.fit_width(h, _column_width(c, v)) for h, c, v in zip(headers, col_data, per_column, strict=True)])
    ws.freeze_panes = f"{get_column_letter(symbol_col + 1)}2"  # the header row and the ticker column
    ws.append(_header_row(cells, headers))
    if n == 0:
        ws.append([])
        ws.append([cells.text("No stock passed this screen.", font=st.NM_FONT)])
        return
    notes = data.table.notes
    body = [_styled_cells(cells, c, v, notes, symbols, link=(i == symbol_col))
            for i, (c, v) in enumerate(zip(col_data, per_column, strict=True), start=1)]
    for row in zip(*body, strict=True):
        ws.append(row)
    _link(ws, symbol_col, symbols)
    ref = f"A1:{get_column_letter(len(columns))}{n + 1}"
    table = Table(displayName=TABLE_NAME, ref=ref, autoFilter=AutoFilter(ref=ref))
    table.tableColumns = [TableColumn(id=i, name=h) for i, h in enumerate(headers, start=1)]
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


def _why(ws: Sheet, data: ExportInput) -> None:
    cells = _Cells(ws)
    order = why_order(data)
    n = len(order)
    states = data.result.states.reindex(order)
    headers = ["Rank", "Symbol", "Name", "Result", "Failed", "Unknown"]
    fixed = len(headers)
    for crit in data.criteria:
        headers += [f"{crit.id}: {crit.description}", f"{crit.id} value"]
    headers = _unique(headers)
    notes = data.table.notes
    ranked = data.result.ranked
    rank_of = dict(zip(map(str, ranked.index), ranked["rank"].tolist(), strict=True)) \
        if "rank" in ranked.columns else {str(s): None for s in ranked.index}
    matrix = states.to_numpy() if len(states.columns) else np.zeros((n, 0))
    name_col = column_data(data, column_for("name"), order)
    names = _excel_values(name_col)
    columns: list[list[Any]] = [
        [rank_of.get(s) for s in order],
        _styled_cells(cells, column_data(data, column_for("symbol"), order), list(order), {}, order),
        _styled_cells(cells, name_col, names, {}, order),
        ["pass" if s in rank_of else "fail" for s in order],
        (matrix == FAIL).sum(axis=1).astype(int).tolist(),
        (matrix == UNKNOWN).sum(axis=1).astype(int).tolist(),
    ]
    widths: list[float] = [7, 10, min(st.MAX_WIDTH, max(12, _text_width(names) + 2)), 8, 8, 9]
    for crit in data.criteria:
        codes = states[crit.id].to_numpy() if crit.id in states.columns else np.full(n, UNKNOWN)
        columns.append([STATE_WORDS.get(int(c), "unknown") for c in codes])
        shown = column_data(data, column_for(crit.field, data.table), order)
        values = _excel_values(shown)
        columns.append(_styled_cells(cells, shown, values, notes, order))
        widths += [16, st.fit_width(f"{crit.id} value", _column_width(shown, values))]
    _widths(ws, widths)
    ws.freeze_panes = "C2"
    ws.row_dimensions[1].height = 45
    ws.append(_header_row(cells, headers))
    for row in zip(*columns, strict=True):
        ws.append(row)
    if not n:
        return
    last = n + 1
    for k in range(len(data.criteria)):
        sl, vl = get_column_letter(fixed + 1 + 2 * k), get_column_letter(fixed + 2 + 2 * k)
        for word, fill, font in (("pass", st.PASS_FILL, st.PASS_FONT), ("fail", st.FAIL_FILL, st.FAIL_FONT),
                                 ("unknown", st.UNKNOWN_FILL, st.UNKNOWN_FONT)):
            ws.conditional_formatting.add(f"{sl}2:{sl}{last}", CellIsRule(
                operator="equal", formula=[f'"{word}"'], fill=fill, font=font))
            ws.conditional_formatting.add(f"{vl}2:{vl}{last}", FormulaRule(
                formula=[f'${sl}2="{word}"'], fill=fill, font=font))
    ws.conditional_formatting.add(f"D2:D{last}", CellIsRule(operator="equal", formula=['"pass"'],
                                                            fill=st.PASS_FILL, font=st.PASS_FONT))
    ws.auto_filter.ref = f"A1:{get_column_letter(len(headers))}{last}"


def _near_misses(ws: Sheet, data: ExportInput) -> None:
    cells = _Cells(ws)
    headers = ["Symbol", "Name", "Criterion id", "Criterion", "Value", "Threshold", "Distance", "Unit"]
    _widths(ws, [10, 32, 12, 44, 14, 14, 14, 10])
    ws.freeze_panes = "B2"
    ws.append(_header_row(cells, headers))
    frame = data.result.near_misses
    if frame is None or len(frame) == 0:
        ws.append([cells.text("No stock fails exactly one criterion.", font=st.NM_FONT)])
        return
    frame = frame.reset_index() if "symbol" not in frame.columns else frame
    by_id = {c.id: c for c in data.criteria}
    symbols = [str(s) for s in frame["symbol"]]
    name_col = column_data(data, column_for("name"), symbols)
    names = _styled_cells(cells, name_col, _excel_values(name_col), {}, symbols)
    links = _styled_cells(cells, column_data(data, column_for("symbol"), symbols), symbols, {}, symbols,
                          link=True)
    for i, row in enumerate(frame.to_dict("records")):
        crit = by_id.get(str(row.get("criterion_id")))
        unit = _near_miss_unit(crit)
        line: list[Any] = [links[i], names[i], cells.text(row.get("criterion_id", "")),
                           cells.text(row.get("label") or (crit.description if crit else ""))]
        for key in ("value", "threshold", "distance"):
            line.append(_near_miss_value(cells, row.get(key), unit))
        line.append(cells.text(_unit_words(unit)))
        ws.append(line)
    _link(ws, 1, symbols)
    ws.auto_filter.ref = f"A1:H{len(frame) + 1}"


def _near_miss_value(cells: _Cells, value: Any, unit: str) -> Any:
    if value is None:
        return None
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
        number = float(value)
        return None if math.isnan(number) else cells.number(number, unit)
    if isinstance(value, (tuple, list)):
        return cells.text(", ".join(map(str, value)))
    return cells.text(value)


def _near_miss_unit(crit: Any) -> str:
    if crit is None or not crit.field:
        return ""
    if getattr(crit, "kind", "") == "percentile":
        return "percentile"
    return column_for(crit.field).unit


def _unit_words(unit: str) -> str:
    return {"usd": "$M", "usd_share": "$", "fraction": "%", "percent": "%", "ratio": "x",
            "months": "months", "years": "years", "percentile": "percentile"}.get(unit, unit)


def _screen(ws: Sheet, data: ExportInput) -> None:
    cells = _Cells(ws)
    _widths(ws, [28, 70, 24, 24, 24])
    looks = {"title": lambda v: cells.text(v, font=st.TITLE), "bold": cells.bold,
             "italic": lambda v: cells.text(v, font=st.ITALIC), "wrap": lambda v: cells.text(v, alignment=st.WRAP_TOP),
             "text": cells.text, "number": lambda v: v}
    for row in screen_sheet_rows(data.screen_definition, data.criteria):
        ws.append([looks[kind](value) if value is not None else None for kind, value in row])


def _provenance(ws: Sheet, data: ExportInput) -> None:
    cells = _Cells(ws)
    _widths(ws, [24, 60, 14, 60, 40, 40, 40, 40])
    rows: list[list[Any]] = [[cells.text("Provenance", font=st.TITLE)], []]
    facts: list[tuple[str, Any]] = [
        ("Screen", data.screen_name),
        ("Snapshot", data.snapshot_id if data.snapshot_id is not None else "-"),
        ("Data as of", data.as_of),
        ("Snapshot created (UTC)", data.snapshot_created_at),
        ("Exported at (UTC)", data.exported_at),
        ("Run id", data.run_id),
        ("Pickaxe version", data.app_version),
        ("Stocks screened", int(data.result.universe_count)),
        ("Stocks passing", len(data.result.ranked)),
    ]
    rows += [[cells.bold(label), cells.any(value)] for label, value in facts]
    rows += [[], [cells.bold("How to read the numbers")]]
    rows += [[cells.text(line)] for line in (
        "An empty cell means the value is missing from every source.",
        "\"n.m.\" means not meaningful (e.g. net debt / EBITDA with negative EBITDA); its comment gives "
        "the reason. Neither is ever written as zero.",
        "Money is in millions of US dollars ($M); percentages and ratios are as formatted; "
        "\"∞\" is an unbounded value (e.g. the cash runway of a company that burns no cash).",
    )]
    rows += [[], [cells.bold("Sources")],
             [cells.head(h) for h in ("Source", "File or endpoint", "Data as of", "Fetched at", "Rows")]]
    for source in data.sources:
        rows.append([cells.any(source.get(k)) for k in ("source", "origin", "as_of", "fetched_at", "rows")])
    if not data.sources:
        rows.append([cells.text("No source list recorded for this snapshot.", font=st.NM_FONT)])
    rows += [[], [cells.bold("Exported fields")],
             [cells.head(h) for h in ("Field", "Label", "Unit", "Definition", "Formula", "Sources", "Caveats",
                                      "Values by source")]]
    counts = _source_counts(data)
    names = ["rank", *(["score"] if "score" in data.result.ranked.columns else []), *exported_fields(data)]
    for name in names:
        try:
            f = data.table.field(name)  # a formula field is exported with its formula (issue #16)
            texts = [f.name, f.label, _unit_label(f.unit), f.definition, f.formula, f.sources, f.caveats]
        except KeyError:
            col = column_for(name)
            texts = [col.name, col.label, _unit_label(col.unit), col.definition, "", "", ""]
        texts.append(counts.get(name, ""))
        rows.append([cells.text(t, alignment=st.WRAP_TOP) if t else None for t in texts])
    # Each note also sits as a comment on its cell; here they are counted, to audit at a glance.
    rows += [[], [cells.bold("Notes on shortlisted values (each is a comment on its cell)")],
             [cells.head(h) for h in ("Field", "Note", "Stocks")]]
    shown = set(exported_fields(data))
    passed = set(map(str, data.result.ranked.index))
    note_counts: dict[tuple[str, str], int] = {}
    for (symbol, name), note in data.table.notes.items():
        if symbol in passed and name in shown:
            note_counts[(name, note)] = note_counts.get((name, note), 0) + 1
    for (name, note), n in sorted(note_counts.items(), key=lambda kv: (kv[0][0], -kv[1], kv[0][1])):
        rows.append([cells.text(name), cells.text(note), n])
    if not note_counts:
        rows.append([cells.text("None.", font=st.NM_FONT)])
    for row in rows:
        ws.append(row)


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
    sizes = sub.groupby(["field", "source"], sort=False).size()
    parts: dict[str, list[tuple[int, str]]] = {}
    for (name, src), n in sizes.items():  # type: ignore[misc]
        parts.setdefault(str(name), []).append((-int(n), str(src)))
    return {name: ", ".join(f"{src}: {-neg:,}" for neg, src in sorted(pairs)) for name, pairs in parts.items()}


def _summary(ws: Sheet, data: ExportInput) -> None:
    cells = _Cells(ws)
    _widths(ws, [28, 48, 12, 12])
    rows: list[list[Any]] = [[cells.text("Summary", font=st.TITLE)], [], [cells.bold("Funnel")],
                             [cells.head(h) for h in ("Step", "Criterion", "Removed", "Remaining")],
                             ["Universe", "stocks screened", None, int(data.result.universe_count)]]
    for step in data.result.funnel:
        rows.append([cells.text(step.criterion_id), cells.text(step.label), int(step.removed), int(step.remaining)])
    rows += [[cells.bold("Passed"), None, None, len(data.result.ranked)], []]
    universe = list(data.result.states.index)
    passed = list(data.result.ranked.index)
    values = data.table.values
    for title, name, label, tags in (("By sector", "sector", "Sector", False), ("By theme", "themes", "Theme", True)):
        if name not in values.columns:
            continue
        rows += [[cells.bold(title)], [cells.head(h) for h in (label, "Shortlist", "Universe")]]
        short = value_counts(values[name], passed, tags=tags)
        every = value_counts(values[name], universe, tags=tags)
        for key in list(short.index) + [k for k in every.index if k not in short.index]:
            rows.append([cells.text(key), int(short.get(key, 0)), int(every.get(key, 0))])
        rows.append([])
    for row in rows:
        ws.append(row)

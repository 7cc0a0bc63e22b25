"""The shortlist workbook (issue #7): Shortlist, Why, Near misses, Screen, Provenance, Summary.

Written with openpyxl through :func:`desktop.export.atomic.atomic_target`, so a failed or cancelled
export never leaves a half-written file. Each sheet is built row by row from prepared cells (see
:class:`_Cells`) and saved by :func:`desktop.export.xlsx_writer.save_workbook` (openpyxl's writer
with the cells written as text), with the garbage collector paused (timings in docs/export.md,
``benchmarks/bench_export.py``). openpyxl's streaming (write-only) mode was measured too and is no
faster here: it re-binds every prepared cell.

Missing values are empty cells; "not meaningful" values are the text "n.m." with a comment giving
the reason - never a zero; stale and suspect values keep their number, greyed or amber, and on the
Shortlist each value is followed by its period and state (issue #12); the Provenance sheet names the
rule behind every n.m., stale and suspect value shown. An unbounded value is a number shown as "∞"
(issue #17). Text from data that could start a formula is stored as a quoted string cell (see
:mod:`desktop.export.safe`): every text cell goes through :class:`_Cells`.
"""

from __future__ import annotations

import contextlib
import gc
import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from collections.abc import Set as AbstractSet
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
from openpyxl.utils.datetime import to_excel
from openpyxl.worksheet.filters import AutoFilter
from openpyxl.worksheet.page import PageMargins
from openpyxl.worksheet.properties import Outline, PageSetupProperties
from openpyxl.worksheet.table import Table, TableColumn, TableStyleInfo

from desktop.engine import catalog
from desktop.errors import Cancelled
from desktop.export import xlsx_style as st
from desktop.export.atomic import atomic_target, check_target
from desktop.export.content import (
    FAIL,
    MISSING,
    NOT_MEANINGFUL,
    NOT_MEANINGFUL_TEXT,
    OK,
    PERIOD,
    SCORE_THRESHOLDS,
    STALE,
    STATE,
    STATE_NAMES,
    STATE_WORDS,
    SUSPECT,
    UNKNOWN,
    VALUE,
    Column,
    ColumnData,
    ExportInput,
    column_data,
    column_for,
    exported_fields,
    shortlist_columns,
    state_rows,
    value_counts,
    why_order,
    with_states,
)
from desktop.export.safe import clean_text, is_risky
from desktop.export.screen_sheet import MARKER, read_screen_definition, screen_sheet_rows
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


_new_cell = Cell.__new__


def _known_cell(ws: Sheet, value: float | str, data_type: str, style_array: Any = None) -> Cell:
    """:func:`_cell` for a float or one of our own words ("ok", "stale"): the very cell openpyxl
    makes, without its type dispatch and text checks (1.3 µs of 1.5 µs a cell, ~0.25 s of the
    ~200,000 Shortlist cells at 2,000 x 40 with periods and states). Never for text from data."""
    cell = _new_cell(Cell)
    cell.parent, cell._style, cell.row, cell.column = ws, style_array, 1, 1
    cell._value, cell.data_type, cell._hyperlink, cell._comment = value, data_type, None, None
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
            return _cell(self.ws, math.copysign(st.INFINITY_VALUE, value), self.style(st.INFINITY_FORMAT))
        if style is None:
            return value
        return _cell(self.ws, value=value * style.scale, style_array=self.style(style.number_format))


def _excel_values(col: ColumnData) -> list[Any]:
    """Cell values for a column: scaled numbers (infinity as +/-INFINITY_VALUE), dates as Excel
    serial numbers, n.m. text, None for missing."""
    status = col.status
    if col.column.is_numeric:
        style = st.unit_style(col.column.unit) or st.UnitStyle("General")
        scaled = col.values * style.scale
        if col.column.unit == "usd":  # $M to the dollar: drops float noise, and a third of the XML
            scaled = np.round(scaled, 6)
        cells = np.where(np.isinf(scaled), np.copysign(st.INFINITY_VALUE, scaled), scaled).astype(object)
        cells[(status == MISSING) | np.isnan(scaled)] = None
        cells[status == NOT_MEANINGFUL] = NOT_MEANINGFUL_TEXT
        return cells.tolist()  # Python floats, None and "n.m."
    out: list[Any] = []
    for value, code in zip(col.values, status.tolist(), strict=True):
        if code == NOT_MEANINGFUL:
            out.append(NOT_MEANINGFUL_TEXT)
        elif value is None or code == MISSING:
            out.append(None)
        elif isinstance(value, tuple):
            out.append(", ".join(value))
        elif isinstance(value, bool):  # text, as the app shows it; LibreOffice turns booleans into =TRUE()
            out.append("yes" if value else "no")
        elif isinstance(value, date) and not isinstance(value, datetime):
            out.append(_serial(value))  # a number with a date format: the fast cell path
        else:
            out.append(value)
    return out


_STATE_FONTS = {STALE: st.STALE_FONT, SUSPECT: st.SUSPECT_FONT}
_DAY_ZERO = date(1899, 12, 30).toordinal()  # Excel's day 0 for every date after 1900-02-28
_MARCH_1900 = date(1900, 3, 1)


def _serial(day: date) -> float:
    """Excel's serial number of ``day`` (openpyxl's to_excel, without its per-call overhead)."""
    return float(day.toordinal() - _DAY_ZERO) if day >= _MARCH_1900 else float(to_excel(day))


def _styled_cells(cells: _Cells, col: ColumnData, values: list[Any], notes: Mapping[tuple[str, str], str],
                  symbols: Sequence[str], *, link: bool = False) -> list[Any]:
    """Cells for one column: number formats, guarded text, n.m. / stale / suspect looks, notes as
    comments and (``link``) the hyperlink look (see :func:`_link`). Plain values stay plain; None
    is empty. An unbounded number gets the ∞ format and no comment (the legend explains it)."""
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
    status = col.status.tolist()
    infinite = st.INFINITY_VALUE
    out: list[Any] = []
    for offset, value in enumerate(values):
        if value is None:
            out.append(None)
            continue
        code = status[offset]
        if (number_style is not None and type(value) is float and code == OK and not field_notes
                and -infinite < value < infinite):  # the common case
            out.append(_known_cell(ws, value, "n", number_style))
            continue
        note = field_notes.get(symbols[offset]) if field_notes else None
        font = _STATE_FONTS.get(code)
        if isinstance(value, str):
            value = clean_text(value)
            if value == NOT_MEANINGFUL_TEXT and code == NOT_MEANINGFUL:
                cell = _cell(ws, value, nm_style)
                note = note or NM_DEFAULT_NOTE
            elif is_risky(value):
                cell = _cell(ws, value, quote_style)
                cell.data_type = "s"  # never a formula, whatever openpyxl guessed
            elif link:
                cell = _cell(ws, value, link_style)
            elif font is not None:
                cell = _cell(ws, value, cells.style(font=font, alignment=st.NOTED))
            elif note is None:
                out.append(value)
                continue
            else:
                cell = _cell(ws, value, noted_style)
        elif isinstance(value, float) and abs(value) >= infinite:
            cell = _cell(ws, value, cells.style(st.INFINITY_FORMAT, font=font))
            if code == OK:
                note = None  # the Provenance legend explains unbounded values once
        elif number_style is not None:
            cell = _cell(ws, value, number_style if font is None else cells.style(fmt, font=font))
        elif note is None and font is None:
            out.append(value)
            continue
        else:
            cell = _cell(ws, value, cells.style(font=font, alignment=st.NOTED))
        if note:  # why a value is n.m., stale or suspect, or a caveat on where it came from
            cell.comment = Comment(note, AUTHOR, width=260, height=90)
        out.append(cell)
    return out


def _state_cells(cells: _Cells, words: list[str], alignment: Any = None) -> list[Any]:
    """A state column: "ok" plain, the other states in the look their values have."""
    looks = {"stale": cells.style(font=st.STALE_FONT, fill=st.STALE_FILL, alignment=alignment),
             "suspect": cells.style(font=st.SUSPECT_FONT, fill=st.SUSPECT_FILL, alignment=alignment),
             NOT_MEANINGFUL_TEXT: cells.style(font=st.NM_FONT, alignment=alignment),
             "missing": cells.style(font=st.NM_FONT, alignment=alignment)}
    return [_known_cell(cells.ws, word, "s", looks.get(word)) for word in words]


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
    columns = with_states(data, shortlist_columns(data))
    symbols = [str(s) for s in data.result.ranked.index]
    n = len(symbols)
    col_data = [column_data(data, c) for c in columns]
    headers = _unique([_header(c) for c in columns])
    symbol_col = next(i for i, c in enumerate(columns, start=1) if c.name == "symbol")
    per_column = [_excel_values(c) for c in col_data]
    _widths(ws, [_shortlist_width(h, c, v) for h, c, v in zip(headers, col_data, per_column, strict=True)])
    _outline_companions(ws, columns)
    ws.freeze_panes = f"{get_column_letter(symbol_col + 1)}2"  # the header row and the ticker column
    if any(c.role != VALUE for c in columns):
        ws.row_dimensions[1].height = HEADER_HEIGHT  # "Net debt / EBITDA period" wraps in its narrow column
    ws.append(_header_row(cells, headers))
    _print_setup(ws, data)
    if n == 0:
        ws.append([])
        ws.append([cells.text("No stock passed this screen.", font=st.NM_FONT)])
        return
    notes = data.table.notes
    body = [_state_cells(cells, v) if c.column.role == STATE else
            _styled_cells(cells, c, v, notes, symbols, link=(i == symbol_col))
            for i, (c, v) in enumerate(zip(col_data, per_column, strict=True), start=1)]
    for row in zip(*body, strict=True):
        ws.append(row)
    _link(ws, symbol_col, symbols)
    ref = f"A1:{get_column_letter(len(columns))}{n + 1}"
    _add_table(ws, TABLE_NAME, ref, headers)
    for idx, col in enumerate(columns, start=1):
        limits = SCORE_THRESHOLDS if col.name == "score" else catalog.thresholds(col.name)
        if limits is not None and col.role == VALUE and col.is_numeric:
            letter = get_column_letter(idx)
            ws.conditional_formatting.add(f"{letter}2:{letter}{n + 1}", _colour_scale(limits, col.unit))


HEADER_HEIGHT = 45  # points: three lines of a wrapped header


def _shortlist_width(header: str, col: ColumnData, values: list[Any]) -> float:
    """Period and state columns are narrow, their header wrapped (never inside a word)."""
    if col.column.role == VALUE:
        return st.fit_width(header, _column_width(col, values))
    narrow = st.PERIOD_WIDTH if col.column.role == PERIOD else st.STATE_WIDTH
    return max(narrow, min(st.MAX_WIDTH, max(len(word) for word in header.split()) + 1.0))


def _outline_companions(ws: Sheet, columns: Sequence[Column]) -> None:
    """Each value's period and state columns form a collapsed outline group after it: the sheet
    opens (and prints on one readable page) with the values, greyed or amber where a value is stale
    or suspect; the "+" above a value, or the outline button "2", shows its period and state."""
    if not any(c.role != VALUE for c in columns):
        return
    for idx, col in enumerate(columns, start=1):
        dim = ws.column_dimensions[get_column_letter(idx)]
        if col.role != VALUE:
            dim.outlineLevel, dim.hidden = 1, True
        elif idx < len(columns) and columns[idx].role != VALUE:
            dim.collapsed = True  # the group after this value is closed; its button sits here
    ws.sheet_properties.outlinePr = Outline(summaryBelow=True, summaryRight=False)


def _add_table(ws: Sheet, name: str, ref: str, headers: Sequence[str]) -> None:
    table = Table(displayName=name, ref=ref, autoFilter=AutoFilter(ref=ref))
    table.tableColumns = [TableColumn(id=i, name=h) for i, h in enumerate(headers, start=1)]
    table.tableStyleInfo = TableStyleInfo(name="TableStyleMedium2", showRowStripes=True,
                                          showColumnStripes=False, showFirstColumn=False,
                                          showLastColumn=False)
    ws.add_table(table)


def _colour_scale(limits: catalog.Thresholds, unit: str) -> ColorScaleRule:
    """Red at the weak threshold, yellow at fair, green at healthy: fixed points, the same for every
    shortlist (issue #17), in the cell's unit ($M for money)."""
    scale = (st.unit_style(unit) or st.UnitStyle("General")).scale
    points = sorted([(limits.bad * scale, st.WEAK_COLOUR), (limits.fair * scale, st.FAIR_COLOUR),
                     (limits.good * scale, st.HEALTHY_COLOUR)])
    (low, low_colour), (mid, mid_colour), (high, high_colour) = points
    return ColorScaleRule(start_type="num", start_value=low, start_color=low_colour,
                          mid_type="num", mid_value=mid, mid_color=mid_colour,
                          end_type="num", end_value=high, end_color=high_colour)


def _print_setup(ws: Sheet, data: ExportInput, *, landscape: bool = True, repeat_header: bool = True,
                 area: str | None = None) -> None:
    """Landscape (or portrait), one page wide, the header row on every page, and a page header
    naming the screen, the sheet and the data date; the footer counts pages (issue #17)."""
    ws.page_setup.orientation = "landscape" if landscape else "portrait"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0  # as many pages down as it takes
    ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    ws.page_margins = PageMargins(left=0.4, right=0.4, top=0.7, bottom=0.6, header=0.3, footer=0.3)
    if repeat_header:
        ws.print_title_rows = "1:1"
    if area:
        ws.print_area = area
    ws.oddHeader.left.text = _page_text(f"Pickaxe: {data.screen_name}")
    ws.oddHeader.left.size = 9
    ws.oddHeader.center.text = _page_text(ws.title)
    ws.oddHeader.center.font = "Calibri,Bold"
    ws.oddHeader.right.text = _page_text(f"data as of {data.as_of.isoformat()}")
    ws.oddHeader.right.size = 9
    snapshot = f"snapshot {data.snapshot_id}" if data.snapshot_id is not None else "no snapshot id"
    exported = f", exported {data.exported_at:%Y-%m-%d %H:%M} UTC" if data.exported_at else ""
    ws.oddFooter.left.text = _page_text(snapshot + exported)
    ws.oddFooter.left.size = 8
    ws.oddFooter.right.text = "Page &P of &N"
    ws.oddFooter.right.size = 8


def _page_text(text: str, limit: int = 80) -> str:
    """Text for a page header or footer: "&" starts a code there, so it is doubled; kept short
    (Excel allows 255 characters for the whole header)."""
    text = clean_text(text).replace("\n", " ").replace("\r", " ")
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return text.replace("&", "&&")


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
    ws.row_dimensions[1].height = HEADER_HEIGHT
    ws.append(_header_row(cells, headers))
    _print_setup(ws, data)
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
    _print_setup(ws, data)
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


SCREEN_WIDTHS = (28, 70, 24, 24, 24, 24, 24)


def _screen(ws: Sheet, data: ExportInput) -> None:
    cells = _Cells(ws)
    _widths(ws, SCREEN_WIDTHS)
    looks = {"title": lambda v: cells.text(v, font=st.TITLE),
             "bold": lambda v: cells.text(v, font=st.BOLD, alignment=st.TOP),
             "italic": lambda v: cells.text(v, font=st.ITALIC), "wrap": lambda v: cells.text(v, alignment=st.WRAP_TOP),
             "text": cells.text, "number": lambda v: v}
    rows = screen_sheet_rows(data.screen_definition, data.criteria)
    _append_fitted(ws, [[looks[kind](value) if value is not None else None for kind, value in row] for row in rows],
                   SCREEN_WIDTHS)
    # The printout is the screen in words, up to the criteria; the JSON note and the JSON are for Pickaxe.
    last_printed = next(i for i, row in enumerate(rows) if row and row[0] == ("text", MARKER)) - 1
    _print_setup(ws, data, repeat_header=False, area=f"A1:G{last_printed}")



PROVENANCE_WIDTHS = (22, 28, 12, 62, 28, 22, 42, 20)  # ~230 characters: one landscape page at ~60 %


def _provenance(ws: Sheet, data: ExportInput) -> None:
    cells = _Cells(ws)
    _widths(ws, PROVENANCE_WIDTHS)
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
    legend = range(len(rows) + 1, len(rows) + 1 + len(_legend(data)))  # rows spanning the sheet's width
    rows += [[cells.text(line, alignment=st.WRAP_TOP)] for line in _legend(data)]
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
        rows.append([cells.text(name, alignment=st.TOP), cells.text(note, alignment=st.WRAP_TOP),
                     _cell(ws, n, cells.style(alignment=st.TOP))])
    if not note_counts:
        rows.append([cells.text("None.", font=st.NM_FONT)])
    rows += _threshold_rows(cells, data)
    rows += _state_count_rows(cells, data)
    rows += [[], [cells.bold("Values that are not ok: the rule behind every n.m., stale and suspect value "
                             "shown in this workbook (Shortlist values, and criterion values on the Why sheet)")]]
    _append_fitted(ws, rows, PROVENANCE_WIDTHS, spanning=set(legend))
    for number in legend:
        ws.merge_cells(start_row=number, start_column=1, end_row=number, end_column=len(PROVENANCE_WIDTHS))
    _state_table(ws, cells, data)
    _print_setup(ws, data, repeat_header=False)


LINE_POINTS = 15  # the height of one line of 11-point text


def _append_fitted(ws: Sheet, rows: list[list[Any]], widths: Sequence[float], spanning: AbstractSet[int] = frozenset(),
                   ) -> None:
    """Append ``rows``, each as tall as its longest wrapped text needs: LibreOffice keeps a loaded row
    one line high, so such text overlapped the rows below on screen and in print. A row in
    ``spanning`` (numbers) is one cell merged across every column."""
    total = float(sum(widths))
    for row in rows:
        ws.append(row)
        lines, number = 1, 0
        for index, item in enumerate(row):
            if not isinstance(item, Cell) or not isinstance(item.value, str):
                continue  # only a prepared cell wraps; append gave it its row
            width = total if item.row in spanning else float(widths[index]) if index < len(widths) else 8.43
            needed = _lines(item.value, width)
            if needed > lines and item.alignment.wrap_text:  # the style lookup last: it is the slow part
                lines, number = needed, item.row
        if lines > 1:
            ws.row_dimensions[number].height = LINE_POINTS * lines


def _lines(text: str, width: float) -> int:
    """Lines ``text`` takes in a column ``width`` characters wide (word wrap, rounded up)."""
    per_line = max(width * 1.15 - 2.0, 1.0)  # a column holds ~15 % more letters than its width in "0"s
    return sum(max(1, math.ceil(len(part) / per_line)) for part in text.split("\n"))


def _legend(data: ExportInput) -> tuple[str, ...]:
    params = data.table.params
    return (
        "An empty cell means the value is missing from every source.",
        "\"n.m.\" means not meaningful (e.g. net debt / EBITDA with negative EBITDA); its comment gives "
        "the reason. Neither is ever written as zero.",
        "Each value on the Shortlist has its period (the period end of the statement it comes from, or the "
        "as-of date of a market or reported value) and its state: ok, missing, n.m., stale (older than "
        f"{params.stale_months:g} months for statements, {params.market_stale_days} days for market values; "
        "greyed) or suspect (breaks a sanity rule; amber). Stale and suspect values keep their number; the "
        "table at the end of this sheet names the rule behind each. The period and state columns start "
        "collapsed: the \"+\" above a value, or the outline button \"2\", shows them; \"1\" hides them.",
        "Money is in millions of US dollars ($M); percentages and ratios are as formatted. "
        + st.INFINITY_LEGEND + " An example is the cash runway of a company that burns no cash.",
        "Colour scales use fixed thresholds, the same for every export (red at weak, yellow at fair, green "
        "at healthy; the table \"Colour scale thresholds\" below): a colour never compares a stock with its "
        "neighbours on the shortlist.",
    )


STATE_HEADERS = ("Symbol", "Field", "State", "Reason", "Rule", "Period", "Origin")
STATE_TABLE = "ValueStates"


def _threshold_rows(cells: _Cells, data: ExportInput) -> list[list[Any]]:
    """The fixed thresholds behind the Shortlist's colour scales, in the cells' units."""
    rows: list[list[Any]] = [[], [cells.bold("Colour scale thresholds")],
                             [cells.head(h) for h in ("Field", "Weak (red)", "Fair (yellow)", "Healthy (green)")]]
    for col in shortlist_columns(data):
        limits = SCORE_THRESHOLDS if col.name == "score" else catalog.thresholds(col.name)
        if limits is not None and col.is_numeric:
            rows.append([cells.text(col.name), *(cells.number(v, col.unit) for v in
                                                 (limits.bad, limits.fair, limits.good))])
    if len(rows) == 3:
        rows.append([cells.text("No shortlist column has thresholds.", font=st.NM_FONT)])
    return rows


def _state_count_rows(cells: _Cells, data: ExportInput) -> list[list[Any]]:
    """Per exported field, how many shortlisted values are in each state."""
    rows: list[list[Any]] = [[], [cells.bold("States of shortlisted values")],
                             [cells.head(h) for h in ("Field", *STATE_NAMES.values())]]
    status = data.table.status
    shortlisted = data.result.ranked.index
    for name in exported_fields(data):
        if name not in status.columns:
            continue
        codes = status[name].reindex(shortlisted).fillna(MISSING).astype(int)
        rows.append([cells.text(name), *(int((codes == code).sum()) for code in STATE_NAMES)])
    return rows


def _state_table(ws: Sheet, cells: _Cells, data: ExportInput) -> None:
    """The last section of the Provenance sheet: one row per n.m., stale and suspect value, as a
    native table (filter by field, state or rule). Built from :func:`state_rows`."""
    found = state_rows(data)
    top = ws.max_row + 1
    ws.append(_header_row(cells, STATE_HEADERS))
    if not found:
        ws.append([cells.text("None: every value shown is ok or missing.", font=st.NM_FONT)])
        return
    date_style = cells.style(st.DATE_FORMAT, alignment=st.TOP_LEFT)
    states = _state_cells(cells, [row.state for row in found], st.TOP)
    _append_fitted(ws, [[cells.text(row.symbol, alignment=st.TOP), cells.text(row.field, alignment=st.TOP), state,
                         cells.text(row.reason, alignment=st.WRAP_TOP), cells.text(row.rule, alignment=st.TOP),
                         _cell(ws, _serial(row.period), date_style) if row.period else None,
                         cells.text(row.origin, alignment=st.WRAP_TOP)]
                        for row, state in zip(found, states, strict=True)], PROVENANCE_WIDTHS)
    _add_table(ws, STATE_TABLE, f"A{top}:G{top + len(found)}", STATE_HEADERS)


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
    _print_setup(ws, data, landscape=False, repeat_header=False)
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

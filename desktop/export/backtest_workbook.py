"""The Backtest workbook (issue #15): Summary (with a native line chart), Curve, Periods, Holdings,
Events and Assumptions.

Written with openpyxl through :func:`desktop.export.atomic.atomic_target` (a failed or cancelled
export leaves no half-written file). Every text cell from data (names, symbols, reasons) goes
through :func:`desktop.export.safe.clean_text` and a formula-like text is stored as a quoted string,
never as a formula. Returns and weights are fractions with a percent format; a missing value is an
empty cell, never a zero.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from datetime import date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.cell.cell import Cell
from openpyxl.chart import LineChart, Reference
from openpyxl.utils import get_column_letter

from desktop.engine.backtest import IWM, SCREEN, SERIES, UNIVERSE, BacktestResult
from desktop.errors import Cancelled
from desktop.export import xlsx_style as st
from desktop.export.atomic import atomic_target, check_target
from desktop.export.safe import clean_text, is_risky
from desktop.export.xlsx_writer import save_workbook

SHEETS = ("Summary", "Curve", "Periods", "Holdings", "Events", "Assumptions")
PERCENT = "0.0%"
WEIGHT = "0.00%"
RATIO = "0.00"
AUTHOR = "Pickaxe"
# Label, definition and number format of each statistic (the Summary says what every figure is).
STATS = (
    ("total_return", "Total return", "value at the end / value at the start - 1", PERCENT),
    ("cagr", "CAGR", "compound annual growth rate over calendar days", PERCENT),
    ("volatility", "Volatility", "standard deviation of daily returns x sqrt(252), annualised", PERCENT),
    ("sharpe", "Sharpe ratio", "mean daily excess return / its standard deviation x sqrt(252)", RATIO),
    ("max_drawdown", "Maximum drawdown", "largest fall from a running peak of daily values", PERCENT),
    ("max_drawdown_start", "Drawdown peak", "the day of the peak before the largest fall", st.DATE_FORMAT),
    ("max_drawdown_end", "Drawdown trough", "the day of the trough of the largest fall", st.DATE_FORMAT),
)
SUMMARY = (
    ("share_beating_iwm", "Periods beating IWM", "share of holding periods with a higher return than IWM", PERCENT),
    ("share_beating_universe", "Periods beating the universe",
     "share of holding periods with a higher return than the equal-weighted universe", PERCENT),
    ("average_holdings", "Average holdings", "stocks held per period, on average", "0.0"),
    ("average_turnover", "Average turnover", "one-way turnover per rebalance after the first purchase", PERCENT),
    ("annual_turnover", "Annual turnover", "average turnover x rebalances per year", PERCENT),
    ("total_cost", "Costs paid", "sum of each rebalance's cost as a share of the portfolio then", WEIGHT),
    ("cash_periods", "Periods in cash", "periods where no stock passed the screen", "0"),
    ("rebalances", "Rebalances", "holding periods in the backtest", "0"),
)

Progress = Callable[..., None]


def write_backtest_workbook(path: str | Path, result: BacktestResult, *, snapshot: str = "",
                            progress: Progress | None = None,
                            is_cancelled: Callable[[], bool] | None = None) -> Path:
    """Write the Backtest workbook of ``result`` to ``path`` atomically and return the path.

    Raises:
        ExportError: the folder is missing or read-only, or the file is locked.
        Cancelled: ``is_cancelled()`` became true; an existing file is left untouched.
    """
    target = Path(path)
    check_target(target.expanduser().absolute())
    wb = Workbook()
    wb.remove(wb.active)
    wb.properties.creator = AUTHOR
    wb.properties.title = f"Pickaxe backtest: {clean_text(result.screen_name)}"
    steps: list[tuple[str, Callable[[Any, BacktestResult], None]]] = [
        ("Summary", lambda ws, r: _summary(ws, r, snapshot)), ("Curve", _curve), ("Periods", _periods),
        ("Holdings", _holdings), ("Events", _events), ("Assumptions", _assumptions)]
    total = len(steps) + 1
    for done, (title, step) in enumerate(steps):
        _check(is_cancelled)
        if progress is not None:
            progress(done, total, f"Writing {title}")
        step(wb.create_sheet(title), result)
    _chart(wb["Summary"], wb["Curve"], len(result.curves))
    _check(is_cancelled)
    if progress is not None:
        progress(len(steps), total, "Saving")
    with atomic_target(target) as tmp:
        save_workbook(wb, tmp)
        _check(is_cancelled)
    if progress is not None:
        progress(total, total, "Done")
    return target


def _check(is_cancelled: Callable[[], bool] | None) -> None:
    if is_cancelled is not None and is_cancelled():
        raise Cancelled()


def _text(ws: Any, value: Any, font: Any = None, fill: Any = None, alignment: Any = None) -> Any:
    """A text cell: cleaned, formula-like text quoted (never a formula)."""
    text = clean_text(str(value))
    cell = Cell(ws, value=text)
    cell.data_type = "s"
    if is_risky(text):
        cell.quotePrefix = True
    if font is not None:
        cell.font = font
    if fill is not None:
        cell.fill = fill
    if alignment is not None:
        cell.alignment = alignment
    return cell


def _value(ws: Any, value: Any, number_format: str | None = None) -> Any:
    """A number or date cell (None when missing: an empty cell), or text."""
    if value is None or value is pd.NaT:
        return None
    if isinstance(value, float | np.floating):
        if math.isnan(value):
            return None
        if math.isinf(value):  # a number, so the column stays numeric (the Assumptions say how)
            cell = Cell(ws, value=math.copysign(st.INFINITY_VALUE, value))
            cell.number_format = st.INFINITY_FORMAT
            return cell
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime().date()
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date | int | float | np.integer | np.floating) and not isinstance(value, bool):
        cell = Cell(ws, value=value.item() if isinstance(value, np.generic) else value)
        if number_format:
            cell.number_format = number_format
        elif isinstance(value, date):
            cell.number_format = st.DATE_FORMAT
        return cell
    return _text(ws, value)


def _table(ws: Any, headers: Iterable[str], rows: Iterable[Iterable[Any]], widths: Iterable[float]) -> None:
    ws.append([_text(ws, h, font=st.BOLD, fill=st.HEADER_FILL) for h in headers])
    for row in rows:
        ws.append(list(row))
    for i, w in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(i)].width = w
    ws.freeze_panes = "A2"


def _summary(ws: Any, r: BacktestResult, snapshot: str) -> None:
    s = r.settings
    ws.append([_text(ws, f"Backtest: {r.screen_name}", font=st.TITLE)])
    facts = (
        ("Period", f"{r.periods['start'].iloc[0]:%Y-%m-%d} to {r.periods['end'].iloc[-1]:%Y-%m-%d}"
         if len(r.periods) else "no period"),
        ("Rebalancing", s.rebalance), ("Weights", "equal" if s.weight == "equal" else "market cap"),
        ("Transaction cost", f"{s.cost_bps:g} basis points of every dollar traded"),
        ("Risk-free rate (Sharpe)", f"{s.risk_free * 100:.2f} % a year"),
        ("Data", snapshot or "—"),
    )
    for label, text in facts:
        ws.append([_text(ws, label, font=st.BOLD), _text(ws, text)])
    ws.append([])
    for w in r.warnings:
        ws.append([_text(ws, "Warning", font=st.FAIL_FONT, fill=st.FAIL_FILL), _text(ws, w, font=st.FAIL_FONT)])
    ws.append([])
    ws.append([_text(ws, h, font=st.BOLD, fill=st.HEADER_FILL) for h in ("Statistic", *SERIES, "Definition")])
    for key, label, definition, fmt in STATS:
        ws.append([_text(ws, label), *(_value(ws, r.stats.loc[name, key], fmt) for name in SERIES),
                   _text(ws, definition)])
    ws.append([])
    ws.append([_text(ws, h, font=st.BOLD, fill=st.HEADER_FILL) for h in ("Screen portfolio", "Value", "", "",
                                                                          "Definition")])
    for key, label, definition, fmt in SUMMARY:
        ws.append([_text(ws, label), _value(ws, r.summary.get(key), fmt), None, None, _text(ws, definition)])
    for col, width in zip("ABCDE", (28, 16, 16, 22, 70), strict=True):
        ws.column_dimensions[col].width = width


def _curve(ws: Any, r: BacktestResult) -> None:
    curves, dd = r.curves, r.drawdowns
    headers = ("Date", *(f"{n} (growth of 1)" for n in SERIES), *(f"{n} drawdown" for n in SERIES))
    rows = ([_value(ws, day.date()), *(_value(ws, curves.at[day, n], "0.0000") for n in SERIES),
             *(_value(ws, dd.at[day, n], PERCENT) for n in SERIES)] for day in curves.index)
    _table(ws, headers, rows, (12, 18, 18, 24, 18, 18, 24))


def _chart(summary: Any, curve: Any, n: int) -> None:
    """A native line chart of the three curves, beside the Summary's figures."""
    if n < 2:
        return
    chart = LineChart()
    chart.title = "Growth of 1: screen against IWM and the equal-weighted universe"
    chart.y_axis.title = "Value (start = 1)"
    chart.x_axis.title = "Date"
    chart.x_axis.number_format = "yyyy-mm"
    chart.height, chart.width = 9, 22
    data = Reference(curve, min_col=2, max_col=4, min_row=1, max_row=n + 1)
    chart.add_data(data, titles_from_data=True)
    chart.set_categories(Reference(curve, min_col=1, min_row=2, max_row=n + 1))
    for s in chart.series:
        s.smooth = False
        s.marker.symbol = "none"
    summary.add_chart(chart, "G2")


def _periods(ws: Any, r: BacktestResult) -> None:
    p = r.periods
    headers = ("Formed at close of", "Valued to", "Index members", "Universe (with a price)", "Passed", "Held",
               "Turnover (one-way)", "Cost", f"{SCREEN} return", f"{IWM} return", f"{UNIVERSE} return")
    rows = ([_value(ws, row.start), _value(ws, row.end), row.members, row.universe, row.passed, row.holdings,
             _value(ws, row.turnover, PERCENT), _value(ws, row.cost, WEIGHT),
             *(_value(ws, row[n], PERCENT) for n in SERIES)] for _, row in p.iterrows())
    _table(ws, headers, rows, (18, 12, 14, 22, 8, 8, 18, 10, 14, 12, 28))


def _holdings(ws: Any, r: BacktestResult) -> None:
    h = r.holdings
    headers = ("Rebalance date", "Symbol", "Name", "Status", "Target weight", "Return to next rebalance", "Why")
    rows = ([_value(ws, row.date), _text(ws, row.symbol), _text(ws, row.name or ""), _text(ws, row.status),
             _value(ws, row.weight, WEIGHT), _value(ws, row.period_return, PERCENT), _text(ws, row.reason)]
            for row in h.itertuples(index=False))
    _table(ws, headers, rows, (14, 10, 32, 10, 14, 22, 100))
    if len(h):
        ws.auto_filter.ref = f"A1:G{len(h) + 1}"


def _events(ws: Any, r: BacktestResult) -> None:
    rows = ([_value(ws, row.date), _text(ws, row.symbol), _text(ws, row.event)]
            for row in r.events.itertuples(index=False))
    _table(ws, ("Period end", "Symbol", "What happened"), rows, (12, 10, 100))


def _assumptions(ws: Any, r: BacktestResult) -> None:
    rows = [(_text(ws, kind), _text(ws, text, alignment=st.WRAP_TOP))
            for kind, texts in (("Warning", r.warnings), ("Assumption", r.assumptions), ("Data rule", r.data_rules))
            for text in texts]
    rows.append((_text(ws, "Format"), _text(ws, st.INFINITY_LEGEND, alignment=st.WRAP_TOP)))
    _table(ws, ("Kind", "Statement"), rows, (14, 140))

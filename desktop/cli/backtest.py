"""``pickaxe-cli backtest SCREEN --from YYYY-MM --to YYYY-MM``: would this screen have worked?

The screen (a saved screen, a preset or a screen file) is evaluated at every rebalance date on what
was known then and compared with IWM and the equal-weighted universe (docs/backtest.md). The text
output leads with the warnings (survivorship first), then the figures, then every assumption and
data rule; ``--format json`` gives the same as raw values; ``--export`` writes the Backtest workbook.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from typing import IO, Any

import pandas as pd

from desktop.cli._args import number, snapshot_ref, year_month
from desktop.cli._terminal import clean
from desktop.engine.backtest import SERIES, STAT_ROWS, SUMMARY_ROWS, BacktestResult, BacktestSettings
from desktop.engine.formatting import format_value
from desktop.services import backtest, library
from desktop.store.db import open_database


def register(subparsers: Any) -> None:
    """Add the ``backtest`` command."""
    parser = subparsers.add_parser(
        "backtest", help="backtest a screen against IWM, point in time",
        description="Backtest a saved screen, a preset or a screen file: at each rebalance date the screen "
                    "sees only what was known then; the result is compared with IWM and the equal-weighted "
                    "universe, with every assumption stated.")
    parser.add_argument("screen", metavar="SCREEN", help="saved screen name, preset name or screen .json file")
    parser.add_argument("--from", dest="start", metavar="YYYY-MM", type=year_month, required=True,
                        help="the first month with returns")
    parser.add_argument("--to", dest="end", metavar="YYYY-MM", type=year_month, required=True,
                        help="the last month with returns")
    parser.add_argument("--rebalance", choices=("monthly", "quarterly"), default="monthly")
    parser.add_argument("--weight", choices=("equal", "cap"), default="equal",
                        help="equal weights or market-cap weights")
    parser.add_argument("--cost-bps", type=number(minimum=0, maximum=1000), default=20.0, metavar="BP",
                        help="transaction cost in basis points of every dollar traded (default 20)")
    parser.add_argument("--risk-free", type=number(minimum=-5, maximum=50), default=0.0, metavar="PCT",
                        help="annual risk-free rate in percent for the Sharpe ratio (default 0)")
    parser.add_argument("--snapshot", metavar="ID_OR_DATE", type=snapshot_ref,
                        help="the snapshot whose data to use (default: latest)")
    parser.add_argument("--format", choices=("table", "json"), default="table",
                        help="output: table (for people) or json (raw values)")
    parser.add_argument("--export", metavar="FILE.xlsx", help="also write the Backtest workbook")
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    """Run the backtest and print it; returns the exit status."""
    settings = BacktestSettings(args.start, args.end, rebalance=args.rebalance, weight=args.weight,
                                cost_bps=args.cost_bps, risk_free=args.risk_free / 100.0)
    if args.export:  # refuse a bad target before the work, not after it
        backtest.check_path(args.export)
    db = open_database(args.db)
    try:
        screen = library.load_screen_any(db, args.screen)
        outcome = backtest.run(db, screen, settings, args.snapshot)
    finally:
        db.dispose()
    if args.format == "json":
        json.dump(json_document(outcome.result), sys.stdout, ensure_ascii=False, indent=2, allow_nan=False)
        sys.stdout.write("\n")
    else:
        print_report(sys.stdout, outcome.result, f"snapshot {outcome.info.id}, data as of {outcome.info.as_of}")
    if args.export:
        sys.stdout.flush()  # the report before the export's line on stderr
        path = backtest.export(args.export, outcome)
        print(f"Exported the backtest to {path}", file=sys.stderr)
    return 0


def print_report(out: IO[str], r: BacktestResult, data: str) -> None:
    """Warnings first, then the figures, then the assumptions and data rules."""
    s = r.settings
    weights = "equal weights" if s.weight == "equal" else "market-cap weights"
    span = (f"{r.periods['start'].iloc[0]:%Y-%m-%d} to {r.periods['end'].iloc[-1]:%Y-%m-%d}"
            if len(r.periods) else "no period")
    out.write(f"Backtest: {clean(r.screen_name)}, {span}, {s.rebalance}, {weights}, {s.cost_bps:g} bp costs "
              f"({data})\n\n")
    for w in r.warnings:
        out.write(f"WARNING  {w}\n")
    if r.warnings:
        out.write("\n")
    width = max(len(label) for _, label, _ in STAT_ROWS + SUMMARY_ROWS)
    cols = [max(len(n), 9) for n in SERIES]
    out.write(" " * width + "  " + "  ".join(n.rjust(w) for n, w in zip(SERIES, cols, strict=True)) + "\n")
    for key, label, unit in STAT_ROWS:
        cells = [format_value(_float(r.stats.loc[n, key]), unit).rjust(w) for n, w in zip(SERIES, cols, strict=True)]
        out.write(label.ljust(width) + "  " + "  ".join(cells) + "\n")
    out.write("\n")
    for key, label, unit in SUMMARY_ROWS:
        value = r.summary.get(key)
        text = format_value(_float(value), unit)
        out.write(f"{label.ljust(width)}  {text}\n")
    out.write("\nAssumptions:\n")
    for a in r.assumptions:
        out.write(f"  - {a}\n")
    out.write("\nData rules:\n")
    for d in r.data_rules:
        out.write(f"  - {clean(d)}\n")


def _float(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def _raw(value: Any) -> Any:
    """A raw JSON value: null for missing, ISO text for dates, "inf" for an unbounded number."""
    if value is None or value is pd.NaT:
        return None
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat()
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float):
        if math.isnan(value):
            return None
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
    return value


def json_document(r: BacktestResult) -> dict[str, Any]:
    """The ``--format json`` document."""
    s = r.settings
    return {
        "screen": r.screen_name,
        "settings": {"from": f"{s.start:%Y-%m}", "to": f"{s.end:%Y-%m}", "rebalance": s.rebalance,
                     "weight": s.weight, "cost_bps": s.cost_bps, "risk_free": s.risk_free},
        "warnings": list(r.warnings),
        "stats": {n: {k: _raw(r.stats.loc[n, k]) for k in r.stats.columns} for n in SERIES},
        "summary": {k: _raw(v) for k, v in r.summary.items()},
        "periods": [{k: _raw(v) for k, v in row.items()} for row in r.periods.to_dict("records")],
        "holdings": [{k: _raw(v) for k, v in row.items()} for row in r.holdings.to_dict("records")],
        "events": [{k: _raw(v) for k, v in row.items()} for row in r.events.to_dict("records")],
        "assumptions": list(r.assumptions),
        "data_rules": list(r.data_rules),
    }

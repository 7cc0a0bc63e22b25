"""``pickaxe-cli run SCREEN``: run a saved screen, a preset or a screen JSON file on a snapshot.

``--format table`` prints human formatting; ``csv`` and ``json`` print the catalogue's field names
and raw values (USD units, fractions) so scripts can rely on them: a missing value is empty/null,
a not-meaningful one is ``n.m.``, an unbounded one ``inf``. ``--export`` also writes a workbook
or CSV file (chosen by the suffix).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from datetime import date, datetime
from typing import IO, Any

from desktop.cli._args import snapshot_ref
from desktop.cli._terminal import clean
from desktop.engine.formatting import counted, format_value
from desktop.export import csv as csv_export
from desktop.export.content import (
    MISSING,
    NOT_MEANINGFUL,
    NOT_MEANINGFUL_TEXT,
    ExportInput,
    column_data,
    shortlist_columns,
)
from desktop.services import library
from desktop.services.exporting import check_export_path, export_input, export_result
from desktop.services.screening import RunOutcome, flush_table_writes, run_screen
from desktop.store.db import open_database

MAX_TEXT = 40  # characters of a text column in the table view


def register(subparsers: Any) -> None:
    """Add the ``run`` command."""
    parser = subparsers.add_parser(
        "run", help="run a screen and print or export its shortlist",
        description="Run a saved screen, a preset or a screen JSON file on a snapshot.")
    parser.add_argument("screen", metavar="SCREEN", help="saved screen name, preset name or screen .json file")
    parser.add_argument("--snapshot", metavar="ID_OR_DATE", type=snapshot_ref, help="snapshot id or as-of date (default: latest)")
    parser.add_argument("--format", choices=("table", "csv", "json"), default="table",
                        help="output: table (for people), csv or json (field names, raw values)")
    parser.add_argument("--export", metavar="FILE.xlsx|FILE.csv", help="also write the result to this file")
    parser.add_argument("--no-record", action="store_true", help="do not store the run in the run history")
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    """Run the screen and print the result; returns the exit status."""
    if args.export:  # refuse a bad target before the work, not after printing the result
        check_export_path(args.export)
    db = open_database(args.db)
    try:
        screen = library.load_screen_any(db, args.screen)
        outcome = run_screen(db, screen, args.snapshot, record=not args.no_record)
    finally:
        flush_table_writes()  # a table computed here is cached for the next run before the store closes
        db.dispose()
    data = export_input(outcome)
    out = sys.stdout
    if args.format == "csv":
        csv_export.write_rows(out, data)
    elif args.format == "json":
        json.dump(json_document(outcome, data), out, ensure_ascii=False, indent=2, allow_nan=False)
        out.write("\n")
    else:
        print_table(out, outcome, data)
    if args.export:
        path = export_result(args.export, outcome)
        print(f"Exported {counted(len(outcome.result.ranked), 'stock')} to {path}", file=sys.stderr)
    return 0


def raw_json(value: Any, status: int) -> Any:
    """One raw value for JSON: null when missing, "n.m." when not meaningful, "inf" when unbounded."""
    if status == NOT_MEANINGFUL:
        return NOT_MEANINGFUL_TEXT
    if value is None or status == MISSING:
        return None
    if isinstance(value, float):
        if math.isnan(value):
            return None
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return int(value) if value.is_integer() and abs(value) < 2**53 else value
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, tuple):
        return list(value)
    return value


def json_document(outcome: RunOutcome, data: ExportInput) -> dict[str, Any]:
    """The ``--format json`` document: run facts plus one object per shortlisted stock."""
    columns = shortlist_columns(data)
    per_column = [column_data(data, c) for c in columns]
    lists = [c.values.tolist() if hasattr(c.values, "tolist") else c.values for c in per_column]
    rows = []
    for i in range(len(outcome.result.ranked)):
        rows.append({c.column.name: raw_json(values[i], int(c.status[i]))
                     for c, values in zip(per_column, lists, strict=True)})
    return {
        "screen": outcome.screen.name,
        "snapshot_id": outcome.info.id,
        "as_of": outcome.info.as_of.isoformat(),
        "run_id": outcome.run_id,
        "universe_count": int(outcome.result.universe_count),
        "count": len(rows),
        "columns": [c.name for c in columns],
        "rows": rows,
    }


def print_table(out: IO[str], outcome: RunOutcome, data: ExportInput) -> None:
    """An aligned text table with human formatting ($1.2B, 12.3 %, n.m., —)."""
    result = outcome.result
    out.write(f"{outcome.screen.name}: {len(result.ranked)} of {result.universe_count} stocks pass "
              f"(snapshot {outcome.info.id}, data as of {outcome.info.as_of.isoformat()})\n")
    if len(result.ranked) == 0:
        return
    columns = shortlist_columns(data)
    texts: list[list[str]] = []
    for col in columns:
        cd = column_data(data, col)
        values = cd.values.tolist() if hasattr(cd.values, "tolist") else cd.values
        unit = "count" if col.name in ("rank",) else ("percentile" if col.unit == "score" else col.unit)
        cells = [format_value(v, unit, int(s)) for v, s in zip(values, cd.status, strict=True)]
        texts.append([_clip(t) for t in cells])
    headers = [c.label for c in columns]
    widths = [max(len(h), *(len(t) for t in col)) for h, col in zip(headers, texts, strict=True)]
    right = [c.is_numeric for c in columns]

    def line(cells: list[str]) -> str:
        return "  ".join(c.rjust(w) if r else c.ljust(w)
                         for c, w, r in zip(cells, widths, right, strict=True)).rstrip()

    out.write(line(headers) + "\n")
    out.write("  ".join("-" * w for w in widths) + "\n")
    for i in range(len(result.ranked)):
        out.write(line([col[i] for col in texts]) + "\n")


def _clip(text: str) -> str:
    # Descriptions may hold newlines and tabs; names from files may hold terminal controls. Clean
    # before measuring so the visible escapes (\x1b) are counted in the column widths.
    text = clean(" ".join(text.split()))
    return text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 1] + "…"

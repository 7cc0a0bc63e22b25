"""``pickaxe-cli import KIND PATH... [--as-of DATE]``: import files into a new snapshot."""

from __future__ import annotations

import argparse
import sys

from desktop.cli._args import iso_date
from desktop.errors import InputError

KINDS = ("ishares", "yahoo-json", "finviz", "simfin", "fred", "prices", "sec-companyfacts")


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``import`` command."""
    parser = subparsers.add_parser(
        "import", help="import data files into a new snapshot",
        description="Read files of one kind, merge them with the latest snapshot and save a new "
                    "snapshot (all-or-nothing). Formats: docs/data-sources.md.")
    parser.add_argument("kind", choices=KINDS, help="what the files are")
    parser.add_argument("paths", nargs="+", metavar="PATH",
                        help="files (for simfin and prices also folders)")
    parser.add_argument("--as-of", dest="as_of", metavar="DATE", type=iso_date,
                        help="date the data describes (YYYY-MM-DD); needed when a holdings file lost "
                             "its 'Fund Holdings as of' preamble")
    parser.add_argument("--allow-shrink", dest="allow_shrink", action="store_true",
                        help="accept a holdings file that drops over 20 %% of the previous universe's members")
    # --- issue #14: options of sec-companyfacts (desktop.services.sec_import) ---
    parser.add_argument("--tickers", metavar="FILE", help="sec-companyfacts: the SEC's company_tickers.json "
                        "(default: one beside the archive or in the folder)")
    parser.add_argument("--accept-skipped", action="store_true",
                        help="sec-companyfacts: import even when some members cannot be read (they are listed)")
    # --- end issue #14 ---
    parser.set_defaults(handler=run_import)


def run_import(args: argparse.Namespace) -> int:
    """Handler: open the database, import, print the one-screen summary."""
    from desktop.services.importing import import_files
    from desktop.store.db import open_database

    if not args.paths:
        raise InputError("no files given")
    db = open_database(args.db)
    try:
        if args.kind == "sec-companyfacts":  # issue #14: ticker map and skip policy
            from desktop.services.sec_import import import_companyfacts

            report = import_companyfacts(db, args.paths, tickers=args.tickers, accept_skipped=args.accept_skipped,
                                         as_of=args.as_of, progress=_progress if sys.stderr.isatty() else None)
        else:
            report = import_files(db, args.kind, args.paths, as_of=args.as_of,
                                  progress=_progress if sys.stderr.isatty() else None,
                                  allow_shrink=args.allow_shrink)
    finally:
        db.dispose()
    print(report.summary_text())
    return 0


def _progress(done: int, total: int, message: str = "") -> None:
    print(f"\r[{done}/{total}] {message}".ljust(70), end="" if done < total else "\n", file=sys.stderr)

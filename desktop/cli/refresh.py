"""``pickaxe-cli refresh [--tickers ...] [--max-rate R]``: fetch from Yahoo Finance into a new snapshot."""

from __future__ import annotations

import argparse
import sys
from datetime import timedelta

from desktop.cli._args import integer, number, symbol

# Parse-time bounds (issue #13): no nan/inf/negative values reach the refresh service.
MAX_RATE = 1000.0  # requests per second
MAX_WORKERS = 64
MAX_AGE_DAYS = 36_500.0  # a century


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``refresh`` command."""
    from desktop.services.refresh import DEFAULT_MAX_AGE, DEFAULT_MAX_RATE, DEFAULT_WORKERS

    parser = subparsers.add_parser(
        "refresh", help="fetch fresh data from Yahoo Finance into a new snapshot",
        description="Fetch profile, statements and daily prices from Yahoo Finance for the universe "
                    "(or --tickers), politely throttled. Each ticker is saved as soon as it arrives: an "
                    "interrupted refresh resumes where it stopped. Data fresher than its maximum age is "
                    "not fetched again.")
    parser.add_argument("--tickers", nargs="+", metavar="SYMBOL", type=symbol,
                        help="Yahoo symbols to refresh (default: the members of the latest snapshot)")
    parser.add_argument("--max-rate", type=number(minimum=0, maximum=MAX_RATE, strict_minimum=True), default=DEFAULT_MAX_RATE, metavar="R",
                        help=f"HTTP requests per second, at most (default {DEFAULT_MAX_RATE:g})")
    parser.add_argument("--workers", type=integer(minimum=1, maximum=MAX_WORKERS), default=DEFAULT_WORKERS, metavar="N",
                        help=f"parallel fetches within that rate (default {DEFAULT_WORKERS})")
    parser.add_argument("--max-age-days", type=number(minimum=0, maximum=MAX_AGE_DAYS), metavar="D",
                        help="refetch anything older than D days (default: prices "
                             f"{DEFAULT_MAX_AGE['prices'].total_seconds() / 3600:.0f} h, profile "
                             f"{DEFAULT_MAX_AGE['info'].days} d, statements {DEFAULT_MAX_AGE['statements'].days} d)")
    parser.add_argument("--export-json", metavar="PATH",
                        help="afterwards, write the cached Yahoo profiles as {ticker: info} JSON")
    parser.add_argument("--no-fetch", action="store_true",
                        help="fetch nothing (use with --export-json to export the cache only)")
    parser.set_defaults(handler=run_refresh)


def run_refresh(args: argparse.Namespace) -> int:
    """Handler: open the database, refresh, print the one-screen summary."""
    from desktop.data.yahoo import YahooProvider
    from desktop.services.refresh import export_yahoo_json, refresh
    from desktop.store.db import open_database

    db = open_database(args.db)
    try:
        if not args.no_fetch:
            max_age = timedelta(days=args.max_age_days) if args.max_age_days is not None else None
            report = refresh(db, YahooProvider(), args.tickers, max_rate=args.max_rate, max_age=max_age,
                             workers=args.workers, progress=_progress if sys.stderr.isatty() else None)
            print(report.summary_text())
        if args.export_json:
            n = export_yahoo_json(db, args.export_json, args.tickers)
            print(f"Exported {n:,} Yahoo profiles to {args.export_json}")
    finally:
        db.dispose()
    return 0


def _progress(done: int, total: int, message: str = "") -> None:
    print(f"\r[{done}/{total}] {message}"[:110].ljust(110), end="" if done < total else "\n", file=sys.stderr)

"""``pickaxe-cli refresh [--tickers ...] [--max-rate R] [--user-agent "Name e-mail"]``: fetch from
SEC EDGAR (fundamentals, issue #14) and Yahoo Finance (prices, profile) into a new snapshot."""

from __future__ import annotations

import argparse
import sys
from datetime import timedelta

from desktop.cli._args import integer, number, symbol
from desktop.engine.formatting import counted

# Parse-time bounds (issue #13): no nan/inf/negative values reach the refresh service.
MAX_RATE = 1000.0  # requests per second
MAX_WORKERS = 64
MAX_AGE_DAYS = 36_500.0  # a century


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``refresh`` command."""
    from desktop.data.sec_client import DEFAULT_MAX_RATE as SEC_RATE
    from desktop.data.sec_client import ENV_USER_AGENT, SEC_MAX_RATE
    from desktop.services.refresh import DEFAULT_MAX_AGE, DEFAULT_MAX_RATE, DEFAULT_WORKERS

    parser = subparsers.add_parser(
        "refresh", help="fetch fresh data from SEC EDGAR and Yahoo Finance into a new snapshot",
        description="Fetch the fundamentals of the universe (or --tickers) from SEC EDGAR's company facts "
                    "and, side by side, daily prices and the profile from Yahoo Finance, each politely "
                    "throttled. The SEC requires a User-Agent with your contact e-mail (--user-agent or "
                    f"{ENV_USER_AGENT}); without one the statements come from Yahoo. Each company is saved "
                    "as soon as it arrives: an interrupted refresh resumes where it stopped. Data fresher "
                    "than its maximum age is not fetched again; the SEC answers 'unchanged' for companies "
                    "that filed nothing new.")
    parser.add_argument("--tickers", nargs="+", metavar="SYMBOL", type=symbol,
                        help="Yahoo symbols to refresh (default: the members of the latest snapshot)")
    parser.add_argument("--max-rate", type=number(minimum=0, maximum=MAX_RATE, strict_minimum=True), default=DEFAULT_MAX_RATE, metavar="R",
                        help=f"HTTP requests per second to Yahoo Finance, at most (default {DEFAULT_MAX_RATE:g})")
    parser.add_argument("--workers", type=integer(minimum=1, maximum=MAX_WORKERS), default=DEFAULT_WORKERS, metavar="N",
                        help=f"parallel fetches within that rate (default {DEFAULT_WORKERS})")
    parser.add_argument("--max-age-days", type=number(minimum=0, maximum=MAX_AGE_DAYS), metavar="D",
                        help="refetch anything older than D days (default: prices "
                             f"{DEFAULT_MAX_AGE['prices'].total_seconds() / 3600:.0f} h, profile "
                             f"{DEFAULT_MAX_AGE['info'].days} d, statements {DEFAULT_MAX_AGE['statements'].days} d)")
    parser.add_argument("--user-agent", type=_user_agent, metavar='"NAME E-MAIL"',
                        help=f"declare yourself to the SEC, e.g. \"Jane Doe jane@example.com\" (default: "
                             f"${ENV_USER_AGENT})")
    parser.add_argument("--sec-max-rate", type=number(minimum=0, maximum=SEC_MAX_RATE, strict_minimum=True),
                        default=SEC_RATE, metavar="R",
                        help=f"requests per second to the SEC, at most {SEC_MAX_RATE:g} (default {SEC_RATE:g})")
    parser.add_argument("--no-sec", action="store_true",
                        help="do not use SEC EDGAR (statements from Yahoo Finance, as before issue #14)")
    parser.add_argument("--export-json", metavar="PATH",
                        help="afterwards, write the cached Yahoo profiles as {ticker: info} JSON")
    parser.add_argument("--no-fetch", action="store_true",
                        help="fetch nothing (use with --export-json to export the cache only)")
    parser.set_defaults(handler=run_refresh)


def run_refresh(args: argparse.Namespace) -> int:
    """Handler: open the database, refresh, print the one-screen summary."""
    from desktop.data.yahoo import YahooProvider
    from desktop.services import sec_refresh
    from desktop.services.refresh import export_yahoo_json, refresh
    from desktop.store.db import open_database

    sec = None if args.no_sec else sec_refresh.SecSettings(args.user_agent, max_rate=args.sec_max_rate)
    db = open_database(args.db)
    try:
        if not args.no_fetch:
            if sec is not None:
                _say_when_the_sec_is_not_used(sec)
            max_age = timedelta(days=args.max_age_days) if args.max_age_days is not None else None
            report = refresh(db, YahooProvider(), args.tickers, max_rate=args.max_rate, max_age=max_age,
                             workers=args.workers, progress=_progress if sys.stderr.isatty() else None, sec=sec)
            print(report.summary_text())
        if args.export_json:
            n = export_yahoo_json(db, args.export_json, args.tickers)
            print(f"Exported {counted(n, 'Yahoo profile')} to {args.export_json}")
    finally:
        db.dispose()
    return 0


def _user_agent(text: str) -> str:
    """A User-Agent naming the requester with a contact e-mail (the SEC's rule), checked at parse time."""
    from desktop.data.sec_client import resolve_user_agent
    from desktop.errors import DataSourceError

    try:
        return resolve_user_agent(text)
    except DataSourceError as exc:
        raise argparse.ArgumentTypeError(exc.message) from None


def _say_when_the_sec_is_not_used(sec: object) -> None:
    from desktop.data.sec_client import resolve_user_agent
    from desktop.errors import DataSourceError

    try:
        resolve_user_agent(getattr(sec, "user_agent", None))
    except DataSourceError as exc:
        print(f"SEC EDGAR is not used: {exc.message} {exc.hint or ''}".rstrip(), file=sys.stderr)


def _progress(done: int, total: int, message: str = "") -> None:
    print(f"\r[{done}/{total}] {message}"[:110].ljust(110), end="" if done < total else "\n", file=sys.stderr)

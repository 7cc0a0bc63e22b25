"""``pickaxe-cli watchlist add|remove|list``: the tickers you pinned."""

from __future__ import annotations

import argparse
from typing import Any

from desktop.cli._args import symbol
from desktop.services import library
from desktop.store.db import open_database


def register(subparsers: Any) -> None:
    """Add the ``watchlist`` command group."""
    parser = subparsers.add_parser("watchlist", help="pin tickers with a note",
                                   description="Tickers you pinned, each with an optional note.")
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    add = sub.add_parser("add", help="pin a ticker (again: replace its note)")
    add.add_argument("symbol", metavar="TICKER", type=symbol)
    add.add_argument("note", nargs="*", help="a note (the rest of the line)")
    add.set_defaults(handler=handle_add)
    remove = sub.add_parser("remove", help="unpin a ticker")
    remove.add_argument("symbol", metavar="TICKER", type=symbol)
    remove.set_defaults(handler=handle_remove)
    sub.add_parser("list", help="list pinned tickers").set_defaults(handler=handle_list)


def handle_add(args: argparse.Namespace) -> int:
    with open_database(args.db) as db:
        entry = library.watch(db, args.symbol, " ".join(args.note))
    print(f"Pinned {entry.symbol}" + (f": {entry.note}" if entry.note else "") + ".")
    return 0


def handle_remove(args: argparse.Namespace) -> int:
    with open_database(args.db) as db:
        removed = library.unwatch(db, args.symbol)
    symbol = args.symbol.strip().upper()
    print(f"Unpinned {symbol}." if removed else f"{symbol} was not on the watchlist.")
    return 0 if removed else 1


def handle_list(args: argparse.Namespace) -> int:
    with open_database(args.db) as db:
        entries = library.watchlist(db)
    if not entries:
        print("The watchlist is empty. Pin a ticker with: pickaxe-cli watchlist add TICKER [NOTE]")
        return 0
    width = max(len(e.symbol) for e in entries)
    for entry in entries:
        print(f"{entry.symbol:<{width}}  {entry.added_at:%Y-%m-%d}  {entry.note}".rstrip())
    print(f"{len(entries)} pinned.")
    return 0

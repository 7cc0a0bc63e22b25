"""``pickaxe-cli``: headless commands. Each command group lives in its own module here and
registers itself through ``register(subparsers)``; ``main`` dispatches to ``args.handler``."""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys

from desktop import __version__
from desktop.errors import PickaxeError

log = logging.getLogger(__name__)

# Command modules, in --help order. A module lists its sub-commands in ``register``.
COMMAND_MODULES = ("imports", "refresh", "snapshots", "screens", "watchlist", "run")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="pickaxe-cli", description="Pickaxe headless commands.")
    parser.add_argument("--db", metavar="URL_OR_PATH",
                        help="database: SQLite path or SQLAlchemy URL (default: user data folder; "
                             "env PICKAXE_DB)")
    parser.add_argument("-v", "--verbose", action="store_true", help="log details to stderr")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(f"desktop.cli.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"desktop.cli.{name}":
                raise
            continue  # that command group is not built yet
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    from desktop.log import setup_logging

    parser = build_parser()
    args = parser.parse_args(argv)
    setup_logging(console_level=logging.INFO if args.verbose else logging.WARNING)
    if not getattr(args, "handler", None):
        parser.print_help()
        return 2
    try:
        return int(args.handler(args) or 0)
    except PickaxeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("cancelled", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (`pickaxe-cli run X | head`): stop quietly, as Unix tools do.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0

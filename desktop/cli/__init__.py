"""``pickaxe-cli``: headless commands. Each command group lives in its own module here and
registers itself through ``register(subparsers)``; ``main`` dispatches to ``args.handler``."""

from __future__ import annotations

import argparse
import importlib
import logging
from typing import NoReturn

from desktop import __version__

log = logging.getLogger(__name__)

# Command modules, in --help order. A module lists its sub-commands in ``register``.
COMMAND_MODULES = ("imports", "refresh", "snapshots", "screens", "watchlist", "run", "backtest")


class _Parser(argparse.ArgumentParser):
    """argparse, with the usage error's user text cleaned for the terminal (issue #13)."""

    def error(self, message: str) -> NoReturn:
        from desktop.cli._terminal import clean

        super().error(clean(message))


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="pickaxe-cli", description="Pickaxe headless commands.")
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


def _machine_output(args: argparse.Namespace) -> bool:
    """True when stdout carries a machine format whose exact bytes matter (csv, json)."""
    return getattr(args, "format", "table") in ("csv", "json") or bool(getattr(args, "json", False))


def main(argv: list[str] | None = None) -> int:
    """Parse, then run the command inside the one error boundary (:mod:`desktop.cli._boundary`)."""
    import sys

    saved = sys.stdout, sys.stderr
    try:
        return _main(argv)
    finally:
        sys.stdout, sys.stderr = saved


def _main(argv: list[str] | None) -> int:
    from desktop.cli import _terminal
    from desktop.cli._boundary import report, run_handler
    from desktop.log import setup_logging

    _terminal.install(raw_stdout=False)  # argparse's own messages are cleaned too
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
    except SystemExit:
        raise
    except Exception as exc:  # a bug while building the parser: still no traceback
        return report(exc, None, setup_logging(console_filter=_terminal.clean))
    _terminal.install(raw_stdout=_machine_output(args))
    log_path = setup_logging(console_level=logging.INFO if args.verbose else logging.WARNING,
                             console_filter=_terminal.clean)
    if not getattr(args, "handler", None):
        parser.print_help()
        return 2
    return run_handler(args.handler, args, log_path)

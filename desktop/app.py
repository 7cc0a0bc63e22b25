"""Start the desktop app: parse options, set up logging, open the database, show the window."""

from __future__ import annotations

import argparse
import os
import sys

from desktop import APP_NAME


class _VersionAction(argparse.Action):
    """``--version``, with the version looked up only when asked (see ``desktop.__getattr__``)."""

    def __init__(self, option_strings: list[str], dest: str, **_kwargs: object) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS,
                         help="show program's version number and exit")

    def __call__(self, parser: argparse.ArgumentParser, *_args: object) -> None:
        from desktop import __version__

        print(f"{parser.prog} {__version__}")  # to stdout, as argparse's own version action does
        parser.exit()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pickaxe",
        description=f"{APP_NAME} - screen the Russell 2000 for cash flow, leverage and rate resilience.",
    )
    parser.add_argument("--db", metavar="URL_OR_PATH",
                        help="database: a SQLite file path or a SQLAlchemy URL (default: the user data "
                             "folder; environment variable PICKAXE_DB)")
    parser.add_argument("--screen", metavar="NAME_OR_FILE",
                        help="open this saved screen, preset or screen JSON file")
    parser.add_argument("--select", metavar="TICKER", help="select this stock in the results")
    parser.add_argument("--screenshot", metavar="FILE.png",
                        help="render the window at a fixed size, save it as PNG and exit")
    parser.add_argument("--version", action=_VersionAction)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.screenshot and "QT_QPA_PLATFORM" not in os.environ:
        os.environ["QT_QPA_PLATFORM"] = "offscreen"  # a screenshot needs no display
    from desktop.log import setup_logging

    setup_logging()
    # The Qt-free modules the window needs before it shows its first screen come first (pandas,
    # the engine's catalogue, screen, evaluation and formatting): once PySide6 is imported, its
    # import hook reads the source of every module imported after it (PYSIDE-2029), which costs
    # ~0.15 s of start-up when those come later (issue #17). The store (SQLAlchemy, the models, the services) is not among them:
    # the window opens it on a worker once its loading page is painted.
    import pandas  # noqa: F401

    import desktop.engine.coverage
    import desktop.engine.evaluate
    import desktop.engine.formatting
    import desktop.engine.screen  # noqa: F401
    from desktop.ui.application import run_app  # Qt is imported only from here on

    return run_app(args)


if __name__ == "__main__":
    sys.exit(main())

"""Logging set-up (Qt-free): a rotating file in the log dir plus stderr for warnings.

Tracebacks go to the file only: the console handler prints one line per record (issue #13, "no
traceback reaches the user"); a record logged with ``extra={"file_only": True}`` skips the console
(the CLI's boundary uses it for the bug report it has already summarised in one sentence). A log folder that cannot be created or written does not stop the
program: logging then goes to the console alone and :func:`active_log_file` says so (None).
"""

from __future__ import annotations

import logging
import logging.handlers
from collections.abc import Callable
from pathlib import Path

from desktop import paths

LOG_FILE_NAME = "pickaxe.log"

_active: list[Path | None] = []


def log_file() -> Path:
    return paths.log_dir() / LOG_FILE_NAME


def active_log_file() -> Path | None:
    """The file this process logs to, or None when it could not be opened (or logging is not set up)."""
    return _active[-1] if _active else None


class _ConsoleFormatter(logging.Formatter):
    """``LEVEL: message`` without tracebacks or stack dumps, optionally filtered for a terminal."""

    def __init__(self, clean: Callable[[str], str] | None) -> None:
        super().__init__("%(levelname)s: %(message)s")
        self._clean = clean

    def format(self, record: logging.LogRecord) -> str:
        saved = record.exc_info, record.exc_text, record.stack_info
        record.exc_info = record.exc_text = record.stack_info = None
        try:
            text = super().format(record)
        finally:
            record.exc_info, record.exc_text, record.stack_info = saved
        return self._clean(text) if self._clean is not None else text


def setup_logging(level: int = logging.INFO, *, console_level: int = logging.WARNING,
                  console_filter: Callable[[str], str] | None = None) -> Path | None:
    """Configure the root logger once; returns the log file's path (None when it cannot be written).

    Args:
        level: the file's level.
        console_level: stderr's level.
        console_filter: applied to each console line (the CLI passes its terminal cleaner).
    """
    root = logging.getLogger()
    if any(getattr(h, "_pickaxe", False) for h in root.handlers):
        return active_log_file()
    handlers: list[logging.Handler] = []
    path: Path | None
    try:
        path = log_file()
        file_handler = logging.handlers.RotatingFileHandler(
            path, maxBytes=2_000_000, backupCount=5, encoding="utf-8")
    except OSError as exc:
        path = None
        problem = f"cannot write the log file ({exc}); logging to the console only"
    else:
        problem = ""
        file_handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s"))
        file_handler.setLevel(level)
        handlers.append(file_handler)
    console = logging.StreamHandler()
    console.setFormatter(_ConsoleFormatter(console_filter))
    console.setLevel(console_level)
    console.addFilter(lambda record: not getattr(record, "file_only", False))
    handlers.append(console)
    for handler in handlers:
        handler._pickaxe = True  # type: ignore[attr-defined]
        root.addHandler(handler)
    root.setLevel(min(level, console_level))
    # yfinance and urllib3 are chatty at INFO; their problems reach us as exceptions anyway.
    for noisy in ("yfinance", "urllib3", "peewee"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    _active.append(path)
    if problem:
        logging.getLogger(__name__).warning("%s", problem)
    return path

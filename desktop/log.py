"""Logging set-up (Qt-free): a rotating file in the log dir plus stderr for warnings."""

from __future__ import annotations

import logging
import logging.handlers
from pathlib import Path

from desktop import paths

LOG_FILE_NAME = "pickaxe.log"


def log_file() -> Path:
    return paths.log_dir() / LOG_FILE_NAME


def setup_logging(level: int = logging.INFO, *, console_level: int = logging.WARNING) -> Path:
    """Configure the root logger once; returns the log file's path."""
    root = logging.getLogger()
    path = log_file()
    if any(getattr(h, "_pickaxe", False) for h in root.handlers):
        return path
    fmt = logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s")
    file_handler = logging.handlers.RotatingFileHandler(
        path, maxBytes=2_000_000, backupCount=5, encoding="utf-8"
    )
    file_handler.setFormatter(fmt)
    file_handler.setLevel(level)
    console = logging.StreamHandler()
    console.setFormatter(logging.Formatter("%(levelname)s: %(message)s"))
    console.setLevel(console_level)
    handlers: tuple[logging.Handler, ...] = (file_handler, console)
    for handler in handlers:
        handler._pickaxe = True  # type: ignore[attr-defined]
        root.addHandler(handler)
    root.setLevel(min(level, console_level))
    # yfinance and urllib3 are chatty at INFO; their problems reach us as exceptions anyway.
    for noisy in ("yfinance", "urllib3", "peewee"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    return path

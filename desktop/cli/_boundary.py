"""The one error boundary of ``pickaxe-cli`` (issue #13, root cause 2).

Every command runs through :func:`run_handler`:

* a :class:`~desktop.errors.PickaxeError` prints as one plain sentence plus the next step, exit 1;
* environment failures that reach us as library exceptions (the disk is full, a read-only or
  damaged SQLite file, out of memory) are recognised along the exception chain and printed the
  same way, exit 1;
* Ctrl-C prints "cancelled", exit 130; a closed pipe (``| head``) ends quietly, exit 0;
* anything else is a bug: its traceback goes to the log file only, and the user reads
  "internal error (...), details in LOG PATH", exit 2.

No traceback ever reaches the terminal.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import logging
import os
import sqlite3
import sys
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path

from desktop.errors import PickaxeError
from desktop.store.codec import CodecError

log = logging.getLogger("desktop.cli")

EXIT_OK = 0
EXIT_KNOWN = 1
EXIT_INTERNAL = 2
EXIT_CANCELLED = 130


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _database_name(db: str | None) -> str:
    try:
        from desktop import paths

        url = paths.database_url(db)
    except Exception:  # only for a message; never let it hide the real error
        return db or "the database"
    return url.removeprefix("sqlite:///") if url.startswith("sqlite:///") else url.split("@")[-1]


def explain_environment(exc: BaseException, db: str | None = None) -> str | None:
    """One sentence plus a next step for a failure of the environment, or None for a bug."""
    for error in _chain(exc):
        if isinstance(error, PickaxeError):
            return str(error)
        if isinstance(error, CodecError | zlib.error):
            return (f"The database {_database_name(db)} holds damaged snapshot data ({error}). Restore it "
                    "from a backup, or import the files again into a new snapshot.")
        if isinstance(error, MemoryError):
            return ("Pickaxe ran out of memory. Close other programs, or work on smaller files, "
                    "then try again.")
        if isinstance(error, sqlite3.Error):
            text = str(error).lower()
            where = _database_name(db)
            if "disk is full" in text or "disk or" in text:
                return (f"The database {where} cannot be written: the disk is full, or it is not a "
                        "regular file. Free some space or give another file with --db.")
            if "readonly" in text or "read-only" in text:
                return (f"The database {where} is read-only. Make it writable, or copy it and give "
                        "the copy with --db.")
            if "malformed" in text or "not a database" in text or "disk i/o" in text or "corrupt" in text:
                return (f"The database {where} is damaged ({error}). Restore it from a backup or "
                        "open another file with --db.")
            if "unable to open" in text:
                return f"The database {where} cannot be opened. Check the path and its folder's permissions."
            if "locked" in text or "busy" in text:
                return (f"The database {where} is busy: another Pickaxe window or command is writing "
                        "to it. Wait for it to finish, then try again.")
        if isinstance(error, OSError) and error.errno is not None:
            target = f"write {error.filename}" if error.filename else "write the output"
            if error.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)):
                return f"Cannot {target}: the disk is full. Free some space and try again."
            if error.errno == errno.EROFS:
                return f"Cannot {target}: the drive is read-only. Choose another place."
            if error.errno in (errno.EACCES, errno.EPERM) and error.filename:
                return (f"Cannot use {error.filename}: permission denied. Check the file's permissions "
                        "or choose another one.")
            if error.errno == errno.EIO:
                return f"Cannot {target}: the device reported an input/output error."
    return None


def _silence_stdout() -> None:
    # After a failed write to stdout (closed pipe, full disk) Python would fail again while
    # flushing at exit and print a traceback; point stdout at /dev/null instead.
    with contextlib.suppress(OSError, ValueError, AttributeError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.__stdout__.fileno())  # type: ignore[union-attr]


def _say(text: str) -> None:
    with contextlib.suppress(OSError, ValueError):
        print(f"error: {text}", file=sys.stderr)
        sys.stderr.flush()


def run_handler(handler: Callable[[argparse.Namespace], int | None], args: argparse.Namespace,
                log_path: Path | None) -> int:
    """Run one command's handler inside the boundary; returns the exit status."""
    try:
        status = int(handler(args) or 0)
        sys.stdout.flush()  # a full disk shows up here for buffered output: inside the boundary
        return status
    except KeyboardInterrupt:
        _say("cancelled")
        return EXIT_CANCELLED
    except BrokenPipeError:
        # The reader went away (`pickaxe-cli run X | head`): stop quietly, as Unix tools do.
        _silence_stdout()
        return EXIT_OK
    except SystemExit:
        raise
    except Exception as exc:  # this is the boundary: every exception ends here
        return report(exc, args, log_path)


def report(exc: BaseException, args: argparse.Namespace | None, log_path: Path | None) -> int:
    """Print ``exc`` as one sentence (logging bugs with their traceback); returns the exit status."""
    db = getattr(args, "db", None) if args is not None else None
    known = explain_environment(exc, db)
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EPIPE) and not exc.filename:
        _silence_stdout()
    if known is not None:
        log.info("command failed: %s", known, exc_info=not isinstance(exc, PickaxeError))
        _say(known)
        return EXIT_KNOWN
    command = " ".join(str(getattr(args, a, "") or "") for a in ("command", "action")).strip() if args else ""
    log.error("internal error in %s", command or "pickaxe-cli", exc_info=exc, extra={"file_only": True})
    where = str(log_path) if log_path is not None else "the log (it could not be opened; run with -v)"
    _say(f"internal error ({type(exc).__name__}), details in {where}. Please report it with that file.")
    return EXIT_INTERNAL

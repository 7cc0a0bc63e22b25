"""Errors the user can act on, kept apart from bugs.

A :class:`PickaxeError` carries one plain sentence for the user and, where it helps, a next step.
Anything else that escapes is a bug: it is logged with its traceback and shown with a pointer to
the log folder.
"""

from __future__ import annotations


class PickaxeError(Exception):
    """An error caused by the environment or the input, which the user can act on."""

    def __init__(self, message: str, *, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        if not self.hint:
            return self.message
        ending = "" if self.message.rstrip().endswith((".", "!", "?", ":")) else "."
        return f"{self.message.rstrip()}{ending} {self.hint}"


class InputError(PickaxeError):
    """A file or document the user gave us is malformed. Names file, line and field when known."""

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        line: int | None = None,
        field: str | None = None,
        hint: str = "",
    ) -> None:
        where = ", ".join(
            part
            for part in (
                str(path) if path else "",
                f"line {line}" if line is not None else "",
                f"field {field!r}" if field else "",
            )
            if part
        )
        super().__init__(f"{where}: {message}" if where else message, hint=hint)
        self.path = path
        self.line = line
        self.field = field


class ScreenDefinitionError(InputError):
    """A screen JSON document is malformed; ``field`` holds the path inside the document."""


class DataSourceError(PickaxeError):
    """A remote source (Yahoo Finance, iShares) failed in a way the user can act on."""


class SourceUnreachableError(DataSourceError):
    """The network or the remote host cannot be reached."""


class RateLimitedError(DataSourceError):
    """The source answered HTTP 429 or equivalent; ``retry_after`` is in seconds when known."""

    def __init__(self, message: str, *, retry_after: float | None = None, hint: str = "") -> None:
        super().__init__(message, hint=hint)
        self.retry_after = retry_after


class NoDataError(DataSourceError):
    """The source has no data for this symbol (delisted, renamed, unknown)."""


class StoreError(PickaxeError):
    """The database cannot be opened or written (locked, corrupt, too new, unreachable)."""


class DatabaseBusyError(StoreError):
    """Another Pickaxe instance holds the write lock for longer than we wait."""


class ExportError(PickaxeError):
    """An export target cannot be written (missing folder, read-only, locked by another program)."""


class Cancelled(Exception):  # noqa: N818 - it is an outcome, not an error
    """Raised inside long work when the user cancelled; never shown to the user."""

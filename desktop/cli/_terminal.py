"""Text on its way to a terminal, made harmless (issue #13, root cause 7).

Company names, descriptions and shared screen names come from files and other people. Written raw
they can drive the terminal: ``ESC [2J`` clears the screen, ``ESC ] 52 ;`` writes the clipboard,
C1 controls (``\\x9b`` is a one-byte CSI on many terminals) do the same without an ESC, bidi
overrides (U+202E) reverse what a line seems to say, and NUL or zero-width characters hide text.

:func:`clean` turns every such character into a visible escape (``\\x1b``, ``\\u202e``) and leaves
all printable text - accents, CJK, emoji - alone. :class:`TerminalStream` applies it to everything
written to a stream, keeping only newline, carriage return and tab as layout; ``pickaxe-cli``
wraps stderr always and stdout whenever it carries text for people (see :func:`install`), so no
command has to remember to call it.
"""

from __future__ import annotations

import io
import sys
import unicodedata
from typing import IO, Any

# General categories that never belong on a terminal as themselves: controls (C0, DEL, C1), format
# characters (bidi embeddings/overrides/isolates, zero-width space/joiners, word joiner, BOM, soft
# hyphen...), lone surrogates (from undecodable bytes), and the line/paragraph separators that some
# terminals treat as newlines.
_UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
_LAYOUT = frozenset("\n\r\t")


def _escape(ch: str) -> str:
    code = ord(ch)
    if code < 0x100:
        return f"\\x{code:02x}"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def is_unsafe(ch: str) -> bool:
    """True for a character that must not reach a terminal as itself."""
    return unicodedata.category(ch) in _UNSAFE_CATEGORIES


def clean(text: object, *, keep_layout: bool = False) -> str:
    """``text`` with every control, format or separator character made a visible escape.

    Args:
        text: anything; non-strings are converted with ``str``.
        keep_layout: keep ``\\n``, ``\\r`` and ``\\t`` (for whole output, not for one field).
    """
    s = text if isinstance(text, str) else str(text)
    if s.isprintable():  # fast path: nothing to escape
        return s
    return "".join(ch if (keep_layout and ch in _LAYOUT) or not is_unsafe(ch) else _escape(ch) for ch in s)


class TerminalStream(io.TextIOBase):
    """A text stream that cleans everything written to it before passing it on."""

    def __init__(self, raw: IO[str]) -> None:
        super().__init__()
        self.raw = raw

    def write(self, s: str) -> int:  # type: ignore[override]
        self.raw.write(clean(s, keep_layout=True))
        return len(s)

    def flush(self) -> None:
        self.raw.flush()

    def isatty(self) -> bool:
        return bool(self.raw.isatty())

    def fileno(self) -> int:
        return self.raw.fileno()

    def writable(self) -> bool:
        return True

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return str(getattr(self.raw, "encoding", "utf-8"))

    def __getattr__(self, name: str) -> Any:
        return getattr(self.raw, name)


def _unwrap(stream: IO[str]) -> IO[str]:
    return stream.raw if isinstance(stream, TerminalStream) else stream  # type: ignore[return-value]


def install(*, raw_stdout: bool = False) -> None:
    """Clean ``sys.stderr`` always and ``sys.stdout`` unless ``raw_stdout``.

    ``raw_stdout`` is for machine formats (``--format csv|json``, ``--json``) written to a pipe or a
    file: there the exact data matters and no terminal interprets it. On a terminal they are
    cleaned too. Characters the stream's encoding cannot hold become ``\\N{...}``-style escapes
    instead of an encoding error.
    """
    for name in ("stdout", "stderr"):
        stream = _unwrap(getattr(sys, name))
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            try:
                reconfigure(errors="backslashreplace")
            except (ValueError, io.UnsupportedOperation):  # already written to with another setting
                pass
        keep_raw = name == "stdout" and raw_stdout and not _isatty(stream)
        setattr(sys, name, stream if keep_raw else TerminalStream(stream))


def _isatty(stream: IO[str]) -> bool:
    try:
        return bool(stream.isatty())
    except (ValueError, OSError):
        return False

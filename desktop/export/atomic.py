"""All-or-nothing file writes for exports.

The export is written to a temporary file in the target folder (same file system, so the final
``os.replace`` is atomic) and only then moved over the target. A failed or cancelled export
removes its temporary file and leaves an existing target untouched. Replacing keeps what is
replaced (issue #13, root cause 9): a symlink is written through to its target and stays a link,
and an existing file keeps its permission mode (a 0600 file stays 0600). A hard-linked file gets a
new inode, as with any atomic save. File-system problems become
:class:`~desktop.errors.ExportError` with one plain sentence naming the file.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path

from desktop.errors import ExportError

TEMP_SUFFIX = ".pickaxe-tmp"


def check_target(target: Path) -> None:
    """Raise :class:`ExportError` when ``target`` obviously cannot be written (before doing work)."""
    folder = target.parent
    if not folder.exists():
        raise ExportError(f"Cannot export to {target}: the folder {folder} does not exist.",
                          hint="Choose an existing folder.")
    if not folder.is_dir():
        raise ExportError(f"Cannot export to {target}: {folder} is not a folder.")
    if target.is_dir():
        raise ExportError(f"Cannot export to {target}: it is a folder, not a file.")
    if target.exists():
        # Mode bits, not os.access: os.access says yes to root even for a read-only file.
        if not target.stat().st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH):
            raise ExportError(f"Cannot export to {target}: the file is read-only.",
                              hint="Choose another name or make the file writable.")


def _explain(target: Path, exc: OSError) -> ExportError:
    if isinstance(exc, PermissionError):
        return ExportError(
            f"Cannot write {target}: permission denied (the folder is read-only, or the file is open "
            "in another program).",
            hint="Close the file in other programs or choose another folder.",
        )
    if exc.errno == errno.ENOSPC:
        return ExportError(f"Cannot write {target}: the disk is full.")
    if exc.errno == errno.EROFS:
        return ExportError(f"Cannot write {target}: the drive is read-only.")
    reason = exc.strerror or exc.__class__.__name__
    return ExportError(f"Cannot write {target}: {reason}.")


def resolve_target(target: str | os.PathLike[str]) -> Path:
    """The file an export to ``target`` really writes: a symlink's final target (issue #13).

    Replacing the link itself would turn it into a regular file beside what it pointed at; writing
    through keeps the link, as an editor or ``cp`` does. A dangling link gives the file it names.
    """
    final = Path(target).expanduser().absolute()
    if final.is_symlink():
        return Path(os.path.realpath(final))
    return final


@contextlib.contextmanager
def atomic_target(target: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path to write; on success it replaces ``target`` atomically.

    A symlink is written through (the link stays, its target gets the new bytes) and an existing
    file keeps its permission mode (and owner, where we may set it). Any exception inside the
    block (including :class:`~desktop.errors.Cancelled`) removes the temporary file and
    propagates; ``OSError`` is translated to :class:`ExportError`.
    """
    shown = Path(target).expanduser().absolute()  # messages name the path the user gave
    check_target(shown)
    final = resolve_target(shown)
    if final != shown:
        check_target(final)
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{final.name}.", suffix=TEMP_SUFFIX, dir=final.parent)
    except OSError as exc:
        raise _explain(shown, exc) from exc
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        try:
            yield tmp
            _finish(tmp, final)
        except OSError as exc:
            raise _explain(shown, exc) from exc
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def _finish(tmp: Path, final: Path) -> None:
    try:
        existing: os.stat_result | None = os.stat(final)
    except FileNotFoundError:
        existing = None
    if existing is not None and stat.S_ISREG(existing.st_mode):
        # Replacing a file keeps what it was: a 0600 workbook stays private (issue #13).
        os.chmod(tmp, stat.S_IMODE(existing.st_mode))
        if hasattr(os, "chown") and (existing.st_uid, existing.st_gid) != _owner(tmp):
            with contextlib.suppress(OSError):  # only root may give a file away; others keep theirs
                os.chown(tmp, existing.st_uid, existing.st_gid)
    else:
        # mkstemp creates 0600; give a new export the permissions a normally created file has.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
    with open(tmp, "rb+") as handle:  # make the bytes durable before the rename makes them visible
        os.fsync(handle.fileno())
    os.replace(tmp, final)


def _owner(path: Path) -> tuple[int, int]:
    st = os.stat(path)
    return st.st_uid, st.st_gid

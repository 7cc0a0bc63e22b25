"""The library as use cases: presets, saved screens, screen files, snapshots and the watchlist.

Each function opens one session on the :class:`~desktop.store.db.Database` it is given and returns
plain values (``Screen``, dataclasses), never ORM objects. Presets are read-only files in
``resources/presets``; saving a screen under a preset's name saves a copy ("Cash survivors
(copy)") and never changes the preset.
"""

from __future__ import annotations

import copy
import json
import logging
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from desktop.engine.names import check_screen_name
from desktop.engine.screen import Screen, describe, parse_screen, screen_to_dict, screen_to_json
from desktop.errors import InputError, ScreenDefinitionError
from desktop.resources import resource_path
from desktop.store import screens as screen_store
from desktop.store import snapshots as snapshot_store
from desktop.store import watchlist as watch_store
from desktop.store.db import Database, NotFoundError
from desktop.store.screens import SavedScreen
from desktop.store.snapshots import SnapshotInfo
from desktop.store.watchlist import WatchEntry

log = logging.getLogger(__name__)

COPY_SUFFIX = " (copy)"
SCREEN_FILE_SUFFIXES = (".json", ".xlsx")
MAX_SCREEN_FILE_BYTES = 2_000_000  # a screen document is a few kB; refuse to read huge files


# --- presets -----------------------------------------------------------------------------------


@cache
def _load_presets() -> dict[str, tuple[str, dict[str, Any]]]:
    """name -> (file stem, canonical definition), validated once per process."""
    folder = resource_path("presets")
    out: dict[str, tuple[str, dict[str, Any]]] = {}
    for path in sorted(folder.glob("*.json")):
        screen = _parse_file_text(path.read_bytes(), path)
        out[screen.name] = (path.stem, screen_to_dict(screen))
    return out


def presets() -> dict[str, dict[str, Any]]:
    """The built-in screens, name -> definition (a fresh copy each call: they are read-only)."""
    return {name: copy.deepcopy(doc) for name, (_, doc) in _load_presets().items()}


def preset_name(name: str) -> str | None:
    """The preset called ``name`` (case-insensitive, or by its file name like ``cash_survivors``)."""
    wanted = name.strip().casefold()
    for preset, (stem, _) in _load_presets().items():
        if wanted in (preset.casefold(), stem.casefold()):
            return preset
    return None


def is_preset(name: str) -> bool:
    return preset_name(name) is not None


# --- reading screens from anywhere -----------------------------------------------------------


def _parse_file_text(raw: bytes, path: Path) -> Screen:
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ScreenDefinitionError(f"not UTF-8 text ({exc.reason} at byte {exc.start})", path=str(path)) from None
    return _with_path(lambda: parse_screen(text), path)


def _with_path(parse: Any, path: Path) -> Screen:
    """Run ``parse`` and name ``path`` in any error it raises."""
    try:
        return parse()
    except ScreenDefinitionError as exc:
        if exc.path:
            raise
        error = ScreenDefinitionError(exc.message, path=str(path), hint=exc.hint)
        error.field = exc.field
        raise error from None


def read_screen_file(path: str | Path) -> Screen:
    """A screen from a ``.json`` document or a workbook Pickaxe exported (``.xlsx``).

    Raises:
        ScreenDefinitionError: unreadable or invalid, naming the file and the place inside it.
    """
    file = Path(path).expanduser()
    suffix = file.suffix.lower()
    if suffix not in SCREEN_FILE_SUFFIXES:
        raise InputError("a screen file must be a .json document or an .xlsx workbook exported by Pickaxe",
                         path=str(file))
    if not file.is_file():
        raise InputError("the file does not exist", path=str(file))
    if suffix == ".xlsx":
        from desktop.export.excel import read_screen_definition  # lazy: openpyxl is slow to import

        definition = read_screen_definition(file)
        return _with_path(lambda: parse_screen(definition), file)
    if file.stat().st_size > MAX_SCREEN_FILE_BYTES:
        raise ScreenDefinitionError(
            f"the file is larger than {MAX_SCREEN_FILE_BYTES // 1_000_000} MB; a screen document is far smaller",
            path=str(file))
    try:
        raw = file.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read the file: {exc.strerror}", path=str(file)) from exc
    return _parse_file_text(raw, file)


def load_screen_any(db: Database, name_or_file: str | Path) -> Screen:
    """A screen by saved name, preset name, ``.json`` file or exported ``.xlsx`` workbook.

    An existing file wins; then a saved screen of that exact name; then a preset.

    Raises:
        NotFoundError: nothing of that name. InputError / ScreenDefinitionError: a bad file.
    """
    text = str(name_or_file).strip()
    path = Path(text).expanduser()
    looks_like_file = path.suffix.lower() in SCREEN_FILE_SUFFIXES
    if looks_like_file and path.is_file():
        return read_screen_file(path)
    with db.read_session() as session:
        try:
            saved = screen_store.get_screen(session, text)
        except NotFoundError:
            saved = None
    if saved is not None:
        return _with_path(lambda: parse_screen(saved.definition), Path(f"saved screen {saved.name!r}"))
    preset = preset_name(text)
    if preset is not None:
        return parse_screen(_load_presets()[preset][1])
    if looks_like_file:
        return read_screen_file(path)  # raises "the file does not exist", naming it
    raise NotFoundError(f"There is no saved screen, preset or screen file called {text!r}.",
                        hint="See: pickaxe-cli screens list")


# --- saving ----------------------------------------------------------------------------------


def save_screen(db: Database, screen: Screen, description: str = "") -> SavedScreen:
    """Save ``screen`` under its name as a new version and return what was saved.

    Saving under a preset's name saves "<name> (copy)" instead (the preset stays as shipped).
    ``description`` notes this version; it defaults to the screen's own description.
    """
    name = screen.name.strip()
    preset = preset_name(name)
    definition = screen_to_dict(screen)
    if preset is not None:
        name = f"{preset}{COPY_SUFFIX}"
        definition["name"] = name
        definition = screen_to_dict(parse_screen(definition))  # still a valid document
    with db.session() as session:
        saved_names = [s.name for s in screen_store.list_screens(session)]
        if name not in saved_names:  # a new name: printable, and not a look-alike (issue #13)
            check_screen_name(name, [("preset", p) for p in _load_presets()]
                              + [("saved screen", n) for n in saved_names])
        version = screen_store.save_screen(session, name, definition, description or screen.description)
        return screen_store.get_screen(session, name, version)


def import_screen_file(db: Database, path: str | Path, description: str = "") -> SavedScreen:
    """Read a ``.json`` or exported ``.xlsx`` screen file and save it (as a new version)."""
    screen = read_screen_file(path)
    return save_screen(db, screen, description or f"imported from {Path(path).name}")


def export_screen_file(db: Database, name: str, path: str | Path) -> Path:
    """Write a saved screen or preset as a ``.json`` screen document (all or nothing)."""
    from desktop.export.atomic import atomic_target

    target = Path(path).expanduser()
    if target.suffix.lower() != ".json":
        raise InputError("screens are exported as .json documents", path=str(target))
    screen = load_screen_any(db, name)
    with atomic_target(target) as tmp:
        tmp.write_text(screen_to_json(screen), encoding="utf-8")
    return target


def saved_screens(db: Database) -> list[SavedScreen]:
    with db.read_session() as session:
        return screen_store.list_screens(session)


def get_saved_screen(db: Database, name: str, version: int | None = None) -> SavedScreen:
    with db.read_session() as session:
        return screen_store.get_screen(session, name, version)


def screen_history(db: Database, name: str) -> list[SavedScreen]:
    with db.read_session() as session:
        return screen_store.screen_history(session, name)


def describe_changes(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """What changed between two screen documents, one plain line each.

    Criteria are compared as the engine describes them ("Interest coverage ≥ 5.0x"); other
    settings by value. Documents the engine cannot read fall back to a JSON path diff.
    """
    try:
        old, new = parse_screen(before), parse_screen(after)
    except ScreenDefinitionError:
        return screen_store.diff_definitions(before, after)
    old_criteria = [describe(c) for c in old.criteria]
    new_criteria = [describe(c) for c in new.criteria]
    lines = [f"removed: {text}" for text in old_criteria if text not in new_criteria]
    lines += [f"added: {text}" for text in new_criteria if text not in old_criteria]
    old_doc, new_doc = screen_to_dict(old), screen_to_dict(new)
    for key in dict.fromkeys([*old_doc, *new_doc]):
        if key != "criteria" and old_doc.get(key) != new_doc.get(key):
            lines.append(f"{key}: {_short(old_doc.get(key))} -> {_short(new_doc.get(key))}")
    if not lines and old_doc != new_doc:  # e.g. criteria reordered
        lines = screen_store.diff_definitions(old_doc, new_doc)
    return lines


def _short(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    return text if len(text) <= 80 else text[:77] + "..."


def diff_versions(db: Database, name: str, old: int, new: int | None = None) -> list[str]:
    """What changed between two versions of a saved screen (``new`` None = current), one line each."""
    with db.read_session() as session:
        before = screen_store.get_screen(session, name, old)
        after = screen_store.get_screen(session, name, new)
    return describe_changes(before.definition, after.definition)


def restore_screen(db: Database, name: str, version: int) -> SavedScreen:
    """Make an old version current again (saved as a new version; nothing is lost)."""
    with db.session() as session:
        number = screen_store.restore_screen(session, name, version)
        return screen_store.get_screen(session, name, number)


def delete_screen(db: Database, name: str) -> None:
    """Delete a saved screen with all its versions (presets cannot be deleted)."""
    try:
        with db.session() as session:
            screen_store.delete_screen(session, name)
    except NotFoundError:
        if is_preset(name):
            raise InputError(f"{name!r} is a built-in preset; presets cannot be deleted.") from None
        raise


# --- snapshots and the watchlist --------------------------------------------------------------


@dataclass(frozen=True)
class SnapshotDetail:
    info: SnapshotInfo
    n_prices: int  # symbols with daily closes
    price_days: int


def list_snapshots(db: Database) -> list[SnapshotInfo]:
    with db.read_session() as session:
        return snapshot_store.list_snapshots(session)


def snapshot_detail(db: Database, ref: str | int | None) -> SnapshotDetail:
    """A snapshot's description, found by id, date or "latest"."""
    with db.read_session() as session:
        snapshot_id = snapshot_store.resolve_snapshot(session, ref)
        info = snapshot_store.get_snapshot(session, snapshot_id)
        n_prices, days = snapshot_store.price_coverage(session, snapshot_id)
    return SnapshotDetail(info, n_prices, days)


def delete_snapshot(db: Database, ref: str | int) -> SnapshotInfo:
    """Delete one snapshot (by id or date); returns what was deleted."""
    with db.session() as session:
        snapshot_id = snapshot_store.resolve_snapshot(session, ref)
        info = snapshot_store.get_snapshot(session, snapshot_id)
        snapshot_store.delete_snapshot(session, snapshot_id)
    return info


def watch(db: Database, symbol: str, note: str = "") -> WatchEntry:
    with db.session() as session:
        return watch_store.add(session, symbol, note)


def unwatch(db: Database, symbol: str) -> bool:
    with db.session() as session:
        return watch_store.remove(session, symbol)


def watchlist(db: Database) -> list[WatchEntry]:
    with db.read_session() as session:
        return watch_store.list_watchlist(session)


def summary_lines(summary: dict[str, Any], limit: int = 12) -> list[str]:
    """An import summary as short ``key: value`` lines for people."""
    lines = []
    for key, value in list(summary.items())[:limit]:
        text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
        lines.append(f"{key}: {text if len(text) <= 100 else text[:97] + '...'}")
    if len(summary) > limit:
        lines.append(f"... and {len(summary) - limit} more")
    return lines

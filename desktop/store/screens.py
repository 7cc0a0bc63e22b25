"""Saved screens with full version history: every save keeps the previous version.

A screen's definition is the versioned JSON document of the engine (docs/screen-format.md),
stored as given. Saving an unchanged definition and description creates no new version.
Restoring version N saves N's definition as a new version, so history only ever grows.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from desktop.errors import StoreError
from desktop.store.codec import jsonable
from desktop.store.db import NotFoundError, begin_write
from desktop.store.models import SavedScreenRow, ScreenVersion
from desktop.store.snapshots import utcnow

MAX_NAME_LENGTH = 200


@dataclass(frozen=True)
class SavedScreen:
    """One version of a saved screen (the current one unless asked otherwise)."""

    name: str
    version: int
    definition: dict[str, Any]
    description: str
    created_at: datetime  # when the screen was first saved (naive UTC)
    updated_at: datetime  # when its latest version was saved
    saved_at: datetime  # when this version was saved
    current_version: int
    restored_from: int | None = None

    @property
    def is_current(self) -> bool:
        return self.version == self.current_version


def _check_name(name: str) -> str:
    clean = name.strip()
    if not clean:
        raise StoreError("A saved screen needs a name.")
    if len(clean) > MAX_NAME_LENGTH:
        raise StoreError(f"A screen name can have at most {MAX_NAME_LENGTH} characters.")
    return clean


def _screen_row(session: Session, name: str, *, for_update: bool = False) -> SavedScreenRow | None:
    query = sa.select(SavedScreenRow).where(SavedScreenRow.name == name)
    if for_update and session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()  # serialise concurrent saves of one name
    return session.scalar(query)


def _require(session: Session, name: str, *, for_update: bool = False) -> SavedScreenRow:
    row = _screen_row(session, name, for_update=for_update)
    if row is None:
        raise NotFoundError(f"There is no saved screen named {name!r}.", hint="See: pickaxe-cli screens list")
    return row


def _saved(row: SavedScreenRow, version: ScreenVersion) -> SavedScreen:
    return SavedScreen(name=row.name, version=version.version, definition=dict(version.definition),
                       description=version.description, created_at=row.created_at,
                       updated_at=row.updated_at, saved_at=version.saved_at,
                       current_version=row.current_version, restored_from=version.restored_from)


def _version(session: Session, row: SavedScreenRow, version: int) -> ScreenVersion:
    found = session.scalar(sa.select(ScreenVersion).where(ScreenVersion.screen_id == row.id,
                                                          ScreenVersion.version == version))
    if found is None:
        raise NotFoundError(f"The screen {row.name!r} has no version {version} "
                            f"(versions 1 to {row.current_version}).")
    return found


def _add_version(session: Session, name: str, definition: dict[str, Any], description: str,
                 restored_from: int | None) -> int:
    begin_write(session)
    name = _check_name(name)
    clean = jsonable(definition)
    if not isinstance(clean, dict):
        raise StoreError("A screen definition must be a JSON object.")
    now = utcnow()
    row = _screen_row(session, name, for_update=True)
    if row is None:
        row = SavedScreenRow(name=name, created_at=now, updated_at=now, current_version=0)
        session.add(row)
        session.flush()
    else:
        current = _version(session, row, row.current_version)
        if restored_from is None and current.definition == clean and current.description == description:
            return row.current_version  # nothing changed: no new version
    row.current_version += 1
    row.updated_at = now
    session.add(ScreenVersion(screen_id=row.id, version=row.current_version, description=description,
                              definition=clean, saved_at=now, restored_from=restored_from))
    session.flush()
    return row.current_version


def save_screen(session: Session, name: str, definition: dict[str, Any], description: str = "") -> int:
    """Save ``definition`` under ``name`` as its next version; returns the version number.

    An unchanged definition and description returns the current version without adding one.
    """
    return _add_version(session, name, definition, description, None)


def get_screen(session: Session, name: str, version: int | None = None) -> SavedScreen:
    """A saved screen's current version (or ``version``).

    Raises:
        NotFoundError: no screen of that name, or no such version.
    """
    row = _require(session, name)
    return _saved(row, _version(session, row, version if version is not None else row.current_version))


def list_screens(session: Session) -> list[SavedScreen]:
    """The current version of every saved screen, by name."""
    query = (sa.select(SavedScreenRow, ScreenVersion)
             .join(ScreenVersion, sa.and_(ScreenVersion.screen_id == SavedScreenRow.id,
                                          ScreenVersion.version == SavedScreenRow.current_version))
             .order_by(SavedScreenRow.name))
    return [_saved(row, version) for row, version in session.execute(query)]


def screen_history(session: Session, name: str) -> list[SavedScreen]:
    """Every version of a saved screen, oldest first."""
    row = _require(session, name)
    versions = session.scalars(sa.select(ScreenVersion).where(ScreenVersion.screen_id == row.id)
                               .order_by(ScreenVersion.version))
    return [_saved(row, v) for v in versions]


def restore_screen(session: Session, name: str, version: int) -> int:
    """Make ``version``'s definition current again (as a new version); returns the new number."""
    row = _require(session, name)
    old = _version(session, row, version)
    return _add_version(session, name, dict(old.definition), old.description, version)


def delete_screen(session: Session, name: str) -> None:
    """Delete a saved screen and all its versions (its past runs are kept)."""
    begin_write(session)
    row = _require(session, name)
    session.execute(sa.delete(ScreenVersion).where(ScreenVersion.screen_id == row.id))
    session.execute(sa.delete(SavedScreenRow).where(SavedScreenRow.id == row.id))
    session.expire_all()


def screen_exists(session: Session, name: str) -> bool:
    return _screen_row(session, name) is not None


def diff_definitions(before: Any, after: Any, path: str = "") -> list[str]:
    """Plain-text differences between two screen definitions, one line per changed value,
    e.g. ``criteria[2].min: 0.1 -> 0.2``. Used for screen history when the engine offers no
    richer comparison of definitions."""
    if isinstance(before, dict) and isinstance(after, dict):
        lines: list[str] = []
        for key in list(before) + [k for k in after if k not in before]:
            sub = f"{path}.{key}" if path else str(key)
            if key not in after:
                lines.append(f"{sub}: removed (was {_show(before[key])})")
            elif key not in before:
                lines.append(f"{sub}: added {_show(after[key])}")
            else:
                lines.extend(diff_definitions(before[key], after[key], sub))
        return lines
    if isinstance(before, list) and isinstance(after, list):
        lines = []
        for i in range(max(len(before), len(after))):
            sub = f"{path}[{i}]"
            if i >= len(after):
                lines.append(f"{sub}: removed (was {_show(before[i])})")
            elif i >= len(before):
                lines.append(f"{sub}: added {_show(after[i])}")
            else:
                lines.extend(diff_definitions(before[i], after[i], sub))
        return lines
    if before != after or type(before) is not type(after):
        return [f"{path or '(document)'}: {_show(before)} -> {_show(after)}"]
    return []


def _show(value: Any) -> str:
    text = json.dumps(value, sort_keys=True)
    return text if len(text) <= 80 else text[:77] + "..."

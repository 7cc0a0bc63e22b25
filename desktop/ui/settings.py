"""Every QSettings key Pickaxe uses, typed, in one place (STYLE.md section 5).

UI state only (geometry, splitters, table columns, chart fields, last screen, last folder);
domain data such as screens and the watchlist lives in the database. ``SETTINGS_VERSION`` is
stored under ``meta/version`` and :func:`migrate` brings older layouts forward on start-up.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtCore import QByteArray, QSettings

log = logging.getLogger(__name__)

SETTINGS_VERSION = 1

_VERSION_KEY = "meta/version"


# from-version -> step rewriting that version's keys into the next version's layout. Empty while
# version 1 is the only layout that ever shipped; add a step here when a key is renamed or retyped.
_MIGRATIONS: dict[int, Callable[[QSettings], None]] = {}


def migrate(s: QSettings) -> int:
    """Bring ``s`` to :data:`SETTINGS_VERSION`; returns the version found before migrating.

    A file written by a newer Pickaxe is left untouched (we do not know its layout).
    """
    found = _as_int(s.value(_VERSION_KEY), 0)
    if found > SETTINGS_VERSION:
        log.warning("settings were written by a newer Pickaxe (version %s); not migrating", found)
        return found
    if found == 0:
        # Fresh settings (or written before versioning existed): nothing to rewrite.
        s.setValue(_VERSION_KEY, SETTINGS_VERSION)
        return found
    version = found
    while version < SETTINGS_VERSION:
        step = _MIGRATIONS.get(version)
        if step is not None:
            log.info("migrating settings from version %s", version)
            step(s)
        version += 1
    s.setValue(_VERSION_KEY, SETTINGS_VERSION)
    return found


def _as_int(value: object, default: int) -> int:
    try:
        return int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return default


def _as_list(value: object) -> list[str]:
    # INI-backed QSettings returns a one-element list as a plain string and an empty one as None.
    if value is None or value == "":
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, list | tuple):
        return [str(v) for v in value]
    return []


def _as_bytes(value: object) -> QByteArray:
    if isinstance(value, QByteArray):
        return value
    if isinstance(value, bytes | bytearray):
        return QByteArray(bytes(value))
    return QByteArray()


class Settings:
    """Typed access to Pickaxe's QSettings. Create one per window; cheap to construct."""

    def __init__(self, qsettings: QSettings | None = None) -> None:
        self._s = qsettings if qsettings is not None else QSettings()
        migrate(self._s)

    @property
    def qsettings(self) -> QSettings:
        return self._s

    def sync(self) -> None:
        self._s.sync()

    # -- main window ------------------------------------------------------------------------
    @property
    def geometry(self) -> QByteArray:
        return _as_bytes(self._s.value("main_window/geometry"))

    @geometry.setter
    def geometry(self, value: QByteArray) -> None:
        self._s.setValue("main_window/geometry", value)

    @property
    def window_state(self) -> QByteArray:
        return _as_bytes(self._s.value("main_window/state"))

    @window_state.setter
    def window_state(self, value: QByteArray) -> None:
        self._s.setValue("main_window/state", value)

    def splitter_state(self, name: str) -> QByteArray:
        """Saved sizes of the splitter called ``name`` (empty when never saved)."""
        return _as_bytes(self._s.value(f"main_window/splitter_{name}"))

    def set_splitter_state(self, name: str, value: QByteArray) -> None:
        self._s.setValue(f"main_window/splitter_{name}", value)

    # -- results table ----------------------------------------------------------------------
    @property
    def visible_columns(self) -> list[str]:
        """Field names the user chose to show besides the screen's own columns."""
        return _as_list(self._s.value("results/visible_columns"))

    @visible_columns.setter
    def visible_columns(self, value: list[str]) -> None:
        self._s.setValue("results/visible_columns", list(value))

    # -- charts -----------------------------------------------------------------------------
    @property
    def scatter_fields(self) -> tuple[str, str]:
        x = str(self._s.value("charts/scatter_x") or "market_cap")
        y = str(self._s.value("charts/scatter_y") or "fcf_yield")
        return x, y

    @scatter_fields.setter
    def scatter_fields(self, value: tuple[str, str]) -> None:
        self._s.setValue("charts/scatter_x", value[0])
        self._s.setValue("charts/scatter_y", value[1])

    @property
    def color_by(self) -> str:
        value = str(self._s.value("charts/color_by") or "sector")
        return value if value in ("sector", "themes") else "sector"

    @color_by.setter
    def color_by(self, value: str) -> None:
        self._s.setValue("charts/color_by", value)

    # -- screens and files ------------------------------------------------------------------
    @property
    def last_screen(self) -> str:
        """Name (saved or preset) or file path of the last screen that was open."""
        return str(self._s.value("screens/last") or "")

    @last_screen.setter
    def last_screen(self, value: str) -> None:
        self._s.setValue("screens/last", value)

    @property
    def last_folder(self) -> str:
        return str(self._s.value("files/last_folder") or "")

    @last_folder.setter
    def last_folder(self, value: str) -> None:
        self._s.setValue("files/last_folder", value)

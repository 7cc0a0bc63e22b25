"""Every UI-state key Pickaxe keeps, typed and validated, in one place (STYLE.md section 5).

UI state only (geometry, splitters, table columns, chart fields, last screen, last folder);
domain data such as screens and the watchlist lives in the database. ``SETTINGS_VERSION`` is
stored under ``meta/version`` and :func:`migrate` brings older layouts forward on start-up.

Why not QSettings (issue #13, root cause 1). In an INI file QSettings writes any value that is not
a string as ``@Variant(<QDataStream bytes>)`` (and ``@ByteArray(...)``, ``@Size(...)`` ...), and on
reading it turns that text back into a ``QVariant`` with ``QVariant::load``. PySide6 registers the
metatype ``PySide::PyObjectWrapper`` with stream operators that call ``pickle.loads``, so a
``@Variant(\\0\\0\\0\\x7f\\0\\0\\0\\x18PySide::PyObjectWrapper...)`` value executes whatever the
pickle says. Measured with PySide6 6.11: ``QSettings.value()`` of *any* key parses (and so
unpickles) every value of that key's section, and ``sync()`` / ``allKeys()`` parse the whole file;
constructing the object alone does not. Other ``@Variant`` payloads reach Qt's own stream
decoders, which is where malformed values crash the process. There is no QSettings switch that
turns this decoding off, so Pickaxe does not use QSettings at all.

Instead the settings are one small JSON object in ``paths.config_dir() / settings.json`` (under
``PICKAXE_HOME`` when that is set, never in ``~/.config`` then). JSON has no code and no object
types: every value is read with its expected type (text, a list of text, a base64 blob for Qt's
geometry/state bytes), checked for size and shape, and anything else is a corrupt setting that is
reset to its default, logged, and reported once through :attr:`Settings.problems` (the window shows
it as a non-modal status line). The old QSettings file (``~/.config/Pickaxe/Pickaxe.conf``) is
never opened: it may hold exactly the payload described above.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import logging
import os
import re
import stat
import tempfile
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QByteArray

from desktop import paths

log = logging.getLogger(__name__)

SETTINGS_VERSION = 1
SETTINGS_FILE_NAME = "settings.json"

_VERSION_KEY = "meta/version"

# Bounds on what a settings file may hold. A real file is a few kilobytes; anything beyond these is
# damage or an attack, and reading it must stay cheap.
MAX_FILE_BYTES = 1_000_000
MAX_TEXT_CHARS = 4_096  # a screen name or a folder path
MAX_BLOB_BYTES = 64_000  # QMainWindow.saveState() of a window with many docks is ~2 KB
MAX_LIST_ITEMS = 500  # visible columns: the catalogue has fewer fields than this
_SPLITTER_NAME = re.compile(r"[A-Za-z0-9_]{1,64}")

Values = dict[str, object]

# from-version -> step rewriting that version's keys (in the raw JSON object) into the next
# version's layout. Empty while version 1 is the only layout that ever shipped; add a step here
# when a key is renamed or retyped.
_MIGRATIONS: dict[int, Callable[[Values], None]] = {}


def settings_file() -> Path:
    """Where the settings live: the config folder (``PICKAXE_HOME/config`` when set)."""
    return paths.config_dir() / SETTINGS_FILE_NAME


def migrate(values: Values) -> int:
    """Bring ``values`` to :data:`SETTINGS_VERSION` in place; returns the version found.

    A file written by a newer Pickaxe is left untouched (we do not know its layout).
    """
    raw = values.get(_VERSION_KEY, 0)
    found = raw if isinstance(raw, int) and not isinstance(raw, bool) and raw >= 0 else 0
    if found > SETTINGS_VERSION:
        log.warning("settings were written by a newer Pickaxe (version %s); not migrating", found)
        return found
    version = max(found, 1)
    while version < SETTINGS_VERSION:
        step = _MIGRATIONS.get(version)
        if step is not None:
            log.info("migrating settings from version %s", version)
            step(values)
        version += 1
    values[_VERSION_KEY] = SETTINGS_VERSION
    return found


# -- validators: each returns the value in its Python type, or raises ValueError with the reason --
def _text(value: object) -> str:
    if not isinstance(value, str):
        raise ValueError("expected text")
    if len(value) > MAX_TEXT_CHARS:
        raise ValueError(f"longer than {MAX_TEXT_CHARS} characters")
    if "\x00" in value:
        raise ValueError("contains a NUL character")
    return value


def _text_list(value: object) -> list[str]:
    if not isinstance(value, list):
        raise ValueError("expected a list of text")
    if len(value) > MAX_LIST_ITEMS:
        raise ValueError(f"more than {MAX_LIST_ITEMS} items")
    return [_text(v) for v in value]


def _blob(value: object) -> bytes:
    if not isinstance(value, str):
        raise ValueError("expected base64 text")
    if len(value) > 4 * MAX_BLOB_BYTES // 3 + 4:
        raise ValueError(f"larger than {MAX_BLOB_BYTES} bytes")
    try:
        return base64.b64decode(value.encode("ascii"), validate=True)
    except (UnicodeEncodeError, binascii.Error):
        raise ValueError("expected base64 text") from None


def _choice(*allowed: str) -> Callable[[object], str]:
    def check(value: object) -> str:
        if value not in allowed:
            raise ValueError(f"expected one of {', '.join(allowed)}")
        return str(value)

    return check


def _user_agent(value: object) -> str:
    """The SEC User-Agent: "Name e-mail" (issue #14); anything without a contact e-mail is refused."""
    from desktop.data.sec_client import resolve_user_agent
    from desktop.errors import DataSourceError

    text = _text(value)
    if not text:
        return text  # the user chose to go without the SEC
    try:
        return resolve_user_agent(text)
    except DataSourceError as exc:
        raise ValueError(exc.message) from None


def _version(value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 1_000_000:
        raise ValueError("expected a small whole number")
    return value


# Every key with its validator. Splitter keys are ``main_window/splitter_<name>`` (blobs).
_KEYS: dict[str, Callable[[object], object]] = {
    _VERSION_KEY: _version,
    "main_window/geometry": _blob,
    "main_window/state": _blob,
    "results/visible_columns": _text_list,
    "charts/scatter_x": _text,
    "charts/scatter_y": _text,
    "charts/color_by": _choice("sector", "themes"),
    "screens/last": _text,
    "files/last_folder": _text,
    "sec/user_agent": _user_agent,  # "" = asked, and the user went without the SEC
}
_SPLITTER_PREFIX = "main_window/splitter_"


def _validator(key: str) -> Callable[[object], object] | None:
    if key in _KEYS:
        return _KEYS[key]
    if key.startswith(_SPLITTER_PREFIX) and _SPLITTER_NAME.fullmatch(key[len(_SPLITTER_PREFIX):]):
        return _blob
    return None


def _plain_scalar(value: object) -> bool:
    return value is None or isinstance(value, bool | int | float | str) and (
        not isinstance(value, str) or len(value) <= MAX_TEXT_CHARS)


def _refuse_constant(name: str) -> object:
    raise ValueError(f"{name} is not a valid JSON number")


class Settings:
    """Typed access to Pickaxe's UI settings file. Create one per window; cheap to construct.

    ``problems`` lists, in plain sentences, every setting that was damaged and reset while loading
    (empty almost always); the caller shows them once. The reset is written back at once, so the
    same damage is reported only once.
    """

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        self.path = Path(path) if path is not None else settings_file()
        self.problems: list[str] = []
        self._values: Values = {}
        raw = self._read_file()
        self._values = self._validated(raw)
        before = dict(self._values)
        self.found_version = migrate(self._values)
        if self.problems or self._values != before or not self.path.exists():
            self._write()

    # -- file ---------------------------------------------------------------------------------
    def _report(self, sentence: str) -> None:
        log.warning("%s", sentence)
        self.problems.append(sentence)

    def _read_file(self) -> Values:
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            return {}
        except OSError as exc:
            self._report(f"The settings file {self.path} cannot be read ({exc.strerror}); "
                         "Pickaxe starts with default settings.")
            return {}
        # Check before opening: a FIFO or a device as the settings file would block or never end.
        reason = ("it is not a regular file" if not stat.S_ISREG(st.st_mode)
                  else f"it is larger than {MAX_FILE_BYTES:,} bytes" if st.st_size > MAX_FILE_BYTES else "")
        data: object = None
        if not reason:
            try:
                with open(self.path, "rb") as handle:
                    text = handle.read(MAX_FILE_BYTES + 1).decode("utf-8")
                data = json.loads(text, parse_constant=_refuse_constant)
            except OSError as exc:
                reason = exc.strerror or type(exc).__name__
            except UnicodeDecodeError:
                reason = "it is not UTF-8 text"
            except RecursionError:
                reason = "it is nested too deeply"
            except ValueError as exc:  # json.JSONDecodeError and refused NaN/Infinity
                reason = f"it is not valid JSON ({exc})"
            else:
                if not isinstance(data, dict):
                    reason = "it is not a JSON object"
        if reason:
            kept = self._keep_damaged_copy()
            self._report(f"The settings file {self.path} was damaged ({reason}) and was reset to the "
                         "defaults" + (f"; the damaged file was kept as {kept}." if kept else "."))
            return {}
        assert isinstance(data, dict)
        return data

    def _keep_damaged_copy(self) -> Path | None:
        if not self.path.is_file():  # a FIFO or folder in its place: leave it, we write beside it
            return None
        kept = self.path.with_name(self.path.name + ".damaged")
        try:
            os.replace(self.path, kept)
        except OSError:
            return None
        return kept

    def _validated(self, raw: Values) -> Values:
        values: Values = {}
        for key, value in raw.items():
            check = _validator(key)
            if check is None:
                # Unknown key (a newer Pickaxe's, or junk): keep plain values untouched, drop others.
                if _plain_scalar(value) and len(key) <= 200:
                    values[key] = value
                    continue
                self._report(f"The unknown setting {key[:60]!r} in {self.path} held a structured value "
                             "and was removed.")
                continue
            try:
                check(value)
            except ValueError as exc:
                self._report(f"The setting {key!r} in {self.path} was not valid ({exc}) and was reset "
                             "to its default.")
                continue
            values[key] = value
        return values

    def _write(self) -> None:
        text = json.dumps(self._values, ensure_ascii=False, indent=1, sort_keys=True, allow_nan=False)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".tmp", dir=self.path.parent)
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as handle:
                    handle.write(text + "\n")
                os.replace(tmp, self.path)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
                raise
        except OSError as exc:
            # UI state is a convenience: a read-only config folder must not stop the app.
            log.warning("cannot write the settings file %s: %s", self.path, exc)

    def _get(self, key: str) -> object:
        return self._values.get(key)

    def _set(self, key: str, value: object) -> None:
        check = _validator(key)
        assert check is not None, key
        try:
            check(value)
        except ValueError as exc:  # e.g. a folder path longer than we keep: not worth an error
            log.warning("not saving the setting %s: %s", key, exc)
            return
        if self._values.get(key) != value:
            self._values[key] = value
            self._write()

    def _get_blob(self, key: str) -> QByteArray:
        value = self._get(key)
        return QByteArray(_blob(value)) if isinstance(value, str) else QByteArray()

    def _set_blob(self, key: str, value: QByteArray | bytes) -> None:
        data = bytes(value.data()) if isinstance(value, QByteArray) else bytes(value)
        if len(data) > MAX_BLOB_BYTES:
            log.warning("not saving %s: %d bytes is more than the %d allowed", key, len(data), MAX_BLOB_BYTES)
            return
        self._set(key, base64.b64encode(data).decode("ascii"))

    def value(self, key: str) -> object:
        """The stored plain value of ``key`` (None when absent); for tests and diagnostics."""
        return self._get(key)

    def sync(self) -> None:
        """Make sure the file holds the current values (setters already write through)."""
        self._write()

    # -- main window ------------------------------------------------------------------------
    @property
    def geometry(self) -> QByteArray:
        return self._get_blob("main_window/geometry")

    @geometry.setter
    def geometry(self, value: QByteArray) -> None:
        self._set_blob("main_window/geometry", value)

    @property
    def window_state(self) -> QByteArray:
        return self._get_blob("main_window/state")

    @window_state.setter
    def window_state(self, value: QByteArray) -> None:
        self._set_blob("main_window/state", value)

    def splitter_state(self, name: str) -> QByteArray:
        """Saved sizes of the splitter called ``name`` (empty when never saved)."""
        if not _SPLITTER_NAME.fullmatch(name):
            return QByteArray()
        return self._get_blob(f"{_SPLITTER_PREFIX}{name}")

    def set_splitter_state(self, name: str, value: QByteArray) -> None:
        if _SPLITTER_NAME.fullmatch(name):
            self._set_blob(f"{_SPLITTER_PREFIX}{name}", value)

    # -- results table ----------------------------------------------------------------------
    @property
    def visible_columns(self) -> list[str]:
        """Field names the user chose to show besides the screen's own columns."""
        value = self._get("results/visible_columns")
        return list(value) if isinstance(value, list) else []  # validated as text on load

    @visible_columns.setter
    def visible_columns(self, value: list[str]) -> None:
        self._set("results/visible_columns", [str(v) for v in value])

    # -- charts -----------------------------------------------------------------------------
    @property
    def scatter_fields(self) -> tuple[str, str]:
        x = self._get("charts/scatter_x")
        y = self._get("charts/scatter_y")
        return (x if isinstance(x, str) and x else "market_cap",
                y if isinstance(y, str) and y else "fcf_yield")

    @scatter_fields.setter
    def scatter_fields(self, value: tuple[str, str]) -> None:
        self._set("charts/scatter_x", str(value[0]))
        self._set("charts/scatter_y", str(value[1]))

    @property
    def color_by(self) -> str:
        value = self._get("charts/color_by")
        return value if isinstance(value, str) else "sector"

    @color_by.setter
    def color_by(self, value: str) -> None:
        self._set("charts/color_by", value if value in ("sector", "themes") else "sector")

    # -- screens and files ------------------------------------------------------------------
    @property
    def last_screen(self) -> str:
        """Name (saved or preset) or file path of the last screen that was open."""
        value = self._get("screens/last")
        return value if isinstance(value, str) else ""

    @last_screen.setter
    def last_screen(self, value: str) -> None:
        self._set("screens/last", str(value))

    @property
    def last_folder(self) -> str:
        value = self._get("files/last_folder")
        return value if isinstance(value, str) else ""

    @last_folder.setter
    def last_folder(self, value: str) -> None:
        self._set("files/last_folder", str(value))

    # -- SEC EDGAR (issue #14) ------------------------------------------------------------------
    @property
    def sec_user_agent(self) -> str | None:
        """The User-Agent declared to the SEC ("Name e-mail"); "" when the user chose to go without
        the SEC; None when never asked."""
        value = self._get("sec/user_agent")
        return value if isinstance(value, str) else None

    @sec_user_agent.setter
    def sec_user_agent(self, value: str) -> None:
        self._set("sec/user_agent", value.strip())

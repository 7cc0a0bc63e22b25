"""Hostile settings files (issue #13, root causes 1 and 11): settings are never code.

A QSettings INI value ``@Variant(...PySide::PyObjectWrapper...)`` is unpickled by PySide6 when read.
These tests plant such a payload (it would create a marker file) everywhere a Pickaxe start could
look, prove the payload is live (QSettings itself runs it), and prove that Pickaxe - in process and
through a real ``--screenshot`` start - never runs it. Damaged values of every kind are reset with
one sentence, and ``PICKAXE_HOME`` keeps the settings under it.
"""

from __future__ import annotations

import base64
import json
import os
import pickle
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from desktop.ui import settings as settings_module
from desktop.ui.settings import Settings

pytestmark = pytest.mark.timeout(120)


class _Payload:
    """Unpickling this creates ``marker``: the stand-in for arbitrary code."""

    def __init__(self, marker: Path) -> None:
        self.marker = str(marker)

    def __reduce__(self) -> tuple[object, tuple[str, str]]:
        return (open, (self.marker, "w"))


def _variant_ini(tmp_path: Path, marker: Path) -> str:
    """The text of an INI file whose ``screens/last`` is a pickled payload, written by QSettings."""
    script = textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(Path(__file__).parent)!r})
        from PySide6.QtCore import QCoreApplication, QSettings
        from test_hostile_settings import _Payload
        app = QCoreApplication([])
        s = QSettings({str(tmp_path / "payload.ini")!r}, QSettings.Format.IniFormat)
        s.setValue("screens/last", _Payload(__import__("pathlib").Path({str(marker)!r})))
        s.setValue("screens/other", "plain")
        s.sync()
    """)
    subprocess.run([sys.executable, "-c", script], check=True, timeout=60, capture_output=True)
    text = (tmp_path / "payload.ini").read_text(encoding="latin-1")
    assert "PySide::PyObjectWrapper" in text and not marker.exists()
    return text


def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PICKAXE_")}
    env.update({"PICKAXE_HOME": str(home / "pickaxe"), "HOME": str(home / "user"),
                "XDG_CONFIG_HOME": str(home / "user" / ".config"), "QT_QPA_PLATFORM": "offscreen"})
    return env


def _plant(home: Path, ini: str, marker: Path) -> list[Path]:
    """The payload as every settings file a start could read: legacy QSettings places and ours."""
    legacy = [home / "user" / ".config" / "Pickaxe" / "Pickaxe.conf",
              home / "pickaxe" / "config" / "Pickaxe.conf",
              home / "pickaxe" / "config" / "Pickaxe" / "Pickaxe.conf"]
    for path in legacy:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(ini, encoding="latin-1")
    ours = home / "pickaxe" / "config" / "settings.json"
    variant = next(line.split("=", 1)[1] for line in ini.splitlines() if line.startswith("last="))
    ours.write_text(json.dumps({
        "meta/version": 1,
        "screens/last": variant,  # the QSettings text as a string: must stay a string
        "main_window/geometry": base64.b64encode(pickle.dumps(_Payload(marker))).decode(),
        "main_window/state": {"__reduce__": ["os.system", "touch " + str(marker)]},
        "files/last_folder": variant,
    }), encoding="utf-8")
    return [*legacy, ours]


def test_the_planted_payload_is_live_through_qsettings(tmp_path: Path) -> None:
    """The canary: plain QSettings reading the planted file runs the payload. Without this the
    other tests could pass because the payload was inert."""
    marker = tmp_path / "MARKER"
    ini = _variant_ini(tmp_path, marker)
    _plant(tmp_path, ini, marker)
    script = ("from PySide6.QtCore import QCoreApplication, QSettings\n"
              "app = QCoreApplication([]); app.setOrganizationName('Pickaxe'); app.setApplicationName('Pickaxe')\n"
              "QSettings().value('screens/other')\n")
    subprocess.run([sys.executable, "-c", script], env=_env(tmp_path), timeout=60, capture_output=True)
    assert marker.exists(), "QSettings no longer unpickles @Variant values: revisit desktop/ui/settings.py"


def test_settings_never_run_a_planted_payload(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    marker = tmp_path / "MARKER"
    ini = _variant_ini(tmp_path, marker)
    _plant(tmp_path, ini, marker)
    for key, value in _env(tmp_path).items():
        monkeypatch.setenv(key, value)
    s = Settings()
    s.last_screen = "Cash survivors"
    s.sync()
    assert not marker.exists()
    assert s.path == tmp_path / "pickaxe" / "config" / "settings.json"
    # The payload text is kept as inert text; the non-text state is reset with a sentence each.
    assert s.last_folder.startswith("@Variant(")
    assert s.window_state.isEmpty()
    assert any("main_window/state" in p and "reset" in p for p in s.problems)
    assert "Traceback" not in "".join(s.problems)


def test_screenshot_start_never_runs_a_planted_payload(tmp_path: Path) -> None:
    """A real ``pickaxe --screenshot`` start (root cause 1 names it), with the payload planted in
    every settings file, and PICKAXE_HOME keeping everything out of ~/.config (root cause 11)."""
    marker = tmp_path / "MARKER"
    ini = _variant_ini(tmp_path, marker)
    planted = _plant(tmp_path, ini, marker)
    legacy_bytes = {p: p.read_bytes() for p in planted[:-1]}
    png = tmp_path / "shot.png"
    result = subprocess.run([sys.executable, "-m", "desktop", "--db", str(tmp_path / "store.sqlite3"),
                             "--screenshot", str(png)], env=_env(tmp_path), capture_output=True, text=True,
                            timeout=100)
    assert result.returncode == 0, result.stderr
    assert png.is_file()
    assert not marker.exists()
    assert "Traceback" not in result.stderr
    assert "main_window/state" in result.stderr and "reset" in result.stderr  # told once, no traceback
    for path, data in legacy_bytes.items():
        assert path.read_bytes() == data  # the legacy files are not even rewritten
    stored = json.loads((tmp_path / "pickaxe" / "config" / "settings.json").read_text(encoding="utf-8"))
    assert "main_window/state" not in stored or isinstance(stored["main_window/state"], str)
    # Nothing of Pickaxe's in the user's own config folder.
    assert sorted(p.name for p in (tmp_path / "user" / ".config").iterdir()) == ["Pickaxe"]
    assert sorted(p.name for p in (tmp_path / "user" / ".config" / "Pickaxe").iterdir()) == ["Pickaxe.conf"]
    # A second start has nothing left to report.
    again = subprocess.run([sys.executable, "-m", "desktop", "--db", str(tmp_path / "store.sqlite3"),
                            "--screenshot", str(png)], env=_env(tmp_path), capture_output=True, text=True,
                           timeout=100)
    assert again.returncode == 0 and "reset" not in again.stderr and not marker.exists()


def test_pickaxe_home_keeps_settings_out_of_the_user_config(tmp_path: Path) -> None:
    env = _env(tmp_path)
    png = tmp_path / "shot.png"
    result = subprocess.run([sys.executable, "-m", "desktop", "--db", str(tmp_path / "s.sqlite3"),
                             "--screenshot", str(png)], env=env, capture_output=True, text=True, timeout=100)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "pickaxe" / "config" / "settings.json").is_file()
    assert not (tmp_path / "user" / ".config").exists() or not any((tmp_path / "user" / ".config").rglob("*"))
    assert not (tmp_path / "user" / ".local").exists()


DAMAGED: dict[str, bytes] = {
    "not JSON": b"[main_window]\ngeometry=@ByteArray(\\x1)\n",
    "binary garbage": bytes(range(256)) * 4,
    "not an object": b"[1, 2, 3]",
    "NaN constant": b'{"meta/version": NaN}',
    "deep nesting": b"[" * 200_000 + b"]" * 200_000,
    "truncated": b'{"screens/last": "Cash surv',
    "empty file": b"",
}


@pytest.mark.parametrize("name", list(DAMAGED))
def test_a_damaged_file_is_reset_once_and_kept_aside(tmp_path: Path, name: str) -> None:
    path = tmp_path / "settings.json"
    path.write_bytes(DAMAGED[name])
    s = Settings(path)
    assert len(s.problems) == 1
    assert str(path) in s.problems[0] and "reset" in s.problems[0]
    assert (tmp_path / "settings.json.damaged").read_bytes() == DAMAGED[name]
    assert s.last_screen == "" and s.geometry.isEmpty()
    assert Settings(path).problems == []  # reported once


BAD_VALUES: dict[str, tuple[str, object]] = {
    "geometry not text": ("main_window/geometry", 12),
    "geometry not base64": ("main_window/geometry", "@ByteArray(\\x1\\x2)"),
    "geometry too large": ("main_window/geometry", "A" * (settings_module.MAX_BLOB_BYTES * 2)),
    "splitter object": ("main_window/splitter_main", {"py/object": "os.system"}),
    "columns not a list": ("results/visible_columns", "fcf_yield"),
    "columns hold numbers": ("results/visible_columns", ["a", 3]),
    "columns too many": ("results/visible_columns", ["x"] * (settings_module.MAX_LIST_ITEMS + 1)),
    "color_by unknown": ("charts/color_by", "purple"),
    "last screen with NUL": ("screens/last", "Cash\x00survivors"),
    "last screen huge": ("screens/last", "x" * (settings_module.MAX_TEXT_CHARS + 1)),
    "last folder a list": ("files/last_folder", ["/tmp"]),
    "version text": ("meta/version", "1"),
    "version bool": ("meta/version", True),
}


@pytest.mark.parametrize("name", list(BAD_VALUES))
def test_a_bad_value_is_reset_and_the_rest_kept(tmp_path: Path, name: str) -> None:
    key, value = BAD_VALUES[name]
    path = tmp_path / "settings.json"
    path.write_text(json.dumps({"meta/version": 1, "charts/scatter_x": "ebitda", key: value}), encoding="utf-8")
    s = Settings(path)
    assert len(s.problems) == 1 and repr(key) in s.problems[0] and "reset" in s.problems[0]
    assert s.scatter_fields[0] == "ebitda"  # the good neighbour survives
    assert s.value(key) == (1 if key == "meta/version" else None)
    stored = json.loads(path.read_text(encoding="utf-8"))
    assert key not in stored or stored[key] == 1
    assert Settings(path).problems == []


def test_unknown_keys_keep_plain_values_and_lose_structures(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    path.write_text(json.dumps({"future/flag": True, "future/obj": {"a": [1]}}), encoding="utf-8")
    s = Settings(path)
    assert s.value("future/flag") is True and s.value("future/obj") is None
    assert len(s.problems) == 1 and "future/obj" in s.problems[0]


def test_a_fifo_or_folder_as_the_settings_file_does_not_hang(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo.json"
    os.mkfifo(fifo)
    s = Settings(fifo)  # reading a FIFO would block forever; the timeout mark guards it
    assert len(s.problems) == 1 and "not a regular file" in s.problems[0]
    folder = tmp_path / "folder.json"
    folder.mkdir()
    s = Settings(folder)
    assert len(s.problems) == 1 and "not a regular file" in s.problems[0]
    assert folder.is_dir()


def test_an_oversized_file_is_not_read(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    path.write_bytes(b'{"x": "' + b"a" * (settings_module.MAX_FILE_BYTES + 10) + b'"}')
    s = Settings(path)
    assert len(s.problems) == 1 and "larger than" in s.problems[0]


def test_garbage_window_state_does_not_crash_the_window(tmp_path: Path, qtbot: object,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """Valid base64 of bytes Qt never wrote: restoreGeometry/restoreState must refuse them."""
    from desktop.ui.main_window import MainWindow

    monkeypatch.setenv("PICKAXE_HOME", str(tmp_path / "home"))
    path = settings_module.settings_file()
    junk = base64.b64encode(bytes((i * 37 + 11) % 256 for i in range(3000))).decode()
    header_junk = base64.b64encode(b"\x01\xd9\xd0\xcb\x00\x03" + b"\xff" * 64).decode()
    path.write_text(json.dumps({"meta/version": 1, "main_window/geometry": header_junk,
                                "main_window/state": junk, "main_window/splitter_main_split": junk}),
                    encoding="utf-8")
    window = MainWindow(db_url=str(tmp_path / "store.sqlite3"))
    qtbot.addWidget(window)  # type: ignore[attr-defined]
    window.show()
    qtbot.waitUntil(window.is_ready, timeout=30_000)  # type: ignore[attr-defined]
    assert window.width() > 0
    window.shutdown()

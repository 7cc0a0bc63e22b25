"""The typed settings module: round trips, list quirks of INI files, versioned migration."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QByteArray, QSettings

from desktop.ui import settings as settings_module
from desktop.ui.settings import SETTINGS_VERSION, Settings, migrate


def _ini(tmp_path: Path) -> QSettings:
    return QSettings(str(tmp_path / "pickaxe.ini"), QSettings.Format.IniFormat)


def test_values_round_trip_through_the_file(tmp_path: Path, qapp: object) -> None:
    s = Settings(_ini(tmp_path))
    s.geometry = QByteArray(b"\x01\x02geometry")
    s.set_splitter_state("main", QByteArray(b"sizes"))
    s.visible_columns = ["fcf_yield"]  # one element: INI would hand back a bare string
    s.last_screen = "Cash survivors"
    s.scatter_fields = ("market_cap", "interest_coverage")
    s.color_by = "themes"
    s.sync()
    again = Settings(_ini(tmp_path))
    assert bytes(again.geometry.data()) == b"\x01\x02geometry"
    assert bytes(again.splitter_state("main").data()) == b"sizes"
    assert again.visible_columns == ["fcf_yield"]
    assert again.last_screen == "Cash survivors"
    assert again.scatter_fields == ("market_cap", "interest_coverage")
    assert again.color_by == "themes"


def test_defaults_when_empty(tmp_path: Path, qapp: object) -> None:
    s = Settings(_ini(tmp_path))
    assert s.geometry.isEmpty() and s.visible_columns == [] and s.last_screen == ""
    assert s.color_by == "sector"
    assert s.qsettings.value("meta/version") in (SETTINGS_VERSION, str(SETTINGS_VERSION))


def test_migration_steps_run_in_order(tmp_path: Path, qapp: object, monkeypatch: pytest.MonkeyPatch) -> None:
    raw = _ini(tmp_path)
    raw.setValue("meta/version", 1)
    raw.setValue("old/columns", "a,b")

    def step(s: QSettings) -> None:
        s.setValue("results/visible_columns", str(s.value("old/columns")).split(","))
        s.remove("old/columns")

    monkeypatch.setattr(settings_module, "SETTINGS_VERSION", 2)
    monkeypatch.setattr(settings_module, "_MIGRATIONS", {1: step})
    assert migrate(raw) == 1
    assert raw.value("old/columns") is None
    assert Settings(raw).visible_columns == ["a", "b"]
    assert int(raw.value("meta/version")) == 2


def test_settings_from_a_newer_version_are_left_alone(tmp_path: Path, qapp: object) -> None:
    raw = _ini(tmp_path)
    raw.setValue("meta/version", SETTINGS_VERSION + 5)
    raw.setValue("future/key", "x")
    migrate(raw)
    assert int(raw.value("meta/version")) == SETTINGS_VERSION + 5
    assert raw.value("future/key") == "x"

"""The typed settings module: round trips, typed validation, versioned migration."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PySide6.QtCore import QByteArray

from desktop.ui import settings as settings_module
from desktop.ui.settings import SETTINGS_VERSION, Settings, migrate


def _file(tmp_path: Path) -> Path:
    return tmp_path / "settings.json"


def test_values_round_trip_through_the_file(tmp_path: Path) -> None:
    s = Settings(_file(tmp_path))
    s.geometry = QByteArray(b"\x01\x02geometry\x00")
    s.set_splitter_state("main", QByteArray(b"sizes"))
    s.visible_columns = ["fcf_yield"]
    s.last_screen = "Cash survivors"
    s.scatter_fields = ("market_cap", "interest_coverage")
    s.color_by = "themes"
    s.last_folder = "/tmp/ex port"
    s.sync()
    again = Settings(_file(tmp_path))
    assert again.problems == []
    assert bytes(again.geometry.data()) == b"\x01\x02geometry\x00"
    assert bytes(again.splitter_state("main").data()) == b"sizes"
    assert again.visible_columns == ["fcf_yield"]
    assert again.last_screen == "Cash survivors"
    assert again.scatter_fields == ("market_cap", "interest_coverage")
    assert again.color_by == "themes"
    assert again.last_folder == "/tmp/ex port"
    # Plain JSON on disk: text, lists and base64, nothing else.
    stored = json.loads(_file(tmp_path).read_text(encoding="utf-8"))
    assert stored["screens/last"] == "Cash survivors"
    assert stored["results/visible_columns"] == ["fcf_yield"]


def test_defaults_when_empty(tmp_path: Path) -> None:
    s = Settings(_file(tmp_path))
    assert s.geometry.isEmpty() and s.visible_columns == [] and s.last_screen == ""
    assert s.color_by == "sector" and s.scatter_fields == ("market_cap", "fcf_yield")
    assert s.value("meta/version") == SETTINGS_VERSION
    assert s.problems == []


def test_default_location_is_the_config_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PICKAXE_HOME", str(tmp_path / "home"))
    s = Settings()
    assert s.path == tmp_path / "home" / "config" / "settings.json"
    assert s.path.is_file()


def test_migration_steps_run_in_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _file(tmp_path).write_text(json.dumps({"meta/version": 1, "old/columns": "a,b"}), encoding="utf-8")

    def step(values: dict[str, object]) -> None:
        values["results/visible_columns"] = str(values.pop("old/columns")).split(",")

    monkeypatch.setattr(settings_module, "SETTINGS_VERSION", 2)
    monkeypatch.setattr(settings_module, "_MIGRATIONS", {1: step})
    s = Settings(_file(tmp_path))
    assert s.found_version == 1
    assert s.visible_columns == ["a", "b"]
    stored = json.loads(_file(tmp_path).read_text(encoding="utf-8"))
    assert stored["meta/version"] == 2 and "old/columns" not in stored


def test_settings_from_a_newer_version_are_left_alone() -> None:
    values: dict[str, object] = {"meta/version": SETTINGS_VERSION + 5, "future/key": "x"}
    assert migrate(values) == SETTINGS_VERSION + 5
    assert values == {"meta/version": SETTINGS_VERSION + 5, "future/key": "x"}


def test_setter_refuses_oversized_text_without_raising(tmp_path: Path) -> None:
    s = Settings(_file(tmp_path))
    s.last_folder = "x" * (settings_module.MAX_TEXT_CHARS + 1)
    assert s.last_folder == ""

"""The package starts, its entry points answer, and user directories are isolated."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from desktop import paths
from desktop.cli import build_parser


def test_cli_help_lists_commands(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        build_parser().parse_args(["--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert "pickaxe-cli" in out and "--db" in out


def test_app_help_shows_options() -> None:
    result = subprocess.run([sys.executable, "-m", "desktop", "--help"], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0
    for option in ("--db", "--screen", "--select", "--screenshot"):
        assert option in result.stdout


def test_python_m_desktop_renders_window(tmp_path: Path) -> None:
    png = tmp_path / "window.png"
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    result = subprocess.run([sys.executable, "-m", "desktop", "--db", str(tmp_path / "db.sqlite3"),
                             "--screenshot", str(png)], capture_output=True, text=True, timeout=120, env=env)
    assert result.returncode == 0, result.stderr
    assert png.stat().st_size > 1000
    assert "Traceback" not in result.stderr


def test_user_dirs_are_redirected(tmp_path: Path) -> None:
    home = Path(os.environ["PICKAXE_HOME"])
    for directory in (paths.data_dir(), paths.config_dir(), paths.log_dir(), paths.cache_dir()):
        assert home in directory.parents


def test_database_url_from_path_and_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert paths.database_url(str(tmp_path / "x.db")) == f"sqlite:///{tmp_path / 'x.db'}"
    assert paths.database_url("postgresql+psycopg://u@h/db") == "postgresql+psycopg://u@h/db"
    monkeypatch.setenv("PICKAXE_DB", str(tmp_path / "env.db"))
    assert paths.database_url().endswith("env.db")

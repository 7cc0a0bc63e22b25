"""The bundle's entry script, run from source: it starts the app and its self-check works."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.conftest import PROJECT_ROOT
from tests.installer.smoke import assert_clean_output, assert_real_screenshot, launch, local_server

pytestmark = pytest.mark.slow

LAUNCHER = PROJECT_ROOT / "installer" / "pickaxe_launcher.py"


def test_self_check_imports_every_desktop_module(tmp_path: Path) -> None:
    with local_server(b"pickaxe-source-ok") as url:
        result = launch([sys.executable, str(LAUNCHER), "--frozen-self-check"], tmp_path,
                        extra_env={"PICKAXE_SELF_CHECK_URL": url})
    assert_clean_output(result)
    lines = result.stdout.splitlines()
    assert lines[-1] == "self-check: 0 failure(s)", result.stdout
    checked = {line.split()[1].rstrip(":") for line in lines if line.startswith("ok")}
    expected = {p.relative_to(PROJECT_ROOT).with_suffix("").as_posix().replace("/", ".")
                for p in (PROJECT_ROOT / "desktop").rglob("*.py")
                if "migrations" not in p.parts and "__pycache__" not in p.parts}
    expected = {name.removesuffix(".__init__") for name in expected} - {"desktop.__main__", "desktop"}
    assert expected <= checked, sorted(expected - checked)
    assert {"yfinance", "curl_cffi", "pyqtgraph", "store"} <= checked
    assert "-> 200, 'pickaxe-source-ok'" in result.stdout


def test_self_check_reports_a_failure(tmp_path: Path) -> None:
    # Nothing listens on port 9 (discard) of 127.0.0.1: the curl_cffi check must fail, and say so.
    result = launch([sys.executable, str(LAUNCHER), "--frozen-self-check"], tmp_path,
                    extra_env={"PICKAXE_SELF_CHECK_URL": "http://127.0.0.1:9/nothing"})
    assert result.returncode == 1
    assert "FAIL curl_cffi" in result.stdout and "self-check: 1 failure(s)" in result.stdout


def test_launcher_starts_the_app(tmp_path: Path) -> None:
    png = tmp_path / "launcher.png"
    result = launch([sys.executable, str(LAUNCHER), "--db", str(tmp_path / "l.sqlite3"),
                     "--screenshot", str(png)], tmp_path)
    assert_clean_output(result)
    assert_real_screenshot(png)

"""The per-platform installer pieces are consistent: desktop entry, icons, Inno Setup script."""

from __future__ import annotations

import configparser
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from tests.conftest import PROJECT_ROOT

INSTALLER = PROJECT_ROOT / "installer"


def _version() -> str:
    return tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]


def test_desktop_entry_follows_the_spec() -> None:
    entry = configparser.ConfigParser(interpolation=None, strict=True)
    entry.optionxform = str  # type: ignore[assignment,method-assign] - keys are case-sensitive
    entry.read(INSTALLER / "linux" / "pickaxe.desktop", encoding="utf-8")
    section = entry["Desktop Entry"]
    assert section["Type"] == "Application" and section["Name"] == "Pickaxe"
    assert section["Exec"] == "pickaxe"  # the gui-script pyproject installs
    assert section["Icon"] == "pickaxe" and section["Terminal"] == "false"
    assert section["Categories"].endswith(";") and "Finance" in section["Categories"].split(";")


def test_icons_hold_every_size() -> None:
    from PySide6.QtGui import QImageReader

    def sizes(path: Path) -> list[int]:
        reader = QImageReader(str(path))
        found = []
        for i in range(reader.imageCount()):
            reader.jumpToImage(i)
            found.append(reader.read().width())
        return found

    assert sizes(INSTALLER / "icons" / "pickaxe.ico") == [16, 24, 32, 48, 64, 128, 256]
    assert sizes(INSTALLER / "icons" / "pickaxe.icns") == [16, 32, 64, 128, 256, 512]
    for size in (16, 24, 32, 48, 64, 128, 256, 512):
        assert QImageReader(str(INSTALLER / "icons" / f"pickaxe-{size}.png")).size().width() == size


def test_inno_setup_script_matches_the_project() -> None:
    text = (INSTALLER / "windows" / "pickaxe.iss").read_text(encoding="utf-8")
    assert re.search(r'#define AppVersion "([^"]+)"', text).group(1) == _version()  # type: ignore[union-attr]
    source_dir = re.search(r"^SourceDir=(.+)$", text, re.M).group(1).strip()  # type: ignore[union-attr]
    root = (INSTALLER / "windows" / source_dir.replace("\\", "/")).resolve()
    assert root == PROJECT_ROOT.resolve()
    icon = re.search(r"^SetupIconFile=(.+)$", text, re.M).group(1).strip()  # type: ignore[union-attr]
    assert (root / icon.replace("\\", "/")).is_file()
    # The files it packs are the spec's one-folder output, dist/<APP_NAME>/.
    app_name = re.search(r'^APP_NAME = "(\w+)"', (INSTALLER / "pickaxe.spec").read_text(encoding="utf-8"), re.M)
    assert app_name is not None and f'Source: "dist\\{app_name.group(1)}\\*"' in text


@pytest.mark.skipif(sys.platform == "win32" or shutil.which("bash") is None, reason="a Linux shell script")
def test_linux_install_and_uninstall(tmp_path: Path) -> None:
    bundle = tmp_path / "dist" / "Pickaxe"
    (bundle / "_internal").mkdir(parents=True)
    (bundle / "Pickaxe").write_text("#!/bin/sh\necho pickaxe\n", encoding="utf-8")
    (bundle / "Pickaxe").chmod(0o755)
    prefix = tmp_path / "prefix"
    script = str(INSTALLER / "linux" / "install.sh")
    env = {**os.environ, "PATH": "/usr/bin:/bin"}
    done = subprocess.run(["bash", script, "--bundle", str(bundle), "--prefix", str(prefix)],
                          capture_output=True, text=True, timeout=60, env=env)
    assert done.returncode == 0, done.stderr
    entry = (prefix / "share" / "applications" / "pickaxe.desktop").read_text(encoding="utf-8")
    assert f"Exec={prefix}/lib/pickaxe/Pickaxe" in entry
    assert (prefix / "share/icons/hicolor/scalable/apps/pickaxe.svg").is_file()
    assert (prefix / "share/icons/hicolor/256x256/apps/pickaxe.png").is_file()
    launched = subprocess.run([str(prefix / "bin" / "pickaxe")], capture_output=True, text=True, timeout=30)
    assert launched.stdout.strip() == "pickaxe"

    done = subprocess.run(["bash", script, "--prefix", str(prefix), "--uninstall"],
                          capture_output=True, text=True, timeout=60, env=env)
    assert done.returncode == 0, done.stderr
    left = [p for p in prefix.rglob("*") if p.is_file() or p.is_symlink()]
    assert left == [], left

    missing = subprocess.run(["bash", script, "--bundle", str(tmp_path / "nowhere"), "--prefix", str(prefix)],
                             capture_output=True, text=True, timeout=60, env=env)
    assert missing.returncode == 1 and "pyinstaller installer/pickaxe.spec" in missing.stderr

"""The wheel carries resources/ and runs from a virtual environment outside the checkout (issue #8).

Building the wheel needs the package index for the build backend (``pip wheel`` isolates the build).
The test venv reuses this environment's installed dependencies through a ``.pth`` line (a path
entry's own ``.pth`` files are not processed, so the editable install of the checkout stays
invisible); the wheel itself is installed into the fresh venv and must be what runs.
"""

from __future__ import annotations

import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import pytest

from tests.conftest import PROJECT_ROOT
from tests.installer.smoke import assert_clean_output, assert_real_screenshot, launch, make_smoke_store

pytestmark = pytest.mark.slow

BIN = "Scripts" if sys.platform == "win32" else "bin"


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    result = subprocess.run([sys.executable, "-m", "pip", "wheel", str(PROJECT_ROOT), "--no-deps", "-q",
                             "-w", str(out)], capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    (built,) = out.glob("pickaxe_screener-*.whl")
    return built


@pytest.fixture(scope="module")
def wheel_venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("venv") / "v"
    venv.EnvBuilder(with_pip=False).create(root)
    python = root / BIN / ("python.exe" if sys.platform == "win32" else "python")
    site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                          capture_output=True, text=True, check=True).stdout.strip()
    # Dependencies from this environment; appended after the venv's own site-packages.
    Path(site, "_pickaxe_test_deps.pth").write_text(sysconfig.get_path("purelib") + "\n", encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps",
                             "--no-index", "-q", str(wheel)], capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    return root


def test_wheel_contains_every_resource(wheel: Path) -> None:
    in_wheel = set(zipfile.ZipFile(wheel).namelist())
    expected = {
        "desktop/_resources/" + path.relative_to(PROJECT_ROOT / "resources").as_posix()
        for path in (PROJECT_ROOT / "resources").rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }
    assert "desktop/_resources/themes.toml" in expected
    assert expected <= in_wheel, sorted(expected - in_wheel)
    # Every package of the source tree is in the wheel too.
    packages = {p.parent.relative_to(PROJECT_ROOT).as_posix() + "/__init__.py"
                for p in (PROJECT_ROOT / "desktop").rglob("__init__.py") if "__pycache__" not in p.parts}
    assert packages <= in_wheel, sorted(packages - in_wheel)


def test_installed_wheel_runs_outside_the_checkout(wheel_venv: Path, tmp_path: Path) -> None:
    python = wheel_venv / BIN / ("python.exe" if sys.platform == "win32" else "python")
    where = launch([str(python), "-c", "import desktop, desktop.resources as r; "
                    "print(desktop.__file__); print(r.resources_dir())"], tmp_path)
    assert_clean_output(where)
    module_file, resources = where.stdout.split()
    assert Path(module_file).is_relative_to(wheel_venv), module_file
    assert Path(resources).is_relative_to(wheel_venv) and Path(resources).name == "_resources", resources

    png = tmp_path / "wheel.png"
    db = make_smoke_store(tmp_path)
    result = launch([str(wheel_venv / BIN / "pickaxe"), "--db", str(db), "--screenshot", str(png)], tmp_path)
    assert_clean_output(result)
    assert_real_screenshot(png)

"""Smoke test of the frozen one-folder bundle (issue #8; STYLE.md 7, after friture's smoke test).

Building the bundle takes about a minute, so the suite does not build it: ``.ci/run`` builds it
after the test suite and runs this file with ``PICKAXE_FROZEN_APP`` pointing at the executable:

    pyinstaller installer/pickaxe.spec --noconfirm
    PICKAXE_FROZEN_APP=dist/Pickaxe/Pickaxe python -m pytest tests/installer/test_frozen.py

Without the variable these tests skip. The launcher's self-check itself is tested from source in
``test_launcher.py``.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.installer.smoke import (
    assert_clean_output,
    assert_real_screenshot,
    launch,
    local_server,
    make_smoke_store,
)

pytestmark = pytest.mark.slow

# Qt libraries the spec excludes; finding one in the bundle means the exclusions stopped working.
EXCLUDED_QT = ("Qt6Qml", "Qt6Quick", "Qt6WebEngine", "Qt6Pdf", "Qt6Multimedia", "Qt63D", "Qt6Charts",
               "Qt6DataVisualization", "Qt6Network", "Qt6Sql", "Qt6Test", "Qt6Designer")


@pytest.fixture(scope="module")
def frozen_app() -> Path:
    raw = os.environ.get("PICKAXE_FROZEN_APP")
    if not raw:
        pytest.skip("no frozen bundle: build it with `pyinstaller installer/pickaxe.spec` and set "
                    "PICKAXE_FROZEN_APP to dist/Pickaxe/Pickaxe (.ci/run does both)")
    app = Path(raw).resolve()
    assert app.is_file(), f"PICKAXE_FROZEN_APP={raw} does not exist"
    return app


def test_frozen_app_paints_its_window(frozen_app: Path, tmp_path: Path) -> None:
    png = tmp_path / "frozen.png"
    db = make_smoke_store(tmp_path)
    result = launch([str(frozen_app), "--db", str(db), "--screenshot", str(png)], tmp_path)
    assert_clean_output(result)
    assert_real_screenshot(png)


def test_frozen_app_loads_every_module(frozen_app: Path, tmp_path: Path) -> None:
    with local_server(b"pickaxe-frozen-ok") as url:
        result = launch([str(frozen_app), "--frozen-self-check"], tmp_path, extra_env={"PICKAXE_SELF_CHECK_URL": url})
    assert_clean_output(result)
    assert "self-check: 0 failure(s)" in result.stdout, result.stdout
    assert "ok   yfinance" in result.stdout
    # yfinance's transport made a real request from inside the bundle.
    assert "-> 200, 'pickaxe-frozen-ok'" in result.stdout, result.stdout


def test_frozen_bundle_is_lean_and_has_resources(frozen_app: Path) -> None:
    bundle = frozen_app.parent
    internal = bundle / "_internal"
    assert (internal / "resources" / "themes.toml").is_file()
    shipped = [p.name for p in bundle.rglob("*") if p.is_file()]
    unwanted = sorted({name for name in shipped for marker in EXCLUDED_QT if marker in name})
    assert not unwanted, unwanted
    size_mb = sum(p.stat().st_size for p in bundle.rglob("*") if p.is_file() and not p.is_symlink()) / 1e6
    print(f"bundle size: {size_mb:.0f} MB in {len(shipped)} files")  # shown with -s / in CI logs

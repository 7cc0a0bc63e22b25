"""Shared test set-up: headless Qt, every user directory redirected into tmp_path, real data."""

from __future__ import annotations

import gc
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings as hypothesis_settings

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

# Property tests (issue #13, "CI and tests"): deterministic by default - derandomised, no example
# database read or written, no wall-clock deadline - so a fresh clone's `make test` runs the same
# examples every time. `make fuzz` selects the "fuzz" profile: random seeds and many more examples
# (a failure prints the seed and a @reproduce_failure blob; turn it into an explicit test). Tests
# that pass their own max_examples keep it in both profiles. Hypothesis' other caches (its
# Unicode tables) go to a temporary folder, never into the checkout.
hypothesis_settings.register_profile("ci", derandomize=True, database=None, deadline=None, print_blob=True)
hypothesis_settings.register_profile("fuzz", derandomize=False, database=None, deadline=None, print_blob=True,
                                     max_examples=1000)
hypothesis_settings.load_profile(os.environ.get("PICKAXE_HYPOTHESIS_PROFILE", "ci"))
os.environ.setdefault("HYPOTHESIS_STORAGE_DIRECTORY",
                      str(Path(tempfile.gettempdir()) / f"pickaxe-hypothesis-{os.getuid()}"))

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = PROJECT_ROOT.parent / "shared" / "data"
FIXTURES = Path(__file__).resolve().parent / "data_files"


@pytest.fixture(autouse=True)
def _isolated_user_dirs(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Never touch a developer's real config, data, logs or QSettings."""
    home = tmp_path_factory.mktemp("pickaxe-home")
    monkeypatch.setenv("PICKAXE_HOME", str(home))
    for kind in ("DATA", "CONFIG", "LOG", "CACHE"):
        monkeypatch.delenv(f"PICKAXE_{kind}_DIR", raising=False)
    monkeypatch.delenv("PICKAXE_DB", raising=False)
    monkeypatch.delenv("PICKAXE_SEC_USER_AGENT", raising=False)  # no test declares a real person to the SEC
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "xdg-config"))
    try:
        from PySide6.QtCore import QSettings
    except ImportError:  # pragma: no cover - Qt is a hard dependency
        return home
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(home / "qsettings"))
    return home


@pytest.fixture(autouse=True)
def _collect_garbage_on_the_gui_thread(request: pytest.FixtureRequest) -> Iterator[None]:
    """Qt objects must die on the GUI thread: no automatic collection during a GUI test.

    Otherwise a worker thread that happens to trigger the collector deletes a previous test's
    widgets from the wrong thread and deadlocks (seen: QMenu destructor vs. the GIL). The app
    does the same with pyqtgraph's GarbageCollector (desktop/ui/application.py).
    """
    if "qtbot" not in request.fixturenames and "qapp" not in request.fixturenames:
        yield
        return
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
        gc.collect()


def shared_file(*parts: str) -> Path:
    """A file in ../shared/data, or skip the test with the reason."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"real data not available: {path} is absent (it lives beside the project, never in it)")
    return path


@pytest.fixture
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real data not available: {SHARED_DATA} is absent")
    return SHARED_DATA


@pytest.fixture
def fixtures_dir() -> Path:
    return FIXTURES

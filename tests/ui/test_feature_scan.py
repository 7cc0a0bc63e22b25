"""PySide6's per-import source scan spares Qt-free modules (issue #17: start-up)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from desktop.ui import feature_scan

# A fresh interpreter: in this one the test modules are long imported and scanned.
SCRIPT = """
import sys
import PySide6.QtCore
feature = sys.modules["shibokensupport.feature"]
read = []
real = feature._mod_uses_pyside
feature._mod_uses_pyside = lambda module: read.append(module.__name__) or real(module)
from desktop.ui import feature_scan
assert feature_scan.install() and feature_scan.install()  # twice: wrapped once
read.clear()  # (feature_scan's own imports were read before it was installed)
# "from m import x" hands the scan the module m itself ("import a.b" would hand it "a").
for name in ("sqlalchemy.orm", "json.decoder", "desktop.store.codec", "pyqtgraph.functions", "desktop.ui.widgets"):
    __import__(name, fromlist=["__name__"])
spared = [n for n in read if feature_scan.is_qt_free(n)]
print(len(read), len(spared), "pyqtgraph.functions" in read, "desktop.ui.widgets" in read,
      feature.pyside_feature_dict.get("sqlalchemy.orm"), feature.pyside_feature_dict.get("desktop.ui.widgets"))
"""


def test_qt_free_modules_are_not_read_and_the_rest_still_are() -> None:
    root = Path(feature_scan.__file__).parents[2]
    done = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, cwd=root)
    if done.returncode != 0 and "shibokensupport.feature" in done.stderr:
        pytest.skip("this PySide6 has no shibokensupport.feature: nothing to spare")
    assert done.returncode == 0, done.stderr[-2000:]
    read, spared, pyqtgraph_read, ui_read, sqlalchemy_state, ui_state = done.stdout.split()
    assert int(read) > 0 and spared == "0"  # only modules that may use PySide6 are read
    assert pyqtgraph_read == "True" and ui_read == "True"
    assert sqlalchemy_state == "-1"  # recorded as not using PySide6, as PySide6's own scan would
    assert ui_state == "0"  # a PySide6 module keeps PySide6's own answer


@pytest.mark.parametrize(("name", "free"), [
    ("json", True), ("asyncio.base_events", True), ("sqlalchemy.orm.mapper", True), ("pandas", True),
    ("desktop.store.db", True), ("desktop.engine", True), ("desktop.memory", True),
    ("desktop.ui.main_window", False), ("desktop", False), ("desktop.storefront", False),
    ("pyqtgraph", False), ("PySide6.QtCore", False), ("some_plugin", False), ("", False),
])
def test_which_modules_are_qt_free(name: str, free: bool) -> None:
    assert feature_scan.is_qt_free(name) is free


def test_an_unexpected_pyside6_is_left_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(sys.modules, "shibokensupport.feature", raising=False)
    assert feature_scan.install() is False

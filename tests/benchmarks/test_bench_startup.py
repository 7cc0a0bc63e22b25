"""The start-up benchmark's launcher reports the launched program's own time and memory."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from benchmarks.bench_startup import _run

WRITE_PNG = "import sys; open(sys.argv[1], 'wb').write(b'png'); "


@pytest.mark.skipif(not hasattr(os, "fork"), reason="peak memory is measured through fork/wait4")
def test_peak_memory_is_the_child_s_own(tmp_path: Path) -> None:
    ballast = bytearray(400_000_000)  # this process is big; the child must not inherit that in its peak
    ballast[::4096] = b"x" * len(ballast[::4096])  # touch every page: resident, not just reserved
    png = tmp_path / "x.png"
    small = _run([sys.executable, "-c", WRITE_PNG, str(png)], png, dict(os.environ))
    big = _run([sys.executable, "-c", WRITE_PNG + "b = bytearray(200_000_000); b[::4096] = b'x' * len(b[::4096])",
                str(png)], png, dict(os.environ))
    del ballast
    assert small.peak_mb is not None and big.peak_mb is not None
    assert small.peak_mb < 100, small
    assert 200 < big.peak_mb < 350, big
    assert 0 < small.exit_s < 60 and 0 < big.exit_s < 60


def test_the_window_is_timed_to_its_screenshot_not_to_the_exit(tmp_path: Path) -> None:
    """A program that writes its PNG and then takes a second to exit: painted excludes that second."""
    png = tmp_path / "x.png"
    run = _run([sys.executable, "-c", WRITE_PNG + "import time; time.sleep(1.0)", str(png)], png, dict(os.environ))
    assert 0 < run.painted_s < run.exit_s - 0.8, run


def test_a_failed_launch_is_an_error_with_its_output(tmp_path: Path) -> None:
    png = tmp_path / "never.png"
    with pytest.raises(RuntimeError, match="exited with 3 without a screenshot:\n.*boom"):
        _run([sys.executable, "-c", "import sys; print('boom'); sys.exit(3)"], png, dict(os.environ))

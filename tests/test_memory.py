"""desktop.memory: freed heap pages go back to the OS after a large computation (issue #17)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from desktop import memory

# Run in a fresh interpreter: the test process's own heap (pytest, fixtures) would blur the figures.
SCRIPT = """
from desktop.memory import release_free_memory
def rss_mb():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096 / 1e6
blocks = [bytearray(64 * 1024) for _ in range(3000)]  # ~200 MB below glibc's mmap threshold: on the heap
last = blocks[-1]  # keeps the top of the heap in use, so free() alone cannot shrink it
del blocks
before = rss_mb()
trimmed = release_free_memory()
print(trimmed, before, rss_mb())
"""


@pytest.mark.skipif(not Path("/proc/self/statm").exists(), reason="needs Linux's /proc to read the resident size")
def test_freed_heap_memory_is_returned() -> None:
    root = Path(memory.__file__).parents[1]
    done = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, cwd=root, check=True)
    trimmed, before, after = done.stdout.split()
    if trimmed != "True":
        pytest.skip("this C library has no malloc_trim (not glibc)")
    assert float(before) > 150
    assert float(after) < float(before) - 100


def test_elsewhere_it_is_a_no_op(monkeypatch: pytest.MonkeyPatch) -> None:
    memory._malloc_trim.cache_clear()
    monkeypatch.setattr(sys, "platform", "darwin")
    try:
        assert memory.release_free_memory() is False
    finally:
        memory._malloc_trim.cache_clear()

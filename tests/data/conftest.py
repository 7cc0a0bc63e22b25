"""Fixtures for the reader tests: the fictional share-class ticker used in hand-made files."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from desktop.data import symbols

FIXTURES = Path(__file__).resolve().parents[1] / "data_files"


@pytest.fixture(autouse=True)
def _fictional_share_class(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """``QQZA`` (a made-up NYSE class A ticker in the fixtures) maps to ``QQZ-A`` like MOGA."""
    monkeypatch.setitem(symbols.EXCEPTIONS, "QQZA", "QQZ-A")
    monkeypatch.setitem(symbols._REVERSE, "QQZ-A", "QQZA")
    yield

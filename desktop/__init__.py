"""Pickaxe: a desktop small-cap screener for cash flow, leverage and rate resilience."""

from typing import Any

APP_NAME = "Pickaxe"
ORG_NAME = "Pickaxe"


def __getattr__(name: str) -> Any:
    """``__version__``, looked up on first use: ``importlib.metadata`` scans every installed
    distribution, ~20 ms that the window's start-up does not need (issue #17)."""
    if name != "__version__":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib.metadata import PackageNotFoundError, version

    try:
        found = version("pickaxe-screener")
    except PackageNotFoundError:  # running from a source checkout that was never installed
        found = "0.1.0+src"
    globals()["__version__"] = found
    return found

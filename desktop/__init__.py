"""Pickaxe: a desktop small-cap screener for cash flow, leverage and rate resilience."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("pickaxe-screener")
except PackageNotFoundError:  # running from a source checkout that was never installed
    __version__ = "0.1.0+src"

APP_NAME = "Pickaxe"
ORG_NAME = "Pickaxe"

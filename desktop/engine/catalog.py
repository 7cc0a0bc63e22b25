"""The field catalogue: every field Pickaxe reads, computes, shows or exports.

Each :class:`~desktop.engine.field.Field` says what a number is (label, unit, definition, formula,
the source fields it comes from, caveats, how fast it goes stale). The UI's tooltips, the detail
pane, the Excel "Provenance" sheet, the screen validator, docs/metrics.md and the CLI's raw outputs
all read this one table: ``catalog_source`` holds what sources report, ``catalog_computed`` what
the engine computes. Units are listed in ``desktop.engine.field``.

The catalogue imports no engine stage (issue #17: no import cycle with ``metrics``).
"""

from __future__ import annotations

from desktop.engine.catalog_computed import METRIC_FIELDS, TWINS, shocked_field
from desktop.engine.catalog_source import BASE_FIELDS
from desktop.engine.field import NUMERIC_UNITS, Field

__all__ = ["BASE_FIELDS", "METRIC_FIELDS", "NUMERIC_UNITS", "TWINS", "Field", "all_fields", "get", "names",
           "register", "shocked_field"]

_REGISTRY: dict[str, Field] = {}


def register(fields: tuple[Field, ...] | list[Field]) -> None:
    """Add fields to the catalogue (``compute_metrics`` registers the rate shocks it is asked for)."""
    for f in fields:
        _REGISTRY[f.name] = f


register(BASE_FIELDS)
register(METRIC_FIELDS)


def get(name: str) -> Field:
    """The field called ``name``; ``KeyError`` names the unknown field."""
    try:
        return _REGISTRY[name]
    except KeyError:
        raise KeyError(f"unknown field {name!r}") from None


def all_fields() -> list[Field]:
    return list(_REGISTRY.values())


def names() -> list[str]:
    return list(_REGISTRY)

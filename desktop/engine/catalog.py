"""The field catalogue: every field Pickaxe reads, computes, shows or exports.

Each :class:`~desktop.engine.field.Field` says what a number is (label, unit, definition, formula,
the source fields it comes from, caveats, how fast it goes stale). The UI's tooltips, the detail
pane, the Excel "Provenance" sheet, the screen validator, docs/metrics.md and the CLI's raw outputs
all read this one table: ``catalog_source`` holds what sources report, ``catalog_computed`` what
the engine computes. Units are listed in ``desktop.engine.field``.

The catalogue imports no engine stage (issue #17: no import cycle with ``metrics``).
"""

from __future__ import annotations

from dataclasses import dataclass
from fnmatch import fnmatchcase

from desktop.engine.catalog_computed import METRIC_FIELDS, TWINS, shocked_field
from desktop.engine.catalog_source import BASE_FIELDS
from desktop.engine.field import NUMERIC_UNITS, Field

__all__ = ["BASE_FIELDS", "METRIC_FIELDS", "NUMERIC_UNITS", "THRESHOLDS", "TWINS", "Field", "Thresholds",
           "all_fields", "get", "names", "register", "shocked_field", "thresholds"]

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


# --- fixed judgement thresholds (issue #17) ----------------------------------------------------
# Kept apart from ``Field`` so that adding a field needs nothing here: a field without thresholds
# is simply not judged (the workbook gives it no colour scale).

@dataclass(frozen=True)
class Thresholds:
    """Fixed points, in the field's raw unit, at which a value reads as weak, fair or healthy.

    ``good`` above ``bad`` means higher is better; below, lower is better. They are rules of thumb
    for small caps (docs/export.md), not results, and the same for every shortlist: a colour says
    where a value stands against them, never against its neighbours.
    """

    bad: float
    fair: float
    good: float

    @property
    def higher_is_better(self) -> bool:
        return self.good > self.bad


# name (or fnmatch pattern for a family of fields) -> thresholds
THRESHOLDS: dict[str, Thresholds] = {
    "fcf_yield": Thresholds(0.0, 0.05, 0.10),
    "fcf_margin": Thresholds(0.0, 0.05, 0.15),
    "fcf_positive_years": Thresholds(0.0, 2.0, 4.0),
    "interest_coverage": Thresholds(1.0, 3.0, 8.0),
    "shocked_coverage_*": Thresholds(1.0, 2.0, 5.0),
    "cash_runway_months": Thresholds(6.0, 12.0, 24.0),
    "net_debt_to_ebitda": Thresholds(4.0, 2.0, 0.0),
    "debt_to_equity": Thresholds(2.0, 1.0, 0.5),
    "debt_to_assets": Thresholds(0.6, 0.4, 0.2),
    "short_term_debt_share": Thresholds(0.5, 0.25, 0.1),
}


def thresholds(name: str) -> Thresholds | None:
    """The fixed thresholds of field ``name``, or None when the field is not judged."""
    hit = THRESHOLDS.get(name)
    if hit is not None:
        return hit
    return next((t for pattern, t in THRESHOLDS.items() if "*" in pattern and fnmatchcase(name, pattern)), None)

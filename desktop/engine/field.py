"""What a field is: one entry of the catalogue (``desktop.engine.catalog``).

Units (``Field.unit``):
    usd          US dollars (amounts; shown as $1.2B, exported in $M)
    usd_share    US dollars per share (prices)
    fraction     a share or a rate stored as a fraction (0.123 shown as 12.3 %)
    ratio        a multiple (4.1 shown as 4.1x)
    percent      already in percent (the 10-year yield: 4.25 means 4.25 %)
    count, shares, months, years, percentile (0-100), beta (slope), number (a plain statistic,
    e.g. a t-statistic: shown with two decimals)
    text, category, tags (tuple of theme names), bool, date

Freshness (``Field.freshness``, issue #12): how fast a source-reported value goes stale.
    market       prices and what moves with them (``MetricParams.market_stale_days``)
    fundamental  a statement figure or a ratio of trailing figures (``MetricParams.stale_months``)
    ownership    holdings and short interest, filed monthly or quarterly
                 (``MetricParams.ownership_stale_days``)
    ""           never stale by age (profile text) or dated by the engine itself (computed fields)
"""

from __future__ import annotations

from dataclasses import dataclass

NUMERIC_UNITS = frozenset(
    {"usd", "usd_share", "fraction", "ratio", "percent", "count", "shares", "months", "years",
     "percentile", "beta", "number"}
)
FRESHNESS = ("market", "fundamental", "ownership", "")


@dataclass(frozen=True)
class Field:
    name: str
    label: str
    unit: str
    definition: str
    group: str = "Profile"
    formula: str = ""
    sources: str = ""
    caveats: str = ""
    freshness: str = ""

    @property
    def is_numeric(self) -> bool:
        return self.unit in NUMERIC_UNITS

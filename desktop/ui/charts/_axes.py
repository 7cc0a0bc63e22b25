"""Number and date helpers shared by the chart widgets: tick text per unit, value text, epoch time.

Tick labels need their own formatter: neighbouring ticks must stay distinguishable ($1.05B next
to $1.10B), which a formatter built for table cells (one rounding rule for all) does not promise.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import pyqtgraph as pg

from desktop.engine.formatting import format_value

log = logging.getLogger(__name__)

_SUFFIXES = ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "K"))
# Units whose large values read best with K/M/B suffixes.
_SCALED_UNITS = frozenset({"usd", "count", "shares"})

UNIT_NAMES = {
    "usd": "USD",
    "usd_share": "USD per share",
    "fraction": "%",
    "percent": "%",
    "ratio": "×",
    "count": "count",
    "shares": "shares",
    "months": "months",
    "years": "years",
    "percentile": "percentile",
    "beta": "beta",
    "number": "",
}


def _suffix_for(magnitude: float) -> tuple[float, str]:
    for divisor, suffix in _SUFFIXES:
        if magnitude >= divisor:
            return divisor, suffix
    return 1.0, ""


def _decorate(text: str, negative: bool, unit: str) -> str:
    sign = "-" if negative else ""
    if unit in ("usd", "usd_share"):
        return f"{sign}${text}"
    if unit in ("fraction", "percent"):
        return f"{sign}{text}%"
    if unit == "ratio":
        return f"{sign}{text}x"
    return f"{sign}{text}"


def tick_strings(values: Sequence[float], spacing: float | None, unit: str, log: bool) -> list[str]:
    """Tick labels for ``values`` (log10 exponents when ``log``) in the field's ``unit``.

    ``spacing`` is the distance between ticks; pyqtgraph passes None for some tick levels, then
    it is taken from the values themselves.
    """
    if log:
        return _log_tick_strings([float(v) for v in values], unit)
    factor = 100.0 if unit == "fraction" else 1.0
    scaled = [float(v) * factor for v in values]
    if spacing is None or not math.isfinite(spacing) or spacing == 0:
        gaps = np.diff(sorted(scaled))
        gaps = gaps[gaps > 0]
        step = float(gaps.min()) if gaps.size else 1.0
    else:
        step = abs(spacing) * factor
    divisor, suffix = 1.0, ""
    if unit in _SCALED_UNITS and scaled:
        divisor, suffix = _suffix_for(max(abs(v) for v in scaled))
    places = min(6, max(0, math.ceil(-math.log10(step / divisor) - 1e-9)))
    out = []
    for v in scaled:
        magnitude = abs(v) / divisor
        body = f"{magnitude:,.{places}f}"
        if v != 0:  # "$0", not "$0M"
            body += suffix
        out.append(_decorate(body, v < 0 and round(magnitude, places) != 0, unit))
    return out


def _log_tick_strings(exponents: list[float], unit: str) -> list[str]:
    """Decades always; 2x and 5x ticks only when few decades are in view; others blank.

    pyqtgraph's own overlap check underestimates "$300M"-wide labels on minor log ticks.
    """
    span = (max(exponents) - min(exponents)) if exponents else 0.0
    out = []
    for e in exponents:
        mantissa = round(10.0 ** (e - math.floor(e + 1e-9)), 6)
        if abs(mantissa - 1.0) < 1e-6 or span < 1.2 or (span < 2.5 and mantissa in (2.0, 5.0)):
            out.append(_compact(10.0 ** e, unit, digits=3))
        else:
            out.append("")
    return out


def _compact(value: float, unit: str, digits: int = 3) -> str:
    factor = 100.0 if unit == "fraction" else 1.0
    v = value * factor
    divisor, suffix = (1.0, "")
    if unit in _SCALED_UNITS:
        divisor, suffix = _suffix_for(abs(v))
    body = f"{abs(v) / divisor:.{digits}g}{suffix}"
    return _decorate(body, v < 0, unit)


def display_value(value: Any, unit: str) -> str:
    """Text for one value as people read it ($1.2B, 12.3 %, 4.1x; "—" when missing).

    The engine's formatter, so that charts and the results table always agree.
    """
    return format_value(value, unit)


def round_significant(value: float, digits: int = 3) -> float:
    """``value`` rounded to ``digits`` significant digits (a dragged 312,345,678 becomes 312M)."""
    if value == 0 or not math.isfinite(value):
        return value
    return round(value, digits - 1 - math.floor(math.log10(abs(value))))


def epoch_seconds(index: pd.Index) -> np.ndarray:
    """Seconds since 1970-01-01 UTC for a DatetimeIndex (naive dates are taken as UTC)."""
    idx = pd.DatetimeIndex(index)
    if idx.tz is not None:
        idx = idx.tz_convert("UTC").tz_localize(None)
    return np.asarray((idx - pd.Timestamp("1970-01-01")) / pd.Timedelta(seconds=1), dtype=float)


def clean_series(series: pd.Series | None) -> pd.Series:
    """A float series on a sorted, unique DatetimeIndex with missing values dropped."""
    if series is None or len(series) == 0:
        return pd.Series(dtype=float, index=pd.DatetimeIndex([]))
    out = pd.to_numeric(series, errors="coerce").astype(float)
    out.index = pd.DatetimeIndex(pd.to_datetime(out.index))
    if out.index.tz is not None:
        out.index = out.index.tz_convert("UTC").tz_localize(None)
    out = out[np.isfinite(out.to_numpy())]
    out = out[~out.index.duplicated(keep="last")]
    return out.sort_index()


class FieldAxisItem(pg.AxisItem):
    """An axis whose tick labels speak the field's unit ($1.2B, 12%, 4x), also on a log scale."""

    def __init__(self, orientation: str, unit: str = "", **kwargs: Any) -> None:
        super().__init__(orientation, **kwargs)
        self.unit = unit
        # Our tick text carries its own $/K/M/B; pyqtgraph's "(x1e+09)" scaling would fight it.
        self.enableAutoSIPrefix(False)

    def tickStrings(self, values: list[float], scale: float, spacing: float | None) -> list[str]:  # noqa: N802
        # This runs inside Qt's paint: an exception escaping here takes the whole process down
        # (PySide6 aborts), so a formatting surprise falls back to plain numbers instead.
        try:
            step = None if spacing is None else spacing * scale
            return tick_strings([v * scale for v in values], step, self.unit, bool(self.logMode))
        except Exception:  # noqa: BLE001 - see above
            log.warning("tick formatting failed for unit %r", self.unit, exc_info=True)
            return [f"{v:g}" for v in values]


class CountAxisItem(pg.AxisItem):
    """An axis of counts (stocks, companies): ticks at whole numbers only, never "12.5"."""

    def tickValues(self, minVal: float, maxVal: float, size: float) -> list[tuple[float, list[float]]]:  # noqa: N802, N803
        levels = [(spacing, [v for v in values if float(v).is_integer()])
                  for spacing, values in super().tickValues(minVal, maxVal, size) if spacing >= 1]
        levels = [(spacing, values) for spacing, values in levels if values]
        if not levels and math.isfinite(minVal) and math.isfinite(maxVal):  # a range narrower than 1
            levels = [(1.0, [float(v) for v in range(math.ceil(minVal), math.floor(maxVal) + 1)])]
        return levels

    def tickStrings(self, values: list[float], scale: float, spacing: float) -> list[str]:  # noqa: N802
        return [f"{round(v):,}" for v in values]

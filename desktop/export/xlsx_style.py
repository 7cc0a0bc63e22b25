"""How values look in the workbook: number formats and scales per catalogue unit, colours, widths.

Money is exported in millions of dollars (the header says "$M") so that a model can use the cells
directly; fractions keep their value with a percent format; the 10-year yield (unit ``percent``)
is divided by 100 so that Excel's percent format shows it right. An unbounded value stays a
number (:data:`INFINITY_VALUE` with a format showing "∞"), so its column sorts, filters and
colours as numbers (issue #17).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from openpyxl.styles import Alignment, Font, PatternFill


@dataclass(frozen=True)
class UnitStyle:
    number_format: str
    scale: float = 1.0
    header_suffix: str = ""
    decimals: int = 1  # for width estimates


UNIT_STYLES: dict[str, UnitStyle] = {
    "usd": UnitStyle("#,##0.0", 1e-6, " ($M)"),
    "usd_share": UnitStyle('"$"#,##0.00', 1.0, "", 2),
    "fraction": UnitStyle("0.0%", 1.0, "", 1),
    "percent": UnitStyle("0.00%", 0.01, "", 2),
    "ratio": UnitStyle('0.0"x"', 1.0, ""),
    "count": UnitStyle("#,##0", 1.0, "", 0),
    "shares": UnitStyle("#,##0", 1.0, "", 0),
    "months": UnitStyle("#,##0.0", 1.0, " (months)"),
    "years": UnitStyle("0.0", 1.0, " (years)"),
    "percentile": UnitStyle("0.0", 1.0, " (pctl)"),
    "beta": UnitStyle("0.00", 1.0, "", 2),
    "number": UnitStyle("0.00", 1.0, "", 2),
    "score": UnitStyle("0.0", 1.0, ""),
}
DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
# Excel has no infinity: an unbounded value is stored as +/-1E+300 (above any real figure, so it
# sorts, filters and colours as the largest value) and shown as "∞" by its number format.
INFINITY_VALUE = 1e300
INFINITY_FORMAT = '"∞";"-∞"'  # only on unbounded cells: positive shows ∞, negative -∞
# What every workbook's notes say of it.
INFINITY_LEGEND = (f'"∞" is an unbounded value, stored as the number {INFINITY_VALUE:.0E} so its column stays '
                   "numeric and sorts it above every real value.")

# Excel's built-in "Good / Bad / Neutral" cell colours.
PASS_FILL = PatternFill("solid", start_color="FFC6EFCE", end_color="FFC6EFCE")
PASS_FONT = Font(color="FF006100")
FAIL_FILL = PatternFill("solid", start_color="FFFFC7CE", end_color="FFFFC7CE")
FAIL_FONT = Font(color="FF9C0006")
UNKNOWN_FILL = PatternFill("solid", start_color="FFEDEDED", end_color="FFEDEDED")
UNKNOWN_FONT = Font(color="FF595959")
NM_FONT = Font(color="FF7F7F7F", italic=True)
LINK_FONT = Font(color="FF0563C1", underline="single")
BOLD = Font(bold=True)
ITALIC = Font(italic=True)
NOTED = Alignment(vertical="bottom")  # cells that carry a comment (looks like the default)
TITLE = Font(bold=True, size=13)
HEADER_FILL = PatternFill("solid", start_color="FFD9E1F2", end_color="FFD9E1F2")
WRAP_TOP = Alignment(wrap_text=True, vertical="top")
TOP = Alignment(vertical="top")
TOP_LEFT = Alignment(horizontal="left", vertical="top")  # dates in a wide text column
CENTER = Alignment(horizontal="center")

# Value states (issue #12): a stale value is greyed as in the app's table, a suspect one amber.
STALE_FONT = Font(color="FF808080")
SUSPECT_FONT = Font(color="FF9C5700")
STALE_FILL = PatternFill("solid", start_color="FFEDEDED", end_color="FFEDEDED")
SUSPECT_FILL = PatternFill("solid", start_color="FFFFEB9C", end_color="FFFFEB9C")
# Colour scales on fixed thresholds (desktop.engine.catalog.THRESHOLDS): weak, fair, healthy.
WEAK_COLOUR, FAIR_COLOUR, HEALTHY_COLOUR = "FFF8696B", "FFFFEB84", "FF63BE7B"
PERIOD_WIDTH = 11.0  # "yyyy-mm-dd"; the header wraps
STATE_WIDTH = 9.0

MAX_WIDTH = 60
MIN_WIDTH = 6


def unit_style(unit: str) -> UnitStyle | None:
    return UNIT_STYLES.get(unit)


def numeric_width(values: np.ndarray, style: UnitStyle) -> int:
    """Characters needed to show the widest finite value with ``style`` (thousands separators too)."""
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return 4
    biggest = float(np.max(np.abs(finite))) * style.scale
    if style.number_format.endswith("%"):
        biggest *= 100
    digits = 1 if biggest < 1 else int(math.log10(biggest)) + 1
    separators = (digits - 1) // 3 if "#,##0" in style.number_format else 0
    extra = 3 if style.number_format.startswith('"$"') or style.number_format.endswith(('%', '"x"')) else 1
    return digits + separators + (style.decimals + 1 if style.decimals else 0) + extra + 1


def fit_width(header: str, content: int, *, filter_button: bool = True) -> float:
    """Column width for a header and the widest content (in characters), capped."""
    head = len(header) + (3 if filter_button else 1)
    return float(max(MIN_WIDTH, min(MAX_WIDTH, max(head, content + 2))))

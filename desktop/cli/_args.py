"""Argument types for ``pickaxe-cli``: every value is checked while parsing (issue #13, root cause 2).

A bad value ends in argparse's usage line plus one sentence and exit status 2, before any file or
database is opened. Each type refuses what would otherwise reach the services as nonsense: a
superscript digit as a snapshot id, a 30-digit id SQLite cannot hold, ``nan``/``inf``/negative
numbers, and dates pandas cannot represent or that no market data can have.
"""

from __future__ import annotations

import argparse
import math
import re
from collections.abc import Callable
from datetime import date

# Dates: pandas' nanosecond timestamps cover 1677-2262; market data for this tool starts long after
# 1900 and no data can be dated beyond 2100. Anything outside is a typo or an attack.
MIN_DATE = date(1900, 1, 1)
MAX_DATE = date(2100, 12, 31)
MAX_ID = 2**63 - 1  # SQLite INTEGER
# Yahoo/exchange symbols: letters, digits and . - ^ = (BRK-B, ^TNX, CL=F), at most 20 characters.
_SYMBOL = re.compile(r"[A-Za-z0-9][A-Za-z0-9.\-^=]{0,19}|\^[A-Za-z0-9.\-=]{1,19}")


def _show(text: str) -> str:
    from desktop.cli._terminal import clean

    shown = clean(text)
    return "'" + (shown if len(shown) <= 40 else shown[:39] + "…") + "'"


def iso_date(text: str) -> date:
    """A YYYY-MM-DD date between :data:`MIN_DATE` and :data:`MAX_DATE`."""
    try:
        day = date.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"{_show(text)} is not a date (YYYY-MM-DD)") from None
    if not MIN_DATE <= day <= MAX_DATE:
        raise argparse.ArgumentTypeError(
            f"{day.isoformat()} is out of range (dates from {MIN_DATE.isoformat()} to {MAX_DATE.isoformat()})")
    return day


def year_month(text: str) -> date:
    """A month written YYYY-MM (returned as its first day), between :data:`MIN_DATE` and :data:`MAX_DATE`."""
    value = text.strip()
    if not re.fullmatch(r"[0-9]{4}-[0-9]{2}", value) or not 1 <= int(value[5:]) <= 12:
        raise argparse.ArgumentTypeError(f"{_show(text)} is not a month (YYYY-MM)")
    return iso_date(value + "-01")


def snapshot_ref(text: str) -> str:
    """'latest', a snapshot id (ASCII digits, 1 to 2**63-1) or an as-of date; returned normalised."""
    value = text.strip()
    if value.lower() == "latest":
        return "latest"
    if re.fullmatch(r"[0-9]+", value):
        if len(value) > 19 or not 1 <= int(value) <= MAX_ID:
            raise argparse.ArgumentTypeError(f"{_show(text)} is out of range (snapshot ids run from 1 to {MAX_ID})")
        return str(int(value))
    if re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
        return iso_date(value).isoformat()
    if value and all(ch.isdigit() or ch.isdecimal() for ch in value):  # '²', Arabic-Indic digits...
        raise argparse.ArgumentTypeError(f"{_show(text)} is not a snapshot id (write it with the digits 0-9)")
    raise argparse.ArgumentTypeError(f"{_show(text)} is neither a snapshot id, a date (YYYY-MM-DD) nor 'latest'")


def number(*, minimum: float, maximum: float, strict_minimum: bool = False) -> Callable[[str], float]:
    """A finite float in [minimum, maximum] (``(minimum, maximum]`` with ``strict_minimum``)."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{_show(text)} is not a number") from None
        if not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"{_show(text)} is not a finite number")
        low_ok = value > minimum if strict_minimum else value >= minimum
        if not low_ok or value > maximum:
            low = f"greater than {minimum:g}" if strict_minimum else f"at least {minimum:g}"
            raise argparse.ArgumentTypeError(f"{value:g} is out of range (must be {low} and at most {maximum:g})")
        return value

    return parse


def integer(*, minimum: int, maximum: int) -> Callable[[str], int]:
    """A whole number in [minimum, maximum], written with ASCII digits."""

    def parse(text: str) -> int:
        value = text.strip()
        if not re.fullmatch(r"[+-]?[0-9]{1,19}", value):
            raise argparse.ArgumentTypeError(f"{_show(text)} is not a whole number")
        result = int(value)
        if not minimum <= result <= maximum:
            raise argparse.ArgumentTypeError(f"{result} is out of range ({minimum} to {maximum})")
        return result

    return parse


def symbol(text: str) -> str:
    """A ticker symbol (letters, digits and . - ^ =, at most 20 characters), upper-cased."""
    value = text.strip()
    if not _SYMBOL.fullmatch(value):
        raise argparse.ArgumentTypeError(
            f"{_show(text)} is not a ticker symbol (letters, digits and . - ^ =, at most 20 characters)")
    return value.upper()

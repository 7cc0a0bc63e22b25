"""format_value for people and parse_quantity for typed bounds."""

from __future__ import annotations

import math
from datetime import date

import numpy as np
import pandas as pd
import pytest

from desktop.engine.formatting import QuantityError, counted, format_value, parse_quantity
from desktop.errors import InputError


@pytest.mark.parametrize(("value", "unit", "status", "text"), [
    (1.234e9, "usd", 0, "$1.2B"),
    (-345.6e6, "usd", 0, "-$345.6M"),
    (999.96e6, "usd", 0, "$1.0B"),
    (12_300.0, "usd", 0, "$12.3K"),
    (950.0, "usd", 0, "$950"),
    (2.5e12, "usd", 0, "$2.5T"),
    (12.345, "usd_share", 0, "$12.35"),
    (0.123, "fraction", 0, "12.3 %"),
    (-0.05, "fraction", 0, "-5.0 %"),
    (0.00042, "fraction", 0, "0.04 %"),  # an index weight must not read as zero
    (0.0, "fraction", 0, "0.0 %"),
    (4.25, "percent", 0, "4.25 %"),
    (4.12, "ratio", 0, "4.1x"),
    (float("inf"), "ratio", 0, "∞"),
    (float("-inf"), "ratio", 0, "-∞"),
    (float("inf"), "months", 0, "∞"),
    (18.4, "months", 0, "18 mo"),
    (3.0, "count", 0, "3"),
    (85.4, "percentile", 0, "85"),
    (1.5e8, "shares", 0, "150.0M"),
    (0.4231, "beta", 0, "0.42"),
    (12.34, "years", 0, "12.3 y"),
    (1.0, "bool", 0, "yes"),
    (0.0, "bool", 0, "no"),
    (np.float64(2.0), "ratio", 0, "2.0x"),
    (5.0, "ratio", 2, "n.m."),
    (float("nan"), "ratio", 2, "n.m."),
    (float("nan"), "ratio", 0, "—"),
    (None, "usd", 0, "—"),
    (5.0, "ratio", 1, "—"),
    (("ai", "fintech"), "tags", 0, "ai, fintech"),
    ((), "tags", 0, ""),
    ("Technology", "category", 0, "Technology"),
    (float("nan"), "category", 0, "—"),
    (date(2020, 1, 2), "date", 0, "2020-01-02"),
    (pd.Timestamp("2021-03-04"), "date", 0, "2021-03-04"),
    (pd.NaT, "date", 0, "—"),
])
def test_format_value(value: object, unit: str, status: int, text: str) -> None:
    assert format_value(value, unit, status) == text


@pytest.mark.parametrize(("text", "value"), [
    ("300M", 3e8), ("2B", 2e9), ("2b", 2e9), ("1.5k", 1500.0), ("$2.5B", 2.5e9), ("-$1.5M", -1.5e6),
    ("15%", 0.15), ("15 %", 0.15), ("0.5%", 0.005), ("4.1x", 4.1), ("50bp", 0.005), ("1,200", 1200.0),
    (" 42 ", 42.0), ("-3", -3.0), ("−3", -3.0), (".5", 0.5), ("1T", 1e12), ("7", 7.0),
])
def test_parse_quantity(text: str, value: float) -> None:
    assert parse_quantity(text) == pytest.approx(value, rel=1e-12)


def test_parse_quantity_exact_percent() -> None:
    assert parse_quantity("15%") == 0.15
    assert parse_quantity("300M") == 300_000_000.0


@pytest.mark.parametrize("text", ["", "abc", "12MM", "1.2.3", "5 apples", "%", "$", "1e5", "nan", "inf", "1,00"])
def test_parse_quantity_rejects(text: str) -> None:
    with pytest.raises(QuantityError) as err:
        parse_quantity(text)
    assert isinstance(err.value, ValueError) and isinstance(err.value, InputError)


def test_format_then_parse_is_close() -> None:
    for v in (1.234e9, 345.6e6, 12_300.0):
        text = format_value(v, "usd")
        assert math.isclose(parse_quantity(text), v, rel_tol=0.05)


def test_counted_puts_the_noun_in_the_right_number() -> None:
    assert counted(1, "stock") == "1 stock"
    assert counted(0, "stock") == "0 stocks"
    assert counted(2345, "stock") == "2,345 stocks"
    assert counted(1, "criterion", "criteria") == "1 criterion"
    assert counted(3, "criterion", "criteria") == "3 criteria"

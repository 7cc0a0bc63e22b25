"""Formula fields (issue #16): the whitelisted grammar, hostile input, states, screens."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from desktop.engine import catalog
from desktop.engine.evaluate import evaluate
from desktop.engine.formula import MAX_DEPTH, MAX_LENGTH, FormulaError, parse
from desktop.engine.formula_columns import with_formulas
from desktop.engine.metrics import MISSING, NOT_MEANINGFUL, OK, STALE, SUSPECT
from desktop.engine.screen import parse_screen, screen_to_dict, screen_to_json
from desktop.errors import ScreenDefinitionError
from tests.engine.conftest import stock_table


def lookup(name: str) -> catalog.Field | None:
    try:
        return catalog.get(name)
    except KeyError:
        return None


def check(text: str) -> FormulaError:
    with pytest.raises(FormulaError) as info:
        parse(text, lookup, catalog.names())
    return info.value


@pytest.mark.parametrize(("text", "position", "fragment"), [
    ("fcff / interest_expense", 1, "unknown field 'fcff'"),
    ("free_cash_flow / intrest_expense", 18, "did you mean interest_expense"),
    ("market_cap / 0", 14, "division by zero"),
    ("market_cap / (2 - 2)", 15, "division by zero"),
    ("market_cap.real", 1, "attribute access"),
    ("__import__('os')", 12, "character \"'\" is not allowed"),
    ("price ** 2", 7, "'**' (power) is not allowed"),
    ("lambda: price", 7, "character ':' is not allowed"),
    ("price if price else 1", 1, "not allowed"),
    ("price and cash", 1, "comparisons and and/or"),
    ("price[0]", 6, "character '[' is not allowed"),
    ("sector + 1", 1, "'sector' is category, not a number"),
    ("min(price)", 1, "min() takes 2 to 16 arguments"),
    ("log(price, 2)", 1, "log() takes 1 argument"),
    ("sqrt(price)", 1, "not a function"),
    ("price(2)", 1, "a field, not a function"),
    ("min + 1", 1, "min is a function"),
    ("price +", 7, "ends too early"),
    ("(price - cash", 1, "parenthesis is not closed"),
    ("price - cash)", 13, "closing parenthesis has no opening one"),
    (")price(", 1, "closing parenthesis has no opening one"),
    ("price cash", 7, "an operator (+ - * /) or a comma is missing"),
    ("1 + 2", 0, "uses no field"),
    ("", 0, "empty"),
    ("price\u00a0+ cash", 6, "U+00A0"),
])
def test_errors_name_the_position(text: str, position: int, fragment: str) -> None:
    err = check(text)
    assert fragment in err.message, err
    assert err.position == position, err
    assert (f"position {position}:" in str(err)) == bool(position)


def test_hostile_sizes_are_refused_cheaply() -> None:
    assert "10,000 characters; the limit is 1,000" in str(check("price+" * 1666 + "cash"))
    assert len("price+" * 1666) > MAX_LENGTH
    deep = "(" * (MAX_DEPTH + 1) + "price" + ")" * (MAX_DEPTH + 1)
    err = check(deep)
    assert "nested deeper" in err.message and err.position == MAX_DEPTH + 1
    assert "signs in a row" in check("-" * 200 + "price").message
    assert "more than 200 terms" in check("+".join(["price"] * 150)).message
    nested_calls = "min(" * 30 + "price" + ", 1)" * 30
    assert "nested deeper" in check(nested_calls).message
    # long but flat is fine: a sum of 60 fields is not "deep"
    assert parse(" + ".join(["price"] * 60), lookup).fields == ("price",)


def test_aliases_and_units() -> None:
    f = parse("fcf / interest_expense", lookup)
    assert f.fields == ("free_cash_flow", "interest_expense") and f.unit == "ratio"
    assert parse("(price - low_52w) / price", lookup).unit == "ratio"
    assert parse("cash - total_debt", lookup).unit == "usd"
    assert parse("2 * cash", lookup).unit == "usd"
    assert parse("cash * price", lookup).unit == "number"
    assert parse("log(market_cap)", lookup).unit == "number"
    assert parse("max(roe, roa)", lookup).unit == "fraction"


def table_for(values: dict[str, list[float | None]], status: dict[str, list[int]] | None = None):
    return stock_table(values, status=status)


def test_states_propagate_never_as_numbers() -> None:
    t = table_for({"cash": [100.0, None, 50.0, 10.0, 40.0, 30.0], "total_debt": [50.0, 10.0, 0.0, None, 20.0, 10.0]},
                  status={"cash": [OK, MISSING, OK, STALE, SUSPECT, OK],
                          "total_debt": [OK, OK, OK, NOT_MEANINGFUL, STALE, OK]})
    f = parse("cash / total_debt", lookup)
    v, st, why = f.evaluate(t.numeric, 6)
    assert v[0] == 2.0 and st[0] == OK
    assert math.isnan(v[1]) and st[1] == MISSING  # a missing input: missing, not 0
    assert math.isnan(v[2]) and st[2] == NOT_MEANINGFUL and why[2] == "division by zero"
    assert math.isnan(v[3]) and st[3] == NOT_MEANINGFUL  # n.m. beats stale
    assert v[4] == 2.0 and st[4] == SUSPECT  # suspect beats stale; the number is kept
    assert v[5] == 3.0 and st[5] == OK


def test_functions_and_infinity() -> None:
    t = table_for({"interest_coverage": [math.inf, 2.0, -1.0], "cash": [1.0, 0.0, -5.0]})
    v, st, why = parse("log(cash)", lookup).evaluate(t.numeric, 3)
    assert v[0] == 0.0 and st[1] == NOT_MEANINGFUL and why[1] == "log of a number <= 0"
    v, st, _ = parse("min(interest_coverage, 10)", lookup).evaluate(t.numeric, 3)
    assert list(v) == [10.0, 2.0, -1.0]
    v, st, _ = parse("abs(cash) - interest_coverage", lookup).evaluate(t.numeric, 3)
    assert v[0] == -math.inf and st[0] == OK
    v, st, why = parse("interest_coverage - interest_coverage", lookup).evaluate(t.numeric, 3)
    assert st[0] == NOT_MEANINGFUL and why[0] == "the formula gives no number here"  # inf - inf


SCREEN = {
    "version": 2, "name": "Formulas",
    "formulas": [{"name": "cash_cover", "expression": "cash / total_debt", "label": "Cash cover"},
                 {"name": "net_cash", "expression": "cash - total_debt", "unit": "usd"}],
    "criteria": [{"field": "cash_cover", "min": 1.0}],
    "sort": [{"field": "cash_cover", "descending": True}],
    "columns": ["name", "cash_cover", "net_cash"],
    "score": {"weights": {"cash_cover": 1}},
}


def test_formula_fields_screen_sort_and_score() -> None:
    t = stock_table({"name": ["A", "B", "C", "D"], "cash": [100.0, 30.0, 80.0, None],
                     "total_debt": [50.0, 60.0, 10.0, 5.0]}, symbols=["ZA", "ZB", "ZC", "ZD"])
    screen = parse_screen(SCREEN)
    assert screen.field("cash_cover").label == "Cash cover" and screen.field("cash_cover").unit == "ratio"
    assert screen.field("net_cash").unit == "usd"
    result = evaluate(screen, t)
    assert list(result.ranked.index) == ["ZC", "ZA"]  # 8.0 and 2.0 pass; 0.5 fails; ZD unknown
    assert list(result.ranked["cash_cover"]) == [8.0, 2.0]
    assert result.states.loc["ZD", "c1"] == 2  # missing input: unknown
    assert result.table is not None
    assert result.table.field("cash_cover").formula == "cash / total_debt"
    assert result.table.notes[("ZD", "cash_cover")].startswith("missing: its input Cash is missing")
    assert result.table.origin.at["ZA", "cash_cover"] == "formula: cash / total_debt"
    assert not np.isnan(result.scores["ZA"])


def test_with_formulas_is_cached_and_dated_by_the_oldest_input() -> None:
    t = stock_table({"cash": [1.0, 2.0], "total_debt": [1.0, 1.0]})
    ends = pd.DataFrame({"cash": pd.to_datetime(["2024-12-31", "2025-12-31"]),
                         "total_debt": pd.to_datetime(["2025-06-30", None])}, index=t.values.index)
    t = replace(t, period_end=ends)
    screen = parse_screen(SCREEN)
    first = with_formulas(t, screen.formulas)
    assert with_formulas(t, screen.formulas) is first
    assert list(first.period_end["cash_cover"]) == [pd.Timestamp("2024-12-31"), pd.Timestamp("2025-12-31")]
    assert "cash_cover" not in t.values  # the input table is not changed


def test_round_trip_and_migration() -> None:
    screen = parse_screen(SCREEN)
    assert parse_screen(screen_to_json(screen)) == screen
    assert screen_to_dict(screen)["formulas"] == SCREEN["formulas"]
    old = parse_screen({"version": 1, "name": "Old", "criteria": [{"field": "cash", "min": 1}]})
    assert old.version == 2 and screen_to_dict(old)["version"] == 2


@pytest.mark.parametrize(("formulas", "path", "fragment"), [
    ([{"name": "cash", "expression": "cash * 2"}], "formulas[0].name", "already a field"),
    ([{"name": "Bad Name", "expression": "cash"}], "formulas[0].name", "not a formula name"),
    ([{"name": "a", "expression": "cash"}, {"name": "a", "expression": "cash"}], "formulas[1].name", "two formulas"),
    ([{"name": "a", "expression": "cash +"}], "formulas[0].expression", "position 6: the formula ends too early"),
    ([{"name": "a", "expression": "b * 2"}, {"name": "b", "expression": "cash"}], "formulas[0].expression",
     "another formula"),
    ([{"name": "a", "expression": "cash", "unit": "furlongs"}], "formulas[0].unit", "expected one of"),
    ([{"name": "a", "expression": 3}], "formulas[0].expression", "as text"),
    ([{"name": "a", "expr": "cash"}], "formulas[0].expr", "unknown key"),
])
def test_bad_formulas_name_the_path(formulas: list, path: str, fragment: str) -> None:
    with pytest.raises(ScreenDefinitionError) as info:
        parse_screen({"version": 2, "name": "X", "formulas": formulas})
    assert info.value.field == path and fragment in str(info.value), str(info.value)


def test_version_1_with_formulas_is_an_error() -> None:
    with pytest.raises(ScreenDefinitionError, match="formulas need version 2"):
        parse_screen({"version": 1, "name": "X", "formulas": []})


def test_unknown_field_in_a_criterion_suggests_a_formula() -> None:
    with pytest.raises(ScreenDefinitionError, match="define a formula"):
        parse_screen({"version": 2, "name": "X", "criteria": [{"field": "cash_cover", "min": 1}]})

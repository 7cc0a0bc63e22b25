"""Property tests (hypothesis): group logic, monotone bounds, exact JSON round trips, reader fuzzing."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from desktop.engine.evaluate import FAIL, PASS, UNKNOWN, evaluate
from desktop.engine.metrics import StockTable
from desktop.engine.screen import parse_screen, screen_to_dict, screen_to_json
from desktop.errors import ScreenDefinitionError
from tests.engine.conftest import stock_table

NUMERIC = ["fcf_yield", "interest_coverage", "net_debt_to_ebitda"]
SECTORS = ["Technology", "Energy", "Utilities"]
THEMES = ["ai", "reit", "fintech"]
POLICY = st.sampled_from(["fail", "pass", "unknown"])
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def tables(draw: st.DrawFn) -> StockTable:
    n = draw(st.integers(1, 12))
    values: dict[str, list[Any]] = {}
    status: dict[str, list[int]] = {}
    for f in NUMERIC:
        vals = draw(st.lists(st.one_of(st.none(), st.floats(-5, 5, allow_nan=False),
                                       st.just(float("inf"))), min_size=n, max_size=n))
        nm = draw(st.lists(st.booleans(), min_size=n, max_size=n))
        values[f] = [None if (v is None or m) else v for v, m in zip(vals, nm, strict=True)]
        status[f] = [2 if m else (1 if v is None else 0) for v, m in zip(vals, nm, strict=True)]
    values["zombie"] = draw(st.lists(st.sampled_from([0.0, 1.0, None]), min_size=n, max_size=n))
    values["sector"] = draw(st.lists(st.one_of(st.none(), st.sampled_from(SECTORS)), min_size=n, max_size=n))
    values["themes"] = draw(st.lists(st.lists(st.sampled_from(THEMES), unique=True, max_size=2),
                                     min_size=n, max_size=n))
    return stock_table(values, status=status)


def leaves() -> st.SearchStrategy[dict]:
    bound = st.floats(-5, 5, allow_nan=False).map(lambda x: round(x, 3))
    rng = st.builds(lambda f, lo, m, nm: {"field": f, "min": lo, "missing": m, "not_meaningful": nm},
                    st.sampled_from(NUMERIC), bound, POLICY, POLICY)
    upper = st.builds(lambda f, hi, m: {"field": f, "max": hi, "missing": m}, st.sampled_from(NUMERIC), bound, POLICY)
    pct = st.builds(lambda f, p, w: {"field": f, "percentile_min": p, "within": w}, st.sampled_from(NUMERIC),
                    st.integers(0, 100), st.sampled_from(["universe", "sector"]))
    sets = st.builds(lambda f, k, v, m: {"field": f, k: v, "missing": m},
                     st.just("sector"), st.sampled_from(["any_of", "none_of"]),
                     st.lists(st.sampled_from(SECTORS), min_size=1, max_size=2, unique=True), POLICY)
    themes = st.builds(lambda k, v: {"field": "themes", k: v}, st.sampled_from(["any_of", "none_of"]),
                       st.lists(st.sampled_from(THEMES), min_size=1, max_size=2, unique=True))
    flag = st.builds(lambda b, m: {"field": "zombie", "is": b, "missing": m}, st.booleans(), POLICY)
    return st.one_of(rng, upper, pct, sets, themes, flag)


def nodes(max_leaves: int = 6) -> st.SearchStrategy[dict]:
    return st.recursive(leaves(), lambda kids: st.one_of(
        st.builds(lambda k, xs: {k: xs}, st.sampled_from(["all", "any"]), st.lists(kids, min_size=1, max_size=3)),
        st.builds(lambda x: {"not": x}, kids)), max_leaves=max_leaves)


def screen(criteria: list[dict], **kw: Any) -> Any:
    return parse_screen({"version": 2, "name": "P", "universe": "all", "criteria": criteria, **kw})


def passes(table: StockTable, criteria: list[dict], **kw: Any) -> set[str]:
    return set(evaluate(screen(criteria, **kw), table, near_misses=False).ranked.index)


@SETTINGS
@given(tables(), st.lists(nodes(3), min_size=1, max_size=4))
def test_all_is_the_intersection_of_its_children(table: StockTable, children: list[dict]) -> None:
    together = passes(table, [{"all": children}])
    separately = set(table.values.index)
    for child in children:
        separately &= passes(table, [child])
    assert together == separately
    assert passes(table, children) == together  # the top-level list is an "all" too


@SETTINGS
@given(tables(), st.lists(nodes(3), min_size=1, max_size=4))
def test_any_is_the_union_of_its_children(table: StockTable, children: list[dict]) -> None:
    union: set[str] = set()
    for child in children:
        union |= passes(table, [child])
    assert passes(table, [{"any": children}]) == union


@SETTINGS
@given(tables(), leaves())
def test_not_inverts_pass_and_fail_and_keeps_unknown(table: StockTable, leaf: dict) -> None:
    res = evaluate(screen([leaf]), table, near_misses=False)
    state = res.states["c1"]
    negated = passes(table, [{"not": leaf}])
    assert negated == set(state.index[state == FAIL])
    unknown = set(state.index[state == UNKNOWN])
    assert not (unknown & negated) and not (unknown & set(res.ranked.index))
    assert passes(table, [{"not": {"not": leaf}}]) == set(state.index[state == PASS])


@SETTINGS
@given(tables(), st.lists(leaves(), min_size=1, max_size=5), st.data())
def test_raising_a_min_never_adds_stocks(table: StockTable, criteria: list[dict], data: st.DataObject) -> None:
    with_min = [i for i, c in enumerate(criteria) if "min" in c or "percentile_min" in c]
    if not with_min:
        return
    i = data.draw(st.sampled_from(with_min))
    before = passes(table, criteria)
    raised = [dict(c) for c in criteria]
    key = "min" if "min" in raised[i] else "percentile_min"
    raised[i][key] = min(raised[i][key] + data.draw(st.floats(0, 50)), 100) if key == "percentile_min" \
        else raised[i][key] + data.draw(st.floats(0, 50))
    if raised[i].get("max") is not None and raised[i][key] > raised[i]["max"]:
        return
    assert passes(table, raised) <= before
    assert passes(table, raised, match="any") <= passes(table, criteria, match="any")


@st.composite
def documents(draw: st.DrawFn) -> dict:
    doc: dict[str, Any] = {"version": 2, "name": draw(st.text(min_size=1, max_size=30).filter(str.strip))}
    if draw(st.booleans()):
        doc["description"] = draw(st.text(min_size=1, max_size=40))
    doc["universe"] = draw(st.sampled_from(["russell2000", "all"]))
    doc["match"] = draw(st.sampled_from(["all", "any"]))
    doc["criteria"] = draw(st.lists(nodes(5), max_size=4))
    if draw(st.booleans()):
        doc["sort"] = [{"field": f, "descending": d} for f, d in
                       draw(st.lists(st.tuples(st.sampled_from(NUMERIC + ["name"]), st.booleans()), min_size=1,
                                     max_size=2))]
    if draw(st.booleans()):
        doc["columns"] = draw(st.lists(st.sampled_from(["name", "sector", *NUMERIC]), unique=True, min_size=1))
    if draw(st.booleans()):
        doc["score"] = {"weights": draw(st.dictionaries(st.sampled_from(NUMERIC), st.integers(-3, 3).filter(bool),
                                                        min_size=1))}
    return doc


def canonical(node: Any) -> Any:
    """What screen_to_dict writes: default policies and "within" omitted."""
    if isinstance(node, dict):
        out = {k: canonical(v) for k, v in node.items()}
        if out.get("missing") == "unknown":
            del out["missing"]
        if out.get("not_meaningful") == "fail":
            del out["not_meaningful"]
        if out.get("within") == "universe":
            del out["within"]
        return out
    if isinstance(node, list):
        return [canonical(v) for v in node]
    return node


@SETTINGS
@given(documents())
def test_json_round_trips_exactly(doc: dict) -> None:
    parsed = parse_screen(doc)
    written = screen_to_dict(parsed)
    assert written == canonical(doc)
    assert parse_screen(written) == parsed
    text = screen_to_json(parsed)
    assert json.loads(text) == written
    assert parse_screen(text) == parsed
    assert screen_to_dict(parse_screen(text)) == written


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-10**20, 10**20) | st.floats(allow_nan=True) | st.text(max_size=12),
    lambda kids: st.lists(kids, max_size=4) | st.dictionaries(
        st.sampled_from(["version", "name", "criteria", "field", "min", "max", "all", "any", "not", "is",
                         "any_of", "none_of", "percentile_min", "within", "missing", "sort", "columns", "score",
                         "weights", "descending", "universe", "match", "x"]), kids, max_size=5),
    max_leaves=20)


@settings(max_examples=300, deadline=None)
@given(JSON_VALUES)
def test_reader_fuzz_random_documents(value: Any) -> None:
    for candidate in (value, {"version": 2, "name": "F", "criteria": [value]},
                      {"version": 2, "name": "F", "criteria": value}):
        try:
            parsed = parse_screen(candidate)
        except ScreenDefinitionError as exc:
            assert exc.field or exc.line  # a path inside the document, or the line of a JSON syntax error
            continue
        assert parse_screen(screen_to_dict(parsed)) == parsed


@settings(max_examples=200, deadline=None)
@given(documents(), st.data())
def test_reader_fuzz_mutated_documents(doc: dict, data: st.DataObject) -> None:
    text = json.dumps(doc)
    pos = data.draw(st.integers(0, len(text) - 1))
    junk = data.draw(st.sampled_from(["", "{", "]", '"', ",", "1e999", "null", "NaN", "-", "true"]))
    mutated = text[:pos] + junk + text[pos + data.draw(st.integers(0, 3)):]
    try:
        parsed = parse_screen(mutated)
    except ScreenDefinitionError:
        return
    assert parse_screen(screen_to_dict(parsed)) == parsed


def test_state_codes() -> None:
    assert (FAIL, PASS, UNKNOWN) == (0, 1, 2)
    assert np.int8(PASS) == 1

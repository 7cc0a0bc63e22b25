"""The screen JSON model: validation with precise paths, canonical writing, ids, descriptions."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from desktop.engine.screen import (
    MAX_DEPTH,
    FlagCriterion,
    Group,
    Not,
    PercentileCriterion,
    RangeCriterion,
    Screen,
    SetCriterion,
    describe,
    parse_screen,
    screen_to_dict,
    screen_to_json,
)
from desktop.errors import ScreenDefinitionError
from tests.conftest import PROJECT_ROOT

HOSTILE = PROJECT_ROOT / "tests" / "hostile" / "screens"

FULL = {
    "version": 2,
    "name": "Everything",
    "description": "All criterion kinds.",
    "universe": "all",
    "match": "any",
    "criteria": [
        {"field": "fcf_yield", "min": 0.05, "max": 0.5, "missing": "fail", "not_meaningful": "unknown"},
        {"field": "interest_coverage", "percentile_min": 80, "within": "sector"},
        {"field": "sector", "none_of": ["Financial Services"], "missing": "pass"},
        {"field": "themes", "any_of": ["ai", "semiconductors"]},
        {"any": [{"field": "zombie", "is": False}, {"not": {"field": "net_debt", "max": 0}}]},
    ],
    "sort": [{"field": "fcf_yield", "descending": True}, {"field": "name", "descending": False}],
    "columns": ["name", "fcf_yield"],
    "score": {"weights": {"fcf_yield": 2, "net_debt_to_ebitda": -1.5}},
}


def doc(**changes: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"version": 2, "name": "T", "criteria": [{"field": "fcf_yield", "min": 0.05}]}
    out.update(changes)
    return out


def test_full_document_round_trips_exactly() -> None:
    screen = parse_screen(FULL)
    assert screen_to_dict(screen) == FULL
    assert parse_screen(screen_to_json(screen)) == screen
    assert json.loads(screen_to_json(screen)) == FULL


def test_defaults_and_canonical_form() -> None:
    screen = parse_screen({"version": 2, "name": "Minimal"})
    assert screen == Screen("Minimal")
    assert screen_to_dict(screen) == {"version": 2, "name": "Minimal", "universe": "russell2000", "match": "all",
                                      "criteria": []}


def test_leaves_have_stable_ids_in_document_order() -> None:
    screen = parse_screen(FULL)
    leaves = screen.leaves()
    assert [c.id for c in leaves] == ["c1", "c2", "c3", "c4", "c5", "c6"]
    assert [type(c) for c in leaves] == [RangeCriterion, PercentileCriterion, SetCriterion, SetCriterion,
                                         FlagCriterion, RangeCriterion]
    group = screen.root.children[4]
    assert isinstance(group, Group) and group.id == "g1"
    assert isinstance(group.children[1], Not) and group.children[1].id == "g2"
    assert screen.fields() == ["fcf_yield", "interest_coverage", "sector", "themes", "zombie", "net_debt"]
    # ids never affect equality, so a screen built in code equals the parsed one
    built = Screen("T", (RangeCriterion("fcf_yield", 0.05),))
    assert built == parse_screen(doc()) and built.leaves()[0].id == "c1"


@pytest.mark.parametrize(("document", "path", "fragment"), [
    ({"name": "T"}, "version", "required"),
    (doc(version="1"), "version", "expected the number 2"),
    (doc(version=3), "version", "newer Pickaxe"),
    (doc(name=""), "name", "non-empty"),
    (doc(name="x" * 201), "name", "limit"),
    (doc(universe="sp500"), "universe", "'russell2000', 'all'"),
    (doc(match="most"), "match", "expected one of"),
    (doc(criteria={}), "criteria", "expected a list"),
    (doc(criteria=[3]), "criteria[0]", "criterion or group"),
    (doc(criteria=[{"min": 1}]), "criteria[0].field", "required"),
    (doc(criteria=[{"field": "fcf_yeild", "min": 1}]), "criteria[0].field", "unknown field 'fcf_yeild'"),
    (doc(criteria=[{"field": "fcf_yield"}]), "criteria[0]", "expected a test"),
    (doc(criteria=[{"field": "fcf_yield", "min": "5%"}]), "criteria[0].min", "expected a number, got text"),
    (doc(criteria=[{"field": "fcf_yield", "min": True}]), "criteria[0].min", "got true"),
    (doc(criteria=[{"field": "fcf_yield", "min": 2, "max": 1}]), "criteria[0].min", "above max"),
    (doc(criteria=[{"field": "fcf_yield", "min": None, "max": None}]), "criteria[0]", "at least one"),
    (doc(criteria=[{"field": "fcf_yield", "min": 1, "any_of": ["a"]}]), "criteria[0].any_of", "cannot be combined"),
    (doc(criteria=[{"field": "fcf_yield", "min": 1, "within": "sector"}]), "criteria[0].within", "unknown key"),
    (doc(criteria=[{"field": "fcf_yield", "min": 1, "missing": "skip"}]), "criteria[0].missing", "'fail'"),
    (doc(criteria=[{"field": "fcf_yield", "percentile_min": 120}]), "criteria[0].percentile_min", "0 to 100"),
    (doc(criteria=[{"field": "sector", "min": 1}]), "criteria[0].field", "not numeric"),
    (doc(criteria=[{"field": "fcf_yield", "any_of": ["x"]}]), "criteria[0].field", "any_of/none_of need"),
    (doc(criteria=[{"field": "sector", "any_of": []}]), "criteria[0].any_of", "non-empty list"),
    (doc(criteria=[{"field": "sector", "any_of": ["Tech", 3]}]), "criteria[0].any_of", "non-empty list"),
    (doc(criteria=[{"field": "fcf_yield", "is": True}]), "criteria[0].field", "yes/no"),
    (doc(criteria=[{"field": "zombie", "is": 1}]), "criteria[0].is", "true or false"),
    (doc(criteria=[{"all": []}]), "criteria[0].all", "non-empty list"),
    (doc(criteria=[{"all": [{"field": "zombie", "is": True}], "field": "x"}]), "criteria[0].field", "no other keys"),
    (doc(criteria=[{"any": [{"field": "zombie", "is": True}, {"field": "nope", "min": 1}]}]),
     "criteria[0].any[1].field", "unknown field"),
    (doc(criteria=[{"not": {"all": [{"field": "zombie", "is": 2}]}}]), "criteria[0].not.all[0].is", "true or false"),
    (doc(sort={"field": "name"}), "sort", "expected a list"),
    (doc(sort=[{"field": "themes"}]), "sort[0].field", "cannot sort"),
    (doc(sort=[{"field": "name", "descending": "yes"}]), "sort[0].descending", "true or false"),
    (doc(sort=[{"field": "name", "order": "asc"}]), "sort[0].order", "unknown key"),
    (doc(columns=["name", "bogus"]), "columns[1]", "unknown field"),
    (doc(score={"weights": {}}), "score.weights", "non-empty"),
    (doc(score={"weights": {"fcf_yield": 0}}), "score.weights.fcf_yield", "no effect"),
    (doc(score={"weights": {"sector": 1}}), "score.weights.sector", "not numeric"),
    (doc(score={"weights": {"fcf_yield": 1}, "within": "sector"}), "score.within", "unknown key"),
    (doc(extra=1), "extra", "unknown key 'extra'"),
])
def test_errors_name_the_path(document: dict, path: str, fragment: str) -> None:
    with pytest.raises(ScreenDefinitionError) as err:
        parse_screen(document)
    assert err.value.field == path
    assert fragment in str(err.value)


def nested(depth: int) -> dict:
    node: dict = {"field": "fcf_yield", "min": 0}
    for _ in range(depth):
        node = {"all": [node]}
    return doc(criteria=[node])


def test_depth_limit_is_documented_and_enforced() -> None:
    assert parse_screen(nested(MAX_DEPTH))
    with pytest.raises(ScreenDefinitionError, match=f"deeper than {MAX_DEPTH}"):
        parse_screen(nested(MAX_DEPTH + 1))


def test_json_text_errors_give_the_line() -> None:
    with pytest.raises(ScreenDefinitionError) as err:
        parse_screen('{\n  "version": 2,\n  "name": "x",\n  oops\n}')
    assert err.value.line == 4


@pytest.mark.parametrize("path", sorted(HOSTILE.glob("*.json")), ids=lambda p: p.name)
def test_hostile_screens_fail_clearly(path: Path) -> None:
    with pytest.raises(ScreenDefinitionError) as err:
        parse_screen(path.read_text(encoding="utf-8"))
    message = str(err.value)
    assert 10 < len(message) < 600, message
    assert "Traceback" not in message


def test_there_are_hostile_screens() -> None:
    assert len(list(HOSTILE.glob("*.json"))) >= 8


@pytest.mark.parametrize(("node", "text"), [
    (RangeCriterion("fcf_yield", 0.05), "FCF yield ≥ 5.0 %"),
    (RangeCriterion("interest_coverage", None, 1.5), "Interest coverage ≤ 1.5x"),
    (RangeCriterion("market_cap", 3e8, 2e9), "Market cap between $300.0M and $2.0B"),
    (RangeCriterion("fcf_yield", 0.05, missing="pass"), "FCF yield ≥ 5.0 % (missing passes)"),
    (PercentileCriterion("fcf_yield", 80, "sector"), "FCF yield at or above the 80th percentile of its sector"),
    (SetCriterion("sector", ("Technology", "Energy")), "Sector is any of Technology, Energy"),
    (SetCriterion("themes", ("ai",), exclude=True), "Themes include none of ai"),
    (FlagCriterion("zombie", True), "Zombie: yes"),
    (Not(FlagCriterion("zombie", True)), "not (Zombie: yes)"),
    (Group("any", (FlagCriterion("ocf_positive", True), RangeCriterion("cash_runway_months", 24))),
     "any of: (OCF positive: yes; Cash runway ≥ 24 mo)"),
])
def test_describe(node: Any, text: str) -> None:
    assert describe(node) == text


def test_presets_are_valid_and_canonical() -> None:
    presets = sorted((PROJECT_ROOT / "resources" / "presets").glob("*.json"))
    names = set()
    for path in presets:
        document = json.loads(path.read_text(encoding="utf-8"))
        screen = parse_screen(document)
        assert screen_to_dict(screen) == document, path.name
        names.add(screen.name)
    assert {"Cash survivors", "Rate-shock resilient", "Real-tech with runway", "Zombie watch",
            "REIT and regional-bank stress"} <= names


def test_errors_name_the_source_file() -> None:
    with pytest.raises(ScreenDefinitionError) as err:
        parse_screen(doc(criteria=[{"field": "fcf_yield", "min": "x"}]), source="shared/cash.json")
    assert err.value.path == "shared/cash.json" and err.value.field == "criteria[0].min"
    assert str(err.value).startswith("shared/cash.json, field 'criteria[0].min': expected a number")
    with pytest.raises(ScreenDefinitionError) as err:
        parse_screen("{\n oops", source="x.json")
    assert err.value.path == "x.json" and err.value.line == 2


def test_describe_accepts_unhashable_nodes_built_in_code() -> None:
    node = SetCriterion("sector", ["Energy"])  # type: ignore[arg-type]  # a list, as a UI might pass
    assert describe(node) == "Sector is any of Energy"
    assert describe(Group("all", [node])) == "all of: (Sector is any of Energy)"  # type: ignore[arg-type]

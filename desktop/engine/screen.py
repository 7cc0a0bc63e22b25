"""The screen: a versioned JSON document users share (format: docs/screen-format.md, issue #5).

``parse_screen`` validates strictly (unknown keys, unknown fields, wrong types, bounds in the wrong
order, nesting deeper than :data:`MAX_DEPTH`) and raises ``ScreenDefinitionError`` whose ``field``
is the path inside the document (``criteria[2].any[0].min``). ``screen_to_dict`` writes the
canonical form; ``parse_screen(screen_to_dict(s)) == s`` for every valid screen.

Version 2 (issue #16) adds ``formulas``: user fields computed from catalogue fields
(:mod:`desktop.engine.formula`), usable wherever a field name is. Older documents are migrated on
reading (:data:`MIGRATIONS`) and always written in the current version.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, replace
from dataclasses import field as dc_field
from functools import lru_cache
from typing import Any, Literal, Union

from desktop.engine import catalog, formula
from desktop.engine.field import NUMERIC_UNITS, Field
from desktop.engine.formatting import format_value
from desktop.errors import ScreenDefinitionError

SCREEN_VERSION = 2
MAX_FORMULAS = 50
MAX_DEPTH = 8  # nested groups below the top-level list; deeper documents are rejected
MAX_NODES = 500  # criteria + groups in one screen
MAX_TEXT = 1_000_000  # characters of JSON text
MAX_NAME = 200
POLICIES = ("fail", "pass", "unknown")
# Stale and suspect values (issue #12) may also be "used": judged on their number as if fresh.
STATE_POLICIES = ("fail", "pass", "unknown", "use")
UNIVERSES = ("russell2000", "all")
SET_UNITS = frozenset({"category", "tags", "text"})

Policy = Literal["fail", "pass", "unknown"]
StatePolicy = Literal["fail", "pass", "unknown", "use"]


@dataclass(frozen=True)
class RangeCriterion:
    """``{"field": F, "min": x, "max": y}``: inclusive bounds, either may be None."""

    field: str
    min: float | None = None
    max: float | None = None
    missing: Policy = "unknown"
    not_meaningful: Policy = "fail"
    stale: StatePolicy = "unknown"
    suspect: StatePolicy = "unknown"
    id: str = dc_field(default="", compare=False)


@dataclass(frozen=True)
class PercentileCriterion:
    """``{"field": F, "percentile_min": p, "within": "universe" | "sector"}`` (p in 0..100)."""

    field: str
    percentile_min: float
    within: Literal["universe", "sector"] = "universe"
    missing: Policy = "unknown"
    not_meaningful: Policy = "fail"
    stale: StatePolicy = "unknown"
    suspect: StatePolicy = "unknown"
    id: str = dc_field(default="", compare=False)


@dataclass(frozen=True)
class SetCriterion:
    """``{"field": F, "any_of": [...]}`` or ``{"field": F, "none_of": [...]}`` (case-insensitive)."""

    field: str
    values: tuple[str, ...]
    exclude: bool = False  # True for none_of
    missing: Policy = "unknown"
    id: str = dc_field(default="", compare=False)


@dataclass(frozen=True)
class FlagCriterion:
    """``{"field": F, "is": true | false}`` for yes/no fields."""

    field: str
    is_: bool
    missing: Policy = "unknown"
    stale: StatePolicy = "unknown"
    suspect: StatePolicy = "unknown"
    id: str = dc_field(default="", compare=False)


@dataclass(frozen=True)
class Group:
    """``{"all": [...]}`` or ``{"any": [...]}``."""

    op: Literal["all", "any"]
    children: tuple[Node, ...]
    id: str = dc_field(default="", compare=False)


@dataclass(frozen=True)
class Not:
    """``{"not": {...}}``: PASS and FAIL swap, UNKNOWN stays UNKNOWN."""

    child: Node
    id: str = dc_field(default="", compare=False)


Criterion = Union[RangeCriterion, PercentileCriterion, SetCriterion, FlagCriterion]  # noqa: UP007
Node = Union[Criterion, Group, Not]  # noqa: UP007
LEAF_TYPES = (RangeCriterion, PercentileCriterion, SetCriterion, FlagCriterion)


@dataclass(frozen=True)
class SortKey:
    field: str
    descending: bool = False


@dataclass(frozen=True)
class Score:
    """Composite score: weighted percentile ranks; a negative weight prefers low values."""

    weights: tuple[tuple[str, float], ...]


@dataclass(frozen=True)
class FormulaField:
    """``{"name": N, "expression": E, "label": L, "unit": U}``: a user field computed by a formula.

    ``label`` defaults to the name; ``unit`` (a numeric catalogue unit) to the one the formula
    implies (amounts over amounts: a ratio). ``parsed`` is the checked formula.
    """

    name: str
    expression: str
    label: str = ""
    unit: str = ""
    parsed: formula.Formula | None = dc_field(default=None, compare=False, repr=False)

    @property
    def field(self) -> Field:
        """The catalogue-style entry of this field (labels, tooltips, exports)."""
        used = self.parsed.fields if self.parsed is not None else ()
        return Field(self.name, self.label or self.name, self.unit or (self.parsed.unit if self.parsed else "number"),
                     f"User formula: {self.expression}", "Formulas", self.expression, ", ".join(used),
                     "Missing, n.m., stale and suspect inputs pass their state on (the worst wins); a division "
                     "by zero or the log of a number <= 0 is n.m.")


@dataclass(frozen=True)
class Screen:
    """A parsed screen. ``criteria`` are the top-level nodes combined with ``match``."""

    name: str
    criteria: tuple[Node, ...] = ()
    universe: Literal["russell2000", "all"] = "russell2000"
    match: Literal["all", "any"] = "all"
    sort: tuple[SortKey, ...] = ()
    columns: tuple[str, ...] = ()
    score: Score | None = None
    description: str = ""
    version: int = SCREEN_VERSION
    formulas: tuple[FormulaField, ...] = ()
    _numbered: Group = dc_field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        counters = {"c": 0, "g": 0}
        object.__setattr__(self, "_numbered", _number(Group(self.match, tuple(self.criteria)), counters, True))

    @property
    def root(self) -> Group:
        """The whole screen as one group (id ``""``), every node carrying its id."""
        return self._numbered

    def leaves(self) -> list[Criterion]:
        """Criteria in document order with ids ``c1, c2, …`` (groups get ``g1, g2, …``)."""
        out: list[Criterion] = []
        _collect(self._numbered, out)
        return out

    def fields(self) -> list[str]:
        """Fields the criteria use, in document order, without repeats."""
        return list(dict.fromkeys(c.field for c in self.leaves()))

    def field(self, name: str) -> Field:
        """The entry of a catalogue field or of one of this screen's formulas (KeyError when neither)."""
        for f in self.formulas:
            if f.name == name:
                return f.field
        return catalog.get(name)


def _number(node: Node, counters: dict[str, int], root: bool = False) -> Any:
    if isinstance(node, Group):
        gid = ""
        if not root:
            counters["g"] += 1
            gid = f"g{counters['g']}"
        return Group(node.op, tuple(_number(c, counters) for c in node.children), gid)
    if isinstance(node, Not):
        counters["g"] += 1
        gid = f"g{counters['g']}"
        return Not(_number(node.child, counters), gid)
    counters["c"] += 1
    return replace(node, id=f"c{counters['c']}")


def _collect(node: Node, out: list[Criterion]) -> None:
    if isinstance(node, Group):
        for c in node.children:
            _collect(c, out)
    elif isinstance(node, Not):
        _collect(node.child, out)
    else:
        out.append(node)


# --- parsing -----------------------------------------------------------------------------------

def _err(path: str, message: str, hint: str = "", line: int | None = None) -> ScreenDefinitionError:
    exc = ScreenDefinitionError(message, field=(path or "(document)") if line is None else None, line=line,
                                hint=hint)
    exc.detail = message  # type: ignore[attr-defined]  # the bare message, to re-raise with the file name
    return exc


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in pairs:
        if k in out:
            raise ValueError(f"duplicate key {k!r}")
        out[k] = v
    return out


def _reject_constant(name: str) -> float:
    raise ValueError(f"{name} is not a number JSON allows")


def _loads(text: str) -> Any:
    if len(text) > MAX_TEXT:
        raise _err("", f"the document is {len(text):,} characters; the limit is {MAX_TEXT:,}")
    try:
        return json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise _err("", f"not valid JSON: {exc.msg} (column {exc.colno})", line=exc.lineno) from None
    except ValueError as exc:
        raise _err("", f"not valid JSON: {exc}") from None
    except RecursionError:
        raise _err("", f"nested too deeply (the limit is {MAX_DEPTH} levels of groups)") from None


def parse_screen(doc: dict | str | bytes, *, source: str | None = None) -> Screen:
    """Validate a screen document (a dict or JSON text) and build the :class:`Screen`.

    Args:
        doc: the document, or its JSON text.
        source: where it came from (a file name), named in error messages.

    Raises:
        ScreenDefinitionError: the first problem, with ``field`` the path inside the document
            (e.g. ``criteria[2].any[0].min``), ``line`` for JSON syntax errors, ``path`` the
            ``source``, and a message saying what was expected.
    """
    try:
        return _parse(doc)
    except ScreenDefinitionError as exc:
        if source is None:
            raise
        raise ScreenDefinitionError(getattr(exc, "detail", exc.message), path=source, line=exc.line,
                                    field=exc.field, hint=exc.hint) from None


def _parse(doc: dict | str | bytes) -> Screen:
    if isinstance(doc, str | bytes):
        doc = _loads(doc.decode("utf-8", "replace") if isinstance(doc, bytes) else doc)
    if not isinstance(doc, dict):
        raise _err("", f"expected a JSON object at the top level, got {_kind(doc)}")
    version = doc.get("version")
    if isinstance(version, bool) or not isinstance(version, int):
        if "version" not in doc:
            raise _err("version", "the key 'version' is required")
        raise _err("version", f"expected the number {SCREEN_VERSION}, got {_kind(version)}")
    if version > SCREEN_VERSION:
        raise _err("version", f"version {version} was written by a newer Pickaxe; this one reads "
                   f"versions 1 to {SCREEN_VERSION}", hint="Update Pickaxe to open this screen.")
    if version < 1:
        raise _err("version", f"expected 1 to {SCREEN_VERSION}, got {version}")
    for old in range(version, SCREEN_VERSION):
        doc = MIGRATIONS[old](doc)
    _keys(doc, "", required={"version", "name"},
          optional={"description", "universe", "match", "criteria", "sort", "columns", "score", "formulas"})
    name = _text(doc["name"], "name", MAX_NAME)
    formulas = _formulas(doc.get("formulas", []))
    extra = {f.name: f.field for f in formulas}
    description = _text(doc.get("description", ""), "description", 5000, allow_empty=True)
    universe = _choice(doc.get("universe", "russell2000"), "universe", UNIVERSES)
    match = _choice(doc.get("match", "all"), "match", ("all", "any"))
    raw = doc.get("criteria", [])
    if not isinstance(raw, list):
        raise _err("criteria", f"expected a list of criteria, got {_kind(raw)}")
    budget = [MAX_NODES]
    criteria = tuple(_node(c, f"criteria[{i}]", 1, budget, extra) for i, c in enumerate(raw))
    sort = _sort(doc.get("sort", []), extra)
    columns = _columns(doc.get("columns", []), extra)
    score = _score(doc["score"], extra) if "score" in doc and doc["score"] is not None else None
    return Screen(name, criteria, universe, match, sort, columns, score, description,  # type: ignore[arg-type]
                  SCREEN_VERSION, formulas)


def _v1_to_v2(doc: dict) -> dict:
    """Version 2 adds ``formulas``; a version 1 document has none (a ``formulas`` key stays an error)."""
    if "formulas" in doc:
        raise _err("formulas", "formulas need version 2", hint='Write "version": 2 to use formulas.')
    return {**doc, "version": 2}


# version -> the function that turns a document of that version into one of the next.
MIGRATIONS = {1: _v1_to_v2}


def _formulas(raw: Any) -> tuple[FormulaField, ...]:
    if not isinstance(raw, list):
        raise _err("formulas", f"expected a list of {{'name', 'expression'}} objects, got {_kind(raw)}")
    if len(raw) > MAX_FORMULAS:
        raise _err("formulas", f"{len(raw)} formulas; the limit is {MAX_FORMULAS}")
    out: list[FormulaField] = []
    every = tuple(str(item.get("name")) for item in raw if isinstance(item, dict))
    for i, item in enumerate(raw):
        path = f"formulas[{i}]"
        if not isinstance(item, dict):
            raise _err(path, f"expected an object, got {_kind(item)}")
        _keys(item, path, {"name", "expression"}, {"label", "unit"})
        out.append(formula_field(item["name"], item["expression"], item.get("label", ""), item.get("unit", ""),
                                 path=path, taken=[f.name for f in out], others=every))
    return tuple(out)


def formula_field(name: Any, expression: Any, label: Any = "", unit: Any = "", *, path: str = "formula",
                  taken: list[str] | tuple[str, ...] = (), others: tuple[str, ...] = ()) -> FormulaField:
    """A checked :class:`FormulaField` (the screen builder uses this to check what the user types).

    Raises:
        ScreenDefinitionError: ``field`` is ``path.name``, ``path.expression`` (the message names
            the position in the formula), ``path.label`` or ``path.unit``.
    """
    if not isinstance(name, str) or not formula.NAME_RE.match(name):
        raise _err(_join(path, "name"), f"{str(name)[:60]!r} is not a formula name: lower-case letters, digits and _, "
                   "starting with a letter, at most 40 characters")
    if name in catalog.names() or name in formula.FUNCTIONS or name in formula.ALIASES:
        raise _err(_join(path, "name"), f"{name!r} is already a field or function name; choose another")
    if name in taken:
        raise _err(_join(path, "name"), f"two formulas are called {name!r}")
    if not isinstance(expression, str):
        raise _err(_join(path, "expression"), f"expected the formula as text, got {_kind(expression)}")
    label = _text(label, _join(path, "label"), MAX_NAME, allow_empty=True)
    if unit != "" and (not isinstance(unit, str) or unit not in NUMERIC_UNITS):
        raise _err(_join(path, "unit"), f"expected one of {', '.join(sorted(NUMERIC_UNITS))}, got {str(unit)[:40]!r}")
    try:
        parsed = formula.parse(expression, _catalogue_lookup, catalog.names(), tuple(taken) + others)
    except formula.FormulaError as exc:
        raise _err(_join(path, "expression"), str(exc)) from None
    return FormulaField(name, expression, label, unit, parsed)


def _catalogue_lookup(name: str) -> Field | None:
    try:
        return catalog.get(name)
    except KeyError:
        return None


def _kind(v: Any) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    return {dict: "an object", list: "a list", str: "text", int: "a number", float: "a number"}.get(
        type(v), type(v).__name__)


def _keys(obj: dict, path: str, required: set[str], optional: set[str]) -> None:
    for k in obj:
        if not isinstance(k, str) or k not in required | optional:
            allowed = ", ".join(sorted(required | optional))
            raise _err(_join(path, str(k)), f"unknown key {k!r}; expected one of: {allowed}")
    for k in sorted(required):
        if k not in obj:
            raise _err(_join(path, k), f"the key {k!r} is required")


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _text(v: Any, path: str, limit: int, allow_empty: bool = False) -> str:
    if not isinstance(v, str):
        raise _err(path, f"expected text, got {_kind(v)}")
    if not allow_empty and not v.strip():
        raise _err(path, "expected non-empty text")
    if len(v) > limit:
        raise _err(path, f"text is {len(v)} characters; the limit is {limit}")
    return v


def _choice(v: Any, path: str, options: tuple[str, ...]) -> str:
    if v not in options or not isinstance(v, str):
        raise _err(path, f"expected one of {', '.join(map(repr, options))}, got {v!r}"[:300])
    return v


def _number_value(v: Any, path: str) -> float:
    if isinstance(v, bool) or not isinstance(v, int | float):
        raise _err(path, f"expected a number, got {_kind(v)}")
    if isinstance(v, float) and not math.isfinite(v):
        raise _err(path, "expected a finite number")
    if isinstance(v, int) and abs(v) > 10**18:
        raise _err(path, "number out of range")
    return v


def _field(v: Any, path: str, extra: dict[str, Field]) -> Field:
    if not isinstance(v, str):
        raise _err(path, f"expected a field name, got {_kind(v)}")
    if v in extra:
        return extra[v]
    try:
        return catalog.get(v)
    except KeyError:
        raise _err(path, f"unknown field {v[:80]!r}", hint="See docs/metrics.md for the field names, or define a "
                   "formula of that name.") from None


def _node(obj: Any, path: str, depth: int, budget: list[int], extra: dict[str, Field]) -> Node:
    budget[0] -= 1
    if budget[0] < 0:
        raise _err(path, f"too many criteria; the limit is {MAX_NODES}")
    if not isinstance(obj, dict):
        raise _err(path, f"expected a criterion or group object, got {_kind(obj)}")
    groups = [k for k in ("all", "any", "not") if k in obj]
    if groups:
        key = groups[0]
        if len(obj) != 1:
            other = next(k for k in obj if k != key)
            raise _err(_join(path, str(other)), f"a {key!r} group has no other keys")
        if depth > MAX_DEPTH:
            raise _err(path, f"groups nested deeper than {MAX_DEPTH} levels",
                       hint="Flatten the screen; deeper nesting is never needed.")
        sub = _join(path, key)
        if key == "not":
            return Not(_node(obj["not"], sub, depth + 1, budget, extra))
        items = obj[key]
        if not isinstance(items, list) or not items:
            raise _err(sub, f"expected a non-empty list, got {_kind(items)}")
        return Group(key, tuple(_node(c, f"{sub}[{i}]", depth + 1, budget, extra)  # type: ignore[arg-type]
                                for i, c in enumerate(items)))
    return _criterion(obj, path, extra)


_KINDS = {"min": "range", "max": "range", "percentile_min": "percentile", "any_of": "set",
          "none_of": "set", "is": "flag"}


def _criterion(obj: dict, path: str, extra: dict[str, Field]) -> Criterion:
    if "field" not in obj:
        raise _err(_join(path, "field"), "the key 'field' is required (or use a group: all, any, not)")
    f = _field(obj["field"], _join(path, "field"), extra)
    kinds = {_KINDS[k] for k in obj if k in _KINDS}
    tests = [k for k in obj if k in _KINDS]
    if not kinds:
        raise _err(path, "expected a test: min/max, percentile_min, any_of, none_of or is")
    if len(kinds) > 1 or ("any_of" in obj and "none_of" in obj):
        raise _err(_join(path, tests[1]), f"{tests[0]!r} and {tests[1]!r} cannot be combined")
    kind = kinds.pop()
    common = {"field", "missing"}
    states = {"stale", "suspect"}
    allowed = {"range": {"min", "max", "not_meaningful"} | states,
               "percentile": {"percentile_min", "within", "not_meaningful"} | states,
               "set": {"any_of", "none_of"}, "flag": {"is"} | states}[kind] | common
    _keys(obj, path, {"field"}, allowed - {"field"})
    missing = _choice(obj.get("missing", "unknown"), _join(path, "missing"), POLICIES)
    stale = _choice(obj.get("stale", "unknown"), _join(path, "stale"), STATE_POLICIES)
    suspect = _choice(obj.get("suspect", "unknown"), _join(path, "suspect"), STATE_POLICIES)
    name = f.name
    if kind in ("range", "percentile"):
        if not f.is_numeric:
            raise _err(_join(path, "field"), f"{name!r} is not numeric ({f.unit}); use any_of/none_of or is")
        nm = _choice(obj.get("not_meaningful", "fail"), _join(path, "not_meaningful"), POLICIES)
        if kind == "range":
            lo = _number_value(obj["min"], _join(path, "min")) if obj.get("min") is not None else None
            hi = _number_value(obj["max"], _join(path, "max")) if obj.get("max") is not None else None
            if lo is None and hi is None:
                raise _err(path, "give at least one of min and max")
            if lo is not None and hi is not None and lo > hi:
                raise _err(_join(path, "min"), f"min {lo} is above max {hi}")
            return RangeCriterion(name, lo, hi, missing, nm, stale, suspect)  # type: ignore[arg-type]
        p = _number_value(obj["percentile_min"], _join(path, "percentile_min"))
        if not 0 <= p <= 100:
            raise _err(_join(path, "percentile_min"), f"expected 0 to 100, got {p}")
        within = _choice(obj.get("within", "universe"), _join(path, "within"), ("universe", "sector"))
        return PercentileCriterion(name, p, within, missing, nm, stale, suspect)  # type: ignore[arg-type]
    if kind == "set":
        if f.unit not in SET_UNITS:
            raise _err(_join(path, "field"), f"{name!r} is {f.unit}; any_of/none_of need a category, "
                       "text or themes field")
        key = "any_of" if "any_of" in obj else "none_of"
        items = obj[key]
        if not isinstance(items, list) or not items or not all(isinstance(i, str) and i.strip() for i in items):
            raise _err(_join(path, key), "expected a non-empty list of non-empty text values")
        if len(items) > 1000 or any(len(i) > 200 for i in items):
            raise _err(_join(path, key), "at most 1,000 values of up to 200 characters")
        return SetCriterion(name, tuple(items), key == "none_of", missing)  # type: ignore[arg-type]
    if f.unit != "bool":
        raise _err(_join(path, "field"), f"{name!r} is not a yes/no field; 'is' needs one")
    if not isinstance(obj["is"], bool):
        raise _err(_join(path, "is"), f"expected true or false, got {_kind(obj['is'])}")
    return FlagCriterion(name, obj["is"], missing, stale, suspect)  # type: ignore[arg-type]


def _sort(raw: Any, extra: dict[str, Field]) -> tuple[SortKey, ...]:
    if not isinstance(raw, list):
        raise _err("sort", f"expected a list of {{'field', 'descending'}} objects, got {_kind(raw)}")
    out = []
    for i, item in enumerate(raw):
        path = f"sort[{i}]"
        if not isinstance(item, dict):
            raise _err(path, f"expected an object, got {_kind(item)}")
        _keys(item, path, {"field"}, {"descending"})
        f = _field(item["field"], _join(path, "field"), extra)
        if f.unit == "tags":
            raise _err(_join(path, "field"), f"cannot sort by {f.name!r} (a list of tags)")
        desc = item.get("descending", False)
        if not isinstance(desc, bool):
            raise _err(_join(path, "descending"), f"expected true or false, got {_kind(desc)}")
        out.append(SortKey(f.name, desc))
    return tuple(out)


def _columns(raw: Any, extra: dict[str, Field]) -> tuple[str, ...]:
    if not isinstance(raw, list):
        raise _err("columns", f"expected a list of field names, got {_kind(raw)}")
    names = [_field(c, f"columns[{i}]", extra).name for i, c in enumerate(raw)]
    return tuple(dict.fromkeys(names))


def _score(raw: Any, extra: dict[str, Field]) -> Score:
    if not isinstance(raw, dict):
        raise _err("score", f"expected an object with 'weights', got {_kind(raw)}")
    _keys(raw, "score", {"weights"}, set())
    weights = raw["weights"]
    if not isinstance(weights, dict) or not weights:
        raise _err("score.weights", "expected a non-empty object {field: weight}")
    out = []
    for k, w in weights.items():
        path = f"score.weights.{k}"
        f = _field(k, path, extra)
        if not f.is_numeric:
            raise _err(path, f"{k!r} is not numeric")
        w = _number_value(w, path)
        if w == 0:
            raise _err(path, "a weight of 0 has no effect; remove the field or give a weight")
        out.append((f.name, w))
    return Score(tuple(out))


# --- writing -----------------------------------------------------------------------------------

def node_to_dict(node: Node) -> dict[str, Any]:
    """One criterion or group in the canonical JSON form (defaults omitted)."""
    if isinstance(node, Group):
        return {node.op: [node_to_dict(c) for c in node.children]}
    if isinstance(node, Not):
        return {"not": node_to_dict(node.child)}
    out: dict[str, Any] = {"field": node.field}
    if isinstance(node, RangeCriterion):
        if node.min is not None:
            out["min"] = node.min
        if node.max is not None:
            out["max"] = node.max
    elif isinstance(node, PercentileCriterion):
        out["percentile_min"] = node.percentile_min
        if node.within != "universe":
            out["within"] = node.within
    elif isinstance(node, SetCriterion):
        out["none_of" if node.exclude else "any_of"] = list(node.values)
    else:
        out["is"] = node.is_
    if node.missing != "unknown":
        out["missing"] = node.missing
    if isinstance(node, RangeCriterion | PercentileCriterion) and node.not_meaningful != "fail":
        out["not_meaningful"] = node.not_meaningful
    for state in ("stale", "suspect"):
        if getattr(node, state, "unknown") != "unknown":
            out[state] = getattr(node, state)
    return out


def screen_to_dict(screen: Screen) -> dict[str, Any]:
    """The canonical JSON document of ``screen`` (``json.dumps`` it to save)."""
    out: dict[str, Any] = {"version": SCREEN_VERSION, "name": screen.name}
    if screen.description:
        out["description"] = screen.description
    if screen.formulas:
        out["formulas"] = [formula_to_dict(f) for f in screen.formulas]
    out["universe"] = screen.universe
    out["match"] = screen.match
    out["criteria"] = [node_to_dict(c) for c in screen.criteria]
    if screen.sort:
        out["sort"] = [{"field": s.field, "descending": s.descending} for s in screen.sort]
    if screen.columns:
        out["columns"] = list(screen.columns)
    if screen.score is not None:
        out["score"] = {"weights": dict(screen.score.weights)}
    return out


def formula_to_dict(f: FormulaField) -> dict[str, Any]:
    """One formula in the canonical JSON form (empty label and unit omitted)."""
    out: dict[str, Any] = {"name": f.name, "expression": f.expression}
    if f.label:
        out["label"] = f.label
    if f.unit:
        out["unit"] = f.unit
    return out


def screen_to_json(screen: Screen) -> str:
    """Pretty JSON text of ``screen`` (stable key order, UTF-8 characters kept)."""
    return json.dumps(screen_to_dict(screen), indent=2, ensure_ascii=False) + "\n"


# --- describing --------------------------------------------------------------------------------

def _label(name: str) -> str:
    try:
        return catalog.get(name).label
    except KeyError:
        return name


def _fmt(name: str, x: float) -> str:
    try:
        unit = catalog.get(name).unit
    except KeyError:
        unit = ""
    return format_value(x, unit)


def describe(node: Node) -> str:
    """One plain sentence for a criterion or group, e.g. "Interest coverage ≥ 3.0x"."""
    try:
        return _describe_cached(node)
    except TypeError:  # a node built in code with a list inside is not hashable
        return _describe(node)


@lru_cache(maxsize=4096)  # nodes are frozen; the UI describes the same criteria on every re-screen
def _describe_cached(node: Node) -> str:
    return _describe(node)


def _describe(node: Node) -> str:
    if isinstance(node, Group):
        word = "all of" if node.op == "all" else "any of"
        return f"{word}: (" + "; ".join(describe(c) for c in node.children) + ")"
    if isinstance(node, Not):
        return f"not ({describe(node.child)})"
    label = _label(node.field)
    if isinstance(node, RangeCriterion):
        if node.min is not None and node.max is not None:
            text = f"{label} between {_fmt(node.field, node.min)} and {_fmt(node.field, node.max)}"
        elif node.min is not None:
            text = f"{label} ≥ {_fmt(node.field, node.min)}"
        else:
            text = f"{label} ≤ {_fmt(node.field, node.max)}"  # type: ignore[arg-type]
    elif isinstance(node, PercentileCriterion):
        where = "its sector" if node.within == "sector" else "the universe"
        text = f"{label} at or above the {node.percentile_min:g}th percentile of {where}"
    elif isinstance(node, SetCriterion):
        verb = "include" if node.field == "themes" else "is"
        text = f"{label} {verb} {'none' if node.exclude else 'any'} of {', '.join(node.values)}"
    else:
        text = f"{label}: {'yes' if node.is_ else 'no'}"
    notes = []
    if node.missing != "unknown":
        notes.append(f"missing {'passes' if node.missing == 'pass' else 'fails'}")
    nm = getattr(node, "not_meaningful", "fail")
    if nm != "fail":
        notes.append(f"n.m. {'passes' if nm == 'pass' else 'is unknown'}")
    for state in ("stale", "suspect"):
        policy = getattr(node, state, "unknown")
        if policy != "unknown":
            notes.append(f"{state} {'values are used' if policy == 'use' else policy + 's'}")
    return text + (f" ({'; '.join(notes)})" if notes else "")

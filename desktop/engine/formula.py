"""Formula fields (issue #16): a user-defined field computed from catalogue fields.

Grammar (nothing else is accepted)::

    expr   := term (("+" | "-") term)*
    term   := unary (("*" | "/") unary)*
    unary  := ("+" | "-") unary | atom
    atom   := number | field | func "(" expr ("," expr)* ")" | "(" expr ")"
    func   := min | max | abs | log        (min/max take two or more arguments, abs/log one)

The text is parsed by Python's own parser (``ast.parse(mode="eval")``) and the tree is then walked
with a strict whitelist of node types: there is no ``eval``, no attribute access, no subscripts, no
strings, no keyword arguments, and names resolve only to catalogue fields or the four functions.
Every error names its 1-based position in the formula ("position 7: unknown field 'fcf'; did you
mean free_cash_flow?"). Limits keep hostile input cheap: :data:`MAX_LENGTH` characters,
:data:`MAX_DEPTH` levels of nesting, :data:`MAX_NODES` terms.

Evaluation is vectorised over the universe and carries states, never numbers, for what is not
known: a missing input makes the result missing, a not-meaningful one (or a division by zero, or the
log of a number <= 0) not meaningful, a stale or suspect input keeps the number and passes its state
on (the worst wins: n.m. > missing > suspect > stale > ok).
"""

from __future__ import annotations

import ast
import difflib
import math
import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from desktop.engine.field import Field
from desktop.engine.rules import MISSING, NOT_MEANINGFUL, OK, STALE, SUSPECT

MAX_LENGTH = 1000
MAX_DEPTH = 24
MAX_NODES = 200
NAME_RE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
FUNCTIONS = {"min": (2, 16), "max": (2, 16), "abs": (1, 1), "log": (1, 1)}
# Short names analysts type, read as the catalogue field (the formula keeps the text as written).
ALIASES = {"fcf": "free_cash_flow", "ocf": "operating_cash_flow", "capex": "capital_expenditure",
           "ev": "enterprise_value", "mcap": "market_cap", "ebitda_margin_pct": "ebitda_margin",
           "pe": "pe_ratio", "ps": "ps_ratio", "pb": "pb_ratio", "debt": "total_debt", "equity": "total_equity",
           "assets": "total_assets", "sales": "revenue"}
_ALLOWED = re.compile(r"[A-Za-z0-9_. \t+\-*/(),]")
_OPS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/"}
# Worse states win when inputs combine: ok < stale < suspect < missing < n.m.
_RANK = np.array([0, 3, 4, 1, 2], dtype=np.int8)  # indexed by state (OK, MISSING, NOT_MEANINGFUL, STALE, SUSPECT)
Lookup = Callable[[str], Field | None]
Values = Callable[[str], tuple[np.ndarray, np.ndarray]]


class FormulaError(ValueError):
    """A formula that cannot be used; ``position`` is 1-based (0: the formula as a whole)."""

    def __init__(self, message: str, position: int = 0) -> None:
        self.message, self.position = message, position
        super().__init__(f"position {position}: {message}" if position else message)


@dataclass(frozen=True)
class Formula:
    """A parsed formula: its text, the fields it reads (in order of appearance), its unit."""

    text: str
    tree: tuple
    fields: tuple[str, ...]
    unit: str

    def evaluate(self, values: Values, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Values (float64), states (int8) and the cause of each not-meaningful result created by
        the formula itself (object: "division by zero", "log of a number <= 0" or "").

        Args:
            values: ``values(field) -> (float64 values, int8 states)`` of length ``n``, e.g.
                ``StockTable.numeric``.
            n: the number of securities.
        """
        v, st, why = _eval(self.tree, values, n)
        shown = (st == OK) | (st == STALE) | (st == SUSPECT)
        bad = shown & np.isnan(v)  # inf - inf, 0 x inf: no number, although every input had one
        why = np.where(bad & (why == ""), "the formula gives no number here", why)
        st = np.where(bad, NOT_MEANINGFUL, st).astype(np.int8)
        v = np.where((st == MISSING) | (st == NOT_MEANINGFUL), np.nan, v)
        return v, st, why


def parse(text: str, lookup: Lookup, known: list[str] | None = None, others: tuple[str, ...] = ()) -> Formula:
    """Parse ``text``; ``lookup(name)`` gives a catalogue field or None.

    Args:
        text: the formula.
        lookup: resolves field names (numeric fields only may appear).
        known: names to suggest from when a name is unknown.
        others: names of the other formulas of the screen (a formula cannot read them).

    Raises:
        FormulaError: the first problem, with its position.
    """
    if not isinstance(text, str) or not text.strip():
        raise FormulaError("the formula is empty")
    if len(text) > MAX_LENGTH:
        raise FormulaError(f"the formula is {len(text):,} characters; the limit is {MAX_LENGTH:,}")
    _prescan(text)
    try:
        node = ast.parse(text.strip(), mode="eval").body
    except SyntaxError as exc:
        raise FormulaError(_syntax_message(exc, text), _syntax_position(exc, text)) from None
    except (RecursionError, MemoryError):
        raise FormulaError(f"nested too deeply (the limit is {MAX_DEPTH} levels)") from None
    offset = len(text) - len(text.lstrip())  # ast positions count from the stripped text
    walker = _Walker(lookup, known or [], offset, others)
    tree = walker.walk(node, 0)
    if not walker.fields:
        raise FormulaError("the formula uses no field (a constant is not a column)")
    unit = _unit(tree, lookup)
    return Formula(text, tree, tuple(dict.fromkeys(walker.fields)), "number" if unit == "scalar" else unit)


def _prescan(text: str) -> None:
    """Characters and nesting depth, checked before Python's parser sees the text."""
    depth = run = 0
    for i, ch in enumerate(text, start=1):
        if not _ALLOWED.fullmatch(ch):
            shown = ch if ch.isprintable() else f"U+{ord(ch):04X}"
            raise FormulaError(f"the character {shown!r} is not allowed (numbers, field names, + - * /, "
                               "parentheses and commas only)", i)
        if ch == "(":
            depth += 1
            if depth > MAX_DEPTH:
                raise FormulaError(f"parentheses nested deeper than {MAX_DEPTH} levels", i)
        elif ch == ")":
            depth -= 1
        if ch in "+-":
            run += 1
            if run > MAX_DEPTH:
                raise FormulaError(f"more than {MAX_DEPTH} signs in a row", i)
        elif not ch.isspace():
            run = 0
        if text.startswith("**", i - 1):
            raise FormulaError("'**' (power) is not allowed; use log() and the four operations", i)


def _position(exc: SyntaxError, text: str) -> int:
    offset = len(text) - len(text.lstrip())
    return max(1, min(len(text), (exc.offset or 1) + offset))


def _syntax_message(exc: SyntaxError, text: str) -> str:
    pos = _position(exc, text)
    body = text.rstrip()
    depth = 0
    for ch in text:
        depth += (ch == "(") - (ch == ")")
        if depth < 0:
            return "a closing parenthesis has no opening one"
    if depth > 0:
        return "a parenthesis is not closed"
    if "forgot a comma" in str(exc.msg):
        return "an operator (+ - * /) or a comma is missing between two terms"
    if body.endswith(("+", "-", "*", "/", ",", "(")) or not exc.offset or pos > len(body):
        return "the formula ends too early (an operator or argument is missing)"
    before = text[:pos - 1].rstrip()
    if before and (before[-1].isalnum() or before[-1] in "_)") and (text[pos - 1].isalnum() or text[pos - 1] in "_("):
        return f"unexpected {text[pos - 1]!r}: an operator (+ - * /) or a comma is missing before it"
    return f"unexpected {text[pos - 1]!r} (expected a number, a field, a function or a parenthesis)"


def _syntax_position(exc: SyntaxError, text: str) -> int:
    opened: list[int] = []
    for i, ch in enumerate(text, start=1):
        if ch == "(":
            opened.append(i)
        elif ch == ")":
            if not opened:
                return i  # a closing parenthesis without an opening one
            opened.pop()
    if opened:
        return opened[-1]  # the parenthesis that is not closed
    body = text.rstrip()
    if body.endswith(("+", "-", "*", "/", ",", "(")) and "unmatched" not in str(exc.msg):
        return len(body)
    return _position(exc, text)


class _Walker:
    def __init__(self, lookup: Lookup, known: list[str], offset: int, others: tuple[str, ...]) -> None:
        self.lookup, self.known, self.offset, self.others = lookup, known, offset, others
        self.fields: list[str] = []
        self.nodes = 0

    def pos(self, node: ast.AST) -> int:
        return int(getattr(node, "col_offset", 0)) + 1 + self.offset

    def walk(self, node: ast.AST, depth: int) -> tuple:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise FormulaError(f"the formula has more than {MAX_NODES} terms", self.pos(node))
        if depth > MAX_DEPTH:
            raise FormulaError(f"nested deeper than {MAX_DEPTH} levels", self.pos(node))
        if isinstance(node, ast.Constant):
            if isinstance(node.value, bool) or not isinstance(node.value, int | float) \
                    or not math.isfinite(float(node.value)):
                raise FormulaError(f"{node.value!r} is not a number a formula can use", self.pos(node))
            return ("num", float(node.value))
        if isinstance(node, ast.Name):
            return self.field(node)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
            inner = self.walk(node.operand, depth + 1)
            return ("neg", inner) if isinstance(node.op, ast.USub) else inner
        if isinstance(node, ast.BinOp) and type(node.op) in _OPS:
            # A chain a + b + c nests to the left: it is long, not deep.
            left, right = self.walk(node.left, depth), self.walk(node.right, depth + 1)
            if isinstance(node.op, ast.Div) and _constant(right) == 0.0:
                raise FormulaError("division by zero", self.pos(node.right))
            return ("bin", _OPS[type(node.op)], left, right)
        if isinstance(node, ast.Call):
            return self.call(node, depth)
        raise FormulaError(_refusal(node), self.pos(node))

    def field(self, node: ast.Name) -> tuple:
        name = node.id
        if self.lookup(name) is None and name in ALIASES:
            name = ALIASES[name]
        if name in FUNCTIONS:
            raise FormulaError(f"{name} is a function: write {name}(...)", self.pos(node))
        f = self.lookup(name)
        if f is None and name in self.others:
            raise FormulaError(f"{name!r} is another formula; a formula reads catalogue fields only", self.pos(node))
        if f is None:
            close = difflib.get_close_matches(name, self.known, n=3, cutoff=0.6)
            hint = f"; did you mean {' or '.join(close)}?" if close else " (field names are listed in docs/metrics.md)"
            raise FormulaError(f"unknown field {name[:60]!r}{hint}", self.pos(node))
        if not (f.is_numeric or f.unit == "bool"):
            raise FormulaError(f"{name!r} is {f.unit}, not a number", self.pos(node))
        self.fields.append(name)
        return ("field", name)

    def call(self, node: ast.Call, depth: int) -> tuple:
        if not isinstance(node.func, ast.Name):
            if isinstance(node.func, ast.Attribute):
                raise FormulaError(_refusal(node.func), self.pos(node.func))
            raise FormulaError("an operator (+ - * /) is missing before '('", self.pos(node.func))
        name = node.func.id
        if name not in FUNCTIONS:
            what = "a field, not a function" if self.lookup(name) is not None else "not a function"
            raise FormulaError(f"{name[:60]!r} is {what} (functions: {', '.join(FUNCTIONS)})", self.pos(node))
        if node.keywords or any(isinstance(a, ast.Starred) for a in node.args):
            raise FormulaError(f"{name}() takes plain arguments only", self.pos(node))
        low, high = FUNCTIONS[name]
        if not low <= len(node.args) <= high:
            need = f"{low}" if low == high else f"{low} to {high}"
            raise FormulaError(f"{name}() takes {need} argument{'s' * (high > 1)}, not {len(node.args)}",
                               self.pos(node))
        return ("call", name, tuple(self.walk(a, depth + 1) for a in node.args))


def _refusal(node: ast.AST) -> str:
    if isinstance(node, ast.Attribute):
        return "attribute access ('.') is not allowed"
    if isinstance(node, ast.BinOp):
        return "only + - * / are allowed"
    if isinstance(node, ast.Compare | ast.BoolOp):
        return "comparisons and and/or are not allowed (use criteria for tests)"
    if isinstance(node, ast.Tuple):
        return "a comma outside a function's arguments"
    return f"{type(node).__name__.lower()} is not allowed in a formula"


def _constant(tree: tuple) -> float | None:
    """The value of a subtree made only of numbers (None when it reads a field)."""
    kind = tree[0]
    if kind == "num":
        return float(tree[1])
    if kind == "neg":
        inner = _constant(tree[1])
        return None if inner is None else -inner
    if kind == "bin":
        a, b = _constant(tree[2]), _constant(tree[3])
        if a is None or b is None or (tree[1] == "/" and b == 0.0):
            return None
        return {"+": a + b, "-": a - b, "*": a * b, "/": a / b if b else math.nan}[tree[1]]
    return None


def _worse(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.where(_RANK[a] >= _RANK[b], a, b).astype(np.int8)


def _eval(tree: tuple, values: Values, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    kind = tree[0]
    if kind == "field":
        v, st = values(tree[1])
        return v, st, np.full(n, "", dtype=object)
    if kind == "num":
        return np.full(n, tree[1]), np.zeros(n, dtype=np.int8), np.full(n, "", dtype=object)
    if kind == "neg":
        v, st, why = _eval(tree[1], values, n)
        return -v, st, why
    if kind == "bin":
        a, sa, wa = _eval(tree[2], values, n)
        b, sb, wb = _eval(tree[3], values, n)
        st = _worse(sa, sb)
        why = np.where(wa != "", wa, wb)
        with np.errstate(all="ignore"):
            if tree[1] == "+":
                v = a + b
            elif tree[1] == "-":
                v = a - b
            elif tree[1] == "*":
                v = a * b
            else:
                zero = (b == 0) & ~np.isnan(a)
                v = np.where(zero, np.nan, a / np.where(zero, 1.0, b))
                st, why = _nm(st, why, zero, "division by zero")
        return v, st, why
    name, args = tree[1], tree[2]
    parts = [_eval(a, values, n) for a in args]
    v, st, why = parts[0]
    if name in ("min", "max"):
        for pv, ps, pw in parts[1:]:
            v = np.fmin(v, pv) if name == "min" else np.fmax(v, pv)
            st, why = _worse(st, ps), np.where(why != "", why, pw)
        return v, st, why
    if name == "abs":
        return np.abs(v), st, why
    bad = (v <= 0) & ~np.isnan(v)
    with np.errstate(all="ignore"):
        out = np.where(bad, np.nan, np.log(np.where(bad, 1.0, v)))
    st, why = _nm(st, why, bad, "log of a number <= 0")
    return out, st, why


def _nm(st: np.ndarray, why: np.ndarray, mask: np.ndarray, text: str) -> tuple[np.ndarray, np.ndarray]:
    """Mark ``mask`` rows not meaningful because of the formula (unless already missing or n.m.)."""
    hit = mask & (st != MISSING) & (st != NOT_MEANINGFUL)
    return np.where(hit, NOT_MEANINGFUL, st).astype(np.int8), np.where(hit, text, why)


def _unit(tree: tuple, lookup: Lookup) -> str:
    """The result's unit: amounts add to amounts, a quotient of one unit is a ratio, a multiple by
    a number keeps the unit; anything else is a plain number."""
    kind = tree[0]
    if kind == "num":
        return "scalar"
    if kind == "field":
        f = lookup(tree[1])
        return "number" if f is None or f.unit == "bool" else f.unit
    if kind == "neg":
        return _unit(tree[1], lookup)
    if kind == "call":
        units = {_unit(a, lookup) for a in tree[2]} - {"scalar"}
        if tree[1] == "log":
            return "number"
        return units.pop() if len(units) == 1 else ("scalar" if not units else "number")
    a, b = _unit(tree[2], lookup), _unit(tree[3], lookup)
    op = tree[1]
    if op in "+-":
        return a if a == b or b == "scalar" else (b if a == "scalar" else "number")
    if op == "*":
        return a if b == "scalar" else (b if a == "scalar" else "number")
    if a == b and a != "scalar":
        return "ratio"
    return a if b == "scalar" else "number"

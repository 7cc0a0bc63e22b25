"""Parse an SEC EDGAR ``companyfacts`` body into dated statement rows (issue #14). Pure: no I/O.

A companyfacts body (``https://data.sec.gov/api/xbrl/companyfacts/CIK##########.json``, or one member
of the nightly ``companyfacts.zip``) lists every fact a company ever reported, per concept and unit:
``{"start"?, "end", "val", "accn", "fy", "fp", "form", "filed", "frame"?}``. This module turns them into
rows of :data:`desktop.engine.dataset.HISTORY_COLUMNS`:

* **Periods come from ``start``/``end``**, never from ``fy``/``fp`` (those describe the filing, and a
  10-K reports the prior years too). A fiscal year is a duration of 350-380 days; its balance sheet
  is the instant at its end. ``fiscal_year`` is the year of the period's end (a 52/53-week year
  ending in the first week of January belongs to the year before).
* **TTM rows** at every quarter end that is not a fiscal-year end: durations
  ``FY + YTD - prior-year YTD`` (one concept for all three terms), balance at the quarter end. This
  is the sum of the latest four quarters, the missing Q4 being ``FY - nine-month YTD``
  (:func:`quarters` shows the discrete quarters).
* **Concept chains** come from ``resources/sec_concepts.toml`` and are resolved per period, with the
  synonyms ranked by the most recent period each one reports, then by the chain's order (the file
  documents the rule, and the debt assembly rule).
* **Point in time**: for each period the row *as first filed* (only facts filed up to the first
  filing that reported the period, ``filed`` = that date) and, when a later filing changed or added
  a value, the row *as latest restated* (``filed`` = the latest filing date among the facts it
  uses). The engine takes the most recently filed row known at a date.

Dates are handled as ISO strings (``"2026-01-31"``), which order like dates, until the frame is built.
"""

from __future__ import annotations

import bisect
import json
import math
import tomllib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from functools import cache
from typing import Any

import pandas as pd

from desktop.data._text import now_utc, observations_frame
from desktop.data.source import SourceData
from desktop.engine.dataset import STATEMENT_LINES, history_frame
from desktop.errors import InputError
from desktop.resources import resource_path

SOURCE = "sec"
TAXONOMIES = ("us-gaap", "ifrs-full")
UNIT = "USD"
ANNUAL_DAYS = (350, 380)  # end - start of a fiscal year (52/53-week years included)
QUARTER_DAYS = (80, 100)
YTD_CLASSES = ((80, 100), (170, 200), (260, 290))  # 3-, 6- and 9-month year-to-date durations
_FY_START_SLACK = 10  # days between a fiscal year's end + 1 and the next YTD's start
_YEAR_SLACK = 10  # days around 365 between a quarter end and the same quarter a year before
_LATEST = "9999-12-31"
DEBT_LINES = ("total_debt", "current_debt", "long_term_debt")


@dataclass(frozen=True)
class Chain:
    """One statement line's or debt component's synonyms (see ``resources/sec_concepts.toml``)."""

    name: str
    kind: str  # "duration" | "instant"
    sign: float
    concepts: tuple[tuple[str, str], ...]  # (taxonomy, concept): synonyms, then fallbacks
    tiers: tuple[int, ...] = ()  # per concept: 0 a synonym, 1 a fallback


@dataclass(frozen=True)
class ConceptTable:
    lines: tuple[Chain, ...]
    debt: dict[str, Chain]


@cache
def concept_table() -> ConceptTable:
    """The chains of ``resources/sec_concepts.toml`` (read once)."""
    path = resource_path("sec_concepts.toml")
    return parse_concept_table(path.read_text(encoding="utf-8"), str(path))


def parse_concept_table(text: str, origin: str) -> ConceptTable:
    """Validate the concept table's TOML text.

    Raises:
        InputError: malformed TOML, an unknown line, kind or taxonomy.
    """
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"not valid TOML ({exc})", path=origin) from None

    def chain(name: str, spec: Any, section: str) -> Chain:
        where = f"{section}.{name}"
        if not isinstance(spec, dict):
            raise InputError("expected a table", path=origin, field=where)
        kind = spec.get("kind")
        if kind not in ("duration", "instant"):
            raise InputError(f"kind must be 'duration' or 'instant', not {kind!r}", path=origin, field=where)
        sign = spec.get("sign", 1)
        if sign not in (1, -1):
            raise InputError(f"sign must be 1 or -1, not {sign!r}", path=origin, field=where)
        unknown = set(spec) - {"kind", "sign", "fallback", *TAXONOMIES}
        if unknown:
            raise InputError(f"unknown keys {sorted(unknown)}", path=origin, field=where)
        concepts: list[tuple[str, str]] = []
        for taxonomy in TAXONOMIES:
            names = spec.get(taxonomy, [])
            if not isinstance(names, list) or not all(isinstance(n, str) and n for n in names):
                raise InputError("expected a list of concept names", path=origin, field=f"{where}.{taxonomy}")
            concepts.extend((taxonomy, n) for n in names)
        if not concepts:
            raise InputError("no concepts listed", path=origin, field=where)
        tiers = [0] * len(concepts)
        fallback = spec.get("fallback", [])
        if not isinstance(fallback, list):
            raise InputError("expected a list of 'taxonomy:Concept'", path=origin, field=f"{where}.fallback")
        for item in fallback:
            taxonomy, _, concept = str(item).partition(":")
            if taxonomy not in TAXONOMIES or not concept:
                raise InputError(f"{str(item)[:60]!r} is not 'us-gaap:Concept' or 'ifrs-full:Concept'", path=origin,
                                 field=f"{where}.fallback")
            concepts.append((taxonomy, concept))
            tiers.append(1)
        return Chain(name, kind, float(sign), tuple(concepts), tuple(tiers))

    lines = doc.get("lines", {})
    for name in lines:
        if name not in STATEMENT_LINES or name in DEBT_LINES or name == "free_cash_flow":
            raise InputError(f"{name!r} is not a statement line read from SEC facts", path=origin,
                             field=f"lines.{name}")
    parsed_lines = tuple(chain(n, s, "lines") for n, s in lines.items())
    debt = doc.get("debt", {})
    expected = {"total", "long_term_total", "noncurrent", "current_long_term", "short_term", "debt_current"}
    if set(debt) != expected:
        raise InputError(f"the debt components must be exactly {sorted(expected)}", path=origin, field="debt")
    return ConceptTable(lines=parsed_lines, debt={n: chain(n, s, "debt") for n, s in debt.items()})


# ---------------------------------------------------------------------------------------------------
# Facts of one concept


@dataclass(frozen=True)
class Fact:
    value: float
    filed: str
    form: str
    accn: str
    since: str = ""  # the first filing date that reported this same value for this period


class _Concept:
    """The USD facts of one concept, indexed by period and by filing date."""

    def __init__(self, taxonomy: str, name: str) -> None:
        self.taxonomy = taxonomy
        self.name = name
        self.by_key: dict[tuple[str | None, str], list[Fact]] = {}
        self.annual_by_end: dict[str, list[tuple[str | None, str]]] = {}
        self.ends: dict[str, list[tuple[str | None, str]]] = {}  # period end -> keys
        self._filed: list[str] = []  # sorted filing dates
        self._max_end: list[str] = []  # running max period end of the facts filed up to each date

    @property
    def label(self) -> str:
        return f"{self.taxonomy}:{self.name}"

    def add(self, start: str | None, end: str, fact: Fact) -> None:
        self.by_key.setdefault((start, end), []).append(fact)

    def finish(self) -> None:
        pairs: list[tuple[str, str]] = []
        for (start, end), facts in self.by_key.items():
            facts.sort(key=lambda f: f.filed)
            self.ends.setdefault(end, []).append((start, end))
            seen: dict[float, str] = {}
            for i, f in enumerate(facts):
                facts[i] = Fact(f.value, f.filed, f.form, f.accn, seen.setdefault(f.value, f.filed))
            if start is not None and _within(_days(start, end), ANNUAL_DAYS):
                self.annual_by_end.setdefault(end, []).append((start, end))
            pairs.extend((f.filed, end) for f in facts)
        pairs.sort()
        running = ""
        for filed, end in pairs:
            running = max(running, end)
            self._filed.append(filed)
            self._max_end.append(running)

    def latest_end(self, known_at: str) -> str | None:
        """The most recent period end among the facts filed by ``known_at``."""
        i = bisect.bisect_right(self._filed, known_at)
        return self._max_end[i - 1] if i else None

    def at(self, key: tuple[str | None, str], known_at: str) -> Fact | None:
        """The value of one period as known at ``known_at`` (the latest filing by then)."""
        facts = self.by_key.get(key)
        if not facts:
            return None
        best = None
        for f in facts:
            if f.filed > known_at:
                break
            best = f
        return best

    def annual(self, end: str, known_at: str) -> Fact | None:
        best: Fact | None = None
        for key in self.annual_by_end.get(end, ()):
            f = self.at(key, known_at)
            if f is not None and (best is None or f.filed > best.filed):
                best = f
        return best

    def duration_ending(self, end: str, start_near: str, known_at: str) -> tuple[Fact, int] | None:
        """The duration ending ``end`` that starts within a few days of ``start_near``, and its length."""
        best: tuple[Fact, int] | None = None
        for start, e in self.ends.get(end, ()):
            if start is None or abs(_days(start_near, start)) > _FY_START_SLACK:
                continue
            f = self.at((start, e), known_at)
            if f is not None and (best is None or f.filed > best[0].filed):
                best = (f, _days(start, e))
        return best


@cache
def _date(iso: str) -> date:
    return date.fromisoformat(iso)


def _days(start: str, end: str) -> int:
    return (_date(end) - _date(start)).days


def _within(days: int, bounds: tuple[int, int]) -> bool:
    return bounds[0] <= days <= bounds[1]


def _plus_days(iso: str, n: int) -> str:
    return (_date(iso) + timedelta(days=n)).isoformat()


def fiscal_year_label(period_end: str) -> int:
    """The fiscal year a period ending ``period_end`` belongs to (52/53-week years ending Jan 1-7 -> prior year)."""
    d = _date(period_end)
    return d.year - 1 if d.month == 1 and d.day <= 7 else d.year


# ---------------------------------------------------------------------------------------------------
# The parsed company


@dataclass
class CompanyFacts:
    """One company's facts, parsed.

    Attributes:
        cik: ten-digit zero-padded string (the company's identity).
        name: ``entityName``.
        rows: statement rows (dicts with the STATEMENT_KEYS but ``symbol``, plus the lines).
        concepts: for each row (by ``(period_type, period_end, filed)``), the concept each line came
            from (``"us-gaap:Revenues"``, or ``"derived: ..."``).
        shares_outstanding: (value, end date) of dei:EntityCommonStockSharesOutstanding, if reported.
        warnings: things the user should know (non-USD filer, malformed facts skipped).
        facts_read: the number of facts read.
    """

    cik: str
    name: str
    rows: list[dict[str, Any]] = field(default_factory=list)
    concepts: dict[tuple[str, str, str], dict[str, str]] = field(default_factory=dict)
    shares_outstanding: tuple[float, str] | None = None
    warnings: list[str] = field(default_factory=list)
    facts_read: int = 0
    _index: dict[tuple[str, str], _Concept] = field(default_factory=dict, repr=False)
    fy_ends: list[str] = field(default_factory=list, repr=False)


def load_body(body: bytes | str | Mapping[str, Any], origin: str) -> dict[str, Any]:
    """Decode a companyfacts body to its dict, keeping only the concepts the chains name.

    A body is scanned concept by concept (:func:`_filtered`), so memory holds the text plus one
    concept at a time, not the whole document as Python objects (a companyfacts body grows about six
    times when fully decoded; the bulk import must stay under 500 MB whatever the member).

    Raises:
        InputError: not JSON, or not a companyfacts document.
    """
    if isinstance(body, Mapping):
        doc: Any = body
    else:
        if isinstance(body, bytes | bytearray):
            try:
                text = bytes(body).decode("utf-8-sig")
            except UnicodeDecodeError as exc:
                raise InputError(f"not UTF-8 text (byte {exc.start})", path=origin) from None
        else:
            text = body
        try:
            doc = _filtered(text, _wanted())
        except json.JSONDecodeError as exc:
            if exc.pos >= len(text.rstrip()):
                raise InputError("the JSON document ends early: the body is truncated", path=origin,
                                 line=exc.lineno) from None
            raise InputError(f"not a JSON document ({exc.msg} at column {exc.colno})", path=origin,
                             line=exc.lineno) from None
    if not isinstance(doc, Mapping) or not isinstance(doc.get("facts"), Mapping):
        raise InputError("not an SEC companyfacts document (no 'facts' object)", path=origin, field="facts")
    return dict(doc)


@cache
def _wanted() -> frozenset[tuple[str, str]]:
    table = concept_table()
    names = {c for chain in (*table.lines, *table.debt.values()) for c in chain.concepts}
    return frozenset(names | {("dei", "EntityCommonStockSharesOutstanding")})


_DECODER = json.JSONDecoder()
_WS = " \t\n\r"


def _skip(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in _WS:
        pos += 1
    return pos


def _scan_object(text: str, pos: int, on_member: Callable[[str, int], int]) -> int:
    """Walk the JSON object at ``pos``: ``on_member(key, value_pos)`` returns where the value ends.

    Returns the position after the closing brace. Raises JSONDecodeError on malformed text.
    """
    try:
        pos = _skip(text, pos)
        if text[pos] != "{":
            raise json.JSONDecodeError("expected an object", text, pos)
        pos = _skip(text, pos + 1)
        if text[pos] == "}":
            return pos + 1
        while True:
            if text[pos] != '"':
                raise json.JSONDecodeError("expected a key", text, pos)
            key, pos = _DECODER.raw_decode(text, pos)
            pos = _skip(text, pos)
            if text[pos] != ":":
                raise json.JSONDecodeError("expected ':'", text, pos)
            pos = _skip(text, on_member(key, _skip(text, pos + 1)))
            if text[pos] == ",":
                pos = _skip(text, pos + 1)
            elif text[pos] == "}":
                return pos + 1
            else:
                raise json.JSONDecodeError("expected ',' or '}'", text, pos)
    except IndexError:
        raise json.JSONDecodeError("the document ends early (truncated)", text, len(text)) from None


def _filtered(text: str, wanted: frozenset[tuple[str, str]]) -> Any:
    """The companyfacts document with only the ``wanted`` (taxonomy, concept) pairs kept.

    Each concept is decoded on its own and dropped at once unless wanted, so memory never holds more
    than one unwanted concept (the standard decoder would build the whole document first).
    """
    start = _skip(text, 0)
    if not text.startswith("{", start):
        return json.loads(text)  # not an object: the caller reports what it is
    doc: dict[str, Any] = {}

    def top(key: str, pos: int) -> int:
        if key != "facts" or not text.startswith("{", pos):
            doc[key], end = _DECODER.raw_decode(text, pos)
            return end
        facts: dict[str, Any] = {}

        def taxonomy(tax: str, tpos: int) -> int:
            if not text.startswith("{", tpos):
                facts[tax], end = _DECODER.raw_decode(text, tpos)
                return end
            kept: dict[str, Any] = {}

            def concept(name: str, cpos: int) -> int:
                value, end = _DECODER.raw_decode(text, cpos)
                if (tax, name) in wanted:
                    kept[name] = value
                return end

            end = _scan_object(text, tpos, concept)
            facts[tax] = kept
            return end

        end = _scan_object(text, pos, taxonomy)
        doc["facts"] = facts
        return end

    end = _skip(text, _scan_object(text, start, top))
    if end != len(text):
        raise json.JSONDecodeError("extra data after the document", text, end)
    return doc


def normalise_cik(value: Any, origin: str = "") -> str:
    """A CIK as the ten-digit zero-padded string (``320193`` or ``"0000320193"`` -> ``"0000320193"``).

    Raises:
        InputError: not a positive integer of at most ten digits.
    """
    text = str(value).strip()
    if isinstance(value, bool) or not text.isdigit() or len(text) > 10 or int(text) == 0:
        raise InputError(f"{str(value)[:20]!r} is not a CIK", path=origin or None, field="cik")
    return text.zfill(10)


def parse_companyfacts(body: bytes | str | Mapping[str, Any], origin: str = "companyfacts",
                       keep_facts: bool = True) -> CompanyFacts:
    """Parse one companyfacts body into dated statement rows (see the module docstring).

    ``keep_facts=False`` drops the per-concept fact index once the rows are built (:func:`quarters`
    needs it): a bulk import of thousands of companies keeps only their rows.

    Raises:
        InputError: the body is not a companyfacts document (names ``origin`` and the field).
    """
    doc = load_body(body, origin)
    cik = normalise_cik(doc.get("cik"), origin)
    name = str(doc.get("entityName") or "").strip()
    out = CompanyFacts(cik=cik, name=name)
    table = concept_table()
    wanted = {c for chain in (*table.lines, *table.debt.values()) for c in chain.concepts}
    facts = doc["facts"]
    bad = 0
    other_units: set[str] = set()
    for taxonomy in TAXONOMIES:
        group = facts.get(taxonomy)
        if not isinstance(group, Mapping):
            continue
        for concept_name, spec in group.items():
            if (taxonomy, concept_name) not in wanted or not isinstance(spec, Mapping):
                continue
            units = spec.get("units")
            if not isinstance(units, Mapping):
                bad += 1
                continue
            if UNIT not in units:
                other_units.update(str(u) for u in units)
                continue
            concept = _Concept(taxonomy, concept_name)
            for raw in units[UNIT] if isinstance(units[UNIT], list) else ():
                parsed = _fact(raw)
                if parsed is None:
                    bad += 1
                    continue
                start, end, fact = parsed
                concept.add(start, end, fact)
                out.facts_read += 1
            concept.finish()
            if concept.by_key:
                out._index[(taxonomy, concept_name)] = concept
    if bad:
        out.warnings.append(f"{origin}: {bad} malformed fact(s) skipped (no end, filed date or numeric value)")
    if other_units and not out._index:
        out.warnings.append(f"{origin}: CIK {cik} reports its statements in {', '.join(sorted(other_units))}, "
                            "not USD; SEC statements are read in USD only")
    out.shares_outstanding = _shares(facts.get("dei"))
    _build_rows(out, table)
    if not keep_facts:
        out._index = {}
    return out


def _fact(raw: Any) -> tuple[str | None, str, Fact] | None:
    if not isinstance(raw, Mapping):
        return None
    end, filed, val = raw.get("end"), raw.get("filed"), raw.get("val")
    start = raw.get("start")
    if not (isinstance(end, str) and isinstance(filed, str) and _iso(end) and _iso(filed)):
        return None
    if start is not None and not (isinstance(start, str) and _iso(start) and start <= end):
        return None
    if isinstance(val, bool) or not isinstance(val, int | float) or not math.isfinite(val):
        return None
    return start, end, Fact(float(val), filed, str(raw.get("form") or ""), str(raw.get("accn") or ""))


def _iso(text: str) -> bool:
    if len(text) != 10:
        return False
    try:
        _date(text)
    except ValueError:
        return False
    return True


def _shares(dei: Any) -> tuple[float, str] | None:
    """dei:EntityCommonStockSharesOutstanding at its latest date, summed over the classes of one filing."""
    if not isinstance(dei, Mapping):
        return None
    spec = dei.get("EntityCommonStockSharesOutstanding")
    units = spec.get("units") if isinstance(spec, Mapping) else None
    facts = units.get("shares") if isinstance(units, Mapping) else None
    if not isinstance(facts, list):
        return None
    parsed = [p for p in (_fact(f) for f in facts) if p is not None]
    if not parsed:
        return None
    end = max(p[1] for p in parsed)
    at_end = [p[2] for p in parsed if p[1] == end]
    latest = max(f.filed for f in at_end)
    accns = {f.accn for f in at_end if f.filed == latest}
    total = sum(f.value for f in at_end if f.filed == latest and f.accn in accns)
    return total, end


# ---------------------------------------------------------------------------------------------------
# Periods and rows


@dataclass(frozen=True)
class _Period:
    kind: str  # "FY" | "TTM"
    end: str
    fy_prev: str | None = None  # TTM: the fiscal year end before ``end``


def _periods(company: CompanyFacts, table: ConceptTable) -> list[_Period]:
    duration_concepts = [company._index[c] for ch in table.lines if ch.kind == "duration"
                         for c in ch.concepts if c in company._index]
    fy_ends = sorted({end for c in duration_concepts for end in c.annual_by_end})
    company.fy_ends = fy_ends
    periods = [_Period("FY", e) for e in fy_ends]
    quarter_ends: set[str] = set()
    for c in duration_concepts:
        for start, end in c.by_key:
            if start is not None and any(_within(_days(start, end), b) for b in YTD_CLASSES):
                quarter_ends.add(end)
    for q in sorted(quarter_ends):
        i = bisect.bisect_left(fy_ends, q)
        if i < len(fy_ends) and abs(_days(q, fy_ends[i])) <= _FY_START_SLACK:
            continue  # a fiscal year's end: the FY row covers it
        if i == 0:
            continue  # no fiscal year before this quarter: no TTM
        fy_prev = fy_ends[i - 1]
        if _days(fy_prev, q) > 300:
            continue  # the fiscal year before is missing (e.g. a transition period)
        periods.append(_Period("TTM", q, fy_prev))
    return periods


def _first_filed(company: CompanyFacts, period: _Period) -> str | None:
    """The date the period was first reported: the earliest filing with a duration for it.

    Only durations count (the fiscal year's 350-380 days, a quarter's year-to-date): a new registrant's
    first 10-Q repeats the prior year-end balance sheet, which is no report of that fiscal year.
    """
    bounds = (ANNUAL_DAYS,) if period.kind == "FY" else YTD_CLASSES
    best: str | None = None
    for concept in company._index.values():
        for start, end in concept.ends.get(period.end, ()):
            if start is not None and any(_within(_days(start, end), b) for b in bounds):
                first = concept.by_key[(start, end)][0].filed
                if best is None or first < best:
                    best = first
    return best


def _rank(company: CompanyFacts, chain: Chain, known_at: str) -> list[_Concept]:
    """The chain's concepts this company reports: synonyms before fallbacks; within each, the most
    recent period first (as known at ``known_at``), then the chain's order."""
    found = []
    for order, key in enumerate(chain.concepts):
        concept = company._index.get(key)
        if concept is None:
            continue
        latest = concept.latest_end(known_at)
        if latest is not None:
            tier = chain.tiers[order] if chain.tiers else 0
            found.append((-tier, latest, -order, concept))
    found.sort(key=lambda t: (t[0], t[1], t[2]), reverse=True)
    return [t[3] for t in found]


def _value(concept: _Concept, period: _Period, kind: str, known_at: str,
           ) -> tuple[float, list[Fact], str] | None:
    """One concept's value for a period as known at ``known_at``: (value, facts used, how)."""
    if kind == "instant":
        f = concept.at((None, period.end), known_at)
        return (f.value, [f], concept.label) if f is not None else None
    if period.kind == "FY":
        f = concept.annual(period.end, known_at)
        return (f.value, [f], concept.label) if f is not None else None
    terms = _ttm_terms([concept], period, known_at)
    if terms is None:
        return None
    return _ttm(terms, period)


def _ttm_terms(ranked: list[_Concept], period: _Period, known_at: str,
               ) -> tuple[tuple[Fact, _Concept], tuple[Fact, _Concept], tuple[Fact, _Concept]] | None:
    """FY before the quarter, YTD to the quarter and the prior year's YTD, each from the first ranked
    concept that has it."""
    assert period.fy_prev is not None
    fy = next(((f, c) for c in ranked if (f := c.annual(period.fy_prev, known_at)) is not None), None)
    start = _plus_days(period.fy_prev, 1)
    ytd = next(((got, c) for c in ranked if (got := c.duration_ending(period.end, start, known_at)) is not None),
               None)
    if fy is None or ytd is None:
        return None
    (ytd_fact, ytd_days), ytd_concept = ytd
    prior = next(((f, c) for c in ranked if (f := _prior_ytd(c, period, ytd_days, known_at)) is not None), None)
    if prior is None:
        return None
    return fy, (ytd_fact, ytd_concept), prior


def _ttm(terms: tuple[tuple[Fact, _Concept], ...], period: _Period) -> tuple[float, list[Fact], str]:
    (fy, c_fy), (ytd, c_ytd), (prior, c_prior) = terms
    labels = {c.label for c in (c_fy, c_ytd, c_prior)}
    name = next(iter(labels)) if len(labels) == 1 else f"{c_fy.label} / {c_ytd.label} / {c_prior.label}"
    return (fy.value + ytd.value - prior.value, [fy, ytd, prior],
            f"derived: {name} FY {period.fy_prev} + YTD {period.end} - prior-year YTD")


def _prior_ytd(concept: _Concept, period: _Period, ytd_days: int, known_at: str) -> Fact | None:
    best: Fact | None = None
    for (start, end) in concept.by_key:
        if start is None or abs(_days(end, period.end) - 365) > _YEAR_SLACK:
            continue
        if abs(_days(start, end) - ytd_days) > _FY_START_SLACK:
            continue
        f = concept.at((start, end), known_at)
        if f is not None and (best is None or f.filed > best.filed):
            best = f
    return best


def _resolve(company: CompanyFacts, chain: Chain, period: _Period, known_at: str,
             ) -> tuple[float, list[Fact], str] | None:
    ranked = _rank(company, chain, known_at)
    for concept in ranked:
        got = _value(concept, period, chain.kind, known_at)
        if got is not None:
            return got[0] * chain.sign, got[1], got[2]
    if period.kind == "TTM" and chain.kind == "duration" and len(ranked) > 1:
        # A company that changed tags mid-year (Alphabet's revenue, 2025) has no single concept with
        # all three terms; its synonyms measure the same line, so each term takes the first ranked one.
        terms = _ttm_terms(ranked, period, known_at)
        if terms is not None:
            value, facts, how = _ttm(terms, period)
            return value * chain.sign, facts, how
    return None


def _row(company: CompanyFacts, table: ConceptTable, period: _Period, known_at: str,
         ) -> tuple[dict[str, float], dict[str, str], list[Fact]]:
    values: dict[str, float] = {}
    how: dict[str, str] = {}
    used: list[Fact] = []
    for chain in table.lines:
        got = _resolve(company, chain, period, known_at)
        if got is not None:
            values[chain.name], facts, how[chain.name] = got
            used.extend(facts)
    debt = {name: _resolve(company, chain, period, known_at) for name, chain in table.debt.items()}
    for f in (d for d in debt.values() if d is not None):
        used.extend(f[1])
    values.update(_assemble_debt({k: (v[0] if v else None) for k, v in debt.items()}, how,
                                 {k: v[2] for k, v in debt.items() if v}))
    if "operating_cash_flow" in values and "capital_expenditure" in values:
        values["free_cash_flow"] = values["operating_cash_flow"] + values["capital_expenditure"]
        how["free_cash_flow"] = "derived: operating_cash_flow + capital_expenditure"
    return values, how, used


def _assemble_debt(d: dict[str, float | None], how: dict[str, str], src: dict[str, str]) -> dict[str, float]:
    """The DEBT rule of ``resources/sec_concepts.toml``: no component is counted twice."""
    out: dict[str, float] = {}
    total, ltt, nonc = d["total"], d["long_term_total"], d["noncurrent"]
    cur_lt, short, debt_cur = d["current_long_term"], d["short_term"], d["debt_current"]
    if nonc is not None:
        out["long_term_debt"] = nonc
        how["long_term_debt"] = src["noncurrent"]
    elif ltt is not None:
        out["long_term_debt"] = ltt - (cur_lt or 0.0)
        how["long_term_debt"] = f"derived: {src['long_term_total']} - current portion"
    if debt_cur is not None:
        out["current_debt"] = debt_cur
        how["current_debt"] = src["debt_current"]
    elif cur_lt is not None or short is not None:
        out["current_debt"] = (cur_lt or 0.0) + (short or 0.0)
        how["current_debt"] = "derived: " + " + ".join(src[k] for k in ("current_long_term", "short_term") if k in src)
    elif ltt is not None and nonc is not None:
        out["current_debt"] = ltt - nonc
        how["current_debt"] = f"derived: {src['long_term_total']} - {src['noncurrent']}"
    if total is not None:
        out["total_debt"] = total
        how["total_debt"] = src["total"]
    elif "long_term_debt" in out or "current_debt" in out:
        out["total_debt"] = out.get("long_term_debt", 0.0) + out.get("current_debt", 0.0)
        how["total_debt"] = "derived: long_term_debt + current_debt"
    return out


def _build_rows(company: CompanyFacts, table: ConceptTable) -> None:
    for period in _periods(company, table):
        first_at = _first_filed(company, period)
        if first_at is None:
            continue
        first, first_how, first_used = _row(company, table, period, first_at)
        latest, latest_how, latest_used = _row(company, table, period, _LATEST)
        if first:
            _emit(company, period, first_at, first, first_how, first_used)
        if latest and latest != first:
            # Dated when its figures were all public: a later filing that only repeats a value (a
            # proxy statement's pay-versus-performance table) does not make the row newer.
            filed = max(f.since for f in latest_used)
            if filed > first_at:
                _emit(company, period, filed, latest, latest_how, latest_used)


def _emit(company: CompanyFacts, period: _Period, filed: str, values: dict[str, float],
          how: dict[str, str], used: list[Fact]) -> None:
    # The form of the filing that made the row what it is (the newest figure in it).
    last = max((f for f in used if f.since <= filed), key=lambda f: f.since, default=None)
    fiscal_year = fiscal_year_label(period.end) if period.kind == "FY" else _date(period.end).year
    company.rows.append({"fiscal_year": fiscal_year, "period_end": period.end, "period_type": period.kind,
                         "filed": filed, "source": SOURCE, "form": last.form if last else None, **values})
    company.concepts[(period.kind, period.end, filed)] = how


def history_rows(companies: Iterable[tuple[str, CompanyFacts]]) -> pd.DataFrame:
    """The statement rows of (symbol, parsed company) pairs as a ``HISTORY_COLUMNS`` frame."""
    records = [{"symbol": symbol, **row} for symbol, company in companies for row in company.rows]
    return history_frame(pd.DataFrame.from_records(records)) if records else history_frame(pd.DataFrame())


def quarters(company: CompanyFacts, line: str, known_at: str = _LATEST) -> pd.DataFrame:
    """Discrete fiscal quarters of a duration line: reported 3-month facts, else YTD differences.

    Q2 = 6-month YTD - Q1 YTD, Q3 = 9-month YTD - 6-month YTD, Q4 = FY - 9-month YTD (Q4 is never
    reported on its own). One concept per fiscal year (the chain's first ranked concept that has the
    fiscal year). Columns: fiscal_year, quarter (1-4), period_end, value, concept.
    """
    table = concept_table()
    chain = next((c for c in table.lines if c.name == line), None)
    if chain is None or chain.kind != "duration":
        raise ValueError(f"{line!r} is not a duration line of the SEC concept table")
    records = []
    fy_ends = company.fy_ends
    for prev_end, fy_end in zip(fy_ends, fy_ends[1:], strict=False):
        start = _plus_days(prev_end, 1)
        for concept in _rank(company, chain, known_at):
            fy = concept.annual(fy_end, known_at)
            if fy is None:
                continue
            ytd: dict[int, tuple[str, float]] = {}
            for (s, e), _f in concept.by_key.items():
                if s is None or abs(_days(start, s)) > _FY_START_SLACK or e >= fy_end:
                    continue
                n = next((i + 1 for i, b in enumerate(YTD_CLASSES) if _within(_days(s, e), b)), None)
                got = concept.at((s, e), known_at)
                if n is not None and got is not None:
                    ytd[n] = (e, got.value)
            if set(ytd) != {1, 2, 3}:
                break
            cumulative = [0.0, ytd[1][1], ytd[2][1], ytd[3][1], fy.value]
            ends = ["", ytd[1][0], ytd[2][0], ytd[3][0], fy_end]
            for q in range(1, 5):
                records.append({"fiscal_year": fiscal_year_label(fy_end), "quarter": q, "period_end": ends[q],
                                "value": (cumulative[q] - cumulative[q - 1]) * chain.sign, "concept": concept.label})
            break
    return pd.DataFrame.from_records(records, columns=["fiscal_year", "quarter", "period_end", "value", "concept"])


# ---------------------------------------------------------------------------------------------------
# Ticker map, submissions (company master data) and the SourceData a reader hands over

# Forms whose filing can change the statement facts: a new one means the company facts changed.
FINANCIAL_FORMS = frozenset({"10-K", "10-K/A", "10-Q", "10-Q/A", "20-F", "20-F/A", "40-F", "40-F/A",
                             "10-KT", "10-KT/A", "10-QT", "6-K", "8-K"})


def parse_company_tickers(body: bytes | str | Mapping[str, Any], origin: str = "company_tickers.json",
                          ) -> dict[str, str]:
    """Ticker -> ten-digit CIK from ``company_tickers.json`` or ``company_tickers_exchange.json``.

    Tickers are upper-cased as the SEC spells share classes (``MOG-A``). A ticker listed twice keeps its
    first CIK (the SEC lists the primary listing first).

    Raises:
        InputError: neither shape (``{"0": {"cik_str", "ticker", "title"}}`` or
            ``{"fields": [...], "data": [[...]]}``).
    """
    doc = body if isinstance(body, Mapping) else _json(body, origin)
    out: dict[str, str] = {}
    if isinstance(doc, Mapping) and isinstance(doc.get("fields"), list) and isinstance(doc.get("data"), list):
        fields = [str(f) for f in doc["fields"]]
        if "cik" not in fields or "ticker" not in fields:
            raise InputError("the exchange ticker file has no 'cik' and 'ticker' fields", path=origin, field="fields")
        ci, ti = fields.index("cik"), fields.index("ticker")
        for n, row in enumerate(doc["data"]):
            if not isinstance(row, list) or len(row) <= max(ci, ti):
                raise InputError("a row is not a list of the declared fields", path=origin, field=f"data[{n}]")
            _add_ticker(out, row[ti], row[ci], origin, f"data[{n}]")
        return out
    if not isinstance(doc, Mapping):
        raise InputError("not an SEC ticker file (expected a JSON object)", path=origin)
    for key, entry in doc.items():
        if not isinstance(entry, Mapping) or "ticker" not in entry or "cik_str" not in entry:
            raise InputError("not an SEC ticker file (entries need 'cik_str' and 'ticker')", path=origin,
                             field=str(key)[:20])
        _add_ticker(out, entry["ticker"], entry["cik_str"], origin, str(key))
    return out


def _add_ticker(out: dict[str, str], ticker: Any, cik: Any, origin: str, where: str) -> None:
    symbol = str(ticker or "").strip().upper()
    if not symbol:
        return
    try:
        out.setdefault(symbol, normalise_cik(cik, origin))
    except InputError:
        raise InputError(f"{str(cik)[:20]!r} is not a CIK", path=origin, field=where) from None


def _json(body: bytes | str, origin: str) -> Any:
    try:
        return json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"not a JSON document ({str(exc)[:120]})", path=origin,
                         line=getattr(exc, "lineno", None)) from None


@dataclass(frozen=True)
class Submissions:
    """Company master data from ``submissions/CIK##########.json``."""

    cik: str
    name: str
    tickers: tuple[str, ...]
    exchanges: tuple[str, ...]
    sic: str | None
    sic_description: str | None
    former_names: tuple[str, ...]
    fiscal_year_end: str | None  # "MMDD"
    category: str | None
    latest_filing: str | None  # the most recent filing date of any form
    latest_financial_filing: str | None  # the most recent 10-K/10-Q/20-F/... filing date


def parse_submissions(body: bytes | str | Mapping[str, Any], origin: str = "submissions") -> Submissions:
    """Parse a submissions body (company master data and the recent filing index).

    Raises:
        InputError: not a submissions document.
    """
    doc = body if isinstance(body, Mapping) else _json(body, origin)
    if not isinstance(doc, Mapping) or "cik" not in doc or not isinstance(doc.get("filings"), Mapping):
        raise InputError("not an SEC submissions document (no 'cik' and 'filings')", path=origin)
    recent = doc["filings"].get("recent")
    dates: list[str] = []
    forms: list[str] = []
    if isinstance(recent, Mapping):
        dates = [str(d) for d in recent.get("filingDate") or []]
        forms = [str(f) for f in recent.get("form") or []]
    if len(dates) != len(forms):
        raise InputError("filings.recent.filingDate and .form differ in length", path=origin, field="filings.recent")
    financial = [d for d, f in zip(dates, forms, strict=True) if f in FINANCIAL_FORMS]

    def text(key: str) -> str | None:
        value = doc.get(key)
        return str(value).strip() or None if value is not None else None

    former = tuple(str(f.get("name")).strip() for f in doc.get("formerNames") or []
                   if isinstance(f, Mapping) and f.get("name"))
    return Submissions(
        cik=normalise_cik(doc["cik"], origin), name=text("name") or "",
        tickers=tuple(str(t).upper() for t in doc.get("tickers") or [] if t),
        exchanges=tuple(str(e) for e in doc.get("exchanges") or [] if e),
        sic=text("sic"), sic_description=text("sicDescription"),
        former_names=tuple(dict.fromkeys(former)),  # the SEC repeats a name in another case
        fiscal_year_end=text("fiscalYearEnd"),
        category=(text("category") or "").replace("<br>", "; ") or None,
        latest_filing=max(dates) if dates else None,
        latest_financial_filing=max(financial) if financial else None,
    )


TEXT_FIELDS = ("name", "cik", "sic", "sic_description", "former_names")

# ---------------------------------------------------------------------------------------------------
# Parsed results as plain JSON, so a refresh keeps them next to the raw bodies (issue #14) and builds
# a snapshot without parsing thousands of bodies again. Bump PARSER_REVISION when this module's
# parsing changes; a changed concept table changes parser_version() by itself.

PARSER_REVISION = 1


@cache
def parser_version() -> str:
    """Identifies the parser and concept table that produced a cached parse."""
    import hashlib

    table = resource_path("sec_concepts.toml").read_bytes()
    return f"{PARSER_REVISION}:{hashlib.sha256(table).hexdigest()[:16]}"


def company_to_json(company: CompanyFacts) -> dict[str, Any]:
    """The parts of a parsed company a snapshot needs (rows, name, CIK, share count, warnings)."""
    return {"parser": parser_version(), "cik": company.cik, "name": company.name, "rows": company.rows,
            "shares_outstanding": list(company.shares_outstanding) if company.shares_outstanding else None,
            "warnings": company.warnings, "facts_read": company.facts_read}


def company_from_json(doc: Mapping[str, Any]) -> CompanyFacts | None:
    """The company of :func:`company_to_json`; None when another parser version made it."""
    if not isinstance(doc, Mapping) or doc.get("parser") != parser_version():
        return None
    shares = doc.get("shares_outstanding")
    return CompanyFacts(cik=str(doc["cik"]), name=str(doc.get("name") or ""), rows=list(doc.get("rows") or []),
                        shares_outstanding=(float(shares[0]), str(shares[1])) if shares else None,
                        warnings=[str(w) for w in doc.get("warnings") or []], facts_read=int(doc.get("facts_read") or 0))


def submissions_to_json(sub: Submissions) -> dict[str, Any]:
    return asdict(sub)


def submissions_from_json(doc: Mapping[str, Any]) -> Submissions:
    fields = Submissions.__dataclass_fields__
    values: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v for k, v in doc.items() if k in fields}
    return Submissions(**values)



def source_data(companies: Iterable[tuple[str, CompanyFacts]], *, origin: str, as_of: date | None,
                submissions: Mapping[str, Submissions] | None = None, rows_read: int | None = None,
                ) -> SourceData:
    """The :class:`SourceData` of parsed companies (``(symbol, company)``), with master data.

    ``submissions`` maps a CIK to its parsed submissions (name, SIC, former names); without it the
    name is the companyfacts ``entityName`` and SIC fields are absent.
    """
    pairs = list(companies)
    records: list[dict[str, Any]] = []
    warnings: list[str] = []
    for symbol, company in pairs:
        warnings.extend(company.warnings)
        sub = (submissions or {}).get(company.cik)
        texts = {"name": (sub.name if sub else "") or company.name, "cik": company.cik,
                 "sic": sub.sic if sub else None, "sic_description": sub.sic_description if sub else None,
                 "former_names": "; ".join(sub.former_names) if sub and sub.former_names else None}
        for name, text in texts.items():
            if text:
                records.append({"symbol": symbol, "field": name, "value_num": math.nan, "value_text": text,
                                "period": "static", "derived": False, "as_of": pd.NaT})
        if company.shares_outstanding is not None:
            shares, end = company.shares_outstanding
            records.append({"symbol": symbol, "field": "shares_outstanding", "value_num": shares,
                            "value_text": None, "period": "point", "derived": False, "as_of": pd.Timestamp(end)})
    return SourceData(source=SOURCE, origin=origin, as_of=as_of, fetched_at=now_utc(),
                      observations=observations_frame(records), history=history_rows(pairs),
                      warnings=warnings, rows_read=len(pairs) if rows_read is None else rows_read)

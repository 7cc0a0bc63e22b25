"""Theme tags (issue #5): which investment themes a company belongs to, and why.

The taxonomy is TOML (``resources/themes.toml``, format in docs/themes.md) that a user file in the
config dir may extend or override; this module only parses text (services read the files). Rules
match the industry exactly, the SEC's SIC code exactly (issue #14), and keywords in the business description and name on word boundaries
("AR" never matches "are"; acronyms are case-sensitive). Descriptions go stale, so a theme may also
list tickers explicitly, and the user may add or remove a ticker. Every tag keeps the rule and the
words that matched, so the UI can say why a stock carries it.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from desktop.errors import InputError

MATCH_COLUMNS = ("symbol", "theme", "rule", "matched")
RULES = ("industry", "sic", "description", "name", "ticker", "user")
_NAME_RE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
_LIST_KEYS = ("industries", "sic", "keywords", "acronyms", "name_keywords", "exclude", "exclude_industries",
              "exclude_sectors", "tickers", "exclude_tickers")
_THEME_KEYS = frozenset({"label", "description", "min_hits", *_LIST_KEYS})
_OVERRIDE_KEYS = _THEME_KEYS | {"add_tickers", "remove_tickers", "disabled"}
# Bounds on a (user-editable) theme file, far above the shipped one (29 entries per list, phrases
# of at most 35 characters): tagging costs one pass over the texts per phrase (issue #13).
MAX_LIST = 1_000
MAX_PHRASE = 200


class ThemeFileError(InputError):
    """A theme TOML document is malformed; ``field`` names the key (``themes.ai.keywords``)."""


@dataclass(frozen=True)
class Theme:
    """One theme and its matching rules (see docs/themes.md for each key)."""

    name: str
    label: str
    description: str = ""
    industries: tuple[str, ...] = ()
    sic: tuple[str, ...] = ()  # four-digit SEC SIC codes ("3674")
    keywords: tuple[str, ...] = ()
    acronyms: tuple[str, ...] = ()
    name_keywords: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    exclude_industries: tuple[str, ...] = ()
    exclude_sectors: tuple[str, ...] = ()
    min_hits: int = 1
    tickers: tuple[str, ...] = ()
    exclude_tickers: tuple[str, ...] = ()
    user_tickers: tuple[str, ...] = ()  # added by the user (rule "user")
    user_removed: tuple[str, ...] = ()  # removed by the user: never tagged


@dataclass(frozen=True)
class ThemeTaxonomy:
    """The themes in display order, plus the user's overrides (kept to write them back)."""

    themes: tuple[Theme, ...]
    user_overrides: dict[str, dict[str, Any]] = field(default_factory=dict, compare=False)

    @classmethod
    def from_toml(cls, text: str, override_text: str | None = None) -> ThemeTaxonomy:
        """Parse the built-in taxonomy and apply the user's override document.

        Args:
            text: the built-in ``themes.toml``.
            override_text: the user's override file (same format, plus ``add_tickers``,
                ``remove_tickers`` and ``disabled``), or None.

        Raises:
            ThemeFileError: naming the document, the key and what was expected.
        """
        base = _load(text, "built-in themes")
        themes = {name: _theme(name, body, "built-in themes") for name, body in _themes_table(base, "built-in themes").items()}
        overrides: dict[str, dict[str, Any]] = {}
        if override_text is not None and override_text.strip():
            doc = _load(override_text, "user theme file")
            overrides = _themes_table(doc, "user theme file")
        taxonomy = cls(tuple(themes.values()), {})
        for name, body in overrides.items():
            taxonomy = taxonomy._apply_override(name, body)
        return replace(taxonomy, user_overrides={k: dict(v) for k, v in overrides.items()})

    def _apply_override(self, name: str, body: dict[str, Any]) -> ThemeTaxonomy:
        where = "user theme file"
        if not _NAME_RE.match(name):
            raise ThemeFileError("a theme name is lower-case letters, digits and _", path=where, field=f"themes.{name}")
        unknown = set(body) - _OVERRIDE_KEYS
        if unknown:
            raise ThemeFileError(f"unknown key {sorted(unknown)[0]!r}; expected one of {sorted(_OVERRIDE_KEYS)}",
                                 path=where, field=f"themes.{name}")
        current = {t.name: t for t in self.themes}
        if body.get("disabled") is True:
            current.pop(name, None)
            return replace(self, themes=tuple(current.values()))
        if "disabled" in body and not isinstance(body["disabled"], bool):
            raise ThemeFileError("expected true or false", path=where, field=f"themes.{name}.disabled")
        rules = {k: v for k, v in body.items() if k in _THEME_KEYS}
        if name in current:
            merged = _theme(name, {**_theme_to_dict(current[name]), **rules}, where)
        else:
            merged = _theme(name, {"label": name.replace("_", " ").title(), **rules}, where)
        add = _str_list(body.get("add_tickers", []), where, f"themes.{name}.add_tickers")
        remove = _str_list(body.get("remove_tickers", []), where, f"themes.{name}.remove_tickers")
        merged = replace(merged, user_tickers=_norm_tickers(add), user_removed=_norm_tickers(remove))
        current[name] = merged
        return replace(self, themes=tuple(current.values()))

    def names(self) -> list[str]:
        """Theme names in display order."""
        return [t.name for t in self.themes]

    def get(self, name: str) -> Theme:
        """The theme called ``name``; ``KeyError`` names it when unknown."""
        for t in self.themes:
            if t.name == name:
                return t
        raise KeyError(f"unknown theme {name!r}")

    def with_ticker(self, theme: str, symbol: str, member: bool) -> ThemeTaxonomy:
        """A copy where the user added (``member``) or removed ``symbol`` from ``theme``.

        The change is recorded in :attr:`user_overrides`; write :meth:`override_toml` back to the
        user's file to keep it.
        """
        self.get(theme)
        sym = symbol.strip().upper()
        overrides = {k: dict(v) for k, v in self.user_overrides.items()}
        body = overrides.setdefault(theme, {})
        add = [t for t in body.get("add_tickers", []) if t != sym]
        remove = [t for t in body.get("remove_tickers", []) if t != sym]
        (add if member else remove).append(sym)
        body["add_tickers"], body["remove_tickers"] = add, remove
        for key in ("add_tickers", "remove_tickers"):
            if not body[key]:
                del body[key]
        taxonomy = replace(self, user_overrides={})
        taxonomy = taxonomy._apply_override(theme, body)
        return replace(taxonomy, user_overrides=overrides)

    def override_toml(self) -> str:
        """The user's overrides as TOML text (comments of the original file are not kept)."""
        lines = ["# Pickaxe theme overrides (see docs/themes.md). Written by Pickaxe.", ""]
        for name, body in self.user_overrides.items():
            lines.append(f"[themes.{name}]")
            for key, value in body.items():
                lines.append(f"{key} = {_toml_value(value)}")
            lines.append("")
        return "\n".join(lines)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {type(value).__name__} to TOML")


def _load(text: str, where: str) -> dict[str, Any]:
    import tomllib  # here, not at the top: it compiles its regexes on import (~25 ms of every start, issue #17)

    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        line = re.search(r"line (\d+)", str(exc))
        raise ThemeFileError(f"not valid TOML ({exc})", path=where,
                             line=int(line.group(1)) if line else None) from None


def _themes_table(doc: dict[str, Any], where: str) -> dict[str, dict[str, Any]]:
    version = doc.get("version", 1)
    if version != 1:
        raise ThemeFileError(f"version {version!r} is not supported; expected 1", path=where, field="version")
    unknown = set(doc) - {"version", "themes"}
    if unknown:
        raise ThemeFileError(f"unknown top-level key {sorted(unknown)[0]!r}", path=where)
    table = doc.get("themes", {})
    if not isinstance(table, dict) or not all(isinstance(v, dict) for v in table.values()):
        raise ThemeFileError("expected [themes.<name>] tables", path=where, field="themes")
    return table


def _str_list(value: Any, where: str, key: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise ThemeFileError("expected a list of non-empty strings", path=where, field=key)
    if len(value) > MAX_LIST:
        raise ThemeFileError(f"{len(value):,} entries; at most {MAX_LIST:,} are accepted", path=where, field=key)
    long = next((v for v in value if len(v.strip()) > MAX_PHRASE), None)
    if long is not None:
        raise ThemeFileError(f"an entry of {len(long.strip()):,} characters ({long.strip()[:30]!r}...); at most "
                             f"{MAX_PHRASE} are accepted", path=where, field=key)
    return [v.strip() for v in value]


def _norm_tickers(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(v.strip().upper() for v in values))


def _theme(name: str, body: dict[str, Any], where: str) -> Theme:
    if not _NAME_RE.match(name):
        raise ThemeFileError("a theme name is lower-case letters, digits and _", path=where, field=f"themes.{name}")
    unknown = set(body) - _THEME_KEYS - {"user_tickers", "user_removed"}
    if unknown:
        raise ThemeFileError(f"unknown key {sorted(unknown)[0]!r}; expected one of {sorted(_THEME_KEYS)}",
                             path=where, field=f"themes.{name}")
    label = body.get("label")
    if not isinstance(label, str) or not label.strip():
        raise ThemeFileError("expected a non-empty label", path=where, field=f"themes.{name}.label")
    desc = body.get("description", "")
    if not isinstance(desc, str):
        raise ThemeFileError("expected a string", path=where, field=f"themes.{name}.description")
    min_hits = body.get("min_hits", 1)
    if isinstance(min_hits, bool) or not isinstance(min_hits, int) or min_hits < 1:
        raise ThemeFileError("expected a whole number >= 1", path=where, field=f"themes.{name}.min_hits")
    lists = {}
    for k in _LIST_KEYS:
        value = body.get(k, [])
        value = list(value) if isinstance(value, tuple) else value
        lists[k] = tuple(_str_list(value, where, f"themes.{name}.{k}"))
    lists["tickers"] = _norm_tickers(lists["tickers"])
    lists["exclude_tickers"] = _norm_tickers(lists["exclude_tickers"])
    bad_sic = next((c for c in lists["sic"] if not (len(c) == 4 and c.isdigit())), None)
    if bad_sic is not None:
        raise ThemeFileError(f"{bad_sic[:20]!r} is not a four-digit SIC code", path=where, field=f"themes.{name}.sic")
    if not (lists["industries"] or lists["sic"] or lists["keywords"] or lists["acronyms"] or lists["name_keywords"]
            or lists["tickers"]):
        raise ThemeFileError("a theme needs at least one rule (industries, sic, keywords, acronyms, "
                             "name_keywords or tickers)", path=where, field=f"themes.{name}")
    return Theme(name=name, label=label.strip(), description=desc, min_hits=min_hits,
                 user_tickers=tuple(body.get("user_tickers", ())),
                 user_removed=tuple(body.get("user_removed", ())), **lists)


def _theme_to_dict(t: Theme) -> dict[str, Any]:
    out: dict[str, Any] = {"label": t.label, "description": t.description, "min_hits": t.min_hits}
    for k in _LIST_KEYS:
        out[k] = list(getattr(t, k))
    return out


_RUN = re.compile(r"[\s\-]+")  # a run of spaces/hyphens, in texts and in phrases alike
_WORD_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
_ROW_SEP = "\x01"  # joins rows: neither a word character nor a space, so no match spans two rows


def _norm(text: str) -> str:
    return _RUN.sub(" ", text)


@dataclass(frozen=True)
class _Corpus:
    """One text column normalised (space/hyphen runs -> one space) and joined into one string.

    Searching one long string with ``str.find`` (C speed) and checking word boundaries by hand
    tags the real universe in well under a second; one regex per theme over every description
    took about two seconds (Python's ``re`` cannot skip ahead when a pattern is case-insensitive
    and starts with a look-behind).
    """

    text: str
    lower: str
    starts: np.ndarray  # offset of each row in ``text``

    @classmethod
    def of(cls, column: pd.Series) -> _Corpus:
        texts = [_norm(str(t)) for t in column.to_numpy(dtype=object)]
        joined = _ROW_SEP.join(texts)
        lengths = np.fromiter((len(t) + 1 for t in texts), dtype=np.int64, count=len(texts))
        starts = np.concatenate([[0], np.cumsum(lengths)[:-1]]) if len(texts) else np.zeros(0, np.int64)
        # Lower-casing keeps offsets for the ASCII text of company descriptions; a rare character
        # whose lower case is longer would shift them, so fall back to per-character lowering.
        lower = joined.lower()
        if len(lower) != len(joined):
            lower = "".join(c.lower() if len(c.lower()) == 1 else c for c in joined)
        return cls(joined, lower, starts)

    def occurrences(self, phrase: str, case_sensitive: bool) -> list[tuple[int, int]]:
        """(start, end) of every whole-word occurrence of ``phrase`` (already normalised)."""
        hay = self.text if case_sensitive else self.lower
        needle = phrase if case_sensitive else phrase.lower()
        out = []
        n = len(needle)
        i = hay.find(needle)
        while i >= 0:
            before = hay[i - 1] if i > 0 else " "
            after = hay[i + n] if i + n < len(hay) else " "
            if before not in _WORD_CHARS and after not in _WORD_CHARS:
                out.append((i, i + n))
            i = hay.find(needle, i + 1)
        return out


def _merged(spans: Iterable[tuple[int, int]]) -> tuple[list[int], list[int]]:
    """Overlapping or touching spans merged into disjoint intervals: (starts, ends), sorted."""
    starts: list[int] = []
    ends: list[int] = []
    for a, b in sorted(spans):
        if ends and a <= ends[-1]:
            ends[-1] = max(ends[-1], b)
        else:
            starts.append(a)
            ends.append(b)
    return starts, ends


def _leftmost_longest(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Non-overlapping matches, preferring the earlier and then the longer one (regex-like)."""
    kept: list[tuple[int, int]] = []
    for a, b in sorted(spans, key=lambda x: (x[0], -x[1])):
        if not kept or a >= kept[-1][1]:
            kept.append((a, b))
    return kept


def empty_matches() -> pd.DataFrame:
    """An empty ``theme_matches`` frame."""
    return pd.DataFrame({c: pd.Series(dtype=object) for c in MATCH_COLUMNS})


def _text(frame: pd.DataFrame, col: str) -> pd.Series:
    if col not in frame:
        return pd.Series([""] * len(frame), index=frame.index, dtype=object)
    s = frame[col].astype(object)
    return s.where(s.notna(), "").astype(str)


def tag(securities: pd.DataFrame, taxonomy: ThemeTaxonomy) -> pd.DataFrame:
    """Tag every security with the themes whose rules it matches.

    Args:
        securities: index ``symbol`` (or a ``symbol`` column); uses ``industry``, ``sic``, ``sector``,
            ``description``, ``name`` and ``ticker`` (the index provider's spelling) when present.
        taxonomy: the themes.

    Returns:
        ``theme_matches``: one row per (symbol, theme, rule), ``matched`` holding the words,
        industry or ticker that matched (distinct, lower-cased for keywords, comma-separated).
    """
    frame = securities
    symbols = (frame["symbol"] if "symbol" in frame else pd.Series(frame.index, index=frame.index)).astype(str)
    symbols = pd.Series(symbols.to_numpy(dtype=object), index=frame.index, dtype=object)
    industry, sector = _text(frame, "industry"), _text(frame, "sector")
    sic = _text(frame, "sic").str.strip()
    desc, name = _text(frame, "description"), _text(frame, "name")
    alt = _text(frame, "ticker").str.upper()
    ind_lower = industry.str.lower()
    corpora = {"description": _Corpus.of(desc), "name": _Corpus.of(name)}
    rows: list[tuple[str, str, str, str]] = []
    sym_arr = symbols.to_numpy(dtype=object)
    for theme in taxonomy.themes:
        removed = set(theme.exclude_tickers) | set(theme.user_removed)
        blocked = symbols.str.upper().isin(removed).to_numpy() | alt.isin(removed).to_numpy()
        kw_blocked = blocked | ind_lower.isin([i.lower() for i in theme.exclude_industries]).to_numpy() \
            | sector.str.lower().isin([s.lower() for s in theme.exclude_sectors]).to_numpy()
        if theme.industries:
            hit = ind_lower.isin([i.lower() for i in theme.industries]).to_numpy() & ~blocked
            rows.extend((s, theme.name, "industry", i) for s, i in zip(sym_arr[hit], industry.to_numpy()[hit], strict=False))
        if theme.sic:  # the SEC's classification, like the industry: only ticker exclusions veto it
            hit = sic.isin(theme.sic).to_numpy() & ~blocked
            rows.extend((s, theme.name, "sic", f"SIC {c}") for s, c in zip(sym_arr[hit], sic.to_numpy()[hit], strict=False))
        # Descriptions: keywords + acronyms (min_hits occurrences); names: name_keywords + acronyms.
        for rule, min_hits, words in (("description", theme.min_hits, theme.keywords),
                                      ("name", 1, theme.name_keywords)):
            found = _find(corpora[rule], words, theme.acronyms, theme.exclude)
            if found is None:
                continue
            counts = np.fromiter((len(f) for f in found), dtype=np.int64, count=len(found))
            hit = (counts >= min_hits) & ~kw_blocked
            for s, ws in zip(sym_arr[hit], (found[k] for k in np.flatnonzero(hit)), strict=False):
                distinct: dict[str, str] = {}  # "REIT" and "reit" once, in text order
                for w in ws:
                    distinct.setdefault(w.casefold(), w)
                rows.append((s, theme.name, rule, ", ".join(distinct.values())))
        for rule, listed in (("ticker", theme.tickers), ("user", theme.user_tickers)):
            if listed:
                lst = set(listed)
                hit = (symbols.str.upper().isin(lst).to_numpy() | alt.isin(lst).to_numpy()) & ~blocked
                if rule == "ticker":
                    hit &= ~np.isin(sym_arr, list(theme.user_removed))
                rows.extend((s, theme.name, rule, s) for s in sym_arr[hit])
    if not rows:
        return empty_matches()
    out = pd.DataFrame(rows, columns=list(MATCH_COLUMNS), dtype=object)
    order = {n: i for i, n in enumerate(taxonomy.names())}
    out["_t"] = out["theme"].map(order)
    out["_r"] = out["rule"].map({r: i for i, r in enumerate(RULES)})
    out = out.sort_values(["symbol", "_t", "_r"], kind="stable").drop(columns=["_t", "_r"])
    return out.reset_index(drop=True).astype(object)


def _find(corpus: _Corpus, words: tuple[str, ...], acronyms: tuple[str, ...],
          exclude: tuple[str, ...]) -> list[list[str]] | None:
    """Keyword hits per row, in text order (keywords lower-cased, acronyms as written). Phrases in
    ``exclude`` are cut out first: a hit overlapping an excluded phrase does not count."""
    if not words and not acronyms:
        return None
    starts, ends = _merged(span for p in {_norm(e.strip()) for e in exclude if e.strip()}
                           for span in corpus.occurrences(p, False))
    hits: list[tuple[int, int, str]] = []
    for phrases, case_sensitive in ((words, False), (acronyms, True)):
        spans = [span for p in {_norm(w.strip()) for w in phrases if w.strip()}
                 for span in corpus.occurrences(p, case_sensitive)]
        for a, b in _leftmost_longest(spans):
            # The last excluded interval starting before the hit's end is the only one that can
            # overlap it (the intervals are disjoint and sorted). Testing every excluded span for
            # every hit took 42 s for an exclusion of a common word (issue #13).
            k = bisect.bisect_left(starts, b) - 1
            if k >= 0 and ends[k] > a:
                continue
            hits.append((a, b, corpus.text[a:b] if case_sensitive else corpus.lower[a:b]))
    found: list[list[str]] = [[] for _ in range(len(corpus.starts))]
    if hits:
        hits.sort()
        rows = np.searchsorted(corpus.starts, [h[0] for h in hits], side="right") - 1
        for row, (_a, _b, text) in zip(rows, hits, strict=True):
            found[row].append(text)
    return found


def themes_by_symbol(matches: pd.DataFrame, index: pd.Index) -> pd.Series:
    """``themes`` column: a tuple of theme names per symbol (taxonomy order), ``()`` when none."""
    mapping: dict[str, tuple[str, ...]] = {}
    if len(matches):
        for sym, theme in matches.drop_duplicates(["symbol", "theme"])[["symbol", "theme"]].itertuples(
                index=False, name=None):
            mapping[sym] = (*mapping.get(sym, ()), theme)
    return pd.Series([mapping.get(s, ()) for s in index], index=index, dtype=object)

"""Identity check (issue #12): is a source's record about the index member, or another company?

A ticker is not an identity: tickers are reused (AKTS was Akoustis Technologies, the member is
Aktis Oncology). The SEC's CIK is (issue #14): the SEC's ticker map names the company that holds a
ticker now. A source's record is attached to a member only when

* a shared identifier agrees: the source gives a CIK and it is the member's (:func:`same_cik`), the
  member's CIK being the SEC's for its ticker; a source whose CIK differs is another company, whatever
  its name; or, for a source without a CIK,
* its company name agrees with the index name: :func:`name_score` >= :data:`THRESHOLD` after
  dropping legal forms and punctuation (rapidfuzz token-set ratio, or an initials match such as
  "NRC Health" / "National Research Corp"), unless ``resources/identity.toml`` says otherwise
  (a hand-checked table of renames to accept and same-name reuses to reject).

The SEC's own records are name-checked too (an offline ticker map can be older than the universe).
A ticker whose CIK changed between two SEC imports is a different company: the earlier SEC records
under it are dropped (``canonical.merge``). Old data under a matching name is not rejected (vendors'
coverage often just stops); it is shown stale. Same-name reuses (BBBY, SPWR) are in the reject table.

A source that gives no company name (the Yahoo ``financialData`` file) cannot be checked; its
records are rejected only where the ticker demonstrably belonged to a rejected company then.
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from dataclasses import dataclass
from functools import cache

from rapidfuzz import fuzz

from desktop.resources import resource_path

# Scores on the real universe (IWM 2026-05-05 against SimFin 2026-04 and Finviz 2025-08 names):
# every same-company pair below 65 is a rename listed in identity.toml; reused tickers score
# 18-63 (AKTS 62.9, ACT 50, CNR 40.8).
THRESHOLD = 65.0
_LEGAL = frozenset({
    "inc", "incorporated", "corp", "corporation", "co", "cos", "company", "companies", "ltd", "limited",
    "plc", "llc", "lp", "l", "p", "holding", "holdings", "hldgs", "group", "the", "class", "series", "cl",
    "a", "b", "c", "n", "v", "nv", "sa", "ag", "se", "de", "and", "of",
})


@dataclass(frozen=True)
class Rejection:
    symbol: str
    source: str
    source_name: str
    member_name: str
    reason: str

    def sentence(self) -> str:
        return f"{self.source} {self.symbol} is {self.source_name}; the member is {self.member_name} ({self.reason})"


def _tokens(name: str) -> list[str]:
    text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii").lower()
    text = re.sub(r"/[a-z]{2}/", " ", text.replace("&", " and ").replace("'", ""))
    text = re.sub(r"[^a-z0-9 ]+", " ", text)
    return [t for t in text.split() if t not in _LEGAL]


def name_score(member: str, other: str) -> float:
    """0-100: how well two company names agree once legal forms and punctuation are dropped."""
    a, b = _tokens(member), _tokens(other)
    if not a or not b:
        return 100.0  # nothing left to compare (e.g. "Holdings Inc"): no evidence against
    score = fuzz.token_set_ratio(" ".join(a), " ".join(b))
    for x, y in ((a, b), (b, a)):
        initials = "".join(t[0] for t in y)
        if len(x[0]) >= 2 and len(initials) >= 2 and (initials.startswith(x[0]) or (x[0].startswith(initials) and len(x[0]) <= len(initials) + 1)):
            score = max(score, 90.0)
    return float(score)


@cache
def overrides() -> tuple[dict[str, frozenset[str]], dict[str, frozenset[str]]]:
    """(accept, reject): symbol -> casefolded source names, from ``resources/identity.toml``."""
    doc = tomllib.loads(resource_path("identity.toml").read_text(encoding="utf-8"))

    def table(key: str) -> dict[str, frozenset[str]]:
        return {str(k).upper(): frozenset(str(n).casefold() for n in v) for k, v in doc.get(key, {}).items()}

    return table("accept"), table("reject")


def same_cik(member_cik: str, source_cik: str) -> bool | None:
    """True when two CIKs are the same company, False when they differ, None when one is not a CIK."""
    a, b = str(member_cik).strip(), str(source_cik).strip()
    if not (a.isdigit() and b.isdigit()):
        return None
    return int(a) == int(b)


def same_company(symbol: str, member_name: str, source_name: str) -> tuple[bool, str]:
    """(agrees, reason when it does not) for one member and one source's company name."""
    accept, reject = overrides()
    folded = source_name.casefold().strip()
    if folded in reject.get(symbol, frozenset()):
        return False, "a different company on a reused ticker (identity.toml)"
    if folded in accept.get(symbol, frozenset()):
        return True, ""
    score = name_score(member_name, source_name)
    if score >= THRESHOLD:
        return True, ""
    return False, f"names agree {score:.0f} %, below {THRESHOLD:.0f} %"

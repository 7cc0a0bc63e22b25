"""The rule for screen names people can tell apart (issue #13, root cause 7).

A screen name is shown in lists, menus and terminals and is how people pick a screen. So a name
must be printable - no NUL, no control characters, no invisible format characters (zero-width
space, bidi overrides, BOM), no exotic spaces - and must not *look like* another screen's name while
being spelled differently: a Cyrillic "а" in "Cаsh survivors" next to the preset "Cash survivors"
is a trap, whether made by mistake or shared on purpose.

"Looks like" is decided with a skeleton in the spirit of Unicode TS #39 section 4: NFKC
(compatibility forms such as fullwidth letters) and whitespace folding, then each character
replaced by a fixed representative of its class of confusable characters, and case folding (in
both orders, see :func:`skeletons`).
The classes come from the Unicode consortium's ``confusables.txt`` as packaged by the
``confusable-homoglyphs`` library (well kept, pure Python, data only); we join its homoglyph pairs
into classes once and pick the smallest code point of each class (an ASCII letter or digit where
the class has one) as its representative. Multi-character prototypes (``rn`` vs ``m``) are not
folded: the library lists them only for marks and Arabic presentation forms.

Pure: no I/O beyond the library's own package data, read once on first use.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from functools import lru_cache

from desktop.errors import InputError

MAX_NAME_CHARS = 200

# Characters that may not appear in a name: controls, format characters (zero-width, bidi,
# BOM, soft hyphen), surrogates, private use, unassigned, and line/paragraph separators.
_REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})


def _describe(ch: str) -> str:
    name = unicodedata.name(ch, "")
    return f"U+{ord(ch):04X}" + (f" {name}" if name else "")


@lru_cache(maxsize=1)
def _representatives() -> dict[str, str]:
    """character -> representative of its confusable class (only characters in some class)."""
    from confusable_homoglyphs.confusables import confusables_data

    parent: dict[str, str] = {}

    def find(ch: str) -> str:
        root = ch
        while parent.get(root, root) != root:
            root = parent[root]
        while parent.get(ch, ch) != root:  # path compression
            parent[ch], ch = root, parent[ch]
        return root

    for char, homoglyphs in confusables_data.items():
        if len(char) != 1:
            continue
        for entry in homoglyphs:
            other = entry.get("c", "")
            if len(other) == 1:
                a, b = find(char), find(other)
                if a != b:
                    parent[max(a, b)] = min(a, b)  # the smaller code point stays the root
    return {ch: find(ch) for ch in list(parent)}


def _map(text: str) -> str:
    reps = _representatives()
    return unicodedata.normalize("NFKC", "".join(reps.get(ch, ch) for ch in text))


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text.casefold())


def skeletons(name: str) -> frozenset[str]:
    """The forms under which two names count as looking alike (see the module docstring).

    Two orders, because confusable classes are case-sensitive: mapping first catches a Greek
    capital Zeta posing as Z (its small form does not look like z), folding case first catches
    "CASH SURVIVORS" next to "Cash survivors" (capital I and O share classes with 1 and 0, small i
    and o do not). Names look alike when they share a skeleton.
    """
    text = " ".join(unicodedata.normalize("NFKC", name).split())
    return frozenset({_fold(_map(text)), _map(_fold(text))})


def unprintable(name: str) -> str | None:
    """A sentence naming the first character that makes ``name`` unusable, or None."""
    for ch in name:
        category = unicodedata.category(ch)
        if category in _REFUSED_CATEGORIES:
            kind = "control" if category == "Cc" else "invisible" if category == "Cf" else "unusable"
            return f"it contains the {kind} character {_describe(ch)}"
        if category == "Zs" and ch != " ":
            return f"it contains the unusual space {_describe(ch)}; use an ordinary space"
    return None


def check_screen_name(name: str, others: Iterable[tuple[str, str]] = ()) -> str:
    """Return ``name`` stripped, or raise :class:`InputError` when people could not tell it apart.

    Args:
        name: the proposed name of a new saved screen.
        others: ``(kind, name)`` of every name it must not be confused with, e.g.
            ``("preset", "Cash survivors")`` or ``("saved screen", "My screen")``. An entry equal to
            ``name`` itself is the same screen and is ignored.

    Raises:
        InputError: empty, too long, unprintable, or confusable with one of ``others``.
    """
    clean = name.strip()
    if not clean:
        raise InputError("A screen needs a name.", hint="Type a name for it.")
    if len(clean) > MAX_NAME_CHARS:
        raise InputError(f"A screen name can have at most {MAX_NAME_CHARS} characters (this one has "
                         f"{len(clean)}).", hint="Choose a shorter name.")
    problem = unprintable(clean)
    if problem:
        raise InputError(f"The screen name cannot be used: {problem}.",
                         hint="Type the name again with ordinary letters, digits and spaces.")
    mine = skeletons(clean)
    for kind, other in others:
        if other == clean:
            continue
        if skeletons(other) & mine:
            detail = ""
            if len(clean) == len(other):
                a, b = next((a, b) for a, b in zip(clean, other, strict=True) if a != b)
                detail = f" ({_describe(a)} where the other has {_describe(b)})"
            raise InputError(
                f"The screen name “{clean}” looks the same as the {kind} “{other}” but is spelled "
                f"with different characters{detail}.",
                hint="Choose a name that reads differently, or open that screen instead.")
    return clean


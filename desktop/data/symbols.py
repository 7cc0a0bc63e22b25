"""Ticker spellings: the index provider's (iShares) versus the one Yahoo and Finviz use.

iShares writes share classes without a separator (``MOGA``), Yahoo and Finviz with a dash
(``MOG-A``), other tools with a dot or slash (``BRK.B``, ``BRK/B``). The rule:

1. Upper-case and trim the ticker.
2. If it is in :data:`EXCEPTIONS`, use the table (``MOGA`` -> ``MOG-A``).
3. If it already carries a class separator (``.``, ``/``, space or ``-`` before a one- or
   two-letter class), write the separator as ``-`` (``BRK.B`` -> ``BRK-B``).
4. Otherwise keep it as it is.

Why a table and not a heuristic: Nasdaq share classes use a fifth letter that *is* the listed
symbol (``BATRA``, ``LILA``/``LILAK``, ``RUSHA``/``RUSHB``, ``BELFA``/``BELFB``), and plain NYSE
symbols often end in a class letter while naming a class A stock (``ZETA`` is "Zeta Global
Holdings Corp Class A", listed as ``ZETA``). Only NYSE/NYSE American share classes written
without their separator need mapping, and there are few of them; a wrong guess would silently
attach another company's data, so each one is listed explicitly. When an imported fundamentals
file knows a member only under a dashed spelling, the import report says so (see
``desktop.services.importing``) so the table can be extended.
"""

from __future__ import annotations

import re

# iShares spelling -> Yahoo/Finviz spelling, for NYSE / NYSE American share classes that the
# index provider writes without a separator. Extend when an import report suggests one.
EXCEPTIONS: dict[str, str] = {
    "MOGA": "MOG-A",  # Moog Inc class A (NYSE)
    "MOGB": "MOG-B",
    "GEFB": "GEF-B",  # Greif class B (NYSE); class A is plain GEF
    "CRDA": "CRD-A",  # Crawford & Co (NYSE)
    "CRDB": "CRD-B",
    "CWENA": "CWEN-A",  # Clearway Energy class A (NYSE); class C is plain CWEN
    "BFA": "BF-A",  # Brown-Forman (NYSE)
    "BFB": "BF-B",
    "BRKA": "BRK-A",  # Berkshire Hathaway (NYSE)
    "BRKB": "BRK-B",
    "HEIA": "HEI-A",  # HEICO class A (NYSE)
    "LENB": "LEN-B",  # Lennar class B (NYSE)
    "LGFA": "LGF-A",  # Lions Gate (NYSE)
    "LGFB": "LGF-B",
    "UHALB": "UHAL-B",  # U-Haul non-voting (NYSE)
    "WSOB": "WSO-B",  # Watsco class B (NYSE)
    "GTNA": "GTN-A",  # Gray Television class A (NYSE)
    "HVTA": "HVT-A",  # Haverty's class A (NYSE)
    "JWA": "JW-A",  # John Wiley & Sons (NYSE)
    "JWB": "JW-B",
    "MKCV": "MKC-V",  # McCormick voting (NYSE)
    "BIOB": "BIO-B",  # Bio-Rad class B (NYSE)
    "STZB": "STZ-B",  # Constellation Brands class B (NYSE)
    "AKOA": "AKO-A",  # Embotelladora Andina ADRs (NYSE)
    "AKOB": "AKO-B",
}
_REVERSE = {v: k for k, v in EXCEPTIONS.items()}

_SEPARATED = re.compile(r"^([A-Z0-9]{1,6})[./ \-]([A-Z]{1,2})$")
_VALID = re.compile(r"^\^?[A-Z0-9]{1,6}([.\-/ ][A-Z0-9]{1,2})?$")


def is_valid_ticker(text: str) -> bool:
    """True when ``text`` looks like an exchange ticker (letters, digits, class separator)."""
    return bool(_VALID.match(text.strip().upper())) if text else False


def to_yahoo(ticker: str) -> str:
    """The Yahoo/Finviz spelling of an index-provider or user ticker (see module docstring)."""
    t = ticker.strip().upper()
    if t in EXCEPTIONS:
        return EXCEPTIONS[t]
    m = _SEPARATED.match(t)
    if m:
        return f"{m.group(1)}-{m.group(2)}"
    return t


def to_ishares(symbol: str) -> str:
    """The iShares spelling of a Yahoo/Finviz symbol (``MOG-A`` -> ``MOGA``)."""
    s = symbol.strip().upper()
    if s in _REVERSE:
        return _REVERSE[s]
    return s.replace("-", "").replace(".", "").replace("/", "")


def dashed_candidates(ticker: str) -> list[str]:
    """Possible dashed spellings of an unseparated class ticker (``ABCA`` -> ``ABC-A``).

    Used only to *suggest* new :data:`EXCEPTIONS` entries in import reports, never to map.
    """
    t = ticker.strip().upper()
    if len(t) < 3 or not t.isalpha():
        return []
    return [f"{t[:-1]}-{t[-1]}"]

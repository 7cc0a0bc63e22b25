"""Formula-injection guard for untrusted text (company names, descriptions, tickers).

Spreadsheet programs treat a cell that starts with ``=``, ``+``, ``-`` or ``@`` as a formula, and
tab / carriage return as the start of one in some importers (OWASP "CSV injection"). Any text from
data that starts with one of them is written as text: in xlsx as a string cell with the quote
prefix set, in CSV with a leading apostrophe.
"""

from __future__ import annotations

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def is_risky(text: str) -> bool:
    """True when ``text`` would start a formula in a spreadsheet program."""
    return text.startswith(FORMULA_TRIGGERS)


def csv_text(text: str) -> str:
    """``text`` made safe for a CSV cell: a risky value gets a leading apostrophe."""
    return "'" + text if is_risky(text) else text

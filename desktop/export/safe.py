"""Formula-injection guard for untrusted text (company names, descriptions, tickers).

Spreadsheet programs treat a cell that starts with ``=``, ``+``, ``-`` or ``@`` as a formula, and
tab / carriage return as the start of one in some importers (OWASP "CSV injection"). Any text from
data that starts with one of them is written as text: in xlsx as a string cell with the quote
prefix set, in CSV with a leading apostrophe.
"""

from __future__ import annotations

import re

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def is_risky(text: str) -> bool:
    """True when ``text`` would start a formula in a spreadsheet program."""
    return text.startswith(FORMULA_TRIGGERS)


# Characters XML 1.0 forbids - control characters (tab, line feed and carriage return are allowed),
# lone surrogates (from undecodable bytes), U+FFFE and U+FFFF: a workbook holding one does not
# open, and openpyxl refuses to write it (UTF-8 CSV cannot hold a lone surrogate either).
_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
CELL_TEXT_LIMIT = 32_767  # characters Excel holds in a cell; longer text makes Excel "repair" the file


def clean_text(text: str) -> str:
    """``text`` without forbidden control characters, cut to what a spreadsheet cell holds."""
    if _ILLEGAL.search(text):
        text = _ILLEGAL.sub("", text)
    if len(text) > CELL_TEXT_LIMIT:
        text = text[: CELL_TEXT_LIMIT - 1] + "…"
    return text


def csv_text(text: str) -> str:
    """``text`` made safe for a CSV cell: cleaned, and a risky value gets a leading apostrophe."""
    text = clean_text(text)
    return "'" + text if is_risky(text) else text

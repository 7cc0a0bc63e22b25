"""The universe: iShares Russell 2000 ETF (IWM) holdings, downloaded or read from a file.

``download_holdings`` fetches the CSV iShares serves, ``read_ishares`` reads a saved file, and
both hand the text to ``_parse_ishares`` (fetch -> read -> parse, see STYLE.md section 1).

Format facts (``../shared/data/README.md``): UTF-8 BOM, a preamble whose ``Fund Holdings as
of,"May 05, 2026"`` line dates the file, a line holding one no-break space, the header, every
field quoted with thousands commas, then another NBSP line and one quoted disclaimer spanning
several lines. Variants accepted: the older ``Shares`` column instead of ``Quantity``, files whose
preamble (and footer) a spreadsheet stripped (no as-of date: the caller must supply one), other
exchange spellings, tab-separated or UTF-16 saves.

A valid end of the holdings (issue #13) is either the footer the real file has - a blank or
NBSP-only line, then at most one record of a single field (the disclaimer) and nothing but blank
lines after it - or, for a file whose preamble was stripped, the end of the file right after a
complete row. Anything else is refused with its line: a line of one field straight after the
rows (garbage mistaken for the disclaimer cut the universe to 1,000 members), data after the
disclaimer, or a file that has the preamble but stops without its footer (a cut-off download).
The as-of date is refused outside :func:`desktop.data._text.date_window` and warned about when it
lies after today; slashed dates are read only when unambiguous.

Constituents are tradable equity listings. Every other row is returned in ``skipped`` with its
reason: cash, money market, cash collateral, futures, private placement, CVR, escrow, unlisted,
OTC (not an exchange listing), invalid ticker, duplicate of an earlier row.
"""

from __future__ import annotations

import csv
import io
import logging
import re
from datetime import date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import requests

from desktop.data import symbols
from desktop.data._text import (
    MAX_COLUMNS,
    MAX_FIELD,
    check_date,
    decode,
    is_blank,
    now_utc,
    parse_number,
    read_bytes,
    slashed_date_order,
)
from desktop.data.source import SkippedRow, SourceData
from desktop.errors import DataSourceError, InputError, SourceUnreachableError

log = logging.getLogger(__name__)

DEFAULT_URL = (
    "https://www.ishares.com/us/products/239710/ishares-russell-2000-etf/1467271812596.ajax"
    "?fileType=csv&fileName=IWM_holdings&dataType=fund"
)
DEFAULT_TIMEOUT = 30.0
MAX_NAME = 300  # longer names are cut, with a warning (a legitimate name is < 100 characters)

# Header names we need, with the variants seen in circulation.
_REQUIRED = ("Ticker", "Name", "Asset Class")
_QUANTITY = ("Quantity", "Shares")

# Exchange spellings -> the normalised name (keys compared case-insensitively).
EXCHANGES = {
    "nasdaq": "NASDAQ",
    "nasdaq global select": "NASDAQ",
    "nasdaq global market": "NASDAQ",
    "nasdaq capital market": "NASDAQ",
    "nasdaq stock market": "NASDAQ",
    "nyse": "NYSE",
    "new york stock exchange": "NYSE",
    "new york stock exchange inc.": "NYSE",
    "new york stock exchange inc": "NYSE",
    "nyse mkt llc": "NYSE American",
    "nyse mkt": "NYSE American",
    "nyse american": "NYSE American",
    "nyse amex": "NYSE American",
    "nyse arca": "NYSE Arca",
    "cboe bzx": "Cboe BZX",
    "cboe bzx formerly known as bats": "Cboe BZX",
    "bats exchange": "Cboe BZX",
}
# Exchange values that mean "no exchange listing" -> skip reason.
UNTRADABLE_EXCHANGES = {
    "no market (e.g. unlisted)": "unlisted",
    "non-nms quotation service (nnqs)": "OTC (not an exchange listing)",
    "otc markets": "OTC (not an exchange listing)",
    "-": "no exchange",
    "": "no exchange",
}
_NON_EQUITY = {
    "cash": "cash",
    "money market": "money market",
    "cash collateral and margins": "cash collateral",
    "futures": "futures",
    "fx": "currency forward",
    "swaps": "swap",
}
_AS_OF = re.compile(r"^\s*Fund Holdings as of\s*$", re.IGNORECASE)
# "CVR" as the last word ("INHIBRX INC CVR", "GTXI INC - CVR"), not "CVR ENERGY INC".
_CVR = re.compile(r"(^|[\s-])CVRS?\s*$|\bCONTINGENT VALUE RIGHTS?\b", re.IGNORECASE)
_ESCROW = re.compile(r"\bESCROW\b", re.IGNORECASE)
_PRIVATE = re.compile(r"\bPRVT\b|\bPRIVATE\b|\bVESTING\b", re.IGNORECASE)


def download_holdings(url: str = DEFAULT_URL, timeout: float = DEFAULT_TIMEOUT,
                      session: requests.Session | None = None) -> bytes:
    """Download the current holdings CSV from iShares.

    Args:
        url: the holdings endpoint (configurable; the default is the IWM CSV).
        timeout: seconds to wait for the connection and for each read.
        session: an optional requests session (tests pass one; connection reuse).

    Returns:
        The raw body, ready for :func:`parse_holdings_bytes`.

    Raises:
        SourceUnreachableError: no connection, DNS failure or timeout.
        DataSourceError: an HTTP error status, or an HTML page instead of the CSV.
    """
    getter = session or requests
    try:
        response = getter.get(url, timeout=timeout, headers={"User-Agent": "Mozilla/5.0 Pickaxe"})
    except requests.Timeout:
        raise SourceUnreachableError(
            f"iShares did not answer within {timeout:g} s", hint="Try again later or import a saved file."
        ) from None
    except requests.RequestException as exc:
        raise SourceUnreachableError(
            f"iShares is unreachable ({type(exc).__name__})",
            hint="Check the internet connection, or import a saved holdings file.",
        ) from None
    if response.status_code >= 400:
        raise DataSourceError(f"iShares answered HTTP {response.status_code} for the holdings file",
                              hint="Check the URL, or import a saved holdings file.")
    body = response.content
    content_type = response.headers.get("Content-Type", "")
    head = body[:512].lstrip().lower()
    if "html" in content_type.lower() or head.startswith((b"<!doctype", b"<html", b"<head", b"<body")):
        raise DataSourceError("iShares sent a web page instead of the holdings CSV (an error or "
                              "consent page)", hint="Open the URL in a browser, save the CSV and import it.")
    return body


def fetch_holdings(url: str = DEFAULT_URL, timeout: float = DEFAULT_TIMEOUT,
                   session: requests.Session | None = None) -> SourceData:
    """Download and parse the current holdings (see :func:`download_holdings`)."""
    body = download_holdings(url, timeout, session)
    try:
        return parse_holdings_bytes(body, url)
    except InputError as exc:
        raise DataSourceError(f"the holdings file from iShares is malformed: {exc}") from None


def read_ishares(path: str | Path, *, today: date | None = None) -> SourceData:
    """Read a saved iShares holdings CSV.

    Args:
        path: the file.
        today: for the date checks (default: the UTC date).

    Raises:
        InputError: the file is malformed; the message names the file, line and field.
    """
    return parse_holdings_bytes(read_bytes(path, "ishares"), str(path), today=today)


def parse_holdings_bytes(data: bytes, origin: str, *, today: date | None = None) -> SourceData:
    """Decode and parse holdings bytes (a file's content or a download body)."""
    warnings: list[str] = []
    text = decode(data, origin, warnings)
    result = _parse_ishares(text, origin, today)
    result.warnings[:0] = warnings
    return result


def normalise_exchange(value: str) -> str:
    """``"New York Stock Exchange Inc."`` -> ``"NYSE"``, ``"Nyse Mkt Llc"`` -> ``"NYSE American"``."""
    key = " ".join(value.replace("\u00a0", " ").split()).lower()
    return EXCHANGES.get(key, value.strip())


_AS_OF_FORMATS = ("%b %d, %Y", "%B %d, %Y", "%Y-%m-%d", "%d-%b-%Y")  # "May 05, 2026", ISO, "05-May-2026"
_SLASHED = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")


def _parse_as_of(text: str, origin: str, line: int, today: date | None = None) -> date:
    """The ``Fund Holdings as of`` date, in one of :data:`_AS_OF_FORMATS` or an unambiguous
    ``a/b/YYYY``, within :func:`desktop.data._text.date_window`."""
    raw = text.strip().strip('"').strip()
    where = "Fund Holdings as of"
    found: date | None = None
    for fmt in _AS_OF_FORMATS:
        try:
            found = datetime.strptime(raw, fmt).date()
            break
        except ValueError:
            continue
    slashed = _SLASHED.match(raw)
    if found is None and slashed:
        a, b = int(slashed.group(1)), int(slashed.group(2))
        order = slashed_date_order(np.array([a]), np.array([b]), origin, line, where)
        day, month = (a, b) if order == "dmy" else (b, a)
        try:
            found = date(int(slashed.group(3)), month, day)
        except ValueError:
            found = None
    if found is None:
        raise InputError(f"cannot read the date {raw[:40]!r} (expected e.g. \"May 05, 2026\" or 2026-05-05)",
                         path=origin, line=line, field=where)
    return check_date(found, origin, line, where, today)


def _parse_ishares(text: str, origin: str, today: date | None = None) -> SourceData:
    """Parse holdings text into members and skipped rows (see module docstring)."""
    lines = text.splitlines(keepends=True)
    as_of: date | None = None
    header_index = None
    for i, raw_line in enumerate(lines[:60]):
        if len(raw_line) > MAX_COLUMNS * 50:
            raise InputError(f"line of {len(raw_line):,} characters before the header - is this an iShares "
                             "holdings file?", path=origin, line=i + 1)
        try:
            cells = next(csv.reader([raw_line], delimiter="\t" if "\t" in raw_line else ","), [])
        except csv.Error:
            continue  # a preamble line that is not CSV; the header search goes on
        if not cells:
            continue
        if _AS_OF.match(cells[0]) and len(cells) > 1:
            as_of = _parse_as_of(cells[1], origin, i + 1, today)
        first = cells[0].strip().strip("\ufeff")
        if first == "Ticker":
            header_index = i
            break
    if header_index is None:
        raise InputError(
            "no header line starting with 'Ticker' in the first 60 lines - is this an iShares "
            "holdings file?", path=origin, field="Ticker")
    delimiter = "\t" if "\t" in lines[header_index] else ","
    body = "".join(lines[header_index:])
    reader = csv.reader(io.StringIO(body, newline=""), delimiter=delimiter, strict=True)
    try:
        header = [h.strip().strip("\ufeff").strip() for h in next(reader)]
    except csv.Error as exc:
        raise InputError(f"malformed header ({exc})", path=origin, line=header_index + 1) from None
    if len(header) > MAX_COLUMNS:
        raise InputError(f"the header has {len(header):,} columns; at most {MAX_COLUMNS:,} are accepted",
                         path=origin, line=header_index + 1)
    col: dict[str, int] = {}
    for i, name in enumerate(header):
        if name and name in col:
            raise InputError(f"the column {name[:40]!r} appears twice in the header", path=origin,
                             line=header_index + 1, field=name[:40])
        col[name] = i
    for name in _REQUIRED:
        if name not in col:
            raise InputError(f"column {name!r} is missing (columns: {', '.join(header)[:200]})",
                             path=origin, line=header_index + 1, field=name)
    quantity_col = next((q for q in _QUANTITY if q in col), None)

    warnings: list[str] = []
    if as_of is None:
        warnings.append(f"{origin}: no 'Fund Holdings as of' date in the file (preamble stripped?)")
    elif as_of > (today or now_utc().date()):
        warnings.append(f"{origin}: the holdings are dated {as_of.isoformat()}, after today "
                        f"({(today or now_utc().date()).isoformat()}) - check the file's date")

    members: list[dict] = []
    skipped: list[SkippedRow] = []
    seen: dict[str, int] = {}
    rows_read = 0
    footer = False
    prev_end = header_index + 1  # physical line number of the header
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raise _csv_failure(exc, origin, header_index + reader.line_num) from None
        line_no = prev_end + 1
        prev_end = header_index + reader.line_num
        if not cells or all(is_blank(c) for c in cells):
            if members or skipped:
                footer = True  # the NBSP line before the disclaimer ends the table
                _check_footer(reader, origin, header_index, line_no)
                break
            continue
        if len(cells) != len(header):
            if len(cells) == 1 and (members or skipped):
                raise InputError(
                    "a line of one field where a holding or the end of the holdings (a blank line, then "
                    "the disclaimer) was expected - the file is damaged from this line on", path=origin,
                    line=line_no, hint="Download the holdings file again.")
            raise InputError(
                f"row has {len(cells)} fields but the header has {len(header)} (truncated or "
                "shifted row?)", path=origin, line=line_no)
        rows_read += 1
        row = dict(zip(header, cells, strict=True))
        _take_row(row, line_no, origin, quantity_col, members, skipped, seen, warnings)
    if not footer and as_of is not None:
        raise InputError(
            f"the holdings stop at line {prev_end} without the file's footer (a blank line and the "
            "disclaimer) - the file looks truncated", path=origin, line=prev_end,
            hint="Download the holdings file again.")
    if not members:
        raise InputError("no tradable equity holdings in the file", path=origin)

    frame = pd.DataFrame(members).set_index("symbol")[list(MEMBER_COLUMNS)]
    frame.index.name = "symbol"
    fetched = now_utc()
    obs = _member_observations(frame, as_of)
    return SourceData(source="ishares", origin=origin, as_of=as_of, fetched_at=fetched,
                      observations=obs, members=frame, skipped=skipped, warnings=warnings,
                      rows_read=rows_read)


def _csv_failure(exc: csv.Error, origin: str, line: int) -> InputError:
    if "field larger than field limit" in str(exc):
        return InputError(f"a cell is longer than {MAX_FIELD:,} characters - not a holdings file, or a "
                          "damaged one", path=origin, line=line)
    return InputError(f"malformed CSV ({exc}) - is the file truncated?", path=origin, line=line)


def _check_footer(reader: Any, origin: str, header_index: int, end_line: int) -> None:
    """After the blank line that ends the holdings: at most one single-field record (the
    disclaimer), then only blank lines. Anything else means the file is damaged."""
    disclaimer_seen = False
    prev_end = header_index + reader.line_num
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise _csv_failure(exc, origin, header_index + reader.line_num) from None
        line_no = prev_end + 1
        prev_end = header_index + reader.line_num
        if not cells or all(is_blank(c) for c in cells):
            continue
        if len(cells) == 1 and not disclaimer_seen:
            disclaimer_seen = True
            continue
        raise InputError(f"data after the end of the holdings (line {end_line}) and their disclaimer - "
                         "the file is damaged", path=origin, line=line_no,
                         hint="Download the holdings file again.")


def _take_row(row: dict[str, str], line: int, origin: str, quantity_col: str | None,
              members: list[dict], skipped: list[SkippedRow], seen: dict[str, int],
              warnings: list[str]) -> None:
    ticker = row["Ticker"].replace("\u00a0", " ").strip()
    name = row["Name"].replace("\u00a0", " ").strip()
    asset_class = row["Asset Class"].strip()
    exchange_raw = row.get("Exchange", "").strip()

    def skip(reason: str) -> None:
        skipped.append(SkippedRow(line=line, ticker=ticker or "-", reason=reason))

    if asset_class.lower() != "equity":
        skip(_NON_EQUITY.get(asset_class.lower(), f"not equity ({asset_class[:40] or 'no asset class'})"))
        return
    if ticker in ("", "-"):
        skip("private placement" if _PRIVATE.search(name) else "no ticker (unlisted holding)")
        return
    if _CVR.search(name):
        skip("CVR (contingent value right)")
        return
    if _ESCROW.search(name):
        skip("escrow")
        return
    if exchange_raw.lower() in UNTRADABLE_EXCHANGES:
        skip(UNTRADABLE_EXCHANGES[exchange_raw.lower()])
        return
    if not symbols.is_valid_ticker(ticker):
        skip(f"not a ticker symbol ({ticker[:20]!r})")
        return
    symbol = symbols.to_yahoo(ticker)
    if symbol in seen:
        skip(f"duplicate of line {seen[symbol]}")
        return
    seen[symbol] = line
    if len(name) > MAX_NAME:
        warnings.append(f"{origin}: line {line}: name of {ticker} is {len(name)} characters; kept the first {MAX_NAME}")
        name = name[:MAX_NAME]
    exchange = normalise_exchange(exchange_raw)
    if exchange not in EXCHANGES.values():
        warnings.append(f"{origin}: line {line}: unknown exchange {exchange_raw[:40]!r} for {ticker}; kept as written")
    weight = parse_number(row.get("Weight (%)", ""), origin, line, "Weight (%)")
    price = parse_number(row.get("Price", ""), origin, line, "Price")
    # Validated although not kept: a garbled number anywhere in a row means a garbled file.
    if quantity_col:
        parse_number(row.get(quantity_col, ""), origin, line, quantity_col)
    parse_number(row.get("Market Value", ""), origin, line, "Market Value")
    if price < 0 or price > 1e7:
        warnings.append(f"{origin}: line {line}: price {price:g} of {ticker} is implausible; treated as missing")
        price = float("nan")
    elif price == 0:
        price = float("nan")  # iShares prints 0.00 for halted names: that is "no price", not zero
    if weight < 0 or weight > 100:
        warnings.append(f"{origin}: line {line}: weight {weight:g} % of {ticker} is implausible; treated as missing")
        weight = float("nan")
    members.append({
        "symbol": symbol,
        "ticker": ticker,
        "name": name,
        "index_sector": row.get("Sector", "").strip() or None,
        "index_weight": weight / 100.0,
        "exchange": exchange,
        "price": price,
    })


MEMBER_COLUMNS = ("ticker", "name", "index_sector", "index_weight", "exchange", "price")
_TEXT = ("ticker", "name", "index_sector", "exchange")
_NUM = ("index_weight", "price")


def _member_observations(frame: pd.DataFrame, as_of: date | None) -> pd.DataFrame:
    from desktop.data._text import melt_observations

    wide = frame[list(_TEXT + _NUM)]
    return melt_observations(wide, text_fields=set(_TEXT), periods={}, as_of=as_of)

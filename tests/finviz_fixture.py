"""Builds Finviz screener exports for tests from rows of invented values.

No Finviz CSV is committed: the export layout (column names, quoting) lives here as data and every test
writes the file it needs into a temporary directory. All tickers, names and numbers below are invented.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

# The export's 66 columns, in order.
FINVIZ_COLUMNS: tuple[str, ...] = (
    "No.", "Ticker", "Company", "Sector", "Industry", "Country", "Market Cap", "P/E", "Forward P/E", "PEG",
    "P/S", "P/B", "P/Free Cash Flow", "Book/sh", "Cash/sh", "Dividend Yield", "Dividend TTM", "Payout Ratio",
    "EPS (ttm)", "EPS Growth This Year", "EPS Growth Past 3 Years", "EPS Growth Past 5 Years",
    "EPS Growth Next 5 Years", "Sales Growth Past 3 Years", "Sales Growth Past 5 Years",
    "Sales Growth Quarter Over Quarter", "Sales", "Income", "Enterprise Value", "EV/EBITDA",
    "Shares Outstanding", "Insider Ownership", "Insider Transactions", "Institutional Ownership",
    "Institutional Transactions", "Short Interest", "Return on Assets", "Return on Equity",
    "Return on Invested Capital", "Current Ratio", "Quick Ratio", "LT Debt/Equity", "Total Debt/Equity",
    "Gross Margin", "Operating Margin", "Profit Margin", "Performance (Month)", "Performance (Quarter)",
    "Performance (Year)", "Performance (3 Years)", "Performance (5 Years)", "Beta", "Volatility (Week)",
    "Volatility (Month)", "50-Day Simple Moving Average", "200-Day Simple Moving Average", "52-Week High",
    "52-Week Low", "Relative Strength Index (14)", "Earnings Date", "Analyst Recom", "Average Volume",
    "Relative Volume", "Volume", "Price", "Change",
)
# The export quotes these text fields (and every header name); numbers, percentages and dates are bare.
QUOTED_COLUMNS: frozenset[str] = frozenset({"Ticker", "Company", "Sector", "Industry", "Country"})
# The Ticker and Company columns under another name, as in an export from a changed screener layout.
RENAMED_COLUMNS: tuple[str, ...] = tuple(
    {"Ticker": "Symbol", "Company": "Name"}.get(c, c) for c in FINVIZ_COLUMNS)

_COMMON = {"Country": "USA", "Earnings Date": "3/14/2024 4:30:00 PM", "Change": "-0.31%"}

# Six invented companies covering the reader's cases: derived FCF/EBITDA, negative book value and
# EV/EBITDA, empty (missing) fields, an ETF without market cap, a bank with the "Financial" sector.
SAMPLE_ROWS: tuple[Mapping[str, str], ...] = (
    {**_COMMON, "Ticker": "QZAL", "Company": "Quartzaline Energy Corp", "Sector": "Industrials",
     "Industry": "Specialty Industrial Machinery", "Market Cap": "1204.37", "P/Free Cash Flow": "20.00",
     "Book/sh": "9.40", "Dividend Yield": "0.52%", "Sales": "640.00", "Income": "48.10",
     "Enterprise Value": "1500.00", "EV/EBITDA": "10.00", "Shares Outstanding": "24.99",
     "Current Ratio": "1.60", "Quick Ratio": "1.10", "Total Debt/Equity": "0.45", "Gross Margin": "41.20%",
     "Beta": "1.10", "Price": "48.20"},
    {**_COMMON, "Ticker": "PLNK", "Company": "Plinkett Systems, Inc", "Sector": "Technology",
     "Industry": "Semiconductors", "Market Cap": "655.12", "Book/sh": "3.60", "Dividend Yield": "0.52%",
     "Sales": "300.00", "Income": "-20.00", "Enterprise Value": "700.00", "Shares Outstanding": "18.00",
     "Current Ratio": "3.10", "Quick Ratio": "2.50", "Total Debt/Equity": "0.00", "Gross Margin": "41.20%",
     "Beta": "1.90", "Price": "36.40"},
    {**_COMMON, "Ticker": "QQZ-A", "Company": "Quizzical Holdings Inc", "Sector": "Industrials",
     "Industry": "Aerospace & Defense", "Market Cap": "198.45", "P/Free Cash Flow": "14.00",
     "Book/sh": "-2.00", "Dividend Yield": "0.52%", "Sales": "500.00", "Income": "10.00",
     "Enterprise Value": "350.00", "EV/EBITDA": "-7.00", "Shares Outstanding": "8.27",
     "Current Ratio": "1.10", "Quick Ratio": "0.70", "Gross Margin": "41.20%", "Beta": "0.95",
     "Price": "24.00"},
    {**_COMMON, "Ticker": "LOMBA", "Company": "Lombardi Media Inc", "Sector": "Communication Services",
     "Industry": "Broadcasting", "Market Cap": "96.30", "Dividend Yield": "0.52%",
     "Shares Outstanding": "8.56", "Gross Margin": "41.20%"},
    {**_COMMON, "Ticker": "ZZETF", "Company": "Fictional Small Cap ETF", "Sector": "Financial",
     "Industry": "Exchange Traded Fund", "Dividend Yield": "0.52%", "Gross Margin": "41.20%",
     "Price": "17.50"},
    {**_COMMON, "Ticker": "BANQ", "Company": "Banque Fictive Corp", "Sector": "Financial",
     "Industry": "Banks - Regional", "Market Cap": "880.00", "Book/sh": "20.00", "Dividend Yield": "0.52%",
     "Sales": "210.00", "Income": "40.00", "Shares Outstanding": "44.00", "Total Debt/Equity": "0.30",
     "Gross Margin": "41.20%", "Beta": "0.80", "Price": "20.00"},
)


def _quote(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def finviz_csv_text(rows: Iterable[Mapping[str, str]], columns: Sequence[str] = FINVIZ_COLUMNS) -> str:
    """The text of a Finviz export holding ``rows``.

    Args:
        rows: One mapping per company, column name -> field text as Finviz prints it ("1204.37", "0.52%");
            absent columns are empty. "No." is numbered from 1 unless given.
        columns: The header, in order (pass another list to simulate a changed layout).

    Returns:
        The CSV text: every header name quoted, text columns quoted, other fields bare, CRLF-free.
    """
    lines = [",".join(_quote(c) for c in columns)]
    for number, row in enumerate(rows, start=1):
        fields = []
        for col in columns:
            value = row.get(col, str(number) if col == "No." else "")
            fields.append(_quote(value) if col in QUOTED_COLUMNS or col in ("Symbol", "Name") else value)
        lines.append(",".join(fields))
    return "\n".join(lines) + "\n"


def write_finviz(path: Path, rows: Iterable[Mapping[str, str]] = SAMPLE_ROWS,
                 columns: Sequence[str] = FINVIZ_COLUMNS) -> Path:
    """Write a Finviz export of ``rows`` to ``path`` (UTF-8) and return ``path``.

    Args:
        path: The file to create; its name carries the export date (``finviz_export_YYYY-MM-DD.csv``).
        rows: See :func:`finviz_csv_text`; defaults to :data:`SAMPLE_ROWS`.
        columns: The header, in order.

    Returns:
        ``path``.
    """
    path.write_text(finviz_csv_text(rows, columns), encoding="utf-8")
    return path


def with_changes(ticker: str, changes: Mapping[str, str]) -> list[dict[str, str]]:
    """:data:`SAMPLE_ROWS` with some fields of company ``ticker`` replaced by ``changes``."""
    return [{**row, **changes} if row["Ticker"] == ticker else dict(row) for row in SAMPLE_ROWS]

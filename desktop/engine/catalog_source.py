"""Fields that sources provide (issue #3): the index file, Yahoo, Finviz and SimFin.

``BASE_FIELDS`` are the fields a source may report (``canonical.merge`` chooses one value per
security among the sources). Statement lines among them (revenue, debt...) reach the table through
the dated statement rows of ``desktop.engine.statements``; the others are shown as reported, dated
by the observation and stale by their ``freshness`` (see ``desktop.engine.field``).

Finviz export columns not listed here: ``No.`` (the export's row number, not a property of the
company). Every other of its 66 columns is a field (``desktop/data/finviz.py`` maps them).
"""

from __future__ import annotations

from desktop.engine.field import Field


def _f(name: str, label: str, unit: str, definition: str, group: str, sources: str = "",
       formula: str = "", caveats: str = "", freshness: str = "") -> Field:
    return Field(name, label, unit, definition, group, formula, sources, caveats, freshness)


_FV = "Finviz export"


_CORE: tuple[Field, ...] = (
    _f("symbol", "Symbol", "text", "Ticker symbol as Yahoo Finance and Finviz spell it (MOG-A).", "Profile",
       "iShares ticker mapped to Yahoo spelling"),
    _f("ticker", "Ticker", "text", "Ticker as the index provider lists it (iShares spelling, e.g. MOGA).",
       "Profile", "iShares holdings"),
    _f("name", "Name", "text", "Company name.", "Profile", "iShares, SimFin, Finviz, Yahoo"),
    _f("exchange", "Exchange", "category", "Listing exchange (normalised: NASDAQ, NYSE, NYSE American).",
       "Profile", "iShares"),
    _f("in_index", "Index member", "bool", "Listed as a tradable equity holding of the index file.",
       "Profile", "iShares holdings"),
    _f("index_weight", "Index weight", "fraction", "Weight of the security in the index fund.",
       "Profile", "iShares 'Weight (%)' / 100"),
    _f("index_sector", "Index sector", "category", "GICS-like sector as the index provider reports it.",
       "Profile", "iShares 'Sector'"),
    _f("sector", "Sector", "category", "Morningstar-like sector (Yahoo/Finviz/SimFin naming).", "Profile",
       "Yahoo profile, Finviz, SimFin industries"),
    _f("industry", "Industry", "category", "Industry within the sector.", "Profile",
       "Yahoo profile, Finviz, SimFin industries"),
    _f("description", "Business summary", "text", "The company's business description.", "Profile",
       "Yahoo longBusinessSummary, SimFin Business Summary", caveats="Can be years out of date."),
    _f("listing_date", "Listed since", "date", "First trading day, when known.", "Profile",
       "Yahoo firstTradeDateMilliseconds"),
    # The SEC's identity and classification of the company (issue #14).
    _f("cik", "SEC CIK", "text", "The SEC's Central Index Key: the company's identity in EDGAR (ten digits).",
       "Profile", "SEC company_tickers.json and companyfacts, SimFin CIK",
       caveats="A ticker whose CIK changed is another company: its earlier records are dropped."),
    _f("sic", "SIC code", "text", "The SEC's four-digit Standard Industrial Classification code.", "Profile",
       "SEC submissions sic", caveats="Feeds the kinds of company (banks, insurers, lenders) and theme rules."),
    _f("sic_description", "SIC industry", "text", "The SEC's name of the SIC code.", "Profile",
       "SEC submissions sicDescription"),
    _f("former_names", "Former names", "text", "Earlier names of the company, as the SEC lists them.", "Profile",
       "SEC submissions formerNames"),
    _f("price", "Price", "usd_share", "Last price.", "Market", "iShares Price, Yahoo currentPrice, Finviz Price", freshness="market"),
    _f("market_cap", "Market cap", "usd", "Equity market value: price x shares outstanding.", "Market",
       "Yahoo marketCap, Finviz Market Cap (millions)", freshness="market"),
    _f("enterprise_value", "Enterprise value", "usd", "Market cap + total debt - cash.", "Market",
       "Yahoo enterpriseValue, Finviz Enterprise Value", freshness="market"),
    _f("shares_outstanding", "Shares outstanding", "shares", "Shares outstanding.", "Market",
       "Yahoo sharesOutstanding, Finviz Shares Outstanding (millions)", freshness="market"),
    _f("beta", "Beta", "beta", "Market beta as reported by the source (5y monthly vs S&P 500).", "Market",
       "Yahoo beta, Finviz Beta", freshness="market"),
    _f("revenue", "Revenue", "usd", "Total revenue, trailing twelve months or last fiscal year.", "Income",
       "Yahoo totalRevenue, Finviz Sales, SimFin Revenue"),
    _f("ebitda", "EBITDA", "usd", "Earnings before interest, taxes, depreciation and amortisation.", "Income",
       "Yahoo ebitda, derived from Finviz EV / (EV/EBITDA)",
       caveats="Banks have no EBITDA in Yahoo's sense."),
    _f("ebit", "EBIT", "usd", "Earnings before interest and taxes.", "Income",
       "Yahoo EBIT statement row; SimFin has only Operating Income (used instead, flagged)"),
    _f("operating_income", "Operating income", "usd", "Operating income (loss).", "Income",
       "SimFin Operating Income (Loss), Yahoo Operating Income"),
    _f("interest_expense", "Interest expense", "usd",
       "Interest expense, positive for a net expense.", "Income",
       "Yahoo Interest Expense statement row; SimFin Interest Expense, Net (sign flipped)",
       caveats="SimFin reports interest net of interest income."),
    _f("net_income", "Net income", "usd", "Net income.", "Income", "Yahoo netIncomeToCommon, Finviz Income"),
    _f("operating_cash_flow", "Operating cash flow", "usd", "Net cash from operating activities.",
       "Cash flow", "Yahoo operatingCashflow, SimFin Net Cash from Operating Activities"),
    _f("capital_expenditure", "Capital expenditure", "usd",
       "Capital expenditure, negative as an outflow.", "Cash flow",
       "Yahoo Capital Expenditure, SimFin Change in Fixed Assets & Intangibles"),
    _f("free_cash_flow", "Free cash flow", "usd", "Operating cash flow plus capital expenditure.",
       "Cash flow", "Yahoo Free Cash Flow statement row, SimFin OCF + capex, Finviz market cap / (P/FCF)",
       formula="operating_cash_flow + capital_expenditure"),
    _f("levered_free_cash_flow", "Levered FCF (Yahoo)", "usd",
       "Yahoo's .info freeCashflow: levered free cash flow after interest.", "Cash flow", "Yahoo freeCashflow", freshness="fundamental"),
    _f("total_debt", "Total debt", "usd", "Short-term plus long-term debt.", "Balance sheet",
       "Yahoo totalDebt, SimFin Short Term Debt + Long Term Debt"),
    _f("current_debt", "Current debt", "usd", "Debt due within one year.", "Balance sheet",
       "Yahoo Current Debt, SimFin Short Term Debt"),
    _f("long_term_debt", "Long-term debt", "usd", "Debt due after one year.", "Balance sheet",
       "Yahoo Long Term Debt, SimFin Long Term Debt"),
    _f("cash", "Cash", "usd", "Cash, equivalents and short-term investments.", "Balance sheet",
       "Yahoo totalCash, SimFin Cash, Cash Equivalents & Short Term Investments"),
    _f("total_equity", "Total equity", "usd", "Shareholders' equity.", "Balance sheet", "SimFin Total Equity"),
    _f("total_assets", "Total assets", "usd", "Total assets.", "Balance sheet", "SimFin Total Assets"),
    _f("gross_profit", "Gross profit", "usd", "Revenue minus the cost of revenue.", "Income",
       "SimFin Gross Profit, Yahoo Gross Profit statement row, SEC GrossProfit"),
    _f("shares_diluted", "Diluted shares (weighted)", "shares",
       "Weighted average diluted shares of the period (the EPS denominator).", "Income",
       "SimFin Shares (Diluted), Yahoo Diluted Average Shares statement row"),
    _f("dividends_paid", "Dividends paid", "usd", "Cash dividends paid, negative as an outflow.", "Cash flow",
       "SimFin Dividends Paid, Yahoo Cash Dividends Paid, SEC PaymentsOfDividends (sign flipped)"),
    _f("net_equity_issuance", "Net equity issuance", "usd",
       "Cash from issuing shares minus cash spent on buybacks (negative: net buybacks).", "Cash flow",
       "SimFin Cash from (Repurchase of) Equity, Yahoo Net Common Stock Issuance",
       caveats="A net figure: a company that raised and bought back shows only the difference."),
    _f("stock_based_compensation", "Stock-based compensation", "usd",
       "Share-based pay expensed in the period (a non-cash cost that dilutes).", "Cash flow",
       "Yahoo Stock Based Compensation statement row, SEC ShareBasedCompensation",
       caveats="SimFin's files have no such line: missing for SimFin-only companies."),
    _f("current_ratio", "Current ratio", "ratio", "Current assets / current liabilities.", "Balance sheet",
       "Yahoo currentRatio, Finviz Current Ratio", freshness="fundamental"),
    _f("quick_ratio", "Quick ratio", "ratio", "(Current assets - inventories) / current liabilities.",
       "Balance sheet", "Yahoo quickRatio, Finviz Quick Ratio", freshness="fundamental"),
    _f("reported_debt_to_equity", "Debt/equity (reported)", "ratio",
       "Debt / equity as the source reports it (Yahoo percent converted to a ratio).", "Balance sheet",
       "Yahoo debtToEquity / 100, Finviz Total Debt/Equity", freshness="fundamental"),
)

# Figures a vendor reports that the engine also computes from statements or prices: the
# computed field uses the reported one only where it has no value of its own (its "reported
# twin", ``catalog_computed.TWINS``), and says so in its origin.
REPORTED_TWINS: tuple[Field, ...] = (
    _f("reported_pe", "P/E (reported)", "ratio", "Price / trailing-twelve-month EPS as the source reports it.",
       "Valuation", f"{_FV} 'P/E'", caveats="Empty when earnings are negative.", freshness="market"),
    _f("reported_ps", "P/S (reported)", "ratio", "Market cap / trailing sales as the source reports it.",
       "Valuation", f"{_FV} 'P/S'", freshness="market"),
    _f("reported_pb", "P/B (reported)", "ratio", "Price / book value per share as the source reports it.",
       "Valuation", f"{_FV} 'P/B'", freshness="market"),
    _f("reported_pfcf", "P/FCF (reported)", "ratio", "Market cap / trailing free cash flow as the source reports it.",
       "Valuation", f"{_FV} 'P/Free Cash Flow'", caveats="Empty when free cash flow is negative.",
       freshness="market"),
    _f("reported_ev_to_ebitda", "EV/EBITDA (reported)", "ratio", "Enterprise value / trailing EBITDA as the "
       "source reports it.", "Valuation", f"{_FV} 'EV/EBITDA'", caveats="Empty when EBITDA is not positive.",
       freshness="market"),
    _f("reported_dividend_yield", "Dividend yield (reported)", "fraction",
       "Trailing dividends per share / price as the source reports it.", "Dilution & capital",
       f"{_FV} 'Dividend Yield'", caveats="Empty for non-payers and for unknown: missing, never 0.",
       freshness="market"),
    _f("reported_payout_ratio", "Payout ratio (reported)", "fraction", "Dividends / net income as the source "
       "reports it.", "Dilution & capital", f"{_FV} 'Payout Ratio'", freshness="fundamental"),
    _f("reported_eps_growth_3y", "EPS growth 3y (reported)", "fraction",
       "Annual EPS growth over the past 3 years as the source reports it.", "Growth",
       f"{_FV} 'EPS Growth Past 3 Years'", freshness="fundamental"),
    _f("reported_revenue_growth_3y", "Sales growth 3y (reported)", "fraction",
       "Annual sales growth over the past 3 years as the source reports it.", "Growth",
       f"{_FV} 'Sales Growth Past 3 Years'", freshness="fundamental"),
    _f("reported_gross_margin", "Gross margin (reported)", "fraction", "Gross profit / revenue, trailing, as "
       "the source reports it.", "Profitability", f"Yahoo grossMargins, {_FV} 'Gross Margin'",
       freshness="fundamental"),
    _f("reported_operating_margin", "Operating margin (reported)", "fraction",
       "Operating income / revenue, trailing, as the source reports it.", "Profitability",
       f"Yahoo operatingMargins, {_FV} 'Operating Margin'", freshness="fundamental"),
    _f("reported_net_margin", "Net margin (reported)", "fraction", "Net income / revenue, trailing, as the "
       "source reports it.", "Profitability", f"Yahoo profitMargins, {_FV} 'Profit Margin'",
       freshness="fundamental"),
    _f("reported_roa", "ROA (reported)", "fraction", "Return on assets as the source reports it.",
       "Profitability", f"Yahoo returnOnAssets, {_FV} 'Return on Assets'", freshness="fundamental"),
    _f("reported_roe", "ROE (reported)", "fraction", "Return on equity as the source reports it.",
       "Profitability", f"Yahoo returnOnEquity, {_FV} 'Return on Equity'", freshness="fundamental"),
    _f("reported_roic", "ROIC (reported)", "fraction", "Return on invested capital as the source reports it.",
       "Profitability", f"{_FV} 'Return on Invested Capital'", freshness="fundamental"),
    _f("reported_return_1m", "Return 1m (reported)", "fraction", "Price change over the last month as the "
       "source reports it.", "Momentum & risk", f"{_FV} 'Performance (Month)'", freshness="market"),
    _f("reported_return_3m", "Return 3m (reported)", "fraction", "Price change over the last quarter as the "
       "source reports it.", "Momentum & risk", f"{_FV} 'Performance (Quarter)'", freshness="market"),
    _f("reported_return_12m", "Return 12m (reported)", "fraction", "Price change over the last year as the "
       "source reports it.", "Momentum & risk", f"{_FV} 'Performance (Year)'", freshness="market"),
    _f("reported_dist_52w_high", "From 52w high (reported)", "fraction", "Price / 52-week high - 1 as the "
       "source reports it.", "Momentum & risk", f"{_FV} '52-Week High'",
       caveats="Finviz uses intraday highs.", freshness="market"),
    _f("reported_dist_52w_low", "From 52w low (reported)", "fraction", "Price / 52-week low - 1 as the source "
       "reports it.", "Momentum & risk", f"{_FV} '52-Week Low'", caveats="Finviz uses intraday lows.",
       freshness="market"),
    _f("reported_high_52w", "52w high (reported)", "usd_share", "The 52-week high price, from the source's "
       "price and distance to it.", "Momentum & risk", f"{_FV} 'Price' / (1 + '52-Week High') (derived on import)",
       caveats="Finviz uses intraday highs.", freshness="market"),
    _f("reported_low_52w", "52w low (reported)", "usd_share", "The 52-week low price, from the source's "
       "price and distance to it.", "Momentum & risk", f"{_FV} 'Price' / (1 + '52-Week Low') (derived on import)",
       caveats="Finviz uses intraday lows.", freshness="market"),
    _f("reported_sma50_distance", "From 50-day SMA (reported)", "fraction", "Price / 50-day simple moving "
       "average - 1 as the source reports it.", "Momentum & risk", f"{_FV} '50-Day Simple Moving Average'",
       freshness="market"),
    _f("reported_sma200_distance", "From 200-day SMA (reported)", "fraction", "Price / 200-day simple moving "
       "average - 1 as the source reports it.", "Momentum & risk", f"{_FV} '200-Day Simple Moving Average'",
       freshness="market"),
    _f("reported_avg_volume", "Average volume (reported)", "shares", "Average daily volume (3 months) as the "
       "source reports it.", "Liquidity", f"{_FV} 'Average Volume' (thousands of shares)",
       caveats="The shared data README says millions; the figures are thousands (RIOT 39,556 = 39.6M "
       "shares a day, matching its daily volumes).", freshness="market"),
    _f("reported_avg_dollar_volume", "Average $ volume (reported)", "usd", "Average daily volume x price of "
       "the same export.", "Liquidity", f"{_FV} 'Average Volume' x 'Price' (derived on import)",
       freshness="market"),
)

# Figures only a vendor has (no statement or price history gives them).
REPORTED_ONLY: tuple[Field, ...] = (
    _f("country", "Country", "category", "Country of the company's headquarters.", "Profile", f"{_FV} 'Country'"),
    _f("forward_pe", "Forward P/E", "ratio", "Price / next fiscal year's consensus EPS.", "Valuation",
       f"{_FV} 'Forward P/E'", caveats="An analyst estimate, not a reported figure.", freshness="market"),
    _f("peg", "PEG", "ratio", "P/E divided by the expected EPS growth of the next 5 years (in percent).",
       "Valuation", f"{_FV} 'PEG'", caveats="Built on an analyst estimate.", freshness="market"),
    _f("book_per_share", "Book value / share", "usd_share", "Shareholders' equity per share.", "Valuation",
       f"{_FV} 'Book/sh'", freshness="fundamental"),
    _f("cash_per_share", "Cash / share", "usd_share", "Cash and short-term investments per share.", "Valuation",
       f"Yahoo totalCashPerShare, {_FV} 'Cash/sh'", freshness="fundamental"),
    _f("revenue_per_share", "Revenue / share", "usd_share", "Trailing revenue per share.", "Valuation",
       "Yahoo revenuePerShare", freshness="fundamental"),
    _f("eps_ttm", "EPS (ttm, reported)", "usd_share", "Diluted earnings per share, trailing twelve months.",
       "Valuation", f"{_FV} 'EPS (ttm)'", freshness="fundamental"),
    _f("dividend_per_share", "Dividend / share (ttm)", "usd_share", "Dividends per share paid over the "
       "trailing twelve months.", "Dilution & capital", f"{_FV} 'Dividend TTM'", freshness="fundamental"),
    _f("eps_growth_this_year", "EPS growth this year (est.)", "fraction",
       "Expected EPS growth of the current fiscal year.", "Growth", f"{_FV} 'EPS Growth This Year'",
       caveats="An analyst estimate.", freshness="fundamental"),
    _f("eps_growth_next_5y", "EPS growth next 5y (est.)", "fraction", "Expected annual EPS growth over the "
       "next 5 years.", "Growth", f"{_FV} 'EPS Growth Next 5 Years'", caveats="An analyst estimate.",
       freshness="fundamental"),
    _f("eps_growth_past_5y", "EPS growth 5y (reported)", "fraction", "Annual EPS growth over the past 5 years.",
       "Growth", f"{_FV} 'EPS Growth Past 5 Years'", freshness="fundamental"),
    _f("revenue_growth_past_5y", "Sales growth 5y (reported)", "fraction", "Annual sales growth over the past "
       "5 years.", "Growth", f"{_FV} 'Sales Growth Past 5 Years'", freshness="fundamental"),
    _f("revenue_growth_quarter", "Sales growth (quarter y/y)", "fraction", "Latest quarter's revenue against "
       "the same quarter a year earlier.", "Growth",
       f"Yahoo revenueGrowth, {_FV} 'Sales Growth Quarter Over Quarter'", freshness="fundamental"),
    _f("earnings_growth_quarter", "Earnings growth (quarter y/y)", "fraction", "Latest quarter's earnings "
       "against the same quarter a year earlier.", "Growth", "Yahoo earningsGrowth", freshness="fundamental"),
    _f("reported_ebitda_margin", "EBITDA margin (reported)", "fraction", "EBITDA / revenue, trailing, as the "
       "source reports it.", "Profitability", "Yahoo ebitdaMargins", freshness="fundamental"),
    _f("reported_lt_debt_to_equity", "LT debt/equity (reported)", "ratio", "Long-term debt / equity as the "
       "source reports it.", "Balance sheet", f"{_FV} 'LT Debt/Equity'", freshness="fundamental"),
    _f("insider_ownership", "Insider ownership", "fraction", "Share of the shares outstanding held by insiders.",
       "Ownership", f"{_FV} 'Insider Ownership'", freshness="ownership"),
    _f("insider_transactions", "Insider transactions", "fraction", "Change of insiders' holdings over the "
       "last 6 months (negative: insiders sold).", "Ownership", f"{_FV} 'Insider Transactions'",
       caveats="From Form 4 filings; 0 % is a real value (no net change).", freshness="ownership"),
    _f("institutional_ownership", "Institutional ownership", "fraction", "Share of the shares outstanding held "
       "by institutions.", "Ownership", f"{_FV} 'Institutional Ownership'",
       caveats="From 13F filings, which lag up to 45 days after a quarter.", freshness="ownership"),
    _f("institutional_transactions", "Institutional transactions", "fraction", "Change of institutions' "
       "holdings over the last 3 months.", "Ownership", f"{_FV} 'Institutional Transactions'",
       freshness="ownership"),
    _f("short_interest", "Short interest", "shares", "Shares sold short and not yet covered.", "Ownership",
       f"{_FV} 'Short Interest' (millions of shares)", caveats="Exchanges publish it twice a month.",
       freshness="ownership"),
    _f("return_3y", "Return 3y (reported)", "fraction", "Price change over the last 3 years.",
       "Momentum & risk", f"{_FV} 'Performance (3 Years)'", freshness="market"),
    _f("return_5y", "Return 5y (reported)", "fraction", "Price change over the last 5 years.",
       "Momentum & risk", f"{_FV} 'Performance (5 Years)'", freshness="market"),
    _f("volatility_week", "Volatility (week)", "fraction", "Finviz's weekly volatility: the average daily "
       "price range of the last week.", "Momentum & risk", f"{_FV} 'Volatility (Week)'",
       caveats="Not the standard deviation of returns (see volatility_1y).", freshness="market"),
    _f("volatility_month", "Volatility (month)", "fraction", "Finviz's monthly volatility: the average daily "
       "price range of the last month.", "Momentum & risk", f"{_FV} 'Volatility (Month)'",
       caveats="Not the standard deviation of returns (see volatility_1y).", freshness="market"),
    _f("rsi_14", "RSI (14)", "number", "Relative strength index over 14 days (0-100; above 70 overbought, "
       "below 30 oversold).", "Momentum & risk", f"{_FV} 'Relative Strength Index (14)'", freshness="market"),
    _f("price_change_today", "Change today", "fraction", "Price change on the export's day.", "Market",
       f"{_FV} 'Change'", caveats="An export made before the open shows 0 %.", freshness="market"),
    _f("volume", "Volume (day)", "shares", "Shares traded on the export's day so far.", "Liquidity",
       f"{_FV} 'Volume'", caveats="An export made before the open shows 0.", freshness="market"),
    _f("relative_volume", "Relative volume", "ratio", "The day's volume / average volume.", "Liquidity",
       f"{_FV} 'Relative Volume'", freshness="market"),
    _f("analyst_recommendation", "Analyst recommendation", "number", "Mean analyst rating, 1 (strong buy) "
       "to 5 (sell).", "Analysts", f"Yahoo recommendationMean, {_FV} 'Analyst Recom'", freshness="market"),
    _f("analyst_count", "Analysts", "count", "Analysts behind the recommendation and target.", "Analysts",
       "Yahoo numberOfAnalystOpinions", freshness="market"),
    _f("target_price", "Target price", "usd_share", "Mean analyst price target.", "Analysts",
       "Yahoo targetMeanPrice", freshness="market"),
    _f("earnings_date", "Earnings date", "date", "Next (or last) earnings announcement.", "Analysts",
       f"{_FV} 'Earnings Date'"),
)

BASE_FIELDS: tuple[Field, ...] = _CORE + REPORTED_TWINS + REPORTED_ONLY

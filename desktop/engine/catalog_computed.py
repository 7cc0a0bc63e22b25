"""Fields the engine computes (``desktop.engine.metrics`` and its stages), with their formulas.

The formulas here are the documentation: docs/metrics.md, tooltips and the Excel Provenance sheet
show these strings. Ratios of statement lines take every statement input from ONE dated statement
row (``desktop.engine.statements``); growth compares rows of one source and consecutive fiscal
years; momentum and liquidity come from the daily closes (and volumes) in ``Dataset.prices``.
"""

from __future__ import annotations

from desktop.engine.field import Field

_ROW = "(one statement row)"
_FY = "fiscal years of one source"
_PX = "daily closes"


def _m(name: str, label: str, unit: str, definition: str, group: str, formula: str, sources: str,
       caveats: str = "") -> Field:
    return Field(name, label, unit, definition, group, formula, sources, caveats)


def shocked_field(bp: int) -> Field:
    """Catalogue entry of ``shocked_coverage_<bp>``."""
    return _m(
        f"shocked_coverage_{bp}", f"Coverage at +{bp} bp", "ratio",
        f"Interest coverage if rates rose {bp} basis points on the debt that reprices within a year.",
        "Rate sensitivity",
        f"EBIT / (max(interest_expense, 0) + {bp / 10000:g} x repricing_debt)",
        "ebit (or operating_income), interest_expense, current_debt, long_term_debt",
        "Repricing debt is an assumption (see repricing_debt). n.m. when EBIT is missing; "
        "infinite when there is neither interest expense nor repricing debt.",
    )


METRIC_FIELDS: tuple[Field, ...] = (
    _m("fcf_yield", "FCF yield", "fraction", "Free cash flow as a share of market value.", "Cash flow",
       "free_cash_flow / market_cap", "free_cash_flow, market_cap",
       "n.m. when market cap is not positive."),
    _m("fcf_margin", "FCF margin", "fraction", "Free cash flow per dollar of revenue.", "Cash flow",
       "free_cash_flow / revenue", "free_cash_flow, revenue", "n.m. when revenue is not positive."),
    _m("ocf_positive", "OCF positive", "bool", "Operating cash flow is above zero.", "Cash flow",
       "operating_cash_flow > 0", "operating_cash_flow"),
    _m("fcf_positive", "FCF positive", "bool", "Free cash flow is above zero.", "Cash flow",
       "free_cash_flow > 0", "free_cash_flow"),
    _m("fcf_positive_years", "FCF-positive years", "count",
       "How many of the last 4 fiscal years had free cash flow above zero.", "Cash flow",
       "count(fiscal years in the 4-year window ending at the latest year with FCF, FCF > 0)",
       "history: free_cash_flow or operating_cash_flow + capital_expenditure",
       "Counts only years with data; a note says when fewer than 4 years are known."),
    _m("cash_runway_months", "Cash runway", "months",
       "Months the cash pile lasts at the current free-cash-flow burn; infinite for FCF >= 0.",
       "Cash flow", "cash / (-free_cash_flow / 12) when free_cash_flow < 0, else infinity",
       "cash, free_cash_flow", "Ignores undrawn credit lines and future financing."),
    _m("net_debt", "Net debt", "usd", "Debt minus cash; negative means net cash.", "Leverage",
       "total_debt - cash", "total_debt, cash"),
    _m("net_debt_to_ebitda", "Net debt / EBITDA", "ratio",
       "Years of EBITDA needed to repay net debt; negative means net cash.", "Leverage",
       "net_debt / ebitda", "total_debt, cash, ebitda",
       "n.m. when EBITDA is zero or negative. Banks have no EBITDA (missing)."),
    _m("debt_to_equity", "Debt / equity", "ratio", "Total debt per dollar of shareholders' equity.",
       "Leverage", "total_debt / total_equity", "total_debt, total_equity",
       "n.m. when equity is zero or negative."),
    _m("debt_to_assets", "Debt / assets", "fraction", "Share of assets financed by debt.", "Leverage",
       "total_debt / total_assets", "total_debt, total_assets", "n.m. when assets are not positive."),
    _m("interest_coverage", "Interest coverage", "ratio",
       "How many times operating earnings cover the interest bill.", "Rate sensitivity",
       "ebit / interest_expense; infinite when interest expense <= 0 (no net debt cost)",
       "ebit (operating_income when the source has no EBIT), interest_expense",
       "SimFin has no EBIT: operating income is used and a note says so. SimFin interest is net "
       "of interest income. Negative values mean an operating loss."),
    _m("short_term_debt_share", "Short-term debt share", "fraction",
       "Share of debt due within a year (refinanced at new rates soon).", "Rate sensitivity",
       "current_debt / total_debt", "current_debt, total_debt", "n.m. when there is no debt."),
    _m("repricing_debt", "Debt repricing within 1y", "usd",
       "Debt assumed to reprice within a year: current debt plus the assumed floating share of "
       "long-term debt.", "Rate sensitivity",
       "current_debt + floating_share_long_term x long_term_debt (default share 0.25); "
       "total_debt when the split is unknown",
       "current_debt, long_term_debt, total_debt",
       "An assumption: sources do not say which debt is floating. Adjustable in MetricParams."),
    *(shocked_field(bp) for bp in (100, 200, 300)),
    _m("rate_beta", "Rate beta", "beta",
       "Weekly stock return per percentage-point change of the 10-year yield, controlling for IWM.",
       "Rate sensitivity",
       "OLS r_stock = a + b x d(yield_10y) + c x r_IWM over the last 104 weeks (min 52); rate_beta = b",
       "prices, market IWM and yield_10y",
       "Bad prints removed (one-day spikes that revert) and weekly log returns winsorised to +/-0.35. "
       "Missing with fewer than 52 valid weeks."),
    _m("rate_beta_t", "Rate beta t-stat", "number", "t-statistic of the rate beta.", "Rate sensitivity",
       "b / se(b), OLS standard error", "prices, market"),
    _m("rate_beta_r2", "Rate beta R²", "fraction", "R² of the rate-beta regression (yield and IWM).",
       "Rate sensitivity", "1 - RSS / TSS", "prices, market"),
    _m("rate_beta_weeks", "Rate beta weeks", "count", "Weekly observations used for the rate beta.",
       "Rate sensitivity", "count of weeks with stock, IWM and yield data", "prices, market"),
    _m("iwm_beta", "IWM beta", "beta", "Sensitivity to IWM in the rate-beta regression.",
       "Rate sensitivity", "c in the rate-beta regression", "prices, market IWM"),
    _m("years_listed", "Years listed", "years", "Years since the first trading day.", "Profile",
       "(as_of - listing_date) / 365.25", "listing_date"),
    _m("zombie", "Zombie", "bool",
       "Interest coverage below 1 in each of the last 3 fiscal years (BIS), for firms listed 10+ years "
       "when the listing date is known.", "Rate sensitivity",
       "all(coverage_y < 1 for the last 3 fiscal years); not a zombie when any known year >= 1",
       "history: ebit or operating_income, interest_expense; listing_date",
       "Unknown when a year's coverage is missing and no known year clears 1."),
    Field("themes", "Themes", "tags", "Investment themes the stock is tagged with (see docs/themes.md).",
          "Profile", "industry, description, name rules and explicit ticker lists",
          "resources/themes.toml + user override file", "Descriptions can be stale."),
)


_VALUATION: tuple[Field, ...] = (
    _m("pe_ratio", "P/E", "ratio", "Market value per dollar of net income.", "Valuation",
       "market_cap / net_income", f"market_cap, net_income {_ROW}; reported twin reported_pe",
       "n.m. when net income is zero or negative."),
    _m("ps_ratio", "P/S", "ratio", "Market value per dollar of revenue.", "Valuation",
       "market_cap / revenue", f"market_cap, revenue {_ROW}; reported twin reported_ps",
       "n.m. when revenue is not positive."),
    _m("pb_ratio", "P/B", "ratio", "Market value per dollar of shareholders' equity.", "Valuation",
       "market_cap / total_equity", f"market_cap, total_equity {_ROW}; reported twin reported_pb",
       "n.m. when equity is zero or negative."),
    _m("pfcf_ratio", "P/FCF", "ratio", "Market value per dollar of free cash flow.", "Valuation",
       "market_cap / free_cash_flow", f"market_cap, free_cash_flow {_ROW}; reported twin reported_pfcf",
       "n.m. when free cash flow is zero or negative."),
    _m("ev_to_ebitda", "EV/EBITDA", "ratio", "Enterprise value per dollar of EBITDA.", "Valuation",
       "(market_cap + total_debt - cash) / ebitda", f"market_cap; total_debt, cash, ebitda {_ROW}; "
       "reported twin reported_ev_to_ebitda",
       "n.m. when EBITDA is zero or negative. Debt and cash come from the EBITDA's statement row."),
    _m("ev_to_sales", "EV/sales", "ratio", "Enterprise value per dollar of revenue.", "Valuation",
       "(market_cap + total_debt - cash) / revenue", f"market_cap; total_debt, cash, revenue {_ROW}",
       "n.m. when revenue is not positive."),
    _m("earnings_yield", "Earnings yield", "fraction", "Net income as a share of market value (E/P).",
       "Valuation", "net_income / market_cap", f"net_income {_ROW}, market_cap",
       "n.m. when market cap is not positive. Negative for a loss."),
    _m("eps", "EPS (diluted)", "usd_share", "Net income per diluted share.", "Valuation",
       "net_income / shares_diluted", f"net_income, shares_diluted {_ROW}; reported twin eps_ttm",
       "n.m. when the share count is not positive."),
)

_GROWTH: tuple[Field, ...] = (
    _m("revenue_growth_1y", "Revenue growth 1y", "fraction", "Revenue against the previous fiscal year.",
       "Growth", "revenue_y / revenue_(y-1) - 1", f"revenue, {_FY} y-1 and y",
       "n.m. when the earlier revenue is not positive."),
    _m("revenue_cagr_3y", "Revenue CAGR 3y", "fraction", "Annual revenue growth over three fiscal years.",
       "Growth", "(revenue_y / revenue_(y-3)) ^ (1/3) - 1",
       f"revenue, {_FY} y-3 and y; reported twin reported_revenue_growth_3y",
       "n.m. when either revenue is not positive."),
    _m("operating_income_growth_1y", "Operating income growth 1y", "fraction",
       "Operating income against the previous fiscal year.", "Growth",
       "operating_income_y / operating_income_(y-1) - 1", f"operating_income (EBIT when absent), {_FY} y-1 and y",
       "n.m. when the earlier operating income is not positive (growth from a loss has no meaning)."),
    _m("operating_income_cagr_3y", "Operating income CAGR 3y", "fraction",
       "Annual operating-income growth over three fiscal years.", "Growth",
       "(operating_income_y / operating_income_(y-3)) ^ (1/3) - 1",
       f"operating_income (EBIT when absent), {_FY} y-3 and y", "n.m. when either is not positive."),
    _m("eps_growth_1y", "EPS growth 1y", "fraction", "Diluted EPS against the previous fiscal year.", "Growth",
       "eps_y / eps_(y-1) - 1", f"net_income / shares_diluted, {_FY} y-1 and y",
       "n.m. when the earlier EPS is not positive."),
    _m("eps_cagr_3y", "EPS CAGR 3y", "fraction", "Annual diluted-EPS growth over three fiscal years.", "Growth",
       "(eps_y / eps_(y-3)) ^ (1/3) - 1", f"net_income / shares_diluted, {_FY} y-3 and y; "
       "reported twin reported_eps_growth_3y", "n.m. when either EPS is not positive."),
)

_PROFITABILITY: tuple[Field, ...] = (
    _m("gross_margin", "Gross margin", "fraction", "Gross profit per dollar of revenue.", "Profitability",
       "gross_profit / revenue", f"gross_profit, revenue {_ROW}; reported twin reported_gross_margin",
       "n.m. when revenue is not positive."),
    _m("operating_margin", "Operating margin", "fraction", "Operating income per dollar of revenue.",
       "Profitability", "operating_income / revenue",
       f"operating_income (EBIT when absent), revenue {_ROW}; reported twin reported_operating_margin",
       "n.m. when revenue is not positive."),
    _m("net_margin", "Net margin", "fraction", "Net income per dollar of revenue.", "Profitability",
       "net_income / revenue", f"net_income, revenue {_ROW}; reported twin reported_net_margin",
       "n.m. when revenue is not positive."),
    _m("ebitda_margin", "EBITDA margin", "fraction", "EBITDA per dollar of revenue.", "Profitability",
       "ebitda / revenue", f"ebitda, revenue {_ROW}; reported twin reported_ebitda_margin",
       "n.m. when revenue is not positive."),
    _m("roa", "ROA", "fraction", "Net income per dollar of assets.", "Profitability",
       "net_income / total_assets", f"net_income, total_assets {_ROW}; reported twin reported_roa",
       "Year-end assets, not the year's average. n.m. when assets are not positive."),
    _m("roe", "ROE", "fraction", "Net income per dollar of shareholders' equity.", "Profitability",
       "net_income / total_equity", f"net_income, total_equity {_ROW}; reported twin reported_roe",
       "Year-end equity. n.m. when equity is zero or negative."),
    _m("roic", "ROIC", "fraction", "After-tax operating income per dollar of invested capital.", "Profitability",
       "operating_income x (1 - tax_rate) / (total_debt + total_equity - cash), tax_rate 0.21",
       f"operating_income (EBIT when absent), total_debt, total_equity, cash {_ROW}; reported twin reported_roic",
       "The US statutory rate stands in for each company's own (MetricParams.tax_rate). n.m. when invested "
       "capital is not positive."),
    _m("accruals", "Accruals", "fraction", "Earnings not backed by operating cash, per dollar of assets "
       "(high values flag low-quality earnings).", "Profitability",
       "(net_income - operating_cash_flow) / total_assets", f"net_income, operating_cash_flow, total_assets {_ROW}",
       "n.m. when assets are not positive."),
)

_CAPITAL: tuple[Field, ...] = (
    _m("share_change_1y", "Share count change 1y", "fraction",
       "Change of the diluted share count against the previous fiscal year (positive: dilution).",
       "Dilution & capital", "shares_diluted_y / shares_diluted_(y-1) - 1", f"shares_diluted, {_FY} y-1 and y",
       "n.m. when the earlier count is not positive."),
    _m("share_change_3y", "Share count change 3y", "fraction",
       "Change of the diluted share count over three fiscal years (not annualised).", "Dilution & capital",
       "shares_diluted_y / shares_diluted_(y-3) - 1", f"shares_diluted, {_FY} y-3 and y",
       "n.m. when the earlier count is not positive."),
    _m("net_buyback_yield", "Net buyback yield", "fraction",
       "Net cash spent on buybacks as a share of market value (negative: net cash raised from equity).",
       "Dilution & capital", "-net_equity_issuance / market_cap", f"net_equity_issuance {_ROW}, market_cap",
       "n.m. when market cap is not positive."),
    _m("sbc_to_revenue", "SBC / revenue", "fraction", "Stock-based compensation per dollar of revenue.",
       "Dilution & capital", "stock_based_compensation / revenue", f"stock_based_compensation, revenue {_ROW}",
       "Missing where the source has no SBC line (SimFin). n.m. when revenue is not positive."),
    _m("dividend_yield", "Dividend yield", "fraction", "Cash dividends paid as a share of market value.",
       "Dilution & capital", "-dividends_paid / market_cap",
       f"dividends_paid {_ROW}, market_cap; reported twin reported_dividend_yield",
       "Missing, not 0, when no statement shows dividends. n.m. when market cap is not positive."),
    _m("payout_ratio", "Payout ratio", "fraction", "Cash dividends paid per dollar of net income.",
       "Dilution & capital", "-dividends_paid / net_income",
       f"dividends_paid, net_income {_ROW}; reported twin reported_payout_ratio",
       "n.m. when net income is zero or negative."),
)

_OWNERSHIP: tuple[Field, ...] = (
    _m("short_interest_share", "Short interest / shares", "fraction",
       "Shares sold short as a share of the shares outstanding.", "Ownership",
       "short_interest / shares_outstanding", "short_interest, shares_outstanding (Finviz export)",
       "Of the shares outstanding, not the float (the export has no float). n.m. when shares are not positive."),
    _m("days_to_cover", "Days to cover", "number", "Days of average volume needed to buy back the short "
       "interest.", "Ownership", "short_interest / avg_volume", "short_interest, avg_volume",
       "n.m. when average volume is zero."),
)

_MOMENTUM: tuple[Field, ...] = (
    *(_m(f"return_{m}m", f"Return {m}m", "fraction", f"Price change over the last {m} month{'s' * (m > 1)}.",
         "Momentum & risk", f"close_t / close_(t - {m} months) - 1",
         f"{_PX} (the last close on or before the date {m} month{'s' * (m > 1)} back)"
         + ("" if m == 6 else f"; reported twin reported_return_{m}m"),
         "Adjusted closes: dividends count as return. Missing when no close lies within 7 days of the "
         "earlier date.") for m in (1, 3, 6, 12)),
    _m("dist_52w_high", "From 52w high", "fraction", "How far the price is below its 52-week high.",
       "Momentum & risk", "close_t / max(closes of the last 52 weeks) - 1",
       f"{_PX}; reported twin reported_dist_52w_high", "Closing prices, not intraday highs."),
    _m("dist_52w_low", "From 52w low", "fraction", "How far the price is above its 52-week low.",
       "Momentum & risk", "close_t / min(closes of the last 52 weeks) - 1",
       f"{_PX}; reported twin reported_dist_52w_low", "Closing prices, not intraday lows."),
    _m("high_52w", "52-week high", "usd_share", "The highest close of the last 52 weeks.", "Momentum & risk",
       "max(closes of the last 52 weeks)", f"{_PX}; reported twin reported_high_52w",
       "Adjusted closes: earlier closes are scaled for later splits and dividends."),
    _m("low_52w", "52-week low", "usd_share", "The lowest close of the last 52 weeks.", "Momentum & risk",
       "min(closes of the last 52 weeks)", f"{_PX}; reported twin reported_low_52w",
       "Adjusted closes: earlier closes are scaled for later splits and dividends."),
    _m("sma50_distance", "From 50-day SMA", "fraction", "Price against its 50-day simple moving average.",
       "Momentum & risk", "close_t / mean(last 50 closes) - 1", f"{_PX}; reported twin reported_sma50_distance"),
    _m("sma200_distance", "From 200-day SMA", "fraction", "Price against its 200-day simple moving average.",
       "Momentum & risk", "close_t / mean(last 200 closes) - 1", f"{_PX}; reported twin reported_sma200_distance"),
    _m("volatility_1y", "Volatility 1y", "fraction", "Annualised standard deviation of daily returns over "
       "the last year.", "Momentum & risk", "std(daily log returns, last 252 days) x sqrt(252)", _PX,
       "Bad prints (one-day spikes that revert) removed first. Missing with fewer than 126 returns."),
    _m("max_drawdown_1y", "Max drawdown 1y", "fraction", "The deepest fall from a running peak over the last "
       "year.", "Momentum & risk", "min(close / running max of closes) - 1 over the last 252 days", _PX,
       "Bad prints removed first. Missing with fewer than 126 closes."),
)

_LIQUIDITY: tuple[Field, ...] = (
    _m("avg_volume", "Average volume", "shares", "Average daily shares traded over the last 3 months.",
       "Liquidity", "mean(daily volume, last 63 trading days)",
       "daily volumes in the price histories; reported twin reported_avg_volume",
       "Price histories without volume (a wide file of closes) leave it to the reported figure."),
    _m("avg_dollar_volume", "Average $ volume", "usd", "Average daily dollars traded over the last 3 months: "
       "what a position can be bought or sold with.", "Liquidity",
       "mean(close x volume, last 63 trading days)",
       "daily closes and volumes; reported twin reported_avg_dollar_volume"),
)

METRIC_FIELDS = METRIC_FIELDS + _VALUATION + _GROWTH + _PROFITABILITY + _CAPITAL + _OWNERSHIP + _MOMENTUM \
    + _LIQUIDITY

# Computed field -> the vendor figure that stands in where the engine has no value of its own (for the
# price-derived ones also where the vendor's figure is the more recent one); its origin says so.
TWINS: dict[str, str] = {
    "pe_ratio": "reported_pe", "ps_ratio": "reported_ps", "pb_ratio": "reported_pb", "pfcf_ratio": "reported_pfcf",
    "ev_to_ebitda": "reported_ev_to_ebitda", "eps": "eps_ttm", "revenue_cagr_3y": "reported_revenue_growth_3y",
    "eps_cagr_3y": "reported_eps_growth_3y", "gross_margin": "reported_gross_margin",
    "operating_margin": "reported_operating_margin", "net_margin": "reported_net_margin",
    "ebitda_margin": "reported_ebitda_margin", "roa": "reported_roa", "roe": "reported_roe",
    "roic": "reported_roic", "dividend_yield": "reported_dividend_yield", "payout_ratio": "reported_payout_ratio",
    "return_1m": "reported_return_1m", "return_3m": "reported_return_3m", "return_12m": "reported_return_12m",
    "dist_52w_high": "reported_dist_52w_high", "dist_52w_low": "reported_dist_52w_low",
    "high_52w": "reported_high_52w", "low_52w": "reported_low_52w",
    "sma50_distance": "reported_sma50_distance", "sma200_distance": "reported_sma200_distance",
    "avg_volume": "reported_avg_volume", "avg_dollar_volume": "reported_avg_dollar_volume",
}

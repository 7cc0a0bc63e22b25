"""The rule tables behind value states (issue #12): sanity rules and kinds of company.

Each table is data with one documented meaning per entry; ``docs/metrics.md`` lists them (generated
from these tables), and every suspect or n.m. value names the rule that made it so.

* :data:`SANITY_RULES`: a statement line that breaks a rule is **suspect** (shown, exported and
  screened as suspect, with the rule named) in the statement row where it breaks it.
* :data:`COMPANY_KINDS`: an SEC SIC code or an industry that makes some fields **not meaningful** (a
  bank has no free cash flow or EBITDA in the industrial sense).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

# Value states, carried through the engine, the table, the detail pane and every export.
OK, MISSING, NOT_MEANINGFUL, STALE, SUSPECT = 0, 1, 2, 3, 4
STATE_NAMES = {OK: "ok", MISSING: "missing", NOT_MEANINGFUL: "n.m.", STALE: "stale", SUSPECT: "suspect"}


@dataclass(frozen=True)
class SanityRule:
    """``kind`` decides the test on one statement row (or a source's consecutive fiscal years):

    above        line > bound
    below        line < bound
    share_above  line > bound x other (only where other > 0)
    small_cost   0 < line < bound and |other| > factor x line (a cost too small to divide by)
    jump         line / the same source's previous fiscal year > bound, both positive
    """

    id: str
    kind: Literal["above", "below", "share_above", "small_cost", "jump"]
    line: str
    bound: float
    flags: tuple[str, ...]  # lines that become suspect
    reason: str
    other: str = ""
    factor: float = 0.0


SANITY_RULES: tuple[SanityRule, ...] = (
    SanityRule("positive_capex", "above", "capital_expenditure", 0.0,
               ("capital_expenditure", "free_cash_flow"),
               "capital expenditure is positive (asset sales or a sign error), so FCF is not operating cash"),
    SanityRule("operating_margin_above_80pct", "share_above", "operating_income", 0.8,
               ("operating_income", "ebit"), "operating income is more than 80 % of revenue", other="revenue"),
    SanityRule("ebit_margin_above_80pct", "share_above", "ebit", 0.8,
               ("ebit", "operating_income"), "EBIT is more than 80 % of revenue", other="revenue"),
    SanityRule("immaterial_interest", "small_cost", "interest_expense", 100_000.0,
               ("interest_expense",), "interest expense is under $100k and below 1 % of earnings: a coverage "
               "ratio on it means nothing", other="earnings", factor=100.0),
    SanityRule("current_debt_above_total", "share_above", "current_debt", 1.001,
               ("current_debt", "total_debt"), "current debt is larger than total debt", other="total_debt"),
    SanityRule("negative_revenue", "below", "revenue", 0.0, ("revenue",), "revenue is negative"),
    SanityRule("negative_assets", "below", "total_assets", 0.0, ("total_assets",), "total assets are negative"),
    SanityRule("revenue_jump", "jump", "revenue", 10.0, ("revenue",),
               "revenue is more than 10x the previous fiscal year's"),
    SanityRule("debt_jump", "jump", "total_debt", 20.0, ("total_debt",),
               "total debt is more than 20x the previous fiscal year's"),
    SanityRule("positive_dividends", "above", "dividends_paid", 0.0, ("dividends_paid",),
               "dividends paid is positive, but an outflow is negative: the sign is doubtful"),
    SanityRule("gross_above_revenue", "share_above", "gross_profit", 1.001, ("gross_profit",),
               "gross profit is larger than revenue", other="revenue"),
    SanityRule("shares_jump", "jump", "shares_diluted", 10.0, ("shares_diluted",),
               "the diluted share count is more than 10x the previous fiscal year's (a split or a unit error)"),
)


@dataclass(frozen=True)
class CompanyKind:
    """Companies whose SEC SIC code starts with one of ``sic`` are this kind (issue #14: the SEC's
    own classification comes first); companies without such a code are this kind when their
    ``industry`` starts with one of ``industries`` (case-insensitive) but none of ``exclude``. For
    them the ``not_meaningful`` fields are n.m. whatever their inputs say."""

    kind: str
    label: str
    industries: tuple[str, ...]
    not_meaningful: tuple[str, ...]
    reason: str
    exclude: tuple[str, ...] = ()
    sic: tuple[str, ...] = ()  # SIC code prefixes: "6022" one code, "63" the whole 63xx group


_FINANCIAL_NM = ("free_cash_flow", "fcf_yield", "fcf_margin", "fcf_positive", "fcf_positive_years",
                 "cash_runway_months", "ebitda", "net_debt_to_ebitda", "pfcf_ratio", "ev_to_ebitda", "ev_to_sales",
                 "ebitda_margin", "gross_margin", "roic")

# SIC codes (the SEC's Standard Industrial Classification, submissions "sic"): 6021/6022 national and
# state commercial banks, 6029 other commercial banks, 6035/6036 savings institutions; 63xx insurance
# carriers (6411, agents and brokers, is not one); 6111 federal credit agencies, 6141 personal credit,
# 6153/6159 business credit, 6162/6163 mortgage bankers and loan brokers. 6798 (REITs) names no kind:
# it cannot tell a mortgage REIT (a lender) from an equity REIT, so REITs keep the industry rule.
COMPANY_KINDS: tuple[CompanyKind, ...] = (
    CompanyKind("bank", "Bank", ("banks",), _FINANCIAL_NM,
                "a bank: lending is its operations, so free cash flow and EBITDA have no industrial meaning",
                sic=("6021", "6022", "6029", "6035", "6036")),
    CompanyKind("insurer", "Insurer", ("insurance",), _FINANCIAL_NM,
                "an insurer: float and reserves drive its cash flow, so FCF and EBITDA have no industrial meaning",
                exclude=("insurance brokers",), sic=("63",)),
    CompanyKind("lender", "Lender", ("credit services", "mortgage finance", "reit - mortgage"), _FINANCIAL_NM,
                "a lender: loans made and repaid are its operations, so FCF and EBITDA have no industrial meaning",
                sic=("6111", "6141", "6153", "6159", "6162", "6163")),
)


def kind_of(industry: str | None, sic: str | None = None) -> CompanyKind | None:
    """The kind of company its SIC code says, else its industry name; None for an ordinary company."""
    code = sic.strip() if isinstance(sic, str) else ""
    if code.isdigit():
        for k in COMPANY_KINDS:
            if any(code.startswith(p) for p in k.sic):
                return k
    if not isinstance(industry, str):
        return None
    low = industry.strip().casefold()
    for k in COMPANY_KINDS:
        if any(low.startswith(x) for x in k.exclude):
            continue
        if any(low.startswith(x) for x in k.industries):
            return k
    return None

"""A synthetic universe of the real shape, for benchmarks (and demos) when ``../shared/data`` is absent.

:func:`synthetic_dataset` builds a :class:`desktop.engine.dataset.Dataset` like the one the importer
makes from the real files: about 2,000 securities with the catalogue's base fields, five fiscal years
of statement history, two years of daily prices per security and the market series. The shape is
what matters for timing, so the generator copies the real data's proportions (measured on the
shared files, see ``../shared/data/README.md``): about 20 % financials, most of them without
statements, EBITDA or free cash flow; about 27 % negative operating cash flow and 31 % negative free
cash flow; scattered missing values (NaN, never zero); share classes spelt ``ABC-A``.

Every company, ticker and number is invented (seeded, so runs are comparable). Nothing here reads
the real files. :func:`write_source_files` writes the same universe out in the real file formats
(iShares holdings CSV, SimFin statements and profiles, classic Yahoo price CSVs, a FRED CSV) so that
import benchmarks have files to read.
"""

from __future__ import annotations

from datetime import date
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd

from desktop.engine import catalog
from desktop.engine.dataset import MARKET_COLUMNS, PROVENANCE_COLUMNS, STATEMENT_LINES, Dataset, history_frame

AS_OF = date(2026, 5, 5)
N_SECURITIES = 2000
YEARS = 5
PRICE_DAYS = 504  # two years of trading days

# (index sector as the index provider writes it, sector as Yahoo/Finviz write it, industries, share)
_SECTORS = (
    ("Financials", "Financial Services", ("Banks - Regional", "Insurance - Property & Casualty",
                                          "Capital Markets", "Credit Services", "Asset Management"), 0.19),
    ("Health Care", "Healthcare", ("Biotechnology", "Medical Devices", "Diagnostics & Research"), 0.16),
    ("Industrials", "Industrials", ("Specialty Industrial Machinery", "Trucking", "Engineering & Construction",
                                    "Aerospace & Defense"), 0.16),
    ("Information Technology", "Technology", ("Semiconductors", "Software - Application",
                                              "Software - Infrastructure", "Electronic Components"), 0.13),
    ("Consumer Discretionary", "Consumer Cyclical", ("Specialty Retail", "Restaurants", "Auto Parts",
                                                     "Leisure"), 0.10),
    ("Real Estate", "Real Estate", ("REIT - Industrial", "REIT - Healthcare Facilities", "REIT - Mortgage",
                                    "REIT - Office"), 0.07),
    ("Energy", "Energy", ("Oil & Gas E&P", "Oil & Gas Equipment & Services"), 0.05),
    ("Materials", "Basic Materials", ("Specialty Chemicals", "Steel", "Gold"), 0.05),
    ("Consumer Staples", "Consumer Defensive", ("Packaged Foods", "Grocery Stores"), 0.03),
    ("Utilities", "Utilities", ("Utilities - Regulated Electric", "Utilities - Regulated Gas"), 0.03),
    ("Communication", "Communication Services", ("Telecom Services", "Entertainment",
                                                 "Internet Content & Information"), 0.03),
)
_WORDS = ("Amber", "Basalt", "Cobalt", "Delta", "Ember", "Fjord", "Granite", "Harbor", "Iris", "Juniper",
          "Kestrel", "Lumen", "Meridian", "Nimbus", "Onyx", "Pioneer", "Quarry", "Ridge", "Summit",
          "Tundra", "Umber", "Vantage", "Willow", "Xenon", "Yarrow", "Zephyr", "Alder", "Birch", "Cedar",
          "Dune")
_NOUNS = ("Systems", "Holdings", "Bancorp", "Therapeutics", "Industries", "Technologies", "Realty",
          "Energy", "Materials", "Brands", "Networks", "Devices", "Logistics", "Financial", "Labs")
_SUFFIXES = ("Inc", "Corp", "Co", "Ltd", "Group Inc", "Trust")
_EXCHANGES = (("NASDAQ", 0.6), ("NYSE", 0.35), ("NYSE American", 0.05))
_TEXT_FIELDS = ("ticker", "name", "exchange", "index_sector", "sector", "industry", "description")
_FIN_GAPS = ("ebitda", "free_cash_flow", "levered_free_cash_flow", "capital_expenditure",
             "reported_debt_to_equity", "current_ratio", "quick_ratio", "ebit", "operating_income")


def _symbols(rng: np.random.Generator, n: int) -> tuple[list[str], list[str]]:
    """Unique fictional symbols (Yahoo spelling) and the index provider's spelling of each."""
    letters = np.array(list("ABCDEFGHIJKLMNOPQRSTUVWXYZ"))
    seen: set[str] = set()
    symbols: list[str] = []
    tickers: list[str] = []
    while len(symbols) < n:
        length = int(rng.choice([2, 3, 4], p=[0.1, 0.45, 0.45]))
        base = "".join(rng.choice(letters, size=length))
        share_class = rng.random() < 0.01
        symbol = f"{base}-{rng.choice(['A', 'B'])}" if share_class else base
        if symbol in seen or base in seen:
            continue
        seen.update({symbol, base})
        symbols.append(symbol)
        tickers.append(symbol.replace("-", ""))
    return symbols, tickers


def _nan_out(rng: np.random.Generator, values: np.ndarray, share: float) -> np.ndarray:
    out = values.astype(float).copy()
    out[rng.random(len(out)) < share] = np.nan
    return out


@cache
def synthetic_dataset(n_securities: int = N_SECURITIES, years: int = YEARS, price_days: int = PRICE_DAYS,
                      seed: int = 0) -> Dataset:
    """The synthetic universe (cached per arguments; treat it as immutable).

    Args:
        n_securities: number of securities (about 97.5 % of them index members).
        years: fiscal years of statement history per company that has statements.
        price_days: trading days of daily closes per security and market series.
        seed: random seed; the same arguments always give the same dataset.

    Returns:
        A :class:`Dataset` dated :data:`AS_OF`.
    """
    rng = np.random.default_rng(seed)
    n = n_securities
    symbols, tickers = _symbols(rng, n)
    shares = np.array([s[3] for s in _SECTORS])
    sector_idx = rng.choice(len(_SECTORS), size=n, p=shares / shares.sum())
    financial = sector_idx == 0
    industries = [_SECTORS[i][2][int(rng.integers(len(_SECTORS[i][2])))] for i in sector_idx]
    names = [f"{rng.choice(_WORDS)} {rng.choice(_NOUNS)} {rng.choice(_SUFFIXES)}" for _ in range(n)]
    exchanges = rng.choice([e for e, _ in _EXCHANGES], size=n, p=[p for _, p in _EXCHANGES])

    price = np.exp(rng.normal(np.log(22.0), 0.9, n)).round(2)
    market_cap = np.exp(rng.normal(np.log(1.2e9), 0.9, n)).clip(3e7, 1.5e10)
    shares_out = (market_cap / price).round(0)
    market_cap = price * shares_out
    revenue = market_cap * np.exp(rng.normal(np.log(0.9), 0.9, n))
    op_margin = rng.normal(0.06, 0.14, n)
    operating_income = revenue * op_margin
    ebitda = operating_income + revenue * rng.uniform(0.02, 0.08, n)
    total_debt = market_cap * np.exp(rng.normal(np.log(0.35), 1.1, n)) * (rng.random(n) > 0.08)
    current_debt = total_debt * rng.uniform(0.0, 0.3, n)
    rate = rng.uniform(0.03, 0.11, n)
    interest_expense = total_debt * rate
    net_income = operating_income - interest_expense - np.abs(operating_income) * rng.uniform(0.1, 0.3, n)
    # ~27 % negative operating cash flow, ~31 % negative free cash flow, as in the real universe.
    operating_cash_flow = revenue * (rng.normal(0.09, 0.13, n))
    capital_expenditure = -revenue * rng.uniform(0.01, 0.07, n)
    free_cash_flow = operating_cash_flow + capital_expenditure
    cash = market_cap * np.exp(rng.normal(np.log(0.12), 0.9, n))
    total_equity = market_cap * np.exp(rng.normal(np.log(0.6), 0.7, n)) * np.where(rng.random(n) < 0.06, -1, 1)
    total_assets = np.abs(total_equity) + total_debt + revenue * rng.uniform(0.1, 0.5, n)
    weight = np.exp(rng.normal(0, 0.9, n))
    in_index = rng.random(n) > 0.025
    weight = np.where(in_index, weight, np.nan)
    weight = weight / np.nansum(weight)

    columns: dict[str, object] = {
        "ticker": tickers,
        "name": names,
        "exchange": exchanges,
        "in_index": in_index,
        "index_weight": weight,
        "index_sector": [_SECTORS[i][0] for i in sector_idx],
        "sector": [_SECTORS[i][1] for i in sector_idx],
        "industry": industries,
        "description": [f"{nm} operates in {ind.lower()} in the United States. It serves commercial and "
                        f"retail customers through {int(k)} locations and online channels." for nm, ind, k in
                        zip(names, industries, rng.integers(2, 400, n), strict=True)],
        "listing_date": pd.to_datetime("1975-01-01") + pd.to_timedelta(rng.integers(0, 18000, n), unit="D"),
        "price": price,
        "market_cap": market_cap,
        "enterprise_value": market_cap + total_debt - cash,
        "shares_outstanding": shares_out,
        "beta": rng.normal(1.15, 0.45, n).round(3),
        "revenue": revenue,
        "ebitda": ebitda,
        "ebit": operating_income * rng.uniform(0.95, 1.05, n),
        "operating_income": operating_income,
        "interest_expense": interest_expense,
        "net_income": net_income,
        "operating_cash_flow": operating_cash_flow,
        "capital_expenditure": capital_expenditure,
        "free_cash_flow": free_cash_flow,
        "levered_free_cash_flow": free_cash_flow - interest_expense * 0.6,
        "total_debt": total_debt,
        "current_debt": current_debt,
        "long_term_debt": total_debt - current_debt,
        "cash": cash,
        "total_equity": total_equity,
        "total_assets": total_assets,
        "current_ratio": np.exp(rng.normal(np.log(1.8), 0.5, n)),
        "quick_ratio": np.exp(rng.normal(np.log(1.3), 0.5, n)),
        "reported_debt_to_equity": np.where(total_equity > 0, total_debt / np.abs(total_equity), np.nan),
    }
    securities = pd.DataFrame(columns, index=pd.Index(symbols, name="symbol", dtype=object))
    for name in _TEXT_FIELDS:
        securities[name] = securities[name].astype(object)
    numeric = [c for c in securities.columns if securities[c].dtype == np.float64 and c != "index_weight"]
    for name in numeric:  # scattered gaps everywhere, like any vendor's data
        securities[name] = _nan_out(rng, securities[name].to_numpy(), 0.04)
    fin_gap = financial & (rng.random(n) < 0.7)  # banks: no EBITDA / FCF in Yahoo's sense
    securities.loc[fin_gap, list(_FIN_GAPS)] = np.nan
    base_names = {f.name for f in catalog.BASE_FIELDS}
    assert set(securities.columns) <= base_names, set(securities.columns) - base_names

    has_statements = np.where(financial, rng.random(n) < 0.2, rng.random(n) < 0.9)
    history = _history(rng, securities, has_statements, years)
    prices, market = _series(rng, securities, price_days)
    provenance = _provenance(rng, securities)
    sources = tuple({"source": s, "origin": f"synthetic:{s}", "as_of": AS_OF.isoformat(),
                     "fetched_at": f"{AS_OF.isoformat()}T18:00:00", "rows": int(rows)}
                    for s, rows in (("ishares", in_index.sum()), ("simfin", len(history)),
                                    ("yahoo", n), ("prices", prices.shape[1]), ("fred", len(market))))
    return Dataset(as_of=AS_OF, securities=securities, history=history, prices=prices, market=market,
                   provenance=provenance, sources=sources)


def _history(rng: np.random.Generator, securities: pd.DataFrame, has_statements: np.ndarray,
             years: int) -> pd.DataFrame:
    """Fiscal-year statements, SimFin-like: no EBIT line, interest expense positive for an expense."""
    chosen = securities[has_statements]
    m = len(chosen)
    last_year = AS_OF.year - 2  # FY2024 for a May 2026 universe
    first = np.maximum(0, rng.integers(-3, years, m))  # some companies have fewer years
    rows: dict[str, list[np.ndarray]] = {c: [] for c in ("symbol", "fiscal_year", "period_end", "source",
                                                         *STATEMENT_LINES)}
    year_end_month = rng.choice([12, 12, 12, 12, 6, 9, 3], size=m)
    for k in range(years):
        keep = first <= k
        sub = chosen[keep]
        back = years - 1 - k
        growth = (1.0 + rng.normal(0.05, 0.12, len(sub))) ** back
        year = last_year - back
        rows["symbol"].append(sub.index.to_numpy())
        rows["fiscal_year"].append(np.full(len(sub), year))
        rows["period_end"].append(pd.to_datetime([f"{year}-{mo:02d}-28" for mo in year_end_month[keep]])
                                  .to_numpy())
        rows["source"].append(np.full(len(sub), "simfin", dtype=object))
        for col in STATEMENT_LINES:
            if col in ("ebit", "ebitda", "depreciation_amortization"):
                rows[col].append(np.full(len(sub), np.nan))
                continue
            base = col if col in sub.columns else None
            values = sub[base].to_numpy() if base else np.full(len(sub), np.nan)
            values = values / growth * rng.normal(1.0, 0.08, len(sub))
            rows[col].append(_nan_out(rng, values, 0.05))
    history = history_frame(pd.DataFrame({c: np.concatenate(v) for c, v in rows.items()}))
    history["symbol"] = history["symbol"].astype(object)
    history["source"] = history["source"].astype(object)
    history["fiscal_year"] = history["fiscal_year"].astype("int64")
    history["period_end"] = pd.to_datetime(history["period_end"])
    history["free_cash_flow"] = history["operating_cash_flow"] + history["capital_expenditure"]
    return history.sort_values(["symbol", "fiscal_year"], ignore_index=True)


def _series(rng: np.random.Generator, securities: pd.DataFrame, days: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Daily closes (geometric random walks ending at each last price) and the market series."""
    dates = pd.bdate_range(end=pd.Timestamp(AS_OF), periods=days, name="date")
    n = len(securities)
    beta = securities["beta"].fillna(1.0).to_numpy()
    market_ret = rng.normal(0.0003, 0.012, days)
    returns = market_ret[:, None] * beta[None, :] + rng.normal(0, 0.022, (days, n))
    paths = np.exp(np.cumsum(returns, axis=0))
    last = securities["price"].fillna(20.0).to_numpy()
    closes = paths / paths[-1] * last
    listed = securities["listing_date"].to_numpy()
    closes[dates.to_numpy()[:, None] < listed[None, :]] = np.nan  # no price before the listing
    prices = pd.DataFrame(closes.round(4), index=dates, columns=pd.Index(securities.index, name=None))
    level = np.exp(np.cumsum(market_ret))
    market = pd.DataFrame({
        "IWM": 205.0 * level / level[-1],
        "SPY": 560.0 * np.exp(np.cumsum(rng.normal(0.0004, 0.009, days))),
        "GSPC": 5600.0 * np.exp(np.cumsum(rng.normal(0.0004, 0.009, days))),
        "RUT": 2050.0 * level / level[-1],
        "yield_10y": (4.2 + np.cumsum(rng.normal(0, 0.035, days))).clip(0.5, 9.0).round(3),
    }, index=dates)
    assert tuple(market.columns) == MARKET_COLUMNS
    return prices, market


def _provenance(rng: np.random.Generator, securities: pd.DataFrame) -> pd.DataFrame:
    """One chosen row per (symbol, field) value, plus a losing second source for about 10 %."""
    frame = securities.drop(columns=["in_index"]).copy()
    frame["listing_date"] = frame["listing_date"].astype(str)
    numeric = [c for c in frame.columns if frame[c].dtype == np.float64]
    text = [c for c in frame.columns if c not in numeric]
    num_long = frame[numeric].reset_index().melt(id_vars="symbol", var_name="field", value_name="value_num")
    num_long = num_long.dropna(subset=["value_num"])
    num_long["value_text"] = None
    text_long = frame[text].reset_index().melt(id_vars="symbol", var_name="field", value_name="value_text")
    text_long = text_long.dropna(subset=["value_text"])
    text_long["value_num"] = np.nan
    chosen = pd.concat([num_long, text_long], ignore_index=True)
    chosen["source"] = np.where(chosen["field"].isin(["ticker", "index_weight", "index_sector", "exchange"]),
                                "ishares", "yahoo")
    chosen["chosen"] = True
    losers = num_long.sample(frac=0.1, random_state=int(rng.integers(1 << 31))).copy()
    losers["value_num"] = losers["value_num"] * rng.normal(1.0, 0.05, len(losers))
    losers["source"] = "finviz"
    losers["chosen"] = False
    long = pd.concat([chosen, losers], ignore_index=True)
    long["origin"] = "synthetic:" + long["source"]
    long["as_of"] = pd.Timestamp(AS_OF)
    long["fetched_at"] = pd.Timestamp(f"{AS_OF.isoformat()} 18:00:00")
    long["period"] = np.where(long["field"].isin(["price", "market_cap", "enterprise_value"]), "point", "TTM")
    long["derived"] = False
    long = long[list(PROVENANCE_COLUMNS)]
    for col in ("symbol", "field", "value_text", "source", "origin", "period"):
        long[col] = long[col].astype(object)
    long["as_of"] = long["as_of"].astype("datetime64[ns]")
    long["fetched_at"] = long["fetched_at"].astype("datetime64[ns]")
    return long.reset_index(drop=True)


def write_source_files(folder: str | Path, dataset: Dataset | None = None) -> dict[str, list[Path]]:
    """Write the synthetic universe as files in the real formats, for import benchmarks.

    Args:
        folder: where to write (created when absent).
        dataset: the universe to write; default :func:`synthetic_dataset`.

    Returns:
        ``{import kind: [paths]}`` for the kinds of ``desktop.services.importing``: ``ishares``,
        ``simfin`` (three statement files plus companies and industries), ``prices`` (a folder of
        classic Yahoo CSVs, one per security, plus IWM and ^TNX) and ``fred`` (DGS10).
    """
    ds = dataset if dataset is not None else synthetic_dataset()
    root = Path(folder)
    root.mkdir(parents=True, exist_ok=True)
    out = {"ishares": [_write_ishares(root, ds)], "simfin": _write_simfin(root, ds),
           "prices": [_write_prices(root, ds)], "fred": [_write_fred(root, ds)]}
    return out


def _q(cells: list[str]) -> str:
    return ",".join('"' + c.replace('"', '""') + '"' for c in cells)


def _write_ishares(root: Path, ds: Dataset) -> Path:
    members = ds.members
    header = ("Ticker,Name,Sector,Asset Class,Market Value,Weight (%),Notional Value,Quantity,Price,Location,"
              "Exchange,Currency,FX Rate,Market Currency,Accrual Date")
    total = float(members["market_cap"].sum()) * 0.01
    lines = ["\ufeffiShares Synthetic Small Cap Fund", f'Fund Holdings as of,"{AS_OF:%b %d, %Y}"',
             'Inception Date,"May 22, 2000"', 'Shares Outstanding,"1,000,000.00"', 'Stock,"-"', 'Bond,"-"',
             'Cash,"-"', 'Other,"-"', "\u00a0", header]
    exchange = {"NYSE American": "Nyse Mkt Llc"}
    for _, row in members.iterrows():
        price = row["price"] if np.isfinite(row["price"]) else 10.0
        value = total * row["index_weight"]
        lines.append(_q([row["ticker"], str(row["name"]).upper(), row["index_sector"], "Equity", f"{value:,.2f}",
                         f"{row['index_weight'] * 100:.2f}", f"{value:,.2f}", f"{value / price:,.2f}",
                         f"{price:,.2f}", "United States", exchange.get(row["exchange"], row["exchange"]),
                         "USD", "1.00", "USD", "-"]))
    lines.append(_q(["USD", "USD CASH", "Cash and/or Derivatives", "Cash", "1,000,000.00", "0.05",
                     "1,000,000.00", "1,000,000.00", "100.00", "United States", "-", "USD", "1.00", "USD", "-"]))
    lines += ["\u00a0", '"Synthetic benchmark data. Every company, ticker and number is invented."']
    path = root / f"IWM_holdings_{AS_OF.isoformat()}.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8", newline="\n")
    return path


_SIMFIN_KEYS = ("Ticker", "SimFinId", "Currency", "Fiscal Year", "Fiscal Period", "Report Date", "Publish Date",
                "Restated Date", "Shares (Basic)", "Shares (Diluted)")


def _simfin_frame(ds: Dataset, period: str, lines: dict[str, pd.Series]) -> pd.DataFrame:
    h = ds.history
    ids = {s: 100000 + i for i, s in enumerate(ds.securities.index)}
    shares = ds.securities["shares_outstanding"].reindex(h["symbol"]).to_numpy()
    frame = pd.DataFrame({
        "Ticker": h["symbol"], "SimFinId": h["symbol"].map(ids), "Currency": "USD", "Fiscal Year": h["fiscal_year"],
        "Fiscal Period": period, "Report Date": h["period_end"].dt.strftime("%Y-%m-%d"),
        "Publish Date": (h["period_end"] + pd.Timedelta(days=60)).dt.strftime("%Y-%m-%d"),
        "Restated Date": (h["period_end"] + pd.Timedelta(days=400)).dt.strftime("%Y-%m-%d"),
        "Shares (Basic)": shares, "Shares (Diluted)": shares,
    })
    for name, values in lines.items():
        frame[name] = values.round(0)
    return frame


def _write_simfin(root: Path, ds: Dataset) -> list[Path]:
    h = ds.history
    income = _simfin_frame(ds, "FY", {"Revenue": h["revenue"], "Operating Income (Loss)": h["operating_income"],
                                      "Interest Expense, Net": -h["interest_expense"],
                                      "Net Income": h["net_income"], "Net Income (Common)": h["net_income"]})
    balance = _simfin_frame(ds, "Q4", {
        "Cash, Cash Equivalents & Short Term Investments": h["cash"], "Total Assets": h["total_assets"],
        "Short Term Debt": h["current_debt"], "Long Term Debt": h["long_term_debt"],
        "Total Equity": h["total_equity"]})
    cashflow = _simfin_frame(ds, "FY", {"Net Cash from Operating Activities": h["operating_cash_flow"],
                                        "Change in Fixed Assets & Intangibles": h["capital_expenditure"]})
    sec = ds.securities
    industry_names = sorted(set(zip(sec["industry"], sec["sector"], strict=True)))
    industry_id = {ind: 100001 + i for i, (ind, _) in enumerate(industry_names)}
    industries = pd.DataFrame({"IndustryId": [industry_id[i] for i, _ in industry_names],
                               "Industry": [i for i, _ in industry_names], "Sector": [s for _, s in industry_names]})
    companies = pd.DataFrame({
        "Ticker": sec.index, "SimFinId": range(100000, 100000 + len(sec)), "Company Name": sec["name"].str.upper(),
        "IndustryId": sec["industry"].map(industry_id), "ISIN": "", "End of financial year (month)": 12,
        "Number Employees": 500, "Business Summary": sec["description"], "Market": "us", "CIK": "",
        "Main Currency": "USD"})
    paths = []
    for name, frame in (("us-income-annual", income), ("us-balance-annual", balance),
                        ("us-cashflow-annual", cashflow), ("us-companies", companies), ("industries", industries)):
        path = root / "simfin" / f"simfin_{name}_{AS_OF.isoformat()}.csv"
        path.parent.mkdir(exist_ok=True)
        frame.to_csv(path, sep=";", index=False, lineterminator="\r\n", float_format="%.0f")
        paths.append(path)
    return paths


def _write_prices(root: Path, ds: Dataset) -> Path:
    folder = root / "prices"
    folder.mkdir(exist_ok=True)
    series = dict(ds.prices.items())
    series["IWM"] = ds.market["IWM"]
    series["^TNX"] = ds.market["yield_10y"]
    for symbol, closes in series.items():
        closes = closes.dropna()
        frame = pd.DataFrame({"Date": pd.DatetimeIndex(closes.index).strftime("%Y-%m-%d"), "Open": closes,
                              "High": closes * 1.01,
                              "Low": closes * 0.99, "Close": closes, "Adj Close": closes, "Volume": 100000})
        text = frame.to_csv(index=False, float_format="%.4f", lineterminator="\n").rstrip("\n")
        (folder / f"{symbol}.csv").write_text(text, encoding="utf-8")  # classic Yahoo: no final newline
    return folder


def _write_fred(root: Path, ds: Dataset) -> Path:
    y = ds.market["yield_10y"]
    path = root / "DGS10_fred.csv"
    lines = ["observation_date,DGS10"] + [f"{d:%Y-%m-%d},{v:.2f}" for d, v in y.items()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path

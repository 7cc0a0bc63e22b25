"""Dated statements: choose one period of one source per value (issue #12).

A statement row (``dataset.HISTORY_COLUMNS``) is one period of one source. :func:`prepare` keeps
the rows known at a date (the most recently filed version of each period), derives what a row can
say about itself (FCF = OCF + capex, EBITDA = earnings + D&A) and marks the lines that break a
sanity rule. :func:`pick` then chooses, per company, the **freshest row that holds every input**
of a value: a ratio's statement inputs always come from one row, and a line is never filled from
another year or source.

SEC first (issue #14): the SEC's own filings are the primary source, the vendors fill gaps. A vendor
row is dated by its file (Finviz, Yahoo ``.info``: "TTM as of the download day"), so it always looks
fresher than the last filed quarter it is built from. An SEC row therefore wins over a fresher row of
another source unless that row's period ended more than :data:`SEC_FIRST_WINDOW` later: a company
whose SEC facts stopped (or were never refreshed) still gets the newer vendor figures.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

from desktop.engine.dataset import CENSOR_COLUMNS, STATEMENT_LINES, history_frame
from desktop.engine.rules import SANITY_RULES, SanityRule

# A source's rank breaks ties between rows of the same period end (lower wins).
SOURCE_RANK = {"sec": 0, "yahoo": 1, "simfin": 2, "finviz": 3}
PRIMARY_SOURCE = "sec"
# A quarter plus the longest 10-K deadline (90 days) and slack: while the SEC facts are current, the
# latest filed period ends at most this long before any vendor's file date.
SEC_FIRST_WINDOW = np.timedelta64(185, "D")
# Row-level derived inputs: the line each row uses for "earnings" and "EBITDA".
DERIVED = ("earnings", "ebitda_any")


@dataclass(frozen=True, eq=False)
class Statements:
    """Prepared statement rows of the companies in ``index`` (freshest first within a company).

    Attributes:
        rows: one row per (symbol, source, period_type, period_end), newest filing kept; columns of
            HISTORY_COLUMNS plus ``earnings`` (EBIT, else operating income), ``ebitda_any`` (vendor
            EBITDA, else earnings + D&A), ``pos`` (the company's position in ``index``).
        suspect: line -> array (per row) of the rule id that makes the line suspect, "" when none.
        derived: line -> boolean array per row: the value was derived by us (e.g. FCF = OCF + capex).
        n: len(index).
    """

    rows: pd.DataFrame
    suspect: dict[str, np.ndarray]
    derived: dict[str, np.ndarray]
    n: int

    def column(self, name: str) -> np.ndarray:
        return self.rows[name].to_numpy(dtype="float64", na_value=np.nan)

    def pick(self, qualifies: np.ndarray) -> np.ndarray:
        """Per company, the row index of its chosen qualifying row (-1 when none): the freshest one,
        or the freshest SEC row when its period ended within ``SEC_FIRST_WINDOW`` of that one's."""
        out = self._first(qualifies)
        sec = self._first(qualifies & self.primary)
        if (sec >= 0).any():
            ends = self.ends
            closer = ends[np.maximum(sec, 0)] >= ends[np.maximum(out, 0)] - SEC_FIRST_WINDOW
            out = np.where((sec >= 0) & closer, sec, out)
        return out

    def _first(self, qualifies: np.ndarray) -> np.ndarray:
        out = np.full(self.n, -1, dtype=np.int64)
        idx = np.flatnonzero(qualifies)
        if len(idx):
            pos = self.rows["pos"].to_numpy()[idx]
            uniq, first = np.unique(pos, return_index=True)
            out[uniq] = idx[first]
        return out

    @cached_property
    def primary(self) -> np.ndarray:
        """Per row: it is an SEC row."""
        return (self.rows["source"] == PRIMARY_SOURCE).to_numpy(dtype=bool)

    @cached_property
    def ends(self) -> np.ndarray:
        """Per row: its period end."""
        return self.rows["period_end"].to_numpy(dtype="datetime64[ns]")

    def take(self, name: str, sel: np.ndarray) -> np.ndarray:
        """Values of column ``name`` at the chosen rows (NaN where none was chosen)."""
        col = self.column(name)
        return np.where(sel >= 0, col[np.maximum(sel, 0)], np.nan) if len(col) else np.full(len(sel), np.nan)

    def take_any(self, name: str, sel: np.ndarray) -> np.ndarray:
        """Object/datetime values of column ``name`` at the chosen rows (None/NaT where none)."""
        col = self.rows[name].to_numpy()
        if not len(col):
            return np.full(len(sel), None, dtype=object)
        vals = col[np.maximum(sel, 0)]
        if vals.dtype.kind == "M":
            return np.where(sel >= 0, vals, np.datetime64("NaT"))
        return np.where(sel >= 0, vals, None)  # type: ignore[return-value]

    def derived_at(self, line: str, sel: np.ndarray) -> np.ndarray:
        """Per company: the chosen row's ``line`` was derived by us (False where none was chosen)."""
        flags = self.derived.get(line)
        if flags is None or not len(flags):
            return np.zeros(len(sel), dtype=bool)
        return (sel >= 0) & flags[np.maximum(sel, 0)]

    @cached_property
    def labels(self) -> np.ndarray:
        """Each row's origin text: "simfin FY2024 (period ended 2024-12-31)"."""
        r = self.rows
        ends = r["period_end"].dt.strftime("%Y-%m-%d").to_numpy(dtype=object)
        return np.array([f"{s} {'FY' + str(y) if k == 'FY' else k} (period ended {e})"
                         for s, k, y, e in zip(r["source"], r["period_type"], r["fiscal_year"], ends, strict=True)],
                        dtype=object)

    def origin(self, sel: np.ndarray) -> np.ndarray:
        """Per company, the origin text of its chosen row (None where none was chosen)."""
        out = np.full(len(sel), None, dtype=object)
        ok = sel >= 0
        if ok.any():
            out[ok] = self.labels[sel[ok]]
        return out

    def suspect_reason(self, lines: tuple[str, ...], sel: np.ndarray) -> np.ndarray:
        """Per company, the first rule id that makes any of ``lines`` suspect in its chosen row."""
        out = np.full(self.n, "", dtype=object)
        ok = sel >= 0
        for line in lines:
            broken = self.broken.get(line)
            if broken is None:  # no row breaks a rule on this line: nothing to look up
                continue
            at = np.maximum(sel, 0)
            hit = ok & broken[at] & (out == "")
            out[hit] = self.suspect[line][at[hit]]
        return out

    @cached_property
    def broken(self) -> dict[str, np.ndarray]:
        """line -> per row: it breaks a sanity rule (only lines where some row does)."""
        out = {}
        for line, flags in self.suspect.items():
            mask = flags != ""
            if len(mask) and mask.any():
                out[line] = mask
        return out


def prepare(history: pd.DataFrame, index: pd.Index, known_at: pd.Timestamp | None = None) -> Statements:
    """Statement rows of the companies in ``index``, as known at ``known_at`` (None: everything).

    A row with a ``filed`` date counts from that date; a row without one (a vendor export) counts
    from its period end. Of several filings of one period the most recent known one is kept.
    """
    n = len(index)
    if history is None or not len(history):
        return Statements(_empty_rows(), {}, {}, n)
    symbol = history["symbol"].astype(str)
    keep = index.get_indexer(pd.Index(symbol)) >= 0
    if known_at is not None:
        keep &= (history["filed"].fillna(history["period_end"]) <= known_at).to_numpy(dtype=bool)
    if not keep.any():
        return Statements(_empty_rows(), {}, {}, n)
    h = history[keep].assign(symbol=symbol[keep])
    pos = index.get_indexer(pd.Index(h["symbol"]))
    # The most recent filing of each period, then freshest period first within a company (grouped
    # by the company's position: the same order within a company as by name, on integer keys).
    end = h["period_end"].to_numpy(dtype="datetime64[ns]").view("int64")
    filed = h["filed"].fillna(pd.Timestamp("1900-01-01")).to_numpy(dtype="datetime64[ns]").view("int64")
    rank = h["source"].map(SOURCE_RANK).fillna(9).to_numpy(dtype="int64")
    order = np.lexsort((rank, -filed, -end, pos))
    h = h.iloc[order]
    keys = pd.DataFrame({"pos": pos[order], "source": pd.factorize(h["source"])[0],
                         "type": pd.factorize(h["period_type"])[0], "end": end[order]})
    first = ~keys.duplicated().to_numpy()
    h = h[first].reset_index(drop=True)
    h["pos"] = keys["pos"].to_numpy()[first]
    derived: dict[str, np.ndarray] = {}
    fcf = h["free_cash_flow"].to_numpy(dtype="float64", na_value=np.nan)
    parts = (h["operating_cash_flow"] + h["capital_expenditure"]).to_numpy(dtype="float64", na_value=np.nan)
    derived["free_cash_flow"] = np.isnan(fcf) & ~np.isnan(parts)
    h["free_cash_flow"] = np.where(np.isnan(fcf), parts, fcf)
    total = h["total_debt"].to_numpy(dtype="float64", na_value=np.nan)
    split = (h["current_debt"] + h["long_term_debt"]).to_numpy(dtype="float64", na_value=np.nan)
    derived["total_debt"] = np.isnan(total) & ~np.isnan(split)
    h["total_debt"] = np.where(np.isnan(total), split, total)
    ebit = h["ebit"].to_numpy(dtype="float64", na_value=np.nan)
    oi = h["operating_income"].to_numpy(dtype="float64", na_value=np.nan)
    h["earnings"] = np.where(np.isnan(ebit), oi, ebit)
    derived["earnings"] = np.isnan(ebit) & ~np.isnan(oi)
    vendor = h["ebitda"].to_numpy(dtype="float64", na_value=np.nan)
    da = h["depreciation_amortization"].to_numpy(dtype="float64", na_value=np.nan)
    built = h["earnings"].to_numpy() + np.abs(da)
    h["ebitda_any"] = np.where(np.isnan(vendor), built, vendor)
    derived["ebitda_any"] = np.isnan(vendor) & ~np.isnan(built)
    suspect = _sanity(h, SANITY_RULES)
    suspect["earnings"] = np.where(derived["earnings"], suspect.get("operating_income", ""),
                                   suspect.get("ebit", ""))
    suspect["ebitda_any"] = np.where(derived["ebitda_any"], suspect["earnings"], "")
    return Statements(h, suspect, derived, n)


def _empty_rows() -> pd.DataFrame:
    cols = {c: pd.Series(dtype="float64") for c in (*STATEMENT_LINES, *CENSOR_COLUMNS, *DERIVED)}
    frame = pd.DataFrame(cols)
    frame["symbol"] = pd.Series(dtype=object)
    frame["source"] = pd.Series(dtype=object)
    frame["period_type"] = pd.Series(dtype=object)
    frame["form"] = pd.Series(dtype=object)
    frame["period_end"] = pd.Series(dtype="datetime64[ns]")
    frame["filed"] = pd.Series(dtype="datetime64[ns]")
    frame["fiscal_year"] = pd.Series(dtype="int64")
    frame["pos"] = pd.Series(dtype="int64")
    return frame


def _sanity(h: pd.DataFrame, rules: tuple[SanityRule, ...]) -> dict[str, np.ndarray]:
    """line -> rule id per row ("" when the line breaks no rule); the first broken rule wins."""
    out = {line: np.full(len(h), "", dtype=object) for line in STATEMENT_LINES}
    previous_fiscal_year = _previous_fiscal_year(h)
    for rule in rules:
        v = h[rule.line].to_numpy(dtype="float64", na_value=np.nan)
        with np.errstate(invalid="ignore"):
            if rule.kind == "above":
                broken = v > rule.bound
            elif rule.kind == "below":
                broken = v < rule.bound
            elif rule.kind == "share_above":
                o = h[rule.other].to_numpy(dtype="float64", na_value=np.nan)
                broken = (o > 0) & (v > rule.bound * o)
            elif rule.kind == "small_cost":
                o = h[rule.other].to_numpy(dtype="float64", na_value=np.nan)
                broken = (v > 0) & (v < rule.bound) & (np.abs(o) > rule.factor * v)
            else:  # jump: against the same source's previous fiscal year
                fy, before = previous_fiscal_year
                prev = np.where(before >= 0, v[np.maximum(before, 0)], np.nan)
                broken = fy & (prev > 0) & (v > rule.bound * prev)
        for line in rule.flags:
            out[line] = np.where((out[line] == "") & broken, rule.id, out[line])
    return out


def _previous_fiscal_year(h: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Per row: it is a fiscal year, and the row of the same company and source's previous fiscal
    year by period end (-1 when none)."""
    fy = (h["period_type"] == "FY").to_numpy(dtype=bool)
    rows = np.flatnonzero(fy)
    before = np.full(len(h), -1, dtype=np.int64)
    if len(rows):
        company = pd.factorize(h["symbol"].to_numpy(dtype=object)[rows])[0]
        source = pd.factorize(h["source"].to_numpy(dtype=object)[rows])[0]
        end = h["period_end"].to_numpy(dtype="datetime64[ns]")[rows]
        local = np.lexsort((end, source, company))  # a company's source's fiscal years in order
        company, source, order = company[local], source[local], rows[local]
        same = (company[1:] == company[:-1]) & (source[1:] == source[:-1])
        before[order[1:][same]] = order[:-1][same]
    return fy, before


def rule_reason(rule_id: str) -> str:
    """The sentence behind a sanity rule id."""
    for r in SANITY_RULES:
        if r.id == rule_id:
            return r.reason
    return rule_id


STATEMENT_FIELDS = frozenset(STATEMENT_LINES) | frozenset(CENSOR_COLUMNS)
_FY_PERIODS = frozenset({"FY"})


def statement_rows(observations: pd.DataFrame) -> pd.DataFrame:
    """Statement rows from a source's statement-line observations (vendor exports, Yahoo ``.info``).

    Observations of one (symbol, source, date) become ONE row: a vendor's trailing figures and its
    latest balance sheet as of that date (``period_type`` "TTM", or "FY" when every observation of
    the row is a fiscal-year figure; ``filed`` unknown).
    """
    if observations is None or not len(observations):
        return history_frame(pd.DataFrame(columns=["symbol"]))
    obs = observations[observations["field"].isin(STATEMENT_FIELDS)]
    if not len(obs):
        return history_frame(pd.DataFrame(columns=["symbol"]))
    obs = obs.assign(as_of=pd.to_datetime(obs["as_of"]).dt.normalize(),
                     _fy=obs["period"].isin(_FY_PERIODS).astype(float))
    all_fy = obs.groupby(["symbol", "source", "as_of"])["_fy"].min()
    wide = obs.pivot_table(index=["symbol", "source", "as_of"], columns="field", values="value_num",
                           aggfunc="last", dropna=False).reset_index()
    wide = wide.dropna(subset=["as_of"])
    wide = wide.rename(columns={"as_of": "period_end"})
    wide["fiscal_year"] = wide["period_end"].dt.year.astype("int64")
    fy = all_fy.reindex(pd.MultiIndex.from_frame(wide[["symbol", "source", "period_end"]])).to_numpy() == 1.0
    wide["period_type"] = np.where(fy, "FY", "TTM")
    wide["form"] = "export"
    wide["filed"] = pd.NaT
    wide.columns.name = None
    return history_frame(wide)

"""Import use case: read files of one kind, merge them into the latest snapshot, save a new one.

All-or-nothing: every file is parsed first (a bad file raises :class:`InputError` before the
database is touched); the previous snapshot is then loaded, merged and the new snapshot saved in
one transaction, so a failure leaves the store exactly as it was (issue #3).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from dataclasses import field as _field
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from desktop.data import canonical, guards, symbols
from desktop.data.source import SkippedRow, SourceData
from desktop.engine.dataset import STATEMENT_LINES, Dataset
from desktop.engine.formatting import counted
from desktop.engine.statements import prepare
from desktop.errors import Cancelled, InputError

log = logging.getLogger(__name__)

KINDS = ("ishares", "yahoo-json", "finviz", "simfin", "fred", "prices",
         "sec-companyfacts")  # issue #14: read by desktop.services.sec_import
# Fields whose coverage the summary reports, in display order.
KEY_FIELDS = ("price", "market_cap", "sector", "industry", "reported_debt_to_equity", "revenue",
              "operating_income", "interest_expense", "free_cash_flow", "total_debt", "cash", "description")
# A source this much older than the snapshot gets a warning. Annual statements lag by nature
# (fiscal years end months before they are filed), so SimFin gets more room.
STALE_DAYS = {"simfin": 550}
DEFAULT_STALE_DAYS = 180
_SHOW = 8  # symbols listed per reason in the summary
_SHOW_FILES = 10  # files listed with their dates
_STORED_FILES = 50  # ... and kept in the snapshot's digest

Progress = Callable[..., None]


@dataclass
class FieldCoverage:
    """Coverage of one key field over the index members."""

    field: str
    total: int
    covered: int
    not_meaningful: int = 0  # e.g. debt/equity with negative equity: explained, not a gap
    missing: dict[str, list[str]] = _field(default_factory=dict)  # reason -> symbols

    @property
    def fraction(self) -> float:
        return self.covered / self.total if self.total else float("nan")

    @property
    def explained_fraction(self) -> float:
        """Share of members with a value or a documented not-meaningful reason."""
        return (self.covered + self.not_meaningful) / self.total if self.total else float("nan")


@dataclass
class ImportReport:
    """What an import did; ``summary_text()`` is the one-screen summary the CLI prints."""

    kind: str
    paths: list[str]
    as_of: date | None = None
    snapshot_id: int | None = None
    source_dates: list[tuple[str, date | None]] = _field(default_factory=list)  # (origin, as_of)
    rows_read: int = 0
    members_total: int = 0
    members_matched: int = 0
    symbols_outside_universe: int = 0
    skipped: list[tuple[str, SkippedRow]] = _field(default_factory=list)  # (origin, row)
    files_read: int = 0  # files read (a folder given as one path holds several)
    coverage: dict[str, FieldCoverage] = _field(default_factory=dict)
    members_with_history: int = 0
    members_3y_interest_and_operating_income: int = 0
    members_3y_operating_income: int = 0
    symbol_suggestions: dict[str, str] = _field(default_factory=dict)  # iShares ticker -> seen spelling
    warnings: list[str] = _field(default_factory=list)
    # Issue #12: records refused as another company's, and per source what its statements hold.
    identity_rejections: list[str] = _field(default_factory=list)
    statement_quality: dict[str, dict[str, int]] = _field(default_factory=dict)

    def skipped_by_reason(self) -> Counter[str]:
        return Counter(row.reason for _o, row in self.skipped)

    def to_summary(self) -> dict[str, Any]:
        """A JSON-able digest stored with the snapshot."""
        return {
            "kind": self.kind,
            "paths": list(self.paths),
            "as_of": self.as_of.isoformat() if self.as_of else None,
            # A folder of price files can hold thousands: the digest keeps the first ones and the count.
            "source_dates": [[o, d.isoformat() if d else None] for o, d in self.source_dates[:_STORED_FILES]],
            "files": self.files,
            "rows_read": self.rows_read,
            "members": self.members_total,
            "members_matched": self.members_matched,
            "skipped": dict(self.skipped_by_reason()),
            "coverage": {k: round(c.fraction, 4) for k, c in self.coverage.items()},
            "members_with_history": self.members_with_history,
            "members_3y_interest_and_operating_income": self.members_3y_interest_and_operating_income,
            "warnings": self.warnings[:50],
            "identity_rejections": self.identity_rejections[:200],
            "statement_quality": self.statement_quality,
        }

    @property
    def files(self) -> int:
        """Files read: a folder given as one path holds several."""
        return self.files_read or len(self.paths)

    def summary_text(self) -> str:
        """The one-screen summary: rows, members matched, skipped rows, coverage, dates, warnings."""
        out = [f"Imported {self.kind}: {counted(self.files, 'file')}, {counted(self.rows_read, 'row')} read"
               + (f" -> snapshot {self.snapshot_id}" if self.snapshot_id is not None else "")
               + (f" as of {self.as_of.isoformat()}" if self.as_of else "")]
        shown = self.source_dates if len(self.source_dates) <= _SHOW_FILES + 1 else self.source_dates[:_SHOW_FILES]
        for origin, d in shown:
            out.append(f"  {Path(origin).name}: " + (f"data as of {d.isoformat()}" if d else "no date in the file"))
        rest = [d for _o, d in self.source_dates[len(shown):]]
        if rest:  # a folder of price files: the summary stays one screen
            known = sorted(d for d in rest if d)
            span = ("no dates" if not known else f"data as of {known[0]}" if known[0] == known[-1]
                    else f"data as of {known[0]} to {known[-1]}")
            out.append(f"  and {counted(len(rest), 'more file')}: {span}")
        out.append(f"Members: {self.members_total:,} in the universe, {self.members_matched:,} matched by this "
                   f"import" + (f"; {counted(self.symbols_outside_universe, 'symbol')} outside the universe ignored"
                                if self.symbols_outside_universe else ""))
        if self.skipped:
            reasons = ", ".join(f"{r} {n}" for r, n in self.skipped_by_reason().most_common())
            out.append(f"Skipped {counted(len(self.skipped), 'row')}: {reasons}")
            for origin, row in self.skipped[:12]:
                out.append(f"  {Path(origin).name} line {row.line}: {row.ticker} - {row.reason}")
            if len(self.skipped) > 12:
                out.append(f"  ... {len(self.skipped) - 12} more (see the report's skipped list)")
        if self.coverage:
            out.append("Fields covered (members with a value):")
            for name, cov in self.coverage.items():
                line = f"  {name:<24} {100 * cov.fraction:5.1f} %"
                if cov.not_meaningful:
                    line += f"  +{100 * cov.not_meaningful / cov.total:.1f} % n.m. (negative equity)"
                gaps = "; ".join(f"{len(syms)} {reason} ({', '.join(syms[:_SHOW])}"
                                 f"{', ...' if len(syms) > _SHOW else ''})" for reason, syms in cov.missing.items())
                if gaps:
                    line += f"  missing: {gaps}"
                out.append(line)
        if self.members_with_history:
            out.append(f"History: {counted(self.members_with_history, 'member')} with fiscal-year history; "
                       f"{self.members_3y_interest_and_operating_income:,} with 3+ consecutive years of interest "
                       f"expense and operating income; {self.members_3y_operating_income:,} with 3+ of operating income")
        if self.symbol_suggestions:
            pairs = ", ".join(f"{k} -> {v}" for k, v in list(self.symbol_suggestions.items())[:_SHOW])
            out.append(f"Possible share-class spellings (add to symbols.EXCEPTIONS if right): {pairs}")
        if self.identity_rejections:
            out.append(f"Refused as another company's data: {len(self.identity_rejections)}")
            out.extend(f"  {r}" for r in self.identity_rejections[:12])
            if len(self.identity_rejections) > 12:
                out.append(f"  ... {len(self.identity_rejections) - 12} more")
        for src, q in self.statement_quality.items():
            out.append(f"Statements from {src}: {counted(q['members'], 'member')}; latest period within 12 months "
                       f"{q['age_12m']:,}, 12-18 months {q['age_18m']:,}, older (stale) {q['stale']:,}; "
                       f"censored FCF {q['censored_fcf']:,}, censored EBITDA {q['censored_ebitda']:,}; "
                       f"suspect lines {q['suspect']:,}")
        if self.warnings:
            out.append("Warnings:")
            out.extend(f"  {w}" for w in self.warnings[:10])
            if len(self.warnings) > 10:
                out.append(f"  ... {len(self.warnings) - 10} more")
        return "\n".join(out)


def _read(kind: str, paths: list[Path]) -> list[SourceData]:
    """Parse the files of one kind (no database access)."""
    from desktop.data import finviz, fred, ishares, prices, simfin

    if kind == "ishares":
        if len(paths) != 1:
            raise InputError(f"import one iShares holdings file at a time (got {len(paths)})")
        return [ishares.read_ishares(paths[0])]
    if kind == "yahoo-json":
        from desktop.data.yahoo import read_yahoo_json

        return [read_yahoo_json(p) for p in paths]
    if kind == "finviz":
        return [finviz.read_finviz(p) for p in paths]
    if kind == "simfin":
        return [simfin.read_simfin(paths)]
    if kind == "fred":
        return [fred.read_fred(p) for p in paths]
    if kind == "prices":
        return [prices.read_prices(paths)]
    # --- issue #14: SEC companyfacts.zip / folder, read by desktop.services.sec_import ---
    if kind == "sec-companyfacts":
        from desktop.services.sec_import import read_for_import

        return read_for_import(paths)
    # --- end issue #14 ---
    raise InputError(f"unknown import kind {kind!r}; expected one of {', '.join(KINDS)}")


def _parse_as_of(as_of: date | str | None) -> date | None:
    if as_of is None or isinstance(as_of, date):
        return as_of
    try:
        return date.fromisoformat(str(as_of).strip())
    except ValueError:
        raise InputError(f"{as_of!r} is not a date (YYYY-MM-DD)", field="--as-of") from None


def import_files(db: Any, kind: str, paths: Sequence[str | Path], as_of: date | str | None = None,
                 progress: Progress | None = None, is_cancelled: Callable[[], bool] | None = None,
                 *, allow_shrink: bool = False) -> ImportReport:
    """Import files of one kind into a new snapshot.

    Args:
        db: an open :class:`desktop.store.db.Database`.
        kind: one of :data:`KINDS`.
        paths: files (or, for simfin and prices, folders).
        as_of: the snapshot's date; required when an iShares file has lost its preamble.
        progress: ``progress(done, total, message)``.
        is_cancelled: checked between files and before saving.
        allow_shrink: accept a universe that loses over 20 % of the previous members (issue #13).

    Returns:
        The report, with ``snapshot_id`` set.

    Raises:
        InputError: a malformed file or argument (nothing is saved).
        Cancelled: the user cancelled (nothing is saved).
    """
    from desktop.store import snapshots

    if kind not in KINDS:
        raise InputError(f"unknown import kind {kind!r}; expected one of {', '.join(KINDS)}")
    if not paths:
        raise InputError("no files given")
    explicit = _parse_as_of(as_of)
    files = [Path(p) for p in paths]
    report = ImportReport(kind=kind, paths=[str(p) for p in files])
    total = len(files) + 2

    def step(done: int, message: str) -> None:
        if is_cancelled is not None and is_cancelled():
            raise Cancelled()
        if progress is not None:
            progress(done, total, message)

    step(0, f"Reading {kind}: {', '.join(p.name for p in files[:3])}{'…' if len(files) > 3 else ''}")
    sources = _read(kind, files)
    _apply_dates(sources, explicit, report)
    step(len(files), "Merging with the latest snapshot…")
    with db.session() as session:
        previous = snapshots.load_dataset(session) if snapshots.latest_snapshot_id(session) is not None else None
        # --- issue #13: refuse a new universe that silently drops many members (desktop/data/guards.py)
        for s in sources:
            if previous is not None and s.source == canonical.UNIVERSE_SOURCE and s.members is not None:
                report.warnings.extend(guards.check_universe_shrink(
                    previous.members.index, s.members.index, origin=s.origin, allow=allow_shrink))
        # --- end issue #13
        merged = canonical.MergeReport()
        dataset = canonical.merge(previous, sources, explicit, report=merged)
        report.identity_rejections = [r.sentence() for r in merged.rejections]
        report.warnings.extend(merged.warnings)
        _fill_report(report, sources, dataset)
        report.statement_quality = _statement_quality(sources, dataset)
        step(len(files) + 1, "Saving the new snapshot…")
        report.snapshot_id = int(snapshots.save_snapshot(session, dataset, report.to_summary()))
    report.warnings = list(dict.fromkeys(report.warnings))  # one line per distinct warning
    step(total, f"Saved snapshot {report.snapshot_id}")
    log.info("import %s: %s rows, snapshot %s", kind, report.rows_read, report.snapshot_id)
    return report


def _apply_dates(sources: list[SourceData], explicit: date | None, report: ImportReport) -> None:
    today = date.today()
    for s in sources:
        report.warnings.extend(s.warnings)
        if s.as_of is None:
            if s.source == canonical.UNIVERSE_SOURCE:
                if explicit is None:
                    raise InputError("the holdings file has no 'Fund Holdings as of' date (its preamble was "
                                     "stripped).", path=s.origin, field="Fund Holdings as of",
                                     hint="Pass the date the holdings describe: --as-of YYYY-MM-DD.")
                report.warnings.append(f"{s.origin}: no as-of date in the file; used --as-of {explicit}")
            else:
                report.warnings.append(f"{s.origin}: no as-of date; used {(explicit or today).isoformat()}")
            s.as_of = explicit or today
        elif explicit is not None and (s.as_of > explicit or
                                       (s.source == canonical.UNIVERSE_SOURCE and s.as_of != explicit)):
            # The holdings file dates the snapshot; any file dated after it describes a later day.
            # (Older vendor data is normal and gets the age warnings below.)
            report.warnings.append(f"{s.origin}: the file is dated {s.as_of}; the snapshot is dated --as-of {explicit}")


def _fill_report(report: ImportReport, sources: list[SourceData], dataset: Dataset) -> None:
    report.as_of = dataset.as_of
    report.source_dates = [pair for s in sources for pair in s.file_dates]
    report.rows_read = sum(s.rows_read for s in sources)
    report.skipped = [(row.origin or s.origin, row) for s in sources for row in s.skipped]
    report.files_read = sum(len(s.file_dates) for s in sources)
    members = dataset.members.index
    report.members_total = len(members)
    seen: set[str] = set()
    for s in sources:
        for frame in (s.observations, s.history):
            if frame is not None and len(frame):
                seen.update(frame["symbol"].astype(str))
        for frame in (s.members, ):
            if frame is not None:
                seen.update(frame.index.astype(str))
        if s.prices is not None:
            seen.update(map(str, s.prices.columns))
    if len(members):
        report.members_matched = int(members.isin(list(seen)).sum())
        report.symbols_outside_universe = len(seen - set(members))
        _suggest_symbols(report, dataset, seen)
        _coverage(report, dataset)
        _history_stats(report, dataset)
        for s in sources:
            if s.source != canonical.UNIVERSE_SOURCE and s.as_of and dataset.as_of and \
                    (dataset.as_of - s.as_of).days > STALE_DAYS.get(s.source, DEFAULT_STALE_DAYS):
                report.warnings.append(f"{s.source} data dated {s.as_of} is {(dataset.as_of - s.as_of).days} days "
                                       f"older than the snapshot ({dataset.as_of})")
    else:
        report.members_matched = 0
        report.warnings.append("no universe yet: import the iShares holdings so that members can be matched")


def _suggest_symbols(report: ImportReport, dataset: Dataset, seen: set[str]) -> None:
    """Members absent from this import under their symbol but present in a dashed spelling."""
    if "ticker" not in dataset.securities:
        return
    tickers = dataset.members["ticker"].dropna()
    for symbol, ticker in tickers.items():
        if symbol in seen:
            continue
        for cand in symbols.dashed_candidates(str(ticker)):
            if cand in seen and cand != symbol:
                report.symbol_suggestions[str(ticker)] = cand


def _statement_quality(sources: list[SourceData], dataset: Dataset) -> dict[str, dict[str, int]]:
    """Per source of this import: members with statements, the age of their latest period against
    the snapshot date, censored values and lines that break a sanity rule (issue #12)."""
    members = dataset.members.index
    out: dict[str, dict[str, int]] = {}
    hist = dataset.history[dataset.history["symbol"].isin(members)]
    snap = pd.Timestamp(dataset.as_of)
    for src in dict.fromkeys(s.source for s in sources if s.history is not None and len(s.history)):
        rows = hist[hist["source"] == src]
        if not len(rows):
            continue
        age = (snap - rows.groupby("symbol")["period_end"].max()).dt.days
        prepared = prepare(rows, pd.Index(members))
        suspect = sum(int((v != "").sum()) for v in prepared.suspect.values())
        out[src] = {"members": int(rows["symbol"].nunique()), "age_12m": int((age <= 365).sum()),
                    "age_18m": int(((age > 365) & (age <= 548)).sum()), "stale": int((age > 548).sum()),
                    "censored_fcf": int((rows["fcf_nonpositive"] == 1).sum()),
                    "censored_ebitda": int((rows["ebitda_nonpositive"] == 1).sum()), "suspect": suspect}
    return out


def _latest_line(dataset: Dataset, name: str) -> pd.Series:
    """Per member, the statement line ``name`` of its freshest row that has it."""
    h = dataset.history
    h = h[h["symbol"].isin(dataset.members.index) & h[name].notna()].sort_values("period_end")
    return h.drop_duplicates("symbol", keep="last").set_index("symbol")[name].reindex(dataset.members.index)


def _coverage(report: ImportReport, dataset: Dataset) -> None:
    """Per key field: members with a value, members "not meaningful", and why the rest are missing."""
    members = dataset.members
    prov = dataset.provenance
    prov = prov[prov["symbol"].isin(members.index) & (prov["source"] != canonical.UNIVERSE_SOURCE)]
    pairs = prov[["symbol", "source"]].drop_duplicates()  # which sources know each member
    has_any = set(pairs["symbol"])
    field_sources = prov[["field", "source"]].drop_duplicates()
    equity = _latest_line(dataset, "total_equity")
    negative_equity = (equity < 0).to_numpy()
    for name in KEY_FIELDS:
        if name in STATEMENT_LINES:
            values = _latest_line(dataset, name)
        else:
            values = members[name] if name in members else pd.Series(np.nan, index=members.index)
        have = (values.notna() & (values.astype(str).str.strip() != "")).to_numpy()
        cov = FieldCoverage(field=name, total=len(members), covered=int(have.sum()))
        gap = ~have
        if name == "reported_debt_to_equity":
            cov.not_meaningful = int((gap & negative_equity).sum())  # D/E of negative equity: n.m.
            gap &= ~negative_equity
        missing = members.index[gap]
        providers = set(field_sources.loc[field_sources["field"] == name, "source"])
        # sources that know the member and give this field for others, but have no value for it
        sub = pairs[pairs["symbol"].isin(missing) & pairs["source"].isin(providers)].sort_values("source")
        empty_in: dict[str, list[str]] = {}
        for sym, src in zip(sub["symbol"].to_numpy(dtype=object), sub["source"].to_numpy(dtype=object), strict=True):
            empty_in.setdefault(sym, []).append(str(src))
        for sym in missing:
            if sym in empty_in:
                reason = f"no value in {'/'.join(empty_in[sym])}"
            elif name == "price":
                reason = "no price in the holdings file (0.00) and no other source"
            elif sym in has_any:
                reason = "not in the files that provide it" if providers else "no imported source provides it"
            else:
                reason = "in no imported fundamentals file"
            cov.missing.setdefault(reason, []).append(str(sym))
        report.coverage[name] = cov


def _history_stats(report: ImportReport, dataset: Dataset) -> None:
    hist = dataset.history
    hist = hist[hist["symbol"].isin(dataset.members.index) & (hist["period_type"] == "FY")]  # fiscal years
    if not len(hist):
        return
    report.members_with_history = int(hist["symbol"].nunique())
    report.members_3y_interest_and_operating_income = _runs(
        hist, hist["interest_expense"].notna() & hist["operating_income"].notna())
    report.members_3y_operating_income = _runs(hist, hist["operating_income"].notna())


def _runs(hist: pd.DataFrame, mask: pd.Series, length: int = 3) -> int:
    """Members with ``length``+ consecutive fiscal years where ``mask`` holds (any source)."""
    rows = hist.loc[mask, ["symbol", "fiscal_year"]].drop_duplicates().sort_values(["symbol", "fiscal_year"])
    if not len(rows):
        return 0
    new_run = (rows["symbol"] != rows["symbol"].shift()) | (rows["fiscal_year"].diff() != 1)
    run_id = new_run.cumsum()
    sizes = rows.groupby(run_id)["symbol"].agg(["first", "size"])
    return int(sizes.loc[sizes["size"] >= length, "first"].nunique())

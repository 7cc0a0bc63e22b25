"""The SEC EDGAR part of a refresh (issue #14): company facts and submissions of every member.

:func:`desktop.services.refresh.refresh` runs it beside the Yahoo part, each within its own rate
limit. This module holds the SEC-specific steps:

* :func:`plan` (calling thread): the SEC's ticker map (``company_tickers.json``, fetched when older
  than a day, conditionally) maps each member to its CIK; the raw cache says which companies are due.
  A company is **due** when its facts were never fetched, or were last confirmed current more than
  ``max_age["sec_facts"]`` ago; its submissions (name, SIC, former names, filing index) when older
  than ``max_age["sec_submissions"]``. Company-facts jobs come first, so the fundamentals of every
  member are in before the master data;
* :func:`fetch_job` (worker threads, sharing the client's token bucket): one company's requests.
  **Incremental**: a due company is asked with the HTTP validators of its last answer (``ETag``,
  ``Last-Modified``), so an unchanged body answers 304 and is not downloaded again. Where the SEC gave
  no validators, the submissions decide: the facts are fetched again only when a financial filing
  (10-K, 10-Q, 20-F, 8-K, ...) is dated on or after the day before they were last fetched. A body is
  parsed on the worker thread as it arrives (the workers mostly wait for the rate limiter);
* :func:`commit` (calling thread): one transaction per company: the raw bodies, the parsed result
  and the company's state (validators, dates). A killed refresh loses at most the companies in flight;
  a rerun skips what is committed (**resumable**);
* :func:`source_data`: the cached parses of the members as one :class:`SourceData` (source ``sec``)
  for the snapshot; a parse made by an older parser or concept table is redone from the raw body.

Raw-cache rows (source ``sec``): per CIK ``companyfacts`` and ``submissions`` (the bodies, bytes),
``parsed`` (JSON, :func:`sec_facts.company_to_json`) and ``state`` (JSON, fetched at the last check);
the ticker map under the symbol ``_tickers`` (kinds ``company_tickers`` and ``state``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd

from desktop.data import sec_client, sec_facts
from desktop.data.source import SourceData
from desktop.engine.formatting import counted
from desktop.errors import Cancelled, DataSourceError, InputError, NoDataError, SourceUnreachableError

log = logging.getLogger(__name__)

SOURCE = "sec"
MAP_KEY = "_tickers"  # the ticker map's raw-cache symbol (no ticker starts with "_")
KIND_MAP, KIND_FACTS, KIND_SUBMISSIONS, KIND_PARSED, KIND_STATE = (
    "company_tickers", "companyfacts", "submissions", "parsed", "state")
DEFAULT_MAX_AGE: dict[str, timedelta] = {
    "sec_tickers": timedelta(hours=20),  # the ticker map: new listings and ticker changes
    "sec_facts": timedelta(hours=20),  # company facts: confirmed current daily (mostly a 304)
    "sec_submissions": timedelta(days=30),  # name, SIC, former names: they rarely change
}
DEFAULT_WORKERS = 4  # enough to hide ~100 ms of latency at 9 requests/s
_CHUNK = 100  # companies read from the cache at once while building the snapshot


@dataclass(frozen=True)
class SecSettings:
    """How to reach the SEC: the declared User-Agent (None: ``$PICKAXE_SEC_USER_AGENT``), the rate
    (requests/s, at most 10) and the worker threads; ``client_options`` go to :class:`SecClient`
    (tests point ``www``/``data`` at a local server)."""

    user_agent: str | None = None
    max_rate: float = sec_client.DEFAULT_MAX_RATE
    workers: int = DEFAULT_WORKERS
    client_options: Mapping[str, Any] = field(default_factory=dict)

    def client(self, is_cancelled: Callable[[], bool] | None = None) -> sec_client.SecClient:
        """A client under the SEC's rules.

        Raises:
            DataSourceError: no User-Agent with a contact e-mail, or a rate above 10 per second.
        """
        return sec_client.SecClient(self.user_agent, max_rate=self.max_rate, is_cancelled=is_cancelled,
                                    **dict(self.client_options))


@dataclass
class SecSummary:
    """What the SEC part of a refresh did (``RefreshReport.sec``)."""

    companies: int = 0  # distinct CIKs of the requested members
    fetched: int = 0  # company-facts bodies downloaded
    unchanged: int = 0  # company facts confirmed current without downloading them
    submissions: int = 0  # submissions bodies downloaded
    fresh: int = 0  # companies not due
    no_data: int = 0  # companies without XBRL facts (404)
    not_in_map: list[str] = field(default_factory=list)  # members the ticker map does not list
    requests: int = 0
    skipped: str = ""  # why the SEC part did not run at all
    stopped: str = ""  # why it stopped early (blocked, unreachable)
    warnings: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        if self.skipped:
            return [f"SEC EDGAR not used: {self.skipped}"]
        out = [f"SEC EDGAR: {counted(self.companies, 'company', 'companies')}: {self.fetched:,} company facts fetched, "
               f"{self.unchanged:,} unchanged, {self.fresh:,} still fresh, {self.no_data:,} without XBRL facts; "
               f"{counted(self.submissions, 'submission')}; {counted(self.requests, 'request')}"]
        if self.not_in_map:
            shown = ", ".join(self.not_in_map[:8]) + (", ..." if len(self.not_in_map) > 8 else "")
            n = len(self.not_in_map)
            out.append(f"  {counted(n, 'member')} {'is' if n == 1 else 'are'} not in the SEC's ticker map ({shown}): "
                       "no SEC fundamentals for " + ("it" if n == 1 else "them"))
        if self.stopped:
            out.append(f"  stopped early: {self.stopped}")
        out.extend(f"  {w}" for w in self.warnings[:6])
        return out


@dataclass(frozen=True)
class Job:
    """One company's work: ``what`` is "facts" (company facts, conditionally when validators are
    known), "check" (submissions first, then the facts only if a financial filing came in) or
    "submissions" (master data only)."""

    cik: str
    symbols: tuple[str, ...]
    what: str
    state: Mapping[str, Any]

    @property
    def label(self) -> str:
        return f"SEC {'/'.join(self.symbols)}"


@dataclass
class Plan:
    jobs: list[Job] = field(default_factory=list)
    ciks: dict[str, str] = field(default_factory=dict)  # requested member -> CIK


@dataclass
class Outcome:
    """One job's answers. ``fatal`` stops the SEC part (blocked, unreachable); ``failure`` is this
    company's alone."""

    job: Job
    bodies: dict[str, bytes] = field(default_factory=dict)  # kind -> body (HTTP 200)
    validators: dict[str, dict[str, Any]] = field(default_factory=dict)
    parsed: dict[str, Any] | None = None
    master: dict[str, Any] | None = None
    facts_unchanged: bool = False
    no_data: dict[str, str] = field(default_factory=dict)  # kind -> reason (HTTP 404)
    failure: tuple[str, str] | None = None  # (kind, reason)
    fatal: str | None = None


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


def _when(state: Mapping[str, Any], *keys: str) -> datetime | None:
    value: Any = state
    for key in keys:
        value = value.get(key) if isinstance(value, Mapping) else None
    try:
        return datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _validators(resp: sec_client.SecResponse, fetched: datetime, known: Mapping[str, Any] | None = None,
                ) -> dict[str, Any]:
    """The validators to send next time: the answer's, else (a 304 without them) the ones we had."""
    keep = known if resp.not_modified and known else {}
    return {"etag": resp.etag or keep.get("etag"), "last_modified": resp.last_modified or keep.get("last_modified"),
            "fetched": _iso(fetched)}


def resolve_ages(max_age: timedelta | Mapping[str, timedelta] | None) -> dict[str, timedelta]:
    """The SEC's max ages: the defaults, one ``timedelta`` for all, or a mapping overriding some."""
    ages = dict(DEFAULT_MAX_AGE)
    if isinstance(max_age, timedelta):
        return {k: max_age for k in ages}
    ages.update({k: v for k, v in (max_age or {}).items() if k in ages})
    return ages


def _ticker_map(db: Any, client: sec_client.SecClient, ages: Mapping[str, timedelta], summary: SecSummary,
                ) -> dict[str, str] | None:
    """Ticker -> CIK: the cached map when fresh, else fetched (conditionally) and committed."""
    from desktop.store import rawcache

    now = _now()
    with db.session() as session:
        cached = rawcache.load_raw(session, SOURCE, [KIND_MAP, KIND_STATE], [MAP_KEY])
    body_entry, state_entry = cached.get((MAP_KEY, KIND_MAP)), cached.get((MAP_KEY, KIND_STATE))
    state = state_entry.payload if state_entry is not None and isinstance(state_entry.payload, dict) else {}
    body = body_entry.payload if body_entry is not None and body_entry.status == "ok" else None
    checked = _when(state, "fetched")
    if body is None or checked is None or checked < now - ages["sec_tickers"]:
        etag, modified = (state.get("etag"), state.get("last_modified")) if body is not None else (None, None)
        try:
            resp = client.company_tickers(etag=etag, last_modified=modified)
        except Cancelled:
            raise
        except DataSourceError as exc:
            if body is None:
                summary.skipped = f"the SEC's ticker map could not be fetched ({exc.message})"
                return None
            summary.warnings.append(f"the SEC's ticker map could not be refreshed ({exc.message}); the copy "
                                    f"fetched {checked.date() if checked else 'earlier'} is used")
        else:
            with db.session() as session:
                if not resp.not_modified:
                    body = resp.body
                    rawcache.put_raw(session, SOURCE, MAP_KEY, KIND_MAP, body, now)
                rawcache.put_raw(session, SOURCE, MAP_KEY, KIND_STATE, _validators(resp, now, state), now)
    try:
        return sec_facts.parse_company_tickers(body or b"", "SEC company_tickers.json")
    except InputError as exc:
        summary.skipped = f"the SEC's ticker map is unreadable ({exc.message})"
        return None


def plan(db: Any, client: sec_client.SecClient, symbols: Iterable[str], ages: Mapping[str, timedelta],
         summary: SecSummary) -> Plan:
    """Map members to CIKs and list the due jobs (company facts first, then submissions).

    Sets ``summary.skipped`` (and returns an empty plan) when the ticker map is unavailable.
    """
    from desktop.store import rawcache

    mapping = _ticker_map(db, client, ages, summary)
    out = Plan()
    if mapping is None:
        return out
    wanted = list(dict.fromkeys(symbols))
    out.ciks = {s: mapping[s] for s in wanted if s in mapping}
    summary.not_in_map = [s for s in wanted if s not in mapping]
    by_cik: dict[str, list[str]] = {}
    for symbol, cik in out.ciks.items():
        by_cik.setdefault(cik, []).append(symbol)
    summary.companies = len(by_cik)
    now = _now()
    with db.session() as session:
        have_facts = rawcache.fresh_symbols(session, SOURCE, KIND_FACTS, datetime.min)
        no_facts = rawcache.fresh_symbols(session, SOURCE, KIND_FACTS, now - ages["sec_facts"], statuses=("nodata",))
        have_subs = rawcache.fresh_symbols(session, SOURCE, KIND_SUBMISSIONS, datetime.min)
        no_subs = rawcache.fresh_symbols(session, SOURCE, KIND_SUBMISSIONS, now - ages["sec_submissions"],
                                         statuses=("nodata",))
        states = {cik: e.payload for (cik, _k), e in
                  rawcache.load_raw(session, SOURCE, [KIND_STATE], list(by_cik)).items() if isinstance(e.payload, dict)}
    facts_jobs, subs_jobs = [], []
    for cik, syms in by_cik.items():
        state = states.get(cik, {})
        checked = _when(state, "checked")
        facts_due = (cik not in have_facts or checked is None or checked < now - ages["sec_facts"]) \
            and not (cik in no_facts and cik not in have_facts)  # the SEC answered "no facts" recently
        known = state.get(KIND_FACTS) or {}
        # Without validators from the SEC, the submissions say whether a filing came in.
        check = facts_due and cik in have_facts and cik in have_subs and not (known.get("etag")
                                                                              or known.get("last_modified"))
        if facts_due:
            facts_jobs.append(Job(cik, tuple(syms), "check" if check else "facts", state))
        subs_fetched = _when(state, "submissions", "fetched")
        subs_due = not check and cik not in no_subs and (cik not in have_subs or subs_fetched is None
                                                         or subs_fetched < now - ages["sec_submissions"])
        if subs_due:
            subs_jobs.append(Job(cik, tuple(syms), "submissions", state))
        summary.fresh += not facts_due and not subs_due
    out.jobs = facts_jobs + subs_jobs
    return out


def fetch_job(client: sec_client.SecClient, job: Job, lane_stopped: Callable[[], str | None]) -> Outcome:
    """One company's requests (runs on a worker thread; parses what arrives).

    Raises:
        Cancelled: the user cancelled (a stop of the SEC part alone becomes ``fatal``).
    """
    out = Outcome(job)
    state = job.state
    kind = KIND_SUBMISSIONS if job.what in ("check", "submissions") else KIND_FACTS
    try:
        if kind == KIND_SUBMISSIONS:
            _fetch_submissions(client, job, out)
        if job.what == "facts" or (job.what == "check" and _filed_since_facts(out, state)):
            kind = KIND_FACTS
            known = state.get(KIND_FACTS) or {}
            resp = client.companyfacts(job.cik, known.get("etag"), known.get("last_modified"))
            out.validators[KIND_FACTS] = _validators(resp, _now(), known)
            if resp.not_modified:
                out.facts_unchanged = True
            else:
                company = sec_facts.parse_companyfacts(resp.body, resp.url, keep_facts=False)
                if company.cik != job.cik:
                    raise InputError(f"holds CIK {company.cik}, not {job.cik}", path=resp.url)
                out.bodies[KIND_FACTS] = resp.body
                out.parsed = sec_facts.company_to_json(company)
        elif job.what == "check":
            out.facts_unchanged = True
    except NoDataError as exc:
        out.no_data[kind] = exc.message
    except (sec_client.SecBlockedError, SourceUnreachableError) as exc:
        out.fatal = exc.message
    except Cancelled:
        reason = lane_stopped()
        if reason is None:
            raise
        out.fatal = reason
    except InputError as exc:
        out.failure = (kind, f"unreadable answer: {exc.message}")
    except DataSourceError as exc:
        out.failure = (kind, exc.message)
    return out


def _fetch_submissions(client: sec_client.SecClient, job: Job, out: Outcome) -> None:
    known = job.state.get("submissions") or {}
    resp = client.submissions(job.cik, known.get("etag"), known.get("last_modified"))
    out.validators[KIND_SUBMISSIONS] = {**_validators(resp, _now(), known),
                                        "latest_financial_filing": known.get("latest_financial_filing")}
    if resp.not_modified:
        return
    sub = sec_facts.parse_submissions(resp.body, resp.url)
    out.bodies[KIND_SUBMISSIONS] = resp.body
    out.master = sec_facts.submissions_to_json(sub)
    out.validators[KIND_SUBMISSIONS]["latest_financial_filing"] = sub.latest_financial_filing


def _filed_since_facts(out: Outcome, state: Mapping[str, Any]) -> bool:
    """A financial filing dated on or after the day before the facts were fetched (the SEC updates
    company facts shortly after a filing, so a same-day fetch may predate it)."""
    latest = out.validators.get(KIND_SUBMISSIONS, {}).get("latest_financial_filing")
    fetched = _when(state, KIND_FACTS, "fetched")
    if fetched is None:
        return True
    return isinstance(latest, str) and latest >= (fetched.date() - timedelta(days=1)).isoformat()


def commit(db: Any, out: Outcome, summary: SecSummary) -> None:
    """One transaction per company: its new bodies, its parse and its state (a fatal outcome commits
    nothing)."""
    from desktop.store import rawcache

    if out.fatal is not None:
        return
    now = _now()
    job = out.job
    with db.session() as session:
        # The stored state, not the job's copy: another job of this company may have committed since.
        stored = rawcache.load_raw(session, SOURCE, [KIND_STATE], [job.cik]).get((job.cik, KIND_STATE))
        state: dict[str, Any] = dict(stored.payload) if stored is not None and isinstance(stored.payload, dict) else {}
        state.update(out.validators)
        if out.master is not None:
            state["master"] = out.master
        if KIND_FACTS in out.bodies or out.facts_unchanged or KIND_FACTS in out.no_data:
            state["checked"] = _iso(now)
        for kind, body in out.bodies.items():
            rawcache.put_raw(session, SOURCE, job.cik, kind, body, now)
        if out.parsed is not None:
            rawcache.put_raw(session, SOURCE, job.cik, KIND_PARSED, out.parsed, now)
        for kind, reason in out.no_data.items():
            kept = rawcache.load_raw(session, SOURCE, [kind], [job.cik]).get((job.cik, kind))
            if kept is None or kept.status != "ok":
                rawcache.put_raw(session, SOURCE, job.cik, kind, None, now, status="nodata", error=reason)
        rawcache.put_raw(session, SOURCE, job.cik, KIND_STATE, state, _when(state, "checked") or now)
    summary.fetched += KIND_FACTS in out.bodies
    summary.unchanged += out.facts_unchanged
    summary.submissions += KIND_SUBMISSIONS in out.bodies
    summary.no_data += KIND_FACTS in out.no_data


def source_data(db: Any, symbols: Iterable[str]) -> SourceData | None:
    """The cached SEC fundamentals of ``symbols`` as one SourceData (None when nothing is cached)."""
    from desktop.store import rawcache

    with db.session() as session:
        entry = rawcache.load_raw(session, SOURCE, [KIND_MAP], [MAP_KEY]).get((MAP_KEY, KIND_MAP))
    if entry is None or entry.status != "ok":
        return None
    mapping = sec_facts.parse_company_tickers(entry.payload, "SEC company_tickers.json (cached)")
    by_cik: dict[str, list[str]] = {}
    for symbol in dict.fromkeys(symbols):
        if symbol in mapping:
            by_cik.setdefault(mapping[symbol], []).append(symbol)
    ciks = sorted(by_cik)
    parts: list[SourceData] = []
    for i in range(0, len(ciks), _CHUNK):
        chunk = ciks[i:i + _CHUNK]
        with db.session() as session:
            cached = rawcache.load_raw(session, SOURCE, [KIND_PARSED, KIND_STATE], chunk)
        pairs: list[tuple[str, sec_facts.CompanyFacts]] = []
        masters: dict[str, sec_facts.Submissions] = {}
        for cik in chunk:
            parsed = cached.get((cik, KIND_PARSED))
            company = sec_facts.company_from_json(parsed.payload) if parsed is not None else None
            if company is None:
                company = _reparse(db, cik)
            state = cached.get((cik, KIND_STATE))
            master = state.payload.get("master") if state is not None and isinstance(state.payload, dict) else None
            if isinstance(master, dict):
                masters[cik] = sec_facts.submissions_from_json(master)
                # A company without XBRL facts still has its identity and SIC code.
                company = company or sec_facts.CompanyFacts(cik=cik, name=masters[cik].name)
            if company is not None:
                pairs.extend((symbol, company) for symbol in by_cik[cik])
        if pairs:
            parts.append(sec_facts.source_data(pairs, origin=sec_client.DATA, as_of=None, submissions=masters))
    if not parts:
        return None
    return _combined(parts)


def _reparse(db: Any, cik: str) -> sec_facts.CompanyFacts | None:
    """Parse a cached body again (a parse of an older parser or concept table), and keep the parse."""
    from desktop.store import rawcache

    with db.session() as session:
        entry = rawcache.load_raw(session, SOURCE, [KIND_FACTS], [cik]).get((cik, KIND_FACTS))
    if entry is None or entry.status != "ok" or entry.payload is None:
        return None
    try:
        company = sec_facts.parse_companyfacts(entry.payload, f"cached SEC company facts of CIK {cik}",
                                               keep_facts=False)
    except InputError as exc:
        log.warning("%s", exc.message)
        return None
    with db.session() as session:
        rawcache.put_raw(session, SOURCE, cik, KIND_PARSED, sec_facts.company_to_json(company), entry.fetched_at)
    return company


def _combined(parts: list[SourceData]) -> SourceData:
    first = parts[0]
    history = pd.concat([p.history for p in parts if p.history is not None], ignore_index=True)
    observations = pd.concat([p.observations for p in parts if p.observations is not None], ignore_index=True)
    filed = history["filed"].max() if len(history) else None
    return SourceData(source=SOURCE, origin=first.origin, as_of=pd.Timestamp(filed).date() if pd.notna(filed) else None,
                      fetched_at=first.fetched_at, observations=observations, history=history,
                      warnings=[w for p in parts for w in p.warnings], rows_read=sum(p.rows_read for p in parts))


_WORDS = {KIND_FACTS: "company facts", KIND_SUBMISSIONS: "submissions"}


def describe(out: Outcome) -> str:
    """The progress line of one job."""
    if out.fatal:
        return f"{out.job.label}: stopped ({out.fatal})"
    if out.failure:
        return f"{out.job.label}: {_WORDS[out.failure[0]]}: {out.failure[1]}"
    parts = [f"{_WORDS[k]} fetched" for k in out.bodies]
    parts += ["company facts unchanged"] if out.facts_unchanged else []
    parts += [f"{_WORDS[k]}: {reason}" for k, reason in out.no_data.items()]
    return f"{out.job.label}: {', '.join(parts) or 'submissions unchanged'}"

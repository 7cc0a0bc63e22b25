"""docs/metrics.md's tables, rendered from the catalogue and the rule tables (issue #16).

The document keeps its prose by hand; the blocks between ``<!-- BEGIN GENERATED: name -->`` and
``<!-- END GENERATED: name -->`` are these renderings, so a catalogue change that is not in the
document fails a test (tests/engine/test_metrics_doc.py). ``tests/engine/metrics_doc.py`` rewrites
the blocks, with the coverage of every field on the real universe when ``../shared/data`` exists.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import numpy as np
import pandas as pd

from desktop.engine import catalog
from desktop.engine.catalog_computed import METRIC_FIELDS, TWINS
from desktop.engine.coverage import field_coverage
from desktop.engine.field import Field
from desktop.engine.metric_context import MetricParams
from desktop.engine.metrics import StockTable
from desktop.engine.rules import COMPANY_KINDS, SANITY_RULES, SanityRule

_BLOCK = "<!-- {which} GENERATED: {name} -->"
GROUP_ORDER = ("Valuation", "Growth", "Profitability", "Dilution & capital", "Cash flow", "Leverage",
               "Rate sensitivity", "Ownership", "Momentum & risk", "Liquidity", "Market", "Income",
               "Balance sheet", "Analysts", "Profile")


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _groups(fields: Iterable[Field]) -> list[tuple[str, list[Field]]]:
    by: dict[str, list[Field]] = {}
    for f in fields:
        by.setdefault(f.group, []).append(f)
    order = {g: i for i, g in enumerate(GROUP_ORDER)}
    return sorted(by.items(), key=lambda kv: order.get(kv[0], len(order)))


def computed_tables() -> str:
    """One table per group of the fields the engine computes."""
    out = []
    for group, fields in _groups(METRIC_FIELDS):
        out += [f"### {group}", "", "| Field | Label | Unit | Definition | Formula | Source fields | Caveats |",
                "|---|---|---|---|---|---|---|"]
        out += [f"| `{f.name}` | {_cell(f.label)} | {f.unit} | {_cell(f.definition)} | {_cell(f.formula)} | "
                f"{_cell(f.sources)} | {_cell(f.caveats)} |" for f in fields]
        out.append("")
    return "\n".join(out).rstrip() + "\n"


def source_tables() -> str:
    """One table per group of the fields sources report, with how fast each goes stale."""
    params = MetricParams()
    limits = {"market": f"{params.market_stale_days} days", "ownership": f"{params.ownership_stale_days} days",
              "fundamental": f"{params.stale_months:g} months", "": "-"}
    twin_of = {t: n for n, t in TWINS.items()}
    out = []
    for group, fields in _groups(catalog.BASE_FIELDS):
        out += [f"#### {group} (reported)", "", "| Field | Label | Unit | Definition | Sources | Stale after | Caveats |",
                "|---|---|---|---|---|---|---|"]
        for f in fields:
            caveats = f.caveats + (f" Stands in for `{twin_of[f.name]}`." if f.name in twin_of else "")
            out.append(f"| `{f.name}` | {_cell(f.label)} | {f.unit} | {_cell(f.definition)} | {_cell(f.sources)} | "
                       f"{limits[f.freshness]} | {_cell(caveats.strip())} |")
        out.append("")
    return "\n".join(out).rstrip() + "\n"


def _test(r: SanityRule) -> str:
    if r.kind == "above":
        return f"{r.line} > {r.bound:g}"
    if r.kind == "below":
        return f"{r.line} < {r.bound:g}"
    if r.kind == "share_above":
        return f"{r.line} > {r.bound:g} x {r.other}"
    if r.kind == "small_cost":
        return f"0 < {r.line} < {r.bound:,.0f} and abs({r.other}) > {r.factor:g} x {r.line}"
    return f"{r.line} > {r.bound:g} x previous fiscal year"


def rule_tables() -> str:
    """The sanity rules and the kinds of company (``desktop/engine/rules.py``)."""
    out = ["| sanity rule | test | lines made suspect | meaning |", "|---|---|---|---|"]
    out += [f"| `{r.id}` | {_cell(_test(r))} | {', '.join(r.flags)} | {_cell(r.reason)} |" for r in SANITY_RULES]
    out += ["", "A company's kind comes from its SEC SIC code (EDGAR submissions, issue #14) when the code names one,",
            "else from its industry. SIC 6798 (REITs) names no kind: it cannot tell a mortgage REIT (a lender)",
            "from an equity REIT, so REITs keep the industry rule.",
            "", "| kind | SIC codes (start with) | industries (start with) | fields n.m. | why |",
            "|---|---|---|---|---|"]
    for k in COMPANY_KINDS:
        starts = ", ".join(k.industries) + (f" (not {', '.join(k.exclude)})" if k.exclude else "")
        codes = ", ".join(k.sic) + (" (not 6411, agents and brokers)" if "63" in k.sic else "")
        out.append(f"| {k.label} | {codes} | {starts} | {', '.join(k.not_meaningful)} | {_cell(k.reason)} |")
    return "\n".join(out) + "\n"


def coverage(table: StockTable) -> pd.DataFrame:
    """Per numeric field, how many index members have each state (``coverage.field_coverage``), and
    how many values are a vendor's reported figure standing in (``twin``). Index: catalogue order."""
    members = table.values["in_index"].to_numpy(dtype="float64", na_value=np.nan) == 1.0 \
        if "in_index" in table.values else np.ones(len(table.values), dtype=bool)
    names = [f.name for f in catalog.all_fields() if f.name in table.status and f.name != "in_index"]
    counts = field_coverage(table.values.loc[members, names], table.status.loc[members, names])
    rows = {}
    for name in names:
        c = counts[name]
        twin = 0
        if name in TWINS and name in table.origin:
            origin = table.origin[name].to_numpy(dtype=object)[members]
            twin = int(sum(isinstance(o, str) and o.endswith("(reported figure)") for o in origin))
        rows[name] = {"ok": c.ok, "stale": c.stale, "suspect": c.suspect, "n.m.": c.not_meaningful,
                      "missing": c.missing, "twin": twin, "members": c.total}
    return pd.DataFrame.from_dict(rows, orient="index")


def coverage_table(cov: pd.DataFrame) -> str:
    """Markdown of :func:`coverage`: counts of index members, a value being ok, stale or suspect."""
    out = ["| Field | Group | ok | stale | suspect | n.m. | missing | of them reported twin | with a value |",
           "|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    for name, r in cov.iterrows():
        shown = int(r["ok"] + r["stale"] + r["suspect"])
        share = f"{100.0 * shown / r['members']:.0f} %" if r["members"] else "-"
        out.append(f"| `{name}` | {catalog.get(str(name)).group} | {r['ok']} | {r['stale']} | {r['suspect']} | "
                   f"{r['n.m.']} | {r['missing']} | {r['twin'] if str(name) in TWINS else ''} | {share} |")
    return "\n".join(out) + "\n"


def parse_coverage(text: str) -> pd.DataFrame:
    """The counts of a :func:`coverage_table` back as a frame (columns ok..missing, twin)."""
    rows = {}
    for line in text.splitlines():
        m = re.match(r"\| `([a-z0-9_]+)` \| [^|]+ \| (\d+) \| (\d+) \| (\d+) \| (\d+) \| (\d+) \| (\d*) \|", line)
        if m:
            ok, stale, suspect, nm, missing = (int(m.group(i)) for i in range(2, 7))
            rows[m.group(1)] = {"ok": ok, "stale": stale, "suspect": suspect, "n.m.": nm, "missing": missing,
                                "twin": int(m.group(7) or 0)}
    return pd.DataFrame.from_dict(rows, orient="index")


def block(text: str, name: str) -> str:
    """The content of the generated block ``name`` of a document (KeyError when it has none)."""
    begin, end = _BLOCK.format(which="BEGIN", name=name), _BLOCK.format(which="END", name=name)
    if begin not in text or end not in text:
        raise KeyError(f"the document has no generated block {name!r}")
    return text.split(begin, 1)[1].split(end, 1)[0].strip("\n") + "\n"


def replace_block(text: str, name: str, content: str) -> str:
    """``text`` with the generated block ``name`` holding ``content``."""
    begin, end = _BLOCK.format(which="BEGIN", name=name), _BLOCK.format(which="END", name=name)
    head, rest = text.split(begin, 1)
    _, tail = rest.split(end, 1)
    return f"{head}{begin}\n{content.rstrip()}\n{end}{tail}"


RENDERED = {"computed": computed_tables, "sources": source_tables, "rules": rule_tables}

"""Issue #12 "done when" for the exports, on the real universe in ../shared/data (read in place,
skipped when absent): every n.m., stale and suspect value an exported workbook shows has its row
in the Provenance sheet, naming a rule. The check reads the workbook back and recomputes what it
expects from the engine's table, not from the export's own list of rows.
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from openpyxl import load_workbook

from desktop.engine.evaluate import evaluate
from desktop.engine.metrics import StockTable, compute_metrics
from desktop.engine.rules import COMPANY_KINDS, NOT_MEANINGFUL, SANITY_RULES, STALE, STATE_NAMES, SUSPECT
from desktop.engine.screen import parse_screen
from desktop.engine.themes import ThemeTaxonomy
from desktop.export.content import STATE, shortlist_columns, with_states
from desktop.export.excel import STATE_HEADERS, STATE_TABLE, write_workbook
from desktop.services import library
from desktop.services.exporting import export_input
from desktop.services.screening import RunOutcome
from desktop.store.snapshots import SnapshotInfo
from tests.conftest import PROJECT_ROOT
from tests.engine.real_data import real_sources

pytestmark = pytest.mark.slow
EXPLAINED = {STATE_NAMES[c] for c in (NOT_MEANINGFUL, STALE, SUSPECT)}
_EVERYONE = {"missing": "pass", "not_meaningful": "pass", "stale": "use", "suspect": "use"}
# Every member passes, so the Shortlist shows every state the engine gives these fields.
EVERYONE: dict[str, Any] = {
    "version": 1, "name": "Every member & its states", "universe": "russell2000",
    "criteria": [{"field": "market_cap", "min": 0, **_EVERYONE},
                 {"field": "interest_coverage", "min": -1e12, **_EVERYONE},
                 {"field": "fcf_yield", "min": -1e12, **_EVERYONE}],
    "sort": [{"field": "market_cap", "descending": True}],
    "columns": ["name", "market_cap", "price", "revenue", "operating_income", "free_cash_flow",
                "capital_expenditure", "fcf_yield", "fcf_positive_years", "net_debt_to_ebitda", "debt_to_equity",
                "interest_coverage", "cash_runway_months", "short_term_debt_share", "shocked_coverage_200",
                "rate_beta", "beta", "current_ratio", "reported_debt_to_equity", "zombie", "industry"],
}


@pytest.fixture(scope="module")
def real_table() -> tuple[Any, StockTable]:
    from desktop.data import canonical

    dataset = canonical.merge(None, real_sources(with_fred=True))
    taxonomy = ThemeTaxonomy.from_toml((PROJECT_ROOT / "resources" / "themes.toml").read_text(encoding="utf-8"))
    return dataset, compute_metrics(dataset, taxonomy=taxonomy)


def export(real_table: tuple[Any, StockTable], screen: dict[str, Any], path: Path) -> tuple[Any, Any]:
    dataset, table = real_table
    parsed = parse_screen(screen)
    info = SnapshotInfo(1, dataset.as_of, pd.Timestamp("2026-05-06 09:00").to_pydatetime(), dataset.sources, {},
                        len(dataset.members), len(dataset.securities))
    data = export_input(RunOutcome(parsed, info, table, evaluate(parsed, table), None))
    return data, load_workbook(write_workbook(path, data))


def provenance_rows(wb: Any) -> dict[tuple[str, str], tuple[Any, ...]]:
    ws = wb["Provenance"]
    rows = [tuple(c.value for c in row) for row in ws[ws.tables[STATE_TABLE].ref]]
    assert rows[0] == STATE_HEADERS
    out = {(r[0], r[1]): r for r in rows[1:]}
    assert len(out) == len(rows) - 1  # one row per value
    return out


def shown_states(data: Any, wb: Any) -> dict[tuple[str, str], str]:
    """(symbol, field) -> state of every n.m., stale and suspect value the workbook shows: read from
    the Shortlist's state columns, and for the Why sheet's criterion values from the engine's table."""
    ws = wb["Shortlist"]
    heads = [c.value for c in ws[1]]
    field_of = {c.label: c.of for c in with_states(data, shortlist_columns(data)) if c.role == STATE}
    state_cols = [(i, field_of[h]) for i, h in enumerate(heads) if h in field_of]
    out: dict[tuple[str, str], str] = {}
    for row in ws.iter_rows(min_row=2, values_only=True):
        for i, field in state_cols:
            assert row[i] in STATE_NAMES.values(), (row[1], field, row[i])
            if row[i] in EXPLAINED:
                out[(row[1], field)] = row[i]
    why = wb["Why"]
    symbols = [r[0] for r in why.iter_rows(min_row=2, min_col=2, max_col=2, values_only=True)]
    status = data.table.status
    for crit in data.criteria:
        if crit.field in status.columns:
            for symbol in symbols:
                code = int(status.at[symbol, crit.field])
                if code in (NOT_MEANINGFUL, STALE, SUSPECT):
                    out[(symbol, crit.field)] = STATE_NAMES[code]
    return out


def check_rules(data: Any, rows: dict[tuple[str, str], tuple[Any, ...]]) -> None:
    as_of = pd.Timestamp(data.as_of)
    sanity = {r.id for r in SANITY_RULES} | {"dated after the snapshot's as-of date"}
    kinds = {f"company kind: {k.kind}" for k in COMPANY_KINDS}
    for (symbol, field), (_, _, state, reason, rule, period, origin) in rows.items():
        assert rule and reason, (symbol, field)
        if state == "suspect":
            assert rule in sanity, (symbol, field, rule)
        elif state == "n.m.":
            assert rule in kinds or rule == f"definition of {field}", (symbol, field, rule)
        else:
            limit = re.fullmatch(r"older than (\d+) (months|days)", rule)
            assert limit, (symbol, field, rule)
            days = int(limit.group(1)) * (30.44 if limit.group(2) == "months" else 1)
            assert period is not None and pd.Timestamp(period) < as_of - timedelta(days=days), (symbol, field)
            assert origin, (symbol, field)


def test_every_state_on_the_real_shortlist_has_its_rule(real_table: tuple[Any, StockTable], tmp_path: Path) -> None:
    data, wb = export(real_table, EVERYONE, tmp_path / "everyone.xlsx")
    assert len(data.result.ranked) > 1500
    shown = shown_states(data, wb)
    assert len({field for _, field in shown}) >= 15
    rows = provenance_rows(wb)
    assert {k: r[2] for k, r in rows.items()} == shown  # every such value has its row, and no other
    counts = pd.Series([r[2] for r in rows.values()]).value_counts()
    assert counts["stale"] > 1000 and counts["n.m."] > 300 and counts["suspect"] > 20, counts.to_dict()
    check_rules(data, rows)
    # Named cases of issue #12: HTZ's positive capex (fleet sales), TDOC's coverage over an operating loss.
    assert rows[("HTZ", "capital_expenditure")][2:5:2] == ("suspect", "positive_capex")
    assert rows[("TDOC", "interest_coverage")][2:5:2] == ("n.m.", "definition of interest_coverage")


def test_every_state_of_a_preset_export_has_its_rule(real_table: tuple[Any, StockTable], tmp_path: Path) -> None:
    screen = library.presets()["Cash survivors"]
    data, wb = export(real_table, screen, tmp_path / "cash.xlsx")
    assert 0 < len(data.result.ranked) < data.result.universe_count
    shown = shown_states(data, wb)
    rows = provenance_rows(wb)
    assert {k: r[2] for k, r in rows.items()} == shown
    check_rules(data, rows)
    only_why = {k for k in rows if k[0] not in set(data.result.ranked.index)}
    assert only_why  # stocks kept out by a stale or n.m. criterion value are explained too

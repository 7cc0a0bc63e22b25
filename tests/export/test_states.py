"""Value states in the exports (issue #12): period and state columns, the Provenance rule table,
and the looks of stale and suspect values, on a hand-made universe whose states are known
(``STATE_STOCKS`` in conftest: one fresh, one stale balance sheet, one suspect capex, a bank, a
negative equity, an unbounded coverage with a stale market cap, and an all-stale non-passer)."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter

from desktop.export.content import ExportInput, explain, state_rows
from desktop.export.csv import write_rows
from desktop.export.excel import STATE_HEADERS, STATE_TABLE, write_workbook
from desktop.export.xlsx_style import STALE_FONT, SUSPECT_FONT
from tests.export.conftest import STATES_PASSING

STALE_FY2022 = "simfin FY2022 (period ended 2022-12-31) is 40 months (limit 18) older than the snapshot"
POSITIVE_CAPEX = "capital expenditure is positive (asset sales or a sign error), so FCF is not operating cash"
BANK = ("not meaningful for a bank: lending is its operations, so free cash flow and EBITDA have no "
        "industrial meaning")
# (symbol, field, state, reason, rule, period, origin): every n.m., stale and suspect value shown.
EXPECTED_ROWS = [
    ("OLDB", "debt_to_equity", "stale", STALE_FY2022, "older than 18 months", date(2022, 12, 31),
     "simfin FY2022 (period ended 2022-12-31)"),
    ("CAPX", "free_cash_flow", "suspect", POSITIVE_CAPEX, "positive_capex", date(2025, 12, 31),
     "simfin FY2025 (period ended 2025-12-31)"),
    ("CAPX", "capital_expenditure", "suspect", POSITIVE_CAPEX, "positive_capex", date(2025, 12, 31),
     "simfin FY2025 (period ended 2025-12-31)"),
    ("BANK", "free_cash_flow", "n.m.", BANK, "company kind: bank", date(2025, 12, 31),
     "simfin FY2025 (period ended 2025-12-31)"),
    ("NEGQ", "debt_to_equity", "n.m.", "shareholders' equity is zero or negative", "definition of debt_to_equity",
     date(2025, 12, 31), "simfin FY2025 (period ended 2025-12-31)"),
    ("NOIN", "market_cap", "stale", "finviz is 123 days (limit 45) older than the snapshot", "older than 45 days",
     date(2026, 1, 2), "finviz"),
    # OLDY fails the screen (its coverage is stale, so unknown): only its criterion values are shown,
    # on the Why sheet; its stale debt / equity is in no sheet, so in no row.
    ("OLDY", "free_cash_flow", "stale", STALE_FY2022, "older than 18 months", date(2022, 12, 31),
     "simfin FY2022 (period ended 2022-12-31)"),
    ("OLDY", "interest_coverage", "stale", STALE_FY2022, "older than 18 months", date(2022, 12, 31),
     "simfin FY2022 (period ended 2022-12-31)"),
]


@pytest.fixture(scope="module")
def book(tmp_path_factory: pytest.TempPathFactory, states_input: ExportInput) -> Any:
    return load_workbook(write_workbook(tmp_path_factory.mktemp("states") / "states.xlsx", states_input))


def cell(ws: Any, symbol: str, header: str) -> Any:
    heads = [c.value for c in ws[1]]
    row = next(r for r in range(2, ws.max_row + 1) if ws.cell(r, 2).value == symbol)
    return ws.cell(row, heads.index(header) + 1)


def test_the_fixture_has_the_states_it_claims(states_input: ExportInput) -> None:
    assert list(states_input.result.ranked.index) == STATES_PASSING
    status = states_input.table.status
    assert status.at["OLDB", "debt_to_equity"] == 3 and status.at["CAPX", "free_cash_flow"] == 4
    assert status.at["BANK", "free_cash_flow"] == 2 and status.at["OLDY", "interest_coverage"] == 3


def test_shortlist_has_a_period_and_a_state_after_each_value(book: Any) -> None:
    heads = [c.value for c in book["Shortlist"][1]]
    assert heads[:3] == ["Rank", "Symbol", "Name"]  # the screen has no score
    assert heads[3:12] == ["Market cap ($M)", "Market cap period", "Market cap state",
                           "Free cash flow ($M)", "Free cash flow period", "Free cash flow state",
                           "Capital expenditure ($M)", "Capital expenditure period", "Capital expenditure state"]
    assert heads[-1] == "Industry"  # text: no state


@pytest.mark.parametrize(("symbol", "label", "value", "period", "state"), [
    ("FRSH", "Debt / equity", pytest.approx(1 / 3), datetime(2025, 12, 31), "ok"),
    # a stale value keeps its number; its period shows the old year
    ("OLDB", "Debt / equity", pytest.approx(1 / 3), datetime(2022, 12, 31), "stale"),
    ("OLDB", "Interest coverage", 12.0, datetime(2025, 12, 31), "ok"),  # its income statement is fresh
    ("CAPX", "Free cash flow ($M)", 70.0, datetime(2025, 12, 31), "suspect"),
    ("CAPX", "Capital expenditure ($M)", 20.0, datetime(2025, 12, 31), "suspect"),
    ("BANK", "Free cash flow ($M)", "n.m.", datetime(2025, 12, 31), "n.m."),
    ("NEGQ", "Debt / equity", "n.m.", datetime(2025, 12, 31), "n.m."),
    ("NOIN", "Market cap ($M)", 800.0, datetime(2026, 1, 2), "stale"),  # observed 123 days before
    ("NOIN", "Interest coverage", 1e300, datetime(2025, 12, 31), "ok"),  # unbounded, and ok
])
def test_values_periods_and_states(book: Any, symbol: str, label: str, value: Any, period: datetime,
                                   state: str) -> None:
    ws = book["Shortlist"]
    assert cell(ws, symbol, label).value == value
    dated = cell(ws, symbol, f"{label.removesuffix(' ($M)')} period")
    assert dated.value == period and dated.number_format == "yyyy-mm-dd"
    assert cell(ws, symbol, f"{label.removesuffix(' ($M)')} state").value == state


def test_stale_and_suspect_values_have_their_own_look_and_note(book: Any) -> None:
    ws = book["Shortlist"]
    stale = cell(ws, "OLDB", "Debt / equity")
    assert stale.font.color.rgb == STALE_FONT.color.rgb and stale.number_format == '0.0"x"'
    assert "stale: " + STALE_FY2022 in stale.comment.text
    suspect = cell(ws, "CAPX", "Free cash flow ($M)")
    assert suspect.font.color.rgb == SUSPECT_FONT.color.rgb and suspect.number_format == "#,##0.0"
    assert "suspect: " + POSITIVE_CAPEX in suspect.comment.text
    state = cell(ws, "CAPX", "Free cash flow state")
    assert state.fill.fgColor.rgb == "FFFFEB9C"
    plain = cell(ws, "FRSH", "Debt / equity").font.color  # ok: the plain look
    assert plain is None or plain.rgb not in (STALE_FONT.color.rgb, SUSPECT_FONT.color.rgb)
    assert cell(ws, "FRSH", "Debt / equity state").fill.fill_type is None
    unbounded = cell(ws, "NOIN", "Interest coverage")
    assert unbounded.number_format == '"∞";"-∞"' and unbounded.data_type == "n"


def test_missing_values_have_no_period(book: Any, states_input: ExportInput) -> None:
    ws = book["Shortlist"]
    assert states_input.table.status.at["FRSH", "market_cap"] == 0
    heads = [c.value for c in ws[1]]
    states = heads.index("Interest coverage state") + 1
    periods = heads.index("Interest coverage period") + 1
    for r in range(2, ws.max_row + 1):  # every shown coverage has a period; a missing one none
        assert (ws.cell(r, periods).value is None) == (ws.cell(r, states).value == "missing")


def test_period_and_state_columns_are_a_collapsed_outline_group(book: Any) -> None:
    ws = book["Shortlist"]
    heads = [c.value for c in ws[1]]
    assert ws.sheet_properties.outlinePr.summaryRight is False  # the +/- button sits on the value
    for idx, head in enumerate(heads, start=1):
        dim = ws.column_dimensions[get_column_letter(idx)]
        companion = head.endswith((" period", " state"))
        assert bool(dim.hidden) == companion and (dim.outlineLevel or 0) == (1 if companion else 0), head
        if not companion and idx < len(heads) and heads[idx].endswith(" period"):
            assert dim.collapsed, head
    assert ws.tables["Shortlist"].ref == f"A1:{get_column_letter(len(heads))}{len(STATES_PASSING) + 1}"


def provenance_table(wb: Any) -> list[tuple[Any, ...]]:
    ws = wb["Provenance"]
    ref = ws.tables[STATE_TABLE].ref
    rows = [tuple(c.value for c in row) for row in ws[ref]]
    assert rows[0] == STATE_HEADERS
    return [(*r[:5], r[5].date() if r[5] else None, r[6]) for r in rows[1:]]


def test_provenance_names_the_rule_behind_every_nm_stale_and_suspect_value(book: Any) -> None:
    assert provenance_table(book) == EXPECTED_ROWS
    ws = book["Provenance"]
    first = ws[ws.tables[STATE_TABLE].ref.split(":")[0]].row + 1
    assert ws.cell(first, 6).number_format == "yyyy-mm-dd"
    assert ws.cell(first, 3).fill.fgColor.rgb == "FFEDEDED"  # a stale state looks stale here too


def test_provenance_counts_the_states_of_shortlisted_values(book: Any) -> None:
    rows = [tuple(c.value for c in row[:6]) for row in book["Provenance"].iter_rows()]
    assert ("Field", "ok", "missing", "n.m.", "stale", "suspect") in rows
    assert ("debt_to_equity", 4, 0, 1, 1, 0) in rows
    assert ("free_cash_flow", 4, 0, 1, 0, 1) in rows
    assert ("market_cap", 5, 0, 0, 1, 0) in rows


def test_the_legend_explains_periods_states_and_infinity(book: Any) -> None:
    texts = " ".join(str(c.value) for row in book["Provenance"].iter_rows(max_col=1) for c in row if c.value)
    for words in ("its period", "stale", "suspect", "1E+300", "fixed thresholds", "outline button"):
        assert words in texts, words


def test_every_shown_state_has_its_row(book: Any, states_input: ExportInput) -> None:
    # Independent of state_rows: read the Shortlist's state columns and the Why sheet's values back.
    listed = {(r[0], r[1]) for r in provenance_table(book)}
    ws = book["Shortlist"]
    heads = [c.value for c in ws[1]]
    labels = {f"{h.removesuffix(' state')}": h for h in heads if h.endswith(" state")}
    shown = set()
    for r in range(2, ws.max_row + 1):
        for label, head in labels.items():
            if ws.cell(r, heads.index(head) + 1).value in ("n.m.", "stale", "suspect"):
                field = next(f for f in states_input.table.status.columns
                             if f.replace("_", " ").lower() == label.lower() or _label(f) == label)
                shown.add((ws.cell(r, 2).value, field))
    for crit in states_input.criteria:
        for symbol in states_input.result.states.index:
            if states_input.table.status.at[symbol, crit.field] in (2, 3, 4):
                shown.add((symbol, crit.field))
    assert shown == listed


def _label(field: str) -> str:
    from desktop.export.content import column_for

    return column_for(field).label


def test_csv_has_the_same_periods_and_states(states_input: ExportInput) -> None:
    out = io.StringIO()
    write_rows(out, states_input)
    rows = {r["symbol"]: r for r in csv.DictReader(io.StringIO(out.getvalue()))}
    assert (rows["OLDB"]["debt_to_equity"], rows["OLDB"]["debt_to_equity_period"],
            rows["OLDB"]["debt_to_equity_state"]) == (repr(1 / 3), "2022-12-31", "stale")
    assert (rows["CAPX"]["free_cash_flow"], rows["CAPX"]["free_cash_flow_state"]) == ("70000000", "suspect")
    assert (rows["BANK"]["free_cash_flow"], rows["BANK"]["free_cash_flow_state"]) == ("n.m.", "n.m.")
    assert (rows["NOIN"]["market_cap_period"], rows["NOIN"]["market_cap_state"]) == ("2026-01-02", "stale")
    assert rows["NOIN"]["interest_coverage"] == "inf" and rows["NOIN"]["interest_coverage_state"] == "ok"
    assert "OLDY" not in rows


def test_why_sheet_values_show_their_state(book: Any) -> None:
    ws = book["Why"]
    row = next(r for r in range(2, ws.max_row + 1) if ws.cell(r, 2).value == "OLDY")
    heads = [c.value for c in ws[1]]
    coverage = ws.cell(row, heads.index("c2 value") + 1)
    assert coverage.value == 12.0 and coverage.font.color.rgb == STALE_FONT.color.rgb
    assert "stale: " + STALE_FY2022 in coverage.comment.text
    assert ws.cell(row, heads.index("c2 value")).value == "unknown"  # why OLDY is not listed


def test_screen_sheet_lists_the_stale_and_suspect_policies(book: Any) -> None:
    rows = [tuple(c.value for c in row[:7]) for row in book["Screen"].iter_rows()]
    assert ("Id", "Criterion", "Field", "If the value is missing", "If not meaningful", "If stale",
            "If suspect") in rows
    c1 = next(r for r in rows if r[0] == "c1")
    assert c1[3:] == ("passes", "passes", "judged on its number", "judged on its number")
    c2 = next(r for r in rows if r[0] == "c2")
    assert c2[5:] == ("unknown (not listed)", "unknown (not listed)")


@pytest.mark.parametrize(("code", "field", "note", "rule", "reason"), [
    (4, "interest_coverage", "coverage uses operating income (the source has no EBIT); suspect: operating income "
     "is more than 80 % of revenue", "operating_margin_above_80pct", "operating income is more than 80 % of revenue"),
    (4, "price", "suspect: dated after the snapshot's as-of date", "dated after the snapshot's as-of date",
     "dated after the snapshot's as-of date"),  # no table rule: the reason is the rule
    (3, "beta", "stale: yahoo is 670 days (limit 45) older than the snapshot", "older than 45 days",
     "yahoo is 670 days (limit 45) older than the snapshot"),
    (3, "zombie", "coverage unknown in part of the last fiscal years; stale: simfin FY2023 and earlier is 28 months "
     "(limit 18) older than the snapshot", "older than 18 months",
     "simfin FY2023 and earlier is 28 months (limit 18) older than the snapshot"),
    (2, "fcf_yield", "not meaningful for an insurer: float and reserves drive its cash flow, so FCF and EBITDA "
     "have no industrial meaning", "company kind: insurer",
     "not meaningful for an insurer: float and reserves drive its cash flow, so FCF and EBITDA have no "
     "industrial meaning"),
    (2, "interest_coverage", "an operating loss while net interest is income: coverage has no meaning",
     "definition of interest_coverage", "an operating loss while net interest is income: coverage has no meaning"),
    (2, "fcf_yield", None, "definition of fcf_yield", "n.m. when market cap is not positive"),  # the catalogue's
    (2, "no_such_field", "", "definition of no_such_field", "not meaningful for this company"),
    (3, "revenue", None, "stale limit", "older than the stale limit"),
])
def test_explain(code: int, field: str, note: str | None, rule: str, reason: str) -> None:
    assert explain(code, field, note) == (rule, reason)


def test_state_rows_cover_only_what_the_workbook_shows(states_input: ExportInput) -> None:
    rows = state_rows(states_input)
    assert [(r.symbol, r.field) for r in rows] == [(e[0], e[1]) for e in EXPECTED_ROWS]
    assert ("OLDY", "debt_to_equity") not in {(r.symbol, r.field) for r in rows}  # stale, but not shown


def test_no_state_table_rows_when_every_value_is_ok(tmp_path: Path, run_input: ExportInput) -> None:
    screen = dict(run_input.screen_definition, criteria=[{"field": "market_cap", "min": 1e15}])
    from desktop.engine.screen import parse_screen
    from tests.export.conftest import make_input

    data = make_input(screen=screen)
    assert len(data.result.ranked) == 0 and parse_screen(screen).leaves()
    wb = load_workbook(write_workbook(tmp_path / "none.xlsx", data))
    ws = wb["Provenance"]
    assert STATE_TABLE not in ws.tables
    texts = [c.value for row in ws.iter_rows(max_col=1) for c in row]
    assert texts[-1] == "None: every value shown is ok or missing."

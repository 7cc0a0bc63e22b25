"""A screen with formula fields (issue #16) exports the formulas on the Screen and Provenance sheets,
the values in the Shortlist, and comes back from the workbook with its formulas."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import openpyxl
import pytest

from desktop.engine.screen import parse_screen
from desktop.export.csv import write_csv
from desktop.export.excel import write_workbook
from desktop.export.screen_sheet import read_screen_definition
from tests.export.conftest import SCREEN, make_input

FORMULA_SCREEN: dict[str, Any] = {
    **SCREEN, "version": 2,
    "formulas": [{"name": "cash_to_debt", "expression": "cash / total_debt", "label": "Cash / debt"}],
    "criteria": [*SCREEN["criteria"], {"field": "cash_to_debt", "min": 0.1, "missing": "pass",
                                       "not_meaningful": "pass"}],
    "columns": ["market_cap", "cash_to_debt"],
}


@pytest.fixture(scope="module")
def workbook(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Any]:
    path = tmp_path_factory.mktemp("export") / "formulas.xlsx"
    data = make_input(screen=FORMULA_SCREEN)
    write_workbook(path, data)
    return path, data


def _rows(ws: Any) -> list[list[Any]]:
    return [[c.value for c in row] for row in ws.iter_rows()]


def test_shortlist_has_the_formula_column_with_its_label(workbook: tuple[Path, Any]) -> None:
    path, data = workbook
    ws = openpyxl.load_workbook(path)["Shortlist"]
    rows = _rows(ws)
    header = next(r for r in rows if "Symbol" in r)
    col = header.index(next(h for h in header if h and str(h).startswith("Cash / debt")))
    values = {r[1]: r[col] for r in rows[rows.index(header) + 1:] if r[1]}
    table = data.table
    numbers = 0
    for sym, got in values.items():
        want = table.values.at[sym, "cash_to_debt"]
        if want == want:  # a number: written as a number
            assert got == pytest.approx(want), sym
            numbers += 1
        else:  # n.m. (no debt) or missing: never a zero
            assert got in (None, "n.m."), (sym, got)
    assert numbers >= 3 and set(values) == set(data.result.ranked.index)


def test_screen_and_provenance_sheets_carry_the_formula(workbook: tuple[Path, Any]) -> None:
    path, _ = workbook
    book = openpyxl.load_workbook(path)
    screen_rows = _rows(book["Screen"])
    at = next(i for i, r in enumerate(screen_rows) if r[0] == "Formula field")
    assert screen_rows[at + 1][:4] == ["cash_to_debt", "cash / total_debt", "Cash / debt", "implied"]
    prov = _rows(book["Provenance"])
    row = next(r for r in prov if r[0] == "cash_to_debt")
    assert row[1] == "Cash / debt" and row[4] == "cash / total_debt" and row[5] == "cash, total_debt"
    assert "User formula" in row[3]


def test_the_workbook_gives_the_screen_back_with_its_formulas(workbook: tuple[Path, Any]) -> None:
    path, data = workbook
    restored = parse_screen(read_screen_definition(path))
    assert restored == parse_screen(FORMULA_SCREEN)
    assert restored.formulas[0].expression == "cash / total_debt"
    assert data.screen_definition["version"] == 2


def test_csv_header_names_the_formula_field(tmp_path: Path) -> None:
    path = tmp_path / "formulas.csv"
    write_csv(path, make_input(screen=FORMULA_SCREEN))
    text = path.read_text(encoding="utf-8-sig")
    assert "cash_to_debt" in text.splitlines()[0] or "Cash / debt" in text.splitlines()[0]

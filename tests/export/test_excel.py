"""The shortlist workbook: reopen it with openpyxl and check what an analyst relies on."""

from __future__ import annotations

from pathlib import Path

import pytest
from openpyxl import load_workbook

from desktop.errors import Cancelled
from desktop.export.content import ExportInput
from desktop.export.excel import SHEETS, TABLE_NAME, read_screen_definition, write_workbook, yahoo_url
from tests.export.conftest import SCREEN, make_input


@pytest.fixture
def workbook(tmp_path: Path, run_input: ExportInput):  # noqa: ANN201 - openpyxl Workbook
    path = write_workbook(tmp_path / "short.xlsx", run_input)
    return load_workbook(path)


def header_index(ws, label: str) -> int:  # noqa: ANN001
    return [c.value for c in ws[1]].index(label) + 1


def test_sheets_in_order(workbook) -> None:  # noqa: ANN001
    assert tuple(workbook.sheetnames) == SHEETS


def test_shortlist_is_a_native_table_with_one_row_per_result(workbook, run_input) -> None:  # noqa: ANN001
    ws = workbook["Shortlist"]
    assert list(ws.tables) == [TABLE_NAME]
    table = ws.tables[TABLE_NAME]
    n = len(run_input.result.ranked)
    assert table.ref == f"A1:K{n + 1}"
    assert table.autoFilter is not None
    assert table.tableStyleInfo.showRowStripes
    assert ws.max_row == n + 1
    assert [ws.cell(r, 2).value for r in range(2, n + 2)] == list(run_input.result.ranked.index)
    assert [ws.cell(r, 1).value for r in range(2, n + 2)] == [1, 2, 3, 4]
    assert ws.freeze_panes == "C2"  # header row and the ticker column


def test_values_units_and_number_formats(workbook) -> None:  # noqa: ANN001
    ws = workbook["Shortlist"]
    cap = header_index(ws, "Market cap ($M)")
    fcf = header_index(ws, "Free cash flow ($M)")
    ratio = header_index(ws, "Current ratio")
    weight = header_index(ws, "Index weight")
    listed = header_index(ws, "Listed since")
    row = 3  # ZQAB, rank 2
    assert ws.cell(row, 2).value == "ZQAB"
    assert ws.cell(row, cap).value == pytest.approx(1234.56789)
    assert ws.cell(row, cap).number_format == "#,##0.0"
    assert ws.cell(row, fcf).value == pytest.approx(55.5)
    assert ws.cell(row, ratio).value == 2.25
    assert ws.cell(row, ratio).number_format == '0.0"x"'
    assert ws.cell(row, weight).value == pytest.approx(0.00123)
    assert ws.cell(row, weight).number_format == "0.0%"
    assert ws.cell(row, listed).value.date().isoformat() == "1999-03-04"
    assert ws.cell(row, listed).number_format == "yyyy-mm-dd"
    assert ws.cell(row, header_index(ws, "Price")).number_format == '"$"#,##0.00'
    assert ws.cell(2, fcf).value == pytest.approx(-5.0)  # a negative stays negative


def test_missing_and_not_meaningful_are_distinct_and_never_zero(workbook) -> None:  # noqa: ANN001
    ws = workbook["Shortlist"]
    ratio = header_index(ws, "Current ratio")
    nm = ws.cell(4, ratio)  # MOLE-A: not meaningful, with the table's note
    assert ws.cell(4, 2).value == "MOLE-A"
    assert nm.value == "n.m."
    assert nm.comment is not None and "no current liabilities" in nm.comment.text
    listed = ws.cell(5, header_index(ws, "Listed since"))  # XHAK: missing date
    assert listed.value is None and listed.comment is None


def test_tickers_link_to_yahoo(workbook, run_input) -> None:  # noqa: ANN001
    ws = workbook["Shortlist"]
    for r, symbol in enumerate(run_input.result.ranked.index, start=2):
        assert ws.cell(r, 2).hyperlink.target == f"https://finance.yahoo.com/quote/{symbol}"
    assert yahoo_url("MOLE-A") == "https://finance.yahoo.com/quote/MOLE-A"
    assert yahoo_url("A B/../x") == "https://finance.yahoo.com/quote/A%20B%2F..%2Fx"


def test_no_formula_from_data_anywhere(workbook) -> None:  # noqa: ANN001
    formulas = [(ws.title, c.coordinate, c.value) for ws in workbook for row in ws.iter_rows()
                for c in row if c.data_type == "f"]
    assert formulas == []
    ws = workbook["Shortlist"]
    name = ws.cell(5, 3)
    assert name.value == '=HYPERLINK("http://evil")' and name.data_type == "s" and name.quotePrefix
    desc = ws.cell(4, header_index(ws, "Business summary"))
    assert desc.value.startswith("-Digs") and desc.quotePrefix
    assert ws.cell(5, header_index(ws, "Business summary")).quotePrefix  # leading tab
    plain = ws.cell(2, 3)
    assert not plain.quotePrefix


def test_formula_text_survives_raw_xml(tmp_path: Path, run_input: ExportInput) -> None:
    """The evil name is stored as a string, not as an <f> element, in the file itself."""
    import zipfile

    path = write_workbook(tmp_path / "x.xlsx", run_input)
    with zipfile.ZipFile(path) as zf:
        sheets = [n for n in zf.namelist() if n.startswith("xl/worksheets/sheet")]
        assert all(b"<f>" not in zf.read(n) and b"<f " not in zf.read(n) for n in sheets)


def test_conditional_formatting_on_key_metrics(workbook) -> None:  # noqa: ANN001
    ws = workbook["Shortlist"]
    ranges = {str(cf.sqref) for cf in ws.conditional_formatting}
    cap = ws.cell(1, header_index(ws, "Market cap ($M)")).column_letter  # the sort field
    assert f"{cap}2:{cap}5" in ranges


def test_column_widths_fit(workbook) -> None:  # noqa: ANN001
    ws = workbook["Shortlist"]
    name_width = ws.column_dimensions["C"].width
    assert len("Molehill Mining Class A") + 2 <= name_width <= 60
    for letter in ("A", "B", "D"):
        assert ws.column_dimensions[letter].width >= len(ws[f"{letter}1"].value)


def test_why_sheet_states_and_values(workbook, run_input) -> None:  # noqa: ANN001
    ws = workbook["Why"]
    heads = [c.value for c in ws[1]]
    assert heads[:6] == ["Rank", "Symbol", "Name", "Result", "Failed", "Unknown"]
    assert heads[6] == "c1: Free cash flow ≥ $0" and heads[7] == "c1 value"
    symbols = [ws.cell(r, 2).value for r in range(2, ws.max_row + 1)]
    assert symbols == ["VVOR", "ZQAB", "MOLE-A", "XHAK", "PLNK"]  # passing by rank, then the rest
    mole = symbols.index("MOLE-A") + 2
    assert ws.cell(mole, 9).value == "unknown" and ws.cell(mole, 10).value == "n.m."
    plnk = symbols.index("PLNK") + 2
    assert ws.cell(plnk, 4).value == "fail" and ws.cell(plnk, 5).value == 2
    assert ws.cell(plnk, 10).value == 0.8 and ws.cell(plnk, 10).number_format == '0.0"x"'
    assert ws.cell(2, 8).value == pytest.approx(-5.0)  # VVOR FCF in $M
    rules = [rule for cf in ws.conditional_formatting for rule in cf.rules]
    assert any(rule.formula == ['"fail"'] for rule in rules)


def test_near_misses_sheet(workbook) -> None:  # noqa: ANN001
    ws = workbook["Near misses"]
    assert [c.value for c in ws[2]] == ["PLNK", "Plonk Systems", "c2", "Current ratio ≥ 1.5", 0.8, 1.5,
                                        0.7, "x"]
    assert ws.cell(2, 1).hyperlink.target.endswith("/PLNK")


def test_screen_sheet_restores_the_exact_screen(tmp_path: Path, run_input: ExportInput) -> None:
    path = write_workbook(tmp_path / "s.xlsx", run_input)
    assert read_screen_definition(path) == SCREEN
    ws = load_workbook(path)["Screen"]
    words = [c.value for row in ws.iter_rows(max_col=2) for c in row]
    assert "c1 and (c2 or c3)" in words
    assert "Current ratio ≥ 1.5" in words
    name_cell = ws["B3"]
    assert name_cell.value == "Cash & =risk" and name_cell.data_type == "s"


def test_long_screen_json_is_split_and_restored(tmp_path: Path) -> None:
    screen = dict(SCREEN, name="x" * 70_000, criteria=[{"field": "sector", "any_of": [f"S{i}" for i in range(3000)]}])
    data = make_input()
    data = ExportInput(**{**data.__dict__, "screen_definition": screen})
    path = write_workbook(tmp_path / "long.xlsx", data)
    assert read_screen_definition(path) == screen


def test_provenance_sheet(workbook) -> None:  # noqa: ANN001
    ws = workbook["Provenance"]
    cells = {c.value for row in ws.iter_rows() for c in row if c.value is not None}
    assert "9.9.9" in cells  # app version
    assert "/data/IWM.csv" in cells
    assert "Free cash flow" in cells and "Operating cash flow plus capital expenditure." in cells
    assert "US dollars (exported in $M)" in cells
    assert "no current liabilities reported" in cells
    assert "yahoo: 2, finviz: 1" in cells  # where the shortlisted market caps came from


def test_summary_sheet_funnel_and_counts(workbook) -> None:  # noqa: ANN001
    ws = workbook["Summary"]
    rows = [tuple(c.value for c in row) for row in ws.iter_rows()]
    assert ("Universe", "stocks screened", None, 5) in rows
    assert ("c2", "Current ratio ≥ 1.5", 1, 4) in rows
    assert ("Technology", 2, 2, None) in rows
    assert ("(none)", 0, 1, None) in rows


def test_empty_result_writes_no_table(tmp_path: Path) -> None:
    data = make_input()
    result = data.result
    empty = type(result)(result.ranked.iloc[0:0], result.states, result.funnel, result.near_misses.iloc[0:0], 5)
    path = write_workbook(tmp_path / "e.xlsx", ExportInput(**{**data.__dict__, "result": empty}))
    wb = load_workbook(path)
    assert not wb["Shortlist"].tables
    assert wb["Shortlist"]["A3"].value == "No stock passed this screen."
    assert read_screen_definition(path) == SCREEN


def test_progress_and_cancel(tmp_path: Path, run_input: ExportInput) -> None:
    calls: list[tuple[int, int]] = []
    write_workbook(tmp_path / "p.xlsx", run_input, progress=lambda d, t, m="": calls.append((d, t)))
    assert calls[0] == (0, 7) and calls[-1] == (7, 7)
    seen = iter(range(100))
    with pytest.raises(Cancelled):
        write_workbook(tmp_path / "c.xlsx", run_input, is_cancelled=lambda: next(seen) >= 3)
    assert list(tmp_path.iterdir()) == [tmp_path / "p.xlsx"]


def test_two_thousand_rows(tmp_path: Path) -> None:
    data = make_input(n_extra=1995)
    path = write_workbook(tmp_path / "big.xlsx", data)
    ws = load_workbook(path, read_only=True)["Shortlist"]
    assert ws.max_row == len(data.result.ranked) + 1 == 2000

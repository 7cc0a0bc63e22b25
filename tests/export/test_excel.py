"""The shortlist workbook: reopen it with openpyxl and check what an analyst relies on."""

from __future__ import annotations

import zipfile
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter

from desktop import __version__
from desktop.errors import Cancelled
from desktop.export.content import ExportInput
from desktop.export.excel import SHEETS, TABLE_NAME, read_screen_definition, write_workbook, yahoo_url
from tests.export.conftest import EVIL_NAME, PASSING, SCREEN, make_input


@pytest.fixture(scope="module")
def book_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_workbook(tmp_path_factory.mktemp("xlsx") / "short.xlsx", make_input())


@pytest.fixture(scope="module")
def workbook(book_path: Path) -> Any:
    return load_workbook(book_path)


def col(ws: Any, label: str) -> int:
    return [c.value for c in ws[1]].index(label) + 1


def row_of(ws: Any, symbol: str, column: int = 2) -> int:
    return next(c.row for c in ws.iter_cols(min_col=column, max_col=column).__next__() if c.value == symbol)


def test_sheets_in_order(workbook: Any) -> None:
    assert tuple(workbook.sheetnames) == SHEETS


def test_shortlist_is_a_native_table_with_one_row_per_result(workbook: Any, run_input: ExportInput) -> None:
    ws = workbook["Shortlist"]
    assert list(ws.tables) == [TABLE_NAME]
    table = ws.tables[TABLE_NAME]
    n = len(run_input.result.ranked)
    assert n == len(PASSING)
    assert table.ref == f"A1:{get_column_letter(ws.max_column)}{n + 1}"
    assert table.autoFilter is not None and table.autoFilter.ref == table.ref
    assert table.tableStyleInfo.showRowStripes
    assert ws.max_row == n + 1
    assert [ws.cell(r, 2).value for r in range(2, n + 2)] == PASSING
    assert [ws.cell(r, 1).value for r in range(2, n + 2)] == [1, 2, 3, 4]
    assert [c.value for c in ws[1]][:7] == ["Rank", "Symbol", "Name", "Score", "Market cap ($M)",
                                            "Market cap period", "Market cap state"]
    assert ws.freeze_panes == "C2"  # the header row and the ticker column stay in view


def test_values_units_and_number_formats(workbook: Any) -> None:
    ws = workbook["Shortlist"]
    r = row_of(ws, "ZQAB")
    cap = ws.cell(r, col(ws, "Market cap ($M)"))
    assert cap.value == pytest.approx(1200.0) and cap.number_format == "#,##0.0"
    fcf_yield = ws.cell(r, col(ws, "FCF yield"))
    assert fcf_yield.value == pytest.approx(5e7 / 1.2e9) and fcf_yield.number_format == "0.0%"
    ratio = ws.cell(r, col(ws, "Net debt / EBITDA"))
    assert ratio.value == pytest.approx((1e8 - 2e7) / 5e7) and ratio.number_format == '0.0"x"'
    price = ws.cell(r, col(ws, "Price"))
    assert price.value == 12.5 and price.number_format == '"$"#,##0.00'
    listed = ws.cell(r, col(ws, "Listed since"))
    assert listed.value.date().isoformat() == "1999-03-04" and listed.number_format == "yyyy-mm-dd"
    assert ws.cell(r, col(ws, "Themes")).value == "semiconductors"
    assert ws.cell(r, col(ws, "OCF positive")).value == "yes"
    assert ws.cell(r, col(ws, "Score")).number_format == "0.0"


def test_missing_not_meaningful_infinite_and_zero_are_all_distinct(workbook: Any) -> None:
    ws = workbook["Shortlist"]
    mole, xhak = row_of(ws, "MOLE-A"), row_of(ws, "XHAK")
    nm = ws.cell(mole, col(ws, "Debt / equity"))  # negative equity: not meaningful, with the reason
    assert nm.value == "n.m." and "equity is zero or negative" in nm.comment.text
    missing = ws.cell(mole, col(ws, "Listed since"))
    assert missing.value is None and missing.comment is None
    zero = ws.cell(xhak, col(ws, "Debt / equity"))  # no debt: a real zero
    assert zero.value == 0 and zero.data_type == "n"
    runway = ws.cell(xhak, col(ws, "Cash runway (months)"))  # unbounded (no burn): a number shown as ∞
    assert runway.value == 1e300 and runway.data_type == "n" and runway.number_format == '"∞";"-∞"'
    assert runway.comment is None  # explained once, in Provenance
    assert ws.cell(xhak, col(ws, "Cash runway state")).value == "ok"


def test_tickers_link_to_yahoo(workbook: Any) -> None:
    ws = workbook["Shortlist"]
    for r, symbol in enumerate(PASSING, start=2):
        assert ws.cell(r, 2).hyperlink.target == f"https://finance.yahoo.com/quote/{symbol}"
    assert yahoo_url("MOLE-A") == "https://finance.yahoo.com/quote/MOLE-A"
    assert yahoo_url("A B/../x") == "https://finance.yahoo.com/quote/A%20B%2F..%2Fx"


def test_no_formula_from_data_anywhere(workbook: Any, book_path: Path) -> None:
    formulas = [(ws.title, c.coordinate) for ws in workbook for row in ws.iter_rows() for c in row
                if c.data_type == "f"]
    assert formulas == []
    with zipfile.ZipFile(book_path) as zf:  # nor an <f> element in the file itself
        sheets = [n for n in zf.namelist() if n.startswith("xl/worksheets/sheet")]
        assert all(b"<f>" not in zf.read(n) and b"<f " not in zf.read(n) for n in sheets)
    ws = workbook["Shortlist"]
    xhak, mole = row_of(ws, "XHAK"), row_of(ws, "MOLE-A")
    name = ws.cell(xhak, 3)
    assert name.value == EVIL_NAME and name.data_type == "s" and name.quotePrefix
    assert ws.cell(mole, col(ws, "Business summary")).quotePrefix  # "-Digs ..."
    assert ws.cell(xhak, col(ws, "Business summary")).quotePrefix  # leading tab
    assert not ws.cell(row_of(ws, "ZQAB"), 3).quotePrefix
    why = workbook["Why"]
    assert why.cell(row_of(why, "XHAK"), 3).quotePrefix


def scales(ws: Any) -> dict[str, list[tuple[str, float, str]]]:
    """Header of each colour-scaled column -> its (type, value, colour) points."""
    out = {}
    for cf in ws.conditional_formatting:
        for rule in cf.rules:
            if rule.colorScale is not None:
                head = ws.cell(1, next(iter(cf.sqref.ranges)).min_col).value
                out[head] = [(v.type, float(v.val), c.rgb) for v, c in zip(rule.colorScale.cfvo, rule.colorScale.color,
                                                                             strict=True)]
    return out


RED, YELLOW, GREEN = "FFF8696B", "FFFFEB84", "FF63BE7B"


def test_colour_scales_use_the_catalogue_thresholds(workbook: Any) -> None:
    found = scales(workbook["Shortlist"])
    assert found["FCF yield"] == [("num", 0.0, RED), ("num", 0.05, YELLOW), ("num", 0.10, GREEN)]
    assert found["Interest coverage"] == [("num", 1.0, RED), ("num", 3.0, YELLOW), ("num", 8.0, GREEN)]
    assert found["Net debt / EBITDA"] == [("num", 0.0, GREEN), ("num", 2.0, YELLOW), ("num", 4.0, RED)]
    assert found["Cash runway (months)"] == [("num", 6.0, RED), ("num", 12.0, YELLOW), ("num", 24.0, GREEN)]
    assert found["Score"] == [("num", 0.0, RED), ("num", 50.0, YELLOW), ("num", 100.0, GREEN)]
    # No threshold in the catalogue, no judgement: a relative scale would colour a median red or green.
    assert not {"Market cap ($M)", "Price", "Free cash flow ($M)", "FCF yield state"} & set(found)
    ws = workbook["Shortlist"]
    letter = ws.cell(1, col(ws, "FCF yield")).column_letter
    assert {str(cf.sqref) for cf in ws.conditional_formatting} >= {f"{letter}2:{letter}5"}


def test_colour_scales_do_not_depend_on_the_shortlist(tmp_path: Path) -> None:
    # Issue #17: 7.22 % was red and 7.25 % green because the scale ran from the shortlist's 10th to
    # its 90th percentile. Two different shortlists now get the very same points.
    small = load_workbook(write_workbook(tmp_path / "a.xlsx", make_input()))["Shortlist"]
    large = load_workbook(write_workbook(tmp_path / "b.xlsx", make_input(n_extra=30)))["Shortlist"]
    assert scales(small) == scales(large)
    assert all(t == "num" for points in scales(small).values() for t, _, _ in points)


def test_money_thresholds_are_in_the_cells_unit() -> None:
    from desktop.engine.catalog import Thresholds
    from desktop.export.excel import _colour_scale

    rule = _colour_scale(Thresholds(-5e6, 0.0, 5e6), "usd")  # the sheet shows money in $M
    assert [float(v.val) for v in rule.colorScale.cfvo] == [-5.0, 0.0, 5.0]


def test_column_widths_fit(workbook: Any) -> None:
    ws = workbook["Shortlist"]
    assert len(EVIL_NAME) + 2 <= ws.column_dimensions["C"].width <= 60
    assert ws.row_dimensions[1].height == 45  # three lines: narrow period and state headers wrap
    for cell in ws[1]:
        width = ws.column_dimensions[cell.column_letter].width
        assert cell.alignment.wrap_text
        if cell.value.endswith((" period", " state")):
            assert width >= max(len(word) for word in cell.value.split()) + 1, cell.value
            assert width >= (10 if cell.value.endswith(" period") else len("suspect")) + 1  # yyyy-mm-dd
        else:
            assert width >= len(cell.value), cell.value


def test_why_sheet_states_and_values(workbook: Any) -> None:
    ws = workbook["Why"]
    heads = [c.value for c in ws[1]]
    assert heads[:6] == ["Rank", "Symbol", "Name", "Result", "Failed", "Unknown"]
    assert heads[6] == "c1: Free cash flow ≥ $0 (missing fails)" and heads[7] == "c1 value"
    symbols = [ws.cell(r, 2).value for r in range(2, ws.max_row + 1)]
    # passing by rank, then the rest; OUTS is no member. PLNK is a bank: its FCF is n.m. (issue #12).
    assert symbols == [*PASSING, "NEGE", "PLNK"]
    nege = row_of(ws, "NEGE")
    c4 = col(ws, "c4 value")
    assert ws.cell(nege, c4 - 1).value == "fail" and ws.cell(nege, c4).value == "n.m."
    assert ws.cell(nege, 4).value == "fail" and ws.cell(nege, 5).value == 3
    plnk = row_of(ws, "PLNK")
    assert ws.cell(plnk, col(ws, "c1 value")).value == "n.m."  # a bank's free cash flow
    rules = [rule for cf in ws.conditional_formatting for rule in cf.rules]
    assert any(rule.formula == ['"fail"'] for rule in rules)
    assert ws.auto_filter.ref == f"A1:N{len(symbols) + 1}"


def test_near_misses_sheet(workbook: Any) -> None:
    # The only stock one criterion away was PLNK on FCF; a bank's FCF is n.m., so no stock is near.
    ws = workbook["Near misses"]
    assert str(ws.cell(2, 1).value).startswith("No stock")

def test_screen_sheet_restores_the_exact_screen(workbook: Any, book_path: Path, run_input: ExportInput) -> None:
    assert read_screen_definition(book_path) == run_input.screen_definition
    from desktop.engine.screen import parse_screen

    assert parse_screen(read_screen_definition(book_path)) == parse_screen(SCREEN)
    ws = workbook["Screen"]
    words = [c.value for row in ws.iter_rows(max_col=2) for c in row]
    assert "c1 and (c2 or c3) and c4" in words
    assert "Interest coverage ≥ 3.0x" in words
    assert ws["B3"].value == "Cash & =risk" and ws["B3"].data_type == "s"


def test_long_screen_json_is_split_and_restored(tmp_path: Path, run_input: ExportInput) -> None:
    screen = dict(SCREEN, name="x" * 70_000)
    path = write_workbook(tmp_path / "long.xlsx", replace(run_input, screen_definition=screen))
    assert read_screen_definition(path) == screen


def test_provenance_sheet(workbook: Any) -> None:
    cells = {c.value for row in workbook["Provenance"].iter_rows() for c in row if c.value is not None}
    assert __version__ in cells
    assert {"/data/IWM_holdings.csv", "https://query2.finance.yahoo.com/v10/finance/quoteSummary"} <= cells
    assert {"Free cash flow", "Operating cash flow plus capital expenditure.", "fcf_yield"} <= cells
    assert "US dollars (exported in $M)" in cells
    assert "shareholders' equity is zero or negative" in cells
    rows = [tuple(c.value for c in row[:3]) for row in workbook["Provenance"].iter_rows()]
    assert ("cash_runway_months", "free cash flow is not negative: no burn", 4) in rows  # all 4 burn nothing
    assert "yahoo: 2, finviz: 1" in cells  # where the shortlisted market caps came from


def test_summary_sheet_funnel_and_counts(workbook: Any) -> None:
    rows = [tuple(c.value for c in row) for row in workbook["Summary"].iter_rows()]
    assert ("Universe", "stocks screened", None, 6) in rows
    assert ("c1", "Free cash flow ≥ $0 (missing fails)", 1, 5) in rows
    assert ("Passed", None, None, 4) in rows
    assert ("Technology", 2, 2, None) in rows
    assert ("semiconductors", 1, 1, None) in rows
    assert ("regional_banks", 0, 1, None) in rows


def test_empty_result_writes_no_table(tmp_path: Path) -> None:
    screen = dict(SCREEN, criteria=[{"field": "market_cap", "min": 1e15}])
    data = make_input(screen=screen)
    path = write_workbook(tmp_path / "e.xlsx", data)
    wb = load_workbook(path)
    assert not wb["Shortlist"].tables
    assert wb["Shortlist"]["A3"].value == "No stock passed this screen."
    assert read_screen_definition(path) == data.screen_definition


def test_progress_and_cancel(tmp_path: Path, run_input: ExportInput) -> None:
    calls: list[tuple[int, int]] = []
    write_workbook(tmp_path / "p.xlsx", run_input, progress=lambda d, t, m="": calls.append((d, t)))
    assert calls[0] == (0, 7) and calls[-1] == (7, 7)
    seen = iter(range(100))
    with pytest.raises(Cancelled):
        write_workbook(tmp_path / "c.xlsx", run_input, is_cancelled=lambda: next(seen) >= 3)
    assert list(tmp_path.iterdir()) == [tmp_path / "p.xlsx"]


def test_garbage_collector_state_is_restored(tmp_path: Path, run_input: ExportInput) -> None:
    import gc

    states: list[bool] = []
    assert gc.isenabled()
    write_workbook(tmp_path / "a.xlsx", run_input, progress=lambda *a: states.append(gc.isenabled()))
    assert states[-1] and not any(states[:-1])  # paused while building and saving, back for "Done"
    with pytest.raises(Cancelled):
        write_workbook(tmp_path / "b.xlsx", run_input, is_cancelled=lambda: True)
    assert gc.isenabled()
    gc.disable()
    try:
        write_workbook(tmp_path / "c.xlsx", run_input)
        assert not gc.isenabled()  # a caller's choice is kept
    finally:
        gc.enable()


def test_two_thousand_rows(tmp_path: Path) -> None:
    data = make_input(n_extra=1996)
    path = write_workbook(tmp_path / "big.xlsx", data)
    ws = load_workbook(path, read_only=True)["Shortlist"]
    assert len(data.result.ranked) == 2000
    assert sum(1 for _ in ws.iter_rows(values_only=True)) == 2001


def test_every_threshold_names_a_catalogue_field() -> None:
    from fnmatch import fnmatchcase

    from desktop.engine import catalog

    names = catalog.names()
    for pattern, limits in catalog.THRESHOLDS.items():
        assert any(fnmatchcase(n, pattern) for n in names), pattern
        assert min(limits.bad, limits.good) < limits.fair < max(limits.bad, limits.good), pattern
    assert catalog.thresholds("shocked_coverage_200") == catalog.THRESHOLDS["shocked_coverage_*"]
    assert catalog.thresholds("market_cap") is None
    assert catalog.thresholds("net_debt_to_ebitda").higher_is_better is False  # type: ignore[union-attr]


def test_unbounded_numbers_stay_numbers_everywhere() -> None:
    from openpyxl import Workbook

    from desktop.export.excel import _Cells

    cells = _Cells(Workbook().active)
    for value, shown in ((float("inf"), 1e300), (float("-inf"), -1e300)):
        made = cells.number(value, "ratio")  # Near misses use this for values and thresholds
        assert made.value == shown and made.data_type == "n" and made.number_format == '"∞";"-∞"'


def test_provenance_lists_the_colour_thresholds(workbook: Any) -> None:
    lines = list(workbook["Provenance"].iter_rows(max_col=4))
    top = next(i for i, r in enumerate(lines) if r[0].value == "Colour scale thresholds")
    assert [c.value for c in lines[top + 1]] == ["Field", "Weak (red)", "Fair (yellow)", "Healthy (green)"]
    rows = {}
    for r in lines[top + 2:]:
        if r[0].value is None:
            break
        rows[r[0].value] = r
    assert list(rows) == ["score", "fcf_yield", "net_debt_to_ebitda", "debt_to_equity", "interest_coverage",
                          "cash_runway_months"]  # the shortlist's judged columns, in order
    assert [c.value for c in rows["fcf_yield"][1:]] == [0.0, 0.05, 0.1]
    assert rows["fcf_yield"][2].number_format == "0.0%"
    assert [c.value for c in rows["net_debt_to_ebitda"][1:]] == [4.0, 2.0, 0.0]

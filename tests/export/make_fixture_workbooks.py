"""Regenerate the committed workbooks the screen-import tests read (fictional data only).

    python -m tests.export.make_fixture_workbooks

* ``tests/data_files/export/``: workbooks written by the exporter (format 1) with the expected
  definition beside each as ``.json``; reading them must keep working in later versions.
* ``tests/hostile/workbooks/``: damaged or malicious variants that import must refuse clearly.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from openpyxl import Workbook, load_workbook

from desktop.export.excel import write_workbook
from desktop.export.screen_sheet import MARKER
from tests.export.conftest import SCREEN, make_input

ROOT = Path(__file__).resolve().parents[1]
GOOD = ROOT / "data_files" / "export"
HOSTILE = ROOT / "hostile" / "workbooks"

# One JSON line longer than a cell holds (split over two rows), and non-ASCII text.
LONG_SCREEN = dict(SCREEN, name="Long ✓ ünïcode " + "x" * 31_000,
                   criteria=[{"field": "sector", "any_of": ["Technology", "Énergie", "=1+1", "-x"]}])


def marker_row(ws) -> int:  # noqa: ANN001
    return next(c.row for c in ws["A"] if c.value == MARKER)


def good() -> None:
    GOOD.mkdir(parents=True, exist_ok=True)
    data = make_input()
    cases = {"shortlist_v1": SCREEN, "long_screen_v1": LONG_SCREEN}
    for name, screen in cases.items():
        write_workbook(GOOD / f"{name}.xlsx", replace(data, screen_definition=screen, screen_name=screen["name"]))
        (GOOD / f"{name}.json").write_text(json.dumps(screen, indent=2, ensure_ascii=False) + "\n",
                                           encoding="utf-8")


def hostile() -> None:
    HOSTILE.mkdir(parents=True, exist_ok=True)
    base = HOSTILE / "_base.xlsx"
    write_workbook(base, make_input())

    def variant(name: str, edit) -> None:  # noqa: ANN001
        wb = load_workbook(base)
        edit(wb)
        wb.save(HOSTILE / name)

    def drop_screen(wb) -> None:  # noqa: ANN001
        del wb["Screen"]

    def tamper(wb) -> None:  # noqa: ANN001 - a valid JSON edit: the threshold of c1
        ws = wb["Screen"]
        for cell in ws["A"]:
            if isinstance(cell.value, str) and '"min": 0' in cell.value:
                cell.value = cell.value.replace('"min": 0', '"min": -1000000000')
                return
        raise AssertionError("no threshold line found")

    def break_json(wb) -> None:  # noqa: ANN001
        ws = wb["Screen"]
        ws.cell(marker_row(ws) + 2, 1).value = '  "version": 1,,'

    def formula(wb) -> None:  # noqa: ANN001
        ws = wb["Screen"]
        ws.cell(marker_row(ws) + 1, 1).value = '=HYPERLINK("http://evil","{")'

    def huge_cell(wb) -> None:  # noqa: ANN001
        ws = wb["Screen"]
        ws.cell(marker_row(ws) + 1, 1).value = "{" + " " * 32_000

    def huge_count(wb) -> None:  # noqa: ANN001
        ws = wb["Screen"]
        ws.cell(marker_row(ws), 2).value = 10**9

    def cut_short(wb) -> None:  # noqa: ANN001
        ws = wb["Screen"]
        last = marker_row(ws) + int(ws.cell(marker_row(ws), 2).value)
        ws.delete_rows(last - 3, 4)

    def newer(wb) -> None:  # noqa: ANN001
        ws = wb["Screen"]
        ws.cell(marker_row(ws), 1).value = "pickaxe-screen-json/2"

    def no_marker(wb) -> None:  # noqa: ANN001
        ws = wb["Screen"]
        ws.cell(marker_row(ws), 1).value = "something else"

    def not_a_dict(wb) -> None:  # noqa: ANN001
        ws = wb["Screen"]
        row = marker_row(ws)
        ws.cell(row, 2).value = 1
        ws.cell(row + 1, 1).value = "[1, 2, 3]"

    for name, edit in {
        "missing_screen_sheet.xlsx": drop_screen, "tampered_json.xlsx": tamper, "broken_json.xlsx": break_json,
        "formula_in_json.xlsx": formula, "huge_cell.xlsx": huge_cell, "huge_row_count.xlsx": huge_count,
        "cut_short.xlsx": cut_short, "newer_format.xlsx": newer, "no_marker.xlsx": no_marker,
        "json_not_object.xlsx": not_a_dict,
    }.items():
        variant(name, edit)
    base.unlink()
    Workbook().save(HOSTILE / "plain_workbook.xlsx")
    (HOSTILE / "not_a_workbook.xlsx").write_text("Ticker,Name\nZZZ,Not a zip\n", encoding="utf-8")


if __name__ == "__main__":
    good()
    hostile()

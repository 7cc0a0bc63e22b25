"""The workbook opens in a real spreadsheet application: LibreOffice converts it headless.

Skipped with a reason when ``soffice`` is not installed (Debian: ``apt-get install
libreoffice-calc-nogui``). A damaged workbook makes the conversion fail or lose values.
"""

from __future__ import annotations

import csv
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter

from desktop.export.content import ExportInput
from desktop.export.excel import read_screen_definition, write_workbook
from tests.export.conftest import EVIL_NAME, PASSING, make_input

SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")
pytestmark = [
    pytest.mark.skipif(SOFFICE is None, reason="LibreOffice (soffice) is not installed; "
                       "install libreoffice-calc-nogui to run the spreadsheet round trip"),
    pytest.mark.slow,
]
# Field sep, text delimiter, UTF-8, first line, cell format, language, quoted as text, detect special
# numbers, save as shown, export formulas, remove spaces, sheet (-1 = every sheet to its own file).
CSV_FILTER = "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,-1"
SHOWN_FILTER = "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,true,false,false,-1"  # as shown


def convert(source: Path, target_filter: str, outdir: Path, profile: Path) -> None:
    outdir.mkdir(exist_ok=True)
    done = subprocess.run(  # noqa: S603 - fixed arguments, our own temp files
        [str(SOFFICE), f"-env:UserInstallation={profile.as_uri()}", "--headless", "--norestore",
         "--convert-to", target_filter, "--outdir", str(outdir), str(source)],
        capture_output=True, text=True, timeout=180, check=False)
    assert done.returncode == 0, done.stderr


@pytest.fixture(scope="module")
def converted(tmp_path_factory: pytest.TempPathFactory) -> tuple[ExportInput, Path, Path]:
    root = tmp_path_factory.mktemp("lo")
    data = make_input()
    source = write_workbook(root / "shortlist.xlsx", data)
    convert(source, CSV_FILTER, root / "csv", root / "profile")
    convert(source, SHOWN_FILTER, root / "shown", root / "profile")
    convert(source, "xlsx:Calc MS Excel 2007 XML", root / "xlsx", root / "profile")
    convert(source, "pdf", root / "pdf", root / "profile")
    return data, root / "csv", root / "xlsx" / "shortlist.xlsx"


def read_csv(path: Path) -> list[list[str]]:
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.reader(handle))


def test_every_sheet_converts(converted: tuple[ExportInput, Path, Path]) -> None:
    _, folder, _ = converted
    names = sorted(p.name for p in folder.iterdir())  # the CSV conversion: one file per sheet
    assert names == sorted(f"shortlist-{s}.csv" for s in
                           ("Shortlist", "Why", "Near misses", "Screen", "Provenance", "Summary"))


def test_shortlist_values_as_libreoffice_reads_them(converted: tuple[ExportInput, Path, Path]) -> None:
    data, folder, _ = converted
    rows = read_csv(folder / "shortlist-Shortlist.csv")
    heads = rows[0]
    assert heads[:7] == ["Rank", "Symbol", "Name", "Score", "Market cap ($M)", "Market cap period",
                         "Market cap state"]  # collapsed columns are still there
    assert len(rows) - 1 == len(data.result.ranked)
    by_symbol = {r[1]: r for r in rows[1:]}
    assert [r[1] for r in rows[1:]] == PASSING
    assert float(by_symbol["ZQAB"][4]) == pytest.approx(1200.0)
    assert by_symbol["MOLE-A"][heads.index("Debt / equity")] == "n.m."
    assert by_symbol["MOLE-A"][heads.index("Listed since")] == ""  # missing stays empty
    assert by_symbol["XHAK"][2] == EVIL_NAME  # shown as text, not evaluated
    assert by_symbol["XHAK"][heads.index("Cash runway (months)")] == "1E+300"  # a number...
    shown = {r[1]: r for r in read_csv(folder.parent / "shown" / "shortlist-Shortlist.csv")[1:]}
    assert shown["XHAK"][heads.index("Cash runway (months)")] == "∞"  # ...shown as ∞
    assert shown["MOLE-A"][heads.index("Debt / equity state")] == "n.m."
    assert shown["MOLE-A"][heads.index("Debt / equity period")] == "2026-05-05"
    assert shown["ZQAB"][heads.index("FCF yield")] == "4.2%"


def test_resaved_workbook_keeps_values_formats_and_screen(converted: tuple[ExportInput, Path, Path]) -> None:
    data, _, resaved = converted
    assert read_screen_definition(resaved) == data.screen_definition
    wb = load_workbook(resaved)
    ws = wb["Shortlist"]
    heads = [c.value for c in ws[1]]
    assert ws.tables["Shortlist"].ref == f"A1:{get_column_letter(len(heads))}{len(data.result.ranked) + 1}"
    assert ws["B3"].value == "ZQAB"
    assert ws["E3"].value == pytest.approx(1200.0) and ws["E3"].number_format == "#,##0.0"
    assert ws.cell(3, heads.index("FCF yield") + 1).number_format == "0.0%"
    assert ws["B2"].hyperlink.target == "https://finance.yahoo.com/quote/VVOR"
    assert all(c.data_type != "f" for sheet in wb for row in sheet.iter_rows() for c in row)


def test_libreoffice_keeps_the_print_setup(converted: tuple[ExportInput, Path, Path]) -> None:
    _, _, resaved = converted
    wb = load_workbook(resaved)
    for title in ("Shortlist", "Why", "Near misses"):
        ws = wb[title]
        assert ws.page_setup.orientation == "landscape", title
        assert ws.sheet_properties.pageSetUpPr.fitToPage and ws.page_setup.fitToWidth in (1, None), title
        assert ws.print_title_rows == "$1:$1", title
        assert "Pickaxe: Cash && =risk" in (ws.oddHeader.left.text or ""), title
    ws = wb["Shortlist"]
    period = [c.value for c in ws[1]].index("Market cap period") + 1
    assert ws.column_dimensions[get_column_letter(period)].hidden  # the collapsed outline group


def test_pdf_pages_are_landscape_and_few(converted: tuple[ExportInput, Path, Path]) -> None:
    _, folder, _ = converted
    pdf = (folder.parent / "pdf" / "shortlist.pdf").read_bytes()
    sizes = []
    for page in re.findall(rb"<<[^<>]*/Type\s*/Page\b(?!s)[^<>]*>>", pdf):  # each page's dictionary
        box = re.search(rb"/MediaBox\s*\[\s*([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)", page)
        assert box is not None, page
        x0, y0, x1, y1 = map(float, box.groups())
        sizes.append((x1 - x0, y1 - y0))
    # Every sheet is one page wide, so this small run takes a page or two per sheet (the Provenance
    # sheet two); landscape but the last page, the portrait Summary.
    assert 6 <= len(sizes) <= 8, sizes
    assert [w > h for w, h in sizes] == [True] * (len(sizes) - 1) + [False]

"""CSV export: BOM, field names, raw values, ISO dates, formula guard."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from desktop.export.content import ExportInput
from desktop.export.csv import raw_text, write_csv, write_rows


def read(path: Path) -> list[dict[str, str]]:
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM so Excel reads the encoding right
    return list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"), newline="")))


def test_header_uses_catalogue_field_names(tmp_path: Path, run_input: ExportInput) -> None:
    rows = read(write_csv(tmp_path / "s.csv", run_input))
    assert list(rows[0]) == ["rank", "symbol", "name", "market_cap", "free_cash_flow", "current_ratio",
                             "index_weight", "price", "sector", "listing_date", "description"]
    assert len(rows) == len(run_input.result.ranked)


def test_raw_values_missing_nm_and_dates(tmp_path: Path, run_input: ExportInput) -> None:
    rows = {r["symbol"]: r for r in read(write_csv(tmp_path / "s.csv", run_input))}
    zqab = rows["ZQAB"]
    assert zqab["market_cap"] == "1234567890" and float(zqab["index_weight"]) == 0.00123
    assert zqab["listing_date"] == "1999-03-04"
    assert rows["VVOR"]["free_cash_flow"] == "-5000000"  # numbers are never quoted as text
    assert rows["MOLE-A"]["current_ratio"] == "n.m."
    assert rows["XHAK"]["listing_date"] == ""


def test_formula_injection_is_neutralised(tmp_path: Path, run_input: ExportInput) -> None:
    rows = {r["symbol"]: r for r in read(write_csv(tmp_path / "s.csv", run_input))}
    assert rows["XHAK"]["name"] == "'=HYPERLINK(\"http://evil\")"
    assert rows["MOLE-A"]["description"].startswith("'-Digs")
    assert rows["XHAK"]["description"] == "'\tTabbed"
    assert rows["ZQAB"]["name"] == "Zeqa Abrasives Inc"


def test_raw_text_cases() -> None:
    assert raw_text(float("inf"), 0) == "inf"
    assert raw_text(float("nan"), 0) == ""
    assert raw_text(0.0, 0) == "0"  # a real zero stays zero
    assert raw_text(None, 2) == "n.m."
    assert raw_text(("AI", "Semiconductors"), 0) == "AI; Semiconductors"
    assert raw_text(True, 0) == "true"
    assert raw_text("@SUM(A1)", 0) == "'@SUM(A1)"
    assert raw_text(0.1 + 0.2, 0) == repr(0.1 + 0.2)  # full precision


def test_stream_has_no_bom(run_input: ExportInput) -> None:
    out = io.StringIO()
    assert write_rows(out, run_input) == len(run_input.result.ranked)
    assert out.getvalue().startswith("rank,symbol")

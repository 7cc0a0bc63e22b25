"""CSV export: BOM, field names, raw values, ISO dates, formula guard."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from desktop.export.content import ExportInput
from desktop.export.csv import raw_text, write_csv, write_rows
from tests.export.conftest import EVIL_NAME, PASSING, SCREEN


def read(path: Path) -> list[dict[str, str]]:
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM so Excel reads the encoding right
    return list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"), newline="")))


@pytest.fixture(scope="module")
def rows(tmp_path_factory: pytest.TempPathFactory, run_input: ExportInput) -> dict[str, dict[str, str]]:
    path = write_csv(tmp_path_factory.mktemp("csv") / "s.csv", run_input)
    data = read(path)
    assert [r["symbol"] for r in data] == PASSING
    return {r["symbol"]: r for r in data}


def test_header_uses_catalogue_field_names(rows: dict[str, dict[str, str]]) -> None:
    head = list(rows["VVOR"])
    values = [h for h in head if not h.endswith(("_period", "_state"))]
    assert values == ["rank", "symbol", "name", "score", *SCREEN["columns"]]
    # Every field with a state is followed by its period and state; text, tags and dates have none.
    assert head[4:10] == ["market_cap", "market_cap_period", "market_cap_state", "price", "price_period",
                          "price_state"]
    for name in ("themes", "listing_date", "sector", "description"):
        assert f"{name}_state" not in head and f"{name}_period" not in head
    assert head.index("ocf_positive_state") == head.index("ocf_positive") + 2


def test_period_and_state_columns(rows: dict[str, dict[str, str]]) -> None:
    mole = rows["MOLE-A"]
    assert (mole["debt_to_equity"], mole["debt_to_equity_period"], mole["debt_to_equity_state"]) == \
        ("n.m.", "2026-05-05", "n.m.")  # n.m. has a period: the balance sheet that makes it n.m.
    assert rows["VVOR"]["market_cap_period"] == "2026-05-05"  # the chosen observation's date
    assert rows["XHAK"]["market_cap_period"] == ""  # no dated observation: no invented date
    assert {r["fcf_yield_state"] for r in rows.values()} == {"ok"}


def test_raw_values_missing_nm_and_dates(rows: dict[str, dict[str, str]]) -> None:
    zqab = rows["ZQAB"]
    assert zqab["market_cap"] == "1200000000"  # USD units, not millions
    assert float(zqab["fcf_yield"]) == pytest.approx(5e7 / 1.2e9)  # a fraction, not a percent
    assert zqab["listing_date"] == "1999-03-04"
    assert zqab["themes"] == "semiconductors"
    assert zqab["ocf_positive"] == "true"
    assert zqab["cash_runway_months"] == "inf"
    assert rows["MOLE-A"]["debt_to_equity"] == "n.m."
    assert rows["MOLE-A"]["listing_date"] == ""
    assert rows["XHAK"]["debt_to_equity"] == "0"  # a real zero stays zero


def test_formula_injection_is_neutralised(rows: dict[str, dict[str, str]]) -> None:
    assert rows["XHAK"]["name"] == "'" + EVIL_NAME
    assert rows["MOLE-A"]["description"].startswith("'-Digs")
    assert rows["XHAK"]["description"] == "'\tTabbed text"
    assert rows["ZQAB"]["name"] == "Zeqa Abrasives Inc"


def test_raw_text_cases() -> None:
    assert raw_text(float("inf"), 0) == "inf"
    assert raw_text(float("nan"), 0) == ""
    assert raw_text(0.0, 0) == "0"
    assert raw_text(-5.0, 0) == "-5"  # numbers are never prefixed
    assert raw_text(None, 2) == "n.m."
    assert raw_text(("ai", "semiconductors"), 0) == "ai; semiconductors"
    assert raw_text(True, 0) == "true"
    assert raw_text("@SUM(A1)", 0) == "'@SUM(A1)"
    assert raw_text("+1", 0) == "'+1" and raw_text("\rx", 0) == "'\rx"
    assert raw_text(0.1 + 0.2, 0) == repr(0.1 + 0.2)  # full precision


def test_stream_has_no_bom(run_input: ExportInput) -> None:
    out = io.StringIO()
    assert write_rows(out, run_input) == len(run_input.result.ranked)
    assert out.getvalue().startswith("rank,symbol")

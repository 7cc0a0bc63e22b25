"""Untrusted text never becomes a formula, never breaks the file (control characters, huge cells)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from desktop.engine.evaluate import evaluate
from desktop.engine.metrics import compute_metrics
from desktop.engine.screen import parse_screen
from desktop.export.csv import write_csv
from desktop.export.excel import write_workbook
from desktop.export.safe import CELL_TEXT_LIMIT, FORMULA_TRIGGERS, clean_text, csv_text, is_risky
from desktop.services.exporting import export_input
from desktop.services.screening import RunOutcome
from tests.export.conftest import SCREEN, make_dataset, make_outcome

text = st.text(alphabet=st.characters(codec="utf-8"), max_size=40)


@given(st.sampled_from(FORMULA_TRIGGERS), text)
def test_every_trigger_is_prefixed_in_csv(trigger: str, rest: str) -> None:
    out = csv_text(trigger + rest)
    assert out.startswith("'")


@given(text)
def test_csv_text_is_the_text_or_the_quoted_text(value: str) -> None:
    cleaned = clean_text(value)
    assert csv_text(value) in (cleaned, "'" + cleaned)
    assert not is_risky(csv_text(value))


@given(text)
def test_clean_text_keeps_tabs_and_newlines_only(value: str) -> None:
    out = clean_text(value)
    assert all(ch in "\t\n\r" or ord(ch) >= 32 for ch in out)
    assert not any("\ud800" <= ch <= "\udfff" or ch in "\ufffe\uffff" for ch in out)


def test_clean_text_cuts_to_a_cell() -> None:
    assert len(clean_text("x" * 100_000)) == CELL_TEXT_LIMIT
    assert clean_text("a\x00b\x1fc\td") == "abc\td"
    assert clean_text("lone\ud800 surrogate, not\uffff\ufffe chars") == "lone surrogate, not chars"


HOSTILE_NAMES = ["=1+1", "+SUM(A1:A9)", "-2+3", "@cmd", "\t=tab", "\r=cr", "=HYPERLINK(\"x\")",
                 "null\x00byte", "bell\x07name", "ünïcødé ✓",
                 "lone\udc80surrogate", "not\uffffa char", "x" * 40_000]


@settings(max_examples=1, deadline=None)
@given(st.just(HOSTILE_NAMES))
def test_hostile_names_export_as_text(names: list[str]) -> None:
    import tempfile

    dataset = make_dataset()
    sec = dataset.securities.copy()
    symbols = ["ZQAB", "VVOR", "MOLE-A", "XHAK"]
    for symbol, name in zip(symbols, names[: len(symbols)], strict=True):
        sec.loc[symbol, "name"] = name
    sec.loc["ZQAB", "description"] = names[-1]
    sec.loc["VVOR", "description"] = "\x00".join(names[4:-1])
    outcome = _outcome(replace(dataset, securities=sec))
    with tempfile.TemporaryDirectory() as folder:
        book = write_workbook(Path(folder) / "h.xlsx", export_input(outcome))
        wb = load_workbook(book)
        assert all(c.data_type != "f" for ws in wb for row in ws.iter_rows() for c in row)
        ws = wb["Shortlist"]
        names_out = {ws.cell(r, 2).value: ws.cell(r, 3).value for r in range(2, ws.max_row + 1)}
        assert names_out["ZQAB"] == "=1+1" and ws.cell(3, 3).quotePrefix
        assert names_out["MOLE-A"] == "-2+3"
        desc = [c.value for c in ws[1]].index("Business summary") + 1
        zqab_row = [ws.cell(r, 2).value for r in range(1, ws.max_row + 1)].index("ZQAB") + 1
        assert len(ws.cell(zqab_row, desc).value) == CELL_TEXT_LIMIT
        text = write_csv(Path(folder) / "h.csv", export_input(outcome)).read_text(encoding="utf-8-sig")
        assert "'=1+1" in text and "\x00" not in text


def _outcome(dataset: object) -> RunOutcome:
    base = make_outcome()
    table = compute_metrics(dataset, taxonomy=None)  # type: ignore[arg-type]
    screen = parse_screen(SCREEN)
    return RunOutcome(screen, base.info, table, evaluate(screen, table), None)


def test_numbers_are_never_prefixed(tmp_path: Path) -> None:
    outcome = make_outcome()
    write_csv(tmp_path / "n.csv", export_input(outcome))
    rows = pd.read_csv(tmp_path / "n.csv", encoding="utf-8-sig", index_col="symbol")
    assert rows.loc["XHAK", "net_debt_to_ebitda"] == -1.25  # net cash: negative, and a number

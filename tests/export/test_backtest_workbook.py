"""The Backtest workbook: reopened with openpyxl, sheets, headers, values, formats, chart, safety."""

from __future__ import annotations

import zipfile
from dataclasses import replace
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from desktop.engine.backtest import SCREEN, run_backtest
from desktop.errors import Cancelled, ExportError
from desktop.export.backtest_workbook import SHEETS, write_backtest_workbook
from tests.engine.test_backtest import FCF_SCREEN, MEMBERS, SETTINGS, universe


@pytest.fixture
def result():  # noqa: ANN201
    return run_backtest(FCF_SCREEN, universe(), MEMBERS, SETTINGS)


def test_sheets_values_and_formats(tmp_path: Path, result) -> None:  # noqa: ANN001
    path = write_backtest_workbook(tmp_path / "bt.xlsx", result, snapshot="snapshot 1 as of 2024-06-03")
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == list(SHEETS)
    summary = wb["Summary"]
    assert summary["A1"].value == "Backtest: FCF positive"
    labels = {summary.cell(r, 1).value: r for r in range(1, summary.max_row + 1)}
    assert summary.cell(labels["Warning"], 2).value.startswith("SURVIVORSHIP BIAS")
    row = labels["Total return"]
    assert summary.cell(row, 2).value == pytest.approx(1.1 * 0.95 - 1)
    assert summary.cell(row, 2).number_format == "0.0%"
    assert summary.cell(labels["Periods beating IWM"], 2).value == pytest.approx(2 / 3)
    curve = wb["Curve"]
    assert [c.value for c in curve[1]][:4] == ["Date", "Screen (growth of 1)", "IWM (growth of 1)",
                                               "Universe (equal weight) (growth of 1)"]
    assert curve["B2"].value == 1.0 and curve["A2"].number_format == "yyyy-mm-dd"
    assert curve.max_row == len(result.curves) + 1
    periods = wb["Periods"]
    assert periods.max_row == 4
    assert periods["I2"].value == pytest.approx(result.periods[SCREEN].iloc[0])
    holdings = wb["Holdings"]
    rows = list(holdings.iter_rows(min_row=2, values_only=True))
    assert ("AAA", "entered") in {(r[1], r[3]) for r in rows}
    assert wb["Assumptions"].max_row == 2 + len(result.warnings) + len(result.assumptions) + len(result.data_rules)
    with zipfile.ZipFile(path) as z:  # openpyxl does not read charts back: look in the package
        chart = next(n for n in z.namelist() if n.startswith("xl/charts/chart"))
        body = z.read(chart)
        assert b"<lineChart>" in body and body.count(b"<ser>") == 3


def test_missing_values_are_empty_never_zero(tmp_path: Path, result) -> None:  # noqa: ANN001
    path = write_backtest_workbook(tmp_path / "bt.xlsx", result)
    left = openpyxl.load_workbook(path)["Holdings"]
    for row in left.iter_rows(min_row=2, values_only=True):
        if row[3] == "left":
            assert row[5] is None  # no return for a stock that was sold


def test_an_unbounded_statistic_stays_a_number(tmp_path: Path, result) -> None:  # noqa: ANN001
    stats = result.stats.copy()
    stats.loc[SCREEN, "sharpe"] = float("inf")
    stats.loc[SCREEN, "cagr"] = float("-inf")
    path = write_backtest_workbook(tmp_path / "bt.xlsx", replace(result, stats=stats))
    wb = openpyxl.load_workbook(path)
    summary = wb["Summary"]
    labels = {summary.cell(r, 1).value: r for r in range(1, summary.max_row + 1)}
    sharpe, cagr = summary.cell(labels["Sharpe ratio"], 2), summary.cell(labels["CAGR"], 2)
    assert sharpe.data_type == "n" and sharpe.value == 1e300 and sharpe.number_format == '"∞";"-∞"'
    assert cagr.data_type == "n" and cagr.value == -1e300
    notes = [row[1] for row in wb["Assumptions"].iter_rows(min_row=2, values_only=True)]
    assert any("1E+300" in n for n in notes)


def test_formula_like_text_is_stored_as_text(tmp_path: Path, result) -> None:  # noqa: ANN001
    holdings = result.holdings.copy()
    holdings.loc[0, "name"] = '=HYPERLINK("http://x","click")'
    path = write_backtest_workbook(tmp_path / "bt.xlsx", replace(result, holdings=holdings,
                                                                 screen_name="@SUM(A1)"))
    wb = openpyxl.load_workbook(path)
    cell = wb["Holdings"]["C2"]
    assert cell.data_type == "s" and cell.value.startswith("=HYPERLINK") and cell.quotePrefix
    assert wb["Summary"]["A1"].value == "Backtest: @SUM(A1)"


def test_cancel_and_bad_targets_leave_nothing(tmp_path: Path, result) -> None:  # noqa: ANN001
    target = tmp_path / "bt.xlsx"
    with pytest.raises(Cancelled):
        write_backtest_workbook(target, result, is_cancelled=lambda: True)
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(ExportError, match="does not exist"):
        write_backtest_workbook(tmp_path / "missing" / "bt.xlsx", result)


def test_empty_periods_still_write(tmp_path: Path, result) -> None:  # noqa: ANN001
    empty = replace(result, events=result.events.iloc[0:0], holdings=result.holdings.iloc[0:0],
                    curves=result.curves.iloc[:1], drawdowns=result.drawdowns.iloc[:1])
    path = write_backtest_workbook(tmp_path / "bt.xlsx", empty)
    assert openpyxl.load_workbook(path)["Holdings"].max_row == 1
    assert isinstance(pd.Timestamp(result.periods["start"].iloc[0]), pd.Timestamp)

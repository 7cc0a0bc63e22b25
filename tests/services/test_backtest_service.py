"""The backtest use case and ``pickaxe-cli backtest`` on a store holding the hand-built universe."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from desktop.cli import main
from desktop.engine.backtest import SCREEN, BacktestSettings
from desktop.engine.dataset import Dataset
from desktop.errors import ExportError, InputError
from desktop.services import backtest
from desktop.store import snapshots
from desktop.store.db import Database, open_database
from tests.engine.test_backtest import FCF_SCREEN, universe

SETTINGS = BacktestSettings(date(2024, 2, 1), date(2024, 4, 30), cost_bps=0.0)


def holdings_source(day: str) -> tuple[dict[str, Any], ...]:
    return ({"source": "ishares", "origin": f"/data/IWM_holdings_{day}.csv", "as_of": day, "rows": 3},)


@pytest.fixture
def db(tmp_path: Path) -> Any:
    database = open_database(tmp_path / "pickaxe.sqlite3")
    backtest.clear_cache()
    yield database
    backtest.clear_cache()
    database.dispose()


def save(db: Database, dataset: Dataset) -> int:
    with db.session() as session:
        return snapshots.save_snapshot(session, dataset, {})


def test_run_on_the_stored_snapshot(db: Database) -> None:
    sid = save(db, replace(universe(), sources=holdings_source("2024-06-03")))
    outcome = backtest.run(db, FCF_SCREEN, SETTINGS)
    assert outcome.info.id == sid
    assert list(outcome.result.periods["holdings"]) == [1, 1, 2]
    assert outcome.result.periods[SCREEN].iloc[0] == pytest.approx(0.10)
    again = backtest.run(db, FCF_SCREEN, SETTINGS)  # the prepared data is reused
    assert again.result.curves.equals(outcome.result.curves)


def test_each_holdings_file_is_in_force_from_its_date(db: Database) -> None:
    early = universe()
    early = replace(early, securities=early.securities.assign(in_index=[True, False, True]),
                    sources=holdings_source("2024-02-15"))
    save(db, early)
    save(db, replace(universe(), sources=holdings_source("2024-03-15")))
    members = backtest.index_memberships(db)
    assert [(m.as_of, sorted(m.symbols)) for m in members] == [
        (date(2024, 2, 15), ["AAA", "CCC"]), (date(2024, 3, 15), ["AAA", "BBB", "CCC"])]
    assert members[0].origin == "IWM_holdings_2024-02-15.csv"
    result = backtest.run(db, FCF_SCREEN, SETTINGS).result
    assert list(result.periods["members"]) == [2, 2, 3]
    assert "1 of 3 rebalance dates" in result.warnings[0]


def test_a_snapshot_without_closes_is_refused(db: Database) -> None:
    data = universe()
    save(db, Dataset(data.as_of, data.securities, data.history, market=data.market))
    with pytest.raises(InputError, match="no daily closes"):
        backtest.run(db, FCF_SCREEN, SETTINGS)


def test_export_checks_the_name_first(db: Database, tmp_path: Path) -> None:
    with pytest.raises(ExportError, match=r"\.xlsx"):
        backtest.check_path(tmp_path / "bt.csv")
    save(db, universe())
    outcome = backtest.run(db, FCF_SCREEN, SETTINGS)
    path = backtest.export(tmp_path / "bt.xlsx", outcome)
    assert openpyxl.load_workbook(path)["Summary"]["B7"].value.startswith("snapshot ")


@pytest.fixture
def cli(tmp_path: Path) -> dict[str, Any]:
    db_path = tmp_path / "pickaxe.sqlite3"
    database = open_database(db_path)
    save(database, replace(universe(), sources=holdings_source("2024-06-03")))
    database.dispose()
    screen = tmp_path / "fcf.json"
    screen.write_text(json.dumps({"version": 1, "name": "FCF positive",
                                  "criteria": [{"field": "fcf_positive", "is": True}]}), encoding="utf-8")
    backtest.clear_cache()
    yield {"db": str(db_path), "screen": str(screen), "tmp": tmp_path}
    backtest.clear_cache()


def run_cli(env: dict[str, Any], capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["--db", env["db"], "backtest", env["screen"], "--from", "2024-02", "--to", "2024-04", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_report_leads_with_the_warnings(cli: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(cli, capsys, "--cost-bps", "0")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].startswith("Backtest: FCF positive, 2024-01-31 to 2024-04-30, monthly, equal weights, 0 bp")
    assert lines[2].startswith("WARNING  SURVIVORSHIP BIAS")
    total = next(line for line in lines if line.startswith("Total return"))
    assert total.split()[2:4] == ["4.5", "%"]  # 1.1 x 0.95 - 1
    assert "Assumptions:" in lines and "Data rules:" in lines


def test_cli_json_and_export(cli: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    target = cli["tmp"] / "bt.xlsx"
    code, out, err = run_cli(cli, capsys, "--format", "json", "--weight", "cap", "--rebalance", "quarterly",
                             "--export", str(target))
    assert code == 0
    doc = json.loads(out)
    assert doc["settings"] == {"from": "2024-02", "to": "2024-04", "rebalance": "quarterly", "weight": "cap",
                               "cost_bps": 20.0, "risk_free": 0.0}
    assert len(doc["periods"]) == 1 and doc["periods"][0]["start"] == "2024-01-31"
    assert doc["warnings"][0].startswith("SURVIVORSHIP BIAS")
    assert {h["symbol"] for h in doc["holdings"]} == {"AAA"}
    assert f"Exported the backtest to {target}" in err
    assert openpyxl.load_workbook(target).sheetnames[0] == "Summary"


@pytest.mark.parametrize(("args", "message"), [
    (("--to", "2024-01"), "ends (2024-01) before it starts"),
    (("--export", "out.csv"), "written as an Excel workbook"),
])
def test_cli_errors_are_one_sentence(cli: dict[str, Any], capsys: pytest.CaptureFixture[str], args: tuple[str, ...],
                                     message: str) -> None:
    code, _, err = run_cli(cli, capsys, *args)
    assert code == 1 and message in err and "Traceback" not in err


@pytest.mark.parametrize("bad", ["2024-13", "24-01", "2024-1x", "2024-02-01"])
def test_cli_refuses_a_bad_month(cli: dict[str, Any], capsys: pytest.CaptureFixture[str], bad: str) -> None:
    with pytest.raises(SystemExit) as err:
        main(["--db", cli["db"], "backtest", cli["screen"], "--from", bad, "--to", "2024-04"])
    assert err.value.code == 2
    assert "is not a month (YYYY-MM)" in capsys.readouterr().err

"""``pickaxe-cli run``: table for people, csv/json with field names and raw values, --export."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest

from desktop.cli import main
from desktop.services import screening
from desktop.store import runs, snapshots
from desktop.store.db import open_database
from tests.export.conftest import EVIL_NAME, PASSING, SCREEN, make_dataset


@pytest.fixture
def env(tmp_path: Path) -> dict[str, Any]:
    db_path = tmp_path / "pickaxe.sqlite3"
    db = open_database(db_path)
    with db.session() as session:
        sid = snapshots.save_snapshot(session, make_dataset(), {})
    db.dispose()
    screen_file = tmp_path / "screen.json"
    screen_file.write_text(json.dumps(SCREEN), encoding="utf-8")
    screening.clear_cache()
    yield {"db": str(db_path), "screen": str(screen_file), "sid": sid, "tmp": tmp_path}
    screening.flush_table_writes(60)
    screening.clear_cache()


def run(env: dict[str, Any], capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["--db", env["db"], "run", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_table_uses_human_formatting(env: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(env, capsys, env["screen"])
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == f"Cash & =risk: 4 of 6 stocks pass (snapshot {env['sid']}, data as of 2026-05-05)"
    assert lines[1].split()[:4] == ["Rank", "Symbol", "Name", "Score"]
    body = {line.split()[1]: line for line in lines[3:]}
    assert list(body) == PASSING
    assert "$1.2B" in body["ZQAB"] and "4.2 %" in body["ZQAB"]
    assert "n.m." in body["MOLE-A"] and "—" in body["MOLE-A"]  # not meaningful vs missing
    assert "∞" in body["XHAK"]


def test_csv_has_field_names_and_raw_values(env: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(env, capsys, env["screen"], "--format", "csv")
    assert code == 0 and not out.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [h for h in rows[0] if not h.endswith(("_period", "_state"))] == \
        ["rank", "symbol", "name", "score", *SCREEN["columns"]]
    by = {r["symbol"]: r for r in rows}
    assert by["MOLE-A"]["debt_to_equity_state"] == "n.m." and by["ZQAB"]["fcf_yield_state"] == "ok"
    assert list(by) == PASSING
    assert by["ZQAB"]["market_cap"] == "1200000000" and by["MOLE-A"]["debt_to_equity"] == "n.m."
    assert by["XHAK"]["name"] == "'" + EVIL_NAME


def test_json_has_field_names_and_raw_values(env: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(env, capsys, env["screen"], "--format", "json", "--snapshot", "2026-05-05")
    assert code == 0
    doc = json.loads(out)
    assert doc["screen"] == "Cash & =risk" and doc["snapshot_id"] == env["sid"] and doc["count"] == 4
    assert doc["universe_count"] == 6 and doc["columns"][:4] == ["rank", "symbol", "name", "score"]
    by = {r["symbol"]: r for r in doc["rows"]}
    assert by["ZQAB"]["market_cap"] == 1_200_000_000 and by["ZQAB"]["themes"] == ["semiconductors"]
    assert by["ZQAB"]["fcf_yield"] == pytest.approx(5e7 / 1.2e9)
    assert by["ZQAB"]["listing_date"] == "1999-03-04"
    assert by["MOLE-A"]["debt_to_equity"] == "n.m." and by["MOLE-A"]["listing_date"] is None
    assert by["XHAK"]["cash_runway_months"] == "inf" and by["XHAK"]["debt_to_equity"] == 0
    assert by["XHAK"]["name"] == EVIL_NAME  # JSON is data, not a spreadsheet: no quote prefix


def test_export_and_run_history(env: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    target = env["tmp"] / "out.xlsx"
    code, _, err = run(env, capsys, env["screen"], "--format", "csv", "--export", str(target))
    assert code == 0 and target.is_file() and f"Exported 4 stocks to {target}" in err
    code, _, _ = run(env, capsys, env["screen"], "--no-record")
    db = open_database(env["db"])
    with db.session() as session:
        assert len(runs.latest_runs(session, SCREEN["name"], n=5)) == 1
    db.dispose()
    # the exported workbook is itself a screen source
    code, out, _ = run(env, capsys, str(target), "--format", "json")
    assert code == 0 and [r["symbol"] for r in json.loads(out)["rows"]] == PASSING


def test_preset_by_name(env: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(env, capsys, "Cash survivors", "--format", "json")
    assert code == 0 and json.loads(out)["screen"] == "Cash survivors"


@pytest.mark.parametrize(("args", "message"), [
    (["No such screen"], "no saved screen, preset or screen file"),
    (["{screen}", "--snapshot", "1999-01-01"], "snapshot"),
    (["{screen}", "--export", "{tmp}/missing/out.xlsx"], "does not exist"),
    (["{screen}", "--export", "{tmp}/out.pdf"], "unknown file type"),
])
def test_errors_are_one_plain_line(env: dict[str, Any], capsys: pytest.CaptureFixture[str], args: list[str],
                                   message: str) -> None:
    code, _, err = run(env, capsys, *[a.format(**env) for a in args])
    assert code == 1
    assert err.startswith("error: ") and message in err

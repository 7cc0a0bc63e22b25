"""The screening use case on a real store: load, cache, theme override, run recording, export."""

from __future__ import annotations

import csv
import io
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from desktop import paths
from desktop.engine.screen import parse_screen
from desktop.errors import ExportError, InputError, StoreError
from desktop.export.excel import read_screen_definition
from desktop.services import screening
from desktop.services.exporting import export_result
from desktop.store import runs, screens, snapshots
from desktop.store.db import Database, open_database
from tests.export.conftest import PASSING, SCREEN, make_dataset


@pytest.fixture
def db(tmp_path: Path) -> Any:
    database = open_database(tmp_path / "pickaxe.sqlite3")
    screening.clear_cache()
    yield database
    screening.flush_table_writes(60)  # no write into the store cache outlives the database
    screening.clear_cache()
    database.dispose()


def save(db: Database, dataset: Any = None) -> int:
    with db.session() as session:
        return snapshots.save_snapshot(session, dataset or make_dataset(), {"note": "test"})


def test_load_table_computes_metrics_and_caches(db: Database) -> None:
    sid = save(db)
    bundle = screening.load_table(db)
    assert bundle.info.id == sid and bundle.info.as_of == date(2026, 5, 5)
    assert set(PASSING) <= set(bundle.table.values.index)
    assert bundle.table.values.loc["ZQAB", "themes"] == ("semiconductors",)  # built-in taxonomy
    assert "fcf_yield" in bundle.table.values.columns
    assert screening.load_table(db, sid) is bundle  # cached per snapshot
    assert screening.load_table(db, str(sid)) is bundle
    assert screening.load_table(db, "2026-05-05") is bundle


def test_each_snapshot_has_its_own_table(db: Database) -> None:
    first = save(db)
    later = make_dataset()
    later = replace(later, as_of=date(2026, 6, 1), securities=later.securities.drop(index=["PLNK"]))
    second = save(db, later)
    assert screening.load_table(db).info.id == second  # None = the latest
    old = screening.load_table(db, first)
    assert old.info.id == first and "PLNK" in old.table.values.index
    assert "PLNK" not in screening.load_table(db, second).table.values.index


def test_user_theme_override_is_applied_and_invalidates_the_cache(db: Database) -> None:
    save(db)
    before = screening.load_table(db)
    assert "semiconductors" not in before.table.values.loc["VVOR", "themes"]
    override = paths.config_dir() / "themes.toml"
    override.write_text('[themes.semiconductors]\nadd_tickers = ["VVOR"]\n', encoding="utf-8")
    after = screening.load_table(db)
    assert after is not before
    assert "semiconductors" in after.table.values.loc["VVOR", "themes"]


def test_malformed_theme_override_names_the_file(db: Database) -> None:
    save(db)
    override = paths.config_dir() / "themes.toml"
    override.write_text("[themes.semiconductors\n", encoding="utf-8")
    with pytest.raises(InputError) as info:
        screening.load_table(db)
    assert "themes.toml" in str(info.value)


def test_no_snapshot_is_a_clear_error(db: Database) -> None:
    with pytest.raises(StoreError, match="no snapshots"):
        screening.load_table(db)
    save(db)
    with pytest.raises(StoreError, match="no snapshot 99"):
        screening.load_table(db, 99)


def test_run_screen_records_the_run(db: Database) -> None:
    sid = save(db)
    outcome = screening.run_screen(db, parse_screen(SCREEN))
    assert list(outcome.result.ranked.index) == PASSING
    assert outcome.info.id == sid and outcome.run_id is not None
    with db.session() as session:
        (run,) = runs.latest_runs(session, SCREEN["name"], n=5)
    assert run.id == outcome.run_id and run.snapshot_id == sid
    assert run.screen_version is None  # not a saved screen
    assert list(run.symbols) == PASSING


def test_run_screen_without_recording(db: Database) -> None:
    save(db)
    outcome = screening.run_screen(db, parse_screen(SCREEN), record=False)
    assert outcome.run_id is None
    with db.session() as session:
        assert runs.latest_runs(session, SCREEN["name"]) == []


def test_saved_screen_run_records_its_version(db: Database) -> None:
    save(db)
    with db.session() as session:
        screens.save_screen(session, SCREEN["name"], SCREEN)
        version = screens.save_screen(session, SCREEN["name"], dict(SCREEN, columns=["market_cap"]))
    saved = parse_screen(dict(SCREEN, columns=["market_cap"]))
    outcome = screening.run_screen(db, saved)
    edited = screening.run_screen(db, parse_screen(SCREEN))  # the older definition: not the saved one
    with db.session() as session:
        by_id = {r.id: r for r in runs.latest_runs(session, SCREEN["name"], n=5)}
    assert by_id[outcome.run_id].screen_version == version == 2
    assert by_id[edited.run_id].screen_version is None


def test_export_result_by_suffix(db: Database, tmp_path: Path) -> None:
    save(db)
    outcome = screening.run_screen(db, parse_screen(SCREEN))
    steps: list[tuple[int, int]] = []
    book = export_result(tmp_path / "short.XLSX", outcome, progress=lambda d, t, m="": steps.append((d, t)))
    assert steps[-1][0] == steps[-1][1]
    wb = load_workbook(book)
    shortlist = wb["Shortlist"]
    assert shortlist.tables["Shortlist"].ref == f"A1:{shortlist.cell(1, shortlist.max_column).column_letter}" \
        f"{len(PASSING) + 1}"
    provenance = {c.value for row in wb["Provenance"].iter_rows() for c in row}
    assert outcome.run_id in provenance and outcome.info.id in provenance
    assert parse_screen(read_screen_definition(book)) == outcome.screen  # the screen comes back exactly
    text = export_result(tmp_path / "short.csv", outcome).read_text(encoding="utf-8-sig")
    assert [r["symbol"] for r in csv.DictReader(io.StringIO(text))] == PASSING
    with pytest.raises(ExportError, match="unknown file type"):
        export_result(tmp_path / "short.ods", outcome)
    assert not (tmp_path / "short.ods").exists()


@pytest.mark.slow
def test_real_universe_preset_exports_and_reimports(tmp_path: Path) -> None:
    """The real Russell 2000 file and fundamentals (../shared/data, used in place): a preset runs,
    exports, and the workbook holds the whole result, no formula, and the exact screen."""
    from desktop.services import library
    from desktop.services.importing import import_files
    from tests.conftest import shared_file

    holdings = shared_file("universe", "IWM_holdings_2026-05-05.csv")
    finviz = shared_file("fundamentals", "finviz_export_2025-08-21.csv")
    statements, profiles = shared_file("statements"), shared_file("profiles")
    database = open_database(tmp_path / "real.sqlite3")
    screening.clear_cache()
    try:
        import_files(database, "ishares", [holdings])
        import_files(database, "finviz", [finviz])
        import_files(database, "simfin", [statements, profiles])
        screen = library.load_screen_any(database, "Cash survivors")
        outcome = screening.run_screen(database, screen)
        path = export_result(tmp_path / "cash.xlsx", outcome)
    finally:
        screening.clear_cache()
        database.dispose()
    n = len(outcome.result.ranked)
    assert 0 < n < outcome.result.universe_count
    wb = load_workbook(path)
    assert wb["Shortlist"].tables["Shortlist"].ref.endswith(str(n + 1))
    assert [wb["Shortlist"].cell(r, 2).value for r in range(2, n + 2)] == list(outcome.result.ranked.index)
    assert wb["Why"].max_row == outcome.result.universe_count + 1
    assert all(c.data_type != "f" for ws in wb for row in ws.iter_rows() for c in row)
    assert parse_screen(read_screen_definition(path)) == screen

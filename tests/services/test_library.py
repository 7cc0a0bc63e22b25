"""Library use cases: presets, loading screens from anywhere, saving (presets copied), files,
snapshots and the watchlist."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from desktop.engine.screen import parse_screen, screen_to_dict
from desktop.errors import InputError, ScreenDefinitionError
from desktop.resources import resource_path
from desktop.services import library
from desktop.store import snapshots
from desktop.store.db import Database, NotFoundError, open_database

FILES = Path(__file__).resolve().parents[1] / "data_files" / "library"
EXPORTED_XLSX = Path(__file__).resolve().parents[1] / "data_files" / "export" / "shortlist_v1.xlsx"


@pytest.fixture
def db(tmp_path: Path) -> Database:
    database = open_database(tmp_path / "library.sqlite3")
    yield database
    database.dispose()


def _a_preset() -> tuple[str, dict]:
    name, doc = sorted(library.presets().items())[0]
    return name, doc


def test_presets_are_valid_read_only_copies() -> None:
    found = library.presets()
    files = sorted(resource_path("presets").glob("*.json"))
    assert len(found) == len(files) > 0
    for name, doc in found.items():
        assert parse_screen(doc).name == name
    name = next(iter(found))
    found[name]["name"] = "tampered"
    assert library.presets()[name]["name"] == name  # callers cannot change the shipped presets
    stem = files[0].stem
    assert library.preset_name(stem) is not None
    assert library.preset_name(name.upper()) == name
    assert library.preset_name("no such preset") is None


def test_load_screen_any_resolves_files_saved_names_and_presets(db: Database) -> None:
    from_file = library.load_screen_any(db, FILES / "small_caps_with_cash.json")
    assert from_file.name == "Small caps with cash"
    library.save_screen(db, from_file)
    assert library.load_screen_any(db, "Small caps with cash") == from_file
    name, doc = _a_preset()
    assert screen_to_dict(library.load_screen_any(db, name)) == doc
    assert library.load_screen_any(db, name.lower()).name == name
    with pytest.raises(NotFoundError, match="no saved screen, preset or screen file called 'Nothing'"):
        library.load_screen_any(db, "Nothing")


def test_exported_workbook_is_read_back(db: Database) -> None:
    if not EXPORTED_XLSX.is_file():
        pytest.skip(f"the export fixture {EXPORTED_XLSX} is absent")
    from desktop.export.excel import read_screen_definition

    screen = library.load_screen_any(db, EXPORTED_XLSX)
    assert screen == parse_screen(read_screen_definition(EXPORTED_XLSX))
    saved = library.import_screen_file(db, EXPORTED_XLSX)
    assert saved.version == 1 and saved.description == "imported from shortlist_v1.xlsx"


@pytest.mark.parametrize(("name", "error", "pattern"), [
    ("bad_field.json", ScreenDefinitionError, r"bad_field\.json.*criteria\[1\]\.field"),
    ("truncated.json", ScreenDefinitionError, r"truncated\.json.*not valid JSON"),
    ("missing.json", InputError, r"missing\.json: the file does not exist"),
    ("screen.txt", InputError, r"must be a \.json document"),
])
def test_bad_files_name_the_file_and_place(db: Database, tmp_path: Path, name: str, error: type,
                                           pattern: str) -> None:
    path = FILES / name if (FILES / name).exists() else tmp_path / name
    if name == "screen.txt":
        path.write_text("{}")
    with pytest.raises(error, match=pattern):
        library.import_screen_file(db, path)
    assert library.saved_screens(db) == []


def test_non_utf8_file(db: Database, tmp_path: Path) -> None:
    path = tmp_path / "latin1.json"
    path.write_bytes('{"version": 1, "name": "Café"}'.encode("latin-1"))
    with pytest.raises(ScreenDefinitionError, match="latin1.json: not UTF-8"):
        library.load_screen_any(db, path)


def test_saving_a_preset_makes_a_copy(db: Database) -> None:
    name, doc = _a_preset()
    screen = parse_screen(doc)
    first = library.save_screen(db, screen)
    assert first.name == f"{name} (copy)" and first.version == 1
    assert first.definition["name"] == f"{name} (copy)"
    changed = parse_screen({**doc, "description": "my variant"})
    second = library.save_screen(db, changed, "tweaked")
    assert (second.name, second.version, second.description) == (f"{name} (copy)", 2, "tweaked")
    assert library.presets()[name] == doc  # the preset is untouched
    assert screen_to_dict(library.load_screen_any(db, name)) == doc
    with pytest.raises(InputError, match="presets cannot be deleted"):
        library.delete_screen(db, name)


def test_history_diff_restore_export(db: Database, tmp_path: Path) -> None:
    doc = json.loads((FILES / "small_caps_with_cash.json").read_text())
    library.save_screen(db, parse_screen(doc), "v1")
    doc["criteria"][0]["max"] = 1_000_000_000
    library.save_screen(db, parse_screen(doc), "v2")
    changes = library.diff_versions(db, "Small caps with cash", 1)
    assert len(changes) == 2
    assert changes[0].startswith("removed: ") and changes[1].startswith("added: ")
    assert "2" in changes[0] and "1" in changes[1]
    restored = library.restore_screen(db, "Small caps with cash", 1)
    assert restored.version == 3 and restored.definition["criteria"][0]["max"] == 2_000_000_000
    assert [v.version for v in library.screen_history(db, "Small caps with cash")] == [1, 2, 3]
    out = library.export_screen_file(db, "Small caps with cash", tmp_path / "out.json")
    assert library.read_screen_file(out) == library.load_screen_any(db, "Small caps with cash")
    with pytest.raises(InputError, match=r"exported as \.json"):
        library.export_screen_file(db, "Small caps with cash", tmp_path / "out.xlsx")
    library.delete_screen(db, "Small caps with cash")
    assert library.saved_screens(db) == []


def test_describe_changes_falls_back_to_json_paths() -> None:
    assert library.describe_changes({"version": 1, "name": "A", "criteria": [{"field": "nope"}]},
                                    {"version": 1, "name": "A", "criteria": [{"field": "nope2"}]}) == [
        'criteria[0].field: "nope" -> "nope2"']
    base = {"version": 1, "name": "A", "criteria": [{"field": "market_cap", "max": 1e9}]}
    assert library.describe_changes(base, {**base, "match": "any"}) == ['match: "all" -> "any"']
    assert library.describe_changes(base, base) == []


def test_snapshot_and_watchlist_use_cases(db: Database) -> None:
    import pandas as pd

    from desktop.engine.dataset import Dataset

    sec = pd.DataFrame({"in_index": [True, True], "market_cap": [1e9, 2e9]},
                       index=pd.Index(["ZQA", "ZQB"], name="symbol"))
    with db.session() as s:
        snapshots.save_snapshot(s, Dataset(date(2026, 5, 5), sec), {"rows_read": 2})
    [info] = library.list_snapshots(db)
    detail = library.snapshot_detail(db, "2026-05-05")
    assert detail.info == info and detail.n_prices == 0
    assert library.summary_lines(info.summary) == ["rows_read: 2"]
    assert library.delete_snapshot(db, "2026-05-05").id == info.id
    assert library.list_snapshots(db) == []
    library.watch(db, "zqa", "note")
    assert [(w.symbol, w.note) for w in library.watchlist(db)] == [("ZQA", "note")]
    assert library.unwatch(db, "ZQA") and not library.unwatch(db, "ZQA")

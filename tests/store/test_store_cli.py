"""``pickaxe-cli snapshots|screens|watchlist``: plain summaries, confirmations, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from store_synth import make_dataset

from desktop.cli import main
from desktop.store import snapshots
from desktop.store.db import open_database

SCREEN_FILE = Path(__file__).resolve().parents[1] / "data_files" / "library" / "small_caps_with_cash.json"


def _cli(capsys: pytest.CaptureFixture[str], db: Path, *args: str) -> tuple[int, str, str]:
    code = main(["--db", str(db), *args])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    path = tmp_path / "cli.sqlite3"
    with open_database(path) as db, db.session() as s:
        snapshots.save_snapshot(s, make_dataset(12, 20), {"rows_read": 12})
    return path


def test_snapshots_list_show_delete(db_path: Path, capsys: pytest.CaptureFixture[str],
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    code, out, _ = _cli(capsys, db_path, "snapshots", "list")
    assert code == 0 and "2026-05-05" in out and "1 snapshot." in out
    code, out, _ = _cli(capsys, db_path, "snapshots", "show", "2026-05-05")
    assert code == 0 and "Snapshot 1: data as of 2026-05-05" in out and "rows_read: 12" in out
    assert "daily closes for 12 symbols over 20 days" in out
    # not a terminal and no --yes: nothing is deleted
    code, out, _ = _cli(capsys, db_path, "snapshots", "delete", "1")
    assert code == 1 and "Not deleted" in out
    monkeypatch.setattr("sys.stdin.isatty", lambda: True, raising=False)
    monkeypatch.setattr("builtins.input", lambda prompt: "n")
    assert _cli(capsys, db_path, "snapshots", "delete", "1")[0] == 1
    monkeypatch.setattr("builtins.input", lambda prompt: "y")
    code, out, _ = _cli(capsys, db_path, "snapshots", "delete", "1")
    assert code == 0 and "Deleted snapshot 1" in out
    code, out, err = _cli(capsys, db_path, "snapshots", "show", "1")
    assert code == 1 and "There is no snapshot 1." in err


def test_screens_workflow(db_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _cli(capsys, db_path, "screens", "save", str(SCREEN_FILE))
    assert (code, out.strip()) == (0, "Saved 'Small caps with cash' as version 1.")
    changed = json.loads(SCREEN_FILE.read_text())
    changed["criteria"][1]["min"] = 1_000_000
    edited = tmp_path / "edited.json"
    edited.write_text(json.dumps(changed))
    assert "as version 2" in _cli(capsys, db_path, "screens", "import", str(edited))[1]
    code, out, _ = _cli(capsys, db_path, "screens", "history", "Small caps with cash")
    assert code == 0 and "v2 (current)" in out and "removed:" in out and "added:" in out
    code, out, _ = _cli(capsys, db_path, "screens", "restore", "Small caps with cash", "1")
    assert out.strip() == "Restored 'Small caps with cash' version 1 as version 3."
    code, out, _ = _cli(capsys, db_path, "screens", "list")
    assert "Small caps with cash" in out and "v3" in out and "Presets (read-only):" in out
    code, out, _ = _cli(capsys, db_path, "screens", "show", "Small caps with cash", "--version", "2")
    assert code == 0 and "version 2 of 3" in out
    code, out, _ = _cli(capsys, db_path, "screens", "show", "Small caps with cash", "--json")
    assert json.loads(out)["criteria"][1]["min"] == 0
    target = tmp_path / "exported.json"
    code, out, _ = _cli(capsys, db_path, "screens", "export", "Small caps with cash", str(target))
    assert code == 0 and json.loads(target.read_text())["name"] == "Small caps with cash"
    code, out, err = _cli(capsys, db_path, "screens", "restore", "Small caps with cash", "9")
    assert code == 1 and "has no version 9" in err
    code, out, _ = _cli(capsys, db_path, "screens", "delete", "Small caps with cash", "--yes")
    assert code == 0 and "Deleted" in out


def test_watchlist(db_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert "The watchlist is empty" in _cli(capsys, db_path, "watchlist", "list")[1]
    code, out, _ = _cli(capsys, db_path, "watchlist", "add", "zqa", "watch", "the", "refinancing")
    assert out.strip() == "Pinned ZQA: watch the refinancing."
    code, out, _ = _cli(capsys, db_path, "watchlist", "list")
    assert "ZQA" in out and "watch the refinancing" in out and "1 pinned." in out
    assert _cli(capsys, db_path, "watchlist", "remove", "ZQA")[0] == 0
    code, out, _ = _cli(capsys, db_path, "watchlist", "remove", "ZQA")
    assert code == 1 and "was not on the watchlist" in out


def test_non_database_file_is_refused_and_kept(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    victim = tmp_path / "notes.txt"
    victim.write_text("my notes\n")
    code, _, err = _cli(capsys, victim, "screens", "list")
    assert code == 1 and "is not a Pickaxe database" in err
    assert victim.read_text() == "my notes\n"

"""Hostile stores (issue #13, root cause 6): damaged snapshot content, other programs' databases,
in-memory URLs.

Every case asserts a plain message (which snapshot, or which file, and what to do), that nothing
was changed (the foreign file byte for byte; the damaged store's snapshot list and content), and a
bounded time (the timeout marker: a hang fails instead of blocking the suite).
"""

from __future__ import annotations

import hashlib
import sqlite3
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "store"))  # the store tests' helpers
from store_synth import make_dataset  # noqa: E402

from desktop.cli import main  # noqa: E402
from desktop.errors import StoreError  # noqa: E402
from desktop.store import snapshots  # noqa: E402
from desktop.store.db import open_database  # noqa: E402
from desktop.store.snapshots import DamagedSnapshotError  # noqa: E402

pytestmark = pytest.mark.timeout(120)
AS_OF = "2026-05-05"  # make_dataset's as-of date


def _store(tmp_path: Path) -> Path:
    path = tmp_path / "store.sqlite3"
    with open_database(path) as db, db.session() as s:
        snapshots.save_snapshot(s, make_dataset(40, 60, seed=3), {"rows_read": 40})
    return path


def _damage(path: Path, *statements: str) -> None:
    """Change the file behind Pickaxe's back, as a bad disk, a bad copy or a stray tool would."""
    conn = sqlite3.connect(path)
    try:
        for statement in statements:
            conn.execute(statement)
        conn.commit()
    finally:
        conn.close()


def _flip_byte(path: Path, kind: str, symbol: str = "") -> None:
    """Flip one byte in the middle of a part's stored payload."""
    conn = sqlite3.connect(path)
    try:
        digest, payload = conn.execute(
            "SELECT b.digest, b.payload FROM blobs b JOIN snapshot_parts p ON p.digest = b.digest "
            "WHERE p.kind = ? AND p.symbol = ? LIMIT 1", (kind, symbol)).fetchone()
        data = bytearray(payload)
        data[len(data) // 2] ^= 0x5A
        conn.execute("UPDATE blobs SET payload = ? WHERE digest = ?", (bytes(data), digest))
        conn.commit()
    finally:
        conn.close()


def _first_price_symbol(path: Path) -> str:
    conn = sqlite3.connect(path)
    try:
        return conn.execute("SELECT symbol FROM snapshot_parts WHERE kind = 'prices' AND n_rows > 10 "
                            "ORDER BY symbol LIMIT 1").fetchone()[0]
    finally:
        conn.close()


def _as_before_0003(path: Path) -> None:
    """Make the stored snapshot look as one saved before schema 0003 (no checksums)."""
    _damage(path, "UPDATE snapshot_parts SET checksum = NULL",
            "UPDATE snapshots SET securities_checksum = NULL, n_parts = NULL")


def _a_symbol(path: Path) -> str:
    conn = sqlite3.connect(path)
    try:
        return conn.execute("SELECT symbol FROM snapshot_securities ORDER BY symbol LIMIT 1 OFFSET 3").fetchone()[0]
    finally:
        conn.close()


DAMAGE: dict[str, Callable[[Path], None]] = {
    "json_row_not_json": lambda p: _damage(
        p, f"UPDATE snapshot_securities SET data = '{{\"name\": ' WHERE symbol = '{_a_symbol(p)}'"),
    "json_row_edited_value": lambda p: _damage(
        p, f"UPDATE snapshot_securities SET data = json_set(data, '$.market_cap', 1.0) "
           f"WHERE symbol = '{_a_symbol(p)}'"),
    "json_row_deleted": lambda p: _damage(
        p, f"DELETE FROM snapshot_securities WHERE symbol = '{_a_symbol(p)}'"),
    "json_row_not_an_object": lambda p: _damage(
        p, f"UPDATE snapshot_securities SET data = '[1, 2]' WHERE symbol = '{_a_symbol(p)}'"),
    "history_part_missing": lambda p: _damage(p, "DELETE FROM snapshot_parts WHERE kind = 'history'"),
    "one_price_part_missing": lambda p: _damage(
        p, f"DELETE FROM snapshot_parts WHERE kind = 'prices' AND symbol = '{_first_price_symbol(p)}'"),
    "history_byte_flipped": lambda p: _flip_byte(p, "history"),
    "prices_byte_flipped": lambda p: _flip_byte(p, "prices", _first_price_symbol(p)),  # raw floats
    "part_points_at_other_blob": lambda p: _damage(
        p, "UPDATE snapshot_parts SET digest = (SELECT digest FROM snapshot_parts WHERE kind = 'market') "
           "WHERE kind = 'history'"),
    "old_snapshot_prices_byte_flipped": lambda p: (_as_before_0003(p),
                                                   _flip_byte(p, "prices", _first_price_symbol(p))),
    "old_snapshot_history_byte_flipped": lambda p: (_as_before_0003(p), _flip_byte(p, "history")),
    "old_snapshot_json_row_not_json": lambda p: (_as_before_0003(p), DAMAGE["json_row_not_json"](p)),
    "old_snapshot_json_row_deleted": lambda p: (_as_before_0003(p), DAMAGE["json_row_deleted"](p)),
    "summary_not_json": lambda p: _damage(p, "UPDATE snapshots SET summary = '{\"rows_read\": '"),
}


def _snapshot_state(path: Path) -> str:
    """A digest of every stored row: the store must be exactly as it was after a refused load."""
    conn = sqlite3.connect(path)
    try:
        h = hashlib.sha256()
        for table in ("snapshots", "snapshot_securities", "snapshot_parts", "blobs", "screen_runs"):
            for row in conn.execute(f"SELECT * FROM {table} ORDER BY 1, 2"):  # noqa: S608 - fixed names
                h.update(repr(row).encode())
        return h.hexdigest()
    finally:
        conn.close()


@pytest.mark.parametrize("kind", sorted(DAMAGE))
def test_damaged_snapshot_is_refused_with_its_id_and_date(kind: str, tmp_path: Path) -> None:
    path = _store(tmp_path)
    DAMAGE[kind](path)
    before = _snapshot_state(path)
    with open_database(path) as db, db.read_session() as s:
        with pytest.raises(DamagedSnapshotError) as info:
            snapshots.load_dataset(s, 1)
        # listing still works, so the user can see and delete the damaged snapshot
        assert [i.id for i in snapshots.list_snapshots(s)] == [1]
    message = str(info.value)
    assert message.startswith(f"Snapshot 1 (as of {AS_OF}) is damaged: ")
    assert "pickaxe-cli snapshots delete 1" in message
    assert _snapshot_state(path) == before


@pytest.mark.parametrize("kind", ["json_row_edited_value", "prices_byte_flipped", "history_part_missing"])
def test_cli_run_on_a_damaged_snapshot_says_which_and_screens_nothing(
        kind: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _store(tmp_path)
    DAMAGE[kind](path)
    before = _snapshot_state(path)
    code = main(["--db", str(path), "run", "Cash survivors"])
    out, err = capsys.readouterr()
    assert code == 1
    assert f"Snapshot 1 (as of {AS_OF}) is damaged" in err
    assert "Traceback" not in out + err
    assert "passed" not in out.lower()
    assert _snapshot_state(path) == before  # not even a run was recorded


def test_damaged_snapshot_can_be_deleted_and_the_others_still_load(tmp_path: Path) -> None:
    path = _store(tmp_path)
    with open_database(path) as db, db.session() as s:
        second = snapshots.save_snapshot(s, make_dataset(30, 60, seed=9), {})
    _flip_byte(path, "history")  # the first snapshot's history (the second has its own)
    with open_database(path) as db, db.session() as s:
        snapshots.load_dataset(s, second)
        with pytest.raises(DamagedSnapshotError, match="Snapshot 1 "):
            snapshots.load_dataset(s, 1)
        snapshots.delete_snapshot(s, 1)
    with open_database(path) as db, db.read_session() as s:
        assert [i.id for i in snapshots.list_snapshots(s)] == [second]
        assert len(snapshots.load_dataset(s).securities) == 30


# --- other programs' databases -----------------------------------------------------------------


def _sqlite_file(path: Path, *statements: str, wal: bool = False) -> Path:
    conn = sqlite3.connect(path)
    if wal:
        conn.execute("PRAGMA journal_mode = WAL")
    for statement in statements:
        conn.execute(statement)
    conn.commit()
    conn.close()
    return path


FOREIGN = {
    # Another program managed by Alembic whose first revision is also called "0001".
    "alembic_same_revision": ("CREATE TABLE alembic_version (version_num VARCHAR(32) PRIMARY KEY)",
                              "INSERT INTO alembic_version VALUES ('0001')",
                              "CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT)",
                              "INSERT INTO users VALUES (1, 'a@example.invalid')"),
    "alembic_hex_revision": ("CREATE TABLE alembic_version (version_num VARCHAR(32) PRIMARY KEY)",
                             "INSERT INTO alembic_version VALUES ('ae1027a6acf')",
                             "CREATE TABLE orders (id INTEGER PRIMARY KEY)"),
    # Pickaxe's table names, someone else's columns.
    "alembic_lookalike_tables": ("CREATE TABLE alembic_version (version_num VARCHAR(32) PRIMARY KEY)",
                                 "INSERT INTO alembic_version VALUES ('0002')",
                                 *(f"CREATE TABLE {t} (x TEXT)" for t in (
                                     "snapshots", "snapshot_securities", "blobs", "snapshot_parts",
                                     "screens", "screen_versions", "screen_runs", "run_members",
                                     "watchlist", "raw_payloads"))),
    "views_only": ("CREATE VIEW answer AS SELECT 42 AS value",),
    "views_only_wal": ("CREATE VIEW answer AS SELECT 42 AS value",),
    "alembic_version_rows_only": ("CREATE TABLE alembic_version (version_num VARCHAR(32) PRIMARY KEY)",
                                  "INSERT INTO alembic_version VALUES ('0001')"),
    "two_alembic_heads": ("CREATE TABLE alembic_version (version_num VARCHAR(32) PRIMARY KEY)",
                          "INSERT INTO alembic_version VALUES ('0001')",
                          "INSERT INTO alembic_version VALUES ('0002')"),
}


@pytest.mark.parametrize("kind", sorted(FOREIGN))
def test_foreign_database_is_refused_and_left_byte_identical(kind: str, tmp_path: Path) -> None:
    path = _sqlite_file(tmp_path / "other.db", *FOREIGN[kind], wal=kind.endswith("_wal") or kind.startswith("alembic"))
    before = path.read_bytes()
    siblings_before = sorted(p.name for p in tmp_path.iterdir())
    with pytest.raises(StoreError) as info:
        open_database(path)
    message = str(info.value)
    assert str(path) in message and "left untouched" in message
    assert "another program" in message
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == siblings_before  # no -wal / -shm created


def test_foreign_database_open_by_its_program_is_refused_read_only(tmp_path: Path) -> None:
    """The other program holds the file open in WAL mode with uncommitted-to-file frames."""
    path = _sqlite_file(tmp_path / "busy.db", *FOREIGN["alembic_same_revision"], wal=True)
    owner = sqlite3.connect(path)
    owner.execute("PRAGMA wal_autocheckpoint = 0")
    owner.execute("INSERT INTO users VALUES (2, 'b@example.invalid')")
    owner.commit()  # now in the -wal file only
    try:
        files = {p.name: p.read_bytes() for p in tmp_path.iterdir() if not p.name.endswith("-shm")}
        with pytest.raises(StoreError, match="another program"):
            open_database(path)
        assert {p.name: p.read_bytes() for p in tmp_path.iterdir() if not p.name.endswith("-shm")} == files
        assert owner.execute("SELECT COUNT(*) FROM users").fetchone()[0] == 2
    finally:
        owner.close()


def test_pickaxe_database_missing_a_table_is_refused_as_damaged(tmp_path: Path) -> None:
    path = _store(tmp_path)
    _damage(path, "DROP TABLE watchlist")
    before = path.read_bytes()
    with pytest.raises(StoreError, match=r"is damaged: schema \d{4} lacks the tables watchlist"):
        open_database(path)
    assert path.read_bytes() == before


# --- in-memory URLs ----------------------------------------------------------------------------


@pytest.mark.parametrize("url", ["sqlite://", "sqlite:///:memory:", "sqlite:///file::memory:?uri=true",
                                 "sqlite:///file:pickaxe?mode=memory&cache=shared&uri=true"])
def test_in_memory_database_is_refused(url: str) -> None:
    with pytest.raises(StoreError, match="in-memory database") as info:
        open_database(url)
    assert "--db" in str(info.value)


def test_cli_import_into_memory_keeps_nothing_and_says_so(tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    holdings = Path(__file__).resolve().parents[2] / "data_files" / "ishares"
    files = sorted(holdings.glob("*.csv"))
    assert files, "the iShares fixtures are missing"
    code = main(["--db", "sqlite://", "import", "ishares", str(files[0])])
    out, err = capsys.readouterr()
    assert code == 1
    assert "in-memory database" in err
    assert "Imported" not in out and "Traceback" not in out + err


def test_sqlite_uri_to_a_file_still_works(tmp_path: Path) -> None:
    path = tmp_path / "uri.sqlite3"
    with open_database(f"sqlite:///file:{path}?uri=true") as db, db.session() as s:
        snapshots.save_snapshot(s, make_dataset(5, 5), {})
    with open_database(path) as db, db.read_session() as s:
        assert len(snapshots.load_dataset(s).securities) == 5


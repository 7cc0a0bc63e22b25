"""Opening databases: schema creation, migration forward, refusals that leave files untouched,
busy handling and error messages."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from desktop.errors import DatabaseBusyError, StoreError
from desktop.store import db as dbmod
from desktop.store import runs, screens, snapshots, watchlist
from desktop.store.db import Database, head_revision, known_revisions, open_database
from desktop.store.models import Base

V1_SQL = Path(__file__).resolve().parents[1] / "data_files" / "store" / "schema_v1.sql"


def test_fresh_database_matches_the_models(db: Database) -> None:
    assert db.schema_revision() == head_revision() == known_revisions()[-1]
    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []  # the migrations build exactly the schema the ORM models describe


def test_revision_file_names_are_the_alembic_chain() -> None:
    """known_revisions() reads file names (no Alembic import); Alembic must see the same chain."""
    cfg = Config()
    cfg.set_main_option("script_location", str(dbmod.MIGRATIONS_DIR))
    script = ScriptDirectory.from_config(cfg)
    chain = [rev.revision for rev in reversed(list(script.walk_revisions()))]
    assert known_revisions() == chain and head_revision() == script.get_current_head()
    assert [script.get_revision(r).down_revision for r in chain] == [None, *chain[:-1]]


OPEN_AND_REPORT = """
import sys
from desktop.store.db import open_database
database = open_database(sys.argv[1])
print(database.schema_revision(), "alembic" in sys.modules)
"""


def test_opening_a_current_database_does_not_import_alembic(db_url: str) -> None:
    """Alembic costs ~0.1 s of every start; it is imported only when a migration is needed (#17)."""
    def open_in_a_new_process() -> list[str]:
        done = subprocess.run([sys.executable, "-c", OPEN_AND_REPORT, db_url], capture_output=True, text=True,
                              cwd=Path(__file__).resolve().parents[2], timeout=120)
        assert done.returncode == 0, done.stderr
        return done.stdout.split()

    assert open_in_a_new_process() == [head_revision(), "True"]  # empty: it migrates
    assert open_in_a_new_process() == [head_revision(), "False"]  # current: it does not


def test_sqlite_settings(sqlite_db: Database) -> None:
    with sqlite_db.session() as s:
        assert s.execute(sa.text("PRAGMA journal_mode")).scalar() == "wal"
        assert s.execute(sa.text("PRAGMA foreign_keys")).scalar() == 1
        assert s.execute(sa.text("PRAGMA busy_timeout")).scalar() == int(dbmod.DEFAULT_BUSY_TIMEOUT_S * 1000)


def test_plain_path_and_default_location(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = open_database(str(tmp_path / "by-path.sqlite3"))
    db.dispose()
    assert (tmp_path / "by-path.sqlite3").is_file()
    monkeypatch.setenv("PICKAXE_DATA_DIR", str(tmp_path / "data"))
    db = open_database()
    db.dispose()
    assert (tmp_path / "data" / "pickaxe.sqlite3").is_file()


def test_reopening_keeps_data(db_url: str) -> None:
    with open_database(db_url) as db, db.session() as s:
        screens.save_screen(s, "Keep me", {"version": 1})
    with open_database(db_url) as db, db.session() as s:
        assert screens.get_screen(s, "Keep me").version == 1


def test_session_rolls_back_on_error(db: Database) -> None:
    with pytest.raises(ValueError), db.session() as s:
        watchlist.add(s, "ZZZ")
        raise ValueError("boom")
    with db.session() as s:
        assert watchlist.list_watchlist(s) == []


# --- migrating forward ------------------------------------------------------------------------


def _check_v1_content(db: Database) -> None:
    assert db.schema_revision() == head_revision()
    with db.session() as s:
        [info] = snapshots.list_snapshots(s)
        assert info.as_of == date(2026, 3, 2)
        assert info.n_members == 2  # back-filled by migration 0002
        dataset = snapshots.load_dataset(s)
        assert list(dataset.securities.index) == ["ZQAA", "ZQBB", "ZQCC"]
        assert dataset.securities.loc["ZQCC", "market_cap"] == 1.5e9
        assert dataset.prices.empty
        history = screens.screen_history(s, "Old survivors")
        assert [h.version for h in history] == [1, 2]
        assert history[0].definition["criteria"][0]["max"] == 2000000000
        assert [w.symbol for w in watchlist.list_watchlist(s)] == ["ZQBB"]
        assert runs.latest_runs(s, "Old survivors")[0].symbols == ("ZQBB", "ZQAA")
        # and the new table works
        from datetime import datetime

        from desktop.store import rawcache
        rawcache.put_raw(s, "yahoo", "ZQAA", "info", {"a": 1}, datetime(2026, 3, 3))
        # and new snapshots can be added next to the old one
        snapshots.save_snapshot(s, dataset, {})


def test_v1_sqlite_file_is_migrated_forward(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    conn = sqlite3.connect(path)
    conn.executescript(V1_SQL.read_text())
    conn.close()
    with open_database(path, migrate=False) as old:
        assert old.schema_revision() == "0001"
    with open_database(path) as db:
        _check_v1_content(db)


def _insert_v1_rows(conn: sa.Connection) -> None:
    conn.execute(sa.text(
        "INSERT INTO snapshots (id, as_of, created_at, sources, summary, securities_schema, n_securities) "
        "VALUES (1, :as_of, :created, :sources, '{}', :schema, 3)"),
        {"as_of": date(2026, 3, 2), "created": "2026-03-02 18:00:00", "sources": "[]",
         "schema": '[["__index__", "object"], ["name", "object"], ["in_index", "bool"], '
                   '["market_cap", "float64"]]'})
    for symbol, member, data in (("ZQAA", True, '{"name": "Zqaa Widgets Inc"}'),
                                 ("ZQBB", True, '{"name": "Zqbb", "market_cap": 512000000.0}'),
                                 ("ZQCC", False, '{"name": "Zqcc", "market_cap": 1.5e9}')):
        conn.execute(sa.text("INSERT INTO snapshot_securities VALUES (1, :s, :m, :d)"),
                     {"s": symbol, "m": member, "d": data})
    conn.execute(sa.text("INSERT INTO screens VALUES (1, 'Old survivors', :t, :t, 2)"),
                 {"t": "2026-03-02 10:00:00"})
    for version, cap in ((1, 2000000000), (2, 1000000000)):
        conn.execute(sa.text("INSERT INTO screen_versions VALUES (:v, 1, :v, '', :d, :t, NULL)"),
                     {"v": version, "d": f'{{"criteria": [{{"field": "market_cap", "max": {cap}}}]}}',
                      "t": "2026-03-02 10:00:00"})
    conn.execute(sa.text("INSERT INTO screen_runs VALUES (1, 'Old survivors', 2, '{}', 1, :d, :t, 2)"),
                 {"d": date(2026, 3, 2), "t": "2026-03-02 18:05:00"})
    conn.execute(sa.text("INSERT INTO run_members VALUES (1, 'ZQBB', 1, NULL), (1, 'ZQAA', 2, 0.5)"))
    conn.execute(sa.text("INSERT INTO watchlist VALUES ('ZQBB', 'note', :t)"), {"t": "2026-03-02 12:00:00"})


def test_v1_database_is_migrated_forward_on_any_backend(db_url: str) -> None:
    engine = dbmod._engine_for(sa.make_url(db_url), 5)
    try:
        dbmod._migrate(engine, "test", "0001")
        with engine.begin() as conn:
            _insert_v1_rows(conn)
            if conn.dialect.name == "postgresql":  # explicit ids: move the sequences on
                for table in ("snapshots", "screens", "screen_versions", "screen_runs"):
                    conn.execute(sa.text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), 10)"))
    finally:
        engine.dispose()
    with open_database(db_url) as db:
        _check_v1_content(db)


def test_database_from_a_newer_pickaxe_is_refused(db_url: str, tmp_path: Path) -> None:
    with open_database(db_url) as db, db.session() as s:
        s.execute(sa.text("UPDATE alembic_version SET version_num = '0099'"))
    sqlite_file = tmp_path / "pickaxe.sqlite3"
    before = sqlite_file.read_bytes() if sqlite_file.exists() else None
    with pytest.raises(StoreError, match=r"newer version of Pickaxe \(schema 0099"):
        open_database(db_url)
    if before is not None:
        assert sqlite_file.read_bytes() == before


# --- refusing files that are not ours --------------------------------------------------------


def _truncated_database(path: Path, tmp_path: Path) -> bytes:
    good = tmp_path / "good.sqlite3"
    with open_database(good) as db, db.session() as s:
        snapshots.save_snapshot(s, __import__("store_synth").make_dataset(30, 200), {})
    data = good.read_bytes()
    return data[: len(data) // 2]


@pytest.mark.parametrize("kind", ["text", "random", "header_garbage", "truncated", "other_program",
                                  "short_header"])
def test_foreign_or_corrupt_files_are_never_touched(kind: str, tmp_path: Path) -> None:
    path = tmp_path / "victim.db"
    if kind == "text":
        path.write_text("ticker,price\nZZZ,1.0\n")
    elif kind == "random":
        path.write_bytes(os.urandom(8192))
    elif kind == "header_garbage":
        path.write_bytes(dbmod.SQLITE_MAGIC + os.urandom(8192))
    elif kind == "short_header":
        path.write_bytes(dbmod.SQLITE_MAGIC + b"\x10\x00")
    elif kind == "truncated":
        path.write_bytes(_truncated_database(path, tmp_path))
    elif kind == "other_program":
        conn = sqlite3.connect(path)
        conn.execute("CREATE TABLE bookmarks (url TEXT)")
        conn.execute("INSERT INTO bookmarks VALUES ('https://example.invalid')")
        conn.commit()
        conn.close()
    before = path.read_bytes()
    with pytest.raises(StoreError) as info:
        open_database(path)
    message = str(info.value)
    assert str(path) in message
    assert "untouched" in message or "damaged" in message
    assert path.read_bytes() == before
    assert not Path(f"{path}-wal").exists() or kind == "other_program"


def test_folder_and_missing_parent_are_refused(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="is a folder"):
        open_database(tmp_path)
    with pytest.raises(StoreError, match="does not exist"):
        open_database(tmp_path / "nowhere" / "x.sqlite3")


def test_empty_file_becomes_a_database(tmp_path: Path) -> None:
    path = tmp_path / "empty.sqlite3"
    path.touch()
    with open_database(path) as db:
        assert db.schema_revision() == head_revision()


def test_unreachable_server_and_unknown_driver() -> None:
    with pytest.raises(StoreError, match="Cannot reach the database server for postgresql"):
        open_database("postgresql+psycopg://nobody:secret@127.0.0.1:1/none", busy_timeout=1)
    with pytest.raises(StoreError) as info:
        open_database("nosuchdb://somewhere/x")
    assert "secret" not in str(info.value)


# --- two writers on one SQLite file ------------------------------------------------------------


def _hold_write_lock(path: Path) -> sqlite3.Connection:
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")
    return holder


def test_busy_database_gives_a_plain_message(tmp_path: Path) -> None:
    path = tmp_path / "shared.sqlite3"
    open_database(path).dispose()
    holder = _hold_write_lock(path)
    try:
        with open_database(path, busy_timeout=0.2) as db:  # opening an up-to-date file needs no lock
            with db.read_session() as s:
                assert screens.list_screens(s) == []  # readers are not blocked (WAL)
            with pytest.raises(DatabaseBusyError, match=f"{path} is busy: another Pickaxe window"):
                with db.session() as s:
                    screens.save_screen(s, "Waits", {"version": 1})
    finally:
        holder.rollback()
        holder.close()


def test_second_writer_waits_for_the_first(tmp_path: Path) -> None:
    path = tmp_path / "shared.sqlite3"
    open_database(path).dispose()
    holder = _hold_write_lock(path)
    holder.execute("INSERT INTO watchlist VALUES ('ZFIRST', '', '2026-01-01 00:00:00')")
    release = threading.Timer(0.5, holder.commit)
    release.start()
    started = time.monotonic()
    try:
        with open_database(path, busy_timeout=10) as db:
            with db.session() as s:
                watchlist.add(s, "ZSECOND")
            with db.session() as s:
                assert [w.symbol for w in watchlist.list_watchlist(s)] == ["ZFIRST", "ZSECOND"]
        assert time.monotonic() - started >= 0.4
    finally:
        release.join()
        holder.close()


def test_copy_of_database_stays_openable(tmp_path: Path) -> None:
    """A file copied while closed (a backup) opens fine: WAL content was checkpointed on dispose."""
    path = tmp_path / "a.sqlite3"
    with open_database(path) as db, db.session() as s:
        screens.save_screen(s, "Backed up", {"version": 1})
    shutil.copy(path, tmp_path / "b.sqlite3")
    with open_database(tmp_path / "b.sqlite3") as db, db.session() as s:
        assert screens.get_screen(s, "Backed up").version == 1


def test_threads_share_one_database(tmp_path: Path) -> None:
    """A worker thread saving while other threads read and write (one session per thread)."""
    from concurrent.futures import ThreadPoolExecutor

    from store_synth import make_dataset

    db = open_database(tmp_path / "threads.sqlite3")
    dataset = make_dataset(50, 100)

    def save(i: int) -> int:
        with db.session() as s:
            return snapshots.save_snapshot(s, dataset, {"i": i})

    def read(_: int) -> int:
        with db.read_session() as s:
            return len(snapshots.list_snapshots(s))

    def pin(i: int) -> None:
        with db.session() as s:
            watchlist.add(s, f"ZT{i}")

    try:
        with ThreadPoolExecutor(max_workers=4) as pool:
            saves = [pool.submit(save, i) for i in range(4)]
            reads = [pool.submit(read, i) for i in range(8)]
            pins = [pool.submit(pin, i) for i in range(8)]
            ids = sorted(f.result() for f in saves)
            assert all(0 <= f.result() <= 4 for f in reads)
            for f in pins:
                f.result()
        assert len(set(ids)) == 4
        with db.read_session() as s:
            assert len(watchlist.list_watchlist(s)) == 8
            for sid in ids:
                assert len(snapshots.load_dataset(s, sid, with_prices=False).securities) == 50
    finally:
        db.dispose()


@pytest.mark.parametrize("content", ["table", "view", "alembic"])
def test_foreign_schema_is_refused_on_any_backend(db_url: str, content: str) -> None:
    """Another program's tables, views only, or another Alembic project at revision "0001": refused,
    and nothing is created or changed (issue #13)."""
    engine = sa.create_engine(db_url)
    statements = {
        "table": ["CREATE TABLE bookmarks (url TEXT)", "INSERT INTO bookmarks VALUES ('x')"],
        "view": ["CREATE VIEW answer AS SELECT 42 AS value"],
        "alembic": ["CREATE TABLE alembic_version (version_num VARCHAR(32) PRIMARY KEY)",
                    "INSERT INTO alembic_version VALUES ('0001')", "CREATE TABLE users (id INTEGER)"],
    }[content]
    try:
        with engine.begin() as conn:
            for statement in statements:
                conn.exec_driver_sql(statement)
        before = sa.inspect(engine)
        tables, views = set(before.get_table_names()), set(before.get_view_names())
        with pytest.raises(StoreError, match="another program") as info:
            open_database(db_url)
        assert "left untouched" in str(info.value)
        after = sa.inspect(engine)
        assert (set(after.get_table_names()), set(after.get_view_names())) == (tables, views)
        if content == "alembic":
            with engine.connect() as conn:
                assert conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar() == "0001"
    finally:
        engine.dispose()

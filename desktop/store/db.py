"""Open the database (SQLite file or any SQLAlchemy URL), check it, migrate it forward.

``open_database`` never writes to a file it has not recognised: a non-database file, a truncated
or corrupt one, another program's SQLite database (Alembic-managed or not, tables or only views),
or a database written by a newer Pickaxe are refused with a :class:`StoreError` before anything
touches them. An existing SQLite file is first looked at through a read-only connection
(``mode=ro``); only a file recognised as Pickaxe's (or one with no schema at all) is then opened
for writing. A recognised older database is migrated forward with the Alembic revisions shipped
in ``desktop/store/migrations``. An in-memory SQLite URL is refused: it would keep nothing.

SQLite runs in WAL mode (readers never block the writer), with foreign keys on and a busy timeout.
Write functions in this package call :func:`begin_write` first so that a second process waits for
the write lock (up to the timeout) instead of failing half-way; a timeout becomes
:class:`DatabaseBusyError`.
"""

from __future__ import annotations

import logging
import sqlite3
import struct
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event, exc
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.orm import Session

from desktop import paths
from desktop.errors import DatabaseBusyError, StoreError

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
SQLITE_MAGIC = b"SQLite format 3\x00"
DEFAULT_BUSY_TIMEOUT_S = 15.0
_PG_MIGRATION_LOCK = 0x50_4B_41_58  # "PKAX": advisory lock id serialising migrations on PostgreSQL


class NotFoundError(StoreError):
    """A snapshot, saved screen or run asked for by name or id does not exist."""


@cache
def known_revisions() -> list[str]:
    """Every schema revision this version knows, oldest first.

    Read from the names of the revision files (``versions/0004_what.py`` is revision ``0004``, each
    revising the one before), not through Alembic: importing Alembic costs ~0.1 s of every start-up,
    and it is needed only to migrate (issue #17). tests/store/test_store_db.py checks that Alembic
    sees the same chain.
    """
    names = sorted(p.name for p in (MIGRATIONS_DIR / "versions").glob("[0-9][0-9][0-9][0-9]_*.py"))
    return [name[:4] for name in names]


def head_revision() -> str:
    """The schema revision this version of Pickaxe writes."""
    return known_revisions()[-1]


class Database:
    """An open database. Use :meth:`session` for each unit of work (the caller owns the session)."""

    def __init__(self, engine: Engine, url: str, busy_timeout: float, where: str | None = None) -> None:
        self.engine = engine
        self.url = url
        self.busy_timeout = busy_timeout
        self.where = where or self.display_url()  # the file path, or the URL without password
        # SQLite: sessions take the write lock when they begin (BEGIN IMMEDIATE), so a session that
        # reads and then writes never fails half-way because another process wrote meanwhile; in
        # WAL mode readers elsewhere are not blocked by it. read_session() skips the lock.
        self._write_engine = engine.execution_options(sqlite_begin="IMMEDIATE")

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @property
    def is_sqlite(self) -> bool:
        return self.dialect == "sqlite"

    def display_url(self) -> str:
        """The URL with any password hidden, for messages and logs."""
        return make_url(self.url).render_as_string(hide_password=True)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session in one transaction: commits on success, rolls back on any error.

        On SQLite it holds the write lock from its first statement, so another process's writer
        waits (up to ``busy_timeout``) rather than failing half-way. Busy, locked and
        unreachable-database errors become :class:`DatabaseBusyError` / :class:`StoreError` with a
        plain message; other exceptions pass through unchanged.
        """
        with self._session(self._write_engine) as session:
            yield session

    @contextmanager
    def read_session(self) -> Iterator[Session]:
        """Like :meth:`session` for read-only work: takes no write lock, so it never waits for a
        writer (on SQLite it reads the last committed state). Do not write in it."""
        with self._session(self.engine) as session:
            yield session

    @contextmanager
    def _session(self, bind: Engine) -> Iterator[Session]:
        with translate_errors(self.where):
            with Session(bind, expire_on_commit=False) as session, session.begin():
                yield session

    def schema_revision(self) -> str | None:
        """The revision in ``alembic_version`` (None for an empty database), read without Alembic."""
        with self.engine.connect() as conn:
            return _inspect(conn).revision

    def dispose(self) -> None:
        """Close every pooled connection (SQLite then checkpoints the WAL into the main file)."""
        self.engine.dispose()

    def __enter__(self) -> Database:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.dispose()

    def __repr__(self) -> str:
        return f"Database({self.display_url()!r})"


def begin_write(session: Session) -> None:
    """Take the write lock now, at the start of a write transaction.

    SQLite transactions start deferred; one that reads first and writes later can fail at once
    with "database is locked" when another process wrote meanwhile. Touching ``alembic_version``
    with a write that changes nothing acquires the lock up front, waiting for the busy timeout.
    PostgreSQL needs nothing here (row locks are taken where needed).
    """
    if session.get_bind().dialect.name == "sqlite":
        session.execute(sa.text("UPDATE alembic_version SET version_num = version_num WHERE 1 = 0"))


@contextmanager
def translate_errors(where: str) -> Iterator[None]:
    """Map driver errors the user can act on to :class:`StoreError` subclasses."""
    try:
        yield
    except exc.OperationalError as error:
        raise _translate(error, where) from error
    except exc.DatabaseError as error:
        text = str(error.orig).lower()
        if "malformed" in text or "not a database" in text:
            raise StoreError(f"The database {where} is damaged ({error.orig}).",
                             hint="Restore it from a backup or open another file with --db.") from error
        raise


def _translate(error: exc.OperationalError, where: str) -> StoreError:
    text = str(error.orig).lower()
    if "locked" in text or "busy" in text:
        return DatabaseBusyError(
            f"The database {where} is busy: another Pickaxe window or command is writing to it.",
            hint="Wait for it to finish, then try again.")
    if "readonly" in text or "read-only" in text:
        return StoreError(f"The database {where} is read-only.",
                          hint="Check the file's permissions or open another file with --db.")
    if "malformed" in text or "not a database" in text or "disk i/o" in text:
        return StoreError(f"The database {where} is damaged or unreadable ({error.orig}).",
                          hint="Restore it from a backup or open another file with --db.")
    first_line = str(error.orig).strip().splitlines()[0] if str(error.orig).strip() else ""
    if "connection" in text or "could not connect" in text or "timeout" in text:
        return StoreError(f"Cannot reach the database server for {where}: {first_line}",
                          hint="Check that the server is running and that the URL is right.")
    return StoreError(f"Cannot use the database {where}: {first_line}".strip())


def _sqlite_path(url: sa.URL) -> Path | None:
    """The file behind a SQLite URL (plain or ``file:`` URI form).

    Raises:
        StoreError: the URL names an in-memory database, which would keep nothing (issue #13: an
            import into ``sqlite://`` reported "Imported ... snapshot 1" and lost it on exit).
    """
    database = url.database or ""
    if database.startswith("file:"):  # sqlite:///file:NAME?mode=...&uri=true
        parsed = urllib.parse.urlsplit(database)
        query = {**urllib.parse.parse_qs(parsed.query), **{k: [v] for k, v in url.query.items()
                                                          if isinstance(v, str)}}
        name = urllib.parse.unquote(parsed.path)
        if "memory" in query.get("mode", []) or name in ("", ":memory:"):
            database = ""
        else:
            database = name
    if not database or database == ":memory:":
        raise StoreError(
            f"{url.render_as_string(hide_password=True)!r} is an in-memory database: everything "
            "imported into it would be lost when Pickaxe exits.",
            hint="Give a file name with --db (or PICKAXE_DB).")
    return Path(database)


def _check_sqlite_file(path: Path) -> None:
    """Refuse, without writing a byte, anything that is not an intact SQLite database."""
    if path.is_dir():
        raise StoreError(f"{path} is a folder, not a database file.", hint="Give a file name with --db.")
    if not path.exists():
        if not path.parent.is_dir():
            raise StoreError(f"Cannot create the database {path}: the folder {path.parent} does not exist.")
        return
    size = path.stat().st_size
    if size == 0:
        return  # an empty file is an empty database: SQLite initialises it
    with path.open("rb") as fh:
        header = fh.read(100)
    if not header.startswith(SQLITE_MAGIC):
        raise StoreError(f"{path} is not a Pickaxe database (it is not an SQLite file); it was left untouched.",
                         hint="Give another file with --db, or a new file name to start an empty database.")
    if len(header) < 100:
        raise StoreError(f"The database {path} is damaged (its header is truncated); it was left untouched.")
    (page_size,) = struct.unpack(">H", header[16:18])
    page_size = 65536 if page_size == 1 else page_size
    change_counter, n_pages = struct.unpack(">II", header[24:32])
    (valid_for,) = struct.unpack(">I", header[92:96])
    # The in-header page count is trustworthy when valid_for matches the change counter. With a
    # non-empty -wal file beside it, a checkpoint interrupted by a crash can leave the main file
    # shorter than its header for a moment; SQLite's recovery completes it from the WAL.
    wal = Path(f"{path}-wal")
    wal_pending = wal.exists() and wal.stat().st_size > 0
    if change_counter == valid_for and n_pages * page_size > size and not wal_pending:
        raise StoreError(
            f"The database {path} is damaged: it is shorter than its header says (truncated copy?); "
            "it was left untouched.", hint="Restore it from a backup or open another file with --db.")


# The tables each schema revision has: a database is Pickaxe's only when its Alembic revision is
# one of ours AND these tables are there (another program's Alembic database may well be at a
# revision called "0001" too; issue #13 found one being switched to WAL before it was refused).
_TABLES_0001 = frozenset({"snapshots", "snapshot_securities", "blobs", "snapshot_parts", "screens",
                          "screen_versions", "screen_runs", "run_members", "watchlist"})
_TABLES_0002 = _TABLES_0001 | {"raw_payloads"}
_TABLES_0004 = _TABLES_0002 | {"metric_tables"}
_TABLES_BY_REVISION = {"0001": _TABLES_0001, "0002": _TABLES_0002, "0003": _TABLES_0002, "0004": _TABLES_0004}
# Pickaxe's fingerprint: these tables, with these columns of ``snapshots`` (present since 0001).
# A database that has it but lacks other tables of its revision is a damaged Pickaxe database.
_CORE_TABLES = frozenset({"snapshots", "snapshot_parts", "blobs"})
_SNAPSHOT_COLUMNS_0001 = frozenset({"id", "as_of", "created_at", "sources", "summary",
                                    "securities_schema", "n_securities"})


class _Schema:
    """What a database holds, read without writing: tables, views, Alembic revision, and the
    columns of ``snapshots`` when it exists."""

    def __init__(self, tables: set[str], views: set[str], revisions: list[str],
                 snapshot_columns: set[str]) -> None:
        self.tables = tables
        self.views = views
        self.revisions = revisions
        self.snapshot_columns = snapshot_columns

    @property
    def revision(self) -> str | None:
        return self.revisions[0] if len(self.revisions) == 1 else None

    @property
    def is_empty(self) -> bool:
        # An alembic_version table without a row is what an interrupted first migration leaves.
        return not self.views and not self.revisions and self.tables <= {"alembic_version"}


def _inspect(conn: Connection) -> _Schema:
    """The schema seen through a SQLAlchemy connection (reads only)."""
    inspector = sa.inspect(conn)
    tables = set(inspector.get_table_names())
    views = set(inspector.get_view_names())
    if conn.dialect.name == "postgresql":
        views |= set(inspector.get_materialized_view_names())
    revisions: list[str] = []
    if "alembic_version" in tables:
        revisions = [str(r[0]) for r in conn.execute(sa.text("SELECT version_num FROM alembic_version"))]
    columns = ({c["name"] for c in inspector.get_columns("snapshots")} if "snapshots" in tables else set())
    return _Schema(tables, views, revisions, columns)


def _inspect_sqlite_read_only(path: Path, where: str) -> _Schema:
    """The schema of an existing SQLite file, read through a read-only connection (``mode=ro``).

    A WAL-mode file that no process has open (no ``-wal``/``-shm`` beside it) is read with
    ``immutable=1`` as well: a read-only connection would otherwise create those two files next to
    another program's database.
    """
    with path.open("rb") as fh:
        header = fh.read(20)
    wal_mode = len(header) >= 20 and header[18] == 2
    in_use = Path(f"{path}-wal").exists() or Path(f"{path}-shm").exists()
    uri = f"file:{urllib.parse.quote(str(path))}?mode=ro" + ("&immutable=1" if wal_mode and not in_use else "")
    try:
        conn = sqlite3.connect(uri, uri=True, timeout=5.0)
    except sqlite3.Error as error:
        raise StoreError(f"Cannot read the database {where} ({error}); it was left untouched.",
                         hint="Check the file's permissions or open another file with --db.") from error
    try:
        rows = conn.execute("SELECT type, name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'").fetchall()
        tables = {str(n) for t, n in rows if t == "table"}
        views = {str(n) for t, n in rows if t == "view"}
        revisions: list[str] = []
        if "alembic_version" in tables:
            revisions = [str(r[0]) for r in conn.execute("SELECT version_num FROM alembic_version")]
        columns = ({str(r[1]) for r in conn.execute("PRAGMA table_info(snapshots)")}
                   if "snapshots" in tables else set())
    except sqlite3.Error as error:
        text = str(error).lower()
        if "locked" in text or "busy" in text:
            raise DatabaseBusyError(
                f"The database {where} is busy: another program is writing to it.",
                hint="Wait for it to finish, then try again.") from error
        raise StoreError(f"The database {where} is damaged or unreadable ({error}); it was left untouched.",
                         hint="Restore it from a backup or open another file with --db.") from error
    finally:
        conn.close()
    return _Schema(tables, views, revisions, columns)


def _names(items: set[str]) -> str:
    listed = sorted(items)
    return ", ".join(listed[:5]) + (f" and {len(listed) - 5} more" if len(listed) > 5 else "")


def _check_schema(where: str, schema: _Schema) -> None:
    """Refuse anything but an empty database or one of Pickaxe's at a revision this version knows."""
    if schema.is_empty:
        return
    holds = "; ".join(part for part in (
        f"tables: {_names(schema.tables)}" if schema.tables else "",
        f"views: {_names(schema.views)}" if schema.views else "") if part)
    foreign = StoreError(f"{where} is a database of another program ({holds}); it was left untouched.",
                         hint="Give another file with --db, or a new file name to start an empty database.")
    revision = schema.revision
    if revision is None:
        raise foreign  # no Alembic revision (or several: Pickaxe never branches)
    looks_like_pickaxe = (_CORE_TABLES <= schema.tables
                          and _SNAPSHOT_COLUMNS_0001 <= schema.snapshot_columns)
    if not looks_like_pickaxe:
        raise foreign
    if revision not in known_revisions():
        raise StoreError(
            f"The database {where} was written by a newer version of Pickaxe (schema {revision}; "
            f"this version knows up to {head_revision()}). It was left untouched.",
            hint="Update Pickaxe to open it.")
    expected = _TABLES_BY_REVISION.get(revision, _TABLES_0001)
    if not expected <= schema.tables:
        raise StoreError(
            f"The database {where} is damaged: schema {revision} lacks the tables "
            f"{_names(set(expected - schema.tables))}; it was left untouched.",
            hint="Restore it from a backup or open another file with --db.")


def _install_sqlite_hooks(engine: Engine, busy_timeout: float) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: sqlite3.Connection, _record: Any) -> None:
        # We issue BEGIN ourselves (below) so that SQLAlchemy, not the driver, owns transactions.
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA synchronous = NORMAL")  # safe in WAL: a crash loses no committed txn
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        mode = conn.get_execution_options().get("sqlite_begin", "")
        conn.exec_driver_sql(f"BEGIN {mode}".strip())


def _engine_for(url: sa.URL, busy_timeout: float) -> Engine:
    if url.get_backend_name() == "sqlite":
        engine = sa.create_engine(
            url, connect_args={"timeout": busy_timeout, "check_same_thread": False})
        _install_sqlite_hooks(engine, busy_timeout)
        return engine
    if url.get_backend_name() == "postgresql":
        connect_args = {"connect_timeout": max(1, int(busy_timeout))} if url.get_driver_name() in (
            "psycopg", "psycopg2") else {}
        return sa.create_engine(url, pool_pre_ping=True, connect_args=connect_args)
    return sa.create_engine(url)


def _migrate(engine: Engine, where: str, target: str | None = None) -> None:
    """Check the revision under the write lock and upgrade to ``target`` (default: head)."""
    from alembic import command  # imported only to migrate: it costs ~0.1 s (issue #17)
    from alembic.config import Config

    with engine.connect().execution_options(sqlite_begin="IMMEDIATE") as conn:
        with conn.begin():
            if conn.dialect.name == "postgresql":
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_MIGRATION_LOCK})
            schema = _inspect(conn)
            _check_schema(where, schema)  # again: another process may have migrated
            revision = schema.revision
            target = target or head_revision()
            if revision == target:
                return
            log.info("migrating %s from schema %s to %s", where, revision or "(empty)", target)
            cfg = Config()
            cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, target)


def open_database(url: str | Path | None = None, *, busy_timeout: float = DEFAULT_BUSY_TIMEOUT_S,
                  migrate: bool = True) -> Database:
    """Open (creating if needed) the database at ``url`` and bring its schema up to date.

    Args:
        url: a SQLite file path or a SQLAlchemy URL (``sqlite:///...``, ``postgresql+psycopg://...``);
            None means ``--db``/``PICKAXE_DB``/the default file, via :func:`desktop.paths.database_url`.
        busy_timeout: seconds to wait for another process's write lock before
            :class:`DatabaseBusyError`.
        migrate: upgrade an older schema (False is for tests that inspect an old database).

    Raises:
        StoreError: the file is not a Pickaxe database, is damaged, was written by a newer
            Pickaxe, or the server cannot be reached.
    """
    text = str(url) if url is not None else None
    resolved = paths.database_url(text)
    try:
        sa_url = make_url(resolved)
    except exc.ArgumentError as error:
        raise StoreError(f"{text!r} is neither a file path nor a database URL ({error}).") from error
    where = sa_url.render_as_string(hide_password=True)
    sqlite_path = _sqlite_path(sa_url) if sa_url.get_backend_name() == "sqlite" else None
    if sqlite_path is not None:
        where = str(sqlite_path)
        _check_sqlite_file(sqlite_path)
        if sqlite_path.exists() and sqlite_path.stat().st_size > 0:
            # Look through a read-only connection first: nothing below opens the file for
            # writing (not even the WAL switch) before it is known to be Pickaxe's.
            _check_schema(where, _inspect_sqlite_read_only(sqlite_path, where))
    try:
        engine = _engine_for(sa_url, busy_timeout)
    except (exc.NoSuchModuleError, ImportError) as error:
        raise StoreError(f"No database driver for {where}: {error}",
                         hint="For PostgreSQL install psycopg: pip install 'psycopg[binary]'.") from error
    try:
        with translate_errors(where):
            with engine.connect() as conn:
                if conn.dialect.name == "postgresql":
                    conn.exec_driver_sql("SET TRANSACTION READ ONLY")  # a look, before any write
                schema = _inspect(conn)
                conn.rollback()
            _check_schema(where, schema)
            revision = schema.revision
            if sqlite_path is not None:
                raw = engine.raw_connection()  # outside any transaction, as SQLite requires
                try:
                    # Persistent; switching an already-WAL file writes nothing.
                    driver = raw.driver_connection
                    assert driver is not None
                    mode = driver.execute("PRAGMA journal_mode = WAL").fetchone()[0]
                finally:
                    raw.close()
                if str(mode).lower() != "wal":
                    log.warning("SQLite journal mode is %s, not WAL, for %s", mode, where)
            if migrate and revision != head_revision():
                _migrate(engine, where)  # takes the write lock; skipped when already current
    except exc.DBAPIError as error:  # e.g. server unreachable, bad credentials
        engine.dispose()
        raise StoreError(f"Cannot open the database {where}: {error.orig}".strip()) from error
    except BaseException:
        engine.dispose()
        raise
    return Database(engine, resolved, busy_timeout, where)

"""Open the database (SQLite file or any SQLAlchemy URL), check it, migrate it forward.

``open_database`` never writes to a file it has not recognised: a non-database file, a truncated
or corrupt one, another program's SQLite database, or a database written by a newer Pickaxe are
refused with a :class:`StoreError` before anything touches them. A recognised older database is
migrated forward with the Alembic revisions shipped in ``desktop/store/migrations``.

SQLite runs in WAL mode (readers never block the writer), with foreign keys on and a busy timeout.
Write functions in this package call :func:`begin_write` first so that a second process waits for
the write lock (up to the timeout) instead of failing half-way; a timeout becomes
:class:`DatabaseBusyError`.
"""

from __future__ import annotations

import logging
import sqlite3
import struct
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
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
def _script() -> ScriptDirectory:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    return ScriptDirectory.from_config(cfg)


def head_revision() -> str:
    """The schema revision this version of Pickaxe writes."""
    head = _script().get_current_head()
    assert head is not None
    return head


def known_revisions() -> list[str]:
    """Every schema revision this version knows, oldest first."""
    return [rev.revision for rev in reversed(list(_script().walk_revisions()))]


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
        with self.engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()

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
    database = url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
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


def _inspect(conn: Connection) -> tuple[set[str], str | None]:
    tables = set(sa.inspect(conn).get_table_names())
    revision = MigrationContext.configure(conn).get_current_revision() if "alembic_version" in tables else None
    return tables, revision


def _check_revision(where: str, tables: set[str], revision: str | None) -> None:
    if revision is None:
        if tables - {"alembic_version"}:
            raise StoreError(
                f"{where} is a database of another program (tables: {', '.join(sorted(tables)[:5])}); "
                "it was left untouched.", hint="Give another file with --db.")
        return
    if revision not in known_revisions():
        raise StoreError(
            f"The database {where} was written by a newer version of Pickaxe (schema {revision}; "
            f"this version knows up to {head_revision()}). It was left untouched.",
            hint="Update Pickaxe to open it.")


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
    from alembic import command

    with engine.connect().execution_options(sqlite_begin="IMMEDIATE") as conn:
        with conn.begin():
            if conn.dialect.name == "postgresql":
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_MIGRATION_LOCK})
            tables, revision = _inspect(conn)
            _check_revision(where, tables, revision)  # again: another process may have migrated
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
    try:
        engine = _engine_for(sa_url, busy_timeout)
    except (exc.NoSuchModuleError, ImportError) as error:
        raise StoreError(f"No database driver for {where}: {error}",
                         hint="For PostgreSQL install psycopg: pip install 'psycopg[binary]'.") from error
    try:
        with translate_errors(where):
            with engine.connect() as conn:
                tables, revision = _inspect(conn)  # read-only look before any write
                conn.rollback()
            _check_revision(where, tables, revision)
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

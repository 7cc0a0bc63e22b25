"""Store fixtures: every store test runs on a fresh SQLite file, and on PostgreSQL too when
``PICKAXE_TEST_POSTGRES_URL`` names a server (each test then gets its own throw-away schema).
See docs/store.md for starting a local PostgreSQL server."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from desktop.store.db import Database, open_database

PG_ENV = "PICKAXE_TEST_POSTGRES_URL"


def _pg_schema_url(base: str, schema: str) -> str:
    url = sa.make_url(base)
    return url.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(hide_password=False)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A URL of an empty database: a new SQLite file, or a new schema on the test server."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'pickaxe.sqlite3'}"
        return
    base = os.environ.get(PG_ENV)
    if not base:
        pytest.skip(f"{PG_ENV} is not set (see docs/store.md to run the store tests on PostgreSQL)")
    schema = f"pickaxe_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(base)
    with admin.begin() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    try:
        yield _pg_schema_url(base, schema)
    finally:
        with admin.begin() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        admin.dispose()


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    database = open_database(db_url)
    try:
        yield database
    finally:
        database.dispose()


@pytest.fixture
def sqlite_db(tmp_path: Path) -> Iterator[Database]:
    database = open_database(tmp_path / "pickaxe.sqlite3")
    try:
        yield database
    finally:
        database.dispose()

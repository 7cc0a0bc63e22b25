"""Alembic environment: always run programmatically by ``desktop.store.db`` on an open connection."""

from __future__ import annotations

from alembic import context

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only reachable from the alembic command line
    raise RuntimeError("run migrations through desktop.store.db.open_database, not the alembic CLI")

# render_as_batch: SQLite cannot ALTER most things in place; batch mode copies the table.
context.configure(connection=connection, render_as_batch=True, transaction_per_migration=False)
with context.begin_transaction():
    context.run_migrations()

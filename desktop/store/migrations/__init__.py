"""Alembic migrations shipped inside the package (``desktop.store.db`` runs them on open)."""

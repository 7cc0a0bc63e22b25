"""The store layer (see docs/architecture.md "Store" and docs/store.md).

``db`` opens, checks and migrates the database; ``snapshots``, ``screens``, ``runs``, ``watchlist``
and ``rawcache`` are repository functions that take the caller's session and return dataclasses
and DataFrames, never ORM objects.
"""

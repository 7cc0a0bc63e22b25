"""Where Pickaxe keeps its files.

Every directory comes from platformdirs and can be overridden, so tests and portable installs
never touch a real user's files:

* ``PICKAXE_HOME`` puts data, config, logs and cache under one folder;
* ``PICKAXE_DATA_DIR``, ``PICKAXE_CONFIG_DIR``, ``PICKAXE_LOG_DIR``, ``PICKAXE_CACHE_DIR`` each
  override one;
* ``PICKAXE_DB`` (or ``--db``) names the database: a SQLite path or any SQLAlchemy URL.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import platformdirs

from desktop import APP_NAME

_KINDS: dict[str, Callable[..., str]] = {
    "data": platformdirs.user_data_dir,
    "config": platformdirs.user_config_dir,
    "log": platformdirs.user_log_dir,
    "cache": platformdirs.user_cache_dir,
}


def _dir(kind: str) -> Path:
    override = os.environ.get(f"PICKAXE_{kind.upper()}_DIR")
    if override:
        path = Path(override)
    elif os.environ.get("PICKAXE_HOME"):
        path = Path(os.environ["PICKAXE_HOME"]) / kind
    else:
        path = Path(_KINDS[kind](APP_NAME, appauthor=False))
    path.mkdir(parents=True, exist_ok=True)
    return path


def data_dir() -> Path:
    return _dir("data")


def config_dir() -> Path:
    return _dir("config")


def log_dir() -> Path:
    return _dir("log")


def cache_dir() -> Path:
    return _dir("cache")


def database_url(explicit: str | None = None) -> str:
    """The database to open: ``--db`` first, then ``PICKAXE_DB``, then the default SQLite file.

    A bare path becomes a ``sqlite:///`` URL; anything containing ``://`` is used as given.
    """
    raw = explicit or os.environ.get("PICKAXE_DB") or str(data_dir() / "pickaxe.sqlite3")
    if "://" in raw:
        return raw
    return f"sqlite:///{Path(raw).expanduser().resolve()}"

"""PyInstaller hook: Alembic loads ``env.py`` and ``versions/*.py`` from disk, not from the
archive PyInstaller puts modules in, so the migration scripts ship as source files too."""

from PyInstaller.utils.hooks import collect_data_files

datas = collect_data_files("desktop.store.migrations", include_py_files=True)

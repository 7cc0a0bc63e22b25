"""PyInstaller hook: ship the engine's sources too. ``desktop.services.screening.engine_fingerprint``
hashes them to key the cached metric tables (issue #17), so a new build with changed formulas never
reads a table the old build computed."""

from PyInstaller.utils.hooks import collect_data_files

datas = collect_data_files("desktop.engine", include_py_files=True)

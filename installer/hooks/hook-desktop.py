"""PyInstaller hook for the ``desktop`` package: ship its non-Python files (templates, JSON)."""

from PyInstaller.utils.hooks import collect_data_files

datas = collect_data_files("desktop")

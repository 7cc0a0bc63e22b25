"""PyInstaller hook: confusable-homoglyphs reads its Unicode tables (JSON) from its package folder."""

from PyInstaller.utils.hooks import collect_data_files

datas = collect_data_files("confusable_homoglyphs")

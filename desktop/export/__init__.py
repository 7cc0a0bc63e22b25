"""Export layer: the shortlist as an Excel workbook or a CSV file (issue #7).

* :mod:`desktop.export.content` turns a screen result into export-ready columns (shared by all formats);
* :mod:`desktop.export.excel` writes the workbook (looks in :mod:`desktop.export.xlsx_style`);
* :mod:`desktop.export.screen_sheet` holds the screen's JSON in the workbook and reads it back;
* :mod:`desktop.export.csv` writes CSV (UTF-8 with BOM, ISO dates);
* :mod:`desktop.export.atomic` makes every write all-or-nothing;
* :mod:`desktop.export.safe` keeps untrusted text from becoming a spreadsheet formula.
"""

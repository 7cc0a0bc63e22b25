"""Export layer: the shortlist as an Excel workbook or a CSV file (issue #7).

* :mod:`desktop.export.content` turns a screen result into export-ready columns (shared by all formats);
* :mod:`desktop.export.excel` writes the workbook and reads a screen back from one;
* :mod:`desktop.export.csv` writes CSV (UTF-8 with BOM, ISO dates);
* :mod:`desktop.export.atomic` makes every write all-or-nothing;
* :mod:`desktop.export.safe` keeps untrusted text from becoming a spreadsheet formula.
"""

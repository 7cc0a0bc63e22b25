"""CSV export of the shortlist: UTF-8 with BOM (so Excel detects the encoding), ISO dates.

Columns are catalogue field names and values are raw (USD units, fractions), as in
``pickaxe-cli run --format csv``: a missing value is an empty field, a not-meaningful one is
``n.m.``, an unbounded one is ``inf``; themes are joined with ``"; "``. After each field that has a
state come ``<field>_period`` (ISO date: period end or as-of date) and ``<field>_state`` (ok,
missing, n.m., stale, suspect): a stale or suspect value keeps its number. Text from data that
could start a formula gets a leading apostrophe (see :mod:`desktop.export.safe`).
"""

from __future__ import annotations

import csv
import math
from collections.abc import Callable, Iterator
from datetime import date, datetime
from pathlib import Path
from typing import IO, Any

from desktop.errors import Cancelled
from desktop.export.atomic import atomic_target, check_target
from desktop.export.content import (
    MISSING,
    NOT_MEANINGFUL,
    NOT_MEANINGFUL_TEXT,
    PERIOD,
    STATE,
    ColumnData,
    ExportInput,
    column_data,
    shortlist_columns,
    with_states,
)
from desktop.export.safe import csv_text

TAG_SEPARATOR = "; "
CHUNK = 500  # rows between cancellation checks


def raw_text(value: Any, status: int) -> str:
    """One raw value as CSV text."""
    if status == NOT_MEANINGFUL:
        return NOT_MEANINGFUL_TEXT
    if value is None or status == MISSING:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, tuple):
        return csv_text(TAG_SEPARATOR.join(value))
    return csv_text(str(value))


def rows(data: ExportInput) -> Iterator[list[str]]:
    """The header (field names) then one list of texts per shortlisted stock, in rank order."""
    columns = with_states(data, shortlist_columns(data))
    yield [c.name for c in columns]
    texts = [column_texts(column_data(data, c)) for c in columns]
    yield from (list(row) for row in zip(*texts, strict=True))


def column_texts(col: ColumnData) -> list[str]:
    """One column as CSV texts: state words and ISO periods directly, other values by :func:`raw_text`."""
    if col.column.role == STATE:
        return list(col.values)  # our own words: ok, missing, n.m., stale, suspect
    if col.column.role == PERIOD:
        return ["" if day is None else day.isoformat() for day in col.values]
    values = col.values.tolist() if hasattr(col.values, "tolist") else col.values
    return [raw_text(v, s) for v, s in zip(values, col.status.tolist(), strict=True)]


def write_rows(stream: IO[str], data: ExportInput, is_cancelled: Callable[[], bool] | None = None) -> int:
    """Write the CSV to an open text stream (no BOM); returns the number of data rows."""
    writer = csv.writer(stream, lineterminator="\r\n")
    count = -1
    for count, row in enumerate(rows(data)):
        if is_cancelled is not None and count % CHUNK == 0 and is_cancelled():
            raise Cancelled()
        writer.writerow(row)
    return max(count, 0)


def write_csv(path: str | Path, data: ExportInput, progress: Callable[..., None] | None = None,
              is_cancelled: Callable[[], bool] | None = None) -> Path:
    """Write the shortlist CSV (UTF-8 with BOM) to ``path`` atomically and return the path.

    Raises:
        ExportError: the folder is missing or read-only, or the file is locked.
        Cancelled: ``is_cancelled()`` became true; the target is untouched.
    """
    target = Path(path)
    check_target(target.expanduser().absolute())
    if progress:
        progress(0, 1, "Writing CSV")
    with atomic_target(target) as tmp:
        with open(tmp, "w", encoding="utf-8-sig", newline="") as handle:
            write_rows(handle, data, is_cancelled)
    if progress:
        progress(1, 1, "Done")
    return target

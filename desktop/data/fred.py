"""FRED DGS10 (10-year Treasury constant-maturity yield) CSV -> ``market["yield_10y"]`` in percent.

Accepted headers: FRED's own ``observation_date,DGS10`` (older files ``DATE,DGS10``) and the
``date,value`` layout. Holidays are an empty value or ``.``: they are missing, not zero.
Dates are ``YYYY-MM-DD`` only, within :func:`desktop.data._text.date_window` (issue #13: 9999-12-31
used to be stored as 1816-03-29).
"""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from desktop.data._text import (
    check_header,
    check_parsed_shape,
    check_rows,
    check_truncated,
    csv_error,
    dates_in_window,
    decode,
    drop_duplicate_columns,
    now_utc,
    numeric_column,
    read_bytes,
)
from desktop.data.source import SourceData
from desktop.errors import InputError

_DATE_NAMES = ("observation_date", "date")
_VALUE_NAMES = ("dgs10", "value")
_MAX_YIELD = 100.0  # percent; anything above is not a Treasury yield


def read_fred(path: str | Path, *, today: date | None = None) -> SourceData:
    """Read a FRED DGS10 CSV.

    Args:
        path: the file.
        today: the end of the accepted date window is one year after it (default: the UTC date).

    Raises:
        InputError: malformed file; names file, line and column.
    """
    return _parse_fred(read_bytes(path, "fred"), str(path), today=today)


def _parse_fred(data: bytes, origin: str, *, today: date | None = None) -> SourceData:
    warnings: list[str] = []
    text = decode(data, origin, warnings)
    names = check_header(text, origin)
    check_truncated(text, origin)
    check_rows(text, origin)
    try:
        frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, na_filter=False,
                            skip_blank_lines=True, engine="c")
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError, OverflowError) as exc:
        raise csv_error(exc, origin) from None
    check_parsed_shape(frame, names, origin)
    frame = drop_duplicate_columns(frame, text, origin)
    cols = {str(c).strip().lower(): c for c in frame.columns}
    date_col = next((cols[n] for n in _DATE_NAMES if n in cols), None)
    value_col = next((cols[n] for n in _VALUE_NAMES if n in cols), None)
    if date_col is None or value_col is None:
        raise InputError("expected the columns observation_date,DGS10 or date,value (found: "
                         f"{', '.join(map(str, frame.columns))[:120]})", path=origin, line=1,
                         field="DGS10" if date_col is not None else "observation_date")
    lines = np.arange(len(frame)) + 2
    raw = frame[date_col].str.strip()
    dates = pd.to_datetime(raw, format="%Y-%m-%d", errors="coerce")
    if dates.isna().any():
        i = int(np.flatnonzero(dates.isna().to_numpy())[0])
        raise InputError(f"{str(frame[date_col].iloc[i])[:20]!r} is not a date (YYYY-MM-DD)", path=origin,
                         line=int(lines[i]), field=str(date_col))
    day_values = dates_in_window(dates, raw, origin, lines, str(date_col), today)
    values = numeric_column(frame[value_col], origin, lines, str(value_col))
    bad = (values < -5) | (values > _MAX_YIELD)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InputError(f"{values[i]:g} is not a plausible yield in percent", path=origin,
                         line=int(lines[i]), field=str(value_col))
    series = pd.Series(values, index=pd.DatetimeIndex(day_values, name="date"))
    if series.index.has_duplicates:
        dup = series.index.duplicated(keep="last")
        warnings.append(f"{origin}: line {int(lines[np.flatnonzero(dup)[0]])}: {int(dup.sum())} repeated "
                        "dates; kept the last value of each")
        series = series[~series.index.duplicated(keep="last")]
    series = series.sort_index().dropna()
    if series.empty:
        raise InputError("no yield values in the file", path=origin, field=str(value_col))
    market = pd.DataFrame({"yield_10y": series})
    market.index.name = "date"
    return SourceData(source="fred", origin=origin, as_of=series.index.max().date(), fetched_at=now_utc(),
                      market=market, warnings=warnings, rows_read=len(frame))

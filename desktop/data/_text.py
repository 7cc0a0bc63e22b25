"""Shared helpers for the file readers: decoding user files and parsing their numbers.

Every reader decodes through :func:`decode` and parses numbers through :func:`parse_number`, so
that the same hostile inputs (UTF-16 exports, Latin-1 files, HTML error pages saved as .csv,
binary junk, ``nan``/``inf`` cells) get the same plain :class:`~desktop.errors.InputError`
everywhere (issue #3).

Bounds (issue #13, root cause 3): every reader opens its file through :func:`read_bytes`, which
refuses anything but a regular file *before* reading (a FIFO is opened non-blocking and refused, so
it can never hang the reader; ``/dev/zero`` is a device and refused), refuses a file larger than
the cap of its kind (:data:`MAX_BYTES`) and never reads more than that cap plus one byte (a file
that grows while it is read, or a ``/proc`` file that reports size 0). CSV headers are checked by
:func:`check_header` before pandas sees them: at most :data:`MAX_COLUMNS` columns, no repeated
names; every record has the header's field count and cells of at most :data:`MAX_FIELD`
characters (:func:`check_rows`).

Dates (root cause 8): readers accept dates in :func:`date_window` only (1900-01-01 to one year
after today), so pandas' nanosecond range (1677-2262) can never wrap a date around.
"""

from __future__ import annotations

import csv
import io
import math
import os
import re
import stat
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from desktop.errors import InputError

_HTML_START = re.compile(rb"^\s*(<!doctype\s+html|<html|<head|<body|<\?xml|<!--)", re.IGNORECASE)
_FILE_DATE = re.compile(r"(?<!\d)(\d{4})-(\d{2})-(\d{2})(?!\d)")
# A numeric cell: optional sign, digits with optional thousands commas, optional decimals/exponent.
_NUMBER = re.compile(r"^[+-]?(\d{1,3}(,\d{3})+|\d+)?(\.\d+)?([eE][+-]?\d+)?$")
NBSP = "\u00a0"
MISSING_TOKENS = frozenset({"", "-", "--", "n/a", "N/A", "NA", "."})

_MB = 1024 * 1024
# Largest file accepted per kind, generously above the real files in ../shared/data (issue #13):
# holdings 0.3 MB (a total-market ETF's ~4,000 rows would be ~0.7 MB), FRED DGS10 since 1962
# 0.2 MB, the Finviz export of every US listing 3.5 MB, SimFin bulk files 3.4-4.6 MB (quarterly
# files are about four times the annual ones), the wide Russell 2000 close file 11.7 MB. Each cap
# keeps the parse of a file at its cap well inside 1 GB of memory.
MAX_BYTES: dict[str, int] = {
    "ishares": 16 * _MB,
    "fred": 16 * _MB,
    "finviz": 32 * _MB,
    "simfin": 32 * _MB,
    "prices": 64 * _MB,
    "yahoo-json": 64 * _MB,  # the real financialData file of 5,401 tickers is 3.7 MB
}
DEFAULT_MAX_BYTES = 32 * _MB  # a reader that does not name its kind
# Most columns a CSV header may have: the wide close file has 1,833; a wide file of every US
# listing would have ~10,000. A header of a million columns took pandas minutes.
MAX_COLUMNS = 20_000
# Longest text cell, in characters: the longest real one is a 3,209-character business summary.
# Python's csv module refuses fields over 131,072 characters by default; we stay below it.
MAX_FIELD = 100_000
MIN_DATE = date(1900, 1, 1)
FUTURE_DAYS = 366  # dates up to a year ahead are accepted (with a warning where they date a file)


def read_bytes(path: str | Path, kind: str | None = None, *, limit: int | None = None) -> bytes:
    """The raw bytes of a user file, or an InputError naming the file.

    Args:
        path: the file.
        kind: the import kind (a key of :data:`MAX_BYTES`) whose size cap applies.
        limit: an explicit cap in bytes (overrides ``kind``).

    Raises:
        InputError: missing, a folder, not a regular file (pipe, device, socket), larger than
            the cap, or unreadable.
    """
    p = Path(path)
    origin = str(p)
    cap = limit if limit is not None else MAX_BYTES.get(kind or "", DEFAULT_MAX_BYTES)
    try:
        info = os.stat(p)
    except FileNotFoundError:
        raise InputError("file not found", path=origin) from None
    except OSError as exc:
        raise InputError(f"cannot read the file ({exc.strerror or exc})", path=origin) from None
    _require_regular(info, origin, cap)
    # O_NONBLOCK: if the path was swapped for a FIFO after the stat, opening it does not wait for
    # a writer; the fstat below then refuses it.
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(p, flags)
    except IsADirectoryError:
        raise InputError("is a folder, expected a file", path=origin) from None
    except OSError as exc:
        raise InputError(f"cannot read the file ({exc.strerror or exc})", path=origin) from None
    try:
        info = os.fstat(fd)
        _require_regular(info, origin, cap)
        return _read_capped(fd, info.st_size, cap, origin)
    except OSError as exc:
        raise InputError(f"cannot read the file ({exc.strerror or exc})", path=origin) from None
    finally:
        os.close(fd)


def _require_regular(info: os.stat_result, origin: str, cap: int) -> None:
    if stat.S_ISDIR(info.st_mode):
        raise InputError("is a folder, expected a file", path=origin)
    if not stat.S_ISREG(info.st_mode):
        what = ("a named pipe (FIFO)" if stat.S_ISFIFO(info.st_mode) else
                "a device" if stat.S_ISCHR(info.st_mode) or stat.S_ISBLK(info.st_mode) else
                "a socket" if stat.S_ISSOCK(info.st_mode) else "not a regular file")
        raise InputError(f"is {what}, not a regular file; save the data to a file and import that",
                         path=origin)
    if info.st_size > cap:
        raise _too_large(info.st_size, cap, origin)


def _too_large(size: int, cap: int, origin: str) -> InputError:
    return InputError(f"the file is {size / _MB:,.1f} MB; files of this kind are limited to "
                      f"{cap / _MB:,.0f} MB", path=origin,
                      hint="Check it is the right file; split a larger one into several files.")


def _read_capped(fd: int, size: int, cap: int, origin: str) -> bytes:
    """Read the file, never more than ``cap`` bytes: one read of the size the file reports, then
    1 MB chunks until the end (a file that grew, or a special file that reports size 0)."""
    with os.fdopen(os.dup(fd), "rb", buffering=0) as f:
        parts = [f.read(size)] if size else []
        total = len(parts[0]) if parts else 0
        while True:
            chunk = f.read(min(_MB, cap + 1 - total))
            if not chunk:
                break
            total += len(chunk)
            if total > cap:
                raise _too_large(total, cap, origin)
            parts.append(chunk)
    return parts[0] if len(parts) == 1 else b"".join(parts)


def decode(data: bytes, origin: str, warnings: list[str] | None = None) -> str:
    """Decode a user file to text.

    UTF-8 (with or without BOM) is expected. UTF-16 with a BOM (Excel's "Unicode text") and
    Latin-1/cp1252 files are accepted with a warning. HTML pages and binary files are refused.

    Raises:
        InputError: the bytes are an HTML page, binary data or empty.
    """
    if not data.strip():
        raise InputError("the file is empty", path=origin)
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError:
            raise InputError("the file claims to be UTF-16 but cannot be decoded", path=origin) from None
        if warnings is not None:
            warnings.append(f"{origin}: file is UTF-16 encoded; read it as UTF-16")
    else:
        if b"\x00" in data:
            raise InputError("this is a binary file, not a text/CSV file", path=origin)
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            line = data[: exc.start].count(b"\n") + 1
            text = data.decode("cp1252", errors="replace")
            if warnings is not None:
                warnings.append(
                    f"{origin}: line {line}: file is not UTF-8; read it as Windows-1252/Latin-1 "
                    "(check accented names)"
                )
        text = text.removeprefix("\ufeff")
    if _HTML_START.match(text[:512].encode("utf-8", errors="replace")):
        raise InputError(
            "this is a web page (HTML), not a data file - probably an error page saved instead of "
            "the download",
            path=origin,
            line=1,
            hint="Download the file again and check it opens as a table.",
        )
    if "\x00" in text:
        raise InputError("the file contains NUL characters (binary data)", path=origin)
    return text


def is_blank(cell: str) -> bool:
    """True for cells that hold only whitespace or no-break spaces."""
    return not cell.replace(NBSP, "").strip()


def parse_number(cell: str, origin: str, line: int, field: str) -> float:
    """Parse one numeric cell: ``"1,234.50"`` -> 1234.5, ``"12.5%"`` -> 0.125, blanks -> NaN.

    Raises:
        InputError: the cell is not a number, or is NaN/infinite spelled out.
    """
    s = cell.replace(NBSP, "").strip()
    if s in MISSING_TOKENS:
        return math.nan
    percent = s.endswith("%")
    if percent:
        s = s[:-1].strip()
    if not _NUMBER.match(s) or s in ("+", "-", ""):
        raise InputError(f"{cell[:40]!r} is not a number", path=origin, line=line, field=field)
    value = float(s.replace(",", ""))
    if not math.isfinite(value):
        raise InputError(f"{cell[:40]!r} is out of range", path=origin, line=line, field=field)
    return value / 100.0 if percent else value


def numeric_column(values: pd.Series, origin: str, lines: np.ndarray, field: str) -> np.ndarray:
    """Vectorised :func:`parse_number` for a column of strings; ``lines`` gives each row's line.

    Fast path through ``pd.to_numeric``; any doubtful cell sends the column through the strict
    per-cell parser, which reports the first bad cell with its line.
    """
    if pd.api.types.is_float_dtype(values.dtype) or pd.api.types.is_integer_dtype(values.dtype):
        numbers = values.to_numpy(dtype="float64")
        bad = np.isinf(numbers)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            spelled = "inf" if numbers[i] > 0 else "-inf"
            raise InputError(f"{spelled!r} is not a number", path=origin, line=int(lines[i]), field=field)
        return numbers
    # numpy's string functions: one C loop per step (pandas' .str methods cost ~10 ms a column).
    raw = values.astype(object).where(values.notna(), "").to_numpy(dtype=str)
    stripped = np.char.strip(raw)
    missing = np.isin(stripped, list(MISSING_TOKENS))
    percent = np.char.endswith(stripped, "%")
    doubtful = (np.char.find(stripped, ",") >= 0) | (np.char.find(stripped, NBSP) >= 0) \
        | (np.char.find(stripped, "_") >= 0) | (np.char.count(stripped, "%") > percent)
    if not doubtful.any():
        # Percent strings ("0.83%", Finviz) take the fast path too: the sign goes, the value is /100.
        bare = np.char.rstrip(np.char.rstrip(stripped, "%")) if percent.any() else stripped
        cells = bare.astype(object)
        cells[missing] = None
        parsed: np.ndarray | None
        try:
            parsed = pd.to_numeric(cells, errors="raise").astype("float64")
        except (ValueError, TypeError):
            parsed = None
        if parsed is not None:
            bad = ~np.isfinite(parsed) & ~missing
            if percent.any():
                bad |= percent & (bare == "")  # a lone "%" is no number
                parsed = np.where(percent, parsed / 100.0, parsed)
            if not bad.any():
                return parsed
    out = np.empty(len(raw), dtype="float64")
    for i, cell in enumerate(raw.tolist()):
        out[i] = parse_number(cell, origin, int(lines[i]), field)
    return out


def read_csv_text(text: str, origin: str, text_columns: tuple[str, ...], sep: str = ",") -> pd.DataFrame:
    """``pd.read_csv`` with the C parser reading numbers and ``text_columns`` kept as text.

    Columns the parser cannot read as numbers stay text and go through :func:`numeric_column`,
    which names the bad cell. Empty cells are missing; nothing else is treated as NA. The header
    is checked first (:func:`check_header`: column count, repeated names), then every record
    (:func:`check_rows`: field count, cell length).
    """
    names = check_header(text, origin, sep)
    check_truncated(text, origin, sep)
    check_rows(text, origin, sep)
    try:
        frame = pd.read_csv(io.StringIO(text), sep=sep, dtype=dict.fromkeys(text_columns, str),
                            keep_default_na=False, na_values=[""], skip_blank_lines=True,
                            engine="c", low_memory=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError, OverflowError) as exc:
        raise csv_error(exc, origin) from None
    check_parsed_shape(frame, names, origin)
    return drop_duplicate_columns(frame, text, origin, sep)


def header_line(text: str, origin: str, start: int = 0) -> str:
    """The line starting at offset ``start`` (without its line break), refusing an endless one."""
    limit = MAX_COLUMNS * 50  # ~1 MB: 20,000 names of 50 characters
    end = text.find("\n", start, start + limit)
    if end < 0:
        if len(text) - start > limit:
            raise InputError(f"the header line is longer than {limit:,} characters - not a table this "
                             "reader knows", path=origin, line=text.count("\n", 0, start) + 1)
        end = len(text)
    return text[start:end].rstrip("\r")


def check_header(text: str, origin: str, sep: str = ",", *, start: int = 0, line: int = 1,
                 duplicates: bool = True) -> list[str]:
    """The header's names (stripped), after refusing too many columns or a repeated name.

    Args:
        text: the decoded file.
        origin: the file, for messages.
        sep: the field separator.
        start: offset of the header line in ``text`` (after a preamble).
        line: its line number, for messages.
        duplicates: refuse a name that appears twice (off for layouts that repeat names on
            purpose, such as yfinance's two-level ``Price`` header).

    Raises:
        InputError: more than :data:`MAX_COLUMNS` columns, a repeated name, or an unreadable header.
    """
    probe = text[start:start + MAX_COLUMNS * 50]
    end = probe.find("\n")
    count = (probe if end < 0 else probe[:end]).count(sep) + 1  # an upper bound: quotes may hold sep
    if count > MAX_COLUMNS:
        raise InputError(f"the header has {'more than ' if end < 0 else ''}{count:,} columns; at most "
                         f"{MAX_COLUMNS:,} are accepted", path=origin, line=line)
    header = header_line(text, origin, start)
    try:
        cells = next(csv.reader([header], delimiter=sep), [])
    except csv.Error as exc:
        raise InputError(f"malformed header ({exc})", path=origin, line=line) from None
    names = [c.replace(NBSP, " ").strip().lstrip("\ufeff").strip() for c in cells]
    if duplicates:
        seen: set[str] = set()
        for name in names:
            if name and name in seen:
                raise InputError(f"the column {name[:40]!r} appears twice in the header", path=origin,
                                 line=line, field=name[:40])
            seen.add(name)
    return names


def check_parsed_shape(frame: pd.DataFrame, names: list[str], origin: str, header_line_no: int = 1) -> None:
    """Refuse what pandas does with a first row longer than the header: it silently turns the
    first column into the index and shifts every name by one (issue #13)."""
    if not isinstance(frame.index, pd.RangeIndex) or (names and len(frame.columns) < len(names)):
        raise InputError(f"the first row has more fields than the header ({len(names)}) - shifted or "
                         "damaged rows?", path=origin, line=header_line_no + 1)


def check_rows(text: str, origin: str, sep: str = ",", *, start: int = 0, line: int = 1) -> int:
    """Refuse a record whose field count differs from the header's, or a cell longer than
    :data:`MAX_FIELD` characters; returns the number of records after the header.

    pandas fills a short row with missing values and turns a long first row into an index, so
    garbage lines appended to an export were imported as rows (issue #13). Every real export in
    ``../shared/data`` has the header's field count on every line. Blank lines are allowed.

    Args:
        text: the decoded file.
        origin: the file, for messages.
        sep: the field separator.
        start: offset of the header line in ``text``.
        line: the header's line number.

    Raises:
        InputError: naming the first bad line (and the column of a too-long cell).
    """
    reader = csv.reader(io.StringIO(text[start:] if start else text, newline=""), delimiter=sep)
    try:
        header = next(reader, [])
        width = len(header)
        records = 0
        prev_end = reader.line_num
        for row in reader:
            row_line = line + prev_end  # the record's first physical line
            prev_end = reader.line_num
            if not row:
                continue
            if len(row) != width:
                if len(row) == 1 and not row[0].replace(NBSP, "").strip():
                    continue  # a line of spaces
                raise InputError(f"the row has {len(row)} fields but the header has {width} - damaged or "
                                 "garbage line?", path=origin, line=row_line)
            records += 1
            longest = max(map(len, row))
            if longest > MAX_FIELD:
                j = next(k for k, c in enumerate(row) if len(c) == longest)
                raise InputError(f"a cell of {longest:,} characters; text cells are limited to {MAX_FIELD:,}",
                                 path=origin, line=row_line, field=header[j].strip()[:40] if j < width else None)
    except csv.Error as exc:
        message = str(exc)
        if "field larger than field limit" in message:
            message = f"a cell is longer than {MAX_FIELD:,} characters"
        raise InputError(f"not a readable CSV ({message})", path=origin,
                         line=line + reader.line_num - 1) from None
    return records


def date_window(today: date | None = None) -> tuple[date, date]:
    """The dates a file may hold: :data:`MIN_DATE` to ``today`` + :data:`FUTURE_DAYS`.

    ``today`` defaults to the UTC date (the same clock as ``SourceData.fetched_at``); services
    and tests pass it explicitly.
    """
    today = today or now_utc().date()
    return MIN_DATE, today + timedelta(days=FUTURE_DAYS)


def check_date(value: date, origin: str, line: int | None, field: str, today: date | None = None) -> date:
    """``value`` if it lies in :func:`date_window`, else an InputError naming file, line and field."""
    lo, hi = date_window(today)
    if not lo <= value <= hi:
        raise InputError(f"the date {value.isoformat()} is outside the accepted range {lo.isoformat()} to "
                         f"{hi.isoformat()}", path=origin, line=line, field=field)
    return value


def dates_in_window(dates: pd.Series, raw: pd.Series, origin: str, lines: np.ndarray, field: str,
                    today: date | None = None) -> np.ndarray:
    """Parsed dates (any datetime64 unit, NaT allowed) -> ``datetime64[ns]`` after refusing the
    first one outside :func:`date_window`. Converting first would wrap 9999-12-31 to 1816."""
    lo, hi = date_window(today)
    values = dates.to_numpy()
    lo64 = np.datetime64(lo.isoformat()).astype(values.dtype)
    hi64 = np.datetime64(hi.isoformat()).astype(values.dtype)
    bad = ~np.isnat(values) & ((values < lo64) | (values > hi64))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InputError(f"the date {str(raw.iloc[i]).strip()[:30]!r} is outside the accepted range "
                         f"{lo.isoformat()} to {hi.isoformat()}", path=origin, line=int(lines[i]), field=field)
    return values.astype("datetime64[ns]")


def slashed_date_order(first: np.ndarray, second: np.ndarray, origin: str, line: int | None,
                       field: str) -> str:
    """``"mdy"`` or ``"dmy"`` for a column of ``a/b/yyyy`` dates, decided by the column itself.

    Only unambiguous columns are read: some first number above 12 means day first, some second
    number above 12 means month first; a column where every date could be either (``05/06/2026``)
    or both (``13/01`` and ``01/13``) is refused (issue #13: it was read day-first silently).
    """
    day_first = bool((first > 12).any())
    month_first = bool((second > 12).any())
    if day_first and month_first:
        raise InputError("the dates mix day-first and month-first spellings", path=origin, line=line,
                         field=field, hint="Write dates as YYYY-MM-DD.")
    if day_first:
        return "dmy"
    if month_first or bool((first == second).all()):
        return "mdy"
    raise InputError("the dates are ambiguous (05/06/2026 is 5 June or 6 May)", path=origin, line=line,
                     field=field, hint="Write dates as YYYY-MM-DD.")


def csv_error(exc: Exception, origin: str) -> InputError:
    """An InputError for a pandas parser failure, with the line number when pandas gives one."""
    message = str(exc).splitlines()[0][:160] if str(exc) else type(exc).__name__
    found = re.search(r"line (\d+)", message)
    return InputError(f"not a readable CSV ({message})", path=origin,
                      line=int(found.group(1)) if found else None)


def check_truncated(text: str, origin: str, sep: str = ",") -> None:
    """Refuse a file whose last line has fewer fields than its header (a cut-off download).

    Only checked when that line holds no quote, so a quoted multi-line field cannot fool it.
    """
    tail = text[-200_000:].rstrip("\r\n")  # the end is enough; avoid copying a large file
    header = text[:200_000].split("\n", 1)[0]
    last_start = tail.rfind("\n") + 1
    last = tail[last_start:]
    if last_start == 0 or '"' in last or '"' in header or not last.strip():
        return
    if last.count(sep) < header.count(sep):
        raise InputError(f"the last line has {last.count(sep) + 1} fields but the header has "
                         f"{header.count(sep) + 1} - the file looks truncated", path=origin,
                         line=text.rstrip("\r\n").count("\n") + 1)


def drop_duplicate_columns(frame: pd.DataFrame, text: str, origin: str, sep: str = ",") -> pd.DataFrame:
    """Strip header names and refuse repeated column names (pandas would rename them ``X.1``)."""
    names = check_header(text, origin, sep)
    if len(names) == len(frame.columns):
        frame.columns = names
    else:
        frame.columns = [str(c).strip() for c in frame.columns]
    return frame


def text_column(values: pd.Series) -> pd.Series:
    """A column as stripped text with missing as ``""`` (whatever dtype the parser chose)."""
    if not (pd.api.types.is_object_dtype(values.dtype) or pd.api.types.is_string_dtype(values.dtype)):
        values = values.map(_plain, na_action="ignore")  # numbers the parser read: 100001.0 -> "100001"
    raw = values.astype(object).where(values.notna(), "").to_numpy(dtype=object)
    # A plain comprehension beats pandas' string accessors here (one pass, no per-call overhead).
    cleaned = [str(v).replace(NBSP, " ").strip() for v in raw]
    return pd.Series(np.array(cleaned, dtype=object), index=values.index, name=values.name, dtype=object)


def _plain(v: object) -> str:
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def date_from_name(path: str | Path) -> date | None:
    """The ``YYYY-MM-DD`` date in a file name (``finviz_export_2025-08-21.csv``), if any."""
    matches = _FILE_DATE.findall(Path(path).name)
    for y, m, d in reversed(matches):
        try:
            return date(int(y), int(m), int(d))
        except ValueError:
            continue
    return None


def now_utc() -> datetime:
    """Naive UTC now, the ``fetched_at`` convention of :class:`~desktop.data.source.SourceData`."""
    return datetime.now(UTC).replace(tzinfo=None)


def melt_observations(
    wide: pd.DataFrame,
    text_fields: frozenset[str] | set[str],
    periods: dict[str, str],
    derived: frozenset[str] | set[str] = frozenset(),
    as_of: date | None = None,
) -> pd.DataFrame:
    """Turn a wide frame (index symbol, one column per field) into long observations.

    Missing cells produce no observation: a source that has no value offers no candidate.
    """
    parts = []
    for name in wide.columns:
        col = wide[name]
        if name in text_fields:
            col = col.astype(object)
            keep = col.notna() & (col.astype(str).str.strip() != "")
            value_num: Any = np.nan
            value_text = col[keep].astype(str).to_numpy(dtype=object)
        else:
            col = pd.to_numeric(col, errors="coerce").astype("float64")
            keep = col.notna()
            value_num = col[keep].to_numpy()
            value_text = None
        if not bool(keep.any()):
            continue
        parts.append(pd.DataFrame({
            "symbol": wide.index[keep.to_numpy()].astype(object),
            "field": name,
            "value_num": value_num,
            "value_text": value_text,
            "period": periods.get(name, "point"),
            "derived": name in derived,
        }))
    frame = pd.concat(parts, ignore_index=True) if parts else observations_frame([])
    frame["as_of"] = pd.Timestamp(as_of) if as_of is not None else pd.NaT
    return observations_frame_fix(frame)


def observations_frame_fix(frame: pd.DataFrame) -> pd.DataFrame:
    """Give an observations frame its canonical dtypes."""
    frame = frame.copy()
    frame["symbol"] = frame["symbol"].astype(object)
    frame["field"] = frame["field"].astype(object)
    frame["period"] = frame["period"].astype(object)
    frame["value_num"] = pd.to_numeric(frame["value_num"], errors="coerce").astype("float64")
    frame["value_text"] = frame["value_text"].astype(object)
    frame["derived"] = frame["derived"].fillna(False).astype(bool)
    frame["as_of"] = pd.to_datetime(frame["as_of"]).astype("datetime64[ns]")
    return frame.reset_index(drop=True)


def observations_frame(rows: list[dict]) -> pd.DataFrame:
    """Build the long observations frame a SourceData carries, with stable dtypes."""
    columns = ("symbol", "field", "value_num", "value_text", "period", "derived", "as_of")
    if not rows:
        frame = pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
    else:
        frame = pd.DataFrame(rows, columns=list(columns))
    return observations_frame_fix(frame)

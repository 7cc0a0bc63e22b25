"""Shared helpers for the file readers: decoding user files and parsing their numbers.

Every reader decodes through :func:`decode` and parses numbers through :func:`parse_number`, so
that the same hostile inputs (UTF-16 exports, Latin-1 files, HTML error pages saved as .csv,
binary junk, ``nan``/``inf`` cells) get the same plain :class:`~desktop.errors.InputError`
everywhere (issue #3).
"""

from __future__ import annotations

import csv
import io
import math
import re
from datetime import UTC, date, datetime
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


def read_bytes(path: str | Path) -> bytes:
    """The raw bytes of a user file, or an InputError naming the file."""
    p = Path(path)
    try:
        return p.read_bytes()
    except FileNotFoundError:
        raise InputError("file not found", path=str(p)) from None
    except IsADirectoryError:
        raise InputError("is a folder, expected a file", path=str(p)) from None
    except OSError as exc:
        raise InputError(f"cannot read the file ({exc.strerror or exc})", path=str(p)) from None


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
    raw = values.astype(object).where(values.notna(), "").astype(str)
    stripped = raw.str.strip()
    missing = stripped.isin(MISSING_TOKENS).to_numpy()
    if not bool(stripped.str.contains(r"[,%\u00a0_]", regex=True).any()):
        parsed: np.ndarray | None
        try:
            parsed = pd.to_numeric(stripped.where(~missing, None), errors="raise").to_numpy(dtype="float64")
        except (ValueError, TypeError):
            parsed = None
        if parsed is not None:
            bad = ~np.isfinite(parsed) & ~missing
            if not bad.any():
                return parsed
    out = np.empty(len(raw), dtype="float64")
    for i, cell in enumerate(raw.to_numpy()):
        out[i] = parse_number(cell, origin, int(lines[i]), field)
    return out


def read_csv_text(text: str, origin: str, text_columns: tuple[str, ...], sep: str = ",") -> pd.DataFrame:
    """``pd.read_csv`` with the C parser reading numbers and ``text_columns`` kept as text.

    Columns the parser cannot read as numbers stay text and go through :func:`numeric_column`,
    which names the bad cell. Empty cells are missing; nothing else is treated as NA.
    """
    check_truncated(text, origin, sep)
    try:
        frame = pd.read_csv(io.StringIO(text), sep=sep, dtype=dict.fromkeys(text_columns, str),
                            keep_default_na=False, na_values=[""], skip_blank_lines=True,
                            engine="c", low_memory=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError, OverflowError) as exc:
        raise csv_error(exc, origin) from None
    return drop_duplicate_columns(frame, text, origin, sep)


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
    try:
        header = next(csv.reader(io.StringIO(text[:1_000_000], newline=""), delimiter=sep), [])
    except csv.Error:
        header = []
    names = [h.strip() for h in header]
    if len(names) == len(frame.columns):
        seen: set[str] = set()
        for name in names:
            if name in seen and name:
                raise InputError(f"the column {name!r} appears twice in the header", path=origin, line=1,
                                 field=name[:40])
            seen.add(name)
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

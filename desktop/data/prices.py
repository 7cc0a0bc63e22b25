"""Daily prices from files: Yahoo CSV downloads (one ticker per file, or a folder of them) and
wide files of closes (a ``Date`` column plus one column per ticker, as
``yf.download(...)["Close"].to_csv()`` writes it).

Layouts accepted for one-ticker files: ``Date,Open,High,Low,Close,Adj Close,Volume`` (classic),
``Date,Close,High,Low,Open,Volume`` (newer yfinance, already adjusted), ``Datetime,...`` with a
time-zone offset (``Ticker.history()``), ``Date,Close,Volume``; with or without a trailing newline,
LF or CRLF. The close used is ``Adj Close`` when present, else ``Close``. A ``Volume`` column of a
one-ticker file becomes that symbol's daily volumes (issue #16: liquidity); wide files of closes
have none. A volume of 0 is a value (no trade that day); a negative or non-numeric one is refused.

Symbols: a one-ticker file is named after its ticker (the part before the first ``_``:
``EPAC.csv``, ``TNX_daily_yfinance.csv``, ``^GSPC.csv``); wide-file columns are tickers in any
spelling (``MOGA`` -> ``MOG-A``, see :mod:`desktop.data.symbols`). Benchmarks go to ``market``:
``^TNX``/``TNX`` -> ``yield_10y`` (percent), ``IWM``, ``SPY``, ``^GSPC``/``GSPC`` -> ``GSPC``,
``^RUT``/``RUT`` -> ``RUT``. Non-positive closes are dropped as missing (with a warning); bad
prints that revert are left for the metrics' outlier handling.

Dates (issue #13): ``YYYY-MM-DD`` (optionally followed by a time, whose first ten characters are
the exchange's local date) or ``a/b/YYYY`` when the column itself shows which number is the day
(see :func:`desktop.data._text.slashed_date_order`); an empty or unreadable date, or one outside
:func:`desktop.data._text.date_window`, is refused with its line. Files are read one at a time
through :func:`desktop.data._text.read_bytes` (size cap ``MAX_BYTES["prices"]`` per file), so a
folder of 2,000 files never holds more than one file's text.
"""

from __future__ import annotations

import io
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from desktop.data import symbols
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
    slashed_date_order,
)
from desktop.data.source import SourceData
from desktop.engine.formatting import counted
from desktop.errors import InputError

MARKET = {"^TNX": "yield_10y", "TNX": "yield_10y", "IWM": "IWM", "SPY": "SPY", "^GSPC": "GSPC",
          "GSPC": "GSPC", "^RUT": "RUT", "RUT": "RUT"}
_OHLC = {"open", "high", "low", "close", "adj close", "volume", "dividends", "stock splits",
         "capital gains", "repaired?"}
_DATE_NAMES = ("date", "datetime")
_MAX_PRICE = 1e9


def read_prices(paths: str | Path | Sequence[str | Path], *, today: date | None = None) -> SourceData:
    """Read price files and/or folders of them into one SourceData.

    Args:
        paths: files and/or folders of ``.csv``/``.txt`` files.
        today: the end of the accepted date window is one year after it (default: the UTC date).

    Raises:
        InputError: a malformed file (names file, line and column) or an empty folder.
    """
    if isinstance(paths, str | Path):
        paths = [paths]
    return _parse_prices(_files(list(map(Path, paths))), today=today)


def _files(paths: list[Path]) -> Iterator[tuple[bytes, str]]:
    """Each file's bytes in turn (folders expanded), read only when the parser asks for it."""
    for p in paths:
        if p.is_dir():
            found = sorted(f for f in p.iterdir() if f.suffix.lower() in (".csv", ".txt") and f.is_file())
            if not found:
                raise InputError("the folder holds no .csv files", path=str(p))
            for f in found:
                yield read_bytes(f, "prices"), str(f)
        else:
            yield read_bytes(p, "prices"), str(p)


def _parse_prices(files: Iterable[tuple[bytes, str]], *, today: date | None = None) -> SourceData:
    warnings: list[str] = []
    price_parts: list[pd.DataFrame] = []
    market_parts: list[pd.DataFrame] = []
    volume_parts: list[pd.DataFrame] = []
    rows = 0
    origins: list[str] = []
    dated: list[tuple[str, date | None]] = []
    for data, origin in files:
        origins.append(origin)
        frame, n, volume = _parse_one(data, origin, warnings, today)
        del data  # the text of one file at a time
        dated.append((origin, frame.index.max().date() if len(frame.index) else None))
        rows += n
        if volume is not None and not set(volume.columns) & set(MARKET):
            volume_parts.append(volume)
        market_cols = [c for c in frame.columns if c in MARKET]
        if market_cols:
            market_parts.append(frame[market_cols].rename(columns=MARKET))
        rest = frame.drop(columns=market_cols)
        if len(rest.columns):
            price_parts.append(rest)
    if not origins:
        raise InputError("no price files given")
    prices = _combine(price_parts, warnings)
    market = _combine(market_parts, warnings)
    volumes = _combine(volume_parts, [])  # a repeat is already reported for the closes
    dates = [f.index.max() for f in (prices, market) if len(f.index)]
    as_of = max(dates).date() if dates else None
    origin = origins[0] if len(origins) == 1 else f"{len(origins)} files from {Path(origins[0]).parent}"
    return SourceData(source="prices", origin=origin, as_of=as_of, fetched_at=now_utc(), prices=prices,
                      market=market, volumes=volumes if len(volumes.columns) else None, warnings=warnings,
                      rows_read=rows, files=tuple(dated))


def _combine(parts: list[pd.DataFrame], warnings: list[str]) -> pd.DataFrame:
    """One wide frame from many; a symbol in several files: the later file wins on common dates."""
    if not parts:
        return pd.DataFrame(index=pd.DatetimeIndex([], name="date"), dtype="float64")
    counts = Counter(c for part in parts for c in part.columns)
    repeated = [c for c, n in counts.items() if n > 1]
    if repeated:
        warnings.append(f"{', '.join(map(str, repeated[:5]))} appear in more than one file; the later file "
                        "wins on common dates")
    # One concat for the usual case (a folder of 2,000 one-ticker files): joining them one by one
    # would copy the growing frame each time.
    single = [part if all(counts[c] == 1 for c in part.columns)
              else part[[c for c in part.columns if counts[c] == 1]] for part in parts]
    single = [f for f in single if len(f.columns)]
    out = pd.concat(single, axis=1, join="outer", sort=True) if single else pd.DataFrame(
        index=pd.DatetimeIndex([], name="date"), dtype="float64")
    for name in repeated:
        merged: pd.Series | None = None
        for part in parts:
            if name in part.columns:
                merged = part[name] if merged is None else part[name].combine_first(merged)
        assert merged is not None
        out = out.join(merged.rename(name), how="outer") if len(out.columns) else merged.rename(name).to_frame()
    out = out.sort_index()
    out.index.name = "date"
    return out.astype("float64")


def _symbol_from_name(origin: str) -> str:
    stem = Path(origin).stem.strip()
    token = stem.split("_", 1)[0].strip().upper()
    if not symbols.is_valid_ticker(token):
        raise InputError(f"cannot tell the ticker from the file name {Path(origin).name!r} (name one-ticker "
                         "files after their ticker, e.g. EPAC.csv)", path=origin)
    return token


def _parse_one(data: bytes, origin: str, warnings: list[str],
               today: date | None = None) -> tuple[pd.DataFrame, int, pd.DataFrame | None]:
    text = decode(data, origin, warnings)
    start = len(text) - len(text.lstrip())
    names = check_header(text, origin, start=start, line=text.count("\n", 0, start) + 1, duplicates=False)
    first_cell = names[0].strip('"') if names else ""
    fast = first_cell.lower() in _DATE_NAMES
    if first_cell not in ("Price", "Ticker"):  # yfinance's two-level header repeats names on purpose
        check_header(text, origin, start=start, line=text.count("\n", 0, start) + 1)
    check_truncated(text, origin)
    check_rows(text, origin, start=start, line=text.count("\n", 0, start) + 1)
    try:
        # Fast path: let the C parser read the numbers; a column it cannot read as float stays
        # text and goes through the strict parser below, which names the bad cell.
        frame = pd.read_csv(io.StringIO(text), dtype={first_cell: str} if fast else str,
                            keep_default_na=False, na_values=[""] if fast else None,
                            na_filter=fast, skip_blank_lines=True, engine="c", low_memory=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError, OverflowError) as exc:
        raise csv_error(exc, origin) from None
    check_parsed_shape(frame, names, origin)
    if first_cell not in ("Price", "Ticker"):
        frame = drop_duplicate_columns(frame, text, origin)
    else:
        frame.columns = [str(c).strip() for c in frame.columns]
    first_header_line = 1
    # yf.download(...).to_csv() with a two-level header: "Price,Close,..."/"Ticker,AAA,..."/"Date,,"
    if frame.columns[0] in ("Price", "Ticker") and len(frame) >= 1:
        ticker_row = frame.iloc[0] if frame.columns[0] == "Price" else None
        names = list(ticker_row) if ticker_row is not None and ticker_row.iloc[0] == "Ticker" else list(frame.columns)
        skip = 1 + (ticker_row is not None and ticker_row.iloc[0] == "Ticker")
        while skip < len(frame) + 1 and str(frame.iloc[skip - 1, 0]).strip().lower() in ("date", "ticker", "datetime"):
            skip += 1
        frame = frame.iloc[skip - 1:].reset_index(drop=True)
        frame.columns = ["Date"] + [str(n).strip() for n in names[1:]]
        first_header_line = skip
    if not len(frame.columns) or frame.columns[0].lower() not in _DATE_NAMES:
        raise InputError(f"the first column must be Date or Datetime (found {frame.columns[0][:30]!r})",
                         path=origin, line=1, field=frame.columns[0][:30])
    lines = np.arange(len(frame)) + 1 + first_header_line
    dates = _dates(frame.iloc[:, 0], origin, lines, frame.columns[0], today)
    lower = {c.lower(): c for c in frame.columns[1:]}
    volume: np.ndarray | None = None
    if "close" in lower or "adj close" in lower:
        col = lower.get("adj close") or lower["close"]
        symbol = _symbol_from_name(origin)
        if symbol in MARKET and MARKET[symbol] == "yield_10y":
            col = lower.get("close", col)  # the yield itself, never "adjusted"
        names = [symbol]
        matrix = _numbers(frame[col], origin, lines, col)[:, None]
        if "volume" in lower:
            volume = _volumes(frame[lower["volume"]], origin, lines, lower["volume"])
    else:
        names, positions = [], []
        for pos, c in enumerate(frame.columns[1:], start=1):
            if c.lower() in _OHLC or not c:
                continue
            if not symbols.is_valid_ticker(c):
                raise InputError(f"{c[:30]!r} is not a ticker column", path=origin, line=first_header_line, field=c[:30])
            key = c.strip().upper()
            sym = key if key in MARKET else symbols.to_yahoo(key)
            if sym in names:
                warnings.append(f"{origin}: column {c!r} repeats {sym}; kept the first")
                continue
            names.append(sym)
            positions.append(pos)
        if not names:
            raise InputError("no Close column and no ticker columns", path=origin, line=first_header_line)
        block = frame.iloc[:, positions]
        if all(pd.api.types.is_float_dtype(t) or pd.api.types.is_integer_dtype(t) for t in block.dtypes):
            matrix = block.to_numpy(dtype="float64")  # the usual case: one array, no per-column work
            _refuse_inf(matrix, origin, lines, list(block.columns))
        else:
            matrix = np.column_stack([_numbers(block.iloc[:, j], origin, lines, str(block.columns[j]))
                                      for j in range(block.shape[1])])
    matrix = _clean(matrix, names, origin, lines, warnings)
    wide = pd.DataFrame(matrix, index=pd.DatetimeIndex(dates, name="date"), columns=pd.Index(names, dtype=object))
    volumes = None if volume is None else pd.DataFrame({names[0]: np.where(np.isnan(matrix[:, 0]), np.nan, volume)},
                                                       index=wide.index)
    if wide.index.has_duplicates:
        dup = wide.index.duplicated(keep="last")
        warnings.append(f"{origin}: line {int(lines[np.flatnonzero(dup)[0]])}: {counted(int(dup.sum()), 'repeated date')}; "
                        "kept the last row of each")
        wide = wide[~dup]
        volumes = None if volumes is None else volumes[~dup]
    return wide.sort_index(), len(frame), None if volumes is None else volumes.sort_index()


def _volumes(col: pd.Series, origin: str, lines: np.ndarray, name: str) -> np.ndarray:
    """A Volume column: shares traded per day (empty = missing); a negative volume is refused."""
    values = _numbers(col, origin, lines, name)
    bad = values < 0
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InputError(f"a volume of {values[i]:g} is not a number of shares", path=origin, line=int(lines[i]),
                         field=name)
    return values


def _refuse_inf(matrix: np.ndarray, origin: str, lines: np.ndarray, columns: list[str]) -> None:
    bad = np.isinf(matrix)
    if bad.any():
        i, j = (int(k[0]) for k in np.nonzero(bad))
        spelled = "inf" if matrix[i, j] > 0 else "-inf"
        raise InputError(f"{spelled!r} is not a number", path=origin, line=int(lines[i]), field=str(columns[j])[:30])


def _numbers(col: pd.Series, origin: str, lines: np.ndarray, name: str) -> np.ndarray:
    if pd.api.types.is_float_dtype(col.dtype) or pd.api.types.is_integer_dtype(col.dtype):
        values = col.to_numpy(dtype="float64")
        _refuse_inf(values[:, None], origin, lines, [name])
        return values
    return numeric_column(col.astype(object).where(col.notna(), "").astype(str), origin, lines, name)


def _dates(col: pd.Series, origin: str, lines: np.ndarray, name: str, today: date | None = None) -> np.ndarray:
    """The Date column as ``datetime64[ns]`` (see the module docstring for the accepted forms)."""
    raw = col.astype(object).where(col.notna(), "").astype(str).str.strip()
    empty = (raw == "").to_numpy()
    if empty.any():  # issue #13: an empty Date cell crashed the reader (AttributeError)
        i = int(np.flatnonzero(empty)[0])
        raise InputError("the date is empty", path=origin, line=int(lines[i]), field=name)
    # Fast path: plain ISO dates, as Yahoo writes them.
    dates = pd.to_datetime(raw, format="%Y-%m-%d", errors="coerce")
    if dates.isna().any():
        # "2022-01-03 00:00:00-05:00": the first ten characters are the exchange's local date.
        iso = raw.str.fullmatch(r"\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?([+-]\d{2}:?\d{2}|Z)?)?")
        dates = pd.to_datetime(raw.str.slice(0, 10).where(iso, ""), format="%Y-%m-%d", errors="coerce")
    if dates.isna().any():
        dates = _slashed(raw, dates, origin, lines, name)
    if dates.isna().any():
        i = int(np.flatnonzero(dates.isna().to_numpy())[0])
        raise InputError(f"{str(raw.iloc[i])[:30]!r} is not a date (YYYY-MM-DD)", path=origin,
                         line=int(lines[i]), field=name)
    return dates_in_window(dates, raw, origin, lines, name, today)


def _slashed(raw: pd.Series, dates: pd.Series, origin: str, lines: np.ndarray, name: str) -> pd.Series:
    """Fill the dates written ``a/b/YYYY`` (Excel saves), in the order the column shows."""
    parts = raw.str.split(" ").str[0].str.extract(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")
    slashed = parts[0].notna().to_numpy() & dates.isna().to_numpy()
    if not slashed.any():
        return dates
    first = parts[0][slashed].astype(int).to_numpy()
    second = parts[1][slashed].astype(int).to_numpy()
    order = slashed_date_order(first, second, origin, int(lines[np.flatnonzero(slashed)[0]]), name)
    fmt = "%d/%m/%Y" if order == "dmy" else "%m/%d/%Y"
    alt = pd.to_datetime(raw.str.split(" ").str[0].where(slashed, ""), format=fmt, errors="coerce")
    return dates.fillna(alt)


def _clean(matrix: np.ndarray, names: list[str], origin: str, lines: np.ndarray,
           warnings: list[str]) -> np.ndarray:
    """Drop closes that cannot be prices (<= 0, absurdly large), with one warning per column."""
    is_price = np.array([MARKET.get(n) != "yield_10y" for n in names])
    with np.errstate(invalid="ignore"):
        bad = ((matrix <= 0) | (matrix > _MAX_PRICE)) & is_price[None, :]
    if not bad.any():
        return matrix
    for j in np.flatnonzero(bad.any(axis=0)):
        i = int(np.flatnonzero(bad[:, j])[0])
        warnings.append(f"{origin}: line {int(lines[i])}: {int(bad[:, j].sum())} non-positive or absurd closes for "
                        f"{names[j]} treated as missing")
    return np.where(bad, np.nan, matrix)

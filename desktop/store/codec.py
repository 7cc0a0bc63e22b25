"""Compact, safe binary encoding of DataFrames for snapshot parts (never pickle).

A frame becomes one byte string: a 4-byte header length, a JSON header describing the index and
each column, then the column buffers. Numeric, boolean and datetime columns are stored as their
raw numpy bytes (NaN and NaT survive exactly); everything else (text, categories, mixed objects)
is dictionary-encoded: a JSON list of the distinct values plus int32 codes, ``-1`` for missing.
:func:`encode_frames` puts several named frames and a JSON header into one byte string (as pieces).
:func:`compress` / :func:`decompress` wrap the bytes in zlib.
"""

from __future__ import annotations

import json
import struct
import zlib
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, cast

import numpy as np
import pandas as pd

_HEADER = struct.Struct("<I")
_SERIES_HEADER = struct.Struct("<II")
_RAW_KINDS = frozenset("biufcmM")  # numpy kinds stored as raw bytes
FORMAT_VERSION = 1  # of one frame (encode_frame)
FRAMES_VERSION = 2  # of several (encode_frames): 2 puts each frame's length before it


class CodecError(ValueError):
    """The bytes are not a frame this version can read (a bug or a corrupt blob)."""


def compress(raw: bytes, level: int = 3) -> bytes:
    return zlib.compress(raw, level)


def compress_chunks(chunks: Iterable[bytes], level: int = 3) -> tuple[bytes, int]:
    """``(compress(b"".join(chunks)), len(b"".join(chunks)))`` without joining them, each piece
    compressed as it comes (see :func:`encode_frames`)."""
    packer = zlib.compressobj(level)
    out: list[bytes] = []
    size = 0
    for chunk in chunks:
        size += len(chunk)
        out.append(packer.compress(chunk))
    out.append(packer.flush())
    return b"".join(out), size


def decompress(payload: bytes) -> bytes:
    try:
        return zlib.decompress(payload)
    except zlib.error as exc:
        raise CodecError(f"corrupt compressed part: {exc}") from exc


def json_value(value: Any) -> Any:
    """A JSON-safe version of one object-column value (None for any kind of missing)."""
    if value is None or value is pd.NaT:
        return None
    if isinstance(value, float) and np.isnan(value):
        return None
    if isinstance(value, np.generic):
        return json_value(value.item())
    if isinstance(value, pd.Timestamp | np.datetime64):
        return {"__ts__": pd.Timestamp(value).isoformat()}
    if isinstance(value, tuple | list):
        return {"__tuple__": [json_value(v) for v in value]}
    if hasattr(value, "isoformat"):  # datetime.date
        return {"__date__": value.isoformat()}
    return value


def from_json(value: Any) -> Any:
    if isinstance(value, dict):
        if "__ts__" in value:
            return pd.Timestamp(value["__ts__"])
        if "__date__" in value:
            return pd.Timestamp(value["__date__"]).date()
        if "__tuple__" in value:
            return tuple(from_json(v) for v in value["__tuple__"])
    return value


def _encode_array(values: Any, dtype: Any) -> tuple[dict[str, Any], list[bytes]]:
    """One column's header entry and buffers."""
    if isinstance(dtype, np.dtype) and dtype.kind in _RAW_KINDS:
        arr = np.ascontiguousarray(np.asarray(values, dtype=dtype))
        return {"enc": "raw", "dtype": dtype.str}, [arr.tobytes()]
    if isinstance(dtype, pd.CategoricalDtype):  # keep the categories even when unused
        cat = pd.Categorical(values, dtype=dtype)
        return ({"enc": "category", "dtype": "category", "ordered": bool(dtype.ordered),
                 "categories": [json_value(v) for v in dtype.categories]},
                [np.asarray(cat.codes, dtype=np.int32).tobytes()])
    # Extension dtypes (str, string, Int64, ...) and object columns.
    obj = np.asarray(pd.Series(values, dtype=dtype).astype(object), dtype=object)
    try:
        # C-speed dictionary encoding; None/NaN/NaT/NA become code -1. (Equal-hashing values such
        # as True and 1 would merge; columns here hold one Python type each.)
        codes, distinct = pd.factorize(obj, use_na_sentinel=True)
        uniques = [json_value(v) for v in distinct]
    except TypeError:  # unhashable values (lists): dedupe on their JSON text instead
        codes = np.full(len(obj), -1, dtype=np.int64)
        uniques, seen = [], {}
        for pos, value in enumerate(obj):
            key = json_value(value)
            if key is None:
                continue
            token = json.dumps(key, sort_keys=True)
            if token not in seen:
                seen[token] = len(uniques)
                uniques.append(key)
            codes[pos] = seen[token]
    return ({"enc": "dict", "dtype": str(dtype), "uniques": uniques},
            [np.asarray(codes, dtype=np.int32).tobytes()])


def _decode_array(entry: dict[str, Any], buffer: bytes, n: int) -> Any:
    if entry["enc"] == "raw":
        return np.frombuffer(buffer, dtype=np.dtype(entry["dtype"])).copy()
    codes = np.frombuffer(buffer, dtype=np.int32)
    if entry["enc"] == "category":
        categories = pd.Index([from_json(v) for v in entry["categories"]])
        return pd.Categorical.from_codes(codes, categories=categories, ordered=entry["ordered"])
    uniques = np.empty(len(entry["uniques"]) + 1, dtype=object)
    uniques[:-1] = [from_json(v) for v in entry["uniques"]]
    uniques[-1] = None  # code -1 indexes the last slot: missing
    values = uniques[codes] if n else np.empty(0, dtype=object)
    dtype_name = entry["dtype"]
    if dtype_name == "object":
        return values
    try:
        dtype = pd.api.types.pandas_dtype(dtype_name)
    except TypeError:  # a dtype this pandas does not know (written by another version)
        return values
    if isinstance(dtype, pd.CategoricalDtype):
        return pd.Categorical(values)
    return pd.array(values, dtype=cast(Any, dtype))


def encode_frame(frame: pd.DataFrame) -> bytes:
    """Encode ``frame`` (string column names; any index) to bytes. Inverse: :func:`decode_frame`."""
    columns: list[dict[str, Any]] = []
    buffers: list[bytes] = []
    for name in frame.columns:
        if not isinstance(name, str):
            raise CodecError(f"column names must be text, got {name!r}")
        entry, bufs = _encode_array(frame[name].to_numpy(), frame[name].dtype)
        entry["name"] = name
        columns.append(entry)
        buffers.extend(bufs)
    idx = frame.index
    if isinstance(idx, pd.RangeIndex):
        index_entry: dict[str, Any] = {"enc": "range", "start": idx.start, "step": idx.step}
    else:
        index_entry, bufs = _encode_array(idx.to_numpy(), idx.dtype)
        buffers.extend(bufs)
    index_entry["name"] = idx.name
    sizes = [len(b) for b in buffers]
    header = json.dumps({"v": FORMAT_VERSION, "n": len(frame), "index": index_entry,
                         "columns": columns, "sizes": sizes}).encode()
    return b"".join([_HEADER.pack(len(header)), header, *buffers])


def decode_frame(raw: bytes) -> pd.DataFrame:
    """Decode bytes made by :func:`encode_frame`."""
    try:
        (hlen,) = _HEADER.unpack_from(raw, 0)
        header = json.loads(raw[_HEADER.size:_HEADER.size + hlen])
    except (struct.error, ValueError) as exc:
        raise CodecError(f"corrupt frame header: {exc}") from exc
    if header.get("v") != FORMAT_VERSION:
        raise CodecError(f"unknown frame format version {header.get('v')!r}")
    n = header["n"]
    offset = _HEADER.size + hlen
    chunks = []
    for size in header["sizes"]:
        chunks.append(raw[offset:offset + size])
        offset += size
    chunk_iter = iter(chunks)
    arrays = {c["name"]: _decode_array(c, next(chunk_iter), n) for c in header["columns"]}
    ientry = header["index"]
    if ientry["enc"] == "range":
        index: pd.Index = pd.RangeIndex(ientry["start"], ientry["start"] + n * ientry["step"],
                                        ientry["step"], name=ientry["name"])
    else:
        values = _decode_array(ientry, next(chunk_iter), n)
        keep_object = isinstance(values, np.ndarray) and values.dtype == object
        index = pd.Index(values, name=ientry["name"], dtype=object if keep_object else None)
    return frame_from_arrays(arrays, index)


def encode_frames(frames: Mapping[str, pd.DataFrame], meta: dict[str, Any]) -> Iterator[bytes]:
    """Named frames plus a JSON-able ``meta`` dict, as the pieces of one byte string: a header naming
    the frames, then each frame's length and bytes. Joined, they are what :func:`decode_frames`
    reads. A frame is encoded only when the stream reaches it, so :func:`compress_chunks` holds one
    frame's bytes at a time (a cached table's are ~18 MB in all: issue #17, the first start's peak
    memory)."""
    header = json.dumps({"v": FRAMES_VERSION, "meta": meta, "names": list(frames)}).encode()
    yield _HEADER.pack(len(header))
    yield header
    for frame in frames.values():
        body = encode_frame(frame)
        yield _HEADER.pack(len(body))
        yield body


def decode_frames(raw: bytes) -> tuple[dict[str, Any], dict[str, pd.DataFrame]]:
    """``(meta, frames)`` from the joined pieces made by :func:`encode_frames`."""
    try:
        (hlen,) = _HEADER.unpack_from(raw, 0)
        header = json.loads(raw[_HEADER.size:_HEADER.size + hlen])
        names = [str(name) for name in header["names"]]
        version = header.get("v")
    except (struct.error, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise CodecError(f"corrupt frames header: {exc}") from exc
    if version != FRAMES_VERSION:
        raise CodecError(f"unknown frames format version {version!r}")
    offset = _HEADER.size + hlen
    frames = {}
    for name in names:
        if offset + _HEADER.size > len(raw):
            raise CodecError("the frames are cut short")
        (size,) = _HEADER.unpack_from(raw, offset)
        offset += _HEADER.size
        if offset + size > len(raw):
            raise CodecError("the frames are cut short")
        frames[name] = decode_frame(raw[offset:offset + size])
        offset += size
    if offset != len(raw):
        raise CodecError("the frames have trailing bytes")
    return dict(header["meta"]), frames


def frame_from_arrays(arrays: dict[str, Any], index: pd.Index) -> pd.DataFrame:
    """A DataFrame from decoded columns, keeping object columns object (pandas 3 would otherwise
    infer its string dtype from an object array of text)."""
    if not arrays:
        return pd.DataFrame(index=index)
    # Columns of one numpy dtype become one 2-D block: pandas would otherwise build and validate
    # each column on its own (152 datetime columns of a cached table: 79 ms -> 3 ms). Object
    # columns stay object (pandas 3 would otherwise infer its string dtype from text).
    by_dtype: dict[np.dtype, list[str]] = {}
    for name, arr in arrays.items():
        if isinstance(arr, np.ndarray) and arr.ndim == 1:
            by_dtype.setdefault(arr.dtype, []).append(name)
    parts = [pd.DataFrame(np.stack([arrays[n] for n in names]).T, index=index, columns=names, dtype=dtype,
                          copy=False) for dtype, names in by_dtype.items()]
    blocked = {name for names in by_dtype.values() for name in names}
    rest = {name: arr for name, arr in arrays.items() if name not in blocked}  # extension arrays
    if rest:
        parts.append(pd.DataFrame(rest, index=index, copy=False))
    frame = parts[0] if len(parts) == 1 else pd.concat(parts, axis=1)
    names = list(arrays)
    return frame if list(frame.columns) == names else frame[names]


def encode_series(dates: np.ndarray, values: np.ndarray) -> bytes:
    """One symbol's daily closes, self-compressed: zlib of the int32 day-number steps (tiny),
    then the float64 values raw - random closes do not compress, and skipping zlib for them
    makes loading 2,000 symbols several times faster."""
    days = np.asarray(dates, dtype="datetime64[D]").astype(np.int64)
    steps = np.diff(days, prepend=0).astype(np.int32) if len(days) else np.zeros(0, np.int32)
    packed_days = zlib.compress(steps.tobytes(), 6)
    vals = np.ascontiguousarray(values, dtype=np.float64)
    return _SERIES_HEADER.pack(len(days), len(packed_days)) + packed_days + vals.tobytes()


def decode_series(raw: bytes) -> tuple[np.ndarray, np.ndarray]:
    """Inverse of :func:`encode_series`: (datetime64[D] dates, float64 values)."""
    try:
        n, packed_len = _SERIES_HEADER.unpack_from(raw, 0)
        start = _SERIES_HEADER.size
        steps = np.frombuffer(zlib.decompress(raw[start:start + packed_len]), dtype=np.int32)
        vals = np.frombuffer(raw, dtype=np.float64, count=n, offset=start + packed_len)
    except (struct.error, zlib.error, ValueError) as exc:
        raise CodecError(f"corrupt price series: {exc}") from exc
    return np.cumsum(steps, dtype=np.int64).astype("datetime64[D]"), vals


def jsonable(obj: Any) -> Any:
    """``obj`` made safe for a JSON column: NaN -> None, numpy scalars -> Python, dates -> ISO text,
    tuples/sets -> lists. (Free-form dicts such as import summaries and source lists.)"""
    if obj is None or isinstance(obj, bool | str | int):
        return obj
    if isinstance(obj, float):
        return None if obj != obj or obj in (float("inf"), float("-inf")) else obj
    if isinstance(obj, np.generic):
        return jsonable(obj.item())
    if obj is pd.NaT:
        return None
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [jsonable(v) for v in obj]
    if isinstance(obj, set | frozenset):
        return sorted((jsonable(v) for v in obj), key=str)
    if hasattr(obj, "isoformat"):
        return obj.isoformat()
    return str(obj)

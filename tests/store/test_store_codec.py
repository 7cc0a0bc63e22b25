"""The frame codec of snapshot parts: exact round trips, no pickle, clear errors on bad bytes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from desktop.store import codec


def _round_trip(frame: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(codec.decode_frame(codec.decompress(codec.compress(codec.encode_frame(frame)))),
                                  frame, check_freq=False)


def test_every_column_kind_round_trips() -> None:
    frame = pd.DataFrame({
        "f": [1.5, np.nan, -np.inf], "i": np.array([1, 2, 3], dtype=np.int64), "b": [True, False, True],
        "s": pd.array(["x", None, "ü"], dtype="str"), "o": np.array(["p", None, 3], dtype=object),
        "t": pd.to_datetime(["2024-01-01", None, "2024-01-03"]),
        "tz": pd.to_datetime(["2024-01-01 10:00", None, "2024-01-03 00:00"]).tz_localize("UTC"),
        "tags": [("AI", "Cloud"), (), None], "I": pd.array([1, None, 3], dtype="Int64"),
        "c": pd.Categorical(["a", "b", None])},
        index=pd.Index(["ZA", "ZB", "ZC"], name="symbol", dtype=object))
    _round_trip(frame)
    _round_trip(frame.iloc[0:0])
    _round_trip(pd.DataFrame(index=pd.DatetimeIndex([], name="date")))
    _round_trip(pd.DataFrame({"x": [1.0, 2.0]}, index=pd.bdate_range("2024-01-01", periods=2, name="date")))


def test_columns_of_one_dtype_decode_as_one_block_in_their_order() -> None:
    # Interleaved kinds: several float, datetime and object columns each become one block, and
    # the frame keeps its column order, values and contiguous columns.
    rng = np.random.default_rng(7)
    n = 50
    columns: dict[str, object] = {}
    for k in range(4):
        columns[f"f{k}"] = rng.normal(size=n)
        columns[f"t{k}"] = pd.to_datetime(rng.integers(0, 10_000, n), unit="D").where(rng.random(n) > 0.2)
        columns[f"o{k}"] = pd.Series([None if v < 0.3 else f"x{v:.2f}" for v in rng.random(n)], dtype=object)
        columns[f"s{k}"] = pd.array([None if v < 0.3 else "y" for v in rng.random(n)], dtype="str")
    columns["i"] = rng.integers(0, 9, n)
    index = pd.Index([f"S{k}" for k in range(n)], name="symbol", dtype=object)
    frame = pd.DataFrame({k: v.set_axis(index) if isinstance(v, pd.Series) else v for k, v in columns.items()},
                         index=index)
    assert frame["o0"].dtype == object
    out = codec.decode_frame(codec.encode_frame(frame))
    pd.testing.assert_frame_equal(out, frame)
    assert all(out[f"f{k}"].to_numpy().flags["C_CONTIGUOUS"] for k in range(4))
    assert out["o0"].dtype == object


def test_lists_are_stored_as_tuples_and_names_must_be_text() -> None:
    out = codec.decode_frame(codec.encode_frame(pd.DataFrame({"l": [[1, 2], None]})))
    assert out["l"].tolist() == [(1, 2), None]
    with pytest.raises(codec.CodecError, match="column names must be text"):
        codec.encode_frame(pd.DataFrame({1: [1.0]}))


def test_no_pickle_and_clear_errors() -> None:
    raw = codec.encode_frame(pd.DataFrame({"o": np.array([{"a": 1}], dtype=object)}))
    assert b"pickle" not in raw and b"\x80\x04" not in raw
    with pytest.raises(codec.CodecError):
        codec.decode_frame(b"\xff\xff\xff\x7fnot a frame")
    with pytest.raises(codec.CodecError):
        codec.decompress(b"not zlib")
    with pytest.raises(codec.CodecError):
        codec.decode_series(b"\x05\x00\x00\x00\x05\x00\x00\x00xx")


def test_series_round_trip_keeps_gaps() -> None:
    dates = np.array(["2024-01-02", "2024-01-03", "2024-01-08"], dtype="datetime64[D]")
    values = np.array([1.0, 2.5, -3.0])
    got_dates, got_values = codec.decode_series(codec.encode_series(dates, values))
    np.testing.assert_array_equal(got_dates, dates)
    np.testing.assert_array_equal(got_values, values)
    empty_dates, empty_values = codec.decode_series(codec.encode_series(dates[:0], values[:0]))
    assert len(empty_dates) == len(empty_values) == 0


def test_jsonable() -> None:
    from datetime import date

    assert codec.jsonable({"a": np.float64("nan"), "b": (1, np.int64(2)), "c": date(2026, 5, 5),
                           "d": {3, 1}, 4: float("inf")}) == {"a": None, "b": [1, 2], "c": "2026-05-05",
                                                              "d": [1, 3], "4": None}


texts = st.one_of(st.none(), st.text(max_size=8))
floats = st.floats(allow_nan=True, allow_infinity=True)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(floats, texts, st.booleans(), st.integers(-2**62, 2**62)), max_size=30))
def test_random_frames_round_trip(rows: list[tuple[float, str | None, bool, int]]) -> None:
    frame = pd.DataFrame({
        "f": np.array([r[0] for r in rows], dtype=np.float64),
        "s": pd.array([r[1] for r in rows], dtype="str"),
        "o": np.array([r[1] for r in rows], dtype=object),
        "b": np.array([r[2] for r in rows], dtype=bool),
        "i": np.array([r[3] for r in rows], dtype=np.int64),
    })
    _round_trip(frame)


def test_pieces_compress_as_their_join() -> None:
    frames = {"a": pd.DataFrame({"x": [1.0, 2.0]}), "b": pd.DataFrame({"s": pd.Series(["p", None], dtype=object)})}
    pieces = list(codec.encode_frames(frames, {"k": 1}))
    assert len(pieces) == 6  # header length, header, then each frame's length and bytes
    joined = b"".join(pieces)
    payload, size = codec.compress_chunks(iter(pieces))
    assert codec.decompress(payload) == joined and size == len(joined)
    for cut in (joined[:-1], joined[:10], joined + b"x"):
        with pytest.raises(codec.CodecError):
            codec.decode_frames(cut)
    meta, out = codec.decode_frames(joined)
    assert meta == {"k": 1}
    pd.testing.assert_frame_equal(out["b"], frames["b"])

"""Property-based fuzzing of the Yahoo readers: no input crashes them; bad input is an InputError
(files) or a skipped payload with its reason (cached payloads)."""

from __future__ import annotations

import json
import math
import tempfile
from datetime import datetime
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from desktop.data import yahoo
from desktop.data.yahoo import CachedPayload, read_yahoo_json
from desktop.errors import InputError

scalars = st.one_of(st.none(), st.booleans(), st.integers(min_value=-(10**30), max_value=10**30),
                    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=30))
json_values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=12), inner, max_size=4)), max_leaves=20)
info_keys = st.sampled_from([k for k, *_ in yahoo.INFO_NUMERIC] + [k for k, _ in yahoo.INFO_TEXT]
                            + ["exchange", "firstTradeDateMilliseconds", "other"])
infos = st.dictionaries(info_keys, json_values, max_size=8)
documents = st.one_of(json_values, st.dictionaries(st.text(max_size=8), st.one_of(infos, json_values), max_size=5))

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(doc=documents)
def test_read_yahoo_json_never_crashes(doc: object) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "fuzz_2024-01-01.json"
        path.write_text(json.dumps(doc), encoding="utf-8")
        try:
            data = read_yahoo_json(path)
        except InputError as exc:
            assert str(path) in str(exc)
            return
    nums = data.observations["value_num"].dropna()
    assert all(math.isfinite(v) and abs(v) <= yahoo.MAX_ABS_VALUE for v in nums)


@FUZZ
@given(raw_bytes=st.binary(max_size=200))
def test_read_yahoo_json_survives_arbitrary_bytes(raw_bytes: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bytes.json"
        path.write_bytes(raw_bytes)
        try:
            read_yahoo_json(path)
        except InputError:
            pass


@FUZZ
@given(kind=st.sampled_from(yahoo.KINDS), payload=st.one_of(json_values, infos).map(json.dumps) | st.text(max_size=50))
def test_parse_raw_skips_what_it_cannot_read(kind: str, payload: str) -> None:
    data = yahoo.parse_raw({"QLWX": {kind: CachedPayload(payload, datetime(2024, 1, 2))}})
    assert data.rows_read == 1
    assert all(s.ticker == "QLWX" and s.reason for s in data.skipped)


def test_deeply_nested_cached_payload_is_skipped() -> None:
    data = yahoo.parse_raw({"QLWX": {"info": CachedPayload("[" * 100_000, datetime(2024, 1, 2))}})
    assert len(data.skipped) == 1

"""Fuzzing each reader's parser (issue #3): any bytes give a SourceData or an InputError -
never another exception, never a hang (Hypothesis' deadline catches slow inputs)."""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from desktop.data import finviz, fred, ishares, prices, simfin
from desktop.data.source import SourceData
from desktop.errors import InputError
from tests.finviz_fixture import SAMPLE_ROWS, finviz_csv_text

FIX = Path(__file__).resolve().parents[2] / "data_files"

PARSERS: dict[str, Callable[[bytes], SourceData]] = {
    "ishares": lambda b: ishares.parse_holdings_bytes(b, "fuzz.csv"),
    "finviz": lambda b: finviz._parse_finviz(b, "fuzz.csv"),
    "simfin": lambda b: simfin._parse_simfin([(b, "fuzz.csv")]),
    "fred": lambda b: fred._parse_fred(b, "fuzz.csv"),
    "prices": lambda b: prices._parse_prices([(b, "FUZZ.csv")]),
}
SEEDS: dict[str, list[bytes]] = {
    "ishares": [(FIX / "ishares" / n).read_bytes() for n in ("fund_full.csv", "fund_shares_column.csv",
                                                            "fund_no_preamble.csv")],
    "finviz": [finviz_csv_text(SAMPLE_ROWS).encode("utf-8")],
    "simfin": [p.read_bytes() for p in sorted((FIX / "simfin").glob("*.csv"))],
    "fred": [p.read_bytes() for p in sorted((FIX / "fred").glob("*.csv"))],
    "prices": [p.read_bytes() for p in sorted((FIX / "prices").glob("*.csv"))],
}
TOKENS = [b",", b";", b'"', b"\n", b"\r\n", b"\xa0", b"\xc2\xa0", b"-", b".", b"nan", b"inf", b"1e308",
          b"-1", b"0", b"9" * 40, b"=HYPERLINK(", b"<html>", b"\x00", b"\xff\xfe", b"\xef\xbb\xbf", b"%",
          b"Ticker", b"Date", b"Fund Holdings as of", b"1,234.5", b"2026-13-45"]


@st.composite
def mutated(draw: st.DrawFn, kind: str) -> bytes:
    """A seed file with a few random edits: the inputs most likely to reach deep parser code."""
    data = bytearray(draw(st.sampled_from(SEEDS[kind])))
    for _ in range(draw(st.integers(1, 6))):
        if not data:
            break
        pos = draw(st.integers(0, len(data) - 1))
        op = draw(st.sampled_from(["insert", "delete", "replace", "truncate", "dup_line"]))
        if op == "insert":
            data[pos:pos] = draw(st.sampled_from(TOKENS) | st.binary(max_size=8))
        elif op == "delete":
            del data[pos:pos + draw(st.integers(1, 40))]
        elif op == "replace":
            data[pos:pos + 1] = draw(st.sampled_from(TOKENS))
        elif op == "truncate":
            del data[pos:]
        else:
            start = data.rfind(b"\n", 0, pos) + 1
            end = data.find(b"\n", pos)
            end = len(data) if end < 0 else end + 1
            data[end:end] = data[start:end]
    return bytes(data)


def _check(kind: str, data: bytes) -> None:
    try:
        result = PARSERS[kind](data)
    except InputError as exc:
        assert str(exc)  # a message for the user
        return
    assert isinstance(result, SourceData)


FUZZ = settings(max_examples=int(os.environ.get("PICKAXE_FUZZ_EXAMPLES", "120")), deadline=timedelta(seconds=3),
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@pytest.mark.parametrize("kind", sorted(PARSERS))
@FUZZ
@given(data=st.data())
def test_mutated_files(kind: str, data: st.DataObject) -> None:
    _check(kind, data.draw(mutated(kind)))


@pytest.mark.parametrize("kind", sorted(PARSERS))
@FUZZ
@given(raw=st.binary(max_size=600))
def test_random_bytes(kind: str, raw: bytes) -> None:
    _check(kind, raw)


@pytest.mark.parametrize("kind", sorted(PARSERS))
@FUZZ
@given(text=st.text(alphabet=st.sampled_from(list(',;"\n\r -.0123456789abcDTe%\u00a0')), max_size=400))
def test_csv_like_text(kind: str, text: str) -> None:
    _check(kind, text.encode("utf-8"))

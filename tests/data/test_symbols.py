from __future__ import annotations

import pytest

from desktop.data import symbols


@pytest.mark.parametrize(
    ("ishares", "yahoo"),
    [
        ("MOGA", "MOG-A"), ("GEFB", "GEF-B"), ("CRDA", "CRD-A"),  # NYSE classes written without separator
        ("BATRA", "BATRA"), ("LILA", "LILA"), ("LILAK", "LILAK"), ("RUSHA", "RUSHA"), ("BELFA", "BELFA"),
        ("ZETA", "ZETA"), ("AAPL", "AAPL"),  # plain symbols that end in a class letter stay
        ("BRK.B", "BRK-B"), ("BRK/B", "BRK-B"), ("brk b", "BRK-B"), ("MOG-A", "MOG-A"),
        (" moga ", "MOG-A"),
    ],
)
def test_to_yahoo(ishares: str, yahoo: str) -> None:
    assert symbols.to_yahoo(ishares) == yahoo


@pytest.mark.parametrize("symbol", ["MOG-A", "GEF-B", "CRD-A", "BATRA", "AAPL"])
def test_round_trip(symbol: str) -> None:
    assert symbols.to_yahoo(symbols.to_ishares(symbol)) == symbol


def test_to_ishares() -> None:
    assert symbols.to_ishares("MOG-A") == "MOGA"
    assert symbols.to_ishares("XYZ-B") == "XYZB"


def test_every_exception_is_a_dashed_class() -> None:
    for ishares, yahoo in symbols.EXCEPTIONS.items():
        base, _, cls = yahoo.partition("-")
        assert base + cls == ishares and 1 <= len(cls) <= 2


@pytest.mark.parametrize("text", ["-", "", "=HYPERLINK(1)", "A" * 20, "P5N 99 9X X", "12,3"])
def test_invalid_tickers(text: str) -> None:
    assert not symbols.is_valid_ticker(text)


def test_dashed_candidates_only_suggest() -> None:
    assert symbols.dashed_candidates("ABCA") == ["ABC-A"]
    assert symbols.dashed_candidates("A1") == []

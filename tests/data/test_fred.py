from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pytest

from desktop.data import fred
from desktop.errors import InputError
from tests.conftest import shared_file
from tests.data.conftest import FIXTURES


@pytest.mark.parametrize(("name", "n", "last"), [("yields_new_header.csv", 3, 3.95),
                                                 ("yields_date_value.csv", 2, 9.9),
                                                 ("yields_old_dot.csv", 2, 5.08)])
def test_header_styles_and_holidays(name: str, n: int, last: float) -> None:
    src = fred.read_fred(FIXTURES / "fred" / name)
    y = src.market["yield_10y"]
    assert len(y) == n  # holidays (blank or ".") are dropped, never zero
    assert y.iloc[-1] == pytest.approx(last)
    assert (y > 0).all()
    assert src.market.index.name == "date"


def test_as_of_is_last_date() -> None:
    assert fred.read_fred(FIXTURES / "fred" / "yields_new_header.csv").as_of == date(2026, 1, 20)


@pytest.mark.parametrize(("body", "line", "field"), [
    ("observation_date,DGS10\n2026-01-02,3.91\n2026-13-05,3.88\n", 3, "observation_date"),
    ("date,value\n2026-01-02,3.91\n2026-01-05,four\n", 3, "value"),
    ("date,value\n2026-01-02,3.91\n2026-01-05,400\n", 3, "value"),
    ("date,value\n2026-01-02,inf\n", 2, "value"),
])
def test_bad_rows(tmp_path: Path, body: str, line: int, field: str) -> None:
    p = tmp_path / "f.csv"
    p.write_text(body)
    with pytest.raises(InputError) as info:
        fred.read_fred(p)
    assert info.value.line == line and info.value.field == field


def test_wrong_columns(tmp_path: Path) -> None:
    p = tmp_path / "f.csv"
    p.write_text("day,yield\n2026-01-02,3.91\n")
    with pytest.raises(InputError, match="observation_date,DGS10"):
        fred.read_fred(p)


def test_real_files() -> None:
    a = fred.read_fred(shared_file("prices", "DGS10_fred_1980-2025.csv"))
    b = fred.read_fred(shared_file("prices", "DGS10_fred_raw_2026-01-02_to_2026-09-10.csv"))
    assert a.market.index.min().year == 1980 and b.as_of == date(2026, 9, 10)
    assert not np.isnan(a.market["yield_10y"]).any()

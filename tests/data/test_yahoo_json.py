"""Offline Yahoo JSON files: ``read_yahoo_json`` / ``write_yahoo_json``, real files and hostile ones."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from desktop.data.yahoo import read_yahoo_json, write_yahoo_json
from desktop.errors import InputError
from tests.conftest import PROJECT_ROOT, shared_file

HOSTILE_DIR = PROJECT_ROOT / "tests" / "hostile" / "yahoo"


def values(data: object) -> dict[tuple[str, str], object]:
    obs = data.observations  # type: ignore[attr-defined]
    return {(r.symbol, r.field): (r.value_text if r.value_text is not None else r.value_num)
            for r in obs.itertuples(index=False)}


def write(tmp_path: Path, name: str, doc: object) -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def test_info_file_maps_fields_and_units(tmp_path: Path) -> None:
    path = write(tmp_path, "yahoo_financialData_2024-03-01.json", {
        "QLWX": {"totalCash": 4e7, "totalDebt": 1.2e8, "debtToEquity": 48.5, "freeCashflow": 1.8e7,
                 "operatingCashflow": 3.3e7, "currentPrice": 12.5, "ebitda": 5.5e7, "currentRatio": 1.6},
        "QLWY": {"currentPrice": 3.0},  # a missing value is an absent key
    })
    data = read_yahoo_json(path)
    got = values(data)
    assert data.source == "yahoo" and data.as_of == date(2024, 3, 1) and data.rows_read == 2
    assert got[("QLWX", "reported_debt_to_equity")] == pytest.approx(0.485)
    assert got[("QLWX", "levered_free_cash_flow")] == 1.8e7
    assert ("QLWX", "free_cash_flow") not in got
    assert got[("QLWX", "cash")] == 4e7 and got[("QLWX", "price")] == 12.5
    assert ("QLWY", "total_debt") not in got  # missing, not zero
    assert data.warnings == [] and data.skipped == []
    assert (data.observations["as_of"] == pd.Timestamp("2024-03-01")).all()


def test_sector_companion_is_detected(tmp_path: Path) -> None:
    path = write(tmp_path, "yahoo_sector_industry_2024-03-01.json",
                 {"QLWX": {"sector": "Industrials", "industry": "Tools & Accessories"}})
    data = read_yahoo_json(path)
    assert values(data) == {("QLWX", "sector"): "Industrials", ("QLWX", "industry"): "Tools & Accessories"}


def test_no_date_in_the_name_warns(tmp_path: Path) -> None:
    data = read_yahoo_json(write(tmp_path, "infos.json", {"QLWX": {"currentPrice": 1.0}}))
    assert data.as_of is None
    assert any("no YYYY-MM-DD date" in w for w in data.warnings)


def test_write_then_read_round_trip(tmp_path: Path) -> None:
    infos = {"QLWX": {"currentPrice": 12.5, "debtToEquity": 85.0, "beta": float("nan"), "longName": "Quarry Lantern"},
             "QLWY": {"marketCap": 7_000_000}}
    path = tmp_path / "export_2024-05-01.json"
    write_yahoo_json(path, infos)
    doc = json.loads(path.read_text(encoding="utf-8"))
    assert doc == {"QLWX": {"currentPrice": 12.5, "debtToEquity": 85.0, "longName": "Quarry Lantern"},
                   "QLWY": {"marketCap": 7_000_000}}
    got = values(read_yahoo_json(path))
    assert got[("QLWX", "reported_debt_to_equity")] == pytest.approx(0.85)
    assert got[("QLWY", "market_cap")] == 7_000_000
    assert ("QLWX", "beta") not in got
    assert [p.name for p in tmp_path.iterdir()] == ["export_2024-05-01.json"]  # no temp file left


def test_real_financial_data_file() -> None:
    path = shared_file("fundamentals", "yahoo_financialData_2024-07-06.json")
    doc = json.loads(path.read_text(encoding="utf-8"))
    data = read_yahoo_json(path)
    assert data.rows_read == len(doc) and data.as_of == date(2024, 7, 6)
    assert data.skipped == []
    got = values(data)
    for ticker in list(doc)[:: max(1, len(doc) // 200)]:
        info = doc[ticker]
        if "debtToEquity" in info:
            assert got[(ticker, "reported_debt_to_equity")] == pytest.approx(info["debtToEquity"] / 100)
        if "freeCashflow" in info:
            assert got[(ticker, "levered_free_cash_flow")] == info["freeCashflow"]
        if "totalDebt" not in info:
            assert (ticker, "total_debt") not in got
    assert not (data.observations["field"] == "market_cap").any()  # that file has no marketCap


def test_real_sector_industry_file() -> None:
    path = shared_file("fundamentals", "yahoo_sector_industry_2024-07-06.json")
    doc = json.loads(path.read_text(encoding="utf-8"))
    data = read_yahoo_json(path)
    assert set(data.observations["field"]) == {"sector", "industry"}
    ticker = next(iter(doc))
    got = values(data)
    assert got[(ticker, "sector")] == doc[ticker]["sector"]


# file -> ("error", regex) | ("warning", regex) | ("skipped", regex)
HOSTILE: dict[str, tuple[str, str]] = {
    "truncated.json": ("error", r"truncated.json, line 4: not valid JSON.*truncated"),
    "not_a_dict.json": ("error", r"line 1: expected an object .* found a JSON list"),
    "entry_not_object.json": ("error", r"line 3, field 'QAAB': the entry for 'QAAB' is a JSON int"),
    "html_page.json": ("error", r"HTML page"),
    "empty.json": ("error", r"not valid JSON"),
    "latin1.json": ("error", r"not UTF-8"),
    "deeply_nested.json": ("error", r"nested too deeply|expected an object"),
    "int_too_long.json": ("error", r"not valid JSON"),
    "nan_inf.json": ("warning", r"3 values that are not finite numbers .*QAAA.marketCap"),
    "huge_numbers.json": ("warning", r"values larger than 1e\+15 .*treated as missing"),
    "wrong_types.json": ("warning", r"values that are not numbers were treated as missing"),
    "formula_names.json": ("warning", r"3 text values that start like a spreadsheet formula"),
    "duplicate_tickers.json": ("skipped", r"duplicate ticker"),
    "very_long_ticker.json": ("skipped", r"not a ticker symbol"),
}


def test_hostile_corpus_is_complete() -> None:
    assert {p.name for p in HOSTILE_DIR.glob("*.json")} == set(HOSTILE)


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_yahoo_json(name: str) -> None:
    outcome, pattern = HOSTILE[name]
    path = HOSTILE_DIR / name
    if outcome == "error":
        with pytest.raises(InputError, match=pattern) as caught:
            read_yahoo_json(path)
        assert str(path) in str(caught.value)
        return
    data = read_yahoo_json(path)
    if outcome == "warning":
        assert any(__import__("re").search(pattern, w) for w in data.warnings), data.warnings
    else:
        assert any(__import__("re").search(pattern, s.reason) for s in data.skipped), data.skipped
    obs = data.observations
    assert obs is not None
    nums = obs["value_num"].dropna()
    assert nums.abs().le(1e15).all()  # nothing non-finite or absurd gets through


def test_hostile_values_that_survive() -> None:
    got = values(read_yahoo_json(HOSTILE_DIR / "nan_inf.json"))
    assert got == {("QAAA", "current_ratio"): 1.25}
    got = values(read_yahoo_json(HOSTILE_DIR / "huge_numbers.json"))
    assert got == {("QAAA", "quick_ratio"): 0.9}
    data = read_yahoo_json(HOSTILE_DIR / "formula_names.json")
    got = values(data)
    assert got[("QAAA", "name")].startswith("=HYPERLINK")  # kept verbatim as text; exporters escape it
    assert {s.ticker for s in data.skipped} == {"=1+2", "../../etc/passwd"}
    data = read_yahoo_json(HOSTILE_DIR / "duplicate_tickers.json")
    assert values(data) == {("QAAA", "market_cap"): 100}


def test_impossible_date_in_the_name_is_no_date(tmp_path: Path) -> None:
    data = read_yahoo_json(write(tmp_path, "yahoo_2024-13-45.json", {"QLWX": {"currentPrice": 1.0}}))
    assert data.as_of is None
    assert data.warnings[0].startswith("yahoo_2024-13-45.json")


def test_warnings_name_the_file() -> None:
    data = read_yahoo_json(HOSTILE_DIR / "nan_inf.json")
    assert len(data.warnings) == 2 and all(w.startswith("nan_inf.json") for w in data.warnings)
    assert data.warnings[1].startswith("nan_inf.json (info file): 3 values that are not finite")


def test_a_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    import os


    fifo = tmp_path / "yahoo_financialData_2026-05-05.json"
    os.mkfifo(fifo)  # opening it for reading would block forever
    with pytest.raises(InputError, match="not a regular file"):
        read_yahoo_json(fifo)


def test_prices_payload_keeps_daily_volumes() -> None:
    # Issue #16: the download keeps Volume; payloads cached before it have none (and still read).
    import json
    from datetime import datetime

    import pandas as pd

    from desktop.data.yahoo import CachedPayload, _prices_payload, parse_raw

    history = pd.DataFrame({"Close": [10.0, 10.5, 11.0], "Volume": [1000, 0, None]},
                           index=pd.to_datetime(["2024-03-06", "2024-03-07", "2024-03-08"]))
    payload = _prices_payload("QLWX", history)
    assert json.loads(payload)["volume"] == {"2024-03-06": 1000.0, "2024-03-07": 0.0, "2024-03-08": None}
    old = json.dumps({"interval": "1d", "adjusted": True, "close": {"2024-03-08": 11.0}})
    data = parse_raw({"QLWX": {"prices": CachedPayload(payload, datetime(2024, 3, 9))},
                      "QLWY": {"prices": CachedPayload(old, datetime(2024, 3, 9))}})
    assert data.volumes is not None and list(data.volumes.columns) == ["QLWX"]
    assert list(data.volumes["QLWX"].dropna()) == [1000.0, 0.0]
    assert data.prices["QLWY"].iloc[-1] == 11.0

"""``pickaxe-cli refresh``: the real YahooProvider fed hand-made Yahoo bodies, one-screen summary, export."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from desktop.cli import refresh as refresh_cli
from desktop.data import yahoo
from tests.conftest import FIXTURES
from tests.data.yahoo_http import recorded_router, replay_session, reset_yfinance

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:yfinance", "ignore::FutureWarning:yfinance")


def run_cli(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="pickaxe-cli")
    parser.add_argument("--db")
    refresh_cli.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(argv)
    return int(args.handler(args))


@pytest.fixture
def replayed_yahoo(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every YahooProvider the CLI makes answers from the fixture bodies (market series reuse one chart)."""
    reset_yfinance()
    charts = {f"chart:{s}": "chart_v8_QLWX.json" for s in yahoo.MARKET_SYMBOLS}
    session, urls = replay_session(recorded_router(FIXTURES / "yahoo", charts))
    real = yahoo.YahooProvider
    monkeypatch.setattr(yahoo, "YahooProvider", lambda *a, **k: real(session=session))
    return urls


def test_refresh_prints_a_summary_and_exports(tmp_path: Path, replayed_yahoo: list[str],
                                              capsys: pytest.CaptureFixture[str]) -> None:
    db = str(tmp_path / "cli.sqlite3")
    assert run_cli(["--db", db, "refresh", "--tickers", "QLWX", "NOPEX", "--max-rate", "200"]) == 0
    out = capsys.readouterr().out
    assert "Refreshed 5 symbols from Yahoo Finance" in out
    assert "New snapshot 1" in out
    assert "no data for symbol NOPEX" in out  # the failure and its reason
    assert "market_cap" in out and "50.0 %" in out  # QLWX has it, NOPEX does not
    assert any("/v10/finance/quoteSummary/QLWX" in u for u in replayed_yahoo)

    # A second run finds everything fresh and fetches nothing new for QLWX.
    before = len(replayed_yahoo)
    assert run_cli(["--db", db, "refresh", "--tickers", "QLWX"]) == 0
    assert not any("QLWX" in u for u in replayed_yahoo[before:])
    assert "items still fresh" in capsys.readouterr().out

    target = tmp_path / "yahoo_export_2024-05-01.json"
    assert run_cli(["--db", db, "refresh", "--no-fetch", "--export-json", str(target)]) == 0
    assert "Exported 1 Yahoo profiles" in capsys.readouterr().out
    doc = json.loads(target.read_text(encoding="utf-8"))
    assert doc["QLWX"]["debtToEquity"] == 85.0
    got = yahoo.read_yahoo_json(target)
    assert ("QLWX", "reported_debt_to_equity") in {(r.symbol, r.field) for r in got.observations.itertuples()}


def test_rate_must_be_positive(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        run_cli(["refresh", "--max-rate", "0"])
    assert "must be greater than 0" in capsys.readouterr().err

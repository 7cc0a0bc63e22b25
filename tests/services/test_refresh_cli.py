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
    assert "Exported 1 Yahoo profile to" in capsys.readouterr().out
    doc = json.loads(target.read_text(encoding="utf-8"))
    assert doc["QLWX"]["debtToEquity"] == 85.0
    got = yahoo.read_yahoo_json(target)
    assert ("QLWX", "reported_debt_to_equity") in {(r.symbol, r.field) for r in got.observations.itertuples()}


def test_rate_must_be_positive(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        run_cli(["refresh", "--max-rate", "0"])
    assert "must be greater than 0" in capsys.readouterr().err


# ---- issue #14: the SEC part ------------------------------------------------------------------


def test_refresh_with_a_user_agent_fetches_sec_fundamentals(tmp_path: Path, replayed_yahoo: list[str],
                                                            monkeypatch: pytest.MonkeyPatch,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    import functools

    from desktop.services import sec_refresh
    from tests.data.sec_server import fixture_bodies, sec_server

    with sec_server(fixture_bodies()) as server:
        monkeypatch.setattr(sec_refresh, "SecSettings", functools.partial(
            sec_refresh.SecSettings, client_options={"www": server.url, "data": server.url}))
        db = str(tmp_path / "cli.sqlite3")
        assert run_cli(["--db", db, "refresh", "--tickers", "MRVL", "--max-rate", "200",
                        "--user-agent", "Jane Doe jane@example.com"]) == 0
        assert {s.headers["User-Agent"] for s in server.seen} == {"Jane Doe jane@example.com"}
    out = capsys.readouterr().out
    assert "SEC EDGAR: 1 company: 1 company facts fetched" in out and "New snapshot 1" in out


def test_refresh_without_a_user_agent_says_why_the_sec_is_not_used(tmp_path: Path, replayed_yahoo: list[str],
                                                                   monkeypatch: pytest.MonkeyPatch,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("PICKAXE_SEC_USER_AGENT", raising=False)
    assert run_cli(["--db", str(tmp_path / "cli.sqlite3"), "refresh", "--tickers", "QLWX", "--max-rate", "200"]) == 0
    captured = capsys.readouterr()
    assert "SEC EDGAR is not used: The SEC requires every program" in captured.err
    assert "--user-agent" in captured.err
    assert "SEC EDGAR not used:" in captured.out


@pytest.mark.parametrize("argv, message", [
    (["--user-agent", "Jane Doe"], "has no contact e-mail address"),
    (["--sec-max-rate", "11"], "at most 10"),
])
def test_sec_options_are_checked_at_parse_time(argv: list[str], message: str,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        run_cli(["refresh", *argv])
    assert message in capsys.readouterr().err

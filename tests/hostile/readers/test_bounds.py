"""Readers trust neither the path nor the size (issue #13, root cause 3).

Every case runs the reader in a subprocess under a 1 GB address-space limit and a generous
wall-time guard, and expects one plain InputError naming the file (and line/field where there is
one). The real files in ../shared/data must still import under the same limits.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from desktop.data import _text
from tests.conftest import PROJECT_ROOT, SHARED_DATA
from tests.hostile.readers.builders import holdings_text, run_bounded, sparse, write

KINDS = ("ishares", "finviz", "fred", "prices", "simfin")


@pytest.mark.parametrize("kind", KINDS)
def test_fifo_is_refused_without_blocking(kind: str, tmp_path: Path) -> None:
    fifo = tmp_path / "EPAC.csv"
    os.mkfifo(fifo)  # nobody ever writes to it: opening it for reading would block forever
    out = run_bounded(kind, fifo, timeout=60)
    assert "named pipe (FIFO)" in out["error"] and str(fifo) in out["error"]


@pytest.mark.parametrize("kind", KINDS)
def test_device_is_refused(kind: str) -> None:
    if not Path("/dev/zero").exists():
        pytest.skip("no /dev/zero on this system")
    out = run_bounded(kind, Path("/dev/zero"), timeout=60)
    assert "is a device" in out["error"] and "/dev/zero" in out["error"]


@pytest.mark.parametrize("kind", KINDS)
def test_file_of_300_mb_is_refused_before_reading(kind: str, tmp_path: Path) -> None:
    path = sparse(tmp_path / "EPAC.csv", 300 * 1024 * 1024)
    out = run_bounded(kind, path, timeout=60)
    cap = _text.MAX_BYTES[kind] // (1024 * 1024)
    assert f"the file is 300.0 MB; files of this kind are limited to {cap} MB" in out["error"]
    assert str(path) in out["error"]


def test_cap_holds_for_a_file_that_grows_past_its_reported_size(tmp_path: Path) -> None:
    path = write(tmp_path / "QAAAA.csv", "Date,Close\n2024-01-02,1\n")
    with pytest.raises(_text.InputError, match="limited to 0 MB"):
        _text._read_capped(os.open(path, os.O_RDONLY), 5, 10, str(path))  # reports 5 bytes, holds 25


def test_large_holdings_file_under_the_cap_reads_within_1_gb(tmp_path: Path) -> None:
    # ~12 MB, 60,000 invented members: parsed (not refused) under the 1 GB address-space limit.
    path = write(tmp_path / "holdings.csv", holdings_text(60_000))
    assert path.stat().st_size < _text.MAX_BYTES["ishares"]
    out = run_bounded("ishares", path, timeout=300)
    assert out.get("rows") == 60_000, out


def test_million_column_header_is_refused(tmp_path: Path) -> None:
    header = "Date," + ",".join(f"T{i}" for i in range(1_000_000))
    path = write(tmp_path / "wide.csv", header + "\n2024-01-02," + ",".join(["1"] * 1_000_000) + "\n")
    out = run_bounded("prices", path, timeout=120)
    assert "the header has more than" in out["error"] and "columns; at most 20,000 are accepted" in out["error"]
    assert out["line"] == 1


def test_header_line_without_end_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path / "finviz_export_2025-08-21.csv", "No.," + "x" * 3_000_000)
    out = run_bounded("finviz", path, timeout=120)
    assert "header line is longer than" in out["error"] and out["line"] == 1


@pytest.mark.parametrize(("kind", "text", "line", "field"), [
    ("finviz", "No.,Ticker,Company\n1,QAAAA,{long}\n", 2, "Company"),
    ("fred", "date,value\n2024-01-02,{long}\n", 2, "value"),
    ("prices", "Date,Close\n2024-01-02,1\n2024-01-03,{long}\n", 3, "Close"),
    ("simfin", "Ticker;SimFinId;Company Name\nQAAAA;1;{long}\n", 2, "Company Name"),
])
def test_very_long_cell_is_refused_with_line_and_column(kind: str, text: str, line: int, field: str,
                                                        tmp_path: Path) -> None:
    name = "QAAAA.csv" if kind == "prices" else "finviz_export_2025-08-21.csv"
    path = write(tmp_path / name, text.format(long="y" * 120_000))
    out = run_bounded(kind, path)
    assert "a cell of 120,000 characters; text cells are limited to 100,000" in out["error"], out
    assert out["line"] == line and out["field"] == field


def test_holdings_cell_beyond_csv_limit_is_refused_with_line(tmp_path: Path) -> None:
    row = '"QAAAA","' + "N" * 200_000 + '","Industrials","Equity"' + ',"1"' * 11
    path = write(tmp_path / "holdings.csv", holdings_text(0, rows=[row]))
    out = run_bounded("ishares", path)
    assert "a cell is longer than 100,000 characters" in out["error"] and out["line"] == 6


def test_garbage_rows_appended_to_a_finviz_export_are_refused(tmp_path: Path) -> None:
    from tests.finviz_fixture import SAMPLE_ROWS, finviz_csv_text

    text = finviz_csv_text(SAMPLE_ROWS) + "".join(f"zq{i} garbage without fields\n" for i in range(500))
    path = write(tmp_path / "finviz_export_2025-08-21.csv", text)
    out = run_bounded("finviz", path)
    first_garbage = len(SAMPLE_ROWS) + 2
    assert out["line"] == first_garbage and "fields but the header has" in out["error"], out


def test_empty_date_cell_is_a_plain_error_on_the_cli(tmp_path: Path) -> None:
    """Regression for the CI failure in issue #13: ``Date,Close\\n,1\\n`` crashed with AttributeError."""
    path = write(tmp_path / "p.csv", "Date,Close\n,1\n")
    db = tmp_path / "store.sqlite3"
    done = subprocess.run([sys.executable, "-c", "import sys; from desktop.cli import main; sys.exit(main())",
                           "--db", str(db), "import", "prices", str(path)],
                          cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120, check=False)
    assert "Traceback" not in done.stderr and done.returncode != 0, done.stderr
    assert f"{path}, line 2, field 'Date': the date is empty" in done.stderr


@pytest.mark.parametrize(("kind", "parts"), [
    ("ishares", ("universe", "IWM_holdings_2026-05-05.csv")),
    ("finviz", ("fundamentals", "finviz_export_2025-08-21.csv")),
    ("prices", ("prices", "R2000_members_close_daily_wide_2020-07_to_2025-04.csv")),
    ("prices", ("prices", "GSPC_daily_close_volume.csv")),
    ("fred", ("prices", "DGS10_fred_1980-2025.csv")),
    ("simfin", ("profiles", "simfin_us-companies_2026-04-09.csv")),
])
def test_real_files_still_read_within_the_bounds(kind: str, parts: tuple[str, ...]) -> None:
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"real data absent: {path}")
    assert path.stat().st_size * 4 < _text.MAX_BYTES[kind]  # the caps leave room for larger exports
    out = run_bounded(kind, path, timeout=300)
    assert out.get("rows", 0) > 1000, out

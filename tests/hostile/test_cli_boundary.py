"""``pickaxe-cli``'s one error boundary (issue #13, root cause 2), through the real command line.

Every case ends in one plain sentence (no traceback), the documented exit status (2 for a bad
argument or an internal error, 1 for a known problem), and a store byte-for-byte as it was.
"""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path

import pytest

from tests.hostile.cli_helpers import HOLDINGS, assert_one_sentence, cli, env_for, store_bytes

pytestmark = pytest.mark.timeout(300)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(home, db): a store with one snapshot of invented holdings, made by the real import."""
    home = tmp_path_factory.mktemp("cli-home")
    db = home / "store.sqlite3"
    result = cli(home, "import", "ishares", str(HOLDINGS), db=db)
    assert result.code == 0, result.error
    return home, db


BAD_ARGUMENTS: dict[str, tuple[list[str], str]] = {
    "superscript snapshot id": (["snapshots", "show", "²"], "not a snapshot id"),
    "Arabic-Indic snapshot id": (["snapshots", "delete", "٣", "--yes"], "not a snapshot id"),
    "30-digit snapshot id": (["snapshots", "show", "1" * 30], "out of range"),
    "negative snapshot id": (["snapshots", "show", "-1"], "neither a snapshot id"),
    "snapshot date far future": (["run", "Cash survivors", "--snapshot", "9999-12-31"], "out of range"),
    "snapshot date before pandas": (["run", "Cash survivors", "--snapshot", "1677-09-20"], "out of range"),
    "snapshot not a date": (["run", "Cash survivors", "--snapshot", "2026-02-30"], "not a date"),
    "max-age nan": (["refresh", "--max-age", "nan", "--no-fetch"], "not a finite number"),
    "max-age inf": (["refresh", "--max-age-days", "inf", "--no-fetch"], "not a finite number"),
    "max-age overflow": (["refresh", "--max-age-days", "1e400", "--no-fetch"], "not a finite number"),
    "max-age negative": (["refresh", "--max-age-days", "-1", "--no-fetch"], "out of range"),
    "max-rate zero": (["refresh", "--max-rate", "0", "--no-fetch"], "out of range"),
    "max-rate nan": (["refresh", "--max-rate", "NaN", "--no-fetch"], "not a finite number"),
    "workers negative": (["refresh", "--workers", "-3", "--no-fetch"], "out of range"),
    "workers huge": (["refresh", "--workers", "10000000000000000000000", "--no-fetch"], "not a whole number"),
    "tickers with control": (["refresh", "--tickers", "AB\x1bC", "--no-fetch"], "not a ticker symbol"),
    "as-of ancient": (["import", "ishares", str(HOLDINGS), "--as-of", "0001-01-01"], "out of range"),
    "as-of far future": (["import", "ishares", str(HOLDINGS), "--as-of", "9999-12-31"], "out of range"),
    "version huge": (["screens", "show", "Cash survivors", "--version", "9" * 25], "not a whole number"),
    "version zero": (["screens", "restore", "Cash survivors", "0"], "out of range"),
    "watchlist symbol escape": (["watchlist", "add", "\x1b[2J"], "not a ticker symbol"),
    "watchlist symbol superscript": (["watchlist", "remove", "A²"], "not a ticker symbol"),
}


@pytest.mark.parametrize("name", list(BAD_ARGUMENTS))
def test_bad_arguments_are_refused_while_parsing(store: tuple[Path, Path], name: str) -> None:
    home, db = store
    args, needle = BAD_ARGUMENTS[name]
    before = store_bytes(db)
    result = cli(home, *args, db=db)
    line = assert_one_sentence(result, needle, code=2)
    assert "\x1b" not in line  # the usage error shows the bad text as a visible escape
    assert store_bytes(db) == before


def test_the_database_is_dev_full(tmp_path: Path) -> None:
    result = cli(tmp_path, "snapshots", "list", db="/dev/full")
    assert_one_sentence(result, "/dev/full", "disk is full")


def test_a_read_only_database(store: tuple[Path, Path], tmp_path: Path) -> None:
    home, db = store
    before = store_bytes(db)
    # The process runs as whatever user CI uses (root ignores file modes), so ask SQLite itself
    # for a read-only connection: the same refusal a read-only file or mount gives.
    url = f"sqlite:///file:{db}?mode=ro&uri=true"
    result = cli(home, "watchlist", "add", "QZAL", "a", "note", db=url)
    assert_one_sentence(result, "read-only")
    result = cli(home, "import", "ishares", str(HOLDINGS), db=url)
    assert_one_sentence(result, "read-only")
    assert store_bytes(db) == before


def test_output_to_a_full_disk(store: tuple[Path, Path], tmp_path: Path) -> None:
    home, db = store
    with open("/dev/full", "wb") as full:
        result = cli(home, "snapshots", "list", db=db, stdout=full)
    assert_one_sentence(result, "disk is full")


def test_a_corrupt_compressed_part(store: tuple[Path, Path], tmp_path: Path) -> None:
    home, db = store
    damaged = tmp_path / "damaged.sqlite3"
    damaged.write_bytes(db.read_bytes())
    with sqlite3.connect(damaged) as conn:
        conn.execute("UPDATE blobs SET payload = x'789c0000deadbeef'")
    conn.close()
    before = store_bytes(damaged)
    result = cli(home, "run", "Cash survivors", "--no-record", db=damaged)
    assert_one_sentence(result, "Snapshot 1", "damaged")  # the store's checksum names the snapshot
    assert store_bytes(damaged) == before


def test_a_file_that_is_not_sqlite(tmp_path: Path) -> None:
    junk = tmp_path / "junk.sqlite3"
    junk.write_bytes(bytes(range(256)) * 40)
    before = junk.read_bytes()
    result = cli(tmp_path, "screens", "list", db=junk)
    assert_one_sentence(result, str(junk))
    assert junk.read_bytes() == before


def _boom_script(log_dir: str | None = None) -> list[str]:
    # A genuine bug stand-in: the service raises an exception nobody anticipated.
    code = ("import sys\n"
            "from desktop.services import library\n"
            "def boom(*a, **k):\n"
            "    raise KeyError('unexpected')\n"
            "library.list_snapshots = boom\n"
            "from desktop.cli import main\n"
            "sys.exit(main(sys.argv[1:]))\n")
    return [sys.executable, "-c", code]


def test_an_unexpected_exception_is_an_internal_error_with_the_log(store: tuple[Path, Path]) -> None:
    import subprocess

    home, db = store
    proc = subprocess.run([*_boom_script(), "--db", str(db), "snapshots", "list"], env=env_for(home),
                          capture_output=True, text=True, timeout=90)
    log_file = home / "log" / "pickaxe.log"
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert lines == [f"error: internal error (KeyError), details in {log_file}. Please report it with that file."]
    logged = log_file.read_text(encoding="utf-8")
    assert "Traceback" in logged and "KeyError: 'unexpected'" in logged


def test_an_unwritable_log_folder_still_gives_one_sentence(store: tuple[Path, Path], tmp_path: Path) -> None:
    import subprocess

    home, db = store
    not_a_folder = tmp_path / "log-is-a-file"
    not_a_folder.write_text("x")
    env = {**env_for(home), "PICKAXE_LOG_DIR": str(not_a_folder)}
    ok = cli(home, "snapshots", "list", db=db, env=env)
    assert ok.code == 0 and "Traceback" not in ok.error and "1 snapshot." in ok.text
    proc = subprocess.run([*_boom_script(), "--db", str(db), "snapshots", "list"], env=env,
                          capture_output=True, text=True, timeout=90)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "internal error (KeyError)" in proc.stderr and "could not be opened" in proc.stderr


def test_known_errors_keep_exit_status_1(store: tuple[Path, Path]) -> None:
    home, db = store
    result = cli(home, "snapshots", "show", "999", db=db)
    assert_one_sentence(result, "no snapshot 999", "snapshots list")
    result = cli(home, "screens", "show", "No such screen", db=db)
    assert_one_sentence(result, "No such screen")

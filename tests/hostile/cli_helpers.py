"""Running the real ``pickaxe-cli`` in a subprocess for hostile tests, with its own home folder."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

FIXTURES = Path(__file__).resolve().parents[1] / "data_files"
HOLDINGS = FIXTURES / "ishares" / "fund_full.csv"  # invented companies
TIMEOUT_S = 90  # a generous guard against hangs, not a timing assertion


@dataclass
class Result:
    code: int
    out: bytes
    err: bytes

    @property
    def text(self) -> str:
        return self.out.decode("utf-8", "replace")

    @property
    def error(self) -> str:
        return self.err.decode("utf-8", "replace")


def env_for(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PICKAXE_")}
    env.update({"PICKAXE_HOME": str(home), "QT_QPA_PLATFORM": "offscreen", "PYTHONIOENCODING": "utf-8"})
    return env


def cli(home: Path, *args: str, db: Path | str | None = None, stdout: object = None,
        env: dict[str, str] | None = None) -> Result:
    """``pickaxe-cli [--db DB] ARGS`` with PICKAXE_HOME=home; stdout captured unless given."""
    argv = [sys.executable, "-c", "import sys; from desktop.cli import main; sys.exit(main())"]
    if db is not None:
        argv += ["--db", str(db)]
    argv += list(args)
    proc = subprocess.run(argv, env=env or env_for(home), timeout=TIMEOUT_S, stdin=subprocess.DEVNULL,
                          stdout=stdout if stdout is not None else subprocess.PIPE, stderr=subprocess.PIPE)
    return Result(proc.returncode, proc.stdout or b"", proc.stderr)


def store_bytes(db: Path) -> dict[str, bytes]:
    """Every file of a SQLite store: the main file and a non-empty WAL (the shared-memory file is
    only an index, and an empty WAL - which a read-only connection may create - holds nothing)."""
    files = {p.name: p.read_bytes() for p in sorted(db.parent.glob(db.name + "*")) if not p.name.endswith("-shm")}
    return {name: data for name, data in files.items() if data or not name.endswith("-wal")}


def assert_one_sentence(result: Result, *needles: str, code: int = 1) -> str:
    """The command failed with exit ``code`` and one ``error:`` line containing every needle."""
    err = result.error
    assert result.code == code, (result.code, err)
    assert "Traceback" not in err and "File \"" not in err, err
    lines = [line for line in err.splitlines() if line.strip()]
    errors = [line for line in lines if "error:" in line]
    assert len(errors) == 1, err
    for needle in needles:
        assert needle in errors[0], (needle, errors[0])
    return errors[0]

"""Exports keep what they replace (issue #13, root cause 9): links stay links, modes stay modes."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from openpyxl import load_workbook

from desktop.errors import ExportError
from desktop.export.atomic import TEMP_SUFFIX, atomic_target
from tests.hostile.cli_helpers import HOLDINGS, cli

pytestmark = pytest.mark.timeout(300)


def _mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def _write(target: Path, data: bytes) -> None:
    with atomic_target(target) as tmp:
        tmp.write_bytes(data)


@pytest.mark.parametrize("mode", [0o600, 0o640, 0o604, 0o755])
def test_an_existing_file_keeps_its_mode(tmp_path: Path, mode: int) -> None:
    target = tmp_path / "out.csv"
    target.write_bytes(b"old")
    target.chmod(mode)
    _write(target, b"new")
    assert target.read_bytes() == b"new"
    assert _mode(target) == mode


def test_a_new_file_gets_the_umask_mode(tmp_path: Path) -> None:
    old = os.umask(0o027)
    try:
        _write(tmp_path / "fresh.csv", b"x")
    finally:
        os.umask(old)
    assert _mode(tmp_path / "fresh.csv") == 0o640


def test_a_symlink_is_written_through_and_kept(tmp_path: Path) -> None:
    real_dir = tmp_path / "real"
    real_dir.mkdir()
    real = real_dir / "report.csv"
    real.write_bytes(b"old")
    real.chmod(0o600)
    link = tmp_path / "latest.csv"
    link.symlink_to(Path("real") / "report.csv")  # relative, as people make them
    _write(link, b"new")
    assert link.is_symlink() and os.readlink(link) == str(Path("real") / "report.csv")
    assert real.read_bytes() == b"new" and _mode(real) == 0o600
    assert not list(tmp_path.rglob(f"*{TEMP_SUFFIX}"))


def test_a_chain_of_links_and_a_dangling_link(tmp_path: Path) -> None:
    real = tmp_path / "final.csv"
    real.write_bytes(b"old")
    middle = tmp_path / "middle.csv"
    middle.symlink_to(real)
    first = tmp_path / "first.csv"
    first.symlink_to(middle)
    _write(first, b"new")
    assert first.is_symlink() and middle.is_symlink() and real.read_bytes() == b"new"
    dangling = tmp_path / "dangling.csv"
    dangling.symlink_to(tmp_path / "not-yet.csv")
    _write(dangling, b"made")
    assert dangling.is_symlink() and (tmp_path / "not-yet.csv").read_bytes() == b"made"


def test_a_link_into_a_missing_folder_is_refused_without_writing(tmp_path: Path) -> None:
    link = tmp_path / "out.csv"
    link.symlink_to(tmp_path / "gone" / "out.csv")
    with pytest.raises(ExportError, match="does not exist"):
        _write(link, b"x")
    assert link.is_symlink() and not (tmp_path / "gone").exists()


def test_a_failed_export_leaves_link_and_target_untouched(tmp_path: Path) -> None:
    real = tmp_path / "real.csv"
    real.write_bytes(b"precious")
    real.chmod(0o600)
    link = tmp_path / "link.csv"
    link.symlink_to(real)
    with pytest.raises(RuntimeError), atomic_target(link) as tmp:
        tmp.write_bytes(b"half")
        raise RuntimeError("the export failed half-way")
    assert link.is_symlink() and real.read_bytes() == b"precious" and _mode(real) == 0o600
    assert not list(tmp_path.glob(f"*{TEMP_SUFFIX}"))


def test_cli_exports_through_links_keep_the_link_and_the_mode(tmp_path: Path) -> None:
    """The real commands: ``screens export`` (JSON) and ``run --export`` (xlsx and csv)."""
    home = tmp_path / "home"
    db = tmp_path / "store.sqlite3"
    assert cli(home, "import", "ishares", str(HOLDINGS), db=db).code == 0
    private = tmp_path / "private"
    private.mkdir()
    for name in ("screen.json", "result.xlsx", "result.csv"):
        (private / name).write_bytes(b"old")
        (private / name).chmod(0o600)
        (tmp_path / name).symlink_to(private / name)
    result = cli(home, "screens", "export", "Cash survivors", str(tmp_path / "screen.json"), db=db)
    assert result.code == 0, result.error
    assert json.loads((private / "screen.json").read_text(encoding="utf-8"))["name"] == "Cash survivors"
    for name in ("result.xlsx", "result.csv"):
        result = cli(home, "run", "Cash survivors", "--no-record", "--export", str(tmp_path / name), db=db)
        assert result.code == 0, result.error
    assert load_workbook(private / "result.xlsx", read_only=True).sheetnames[0] == "Shortlist"
    assert (private / "result.csv").read_bytes().startswith(b"\xef\xbb\xbfrank,")  # BOM for Excel
    for name in ("screen.json", "result.xlsx", "result.csv"):
        assert (tmp_path / name).is_symlink(), name
        assert _mode(private / name) == 0o600, name

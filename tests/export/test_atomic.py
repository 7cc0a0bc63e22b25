"""All-or-nothing writes: a failed or cancelled export never damages the previous file."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from desktop.errors import Cancelled, ExportError
from desktop.export import atomic
from desktop.export.atomic import TEMP_SUFFIX, atomic_target
from desktop.export.content import ExportInput
from desktop.export.csv import write_csv
from desktop.export.excel import write_workbook


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(TEMP_SUFFIX))


def test_success_replaces_target(tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    target.write_text("old")
    with atomic_target(target) as tmp:
        assert tmp.parent == tmp_path and tmp != target
        tmp.write_text("new")
        assert target.read_text() == "old"  # nothing visible until the block succeeds
    assert target.read_text() == "new"
    assert leftovers(tmp_path) == []
    assert stat.S_IMODE(target.stat().st_mode) & 0o044  # readable like a normal file, not 0600


@pytest.mark.parametrize("error", [RuntimeError("boom"), Cancelled(), KeyboardInterrupt()])
def test_failure_keeps_previous_file_and_removes_temp(tmp_path: Path, error: BaseException) -> None:
    target = tmp_path / "out.txt"
    target.write_text("previous")
    with pytest.raises(type(error)):
        with atomic_target(target) as tmp:
            tmp.write_text("half")
            raise error
    assert target.read_text() == "previous"
    assert leftovers(tmp_path) == []


def test_workbook_failure_mid_save_keeps_previous_workbook(tmp_path: Path, run_input: ExportInput,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    target = write_workbook(tmp_path / "short.xlsx", run_input)
    before = target.read_bytes()
    from desktop.export import excel

    real_save = excel.save_workbook

    def broken_save(workbook, filename):  # noqa: ANN001, ANN202 - writes half a file, then dies
        real_save(workbook, filename)
        with open(filename, "r+b") as handle:
            handle.truncate(100)
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(excel, "save_workbook", broken_save)
    with pytest.raises(ExportError, match="disk is full"):
        write_workbook(target, run_input)
    assert target.read_bytes() == before
    assert leftovers(tmp_path) == []


def test_cancel_during_csv_keeps_previous(tmp_path: Path, run_input: ExportInput) -> None:
    target = tmp_path / "short.csv"
    target.write_text("previous")
    with pytest.raises(Cancelled):
        write_csv(target, run_input, is_cancelled=lambda: True)
    assert target.read_text() == "previous"
    assert leftovers(tmp_path) == []


def test_missing_folder(tmp_path: Path, run_input: ExportInput) -> None:
    with pytest.raises(ExportError, match="does not exist") as info:
        write_workbook(tmp_path / "nope" / "x.xlsx", run_input)
    assert str(tmp_path / "nope") in str(info.value)


def test_target_is_a_folder(tmp_path: Path, run_input: ExportInput) -> None:
    (tmp_path / "dir.csv").mkdir()
    with pytest.raises(ExportError, match="is a folder"):
        write_csv(tmp_path / "dir.csv", run_input)


def test_read_only_target_file_is_not_replaced(tmp_path: Path, run_input: ExportInput) -> None:
    target = tmp_path / "locked.csv"
    target.write_text("keep me")
    target.chmod(0o444)
    try:
        with pytest.raises(ExportError, match="read-only"):
            write_csv(target, run_input)
        assert target.read_text() == "keep me"
    finally:
        target.chmod(0o644)


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0,
                    reason="root ignores folder permissions; the simulated test below covers it")
def test_read_only_folder(tmp_path: Path, run_input: ExportInput) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        with pytest.raises(ExportError, match="permission denied"):
            write_workbook(folder / "x.xlsx", run_input)
    finally:
        folder.chmod(0o755)


def test_read_only_folder_simulated(tmp_path: Path, run_input: ExportInput,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    def deny(*args: object, **kwargs: object) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(atomic.tempfile, "mkstemp", deny)
    with pytest.raises(ExportError, match="permission denied"):
        write_csv(tmp_path / "x.csv", run_input)


def test_locked_target_simulated(tmp_path: Path, run_input: ExportInput,
                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """On Windows a file open in Excel cannot be replaced: os.replace raises PermissionError."""
    target = tmp_path / "open-in-excel.xlsx"
    target.write_bytes(b"previous")

    def locked(src: object, dst: object) -> None:
        raise PermissionError(13, "The process cannot access the file")

    monkeypatch.setattr(atomic.os, "replace", locked)
    with pytest.raises(ExportError, match="open in another program"):
        write_workbook(target, run_input)
    assert target.read_bytes() == b"previous"
    assert leftovers(tmp_path) == []

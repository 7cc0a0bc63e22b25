"""Use case: export a screen run to Excel (.xlsx) or CSV (.csv), chosen by the file's suffix."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from desktop import __version__
from desktop.engine.screen import screen_to_dict
from desktop.errors import ExportError
from desktop.export.atomic import check_target
from desktop.export.content import ExportInput, criteria_of
from desktop.export.csv import write_csv
from desktop.export.excel import write_workbook
from desktop.services.screening import RunOutcome

FORMATS = {".xlsx": "Excel workbook", ".csv": "CSV file"}


def export_input(outcome: RunOutcome) -> ExportInput:
    """The export's content for a run."""
    screen = outcome.screen
    info = outcome.info
    return ExportInput(
        screen_name=screen.name,
        screen_definition=screen_to_dict(screen),
        criteria=criteria_of(screen),
        table=outcome.result.table or outcome.table,  # with the screen's formula fields (issue #16)
        result=outcome.result,
        as_of=info.as_of,
        snapshot_id=info.id,
        snapshot_created_at=info.created_at,
        sources=tuple(info.sources),
        app_version=__version__,
        exported_at=datetime.now(UTC).replace(tzinfo=None),
        run_id=outcome.run_id,
    )


def check_export_path(path: str | Path) -> Path:
    """``path`` if an export can be written there (known suffix, existing folder, writable file).

    Raises:
        ExportError: naming the file and what is wrong with it.
    """
    target = Path(path)
    if target.suffix.lower() not in FORMATS:
        raise ExportError(f"Cannot export to {target}: unknown file type {target.suffix or '(none)'!r}.",
                          hint="Use a name ending in .xlsx (Excel) or .csv.")
    check_target(target.expanduser().absolute())
    return target


def export_result(path: str | Path, outcome: RunOutcome, progress: Callable[..., None] | None = None,
                  is_cancelled: Callable[[], bool] | None = None) -> Path:
    """Write ``outcome`` to ``path``: ``.xlsx`` gives the full workbook, ``.csv`` the shortlist.

    Raises:
        ExportError: unsupported suffix, missing or read-only folder, or a locked file.
        Cancelled: ``is_cancelled()`` became true; an existing file is left untouched.
    """
    target = check_export_path(path)
    data = export_input(outcome)
    if target.suffix.lower() == ".xlsx":
        return write_workbook(target, data, progress, is_cancelled)
    return write_csv(target, data, progress, is_cancelled)

"""Read the SEC's nightly bulk ``companyfacts.zip`` (or a folder of ``CIK##########.json``) (issue #14).

The archive is about 1.3 GB zipped and holds one companyfacts body per company. It is read member by
member: the zip's central directory lists the members, each selected member is decompressed on its
own and parsed by :mod:`desktop.data.sec_facts` (which keeps only the concepts it needs), and nothing
else is kept. Memory is bounded by the largest member, never by the archive.

Hostile archives:

* **zip bomb**: a member whose declared size exceeds ``max_member_bytes`` or whose declared size /
  compressed size exceeds ``max_ratio`` is refused before it is decompressed; while decompressing,
  reading stops after ``max_member_bytes`` whatever the header says (a lying header cannot make us
  inflate more);
* **truncated archive** (an interrupted download): no central directory, or a member whose data
  ends early or fails its CRC: :class:`~desktop.errors.InputError` naming the archive and member;
* **non-JSON member** (or JSON that is not a companyfacts document, or a name that is not
  ``CIK##########.json``): listed in :attr:`BulkResult.skipped` with the member's name and the
  reason. The reader never decides to drop data silently: the import service refuses the whole
  import when anything was skipped, unless told to accept skips (all-or-nothing).
"""

from __future__ import annotations

import re
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from desktop.data.sec_facts import CompanyFacts, parse_companyfacts
from desktop.errors import Cancelled, InputError

MAX_MEMBER_BYTES = 256 * 2**20  # the largest real companyfacts bodies are tens of MB
MAX_RATIO = 200.0  # companyfacts JSON deflates about 8-15x; 200x is a bomb
_MEMBER = re.compile(r"^(?:.*/)?CIK(\d{10})\.json$", re.IGNORECASE)
_CHUNK = 1 << 20


@dataclass
class SkippedMember:
    member: str  # the member's name in the archive (or the file name in a folder)
    reason: str


@dataclass
class BulkResult:
    """What was read: parsed companies by CIK, and what was not read with why."""

    origin: str
    companies: list[CompanyFacts] = field(default_factory=list)
    skipped: list[SkippedMember] = field(default_factory=list)
    members_total: int = 0  # CIK members in the archive (before the filter)
    members_read: int = 0
    warnings: list[str] = field(default_factory=list)


def member_cik(name: str) -> str | None:
    """The ten-digit CIK of a member named ``CIK##########.json`` (any folder), else None."""
    found = _MEMBER.match(name)
    return found.group(1) if found else None


def read_companyfacts_bulk(path: str | Path, *, ciks: set[str] | None = None,
                           progress: Callable[[int, int], None] | None = None,
                           is_cancelled: Callable[[], bool] | None = None,
                           max_member_bytes: int = MAX_MEMBER_BYTES, max_ratio: float = MAX_RATIO) -> BulkResult:
    """Read ``companyfacts.zip`` or a folder of companyfacts bodies.

    Args:
        path: the zip file or the folder.
        ciks: read only these CIKs (ten-digit strings); None reads every member.
        progress: ``progress(done, total)`` over the selected members.
        is_cancelled: checked before each member.
        max_member_bytes, max_ratio: the zip-bomb limits (see the module docstring).

    Raises:
        InputError: missing path, not a zip archive, a truncated archive or member.
        Cancelled: ``is_cancelled()`` turned true.
    """
    p = Path(path)
    if p.is_dir():
        return _read_folder(p, ciks, progress, is_cancelled, max_member_bytes)
    if not p.exists():
        raise InputError("file not found", path=str(p))
    try:
        archive = zipfile.ZipFile(p)
    except zipfile.BadZipFile:
        raise InputError("not a complete zip archive (no central directory): the file is truncated or is "
                         "not companyfacts.zip", path=str(p),
                         hint="Download companyfacts.zip again from the SEC's bulk data page.") from None
    except OSError as exc:
        raise InputError(f"cannot read the file ({exc.strerror or exc})", path=str(p)) from None
    with archive:
        result = BulkResult(origin=str(p))
        selected: list[tuple[zipfile.ZipInfo, str]] = []
        for info in archive.infolist():
            if info.is_dir():
                continue
            cik = member_cik(info.filename)
            if cik is None:
                result.skipped.append(SkippedMember(info.filename, "not a CIK##########.json member"))
                continue
            result.members_total += 1
            if ciks is None or cik in ciks:
                selected.append((info, cik))
        for done, (info, cik) in enumerate(selected):
            if is_cancelled is not None and is_cancelled():
                raise Cancelled()
            _read_member(archive, info, cik, result, max_member_bytes, max_ratio)
            if progress is not None:
                progress(done + 1, len(selected))
    return result


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, cik: str, result: BulkResult,
                 max_member_bytes: int, max_ratio: float) -> None:
    origin = f"{result.origin}:{info.filename}"
    if info.file_size > max_member_bytes:
        result.skipped.append(SkippedMember(info.filename, f"declares {info.file_size:,} bytes uncompressed, "
                                            f"more than the {max_member_bytes:,}-byte limit (zip bomb?)"))
        return
    if info.compress_size and info.file_size / info.compress_size > max_ratio:
        result.skipped.append(SkippedMember(info.filename, f"compression ratio "
                                            f"{info.file_size / info.compress_size:,.0f}:1 is above {max_ratio:g}:1 "
                                            "(zip bomb?)"))
        return
    try:
        body = b"".join(_capped(archive.open(info), max_member_bytes, info.filename))
    except _TooLarge:
        result.skipped.append(SkippedMember(info.filename, f"inflates past the {max_member_bytes:,}-byte limit, "
                                            "more than its header declares (zip bomb?)"))
        return
    except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
        raise InputError(f"the member {info.filename} is damaged or cut off ({str(exc)[:100]}): the archive is "
                         "truncated or corrupt", path=result.origin,
                         hint="Download companyfacts.zip again.") from None
    except NotImplementedError as exc:  # an unsupported compression method
        result.skipped.append(SkippedMember(info.filename, f"cannot be decompressed ({exc})"))
        return
    _parse(body, origin, info.filename, cik, result)


class _TooLarge(Exception):
    pass


def _capped(stream: IO[bytes], cap: int, name: str) -> Iterator[bytes]:
    """The member's bytes, refusing to inflate more than ``cap`` whatever its header says."""
    read = 0
    with stream as fh:
        while True:
            chunk = fh.read(min(_CHUNK, cap + 1 - read))
            if not chunk:
                return
            read += len(chunk)
            if read > cap:
                raise _TooLarge(name)
            yield chunk


def _parse(body: bytes, origin: str, member: str, cik: str, result: BulkResult) -> None:
    try:
        company = parse_companyfacts(body, origin, keep_facts=False)  # rows only: memory stays bounded
    except InputError as exc:
        result.skipped.append(SkippedMember(member, exc.message.removeprefix(f"{origin}: ")))
        return
    if company.cik != cik:
        result.skipped.append(SkippedMember(member, f"holds CIK {company.cik}, not the {cik} of its name"))
        return
    result.companies.append(company)
    result.members_read += 1


def _read_folder(folder: Path, ciks: set[str] | None, progress: Callable[[int, int], None] | None,
                 is_cancelled: Callable[[], bool] | None, max_member_bytes: int) -> BulkResult:
    result = BulkResult(origin=str(folder))
    selected: list[tuple[Path, str]] = []
    for f in sorted(folder.iterdir()):
        if not f.is_file() or f.suffix.lower() != ".json" or f.name.lower().startswith("company_tickers"):
            continue
        cik = member_cik(f.name)
        if cik is None:
            result.skipped.append(SkippedMember(f.name, "not a CIK##########.json file"))
            continue
        result.members_total += 1
        if ciks is None or cik in ciks:
            selected.append((f, cik))
    if not result.members_total:
        raise InputError("no CIK##########.json files in the folder", path=str(folder))
    for done, (f, cik) in enumerate(selected):
        if is_cancelled is not None and is_cancelled():
            raise Cancelled()
        size = f.stat().st_size
        if size > max_member_bytes:
            result.skipped.append(SkippedMember(f.name, f"{size:,} bytes, more than the {max_member_bytes:,}-byte "
                                                "limit"))
        else:
            try:
                body = f.read_bytes()
            except OSError as exc:
                raise InputError(f"cannot read the file ({exc.strerror or exc})", path=str(f)) from None
            _parse(body, str(f), f.name, cik, result)
        if progress is not None:
            progress(done + 1, len(selected))
    return result

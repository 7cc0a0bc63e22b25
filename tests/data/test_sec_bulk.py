"""Reading companyfacts.zip / a folder (issue #14): the TRIMMED real SEC bodies zipped in tmp_path,
plus hostile archives built here (zip bomb, lying header, truncated archive, non-JSON members)."""

from __future__ import annotations

import shutil
import struct
import zipfile
from pathlib import Path

import pytest

from desktop.data import sec_bulk
from desktop.errors import Cancelled, InputError

FIXTURES = Path(__file__).resolve().parents[1] / "data_files" / "sec"
MRVL, AAPL = "0001835632", "0000320193"


def _bodies() -> dict[str, bytes]:
    return {f"CIK{f.name[3:13]}.json": f.read_bytes() for f in FIXTURES.glob("CIK*_trimmed_sec_body.json")}


def _zip(path: Path, members: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> Path:
    with zipfile.ZipFile(path, "w", compression=method) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def test_reads_every_member_with_progress(tmp_path):
    archive = _zip(tmp_path / "companyfacts.zip", _bodies())
    seen: list[tuple[int, int]] = []
    result = sec_bulk.read_companyfacts_bulk(archive, progress=lambda d, t: seen.append((d, t)))
    assert result.members_total == result.members_read == 5
    assert {c.cik for c in result.companies} >= {MRVL, AAPL}
    assert result.skipped == []
    assert seen == [(i, 5) for i in range(1, 6)]


def test_cik_filter_reads_only_those(tmp_path):
    archive = _zip(tmp_path / "companyfacts.zip", _bodies())
    result = sec_bulk.read_companyfacts_bulk(archive, ciks={MRVL})
    assert [c.cik for c in result.companies] == [MRVL]
    assert result.members_total == 5 and result.members_read == 1


def test_cancel(tmp_path):
    archive = _zip(tmp_path / "companyfacts.zip", _bodies())
    with pytest.raises(Cancelled):
        sec_bulk.read_companyfacts_bulk(archive, is_cancelled=lambda: True)


def test_folder(tmp_path):
    for name, data in _bodies().items():
        (tmp_path / name).write_bytes(data)
    (tmp_path / "company_tickers.json").write_text("{}")  # the ticker map beside them is not a member
    (tmp_path / "notes.json").write_text("{}")
    result = sec_bulk.read_companyfacts_bulk(tmp_path, ciks={AAPL, MRVL})
    assert sorted(c.cik for c in result.companies) == [AAPL, MRVL]
    assert [(s.member, s.reason) for s in result.skipped] == [("notes.json", "not a CIK##########.json file")]


def test_empty_folder_is_refused(tmp_path):
    with pytest.raises(InputError, match="no CIK"):
        sec_bulk.read_companyfacts_bulk(tmp_path)


def test_non_json_and_foreign_members_are_listed_by_name(tmp_path):
    members = dict(_bodies())
    members["CIK0000000002.json"] = b"<html><body>Request Rate Threshold Exceeded</body></html>"
    members["CIK0000000003.json"] = b'{"cik": 3, "entityName": "x"}'
    members["CIK0000000004.json"] = members[f"CIK{MRVL}.json"]  # Marvell's body under another CIK
    members["README.txt"] = b"hello"
    archive = _zip(tmp_path / "companyfacts.zip", members)
    result = sec_bulk.read_companyfacts_bulk(archive)
    reasons = {s.member: s.reason for s in result.skipped}
    assert "not a JSON document" in reasons["CIK0000000002.json"]
    assert "no 'facts' object" in reasons["CIK0000000003.json"]
    assert "holds CIK 0001835632, not the 0000000004" in reasons["CIK0000000004.json"]
    assert reasons["README.txt"] == "not a CIK##########.json member"
    assert result.members_read == 5


def test_zip_bomb_by_ratio_is_not_inflated(tmp_path):
    bomb = b'{"cik": 7, "facts": {}, "pad": "' + b"0" * (20 * 2**20) + b'"}'  # 20 MB of zeros: ~1000:1
    archive = _zip(tmp_path / "bomb.zip", {"CIK0000000007.json": bomb, f"CIK{MRVL}.json": _bodies()[f"CIK{MRVL}.json"]})
    result = sec_bulk.read_companyfacts_bulk(archive)
    assert [s.member for s in result.skipped] == ["CIK0000000007.json"]
    assert "compression ratio" in result.skipped[0].reason and "zip bomb" in result.skipped[0].reason
    assert [c.cik for c in result.companies] == [MRVL]


def test_member_above_the_size_limit_is_refused(tmp_path):
    archive = _zip(tmp_path / "big.zip", _bodies(), method=zipfile.ZIP_STORED)
    result = sec_bulk.read_companyfacts_bulk(archive, max_member_bytes=50_000)
    assert [c.cik for c in result.companies] == ["0001997711"]  # the IFRS body is 16 kB; the others ~150 kB
    assert len(result.skipped) == 4
    assert all("more than the 50,000-byte limit" in s.reason for s in result.skipped)


def test_lying_header_cannot_inflate_more_than_declared(tmp_path):
    # A member whose local and central headers declare 100 bytes but whose data inflates to 2 MB.
    real = b'{"cik": 8, "facts": {}, "pad": "' + b"x" * 2_000_000 + b'"}'
    archive = _zip(tmp_path / "liar.zip", {"CIK0000000008.json": real})
    data = bytearray(archive.read_bytes())
    size = struct.pack("<I", len(real))
    fake = struct.pack("<I", 100)
    assert data.count(size) == 2  # local header and central directory entry
    archive.write_bytes(bytes(data).replace(size, fake))
    with pytest.raises(InputError, match="damaged or cut off"):
        sec_bulk.read_companyfacts_bulk(archive, max_ratio=1e9)


def test_truncated_archive(tmp_path):
    archive = _zip(tmp_path / "companyfacts.zip", _bodies())
    cut = tmp_path / "cut.zip"
    cut.write_bytes(archive.read_bytes()[: archive.stat().st_size // 2])
    with pytest.raises(InputError) as info:
        sec_bulk.read_companyfacts_bulk(cut)
    assert "truncated" in str(info.value) and "cut.zip" in str(info.value)


def test_member_with_corrupt_data(tmp_path):
    archive = _zip(tmp_path / "companyfacts.zip", {f"CIK{MRVL}.json": _bodies()[f"CIK{MRVL}.json"]})
    data = bytearray(archive.read_bytes())
    middle = len(data) // 2
    data[middle:middle + 64] = b"\x00" * 64  # the deflate stream is damaged; the directory is intact
    archive.write_bytes(bytes(data))
    with pytest.raises(InputError, match="damaged or cut off"):
        sec_bulk.read_companyfacts_bulk(archive)


def test_not_a_zip_and_missing(tmp_path):
    junk = tmp_path / "companyfacts.zip"
    junk.write_text("<html>error</html>")
    with pytest.raises(InputError, match="not a complete zip archive"):
        sec_bulk.read_companyfacts_bulk(junk)
    with pytest.raises(InputError, match="not found"):
        sec_bulk.read_companyfacts_bulk(tmp_path / "nope.zip")


def test_members_in_a_subfolder_of_the_archive(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    for name, data in _bodies().items():
        (src / name).write_bytes(data)
    base = shutil.make_archive(str(tmp_path / "nested"), "zip", root_dir=tmp_path, base_dir="src")
    result = sec_bulk.read_companyfacts_bulk(base, ciks={AAPL})
    assert [c.cik for c in result.companies] == [AAPL]


def test_member_cik():
    assert sec_bulk.member_cik("CIK0000320193.json") == AAPL
    assert sec_bulk.member_cik("x/CIK0000320193.json") == AAPL
    assert sec_bulk.member_cik("CIK320193.json") is None


def test_bulk_keeps_rows_not_the_fact_index(tmp_path):
    # Thousands of companies: each keeps its statement rows only (a first benchmark run held 5.9 GB).
    result = sec_bulk.read_companyfacts_bulk(_zip(tmp_path / "companyfacts.zip", _bodies()), ciks={MRVL})
    (company,) = result.companies
    assert company.rows and company._index == {}

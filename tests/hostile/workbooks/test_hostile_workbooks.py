"""Hostile .xlsx archives for screen import (issue #13, root cause 5), built in tmp_path from a
committed Pickaxe export (tests/data_files/export/shortlist_v1.xlsx, invented data).

Each must be refused by ``read_screen_definition`` (behind ``pickaxe-cli screens import`` and the
GUI's import) with a ScreenDefinitionError naming the file (and the sheet and cell where there is
one), within a bounded time (timeout marker) and, for the archive bombs, bounded memory.
"""

from __future__ import annotations

import json
import re
import tracemalloc
import warnings
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from desktop.cli import main
from desktop.errors import ScreenDefinitionError
from desktop.export.screen_sheet import (
    MARKER,
    MAX_JSON_DEPTH,
    MAX_MEMBERS,
    MAX_SHARED_STRINGS_BYTES,
    read_screen_definition,
)

pytestmark = pytest.mark.timeout(120)
EXPORT = Path(__file__).resolve().parents[2] / "data_files" / "export" / "shortlist_v1.xlsx"


def _screen_member(archive: zipfile.ZipFile) -> str:
    """The archive path of the "Screen" sheet (via workbook.xml and its relationships)."""
    workbook = archive.read("xl/workbook.xml").decode()
    rid = re.search(r'<sheet [^>]*name="Screen"[^>]*r:id="(rId\d+)"', workbook)
    assert rid, "the export has no Screen sheet"
    rels = archive.read("xl/_rels/workbook.xml.rels").decode()
    target = re.search(rf'Target="([^"]+)" Id="{rid.group(1)}"', rels)
    assert target
    return target.group(1).lstrip("/")


def _rebuild(dst: Path, change: Callable[[str, bytes], bytes | None] = lambda n, d: d,
             extra: Callable[[zipfile.ZipFile], None] = lambda z: None) -> Path:
    """A copy of the export with members changed (None drops one) and members added."""
    with zipfile.ZipFile(EXPORT) as src, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as out:
        screen = _screen_member(src)
        for info in src.infolist():
            data = change("SCREEN" if info.filename == screen else info.filename, src.read(info))
            if data is not None:
                out.writestr(info.filename, data)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # zipfile warns on the duplicate names some cases add
            extra(out)
    return dst


def _stream_member(archive: zipfile.ZipFile, name: str, head: bytes, unit: bytes, total: int,
                   tail: bytes = b"") -> None:
    """Write a member of ``total`` bytes without holding it in memory (it compresses ~1000:1)."""
    with archive.open(name, "w", force_zip64=True) as fh:
        fh.write(head)
        chunk = unit * (1_000_000 // len(unit))
        written = len(head)
        while written < total:
            fh.write(chunk)
            written += len(chunk)
        fh.write(tail)


def _refused(path: Path) -> str:
    with pytest.raises(ScreenDefinitionError) as info:
        read_screen_definition(path)
    message = str(info.value)
    assert message.startswith(str(path)), message
    assert "Traceback" not in message
    return message


def test_the_base_export_reads(tmp_path: Path) -> None:
    """The hostile files below differ from a workbook that imports only in what they break."""
    copy = _rebuild(tmp_path / "copy.xlsx")
    assert read_screen_definition(copy) == read_screen_definition(EXPORT)


# --- the archive -------------------------------------------------------------------------------


def test_shared_strings_bomb_is_refused_before_inflating(tmp_path: Path) -> None:
    size = MAX_SHARED_STRINGS_BYTES + 40_000_000  # a few hundred KB on disk
    path = _rebuild(tmp_path / "bomb.xlsx", extra=lambda z: _stream_member(
        z, "xl/sharedStrings.xml", b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">',
        b"<si><t>aaaaaaaa</t></si>", size, b"</sst>"))
    assert path.stat().st_size < 2_000_000
    tracemalloc.start()
    try:
        message = _refused(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert "xl/sharedStrings.xml" in message and "would inflate to" in message
    assert peak < 20_000_000, f"peak {peak / 1e6:.0f} MB while refusing"


def test_highly_compressed_member_is_refused(tmp_path: Path) -> None:
    """Under the size cap, but 1000:1: no spreadsheet compresses like that."""
    path = _rebuild(tmp_path / "ratio.xlsx", extra=lambda z: _stream_member(
        z, "xl/media/padding.bin", b"", b"\0" * 1000, 20_000_000))
    assert "compressed" in _refused(path) and "xl/media/padding.bin" in _refused(path)


def test_too_many_members(tmp_path: Path) -> None:
    def add(z: zipfile.ZipFile) -> None:
        for i in range(MAX_MEMBERS + 1):
            z.writestr(f"xl/media/m{i}.bin", b"x")
    assert "files" in _refused(_rebuild(tmp_path / "many.xlsx", extra=add))


@pytest.mark.parametrize("name", ["../../outside.xml", "/etc/cron.d/x", "C:/Windows/x.xml", "\\\\server\\x.xml",
                                  "xl/workbook.xml"])
def test_unsafe_or_duplicate_member_names(name: str, tmp_path: Path) -> None:
    path = _rebuild(tmp_path / "names.xlsx", extra=lambda z: z.writestr(name, b"<x/>"))
    message = _refused(path)
    assert "unsafe name" in message or "twice" in message


@pytest.mark.parametrize("cut", [0, 100, 0.5])
def test_empty_or_truncated_archive(cut: float, tmp_path: Path) -> None:
    data = EXPORT.read_bytes()
    path = tmp_path / "cut.xlsx"
    path.write_bytes(data[: int(cut * len(data)) if isinstance(cut, float) else cut])
    assert "not a readable Excel workbook" in _refused(path)


# --- the XML -----------------------------------------------------------------------------------

LAUGHS = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
          + b"".join(b'<!ENTITY lol%d "%s">' % (i, (b"&lol%d;" % (i - 1) if i > 1 else b"&lol;") * 10)
                     for i in range(1, 10)) + b"]>")
XXE = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'


def _with_doctype(doctype: bytes, entity: bytes) -> Callable[[str, bytes], bytes | None]:
    """Put ``doctype`` before the Screen sheet's root and ``entity`` into its first text cell."""
    def change(name: str, data: bytes) -> bytes | None:
        if name != "SCREEN":
            return data
        body = re.sub(rb"^<\?xml[^>]*\?>", b"", data)
        body = re.sub(rb"(<is><t[^>]*>)", rb"\1" + entity, body, count=1)
        return doctype + body
    return change


@pytest.mark.parametrize("doctype, entity", [(LAUGHS, b"&lol9;"), (XXE, b"&xxe;")], ids=["laughs", "xxe"])
def test_entity_expansion_in_the_screen_sheet(doctype: bytes, entity: bytes, tmp_path: Path) -> None:
    path = _rebuild(tmp_path / "entities.xlsx", _with_doctype(doctype, entity))
    message = _refused(path)
    assert "xl/worksheets/" in message and "declares a DTD or XML entities" in message
    assert "root:" not in message  # nothing of /etc/passwd


def test_entity_expansion_in_workbook_xml(tmp_path: Path) -> None:
    def change(name: str, data: bytes) -> bytes | None:
        if name != "xl/workbook.xml":
            return data
        return LAUGHS + data.replace(b'name="Why"', b'name="&lol9;"')
    message = _refused(_rebuild(tmp_path / "wb_entities.xlsx", change))
    assert "xl/workbook.xml" in message and "entity expansion" in message


def test_entity_declaration_in_utf16_is_seen(tmp_path: Path) -> None:
    def change(name: str, data: bytes) -> bytes | None:
        if name != "docProps/app.xml":
            return data
        text = re.sub(rb"^<\?xml[^>]*\?>", b"", data).decode()
        return ('<?xml version="1.0" encoding="UTF-16"?>' + XXE.decode()[21:] + text).encode("utf-16")
    assert "docProps/app.xml" in _refused(_rebuild(tmp_path / "utf16.xlsx", change))


@pytest.mark.parametrize("damage", ["cut", "garbage", "unclosed"])
def test_malformed_screen_sheet_xml_names_the_sheet_and_row(damage: str, tmp_path: Path) -> None:
    def change(name: str, data: bytes) -> bytes | None:
        if name != "SCREEN":
            return data
        if damage == "cut":
            return data[: int(len(data) * 0.6)]
        if damage == "garbage":
            return data.replace(b"</row>", b"</row><<\x01>>", 3)[: len(data)]
        return data.replace(b"</sheetData>", b"")
    message = _refused(_rebuild(tmp_path / "badxml.xlsx", change))
    assert "malformed" in message and "'Screen!A" in message


# --- the JSON ----------------------------------------------------------------------------------


def _screen_workbook(path: Path, json_text: str) -> Path:
    """A workbook whose Screen sheet holds ``json_text`` in Pickaxe's layout (checksum arbitrary:
    the depth check comes first)."""
    from openpyxl import Workbook

    rows: list[tuple[str, bool]] = []
    for line in json_text.split("\n"):
        pieces = [line[i:i + 30_000] for i in range(0, len(line), 30_000)] or [""]
        rows += [(p, i < len(pieces) - 1) for i, p in enumerate(pieces)]
    wb = Workbook()
    ws = wb.active
    ws.title = "Screen"
    ws.append([MARKER, len(rows), "sha256:" + "0" * 64])
    for piece, continues in rows:
        ws.append([piece, "cont" if continues else None])
    wb.save(path)
    return path


@pytest.mark.parametrize("text, line", [
    ("[" * 200_000 + "]" * 200_000, 1),  # one long line over several cells: RecursionError before
    ('{"criteria": [\n' + '{"all": [\n' * (MAX_JSON_DEPTH + 5) + "{}" + "]}" * (MAX_JSON_DEPTH + 5) + "]}",
     MAX_JSON_DEPTH // 2 + 1),  # line 1 opens two levels, every further line two more
])
def test_deeply_nested_json_names_the_cell(text: str, line: int, tmp_path: Path) -> None:
    path = _screen_workbook(tmp_path / "deep.xlsx", text)
    message = _refused(path)
    assert f"nests deeper than {MAX_JSON_DEPTH} levels" in message
    assert f"'Screen!A{1 + line}'" in message


def test_brackets_inside_strings_do_not_count_as_nesting(tmp_path: Path) -> None:
    text = json.dumps({"name": "[" * 1000, "criteria": []}, indent=2)
    message = _refused(_screen_workbook(tmp_path / "strings.xlsx", text))
    assert "checksum" in message  # got past the depth check to the (deliberately wrong) checksum


def test_cli_screens_import_of_a_bomb_is_one_sentence(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _rebuild(tmp_path / "bomb.xlsx", extra=lambda z: _stream_member(
        z, "xl/sharedStrings.xml", b"<sst>", b"<si><t>a</t></si>", MAX_SHARED_STRINGS_BYTES + 1_000_000))
    code = main(["--db", str(tmp_path / "s.sqlite3"), "screens", "import", str(path)])
    out, err = capsys.readouterr()
    assert code == 1
    assert str(path) in err and "would inflate" in err
    assert "Traceback" not in out + err

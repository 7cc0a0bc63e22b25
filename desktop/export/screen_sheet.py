"""The workbook's "Screen" sheet: the criteria in plain words plus the screen's JSON, and the reader
that restores the exact screen from an exported workbook (``pickaxe-cli screens import FILE.xlsx``).

Layout of the machine-readable part (below the human-readable criteria):

    A{r} = "pickaxe-screen-json/1"   B{r} = number of JSON rows   C{r} = "sha256:<hex>"
    A{r+1..r+n} = the JSON (``indent=2``), one line per row; a line longer than a cell can hold
                  is split and B says "cont" on every piece that continues on the next row.

The checksum is over the canonical form (sorted keys, compact) of the definition, so whitespace
changes made by a spreadsheet program do not matter, but an edited definition is refused: the
workbook is an export, to change a screen edit it in Pickaxe or as a JSON file.

The reader trusts nothing in the file (issue #13, root cause 5): the zip archive is checked
before openpyxl opens it (member count, names, each member's declared size and compression ratio;
Python's zipfile never inflates a member past its declared size, so a "zip bomb" is refused
up front), XML is parsed through defusedxml (openpyxl uses it when installed: no entity
expansion, no external entities), the JSON's nesting depth is bounded before ``json.loads``, and
every failure becomes a :class:`ScreenDefinitionError` naming the file, the sheet and the cell.
"""

from __future__ import annotations

import hashlib
import json
import re
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from defusedxml import DefusedXmlException
from openpyxl import load_workbook
from openpyxl.utils.exceptions import InvalidFileException

from desktop.errors import ScreenDefinitionError
from desktop.export.content import CriterionInfo

SHEET = "Screen"
MARKER = "pickaxe-screen-json/1"
MARKER_PREFIX = "pickaxe-screen-json/"
CONTINUES = "cont"
CELL_LIMIT = 30_000  # Excel holds 32,767 characters per cell; stay well below
MAX_FILE_BYTES = 50_000_000
MAX_SCAN_ROWS = 5_000  # where the marker may be
MAX_JSON_ROWS = 20_000
MAX_JSON_CHARS = 2_000_000
# A screen document nests a few levels (criteria groups); the engine allows far fewer than this.
MAX_JSON_DEPTH = 64
# The archive (a Pickaxe export of 2,000 rows is a few MB; its largest member a few tens of MB).
MAX_MEMBERS = 500
MAX_MEMBER_BYTES = 200_000_000  # uncompressed, any one member
MAX_SHARED_STRINGS_BYTES = 60_000_000  # openpyxl holds every shared string in memory
MAX_TOTAL_BYTES = 500_000_000  # uncompressed, all members
MAX_RATIO = 200  # uncompressed / compressed, for members over RATIO_FLOOR bytes
RATIO_FLOOR = 1_000_000
SHARED_STRINGS = "xl/sharedStrings.xml"
POLICY_WORDS = {"fail": "fails", "pass": "passes", "unknown": "unknown (not listed)",
                "use": "judged on its number"}


def canonical_digest(definition: dict[str, Any]) -> str:
    text = json.dumps(definition, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False)
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def json_rows(definition: dict[str, Any]) -> list[tuple[str, bool]]:
    """The JSON text as (piece, continues) rows."""
    text = json.dumps(definition, indent=2, ensure_ascii=False, allow_nan=False)
    rows: list[tuple[str, bool]] = []
    for line in text.split("\n"):
        pieces = [line[i:i + CELL_LIMIT] for i in range(0, len(line), CELL_LIMIT)] or [""]
        rows += [(piece, i < len(pieces) - 1) for i, piece in enumerate(pieces)]
    return rows


def logic_words(definition: dict[str, Any]) -> str:
    """The screen's boolean structure with criterion ids: ``c1 and (c2 or not c3)``.

    Ids follow ``Screen.leaves()``: leaf criteria numbered c1, c2, ... in document order.
    """
    counter = iter(range(1, 1_000_000))

    def walk(node: Any) -> tuple[str, bool]:  # (text, needs brackets inside another group)
        if isinstance(node, dict) and "all" in node:
            return join(node["all"], "and")
        if isinstance(node, dict) and "any" in node:
            return join(node["any"], "or")
        if isinstance(node, dict) and "not" in node:
            text, compound = walk(node["not"])
            return "not " + (f"({text})" if compound else text), False
        return f"c{next(counter)}", False

    def join(children: Iterable[Any], op: str) -> tuple[str, bool]:
        parts = [walk(c) for c in children]
        if len(parts) == 1:
            return parts[0]
        return f" {op} ".join(f"({t})" if compound else t for t, compound in parts), True

    criteria = definition.get("criteria") or []
    if not criteria:
        return "no criteria: every stock in the universe passes"
    return join(criteria, "or" if definition.get("match") == "any" else "and")[0]


def screen_sheet_rows(definition: dict[str, Any], criteria: tuple[CriterionInfo, ...]
                      ) -> list[list[tuple[str, Any]]]:
    """The "Screen" sheet as rows of ``(look, value)``; look is title, bold, italic, wrap, text or
    number. The writer turns every text into a guarded string cell."""
    facts = [
        ("Name", str(definition.get("name", ""))),
        ("Format version", str(definition.get("version", ""))),
        ("Universe", {"russell2000": "Russell 2000 members", "all": "every stock in the snapshot"}
         .get(str(definition.get("universe", "")), str(definition.get("universe", "")))),
        ("Match", "all criteria" if definition.get("match", "all") == "all" else "any criterion"),
        ("Logic", logic_words(definition)),
        ("Sort", ", ".join(f"{s.get('field')} ({'descending' if s.get('descending') else 'ascending'})"
                           for s in definition.get("sort") or [] if isinstance(s, dict)) or "-"),
        ("Columns", ", ".join(map(str, definition.get("columns") or [])) or "-"),
    ]
    score = definition.get("score")
    weights = score.get("weights") if isinstance(score, dict) else None
    if weights:
        facts.append(("Score weights", ", ".join(f"{k} {v}" for k, v in weights.items())))
    rows: list[list[tuple[str, Any]]] = [[("title", "Screen")], []]
    rows += [[("bold", label), ("wrap", value)] for label, value in facts]
    formulas = [f for f in definition.get("formulas") or [] if isinstance(f, dict)]
    if formulas:  # issue #16: user fields, each with its formula
        rows += [[], [("bold", h) for h in ("Formula field", "Formula", "Label", "Unit")]]
        rows += [[("text", str(f.get("name", ""))), ("wrap", str(f.get("expression", ""))),
                  ("text", str(f.get("label", "")) or None), ("text", str(f.get("unit", "")) or "implied")]
                 for f in formulas]
    rows.append([])
    rows.append([("bold", h) for h in ("Id", "Criterion", "Field", "If the value is missing",
                                        "If not meaningful", "If stale", "If suspect")])
    for crit in criteria:
        rows.append([("text", crit.id), ("text", crit.description), ("text", crit.field),
                     *(("text", POLICY_WORDS.get(policy, policy) or None)
                       for policy in (crit.missing, crit.not_meaningful, crit.stale, crit.suspect))])
    rows += [[], [("italic", "Screen definition (JSON). Pickaxe imports the screen from here; "
                             "edits are refused (checksum).")]]
    pieces = json_rows(definition)
    rows.append([("text", MARKER), ("number", len(pieces)), ("text", canonical_digest(definition))])
    rows += [[("text", piece), ("text", CONTINUES if continues else None)] for piece, continues in pieces]
    return rows


def read_screen_definition(path: str | Path) -> dict[str, Any]:
    """The screen definition stored in an exported workbook, exactly as it was exported.

    Raises:
        ScreenDefinitionError: the file is not a readable workbook, has no Pickaxe screen, or the
            stored definition is damaged, edited, oversized or holds formulas. The message names
            the file and the cell.
    """
    file = Path(path)
    if not file.is_file():
        raise ScreenDefinitionError("the file does not exist", path=str(file))
    if file.stat().st_size > MAX_FILE_BYTES:
        raise ScreenDefinitionError(
            f"the workbook is larger than {MAX_FILE_BYTES // 1_000_000} MB; "
            "a Pickaxe export with a screen is far smaller", path=str(file))
    check_archive(file)
    try:
        wb = load_workbook(file, read_only=True, data_only=False, keep_links=False)
    except (DefusedXmlException, SyntaxError) as exc:  # ElementTree's and lxml's parse errors
        raise ScreenDefinitionError(f"the workbook's XML is malformed or unsafe ({_xml_problem(exc)})",
                                    path=str(file)) from exc
    except (zipfile.BadZipFile, zlib.error, InvalidFileException, KeyError, ValueError, TypeError,
            AttributeError, IndexError, EOFError, OSError) as exc:
        raise ScreenDefinitionError(f"not a readable Excel workbook (.xlsx): {exc}", path=str(file)) from exc
    try:
        if SHEET not in wb.sheetnames:
            raise ScreenDefinitionError(
                f"the workbook has no {SHEET!r} sheet, so it holds no Pickaxe screen "
                "(export a screen from Pickaxe to get one)", path=str(file))
        progress = _Progress()
        try:
            return _read(wb[SHEET], file, progress)
        except ScreenDefinitionError:
            raise
        except (DefusedXmlException, SyntaxError) as exc:
            raise ScreenDefinitionError(
                f"the sheet's XML is malformed or unsafe after row {progress.row} ({_xml_problem(exc)})",
                path=str(file), field=f"{SHEET}!A{progress.row + 1}") from exc
        except (zipfile.BadZipFile, zlib.error, KeyError, ValueError, TypeError, AttributeError,
                IndexError, EOFError, OSError) as exc:
            raise ScreenDefinitionError(
                f"the sheet cannot be read after row {progress.row} ({type(exc).__name__}: {exc})",
                path=str(file), field=f"{SHEET}!A{progress.row + 1}") from exc
    finally:
        wb.close()


class _Progress:
    """The last sheet row read, so a parse error deep in the XML can name where it happened."""

    def __init__(self) -> None:
        self.row = 0


def _xml_problem(exc: Exception) -> str:
    if isinstance(exc, DefusedXmlException):
        return f"{type(exc).__name__}: entity declarations and external references are refused"
    return str(exc) or type(exc).__name__


def check_archive(file: Path) -> None:
    """Refuse, before any member is inflated, an .xlsx archive that could not be a Pickaxe export.

    Raises:
        ScreenDefinitionError: not a zip file; too many members; an unsafe or duplicate member name;
            a member whose declared size or compression ratio is beyond the caps above.
    """
    try:
        with zipfile.ZipFile(file) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, zlib.error, ValueError, EOFError, OSError) as exc:
        raise ScreenDefinitionError(f"not a readable Excel workbook (.xlsx): {exc}", path=str(file)) from exc
    if len(members) > MAX_MEMBERS:
        raise ScreenDefinitionError(
            f"the workbook archive holds {len(members):,} files (at most {MAX_MEMBERS} are accepted)",
            path=str(file))
    seen: set[str] = set()
    total = 0
    for info in members:
        name = info.filename
        parts = name.replace("\\", "/").split("/")
        if (not name or len(name) > 255 or "\x00" in name or name.startswith(("/", "\\"))
                or ".." in parts or re.match(r"^[A-Za-z]:", name)):
            raise ScreenDefinitionError(f"the workbook archive holds a file with an unsafe name {name!r}",
                                        path=str(file))
        if name.lower() in seen:
            raise ScreenDefinitionError(f"the workbook archive holds {name!r} twice", path=str(file))
        seen.add(name.lower())
        cap = MAX_SHARED_STRINGS_BYTES if name == SHARED_STRINGS else MAX_MEMBER_BYTES
        if info.file_size > cap:
            raise ScreenDefinitionError(
                f"{name} inside the workbook would inflate to {info.file_size / 1e6:,.0f} MB "
                f"(at most {cap // 1_000_000} MB are accepted)", path=str(file))
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > RATIO_FLOOR and ratio > MAX_RATIO:
            raise ScreenDefinitionError(
                f"{name} inside the workbook is compressed {ratio:,.0f} to 1, which no spreadsheet "
                f"does (at most {MAX_RATIO} to 1 is accepted)", path=str(file))
        total += info.file_size
        if total > MAX_TOTAL_BYTES:
            raise ScreenDefinitionError(
                f"the workbook would inflate to more than {MAX_TOTAL_BYTES // 1_000_000} MB", path=str(file))
    _refuse_doctypes(file, members)


# No part of an Office Open XML package may carry a DTD (ECMA-376 Part 2, 8.1.4: "shall not");
# Excel refuses one. Looking for it ourselves, and not only through defusedxml, matters because
# openpyxl parses workbook.xml, relationships and content types with lxml whenever lxml is
# installed, and defusedxml guards only the stdlib parsers.
_DTD_MARKS = tuple(mark.encode(enc) for mark in ("<!DOCTYPE", "<!ENTITY")
                   for enc in ("ascii", "utf-16-le", "utf-16-be"))
_XML_SUFFIXES = (".xml", ".rels", ".vml")


def _refuse_doctypes(file: Path, members: list[zipfile.ZipInfo]) -> None:
    try:
        with zipfile.ZipFile(file) as archive:
            for info in members:
                if not info.filename.lower().endswith(_XML_SUFFIXES):
                    continue
                with archive.open(info) as fh:  # streamed: never more than one chunk in memory
                    tail = b""
                    while chunk := fh.read(1 << 20):
                        window = (tail + chunk).upper()
                        if any(mark in window for mark in _DTD_MARKS):
                            raise ScreenDefinitionError(
                                f"{info.filename} inside the workbook declares a DTD or XML entities, "
                                "which no spreadsheet writes (refused: entity expansion)", path=str(file))
                        tail = chunk[-32:]
    except (zipfile.BadZipFile, zlib.error, NotImplementedError, ValueError, EOFError, OSError) as exc:
        raise ScreenDefinitionError(f"not a readable Excel workbook (.xlsx): {exc}", path=str(file)) from exc


_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_JSON_BRACKET = re.compile(r"[\[\]{}]")


def _json_depth_exceeded(text: str, limit: int) -> int | None:
    """The character offset where ``text`` nests deeper than ``limit`` arrays/objects, else None.

    Checked before ``json.loads``, whose recursion a few thousand ``[`` would exhaust."""
    stripped = _JSON_STRING.sub(lambda m: '"' + " " * (len(m.group()) - 2) + '"', text)  # keeps offsets
    depth = 0
    for match in _JSON_BRACKET.finditer(stripped):
        depth += 1 if match.group() in "[{" else -1
        if depth > limit:
            return match.start()
    return None


def _read(ws: Any, file: Path, progress: _Progress) -> dict[str, Any]:
    rows = _counted(ws.iter_rows(min_col=1, max_col=3), progress)
    marker_row = None
    count: Any = None
    digest: Any = None
    for number, cells in enumerate(rows, start=1):
        if number > MAX_SCAN_ROWS:
            break
        first = cells[0] if cells else None
        if first is not None and isinstance(first.value, str) and first.value.startswith(MARKER_PREFIX):
            if first.value != MARKER:
                raise ScreenDefinitionError(
                    f"the screen was exported in a newer format ({first.value}); update Pickaxe",
                    path=str(file), field=f"{SHEET}!A{number}")
            marker_row = number
            count = cells[1].value if len(cells) > 1 else None
            digest = cells[2].value if len(cells) > 2 else None
            break
    if marker_row is None:
        raise ScreenDefinitionError(
            f"the {SHEET!r} sheet holds no screen definition (no {MARKER!r} cell in column A)",
            path=str(file), field=SHEET)
    if not isinstance(count, int) or isinstance(count, bool) or not 1 <= count <= MAX_JSON_ROWS:
        raise ScreenDefinitionError(f"expected the number of JSON rows (1-{MAX_JSON_ROWS})",
                                    path=str(file), field=f"{SHEET}!B{marker_row}")
    if not isinstance(digest, str) or not digest.startswith("sha256:"):
        raise ScreenDefinitionError("expected the definition's checksum ('sha256:...')",
                                    path=str(file), field=f"{SHEET}!C{marker_row}")
    text = _collect(rows, marker_row, count, file)
    too_deep = _json_depth_exceeded(text, MAX_JSON_DEPTH)
    if too_deep is not None:
        line = text.count("\n", 0, too_deep) + 1
        raise ScreenDefinitionError(f"the screen JSON nests deeper than {MAX_JSON_DEPTH} levels",
                                    path=str(file), field=f"{SHEET}!A{marker_row + line}")
    try:
        definition = json.loads(text)
    except RecursionError as exc:  # not reachable after the depth check; kept as a last guard
        raise ScreenDefinitionError("the screen JSON nests too deeply", path=str(file),
                                    field=f"{SHEET}!A{marker_row + 1}") from exc
    except json.JSONDecodeError as exc:
        raise ScreenDefinitionError(f"the screen JSON is damaged: {exc.msg} at JSON line {exc.lineno}",
                                    path=str(file), field=f"{SHEET}!A{marker_row + exc.lineno}") from exc
    if not isinstance(definition, dict):
        raise ScreenDefinitionError("the screen JSON is not an object",
                                    path=str(file), field=f"{SHEET}!A{marker_row + 1}")
    try:
        actual = canonical_digest(definition)
    except ValueError as exc:  # NaN/Infinity smuggled into the JSON
        raise ScreenDefinitionError(f"the screen JSON holds an invalid number: {exc}",
                                    path=str(file), field=SHEET) from exc
    if actual != digest:
        raise ScreenDefinitionError(
            "the screen definition was changed after export (checksum mismatch); "
            "edit screens in Pickaxe or as JSON files", path=str(file), field=f"{SHEET}!A{marker_row + 1}")
    return definition


def _counted(rows: Iterable[Any], progress: _Progress) -> Iterator[Any]:
    for cells in rows:
        yield cells
        progress.row += 1


def _collect(rows: Iterable[Any], marker_row: int, count: int, file: Path) -> str:
    parts: list[str] = []
    total = 0
    continues = False
    seen = 0
    for offset, cells in enumerate(rows, start=1):
        if seen == count:
            break
        seen += 1
        where = f"{SHEET}!A{marker_row + offset}"
        cell = cells[0] if cells else None
        value = None if cell is None else cell.value
        if cell is not None and getattr(cell, "data_type", None) == "f":
            raise ScreenDefinitionError("a cell of the screen JSON holds a formula, not text",
                                        path=str(file), field=where)
        if value is None:
            value = ""
        if not isinstance(value, str):
            raise ScreenDefinitionError(f"expected text in the screen JSON, found {type(value).__name__}",
                                        path=str(file), field=where)
        if len(value) > CELL_LIMIT:
            raise ScreenDefinitionError(f"a screen JSON cell is longer than {CELL_LIMIT} characters",
                                        path=str(file), field=where)
        total += len(value) + 1
        if total > MAX_JSON_CHARS:
            raise ScreenDefinitionError(f"the screen JSON is longer than {MAX_JSON_CHARS:,} characters",
                                        path=str(file), field=where)
        if parts and not continues:
            parts.append("\n")
        parts.append(value)
        flag = cells[1].value if len(cells) > 1 else None
        continues = flag == CONTINUES
    if seen < count:
        raise ScreenDefinitionError(f"the screen JSON is cut short: expected {count} rows, found {seen}",
                                    path=str(file), field=f"{SHEET}!A{marker_row + seen + 1}")
    return "".join(parts)

"""The workbook's "Screen" sheet: the criteria in plain words plus the screen's JSON, and the reader
that restores the exact screen from an exported workbook (``pickaxe-cli screens import FILE.xlsx``).

Layout of the machine-readable part (below the human-readable criteria):

    A{r} = "pickaxe-screen-json/1"   B{r} = number of JSON rows   C{r} = "sha256:<hex>"
    A{r+1..r+n} = the JSON (``indent=2``), one line per row; a line longer than a cell can hold
                  is split and B says "cont" on every piece that continues on the next row.

The checksum is over the canonical form (sorted keys, compact) of the definition, so whitespace
changes made by a spreadsheet program do not matter, but an edited definition is refused: the
workbook is an export, to change a screen edit it in Pickaxe or as a JSON file.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

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
POLICY_WORDS = {"fail": "fails", "pass": "passes", "unknown": "unknown (not listed)"}


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
    rows.append([])
    rows.append([("bold", h) for h in ("Id", "Criterion", "Field", "If the value is missing",
                                        "If not meaningful")])
    for crit in criteria:
        rows.append([("text", crit.id), ("text", crit.description), ("text", crit.field),
                     ("text", POLICY_WORDS.get(crit.missing, crit.missing)),
                     ("text", POLICY_WORDS.get(crit.not_meaningful, crit.not_meaningful) or None)])
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
    try:
        wb = load_workbook(file, read_only=True, data_only=False, keep_links=False)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, ValueError, TypeError, OSError) as exc:
        raise ScreenDefinitionError(f"not a readable Excel workbook (.xlsx): {exc}", path=str(file)) from exc
    try:
        if SHEET not in wb.sheetnames:
            raise ScreenDefinitionError(
                f"the workbook has no {SHEET!r} sheet, so it holds no Pickaxe screen "
                "(export a screen from Pickaxe to get one)", path=str(file))
        return _read(wb[SHEET], file)
    finally:
        wb.close()


def _read(ws: Any, file: Path) -> dict[str, Any]:
    rows = ws.iter_rows(min_col=1, max_col=3)
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
    try:
        definition = json.loads(text)
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

"""``pickaxe-cli screens list|show|save|history|restore|export|import|delete``: saved screens and
presets. Every save keeps the previous version; presets are read-only (saving one makes a copy)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from desktop.cli._args import integer
from desktop.cli._terminal import clean
from desktop.engine.formatting import counted
from desktop.engine.screen import describe, parse_screen, screen_to_json
from desktop.services import library
from desktop.store.db import open_database

MAX_VERSION = 1_000_000_000


def register(subparsers: Any) -> None:
    """Add the ``screens`` command group."""
    parser = subparsers.add_parser("screens", help="saved screens and presets",
                                   description="Saved screens (every save is a new version) and presets.")
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    sub.add_parser("list", help="list saved screens and presets").set_defaults(handler=handle_list)
    show = sub.add_parser("show", help="describe a saved screen, preset or screen file")
    show.add_argument("name", metavar="NAME_OR_FILE")
    show.add_argument("--version", type=integer(minimum=1, maximum=MAX_VERSION), help="an older version of a saved screen")
    show.add_argument("--json", action="store_true", help="print the screen document itself")
    show.set_defaults(handler=handle_show)
    for action, helptext in (("save", "save a screen .json file (or exported .xlsx) as a new version"),
                             ("import", "import a shared screen .json file or a workbook Pickaxe exported")):
        cmd = sub.add_parser(action, help=helptext)
        cmd.add_argument("file", metavar="FILE")
        cmd.add_argument("--description", default="", help="a note for this version")
        cmd.set_defaults(handler=handle_save)
    history = sub.add_parser("history", help="list the versions of a saved screen and what changed")
    history.add_argument("name", metavar="NAME")
    history.set_defaults(handler=handle_history)
    restore = sub.add_parser("restore", help="make an old version current again (as a new version)")
    restore.add_argument("name", metavar="NAME")
    restore.add_argument("version", type=integer(minimum=1, maximum=MAX_VERSION), metavar="VERSION")
    restore.set_defaults(handler=handle_restore)
    export = sub.add_parser("export", help="write a saved screen or preset to a .json file")
    export.add_argument("name", metavar="NAME")
    export.add_argument("file", metavar="FILE.json")
    export.set_defaults(handler=handle_export)
    delete = sub.add_parser("delete", help="delete a saved screen and all its versions (asks first)")
    delete.add_argument("name", metavar="NAME")
    delete.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    delete.set_defaults(handler=handle_delete)


def handle_list(args: argparse.Namespace) -> int:
    with open_database(args.db) as db:
        saved = library.saved_screens(db)
    presets = library.presets()
    # Names saved before the name rule (or by another program) may hold controls: clean them
    # before measuring, so the escapes line up (the stream would clean them anyway).
    names = {s.name: clean(s.name) for s in saved}
    width = max([len(n) for n in names.values()] + [len(n) for n in presets] + [4])
    if saved:
        print("Saved screens:")
        for screen in saved:
            print(f"  {names[screen.name]:<{width}}  v{screen.version:<3} {screen.updated_at:%Y-%m-%d %H:%M}  "
                  f"{clean(screen.description)}".rstrip())
    else:
        print("No saved screens yet.")
    print("Presets (read-only):")
    for name in presets:
        print(f"  {name}")
    return 0


def handle_show(args: argparse.Namespace) -> int:
    with open_database(args.db) as db:
        if args.version is not None:
            saved = library.get_saved_screen(db, args.name, args.version)
            screen = parse_screen(saved.definition)
            where = f"saved screen, version {saved.version} of {saved.current_version}"
        else:
            screen = library.load_screen_any(db, args.name)
            where = "preset" if library.is_preset(screen.name) else "screen"
    if args.json:
        sys.stdout.write(screen_to_json(screen))
        return 0
    print(f"{screen.name} ({where})")
    if screen.description:
        print(f"  {screen.description}")
    print(f"  universe: {screen.universe}; a stock passes when it meets {screen.match} of:")
    for criterion in screen.criteria:
        print(f"  - {describe(criterion)}")
    if screen.sort:
        print("  sorted by " + ", ".join(f"{s.field} {'descending' if s.descending else 'ascending'}"
                                          for s in screen.sort))
    return 0


def handle_save(args: argparse.Namespace) -> int:
    with open_database(args.db) as db:
        saved = library.import_screen_file(db, args.file, args.description)
    print(f"Saved {saved.name!r} as version {saved.version}.")
    return 0


def handle_history(args: argparse.Namespace) -> int:
    with open_database(args.db) as db:
        versions = library.screen_history(db, args.name)
    previous = None
    for version in versions:
        mark = " (current)" if version.is_current else ""
        restored = f" restored from v{version.restored_from}" if version.restored_from else ""
        print(f"v{version.version}{mark}  {version.saved_at:%Y-%m-%d %H:%M}{restored}  {version.description}".rstrip())
        if previous is not None:
            for line in library.describe_changes(previous.definition, version.definition) or ["(no change)"]:
                print(f"    {line}")
        previous = version
    return 0


def handle_restore(args: argparse.Namespace) -> int:
    with open_database(args.db) as db:
        saved = library.restore_screen(db, args.name, args.version)
    print(f"Restored {saved.name!r} version {args.version} as version {saved.version}.")
    return 0


def handle_export(args: argparse.Namespace) -> int:
    with open_database(args.db) as db:
        path = library.export_screen_file(db, args.name, args.file)
    print(f"Exported {args.name!r} to {path}.")
    return 0


def handle_delete(args: argparse.Namespace) -> int:
    from desktop.cli.snapshots import _confirm

    with open_database(args.db) as db:
        if library.is_preset(args.name) and not any(s.name == args.name for s in library.saved_screens(db)):
            library.delete_screen(db, args.name)  # raises: presets cannot be deleted
        history = library.screen_history(db, args.name)
        question = f"Delete the saved screen {args.name!r} and its {counted(len(history), 'version')}?"
        if not args.yes and not _confirm(question):
            print("Not deleted (confirm interactively or pass --yes).")
            return 1
        library.delete_screen(db, args.name)
    print(f"Deleted the saved screen {args.name!r}.")
    return 0

"""``pickaxe-cli snapshots list|show|delete``: the dated snapshots in the database."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from desktop.cli._args import snapshot_ref
from desktop.engine.formatting import counted
from desktop.services import library
from desktop.store.db import open_database
from desktop.store.snapshots import SnapshotInfo


def register(subparsers: Any) -> None:
    """Add the ``snapshots`` command group."""
    parser = subparsers.add_parser("snapshots", help="list, show or delete snapshots",
                                   description="The immutable, dated snapshots screens run on.")
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    sub.add_parser("list", help="list snapshots, newest data first").set_defaults(handler=handle_list)
    show = sub.add_parser("show", help="describe one snapshot")
    show.add_argument("snapshot", nargs="?", default="latest", metavar="ID_OR_DATE", type=snapshot_ref,
                      help="snapshot id, as-of date (YYYY-MM-DD) or 'latest' (default)")
    show.set_defaults(handler=handle_show)
    delete = sub.add_parser("delete", help="delete one snapshot (asks first)")
    delete.add_argument("snapshot", metavar="ID_OR_DATE", type=snapshot_ref, help="snapshot id or as-of date")
    delete.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    delete.set_defaults(handler=handle_delete)


def _sources(info: SnapshotInfo) -> str:
    names = [str(s.get("source", "?")) for s in info.sources]
    return ", ".join(dict.fromkeys(names)) or "-"


def handle_list(args: argparse.Namespace) -> int:
    with open_database(args.db) as db:
        infos = library.list_snapshots(db)
    if not infos:
        print("No snapshots yet. Import a holdings file (pickaxe-cli import ishares FILE) or refresh.")
        return 0
    print(f"{'ID':>5}  {'AS OF':<10}  {'CREATED (UTC)':<16}  {'MEMBERS':>7}  {'STOCKS':>6}  SOURCES")
    for info in infos:
        print(f"{info.id:>5}  {info.as_of.isoformat():<10}  {info.created_at:%Y-%m-%d %H:%M}  "
              f"{info.n_members:>7,}  {info.n_securities:>6,}  {_sources(info)}")
    print(f"{len(infos)} snapshot{'s' if len(infos) != 1 else ''}.")
    return 0


def handle_show(args: argparse.Namespace) -> int:
    with open_database(args.db) as db:
        detail = library.snapshot_detail(db, args.snapshot)
    info = detail.info
    print(f"Snapshot {info.id}: data as of {info.as_of.isoformat()}, "
          f"saved {info.created_at:%Y-%m-%d %H:%M} UTC")
    print(f"  {counted(info.n_members, 'index member')}, {counted(info.n_securities, 'security', 'securities')}; "
          f"daily closes for {counted(detail.n_prices, 'symbol')} over {counted(detail.price_days, 'day')}")
    for source in info.sources:
        rows = source.get("rows")
        as_of = source.get("as_of")
        print(f"  source {source.get('source', '?')}: {source.get('origin', '')}"
              + (f" (as of {as_of})" if as_of else "") + (f", {counted(rows, 'row')}" if isinstance(rows, int) else ""))
    for line in library.summary_lines(info.summary):
        print(f"  {line}")
    return 0


def _confirm(question: str) -> bool:
    if not sys.stdin or not sys.stdin.isatty():
        return False
    try:
        return input(f"{question} [y/N] ").strip().lower() in ("y", "yes")
    except EOFError:
        return False


def handle_delete(args: argparse.Namespace) -> int:
    with open_database(args.db) as db:
        info = library.snapshot_detail(db, args.snapshot).info
        question = (f"Delete snapshot {info.id} (data as of {info.as_of.isoformat()}, "
                    f"{counted(info.n_members, 'member')})? This cannot be undone.")
        if not args.yes and not _confirm(question):
            print("Not deleted (confirm interactively or pass --yes).")
            return 1
        library.delete_snapshot(db, info.id)
    print(f"Deleted snapshot {info.id} (as of {info.as_of.isoformat()}).")
    return 0

"""Checks that an import does not silently damage what the store already holds (issue #13).

A damaged holdings file that still parses (rows cut off after row 1,000, another fund's file,
a spreadsheet that dropped half the rows) would *replace* the universe. The import service asks
:func:`check_universe_shrink` before saving: losing more than :data:`MAX_UNIVERSE_LOSS` of the
previous universe's members is refused unless the user says it is intended; a smaller but
noticeable loss (over :data:`WARN_UNIVERSE_LOSS`) is a warning in the import summary.

Why 20 %: the Russell 2000's yearly reconstitution replaces roughly a tenth to a fifth of its
members; more than that between two snapshots means a damaged or wrong file far more often
than a real index change. Pure functions, no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from desktop.errors import InputError

MAX_UNIVERSE_LOSS = 0.20
WARN_UNIVERSE_LOSS = 0.05
_SHOW = 8


class UniverseShrinkError(InputError):
    """A new universe would lose more than :data:`MAX_UNIVERSE_LOSS` of the previous members."""


@dataclass(frozen=True)
class UniverseChange:
    """How a new universe compares with the previous one."""

    previous: int  # members before
    kept: int  # previous members still present
    lost: tuple[str, ...]  # previous members absent from the new universe, sorted
    added: int  # new members that were not there before

    @property
    def share_lost(self) -> float:
        return len(self.lost) / self.previous if self.previous else 0.0


def universe_change(previous: Iterable[str], new: Iterable[str]) -> UniverseChange:
    """Compare two member lists (symbols)."""
    before = {str(s) for s in previous}
    after = {str(s) for s in new}
    lost = tuple(sorted(before - after))
    return UniverseChange(previous=len(before), kept=len(before) - len(lost), lost=lost,
                          added=len(after - before))


def check_universe_shrink(previous: Iterable[str], new: Iterable[str], *, origin: str | None = None,
                          allow: bool = False, max_loss: float = MAX_UNIVERSE_LOSS,
                          warn_loss: float = WARN_UNIVERSE_LOSS) -> list[str]:
    """Refuse (or, with ``allow``, warn about) a universe that loses many previous members.

    Args:
        previous: the members of the latest snapshot.
        new: the members of the universe about to be saved.
        origin: the file the new universe comes from (named in the message).
        allow: the user confirmed the shrink (``--allow-shrink``): a warning instead of an error.
        max_loss: the share of lost members above which the import is refused.
        warn_loss: the share above which a warning is returned.

    Returns:
        Warnings for the import summary (empty when the universe is essentially unchanged).

    Raises:
        UniverseShrinkError: more than ``max_loss`` of the previous members would be lost.
    """
    change = universe_change(previous, new)
    if not change.previous or change.share_lost <= warn_loss:
        return []
    sample = ", ".join(change.lost[:_SHOW]) + (", ..." if len(change.lost) > _SHOW else "")
    what = (f"the new universe has {change.kept + change.added:,} members and keeps {change.kept:,} of the "
            f"previous {change.previous:,}: {len(change.lost):,} members ({100 * change.share_lost:.0f} %) "
            f"would be dropped ({sample})")
    if change.share_lost > max_loss and not allow:
        raise UniverseShrinkError(
            f"{what} - the file may be damaged, cut short or for another fund; nothing was imported",
            path=origin,
            hint=f"Check the file. If the index really lost over {100 * max_loss:.0f} % of its members, "
                 "import it again allowing the shrink (pickaxe-cli import ... --allow-shrink).")
    prefix = f"{origin}: " if origin else ""
    return [f"{prefix}{what}"]

"""How many members of a snapshot have a value for each field (issue #12).

A user must see at once that a field is empty in this snapshot ("898 of 1,914") before building
a screen on it. Stale and suspect values are numbers the table shows (in their state), so they
count as values; n.m. and missing do not.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from desktop.engine.rules import NOT_MEANINGFUL, OK, STALE, SUSPECT


@dataclass(frozen=True)
class FieldCoverage:
    total: int
    ok: int
    stale: int = 0
    suspect: int = 0
    not_meaningful: int = 0

    @property
    def with_value(self) -> int:
        return self.ok + self.stale + self.suspect

    @property
    def missing(self) -> int:
        return self.total - self.with_value - self.not_meaningful

    def short(self) -> str:
        """"898 of 1,914" (stocks with a value of the snapshot's members)."""
        return f"{self.with_value:,} of {self.total:,}"

    def sentence(self) -> str:
        """"898 of 1,914 stocks have a value (12 stale, 3 suspect); 40 n.m.; 976 missing"."""
        text = f"{self.short()} stocks have a value"
        flagged = [f"{n:,} {name}" for n, name in ((self.stale, "stale"), (self.suspect, "suspect")) if n]
        if flagged:
            text += f" ({', '.join(flagged)})"
        rest = [f"{n:,} {name}" for n, name in ((self.not_meaningful, "n.m."), (self.missing, "missing")) if n]
        return "; ".join([text, *rest])


def field_coverage(values: pd.DataFrame, status: pd.DataFrame) -> dict[str, FieldCoverage]:
    """Coverage of every column of ``values``; states from ``status`` where the field has them."""
    total = len(values)
    states = status.to_numpy()  # one array, compared four times (a frame's eq per code cost ~30 ms)
    counts = {code: dict(zip(status.columns, (states == code).sum(axis=0), strict=True))
              for code in (OK, STALE, SUSPECT, NOT_MEANINGFUL)}
    out: dict[str, FieldCoverage] = {}
    for name in values.columns:
        if name in status.columns:
            out[name] = FieldCoverage(total, int(counts[OK][name]), int(counts[STALE][name]),
                                      int(counts[SUSPECT][name]), int(counts[NOT_MEANINGFUL][name]))
        else:  # text, categories and theme tuples: present when not missing and not empty
            out[name] = FieldCoverage(total, _present(values[name]))
    return out


def _present(col: pd.Series) -> int:
    """How many values of ``col`` are neither missing nor an empty text, tuple or list."""
    present = col.notna().to_numpy(dtype=bool, copy=True)  # every missing marker at once (None, NaN, NaT, NA)
    if pd.api.types.is_object_dtype(col) or pd.api.types.is_string_dtype(col):
        # only sized values can still be empty: one isinstance per value
        empty = [i for i, v in enumerate(col.to_numpy()) if isinstance(v, tuple | list | str) and not v]
        present[empty] = False
    return int(present.sum())

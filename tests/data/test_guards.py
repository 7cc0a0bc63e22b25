"""desktop.data.guards: the universe-shrink check is a pure function (issue #13)."""

from __future__ import annotations

import pytest

from desktop.data.guards import UniverseShrinkError, check_universe_shrink, universe_change

BEFORE = [f"S{i:03d}" for i in range(100)]


def test_change_counts() -> None:
    change = universe_change(BEFORE, BEFORE[30:] + ["NEW1", "NEW2"])
    assert (change.previous, change.kept, change.added, len(change.lost)) == (100, 70, 2, 30)
    assert change.lost[:2] == ("S000", "S001") and change.share_lost == pytest.approx(0.30)


@pytest.mark.parametrize(("kept", "outcome"), [(100, "none"), (96, "none"), (90, "warn"), (80, "warn"), (79, "error")])
def test_thresholds(kept: int, outcome: str) -> None:
    new = BEFORE[100 - kept:]
    if outcome == "error":
        with pytest.raises(UniverseShrinkError) as info:
            check_universe_shrink(BEFORE, new, origin="h.csv")
        assert "21 members (21 %) would be dropped (S000, S001" in str(info.value) and "h.csv" in str(info.value)
        assert check_universe_shrink(BEFORE, new, origin="h.csv", allow=True)  # allowed: a warning
    elif outcome == "warn":
        [warning] = check_universe_shrink(BEFORE, new, origin="h.csv")
        assert warning.startswith("h.csv: ") and f"{100 - kept} members" in warning
    else:
        assert check_universe_shrink(BEFORE, new) == []


def test_first_universe_is_never_refused() -> None:
    assert check_universe_shrink([], ["A"]) == []

"""The screen-name rule (desktop/engine/names.py): printable, and not a look-alike of another name."""

from __future__ import annotations

import pytest

from desktop.engine.names import check_screen_name, skeletons, unprintable
from desktop.errors import InputError

PRESETS = [("preset", "Cash survivors"), ("preset", "Zombie watch"), ("saved screen", "My screen")]


@pytest.mark.parametrize("name, other", [
    ("Cаsh survivors", "Cash survivors"),  # Cyrillic a
    ("Ζombie watch", "Zombie watch"),  # Greek capital Zeta
    ("Ｃash survivors", "Cash survivors"),  # fullwidth C (NFKC)
    ("CASH SURVIVORS", "Cash survivors"),  # case only
    ("Cash  survivors", "Cash survivors"),  # doubled space
    ("My scrееn", "My screen"),  # two Cyrillic e
    ("Zombie watcһ", "Zombie watch"),  # Cyrillic shha for h
])
def test_look_alikes_share_a_skeleton_and_are_refused(name: str, other: str) -> None:
    assert skeletons(name) & skeletons(other)
    with pytest.raises(InputError, match=f"looks the same as the .* “{other}”"):
        check_screen_name(name, PRESETS)


@pytest.mark.parametrize("name", ["Cash survivors 2", "Cash flow kings", "Zombies", "日本の小型株", "Café"])
def test_different_names_pass(name: str) -> None:
    assert check_screen_name(f"  {name} ", PRESETS) == name


def test_the_same_name_is_the_same_screen() -> None:
    assert check_screen_name("My screen", PRESETS) == "My screen"


@pytest.mark.parametrize("name, needle", [
    ("a\x00b", "U+0000"), ("a\x1bb", "control character U+001B"), ("a\x9bb", "U+009B"),
    ("a\u200bb", "invisible character U+200B ZERO WIDTH SPACE"), ("a\u202eb", "U+202E"),
    ("a\ufeffb", "U+FEFF"), ("a\u2028b", "U+2028"), ("a\ue000b", "U+E000"), ("a\u00a0b", "unusual space U+00A0"),
])
def test_unprintable_names_are_refused(name: str, needle: str) -> None:
    assert needle in (unprintable(name) or "")
    with pytest.raises(InputError, match="cannot be used"):
        check_screen_name(name)


@pytest.mark.parametrize("name", ["", "   ", "x" * 201])
def test_empty_or_long_names_are_refused(name: str) -> None:
    with pytest.raises(InputError):
        check_screen_name(name)

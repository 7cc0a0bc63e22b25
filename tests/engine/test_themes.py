"""Theme taxonomy parsing, word-boundary matching, exclusions, explicit and user tickers."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from desktop.engine.metrics import compute_metrics
from desktop.engine.themes import MATCH_COLUMNS, ThemeFileError, ThemeTaxonomy, tag, themes_by_symbol
from tests.conftest import PROJECT_ROOT
from tests.engine.conftest import securities


@pytest.fixture
def taxonomy(fixtures_dir: Path) -> ThemeTaxonomy:
    return ThemeTaxonomy.from_toml((fixtures_dir / "engine" / "themes_small.toml").read_text())


def frame(rows: list[tuple[str, str, str, str]]) -> pd.DataFrame:
    """(symbol, name, industry, description) rows."""
    return securities(symbol=[r[0] for r in rows], name=[r[1] for r in rows], industry=[r[2] for r in rows],
                      description=[r[3] for r in rows], sector=["Technology"] * len(rows))


def tags_of(taxonomy: ThemeTaxonomy, rows: list[tuple[str, str, str, str]]) -> dict[str, tuple[str, ...]]:
    sec = frame(rows)
    return themes_by_symbol(tag(sec, taxonomy), sec.index).to_dict()


@pytest.mark.parametrize(("description", "expected"), [
    ("We are a maker of widgets that are sold in stores.", ()),  # "are" is not AR
    ("Our AR headsets and VR software.", ("ar_vr",)),
    ("Augmented-reality glasses.", ("ar_vr",)),  # hyphen matches the space
    ("Products for AREA and ARM users; Ar coatings.", ()),  # case-sensitive whole-word acronym
    ("Makes semiconductors for cars.", ()),  # "semiconductors" is not the keyword "semiconductor"
    ("A semiconductor company.", ("chips",)),
    ("Sells potato chips and snacks.", ()),
    ("Designs an ASIC for routers.", ("chips",)),
    ("Uses artificial intelligence in one product.", ()),  # ai needs two hits
    ("Artificial intelligence and machine learning software.", ("ai",)),
    ("An AI platform built on AI models.", ("ai",)),
    ("BITCOIN mining hosts.", ("crypto",)),
    ("", ()),
])
def test_description_rules(taxonomy: ThemeTaxonomy, description: str, expected: tuple) -> None:
    got = tags_of(taxonomy, [("ZZAA", "Widget Co", "Industrial Products", description)])
    assert got["ZZAA"] == expected


def test_industry_name_ticker_and_exclusions(taxonomy: ThemeTaxonomy) -> None:
    rows = [
        ("ZZIN", "Inca Devices", "Semiconductors", "Makes things."),
        ("ZZBK", "Bank of Chips", "Banks - Regional", "A bank that lends to semiconductor firms."),
        ("ZZNM", "Old Blockchain Corp", "Software - Application", "Licenses patents."),
        ("ZZMA", "Marathon Patents", "Capital Markets", "Licenses patents."),  # stale description
        ("ZZKO", "Kopper Optics", "Electronic Components", "Displays."),
        ("ZZEX", "Ex Bitcoin", "Software", "We mine bitcoin."),
    ]
    sec = frame(rows)
    matches = tag(sec, taxonomy)
    assert list(matches.columns) == list(MATCH_COLUMNS)
    got = themes_by_symbol(matches, sec.index).to_dict()
    assert got == {"ZZIN": ("chips",), "ZZBK": (), "ZZNM": ("crypto",), "ZZMA": ("crypto",),
                   "ZZKO": ("ar_vr",), "ZZEX": ()}
    why = {(r.symbol, r.theme): (r.rule, r.matched) for r in matches.itertuples()}
    assert why[("ZZIN", "chips")] == ("industry", "Semiconductors")
    assert why[("ZZNM", "crypto")] == ("name", "blockchain")
    assert why[("ZZMA", "crypto")] == ("ticker", "ZZMA")


def test_evidence_lists_distinct_words(taxonomy: ThemeTaxonomy) -> None:
    sec = frame([("ZZAA", "X", "", "Machine learning, artificial intelligence and more machine learning.")])
    m = tag(sec, taxonomy)
    assert m.loc[0, "matched"] == "machine learning, artificial intelligence"
    assert m.loc[0, "rule"] == "description"


def test_ticker_column_spelling_is_matched(taxonomy: ThemeTaxonomy) -> None:
    sec = frame([("ZZ-MA", "Marathon", "", "")]).assign(ticker=["ZZMA"])
    assert themes_by_symbol(tag(sec, taxonomy), sec.index)["ZZ-MA"] == ("crypto",)


def test_user_add_and_remove(taxonomy: ThemeTaxonomy) -> None:
    rows = [("ZZAA", "Alpha", "Semiconductors", ""), ("ZZBB", "Beta", "Retail", "")]
    t2 = taxonomy.with_ticker("chips", "zzbb", member=True).with_ticker("chips", "ZZAA", member=False)
    assert tags_of(t2, rows) == {"ZZAA": (), "ZZBB": ("chips",)}
    assert tags_of(taxonomy, rows) == {"ZZAA": ("chips",), "ZZBB": ()}  # the original is unchanged
    m = tag(frame(rows), t2)
    assert m.loc[0, "rule"] == "user"
    # The overrides survive a write/read cycle through the user's file.
    base = (Path(__file__).parents[1] / "data_files" / "engine" / "themes_small.toml").read_text()
    again = ThemeTaxonomy.from_toml(base, t2.override_toml())
    assert tags_of(again, rows) == {"ZZAA": (), "ZZBB": ("chips",)}
    # Adding back what was removed undoes the removal.
    t3 = t2.with_ticker("chips", "ZZAA", member=True)
    assert tags_of(t3, rows) == {"ZZAA": ("chips",), "ZZBB": ("chips",)}
    with pytest.raises(KeyError):
        taxonomy.with_ticker("nope", "ZZAA", member=True)


def test_override_extends_replaces_and_disables(taxonomy: ThemeTaxonomy, fixtures_dir: Path) -> None:
    base = (fixtures_dir / "engine" / "themes_small.toml").read_text()
    override = """
[themes.quantum]
label = "Quantum"
keywords = ["qubits"]

[themes.chips]
keywords = ["wafer"]

[themes.ai]
disabled = true
"""
    t = ThemeTaxonomy.from_toml(base, override)
    assert t.names() == ["chips", "ar_vr", "crypto", "quantum"]
    assert t.get("chips").keywords == ("wafer",)
    assert t.get("chips").industries == ("Semiconductors",)  # keys not given stay
    got = tags_of(t, [("ZZAA", "Q", "", "Builds qubits."), ("ZZBB", "W", "", "A semiconductor wafer fab.")])
    assert got == {"ZZAA": ("quantum",), "ZZBB": ("chips",)}


@pytest.mark.parametrize(("override", "fragment"), [
    ("[themes.chips]\nkeywords = 'wafer'", "themes.chips.keywords"),
    ("[themes.chips]\ncolour = 'red'", "unknown key 'colour'"),
    ("[themes.Bad-Name]\nlabel = 'x'\nkeywords = ['y']", "themes.Bad-Name"),
    ("[themes.new_one]\nlabel = 'x'", "at least one rule"),
    ("[themes.chips]\nmin_hits = 0", "min_hits"),
    ("[themes.chips\nlabel = 'x'", "line 1"),
    ("version = 2", "version"),
    ("[themes.chips]\ndisabled = 'yes'", "disabled"),
    ("[themes.chips]\nadd_tickers = [1]", "add_tickers"),
])
def test_override_errors_name_the_key(fixtures_dir: Path, override: str, fragment: str) -> None:
    base = (fixtures_dir / "engine" / "themes_small.toml").read_text()
    with pytest.raises(ThemeFileError) as err:
        ThemeTaxonomy.from_toml(base, override)
    assert fragment in str(err.value)
    assert "user theme file" in str(err.value)


def test_shipped_taxonomy_has_the_required_themes() -> None:
    t = ThemeTaxonomy.from_toml((PROJECT_ROOT / "resources" / "themes.toml").read_text(encoding="utf-8"))
    for name in ("semiconductors", "ai", "fintech", "ar_vr", "blockchain", "biotech", "clean_energy",
                 "ev_autonomy", "reit", "regional_banks"):
        assert t.get(name).label
    assert "MARA" in t.get("blockchain").tickers and "RIOT" in t.get("blockchain").tickers


def test_metrics_attach_themes(taxonomy: ThemeTaxonomy) -> None:
    from desktop.engine.dataset import Dataset
    from tests.engine.conftest import AS_OF

    sec = frame([("ZZAA", "A", "Semiconductors", ""), ("ZZBB", "B", "", "")])
    table = compute_metrics(Dataset(AS_OF, sec), taxonomy=taxonomy)
    assert table.values.at["ZZAA", "themes"] == ("chips",)
    assert table.values.at["ZZBB", "themes"] == ()
    assert list(table.theme_matches["symbol"]) == ["ZZAA"]

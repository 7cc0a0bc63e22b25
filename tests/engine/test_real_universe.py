"""The engine on the real universe in ../shared/data (skipped when absent): tagging and presets.

The dataset is built through the committed readers and ``canonical.merge``, exactly as an import
does. Nothing from those files is copied here; the assertions name public ticker symbols only.
"""

from __future__ import annotations

import json

import pytest

from desktop.engine.evaluate import evaluate
from desktop.engine.metrics import StockTable, compute_metrics
from desktop.engine.screen import parse_screen
from desktop.engine.themes import ThemeTaxonomy
from tests.conftest import PROJECT_ROOT
from tests.engine.real_data import real_sources

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def real_table() -> StockTable:
    from desktop.data import canonical

    sources = real_sources()
    dataset = canonical.merge(None, sources)
    taxonomy = ThemeTaxonomy.from_toml((PROJECT_ROOT / "resources" / "themes.toml").read_text(encoding="utf-8"))
    return compute_metrics(dataset, taxonomy=taxonomy)


def members_with(table: StockTable, theme: str) -> set[str]:
    v = table.values
    return {s for s, ts, m in zip(v.index, v["themes"], v["in_index"], strict=True) if theme in ts and m == 1.0}


@pytest.mark.parametrize(("theme", "expected", "low", "high"), [
    ("semiconductors", {"RMBS", "FORM", "SITM"}, 20, 60),
    ("ai", {"SOUN"}, 8, 40),
    ("fintech", {"QTWO", "PAYO"}, 15, 50),
    ("ar_vr", {"KOPN", "VUZI"}, 2, 10),
    ("blockchain", {"MARA", "RIOT"}, 5, 20),  # MARA's description is stale: the explicit list
    ("biotech", set(), 150, 260),
    ("clean_energy", set(), 10, 40),
    ("ev_autonomy", set(), 5, 25),
    ("reit", {"CTRE", "TRNO"}, 80, 140),
    ("regional_banks", {"ONB", "VLY", "GBCI"}, 180, 300),
])
def test_theme_tagging_on_the_real_universe(real_table: StockTable, theme: str, expected: set[str],
                                            low: int, high: int) -> None:
    tagged = members_with(real_table, theme)
    assert expected <= tagged
    assert low <= len(tagged) <= high, len(tagged)


@pytest.mark.parametrize(("symbol", "theme"), [
    ("MPTI", "ar_vr"),  # microwave "waveguide", not optics
    ("XPER", "semiconductors"),  # licensing text mentions chip packaging
    ("KFRC", "ai"),  # staffing firm mentioning AI practices
    ("APLD", "blockchain"),  # only its former name matched
    ("PFS", "reit"),  # a bank with a REIT subsidiary
])
def test_fixed_false_positives_stay_fixed(real_table: StockTable, symbol: str, theme: str) -> None:
    if symbol not in real_table.values.index:
        pytest.skip(f"{symbol} is not in this universe file")
    assert theme not in real_table.values.at[symbol, "themes"]


def test_rate_betas_cover_most_members(real_table: StockTable) -> None:
    v = real_table.values
    members = v[v["in_index"] == 1.0]
    assert members["rate_beta"].notna().mean() > 0.85
    assert members["rate_beta_t"].abs().median() < 3  # bad prints would inflate t-stats wildly


@pytest.mark.parametrize("path", sorted((PROJECT_ROOT / "resources" / "presets").glob("*.json")),
                         ids=lambda p: p.stem)
def test_presets_return_a_sensible_list(real_table: StockTable, path) -> None:  # noqa: ANN001
    screen = parse_screen(json.loads(path.read_text(encoding="utf-8")))
    result = evaluate(screen, real_table)
    assert 20 <= len(result.ranked) <= 600, (screen.name, len(result.ranked))
    assert result.universe_count > 1800

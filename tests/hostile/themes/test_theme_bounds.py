"""Theme files with unbounded work (issue #13, root cause 10); speed is measured in
benchmarks/bench_themes.py, here only the bounds and that the fast exclusion means the same."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from desktop.engine import themes
from desktop.engine.themes import ThemeFileError, ThemeTaxonomy, tag

BASE = '[themes.ai]\nlabel = "AI"\nkeywords = ["machine learning"]\n'


def test_too_long_phrase_is_refused_naming_the_key() -> None:
    with pytest.raises(ThemeFileError) as info:
        ThemeTaxonomy.from_toml(BASE, f'[themes.ai]\nexclude = ["{"a" * 500}"]\n')
    assert info.value.field == "themes.ai.exclude" and "at most 200" in str(info.value)


def test_too_many_entries_are_refused_naming_the_key() -> None:
    words = ", ".join(f'"w{i}"' for i in range(1001))
    with pytest.raises(ThemeFileError) as info:
        ThemeTaxonomy.from_toml(BASE, f"[themes.ai]\nkeywords = [{words}]\n")
    assert info.value.field == "themes.ai.keywords" and "1,001 entries" in str(info.value)


def _naive(corpus: themes._Corpus, words: tuple[str, ...], exclude: tuple[str, ...]) -> list[list[str]]:
    """The former quadratic rule: a hit is dropped when it overlaps any excluded span."""
    blocked = [s for p in exclude for s in corpus.occurrences(p, False)]
    spans = [s for w in words for s in corpus.occurrences(w, False)]
    found: list[list[str]] = [[] for _ in corpus.starts]
    for a, b in themes._leftmost_longest(spans):
        if not any(x < b and a < y for x, y in blocked):
            row = int(np.searchsorted(corpus.starts, a, side="right") - 1)
            found[row].append(corpus.lower[a:b])
    return found


def test_interval_exclusion_matches_the_overlap_rule() -> None:
    rng = np.random.default_rng(13)
    vocab = ["solar", "panels", "solar panels", "on", "roofs", "a", "the", "storage", "grid", "energy"]
    texts = pd.Series([" ".join(rng.choice(vocab, 40)) for _ in range(200)])
    corpus = themes._Corpus.of(texts)
    words = ("solar", "storage", "grid energy", "a")
    exclude = ("solar panels on", "the", "roofs a", "energy storage")
    assert themes._find(corpus, words, (), exclude) == _naive(corpus, words, exclude)


def test_common_word_exclusion_still_tags() -> None:
    securities = pd.DataFrame({"description": ["The machine learning and the data", "a machine learning firm"]},
                              index=pd.Index(["QAAAA", "QAAAB"], name="symbol"))
    taxonomy = ThemeTaxonomy.from_toml(BASE, '[themes.ai]\nexclude = ["a", "the", "and"]\n')
    assert list(tag(securities, taxonomy)["symbol"]) == ["QAAAA", "QAAAB"]

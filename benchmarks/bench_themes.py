"""Theme tagging with a pathological user exclusion (issue #13, root cause 10).

An ``exclude`` list of very common words ("a", "the", "and") with equally common keywords used to
compare every keyword hit with every excluded span: 42 s on the real universe, 18.6 s on 2,000
synthetic ~630-character descriptions (measured before the fix, same machine); the interval search
in ``desktop.engine.themes._find`` makes it about twice the time of the shipped taxonomy.

The baseline is tagging the same securities with the shipped taxonomy, so ``ratio`` says how much
dearer the hostile exclusion is than ordinary tagging.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from benchmarks import measure, result
from benchmarks.bench_engine import _descriptions

HOSTILE_OVERRIDE = """
[themes.ai]
keywords = ["a", "the", "and", "of", "e"]
exclude = ["a", "e", "the", "and"]
"""


def _securities(n: int = 2000, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"description": _descriptions(rng, n), "name": [f"Company {i}" for i in range(n)],
                         "industry": "Software - Application", "sector": "Technology"},
                        index=pd.Index([f"S{i:04d}" for i in range(n)], name="symbol"))


def bench_themes_common_word_exclusion() -> dict[str, Any]:
    """tag() for 2,000 descriptions with common-word keywords and exclusions (was 18.6 s)."""
    from desktop.engine.themes import ThemeTaxonomy, tag
    from desktop.resources import resource_path

    base = resource_path("themes.toml").read_text(encoding="utf-8")
    securities = _securities()
    shipped = ThemeTaxonomy.from_toml(base)
    hostile = ThemeTaxonomy.from_toml(base, HOSTILE_OVERRIDE)
    baseline, _ = measure(lambda: tag(securities, shipped), repeat=3, trace_memory=False)
    median, peak = measure(lambda: tag(securities, hostile), repeat=3)
    assert len(tag(securities, hostile)) > 0
    return result(median, peak, len(securities), baseline)

"""docs/metrics.md's generated blocks match the catalogue and the rule tables (issue #16)."""

from __future__ import annotations

import pytest

from desktop.engine import catalog, catalog_doc
from tests.conftest import PROJECT_ROOT

TEXT = (PROJECT_ROOT / "docs" / "metrics.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("name", sorted(catalog_doc.RENDERED))
def test_generated_block_is_up_to_date(name: str) -> None:
    assert catalog_doc.block(TEXT, name) == catalog_doc.RENDERED[name](), (
        f"docs/metrics.md block {name!r} is out of date: run PYTHONPATH=. .venv/bin/python -m tests.engine.metrics_doc")


def test_every_field_is_documented_once_with_its_unit() -> None:
    tables = catalog_doc.block(TEXT, "computed") + catalog_doc.block(TEXT, "sources")
    for f in catalog.all_fields():
        if f.name.startswith("shocked_coverage_") and f.name not in {"shocked_coverage_100", "shocked_coverage_200",
                                                                      "shocked_coverage_300"}:
            continue  # registered on demand by a MetricParams with other shocks
        rows = [line for line in tables.splitlines() if line.startswith(f"| `{f.name}` |")]
        assert len(rows) == 1, f.name
        assert f"| {f.unit} |" in rows[0], f.name


def test_the_catalogue_has_the_fields_an_analyst_expects() -> None:
    assert len(catalog.all_fields()) >= 150


def test_blocks_round_trip() -> None:
    text = catalog_doc.replace_block(TEXT, "rules", "| x |\n")
    assert catalog_doc.block(text, "rules") == "| x |\n"
    assert catalog_doc.block(text, "computed") == catalog_doc.block(TEXT, "computed")
    with pytest.raises(KeyError):
        catalog_doc.block("no blocks here", "rules")

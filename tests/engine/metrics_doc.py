"""Rewrite the generated blocks of docs/metrics.md (issue #16).

    PYTHONPATH=. .venv/bin/python -m tests.engine.metrics_doc

The catalogue and rule tables come from the code; the coverage block is measured on the real
universe (``tests.engine.real_data.real_sources``: ../shared/data read in place) and left as it is
when that folder is absent. tests/engine/test_metrics_doc.py checks that the document matches.
"""

from __future__ import annotations

from desktop.engine import catalog_doc
from desktop.engine.metrics import StockTable, compute_metrics
from tests.conftest import PROJECT_ROOT, SHARED_DATA

DOC = PROJECT_ROOT / "docs" / "metrics.md"


def real_table() -> StockTable:
    """The real universe's table, built as an import of every shared file would build it."""
    from desktop.data import canonical
    from tests.engine.real_data import real_sources

    return compute_metrics(canonical.merge(None, real_sources()))


def main() -> None:
    text = DOC.read_text(encoding="utf-8")
    for name, render in catalog_doc.RENDERED.items():
        text = catalog_doc.replace_block(text, name, render())
    if SHARED_DATA.is_dir():
        text = catalog_doc.replace_block(text, "coverage", catalog_doc.coverage_table(catalog_doc.coverage(real_table())))
    else:
        print(f"coverage not measured ({SHARED_DATA} is absent); the coverage block is unchanged")
    DOC.write_text(text, encoding="utf-8")
    print(f"wrote {DOC}")


if __name__ == "__main__":
    main()

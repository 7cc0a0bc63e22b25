"""Write the TRIMMED real SEC bodies of this folder from ``../shared/data/sec`` (issue #14).

SEC EDGAR data is US-government public data; trimmed copies may be committed (see
``../shared/data/sec/README.md``). Each ``*_trimmed_sec_body.json`` is a real response body with only
the concepts Pickaxe reads (``resources/sec_concepts.toml`` plus ``dei:EntityCommonStockSharesOutstanding``)
and only facts whose period ends on or after ``SINCE``; values, dates, forms and accession numbers are
unchanged. Submissions keep their master data and the first ``RECENT`` rows of ``filings.recent``.

    python tests/data_files/sec/make_fixtures.py [SHARED_SEC_FOLDER]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
SHARED = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT.parent / "shared" / "data" / "sec"
SINCE = "2019-06-01"
RECENT = 40
FACTS = {"CIK0001835632.json": "marvell", "CIK0000320193.json": "apple", "CIK0001045810.json": "nvidia",
         "CIK0001652044.json": "alphabet", "fixture_LPA_ifrs.json": "lpa_ifrs"}
SUBMISSIONS = {"CIK0000895419.json": "wolfspeed", "CIK0001835632.json": "marvell",
               "CIK0000749647.json": "imunon"}
TICKERS = {"AAPL", "NVDA", "GOOGL", "GOOG", "MRVL", "WOLF", "IMNN", "MSFT", "LPA"}


def main() -> None:
    sys.path.insert(0, str(ROOT))
    from desktop.data.sec_facts import _wanted

    wanted = _wanted()
    for name, short in FACTS.items():
        doc = json.loads((SHARED / "companyfacts" / name).read_text(encoding="utf-8"))
        facts = {}
        for tax, group in doc["facts"].items():
            kept = {}
            for concept, spec in group.items():
                if (tax, concept) not in wanted:
                    continue
                units = {u: [f for f in fs if f["end"] >= SINCE] for u, fs in spec["units"].items()}
                units = {u: fs for u, fs in units.items() if fs}
                if units:
                    kept[concept] = {**spec, "units": units}
            if kept:
                facts[tax] = kept
        doc["facts"] = facts
        cik = str(doc["cik"]).zfill(10)
        out = HERE / f"CIK{cik}_{short}_trimmed_sec_body.json"
        out.write_text(json.dumps(doc, separators=(",", ":")), encoding="utf-8")
        print(out.name, out.stat().st_size)
    for name, short in SUBMISSIONS.items():
        if short is None or not (SHARED / "submissions" / name).exists():
            continue
        doc = json.loads((SHARED / "submissions" / name).read_text(encoding="utf-8"))
        recent = doc["filings"]["recent"]
        doc["filings"]["recent"] = {k: v[:RECENT] for k, v in recent.items()}
        doc.pop("addresses", None)
        out = HERE / f"submissions_CIK{doc['cik']}_{short}_trimmed_sec_body.json"
        out.write_text(json.dumps(doc, separators=(",", ":")), encoding="utf-8")
        print(out.name, out.stat().st_size)
    tickers = json.loads((SHARED / "company_tickers_2024-05.json").read_text(encoding="utf-8"))
    kept = {str(i): e for i, e in enumerate(e for e in tickers.values() if e["ticker"] in TICKERS)}
    (HERE / "company_tickers_trimmed_sec_body.json").write_text(json.dumps(kept), encoding="utf-8")
    (HERE / "error_404_sec_body.xml").write_bytes((SHARED / "submissions" / "error_404_CIK-000000001.xml").read_bytes())


if __name__ == "__main__":
    main()

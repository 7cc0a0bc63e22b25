"""The benchmark runner, its timing helpers and the synthetic universe (issue #9).

These test the machinery only: no benchmark's speed is asserted anywhere.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from benchmarks import measure, peak_memory_mb, result, run
from benchmarks.synthetic import synthetic_dataset, write_source_files
from desktop.engine import catalog
from desktop.engine.dataset import HISTORY_COLUMNS, MARKET_COLUMNS, PROVENANCE_COLUMNS
from tests.conftest import PROJECT_ROOT

BENCHES = {
    "bench_good.py": """
from benchmarks import result
def bench_fast():
    return result(0.5, 1.25, 10, 2.0)
def bench_no_baseline():
    return {"median_s": 0.1, "peak_mb": None, "n": 3, "baseline_median_s": None}
def helper():
    raise AssertionError("not a benchmark: must not run")
""",
    "bench_bad.py": """
from benchmarks import Skip
def bench_raises():
    raise RuntimeError("disk on fire")
def bench_malformed():
    return {"median_s": 1.0}
def bench_skips():
    raise Skip("needs the import service")
def bench_after_failures():
    return {"median_s": 1.0, "peak_mb": 2.0, "n": 1, "baseline_median_s": 4.0}
""",
    "bench_broken.py": "import module_that_does_not_exist_anywhere\n",
}


@pytest.fixture
def bench_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "benches"
    folder.mkdir()
    for name, text in BENCHES.items():
        (folder / name).write_text(text, encoding="utf-8")
    (folder / "not_a_bench.py").write_text("raise SystemExit('must not be imported')\n", encoding="utf-8")
    return folder


def test_runner_reports_failures_and_goes_on(bench_dir: Path, tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out" / "bench.json"
    code = run.main(["--data", "synthetic", "--json", str(out)], bench_dir=bench_dir)
    assert code == 1  # some benchmarks failed
    data = json.loads(out.read_text(encoding="utf-8"))
    assert set(data) == {"fast", "no_baseline", "raises", "malformed", "skips", "after_failures", "broken"}
    assert data["fast"] == {"median_s": 0.5, "peak_mb": 1.25, "n": 10, "baseline_median_s": 2.0, "ratio": 0.25}
    assert data["no_baseline"]["ratio"] is None and data["no_baseline"]["peak_mb"] is None
    assert data["after_failures"]["ratio"] == 0.25  # ran after the failures
    assert "RuntimeError: disk on fire" in data["raises"]["error"]
    assert data["raises"]["median_s"] is None
    assert "lacks peak_mb, n, baseline_median_s" in data["malformed"]["error"]
    assert data["skips"]["skipped"] == "needs the import service" and "error" not in data["skips"]
    assert "module_that_does_not_exist_anywhere" in data["broken"]["error"]
    printed = capsys.readouterr()
    assert "synthetic universe" in printed.out
    assert "0.250 (4.0x faster)" in printed.out
    assert "3 benchmark(s) failed" in printed.err


def test_only_selects_by_name_or_module(bench_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "only.json"
    assert run.main(["--data", "synthetic", "--only", "^fast$|no_base", "--json", str(out)], bench_dir=bench_dir) == 0
    assert set(json.loads(out.read_text(encoding="utf-8"))) == {"fast", "no_baseline"}
    assert run.main(["--only", "nothing-matches-this"], bench_dir=bench_dir) == 2
    assert run.main(["--only", "("], bench_dir=bench_dir) == 2  # a bad pattern is a usage error


def test_same_name_in_two_modules_is_qualified(tmp_path: Path) -> None:
    for module in ("bench_one", "bench_two"):
        (tmp_path / f"{module}.py").write_text("def bench_x():\n    return None\n", encoding="utf-8")
    assert sorted(b.name for b in run.discover(tmp_path)) == ["one.x", "two.x"]


@pytest.mark.parametrize("raw, message", [
    ({"median_s": float("nan"), "peak_mb": 1, "n": 1, "baseline_median_s": None}, "finite"),
    ({"median_s": 1, "peak_mb": 1, "n": 1.5, "baseline_median_s": None}, "whole number"),
    ({"median_s": 1, "peak_mb": "big", "n": 1, "baseline_median_s": None}, "peak_mb"),
    ([1, 2], "dict"),
])
def test_normalise_rejects_malformed_results(raw: object, message: str) -> None:
    with pytest.raises((TypeError, ValueError), match=message):
        run.normalise(raw)


def test_ratio_is_median_over_baseline() -> None:
    assert run.normalise(result(3.0, None, 5, 1.5))["ratio"] == 2.0
    assert run.normalise(result(3.0, math.nan, 5, None)) == {
        "median_s": 3.0, "peak_mb": None, "n": 5, "baseline_median_s": None, "ratio": None}


def test_measure_reports_median_time_and_peak_memory() -> None:
    calls = []

    def work() -> None:
        calls.append(1)
        block = np.ones(4_000_000)  # 32 MB through numpy's traced allocator
        time.sleep(0.01)
        del block

    median, peak = measure(work, repeat=3, warmup=1)
    assert len(calls) == 1 + 3 + 1  # warm-up, timed runs, one traced run
    assert median >= 0.01
    assert 30 < peak < 100
    assert peak_memory_mb(lambda: None) < 1
    assert math.isnan(measure(lambda: None, repeat=1, warmup=0, trace_memory=False)[1])


def test_script_entry_point_lists_benchmarks() -> None:
    for command in ([sys.executable, "benchmarks/run.py", "--list"], [sys.executable, "-m", "benchmarks", "--list"]):
        done = subprocess.run(command, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        assert "startup" in done.stdout and "benchmarks/bench_startup.py:bench_startup" in done.stdout


def test_synthetic_universe_has_the_real_shape() -> None:
    ds = synthetic_dataset(n_securities=400, years=5, price_days=60, seed=3)
    sec = ds.securities
    assert len(sec) == 400 and sec.index.is_unique and sec.index.name == "symbol"
    assert set(sec.columns) <= {f.name for f in catalog.BASE_FIELDS}
    assert {"price", "market_cap", "revenue", "operating_income", "interest_expense", "free_cash_flow",
            "total_debt", "cash", "sector", "industry", "in_index"} <= set(sec.columns)
    assert ds.members.shape[0] > 380
    assert 0.15 < (sec["free_cash_flow"] < 0).mean() < 0.45  # real universe: ~31 % negative FCF
    assert sec["free_cash_flow"].isna().any() and not (sec["revenue"] == 0).any()  # missing is NaN, not 0
    assert sec.loc[sec["sector"] == "Financial Services", "ebitda"].isna().mean() > 0.5
    assert tuple(ds.history.columns) == HISTORY_COLUMNS and ds.history["fiscal_year"].nunique() == 5
    assert ds.prices.shape == (60, 400) and ds.prices.index.name == "date"
    assert tuple(ds.market.columns) == MARKET_COLUMNS
    assert tuple(ds.provenance.columns) == PROVENANCE_COLUMNS and ds.provenance["chosen"].any()
    again = synthetic_dataset.__wrapped__(n_securities=400, years=5, price_days=60, seed=3)
    assert again.securities.equals(sec)  # seeded: comparable across runs


def test_synthetic_files_read_back_with_the_app_readers(tmp_path: Path) -> None:
    from desktop.data import fred, ishares, prices, simfin

    ds = synthetic_dataset(n_securities=60, years=3, price_days=30, seed=1)
    files = write_source_files(tmp_path, ds)
    universe = ishares.read_ishares(files["ishares"][0])
    assert universe.as_of == ds.as_of and len(universe.members) == len(ds.members)
    statements = simfin.read_simfin(files["simfin"])
    assert statements.history is not None and len(statements.history) > 0
    series = prices.read_prices(files["prices"])
    assert series.prices is not None and series.prices.shape[1] == ds.prices.notna().any().sum()
    assert fred.read_fred(files["fred"][0]).market is not None
    for source in (universe, statements, series):
        assert not source.warnings, source.warnings

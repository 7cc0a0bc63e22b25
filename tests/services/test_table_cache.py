"""The store cache of computed tables behind ``screening.load_table`` (issue #17): a hit skips the
computation, a change of parameters, engine code or themes misses, a damaged row is recomputed.
Runs on SQLite and, with PICKAXE_TEST_POSTGRES_URL, on PostgreSQL (the store fixtures)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from desktop import paths
from desktop.engine.dataset import Dataset
from desktop.engine.metrics import MetricParams, compute_metrics
from desktop.services import screening
from desktop.store import snapshots, tables
from desktop.store.db import Database, open_database
from desktop.store.models import MetricTableRow
from tests.export.conftest import make_dataset
from tests.store.conftest import db_url  # noqa: F401 - the SQLite / PostgreSQL fixture

FRAMES = ("values", "status", "theme_matches", "provenance", "period_end", "origin")


def dataset_with_prices() -> Dataset:
    """The screening fixture plus 900 days of closes and market series: rate betas are computed, from
    the last ~530 of them."""
    dataset = make_dataset()
    days = pd.bdate_range(end=str(dataset.as_of), periods=900, name="date")
    rng = np.random.default_rng(3)
    walk = np.exp(np.cumsum(rng.normal(0, 0.02, size=(len(days), len(dataset.securities))), axis=0))
    prices = pd.DataFrame(20 * walk, index=days, columns=pd.Index(dataset.securities.index, dtype=object))
    market = pd.DataFrame({"IWM": 200 * np.exp(np.cumsum(rng.normal(0, 0.01, len(days)))),
                           "yield_10y": 4 + np.cumsum(rng.normal(0, 0.03, len(days)))}, index=days)
    return replace(dataset, prices=prices, market=market)


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:  # noqa: F811
    database = open_database(db_url)
    with database.session() as session:
        snapshots.save_snapshot(session, dataset_with_prices(), {"note": "test"})
    screening.clear_cache()
    yield database
    assert screening.flush_table_writes(60)
    screening.clear_cache()
    database.dispose()


def fresh_load(db: Database, **kwargs: Any) -> screening.TableBundle:
    """load_table as a new process would call it (nothing in memory), and its cache write done."""
    screening.clear_cache()
    bundle = screening.load_table(db, **kwargs)
    assert screening.flush_table_writes(60)
    return bundle


@pytest.fixture
def computations(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many times load_table computed metrics."""
    calls: list[int] = []
    compute = screening.compute_metrics

    def counting(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return compute(*args, **kwargs)

    monkeypatch.setattr(screening, "compute_metrics", counting)
    return calls


def cached_rows(db: Database) -> list[tuple[int, str]]:
    with db.read_session() as session:
        return tables.cached_keys(session)


def test_a_computed_table_is_read_back_by_the_next_start(db: Database, computations: list[int]) -> None:
    first = fresh_load(db)
    assert not first.from_store and computations == [1]
    assert first.table.values["rate_beta"].notna().all()
    second = fresh_load(db)
    assert second.from_store and computations == [1]
    for name in FRAMES:
        pd.testing.assert_frame_equal(getattr(second.table, name), getattr(first.table, name), check_exact=True)
    assert second.table.notes == first.table.notes
    # The snapshot's data is read on demand and equals what the computation used.
    pd.testing.assert_frame_equal(second.data.market(), first.dataset.market)
    symbol = str(first.dataset.prices.columns[0])
    pd.testing.assert_series_equal(second.data.prices_of(symbol), first.data.prices_of(symbol))
    assert second.data.prices_of("NOT-THERE").empty
    pd.testing.assert_index_equal(second.data.price_dates(), pd.DatetimeIndex(first.dataset.prices.index))
    pd.testing.assert_frame_equal(second.dataset.prices, first.dataset.prices)


def test_metrics_read_only_the_closes_they_use_and_equal_those_from_all(db: Database,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    windows: list[Any] = []
    load_prices = snapshots.load_prices

    def recording(*args: Any, **kwargs: Any) -> pd.DataFrame:
        frame = load_prices(*args, **kwargs)
        windows.append((kwargs.get("since"), len(frame)))
        return frame

    monkeypatch.setattr(snapshots, "load_prices", recording)
    bundle = fresh_load(db)
    (since, days), = windows
    assert since is not None and 500 < days < 600  # two years of the 900 days
    with db.read_session() as session:
        everything = snapshots.load_dataset(session, bundle.info.id)
    assert len(everything.prices) == 900
    expected = compute_metrics(everything, MetricParams(), taxonomy=screening.load_taxonomy())
    for name in FRAMES:
        pd.testing.assert_frame_equal(getattr(bundle.table, name), getattr(expected, name), check_exact=True)
    assert bundle.table.notes == expected.notes and bundle.table.zombie_years == expected.zombie_years


def test_other_parameters_miss_and_are_cached_beside(db: Database, computations: list[int]) -> None:
    fresh_load(db)
    other = MetricParams(floating_share_long_term=0.5)
    assert not fresh_load(db, params=other).from_store and len(computations) == 2
    assert fresh_load(db, params=other).from_store and fresh_load(db).from_store
    assert len(computations) == 2 and len(cached_rows(db)) == 2


def test_a_change_of_engine_code_misses(db: Database, computations: list[int],
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    fresh_load(db)
    monkeypatch.setattr(screening, "engine_fingerprint", lambda: "a new field was added")
    assert not fresh_load(db).from_store and len(computations) == 2
    assert fresh_load(db).from_store and len(computations) == 2


def test_a_change_of_the_user_themes_misses(db: Database, computations: list[int]) -> None:
    fresh_load(db)
    (paths.config_dir() / "themes.toml").write_text('[themes.semiconductors]\nadd_tickers = ["VVOR"]\n',
                                                    encoding="utf-8")
    bundle = fresh_load(db)
    assert not bundle.from_store and "semiconductors" in bundle.table.values.loc["VVOR", "themes"]


def test_a_damaged_cached_table_is_recomputed_and_replaced(db: Database, computations: list[int]) -> None:
    fresh_load(db)
    with db.session() as session:
        session.execute(sa.update(MetricTableRow).values(payload=b"not a table"))
    assert not fresh_load(db).from_store and len(computations) == 2
    assert fresh_load(db).from_store and len(computations) == 2


def test_the_engine_fingerprint_follows_the_engine_sources(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = tmp_path / "engine"
    fake.mkdir()
    (fake / "__init__.py").write_text("", encoding="utf-8")
    (fake / "metrics.py").write_text("X = 1\n", encoding="utf-8")

    class FakeEngine:
        __file__ = str(fake / "__init__.py")

    monkeypatch.setattr(screening, "engine", FakeEngine)
    fingerprint = screening.engine_fingerprint.__wrapped__
    before = fingerprint()
    assert fingerprint() == before
    (fake / "metrics.py").write_text("X = 2\n", encoding="utf-8")
    changed = fingerprint()
    (fake / "catalog.py").write_text("", encoding="utf-8")
    assert len({before, changed, fingerprint()}) == 3
    assert screening.engine_fingerprint() != before  # the real engine's


def test_a_failed_cache_write_is_logged_and_harmless(db: Database, computations: list[int],
                                                     monkeypatch: pytest.MonkeyPatch,
                                                     caplog: pytest.LogCaptureFixture) -> None:
    def broken(*_args: Any) -> None:
        raise sa.exc.OperationalError("INSERT", {}, Exception("disk full"))

    monkeypatch.setattr(tables, "save_table", broken)
    assert not fresh_load(db).from_store
    assert screening.flush_table_writes(60)
    assert "could not cache the metric table" in caplog.text
    assert not fresh_load(db).from_store and len(computations) == 2

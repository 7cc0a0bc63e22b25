"""Snapshots: exact round trips, lazy parts, listing, resolving, deleting, sharing of parts."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa
from store_synth import make_dataset

from desktop.engine.dataset import Dataset
from desktop.errors import StoreError
from desktop.store import snapshots
from desktop.store.db import Database, NotFoundError
from desktop.store.models import Blob, SnapshotPart


def _sorted_prices(frame: pd.DataFrame) -> pd.DataFrame:
    return frame[sorted(frame.columns)]


def assert_same_dataset(loaded: Dataset, original: Dataset, *, prices: bool = True,
                        provenance: bool = True) -> None:
    assert loaded.as_of == original.as_of
    pd.testing.assert_frame_equal(loaded.securities, original.securities.sort_index())
    pd.testing.assert_frame_equal(loaded.history, original.history)
    pd.testing.assert_frame_equal(loaded.market, original.market, check_freq=False)
    if prices:
        pd.testing.assert_frame_equal(loaded.prices, _sorted_prices(original.prices), check_freq=False)
    else:
        assert loaded.prices.empty
    if provenance:
        pd.testing.assert_frame_equal(loaded.provenance, original.provenance)
    else:
        assert loaded.provenance.empty
        assert list(loaded.provenance.columns) == list(original.provenance.columns)


def test_round_trip_is_exact(db: Database) -> None:
    dataset = make_dataset(40, 30)
    with db.session() as s:
        sid = snapshots.save_snapshot(s, dataset, {"rows_read": 40, "when": date(2026, 5, 5), "nan": np.nan})
    with db.session() as s:
        loaded = snapshots.load_dataset(s, sid)
    assert_same_dataset(loaded, dataset)
    assert loaded.sources == dataset.sources  # dates come back as date / datetime
    with db.session() as s:
        info = snapshots.get_snapshot(s, sid)
    assert info.summary == {"rows_read": 40, "when": "2026-05-05", "nan": None}
    assert info.n_securities == 40
    assert info.n_members == int(dataset.securities["in_index"].sum())


def test_missing_is_not_zero(db: Database) -> None:
    dataset = make_dataset(10, 5)
    sec = dataset.securities.copy()
    sec["cash"] = np.nan
    sec.loc[sec.index[0], "revenue"] = 0.0  # a real zero stays zero
    sec.loc[sec.index[1], "revenue"] = np.nan
    dataset = replace(dataset, securities=sec)
    with db.session() as s:
        sid = snapshots.save_snapshot(s, dataset, {})
    with db.session() as s:
        loaded = snapshots.load_dataset(s, sid).securities
    assert loaded["cash"].isna().all()
    assert loaded.loc[sec.index[0], "revenue"] == 0.0
    assert np.isnan(loaded.loc[sec.index[1], "revenue"])


def test_object_columns_and_nullable_membership(db: Database) -> None:
    sec = pd.DataFrame(
        {"name": np.array(["Zeta Corp", None, "Zorro Inc"], dtype=object),
         "in_index": np.array([True, None, False], dtype=object),
         "index_weight": [0.001, np.nan, 0.002],
         "listing_date": pd.to_datetime(["2001-02-03", None, "1999-12-31"]),
         "shares_outstanding": np.array([10, 20, 30], dtype=np.int64)},
        index=pd.Index(["ZAA", "ZBB", "ZCC"], name="symbol", dtype=object))
    dataset = Dataset(as_of=date(2026, 1, 2), securities=sec)
    with db.session() as s:
        sid = snapshots.save_snapshot(s, dataset, {})
    with db.session() as s:
        loaded = snapshots.load_dataset(s, sid)
    pd.testing.assert_frame_equal(loaded.securities, sec)
    assert loaded.prices.empty and loaded.history.empty and loaded.market.empty
    with db.session() as s:
        assert snapshots.list_snapshots(s)[0].n_members == 1


def test_lazy_prices_and_provenance(db: Database) -> None:
    dataset = make_dataset(20, 40)
    with db.session() as s:
        sid = snapshots.save_snapshot(s, dataset, {})
    with db.session() as s:
        light = snapshots.load_dataset(s, sid, with_prices=False, with_provenance=False)
        assert_same_dataset(light, dataset, prices=False, provenance=False)
        some = list(dataset.securities.index[:3])
        prices = snapshots.load_prices(s, sid, some)
        prov = snapshots.load_provenance(s, sid, some, chosen_only=True)
    pd.testing.assert_frame_equal(prices, _sorted_prices(dataset.prices[some]), check_freq=False)
    expected = dataset.provenance[dataset.provenance["symbol"].isin(some) & dataset.provenance["chosen"]]
    pd.testing.assert_frame_equal(prov, expected.reset_index(drop=True))


def test_prices_with_listing_gaps_and_holes(db: Database) -> None:
    dates = pd.bdate_range("2025-01-01", periods=8, name="date")
    prices = pd.DataFrame({"ZNEW": [np.nan] * 5 + [1.0, 2.0, 3.0],
                           "ZHOLE": [1.0, np.nan, 3.0, np.nan, 5.0, 6.0, np.nan, 8.0],
                           "ZNONE": [np.nan] * 8}, index=dates)
    dataset = make_dataset(3, 8)
    dataset = replace(dataset, prices=prices)
    with db.session() as s:
        sid = snapshots.save_snapshot(s, dataset, {})
    with db.session() as s:
        loaded = snapshots.load_dataset(s, sid).prices
    pd.testing.assert_frame_equal(loaded, _sorted_prices(prices), check_freq=False)


def test_list_resolve_and_latest(db: Database) -> None:
    old = make_dataset(5, 5, as_of=date(2026, 4, 1))
    new = make_dataset(5, 5, as_of=date(2026, 5, 5), seed=1)
    with db.session() as s:
        a = snapshots.save_snapshot(s, new, {"n": "new"})
        b = snapshots.save_snapshot(s, old, {"n": "old"})  # imported later, but older data
    with db.session() as s:
        infos = snapshots.list_snapshots(s)
        assert [i.id for i in infos] == [a, b]  # newest data first
        assert snapshots.resolve_snapshot(s, None) == a
        assert snapshots.resolve_snapshot(s, "latest") == a
        assert snapshots.resolve_snapshot(s, str(b)) == b
        assert snapshots.resolve_snapshot(s, b) == b
        assert snapshots.resolve_snapshot(s, "2026-04-01") == b
        assert snapshots.load_dataset(s).as_of == date(2026, 5, 5)
        with pytest.raises(NotFoundError, match="as of 2020-01-01"):
            snapshots.resolve_snapshot(s, "2020-01-01")
        with pytest.raises(NotFoundError, match="no snapshot 999"):
            snapshots.resolve_snapshot(s, "999")
        with pytest.raises(StoreError, match="neither a snapshot number nor a date"):
            snapshots.resolve_snapshot(s, "yesterday")


def test_no_snapshot_yet(db: Database) -> None:
    with db.session() as s:
        with pytest.raises(NotFoundError, match="no snapshots yet"):
            snapshots.load_dataset(s)
        assert snapshots.list_snapshots(s) == []


def test_identical_parts_are_stored_once_and_delete_collects_orphans(db: Database) -> None:
    first = make_dataset(30, 50)
    with db.session() as s:
        a = snapshots.save_snapshot(s, first, {})
        blobs_after_one = s.scalar(sa.select(sa.func.count()).select_from(Blob))
        b = snapshots.save_snapshot(s, first, {})  # same content: no new blobs
        assert s.scalar(sa.select(sa.func.count()).select_from(Blob)) == blobs_after_one
        changed = replace(first, prices=first.prices * 1.01)
        c = snapshots.save_snapshot(s, changed, {})
        assert s.scalar(sa.select(sa.func.count()).select_from(Blob)) == blobs_after_one + 30 + 0
    with db.session() as s:
        snapshots.delete_snapshot(s, c)  # its own price blobs go
        assert s.scalar(sa.select(sa.func.count()).select_from(Blob)) == blobs_after_one
        snapshots.delete_snapshot(s, a)  # everything still shared with b stays
        assert s.scalar(sa.select(sa.func.count()).select_from(Blob)) == blobs_after_one
    with db.session() as s:
        assert_same_dataset(snapshots.load_dataset(s, b), first)
        with pytest.raises(NotFoundError):
            snapshots.load_dataset(s, a)
        with pytest.raises(NotFoundError):
            snapshots.delete_snapshot(s, a)
        snapshots.delete_snapshot(s, b)
    with db.session() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(Blob)) == 0
        assert s.scalar(sa.select(sa.func.count()).select_from(SnapshotPart)) == 0


def test_failed_save_leaves_nothing(db: Database) -> None:
    with pytest.raises(RuntimeError), db.session() as s:
        snapshots.save_snapshot(s, make_dataset(5, 5), {})
        raise RuntimeError("caller failed after saving")
    with db.session() as s:
        assert snapshots.list_snapshots(s) == []
        assert s.scalar(sa.select(sa.func.count()).select_from(Blob)) == 0


def test_duplicate_symbols_are_refused(db: Database) -> None:
    dataset = make_dataset(3, 3)
    sec = pd.concat([dataset.securities, dataset.securities.iloc[:1]])
    with pytest.raises(StoreError, match="duplicate symbols"), db.session() as s:
        snapshots.save_snapshot(s, replace(dataset, securities=sec), {})


def test_securities_are_queryable_in_sql(db: Database) -> None:
    dataset = make_dataset(5, 3)
    with db.session() as s:
        sid = snapshots.save_snapshot(s, dataset, {})
    symbol = dataset.securities.index[0]
    with db.session() as s:
        from desktop.store.models import SnapshotSecurity
        data = s.scalar(sa.select(SnapshotSecurity.data).where(
            SnapshotSecurity.snapshot_id == sid, SnapshotSecurity.symbol == symbol))
    value = dataset.securities.loc[symbol, "market_cap"]
    assert data.get("market_cap") == (None if np.isnan(value) else value)


def test_volumes_round_trip_and_older_snapshots_have_none(db: Database) -> None:
    dataset = make_dataset(10, 20)
    volumes = (dataset.prices * 1000.0).round()
    with_volumes = replace(dataset, volumes=volumes)
    with db.session() as s:
        sid = snapshots.save_snapshot(s, with_volumes, {})
        plain = snapshots.save_snapshot(s, dataset, {})
    with db.session() as s:
        loaded = snapshots.load_dataset(s, sid)
        without = snapshots.load_dataset(s, plain)
        lean = snapshots.load_dataset(s, sid, with_prices=False)
    pd.testing.assert_frame_equal(loaded.volumes, volumes, check_freq=False)
    assert without.volumes.empty and lean.volumes.empty
    with db.read_session() as s:  # the metrics input: a window of closes, and of volumes with them
        since = volumes.index[12]
        window = snapshots.load_dataset(s, sid, prices_since=since.date())
    pd.testing.assert_frame_equal(window.volumes, volumes.loc[since:], check_freq=False)


def test_prices_since_a_day_are_the_tail_of_all_prices(db: Database) -> None:
    dataset = make_dataset(20, 80)
    dataset.prices.iloc[:60, 3] = np.nan  # a stock listed late: its closes start inside the window
    with db.session() as s:
        sid = snapshots.save_snapshot(s, dataset, {})
    with db.read_session() as s:
        everything = snapshots.load_prices(s, sid)
        since = everything.index[50]
        tail = snapshots.load_prices(s, sid, since=since.date())
        dates = snapshots.load_price_dates(s, sid)
    pd.testing.assert_frame_equal(tail, everything.loc[since:], check_freq=False)
    assert list(tail.columns) == list(everything.columns) and len(tail) == 30
    pd.testing.assert_index_equal(dates, pd.DatetimeIndex(everything.index), check_names=False)


def test_a_snapshot_saved_before_new_statement_lines_loads_with_them_missing(db: Database) -> None:
    # Found by looking at the window: a snapshot saved before issue #16 had no ``dividends_paid``
    # column, and computing its metrics raised KeyError. Lines added since load as NaN.
    from desktop.engine.dataset import HISTORY_COLUMNS
    from desktop.engine.metrics import compute_metrics

    dataset = make_dataset(20, 30)
    old = replace(dataset, history=dataset.history.drop(columns=["dividends_paid", "gross_profit"]))
    with db.session() as s:
        sid = snapshots.save_snapshot(s, old, {})
    with db.session() as s:
        loaded = snapshots.load_dataset(s, sid)
    assert list(loaded.history.columns) == list(HISTORY_COLUMNS)
    assert loaded.history["dividends_paid"].isna().all()
    assert len(compute_metrics(loaded).values) == 20

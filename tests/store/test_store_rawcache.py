"""The raw payload cache of the resumable refresh."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pandas as pd

from desktop.store import rawcache
from desktop.store.db import Database

T0 = datetime(2026, 5, 5, 12, 0)
T1 = datetime(2026, 5, 6, 12, 0)


def test_payload_kinds_round_trip(db: Database) -> None:
    frame = pd.DataFrame({"Total Debt": [1.0, np.nan]}, index=pd.Index(["2024-12-31", "2023-12-31"]))
    payloads = {"info": {"totalDebt": 5e8, "beta": float("nan"), "name": "Zqaa"}, "text": "raw body ü",
                "bytes": b"\x00\x01binary", "frame": frame, "none": None}
    with db.session() as s:
        for kind, payload in payloads.items():
            rawcache.put_raw(s, "yahoo", "ZQAA", kind, payload, T0)
    with db.session() as s:
        got = rawcache.load_raw(s, "yahoo", list(payloads))
    assert got[("ZQAA", "info")].payload == {"totalDebt": 5e8, "beta": None, "name": "Zqaa"}
    assert got[("ZQAA", "text")].payload == "raw body ü"
    assert got[("ZQAA", "bytes")].payload == b"\x00\x01binary"
    pd.testing.assert_frame_equal(got[("ZQAA", "frame")].payload, frame)
    assert got[("ZQAA", "none")].payload is None
    assert got[("ZQAA", "info")].fetched_at == T0 and got[("ZQAA", "info")].status == "ok"


def test_fresh_symbols_and_replacement(db: Database) -> None:
    with db.session() as s:
        rawcache.put_raw(s, "yahoo", "ZA", "info", {"v": 1}, T0)
        rawcache.put_raw(s, "yahoo", "ZB", "info", {"v": 1}, T1)
        rawcache.put_raw(s, "yahoo", "ZC", "info", None, T1, status="nodata", error="delisted")
        rawcache.put_raw(s, "yahoo", "ZD", "prices", {"v": 1}, T1)
        rawcache.put_raw(s, "finviz", "ZE", "info", {"v": 1}, T1)
    with db.session() as s:
        assert rawcache.fresh_symbols(s, "yahoo", "info", T1) == {"ZB"}
        assert rawcache.fresh_symbols(s, "yahoo", "info", T0) == {"ZA", "ZB"}
        assert rawcache.fresh_symbols(s, "yahoo", "info", T1, statuses=("ok", "nodata")) == {"ZB", "ZC"}
        # aware datetimes are compared in UTC
        assert rawcache.fresh_symbols(s, "yahoo", "info", T1.replace(tzinfo=UTC)) == {"ZB"}
        rawcache.put_raw(s, "yahoo", "ZA", "info", {"v": 2}, T1)  # replaces
    with db.session() as s:
        got = rawcache.load_raw(s, "yahoo", "info", symbols=["ZA", "ZC", "ZZ"])
        assert set(got) == {("ZA", "info"), ("ZC", "info")}
        assert got[("ZA", "info")].payload == {"v": 2}
        assert got[("ZC", "info")].error == "delisted"
        assert rawcache.clear_raw(s, "yahoo", older_than=T1) == 0
        assert rawcache.clear_raw(s, "finviz") == 1
        assert rawcache.clear_raw(s) == 4


def test_each_put_can_be_committed_separately(db: Database) -> None:
    """The refresh commits per ticker: a failure later keeps the earlier tickers."""
    with db.session() as s:
        rawcache.put_raw(s, "yahoo", "ZA", "info", {"v": 1}, T0)
    try:
        with db.session() as s:
            rawcache.put_raw(s, "yahoo", "ZB", "info", {"v": 1}, T0)
            raise ConnectionError("network dropped")
    except ConnectionError:
        pass
    with db.session() as s:
        assert rawcache.fresh_symbols(s, "yahoo", "info", T0) == {"ZA"}

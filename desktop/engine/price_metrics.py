"""Metrics from daily prices (issues #5, #16): rate betas, momentum, risk and liquidity.

Every value here is dated by the last close it uses (on or before the snapshot date: later prices
were not known then) and goes stale after ``MetricParams.market_stale_days``. Bad prints (one-day
spikes that revert) are removed before anything is computed. Where the engine has no value, or the
vendor's figure is more recent than the price history, the reported twin (``catalog.TWINS``) stands
in and its origin says so.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from datetime import date

import numpy as np
import pandas as pd

from desktop.engine.catalog import TWINS
from desktop.engine.metric_context import Context, MetricParams

RETURN_MONTHS = (1, 3, 6, 12)
REFERENCE_TOLERANCE = np.timedelta64(7, "D")  # the earlier close must lie this close to the date asked for
YEAR = np.timedelta64(365, "D")
MIN_YEAR_OBS = 126  # closes (or returns) a one-year statistic needs: half a year of trading
LOOKBACK = pd.Timedelta(days=600)  # every window (a year and a week), also for a stock halted months before
CHUNK = 500  # stocks per block of the computation
PRICE_FIELDS = tuple(f"return_{m}m" for m in RETURN_MONTHS) + (
    "dist_52w_high", "dist_52w_low", "high_52w", "low_52w", "sma50_distance", "sma200_distance", "volatility_1y", "max_drawdown_1y")
VOLUME_FIELDS = ("avg_volume", "avg_dollar_volume")
RATE_BETA_FIELDS = ("rate_beta", "rate_beta_t", "rate_beta_r2", "rate_beta_weeks", "iwm_beta")


def despiked_log(closes: np.ndarray, spike_threshold: float) -> np.ndarray:
    """Log closes with bad prints removed (README: one-day spikes that revert, unadjusted prints).

    A daily close whose move in and out both exceed ``spike_threshold`` (log) in opposite directions
    and nearly cancel becomes NaN; non-positive closes are NaN too. Day t is judged with day t+1.
    """
    arr = np.array(closes, dtype="float64", copy=True)
    arr[~(arr > 0)] = np.nan
    logp = np.log(arr)
    filled = pd.DataFrame(logp).ffill().to_numpy()
    r_in = np.full_like(filled, np.nan)
    r_in[1:] = filled[1:] - filled[:-1]
    r_out = np.full_like(filled, np.nan)
    r_out[:-1] = -r_in[1:]  # move back out of day t
    with np.errstate(invalid="ignore"):
        spike = (np.abs(r_in) > spike_threshold) & (np.abs(r_out) > spike_threshold) \
            & (np.sign(r_in) == np.sign(r_out)) & (np.abs(r_in - r_out) < spike_threshold / 2)
    logp[spike] = np.nan
    return logp


def clean_returns(prices: pd.DataFrame, spike_threshold: float, clip: float) -> pd.DataFrame:
    """Weekly log returns robust to bad prints (README: one-day spikes, unadjusted prints).

    A daily close whose move in and out both exceed ``spike_threshold`` (log) in opposite
    directions and nearly cancel is dropped; weekly (Friday) closes then give log returns that
    are winsorised to +/- ``clip``.
    """
    p = prices.astype("float64")
    daily = pd.DataFrame(despiked_log(p.to_numpy(), spike_threshold), index=p.index, columns=p.columns)
    weekly = daily.resample("W-FRI").last()
    ret = weekly.diff()
    # A gap (no bar) in a week leaves NaN there; the next week's diff spans it only via ffill.
    return pd.DataFrame(np.clip(ret.to_numpy(dtype="float64"), -clip, clip), index=ret.index, columns=ret.columns)


def rate_beta_window(price_dates: pd.Index, market: pd.DataFrame, as_of: date,
                     params: MetricParams) -> tuple[pd.Timestamp, pd.Timestamp] | None:
    """The first and last day of daily closes the rate betas read (None: they read none).

    A caller that loads closes for :func:`compute_metrics` needs only these days (two years of the
    ~25 a snapshot's price dates span, issue #17); ``price_dates`` are all the snapshot's days.
    """
    if not len(price_dates) or market is None or not {"IWM", "yield_10y"} <= set(market):
        return None
    return _beta_window(pd.DatetimeIndex(price_dates), _rate_market(market), pd.Timestamp(as_of), params)


def _rate_market(market: pd.DataFrame) -> pd.DataFrame:
    m = market[["IWM", "yield_10y"]].astype("float64")
    m.index = pd.DatetimeIndex(m.index)
    return m


def _beta_window(price_dates: pd.DatetimeIndex, m: pd.DataFrame, as_of: pd.Timestamp,
                 params: MetricParams) -> tuple[pd.Timestamp, pd.Timestamp]:
    """Weekly returns over ``rate_beta_weeks`` (+2 for the first difference and a partial week) to
    the last common date on or before the snapshot date."""
    end = min(price_dates.max(), m.dropna(how="all").index.max(), as_of)
    return end - pd.Timedelta(weeks=params.rate_beta_weeks + 2), end


def rate_betas(prices: pd.DataFrame, market: pd.DataFrame, index: pd.Index, params: MetricParams,
                cancel_check: Callable[[], None], ctx: Context) -> dict[str, np.ndarray]:
    """Rate betas over the window ending at the last common date on or before the snapshot date
    (data after it is never used: it was not known then)."""
    n = len(index)
    names = RATE_BETA_FIELDS
    out = {k: np.full(n, np.nan) for k in names}
    if prices is None or prices.empty or market is None or not {"IWM", "yield_10y"} <= set(market):
        return out
    wanted = set(index)
    cols = [s for s in prices.columns if s in wanted]
    if not cols:
        return out
    m = _rate_market(market)
    start, end = _beta_window(pd.DatetimeIndex(prices.index), m, ctx.as_of, params)
    wk_m = m.loc[:end].resample("W-FRI").last()
    mkt = np.log(wk_m["IWM"].where(wk_m["IWM"] > 0)).diff()
    dy = wk_m["yield_10y"].diff()
    px = prices.loc[(prices.index >= start) & (prices.index <= end), cols]
    px.index = pd.DatetimeIndex(px.index)
    pos = index.get_indexer(pd.Index(cols))
    chunk = 500
    for lo in range(0, len(cols), chunk):
        cancel_check()
        ret = clean_returns(px.iloc[:, lo:lo + chunk], params.spike_threshold, params.return_clip)
        ret = ret.iloc[-params.rate_beta_weeks:]
        x1 = dy.reindex(ret.index).to_numpy(dtype="float64")
        x2 = mkt.reindex(ret.index).to_numpy(dtype="float64")
        res = _ols_columns(ret.to_numpy(dtype="float64"), x1, x2, params.min_weeks)
        for k, v in zip(names, res, strict=True):
            out[k][pos[lo:lo + chunk]] = v
    last_week = np.datetime64(pd.Timestamp(end).normalize(), "ns")
    for k in names:
        ctx.ends[k] = np.where(np.isnan(out[k]), np.datetime64("NaT"), last_week).astype("datetime64[ns]")
        ctx.origin[k] = np.where(np.isnan(out[k]), None, f"weekly returns to {str(last_week)[:10]}")  # type: ignore[call-overload]
        ctx.stale_days[k] = params.market_stale_days
    return out


def _ols_columns(y: np.ndarray, x1: np.ndarray, x2: np.ndarray, min_obs: int) -> tuple[np.ndarray, ...]:
    """OLS of every column of ``y`` on [1, x1, x2] using each column's valid rows (vectorised)."""
    w = (np.isfinite(y) & np.isfinite(x1)[:, None] & np.isfinite(x2)[:, None]).astype("float64")
    y0 = np.where(w > 0, y, 0.0)
    a = np.nan_to_num(x1)
    b = np.nan_to_num(x2)
    nobs = w.sum(0)
    s1, s2 = a @ w, b @ w
    s11, s22, s12 = (a * a) @ w, (b * b) @ w, (a * b) @ w
    sy, s1y, s2y, syy = y0.sum(0), a @ y0, b @ y0, (y0 * y0).sum(0)
    k = y.shape[1]
    xtx = np.empty((k, 3, 3))
    xtx[:, 0, 0], xtx[:, 0, 1], xtx[:, 0, 2] = nobs, s1, s2
    xtx[:, 1, 0], xtx[:, 1, 1], xtx[:, 1, 2] = s1, s11, s12
    xtx[:, 2, 0], xtx[:, 2, 1], xtx[:, 2, 2] = s2, s12, s22
    xty = np.stack([sy, s1y, s2y], axis=1)
    ok = nobs >= min_obs
    det = np.linalg.det(xtx)
    ok &= np.abs(det) > 1e-12 * np.maximum(nobs, 1) ** 3
    nan = np.full(k, np.nan)
    if not ok.any():
        return nan, nan.copy(), nan.copy(), np.where(ok, nobs, np.nan), nan.copy()
    inv = np.full_like(xtx, np.nan)
    inv[ok] = np.linalg.inv(xtx[ok])
    beta = np.einsum("kij,kj->ki", inv, xty)
    rss = syy - np.einsum("ki,ki->k", beta, xty)
    with np.errstate(divide="ignore", invalid="ignore"):
        s2e = np.maximum(rss, 0.0) / (nobs - 3)
        se = np.sqrt(s2e * inv[:, 1, 1])
        tss = syy - sy * sy / nobs
        r2 = 1.0 - rss / tss
        t = beta[:, 1] / se
    keep = ok & (tss > 0)
    f = lambda v: np.where(keep, v, np.nan)  # noqa: E731
    return f(beta[:, 1]), f(t), f(np.clip(r2, 0.0, 1.0)), np.where(keep, nobs, np.nan), f(beta[:, 2])


def momentum(prices: pd.DataFrame, volumes: pd.DataFrame, ctx: Context, cancel_check: Callable[[], None]) -> None:
    """Returns, distance from the 52-week range and the moving averages, volatility, drawdown and
    average (dollar) volume, each from the stock's own last close on or before the snapshot date."""
    n = ctx.n
    for fld in PRICE_FIELDS + VOLUME_FIELDS:
        ctx.cols[fld] = np.full(n, np.nan)
    last = np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]")
    if prices is not None and len(prices.columns) and len(prices.index):
        px = _window(prices, ctx)
        if px is not None:
            cols, pos = px
            for lo in range(0, len(cols.columns), CHUNK):  # a few columns at a time: bounded memory
                cancel_check()
                part = cols.iloc[:, lo:lo + CHUNK]
                ends = _price_fields(part, pos[lo:lo + CHUNK], ctx)
                last = np.where(np.isnat(ends), last, ends)
                if volumes is not None and len(volumes.columns):
                    _volume_fields(part, volumes, ctx)
    origin = np.char.add("daily closes to ", np.datetime_as_string(last, unit="D")).astype(object)
    origin[np.isnat(last)] = None
    for fld in PRICE_FIELDS + VOLUME_FIELDS:
        ctx.ends[fld] = last.copy()
        ctx.origin[fld] = origin.copy()
        ctx.stale_days[fld] = ctx.params.market_stale_days
    for fld in PRICE_FIELDS + VOLUME_FIELDS:
        twin = TWINS.get(fld)
        if twin is None:
            continue
        twin_when, _ = ctx.observed(twin)
        fresher = ~np.isnat(twin_when) & (np.isnat(last) | (twin_when > last))
        ctx.reported_twin(fld, twin, when=fresher, why=f"as the source reports it ({twin}): no price history, or "
                          "the source's figure is more recent than the last close")


def _window(prices: pd.DataFrame, ctx: Context) -> tuple[pd.DataFrame, np.ndarray] | None:
    """The universe's closes up to the snapshot date (the last ``LOOKBACK``) and each one's column."""
    wanted = pd.Index(prices.columns).intersection(ctx.index)
    if not len(wanted):
        return None
    px = prices[wanted]
    px = px.loc[pd.DatetimeIndex(px.index) <= ctx.as_of]
    if not len(px):
        return None
    px = px.loc[pd.DatetimeIndex(px.index) >= pd.DatetimeIndex(px.index).max() - LOOKBACK]
    return px, ctx.index.get_indexer(wanted)


def _price_fields(px: pd.DataFrame, pos: np.ndarray, ctx: Context) -> np.ndarray:
    """Write the price fields for the columns of ``px`` (at ``pos``); returns each stock's last close date."""
    dates = pd.DatetimeIndex(px.index).to_numpy(dtype="datetime64[ns]")
    logp = despiked_log(px.to_numpy(dtype="float64"), ctx.params.spike_threshold)
    valid = ~np.isnan(logp)
    has = valid.any(axis=0)
    rows = np.arange(len(dates))[:, None]
    last_row = np.where(valid, rows, -1).max(axis=0)
    ok = has & (last_row >= 0)
    cols = np.flatnonzero(ok)
    if not len(cols):
        return np.full(ctx.n, np.datetime64("NaT"), dtype="datetime64[ns]")
    lr = last_row[cols]
    logp, valid = logp[:, cols], valid[:, cols]
    end = dates[lr]
    close_log = logp[lr, np.arange(len(cols))]
    filled = pd.DataFrame(logp).ffill().to_numpy()
    seen = np.where(valid, rows, -1)
    seen = np.maximum.accumulate(seen, axis=0)  # row of the last valid close at or before each row
    out: dict[str, np.ndarray] = {}
    for m in RETURN_MONTHS:
        target = (pd.DatetimeIndex(end) - pd.DateOffset(months=m)).to_numpy(dtype="datetime64[ns]")
        r = np.searchsorted(dates, target, side="right") - 1
        safe = np.maximum(r, 0)
        src = seen[safe, np.arange(len(cols))]
        found = (r >= 0) & (src >= 0)
        ref_date = dates[np.maximum(src, 0)]
        found &= (target - ref_date) <= REFERENCE_TOLERANCE
        ref = filled[safe, np.arange(len(cols))]
        out[f"return_{m}m"] = np.where(found, np.expm1(close_log - ref), np.nan)
    in_year = (dates[:, None] > (end - YEAR)[None, :]) & (rows <= lr[None, :])
    year_log = np.where(in_year, logp, np.nan)
    count = np.count_nonzero(in_year & valid, axis=0)
    enough = count >= MIN_YEAR_OBS
    with np.errstate(invalid="ignore", all="ignore"):
        hi = np.nanmax(np.where(in_year & valid, logp, -np.inf), axis=0)
        lo = np.nanmin(np.where(in_year & valid, logp, np.inf), axis=0)
        out["dist_52w_high"] = np.where(enough, np.expm1(close_log - hi), np.nan)
        out["dist_52w_low"] = np.where(enough, np.expm1(close_log - lo), np.nan)
        out["high_52w"] = np.where(enough, np.exp(hi), np.nan)
        out["low_52w"] = np.where(enough, np.exp(lo), np.nan)
        # Daily returns between consecutive closes inside the year (a halt's gap is one return).
        ret = np.where(valid[1:] & in_year[1:] & in_year[:-1], np.diff(filled, axis=0), np.nan)
        n_ret = np.count_nonzero(~np.isnan(ret), axis=0)
        with warnings.catch_warnings():  # a stock with one return or none: NaN, masked just below
            warnings.simplefilter("ignore", RuntimeWarning)
            vol = np.nanstd(ret, axis=0, ddof=1) * np.sqrt(252.0)
        out["volatility_1y"] = np.where(n_ret >= MIN_YEAR_OBS, vol, np.nan)
        peak = np.fmax.accumulate(year_log, axis=0)
        drawdown = np.nanmin(np.where(in_year & valid, year_log - peak, np.nan), axis=0)
        out["max_drawdown_1y"] = np.where(enough, np.expm1(drawdown), np.nan)
    closes = pd.DataFrame(np.exp(logp))
    for window, fld in ((50, "sma50_distance"), (200, "sma200_distance")):
        sma = _trailing_mean(closes, window, lr)
        out[fld] = np.exp(close_log) / sma - 1.0
    target_pos = pos[cols]
    for fld, v in out.items():
        ctx.cols[fld][target_pos] = v
    last = np.full(ctx.n, np.datetime64("NaT"), dtype="datetime64[ns]")
    last[target_pos] = end
    return last


def _trailing_mean(values: pd.DataFrame, window: int, at_row: np.ndarray) -> np.ndarray:
    """Per column, the mean of its last ``window`` valid values up to row ``at_row`` (NaN with fewer)."""
    out = np.full(values.shape[1], np.nan)
    arr = values.to_numpy(dtype="float64")
    valid = ~np.isnan(arr)
    csum = np.cumsum(np.where(valid, arr, 0.0), axis=0)
    ccount = np.cumsum(valid, axis=0)
    k = np.arange(arr.shape[1])
    total, count = csum[at_row, k], ccount[at_row, k]
    # Subtract the running sum up to the (count - window)-th valid value (ccount rises by one per value).
    start = count - window
    r = np.argmax(ccount >= np.maximum(start, 1)[None, :], axis=0)
    before = np.where(start > 0, csum[r, k], 0.0)
    return np.where(count >= window, (total - before) / window, out)


def _volume_fields(px: pd.DataFrame, volumes: pd.DataFrame, ctx: Context) -> None:
    """Average daily volume and dollar volume over the last ``liquidity_days`` bars with a volume."""
    wanted = px.columns.intersection(volumes.columns)
    if not len(wanted):
        return
    vol = volumes[wanted].reindex(px.index).to_numpy(dtype="float64", copy=True)
    close = px[wanted].to_numpy(dtype="float64")
    vol[~(vol >= 0)] = np.nan
    dollars = np.where(np.isnan(close), np.nan, vol * close)
    days = ctx.params.liquidity_days
    rows = np.arange(len(px.index))[:, None]
    has_vol = ~np.isnan(vol)
    last_row = np.where(has_vol, rows, -1).max(axis=0)
    ok = last_row >= 0
    col_pos = ctx.index.get_indexer(wanted)
    for fld, arr in (("avg_volume", vol), ("avg_dollar_volume", dollars)):
        mean = _trailing_mean(pd.DataFrame(arr), days, np.maximum(last_row, 0))
        ctx.cols[fld][col_pos[ok]] = mean[ok]

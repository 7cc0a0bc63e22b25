"""Chart widgets (desktop/ui/charts): data in, signals out, calm empty states, real price files."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt

from desktop.engine import catalog
from desktop.ui.charts import (
    BreakdownWidget,
    HistogramWidget,
    MarketContextWidget,
    PriceYieldWidget,
    ScatterChartWidget,
)
from desktop.ui.charts._axes import round_significant, tick_strings
from desktop.ui.charts.breakdown import MAX_BARS, top_categories
from desktop.ui.charts.histogram import histogram_bins
from desktop.ui.charts.scatter import wants_log_axis
from tests.conftest import shared_file

# The offscreen platform plugin says this on every show(); it is about the platform, not our code.
pytestmark = pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints")

# ---------------------------------------------------------------------------------------------- data
def _values() -> pd.DataFrame:
    """Six fictional companies; ZULU lacks a market cap, YANK has no sector and no theme."""
    return pd.DataFrame(
        {
            "name": ["Alder Tools", "Birch Bank", "Cedar Chips", "Dogwood REIT", "Yankee Yards", "Zulu Zinc"],
            "market_cap": [5.0e7, 2.0e8, 3.0e9, 8.0e8, 1.2e10, np.nan],
            "current_ratio": [1.5, 0.9, 2.4, 1.1, 3.0, 1.0],
            "free_cash_flow": [-2.0e6, 1.0e7, 3.0e8, 4.0e7, 9.0e8, 1.0e6],
            "sector": ["Industrials", "Financial Services", "Technology", "Real Estate", None, "Basic Materials"],
            "themes": [(), ("Regional banks",), ("Semiconductors", "AI"), ("REITs",), (), ()],
        },
        index=pd.Index(["ALDR", "BRCH", "CDAR", "DGWD", "YANK", "ZULU"], name="symbol"),
    )


@pytest.fixture
def scatter(qtbot) -> ScatterChartWidget:  # type: ignore[no-untyped-def]
    widget = ScatterChartWidget()
    qtbot.addWidget(widget)
    widget.resize(800, 500)
    widget.show()
    return widget


def _footnote(widget: object) -> str:
    return widget.footnote()  # type: ignore[attr-defined, no-any-return]


# ------------------------------------------------------------------------------------------- scatter
def test_scatter_plots_rows_with_both_values(scatter: ScatterChartWidget) -> None:
    scatter.set_data(_values(), "market_cap", "current_ratio", passed=pd.Index(["BRCH", "CDAR"]))
    assert scatter.message() is None
    assert set(scatter.plotted_symbols()) == {"ALDR", "BRCH", "CDAR", "DGWD", "YANK"}
    # market_cap spans 50M..12B (> 2 decades, all positive): log; current ratio does not.
    assert scatter.log_axes() == (True, False)
    assert "log scale" in scatter._plot.getAxis("bottom").labelText
    assert scatter.point_position("CDAR") == pytest.approx((math.log10(3.0e9), 2.4))
    note = _footnote(scatter)
    assert "5 stocks plotted" in note and "1 without both values" in note and "(2)" in note
    labels = scatter.legend_labels()
    assert "Technology (1)" in labels and "Unknown sector (1)" in labels
    assert scatter.fields() == ("market_cap", "current_ratio")


def test_scatter_colours_by_first_theme(scatter: ScatterChartWidget) -> None:
    scatter.set_data(_values(), "free_cash_flow", "current_ratio", color_by="themes")
    labels = scatter.legend_labels()
    assert "Semiconductors (1)" in labels and "No theme (3)" in labels
    # Negative cash flows: linear axis.
    assert scatter.log_axes() == (False, False)
    assert scatter.colour_combo.currentData() == "themes"


def test_scatter_click_on_point_emits_symbol(scatter: ScatterChartWidget, qtbot) -> None:  # type: ignore[no-untyped-def]
    scatter.set_data(_values(), "market_cap", "current_ratio")
    qtbot.waitExposed(scatter)
    view = scatter._plot_widget
    x, y = scatter.point_position("DGWD")
    scene_pos = scatter._plot.vb.mapViewToScene(QPointF(x, y))
    pos = view.mapFromScene(scene_pos)
    with qtbot.waitSignal(scatter.point_clicked, timeout=2000) as blocker:
        qtbot.mousePress(view.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(pos.x(), pos.y()))
        qtbot.mouseRelease(view.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(pos.x(), pos.y()))
    assert blocker.args == ["DGWD"]


def test_scatter_highlight_rings_selected_points(scatter: ScatterChartWidget) -> None:
    scatter.set_data(_values(), "market_cap", "current_ratio")
    scatter.set_highlighted(["CDAR", "ZULU", "NOPE"])  # ZULU has no point, NOPE is unknown
    assert scatter.highlighted() == ["CDAR"]
    assert len(scatter._ring.data) == 1
    scatter.set_highlighted([])
    assert scatter.highlighted() == []


def test_scatter_rescreen_moves_points_between_layers(scatter: ScatterChartWidget) -> None:
    values = _values()
    scatter.set_data(values, "market_cap", "current_ratio", passed=pd.Index(["CDAR"]))
    assert "(1)" in _footnote(scatter)
    scatter.set_data(values, "market_cap", "current_ratio", passed=pd.Index(["CDAR", "DGWD", "BRCH"]))
    assert "(3)" in _footnote(scatter)
    bold_total = sum(len(bold.data) for _, bold, _ in scatter._groups)
    assert bold_total == 3


def test_scatter_legend_hides_a_category_across_rescreens(scatter: ScatterChartWidget) -> None:
    values = _values()
    scatter.set_data(values, "market_cap", "current_ratio", passed=pd.Index(["CDAR"]))
    boxes = {box.text(): box for box in scatter._legend.boxes()}
    boxes["Technology (1)"].setChecked(False)

    def tech_layers_visible() -> list[bool]:
        return [item.isVisible() for item in scatter._items if "CDAR" in
                [scatter.plotted_symbols()[int(r)] for r in item.data["data"]]]

    assert tech_layers_visible() == [False, False]
    scatter.set_data(values, "market_cap", "current_ratio", passed=pd.Index(["CDAR", "BRCH"]))
    assert tech_layers_visible() == [False, False]
    boxes["Technology (1)"].setChecked(True)
    assert tech_layers_visible() == [True, True]


def test_scatter_trims_far_outliers_from_the_view(scatter: ScatterChartWidget) -> None:
    rng = np.random.default_rng(3)
    n = 300
    values = pd.DataFrame(
        {"current_ratio": rng.normal(1.5, 0.3, n), "free_cash_flow": rng.normal(0.0, 1e7, n)},
        index=pd.Index([f"F{i:03d}" for i in range(n)], name="symbol"),
    )
    values.iloc[0, 1] = 5e9  # one far outlier
    scatter.set_data(values, "current_ratio", "free_cash_flow")
    assert "view trimmed" in _footnote(scatter)
    assert scatter._plot.vb.viewRange()[1][1] < 1e9
    scatter.set_data(values.iloc[1:], "current_ratio", "free_cash_flow")
    assert "view trimmed" not in _footnote(scatter)


def test_scatter_key_moves_below_in_a_tall_narrow_dock(scatter: ScatterChartWidget, qtbot) -> None:  # type: ignore[no-untyped-def]
    scatter.set_data(_values(), "market_cap", "current_ratio")
    scatter.resize(380, 700)
    qtbot.waitUntil(lambda: scatter._page_layout.direction() == scatter._page_layout.Direction.TopToBottom)
    scatter.resize(900, 500)
    qtbot.waitUntil(lambda: scatter._page_layout.direction() == scatter._page_layout.Direction.LeftToRight)


def test_scatter_field_picker_emits_fields_changed(scatter: ScatterChartWidget, qtbot) -> None:  # type: ignore[no-untyped-def]
    scatter.set_data(_values(), "market_cap", "current_ratio")
    names = [scatter.y_combo.itemData(i) for i in range(scatter.y_combo.count())]
    assert "free_cash_flow" in names and "sector" not in names  # numeric fields present in the frame
    with qtbot.waitSignal(scatter.fields_changed, timeout=1000) as blocker:
        scatter.y_combo.setCurrentIndex(names.index("free_cash_flow"))
        scatter.y_combo.activated.emit(names.index("free_cash_flow"))
    assert blocker.args == ["market_cap", "free_cash_flow"]
    assert scatter.fields() == ("market_cap", "free_cash_flow")


def test_scatter_colour_picker_emits_color_by_changed(scatter: ScatterChartWidget, qtbot) -> None:  # type: ignore[no-untyped-def]
    scatter.set_data(_values(), "market_cap", "current_ratio")
    index = scatter.colour_combo.findData("themes")
    with qtbot.waitSignal(scatter.color_by_changed, timeout=1000) as blocker:
        scatter.colour_combo.setCurrentIndex(index)
        scatter.colour_combo.activated.emit(index)
    assert blocker.args == ["themes"]
    assert scatter.color_by() == "themes"
    assert "No theme (2)" in scatter.legend_labels()  # ZULU has no market cap: not plotted


def test_scatter_tooltip_names_ticker_and_values(scatter: ScatterChartWidget) -> None:
    scatter.set_data(_values(), "market_cap", "current_ratio")
    row = scatter.plotted_symbols().index("CDAR")
    tip = scatter._tip(0.0, 0.0, row)
    assert tip.startswith("CDAR — Cedar Chips")
    assert "Market cap: $3.0B" in tip and "Current ratio: 2.4x" in tip


@pytest.mark.parametrize(
    ("values", "x", "y", "expected"),
    [
        (pd.DataFrame(), "market_cap", "current_ratio", "No stocks to plot yet"),
        (_values(), "market_cap", "interest_coverage_x", "not available in this snapshot"),
        (_values().assign(current_ratio=np.nan), "market_cap", "current_ratio", "No stock has both"),
    ],
)
def test_scatter_empty_states_show_a_message(
    scatter: ScatterChartWidget, values: pd.DataFrame, x: str, y: str, expected: str
) -> None:
    scatter.set_data(values, x, y)
    assert expected in (scatter.message() or "")


@pytest.mark.parametrize(
    ("values", "log"),
    [([1e6, 1e9], True), ([1.0, 50.0], False), ([-1.0, 1e9], False), ([0.0, 1e9], False), ([5.0], False)],
)
def test_wants_log_axis(values: list[float], log: bool) -> None:
    assert wants_log_axis(np.array(values + [np.nan])) is log


# ----------------------------------------------------------------------------------------- histogram
@pytest.fixture
def histogram(qtbot) -> HistogramWidget:  # type: ignore[no-untyped-def]
    widget = HistogramWidget()
    qtbot.addWidget(widget)
    widget.resize(700, 320)
    widget.show()
    return widget


def _caps() -> np.ndarray:
    rng = np.random.default_rng(7)
    caps = 10 ** rng.uniform(7.5, 10.0, 400)
    caps[:5] = np.nan
    return caps


def test_histogram_draws_bounds_as_lines(histogram: HistogramWidget) -> None:
    histogram.set_field(_caps(), catalog.get("market_cap"), 3e8, None)
    assert histogram.message() is None
    assert histogram.is_log()  # usd, positive, 2.5 decades
    assert histogram.minimum_line.isVisible() and not histogram.maximum_line.isVisible()
    assert histogram.minimum_line.value() == pytest.approx(math.log10(3e8))
    assert histogram.minimum_button.isChecked() and not histogram.maximum_button.isChecked()
    note = _footnote(histogram)
    assert "395 of 400 have a value" in note and "1st–99th percentile" in note
    assert histogram._plot.getAxis("bottom").labelText == "Market cap (USD), log scale"


def test_histogram_next_field_is_not_clamped_by_the_previous_bounds(histogram: HistogramWidget) -> None:
    ratios = np.linspace(0.0, 8.0, 200)
    histogram.set_field(ratios, catalog.get("current_ratio"), None, 2.0)
    assert histogram.maximum_line.value() == pytest.approx(2.0)
    histogram.set_field(_caps(), catalog.get("market_cap"), 3e8, None)
    assert histogram.minimum_line.value() == pytest.approx(math.log10(3e8))
    assert not histogram.maximum_line.isVisible()


def test_histogram_drag_release_emits_rounded_bound(histogram: HistogramWidget, qtbot) -> None:  # type: ignore[no-untyped-def]
    histogram.set_field(_caps(), catalog.get("market_cap"), 3e8, 5e9)
    line = histogram.minimum_line
    with qtbot.waitSignal(histogram.bounds_changed, timeout=2000) as blocker:
        line.setValue(histogram.to_view(412_345_678.0))
        line.sigPositionChangeFinished.emit(line)
    assert blocker.args == [pytest.approx(412_000_000.0), pytest.approx(5e9)]
    assert histogram.bounds() == (pytest.approx(4.12e8), pytest.approx(5e9))
    # The line snaps onto the value it reported.
    assert line.value() == pytest.approx(math.log10(4.12e8))


def test_histogram_drag_emits_while_moving_rate_limited(histogram: HistogramWidget, qtbot) -> None:  # type: ignore[no-untyped-def]
    values = np.linspace(-1e8, 1e8, 300)  # negative amounts: linear axis
    histogram.set_field(values, catalog.get("free_cash_flow"), 0.0, None)
    assert not histogram.is_log() and not histogram.log_box.isEnabled()
    line = histogram.minimum_line
    with qtbot.waitSignal(histogram.bounds_changed, timeout=2000) as blocker:
        for v in (1e7, 2e7, 3e7):
            line.setValue(v)
    assert blocker.args[1] is None
    assert blocker.args[0] in (pytest.approx(1e7), pytest.approx(2e7), pytest.approx(3e7))


def test_histogram_programmatic_update_is_silent(histogram: HistogramWidget, qtbot) -> None:  # type: ignore[no-untyped-def]
    with qtbot.assertNotEmitted(histogram.bounds_changed, wait=150):
        histogram.set_field(_caps(), catalog.get("market_cap"), 3e8, 5e9)
        histogram.set_field(_caps(), catalog.get("market_cap"), 4e8, None)


def test_histogram_buttons_add_and_remove_bounds(histogram: HistogramWidget, qtbot) -> None:  # type: ignore[no-untyped-def]
    caps = _caps()
    histogram.set_field(caps, catalog.get("market_cap"), None, None)
    assert not histogram.minimum_line.isVisible()
    with qtbot.waitSignal(histogram.bounds_changed, timeout=1000) as added:
        qtbot.mouseClick(histogram.maximum_button, Qt.MouseButton.LeftButton)
    expected = round_significant(float(np.nanpercentile(caps, 90)))
    assert added.args == [None, pytest.approx(expected)]
    assert histogram.maximum_line.isVisible()
    with qtbot.waitSignal(histogram.bounds_changed, timeout=1000) as removed:
        qtbot.mouseClick(histogram.maximum_button, Qt.MouseButton.LeftButton)
    assert removed.args == [None, None]
    assert not histogram.maximum_line.isVisible()


def test_histogram_empty_field_shows_message(histogram: HistogramWidget) -> None:
    histogram.set_field(np.array([np.nan, np.nan]), catalog.get("free_cash_flow"), None, None)
    assert "None of the 2 stocks has a value for Free cash flow" in (histogram.message() or "")


def test_histogram_text_field_shows_message(histogram: HistogramWidget) -> None:
    histogram.set_field(np.array(["a", "b"], dtype=object), catalog.get("sector"), None, None)
    assert "Sector is not a number" in (histogram.message() or "")


def test_histogram_bins_clip_outliers() -> None:
    data = np.concatenate([np.linspace(0.0, 1.0, 500), [1e6]])
    counts, edges, lo, hi = histogram_bins(data)
    assert hi < 2.0  # the outlier does not stretch the display range
    assert counts.sum() < data.size
    assert 10 <= len(counts) <= 60 and len(edges) == len(counts) + 1
    counts, edges, lo, hi = histogram_bins(np.array([5.0, 5.0, 5.0]))
    assert counts.sum() == 3 and lo < 5.0 < hi


# ----------------------------------------------------------------------------------------- breakdown
def test_breakdown_bars_sorted_with_labels(qtbot) -> None:  # type: ignore[no-untyped-def]
    widget = BreakdownWidget()
    qtbot.addWidget(widget)
    widget.set_counts(
        pd.Series({"Technology": 4, "Financial Services": 9, "Communication Services": 1}),
        pd.Series({"Semiconductors": 3}),
    )
    assert widget.message() is None
    assert widget.sector_panel.categories() == ["Financial Services", "Technology", "Communication Services"]
    assert widget.theme_panel.categories() == ["Semiconductors"]


def test_breakdown_empty_states(qtbot) -> None:  # type: ignore[no-untyped-def]
    widget = BreakdownWidget()
    qtbot.addWidget(widget)
    widget.set_counts(pd.Series(dtype=int), pd.Series(dtype=int))
    assert "shortlist is empty" in (widget.message() or "")
    widget.set_counts(pd.Series({"Energy": 2}), pd.Series(dtype=int))
    assert widget.message() is None
    assert "No stock in the shortlist matches a theme" in (widget.theme_panel.message() or "")


def test_top_categories_folds_the_tail() -> None:
    counts = pd.Series({f"Theme {i:02d}": 100 - i for i in range(20)})
    shown = top_categories(counts, "{n} others")
    assert len(shown) == MAX_BARS
    assert shown.index[-1] == f"{20 - MAX_BARS + 1} others"
    assert shown.sum() == counts.sum()


# --------------------------------------------------------------------------------------- time series
def _daily(start: str, values: np.ndarray) -> pd.Series:
    return pd.Series(values, index=pd.date_range(start, periods=len(values), freq="B"))


def test_price_yield_empty_says_so(qtbot) -> None:  # type: ignore[no-untyped-def]
    widget = PriceYieldWidget()
    qtbot.addWidget(widget)
    widget.set_series("XYZ", pd.Series(dtype=float), _daily("2024-01-01", np.full(10, 4.0)))
    assert widget.message() == "No price history for XYZ in this snapshot."


def test_price_yield_plots_and_reads_crosshair(qtbot) -> None:  # type: ignore[no-untyped-def]
    widget = PriceYieldWidget()
    qtbot.addWidget(widget)
    widget.resize(700, 350)
    widget.show()
    prices = _daily("2023-01-02", np.linspace(10.0, 20.0, 300))
    prices.iloc[5] = np.nan  # a missing bar is skipped, not drawn as zero
    rates = _daily("2020-01-01", np.linspace(1.0, 5.0, 1500))
    widget.set_series("ALDR", prices, rates)
    assert widget.message() is None
    assert _footnote(widget) == ""
    assert widget.key_text() == "ALDR price · 10-year yield (right)"
    day = prices.index[100]
    widget.show_crosshair(pd.Timestamp(day).timestamp())
    text = widget.readout()
    assert text.startswith(day.date().isoformat())
    assert f"${prices.iloc[100]:,.2f}" in text and "10-year yield" in text


def test_price_yield_crosshair_follows_the_mouse(qtbot) -> None:  # type: ignore[no-untyped-def]
    widget = PriceYieldWidget()
    qtbot.addWidget(widget)
    widget.resize(700, 350)
    widget.show()
    qtbot.waitExposed(widget)
    prices = _daily("2023-01-02", np.linspace(10.0, 20.0, 300))
    widget.set_series("ALDR", prices, pd.Series(dtype=float))
    day = prices.index[150]
    scene_pos = widget._plot.vb.mapViewToScene(QPointF(pd.Timestamp(day).timestamp(), 15.0))
    widget._plot.scene().sigMouseMoved.emit(scene_pos)  # rate-limited through a SignalProxy
    qtbot.waitUntil(lambda: widget.readout().startswith(day.date().isoformat()), timeout=2000)
    assert widget._cursor.isVisible()


def test_price_yield_without_yield_notes_it(qtbot) -> None:  # type: ignore[no-untyped-def]
    widget = PriceYieldWidget()
    qtbot.addWidget(widget)
    widget.set_series("ALDR", _daily("2023-01-02", np.linspace(10.0, 20.0, 50)), pd.Series(dtype=float))
    assert widget.message() is None
    assert "No 10-year yield" in _footnote(widget)


def test_price_yield_accepts_tz_aware_bars(qtbot) -> None:  # type: ignore[no-untyped-def]
    widget = PriceYieldWidget()
    qtbot.addWidget(widget)
    index = pd.date_range("2024-01-02", periods=60, freq="B", tz="America/New_York")
    prices = pd.Series(np.linspace(30.0, 33.0, 60), index=index)
    rates = _daily("2023-06-01", np.full(300, 4.2))
    widget.set_series("ALDR", prices, rates)
    assert widget.message() is None
    assert widget.key_text() == "ALDR price · 10-year yield (right)"
    widget.show_crosshair(pd.Timestamp("2024-01-03").timestamp())
    assert widget.readout().startswith("2024-01-03") and "$30.05" in widget.readout()


def test_market_context_rebases_to_100(qtbot) -> None:  # type: ignore[no-untyped-def]
    widget = MarketContextWidget()
    qtbot.addWidget(widget)
    n = 2000
    market = pd.DataFrame(
        {
            "IWM": np.linspace(100.0, 200.0, n),
            "SPY": np.linspace(300.0, 450.0, n),
            "yield_10y": np.linspace(1.0, 4.5, n),
        },
        index=pd.date_range("2017-01-02", periods=n, freq="B", name="date"),
    )
    market.iloc[:300, market.columns.get_loc("SPY")] = np.nan  # SPY starts later: common start
    widget.set_market(market)
    assert widget.message() is None
    assert widget.key_text() == "Russell 2000 (IWM) · S&P 500 (SPY) · 10-year yield (right)"
    widget.set_range(None)
    firsts = [line.v[0] for line in widget._lines if line.unit == ""]
    assert firsts == [pytest.approx(100.0), pytest.approx(100.0)]
    start = market.index[300].date().isoformat()
    assert f"Rebased to 100 on {start}" in _footnote(widget)
    widget.set_range(1)
    first_days = [line.t[0] for line in widget._lines]
    assert min(first_days) >= (market.index[-1] - pd.DateOffset(years=1)).timestamp() - 1


def test_market_context_empty_and_partial(qtbot) -> None:  # type: ignore[no-untyped-def]
    widget = MarketContextWidget()
    qtbot.addWidget(widget)
    widget.set_market(pd.DataFrame(index=pd.DatetimeIndex([], name="date")))
    assert "No market series in this snapshot" in (widget.message() or "")
    only_yield = pd.DataFrame({"yield_10y": [4.0, 4.1]}, index=pd.date_range("2025-01-01", periods=2))
    widget.set_market(only_yield)
    assert widget.message() is None
    assert "Add IWM and SPY" in _footnote(widget)


def _yf_close(path: Path) -> pd.Series:
    frame = pd.read_csv(path, parse_dates=["Date"], index_col="Date")
    return frame["Close"]


def test_price_yield_with_real_files(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    prices = pd.read_csv(shared_file("prices", "smallcaps_daily", "EPAC.csv"), parse_dates=["Date"],
                         index_col="Date")["Adj Close"]
    tnx = _yf_close(shared_file("prices", "TNX_daily_yfinance.csv"))
    widget = PriceYieldWidget()
    qtbot.addWidget(widget)
    widget.resize(900, 420)
    widget.show()
    widget.set_series("EPAC", prices, tnx)
    assert widget.message() is None
    assert widget.grab().save(str(tmp_path / "price_yield.png"))


def test_market_context_falls_back_to_gspc_with_real_files(qtbot) -> None:  # type: ignore[no-untyped-def]
    gspc = pd.read_csv(shared_file("prices", "GSPC_daily_close_volume.csv"), parse_dates=["Date"],
                       index_col="Date")["Close"]
    market = pd.DataFrame({"IWM": _yf_close(shared_file("prices", "IWM_daily_yfinance.csv")), "GSPC": gspc})
    widget = MarketContextWidget()
    qtbot.addWidget(widget)
    widget.set_market(market)
    assert widget.message() is None
    assert widget.key_text() == "Russell 2000 (IWM) · S&P 500 index"


def test_market_context_with_real_files(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    market = pd.DataFrame(
        {
            "IWM": _yf_close(shared_file("prices", "IWM_daily_yfinance.csv")),
            "SPY": _yf_close(shared_file("prices", "SPY_daily_yfinance.csv")),
            "yield_10y": _yf_close(shared_file("prices", "TNX_daily_yfinance.csv")),
        }
    )
    widget = MarketContextWidget()
    qtbot.addWidget(widget)
    widget.resize(900, 420)
    widget.show()
    widget.set_market(market)
    assert widget.message() is None
    assert len(widget._lines) == 3
    widget.set_range(None)
    assert widget.grab().save(str(tmp_path / "market.png"))


# ----------------------------------------------------------------------------------------- rendering
def test_every_widget_renders_to_png(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    scatter = ScatterChartWidget()
    scatter.set_data(_values(), "market_cap", "free_cash_flow", passed=pd.Index(["CDAR"]))
    histogram = HistogramWidget()
    histogram.set_field(_caps(), catalog.get("market_cap"), 3e8, None)
    breakdown = BreakdownWidget()
    breakdown.set_counts(pd.Series({"Technology": 3}), pd.Series({"AI": 2}))
    for i, widget in enumerate((scatter, histogram, breakdown, PriceYieldWidget(), MarketContextWidget())):
        qtbot.addWidget(widget)
        widget.resize(640, 360)
        widget.show()
        path = tmp_path / f"chart{i}.png"
        assert widget.grab().save(str(path))
        assert path.stat().st_size > 1000


# -------------------------------------------------------------------------------------- tick labels
@pytest.mark.parametrize(
    ("values", "spacing", "unit", "log", "expected"),
    [
        ([7.0, 8.0, 9.0], 1.0, "usd", True, ["$10M", "$100M", "$1B"]),
        ([7.0, 7.30103, 7.69897, 8.0], None, "usd", True, ["$10M", "$20M", "$50M", "$100M"]),
        ([-2e7, 0.0, 2e7], 2e7, "usd", False, ["-$20M", "$0", "$20M"]),
        ([0.1, 0.15, 0.2], 0.05, "fraction", False, ["10%", "15%", "20%"]),
        ([1.0, 1.05], 0.05, "usd_share", False, ["$1.00", "$1.05"]),
        ([2.0, 4.0], None, "ratio", False, ["2x", "4x"]),
        ([3.5, 4.0], 0.5, "percent", False, ["3.5%", "4.0%"]),
    ],
)
def test_tick_strings(values: list[float], spacing: float | None, unit: str, log: bool,
                      expected: list[str]) -> None:
    assert tick_strings(values, spacing, unit, log) == expected


def test_count_axes_tick_whole_numbers_only(qtbot: object) -> None:
    # Issue #17: "12.5 stocks" is not a count; small ranges keep whole-number ticks.
    from desktop.ui.charts._axes import CountAxisItem

    axis = CountAxisItem("left")
    for lo, hi in ((0.0, 3.0), (0.0, 1.4), (0.0, 130.0), (2.2, 2.8)):
        ticks = [v for _spacing, values in axis.tickValues(lo, hi, 200) for v in values]
        assert all(float(v).is_integer() for v in ticks), (lo, hi, ticks)
    assert axis.tickValues(0.0, 1.4, 200) and axis.tickStrings([1000.0, 2.0], 1.0, 1.0) == ["1,000", "2"]

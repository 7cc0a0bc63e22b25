"""SEC companyfacts parsing (issue #14) on TRIMMED real SEC bodies (tests/data_files/sec) and, when
present, the full bodies in ../shared/data/sec; edge cases on small invented bodies."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd
import pytest

from desktop.data import sec_facts
from desktop.engine.dataset import HISTORY_COLUMNS
from desktop.errors import InputError

FIXTURES = Path(__file__).resolve().parents[1] / "data_files" / "sec"
SHARED = Path(__file__).resolve().parents[3] / "shared" / "data" / "sec"


def _fixture(short: str) -> Path:
    return next(FIXTURES.glob(f"CIK*_{short}_trimmed_sec_body.json"))


@pytest.fixture(scope="module")
def parsed() -> dict[str, sec_facts.CompanyFacts]:
    return {short: sec_facts.parse_companyfacts(_fixture(short).read_bytes(), _fixture(short).name)
            for short in ("marvell", "apple", "nvidia", "alphabet", "lpa_ifrs")}


def _rows(company: sec_facts.CompanyFacts, period_type: str, end: str) -> list[dict]:
    return sorted((r for r in company.rows if r["period_type"] == period_type and r["period_end"] == end),
                  key=lambda r: r["filed"])


def _latest(company: sec_facts.CompanyFacts, period_type: str, end: str) -> dict:
    return _rows(company, period_type, end)[-1]


def _how(company: sec_facts.CompanyFacts, row: dict, line: str) -> str | None:
    return company.concepts[(row["period_type"], row["period_end"], row["filed"])].get(line)


# ---- tag migrations resolve to the recent tag ---------------------------------------------------

def test_nvidia_capex_resolves_to_productive_assets(parsed):
    nvda = parsed["nvidia"]
    row = _latest(nvda, "FY", "2026-01-25")
    # us-gaap:PaymentsToAcquireProductiveAssets 2025-01-27..2026-01-25 = 6,042,000,000 (10-K 2026-02-25),
    # stored negative; the old PaymentsToAcquirePropertyPlantAndEquipment ends in 2020.
    assert row["capital_expenditure"] == -6_042_000_000
    assert _how(nvda, row, "capital_expenditure") == "us-gaap:PaymentsToAcquireProductiveAssets"
    assert row["free_cash_flow"] == row["operating_cash_flow"] + row["capital_expenditure"]


@pytest.mark.parametrize(("short", "end", "value"), [
    ("nvidia", "2026-01-25", 259_000_000),
    ("alphabet", "2025-12-31", 736_000_000),
    ("marvell", "2026-01-31", 202_600_000),
])
def test_interest_expense_resolves_to_nonoperating(parsed, short, end, value):
    company = parsed[short]
    row = _latest(company, "FY", end)
    assert row["interest_expense"] == value
    assert _how(company, row, "interest_expense") == "us-gaap:InterestExpenseNonoperating"


def test_alphabet_restated_year_moves_to_the_new_tag(parsed):
    # FY2023 interest: InterestExpense 308,000,000 as first filed (10-K 2024-01-31); the same figure
    # reappears as InterestExpenseNonoperating in later 10-Ks: the latest row names the new tag.
    goog = parsed["alphabet"]
    first, *_rest, latest = _rows(goog, "FY", "2023-12-31")
    assert _how(goog, first, "interest_expense") == "us-gaap:InterestExpense"
    assert _how(goog, latest, "interest_expense") == "us-gaap:InterestExpenseNonoperating"
    assert first["interest_expense"] == latest["interest_expense"] == 308_000_000


def test_marvell_da_from_other_depreciation_and_amortization(parsed):
    mrvl = parsed["marvell"]
    row = _latest(mrvl, "FY", "2026-01-31")
    assert row["depreciation_amortization"] == 348_600_000
    assert _how(mrvl, row, "depreciation_amortization") == "us-gaap:OtherDepreciationAndAmortization"
    # While Marvell still reported DepreciationAndAmortization, that synonym wins over the fallback.
    assert _how(mrvl, _latest(mrvl, "FY", "2022-01-29"), "depreciation_amortization") == \
        "us-gaap:DepreciationAndAmortization"


# ---- a concept a company stopped reporting is not carried forward --------------------------------

def test_apple_interest_expense_stays_missing_after_fy2023(parsed):
    aapl = parsed["apple"]
    assert _latest(aapl, "FY", "2023-09-30")["interest_expense"] == 3_933_000_000
    later = [r for r in aapl.rows if r["period_end"] > "2023-09-30"]
    assert later, "Apple has FY2024, FY2025 and TTM rows"
    assert all("interest_expense" not in r for r in later)
    frame = sec_facts.history_rows([("AAPL", aapl)])
    fy = frame[(frame["period_type"] == "FY") & (frame["fiscal_year"] >= 2024)]
    assert set(fy["fiscal_year"]) == {2024, 2025}
    assert fy["interest_expense"].isna().all()
    assert fy["operating_income"].notna().all()


# ---- TTM and Q4 by hand --------------------------------------------------------------------------

def test_marvell_ttm_by_hand(parsed):
    row = _rows(parsed["marvell"], "TTM", "2026-05-02")[0]
    assert row["filed"] == "2026-05-28" and row["form"] == "10-Q"
    # revenue: FY2026 (2025-02-02..2026-01-31) 8,194,600,000 + YTD 2026-02-01..2026-05-02 2,417,800,000
    #          - prior YTD 2025-02-02..2025-05-03 1,895,300,000 = 8,717,100,000
    assert row["revenue"] == 8_194_600_000 + 2_417_800_000 - 1_895_300_000 == 8_717_100_000
    # capex: -(354,100,000 + 155,700,000 - 118,800,000) = -391,000,000
    assert row["capital_expenditure"] == -391_000_000


def test_apple_ttm_by_hand(parsed):
    row = _rows(parsed["apple"], "TTM", "2025-12-27")[0]
    assert row["filed"] == "2026-01-30"
    # revenue: FY2025 416,161,000,000 + Q1 FY2026 (2025-09-28..2025-12-27) 143,756,000,000
    #          - Q1 FY2025 (2024-09-29..2024-12-28) 124,300,000,000 = 435,617,000,000
    assert row["revenue"] == 435_617_000_000
    # capex: -(12,715,000,000 + 2,373,000,000 - 2,940,000,000) = -12,148,000,000
    assert row["capital_expenditure"] == -12_148_000_000
    # the balance sheet of a TTM row is the quarter end's
    assert "total_assets" in row


def test_q4_is_fy_minus_nine_months(parsed):
    aapl = sec_facts.quarters(parsed["apple"], "revenue")
    q = aapl[aapl["fiscal_year"] == 2025].set_index("quarter")
    # FY2025 416,161,000,000 - 9-month YTD (2024-09-29..2025-06-28) 313,695,000,000 = 102,466,000,000
    assert q.loc[4, "value"] == 102_466_000_000
    assert q.loc[1, "value"] == 124_300_000_000  # Q1 is its own YTD
    assert q["value"].sum() == 416_161_000_000
    mrvl = sec_facts.quarters(parsed["marvell"], "capital_expenditure")
    q = mrvl[mrvl["fiscal_year"] == 2026].set_index("quarter")
    # -(FY2026 354,100,000 - 9-month YTD 2025-02-02..2025-11-01 239,800,000) = -114,300,000
    assert q.loc[4, "value"] == -114_300_000
    with pytest.raises(ValueError, match="not a duration line"):
        sec_facts.quarters(parsed["apple"], "cash")


# ---- point in time: a restated fact keeps both values --------------------------------------------

def test_restated_fact_keeps_both_values_with_filing_dates(parsed):
    first, latest = _rows(parsed["marvell"], "FY", "2022-01-29")
    # InterestExpense FY2022: 139,341,000 in the 10-K filed 2022-03-10, 139,300,000 in the 10-K filed
    # 2023-03-09 (and 2024-03-13): the restated row is dated when its figure first appeared.
    assert (first["filed"], first["form"], first["interest_expense"]) == ("2022-03-10", "10-K", 139_341_000)
    assert (latest["filed"], latest["form"], latest["interest_expense"]) == ("2023-03-09", "10-K", 139_300_000)
    assert (first["revenue"], latest["revenue"]) == (4_462_383_000, 4_462_400_000)


def test_unchanged_period_has_one_row(parsed):
    assert len(_rows(parsed["nvidia"], "FY", "2026-01-25")) == 1


def test_first_filed_row_uses_only_what_was_public(parsed):
    # NVIDIA's FY2023 capex appears (as ProductiveAssets) only in the 10-K filed 2024-02-21: the row
    # as first filed (2023-02-24) has no capex; the restated row has it.
    first, latest = _rows(parsed["nvidia"], "FY", "2023-01-29")
    assert first["filed"] == "2023-02-24" and "capital_expenditure" not in first
    assert latest["capital_expenditure"] == -1_833_000_000


# ---- debt without double counting ----------------------------------------------------------------

def test_apple_debt_is_not_double_counted(parsed):
    row = _latest(parsed["apple"], "FY", "2025-09-27")
    # LongTermDebtNoncurrent 78,328M + LongTermDebtCurrent 12,350M + CommercialPaper 7,979M;
    # LongTermDebt 90,678M already holds the current 12,350M, so it is never added to it.
    assert row["long_term_debt"] == 78_328_000_000
    assert row["current_debt"] == 12_350_000_000 + 7_979_000_000
    assert row["total_debt"] == 98_657_000_000 == 90_678_000_000 + 7_979_000_000


@pytest.mark.parametrize(("components", "expected"), [
    ({"long_term_total": 100.0, "current_long_term": 10.0}, {"long_term_debt": 90.0, "current_debt": 10.0,
                                                             "total_debt": 100.0}),
    ({"noncurrent": 90.0, "current_long_term": 10.0, "short_term": 5.0},
     {"long_term_debt": 90.0, "current_debt": 15.0, "total_debt": 105.0}),
    ({"noncurrent": 90.0, "debt_current": 25.0, "current_long_term": 10.0, "short_term": 5.0},
     {"long_term_debt": 90.0, "current_debt": 25.0, "total_debt": 115.0}),
    ({"long_term_total": 100.0, "noncurrent": 70.0}, {"long_term_debt": 70.0, "current_debt": 30.0,
                                                      "total_debt": 100.0}),
    ({"total": 300.0, "noncurrent": 70.0}, {"long_term_debt": 70.0, "total_debt": 300.0}),
    ({}, {}),
])
def test_debt_rule(components, expected):
    full = dict.fromkeys(("total", "long_term_total", "noncurrent", "current_long_term", "short_term",
                          "debt_current"))
    full.update(components)
    src = {k: f"us-gaap:{k}" for k in components}
    assert sec_facts._assemble_debt(full, {}, src) == expected


# ---- shapes: IFRS, CIK as a string, the frame ----------------------------------------------------

def test_ifrs_filer(parsed):
    lpa = parsed["lpa_ifrs"]
    assert lpa.cik == "0001997711"
    row = _latest(lpa, "FY", "2024-12-31")
    assert row["form"] == "20-F"
    assert row["revenue"] > 0 and row["total_debt"] > 0 and row["capital_expenditure"] < 0
    assert _how(lpa, row, "total_debt") == "ifrs-full:Borrowings"


def test_history_frame_has_the_contract_columns(parsed):
    frame = sec_facts.history_rows([("MRVL", parsed["marvell"]), ("AAPL", parsed["apple"])])
    assert list(frame.columns) == list(HISTORY_COLUMNS)
    assert set(frame["source"]) == {"sec"}
    assert set(frame["period_type"]) == {"FY", "TTM"}
    assert frame["filed"].dtype == "datetime64[ns]" and frame["filed"].notna().all()
    assert not frame.duplicated(["symbol", "source", "period_type", "period_end", "filed"]).any()
    # fiscal_year comes from the period: Marvell's year ending 2026-01-31 is fiscal 2026
    mrvl = frame[(frame["symbol"] == "MRVL") & (frame["period_end"] == pd.Timestamp("2026-01-31"))]
    assert set(mrvl["fiscal_year"]) == {2026}


def test_fiscal_year_label():
    assert sec_facts.fiscal_year_label("2025-09-27") == 2025
    assert sec_facts.fiscal_year_label("2024-01-02") == 2023  # a 52/53-week year ending in early January
    assert sec_facts.fiscal_year_label("2026-01-31") == 2026


def test_source_data_master_fields(parsed):
    sub = sec_facts.parse_submissions(next(FIXTURES.glob("submissions_*_marvell_*")).read_bytes())
    src = sec_facts.source_data([("MRVL", parsed["marvell"]), ("GOOGL", parsed["alphabet"])], origin="test",
                                as_of=None, submissions={sub.cik: sub})
    obs = src.observations.set_index(["symbol", "field"])
    assert obs.loc[("MRVL", "cik"), "value_text"] == "0001835632"
    assert obs.loc[("MRVL", "sic"), "value_text"] == sub.sic
    assert obs.loc[("MRVL", "name"), "value_text"] == sub.name
    shares = obs.loc[("MRVL", "shares_outstanding")]
    assert shares["value_num"] == 874_800_000 and shares["as_of"] == pd.Timestamp("2026-05-21")
    assert shares["period"] == "point"
    assert ("GOOGL", "shares_outstanding") not in obs.index  # Alphabet reports classes separately
    assert ("GOOGL", "sic") not in obs.index  # no submissions given for it
    assert obs.loc[("GOOGL", "name"), "value_text"] == "ALPHABET INC."


# ---- submissions and tickers ---------------------------------------------------------------------

def test_submissions_wolfspeed():
    sub = sec_facts.parse_submissions(next(FIXTURES.glob("submissions_*_wolfspeed_*")).read_bytes())
    assert (sub.cik, sub.sic, sub.sic_description, sub.fiscal_year_end) == \
        ("0000895419", "3674", "Semiconductors & Related Devices", "0629")
    assert "WOLF" in sub.tickers
    assert sub.former_names and all(sub.former_names)
    assert sub.latest_filing is not None and sub.latest_financial_filing is not None
    assert sub.latest_financial_filing <= sub.latest_filing


def test_company_tickers_both_shapes():
    plain = sec_facts.parse_company_tickers((FIXTURES / "company_tickers_trimmed_sec_body.json").read_bytes())
    assert plain["AAPL"] == "0000320193" and plain["MRVL"] == "0001835632"
    exchange = {"fields": ["cik", "name", "ticker", "exchange"],
                "data": [[320193, "Apple Inc.", "AAPL", "Nasdaq"], [1835632, "Marvell", "mrvl", "Nasdaq"]]}
    assert sec_facts.parse_company_tickers(exchange) == {"AAPL": "0000320193", "MRVL": "0001835632"}
    with pytest.raises(InputError, match="not a CIK"):
        sec_facts.parse_company_tickers({"0": {"cik_str": "abc", "ticker": "X", "title": "X"}}, "t.json")
    with pytest.raises(InputError, match="t.json"):
        sec_facts.parse_company_tickers(b"[1, 2]", "t.json")


# ---- hostile and odd bodies (invented values) ----------------------------------------------------

def _body(**facts: list[dict]) -> dict:
    return {"cik": 1234, "entityName": "Invented Co",
            "facts": {"us-gaap": {name: {"units": {"USD": fs}} for name, fs in facts.items()}}}


def _fy(start: str, end: str, val: float, filed: str, form: str = "10-K") -> dict:
    return {"start": start, "end": end, "val": val, "accn": "0000001234-24-000001", "fy": 2024, "fp": "FY",
            "form": form, "filed": filed}


def test_invented_body_and_malformed_facts_are_counted():
    body = _body(Revenues=[_fy("2023-01-01", "2023-12-31", 100.0, "2024-02-01"),
                           {"end": "2023-12-31", "val": "lots", "filed": "2024-02-01"},
                           {"start": "2023-01-01", "end": "not a date", "val": 1, "filed": "2024-02-01"}],
                 OperatingIncomeLoss=[_fy("2023-01-01", "2023-12-31", 10.0, "2024-02-01")])
    company = sec_facts.parse_companyfacts(json.dumps(body).encode(), "invented.json")
    assert company.cik == "0000001234"
    assert [(r["period_type"], r["revenue"], r["operating_income"]) for r in company.rows] == [("FY", 100.0, 10.0)]
    assert any("2 malformed fact(s)" in w for w in company.warnings)


def test_non_usd_filer_is_told():
    body = {"cik": "0000009999", "entityName": "Euro Co",
            "facts": {"ifrs-full": {"Revenue": {"units": {"EUR": [_fy("2023-01-01", "2023-12-31", 5.0, "2024-04-01")]}}}}}
    company = sec_facts.parse_companyfacts(body, "euro.json")
    assert company.rows == []
    assert any("EUR" in w and "USD only" in w for w in company.warnings)


@pytest.mark.parametrize(("body", "message"), [
    (b"<html><body>Request Rate Threshold Exceeded</body></html>", "not a JSON document"),
    (b'{"cik": 1, "entityName": "x", "facts": {"us-gaap": {"Revenues": {"units": {"USD": [', "truncated"),
    (b'{"cik": 1, "entityName": "x"}', "no 'facts' object"),
    (b'[1, 2, 3]', "no 'facts' object"),
    (b'{"cik": "abc", "facts": {}}', "is not a CIK"),
    (b'\xff\xfe{', "not UTF-8"),
])
def test_bad_bodies_raise_input_error_naming_the_origin(body, message):
    with pytest.raises(InputError, match=message) as info:
        sec_facts.parse_companyfacts(body, "CIK0000000001.json")
    assert "CIK0000000001.json" in str(info.value)


def test_filtered_decoding_equals_the_standard_decoder_on_kept_concepts():
    text = _fixture("apple").read_text(encoding="utf-8")
    full = json.loads(text)
    wanted = sec_facts._wanted()
    kept = sec_facts._filtered(text, wanted)
    expected = {t: {c: v for c, v in g.items() if (t, c) in wanted} for t, g in full["facts"].items()}
    assert kept["facts"] == expected
    assert kept["cik"] == full["cik"]


@pytest.mark.parametrize(("toml", "message"), [
    ('[lines.revenue]\nkind = "period"\nus-gaap = ["Revenues"]', "kind must be"),
    ('[lines.revenue]\nkind = "duration"\nsign = 2\nus-gaap = ["Revenues"]', "sign must be"),
    ('[lines.price]\nkind = "duration"\nus-gaap = ["X"]', "not a statement line"),
    ('[lines.revenue]\nkind = "duration"\nfallback = ["gaap:X"]\nus-gaap = ["Revenues"]', "is not 'us-gaap:Concept'"),
    ('[lines.revenue\nkind = 1', "not valid TOML"),
    ('[lines.revenue]\nkind = "duration"\nus-gaap = ["Revenues"]', "debt components"),
])
def test_concept_table_validation(toml, message):
    with pytest.raises(InputError, match=message):
        sec_facts.parse_concept_table(toml, "sec_concepts.toml")


def test_shipped_concept_table_loads_through_the_resource_resolver():
    table = sec_facts.concept_table()
    names = {c.name for c in table.lines}
    assert {"revenue", "interest_expense", "capital_expenditure", "depreciation_amortization"} <= names
    capex = next(c for c in table.lines if c.name == "capital_expenditure")
    assert capex.sign == -1


# ---- the full real bodies, when the shared data is here ------------------------------------------

@pytest.mark.skipif(not (SHARED / "companyfacts").is_dir(), reason="../shared/data/sec is not available")
@pytest.mark.parametrize("name", ["CIK0001835632.json", "CIK0000320193.json", "CIK0001045810.json",
                                  "CIK0001652044.json", "fixture_SNOW_pretty.json", "fixture_LPA_ifrs.json"])
def test_full_real_bodies(name):
    company = sec_facts.parse_companyfacts((SHARED / "companyfacts" / name).read_bytes(), name)
    frame = sec_facts.history_rows([("X", company)])
    assert len(frame) > 5
    fy = frame[frame["period_type"] == "FY"]
    assert fy["revenue"].notna().any()
    assert (frame["capital_expenditure"].dropna() <= 0).all()
    assert not frame.duplicated(["period_type", "period_end", "filed"]).any()
    # the newest fiscal year is a recent one, not an old tag's last year
    assert fy["period_end"].max() >= pd.Timestamp("2024-12-31")
    if name == "CIK0000320193.json":
        assert math.isnan(fy.loc[fy["fiscal_year"] == 2025, "interest_expense"].iloc[-1])

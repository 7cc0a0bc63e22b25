"""The real universe in ../shared/data read through the committed readers (tests skip when absent).

Shared by the real-data engine tests so that both build exactly the same dataset. Nothing from those
files is copied into the repository.
"""

from __future__ import annotations

from desktop.data.source import SourceData
from tests.conftest import shared_file


def real_sources(with_fred: bool = False) -> list[SourceData]:
    """Every real file an import of the whole universe reads, in import order."""
    from desktop.data import finviz, fred, ishares, prices, simfin, yahoo

    f = shared_file
    sources = [
        ishares.read_ishares(f("universe", "IWM_holdings_2026-05-05.csv")),
        simfin.read_simfin([f("statements", "simfin_us-income-annual_2026-04-09.csv"),
                            f("statements", "simfin_us-balance-annual_2026-04-09.csv"),
                            f("statements", "simfin_us-cashflow-annual_2025-09-18.csv"),
                            f("profiles", "simfin_us-companies_2026-04-09.csv"),
                            f("profiles", "simfin_industries_2026-04-09.csv")]),
        finviz.read_finviz(f("fundamentals", "finviz_export_2025-08-21.csv")),
        yahoo.read_yahoo_json(f("fundamentals", "yahoo_financialData_2024-07-06.json")),
        yahoo.read_yahoo_json(f("fundamentals", "yahoo_sector_industry_2024-07-06.json")),
        prices.read_prices([f("prices", "R2000_members_close_daily_wide_2020-07_to_2025-04.csv"),
                            f("prices", "IWM_daily_yfinance.csv"), f("prices", "TNX_daily_yfinance.csv")]),
    ]
    if with_fred:
        sources.append(fred.read_fred(f("prices", "DGS10_fred_raw_2026-01-02_to_2026-09-10.csv")))
    return sources

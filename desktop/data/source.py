"""What every reader and downloader hands over: one source's parsed content, with provenance.

Readers (``read_*``) turn a file or a response body into a :class:`SourceData`;
``desktop.data.canonical.merge`` resolves several of them (plus the previous snapshot) into a
:class:`desktop.engine.dataset.Dataset`. Nothing here touches the store.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

import pandas as pd


@dataclass
class SkippedRow:
    line: int  # 1-based physical line in the file (0 when not file-based)
    ticker: str
    reason: str  # "cash", "futures", "cvr", "private placement", "escrow", "unlisted", ...
    origin: str = ""  # the file it is in, where one source reads several (SimFin); else the source's


@dataclass
class SourceData:
    """One source's contribution.

    Attributes:
        source: "ishares" | "yahoo" | "finviz" | "simfin" | "fred" | "prices".
        origin: the file path or endpoint URL it came from.
        as_of: the date the data describes; None when unknown (the importer then asks/warns).
        fetched_at: when it was read or downloaded (naive UTC).
        observations: long frame with columns symbol, field, value_num, value_text, period,
            derived, as_of (per-row date where it differs from ``as_of``; may be NaT).
        members: for the universe source only: index ``symbol`` with columns ticker, name,
            index_sector, index_weight, exchange, price (the tradable constituents).
        history: fiscal-year rows, columns ``dataset.HISTORY_COLUMNS`` (without needing all).
        prices: wide daily closes (DatetimeIndex ``date``), one column per symbol.
        market: benchmark closes / 10-year yield (columns among ``dataset.MARKET_COLUMNS``).
        volumes: daily volumes (shares) in the layout of ``prices``, where the input has them.
        skipped: rows not imported, each with its reason.
        warnings: things the user should know (e.g. "no as-of date in the file, used --as-of").
        rows_read: data rows read from the input.
        files: each input file with the date its own data describes, for sources that read several
            (SimFin, prices; set by the reader, before an import applies --as-of); empty for the others,
            whose one file ``origin`` is dated ``as_of``.
    """

    source: str
    origin: str
    as_of: date | None
    fetched_at: datetime
    observations: pd.DataFrame | None = None
    members: pd.DataFrame | None = None
    history: pd.DataFrame | None = None
    prices: pd.DataFrame | None = None
    market: pd.DataFrame | None = None
    volumes: pd.DataFrame | None = None
    skipped: list[SkippedRow] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    rows_read: int = 0
    files: tuple[tuple[str, date | None], ...] = ()

    @property
    def file_dates(self) -> tuple[tuple[str, date | None], ...]:
        """Each file read with the date its data describes (the import summary lists them)."""
        return self.files or ((self.origin, self.as_of),)

"""Entry script of the frozen bundle (``installer/pickaxe.spec``).

It starts the desktop app exactly as ``pickaxe`` does. One extra, bundle-only option,
``--frozen-self-check``, imports every module of the ``desktop`` package and exercises the
third-party libraries the app loads lazily (yfinance and its curl_cffi transport, SQLAlchemy's
SQLite dialect, openpyxl, pyqtgraph). PyInstaller only sees static imports, so a lazily imported
module missing from the bundle would otherwise surface only when a user clicks Refresh; the smoke
test (``tests/installer/test_frozen.py``) runs this check after every build.
"""

from __future__ import annotations

import importlib
import io
import multiprocessing
import os
import pkgutil
import sys
import traceback


def _self_check() -> int:
    """Import and poke every lazily loaded dependency; print one line each; 0 when all load."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # a check needs no display
    failures: list[str] = []

    def check(label: str, action: object) -> None:
        try:
            detail = action() if callable(action) else action
        except Exception as exc:  # noqa: BLE001 - report every failure, then fail once
            failures.append(label)
            where = traceback.extract_tb(exc.__traceback__)[-1]
            print(f"FAIL {label}: {type(exc).__name__}: {exc} ({where.filename}:{where.lineno})")
        else:
            print(f"ok   {label}{': ' + str(detail) if detail else ''}")

    import desktop

    for info in pkgutil.walk_packages(desktop.__path__, "desktop."):
        # Importing __main__ starts the app; alembic runs the migration scripts itself (below).
        if info.name == "desktop.__main__" or ".migrations." in info.name:
            continue
        check(info.name, lambda name=info.name: importlib.import_module(name) and None)

    def yfinance_ticker() -> str:
        import yfinance

        yfinance.Ticker("TEST")  # builds the ticker and its session; no request is sent
        return yfinance.__version__

    def curl_session() -> str:
        import curl_cffi
        from curl_cffi import requests as curl_requests

        with curl_requests.Session(impersonate="chrome") as session:  # loads libcurl-impersonate
            url = os.environ.get("PICKAXE_SELF_CHECK_URL")
            if not url:
                return curl_cffi.__version__
            # The smoke test serves this on 127.0.0.1: proves a real request works in the bundle.
            response = session.get(url, timeout=10)
            response.raise_for_status()
            return f"{curl_cffi.__version__}, GET {url} -> {response.status_code}, {response.text.strip()!r}"

    def tls_certificates() -> str:
        import certifi

        # curl_cffi falls back to certifi's bundle for HTTPS; without it every Yahoo request fails.
        path = certifi.where()
        with open(path, encoding="ascii") as pem:
            count = pem.read().count("BEGIN CERTIFICATE")
        assert count > 50, f"{path} holds only {count} certificates"
        return f"{count} CA certificates"

    def sqlite_roundtrip() -> str:
        import sqlalchemy

        engine = sqlalchemy.create_engine("sqlite://")
        with engine.connect() as conn:
            value = conn.execute(sqlalchemy.text("select 41 + 1")).scalar_one()
        engine.dispose()
        assert value == 42, value
        return sqlalchemy.__version__

    def openpyxl_write() -> str:
        import openpyxl

        book = openpyxl.Workbook()
        book.active.append(["symbol", 1.5])
        book.save(io.BytesIO())
        return openpyxl.__version__

    def pyqtgraph_plot() -> str:
        import pyqtgraph
        from PySide6.QtWidgets import QApplication

        app = QApplication.instance() or QApplication([])
        widget = pyqtgraph.PlotWidget()
        widget.plot([1.0, 2.0, 3.0])
        widget.grab()  # renders: needs the platform and image plugins
        widget.deleteLater()
        app.processEvents()
        return pyqtgraph.__version__

    def pandas_excel() -> str:
        import pandas

        frame = pandas.DataFrame({"a": [1.0, None]})
        frame.to_excel(io.BytesIO(), engine="openpyxl")
        return pandas.__version__

    def store_migrations() -> str:
        import tempfile
        from pathlib import Path

        from desktop.store.db import head_revision, open_database

        # Alembic reads the migration scripts from disk: the spec's hook must have copied them.
        with tempfile.TemporaryDirectory() as folder:
            database = open_database(f"sqlite:///{Path(folder) / 'check.sqlite3'}")
            database.dispose()
        return f"schema {head_revision()}"

    checks = (
        ("store migrations", store_migrations), ("yfinance", yfinance_ticker), ("curl_cffi", curl_session),
        ("tls certificates", tls_certificates), ("sqlalchemy sqlite", sqlite_roundtrip),
        ("openpyxl", openpyxl_write), ("pyqtgraph", pyqtgraph_plot), ("pandas to_excel", pandas_excel),
    )
    for label, action in checks:
        check(label, action)
    print(f"self-check: {len(failures)} failure(s)")
    return 1 if failures else 0


def main() -> int:
    """Run the app, or the bundle self-check when asked."""
    multiprocessing.freeze_support()  # a frozen app must not re-run itself in worker processes
    if sys.argv[1:2] == ["--frozen-self-check"]:
        return _self_check()
    from desktop.app import main as app_main

    return app_main()


if __name__ == "__main__":
    sys.exit(main())

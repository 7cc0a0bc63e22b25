"""Shared checks of the installer smoke tests: a small store, a launch, a screenshot (issue #8)."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from tests.conftest import FIXTURES

# Anything that looks like a broken bundle or install: a missing module, a library that failed to
# load, or any uncaught exception.
IMPORT_PROBLEMS = ("ImportError", "ModuleNotFoundError", "Traceback", "cannot open shared object",
                   "No module named", "Could not load the Qt platform plugin")

FIXTURE_HOLDINGS = FIXTURES / "installer" / "fund_holdings_fixture.csv"
# Hand-made SimFin-format statements and profiles of the same five fictional companies.
FIXTURE_SIMFIN = sorted((FIXTURES / "installer").glob("simfin_*_fixture.csv"))


def make_smoke_store(folder: Path) -> Path:
    """A small SQLite store for a launch: imported from the hand-made fixtures (five fictional
    companies: holdings, three years of statements, profiles) when the import service exists,
    otherwise an empty (but migrated) database.

    Built with the test's own Python, so the bundle under test only has to read it.
    """
    db_path = folder / "smoke.sqlite3"
    if importlib.util.find_spec("desktop.store.db") is None:
        return db_path  # no store yet: the app creates the file itself
    from desktop.store.db import open_database

    database = open_database(f"sqlite:///{db_path}")
    try:
        if importlib.util.find_spec("desktop.services.importing") is not None:
            from desktop.services.importing import import_files

            import_files(database, "ishares", [FIXTURE_HOLDINGS])
            import_files(database, "simfin", FIXTURE_SIMFIN)
    finally:
        database.dispose()
    return db_path


@contextmanager
def local_server(body: bytes) -> Iterator[str]:
    """An HTTP server on 127.0.0.1 answering every GET with ``body``; yields its URL."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - keep test output quiet
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/check"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def launch(command: list[str], home: Path, timeout: float = 180,
           extra_env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``command`` headless from ``home`` (outside the repository), user dirs under ``home``."""
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("PICKAXE_", "PYTHON")) and key != "VIRTUAL_ENV"
           and not key.lower().endswith("_proxy")}  # the local server must be reached directly
    env.update(QT_QPA_PLATFORM="offscreen", PICKAXE_HOME=str(home / "pickaxe-home"), **(extra_env or {}))
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=env, cwd=home,
                          stdin=subprocess.DEVNULL)


def assert_clean_output(result: subprocess.CompletedProcess[str]) -> None:
    """Exit code 0 and no sign of a missing module or an uncaught exception."""
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"exit code {result.returncode}:\n{output[-4000:]}"
    problems = [word for word in IMPORT_PROBLEMS if word in output]
    assert not problems, f"{problems} in the output:\n{output[-4000:]}"


def assert_real_screenshot(png: Path) -> None:
    """A window-sized PNG that is not one flat colour (something was painted)."""
    assert png.is_file(), f"{png} was not written"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", f"{png} is not a PNG"
    assert png.stat().st_size > 1000, f"{png} is only {png.stat().st_size} bytes"
    from PySide6.QtGui import QImage

    image = QImage(str(png))
    assert not image.isNull(), f"Qt cannot read {png}"
    assert image.width() >= 640 and image.height() >= 400, (image.width(), image.height())
    step_x, step_y = max(1, image.width() // 40), max(1, image.height() // 40)
    colours = {image.pixel(x, y) for x in range(0, image.width(), step_x)
               for y in range(0, image.height(), step_y)}
    assert len(colours) > 1, "the screenshot is one flat colour: nothing was painted"

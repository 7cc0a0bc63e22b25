"""The SEC in the app (issue #14): the contact asked once before Download/Refresh, and the Import
dialog's "SEC company facts" running the bulk import on a worker."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QDialogButtonBox, QWidget

from desktop.ui.dialogs.import_dialog import ImportDialog, guess_kind
from desktop.ui.dialogs.sec_contact_dialog import SecContactDialog, with_sec_contact
from desktop.ui.main_window import MainWindow
from desktop.ui.settings import Settings, settings_file
from desktop.ui.workers import read_pool

SEC = Path(__file__).resolve().parents[1] / "data_files" / "sec"


@pytest.fixture
def no_contact(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PICKAXE_SEC_USER_AGENT", raising=False)


@pytest.fixture
def parent(qtbot: Any) -> QWidget:
    widget = QWidget()
    qtbot.addWidget(widget)
    return widget


def _open_dialogs(parent: Any) -> list[SecContactDialog]:
    return [d for d in parent.findChildren(SecContactDialog) if d.isVisible()]


def _ok(dialog: SecContactDialog) -> Any:
    return dialog.box.button(QDialogButtonBox.StandardButton.Ok)


def test_the_dialog_wants_a_name_and_an_e_mail(qtbot: Any) -> None:
    dialog = SecContactDialog()
    qtbot.addWidget(dialog)
    assert not _ok(dialog).isEnabled() and "name" in dialog.problem.text()
    dialog.name.setText("Jane Doe")
    assert not _ok(dialog).isEnabled() and "e-mail" in dialog.problem.text()
    dialog.email.setText("jane@example")
    assert not _ok(dialog).isEnabled()
    dialog.email.setText("jane@example.com")
    assert _ok(dialog).isEnabled() and dialog.problem.text() == ""
    assert dialog.user_agent() == "Jane Doe jane@example.com"


def test_the_contact_is_asked_once_and_kept_in_the_settings(parent: QWidget, no_contact: None) -> None:
    settings = Settings()
    started: list[str | None] = []
    with_sec_contact(parent, settings, started.append)
    [dialog] = _open_dialogs(parent)
    assert started == []  # nothing starts before the answer
    dialog.name.setText("Jane Doe")
    dialog.email.setText("jane@example.com")
    _ok(dialog).click()
    assert started == ["Jane Doe jane@example.com"]
    assert json.loads(settings_file().read_text())["sec/user_agent"] == "Jane Doe jane@example.com"
    with_sec_contact(parent, Settings(), started.append)  # a later start, a new window: no question
    assert started[-1] == "Jane Doe jane@example.com" and _open_dialogs(parent) == []


def test_going_without_the_sec_is_remembered_and_cancel_starts_nothing(parent: QWidget, no_contact: None) -> None:
    settings = Settings()
    started: list[str | None] = []
    with_sec_contact(parent, settings, started.append)
    _open_dialogs(parent)[0].box.button(QDialogButtonBox.StandardButton.Cancel).click()
    assert started == [] and settings.sec_user_agent is None  # asked again next time
    with_sec_contact(parent, settings, started.append)
    _open_dialogs(parent)[0].without.click()
    assert started == [None] and settings.sec_user_agent == ""
    with_sec_contact(parent, settings, started.append)
    assert started == [None, None] and _open_dialogs(parent) == []


def test_the_environment_variable_answers_without_asking(parent: QWidget, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PICKAXE_SEC_USER_AGENT", "Env Person env@example.com")
    started: list[str | None] = []
    with_sec_contact(parent, Settings(), started.append)
    assert started == ["Env Person env@example.com"]


def test_a_stored_contact_without_an_e_mail_is_a_damaged_setting(no_contact: None) -> None:
    settings_file().parent.mkdir(parents=True, exist_ok=True)
    settings_file().write_text(json.dumps({"sec/user_agent": "just a name"}))
    settings = Settings()
    assert settings.sec_user_agent is None
    assert any("sec/user_agent" in p and "no contact e-mail" in p for p in settings.problems)


def test_download_now_asks_for_the_contact_then_downloads_with_it(qtbot: Any, tmp_path: Path,
                                                                   no_contact: None) -> None:
    window = MainWindow(db_url=str(tmp_path / "fresh.sqlite3"))
    qtbot.addWidget(window)
    with qtbot.waitSignal(window.ready, timeout=20000):
        window.show()
    assert window.backend is not None
    seen: list[str | None] = []

    def fake_download(progress: Any, is_cancelled: Any) -> None:
        seen.append(window.backend.sec_user_agent if window.backend else "gone")

    window.backend.download_universe = fake_download  # type: ignore[method-assign]
    window.empty_state.download.click()
    [dialog] = _open_dialogs(window)
    dialog.name.setText("Jane Doe")
    dialog.email.setText("jane@example.com")
    with qtbot.waitSignal(window.refresh_slot.busy_changed, check_params_cb=lambda busy: not busy, timeout=20000):
        _ok(dialog).click()
    assert seen == ["Jane Doe jane@example.com"]
    assert window.progress_dialogs["refresh"].windowTitle() == "Downloading the Russell 2000"
    window.close()
    read_pool().waitForDone(5000)


def test_the_import_dialog_offers_sec_company_facts(qtbot: Any, tmp_path: Path) -> None:
    dialog = ImportDialog()
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.kind.findData("sec-companyfacts") >= 0
    assert not dialog.add_folder.isVisible()
    dialog.add_paths([tmp_path / "companyfacts.zip"])
    assert dialog.request()[0] == "sec-companyfacts"
    assert dialog.add_folder.isVisible() and dialog.sec_hint.isVisible()
    assert guess_kind(tmp_path) == "sec-companyfacts"  # a folder of CIK##########.json
    assert guess_kind(Path("company_tickers.json")) == "sec-companyfacts"
    assert guess_kind(Path("info.json")) == "yahoo-json"


def test_sec_company_facts_import_runs_on_a_worker_into_a_new_snapshot(qtbot: Any, tmp_path: Path) -> None:
    archive = tmp_path / "companyfacts.zip"
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for f in SEC.glob("CIK*_trimmed_sec_body.json"):
            zf.writestr(f"CIK{f.name[3:13]}.json", f.read_bytes())
    ticker_map = tmp_path / "company_tickers_trimmed.json"
    ticker_map.write_bytes((SEC / "company_tickers_trimmed_sec_body.json").read_bytes())
    window = MainWindow(db_url=str(tmp_path / "sec.sqlite3"))
    qtbot.addWidget(window)
    with qtbot.waitSignal(window.ready, timeout=20000):
        window.show()
    messages: list[str] = []
    real = window.backend.import_files  # type: ignore[union-attr]

    def recording(kind: str, files: Any, as_of: Any, progress: Any, is_cancelled: Any) -> Any:
        def tap(done: int, total: int, message: str = "") -> None:
            messages.append(message)
            progress(done, total, message)

        return real(kind, files, as_of, tap, is_cancelled)

    window.backend.import_files = recording  # type: ignore[union-attr, method-assign]
    with qtbot.waitSignal(window.imported, timeout=60000):
        window.tasks.start_import("sec-companyfacts", [archive, ticker_map], None)
    qtbot.waitUntil(lambda: window.bundle is not None, timeout=30000)
    assert "Imported sec-companyfacts" in window.info_banner.text.text()
    values = window.bundle.table.values
    assert {"AAPL", "MRVL", "NVDA"} <= set(values.index)
    assert values.loc["MRVL", "cik"] == "0001835632"
    assert any("Reading SEC company facts" in m for m in messages)
    window.close()
    read_pool().waitForDone(5000)


def test_one_click_from_an_empty_store_to_sec_fundamentals(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Download the Russell 2000 now, as the backend runs it: holdings (a hand-made file), then the
    refresh with SEC EDGAR (a local server of trimmed real bodies) beside Yahoo (the scripted provider)."""
    import functools

    from desktop.data import ishares
    from desktop.services import sec_refresh
    from desktop.services.screening import load_table
    from desktop.ui.backend import Backend
    from tests.data.sec_server import fixture_bodies, sec_server
    from tests.services.refresh_fakes import ScriptedProvider
    from tests.services.test_sec_import import HOLDINGS

    monkeypatch.setattr(ishares, "download_holdings", lambda *a, **k: HOLDINGS.encode("utf-8"))
    backend = Backend(str(tmp_path / "one-click.sqlite3"))
    backend.provider_factory = ScriptedProvider
    backend.sec_user_agent = "Jane Doe jane@example.com"
    try:
        with sec_server(fixture_bodies()) as server:
            monkeypatch.setattr(sec_refresh, "SecSettings", functools.partial(
                sec_refresh.SecSettings, client_options={"www": server.url, "data": server.url}))
            report = backend.download_universe(lambda *a: None, lambda: False)
        assert report.sec is not None and report.sec.fetched == 2 and report.sec.not_in_map == ["QZAL"]
        table = load_table(backend.db, report.snapshot_id).table
        assert set(table.values.index) == {"AAPL", "MRVL", "QZAL"}
        assert table.origin.loc["MRVL", "revenue"].startswith("sec ")
        assert table.values.loc["MRVL", "cik"] == "0001835632" and table.values.loc["MRVL", "sic"] == "3674"
        assert "semiconductors" in table.values.loc["MRVL", "themes"]  # SIC 3674
    finally:
        backend.close()

"""The SEC contact, asked once (issue #14): the SEC requires every program that downloads from EDGAR to
declare who is asking, with a contact e-mail, in its User-Agent.

:func:`with_sec_contact` stands in front of "Download the Russell 2000 now" and Refresh: it calls
``start(user_agent)`` at once when the contact is known (settings, or ``$PICKAXE_SEC_USER_AGENT``) or
the user chose to go without the SEC (``start(None)``), and otherwise asks with
:class:`SecContactDialog` first. The answer is kept in the validated JSON settings
(``sec/user_agent``); :func:`edit_sec_contact` changes it later.
"""

from __future__ import annotations

import os
from collections.abc import Callable

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop.errors import DataSourceError
from desktop.ui.settings import Settings

WITHOUT_SEC = 2  # the dialog's result when the user goes on without the SEC


def user_agent_of(name: str, email: str) -> str:
    """The User-Agent "Name e-mail" the SEC asks for (its own example: "Sample Company Name
    AdminContact@example.com")."""
    return " ".join(part for part in (name.strip(), email.strip()) if part)


class SecContactDialog(QDialog):
    """Asks for the name and e-mail the SEC wants; OK only once they make a valid User-Agent."""

    def __init__(self, parent: QWidget | None = None, current: str = "") -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("SEC EDGAR contact"))
        self.setMinimumWidth(520)
        layout = QVBoxLayout(self)
        intro = QLabel(self.tr(
            "Pickaxe takes the fundamentals from the SEC's EDGAR: the companies' own filings, free, with "
            "the date each figure was filed. The SEC asks every program that downloads from EDGAR to say "
            "who is asking, with a contact e-mail, and blocks those that do not.<br><br>Your name and "
            "e-mail are sent only to the SEC, in each request's User-Agent, and kept in Pickaxe's "
            "settings. Without them, the statements come from Yahoo Finance."), self)
        intro.setWordWrap(True)
        layout.addWidget(intro)
        form = QFormLayout()
        words = current.split()
        email = next((w for w in words if "@" in w), "")
        self.name = QLineEdit(" ".join(w for w in words if w != email), self)
        self.name.setPlaceholderText(self.tr("Jane Doe"))
        self.email = QLineEdit(email, self)
        self.email.setPlaceholderText(self.tr("jane@example.com"))
        form.addRow(self.tr("&Name:"), self.name)
        form.addRow(self.tr("&E-mail:"), self.email)
        layout.addLayout(form)
        self.problem = QLabel(self)
        self.problem.setObjectName("Hint")
        self.problem.setWordWrap(True)
        layout.addWidget(self.problem)
        self.box = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.box.button(QDialogButtonBox.StandardButton.Ok).setText(self.tr("Use SEC EDGAR"))
        self.without = QPushButton(self.tr("Continue without the SEC"), self)
        self.box.addButton(self.without, QDialogButtonBox.ButtonRole.ActionRole)
        self.without.clicked.connect(lambda: self.done(WITHOUT_SEC))
        self.box.accepted.connect(self.accept)
        self.box.rejected.connect(self.reject)
        layout.addWidget(self.box)
        self.name.textChanged.connect(self._check)
        self.email.textChanged.connect(self._check)
        self._check()

    def user_agent(self) -> str:
        return user_agent_of(self.name.text(), self.email.text())

    def _check(self) -> None:
        problem = ""
        if not self.name.text().strip():
            problem = self.tr("The SEC asks for a name (yours or your company's).")
        else:
            from desktop.data.sec_client import resolve_user_agent

            try:
                resolve_user_agent(self.user_agent())
            except DataSourceError:
                problem = self.tr("Enter the e-mail address the SEC can reach you at.")
        self.problem.setText(problem)
        self.box.button(QDialogButtonBox.StandardButton.Ok).setEnabled(not problem)


def _from_environment() -> str | None:
    # The SEC client (and so requests, ~0.1 s) is imported only when the contact is needed, not
    # with the window (issue #17).
    from desktop.data.sec_client import ENV_USER_AGENT, resolve_user_agent

    try:
        return resolve_user_agent(os.environ[ENV_USER_AGENT]) if os.environ.get(ENV_USER_AGENT) else None
    except DataSourceError:
        return None


def with_sec_contact(parent: QWidget, settings: Settings, start: Callable[[str | None], None]) -> None:
    """``start(user_agent)`` now if the SEC contact is known, ``start(None)`` if the user chose to go
    without the SEC; otherwise ask once (Cancel starts nothing)."""
    known = settings.sec_user_agent
    if known is not None:
        start(known or None)
        return
    environment = _from_environment()
    if environment is not None:
        start(environment)
        return
    edit_sec_contact(parent, settings, start)


def edit_sec_contact(parent: QWidget, settings: Settings,
                     then: Callable[[str | None], None] | None = None) -> SecContactDialog:
    """Open the dialog (window-modal, not blocking); store the answer, then call ``then`` with it."""
    dialog = SecContactDialog(parent, settings.sec_user_agent or "")

    def finished(result: int) -> None:
        if result == QDialog.DialogCode.Accepted.value:
            settings.sec_user_agent = dialog.user_agent()
        elif result == WITHOUT_SEC:
            settings.sec_user_agent = ""
        else:
            return  # cancelled: nothing stored, nothing started
        if then is not None:
            then(settings.sec_user_agent or None)
        dialog.deleteLater()

    dialog.finished.connect(finished)
    dialog.open()
    return dialog

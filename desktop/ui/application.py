"""Create the QApplication and the main window (the Qt half of ``desktop.app``)."""

from __future__ import annotations

import argparse
import logging

from PySide6.QtWidgets import QApplication

from desktop import APP_NAME, ORG_NAME, __version__

log = logging.getLogger(__name__)


def run_app(args: argparse.Namespace) -> int:
    app = QApplication.instance() or QApplication([])
    app.setApplicationName(APP_NAME)
    app.setOrganizationName(ORG_NAME)
    app.setApplicationVersion(__version__)
    from desktop.ui.main_window import MainWindow

    window = MainWindow(db_url=args.db)
    if args.screenshot:
        window.resize(1600, 1000)
        window.show()
        app.processEvents()
        ok = window.grab().save(args.screenshot)
        window.close()
        return 0 if ok else 1
    window.show()
    return app.exec()

"""Route Qt's own messages (qDebug/qWarning/...) into Python logging (STYLE.md section 6).

Kept in ``ui`` so that ``desktop/log.py`` stays Qt-free (qutebrowser's utils/log.py vs qtlog.py).
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QMessageLogContext, QtMsgType, qInstallMessageHandler

_qt_log = logging.getLogger("qt")

_LEVELS = {
    QtMsgType.QtDebugMsg: logging.DEBUG,
    QtMsgType.QtInfoMsg: logging.INFO,
    QtMsgType.QtWarningMsg: logging.WARNING,
    QtMsgType.QtCriticalMsg: logging.ERROR,
    QtMsgType.QtFatalMsg: logging.CRITICAL,
}


def _handler(msg_type: QtMsgType, context: QMessageLogContext, message: str) -> None:
    where = f" ({context.category})" if context.category and context.category != "default" else ""
    _qt_log.log(_LEVELS.get(msg_type, logging.WARNING), "%s%s", message, where)


def install() -> object:
    """Send Qt messages to the ``qt`` logger from now on; returns the previous handler."""
    return qInstallMessageHandler(_handler)

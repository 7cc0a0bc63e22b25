"""Spare Qt-free modules PySide6's per-import source scan (PYSIDE-2029; issue #17: start-up).

Once PySide6 is imported it wraps ``__import__``, and the first time any module is named by an
import statement it reads that module's whole source (``inspect.getsource``) to learn whether it
might use ``from __feature__ import ...`` (snake_case and true_property, which Pickaxe never uses).
On a full start that is ~460 modules and ~90 ms, most of it for modules that cannot use PySide6:
the standard library, SQLAlchemy, pandas, and Pickaxe's own Qt-free layers, which import-linter
keeps free of Qt (pyproject.toml). Those are answered "does not use PySide" without reading them;
every other module still gets PySide6's own check, so a module that does use a feature keeps it.

This reaches into PySide6's private ``shibokensupport.feature`` module; where that is not as
expected (another PySide6 release), nothing is changed and PySide6 scans as before.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from types import ModuleType

log = logging.getLogger(__name__)

# Third-party packages the app imports that have no Qt in them.
QT_FREE_PACKAGES = frozenset({
    "numpy", "pandas", "dateutil", "pytz", "tzdata", "sqlalchemy", "alembic", "mako", "markupsafe",
    "greenlet", "openpyxl", "et_xmlfile", "yfinance", "curl_cffi", "requests", "urllib3", "certifi",
    "idna", "charset_normalizer", "platformdirs", "typing_extensions", "colorama", "psycopg", "bs4",
    "soupsieve", "peewee", "frozendict", "multitasking", "protobuf", "websockets", "cffi",
})
# Pickaxe's layers without Qt (the import-linter contract "Qt lives only in desktop.ui").
QT_FREE_LAYERS = ("desktop.engine", "desktop.data", "desktop.store", "desktop.export", "desktop.services",
                  "desktop.cli", "desktop.paths", "desktop.log", "desktop.errors", "desktop.resources",
                  "desktop.memory")


def is_qt_free(name: str) -> bool:
    """True when the module ``name`` is known not to use PySide6."""
    top = name.partition(".")[0]
    if top in sys.stdlib_module_names or top in QT_FREE_PACKAGES:
        return True
    return any(name == layer or name.startswith(layer + ".") for layer in QT_FREE_LAYERS)


def install() -> bool:
    """Answer PySide6's scan for Qt-free modules without reading them; True when installed."""
    feature = sys.modules.get("shibokensupport.feature")
    scan: Callable[[ModuleType], bool] | None = getattr(feature, "_mod_uses_pyside", None)
    if feature is None or scan is None or not isinstance(getattr(feature, "pyside_feature_dict", None), dict):
        log.debug("PySide6's feature scan is not where expected; left as it is")
        return False
    if getattr(scan, "spares_qt_free", False):
        return True  # already installed

    def uses_pyside(module: ModuleType) -> bool:
        return False if is_qt_free(getattr(module, "__name__", "")) else scan(module)

    uses_pyside.spares_qt_free = True  # type: ignore[attr-defined]
    feature._mod_uses_pyside = uses_pyside  # type: ignore[attr-defined]
    return True

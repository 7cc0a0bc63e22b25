"""Package discovery that ``pyproject.toml`` cannot express on its own.

``resources/`` stays a top-level folder (the source checkout and the PyInstaller spec read it
there) but ships in the wheel as the data package ``desktop._resources`` (``[tool.setuptools.
package-dir]`` maps it; ``desktop/resources.py`` looks for it). Automatic discovery never finds a
package whose folder lives outside ``desktop/``, and pyproject cannot mix ``packages.find`` with
an explicit entry, so the list is built here: every package under ``desktop/`` plus the mapped one.
"""

from setuptools import find_namespace_packages, setup

packages = find_namespace_packages(include=["desktop", "desktop.*"], exclude=["*.__pycache__"])
setup(packages=[*packages, "desktop._resources"])

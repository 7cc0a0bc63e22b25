"""Package discovery that ``pyproject.toml`` cannot express on its own.

``resources/`` stays a top-level folder (the source checkout and the PyInstaller spec read it
there) but ships in the wheel as the data package ``desktop._resources`` (``[tool.setuptools.
package-dir]`` maps it; ``desktop/resources.py`` looks for it). Automatic discovery never finds a
package whose folder lives outside ``desktop/``, and pyproject cannot mix ``packages.find`` with
an explicit entry, so the list is built here: every package under ``desktop/``, the mapped
resources package and each of its sub-folders (listed so that setuptools ships their files
without warning that it "would ignore" them).
"""

from pathlib import Path

from setuptools import find_namespace_packages, setup

HERE = Path(__file__).resolve().parent
RESOURCES = "desktop._resources"

packages = find_namespace_packages(include=["desktop", "desktop.*"], exclude=["*.__pycache__"])
resource_packages = [RESOURCES] + sorted(
    RESOURCES + "." + ".".join(folder.relative_to(HERE / "resources").parts)
    for folder in (HERE / "resources").rglob("*")
    if folder.is_dir() and "__pycache__" not in folder.parts
)
setup(
    packages=[*packages, *resource_packages],
    package_data={name: ["*"] for name in resource_packages},
)

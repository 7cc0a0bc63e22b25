"""One resolver for ``resources/``: source checkout, installed wheel and frozen bundle alike."""

from __future__ import annotations

import sys
from functools import cache
from pathlib import Path


@cache
def resources_dir() -> Path:
    candidates = []
    frozen_root = getattr(sys, "_MEIPASS", None)
    if frozen_root:  # PyInstaller bundle: installer/pickaxe.spec copies resources/ here
        candidates.append(Path(frozen_root) / "resources")
    here = Path(__file__).resolve().parent
    candidates.append(here / "_resources")  # wheel: the data package desktop._resources
    candidates.append(here.parent / "resources")  # source checkout or editable install
    for candidate in candidates:
        if (candidate / "themes.toml").is_file():
            return candidate
    raise FileNotFoundError(
        "Pickaxe's resources folder is missing; looked in: " + ", ".join(map(str, candidates))
    )


def resource_path(*parts: str) -> Path:
    return resources_dir().joinpath(*parts)

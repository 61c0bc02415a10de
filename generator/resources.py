"""Where templates and problem banks live: the source checkout's top-level folders,
or the copies that `pip install .` puts inside the package."""
from __future__ import annotations

from pathlib import Path

_PKG = Path(__file__).resolve().parent


def resource_dir(name: str) -> Path:
    for candidate in (_PKG.parent / name, _PKG / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"{name}/ is missing: reinstall make-pset")


def templates_dir() -> Path:
    return resource_dir("templates")


def banks_dir() -> Path:
    return resource_dir("problem_banks")

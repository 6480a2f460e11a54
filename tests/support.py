"""Helpers shared by the test modules (imported as ``tests.support``)."""

from __future__ import annotations

import os
import pathlib

ROOT = pathlib.Path(__file__).resolve().parents[1]
SRC = ROOT / "src"


def child_pythonpath() -> str:
    """PYTHONPATH for a child Python: this tree's ``src/`` first, then what was inherited."""
    return os.pathsep.join(p for p in (str(SRC), os.environ.get("PYTHONPATH", "")) if p)


def child_env(**extra: str) -> dict[str, str]:
    """The environment for a child Python that must import this tree's kbind.

    The inherited environment is kept (CI's second configuration hides
    optional packages through PYTHONPATH, and a child must see the same).
    """
    return {**os.environ, "PYTHONPATH": child_pythonpath(), **extra}

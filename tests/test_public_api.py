"""The public import paths: each imports, exports what its ``__all__`` says, and names its classes
and functions by a path that finds them again.

Users and the README import from ``kbind`` and from these modules; moving
code inside the package (``kbind.rcu`` and ``kbind.seqlock`` are packages of
several modules) must not change what they see.  A class re-exported by a
package carries the package's path as ``__module__`` (``kbind.rcu.Rcu``), so
reprs, ``help()`` and pickling by reference show the public path.
"""

from __future__ import annotations

import importlib
import types

import pytest

PUBLIC = (
    "kbind", "kbind.rcu", "kbind.seqlock", "kbind.sync", "kbind.atomic", "kbind.barrier",
    "kbind.word", "kbind.ordering", "kbind.lifetime", "kbind.errors", "kbind.litmus",
    "kbind.trace", "kbind.torture", "kbind.cli", "kbind.explain", "kbind.kernel.sync.atomic",
)  # fmt: skip


def _exported(path: str) -> list[tuple[str, object]]:
    module = importlib.import_module(path)
    names = getattr(module, "__all__", None)
    assert names, f"{path} has no __all__"
    return [(name, getattr(module, name)) for name in names]


@pytest.mark.parametrize("path", PUBLIC)
def test_public_module_exports_its_all(path: str) -> None:
    """Every name in the module's ``__all__`` is there (``from path import *`` works)."""
    namespace: dict[str, object] = {}
    exec(f"from {path} import *", namespace)
    missing = [n for n, _ in _exported(path) if n not in namespace]
    assert not missing


@pytest.mark.parametrize("path", PUBLIC)
def test_exported_classes_and_functions_are_found_by_their_module(path: str) -> None:
    """``getattr(import_module(obj.__module__), obj.__qualname__) is obj`` for each export."""
    lost = []
    for name, obj in _exported(path):
        if not isinstance(obj, (type, types.FunctionType)) or not obj.__module__.startswith(
            "kbind"
        ):
            continue
        home = importlib.import_module(obj.__module__)
        if getattr(home, obj.__qualname__, None) is not obj:
            lost.append(f"{name}: {obj.__module__}.{obj.__qualname__}")
    assert not lost


@pytest.mark.parametrize("package", ["kbind.rcu", "kbind.seqlock"])
def test_a_split_primitive_shows_its_public_path(package: str) -> None:
    """What a primitive package defines in its submodules is named by the package's path."""
    defined_inside = [
        (n, obj)
        for n, obj in _exported(package)
        if isinstance(obj, (type, types.FunctionType))
        and (obj.__module__ == package or obj.__module__.startswith(package + "."))
    ]
    assert len(defined_inside) >= 5
    assert [n for n, obj in defined_inside if obj.__module__ != package] == []

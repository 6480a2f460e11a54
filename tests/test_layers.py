"""The package's layers: no import cycle, and no import from a lower layer to a higher one.

The layers are declared once, in ``LAYERS`` below (docs/ARCHITECTURE.md,
"Layers", draws the same picture).  The import graph is read from the source
with ``ast``: every ``import``/``from ... import`` of a kbind module, at any
depth (inside functions and under ``if TYPE_CHECKING:`` too), is an edge.
"""

from __future__ import annotations

import ast
import pathlib
import sys

import pytest

from tests.support import SRC

PACKAGE = SRC / "kbind"

#: Layer number -> the parts of ``kbind/`` in it, bottom up.  A part is a
#: module or a package (a package's submodules share its layer; a more
#: specific entry wins).  A module may import only modules of its own layer or
#: below.  ``__init__`` (the public facade re-exporting the API) sits above
#: everything; the compiled modules are the bottom (the C core under them
#: imports nothing from Python).  docs/ARCHITECTURE.md draws the same picture.
LAYERS: dict[int, frozenset[str]] = {
    0: frozenset({"_bridge._ffi", "_bridge._hotpath"}),
    # the bridge: the one import of the compiled modules, sites and thread
    # identity, the lifetime toolkit, errors, the hook protocol tools
    # implement, orderings, backend selection
    1: frozenset({"_bridge", "lifetime", "errors", "ordering", "rcu_backend"}),
    # the primitives, each mirroring one kernel/Rust unit
    2: frozenset({"atomic", "barrier", "word", "sync", "seqlock", "rcu"}),
    # the tools built on them
    3: frozenset({
        "torture", "litmus", "trace", "plot", "cli", "explain", "pytest_plugin",
        "mypy_plugin", "__main__",
    }),
    4: frozenset({"__init__"}),
}  # fmt: skip

COMPILED = LAYERS[0]


def _modules() -> list[str]:
    """Every module of kbind/, dotted below ``kbind`` (``rcu``, ``rcu._runtime``, ``__init__``)."""
    out = []
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(PACKAGE).with_suffix("").parts)
        if parts[-1] == "__init__" and len(parts) > 1:
            parts.pop()  # a package is named by its folder
        out.append(".".join(parts))
    return sorted(out)


def layer_of(module: str) -> int | None:
    """The layer of a module: its own entry, else its nearest enclosing package's."""
    parts = module.split(".")
    while parts:
        name = ".".join(parts)
        for layer, mods in LAYERS.items():
            if name in mods:
                return layer
        parts.pop()
    return None


def _source(module: str) -> pathlib.Path:
    base = PACKAGE.joinpath(*module.split("."))
    return base / "__init__.py" if base.is_dir() else base.with_suffix(".py")


def _imports(module: str) -> set[str]:
    """The kbind modules ``module`` imports, anywhere in its source (relative imports included)."""
    tree = ast.parse(_source(module).read_text())
    known = set(_modules()) | COMPILED
    package = module if _source(module).name == "__init__.py" else module.rpartition(".")[0]
    out: set[str] = set()

    def add(name: str, names: list[str]) -> None:
        for n in names:  # from kbind.rcu import _runtime: a submodule, else a name of it
            sub = f"{name}.{n}" if name else n
            out.add(sub if sub in known else (name or "__init__"))

    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against this module's package
                base = package.split(".") if package else []
                base = base[: len(base) - (node.level - 1)] if node.level > 1 else base
                name = ".".join([*base, *(node.module or "").split(".")]).strip(".")
            elif node.module and node.module.split(".")[0] == "kbind":
                name = node.module.partition(".")[2]
            else:
                continue
            add(name, [a.name for a in node.names])
        elif isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                if parts[0] == "kbind":
                    out.add(".".join(parts[1:]) or "__init__")
    out.discard(module)
    return out


def _graph() -> dict[str, set[str]]:
    return {m: _imports(m) for m in _modules()}


def test_every_module_has_a_layer() -> None:
    """A new module must be placed in LAYERS (so the picture stays complete)."""
    missing = [m for m in _modules() if layer_of(m) is None]
    assert not missing, f"modules with no layer in tests/test_layers.py: {missing}"


def test_no_import_goes_up_a_layer() -> None:
    """A module imports only its own layer or lower ones (a tool registers hooks instead)."""
    bad = [
        f"{m} (layer {layer_of(m)}) imports {d} (layer {layer_of(d)})"
        for m, deps in _graph().items()
        for d in sorted(deps)
        if (layer_of(d) or 0) > (layer_of(m) or 0)
        and not (d == "__init__" and layer_of(m) == 3)  # a tool reads kbind.__version__
    ]  # fmt: skip
    assert not bad, "\n".join(bad)


def test_no_import_cycle() -> None:
    """The import graph of kbind/ has no cycle (TYPE_CHECKING and function-level imports too)."""
    graph = _graph()
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(m: str) -> None:
        state[m] = 1
        stack.append(m)
        for d in sorted(graph.get(m, ())):
            if state.get(d) == 1:
                cycle = [*stack[stack.index(d) :], d]
                pytest.fail("import cycle: " + " -> ".join(cycle))
            if d in graph and d not in state:
                visit(d)
        stack.pop()
        state[m] = 2

    for m in sorted(graph):
        if m not in state:
            visit(m)


def test_the_checks_catch_a_bad_graph(monkeypatch: pytest.MonkeyPatch) -> None:
    """The checks above can fail: an upward import and a cycle, planted, are reported."""
    real = _graph()
    planted = {**real, "rcu": real["rcu"] | {"trace"}}
    monkeypatch.setattr(sys.modules[__name__], "_graph", lambda: planted)
    with pytest.raises(AssertionError, match=r"rcu \(layer 2\) imports trace \(layer 3\)"):
        test_no_import_goes_up_a_layer()
    with pytest.raises(pytest.fail.Exception, match=r"import cycle: .*rcu"):
        test_no_import_cycle()

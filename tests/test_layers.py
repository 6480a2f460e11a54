"""The package's layers: no import cycle, and no import from a lower layer to a higher one.

The layers are declared once, in ``LAYERS`` below (docs/ARCHITECTURE.md,
"Layers", draws the same picture).  The import graph is read from the source
with ``ast``: every ``import``/``from ... import`` of a kbind module, at any
depth (inside functions and under ``if TYPE_CHECKING:`` too), is an edge.
"""

from __future__ import annotations

import ast
import sys

import pytest

from tests.support import SRC

PACKAGE = SRC / "kbind"

#: Layer number -> the modules of ``kbind/`` in it, bottom up.  A module may
#: import only modules of its own layer or below.  ``__init__`` (the public
#: facade re-exporting the API) sits above everything; the compiled modules
#: ``_ffi`` and ``_hotpath`` are the bottom (the C core under them imports
#: nothing from Python).
LAYERS: dict[int, frozenset[str]] = {
    0: frozenset({"_ffi", "_hotpath"}),
    # the bridge: the one import of the compiled modules, sites and thread
    # identity, errors and the rule catalog they cite, the lifetime toolkit,
    # the hook protocol tools implement, orderings, backend selection
    1: frozenset({
        "_native", "_site", "errors", "_misuse", "_explanations", "_guard", "lifetime",
        "_immutable", "_interruptible", "_tracing", "ordering", "rcu_backend",
    }),
    # the primitives, each mirroring one kernel/Rust unit
    2: frozenset({"atomic", "barrier", "word", "sync", "seqlock", "rcu", "_rcu_runtime"}),
    # the tools built on them
    3: frozenset({
        "torture", "torture_atomic", "torture_seqlock", "litmus", "trace", "plot", "cli",
        "cli_report", "pytest_plugin", "mypy_plugin", "__main__",
    }),
    4: frozenset({"__init__"}),
}  # fmt: skip

LAYER_OF = {mod: layer for layer, mods in LAYERS.items() for mod in mods}


def _modules() -> list[str]:
    return sorted(p.stem for p in PACKAGE.glob("*.py"))


def _imports(module: str) -> set[str]:
    """The kbind modules ``module`` imports, anywhere in its source."""
    tree = ast.parse((PACKAGE / f"{module}.py").read_text())
    known = set(_modules()) | {"_ffi", "_hotpath"}
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            parts = node.module.split(".")
            if parts[0] != "kbind":
                continue
            if len(parts) > 1:
                out.add(parts[1])
            else:  # from kbind import X: a module, or a name of the facade
                out.update(a.name if a.name in known else "__init__" for a in node.names)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                if parts[0] == "kbind":
                    out.add(parts[1] if len(parts) > 1 else "__init__")
    out.discard(module)
    return out


def _graph() -> dict[str, set[str]]:
    return {m: _imports(m) for m in _modules()}


def test_every_module_has_a_layer() -> None:
    """A new module must be placed in LAYERS (so the picture stays complete)."""
    missing = [m for m in _modules() if m not in LAYER_OF]
    assert not missing, f"modules with no layer in tests/test_layers.py: {missing}"


def test_no_import_goes_up_a_layer() -> None:
    """A module imports only its own layer or lower ones (a tool registers hooks instead)."""
    bad = [
        f"{m} (layer {LAYER_OF[m]}) imports {d} (layer {LAYER_OF[d]})"
        for m, deps in _graph().items()
        for d in sorted(deps)
        if d in LAYER_OF and LAYER_OF[d] > LAYER_OF[m]
        and not (d == "__init__" and m in LAYERS[3])  # a tool reads kbind.__version__
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

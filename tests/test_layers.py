"""The package's layers: no import cycle, and no import from a lower layer to a higher one.

The layers are declared once, in ``LAYERS`` and ``C_PARTS`` below; the tree
that opens docs/ARCHITECTURE.md shows the same layers, and a test here keeps
it true.  The import graph is read from the source with ``ast``: every
``import``/``from ... import`` of a kbind module, at any depth (inside
functions and under ``if TYPE_CHECKING:`` too), is an edge.  In C, the
``#include "..."`` lines of csrc/ are the edges.
"""

from __future__ import annotations

import ast
import pathlib
import re
import sys

import pytest

from tests.support import SRC

PACKAGE = SRC / "kbind"

#: Layer number -> the parts of ``kbind/`` in it, bottom up, numbered as in
#: docs/ARCHITECTURE.md (layer 1 is the C core, which has no Python module).
#: A part is a module or a package (a package's submodules share its layer;
#: a more specific entry wins).  A module may import only modules of its own
#: layer or below.  ``__init__`` (the public facade re-exporting the API)
#: sits above everything.
LAYERS: dict[int, frozenset[str]] = {
    # the bridge: the compiled modules (cffi engine, hot-path extension) and
    # their one import, sites and thread identity, guard bookkeeping, the
    # lifetime toolkit, errors, the hook protocol tools implement,
    # orderings, backend selection
    2: frozenset({"_bridge", "lifetime", "context", "errors", "ordering", "rcu_backend"}),
    # the primitives, each mirroring one kernel/Rust unit
    3: frozenset({
        "atomic", "barrier", "word", "sync", "seqlock", "rcu", "kernel", "rfc", "kernel_c",
        "refcount",
    }),
    # the tools built on them
    4: frozenset({
        "torture", "litmus", "trace", "plot", "cli", "explain", "compare", "pytest_plugin",
        "mypy_plugin", "__main__",
    }),
    5: frozenset({"__init__"}),
}  # fmt: skip

#: The C core's folders (csrc/) -> their layer, and which folders' headers
#: each may include.  The engine is the core; the C tools (torture drivers,
#: litmus harness) are built on it, in the same layer but never included by
#: it; the hot-path extension is the bridge and reaches the engine only
#: through its API header.
C_PARTS: dict[str, tuple[int, frozenset[str]]] = {
    "engine": (1, frozenset({"", "engine"})),
    "tools": (1, frozenset({"", "engine", "tools"})),
    "pyext": (2, frozenset({"", "pyext"})),
}

COMPILED = frozenset({"_bridge._ffi", "_bridge._hotpath"})


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
        and not (d == "__init__" and layer_of(m) == 4)  # a tool reads kbind.__version__
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
    with pytest.raises(AssertionError, match=r"rcu \(layer 3\) imports trace \(layer 4\)"):
        test_no_import_goes_up_a_layer()
    with pytest.raises(pytest.fail.Exception, match=r"import cycle: .*rcu"):
        test_no_import_cycle()


def _c_includes() -> list[tuple[str, str, str]]:
    """(file, its folder under csrc/, the folder of each header it includes) for csrc's C files."""
    csrc = PACKAGE.parents[1] / "csrc"
    out = []
    for path in sorted(csrc.rglob("*.[ch]")):
        folder = path.relative_to(csrc).parts[0] if len(path.relative_to(csrc).parts) > 1 else ""
        for inc in re.findall(r'^#include "([^"]+)"', path.read_text(), re.M):
            target = (path.parent / inc) if (path.parent / inc).exists() else csrc / inc
            rel = target.resolve().relative_to(csrc.resolve()).parts
            out.append((path.relative_to(csrc).as_posix(), folder, rel[0] if len(rel) > 1 else ""))
    return out


def test_every_c_folder_has_a_layer() -> None:
    """Each folder of csrc/ is the engine, a C tool or the hot-path extension (none is missed)."""
    csrc = PACKAGE.parents[1] / "csrc"
    folders = {p.name for p in csrc.iterdir() if p.is_dir() and p.name != "__pycache__"}
    assert folders == set(C_PARTS), f"csrc/ folders {sorted(folders)} vs C_PARTS {sorted(C_PARTS)}"


def test_c_includes_stay_in_their_layer() -> None:
    """The engine includes no tool and no extension header; the extension only the API header."""
    incs = _c_includes()
    assert len(incs) > 20, incs  # the scan found the includes
    bad = [
        f"csrc/{f} includes a header of {dest or 'csrc/'}/"
        for f, folder, dest in incs
        if folder and dest not in C_PARTS[folder][1]
    ]
    assert not bad, "\n".join(bad)


def test_the_c_check_catches_a_bad_include(monkeypatch: pytest.MonkeyPatch) -> None:
    """The include check can fail: the engine including a tool's header is reported."""
    planted = [*_c_includes(), ("engine/rcu.c", "engine", "tools")]
    monkeypatch.setattr(sys.modules[__name__], "_c_includes", lambda: planted)
    with pytest.raises(AssertionError, match=r"csrc/engine/rcu.c includes a header of tools/"):
        test_c_includes_stay_in_their_layer()


def _doc_tree() -> dict[str, str]:
    """The tree opening docs/ARCHITECTURE.md: path -> its layer column ("-" for none)."""
    text = (PACKAGE.parents[1] / "docs" / "ARCHITECTURE.md").read_text()
    block = text.split("```\n", 2)[1]
    return dict(re.findall(r"^(\S+)\s+([0-9-])\s\s", block, re.M))


def test_the_doc_tree_names_every_folder_and_module_with_its_layer() -> None:
    """docs/ARCHITECTURE.md opens with the tree: every folder of csrc/, every folder and
    top-level module of kbind/, each with the layer declared here (and nothing that is gone)."""
    root = PACKAGE.parents[1]
    tree = _doc_tree()
    want: dict[str, str] = {"csrc/": "-"}
    for path in sorted((root / "csrc").rglob("*")):
        if path.is_dir() and path.name != "__pycache__":
            rel = path.relative_to(root / "csrc")
            want[f"csrc/{rel.as_posix()}/"] = str(C_PARTS[rel.parts[0]][0])
    for path in sorted(PACKAGE.iterdir()):
        if path.name == "__pycache__" or not (path.is_dir() or path.suffix == ".py"):
            continue
        module = path.stem if path.suffix == ".py" else path.name
        layer = layer_of(module)
        want[f"src/kbind/{path.name}{'/' if path.is_dir() else ''}"] = str(layer)
    assert tree == want

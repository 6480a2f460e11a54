"""Packaging: a program outside the tree type-checks against the installed kbind.

After the README's test command (an editable install), ``mypy --strict
my_program.py`` run from any directory must find kbind and its types.  An
editable install through setuptools' import hook is invisible to mypy; the
src layout makes it a plain path entry (a ``.pth`` file) that mypy follows.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import pathlib
import re
import subprocess
import sys
import textwrap

import pytest

import kbind
from tests.support import ROOT, SRC

pytest.importorskip("mypy")

PROGRAM = """
from kbind import AtomicI64, Full, Relaxed, SpinLock

refs = AtomicI64(1)
reveal_type(refs.fetch_add(1, Full))
stats: SpinLock[dict[str, int]] = SpinLock({"packets": 0})
with stats.lock() as g:
    reveal_type(g.value)
"""


#: A user's program on the RCU and seqlock APIs: attribute, item and field types.
TYPED_PROGRAM = """
from dataclasses import dataclass
from typing import TypedDict

from kbind import SeqLock
from kbind.rcu import Rcu, RcuReadGuard


@dataclass(frozen=True)
class Config:
    timeout: int
    name: str


class Clock(TypedDict):
    sec: int
    nsec: int
    tag: bytes


cfg = Rcu(Config(30, "eth0"))
limits: Rcu[dict[str, float]] = Rcu({"rate": 1.5})
with RcuReadGuard() as g:
    reveal_type(cfg.read(g).timeout)
    reveal_type(limits.read(g)["rate"])
clock = SeqLock(Clock, sec=0, nsec=0, tag=b"")
total: int = clock.read(lambda v: v.sec * 10**9 + v.nsec)
tag: bytes = clock.read(lambda v: v.tag)
"""


def _mypy_outside(
    tmp_path: pathlib.Path, code: str, config: str | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``mypy --strict prog.py`` in a directory outside the tree, as a user would.

    ``config``, if given, is the user's own ``mypy.ini`` in that directory.
    """
    work = tmp_path / "user_project"
    work.mkdir()
    (work / "prog.py").write_text(textwrap.dedent(code))
    if config is not None:
        (work / "mypy.ini").write_text(config)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "MYPYPATH")}
    return subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental",
         "--cache-dir", str(tmp_path / "cache"), "prog.py"],
        cwd=work, env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip


def test_packaging_install_is_editable_from_this_tree() -> None:
    """The kbind that tests import is this tree's src/kbind, installed in editable mode."""
    if not pathlib.Path(kbind.__file__).resolve().is_relative_to(SRC):
        pytest.skip("kbind is not imported from this tree (run the README's install command)")
    # pip's record (PEP 610); a build's own egg-info beside the sources has none
    dists = importlib.metadata.distributions(name="kbind")
    records = [d.read_text("direct_url.json") for d in dists]
    installed = [json.loads(r) for r in records if r]
    assert installed, "kbind was not installed by pip from this directory"
    info = installed[0]
    assert info.get("dir_info", {}).get("editable") is True, info
    assert pathlib.Path(info["url"].removeprefix("file://")).resolve() == ROOT


def test_packaging_mypy_outside_tree_finds_kbind_types(tmp_path: pathlib.Path) -> None:
    """mypy --strict, run outside the repository, resolves kbind's own types (not Any)."""
    assert not tmp_path.resolve().is_relative_to(ROOT)
    proc = _mypy_outside(tmp_path, PROGRAM)
    out = proc.stdout + proc.stderr
    assert "Cannot find implementation or library stub" not in out, out
    assert proc.returncode == 0, out
    revealed = [re.sub(r"builtins\.", "", t) for t in re.findall(r'Revealed type is "(.*)"', out)]
    assert revealed == ["int", "dict[str, int]"], out


def test_packaging_mypy_outside_tree_rejects_misuse(tmp_path: pathlib.Path) -> None:
    """The same install makes mypy reject a kbind misuse (a load with Release ordering)."""
    proc = _mypy_outside(
        tmp_path, "from kbind import AtomicI64, Release\nAtomicI64(0).load(Release)\n"
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1, out
    assert '"ReleaseOrdering"; expected "RelaxedOrdering | AcquireOrdering"' in out, out


def test_packaging_mypy_outside_tree_types_rcu_and_seqlock_fields(tmp_path: pathlib.Path) -> None:
    """Outside the tree, with kbind's plugin in the user's config, every field has its type."""
    proc = _mypy_outside(
        tmp_path, TYPED_PROGRAM, config="[mypy]\nstrict = True\nplugins = kbind.mypy_plugin\n"
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    revealed = [re.sub(r"builtins\.", "", t) for t in re.findall(r'Revealed type is "(.*)"', out)]
    assert revealed == ["int", "float"], out


def test_packaging_build_ships_every_module_and_stub(tmp_path: pathlib.Path) -> None:
    """A (non-editable) build copies every module, stub and py.typed of src/kbind, subpackages too.

    ``setup.py build_py`` is the step of a wheel build that collects the Python
    files from the package list in pyproject.toml; a subpackage missing from
    that list would be absent from an installed kbind.
    """
    proc = subprocess.run(
        [sys.executable, "setup.py", "-q", "build_py", "--build-lib", str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    src = ROOT / "src"
    want = {
        p.relative_to(src).as_posix()
        for p in (src / "kbind").rglob("*")
        if p.suffix in (".py", ".pyi") or p.name == "py.typed"
    }
    got = {
        p.relative_to(tmp_path).as_posix()
        for p in (tmp_path / "kbind").rglob("*")
        if p.suffix in (".py", ".pyi") or p.name == "py.typed"
    }
    assert want - got == set(), "not shipped"
    assert "kbind/kernel_c/rcu.py" in got and "kbind/_bridge/_hotpath.pyi" in got

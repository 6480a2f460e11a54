"""Ask ``mypy --strict`` whether a ruled-out cell really does not type-check.

A design *rules out* a misuse when a user cannot write it: the method does
not exist, or the call is a type error.  Python runs most such programs
anyway, so the claim is checked the way Rust checks it, statically: every
ruled-out cell carries the module a user would have to write (its misuse
line ends with ``# misuse``), all of them are written to a temporary
directory, and one mypy run checks them.  The verdict stands only if mypy
reports an error on the misuse line; a snippet mypy accepts, or one with
errors elsewhere, turns the cell into an ``error`` (the adapter's claim was
wrong).  Without mypy installed the cells keep their verdict and say that
they were not checked.
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
import tempfile
from dataclasses import replace

from kbind.compare.model import Cell, Verdict

__all__ = ["MISUSE_MARK", "check_ruled_out", "misuse_line"]

#: How long the one mypy run may take (a cold run over kbind takes seconds).
MYPY_TIMEOUT_S = 300

#: The comment that marks the line mypy must reject.
MISUSE_MARK = "# misuse"

_ERROR = re.compile(r"^(?P<file>[^:\n]+\.py):(?P<line>\d+): error: (?P<msg>.*)$", re.M)


def misuse_line(snippet: str) -> int:
    """Return the 1-based line of ``snippet`` ending in ``# misuse`` (else ``ValueError``)."""
    for n, line in enumerate(snippet.splitlines(), 1):
        if line.rstrip().endswith(MISUSE_MARK):
            return n
    raise ValueError("snippet has no line marked '# misuse'")


def _module_name(cell: Cell, n: int) -> str:
    safe = re.sub(r"\W", "_", f"{cell.row}_{cell.design}").lower()
    return f"snippet_{n:03d}_{safe}"


def check_ruled_out(cells: list[Cell]) -> list[Cell]:
    """Return ``cells`` with every ruled-out cell's snippet checked by one mypy run."""
    todo = [(i, c) for i, c in enumerate(cells) if c.verdict is Verdict.RULED_OUT and c.snippet]
    if not todo:
        return cells
    if importlib.util.find_spec("mypy") is None:
        note = "not checked: mypy is not installed"
        return [
            replace(c, typecheck=note) if c.verdict is Verdict.RULED_OUT and c.snippet else c
            for c in cells
        ]
    out = list(cells)
    with tempfile.TemporaryDirectory(prefix="kbind-compare-") as tmp:
        files: dict[str, tuple[int, Cell]] = {}
        for i, cell in todo:
            assert cell.snippet is not None
            path = os.path.join(tmp, _module_name(cell, i) + ".py")
            with open(path, "w", encoding="utf-8") as f:
                f.write(cell.snippet)
            files[os.path.basename(path)] = (i, cell)
        # In a child process: mypy in this one would leave its whole program
        # (kbind's and typeshed's trees) in memory, and every later garbage
        # collection would walk it.
        try:
            proc = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "mypy",
                    "--strict",
                    "--no-error-summary",
                    "--show-error-codes",
                    "--cache-dir",
                    os.path.join(tmp, ".mypy_cache"),
                    *sorted(os.path.join(tmp, name) for name in files),
                ],
                capture_output=True,
                text=True,
                timeout=MYPY_TIMEOUT_S,
                check=False,
                cwd=tmp,  # no project's mypy configuration applies
            )
        except subprocess.TimeoutExpired:
            note = f"not checked: mypy did not finish in {MYPY_TIMEOUT_S} s"
            return [
                replace(c, typecheck=note) if (i, c) in todo else c for i, c in enumerate(cells)
            ]
        stdout, stderr = proc.stdout, proc.stderr
        errors: dict[str, list[tuple[int, str]]] = {}
        for m in _ERROR.finditer(stdout):
            errors.setdefault(os.path.basename(m["file"]), []).append(
                (int(m["line"]), m["msg"].strip())
            )
        for name, (i, cell) in files.items():
            out[i] = _judge(cell, errors.get(name, []), stderr)
    return out


def _judge(cell: Cell, errors: list[tuple[int, str]], stderr: str) -> Cell:
    """Return the cell after mypy: confirmed, or an error naming what went wrong."""
    assert cell.snippet is not None
    line = misuse_line(cell.snippet)
    on_line = [msg for n, msg in errors if n == line]
    elsewhere = [f"line {n}: {msg}" for n, msg in errors if n != line]
    if elsewhere:
        return replace(
            cell,
            verdict=Verdict.ERROR,
            summary="snippet has type errors besides the misuse",
            detail="; ".join(elsewhere),
        )
    if not on_line:
        why = "mypy accepts the snippet" + (f" ({stderr.strip()[:200]})" if stderr.strip() else "")
        return replace(cell, verdict=Verdict.ERROR, summary=why, detail=why)
    return replace(cell, typecheck=f"mypy: {on_line[0]}")

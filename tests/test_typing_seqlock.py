"""Static typing of kbind.seqlock: a TypedDict spec gives every field its own type.

With ``plugins = ["kbind.mypy_plugin"]`` (how a kbind user configures mypy),
a field read through a reader's view or a write guard of
``SeqLock(Clock, ...)`` has the type ``Clock`` declares, and a name missing
from the spec is an error.  Without the plugin, fields are ``int | bytes``:
mypy itself cannot map a TypedDict's keys to attributes.
"""

from __future__ import annotations

import pathlib

import pytest

from tests.test_typing import revealed, run_mypy

pytest.importorskip("mypy.api")

HEADER = """
from typing import TypedDict
from kbind.seqlock import SeqLatch, SeqLock

class Clock(TypedDict):
    sec: int
    nsec: int
    tag: bytes

clock = SeqLock(Clock, sec=0, nsec=0, tag=b"abcd")
"""

GOOD = (
    HEADER
    + """
ns: int = clock.read(lambda v: v.sec * 10**9 + v.nsec)
tag: bytes = clock.read(lambda v: v.tag[:2])
with clock.write() as w:
    w.sec = w.sec + 1
latch = SeqLatch(Clock, sec=0, nsec=0, tag=b"abcd")
later: int = latch.read(lambda v: v.nsec + 1)
snap: Clock = clock.snapshot()
untyped = SeqLock(sec=0, nsec=0)
both: int | bytes = untyped.read(lambda v: v.sec)
"""
)

REVEAL = (
    HEADER
    + """
clock.read(lambda v: reveal_type(v.sec))
clock.read(lambda v: reveal_type(v.tag))
reveal_type(clock.read(lambda v: v.sec * 10**9 + v.nsec))
with clock.write() as w:
    reveal_type(w.nsec)
reveal_type(SeqLatch(Clock, sec=0, nsec=0, tag=b"abcd").read(lambda v: v.tag))
reveal_type(SeqLock(sec=0).read(lambda v: v.sec))
"""
)

# (line, what mypy must say about it)
BAD = {
    "s: str = clock.read(lambda v: v.sec)": 'expression has type "int"',
    "b: bytes = clock.read(lambda v: v.nsec)": 'expression has type "int"',
    "n: int = clock.read(lambda v: v.tag)": 'expression has type "bytes"',
    "clock.read(lambda v: v.secs)": 'SeqLock field spec "Clock" has no field "secs"',
    "clock.read(lambda v: v.tag + 1)": 'Unsupported operand types for + ("bytes" and "int")',
}


def test_typing_seqlock_typed_spec_passes_strict(tmp_path: pathlib.Path) -> None:
    """The issue's reader ``v.sec * 10**9 + v.nsec`` and typed writes pass mypy --strict."""
    out, status = run_mypy(tmp_path, GOOD, plugin=True)
    assert status == 0, out


def test_typing_seqlock_reveals_field_types(tmp_path: pathlib.Path) -> None:
    """Each field has its spec's type in readers, writers and latches; no spec: int | bytes."""
    out, status = run_mypy(tmp_path, REVEAL, plugin=True)
    assert status == 0, out
    assert revealed(out) == ["int", "bytes", "int", "int", "bytes", "int | bytes"], out


def test_typing_seqlock_rejects_each_misuse(tmp_path: pathlib.Path) -> None:
    """A field used as the wrong type, or a field the spec lacks, is a mypy error."""
    lines = list(BAD)
    out, status = run_mypy(tmp_path, HEADER + "\n".join(lines) + "\n", plugin=True)
    assert status == 1
    first = HEADER.count("\n") + 1
    for number, line in enumerate(lines, start=first):
        reported = [o for o in out.splitlines() if f"snippet.py:{number}:" in o]
        assert reported, f"mypy accepted {line!r}:\n{out}"
        assert any(BAD[line] in o for o in reported), (line, reported)


def test_typing_seqlock_without_plugin_fields_are_int_or_bytes(tmp_path: pathlib.Path) -> None:
    """Without the plugin mypy cannot see the spec's field types: the union is what it gets."""
    out, status = run_mypy(tmp_path, HEADER + "clock.read(lambda v: reveal_type(v.sec))\n")
    assert status == 0, out
    assert revealed(out) == ["int | bytes"], out

"""The sequence-lock misuse scenarios (S01-S11), one per row of the catalog.

Each function takes the design's :class:`~kbind.compare.seqlock_designs.SeqAdapter`
and does the misuse through it.  A torn read attempt is made for real: a
writer runs on another thread while the attempt is open (:func:`overlap`),
so the retry check fails and the reader runs again.  A design that catches
the misuse raises from an adapter step; one that lets it through gets to
the end, and the function says what followed.

Acts as user code (``KBIND_USER_CODE``), like the adapters.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from kbind.compare.kit import Registrar, on_thread
from kbind.compare.model import Scenario
from kbind.compare.seqlock_designs import SeqAdapter

__all__ = ["SCENARIOS", "overlap"]

KBIND_USER_CODE = True

SCENARIOS: list[Scenario] = []


#: ``@scenario("ID")``: registers the function below it as that row's scenario.
scenario: Registrar[SeqAdapter] = Registrar(SCENARIOS, "seqlock", sites=2)


def overlap(fn: Callable[[], object]) -> None:
    """Run ``fn`` on another thread and wait for it (re-raising what it raised).

    Called inside a read attempt, it makes a writer overlap the attempt.
    """
    on_thread(fn, "kbind-compare-writer")


@scenario("S01", sites=2)
def s01(d: SeqAdapter) -> str:
    """Use a value read in an attempt that a writer overlapped (its retry check failed)."""
    lock = d.new(a=1, b=1)
    seen: list[Any] = []

    def body(h: Any) -> Any:
        seen.append(d.field(h, "a"))  # kept for after the read
        if len(seen) == 1:
            overlap(lambda: d.write(lock, a=2, b=2))
        return d.field(h, "b")

    d.read(lock, body)
    got = int(seen[0])  # the first attempt's value: that attempt failed
    return f"read {got}, expected 2" if got != 2 else "ran on"


@scenario("S02", sites=1)
def s02(d: SeqAdapter) -> str:
    """Keep the reader's view (or token) and read protected data through it afterwards."""
    lock = d.new(a=1)
    kept: list[Any] = []
    d.read(lock, kept.append)
    d.write(lock, a=2)
    got = d.field(kept[0], "a")
    return f"read {got!r} outside the reader, expected 2" if got != 2 else "ran on"


@scenario("S03", sites=0)
def s03(d: SeqAdapter) -> str:
    """Do a side effect (send a message) inside the reader; a writer makes it run again."""
    lock = d.new(a=1)
    sent: list[Any] = []

    def body(h: Any) -> None:
        sent.append(f"a is {d.field(h, 'a')}")  # the side effect
        if len(sent) == 1:
            overlap(lambda: d.write(lock, a=2))

    d.read(lock, body)
    return f"the side effect ran {len(sent)} times for one read"


@scenario("S04", sites=0)
def s04(d: SeqAdapter) -> str:
    """Store a pointer (an object readers would follow) in the protected data."""
    d.store_pointer()
    return "stored an object"


@scenario("S05", sites=0)
def s05(d: SeqAdapter) -> str:
    """Write without the writers' serialization (a raw seqcount write)."""
    d.write_unserialized()
    return "the two writers interleaved"


@scenario("S06", sites=2)
def s06(d: SeqAdapter) -> str:
    """Start a reader on the thread that holds the write side (the kernel livelocks)."""
    lock = d.new(a=1)
    got = d.read_inside_write(lock, lambda h: d.field(h, "a"))
    return f"read {got!r} inside the write section"


@scenario("S07", sites=0)
def s07(d: SeqAdapter) -> str:
    """Store to protected data with a plain (unmarked) access, racing readers."""
    d.plain_store()
    return "a plain store raced the readers"


@scenario("S08", sites=2)
def s08(d: SeqAdapter) -> str:
    """End a read attempt with another lock's retry check."""
    lock, other = d.new(a=1), d.new(a=1)
    retry = d.retry_with(lock, other)
    return f"another lock's check said {'retry' if retry else 'valid'}"


@scenario("S09", sites=2)
def s09(d: SeqAdapter) -> str:
    """Take the write side again on the thread that holds it."""
    lock = d.new(a=1)
    d.nested_write(lock)
    return "a nested write section ran"


@scenario("S10", sites=1)
def s10(d: SeqAdapter) -> str:
    """Latch: keep a writer's view of a copy and change it after readers moved to that copy."""
    lock = d.new(a=1)
    kept: list[Any] = []

    def change(w: Any) -> None:
        kept.append(w)
        d.store(w, "a", 2)

    d.write_copies(lock, change)
    d.store(kept[0], "a", 3)  # copy 0: the copy readers are directed to now
    got = d.read(lock, lambda h: d.field(h, "a"))
    return f"changed the copy readers use: read {got!r}, expected 2" if got != 2 else "ran on"


@scenario("S11", sites=0)
def s11(d: SeqAdapter) -> str:
    """Duplicate the reader's view (or token) with copy.copy()."""
    lock = d.new(a=1)
    d.read(lock, copy.copy)
    return "duplicated the reader's handle"

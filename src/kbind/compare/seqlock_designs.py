"""The sequence-lock designs as adapters: how each reads, writes and duplicates.

Every sequence-lock scenario (:mod:`kbind.compare.seqlock_scenarios`) is
written once against :class:`SeqAdapter`.  The columns are the reader
shapes a binding designer chooses between, all in :mod:`kbind.seqlock`
(include/linux/seqlock.h; Rust-for-Linux has no merged seqlock binding):

* ``seqlock:read`` -- the closure reader ``sl.read(fn)`` of the proposed
  ``SeqLock<T>`` (the old Rust-for-Linux ``rust`` branch): ``fn`` gets a
  view, only a validated attempt's result comes out;
* ``seqlock:read_begin`` -- the explicit loop ``seq = sl.read_begin()`` /
  ``seq.<field>`` / ``sl.read_retry(seq)`` (the kernel's
  ``read_seqbegin()``/``read_seqretry()``), whose values are tentative;
* ``seqlock:SeqLatch`` -- ``SeqLatch[T]``, the kernel's
  ``seqcount_latch_t``: two copies, readers never wait.

The two ``SeqLock`` columns share the write side (``sl.write()``, a guard);
the latch writes with ``latch.write(fn)``, once per copy.

Acts as user code (``KBIND_USER_CODE``): the sites kbind's errors name are
the adapter's lines.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kbind.compare.kit import snippet
from kbind.compare.model import Adapter, Design, NotApplicable, RuledOut
from kbind.seqlock import SeqLatch, SeqLock

__all__ = ["DESIGNS", "SeqAdapter", "snippet"]

KBIND_USER_CODE = True


class SeqAdapter(Adapter):
    """The steps of a sequence-lock design.  Handles (``lock``, ``h``, ``view``) are opaque.

    * ``new(**fields)``: a lock protecting integer fields.
    * ``read(lock, body)``: a reader; ``body(h)`` runs once per attempt with the
      attempt's handle (a view, a token) and the reader returns the result of
      the attempt that validated.
    * ``field(h, name)``: a field read through a reader's handle.
    * ``write(lock, **fields)``: one write section assigning ``fields``.
    * ``writing(lock, inside)``: call ``inside()`` inside a write section of this thread.
    * ``read_inside_write(lock, body)``: a reader on the thread holding the write side.
    * ``nested_write(lock)``: a second write section inside this thread's first.
    * ``retry_with(lock, other)``: end an attempt on ``lock`` with ``other``'s check.
    * ``write_copies(lock, fn)``: ``fn(view)`` on each copy a latch writer changes.
    * ``store(view, name, value)``: a store through a writer's view.
    * ``store_pointer()``, ``write_unserialized()``, ``plain_store()``: the misuses
      of S04, S05 and S07, which no design here can write (:class:`RuledOut`).
    """

    design = "?"
    #: the class the column's snippets construct
    kind = "SeqLock"

    def new(self, **fields: int) -> Any:
        """Return a fresh lock protecting ``fields``."""
        return SeqLock(**fields)

    def read(self, lock: Any, body: Callable[[Any], Any]) -> Any:
        """Run a reader: ``body(h)`` per attempt; return the validated attempt's result."""
        raise NotImplementedError

    def field(self, h: Any, name: str) -> Any:
        """Read field ``name`` through the reader's handle ``h``."""
        return getattr(h, name)

    def write(self, lock: Any, **fields: int) -> None:
        """Assign ``fields`` in one write section."""
        with lock.write() as w:
            w.update(**fields)

    def writing(self, lock: Any, inside: Callable[[], object]) -> None:
        """Call ``inside()`` inside a write section of this thread."""
        with lock.write():
            inside()

    def read_inside_write(self, lock: Any, body: Callable[[Any], Any]) -> Any:
        """Start a reader while this thread holds the write side."""
        out: list[Any] = []
        self.writing(lock, lambda: out.append(self.read(lock, body)))
        return out[0]

    def nested_write(self, lock: Any) -> None:
        """Take the write side again inside this thread's write section."""
        first = lock.write()
        try:
            lock.write().unlock()
        finally:
            first.unlock()

    def retry_with(self, lock: Any, other: Any) -> bool:
        """Begin an attempt on ``lock`` and end it with ``other``'s retry check."""
        raise NotApplicable("no read token: the reader checks its own attempt")

    def write_copies(self, lock: Any, fn: Callable[[Any], object]) -> None:
        """Call ``fn(view)`` on each copy a latch writer changes."""
        raise NotApplicable("one copy of the fields: no latch")

    def store(self, view: Any, name: str, value: int) -> None:
        """Store ``value`` into field ``name`` through a writer's view."""
        setattr(view, name, value)

    def store_pointer(self) -> None:
        """Store an object (a pointer readers would follow) in the protected data (S04)."""
        raise RuledOut(
            "fields hold 64-bit integers or fixed-size bytes only",
            snippet(
                f"from kbind.seqlock import {self.kind}",
                f"""
                class Node:
                    next: Node | None = None


                lock = {self.kind}(head=Node())  # misuse
                """,
            ),
        )

    def write_unserialized(self) -> None:
        """Start a write section that does not take the writers' lock (S05)."""
        raise RuledOut(
            "write() always takes the embedded spinlock",
            snippet(
                "from kbind.seqlock import SeqLock",
                """
                lock = SeqLock(a=0, b=0)
                lock.raw_write_seqcount_begin()  # misuse
                """,
            ),
        )

    def plain_store(self) -> None:
        """Store to a protected field without a marked access (S07)."""
        raise RuledOut(
            "fields live in C memory, reached by marked accesses only",
            snippet(
                f"from kbind.seqlock import {self.kind}",
                f"""
                lock = {self.kind}(a=0, b=0)
                lock.a = 1  # misuse
                """,
            ),
        )


class ClosureReader(SeqAdapter):
    """``SeqLock.read(fn)``: the closure reader (the proposed Rust ``SeqLock<T>``)."""

    design = "seqlock:read"

    def read(self, lock: Any, body: Callable[[Any], Any]) -> Any:
        return lock.read(body)


class LoopReader(SeqAdapter):
    """``read_begin()``/``read_retry()``: the kernel's loop, with tentative values."""

    design = "seqlock:read_begin"

    def read(self, lock: Any, body: Callable[[Any], Any]) -> Any:
        while True:
            seq = lock.read_begin()
            result = body(seq)
            if not lock.read_retry(seq):
                return result

    def retry_with(self, lock: Any, other: Any) -> bool:
        seq = lock.read_begin()
        _ = seq.a
        return bool(other.read_retry(seq))


class Latch(SeqAdapter):
    """``SeqLatch[T]``: two copies, ``latch.read(fn)`` and ``latch.write(fn)``."""

    design = "seqlock:SeqLatch"
    kind = "SeqLatch"

    def new(self, **fields: int) -> Any:
        return SeqLatch(**fields)

    def read(self, lock: Any, body: Callable[[Any], Any]) -> Any:
        return lock.read(body)

    def write(self, lock: Any, **fields: int) -> None:
        def change(w: Any) -> None:
            for name, value in fields.items():
                setattr(w, name, value)

        lock.write(change)

    def writing(self, lock: Any, inside: Callable[[], object]) -> None:
        lock.write(lambda w: inside())

    def nested_write(self, lock: Any) -> None:
        lock.write(
            lambda w: lock.write(lambda inner: None),
        )

    def read_inside_write(self, lock: Any, body: Callable[[Any], Any]) -> Any:
        # The kernel's NMI readers: they read the copy the writer is not changing.
        raise NotApplicable("not a misuse: latch readers may run on the writer's thread")

    def write_copies(self, lock: Any, fn: Callable[[Any], object]) -> None:
        lock.write(fn)

    def write_unserialized(self) -> None:
        raise RuledOut(
            "write() always takes the latch's spinlock",
            snippet(
                "from kbind.seqlock import SeqLatch",
                """
                latch = SeqLatch(a=0)
                latch.raw_write_seqcount_latch()  # misuse
                """,
            ),
        )


#: The sequence-lock columns, in order.
DESIGNS: list[Design] = [
    Design(
        "seqlock:read",
        "seqlock",
        "SeqLock<T>'s closure reader read(fn) (proposed for Rust; seqlock_t)",
        ClosureReader,
    ),
    Design(
        "seqlock:read_begin",
        "seqlock",
        "SeqLock's read_begin()/read_retry() loop with tentative values "
        "(read_seqbegin()/read_seqretry(), include/linux/seqlock.h)",
        LoopReader,
    ),
    Design(
        "seqlock:SeqLatch",
        "seqlock",
        "SeqLatch<T>: seqcount_latch_t (include/linux/seqlock.h)",
        Latch,
    ),
]

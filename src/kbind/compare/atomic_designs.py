"""The atomic designs as adapters: how each loads, stores and compares-and-exchanges.

Every atomic scenario (:mod:`kbind.compare.atomic_scenarios`) is written once
against :class:`AtomicAdapter`.  The columns:

* ``atomic`` -- :mod:`kbind.atomic`: ``AtomicI32``/``AtomicI64``/``AtomicUsize``
  over the kernel's ``atomic_t`` family with its whole operation set
  (Documentation/atomic_t.txt), every ordering explicit (Boqun Feng's LKMM
  atomics series, 2024);
* ``kernel.sync.atomic`` -- :mod:`kbind.kernel.sync.atomic`: mainline
  ``Atomic<T>`` and ``AtomicFlag`` (rust/kernel/sync/atomic.rs);
* ``word`` -- :mod:`kbind.word`: a shared ``Word`` reached only by the
  kernel's marked accesses ``READ_ONCE()``/``WRITE_ONCE()``,
  ``smp_load_acquire()``/``smp_store_release()`` (include/asm-generic/rwonce.h,
  include/asm-generic/barrier.h);
* ``refcount`` -- :mod:`kbind.refcount`: ``Refcount`` over ``refcount_t``
  (include/linux/refcount.h, lib/refcount.c; Rust: rust/kernel/sync/refcount.rs),
  the atomic a reference count should be (A07).

A misuse the type checker rejects raises :class:`~kbind.compare.model.RuledOut`
with the line a user would write; the runner also runs it and notes what
the run time did (an ``OrderingError``, a ``TypeError``).

Acts as user code (``KBIND_USER_CODE``).
"""

from __future__ import annotations

from typing import Any

from kbind import word as words
from kbind.atomic import AtomicI32
from kbind.compare.kit import snippet
from kbind.compare.model import Adapter, Design, NotApplicable, RuledOut
from kbind.kernel.sync.atomic import I32, Atomic, CmpxchgOk
from kbind.ordering import Acquire, Full, Relaxed
from kbind.refcount import Refcount

__all__ = ["DESIGNS", "AtomicAdapter", "snippet"]

KBIND_USER_CODE = True


class AtomicAdapter(Adapter):
    """The steps of an atomic design.  ``a`` is the design's atomic (or word).

    * ``new(v)``, ``load(a)``, ``store(a, v)``: relaxed accesses.
    * ``cmpxchg(a, old, new)``: an acquire compare-and-exchange; True if it stored.
    * ``load_release()``, ``default_ordering()``, ``plain_access()``: the
      misuses of A01, A02 and A04, each design's source for them.
    * ``bits``: the width of the values ``new`` makes (an operand of ``2**bits``
      does not fit).
    """

    design = "?"
    bits = 32

    def new(self, v: int) -> Any:
        """Return a fresh atomic holding ``v``."""
        raise NotImplementedError

    def load(self, a: Any) -> int:
        """Load ``a`` (relaxed)."""
        return int(a.load(Relaxed))

    def store(self, a: Any, v: int) -> None:
        """Store ``v`` into ``a`` (relaxed)."""
        a.store(v, Relaxed)

    def cmpxchg(self, a: Any, old: int, new: int) -> bool:
        """Store ``new`` if ``a`` holds ``old`` (acquire on success); return whether it stored."""
        raise NotImplementedError

    def load_release(self) -> None:
        """Load with release ordering, which no load has (A01)."""
        raise NotImplementedError

    def default_ordering(self) -> None:
        """Call a read-modify-write without saying its ordering (A02)."""
        raise NotImplementedError

    def plain_access(self) -> None:
        """Read-modify-write the value with plain Python accesses (A04)."""
        raise NotImplementedError

    # -- a reference count kept in the design's atomic (A07)

    def ref_get(self, a: Any) -> None:
        """Take a reference: increment the count ``a`` (``refcount_inc()``, ``atomic_inc()``)."""
        raise NotApplicable("no read-modify-write: marked loads and stores only")

    def ref_put(self, a: Any) -> bool:
        """Drop a reference: decrement ``a``; return whether it reached zero (free then)."""
        raise NotApplicable("no read-modify-write: marked loads and stores only")


class KernelAtomic(AtomicAdapter):
    """``kbind.atomic``: ``AtomicI32`` over ``atomic_t``, the kernel's operation set."""

    design = "atomic"

    def ref_get(self, a: Any) -> None:
        a.inc(Relaxed)

    def ref_put(self, a: Any) -> bool:
        return bool(a.dec_and_test(Full))

    def new(self, v: int) -> Any:
        return AtomicI32(v)

    def cmpxchg(self, a: Any, old: int, new: int) -> bool:
        return bool(a.cmpxchg(old, new, Acquire) == old)

    def load_release(self) -> None:
        raise RuledOut(
            "load() takes Relaxed or Acquire",
            snippet(
                "from kbind import AtomicI32, Release",
                """
                flag = AtomicI32(0)
                flag.load(Release)  # misuse
                """,
            ),
        )

    def default_ordering(self) -> None:
        raise RuledOut(
            "the ordering argument is required",
            snippet(
                "from kbind import AtomicI32",
                """
                count = AtomicI32(0)
                count.fetch_add(1)  # misuse
                """,
            ),
        )

    def plain_access(self) -> None:
        raise RuledOut(
            "the value is reached through the operations only",
            snippet(
                "from kbind import AtomicI32",
                """
                count = AtomicI32(0)
                count.value += 1  # misuse
                """,
            ),
        )


class MainlineAtomic(AtomicAdapter):
    """``kbind.kernel.sync.atomic``: ``Atomic[I32]`` (rust/kernel/sync/atomic.rs)."""

    design = "kernel.sync.atomic"

    def ref_get(self, a: Any) -> None:
        a.add(1, Relaxed)

    def ref_put(self, a: Any) -> bool:
        return bool(a.fetch_sub(1, Full) == 1)

    def new(self, v: int) -> Any:
        return Atomic[I32](v)

    def cmpxchg(self, a: Any, old: int, new: int) -> bool:
        return isinstance(a.cmpxchg(old, new, Acquire), CmpxchgOk)

    def load_release(self) -> None:
        raise RuledOut(
            "load() takes Relaxed or Acquire",
            snippet(
                "from kbind import Release\nfrom kbind.kernel.sync.atomic import I32, Atomic",
                """
                flag = Atomic[I32](0)
                flag.load(Release)  # misuse
                """,
            ),
        )

    def default_ordering(self) -> None:
        raise RuledOut(
            "the ordering argument is required",
            snippet(
                "from kbind.kernel.sync.atomic import I32, Atomic",
                """
                count = Atomic[I32](0)
                count.fetch_add(1)  # misuse
                """,
            ),
        )

    def plain_access(self) -> None:
        raise RuledOut(
            "the value is reached through the operations only",
            snippet(
                "from kbind.kernel.sync.atomic import I32, Atomic",
                """
                count = Atomic[I32](0)
                count.value += 1  # misuse
                """,
            ),
        )


class MarkedWord(AtomicAdapter):
    """``kbind.word``: a ``Word`` and the kernel's marked accesses to it."""

    design = "word"
    bits = 64

    def new(self, v: int) -> Any:
        return words.Word(v)

    def load(self, a: Any) -> int:
        return words.READ_ONCE(a)

    def store(self, a: Any, v: int) -> None:
        words.WRITE_ONCE(a, v)

    def cmpxchg(self, a: Any, old: int, new: int) -> bool:
        raise NotApplicable("no cmpxchg: marked loads and stores only")

    def load_release(self) -> None:
        raise RuledOut(
            "there is no smp_load_release()",
            snippet(
                "from kbind import word",
                """
                flag = word.Word(0)
                word.smp_load_release(flag)  # misuse
                """,
            ),
        )

    def default_ordering(self) -> None:
        # READ_ONCE() orders nothing, smp_load_acquire() is an acquire: no default.
        raise NotApplicable("each access is named for its ordering")

    def plain_access(self) -> None:
        raise RuledOut(
            "the word is reached through marked accesses only",
            snippet(
                "from kbind import word",
                """
                count = word.Word(0)
                count.value += 1  # misuse
                """,
            ),
        )


#: The atomic columns, in order.
DESIGNS: list[Design] = [
    Design(
        "atomic",
        "atomic",
        "AtomicI32/I64/Usize over atomic_t, the kernel's operation set "
        "(Documentation/atomic_t.txt)",
        KernelAtomic,
    ),
    Design(
        "kernel.sync.atomic",
        "atomic",
        "Atomic<T>, AtomicFlag (rust/kernel/sync/atomic.rs, mainline)",
        MainlineAtomic,
    ),
    Design(
        "word",
        "atomic",
        "Word with READ_ONCE()/WRITE_ONCE(), smp_load_acquire()/smp_store_release()",
        MarkedWord,
    ),
]


class KernelRefcount(AtomicAdapter):
    """``kbind.refcount``: ``Refcount`` over ``refcount_t``, the kernel's checked counter."""

    design = "refcount"

    def new(self, v: int) -> Any:
        return Refcount(v)

    def load(self, a: Any) -> int:
        return int(a.read())

    def store(self, a: Any, v: int) -> None:
        a.set(v)

    def cmpxchg(self, a: Any, old: int, new: int) -> bool:
        raise NotApplicable("refcount_t has no cmpxchg: only counting operations")

    def load_release(self) -> None:
        raise RuledOut(
            "refcount_t's operations take no ordering: each has the kernel's",
            snippet(
                "from kbind import Release\nfrom kbind.refcount import Refcount",
                """
                count = Refcount(1)
                count.read(Release)  # misuse
                """,
            ),
        )

    def default_ordering(self) -> None:
        raise NotApplicable(
            "no ordering to choose: each refcount_t operation has one (Documentation/atomic_t.txt)"
        )

    def plain_access(self) -> None:
        raise RuledOut(
            "the count is reached through its operations only",
            snippet(
                "from kbind.refcount import Refcount",
                """
                count = Refcount(1)
                count.value += 1  # misuse
                """,
            ),
        )

    def ref_get(self, a: Any) -> None:
        a.inc()

    def ref_put(self, a: Any) -> bool:
        return bool(a.dec_and_test())


DESIGNS.append(
    Design(
        "refcount",
        "atomic",
        "Refcount over refcount_t (include/linux/refcount.h, lib/refcount.c; "
        "rust/kernel/sync/refcount.rs)",
        KernelRefcount,
    )
)

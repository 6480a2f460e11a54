"""Reference counts with the kernel's checks: ``Refcount`` (``refcount_t``) and ``Kref``.

Kernel: include/linux/refcount.h and lib/refcount.c (``refcount_t``, 2017),
include/linux/kref.h (``struct kref``), and the RCU patterns built on them
(Documentation/RCU/rcuref.rst).  Rust: rust/kernel/sync/refcount.rs
(``Refcount``), which ``Arc<T>`` (rust/kernel/sync/arc.rs) counts with, and
``ARef<T>``/``AlwaysRefCounted`` (rust/kernel/types.rs) for objects that
carry their own count.

A ``refcount_t`` is an ``atomic_t`` whose operations refuse to go wrong
silently.  The value lives in a :class:`kbind.AtomicI32` (C memory, one real
hardware atomic per operation), and the checks are lib/refcount.c's:

* an increment from zero (``refcount_inc()`` on a count that reached zero:
  the object may be freed already) warns "addition on 0; use-after-free";
* a decrement at or below zero warns "underflow; use-after-free"; a plain
  ``dec()`` that reaches zero warns "decrement hit 0; leaking memory" (only
  ``dec_and_test()`` may take the count to zero, because only it can free);
* an increment past ``INT_MAX`` warns "saturated; leaking memory".

Every one of them sets the count to :data:`REFCOUNT_SATURATED` (``INT_MIN /
2``) instead of wrapping, as the kernel does: a saturated count never reaches
zero again, so the object leaks instead of being freed under a user.  The
warning is a :class:`kbind.RefcountWarning` naming the call, where the count
was made and where it last reached zero; each refcount warns once per kind of
event (lib/refcount.c's ``WARN_ONCE()``, which warns once per boot).

Rule A07 of the misuse catalog (``kbind explain A07``).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import ClassVar, Final, final

from kbind import barrier
from kbind._bridge.guard import NotClone, Site
from kbind.atomic import AtomicI32
from kbind.errors import RefcountWarning
from kbind.ordering import Relaxed, Release

__all__ = ["REFCOUNT_MAX", "REFCOUNT_SATURATED", "Kref", "Refcount"]

#: The largest count (``INT_MAX``).
REFCOUNT_MAX: Final = 2**31 - 1
#: Where a count goes when it would overflow or underflow: ``INT_MIN / 2``
#: (include/linux/refcount.h), in the middle of the negative half so that
#: racing increments and decrements cannot bring it back to zero.
REFCOUNT_SATURATED: Final = -(2**30)

_ADD_UAF: Final = "addition on 0; use-after-free"
_SUB_UAF: Final = "underflow; use-after-free"
_DEC_LEAK: Final = "decrement hit 0; leaking memory"
_OVF: Final = "saturated; leaking memory"


@final
class Refcount(NotClone):
    """A reference count that saturates instead of wrapping, and warns where it goes wrong.

    Kernel: ``refcount_t`` (include/linux/refcount.h, lib/refcount.c).  Rust:
    ``kernel::sync::Refcount`` (rust/kernel/sync/refcount.rs).  C: a
    ``kb_atomic_t`` (:class:`kbind.AtomicI32`) and the ``kb_atomic_*()``
    operations; the checks are lib/refcount.c's, after the atomic operation.

    Rules (A07): an increment from zero, a decrement below zero (or a plain
    :meth:`dec` to zero) and an increment past ``INT_MAX`` each warn with
    :class:`kbind.RefcountWarning` (naming the call, where the count was made
    and where it last reached zero) and leave the count at
    :data:`REFCOUNT_SATURATED`, where it stays: the object leaks rather than
    being freed while used.  Orderings are the kernel's: increments are
    relaxed, :meth:`dec_and_test` releases (and acquires when it returns
    True, so the freeing path sees every earlier access), :meth:`inc_not_zero`
    is relaxed (the caller's RCU reader keeps the object in existence).

    Not Clone: copying a count would give a second count of one object
    (``CloneError``).

    Examples:
        >>> from kbind.refcount import Refcount
        >>> r = Refcount(1)
        >>> r.inc_not_zero()
        True
        >>> r.dec_and_test(), r.dec_and_test()
        (False, True)
        >>> r.inc_not_zero()   # the object is being freed: do not use it
        False
    """

    __slots__ = ("__weakref__", "_made_at", "_v", "_warned", "_zero_at")
    _CLONE_ROLE: ClassVar[str] = "owner"

    def __init__(self, n: int = 1) -> None:
        self._v = AtomicI32(n)
        self._made_at = Site.here(2)
        self._zero_at: Site | None = None
        self._warned: set[str] = set()

    def __repr__(self) -> str:
        n = self.read()
        return f"Refcount({'SATURATED' if n < 0 else n})"

    # -- plain accesses

    def read(self) -> int:
        """Return the count (kernel: ``refcount_read()``; a snapshot)."""
        return int(self._v.load(Relaxed))

    def set(self, n: int) -> None:
        """Set the count (kernel: ``refcount_set_release()``: publishes the object's fields first).

        Raises:
            OverflowError: ``n`` does not fit an ``int`` (nothing is changed).
        """
        self._v.store(n, Release)
        if n == 0:
            self._zero_at = Site.here(2, "set to 0 here")

    @property
    def saturated(self) -> bool:
        """Whether the count saturated (it then never reaches zero: the object leaks)."""
        return self.read() < 0

    @property
    def made_at(self) -> Site:
        """Where the count was made."""
        return self._made_at

    # -- increments

    def inc(self) -> None:
        """Add one (kernel: ``refcount_inc()``); the caller must already hold a count.

        Warns ``RefcountWarning`` ("addition on 0; use-after-free") if the count
        was zero, and saturates it.
        """
        self.add(1)

    def add(self, n: int) -> None:
        """Add ``n`` (kernel: ``refcount_add()``), with :meth:`inc`'s checks."""
        old = int(self._v.fetch_add(n, Relaxed))
        if old == 0:
            self._saturate(_ADD_UAF)
        elif old < 0 or old + n > REFCOUNT_MAX:
            self._saturate(_OVF)

    def inc_not_zero(self) -> bool:
        """Add one unless the count is zero; return whether it added.

        Kernel: ``refcount_inc_not_zero()``, the reader's way to a reference of
        its own (Documentation/RCU/rcuref.rst): False means the object is
        being freed, so treat it as not found.
        """
        return self.add_not_zero(1)

    def add_not_zero(self, n: int) -> bool:
        """Add ``n`` unless the count is zero; return whether it added.

        Kernel: ``refcount_add_not_zero()``.
        """
        old = self.read()
        while True:
            if old == 0:
                return False
            new = old + n if 0 < old <= REFCOUNT_MAX - n else REFCOUNT_SATURATED
            ok, old = self._v.try_cmpxchg(old, new, Relaxed)
            if ok:
                break
        if new == REFCOUNT_SATURATED:
            self._saturate(_OVF)
        return True

    # -- decrements

    def dec_and_test(self) -> bool:
        """Subtract one; return True if that was the last count (free the object then).

        Kernel: ``refcount_dec_and_test()``.  Release ordering, and acquire
        when it returns True.  Warns ``RefcountWarning`` ("underflow;
        use-after-free") at or below zero, and saturates.
        """
        return self.sub_and_test(1)

    def sub_and_test(self, n: int) -> bool:
        """Subtract ``n``; return True if the count reached zero (``refcount_sub_and_test()``)."""
        old = int(self._v.fetch_sub(n, Release))
        if old == n:
            barrier.smp_rmb()  # smp_acquire__after_ctrl_dep(): the free sees every access
            self._zero_at = Site.here(2, "the count reached 0 here")
            return True
        if old < 0 or old - n < 0:
            self._saturate(_SUB_UAF)
        return False

    def dec(self) -> None:
        """Subtract one where it cannot be the last count (kernel: ``refcount_dec()``).

        Warns ``RefcountWarning`` ("decrement hit 0; leaking memory") if it
        reaches zero (nothing would free the object), or below.
        """
        old = int(self._v.fetch_sub(1, Release))
        if old <= 1:
            self._saturate(_DEC_LEAK if old == 1 else _SUB_UAF)

    # -- the checks

    def _saturate(self, what: str) -> None:
        # lib/refcount.c's refcount_warn_saturate(): saturate, then WARN_ONCE.
        self._v.store(REFCOUNT_SATURATED, Relaxed)
        if what in self._warned:
            return
        self._warned.add(what)
        sites = [("refcount made at", self._made_at)]
        if self._zero_at is not None:
            sites.append(("the count last reached 0 at", self._zero_at))
        where = Site.here(3)
        lines = "".join(f"\n  {label} {site}" for label, site in sites)
        warnings.warn(
            RefcountWarning(
                f"refcount_t: {what} (A07), at {where}; the count is saturated at "
                f"REFCOUNT_SATURATED and the object will never be freed{lines}",
                where=where,
                sites=tuple(sites),
            ),
            stacklevel=4,
        )


@final
class Kref(NotClone):
    """An embedded reference count with a release function (kernel: ``struct kref``).

    Kernel: include/linux/kref.h (``kref_init()``, ``kref_get()``,
    ``kref_put()``, ``kref_get_unless_zero()``), a :class:`Refcount` with a
    release callback.  Rust: ``ARef<T>`` over ``AlwaysRefCounted``
    (rust/kernel/types.rs) plays its role for objects that carry their count.

    Examples:
        >>> from kbind.refcount import Kref
        >>> freed = []
        >>> k = Kref()
        >>> k.get()
        >>> k.put(lambda: freed.append(1)), k.put(lambda: freed.append(1))
        (False, True)
        >>> freed
        [1]
    """

    __slots__ = ("refcount",)
    _CLONE_ROLE: ClassVar[str] = "owner"

    def __init__(self) -> None:
        #: the count (``kref.refcount``), 1 after ``kref_init()``
        self.refcount = Refcount(1)

    def __repr__(self) -> str:
        return f"Kref({self.refcount.read()})"

    def init(self) -> None:
        """Set the count to one (kernel: ``kref_init()``)."""
        self.refcount.set(1)

    def read(self) -> int:
        """Return the count (kernel: ``kref_read()``)."""
        return self.refcount.read()

    def get(self) -> None:
        """Take a reference; the caller must hold one already (kernel: ``kref_get()``)."""
        self.refcount.inc()

    def get_unless_zero(self) -> bool:
        """Take a reference unless the count is zero (kernel: ``kref_get_unless_zero()``)."""
        return self.refcount.inc_not_zero()

    def put(self, release: Callable[[], object]) -> bool:
        """Drop a reference; call ``release()`` and return True if it was the last.

        Kernel: ``kref_put(kref, release)``.
        """
        if self.refcount.dec_and_test():
            release()
            return True
        return False

"""``kernel::sync::srcu`` (merged 2026-07): ``Srcu``, ``Guard``, ``synchronize()``.

Rust: rust/kernel/sync/srcu.rs, merged in July 2026 (the ``Srcu`` series'
last posting was v7, May 2026).  A pinned
``Srcu`` (built with ``new_srcu!``) is one sleepable-RCU domain;
``read_lock(&self)`` returns an ``srcu::Guard<'_>`` that is ``#[must_use]``
and ``!Send``, holds the SRCU index and borrows its domain, so it can neither
be used with another domain nor outlive its own (compile time).
``synchronize()`` and ``synchronize_expedited()`` wait for the domain's
readers; dropping an ``Srcu`` while readers are active (a leaked guard)
WARNs, waits in ``synchronize_srcu()``, then runs ``srcu_barrier()`` ("sleeping
is less harmful than risking a use-after-free").  No ``call_srcu``, no
``srcu_dereference`` yet.

Kernel: ``struct srcu_struct``, ``srcu_read_lock()``/``srcu_read_unlock()``,
``synchronize_srcu()``, ``synchronize_srcu_expedited()``, ``srcu_barrier()``,
``cleanup_srcu_struct()`` (kernel/rcu/srcutree.c).  C: ``kb_srcu_t``,
``kb_srcu_read_lock()`` ... (csrc/engine/srcu.c: per-slot lock and unlock
counts for two indexes, and the two-index flip).

kbind checks at run time what Rust checks at compile time: a guard ends
once, on its own thread (R08, R10); it remembers its domain, and
:meth:`Srcu.check` refuses another domain's guard (R17) or a closed domain.
SRCU readers may sleep: a :class:`Guard` is not an atomic section
(:mod:`kbind.context`), but waiting for a grace period of the domain inside
one of its own readers would wait for itself (``DeadlockError``, R05).
"""

from __future__ import annotations

import itertools
import sys
import warnings
import weakref
from typing import TYPE_CHECKING, Any, ClassVar, Final, final

from kbind import context
from kbind._bridge.guard import NotClone, Site, user_frame
from kbind._bridge.native import ffi, hot, lib
from kbind.errors import DeadlockError, GuardError, LifetimeError, SrcuActiveReadersWarning
from kbind.lifetime import Scope, ThreadToken, open_scopes
from kbind.rcu.guard import ReadSection, read_leak_hooks

__all__ = ["Guard", "Srcu"]

#: How long one C wait may run before it returns to Python, which then checks
#: for signals (Ctrl-C) and calls again with the same cookie.
_WAIT_SLICE_NS: Final = 50_000_000
_numbers: Final = itertools.count(1)

_leaked, _thread_exited = read_leak_hooks(
    "an srcu::Guard", "Use `with domain.read_lock():` or call guard.unlock()."
)


#: The threads that began an SRCU reader: a domain's teardown names the
#: readers still open on each (their open scopes are kept in C, per thread).
_reader_threads: Final[weakref.WeakSet[ThreadToken]] = weakref.WeakSet()
# The C begin hook calls this at a thread's first reader (then sets a token bit).
hot.configure_srcu(_reader_threads.add)


@final
class Guard(
    ReadSection, Scope, hot.SrcuGuardBase, kind="srcu::Guard", engine="srcu_read",
    on_leak=_leaked, on_thread_exit=_thread_exited, end_anywhere=True,
):  # fmt: skip
    """A read-side critical section of one SRCU domain; it may sleep.

    Rust: ``kernel::sync::srcu::Guard<'a>`` (from ``Srcu::read_lock()``,
    merged 2026-07; released by drop or ``unlock(self)``).  Kernel:
    ``srcu_read_lock()`` / ``srcu_read_unlock()``.  C:
    ``kb_srcu_read_lock()`` / ``kb_srcu_read_unlock()``.

    Rules (run-time checks, each error names both sites):

    * the guard belongs to the thread that made it (Rust: ``!Send``):
      ``unlock()`` on another thread raises ``GuardError`` (R08);
    * it is released once: a second ``unlock()`` raises ``GuardError`` (R10);
    * it is bound to its domain (Rust: it borrows the ``Srcu``):
      :attr:`domain` and :meth:`Srcu.check` raise once the domain is closed
      (``LifetimeError``), and :meth:`Srcu.check` refuses it for another
      domain (``GuardError``, R17);
    * ``#[must_use]``: a guard collected while held is released, with a
      ``GuardLeakWarning`` naming where it was made.

    The read lock and unlock run in C (``kbind._bridge._hotpath``, hooks
    ``srcu_read``), with the GIL held, the index kept in the scope: the engine
    call and the guard's record cannot be split by a Ctrl-C.

    Unlike an RCU guard it is not an atomic section: the reader may sleep
    (``kbind.context.might_sleep()`` passes inside it), and it holds up only
    its own domain's grace periods.

    Examples:
        >>> from kbind.kernel.sync.srcu import Srcu
        >>> domain = Srcu()
        >>> with domain.read_lock() as g:
        ...     domain.check(g)
        >>> domain.close()
    """

    __slots__ = ()
    _END = "unlock"
    _MAKE = "Srcu.read_lock()"
    _MAKE_ALSO = "kbind.kernel.sync.srcu.Guard(domain)"

    if TYPE_CHECKING:  # C getters of hot.SrcuGuardBase

        @property
        def _domain(self) -> weakref.ref[Srcu]: ...
        @property
        def _idx(self) -> int: ...
        @property
        def _sp(self) -> Any: ...

    def unlock(self) -> None:
        """Leave the read-side critical section now (Rust: ``Guard::unlock(self)``).

        Raises:
            GuardError: on another thread (R08) or if already unlocked (R10).
        """
        self.end()

    @property
    def domain(self) -> Srcu:
        """The domain this guard reads (Rust: the ``&'a Srcu`` it borrows).

        Raises:
            LifetimeError: the domain was closed or collected; the message names
                where the domain was made and closed, and this guard's site.
        """
        domain = self._domain()
        if domain is None:
            raise LifetimeError(
                f"use the domain of {self.name}",
                "the Srcu domain this guard was taken in was garbage-collected; a guard "
                "cannot outlive its domain (Rust: the guard borrows the Srcu)",
                guard=self.name, created_at=self.created_at, dropped_at=self.dropped_at,
                sites=[("attempted at", Site.from_frame(user_frame()))],
                hint="keep the Srcu alive while its guards are used",
            )  # fmt: skip
        domain._check_open(f"use the domain of {self.name}", guard=self)
        return domain


@final
class Srcu(NotClone):
    """One sleepable-RCU domain: readers may sleep; its grace periods wait for its readers only.

    Rust: ``kernel::sync::srcu::Srcu`` (merged 2026-07; ``new_srcu!``,
    ``read_lock()``, ``synchronize()``, ``synchronize_expedited()``, and a
    ``Drop`` that warns, synchronizes and runs ``srcu_barrier()`` while
    readers are active).  Kernel: ``struct srcu_struct``.  C: ``kb_srcu_t``
    (the struct lives in C memory, made with ``ffi.new``).

    Rules (run-time checks, each error names both sites):

    * ``synchronize()`` inside a reader of this domain on the calling thread
      raises ``DeadlockError`` (R05: it would wait for itself; the kernel's
      lockdep reports "Illegal synchronize_srcu() in same-type SRCU"); inside
      a reader of another domain it is allowed;
    * it may sleep: in an atomic section (an RCU reader, a spinlock) it
      raises ``AtomicContextError`` (:func:`kbind.context.might_sleep`);
    * :meth:`check` refuses another domain's guard (``GuardError``, R17);
    * once closed, ``read_lock()``, ``synchronize()`` and :meth:`check`
      raise ``LifetimeError`` naming where it was made and closed;
    * closing (or collecting) it while readers are active warns
      (``SrcuActiveReadersWarning``), waits for them, then runs a barrier.

    Context: waits release the GIL, in slices that let Ctrl-C in.

    Examples:
        >>> domain = Srcu()
        >>> g = domain.read_lock()
        >>> g.unlock()
        >>> domain.synchronize()
        >>> domain.close()
    """

    __slots__ = ("__weakref__", "_closed_at", "_created_at", "_name", "_self", "_sp", "_word")
    _CLONE_ROLE: ClassVar[str] = "owner"

    def __init__(self) -> None:
        sp = ffi.new("kb_srcu_t *")
        lib.kb_srcu_init(sp)
        self._sp: Any = sp
        self._name = f"Srcu#{next(_numbers)}"
        self._created_at = Site.from_frame(user_frame())
        self._self = weakref.ref(self)
        # What the C read side uses: the kb_srcu_t's address (sp keeps it alive).
        self._word = hot.SrcuWord(sp, int(ffi.cast("uintptr_t", sp)), self._self)
        self._closed_at: Site | None = None

    def __repr__(self) -> str:
        state = f"closed at {self._closed_at}" if self._closed_at else "open"
        return f"<{self._name} {state}, created at {self._created_at}>"

    @property
    def name(self) -> str:
        """``Srcu#n``, unique in the process."""
        return self._name

    @property
    def created_at(self) -> Site:
        """Where the domain was made."""
        return self._created_at

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` ran (or the domain was collected)."""
        return self._closed_at is not None

    def _check_open(self, op: str, guard: Guard | None = None) -> None:
        if self._closed_at is None:
            return
        sites = [("domain closed at", self._closed_at)]
        if guard is not None:
            sites.append((f"{guard.name} created at", guard.created_at))
        sites.append(("attempted at", Site.from_frame(user_frame())))
        raise LifetimeError(
            f"{op} on {self._name}",
            f"{self._name} was closed; a domain's readers and grace periods end with it "
            "(Rust: a guard borrows its Srcu, which cannot be dropped under it)",
            guard=self._name, created_at=self._created_at, sites=sites,
            hint="close a domain only after its last use",
        )  # fmt: skip

    # -- readers

    def read_lock(self) -> Guard:
        """Enter a read-side section of this domain; return its guard (Rust: ``Srcu::read_lock()``).

        Kernel: ``srcu_read_lock()``.  Context: never blocks; the section may sleep.
        C: a method of ``kbind._bridge._hotpath`` (``srcu_read_method``, set
        below the class) takes the read lock and makes the guard with no
        Python frame; this body is its reference behaviour.

        Raises:
            LifetimeError: the domain is closed.
        """
        return Guard(self)

    def check(self, guard: Guard) -> None:
        """Check that ``guard`` is an open guard of this domain, on this thread (Rust: the borrow).

        What a design calls before reading the domain's data under a guard
        (Rust: an API taking ``&srcu::Guard<'a>`` tied to this ``Srcu``).

        Raises:
            TypeError: ``guard`` is not an :class:`Guard`.
            GuardError: it belongs to another domain (R17) or thread (R08).
            LifetimeError: it was unlocked, or this domain is closed.
        """
        if not isinstance(guard, Guard):
            raise TypeError(
                f"Srcu.check(guard): expected an srcu::Guard, not {type(guard).__name__}"
            )
        op = f"use {guard.name} with {self._name}"
        self._check_open(op, guard)
        guard.check_alive(op)
        guard.check_owner(op)
        if guard._sp is not self._sp:
            other = guard._domain()
            sites = [(f"{self._name} created at", self._created_at)]
            if other is not None:
                sites.insert(0, (f"{other.name} (the guard's domain) created at", other.created_at))
            sites.append(("attempted at", Site.from_frame(user_frame())))
            raise GuardError(
                op,
                f"R17: {guard.name} is a reader of "
                f"{other.name if other is not None else 'another domain'}, not of {self._name}: "
                "it holds up only its own domain's grace periods (Rust: the guard borrows "
                "its Srcu; kernel: lockdep checks srcu_dereference()'s domain)",
                guard=guard.name, created_at=guard.created_at, sites=sites,
                hint=f"take the guard with {self._name}.read_lock()",
            )  # fmt: skip

    def _my_readers(self) -> list[Guard]:
        return [g for g in open_scopes(None, Guard) if g._sp is self._sp]

    def _open_readers(self) -> list[Guard]:
        """Return the open guards of this domain on every thread (for a teardown's message)."""
        sp = self._sp
        return [g for t in list(_reader_threads) for g in open_scopes(t, Guard) if g._sp is sp]

    # -- grace periods

    def _refuse_in_reader(self, op: str, mine: list[Guard]) -> None:
        first = mine[0]
        raise DeadlockError(
            f"call {op} on {self._name}",
            f"R05: this thread is inside a read-side section of {self._name} ({first.name}), "
            "and a grace period of a domain waits for all of its readers: it would wait for "
            "itself forever (kernel lockdep: \"Illegal synchronize_srcu() in same-type SRCU\")",
            guard=first.name, created_at=first.created_at,
            sites=[(f"{op} at", Site.from_frame(user_frame()))],
            hint="unlock the guard first; a reader of another domain may wait",
        )  # fmt: skip

    def _wait(self, op: str, expedited: bool) -> None:
        self._check_open(op)
        mine = self._my_readers()
        if mine:
            self._refuse_in_reader(op, mine)
        context.might_sleep(f"Srcu::{op}")
        self._wait_unchecked(expedited)

    def _wait_unchecked(self, expedited: bool) -> None:
        sp = self._sp
        cookie = lib.kb_get_state_synchronize_srcu(sp)
        # Back in Python between slices: Ctrl-C can interrupt here; the grace
        # period's progress stays in the domain for the next caller.
        while lib.kb_srcu_wait_gp(sp, cookie, _WAIT_SLICE_NS, expedited) != lib.KB_OK:
            pass

    def synchronize(self) -> None:
        """Wait until every reader of this domain that began before the call has ended.

        Rust: ``Srcu::synchronize()`` (2026-07).  Kernel: ``synchronize_srcu()``.
        C: ``kb_srcu_wait_gp()`` (the GIL released, in slices).

        Context: may sleep (``kbind.context.might_sleep()``).

        Raises:
            DeadlockError: inside a reader of this domain on this thread (R05).
            AtomicContextError: in an atomic section (an RCU reader, a spinlock).
            LifetimeError: the domain is closed.
        """
        self._wait("synchronize()", expedited=False)

    def synchronize_expedited(self) -> None:
        """As :meth:`synchronize`, waiting by spinning and yielding instead of sleeping.

        Rust: ``Srcu::synchronize_expedited()`` (2026-07).  Kernel:
        ``synchronize_srcu_expedited()``.  Raises like :meth:`synchronize`.
        """
        self._wait("synchronize_expedited()", expedited=True)

    def readers_active(self) -> bool:
        """Whether any reader is in this domain now (a snapshot; ``srcu_readers_active()``)."""
        return bool(lib.kb_srcu_readers_active(self._sp))

    def grace_periods(self) -> int:
        """How many grace periods this domain has completed."""
        return int(lib.kb_srcu_gp_count(self._sp))

    # -- teardown

    def close(self) -> None:
        """Tear the domain down, as the Rust ``Srcu``'s drop does (a second call does nothing).

        Kernel: ``cleanup_srcu_struct()``.  With readers active (a guard still
        held on another thread, or one not yet collected) it warns with
        ``SrcuActiveReadersWarning`` naming the domain and the readers, waits
        for them (``synchronize()``), then runs ``srcu_barrier()``.  Afterwards
        the domain refuses new readers and waits (``LifetimeError``).

        Context: may sleep.

        Raises:
            DeadlockError: a reader of this domain is open on this thread (R05):
                waiting for it would wait forever.
        """
        if self._closed_at is not None:
            return
        mine = self._my_readers()
        if mine:
            self._refuse_in_reader("close()", mine)
        context.might_sleep("Srcu::drop (close())")
        self._teardown(Site.from_frame(user_frame()), "closed")

    def _closing(self, site: Site) -> None:
        self._closed_at = site
        self._word.closed = True  # the C read_lock() refuses new readers from here

    def _teardown(self, site: Site, how: str) -> None:
        self._closing(site)
        sp = self._sp
        if lib.kb_srcu_readers_active(sp):
            held = sorted(self._open_readers(), key=lambda g: g.name)
            where = "; ".join(f"{g.name} created at {g.created_at}" for g in held)
            warnings.warn(
                SrcuActiveReadersWarning(
                    f"{self._name} (created at {self._created_at}) was {how} at {site} while "
                    f"readers were active ({where or 'leaked guards'}); kbind waits for them "
                    "in synchronize(), then runs srcu_barrier(), as the Rust Srcu's drop does. "
                    "Unlock every guard before dropping its domain."
                ),
                stacklevel=3,
            )
            self._wait_unchecked(expedited=False)
        while lib.kb_srcu_barrier_timeout(sp, _WAIT_SLICE_NS) != lib.KB_OK:
            pass
        lib.kb_cleanup_srcu_struct(sp)

    def __del__(self) -> None:
        if getattr(self, "_closed_at", True) is not None or sys.is_finalizing():
            return  # closed already, __init__ never ran, or the process is exiting
        try:
            site = Site.from_frame(user_frame(), "collected")
        except ValueError:  # collected with no Python frame on the stack
            site = self._created_at
        if self._my_readers():
            # A guard of this domain is open on the collecting thread: waiting
            # would never end.  The guards keep the C domain alive.
            self._closing(site)
            warnings.warn(
                SrcuActiveReadersWarning(
                    f"{self._name} (created at {self._created_at}) was garbage-collected "
                    "inside one of its own readers on this thread; kbind cannot wait for "
                    "them here, so the C domain lives on until its guards are unlocked."
                ),
                stacklevel=2,
            )
            return
        self._teardown(site, "garbage-collected")


# The C fast path of read_lock(): no Python frame between the call and the guard.
Srcu.read_lock = hot.srcu_read_method(  # type: ignore[method-assign]
    "read_lock", Srcu.read_lock.__doc__ or "", Guard, "_word"
)

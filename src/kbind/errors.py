"""kbind's exceptions and warnings.

Every error says what was attempted, which rule it broke, where the objects
involved were created and dropped (one line per site), and a hint.  The parts
are kept as fields (``op``, ``rule``, ``guard``, ``created_at``,
``dropped_at``, ``sites``, ``hint``) so code and tests can inspect them.

``KbindError`` is the root and is never raised itself; each subclass also
inherits the builtin exception it means, so ``except RuntimeError`` (or
``ValueError``) keeps working for code that does not know kbind.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kbind._bridge.site import Site

__all__ = [
    "AtomicContextError",
    "BackendError",
    "BackendForkError",
    "BackendUnavailableError",
    "CloneError",
    "CountedLeakWarning",
    "DeadlockError",
    "GuardError",
    "GuardLeakWarning",
    "KbindError",
    "KbindWarning",
    "LifetimeError",
    "OrderingError",
    "RcuDropGuardLeakWarning",
    "RcuOldLeakWarning",
    "RcuStallWarning",
    "ReadOnlyError",
    "RefcountWarning",
    "SrcuActiveReadersWarning",
    "TentativeValueError",
    "UseAfterFreeError",
]


#: The explanations tool (kbind.explain) registers its renderer here when it
#: is imported -- kbind's facade imports it -- so the errors, a lower layer,
#: never import the tool.
_explainer: Callable[[str], str] | None = None


def register_explainer(explainer: Callable[[str], str]) -> None:
    """Install the function behind ``KbindError.explain()`` (called by kbind.explain)."""
    global _explainer
    _explainer = explainer


def _explain(name: str) -> str:
    if _explainer is None:  # only if kbind.errors was loaded without the kbind package
        raise RuntimeError("no explanations are loaded: import kbind.explain first")
    return _explainer(name)


class KbindError(Exception):
    """Root of kbind's errors; never raised directly.

    Attributes:
        op: what was attempted ("read .value of LockGuard#3").
        rule: the rule it broke, in one sentence.
        guard: the name of the guard or object involved, if any.
        created_at: where that guard or object was created.
        dropped_at: where it was dropped (released, unlocked), if it was.
        sites: further labelled sites, in message order.
        hint: how to fix it.
    """

    def __init__(
        self,
        op: str,
        rule: str,
        *,
        guard: str | None = None,
        created_at: Site | None = None,
        dropped_at: Site | None = None,
        sites: Iterable[tuple[str, Site]] = (),
        hint: str | None = None,
    ) -> None:
        self.op = op
        self.rule = rule
        self.guard = guard
        self.created_at = created_at
        self.dropped_at = dropped_at
        self.sites = tuple(sites)
        self.hint = hint
        super().__init__(self._message())

    def _message(self) -> str:
        lines = [f"cannot {self.op}: {self.rule}"]
        what = self.guard or "object"
        if self.created_at is not None:
            lines.append(f"  {what} created at {self.created_at}")
        if self.dropped_at is not None:
            lines.append(f"  {what} dropped at {self.dropped_at}")
        lines.extend(f"  {label} {site}" for label, site in self.sites)
        if self.hint:
            lines.append(f"hint: {self.hint}")
        return "\n".join(lines)

    @classmethod
    def explain(cls) -> str:
        """Return the long explanation of this error class (as ``kbind explain <ClassName>``).

        The rule, a wrong and a right example, the rule codes and the
        kernel documentation it comes from.
        """
        return _explain(cls.__name__)

    def __reduce__(self) -> tuple[object, ...]:
        # Keep the message (and the class) across pickling, e.g. to a worker.
        return (_rebuild, (type(self), str(self)))


def _rebuild(cls: type[KbindError], message: str) -> KbindError:
    err = cls.__new__(cls)
    Exception.__init__(err, message)
    err.op, err.rule, err.guard = "", message, None
    err.created_at = err.dropped_at = None
    err.sites, err.hint = (), None
    return err


class LifetimeError(KbindError, RuntimeError):
    """Something was used after the guard or scope that made it valid ended.

    Rust rejects these at compile time through lifetimes (a reference cannot
    outlive its guard); kbind detects them when the stale object is used.
    """


class GuardError(KbindError, RuntimeError):
    """A guard was dropped twice, on the wrong thread, or used where it is not valid.

    Rust's guards are ``!Send`` and dropped exactly once by construction.
    """


class CloneError(GuardError, TypeError):
    """A guard, lock, ``Rcu`` or other owner was copied or pickled.

    Each of them is one object used exactly once (a guard ends once; a lock
    or ``Rcu`` is one place that others share by reference), so a duplicate
    would break mutual exclusion or free what readers still hold.  Rust:
    they are not ``Clone``/``Copy``.  Also a ``TypeError``, which ``copy``
    and ``pickle`` users expect for objects that cannot be copied.
    """


class DeadlockError(KbindError, RuntimeError):
    """An operation would wait forever on the calling thread itself.

    Raised instead of hanging: re-locking a lock this thread holds, waiting
    for a grace period inside a read-side critical section, and the like.
    The kernel's lockdep reports the same at run time.
    """


class AtomicContextError(KbindError, RuntimeError):
    """A call that may sleep was made where nothing may sleep (an atomic section).

    Kernel: ``might_sleep()`` under ``CONFIG_DEBUG_ATOMIC_SLEEP`` ("BUG:
    sleeping function called from invalid context"): inside an RCU read-side
    section, a spinlock, an interrupt-disabled section or an RCU callback.
    Rust-for-Linux leaves it to the ``klint`` lint.  See :mod:`kbind.context`.
    """


class OrderingError(KbindError, ValueError):
    """A memory ordering the operation does not have was asked for.

    Rust-for-Linux rejects these at compile time (orderings are types); mypy
    rejects them in kbind too, and the run time repeats the check.

    Attributes:
        ordering: what was passed.
        allowed: the names of the orderings the operation accepts.
    """

    def __init__(self, op: str, ordering: object, allowed: Iterable[str]) -> None:
        self.ordering = ordering
        self.allowed = tuple(allowed)
        names = ", ".join(f"kbind.{name}" for name in self.allowed)
        super().__init__(
            f"call {op} with ordering {ordering!r}",
            f"{op} accepts only {names}",
            hint="the kernel has no variant of this operation with that ordering; "
            f"pass kbind.{self.allowed[-1]} for the strongest one it has",
        )


class KbindWarning(UserWarning):
    """Root of kbind's warnings: a rule was bent in a way kbind could repair."""

    @classmethod
    def explain(cls) -> str:
        """Return the long explanation of this warning class (as ``kbind explain``)."""
        return _explain(cls.__name__)


class GuardLeakWarning(KbindWarning, ResourceWarning):
    """A guard was garbage-collected while still held; kbind released it.

    Rust would release it on drop; in Python, drop it explicitly or use
    ``with`` so release happens at a known point.
    """


class TentativeValueError(LifetimeError):
    """A value read in a sequence-lock read attempt that failed was used.

    Values read between ``SeqLock.read_begin()`` and ``SeqLock.read_retry()``
    are tentative: a writer may have torn them.  If the retry check says the
    attempt failed, they (and everything computed from them) must not be
    used.  The kernel cannot catch this (rule S01, docs/misuse.md); the
    "tentatively readable" ownership class Paul E. McKenney proposed in "Can
    Rust Code Own Sequence Locks?" (2021) would warn at compile time; kbind raises when
    the value is used.  ``created_at`` is where the value was read.
    """


class UseAfterFreeError(LifetimeError):
    """An RCU-protected object was used after a grace period freed it.

    Only an ``RcuDropGuard`` frees an old value, and only after a grace
    period: with a correct engine no reader that still holds its guard can
    see this.  It is what the kernel would report as a use-after-free (KASAN),
    and what kbind's busted engines (``KB_RCU_BUSTED_*``) are caught by.
    ``created_at`` is where the value was published; ``retired_at`` and
    ``freed_at`` (also in ``sites``) are where it was replaced and freed.

    Attributes:
        retired_at: where the value was unpublished (``replace``/``update``).
        freed_at: where it was freed (``RcuDropGuard.drop``/``defer``).
    """

    retired_at: Site | None = None
    freed_at: Site | None = None

    def __init__(
        self,
        op: str,
        rule: str,
        *,
        guard: str | None = None,
        created_at: Site | None = None,
        dropped_at: Site | None = None,
        sites: Iterable[tuple[str, Site]] = (),
        hint: str | None = None,
        retired_at: Site | None = None,
        freed_at: Site | None = None,
    ) -> None:
        self.retired_at = retired_at
        self.freed_at = freed_at
        labelled = list(sites)
        if retired_at is not None:
            labelled.append(("retired at", retired_at))
        if freed_at is not None:
            labelled.append(("freed at", freed_at))
        super().__init__(
            op,
            rule,
            guard=guard,
            created_at=created_at,
            dropped_at=dropped_at,
            sites=labelled,
            hint=hint,
        )


class RcuStallWarning(KbindWarning, RuntimeWarning):
    """A grace period was held up longer than the stall threshold.

    Kernel: the "rcu_sched self-detected stall" / "INFO: rcu detected stall"
    splat (kernel/rcu/tree_stall.h).  A reader stayed in a read-side
    critical section too long, a guard was leaked, or a thread in explicit
    QSBR mode stopped reporting quiescent states.  The message names each
    thread holding the grace period up and where its (outermost) guard was
    created, or where it last went online.

    Attributes:
        readers: ``(thread name, native thread id, seconds blocked, site or
            None)`` for each thread holding the grace period up.
    """

    readers: tuple[tuple[str, int, float, Site | None], ...] = ()


class RcuDropGuardLeakWarning(GuardLeakWarning):
    """An ``RcuDropGuard`` was garbage-collected without ``drop()`` or ``defer()``.

    kbind did not leak the old value: it deferred the free to after a grace
    period (as ``defer()`` would).  Rust frees it when the guard is dropped;
    in Python, call ``drop()``/``defer()`` or use ``with`` so the point where
    the old value dies is explicit.
    """


class RcuOldLeakWarning(GuardLeakWarning):
    """An ``RcuOld`` (:mod:`kbind.rfc.rcu_pointer`) was garbage-collected without ``drop()``.

    Rust: ``RcuOld<P>`` (Boqun Feng, RFC v3, April 2025) waits for a grace
    period and frees when dropped.  kbind did not leak the old pointee: it
    freed it after a grace period without waiting (a finalizer must not
    block).  Call ``drop()`` or use ``with`` so the point where it dies is
    explicit.
    """


class RefcountWarning(KbindWarning, RuntimeWarning):
    """A reference count was incremented from zero, decremented below it, or saturated.

    Kernel: lib/refcount.c's ``refcount_warn_saturate()`` ("refcount_t:
    addition on 0; use-after-free.", "underflow; use-after-free.", "decrement
    hit 0; leaking memory.", "saturated; leaking memory."), a ``WARN_ONCE()``.
    Rust: ``kernel::sync::Refcount`` (rust/kernel/sync/refcount.rs) is the
    same C count.  kbind (:class:`kbind.refcount.Refcount`) saturates the
    count, as the kernel does, so the object leaks instead of being freed
    while in use (rule A07).

    Attributes:
        where: the call that went wrong.
        sites: ``(label, Site)`` for where the count was made and where it
            last reached zero.
    """

    where: Site | None = None
    sites: tuple[tuple[str, Site], ...] = ()

    def __init__(
        self, message: str, where: Site | None = None, sites: tuple[tuple[str, Site], ...] = ()
    ) -> None:
        super().__init__(message)
        self.where = where
        self.sites = sites


class CountedLeakWarning(GuardLeakWarning):
    """A counted reference (``kbind.rcu.Counted``) was garbage-collected without ``put()``.

    Rust: dropping an ``ARef<T>``/``Arc<T>`` puts its count; a C caller who
    forgets ``refcount_dec_and_test()`` leaks the object forever.  kbind put
    the count for you (the object is freed after a grace period if it was the
    last) and warns naming where the count was taken (rule R28).
    """


class SrcuActiveReadersWarning(KbindWarning, RuntimeWarning):
    """An SRCU domain was closed or collected while readers were still active.

    Kernel: ``cleanup_srcu_struct()`` WARNs ("Active srcu_struct ... read
    state") and leaks the domain.  Rust (``kernel::sync::srcu::Srcu``'s drop,
    2026-07) WARNs, waits in ``synchronize_srcu()``, then runs
    ``srcu_barrier()``; so does kbind (:mod:`kbind.kernel.sync.srcu`).
    """


class ReadOnlyError(KbindError, TypeError):
    """An RCU-protected object was about to be modified in place through a reader's reference.

    Readers share the published object with every other reader, so it must
    never change while published (rule R16): an update publishes a new
    object instead.  Rust hands readers ``&T``, a shared reference that
    cannot be used to mutate; kbind's ``RcuRef`` refuses assignments,
    deletions and the known mutating methods of builtin containers.
    """


class BackendError(KbindError, RuntimeError):
    """The RCU backend was chosen after the RCU engine was already in use.

    A backend owns the engine's state (registered threads, grace-period
    numbers, queued callbacks), so it is chosen once per process, before
    first use: ``kbind.rcu_backend.select_backend()`` early, or
    ``KBIND_RCU_BACKEND`` in the environment.  C: kb_rcu_set_backend()
    returning KB_EBUSY.

    Attributes:
        backend: the backend that was asked for.
        current: the backend in use.
    """

    def __init__(self, backend: str, current: str) -> None:
        self.backend = backend
        self.current = current
        super().__init__(
            f"select the RCU backend {backend!r}",
            f"the RCU engine is already in use with the {current!r} backend, and the backend "
            "is chosen once per process, before the first registered thread, grace period "
            "or call_rcu",
            hint="call kbind.rcu_backend.select_backend() at the start of the program, or set "
            f"KBIND_RCU_BACKEND={backend} in the environment",
        )


class BackendForkError(KbindError, RuntimeError):
    """The RCU backend cannot wait for grace periods in this child of ``fork()``.

    liburcu's QSBR flavour keeps its registry of reader threads in each
    thread's own storage and can unregister only the calling thread, so its
    README ("Interaction with fork()") requires every registered thread to
    unregister before ``fork()``.  In a child whose parent had other
    registered threads (or used call_rcu, whose thread is one), kbind's
    liburcu backend refuses grace periods, thread registration and call_rcu
    rather than walk freed memory; read-side sections on the surviving thread
    still work.  The builtin backend supports ``fork()``.  C: KB_ENOTSUP,
    ``kb_rcu_backend_usable()``.

    Attributes:
        op: what was attempted.
    """

    def __init__(self, op: str) -> None:
        self.op = op
        super().__init__(
            op,
            "this process is a child of fork() and the liburcu backend cannot follow a "
            "fork while other threads were registered with it (liburcu-qsbr keeps them "
            "in its registry for good)",
            hint="use the builtin backend (KBIND_RCU_BACKEND=builtin), which supports fork(); "
            "start children with the 'spawn' or 'forkserver' multiprocessing method; or exec "
            "right after fork()",
        )


class BackendUnavailableError(KbindError, ImportError):
    """The RCU backend asked for cannot be loaded (liburcu is not installed).

    kbind loads liburcu at run time, so it builds and imports without it;
    asking for the ``liburcu`` backend then fails with this error, which
    says how to install it.  C: kb_rcu_set_backend() returning KB_ENOENT.

    Attributes:
        backend: the backend that was asked for.
        reason: why the loader failed (from dlopen()).
    """

    def __init__(self, backend: str, reason: str) -> None:
        self.backend = backend
        self.reason = reason
        super().__init__(
            f"select the RCU backend {backend!r}",
            f"its library cannot be loaded: {reason}",
            hint="install liburcu's QSBR flavour, e.g. `apt-get install liburcu8` (the library) "
            "or `apt-get install liburcu-dev` (with headers, for the native benchmark); "
            "KBIND_LIBURCU_QSBR=<soname or path> names another build; or use the 'builtin' "
            "backend, which needs nothing",
        )

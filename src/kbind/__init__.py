"""kbind: a laboratory for the Rust-style bindings of the Linux kernel's concurrency primitives.

A C core (csrc/, compiled by cffi) implements a QSBR RCU engine (or drives
liburcu's), sequence locks, barriers, LKMM atomics and locks; the Python
classes mirror the APIs proposed for Rust-for-Linux and check at run time
what Rust checks at compile time.

Modules: :mod:`kbind.barrier` (``smp_mb()`` ...), :mod:`kbind.word`
(``Word``, ``READ_ONCE`` ...), :mod:`kbind.atomic` (``AtomicI32/I64/Usize``),
:mod:`kbind.refcount` (``Refcount``: ``refcount_t``; ``Kref``),
:mod:`kbind.ordering` (``Relaxed``, ``Acquire``, ``Release``, ``Full``),
:mod:`kbind.sync` (``SpinLock``, ``Mutex``), :mod:`kbind.rcu` (``RcuReadGuard``,
``Rcu[T]``, ``RcuDropGuard[T]``, ``synchronize_rcu()`` ...), :mod:`kbind.rcu_backend`
(the RCU engine: builtin or liburcu, from ``KBIND_RCU_BACKEND``), :mod:`kbind.seqlock`,
:mod:`kbind.errors`.
"""

from __future__ import annotations

# rcu_backend first: it applies KBIND_RCU_BACKEND before anything uses the engine.
from kbind import rcu_backend  # isort: skip
from kbind import barrier, rcu
from kbind import explain as _explain  # noqa: F401  (registers KbindError.explain())
from kbind._bridge.guard import Site
from kbind.atomic import AtomicI32, AtomicI64, AtomicUsize
from kbind.errors import (
    AtomicContextError,
    BackendError,
    BackendForkError,
    BackendUnavailableError,
    CloneError,
    CountedLeakWarning,
    DeadlockError,
    GuardError,
    GuardLeakWarning,
    KbindError,
    KbindWarning,
    LifetimeError,
    OrderingError,
    RcuDropGuardLeakWarning,
    RcuStallWarning,
    ReadOnlyError,
    RefcountWarning,
    TentativeValueError,
    UseAfterFreeError,
)
from kbind.ordering import (
    Acquire,
    AcquireOrdering,
    AcquireOrRelaxed,
    AnyOrdering,
    Full,
    FullOrdering,
    Ordering,
    Relaxed,
    RelaxedOrdering,
    Release,
    ReleaseOrdering,
    ReleaseOrRelaxed,
)
from kbind.rcu import (
    Counted,
    Held,
    Rcu,
    RcuDropGuard,
    RcuHashTable,
    RcuHList,
    RcuList,
    RcuReadGuard,
    RcuRef,
    RcuRefcounted,
    RcuWrite,
    TypesafePool,
    call_rcu,
    lock_existing,
    rcu_barrier,
    synchronize_rcu,
    try_get,
)
from kbind.refcount import Kref, Refcount
from kbind.seqlock import (
    SeqLatch,
    SeqLatchWriteView,
    SeqLock,
    SeqReadToken,
    SeqView,
    SeqWriteGuard,
    TentativeValue,
)
from kbind.sync import LockGuard, Mutex, SpinLock
from kbind.torture.seqlock import SeqlockTortureResult, format_seqlock_report, seqlock_torture
from kbind.word import READ_ONCE, WRITE_ONCE, Word, smp_load_acquire, smp_store_release

__version__ = "0.1.0"

__all__ = [
    "READ_ONCE",
    "WRITE_ONCE",
    "Acquire",
    "AcquireOrRelaxed",
    "AcquireOrdering",
    "AnyOrdering",
    "AtomicContextError",
    "AtomicI32",
    "AtomicI64",
    "AtomicUsize",
    "BackendError",
    "BackendForkError",
    "BackendUnavailableError",
    "CloneError",
    "Counted",
    "CountedLeakWarning",
    "DeadlockError",
    "Full",
    "FullOrdering",
    "GuardError",
    "GuardLeakWarning",
    "Held",
    "KbindError",
    "KbindWarning",
    "Kref",
    "LifetimeError",
    "LockGuard",
    "Mutex",
    "Ordering",
    "OrderingError",
    "Rcu",
    "RcuDropGuard",
    "RcuDropGuardLeakWarning",
    "RcuHList",
    "RcuHashTable",
    "RcuList",
    "RcuReadGuard",
    "RcuRef",
    "RcuRefcounted",
    "RcuStallWarning",
    "RcuWrite",
    "ReadOnlyError",
    "Refcount",
    "RefcountWarning",
    "Relaxed",
    "RelaxedOrdering",
    "Release",
    "ReleaseOrRelaxed",
    "ReleaseOrdering",
    "SeqLatch",
    "SeqLatchWriteView",
    "SeqLock",
    "SeqReadToken",
    "SeqView",
    "SeqWriteGuard",
    "SeqlockTortureResult",
    "Site",
    "SpinLock",
    "TentativeValue",
    "TentativeValueError",
    "TypesafePool",
    "UseAfterFreeError",
    "Word",
    "__version__",
    "barrier",
    "call_rcu",
    "format_seqlock_report",
    "lock_existing",
    "rcu",
    "rcu_backend",
    "rcu_barrier",
    "seqlock_torture",
    "smp_load_acquire",
    "smp_store_release",
    "synchronize_rcu",
    "try_get",
]

"""Read-copy update with Rust-style guards: ``RcuReadGuard``, ``Rcu[T]``, ``RcuDropGuard[T]``.

Mirrors the RCU bindings proposed for Rust-for-Linux (``Rcu<T>``,
``RcuWrite<T>``, ``RcuReadGuard``, ``RcuDropGuard<T>``; kernel:
include/linux/rcupdate.h) over kbind's QSBR engine (csrc/engine/rcu.c).  What Rust
checks at compile time is checked here at run time, with errors that name
the rule and the sites involved.

Readers::

    with RcuReadGuard() as g:          # rcu_read_lock()
        cfg = config.read(g)           # rcu_dereference(): an RcuRef bound to g
        timeout = cfg.timeout          # plain values come out as they are
    # rcu_read_unlock(): cfg is dead now; using it raises LifetimeError

    timeout = config.with_read(lambda cfg: cfg.timeout)   # the closure form

Updaters publish a new object and get back an :class:`RcuDropGuard` that owns
the old one; the old object is freed only after a grace period, when no
reader can still hold it::

    with config.replace(Config(timeout=5)):   # leaving the block: synchronize_rcu() + free
        pass
    config.update(lambda old: Config(timeout=old.timeout + 1)).defer()   # call_rcu() free

"Freed" is real in the sense that matters: the C engine's grace periods
decide when, and a freed object is poisoned, so a late access through any
reference raises :class:`kbind.UseAfterFreeError`.  With a correct engine no
reader ever sees that; the busted engines (tests only) make it happen.

Threads register with the engine on first use and unregister when they end.
A Python thread is online (holds up grace periods) only while it holds a
read guard, unless it opted into explicit QSBR mode (:func:`qsbr_mode`), in
which it stays online and must report :func:`quiescent_state` itself.

Rules enforced at run time (rule codes of docs/misuse.md):

* R01/R02: a reference used after its guard was dropped: ``LifetimeError``.
* R04: readers need a guard: ``read()`` takes one (type-checked too).
* R05/R06/R07: ``synchronize_rcu()``, ``rcu_barrier()`` and a blocking
  ``RcuDropGuard.drop()`` inside a read-side section: ``DeadlockError``.
* R08/R10: a guard dropped on another thread or twice: ``GuardError``.
* R09/R22: a grace period held up past the stall threshold:
  ``RcuStallWarning`` naming the thread and its guard's site.
* R11: nested guards may be dropped in any order (counted).
* R12: ``replace``/``update`` serialize on the Rcu's lock; an ``RcuWrite``
  used by two threads at once raises ``GuardError``.
* R13: only an ``RcuDropGuard`` frees; freed objects are poisoned.
* R14: an ``RcuDropGuard`` collected undropped: ``RcuDropGuardLeakWarning``,
  and the old object is still freed after a grace period.
* R15: an object published in two places (so it would be retired twice):
  ``GuardError``.
* R16: in-place mutation through a reference: :class:`kbind.ReadOnlyError`.
  Mypy sees ``read(g)`` as the ``T`` it points to (Python has no ``&T``),
  so such mutation type-checks and is refused here.
* Copy-on-write: references inside a new value (``with_read``'s result, a
  published value) are deep-copied out while their guard lives; immutable
  values, and types declared with :func:`immutable`, leave readers as they are.
* R19: callbacks pending at exit run first; a failing callback goes to
  ``sys.unraisablehook`` and the others still run.
* R20/R26: the RCU lists (:class:`RcuList`, :class:`RcuHList`, the buckets of
  :class:`RcuHashTable`; include/linux/rculist.h) are traversed only under a
  guard, whose end kills the iterator and every element reference
  (``LifetimeError``), and updated only by the holder of their update-side
  lock (``GuardError``, the kernel's ``lockdep_assert_held()``).
* R21, R27, R28: keeping an object past its reader properly
  (:mod:`kbind.rcu.escape`): a count (:func:`try_get`, :class:`Counted`,
  put exactly once) or its own lock rechecked for deletion
  (:func:`lock_existing`); type-safe-by-RCU memory (:class:`TypesafePool`),
  whose readers recheck identity after taking a count.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import cast

import kbind.rcu._callbacks as _cb
import kbind.rcu._runtime as _rt
from kbind import context as _context
from kbind._bridge import present_as
from kbind._bridge.guard import capture
from kbind._bridge.immutable import immutable
from kbind._bridge.native import lib
from kbind._bridge.site import Site
from kbind.errors import GuardError
from kbind.rcu.drop import RcuDropGuard
from kbind.rcu.drop import track_drop_guards as track_drop_guards
from kbind.rcu.drop import tracked_drop_guards as tracked_drop_guards
from kbind.rcu.escape import Counted, Held, RcuRefcounted, kfree_rcu, lock_existing, try_get
from kbind.rcu.guard import RcuReadGuard, read_lock
from kbind.rcu.pointer import Rcu, RcuWrite
from kbind.rcu.rcuhash import RcuHashTable
from kbind.rcu.rculist import RcuHList, RcuList
from kbind.rcu.reference import RcuRef, allow_interior_mutability
from kbind.rcu.typesafe import TypesafePool

__all__ = [
    "Counted",
    "Held",
    "Rcu",
    "RcuDropGuard",
    "RcuHList",
    "RcuHashTable",
    "RcuList",
    "RcuReadGuard",
    "RcuRef",
    "RcuRefcounted",
    "RcuWrite",
    "TypesafePool",
    "allow_interior_mutability",
    "call_rcu",
    "get_stall_timeout",
    "immutable",
    "kfree_rcu",
    "lock_existing",
    "open_guards",
    "pending_callbacks",
    "qsbr_mode",
    "quiescent_state",
    "rcu_barrier",
    "read_lock",
    "read_lock_depth",
    "set_qsbr_mode",
    "set_stall_timeout",
    "synchronize_rcu",
    "thread_offline",
    "thread_online",
    "try_get",
]


_thread_state = _rt.thread_state

# -------------------------------------------------------- module functions


def synchronize_rcu() -> None:
    """Wait until every read-side critical section that began before the call has ended.

    Kernel: ``synchronize_rcu()``.  Rust: ``kernel::sync::rcu::synchronize_rcu()``.
    C: ``kb_rcu_wait_gp()`` in bounded slices with the GIL released; a grace
    period held up past the stall threshold warns (``RcuStallWarning``).

    Context: may block; not inside a read-side section.

    Raises:
        DeadlockError: inside a read-side section of this thread (R05).
    """
    ts = _rt.current_state()
    if ts is not None and ts.guards:
        _rt.raise_in_reader("call synchronize_rcu()", ts)
    tr = _rt.tracer
    if tr is None:
        _rt.wait_gp(int(lib.kb_get_state_synchronize_rcu()), 2)
        return
    t = tr._stamp()
    gp = tr._gp("synchronize_rcu", "synchronize_rcu()", t, t)
    _rt.wait_gp(int(lib.kb_get_state_synchronize_rcu()), 2)
    tr._gp_end(gp)


def call_rcu(fn: Callable[[], object]) -> None:
    """Run ``fn()`` after a grace period, on kbind's callback thread.

    Kernel: ``call_rcu(head, func)``.  C: ``kb_call_rcu_token()`` plus a
    Python thread reaping tokens.  Callbacks run one at a time, in order, on
    the thread ``kbind-rcu-callbacks`` (R18: never on the caller's thread,
    so they must not rely on its stack or thread-locals).  An exception
    from ``fn`` goes to ``sys.unraisablehook`` and the next callbacks still
    run; pending callbacks run before the interpreter exits (R19).

    Context: any, including read-side sections and callbacks; never blocks,
    except in an atexit handler that runs after kbind's own (registered
    before ``import kbind``): the callback thread has stopped by then, so the
    call waits until ``fn`` has run (R19).
    """
    if not callable(fn):
        raise TypeError(f"call_rcu() needs a callable taking no arguments, not {fn!r}")
    _cb.call_rcu(fn, capture(1))


def rcu_barrier(timeout: float | None = None) -> bool:
    """Wait until every callback queued before the call (``call_rcu``, ``defer``) has run.

    Kernel: ``rcu_barrier()``.  Returns True, or False if ``timeout``
    seconds passed first.

    Context: may block; not inside a read-side section, not in a callback.

    Raises:
        DeadlockError: inside a read-side section (R07) or a callback.
        TypeError: ``timeout`` is not a number of seconds (or None).
        ValueError: ``timeout`` is NaN or negative (``inf``: no bound).
    """
    return _cb.rcu_barrier("call rcu_barrier()", _thread_state(), timeout, 2)


def pending_callbacks() -> int:
    """Callbacks (``call_rcu``, deferred frees) queued and not yet run."""
    return _cb.callbacks.count()


def open_guards() -> list[RcuReadGuard]:
    """Return the RcuReadGuards held right now on every thread (for leak checks)."""
    return cast("list[RcuReadGuard]", _rt.open_guards())


def read_lock_depth() -> int:
    """How many RcuReadGuards the calling thread holds (``rcu_read_lock_held()`` if > 0)."""
    ts = _rt.current_state()
    return 0 if ts is None else len(ts.guards)


def _outside_reader(op: str) -> _rt.ThreadState:
    ts = _thread_state()
    if ts.guards:
        name, created_at = ts.oldest_guard()
        raise GuardError(
            op,
            f"the thread is inside a read-side critical section ({name}); a quiescent "
            "state or going offline there would let a grace period end, and free what the "
            "section is reading",
            guard=name,
            created_at=created_at,
            hint="drop the guard first",
        )
    return ts


def quiescent_state() -> None:
    """Report that this thread holds no RCU references (QSBR).

    liburcu: ``rcu_quiescent_state()``.  C: ``kb_rcu_quiescent_state()``.
    Only an online thread in explicit QSBR mode needs it; otherwise (the
    thread is offline outside its guards) it does nothing.

    Raises:
        GuardError: inside a read-side critical section.
    """
    ts = _outside_reader("report a quiescent state")
    if ts.qsbr:
        lib.kb_rcu_quiescent_state()


def thread_offline() -> None:
    """Enter an extended quiescent state: stop holding up grace periods (QSBR).

    liburcu: ``rcu_thread_offline()``.  In explicit QSBR mode the thread
    stays offline (guards still bring it online while held) until
    :func:`thread_online`; otherwise threads are offline outside their
    guards anyway and this does nothing.

    Raises:
        GuardError: inside a read-side critical section.
    """
    ts = _outside_reader("go offline")
    if ts.qsbr:
        lib.kb_rcu_thread_offline()
        ts.qsbr = False
        ts.qsbr_mode = True


def thread_online() -> None:
    """Leave an extended quiescent state (QSBR mode): hold up grace periods again.

    liburcu: ``rcu_thread_online()``.  Only meaningful in explicit QSBR mode
    after :func:`thread_offline`; otherwise does nothing.
    """
    ts = _thread_state()
    if ts.qsbr_mode and not ts.qsbr:
        _go_online(ts, "went online here")


def set_qsbr_mode(on: bool) -> None:
    """Opt the calling thread into (or out of) explicit QSBR mode.

    In QSBR mode the thread goes online now and stays online across its
    guards: grace periods wait for it until it calls
    :func:`quiescent_state` (or :func:`thread_offline`).  That is how
    liburcu's QSBR flavour works and is taught; a thread that forgets
    holds up every grace period (``RcuStallWarning``).  Off (the default),
    the thread is online only while it holds a guard.
    """
    ts = _thread_state()
    if on:
        ts.qsbr_mode = True
        if not ts.qsbr:
            _go_online(ts, "went online (explicit QSBR mode) here")
    else:
        ts.qsbr_mode = False
        if ts.qsbr:
            ts.qsbr = False
            ts.online_raw = None
            if not ts.guards:
                lib.kb_rcu_thread_offline()


def _go_online(ts: _rt.ThreadState, how: str) -> None:
    # Online across guards from now on; the site (the caller's caller) names
    # the thread in stall reports.  Outside its guards the thread goes online now.
    ts.qsbr = True
    ts.online_raw = capture(2, how)
    if not ts.guards:
        lib.kb_rcu_thread_online()


@contextmanager
def qsbr_mode() -> Iterator[None]:
    """Explicit QSBR mode for the body of a ``with`` block (see :func:`set_qsbr_mode`)."""
    set_qsbr_mode(True)
    try:
        yield
    finally:
        set_qsbr_mode(False)


def set_stall_timeout(seconds: float) -> None:
    """Set the grace-period age that counts as a stall (process-wide; default 21 s).

    Kernel: ``rcupdate.rcu_cpu_stall_timeout``.  C: ``kb_rcu_set_stall_timeout_ns()``.
    """
    _rt.set_stall_timeout(seconds)


def get_stall_timeout() -> float:
    """Return the stall threshold in seconds."""
    return _rt.get_stall_timeout()


#: Public but not in __all__: the leak-check registry kbind.pytest_plugin's strict mode uses.
_LEAK_CHECKS = ("track_drop_guards", "tracked_drop_guards")


def _reader_probe() -> tuple[str, Site | None] | None:
    # kbind.context: an RCU read-side section is atomic (non-preemptible RCU:
    # nothing may sleep in it).  Every RCU design's read guard is an engine
    # "rcu_read" scope, so the thread's open guards are all of them.  So is
    # an RCU callback: the kernel runs callbacks in softirq context
    # (rcu_do_batch()), where nothing may sleep either.
    if lib.kb_rcu_read_lock_nesting():  # the engine's count: one C call
        ts = _rt.current_state()
    elif _cb.callbacks.running:  # some thread is in a callback (rarely: only then look)
        ts = _rt.current_state()
        raw = ts.callback_site if ts is not None else None
        if raw is None:
            return None
        return _cb.CALLBACK_CONTEXT, Site.from_raw(raw, raw[3] or "queued here")
    else:
        return None
    if ts is None or not ts.guards:
        return None
    name, site = ts.oldest_guard()
    return f"an RCU read-side critical section ({name})", site


_context.register_probe(_reader_probe)

present_as(__name__, globals(), [*__all__, *_LEAK_CHECKS])

"""The machinery under :mod:`kbind.rcu`: per-thread state, bounded waits, stalls, fork.

Not public API.  What lives here:

* :class:`ThreadState`, one per Python thread that used the RCU API: the
  read guards it holds (oldest first), whether it is in explicit QSBR mode,
  and where it last went online (for stall reports).  ``by_tid`` maps native
  thread ids (the C engine's ``gettid()``) to these states, so a stall
  reported by the engine names the Python thread and its guard's site.
* :func:`wait_gp`, the bounded grace-period wait every blocking call uses:
  it sleeps in C with the GIL released for a slice, then checks for stalls
  (and lets Ctrl-C in) and sleeps again.
* ``tracer``, the one hook kbind.trace sets for grace periods and callbacks
  (read as ``_runtime.tracer`` by every module of kbind.rcu).
* The fork handlers that pause the engine and reset this state in a child.

The callbacks (``call_rcu``, ``rcu_barrier``, the callback thread) are in
:mod:`kbind.rcu._callbacks`.
"""

from __future__ import annotations

import collections
import errno
import math
import os
import threading
import warnings
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Final

from kbind._bridge.native import ffi, hot, lib
from kbind._bridge.site import RawSite, Site
from kbind._bridge.tracing import Tracer
from kbind.errors import BackendForkError, DeadlockError, RcuStallWarning
from kbind.lifetime import Scope

#: Upper bound of one C wait; between slices Python checks stalls and signals.
WAIT_SLICE_NS: Final = 50_000_000
#: Longest stall report: readers listed.
MAX_STALLED: Final = 16


#: The classes of the RCU designs' read guards, each an engine "rcu_read"
#: scope (kbind.rcu.RcuReadGuard, kbind.kernel.sync.rcu.Guard, ...): every
#: design registers its class with register_guard_kind().
GUARD_KINDS: tuple[type, ...] = ()


def register_guard_kind(cls: type) -> None:
    """Count ``cls``'s open scopes as the thread's RCU read-side sections."""
    global GUARD_KINDS
    GUARD_KINDS = (*GUARD_KINDS, cls)


_RCU_READY: Final = 1  # token bits (csrc/pyext/lifetime.h: KB_THREAD_RCU_*)
_RCU_QSBR: Final = 2

#: The active kbind.trace recording, or None (set by kbind.trace.record()).
#: Read guards are observed through their hooks (RcuReadGuard._kb_hooks.observer).
tracer: Tracer | None = None


class ThreadState:
    """What kbind.rcu knows about one Python thread.

    The thread's open read guards are kbind.lifetime scopes: the C core keeps
    them in the thread's list (oldest first) in step with the engine's
    nesting count, with no bytecode between the two (Ctrl-C safe).  Only the
    owning thread changes ``qsbr`` and ``online_*``.
    """

    __slots__ = (
        "__weakref__",
        "callback_site",
        "ident",
        "in_callback",
        "name",
        "native_id",
        "online_raw",
        "qsbr_mode",
        "token",
    )

    def __init__(self) -> None:
        #: the thread's kbind.lifetime token (its open scopes, its RCU bits)
        self.token = hot.current_thread()
        #: explicit QSBR mode was asked for (set_qsbr_mode / qsbr_mode)
        self.qsbr_mode = False
        self.in_callback = False
        #: where the callback this thread runs now was queued (None between callbacks)
        self.callback_site: RawSite | None = None
        self.ident = threading.get_ident()
        self.native_id = threading.get_native_id()
        self.name = threading.current_thread().name
        self.online_raw: RawSite | None = None

    @property
    def qsbr(self) -> bool:
        """Online across guards right now (QSBR mode and not thread_offline())."""
        return bool(self.token._bits & _RCU_QSBR)

    @qsbr.setter
    def qsbr(self, on: bool) -> None:
        bits = self.token._bits
        self.token._bits = bits | _RCU_QSBR if on else bits & ~_RCU_QSBR

    @property
    def exited(self) -> bool:
        """The thread has ended."""
        return bool(self.token.exited)

    @property
    def guards(self) -> list[Scope]:
        """The thread's open read guards, oldest first (a snapshot)."""
        kinds = GUARD_KINDS
        if len(kinds) == 1:
            guards: list[Scope] = hot.open_scopes(self.token, kinds[0])
            return guards
        return [s for s in hot.open_scopes(self.token) if type(s) in kinds]

    def first(self) -> Scope | None:
        """Return the oldest open guard (None if there is none)."""
        guards = self.guards
        return guards[0] if guards else None

    def oldest_guard(self) -> tuple[str, Site | None]:
        """Name and creation site of the oldest open guard, for messages."""
        first = self.first()
        if first is None:
            return "a collected RcuReadGuard", None
        return first.name, first.created_at


class _ThreadExit:
    """Lives only in the thread's threading.local: dies when the thread ends."""

    __slots__ = ("ts",)

    def __init__(self, ts: ThreadState) -> None:
        self.ts = ts

    def __del__(self) -> None:
        # The thread exited (its threading.local was cleared).  The C engine's
        # key destructor takes the thread offline and unregisters it; guards
        # left open are reported by kbind.rcu's on_thread_exit hook.
        ts = self.ts
        if by_tid.get(ts.native_id) is ts:
            del by_tid[ts.native_id]


_tls = threading.local()
#: native thread id -> state of the Python thread (for stall reports).
by_tid: weakref.WeakValueDictionary[int, ThreadState] = weakref.WeakValueDictionary()


def thread_state() -> ThreadState:
    """Return the calling thread's state, created (and registered with the engine) on first use."""
    try:
        ts: ThreadState = _tls.ts
        return ts
    except AttributeError:
        pass
    ts = ThreadState()
    # Registered and offline in one C call: idle Python threads must not hold
    # up grace periods, and a Ctrl-C between two calls would leave this one
    # online for good.  KB_EBUSY: an earlier call registered it already.
    rc = lib.kb_rcu_register_thread_offline()
    if rc in (lib.KB_ENOMEM, lib.KB_ENOTSUP):
        raise engine_error(rc, "register this thread with the RCU engine")
    lib.kb_rcu_set_thread_name(ts.name.encode("utf-8", "replace")[:31])
    ts.token._bits |= _RCU_READY
    _tls.ts = ts
    _tls.exit = _ThreadExit(ts)
    by_tid[ts.native_id] = ts
    return ts


def _register_first_reader() -> None:
    """Register the thread (the C core calls this on a thread's first read guard)."""
    thread_state().token._bits |= _RCU_READY


hot.configure_rcu(_register_first_reader)


def current_state() -> ThreadState | None:
    """Return the calling thread's state, or None if it never used the RCU API."""
    ts: ThreadState | None = getattr(_tls, "ts", None)
    return ts


def open_guards() -> list[Scope]:
    """Every RcuReadGuard currently held, on any thread (a snapshot, for diagnostics)."""
    out: list[Scope] = []
    for ts in list(by_tid.values()):
        out.extend(ts.guards)
    return out


# ----------------------------------------------------------------- stalls

_stall_lock = threading.Lock()
#: Grace periods (by number) already reported, so each stall warns once.
_warned_gps: collections.deque[int] = collections.deque(maxlen=64)


def check_timeout(value: object, name: str, func: str, *, none_ok: bool = True) -> float | None:
    """Validate a timeout argument: a number of seconds >= 0 (or None when ``none_ok``).

    ``inf`` means no bound (returned as None where None is allowed).

    Raises:
        TypeError: not a number (a bool or a string is not one either).
        ValueError: NaN or negative.
    """
    if value is None and none_ok:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(
            f"{func}: {name} must be a number of seconds"
            f"{' or None' if none_ok else ''}, not {type(value).__name__} {value!r}"
        )
    seconds = float(value)
    if math.isnan(seconds) or seconds < 0:
        raise ValueError(f"{func}: {name} must be a number of seconds >= 0, not {value!r}")
    if math.isinf(seconds) and none_ok:
        return None
    return seconds


def set_stall_timeout(seconds: float) -> None:
    """Set the grace-period age that counts as a stall (process-wide)."""
    checked = check_timeout(seconds, "seconds", "set_stall_timeout()", none_ok=False)
    assert checked is not None
    if not 0 < checked <= _MAX_STALL_S:
        raise ValueError(
            f"set_stall_timeout(): the stall timeout must be a positive number of seconds, "
            f"at most {_MAX_STALL_S:g}, not {seconds!r}"
        )
    lib.kb_rcu_set_stall_timeout_ns(int(checked * 1e9))


#: Longest stall timeout (a year: beyond it, no stall is ever reported anyway).
_MAX_STALL_S: Final = 365 * 86400.0


def get_stall_timeout() -> float:
    """Return the stall timeout in seconds."""
    return float(lib.kb_rcu_get_stall_timeout_ns()) / 1e9


def wait_slice_ns() -> int:
    """How long one C wait may last: short enough to report a stall on time."""
    stall = int(lib.kb_rcu_get_stall_timeout_ns())
    return max(1_000_000, min(WAIT_SLICE_NS, stall // 2))


def stalled_readers() -> list[tuple[str, int, float, Site | None]]:
    """List the threads holding up the current grace period past the stall timeout."""
    buf = ffi.new("kb_rcu_reader_info_t[]", MAX_STALLED)
    n = min(int(lib.kb_rcu_stalled_readers(buf, MAX_STALLED)), MAX_STALLED)
    out: list[tuple[str, int, float, Site | None]] = []
    for i in range(n):
        info = buf[i]
        tid = int(info.tid)
        ts = by_tid.get(tid)
        site: Site | None = None
        if ts is not None:
            name = ts.name
            first = ts.first()
            if first is not None:
                site = first.created_at
            elif ts.online_raw is not None:
                site = Site.from_raw(ts.online_raw)
        else:
            name = ffi.string(info.name).decode("utf-8", "replace") or f"tid {tid}"
        out.append((name, tid, int(info.blocked_ns) / 1e9, site))
    return out


def check_stall(stacklevel: int) -> None:
    """Warn (once per grace period) if the grace period in progress is stalled."""
    readers = stalled_readers()
    if not readers:
        return
    gp = int(lib.kb_rcu_gp_count()) + 1
    with _stall_lock:
        if gp in _warned_gps:
            return
        _warned_gps.append(gp)
    lines = [
        f"RCU grace period stalled for {max(r[2] for r in readers):.3f} s "
        f"(threshold {get_stall_timeout():g} s) by {len(readers)} thread(s):"
    ]
    for name, tid, _blocked, site in readers:
        where = f"guard created at {site}" if site is not None else "no kbind guard known"
        lines.append(f"  thread {name!r} (native id {tid}): {where}")
    lines.append(
        "hint: end read-side critical sections promptly; in explicit QSBR mode call "
        "kbind.rcu.quiescent_state() regularly or thread_offline() before blocking"
    )
    warning = RcuStallWarning("\n".join(lines))
    warning.readers = tuple(readers)
    warnings.warn(warning, stacklevel=stacklevel + 1)


def engine_error(rc: int, op: str) -> Exception:
    """Return the error for a C engine status ``rc`` (not KB_OK) when trying to ``op``.

    KB_ENOTSUP: a child of fork() the backend cannot support (BackendForkError);
    KB_EAGAIN: a thread the engine needs cannot start (OSError); KB_ENOMEM:
    MemoryError.  Nothing was done in each case.
    """
    if rc == lib.KB_ENOTSUP:
        return BackendForkError(op)
    if rc == lib.KB_EAGAIN:
        return OSError(
            errno.EAGAIN,
            f"kbind: cannot {op}: the RCU engine cannot start a thread it needs (no memory "
            "for its stack, or a thread limit); nothing was done",
        )
    if rc == lib.KB_ENOMEM:
        return MemoryError(f"kbind: cannot {op}: out of memory; nothing was done")
    return RuntimeError(f"kbind: cannot {op}: the RCU engine returned status {rc}")


def wait_gp(cookie: int, stacklevel: int) -> None:
    """Wait for the grace period of ``cookie``, in bounded slices, reporting stalls.

    Raises:
        DeadlockError: the C engine says the thread is in a read-side section
            (only if the engine was driven directly, behind kbind.rcu's back).
    """
    if lib.kb_poll_state_synchronize_rcu(cookie):
        return
    while True:
        rc = lib.kb_rcu_wait_gp(cookie, wait_slice_ns())
        if rc == lib.KB_OK:
            return
        if rc in (lib.KB_ENOTSUP, lib.KB_EAGAIN):
            raise engine_error(rc, "wait for a grace period")
        if rc == lib.KB_EDEADLK:
            raise DeadlockError(
                "wait for a grace period",
                "the C engine counts this thread as inside a read-side critical section "
                "(entered with kbind._bridge.native.lib.kb_rcu_read_lock() directly?)",
                hint="leave the section before waiting; mix raw engine calls with kbind.rcu "
                "only with care",
            )
        check_stall(stacklevel + 1)


def raise_in_reader(op: str, ts: ThreadState) -> None:
    """Raise the DeadlockError for a blocking call inside a read-side section (R05-R07)."""
    name, created_at = ts.oldest_guard()
    raise DeadlockError(
        op,
        "R05/R06/R07: it waits for a grace period, and a grace period waits for every "
        f"read-side critical section, including the one this thread is in ({name}, "
        f"{len(ts.guards)} guard(s) open), so it would wait for itself forever (the kernel's "
        'lockdep reports "Illegal synchronize_rcu() in RCU read-side critical section")',
        guard=name,
        created_at=created_at,
        sites=[("blocking call at", Site.here(3))],
        hint="drop the guard first, or use RcuDropGuard.defer() / call_rcu(), which do not wait",
    )


@contextmanager
def busted_engine(variant: int) -> Iterator[None]:
    """Run with a deliberately broken engine (tests only); always restored."""
    before = int(lib.kb_rcu_get_busted())
    if lib.kb_rcu_set_busted(variant) != lib.KB_OK:
        raise ValueError(f"unknown busted engine variant {variant!r}")
    try:
        yield
    finally:
        lib.kb_rcu_set_busted(before)


# ------------------------------------------------------------------- fork


def _before_fork() -> None:
    """Before os.fork(): pause the RCU engine with the GIL released (cffi releases it).

    What the pause waits for (a grace period in progress) may need readers
    that need the GIL; waiting in the C prepare handler, with the GIL held by
    the forking thread, could wait forever.
    """
    lib.kb_rcu_fork_pause()


def _after_fork_in_child() -> None:
    """In the child: only this thread exists; forget the others' state and locks.

    (kbind.rcu._callbacks resets the callback queue's lock and thread the same way.)
    """
    global _stall_lock
    _stall_lock = threading.Lock()
    me = getattr(_tls, "ts", None)
    for tid, ts in list(by_tid.items()):
        if ts is not me:
            del by_tid[tid]


os.register_at_fork(before=_before_fork, after_in_child=_after_fork_in_child)

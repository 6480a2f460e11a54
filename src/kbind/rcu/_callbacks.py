"""The machinery under :mod:`kbind.rcu`: per-thread state, bounded waits, stalls, callbacks.

Not public API.  What lives here:

* :class:`ThreadState`, one per Python thread that used the RCU API: the
  read guards it holds (oldest first), whether it is in explicit QSBR mode,
  and where it last went online (for stall reports).  ``by_tid`` maps native
  thread ids (the C engine's ``gettid()``) to these states, so a stall
  reported by the engine names the Python thread and its guard's site.
* :func:`wait_gp`, the bounded grace-period wait every blocking call uses:
  it sleeps in C with the GIL released for a slice, then checks for stalls
  (and lets Ctrl-C in) and sleeps again.
* :func:`call_rcu`, :func:`rcu_barrier` and the callback thread: Python
  callbacks cannot run on the C engine's call_rcu worker, so each gets a
  token (``kb_call_rcu_token``); the thread ``kbind-rcu-callbacks`` sleeps
  in ``kb_rcu_reap_tokens`` (GIL released) and runs the callback of each
  completed token.  It reaps only while Python callbacks are pending.
"""

from __future__ import annotations

import atexit
import collections
import contextlib
import errno
import itertools
import math
import os
import sys
import threading
import time
import traceback
import warnings
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import TracebackType
from typing import Any, Final

from kbind._bridge.native import ffi, hot, lib
from kbind._bridge.site import RawSite, Site
from kbind._bridge.tracing import Tracer
from kbind.errors import BackendForkError, DeadlockError, RcuStallWarning
from kbind.lifetime import Scope

#: Upper bound of one C wait; between slices Python checks stalls and signals.
WAIT_SLICE_NS: Final = 50_000_000
#: Token tag, so the callback thread recognises kbind.rcu's tokens.
TOKEN_TAG: Final = 1 << 62
#: How long rcu_barrier() at interpreter exit waits for pending callbacks.
EXIT_TIMEOUT_S: Final = 10.0
#: How long a finalizer during interpreter finalization waits for its callback.
FINALIZE_TIMEOUT_S: Final = 5.0
#: Longest stall report: readers listed.
MAX_STALLED: Final = 16


#: The kind of scope of RCU read guards (kbind.rcu.RcuReadGuard, set by kbind.rcu).
GUARD_KIND: type = object
_RCU_READY: Final = 1  # token bits (csrc/pyext/lifetime.h: KB_THREAD_RCU_*)
_RCU_QSBR: Final = 2


class ThreadState:
    """What kbind.rcu knows about one Python thread.

    The thread's open read guards are kbind.lifetime scopes: the C core keeps
    them in the thread's list (oldest first) in step with the engine's
    nesting count, with no bytecode between the two (Ctrl-C safe).  Only the
    owning thread changes ``qsbr`` and ``online_*``.
    """

    __slots__ = (
        "__weakref__",
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
        guards: list[Scope] = hot.open_scopes(self.token, GUARD_KIND)
        return guards

    def first(self) -> Scope | None:
        """Return the oldest open guard (None if there is none)."""
        guards = self.guards
        return guards[0] if guards else None


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
    rc = lib.kb_rcu_register_thread()
    if rc in (lib.KB_ENOMEM, lib.KB_ENOTSUP):
        raise engine_error(rc, "register this thread with the RCU engine")
    if rc == lib.KB_OK:
        # A registered thread starts online; idle Python threads must not hold
        # up grace periods, so it goes offline until it enters a section.
        lib.kb_rcu_thread_offline()
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


# -------------------------------------------------------------- callbacks


#: The active kbind.trace recording, or None (set by kbind.trace.record()).
tracer: Tracer | None = None


class _Callback:
    __slots__ = ("fn", "queued_at", "trace")

    def __init__(self, fn: Callable[[], object], queued_at: RawSite) -> None:
        self.fn = fn
        self.queued_at = queued_at
        #: (recording, its GracePeriod) when kbind.trace is recording, else None
        self.trace: tuple[Tracer, Any] | None = None
        tr = tracer
        if tr is not None:
            t = tr._stamp()
            where = Site.from_raw(queued_at).location
            self.trace = (tr, tr._gp("call_rcu", f"callback queued at {where}", t, t))


class UnraisableCallbackArgs:
    """What ``sys.unraisablehook`` receives for a failed ``call_rcu`` callback.

    Same attributes as CPython's ``UnraisableHookArgs``.
    """

    __slots__ = ("err_msg", "exc_traceback", "exc_type", "exc_value", "object")

    def __init__(self, exc: BaseException, err_msg: str, obj: object) -> None:
        self.exc_type: type[BaseException] = type(exc)
        self.exc_value: BaseException | None = exc
        self.exc_traceback: TracebackType | None = exc.__traceback__
        self.err_msg: str | None = err_msg
        self.object: object = obj


def report_unraisable(exc: BaseException, err_msg: str, obj: object) -> None:
    """Hand ``exc`` to ``sys.unraisablehook`` (printed like CPython's default if unset)."""
    hook = sys.unraisablehook
    if hook is sys.__unraisablehook__:
        text = "".join(traceback.format_exception(exc))
        with contextlib.suppress(Exception):  # stderr closed at exit: nothing to tell
            sys.stderr.write(f"{err_msg}: {obj!r}\n{text}")
        return
    with contextlib.suppress(Exception):
        hook(UnraisableCallbackArgs(exc, err_msg, obj))


class _Callbacks:
    """call_rcu for Python callables: tokens in C, callables here, one thread to run them."""

    def __init__(self) -> None:
        self.cond = threading.Condition(threading.RLock())
        #: token -> callback.  Tokens grow in the order they are taken, but the
        #: dict's insertion order is not that order (a finalizer's token waits in
        #: ``late`` while later tokens go in directly): compare tokens by value.
        self.pending: dict[int, _Callback] = {}
        #: Queued by finalizers (which must not take locks): (token, callback).
        self.late: collections.deque[tuple[int, _Callback]] = collections.deque()
        self.tokens = itertools.count(1)
        self.thread: threading.Thread | None = None
        #: the thread being started (start() in progress, not yet alive)
        self.starting: threading.Thread | None = None
        self.stop = False
        self.invoked = 0
        #: kbind's at-exit pass has run: the callback thread stopped for good,
        #: so a callback queued now must be waited for by whoever queues it.
        self.exited = False

    def ensure_thread(self) -> bool:
        """Start the callback thread unless it runs (or is starting); False if it cannot run.

        The condition's lock is never held across ``Thread.start()``: start()
        waits for the new thread, and a finalizer run by a collection inside
        that thread may need the lock (``call_rcu`` from ``__del__``).  During
        interpreter finalization no thread can start (``Thread.start()`` would
        wait forever): False, and the caller runs callbacks itself
        (:meth:`run_here`).
        """
        if sys.is_finalizing():
            return False
        with self.cond:
            thread = self.thread
            if thread is not None and (thread is self.starting or thread.is_alive()):
                return True
            self.stop = False
            thread = threading.Thread(target=self._main, name="kbind-rcu-callbacks", daemon=True)
            self.thread = self.starting = thread
        try:
            thread.start()
        except RuntimeError:  # "can't create new thread at interpreter shutdown" (3.12+)
            with self.cond:
                if self.thread is thread:
                    self.thread = None
            return False
        finally:
            with self.cond:
                if self.starting is thread:
                    self.starting = None
        return True

    def queue(self, fn: Callable[[], object], queued_at: RawSite) -> int:
        """Queue ``fn`` after a grace period; return its token."""
        cb = _Callback(fn, queued_at)
        if sys.is_finalizing():
            # Only this thread runs Python now; a lock held by a frozen
            # daemon thread would never be released: queue without locks.
            token = TOKEN_TAG | next(self.tokens)
            self.pending[token] = cb
            rc = lib.kb_call_rcu_token(token)
            if rc != lib.KB_OK:
                del self.pending[token]
                raise engine_error(rc, "queue a call_rcu callback")
            return token
        with self.cond:
            token = TOKEN_TAG | next(self.tokens)
            self.pending[token] = cb
            rc = lib.kb_call_rcu_token(token)
            if rc != lib.KB_OK:
                del self.pending[token]
                raise engine_error(rc, "queue a call_rcu callback")
            self.cond.notify_all()
        self.ensure_thread()
        return token

    def run_here(self, target: int | None, timeout: float, *, quiesce: bool = True) -> bool:
        """Run completed callbacks on this thread until ``target`` (None: all) has run.

        For when no callback thread can run (interpreter finalization, or
        start() refused): reaps the engine's completed tokens here, waiting at
        most ``timeout`` seconds in all.  Takes no locks while finalizing.
        ``quiesce``: an explicit-QSBR thread goes offline for the wait (the
        grace periods would wait for it); False when the caller did that.
        Returns whether every callback up to ``target`` ran.
        """
        deadline = _now() + timeout
        out = ffi.new("uint64_t[64]")
        ts = current_state()
        offline = quiesce and ts is not None and ts.qsbr and not ts.guards
        if offline:  # an online QSBR thread would hold up the grace periods it waits for
            lib.kb_rcu_thread_offline()
        try:
            while True:
                with self._lock_unless_finalizing():
                    self._adopt_late()
                    if not self.pending or (target is not None and min(self.pending) > target):
                        return True
                left = deadline - _now()
                if left <= 0:
                    return False
                slice_ns = max(1_000_000, min(wait_slice_ns(), int(left * 1e9)))
                n = int(lib.kb_rcu_reap_tokens(out, 64, slice_ns))
                for i in range(n):
                    with self._lock_unless_finalizing():
                        self._adopt_late()
                        cb = self.pending.pop(int(out[i]), None)
                    if cb is not None:
                        self._invoke(cb, ts)
                        self.invoked += 1
        finally:
            if offline:
                lib.kb_rcu_thread_online()

    def _lock_unless_finalizing(self) -> contextlib.AbstractContextManager[object]:
        return contextlib.nullcontext() if sys.is_finalizing() else self.cond

    def _invoke(self, cb: _Callback, ts: ThreadState | None) -> None:
        """Run one callback; its exception goes to sys.unraisablehook."""
        if cb.trace is not None:
            cb.trace[0]._gp_end(cb.trace[1])
        was = ts.in_callback if ts is not None else False
        if ts is not None:
            ts.in_callback = True
        try:
            cb.fn()
        except BaseException as exc:
            report_unraisable(
                exc,
                f"Exception ignored in kbind call_rcu callback queued at "
                f"{Site.from_raw(cb.queued_at)}",
                cb.fn,
            )
        finally:
            if ts is not None:
                ts.in_callback = was
        if cb.trace is not None:
            cb.trace[0]._callback_end(cb.trace[1])

    def queue_from_finalizer(self, fn: Callable[[], object], queued_at: RawSite) -> None:
        """Queue without taking locks (from __del__, which may run anywhere)."""
        token = TOKEN_TAG | next(self.tokens)
        entry = (token, _Callback(fn, queued_at))
        self.late.append(entry)
        rc = lib.kb_call_rcu_token(token)
        if rc != lib.KB_OK:
            # Not queued: the callback cannot run after a grace period, and
            # running it now would be a use-after-free.  Say so, loudly.
            with contextlib.suppress(ValueError):
                self.late.remove(entry)
            report_unraisable(
                engine_error(rc, "queue a call_rcu callback"),
                f"kbind: a deferred call_rcu callback queued at {Site.from_raw(queued_at)} "
                "was not queued (its object is kept alive, not freed)",
                fn,
            )
            return
        if sys.is_finalizing() and not self.run_here(token, FINALIZE_TIMEOUT_S):
            report_lost(queued_at)

    def _adopt_late(self) -> None:
        # Caller holds cond.
        while self.late:
            token, cb = self.late.popleft()
            self.pending[token] = cb

    def count(self) -> int:
        with self._lock_unless_finalizing():
            self._adopt_late()
            return len(self.pending)

    def _main(self) -> None:
        ts = thread_state()
        ts.in_callback = True
        out = ffi.new("uint64_t[64]")
        while True:
            with self.cond:
                self._adopt_late()
                while not self.pending and not self.stop:
                    self.cond.wait(0.1)
                    self._adopt_late()
                if self.stop and not self.pending:
                    return
            n = int(lib.kb_rcu_reap_tokens(out, 64, wait_slice_ns()))
            if n <= 0:
                try:
                    check_stall(1)
                except Warning as w:  # -W error: report, keep running
                    report_unraisable(w, "kbind: RCU stall while callbacks were pending", self)
                continue
            for i in range(n):
                token = int(out[i])
                with self.cond:
                    self._adopt_late()
                    cb = self.pending.get(token)
                if cb is None:
                    continue  # not kbind.rcu's token (raw kb_call_rcu_token users)
                self._invoke(cb, None)
                with self.cond:
                    del self.pending[token]
                    self.invoked += 1
                    self.cond.notify_all()

    def barrier(self, timeout: float | None, stacklevel: int) -> bool:
        """Wait until every callback queued before the call has run; False on timeout."""
        deadline = None if timeout is None else _now() + timeout
        with self._lock_unless_finalizing():
            self._adopt_late()
            if not self.pending:
                return True
            if not lib.kb_rcu_backend_usable():
                raise BackendForkError("wait for call_rcu callbacks (rcu_barrier())")
            target = max(self.pending)  # the newest token queued before this call
        if not self.ensure_thread():  # finalizing: no thread can run them but this one
            return self.run_here(
                target, FINALIZE_TIMEOUT_S if timeout is None else timeout, quiesce=False
            )
        while True:
            with self.cond:
                self._adopt_late()
                if not self.pending or min(self.pending) > target:
                    return True
                left = None if deadline is None else deadline - _now()
                if left is not None and left <= 0:
                    return False
                slice_s = wait_slice_ns() / 1e9
                self.cond.wait(slice_s if left is None else min(left, slice_s))
            check_stall(stacklevel + 1)

    def after_fork_in_child(self) -> None:
        """In a child of fork(): the callback thread is gone; its lock may be held by it.

        The pending callbacks stay (the child's copies of what they free); the
        thread starts again on demand, as after :meth:`shutdown`.
        """
        self.cond = threading.Condition(threading.RLock())
        self.thread = None
        self.starting = None
        self.stop = False

    def shutdown(self) -> None:
        with self.cond:
            self.stop = True
            self.cond.notify_all()
            thread = self.thread
        if thread is not None:
            thread.join(timeout=1.0)


_now = time.monotonic


callbacks = _Callbacks()


def call_rcu(fn: Callable[[], object], queued_at: RawSite) -> None:
    """Queue ``fn`` to run on the callback thread after a grace period.

    After kbind's at-exit pass (an atexit handler registered before ``import
    kbind`` runs after it), nothing would run the callback any more: the
    call then waits until it has run (R19), or says on stderr why it cannot.
    """
    if callbacks.exited:
        ts = current_state()
        first = None if ts is None else ts.first()
        if first is not None:
            raise DeadlockError(
                "queue a call_rcu callback after kbind's at-exit pass",
                "R19: the callback thread has stopped, so the call must wait for the callback "
                "to run, and its grace period waits for the read-side section this thread is "
                f"in ({first.name}); the callback would never run",
                guard=first.name,
                created_at=first.created_at,
                sites=[("call_rcu() at", Site.from_raw(queued_at))],
                hint="leave the read-side section before queuing callbacks in an atexit handler",
            )
    if sys.is_finalizing():
        # Interpreter finalization: no thread can start, the callback thread
        # has stopped; run the callback here after its grace period (bounded).
        token = callbacks.queue(fn, queued_at)
        if not callbacks.run_here(token, FINALIZE_TIMEOUT_S):
            report_lost(queued_at)
        return
    callbacks.queue(fn, queued_at)
    if callbacks.exited:
        _run_after_exit_pass(queued_at)


def report_lost(queued_at: RawSite) -> None:
    """Say on stderr that a callback queued during finalization could not run (never hang)."""
    with contextlib.suppress(Exception):  # stderr may be gone this late
        sys.stderr.write(
            f"kbind: the call_rcu callback queued at {Site.from_raw(queued_at)} during "
            f"interpreter finalization had not run after {FINALIZE_TIMEOUT_S:g} s (a grace "
            "period is held up); it is lost and its object is not freed (R19)\n"
        )


def _run_after_exit_pass(queued_at: RawSite) -> None:
    """Run the callbacks queued after kbind's at-exit pass, before the interpreter goes."""
    where = Site.from_raw(queued_at)
    try:
        done = rcu_barrier("run call_rcu callbacks at exit", thread_state(), EXIT_TIMEOUT_S, 3)
    finally:
        callbacks.shutdown()
    if not done:
        sys.stderr.write(
            f"kbind: call_rcu() at {where} was called after kbind's at-exit pass and its "
            f"callback still had not run after {EXIT_TIMEOUT_S:g} s (a grace period is held "
            "up); it is lost (R19)\n"
        )


def rcu_barrier(op: str, ts: ThreadState, timeout: float | None, stacklevel: int) -> bool:
    """Wait for every queued callback; checks the caller's context first."""
    timeout = check_timeout(timeout, "timeout", "rcu_barrier()")
    if ts.guards:
        raise_in_reader(op, ts)
    if ts.in_callback:
        raise DeadlockError(
            op,
            "R07: rcu_barrier() inside a call_rcu callback would wait for the callback thread, "
            "which is running it",
            sites=[("called at", Site.here(3))],
            hint="call rcu_barrier() from the code that queued the callbacks, not from one",
        )
    if not ts.qsbr:
        return callbacks.barrier(timeout, stacklevel + 1)
    # Explicit QSBR mode: the thread is online between its guards, so the
    # grace periods the callbacks wait for would wait for this very thread.
    # Offline (quiescent) for the wait, as docs/backends.md says, then online.
    lib.kb_rcu_thread_offline()
    try:
        return callbacks.barrier(timeout, stacklevel + 1)
    finally:
        lib.kb_rcu_thread_online()


def raise_in_reader(op: str, ts: ThreadState) -> None:
    """Raise the DeadlockError for a blocking call inside a read-side section (R05-R07)."""
    first = ts.first()
    name = first.name if first is not None else "a collected RcuReadGuard"
    raise DeadlockError(
        op,
        "R05/R06/R07: it waits for a grace period, and a grace period waits for every "
        f"read-side critical section, including the one this thread is in ({name}, "
        f"{len(ts.guards)} guard(s) open), so it would wait for itself forever (the kernel's "
        'lockdep reports "Illegal synchronize_rcu() in RCU read-side critical section")',
        guard=name,
        created_at=first.created_at if first is not None else None,
        sites=[("blocking call at", Site.here(3))],
        hint="drop the guard first, or use RcuDropGuard.defer() / call_rcu(), which do not wait",
    )


def _at_exit() -> None:
    """R19: run pending callbacks before the interpreter exits."""
    try:
        if callbacks.count():
            done = callbacks.barrier(EXIT_TIMEOUT_S, 1)
            if not done:
                sys.stderr.write(
                    f"kbind: {callbacks.count()} call_rcu callback(s) still pending at exit "
                    f"after {EXIT_TIMEOUT_S:g} s (a grace period is held up)\n"
                )
        callbacks.shutdown()
    except Exception as exc:  # never turn exit into a crash
        with contextlib.suppress(Exception):
            sys.stderr.write(f"kbind: error while running call_rcu callbacks at exit: {exc!r}\n")
    finally:
        callbacks.exited = True


atexit.register(_at_exit)


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
    """In the child: only this thread exists; forget the others' state and locks."""
    global _stall_lock
    _stall_lock = threading.Lock()
    callbacks.after_fork_in_child()
    me = getattr(_tls, "ts", None)
    for tid, ts in list(by_tid.items()):
        if ts is not me:
            del by_tid[tid]


os.register_at_fork(before=_before_fork, after_in_child=_after_fork_in_child)

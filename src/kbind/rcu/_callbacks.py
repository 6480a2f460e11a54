"""call_rcu for Python callables: the callback queue and thread, rcu_barrier, exit-time runs.

Not public API (:func:`kbind.rcu.call_rcu`, :func:`kbind.rcu.rcu_barrier`
and :func:`kbind.rcu.pending_callbacks` are).  Kernel: ``call_rcu()``,
``rcu_barrier()``.  Python callbacks cannot run on the C engine's call_rcu
worker, so each gets a token (``kb_call_rcu_token``); the thread
``kbind-rcu-callbacks`` sleeps in ``kb_rcu_reap_tokens`` (GIL released) and
runs the callback of each completed token.  It reaps only while Python
callbacks are pending.  A failing callback goes to ``sys.unraisablehook``
(:func:`report_unraisable`); pending callbacks run before the interpreter
exits, and a callback that cannot run is reported on stderr, never waited
for without bound (R19).  The per-thread state, stall checks and bounded
waits it uses are :mod:`kbind.rcu._runtime`'s.
"""

from __future__ import annotations

import atexit
import collections
import contextlib
import itertools
import os
import sys
import threading
import time
import traceback
from collections.abc import Callable
from types import TracebackType
from typing import Any, Final

# _rt.tracer and _rt.check_stall are read through the module: kbind.trace sets
# the one, tests patch the other.
import kbind.rcu._runtime as _rt
from kbind._bridge.native import ffi, lib
from kbind._bridge.site import RawSite, Site
from kbind._bridge.tracing import Tracer
from kbind.errors import BackendForkError, DeadlockError
from kbind.rcu._runtime import (
    ThreadState,
    check_timeout,
    current_state,
    engine_error,
    raise_in_reader,
    thread_state,
    wait_slice_ns,
)

#: Token tag, so the callback thread recognises kbind.rcu's tokens.
TOKEN_TAG: Final = 1 << 62
#: How long rcu_barrier() at interpreter exit waits for pending callbacks.
EXIT_TIMEOUT_S: Final = 10.0
#: How long a finalizer during interpreter finalization waits for its callback.
FINALIZE_TIMEOUT_S: Final = 5.0


class _Callback:
    __slots__ = ("fn", "queued_at", "trace")

    def __init__(self, fn: Callable[[], object], queued_at: RawSite) -> None:
        self.fn = fn
        self.queued_at = queued_at
        #: (recording, its GracePeriod) when kbind.trace is recording, else None
        self.trace: tuple[Tracer, Any] | None = None
        tr = _rt.tracer
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
        #: how many threads are running a callback now (kbind.context's probe looks only then)
        self.running = 0
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
        # Finalizing: only this thread runs Python now; a lock held by a frozen
        # daemon thread would never be released: queue without locks.
        finalizing = sys.is_finalizing()
        with contextlib.nullcontext() if finalizing else self.cond:
            token = TOKEN_TAG | next(self.tokens)
            self.pending[token] = cb
            rc = lib.kb_call_rcu_token(token)
            if rc != lib.KB_OK:
                del self.pending[token]
                raise engine_error(rc, "queue a call_rcu callback")
            if not finalizing:
                self.cond.notify_all()
        if not finalizing:
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
        if ts is None:  # run_here(): the waiting thread runs it, in callback context too
            ts = current_state()
        was = ts.in_callback if ts is not None else False
        if ts is not None:
            ts.in_callback = True
            ts.callback_site = cb.queued_at
        self.running += 1
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
            self.running -= 1
            if ts is not None:
                ts.in_callback = was
                ts.callback_site = None
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
                    _rt.check_stall(1)
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
            _rt.check_stall(stacklevel + 1)

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

#: kbind.context's name for the section a callback runs in (the kernel: softirq context).
CALLBACK_CONTEXT: Final = "an RCU callback"


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


def _after_fork_in_child() -> None:
    """In the child of fork(): the callback thread is gone (see _Callbacks.after_fork_in_child)."""
    callbacks.after_fork_in_child()


os.register_at_fork(after_in_child=_after_fork_in_child)

"""``kernel::sync::CondVar``: wait for a condition, releasing a lock while waiting.

Rust: rust/kernel/sync/condvar.rs (``CondVar::wait(&self, &mut Guard)``,
``wait_interruptible_timeout``, ``notify_one``, ``notify_all``; ``new_condvar!``).
Kernel: a wait queue (``prepare_to_wait_exclusive()``, ``schedule()``,
``wake_up()``) around a lock's unlock and relock.

The wait releases the guard's C lock (``kbind._bridge._hotpath.lock_park``:
the guard stays open, as the Rust ``&mut Guard`` stays valid), sleeps on a
per-waiter ``threading.Lock`` with the GIL released, in slices so Ctrl-C
gets in, then retakes the C lock (in cffi, GIL released) before it returns
or raises.  Wake-ups may be spurious, as in the kernel: wait in a loop that
tests the condition.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from typing import Any, Final, final

from kbind import context
from kbind._bridge.guard import NotClone
from kbind._bridge.native import ffi, hot, lib
from kbind.kernel.sync.lock._core import OK, WAIT_SLICE_NS, Guard, refuse_off_thread

__all__ = ["CondVar"]

#: A waiter checks for Ctrl-C at least this often (seconds).
_SLICE_S: Final = 0.05


def _retake(guard: Guard[Any]) -> None:
    # Take the guard's C lock again and record the guard as its holder.  A
    # Ctrl-C meanwhile is held back until the lock is retaken (Rust's wait
    # returns with the lock held, whatever woke it).
    word = guard._data
    if word.kind == "spin":
        fn, p = lib.kb_spin_lock_timeout, ffi.cast("kb_spinlock_t *", word.address)
    else:
        fn, p = lib.kb_mutex_lock_timeout, ffi.cast("kb_mutex_t *", word.address)
    pending: BaseException | None = None
    taken: list[object] = []
    while not taken:
        try:
            taken.extend(filter(OK, map(fn, (p,), (WAIT_SLICE_NS,))))
        except BaseException as exc:  # a Ctrl-C between slices: finish first
            pending = pending or exc
    hot.lock_unpark(guard)
    if guard._section is not None:
        guard._section.reopen()
    if guard._irq is not None:
        guard._irq.count += 1
    if pending is not None:
        raise pending


@final
class CondVar(NotClone):
    """A condition variable: sleep until notified, with a lock released meanwhile.

    Rust: ``kernel::sync::CondVar`` (``new_condvar!``).  Works with the guard
    of any lock of :mod:`kbind.kernel.sync.lock` (Rust: any ``Backend``).

    Rules (run-time checks, each error naming both sites):

    * the guard must be held by this thread (``GuardError`` on another
      thread, ``LifetimeError`` once released);
    * waiting may sleep: inside an atomic section other than the guard's own
      (another SpinLock, an RCU reader, an interrupt-disabled token) it
      raises ``AtomicContextError`` (kernel: ``might_sleep()``); the guard's
      own spinlock is released for the wait, so waiting on it is allowed;
    * the guard holds the lock again when the wait returns or raises.

    Examples:
        >>> from kbind.kernel.sync.lock import CondVar, Mutex
        >>> m, cv = Mutex(0), CondVar()
        >>> with m.lock() as g:
        ...     cv.wait_timeout(g, 0.01)
        False
    """

    __slots__ = ("__weakref__", "_mutex", "_waiters")
    _CLONE_ROLE = "owner"

    def __init__(self) -> None:
        self._mutex = threading.Lock()
        self._waiters: deque[threading.Lock] = deque()

    def __repr__(self) -> str:
        return f"<CondVar with {len(self._waiters)} waiter(s)>"

    def wait(self, guard: Guard[Any]) -> None:
        """Release the lock, sleep until notified, retake the lock.

        Rust: ``CondVar::wait(&self, &mut Guard)``.  Context: may sleep.

        Raises:
            AtomicContextError: in an atomic section other than the guard's.
            GuardError: the guard belongs to another thread.
            LifetimeError: the guard was released.
        """
        self._wait(guard, None, "CondVar.wait()")

    def wait_timeout(self, guard: Guard[Any], timeout: float) -> bool:
        """Like :meth:`wait`, for at most ``timeout`` seconds; return False if it timed out.

        Rust: ``CondVar::wait_interruptible_timeout()`` (its
        ``CondVarTimeoutResult::Timeout`` is False here, ``Woken`` True).
        """
        return self._wait(guard, timeout, "CondVar.wait_timeout()")

    def notify_one(self) -> None:
        """Wake one waiter, if any (Rust: ``CondVar::notify_one()``).  Context: any."""
        with self._mutex:
            if self._waiters:
                self._waiters.popleft().release()

    def notify_all(self) -> None:
        """Wake every waiter (Rust: ``CondVar::notify_all()``).  Context: any."""
        with self._mutex:
            while self._waiters:
                self._waiters.popleft().release()

    def _wait(self, guard: Guard[Any], timeout: float | None, op: str) -> bool:
        if type(guard) is not Guard:
            raise TypeError(
                f"{op} needs a kbind.kernel.sync.lock.Guard, not {type(guard).__name__}"
            )
        refuse_off_thread(guard, f"{op} with {guard.name}")
        guard.check_alive(f"{op} with {guard.name}", hint="wait while the guard is held")
        context.might_sleep(op, ignore=guard._section)
        waiter = threading.Lock()
        waiter.acquire()
        with self._mutex:
            self._waiters.append(waiter)
        # Enqueued before the lock is released: a notify after the release wakes us.
        if guard._section is not None:
            guard._section.close()
        if guard._irq is not None:
            guard._irq.count -= 1
        hot.lock_park(guard)
        woken = False
        try:
            deadline = None if timeout is None else time.monotonic() + timeout
            while True:
                left = _SLICE_S if deadline is None else min(_SLICE_S, deadline - time.monotonic())
                if left <= 0:
                    break
                if waiter.acquire(timeout=left):
                    woken = True
                    break
        finally:
            if not woken:
                with self._mutex:
                    try:
                        self._waiters.remove(waiter)
                    except ValueError:  # notified as the time ran out: it counts
                        woken = True
            _retake(guard)
        return woken

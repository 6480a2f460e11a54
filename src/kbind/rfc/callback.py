"""The RFC ``rcu::Callback`` (Philipp Stanner, May 2026): ``call_rcu()`` takes data, not code.

Mirrors the May 2026 posting.  Where the original proposals' (and liburcu's)
``call_rcu(fn)`` runs any callable (:func:`kbind.rcu.call_rcu`), the Rust
direction passes *data*: the object is dropped after a grace period, and
what runs is its drop.  The dma_fence series built on ``RcuBox`` (May 2026)
warns that such a drop can deadlock because it runs in callback context,
which is atomic (softirq in the kernel): it must not sleep.

Rules (run-time checks):

* :func:`call_rcu` takes data, not code: a function, method, lambda or
  ``functools.partial`` raises ``TypeError``;
* the data's drop hook (``__rcu_drop__()``, else a ``drop()`` method) runs
  after a grace period **in callback context**, an atomic section of
  :mod:`kbind.context` ("an RCU callback"): a call that may sleep there
  raises ``AtomicContextError`` naming where the callback was queued and
  where it slept (reported through ``sys.unraisablehook``, as any failing
  callback is).
"""

from __future__ import annotations

import functools
import threading
import types
import weakref
from collections.abc import Callable
from typing import Final

from kbind import context
from kbind._bridge.guard import Site, capture
from kbind.errors import GuardError
from kbind.rcu import _callbacks as _cb

__all__ = ["call_rcu", "drop_in_callback_context"]

#: What context.enter_atomic() calls the section a callback's drop runs in.
#: The section a callback's drop runs in (kbind.rcu's callbacks all run in it).
CALLBACK_CONTEXT: Final = _cb.CALLBACK_CONTEXT

_CODE: Final = (
    types.FunctionType, types.MethodType, types.BuiltinFunctionType, types.BuiltinMethodType,
    functools.partial,
)  # fmt: skip


def _drop_hook(data: object) -> object:
    hook = getattr(data, "__rcu_drop__", None)
    if hook is None:
        hook = getattr(data, "drop", None)
    return hook if callable(hook) else None


def drop_in_callback_context(data: object, queued_at: Site) -> None:
    """Run ``data``'s drop hook inside an atomic "RCU callback" section (kbind.context).

    Kernel: the body of an RCU callback (``rcu_do_batch()``, softirq
    context).  The section's site is where the callback was queued (its ``how`` says so).  A data
    object without a hook is simply released.
    """
    hook = _drop_hook(data)
    if hook is None:
        return
    section = context.enter_atomic(CALLBACK_CONTEXT, queued_at)
    try:
        hook()  # type: ignore[operator]
    finally:
        context.exit_atomic(section)


#: id(data) -> (a reference to it, where it was queued, its state): the data queued
#: and waiting, and (weakly, while it lives) the data already dropped.
_queued: dict[int, tuple[Callable[[], object], Site, str]] = {}
_queued_lock = threading.Lock()


def _strong(data: object) -> Callable[[], object]:
    return lambda: data


def _forget(key: int) -> None:
    with _queued_lock:
        _queued.pop(key, None)


def call_rcu(data: object) -> None:
    """Drop ``data`` after a grace period, in callback context (Rust: ``rcu::Callback``).

    Rust: the ``rcu::Callback`` RFC (Philipp Stanner, May 2026): ``call_rcu()``
    takes data that is dropped after a grace period, not arbitrary code.
    Kernel: ``call_rcu(&obj->rcu, free_fn)`` / ``kfree_rcu()``.  Runs on
    kbind's callback thread after every read-side section that began before
    the call has ended; ``kbind.kernel.sync.rcu.rcu_barrier()`` waits for it.

    Context: any, including read-side sections; never blocks.

    Raises:
        TypeError: ``data`` is code (a function, method or partial).
        GuardError: ``data`` is already queued, or was dropped by an earlier
            call and still lives (R15: it would be dropped twice; Rust moves it
            into the first call).  Dropped data that cannot be weakly
            referenced is not remembered.
    """
    if isinstance(data, _CODE):
        raise TypeError(
            f"rcu::Callback's call_rcu() takes data to drop after a grace period, not code "
            f"({type(data).__name__} {getattr(data, '__qualname__', data)!r}); give it the "
            "object and put the work in its __rcu_drop__() (kbind.rcu.call_rcu(fn) is the "
            "original design's, which runs any callable)"
        )
    raw = capture(1, "queued by call_rcu(); the callback ran after a grace period")
    site = Site.from_raw(raw)
    key = id(data)  # stable while queued: the callback keeps data alive until it is dropped
    with _queued_lock:
        first = _queued.get(key)
        if first is not None and first[0]() is data:
            raise GuardError(
                "call_rcu() on data already queued",
                f"R15: this object was {first[2]}, so it would be dropped twice; in Rust "
                "call_rcu() takes the data by value and the second call does not compile "
                "(use of moved value)",
                sites=[("first queued at", first[1]), ("queued again at", site)],
                hint="queue each object once; after the first call_rcu() it is not yours",
            )
        _queued[key] = (_strong(data), site, "queued already and waits for its grace period")

    def drop() -> None:
        drop_in_callback_context(data, site)
        with _queued_lock:  # dropped: remembered while the object lives (if it can be weakly)
            try:
                ref: Callable[[], object] = weakref.ref(data, lambda _: _forget(key))
            except TypeError:
                _queued.pop(key, None)
            else:
                _queued[key] = (ref, site, "dropped already, after its grace period")

    _cb.call_rcu(drop, raw)

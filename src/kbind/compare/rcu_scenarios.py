"""The RCU misuse scenarios, one per row of the catalog, each written once.

Each function takes the design's :class:`~kbind.compare.rcu_adapter.RcuAdapter`
and does the misuse through it.  If the design catches it, the adapter step
raises (the runner classifies the error); if the design lets it through, the
function returns one line saying what followed (:func:`later`).

Every scenario is bounded (helper threads are joined with a timeout, sleeps
are at most a fraction of a second) and leaves nothing behind: guards are
released, callbacks run (the adapter's cleanup waits for them), the stall
threshold is restored.

Acts as user code (``KBIND_USER_CODE``), like the adapters.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Callable
from typing import Any

from kbind import rcu as _engine
from kbind.compare.kit import JOIN_S, Registrar, on_thread, run_on_thread
from kbind.compare.model import NotApplicable, Scenario
from kbind.compare.rcu_adapter import RcuAdapter
from kbind.errors import UseAfterFreeError

__all__ = ["SCENARIOS", "later"]

KBIND_USER_CODE = True

SCENARIOS: list[Scenario] = []

#: ``@scenario("ID")``: registers the function below it as that row's scenario.
scenario: Registrar[RcuAdapter] = Registrar(SCENARIOS, "rcu", sites=2)


def later(use: Callable[[], Any], expected: object = None) -> str:
    """Describe what a let-through misuse led to: run ``use()`` and report the outcome.

    ``UseAfterFreeError`` becomes "later UseAfterFreeError"; a value other
    than ``expected`` becomes "read X, expected Y"; anything else "ran on".
    """
    try:
        got = use()
    except UseAfterFreeError:
        return "later UseAfterFreeError"
    if expected is not None and got != expected:
        return f"read {got!r}, expected {expected!r}"
    return "ran on"


def _times(n: int) -> str:
    return {0: "never freed (a leak)", 1: "freed once", 2: "freed twice"}.get(n, f"freed {n} times")


@scenario("R01")
def r01(d: RcuAdapter) -> str:
    """Use a reference after its guard is dropped (and the old object freed)."""
    slot = d.new(1)
    section = d.lock()
    ref = d.deref(section, slot)
    d.unlock(section)
    d.reclaim(d.retire(slot, 2))  # a grace period: nothing protects ``ref`` any more
    return later(lambda: d.use(ref), 1)


@scenario("R02", sites=1)
def r02(d: RcuAdapter) -> str:
    """Return the reference out of the closure (or ``with`` block) that read it."""
    slot = d.new(1)
    ref = d.read_with(slot, lambda r: r)
    d.reclaim(d.retire(slot, 2))
    return later(lambda: d.use(ref), 1)


@scenario("R03", fine=True)
def r03(d: RcuAdapter) -> str:
    """Drop the pointer itself while a reference read through it is still in use (allowed)."""
    slots = [d.new(1)]
    with d.reader() as section:
        ref = d.deref(section, slots[0])
        slots.clear()
        gc.collect()
        return later(lambda: d.use(ref), 1)


@scenario("R04", sites=1)
def r04(d: RcuAdapter) -> str:
    """Dereference with no read-side critical section."""
    slot = d.new(1)
    ref = d.deref_unguarded(slot)
    d.reclaim(d.retire(slot, 2))
    return later(lambda: d.use(ref), 1)


@scenario("R05", sites=2)
def r05(d: RcuAdapter) -> str:
    """Call synchronize_rcu() inside the caller's own read-side critical section."""
    with d.reader():
        d.synchronize()
    return "ran on"


@scenario("R06")
def r06(d: RcuAdapter) -> str:
    """Drop an owner whose drop waits for a grace period, inside a read-side section."""
    old = d.make_old(1)
    dropped = False
    try:
        with d.reader():
            d.drop_waiting(old)
            dropped = True
    finally:
        if not dropped:
            d.dispose(old)
    return "ran on"


@scenario("R07")
def r07(d: RcuAdapter) -> str:
    """Take a sleeping lock inside a read-side critical section."""
    with d.reader():
        d.block()
    return "ran on: the lock was taken inside the reader"


@scenario("R08", sites=2)
def r08(d: RcuAdapter) -> str:
    """End a read-side section on another thread than the one that began it."""
    section = d.lock()
    ended = False
    try:
        raised = run_on_thread(lambda: d.unlock(section), "kbind-compare-R08")
        if raised is not None:
            raise raised
        ended = True
        return "ran on: another thread ended the section"
    finally:
        if not ended:
            d.unlock(section)


@scenario("R09", sites=1)
def r09(d: RcuAdapter) -> str:
    """Leave a read-side section open: its thread lets go of the guard without ending it."""
    raised = run_on_thread(d.lock, "kbind-compare-R09")
    if raised is not None:
        raise raised
    gc.collect()
    return "ran on"


@scenario("R10", sites=2)
def r10(d: RcuAdapter) -> str:
    """End one read-side section twice."""
    section = d.lock()
    d.unlock(section)
    d.unlock(section)
    return "ran on"


@scenario("R11", fine=True)
def r11(d: RcuAdapter) -> str:
    """Nest two read-side sections and end the outer one first (allowed: they count)."""
    outer = d.lock()
    inner = d.lock()
    d.unlock(outer)
    d.unlock(inner)
    return "ran on"


@scenario("R12", sites=1)
def r12(d: RcuAdapter) -> str:
    """Let two updaters read-copy-update at once, neither holding an update-side lock."""
    slot = d.new(0)
    olds: list[Any] = []
    raised: list[BaseException] = []

    def second() -> None:
        try:
            olds.append(d.update_unlocked(slot, lambda m: m + 1))
        except BaseException as exc:  # handed back to the cell's thread
            raised.append(exc)

    t = threading.Thread(target=second, name="kbind-compare-R12", daemon=True)

    def first(n: int) -> int:
        # The second updater runs (or waits for the first) between the first's read and
        # publish; a design that serializes updaters keeps it waiting past this join.
        t.start()
        t.join(0.5)
        return n + 1

    try:
        olds.append(d.update_unlocked(slot, first))
        t.join(JOIN_S)
        if raised:
            raise raised[0]
        with d.reader() as section:
            got = d.use(d.deref(section, slot))
    finally:
        if t.ident is not None:
            t.join(JOIN_S)
        for old in {id(o): o for o in olds}.values():
            d.dispose(old)
    if got == 2:
        return "serialized: no update lost"
    return f"read {got!r}, expected 2 (an update lost)"


@scenario("R13")
def r13(d: RcuAdapter) -> str:
    """Free the old object while a reader still holds it (no grace period)."""
    slot = d.new(1)
    with d.reader() as section:
        ref = d.deref(section, slot)
        d.free_now(d.retire(slot, 2))
        return later(lambda: d.use(ref), 1)


@scenario("R14", sites=1)
def r14(d: RcuAdapter) -> str:
    """Neither drop nor defer the owner of an old value: it is garbage-collected."""
    old = d.make_old(1)
    freed = d.abandon(old)
    del old
    gc.collect()
    d.barrier()
    n = freed()
    return "collected undropped, " + ("freed after a grace period" if n == 1 else _times(n))


@scenario("R15")
def r15(d: RcuAdapter) -> str:
    """Retire the same old object twice."""
    old = d.make_old(1)
    freed = d.probe_freed(old)
    d.dispose(old)
    d.dispose(old)
    d.barrier()
    n = freed()
    return "ran on (freed once)" if n == 1 else _times(n)


@scenario("R16", sites=1)
def r16(d: RcuAdapter) -> str:
    """Write a published object in place through a reader's reference."""
    slot = d.new(1)
    with d.reader() as section:
        d.mutate(d.deref(section, slot))
    return later(lambda: d.read_with(slot, d.use), 1)


@scenario("R17", sites=2)
def r17(d: RcuAdapter) -> str:
    """Read one SRCU domain's data under a guard of another domain."""
    mine, other = d.domain(), d.domain()
    section = d.lock_in(other)
    try:
        d.use_in(mine, section)
    finally:
        d.unlock(section)
    return "ran on: the guard holds up another domain's grace periods"


@scenario("R18")
def r18(d: RcuAdapter) -> str:
    """Queue a callback that relies on the caller's thread (its thread-locals)."""
    caller = threading.current_thread()
    ran_on: list[str] = []
    d.call(lambda: ran_on.append(threading.current_thread().name))
    d.barrier()
    if ran_on and ran_on[0] != caller.name:
        return f"ran on thread {ran_on[0]!r}, not the caller's"
    return "ran on"


@scenario("R19")
def r19(d: RcuAdapter) -> str:
    """Tear down what a pending callback uses without waiting for it (no rcu_barrier())."""
    torn_down = threading.Event()
    after: list[bool] = []
    with d.reader():  # the callback cannot run before the teardown below
        d.call(lambda: after.append(torn_down.is_set()))
        torn_down.set()
    d.barrier()
    return "the callback ran after the teardown" if after == [True] else "ran on"


@scenario("R20")
def r20(d: RcuAdapter) -> str:
    """Traverse an RCU list outside a reader: a traversal begun in a reader, finished after it."""
    lst = d.list_new([1, 2, 3])
    with d.reader() as section:
        it = d.list_iter(section, lst)
        next(it)
    for old in d.list_clear(lst):  # the updater empties the list and frees every element
        d.reclaim(old)
    return later(lambda: [d.use(ref) for ref in it], [2, 3])


@scenario("R21")
def r21(d: RcuAdapter) -> str:
    """Count an object of a SLAB_TYPESAFE_BY_RCU cache, then use it without rechecking its key."""
    cache = d.typesafe_cache()
    d.typesafe_insert(cache, 1)
    with d.reader() as section:
        ref = d.typesafe_lookup(section, cache, 1)  # the reader finds key 1 ...
        d.typesafe_delete(cache, 1)  # ... an updater frees it: back in the cache at once
        d.typesafe_insert(cache, 2)  # ... and the next allocation reuses it for key 2
        handle = d.typesafe_take(ref)  # the count succeeds: it is an object of the type
    if handle is None:
        return "ran on: the count failed"
    try:
        data = d.typesafe_data(handle)  # no recheck of the key
    finally:
        d.typesafe_put(handle)
    if data != "data of 1":
        return "read another object's data (key 2's, looked up as key 1)"
    return "ran on"


@scenario("R22", sites=1)
def r22(d: RcuAdapter) -> str:
    """Hold a reader on another thread past the stall threshold while an updater waits."""
    wait: Callable[[], None] = d.synchronize
    if d.WAITING_DROP:
        old = d.make_old(1)
        wait = lambda: d.drop_waiting(old)  # noqa: E731
    inside, leave = threading.Event(), threading.Event()

    def reader() -> None:
        with d.reader():
            inside.set()
            leave.wait(JOIN_S)

    before = _engine.get_stall_timeout()
    _engine.set_stall_timeout(0.05)
    t = threading.Thread(target=reader, name="kbind-compare-R22", daemon=True)
    timer = threading.Timer(0.25, leave.set)
    try:
        t.start()
        inside.wait(JOIN_S)
        timer.start()
        wait()
        return "waited for the reader, no warning"
    finally:
        timer.cancel()
        leave.set()
        t.join(JOIN_S)
        _engine.set_stall_timeout(before)


@scenario("R23", sites=0)
def r23(d: RcuAdapter) -> str:
    """Copy the pointer (or, where there is none, a guard) and update through the copy."""
    try:
        slot = d.new(1)
    except NotApplicable:
        with d.reader() as section:
            d.duplicate(section)
        return "ran on: a second guard of one section"
    twin = d.duplicate(slot)
    d.reclaim(d.retire(twin, 2))  # frees what the original still points to
    return later(lambda: d.read_with(slot, d.use), 1)


@scenario("R24")
def r24(d: RcuAdapter) -> str:
    """Wait for a grace period inside a callback: an owner's waiting drop, or synchronize_rcu()."""
    wait: Callable[[], None] = d.synchronize
    if d.WAITING_DROP:
        old = d.make_old(1)
        wait = lambda: d.drop_waiting(old)  # noqa: E731
    d.call(wait)
    d.barrier()
    return "ran on: the callback waited for a grace period"


@scenario("R25")
def r25(d: RcuAdapter) -> str:
    """Read a Revocable's data after revoke()."""
    slot = d.revoked(1)
    with d.reader() as section:
        ref = d.deref(section, slot)
        return later(lambda: d.use(ref), 1)


@scenario("R26")
def r26(d: RcuAdapter) -> str:
    """Add to an RCU list without taking its update-side lock."""
    lst = d.list_new([1])
    d.list_update_unlocked(lst, 2)
    return "ran on: the list was changed without its lock"


@scenario("R27")
def r27(d: RcuAdapter) -> str:
    """Keep an element past its reader through its lock, without rechecking that it was deleted."""
    slot = d.existing_new(1)
    olds: list[Any] = []
    handle = None
    try:
        with d.reader() as section:
            ref = d.deref(section, slot)
            # Another updater deletes it meanwhile: marks it deleted under its lock, unpublishes.
            on_thread(lambda: olds.append(d.existing_delete(slot)), "kbind-compare-R27-delete")
            handle = d.existing_lock(ref)  # its lock, inside the reader; no recheck
        old = olds.pop()
        on_thread(lambda: d.reclaim(old), "kbind-compare-R27-free")  # freed after a grace period
        return later(lambda: d.existing_use(handle), 1)
    finally:
        if handle is not None:
            d.existing_unlock(handle)
        for old in olds:
            d.dispose(old)


@scenario("R28")
def r28(d: RcuAdapter) -> str:
    """Put a reader's counted reference twice: the count another holder relies on is gone."""
    slot = d.counted_new(1)  # published; the publisher keeps the first count
    with d.reader() as section:
        mine = d.counted_get(section, slot)  # a reader takes a count of its own
    d.counted_put(mine)
    d.counted_put(mine)  # the same count put again
    d.barrier()
    return later(lambda: d.counted_owner_use(slot), 1)

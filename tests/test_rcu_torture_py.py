"""Python-level RCU torture: Python threads read and update through kbind.rcu, bounded.

The rcutorture idea (kernel/rcu/rcutorture.c, and liburcu's stress tests)
applied to the Python API: reader threads hold a guard, reach the published
element and keep using it across points where the GIL changes hands (a
nested guard is two C calls that release it), while an updater publishes
new elements and frees the old ones through RcuDropGuard.drop() or
.defer().  Two ways a broken engine shows:

* ``freed_seen``: a reader inside its section reached an element that had
  been freed (``UseAfterFreeError``);
* ``too_old``: the updater finished freeing the element a reader was still
  in the middle of (a whole grace period elapsed inside one section).

The real engine must show neither; each busted engine must be caught by
``UseAfterFreeError``.
"""

from __future__ import annotations

import dataclasses
import sys
import threading
import time
from collections.abc import Iterator
from typing import Literal

import pytest

from kbind import UseAfterFreeError
from kbind._bridge.native import lib
from kbind.rcu import Rcu, RcuReadGuard, rcu_barrier

# Every test runs on both RCU backends (builtin, liburcu): see tests/conftest.py.
pytestmark = pytest.mark.rcu_backends

JOIN = 30.0


@dataclasses.dataclass
class Element:
    gen: int
    payload: list[int]


@dataclasses.dataclass
class TortureResult:
    reads: int = 0
    updates: int = 0
    freed_seen: int = 0
    too_old: int = 0
    errors: list[BaseException] = dataclasses.field(default_factory=list)
    stopped_early: bool = False  # interrupted (Ctrl-C): the counts are partial


def py_rcu_torture(
    readers: int = 3,
    duration: float = 1.0,
    max_updates: int = 400,
    reclaim: Literal["drop", "defer"] = "drop",
    stop_on_error: bool = False,
) -> TortureResult:
    """Run readers and one updater through the Python API; bounded by time and updates.

    Ctrl-C stops the run early, as the native tortures do: the threads finish
    their current step and the partial counts come back with
    ``stopped_early`` set.
    """
    elem = Rcu(Element(0, [0] * 8))
    freed_gen = [-1]  # the newest generation whose element the updater has freed
    stop = threading.Event()
    start = threading.Barrier(readers + 1)
    res = TortureResult()
    lock = threading.Lock()

    def reader() -> None:
        reads = freed = old = 0
        try:
            start.wait(timeout=JOIN)
            while not stop.is_set():
                try:
                    with RcuReadGuard() as g:
                        e = elem.read(g)
                        gen = e.gen
                        for _ in range(3):
                            with RcuReadGuard():  # two C calls: the GIL changes hands
                                pass
                            total = sum(e.payload)  # UseAfterFreeError if freed under us
                            assert total == 8 * gen
                        if freed_gen[0] >= gen:
                            old += 1  # its grace period ended inside this section
                    reads += 1
                except UseAfterFreeError:
                    freed += 1
                    if stop_on_error:
                        stop.set()
        except BaseException as exc:
            with lock:
                res.errors.append(exc)
            stop.set()
        with lock:
            res.reads += reads
            res.freed_seen += freed
            res.too_old += old

    def updater() -> None:
        try:
            start.wait(timeout=JOIN)
            deadline = time.monotonic() + duration
            gen = 0
            while not stop.is_set() and gen < max_updates and time.monotonic() < deadline:
                gen += 1
                old = elem.replace(Element(gen, [gen] * 8))
                if reclaim == "drop":
                    old.drop()
                    freed_gen[0] = gen - 1
                else:
                    old.defer()
                res.updates = gen
        except BaseException as exc:
            res.errors.append(exc)
        finally:
            stop.set()

    threads = [threading.Thread(target=reader, name=f"torture-reader-{i}") for i in range(readers)]
    threads.append(threading.Thread(target=updater, name="torture-updater"))
    old_interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-4)  # more interleavings between bytecodes, too
    try:
        try:
            for t in threads:
                t.start()
            deadline = time.monotonic() + JOIN
            for t in threads:
                while t.is_alive() and time.monotonic() < deadline:
                    t.join(timeout=0.1)  # short slices: Ctrl-C is seen at once
        except KeyboardInterrupt:
            res.stopped_early = True
            stop.set()
            start.abort()  # threads still lining up give up too
            for t in threads:
                if t.ident is not None:
                    t.join(timeout=JOIN)
            broken = threading.BrokenBarrierError
            res.errors[:] = [e for e in res.errors if not isinstance(e, broken)]
        assert not any(t.is_alive() for t in threads), "torture threads hung"
    finally:
        sys.setswitchinterval(old_interval)
    assert rcu_barrier(timeout=JOIN)
    return res


@pytest.fixture(autouse=True)
def _real_engine_after() -> Iterator[None]:
    assert lib.kb_rcu_get_busted() == lib.KB_RCU_BUSTED_NONE
    yield
    assert lib.kb_rcu_get_busted() == lib.KB_RCU_BUSTED_NONE


@pytest.mark.parametrize("reclaim", ["drop", "defer"])
def test_py_torture_real_engine_never_frees_under_a_reader(reclaim: str) -> None:
    """The real engine: no reader ever reaches a freed element or outlives a grace period."""
    res = py_rcu_torture(readers=3, duration=1.0, max_updates=2000, reclaim=reclaim)  # type: ignore[arg-type]
    assert not res.errors, res.errors
    assert res.reads > 0 and res.updates > 0
    assert res.freed_seen == 0 and res.too_old == 0, res


@pytest.mark.parametrize(
    ("variant", "reclaim"),
    [
        (lib.KB_RCU_BUSTED_NO_WAIT, "drop"),
        (lib.KB_RCU_BUSTED_READER, "drop"),
        (lib.KB_RCU_BUSTED_EARLY_CB, "defer"),
    ],
    ids=["no_wait", "reader", "early_cb"],
)
def test_py_torture_busted_engine_caught_by_use_after_free(variant: int, reclaim: str) -> None:
    """Each busted engine frees an element under a guarded reader: UseAfterFreeError is hit."""
    if not lib.kb_rcu_busted_supported(variant):
        assert lib.kb_rcu_set_busted(variant) == lib.KB_ENOTSUP  # refused, not ignored
        pytest.skip(
            "this busted variant cannot exist on this backend: liburcu's call_rcu thread "
            "always waits for a grace period before invoking callbacks (docs/backends.md)"
        )
    before = lib.kb_rcu_get_busted()
    assert lib.kb_rcu_set_busted(variant) == lib.KB_OK
    try:
        res = py_rcu_torture(
            readers=3, duration=5.0, max_updates=5000, reclaim=reclaim,  # type: ignore[arg-type]
            stop_on_error=True,
        )  # fmt: skip
    finally:
        lib.kb_rcu_set_busted(before)
    assert not res.errors, res.errors
    assert res.freed_seen > 0, res

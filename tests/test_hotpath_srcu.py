"""The SRCU read side in C (kbind._bridge._hotpath, csrc/pyext/srcu_read.c): where calls go,
that the index is the engine's, and that no path leaks a reference or memory."""

from __future__ import annotations

import contextlib
import gc
import threading
import warnings

import pytest

from kbind._bridge.native import ffi, hot, lib
from kbind.errors import GuardError, LifetimeError, SrcuActiveReadersWarning
from kbind.kernel.sync import srcu as srcu_mod
from kbind.kernel.sync.srcu import Guard, Srcu
from kbind.lifetime import current_thread, open_scopes
from tests.support import growth

JOIN = 10.0


def test_read_lock_is_a_c_method_and_the_guard_a_c_scope() -> None:
    """Srcu.read_lock is the C descriptor (no Python frame); the guard's kind runs in C."""
    assert type(Srcu.__dict__["read_lock"]).__qualname__ == "SrcuReadMethod"
    assert Srcu.read_lock.__name__ == "read_lock"
    assert "srcu_read_lock()" in (Srcu.read_lock.__doc__ or "")
    assert issubclass(Guard, hot.SrcuGuardBase)
    d = Srcu()
    assert isinstance(d._word, hot.SrcuWord) and d._word.mem is d._sp
    with d.read_lock() as g:
        assert g._sp is d._sp and g._domain() is d and g.domain is d
    d.close()
    assert d._word.closed


def test_the_guard_keeps_the_engine_index_and_the_flip_moves_it() -> None:
    """The scope holds what kb_srcu_read_lock() returned; after a grace period, the other one."""
    d = Srcu()
    g = d.read_lock()
    before = g._idx
    assert before in (0, 1) and d.readers_active()
    g.unlock()
    assert not d.readers_active()
    d.synchronize()
    with Guard(d) as g2:  # the constructor is the same C path
        assert g2._idx == 1 - before
        assert lib.kb_srcu_readers_active(d._sp)
    assert not d.readers_active()
    d.close()


def test_nested_guards_of_two_domains_end_in_any_order() -> None:
    """Each guard unlocks its own domain with its own index, whatever the order."""
    a, b = Srcu(), Srcu()
    ga, gb, ga2 = a.read_lock(), b.read_lock(), a.read_lock()
    ga.unlock()
    assert a.readers_active() and b.readers_active()
    gb.unlock()
    assert not b.readers_active() and a.readers_active()
    ga2.unlock()
    assert not a.readers_active()
    a.close()
    b.close()


def test_constructor_refusals_lock_nothing() -> None:
    """Guard(non-Srcu), keywords, a second __init__: refused, and no reader is counted."""
    d = Srcu()
    with pytest.raises(TypeError, match="domain must be an Srcu, not int"):
        Guard(1)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        Guard()  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        Guard(d, extra=1)  # type: ignore[call-arg]
    assert not d.readers_active()
    with d.read_lock() as g:
        with pytest.raises(GuardError, match="begun already"):
            g.__init__(d)  # type: ignore[misc]
        idx = g._idx
    assert not d.readers_active() and idx in (0, 1)
    with pytest.raises(TypeError):
        d.read_lock(1)  # type: ignore[call-arg]
    with pytest.raises(AttributeError):
        _ = Guard.__new__(Guard)._sp
    d.close()


def test_closed_domain_refuses_in_c_before_the_engine() -> None:
    """After close() the C read_lock() asks the domain's check, which raises; nothing counts."""
    d = Srcu()
    d.close()
    for make in (d.read_lock, lambda: Guard(d)):
        with pytest.raises(LifetimeError, match="read_lock\\(\\) on Srcu#"):
            make()
    with pytest.raises(ValueError):
        d._word.closed = False
    assert not lib.kb_srcu_readers_active(d._sp)


def test_domain_collected_inside_its_own_reader_keeps_the_c_domain() -> None:
    """The guard holds the C domain: collected inside the reader, the unlock still counts."""
    d = Srcu()
    g = d.read_lock()
    sp = g._sp
    with pytest.warns(SrcuActiveReadersWarning, match="inside one of its own readers"):
        del d
        gc.collect()
    assert lib.kb_srcu_readers_active(sp)
    g.unlock()
    assert not lib.kb_srcu_readers_active(sp)
    assert g._domain() is None
    with pytest.raises(LifetimeError):
        _ = g.domain


def test_teardown_names_readers_of_other_threads() -> None:
    """A thread's first reader notes its token; close() names that thread's open guards."""
    d = Srcu()
    entered, leave = threading.Event(), threading.Event()
    tokens: list[object] = []

    def reader() -> None:
        with d.read_lock():
            tokens.append(current_thread())
            entered.set()
            leave.wait(JOIN)

    t = threading.Thread(target=reader, name="srcu-hot-reader")
    t.start()
    assert entered.wait(JOIN)
    assert tokens[0] in srcu_mod._reader_threads
    assert [g._sp for g in open_scopes(tokens[0], Guard)] == [d._sp]  # type: ignore[arg-type]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        threading.Timer(0.1, leave.set).start()
        d.close()
    t.join(JOIN)
    msgs = [str(w.message) for w in caught if issubclass(w.category, SrcuActiveReadersWarning)]
    assert len(msgs) == 1 and "srcu::Guard#" in msgs[0] and "srcu-hot-reader" in msgs[0]


def test_no_path_leaks() -> None:
    """The C paths (read_lock, Guard(d), with, unlock, refusals, the leak path) keep no object."""
    d, closed = Srcu(), Srcu()
    closed.close()
    word, sp = d._word, d._sp

    def run(n: int) -> None:
        for _ in range(n):
            with d.read_lock():
                pass
            g = Guard(d)
            g.unlock()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                d.read_lock()  # collected at once, while held: the leak path unlocks
            for bad in (closed.read_lock, lambda: Guard(1)):  # type: ignore[arg-type]
                with contextlib.suppress(LifetimeError, TypeError):
                    bad()

    refs, blocks, total = growth(run, [d, word, sp, closed], 20, 200)
    assert refs == [0, 0, 0, 0]
    assert blocks < 50, blocks
    assert total < 50, total
    assert not d.readers_active()
    assert int(ffi.cast("uintptr_t", sp)) != 0
    d.close()

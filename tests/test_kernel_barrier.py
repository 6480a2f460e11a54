"""kbind.kernel.sync.barrier: the generic ``smp_mb(Full | Read | Write)``, ``mb``, ``dma_mb``."""

from __future__ import annotations

import pickle

import pytest

from kbind import barrier as old
from kbind.errors import OrderingError
from kbind.kernel.sync import barrier
from kbind.kernel.sync.barrier import Full, Read, Write, dma_mb, mb, smp_mb
from kbind.ordering import Acquire, Relaxed


@pytest.mark.parametrize("fn", [smp_mb, mb, dma_mb])
@pytest.mark.parametrize("kind", [Full, Read, Write])
def test_each_barrier_runs_with_each_marker(fn: object, kind: object) -> None:
    """Every barrier accepts Full, Read and Write and returns None (the C barrier ran)."""
    assert fn(kind) is None  # type: ignore[operator]


@pytest.mark.parametrize("fn", [smp_mb, mb, dma_mb])
@pytest.mark.parametrize("bad", [Acquire, Relaxed, None, "Full", 1])
def test_wrong_marker_raises_ordering_error(fn: object, bad: object) -> None:
    """A marker other than Full, Read or Write raises OrderingError naming the accepted ones."""
    with pytest.raises(OrderingError) as err:
        fn(bad)  # type: ignore[operator]
    assert err.value.allowed == ("Read", "Write", "Full")
    assert "accepts only" in str(err.value)


def test_markers_map_to_the_c_barriers() -> None:
    """smp_mb's markers call kbind.barrier's C functions; mb/dma_mb their own C barriers."""
    assert barrier._SMP[type(Full)] is old.lib.kb_smp_mb
    assert barrier._SMP[type(Read)] is old.lib.kb_smp_rmb
    assert barrier._SMP[type(Write)] is old.lib.kb_smp_wmb
    assert barrier._MB[type(Full)] is old.lib.kb_mb
    assert barrier._DMA[type(Write)] is old.lib.kb_dma_wmb


def test_markers_are_sealed_singletons() -> None:
    """Read and Write cannot be subclassed elsewhere; they pickle as themselves."""
    with pytest.raises(TypeError):

        class Mine(barrier._BarrierMarker):
            pass

    assert repr(Read) == "kbind.kernel.sync.barrier.Read"
    assert pickle.loads(pickle.dumps(Write)) is Write

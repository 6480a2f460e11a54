"""Every torture takes the same duration bound, and tiny durations stay bounded."""

from __future__ import annotations

import time

import pytest

from kbind.torture import lock_torture, rcu_torture, rculist_torture
from kbind.torture.atomic import atomic_torture
from kbind.torture.seqlock import seqlock_torture

TORTURES = {
    "rcu": rcu_torture,
    "seqlock": seqlock_torture,
    "atomic": atomic_torture,
    "rcu-list": rculist_torture,
    "lock": lock_torture,
}


@pytest.mark.parametrize("kind", sorted(TORTURES))
def test_torture_duration_above_an_hour_refused_by_every_kind(kind: str) -> None:
    """3601 s is refused by each torture with ValueError (the rcu one used to stop at 600)."""
    with pytest.raises(ValueError, match="3600"):
        TORTURES[kind](duration=3601)


@pytest.mark.parametrize("kind", sorted(TORTURES))
def test_torture_tiny_duration_runs_and_returns(kind: str) -> None:
    """A 0.1 ns duration is a real (short) run, not a zero that means "no limit" or an error."""
    start = time.monotonic()
    result = TORTURES[kind](duration=1e-10)
    assert time.monotonic() - start < 10.0
    assert result is not None

"""kbind's native torture tests, one module per primitive (a tool on top of the primitives).

Each runs a C driver from ``csrc/tools/`` with the GIL released, on real
threads, against a real engine, and reports what the kernel's torture suites
report; each has deliberately broken ("busted") variants that it must catch.

* :mod:`kbind.torture.rcu` -- rcutorture for the QSBR RCU engine
  (``kernel/rcu/rcutorture.c``, ``Documentation/RCU/torture.rst``);
* :mod:`kbind.torture.seqlock` -- sequence-lock readers against writers
  (``include/linux/seqlock.h``);
* :mod:`kbind.torture.atomic` -- the LKMM atomics and their orderings
  (``Documentation/atomic_t.txt``);
* :mod:`kbind.torture.srcu` -- sleepable RCU with sleeping readers
  (rcutorture's ``srcu`` flavour, ``kernel/rcu/srcutree.c``);
* :mod:`kbind.torture.rculist` -- the RCU list and hash list under readers
  and updaters (``include/linux/rculist.h``, ``Documentation/RCU/listRCU.rst``);
* :mod:`kbind.torture.lock` -- locktorture for the spinlock and the futex
  mutex (``kernel/locking/locktorture.c``).

What they share (the duration bound, the argument checks, the run step,
the report's verdict, rates and last lines) is in ``kbind/torture/_common.py``.
Everything is re-exported here: ``from kbind.torture import rcu_torture``.
"""

from __future__ import annotations

from kbind.torture.atomic import (
    AtomicBustedVariant,
    AtomicTortureResult,
    atomic_torture,
    format_atomic_report,
)
from kbind.torture.lock import (
    LOCK_TYPES,
    LockBustedVariant,
    LockTortureResult,
    format_lock_report,
    lock_torture,
)
from kbind.torture.rcu import (
    BUSTED_VARIANTS,
    RECLAIM_MODES,
    RcuTortureResult,
    format_rcu_report,
    rcu_torture,
)
from kbind.torture.rculist import (
    RCULIST_BUSTED_VARIANTS,
    RCULIST_RECLAIM_MODES,
    RculistTortureResult,
    format_rculist_report,
    rculist_torture,
)
from kbind.torture.seqlock import (
    BustedVariant,
    SeqlockTortureResult,
    format_seqlock_report,
    seqlock_torture,
)
from kbind.torture.srcu import (
    SRCU_GP_MODES,
    SrcuBustedVariant,
    SrcuTortureResult,
    format_srcu_report,
    srcu_torture,
)

__all__ = [
    "BUSTED_VARIANTS",
    "LOCK_TYPES",
    "RCULIST_BUSTED_VARIANTS",
    "RCULIST_RECLAIM_MODES",
    "RECLAIM_MODES",
    "SRCU_GP_MODES",
    "AtomicBustedVariant",
    "AtomicTortureResult",
    "BustedVariant",
    "LockBustedVariant",
    "LockTortureResult",
    "RcuTortureResult",
    "RculistTortureResult",
    "SeqlockTortureResult",
    "SrcuBustedVariant",
    "SrcuTortureResult",
    "atomic_torture",
    "format_atomic_report",
    "format_lock_report",
    "format_rcu_report",
    "format_rculist_report",
    "format_seqlock_report",
    "format_srcu_report",
    "lock_torture",
    "rcu_torture",
    "rculist_torture",
    "seqlock_torture",
    "srcu_torture",
]

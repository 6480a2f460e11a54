"""The kernel's debugging options, switched at run time like their Kconfig options.

Every check of :mod:`kbind.kernel_c` is one of the kernel's own debugging
options, named as in Kconfig; all are on by default (a debug kernel), and
:func:`configured` switches some off for a block (a production kernel):

* ``PROVE_RCU`` -- lockdep-RCU (kernel/rcu/update.c ``lockdep_rcu_suspicious()``);
* ``PROVE_LOCKING`` -- lockdep proper (kernel/locking/lockdep.c): recursive
  locking, lock-order inversions, locks held at thread exit,
  ``lockdep_assert_held()``, ``synchronize_rcu()`` in a reader;
* ``DEBUG_ATOMIC_SLEEP`` -- ``might_sleep()`` in atomic context (kernel/sched/core.c
  ``__might_sleep()``);
* ``DEBUG_SPINLOCK`` -- ``spin_bug()`` (kernel/locking/spinlock_debug.c): an
  unlock by a thread that is not the owner, or of a lock that is not held;
* ``DEBUG_MUTEXES`` -- kernel/locking/mutex-debug.c: the same for ``struct mutex``.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterator

__all__ = ["Config", "config", "configured"]


@dataclasses.dataclass
class Config:
    """The run-time debugging options, as the kernel's Kconfig names them (all on by default)."""

    PROVE_RCU: bool = True
    PROVE_LOCKING: bool = True
    DEBUG_ATOMIC_SLEEP: bool = True
    DEBUG_SPINLOCK: bool = True
    DEBUG_MUTEXES: bool = True


#: The options in force (process-wide).  Change fields, or use :func:`configured`.
config = Config()


@contextlib.contextmanager
def configured(**options: bool) -> Iterator[Config]:
    """Run a block with some options changed (``configured(PROVE_RCU=False)``); restored after."""
    names = [f.name for f in dataclasses.fields(Config)]
    unknown = sorted(set(options) - set(names))
    if unknown:
        raise TypeError(f"configured(): unknown option(s) {unknown}; options: {', '.join(names)}")
    before = dataclasses.replace(config)
    for name, on in options.items():
        setattr(config, name, bool(on))
    try:
        yield config
    finally:
        for name in names:
            setattr(config, name, getattr(before, name))

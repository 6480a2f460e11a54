"""The kernel's C API over kbind's engine: the baseline every binding design is compared with.

Nothing here is a Rust item: this is what a C user writes, checked only by
the kernel's own debugging options, switched at run time like their Kconfig
options (:data:`config`, :func:`configured`; all on by default):

* RCU (:mod:`kbind.kernel_c.rcu`, include/linux/rcupdate.h):
  ``rcu_read_lock()``, ``rcu_dereference()``, ``rcu_assign_pointer()``,
  ``rcu_replace_pointer()``, ``synchronize_rcu()``, ``call_rcu()``,
  ``kfree_rcu()``, ``kmalloc()``/``kfree()`` (a freed object is poisoned,
  so a later access raises ``UseAfterFreeError``, what KASAN reports);
* locks with lockdep (:mod:`kbind.kernel_c.lock`, include/linux/spinlock.h,
  include/linux/mutex.h, include/linux/lockdep.h): ``spinlock_t``,
  ``struct mutex``, ``lockdep_assert_held()``;
* the options (:mod:`kbind.kernel_c.config`): ``PROVE_RCU``,
  ``PROVE_LOCKING``, ``DEBUG_ATOMIC_SLEEP``, ``DEBUG_SPINLOCK``,
  ``DEBUG_MUTEXES``.
"""

from __future__ import annotations

from kbind.kernel_c.config import Config, config, configured
from kbind.kernel_c.lock import (
    Mutex,
    Spinlock,
    lockdep_assert_held,
    lockdep_is_held,
    lockdep_reset,
    mutex_is_locked,
    mutex_lock,
    mutex_trylock,
    mutex_unlock,
    spin_is_locked,
    spin_lock,
    spin_trylock,
    spin_unlock,
)
from kbind.kernel_c.rcu import (
    Allocation,
    RcuPointer,
    call_rcu,
    kfree,
    kfree_rcu,
    kmalloc,
    rcu_assign_pointer,
    rcu_dereference,
    rcu_dereference_protected,
    rcu_read_lock,
    rcu_read_lock_held,
    rcu_read_unlock,
    rcu_replace_pointer,
    synchronize_rcu,
)

__all__ = [
    "Allocation",
    "Config",
    "Mutex",
    "RcuPointer",
    "Spinlock",
    "call_rcu",
    "config",
    "configured",
    "kfree",
    "kfree_rcu",
    "kmalloc",
    "lockdep_assert_held",
    "lockdep_is_held",
    "lockdep_reset",
    "mutex_is_locked",
    "mutex_lock",
    "mutex_trylock",
    "mutex_unlock",
    "rcu_assign_pointer",
    "rcu_dereference",
    "rcu_dereference_protected",
    "rcu_read_lock",
    "rcu_read_lock_held",
    "rcu_read_unlock",
    "rcu_replace_pointer",
    "spin_is_locked",
    "spin_lock",
    "spin_trylock",
    "spin_unlock",
    "synchronize_rcu",
]

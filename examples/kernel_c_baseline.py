"""The baseline: the kernel's C RCU API, where only the debugging options catch mistakes.

C (include/linux/rcupdate.h):

    rcu_read_lock();
    p = rcu_dereference(gp);     /* CONFIG_PROVE_RCU warns if outside a reader */
    use(p);
    rcu_read_unlock();

    old = rcu_replace_pointer(gp, new, lockdep_is_held(&lock));
    kfree(old);                  /* BUG: no grace period; KASAN may see it later */

``kbind.kernel_c`` is that API on kbind's engine.  With ``PROVE_RCU`` on,
the dereference outside a reader is caught at once; with it off the mistake
goes through, and the free without a grace period shows up only later, as
a ``UseAfterFreeError`` when a reader touches the poisoned object -- the
difference a binding design tries to move to compile time.

Exits 1 unless the checked run catches the dereference and the unchecked
run lets it through until the use after free.
"""

from __future__ import annotations

import sys

from kbind import kernel_c as c
from kbind.errors import LifetimeError, UseAfterFreeError


def main() -> int:
    gp = c.RcuPointer(c.kmalloc({"timeout": 30}))
    try:
        c.rcu_dereference(gp)
        caught = False
    except LifetimeError as e:
        caught = True
        print("PROVE_RCU on:", str(e).splitlines()[0])
    with c.configured(PROVE_RCU=False):
        stale = c.rcu_dereference(gp)  # outside a reader: nothing says no
        old = c.rcu_replace_pointer(gp, c.kmalloc({"timeout": 60}), held=False)
        assert old is not None
        c.kfree(old)  # no grace period
    try:
        print("stale read:", stale.value if stale else None)
        later = False
    except UseAfterFreeError as e:
        later = True
        print("PROVE_RCU off, later:", str(e).splitlines()[0])
    return 0 if caught and later else 1


if __name__ == "__main__":
    sys.exit(main())

"""What the designs that take a ``kernel::sync::rcu::Guard`` share: refusals, policies, waits.

Not public API.  :mod:`kbind.kernel.revocable` and the RFC mirrors
(:mod:`kbind.rfc.rcu_pointer`, :mod:`kbind.rfc.rcu_box`) bind references to
a merged read guard (:class:`kbind.kernel.sync.rcu.Guard`) with the C
dereference descriptors of ``kbind._bridge._hotpath`` (the read path of
:class:`kbind.rcu.Rcu`); this module builds what those descriptors call
back into when a rule is broken, and the grace-period wait every updater
of these designs does.

Rules enforced here (each error names the rule and the sites involved):

* a reference is made only under an open ``rcu::Guard`` of the calling
  thread (``TypeError`` for anything else, ``LifetimeError`` for an ended
  guard, ``GuardError`` for another thread's: Rust's ``&'a Guard`` and
  ``!Send``);
* a reference used after its guard raises ``LifetimeError``; one into a
  freed value, ``UseAfterFreeError``;
* a grace-period wait is refused inside a read-side section
  (``DeadlockError``: it would wait for itself) and in any other atomic
  section (``AtomicContextError``, :func:`kbind.context.might_sleep`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kbind import context
from kbind._bridge import immutable as _im
from kbind._bridge.guard import Site, user_frame
from kbind.errors import LifetimeError, UseAfterFreeError
from kbind.kernel.sync.rcu import Guard
from kbind.lifetime import Cell, RefPolicy, policy
from kbind.rcu import _runtime as _rt

__all__ = ["is_missing", "ref_policy", "refuse_guard", "wait_allowed"]


def refuse_guard(design: str, cell_label: Callable[[Any], str]) -> Callable[[object, object], None]:
    """Return the refusal a dereference descriptor calls for a bad guard (it raises).

    ``design`` names the Rust call ("Revocable::try_access_with_guard()");
    ``cell_label(obj)`` names the value read.
    """

    def refuse(obj: object, guard: object) -> None:
        op = f"{design} on {cell_label(obj)}"
        if type(guard) is not Guard or not guard.begun:
            other = getattr(type(guard), "KIND", type(guard).__name__)
            also = (
                " (the 2019-2021 proposal's guard: this design takes the merged one)"
                if other == "RcuReadGuard"
                else ""
            )
            raise TypeError(
                f"{op}: needs an open kbind.kernel.sync.rcu.Guard (Rust: &'a rcu::Guard; "
                f"no dereference without a read-side critical section), not {other}{also}"
            )
        guard.check_alive(f"{op} under {guard.name}")
        guard._refuse_thread(f"{op} under {guard.name}", user_frame())

    return refuse


def ref_policy(rust: str) -> RefPolicy:
    """Build the reference policy of a design whose references stand for ``rust`` (``&'a T``).

    Immutable and self-synchronizing values come out as they are (the same
    set as :class:`kbind.rcu.RcuRef`'s); anything else is a child reference
    bound to the same guard; writes through a reference raise
    ``ReadOnlyError``.
    """

    def stale(guard: Any, cell: Cell, op: str) -> LifetimeError:
        return LifetimeError(
            f"{op} through a reference into {cell.label} obtained under {guard.name}",
            f"{guard.name} was unlocked, so the value may already be freed; {rust} must not "
            "outlive the guard it borrows from (Rust rejects this at compile time)",
            guard=guard.name,
            created_at=guard.created_at,
            dropped_at=guard.dropped_at,
            hint="copy what you need out of the reference inside the read-side critical section",
        )

    def freed(guard: Any, cell: Cell, op: str) -> UseAfterFreeError:
        return UseAfterFreeError(
            f"{op} through a reference into {cell.label} obtained under {guard.name}",
            "the value was freed after a grace period while this reference could still reach "
            "it: a grace period waits only for read-side sections that began before the value "
            "was unpublished, so the reference outlived its section or the value was freed "
            "by hand",
            guard=f"the {cell.label} value",
            created_at=cell.published_at,
            retired_at=cell.retired_at,
            freed_at=cell.freed_at,
            sites=[(f"reference obtained under {guard.name} created at", guard.created_at)],
            hint="use references only inside the guard they were obtained under",
        )

    return policy(plain=_im.PLAIN, stale=stale, freed=freed)


def is_missing(exc: AttributeError, obj: object, attr: str) -> bool:
    """Whether ``exc`` says ``obj.attr`` is unset (a null or revoked pointer), not a user error."""
    return exc.obj is obj and exc.name == attr


def wait_allowed(op: str) -> None:
    """Refuse a grace-period wait where it would deadlock or sleep in atomic context.

    Kernel: ``might_sleep()`` at the top of ``synchronize_rcu()``.  Raises
    ``DeadlockError`` inside a read-side section of this thread (of any RCU
    design: R05, the wait would wait for itself) and ``AtomicContextError``
    inside any other atomic section (a spinlock, an RCU callback).
    """
    ts = _rt.current_state()
    if ts is not None and ts.guards:
        _rt.raise_in_reader(op, ts)
    context.might_sleep(op)


def here() -> Site:
    """Return the user's line that called into the design (kbind's own frames skipped)."""
    return Site.here(2)

"""``kernel::sync::LockedBy<T, U>``: data protected by a lock that lives elsewhere.

Rust: rust/kernel/sync/locked_by.rs.  ``LockedBy::new(&owner_lock, data)``;
``access(&'a self, owner: &'a U) -> &'a T`` and ``access_mut(&'a self, owner:
&'a mut U) -> &'a mut T`` take the owner lock's data (reachable only through
its guard) and check with a pointer comparison, at run time, that it is the
owner's; a wrong owner panics.  kbind takes the guard itself and compares
the guard's lock word with the owner's.
"""

from __future__ import annotations

from typing import Any, Generic, TypeVar, final

from kbind._bridge.guard import NotClone, Site
from kbind._bridge.site import user_frame
from kbind.errors import GuardError
from kbind.kernel.sync.lock._core import Guard, Lock, refuse_off_thread
from kbind.lifetime import Cell, bind

__all__ = ["LockedBy", "LockedByMut"]

T = TypeVar("T")


@final
class LockedBy(NotClone, Generic[T]):
    """A value whose lock is another object's lock (``owner``).

    Rust: ``kernel::sync::LockedBy<T, U>``.  Kernel: a field documented as
    "protected by the owner's lock" (``lockdep_assert_held(&owner->lock)``).

    Rules (run-time checks, each error naming both sites):

    * it is reached only with a guard of the owner lock: a guard of another
      lock raises ``GuardError`` naming where this LockedBy was made, where
      the guard was taken and the access (Rust: the owner pointer comparison);
    * the guard must be held by this thread: released, ``LifetimeError``;
      another thread's, ``GuardError``;
    * :meth:`access` gives a read-only reference that dies with the guard
      (``LifetimeError`` after unlock; ``ReadOnlyError`` on a mutation);
      :meth:`access_mut` a handle whose ``.value`` reads and assigns while
      the guard is held.

    Examples:
        >>> from kbind.kernel.sync.lock import LockedBy, SpinLock
        >>> owner = SpinLock("inventory")
        >>> count = LockedBy(owner, 0)
        >>> with owner.lock() as g:
        ...     count.access_mut(g).value += 1
        ...     count.access(g) == 1
        True
    """

    __slots__ = ("_cell", "_made_at", "_owner_word")
    _CLONE_ROLE = "owner"

    def __init__(self, owner: Lock[Any], value: T) -> None:
        if not isinstance(owner, Lock):
            raise TypeError(
                f"LockedBy(owner, value): owner must be a kbind.kernel.sync.lock lock, "
                f"not {type(owner).__name__}"
            )
        self._owner_word = owner._word
        self._cell = Cell(value, "LockedBy")
        self._made_at = Site.from_frame(user_frame())

    def __repr__(self) -> str:
        return f"<LockedBy made at {self._made_at}>"

    def _check(self, guard: Guard[Any], op: str) -> None:
        if type(guard) is not Guard:
            raise TypeError(
                f"{op} needs a kbind.kernel.sync.lock.Guard, not {type(guard).__name__}"
            )
        refuse_off_thread(guard, op)
        guard.check_alive(op, hint="access the data while the owner's guard is held")
        if guard._data is not self._owner_word:
            raise GuardError(
                op,
                f"{guard.name} holds another lock than this LockedBy's owner (Rust: the "
                "owner pointer comparison in LockedBy::access fails)",
                guard=guard.name,
                created_at=guard.created_at,
                sites=[
                    ("LockedBy made at", self._made_at),
                    ("access attempted at", Site.from_frame(user_frame())),
                ],
                hint="pass the guard of the lock given to LockedBy(owner, value)",
            )

    def access(self, guard: Guard[Any]) -> T:
        """Return a read-only reference to the value, valid while ``guard`` is held.

        Rust: ``LockedBy::access(&self, &U) -> &T``.  Statically the reference
        is the ``T`` it forwards to.

        Raises:
            GuardError: ``guard`` holds another lock, or belongs to another thread.
            LifetimeError: ``guard`` was released.
        """
        self._check(guard, "LockedBy.access()")
        ref: T = bind(guard, self._cell)
        return ref

    def access_mut(self, guard: Guard[Any]) -> LockedByMut[T]:
        """Return a handle whose ``.value`` reads and assigns the value while ``guard`` is held.

        Rust: ``LockedBy::access_mut(&self, &mut U) -> &mut T``.

        Raises:
            GuardError: ``guard`` holds another lock, or belongs to another thread.
            LifetimeError: ``guard`` was released.
        """
        self._check(guard, "LockedBy.access_mut()")
        return LockedByMut(self, guard)


@final
class LockedByMut(Generic[T]):
    """Mutable access to a :class:`LockedBy` value under one owner guard (Rust: ``&'a mut T``).

    Every use checks that the guard is still held by this thread
    (``LifetimeError`` after its unlock, ``GuardError`` on another thread).
    """

    __slots__ = ("_guard", "_locked")

    def __init__(self, locked: LockedBy[T], guard: Guard[Any]) -> None:
        self._locked = locked
        self._guard = guard

    def _live(self, op: str) -> None:
        refuse_off_thread(self._guard, op)
        self._guard.check_alive(op, hint="use LockedBy.access_mut() while the guard is held")

    @property
    def value(self) -> T:
        """The value (while the guard is held, on its thread)."""
        self._live("read LockedBy value through access_mut()")
        value: T = self._locked._cell.value
        return value

    @value.setter
    def value(self, new: T) -> None:
        self._live("assign LockedBy value through access_mut()")
        self._locked._cell = Cell(new, "LockedBy")

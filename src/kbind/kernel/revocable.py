"""``kernel::revocable`` (merged): ``Revocable<T>`` and ``RevocableGuard<'a, T>``.

Rust: rust/kernel/revocable.rs (mainline; no release is quoted here: the
survey of late 2026 this mirror follows gives none).  A ``Revocable<T>`` owns a
value that users reach only while it is available; ``revoke()`` makes it
unavailable, waits for a grace period (``synchronize_rcu()``) and drops it.
Readers: ``try_access()`` (a ``RevocableGuard`` holding an ``rcu::Guard``,
so ``!Send``), ``try_access_with_guard(&'a Guard) -> Option<&'a T>`` (the
lifetime is checked at compile time) and ``try_access_with(closure)``
(added because users forgot to drop the guard before sleeping).  Rust's
``revoke_nosync()`` and ``access()`` are ``unsafe`` and not mirrored.

kbind checks at run time what Rust checks at compile time or leaves to
documentation ("do not sleep while holding the guard"): references die
with their guard (``LifetimeError``), the value is poisoned once revoked
(``UseAfterFreeError`` through a reference that outlived its guard), the
guard stays on its thread (``GuardError``), and ``revoke()`` refuses to wait
inside a reader (``DeadlockError``) or another atomic section
(``AtomicContextError``, :mod:`kbind.context`).

The read paths are the C dereference descriptors of :class:`kbind.rcu.Rcu`
(``kbind._bridge._hotpath``) bound to :class:`kbind.kernel.sync.rcu.Guard`:
the value is loaded inside the read-side section, and a revoked value (its
slot unset) is reported as ``None`` by the descriptor itself
(``none_if_unset``).  :meth:`Revocable.try_access_with` and
:meth:`Revocable.try_access_with_guard` *are* those descriptors: no Python
frame runs on the read path.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from types import TracebackType
from typing import TYPE_CHECKING, Any, Final, Generic, TypeVar, cast, final

from kbind._bridge.guard import NotClone, Site
from kbind._bridge.native import hot
from kbind.errors import LifetimeError
from kbind.kernel._guarded import ref_policy, refuse_guard, wait_allowed
from kbind.kernel.sync.rcu import Guard
from kbind.lifetime import Cell, Ref
from kbind.rcu import call_rcu, synchronize_rcu

__all__ = ["Revocable", "RevocableGuard", "RevocableRef"]

T = TypeVar("T")
R = TypeVar("R")

#: The slot holding the value's Cell; unset once revoked (the Rust ``is_available`` flag).
_SLOT: Final = "_data"


@final
class RevocableRef(Ref):
    """A read-only reference into a :class:`Revocable`'s value, valid while its guard is.

    Rust: the ``&'a T`` of ``try_access_with_guard(&'a Guard)`` and the
    ``Deref`` of ``RevocableGuard``.  Every use checks that the guard is
    open (``LifetimeError``) and the value not freed (``UseAfterFreeError``);
    writes raise ``ReadOnlyError``.
    """

    __slots__ = ()


_POLICY: Final = ref_policy("the &'a T of Revocable::try_access_with_guard()")

_TRY_ACCESS_WITH_DOC: Final = """\
Run ``fn(value)`` inside a read-side section of its own; None if revoked.

Rust: ``Revocable::try_access_with<R, F: FnOnce(&T) -> R>(&self, f: F)
-> Option<R>``.  ``fn`` gets a reference (declared ``T``) valid while it
runs; returning the reference itself raises ``LifetimeError`` (Rust:
``R`` cannot borrow from the value); references inside a result die
with the section.  Once revoked, ``fn`` is not called.  Nothing in ``fn``
may sleep.
"""

_TRY_ACCESS_WITH_GUARD_DOC: Final = """\
Return the value as a reference bound to the caller's ``guard``, or None if revoked.

Rust: ``Revocable::try_access_with_guard<'a>(&'a self, guard: &'a
rcu::Guard) -> Option<&'a T>``.

Raises:
    TypeError: ``guard`` is not a :class:`kbind.kernel.sync.rcu.Guard`.
    LifetimeError: ``guard`` was unlocked.
    GuardError: ``guard`` belongs to another thread.
"""


@final
class RevocableGuard(NotClone, Generic[T]):
    """Access to a :class:`Revocable`'s value inside a read-side section it holds.

    Rust: ``kernel::revocable::RevocableGuard<'a, T>`` (holds an
    ``rcu::Guard``, so ``!Send``; derefs to ``T``).  Made by
    :meth:`Revocable.try_access`.

    Rules: :attr:`value` is a reference valid until the guard is dropped
    (``drop()`` or the end of its ``with`` block), on its own thread
    (``GuardError`` elsewhere); afterwards it raises ``LifetimeError``.  A
    second ``drop()`` raises ``GuardError``.  Inside it nothing may sleep
    (``AtomicContextError``) and ``revoke()`` of any Revocable raises
    ``DeadlockError``.  Collected while held, its read guard is released
    with a ``GuardLeakWarning`` naming where it was made.
    """

    __slots__ = ("_guard", "_ref")
    _CLONE_ROLE = "guard"

    def __init__(self, guard: Guard, ref: RevocableRef) -> None:
        self._guard = guard
        self._ref = ref

    def __repr__(self) -> str:
        return f"<RevocableGuard holding {self._guard!r}>"

    @property
    def guard(self) -> Guard:
        """The ``rcu::Guard`` this guard holds (a reader may bind other references to it)."""
        return self._guard

    @property
    def value(self) -> T:
        """The value, as a reference bound to this guard (Rust: ``Deref for RevocableGuard``).

        Raises:
            LifetimeError: the guard was dropped.
            GuardError: on another thread (Rust: ``!Send``).
        """
        g = self._guard
        g.check_alive("use the value of a RevocableGuard")
        g.check_owner(f"use the value of a RevocableGuard ({g.name})")
        return cast(T, self._ref)

    def drop(self) -> None:
        """Leave the read-side section (Rust: ``drop(guard)``); the value's reference dies.

        Raises:
            GuardError: already dropped, or on another thread.
        """
        self._guard.unlock()

    def __enter__(self) -> RevocableGuard[T]:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._guard.alive:
            self._guard.unlock()


@final
class Revocable(NotClone, Generic[T]):
    """A value that can be revoked: readers reach it only while it is available.

    Rust: ``kernel::revocable::Revocable<T>`` (rust/kernel/revocable.rs).
    Kernel: a device resource that a driver's unbind revokes while users may
    still be reading it under ``rcu_read_lock()``.

    Rules (run-time checks; each error names the sites involved):

    * readers reach the value only inside a read-side section, through a
      reference bound to it (:meth:`try_access`, :meth:`try_access_with`,
      :meth:`try_access_with_guard`); once revoked they get ``None``, never
      the value;
    * :meth:`revoke` makes the value unavailable, waits for a grace period,
      then drops it: it is poisoned, so a reference that outlived its guard
      raises ``UseAfterFreeError`` (or ``LifetimeError``); it returns whether
      this call revoked it (a second call returns ``False``);
    * :meth:`revoke` may sleep: ``DeadlockError`` inside a read-side section,
      ``AtomicContextError`` in any other atomic section.

    Examples:
        >>> from kbind.kernel.revocable import Revocable
        >>> res = Revocable({"base": 0x1000})
        >>> res.try_access_with(lambda r: r["base"])
        4096
        >>> res.revoke(), res.revoke()
        (True, False)
        >>> res.try_access_with(lambda r: r["base"]) is None
        True
    """

    __slots__ = ("__weakref__", "_data", "_label", "_lock", "_revoked_at")
    _CLONE_ROLE = "owner"

    def __init__(self, value: T) -> None:
        self._label = f"Revocable[{type(value).__name__}]"
        self._data = Cell(value, self._label, Site.here(2))
        self._lock = threading.Lock()
        self._revoked_at: Site | None = None

    def __repr__(self) -> str:
        state = "available" if self._revoked_at is None else f"revoked at {self._revoked_at}"
        return f"<{self._label} {state}>"

    @property
    def revoked_at(self) -> Site | None:
        """Where :meth:`revoke` revoked the value, or None while it is available."""
        return self._revoked_at

    # -- readers

    def try_access(self) -> RevocableGuard[T] | None:
        """Enter a read-side section and return a guard giving the value, or None if revoked.

        Rust: ``Revocable::try_access(&self) -> Option<RevocableGuard<'_, T>>``.
        Drop the guard (``with guard:`` or ``guard.drop()``) before anything
        that may sleep.
        """
        g = Guard()
        try:
            ref = _deref(self, g)
        except BaseException:
            g.unlock()
            raise
        if ref is None:  # revoked
            g.unlock()
            return None
        return RevocableGuard(g, ref)

    # The other two readers are the C descriptors bound below the class (no
    # Python frame): see _TRY_ACCESS_WITH_DOC and _TRY_ACCESS_WITH_GUARD_DOC.
    if TYPE_CHECKING:

        def try_access_with(self, fn: Callable[[T], R]) -> R | None:
            """See _TRY_ACCESS_WITH_DOC (the C method's documentation)."""

        def try_access_with_guard(self, guard: Guard) -> T | None:
            """See _TRY_ACCESS_WITH_GUARD_DOC (the C method's documentation)."""

    # -- revocation

    def revoke(self) -> bool:
        """Make the value unavailable, wait for a grace period, drop it; True if this call did.

        Rust: ``Revocable::revoke(&self) -> bool`` (swaps ``is_available``,
        then ``synchronize_rcu()``, then drops the data).  A second call, or
        one racing with a revoke in progress, returns ``False`` at once.
        The dropped value is poisoned: a reference that outlived its guard
        raises ``UseAfterFreeError``.

        Context: may sleep.

        Raises:
            DeadlockError: inside a read-side section of this thread (the
                grace period would wait for it).
            AtomicContextError: inside another atomic section.
        """
        wait_allowed("revoke a Revocable (revoke() waits in synchronize_rcu())")
        site = Site.here(2)
        with self._lock:
            cell: Cell | None = getattr(self, _SLOT, None)
            if cell is None:
                return False
            delattr(self, _SLOT)  # readers from now on see it revoked
            self._revoked_at = site
        cell.retire(site)
        try:
            synchronize_rcu()
        except BaseException:
            # Interrupted (Ctrl-C): still unreachable to new readers; free it later.
            call_rcu(lambda: cell.poison(site))
            raise
        cell.poison(site)
        return True


def _label(obj: Any) -> str:
    return str(obj._label)


def _escaped(guard: Guard, rev: Revocable[Any]) -> LifetimeError:
    return LifetimeError(
        f"return the reference into {rev._label} from try_access_with()",
        f"the closure's read-side section ({guard.name}) ended when it returned, so the "
        "reference is dead (Rust: R cannot borrow from &T)",
        guard=guard.name,
        created_at=guard.created_at,
        dropped_at=guard.dropped_at,
        hint="return what you need, copied out of the reference (copy.deepcopy(ref))",
    )


def _as_is(result: object, guard: object) -> object:
    return result


# A revoked value (the slot unset) reads as None in C (none_if_unset=True).
_deref: Final[Any] = hot.deref_method(
    "try_access_with_guard", _TRY_ACCESS_WITH_GUARD_DOC, RevocableRef, _POLICY, Guard, _SLOT,
    refuse_guard("Revocable::try_access_with_guard()", _label), True,
)  # fmt: skip
Revocable.try_access_with_guard = _deref  # type: ignore[method-assign]
Revocable.try_access_with = hot.scoped_call_method(  # type: ignore[method-assign]
    "try_access_with", _TRY_ACCESS_WITH_DOC, RevocableRef, _POLICY, Guard, _SLOT, _as_is,
    _escaped, "when try_access_with() returned", True,
)  # fmt: skip

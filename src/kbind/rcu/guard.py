"""Read-side critical sections: :class:`RcuReadGuard`, :func:`read_lock`, the ``update()`` scope.

Kernel: ``rcu_read_lock()`` / ``rcu_read_unlock()`` (include/linux/rcupdate.h).
Rust: ``kernel::sync::rcu::Guard`` (``rcu::read_lock()``).  C:
``kb_rcu_py_read_enter()`` / ``kb_rcu_py_read_exit()``, called from the
hot-path extension (``kbind._bridge._hotpath``) without releasing the GIL.

Also here: the hooks :class:`kbind.lifetime.Scope` calls when a guard is
collected open or its thread exits inside a section (``GuardLeakWarning``),
and ``_UpdateGuard``, the scope of ``update(fn)``'s ``fn``
(``rcu_dereference_protected()``).  Public names are re-exported by
:mod:`kbind.rcu`.
"""

from __future__ import annotations

import threading
import types
import warnings
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar, final

import kbind.rcu._runtime as _rt
from kbind._bridge.guard import Site, leak_warning, refuse_as_guard, user_frame
from kbind.errors import GuardError, GuardLeakWarning
from kbind.lifetime import Scope

if TYPE_CHECKING:
    _ScopeBase = Scope
else:
    _ScopeBase = object


def read_leak_hooks(
    who: str, fix: str
) -> tuple[Callable[[Any, bool], None], Callable[[list[Any]], None]]:
    """Return the ``on_leak`` and ``on_thread_exit`` hooks of an RCU design's read guard.

    ``who`` names a guard in the leak warning ("an RcuReadGuard"), ``fix`` says
    how to end it ("Use `with RcuReadGuard() as g:` or call g.drop().").
    """
    # kbind.lifetime: an open guard was collected.  On its own thread (the
    # usual case: refcounting frees it where it was dropped) the C core ended
    # its section; elsewhere (a collection cycle on another thread) only the
    # owner could, so the engine counts it until the thread exits.
    on_leak = leak_warning(
        "inside its read-side critical section (or abandoned by an exception before its "
        "with block)",
        "ended the section",
        fix,
        who=who,
        only_when_ended=True,
    )

    def on_thread_exit(guards: list[Any]) -> None:
        # kbind.lifetime: the thread exited inside read-side sections.  The C
        # engine's key destructor takes the thread offline and unregisters it.
        first = guards[0]
        names = ", ".join(g.name for g in guards)
        warnings.warn(
            GuardLeakWarning(
                f"thread {first.owner.name!r} exited inside {len(guards)} read-side critical "
                f"section(s) ({names}); the outermost guard was created at {first.created_at} "
                f"(R09). {fix}"
            ),
            stacklevel=1,
        )

    return on_leak, on_thread_exit


_guard_leaked, _thread_exited = read_leak_hooks(
    "an RcuReadGuard", "Use `with RcuReadGuard() as g:` or call g.drop()."
)


class ReadSection(_ScopeBase):
    """The refusals every RCU design's read guard shares (a mixin before ``Scope``).

    A second end (R10), an end on another thread (R08), ending a guard that
    never began, and an engine that counts no section; ``_END`` names the
    ending ("drop", "unlock"), ``_MAKE`` and ``_MAKE_ALSO`` how a guard is made.
    """

    __slots__ = ()
    _END: ClassVar[str] = "drop"
    _MAKE: ClassVar[str] = "RcuReadGuard()"
    _MAKE_ALSO: ClassVar[str] = "kbind.rcu.read_lock()"

    def _never(self, op: str) -> GuardError:
        return GuardError(
            f"{op} of an {self.KIND}",
            f"R10: this guard never entered a read-side section (created without calling "
            f"{self._MAKE})",
            hint=f"create guards with {self._MAKE} or {self._MAKE_ALSO}",
        )

    def _kb_refuse(self, what: str, how: str) -> object:
        if what == "enter":  # a with block on a dropped guard: its exit does nothing
            return None
        if what == "never":
            raise self._never("leave the read-side section")
        if what == "ended":
            refuse_as_guard(self, f"{self._END} {self.name}", what, how, rule="R10: ")
        if what == "thread":
            self._refuse_thread(f"{self._END} {self.name}", user_frame(), how)
        if what == "engine":
            self._engine_mismatch()
        return super()._kb_refuse(what, how)

    def _engine_mismatch(self) -> None:
        raise GuardError(
            f"leave the read-side section of {self.name}",
            "R10: the C engine counts no read-side section on this thread (was it left "
            "with kbind._bridge.native.lib.kb_rcu_read_unlock() directly?)",
            guard=self.name,
            created_at=self.created_at,
            hint="leave sections only through their guards",
        )

    def _refuse_thread(self, op: str, f: types.FrameType, how: str = "") -> None:
        here = threading.current_thread().name
        owner = self.owner
        raise GuardError(
            op,
            f"R08: {self.name} belongs to thread {owner.name!r}"
            f"{', which has exited,' if owner.exited else ''} and this is thread "
            f"{here!r}; a read-side critical section is a property of one thread, so its "
            "guard cannot move (Rust: the guard is !Send)",
            guard=self.name,
            created_at=self.created_at,
            dropped_at=self.dropped_at,
            sites=[("attempted at", Site.from_frame(f, how))],
            hint="create a guard on the thread that reads, and drop it there",
        )


@final
class RcuReadGuard(
    ReadSection, Scope, kind="RcuReadGuard", engine="rcu_read", on_leak=_guard_leaked,
    on_thread_exit=_thread_exited,
):  # fmt: skip
    """A read-side critical section of the calling thread.

    Kernel: ``rcu_read_lock()`` / ``rcu_read_unlock()``.  Rust:
    ``kernel::sync::rcu::Guard`` (``rcu::read_lock()``).  C:
    ``kb_rcu_py_read_enter()`` / ``kb_rcu_py_read_exit()``, called from the
    hot-path extension (``kbind._bridge._hotpath``) without releasing the GIL.

    Creating the guard enters the section; leaving its ``with`` block or
    calling :meth:`drop` leaves it.  While any guard is held the thread is
    online, so no grace period that starts meanwhile can end, and no object
    read under the guard can be freed.  Guards nest and may be dropped in
    any order (R11).  Built on :class:`kbind.lifetime.Scope`.

    Context: any thread; never blocks.  Inside a section, calls that wait
    for a grace period raise ``DeadlockError`` (R05-R07).

    Invariants:
        Alive until dropped, exactly once, by the thread that created it
        (R08/R10: ``GuardError`` otherwise).  References obtained under it
        (:meth:`Rcu.read`) die with it (R01/R02: ``LifetimeError``).

    Examples:
        >>> from kbind.rcu import Rcu, RcuReadGuard
        >>> cfg = Rcu({"timeout": 30})
        >>> with RcuReadGuard() as g:
        ...     cfg.read(g)["timeout"]
        30
    """

    __slots__ = ()

    def drop(self) -> None:
        """Leave the read-side critical section now (Rust: ``drop(guard)``).

        Raises:
            GuardError: on another thread (R08) or if already dropped (R10).
        """
        self.end()


_rt.register_guard_kind(RcuReadGuard)


def read_lock() -> RcuReadGuard:
    """Enter a read-side critical section; return its guard.

    Kernel: ``rcu_read_lock()``.  Rust: ``kernel::sync::rcu::read_lock()``.
    Same as ``RcuReadGuard()``.
    """
    return RcuReadGuard()


@final
class _UpdateGuard(Scope, kind="update scope"):
    """The scope of ``update(fn)``'s ``fn``: the old value is readable, read-only, until it returns.

    Kernel: ``rcu_dereference_protected(p, lockdep_is_held(&lock))``.
    """

    __slots__ = ()

    @property
    def name(self) -> str:
        """How messages name it."""
        return "the update() scope"


#: The scopes a reference can be bound to (an RcuRef's guard).
_Guardish = RcuReadGuard | _UpdateGuard

"""Shared guard bookkeeping: call sites, owner threads, drop state.

Every kbind guard (lock guards, RCU read guards, drop guards, seqlock views)
records where and on which thread it was created, and where it was dropped,
so misuse errors can name both sites.  Recording a site costs one frame
lookup; nothing here formats text until an error is built.
"""

from __future__ import annotations

import itertools
import threading
from typing import Any, ClassVar, Final, NoReturn, Self, SupportsIndex

from kbind._bridge.site import (
    RawSite,
    Site,
    ThreadToken,
    _tls,
    capture,
    thread_name,
    thread_token,
    user_frame,
)
from kbind.errors import CloneError, GuardError, LifetimeError

__all__ = [
    "GuardBase",
    "NotClone",
    "RawSite",
    "Sealed",
    "Site",
    "ThreadToken",
    "capture",
    "owner_thread_error",
    "thread_name",
    "thread_token",
    "user_frame",
]


def owner_thread_error(
    op: str, guard: str, owner: ThreadToken, created_at: Site | None, what: str, hint: str,
    sites: list[tuple[str, Site]] | None = None, dropped_at: Site | None = None,
) -> GuardError:  # fmt: skip
    """Build the GuardError for a guard used off its owner thread (``what``: the Rust rule)."""
    here = threading.current_thread().name
    if owner.exited:
        whose = (
            f"{guard} belongs to thread {owner.name!r}, which has exited (another thread "
            "may since have been given the same thread ident; kbind does not go by idents)"
        )
    else:
        whose = f"{guard} belongs to thread {owner.name!r}"
    return GuardError(
        op,
        f"{whose}; {what}, and this is thread {here!r}",
        guard=guard,
        created_at=created_at,
        dropped_at=dropped_at,
        sites=sites or [],
        hint=hint,
    )


# ------------------------------------------------------------ not Clone

#: What each kind of non-copyable object is, for messages.
_GUARD_HINT: Final = (
    "keep using the one guard, on its thread; to keep data past it, copy the protected "
    "value out while it is held (copy.deepcopy(g.value), copy.deepcopy(ref))"
)
_OWNER_HINT: Final = (
    "share the object itself (pass or store a reference to it, as Rust shares an Arc); to "
    "duplicate its data, read the value out under a guard and build a new one from it"
)
_PICKLE_HINT: Final = (
    "pickle the protected value instead, copied out while a guard is held; a guard, a lock "
    "or an Rcu cannot leave its process"
)


def clone_error(obj: object, verb: str) -> CloneError:
    """Build the CloneError for copying (``verb``: "copy", "deep-copy", "pickle") ``obj``."""
    kind = type(obj).__name__
    role = getattr(type(obj), "_CLONE_ROLE", "guard")
    if role == "guard":
        rule = (
            f"a {kind} is a guard: it is used exactly once and cannot be duplicated "
            "(Rust: it is not Clone/Copy)"
        )
        hint = _GUARD_HINT
    elif role == "capability":
        rule = (
            f"a {kind} is the one update capability of its Rcu and cannot be duplicated "
            "(Rust: it is not Clone/Copy)"
        )
        hint = "give the one writer to the thread that updates, or use Rcu.replace()/update()"
    else:
        rule = (
            f"a {kind} owns its state (one lock word, one published value, one cell of C "
            "memory) and cannot be duplicated: a copy would be a second owner of it "
            "(Rust: it is not Clone/Copy)"
        )
        hint = _OWNER_HINT
    return CloneError(
        f"{verb} a {kind}", rule, guard=f"the {kind}",
        hint=_PICKLE_HINT if verb == "pickle" else hint,
    )  # fmt: skip


class Sealed:
    """Mixin: refuses subclasses of classes marked ``@typing.final``.

    Rust types cannot be extended, and kbind checks exact types on its hot
    paths, so a subclass would half work: ``TypeError`` when it is defined
    (mypy rejects it too, through ``@final``).
    """

    __slots__ = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for base in cls.__mro__[1:]:
            if base.__dict__.get("__final__", False):
                raise TypeError(
                    f"cannot subclass {base.__module__}.{base.__qualname__}: kbind's "
                    "primitives are final (Rust types cannot be extended, and kbind checks "
                    f"exact types); wrap a {base.__name__} in a class of your own instead"
                )


class NotClone(Sealed):
    """Mixin: instances refuse ``copy.copy``, ``copy.deepcopy`` and pickling (``CloneError``).

    Classes set ``_CLONE_ROLE`` to "guard" (the default), "owner" or
    "capability" for the message.  Deep copies made by kbind's
    copy-on-write (:func:`kbind._bridge.immutable.deep_clone`) share such objects
    instead of copying them, so values holding locks or atomics still copy.
    """

    __slots__ = ()
    _CLONE_ROLE: ClassVar[str] = "guard"

    def __copy__(self) -> NoReturn:
        raise clone_error(self, "copy")

    def __deepcopy__(self, memo: dict[int, object]) -> NoReturn:
        raise clone_error(self, "deep-copy")

    def __reduce_ex__(self, protocol: SupportsIndex) -> NoReturn:
        raise clone_error(self, "pickle")

    def __reduce__(self) -> NoReturn:
        raise clone_error(self, "pickle")

    def __getstate__(self) -> NoReturn:
        raise clone_error(self, "pickle")


class GuardBase(NotClone):
    """Bookkeeping common to every guard: identity, owner thread, sites, drop state.

    Invariants:
        ``created_at`` and ``owner`` are set once, at creation, on the creating
        thread.  ``dropped_at`` is None while the guard is live and set exactly
        once, by the owner thread, when it is dropped.
    """

    __slots__ = ("__weakref__", "created_at", "dropped_at", "number", "owner")

    #: The name used in messages ("LockGuard", "RcuReadGuard", ...).
    KIND: ClassVar[str] = "Guard"
    _numbers: ClassVar[itertools.count[int]] = itertools.count(1)

    def __init__(self, depth: int = 2) -> None:
        self.number = next(GuardBase._numbers)
        self.owner: ThreadToken = _tls.me
        self.created_at = Site.here(depth + 1)
        self.dropped_at: Site | None = None

    @property
    def name(self) -> str:
        """``KIND#number``, unique in the process."""
        return f"{self.KIND}#{self.number}"

    @property
    def alive(self) -> bool:
        """True until the guard is dropped (False for a guard that was never created properly)."""
        try:
            return self.dropped_at is None
        except AttributeError:
            return False

    def __enter__(self) -> Self:
        """Enter a ``with`` block on the guard (it must still be alive)."""
        if self.dropped_at is not None:  # message built only for the error
            self.check_alive(f"enter a with block on {self.name}")
        return self

    def check_alive(self, op: str, hint: str | None = None) -> None:
        """Raise LifetimeError if the guard was dropped; ``op`` says what was attempted."""
        if self.dropped_at is not None:
            raise LifetimeError(
                op,
                f"{self.name} was dropped, so what it protected may no longer be used",
                guard=self.name,
                created_at=self.created_at,
                dropped_at=self.dropped_at,
                hint=hint or "copy what you need out while the guard is held",
            )

    def check_owner(self, op: str) -> None:
        """Raise GuardError unless called on the thread that created the guard."""
        if _tls.me is not self.owner:
            raise owner_thread_error(
                op,
                self.name,
                self.owner,
                self.created_at,
                "guards cannot move between threads (Rust: the guard is !Send)",
                "create a guard on the thread that needs it",
                dropped_at=self.dropped_at,
            )

    def mark_dropped(self, verb: str, depth: int = 2, how: str = "") -> None:
        """Check this drop is legal (owner thread, first drop) and record its site.

        ``verb`` names the drop in messages ("unlock", "drop"); ``how``
        qualifies the site, e.g. "leaving its with block".  Nothing is
        formatted unless the drop is refused.

        Raises:
            GuardError: on another thread, or if already dropped.
        """
        if _tls.me is not self.owner:
            self.check_owner(f"{verb} {self.name}")
        if self.dropped_at is not None:
            raise GuardError(
                f"{verb} {self.name}",
                f"{self.name} was already dropped; a guard is dropped exactly once",
                guard=self.name,
                created_at=self.created_at,
                dropped_at=self.dropped_at,
                sites=[("second drop at", Site.here(depth + 1, how))],
                hint="drop it either explicitly or by leaving its with block, not both",
            )
        self.dropped_at = Site.here(depth + 1, how)

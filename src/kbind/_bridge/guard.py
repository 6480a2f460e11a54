"""Guard bookkeeping every primitive shares, beside kbind.lifetime's scopes.

Every kbind guard (lock guards, RCU read guards, drop guards, seqlock views)
records where and on which thread it was created, and where it was dropped,
so misuse errors can name both sites (kbind.lifetime's :class:`Scope` does
that in C).  What is left for the primitives, written once here: the error
for a guard used off its owner thread, the refusal to clone or pickle
(:class:`NotClone`, :class:`Sealed`), the warning a leaked guard gives
(:func:`leak_warning`), and the opt-in registries of live guards that
kbind's pytest strict mode reads (:class:`LiveRegistry`).  Nothing here
formats text until an error or a warning is built.
"""

from __future__ import annotations

import threading
import warnings
import weakref
from collections.abc import Callable
from typing import Any, ClassVar, Final, Generic, NoReturn, Protocol, SupportsIndex, TypeVar

from kbind._bridge.site import (
    RawSite,
    Site,
    ThreadToken,
    capture,
    thread_name,
    thread_token,
    user_frame,
)
from kbind.errors import CloneError, GuardError, GuardLeakWarning

__all__ = [
    "LiveRegistry",
    "NotClone",
    "RawSite",
    "Sealed",
    "Site",
    "ThreadToken",
    "capture",
    "leak_warning",
    "owner_thread_error",
    "refuse_as_guard",
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
        sites=sites if sites is not None else [("tried at", Site.from_frame(user_frame()))],
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


def refuse_as_guard(guard: Any, op: str, what: str, how: str, rule: str = "") -> None:
    """Raise the refusals every guard's ``_kb_refuse`` shares (a Scope's hook, kbind.lifetime).

    ``thread``: the owner-thread error for ``op``; ``ended``: a second drop,
    naming both drop sites; ``enter``: a ``with`` block on a dropped guard.
    For any other ``what``, return (the Scope's own refusal then applies).
    ``rule`` prefixes the second-drop reason with its rule code ("R10: ").
    """
    if what == "thread":
        guard.check_owner(op)
    if what == "ended":
        raise GuardError(
            op,
            f"{rule}{guard.name} was already dropped; a guard is dropped exactly once",
            guard=guard.name,
            created_at=guard.created_at,
            dropped_at=guard.dropped_at,
            sites=[("second drop at", Site.from_frame(user_frame(), how))],
            hint="drop it either explicitly or by leaving its with block, not both",
        )
    if what == "enter":
        guard.check_alive(f"enter a with block on {guard.name}")


class _Named(Protocol):
    @property
    def name(self) -> str: ...
    @property
    def created_at(self) -> Site | None: ...


def leak_warning(
    inside: str, repair: str, fix: str, *, who: str | None = None, only_when_ended: bool = False
) -> Callable[[Any, bool], None]:
    """Return a Scope's ``on_leak`` hook: warn that an open guard was garbage-collected.

    The warning (:class:`GuardLeakWarning`) reads "<who> was garbage-collected
    <inside>; kbind <repair>. The guard was created at <site>. <fix>"; ``who``
    defaults to the guard's name.  With ``only_when_ended``, a leak the C core
    could not end on this thread (``ended`` False) stays silent: the engine
    counts it until the owner thread exits, and the thread-exit hook reports it.
    """

    def on_leak(guard: _Named, ended: bool) -> None:
        if only_when_ended and not ended:
            return
        warnings.warn(
            GuardLeakWarning(
                f"{who or guard.name} was garbage-collected {inside}; kbind {repair}. "
                f"The guard was created at {guard.created_at}. {fix}"
            ),
            stacklevel=1,
        )

    return on_leak


G = TypeVar("G")


class LiveRegistry(Generic[G]):
    """An opt-in registry of live guards, for leak checks (kbind's pytest strict mode).

    Off by default: ``members`` is None, and a guard's constructor pays one
    test (``if registry.members is not None``).  :meth:`track` (True) starts
    an empty weak set that every new guard joins -- through ``add`` or, for a
    kbind.lifetime Scope class, through its hooks' observer -- and
    :meth:`live` lists the members still ``pending`` (not yet released).
    """

    __slots__ = ("_hooks", "_pending", "members")

    def __init__(self, pending: Callable[[G], bool], hooks: Any = None) -> None:
        #: The weak set of tracked guards, or None while tracking is off.
        self.members: weakref.WeakSet[Any] | None = None
        self._pending = pending
        self._hooks = hooks  # a Scope class's _kb_hooks, whose observer sees every begin

    def track(self, on: bool) -> None:
        """Start (with an empty registry) or stop recording every new guard."""
        self.members = weakref.WeakSet() if on else None
        if self._hooks is not None:
            self._hooks.observer = None if self.members is None else _Joiner(self.members)

    def live(self) -> list[G]:
        """Return the guards recorded since :meth:`track` that are still pending."""
        reg = self.members
        return [] if reg is None else [g for g in list(reg) if self._pending(g)]


class _Joiner:
    """A Scope hooks' observer while a registry tracks: every scope that begins joins it."""

    __slots__ = ("registry",)

    def __init__(self, registry: weakref.WeakSet[Any]) -> None:
        self.registry = registry

    def _scope_begin(self, scope: object, depth: int) -> None:
        self.registry.add(scope)

    def _scope_end(self, scope: object) -> None:
        pass

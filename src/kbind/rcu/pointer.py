"""The RCU-protected pointer :class:`Rcu` and its exclusive update capability :class:`RcuWrite`.

Kernel: an ``__rcu`` pointer with ``rcu_dereference()`` /
``rcu_assign_pointer()`` (include/linux/rcupdate.h).  Rust: ``Rcu<T>`` and
``RcuWrite<T>`` (sketched in GitHub issue
fishinabarrel/linux-kernel-module-rust#143).  The read paths
(:meth:`Rcu.read`, :meth:`Rcu.with_read`) are C method descriptors of
``kbind._bridge._hotpath``, bound at the end of this module; updaters
publish a new value and get a :class:`kbind.rcu.RcuDropGuard` owning the
old one.  Public names are re-exported by :mod:`kbind.rcu`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final, Generic, TypeVar, cast, final, overload

import kbind.rcu._runtime as _rt
from kbind._bridge.guard import NotClone, Site, ThreadToken, user_frame
from kbind._bridge.native import hot, lib
from kbind._bridge.site import _tls as _guard_tls
from kbind.errors import DeadlockError, GuardError, LifetimeError
from kbind.rcu._callbacks import callbacks
from kbind.rcu.drop import RcuDropGuard
from kbind.rcu.guard import RcuReadGuard, _UpdateGuard
from kbind.rcu.reference import (
    _POLICY,
    RcuRef,
    _Box,
    _copy_refs_out,
    _copy_result_out,
    _is_plain,
    _make_ref,
    _stale,
    allow_interior_mutability,
)

T = TypeVar("T")
R = TypeVar("R")

_HOW_WITH_READ: Final = "when with_read() returned"


def _label_of(value: object) -> str:
    return f"Rcu[{type(value).__name__}]"


_READ_DOC: Final = """Dereference under ``guard``: a reference to the current value.

The reference is valid while ``guard`` is.

Kernel: ``rcu_dereference(p)``.  Rust: ``Rcu::read(&self, &'g Guard) -> &'g T``.
With ``fn``, return ``fn(ref)`` instead.

Static type: ``T``.  At run time the result is an :class:`RcuRef`
standing in for ``&'g T``; mypy sees the ``T`` it forwards to, so
``cfg.read(g).timeout`` has the attribute's type and
``rcu.read(g)[key]`` on an ``Rcu[dict[str, V]]`` is a ``V``.  The
trade-off: Python's type system cannot express "``T`` without its
mutators" or "valid only while ``g`` is", so mutation through the
reference type-checks and is refused at run time (R16:
``ReadOnlyError``), and so is use after the guard (R01:
``LifetimeError``).

Context: inside ``guard``'s section, on its thread; never blocks.

Raises:
    TypeError: ``guard`` is not an RcuReadGuard (R04).
    LifetimeError: ``guard`` was dropped (R01).
    GuardError: ``guard`` belongs to another thread (R08).
"""

_WITH_READ_DOC: Final = """Run ``fn(ref)`` inside a read-side critical section of its own.

Returns what ``fn`` returns.

The closure form of the proposals (no reference can outlive the
call).  ``fn`` receives an :class:`RcuRef` to the current value,
declared ``T`` (as :meth:`read`: attributes and items keep their
types; mutation through it type-checks and raises ``ReadOnlyError``).

What ``fn`` returns leaves the section: immutable values as they are
(see :func:`immutable`), and references found inside a new result
(dicts, lists, sets, tuples, NamedTuples, dataclasses) replaced by
deep copies made before the guard ends (Rust: ``.clone()`` inside
the closure), so ``with_read(lambda c: Summary(c.timeout, c.hosts))``
returns a plain ``Summary``.

Raises:
    LifetimeError: ``fn`` returned the reference it was given (R02;
        as in Rust, even for an immutable value: return its fields or
        a copy), which would be dead already, or an object kbind cannot copy one out of (a
        reference in an attribute of a plain class); the message
        names where it sits and how to copy it.
"""


# -------------------------------------------------------------- Rcu[T]


@final
class Rcu(NotClone, Generic[T]):
    """An RCU-protected pointer to a ``T``: readers take guards, updaters publish new values.

    Kernel: an ``__rcu`` pointer with ``rcu_dereference()`` /
    ``rcu_assign_pointer()``.  Rust: ``Rcu<T>`` (sketched in GitHub issue
    fishinabarrel/linux-kernel-module-rust#143).  C: the
    engine's grace periods (``kb_get_state_synchronize_rcu()``,
    ``kb_rcu_wait_gp()``); the pointer itself is a Python attribute, whose
    loads and stores the GIL makes atomic.

    Readers: :meth:`read` (a reference bound to a guard) or :meth:`with_read`
    (a closure under its own guard).  Updaters: :meth:`replace` and
    :meth:`update` serialize on this Rcu's own lock (R12) and return an
    :class:`RcuDropGuard` owning the old value; or, split-capability design,
    :meth:`init` returns the Rcu plus the only :class:`RcuWrite` that may
    update it.

    Context: readers never block; updaters block only on the update lock.

    Examples:
        >>> from kbind.rcu import Rcu
        >>> cfg = Rcu({"timeout": 30})
        >>> cfg.with_read(lambda c: c["timeout"])
        30
        >>> with cfg.replace({"timeout": 5}):
        ...     pass
        >>> cfg.with_read(lambda c: c["timeout"])
        5
    """

    __slots__ = ("__weakref__", "_box", "_lock", "_owner", "_owner_site", "_split")
    _CLONE_ROLE = "owner"

    def __init__(self, value: T) -> None:
        self._start(value, Site.here(2), split=False)

    @classmethod
    def init(cls, value: T) -> tuple[Rcu[T], RcuWrite[T]]:
        """Split-capability constructor: the Rcu for readers and its only writer.

        Rust: ``Rcu::init(data) -> (Rcu<T>, RcuWrite<T>)``
        (fishinabarrel/linux-kernel-module-rust#143).
        The Rcu's own :meth:`replace`/:meth:`update` then raise
        ``GuardError``; only the returned :class:`RcuWrite` updates it.
        """
        rcu: Rcu[T] = cls.__new__(cls)
        rcu._start(value, Site.here(2), split=True)
        return rcu, RcuWrite(rcu)

    def _start(self, value: T, site: Site, *, split: bool) -> None:
        # Both constructors: publish the first value (references copied out, R02).
        value = cast(T, _copy_refs_out(value, _label_of(value)))
        self._box = _Box(value, _label_of(value), site)
        self._lock = threading.Lock()
        self._owner: ThreadToken | None = None
        self._owner_site: Site | None = None
        self._split = split

    def __repr__(self) -> str:
        return f"<{self._box.label}>"

    # -- readers

    # The read paths run in C, as kbind.lifetime method descriptors (no
    # Python frame, no bound method): see _READ_DOC and _WITH_READ_DOC.
    if TYPE_CHECKING:

        @overload
        def read(self, guard: RcuReadGuard) -> T: ...

        @overload
        def read(self, guard: RcuReadGuard, fn: Callable[[T], R]) -> R: ...

        def read(self, guard: RcuReadGuard, fn: Callable[[T], R] | None = None) -> T | R:
            """See _READ_DOC (the C method's documentation)."""

        def with_read(self, fn: Callable[[T], R]) -> R:
            """See _WITH_READ_DOC (the C method's documentation)."""

    def _refuse_read(self, guard: object) -> None:
        if type(guard) is not RcuReadGuard or not guard.begun:
            _not_a_guard(guard)
        assert isinstance(guard, RcuReadGuard)
        if not guard.alive:
            raise _stale(guard, self._box, "read")
        guard._refuse_thread(f"read {self._box.label} under {guard.name}", user_frame())

    # -- updaters

    def replace(self, new: T) -> RcuDropGuard[T]:
        """Publish ``new``; return a drop guard that owns the old value.

        Kernel: ``rcu_replace_pointer()`` under the update-side lock.  Rust:
        ``RcuWrite::update`` returning the old value's guard.  Serialized
        with other updaters on this Rcu's lock (R12).

        Context: outside nothing in particular: publishing never waits for
        readers (the drop guard does).

        Raises:
            GuardError: this Rcu was made by :meth:`init` (only its RcuWrite
                updates it), or ``new`` is already published somewhere (R15).
            DeadlockError: called from inside this Rcu's own ``update`` function.
        """
        if self._split:
            self._refuse_split("replace")
        return self._publish(new, None, Site.here(2))

    def update(self, fn: Callable[[T], T]) -> RcuDropGuard[T]:
        """Read-copy-update: publish ``fn(old)``; return a drop guard owning the old value.

        ``fn`` gets the current value as a read-only reference (an
        :class:`RcuRef`, declared ``T`` as in :meth:`read`), valid only
        while ``fn`` runs, and must return a new object; the update lock is
        held meanwhile, so updates cannot be lost (R12).

        Copy-on-write: references inside the new value are replaced by deep
        copies of what they point to before ``fn``'s scope ends, so
        ``rcu.update(lambda t: {**t, k: v})`` on an ``Rcu[dict]`` publishes
        a dict of plain values; immutable parts are shared, not copied.

        Raises:
            GuardError: as :meth:`replace`.
            DeadlockError: ``fn`` updates this same Rcu.
            TypeError: ``fn`` returned a reference instead of a new object,
                or an object holding one where kbind cannot replace it (an
                attribute of a plain class; the message says where).
        """
        if self._split:
            self._refuse_split("update")
        return self._publish(None, fn, Site.here(2))

    def _refuse_split(self, op: str) -> None:
        raise GuardError(
            f"{op} {self._box.label} directly",
            "R12: this Rcu was created by Rcu.init(), so its RcuWrite is the only updater "
            "(split-capability design)",
            guard=self._box.label,
            created_at=self._box.published_at,
            hint=f"call writer.{op}(...) on the RcuWrite that Rcu.init() returned",
        )

    def _publish(self, new: T | None, fn: Callable[[T], T] | None, site: Site) -> RcuDropGuard[T]:
        me = _guard_tls.me
        if self._owner is me:
            raise DeadlockError(
                f"update {self._box.label} again",
                "R12: this thread is already updating it (inside update()'s function), and "
                "the update lock is not recursive",
                guard=f"the {self._box.label} update lock",
                created_at=self._owner_site,
                sites=[("second update at", site)],
                hint="return the new value from the function instead of updating inside it",
            )
        with self._lock:
            self._owner = me
            self._owner_site = site
            try:
                old = self._box
                if fn is not None:
                    scope = _UpdateGuard()
                    try:
                        new = fn(cast(T, _make_ref(scope, old, None)))
                        if type(new) is not RcuRef:  # copied while the old value is readable
                            new = cast(T, _copy_refs_out(new, _label_of(new)))
                    finally:
                        scope.end("when update() returned")
                    if type(new) is RcuRef:
                        raise TypeError(
                            f"update() of {old.label}: the function returned a reference into "
                            "the old value instead of a new object; the old value is about to "
                            "be retired (R15)\nhint: return a new object, e.g. built from "
                            "copy.copy(old)"
                        )
                else:
                    new = cast(T, _copy_refs_out(new, _label_of(new)))
                box = _Box(new, _label_of(new), site)
                self._box = box  # rcu_assign_pointer(): the GIL makes the store atomic
            finally:
                self._owner = None
                self._owner_site = None
        tr = _rt.tracer
        t_retire = tr._stamp() if tr is not None else 0
        cookie = int(lib.kb_get_state_synchronize_rcu())  # full barrier, then the GP to wait
        if tr is not None:
            tr._retire(cookie, t_retire)
        old.retired_at = site
        callbacks.ensure_thread()  # so a leaked drop guard can still be freed later
        return RcuDropGuard(old, cookie, site)


def _with_read_copy_out(result: object, g: RcuReadGuard) -> object:
    # with_read(): a result that is not plain at a glance (C checked the
    # type): copied out of references while g still lives (R02).
    if _is_plain(result):
        return result
    return _copy_result_out(result, g)


def _with_read_escaped(g: RcuReadGuard, rcu: Rcu[Any]) -> LifetimeError:
    return _stale(g, rcu._box, "return a reference from with_read()")


Rcu.read = hot.deref_method(  # type: ignore[method-assign]
    "read", _READ_DOC, RcuRef, _POLICY, RcuReadGuard, "_box", "_refuse_read"
)
Rcu.with_read = hot.scoped_call_method(  # type: ignore[method-assign]
    "with_read", _WITH_READ_DOC, RcuRef, _POLICY, RcuReadGuard, "_box",
    _with_read_copy_out, _with_read_escaped, _HOW_WITH_READ,
)  # fmt: skip


def _not_a_guard(guard: object) -> None:
    raise TypeError(
        f"Rcu.read() needs the RcuReadGuard of the read-side critical section, not "
        f"{type(guard).__name__} (R04: no dereference without a read guard)"
    )


@final
class RcuWrite(NotClone, Generic[T]):
    """The update capability of an :class:`Rcu` made by :meth:`Rcu.init`; exclusive.

    Rust: ``RcuWrite<T>`` (fishinabarrel/linux-kernel-module-rust#143):
    ``update(&mut self, ...)``, so one updater at a time by construction.
    kbind checks it: two threads inside :meth:`replace`/:meth:`update` of one
    RcuWrite at the same time raise ``GuardError`` (R12) instead of waiting,
    because sharing the writer is the bug (a real updater lock belongs to the
    caller).
    """

    __slots__ = ("_busy", "_rcu", "_user", "_user_site")
    _CLONE_ROLE = "capability"

    def __init__(self, rcu: Rcu[T]) -> None:
        self._rcu = rcu
        self._busy = threading.Lock()
        self._user = ""
        self._user_site: Site | None = None

    def __repr__(self) -> str:
        return f"<RcuWrite of {self._rcu!r}>"

    def replace(self, new: T) -> RcuDropGuard[T]:
        """Publish ``new``; return the drop guard of the old value (as :meth:`Rcu.replace`)."""
        return self._publish("replace", new, None, Site.here(2))

    def update(self, fn: Callable[[T], T]) -> RcuDropGuard[T]:
        """Publish ``fn(old)``; return the drop guard of the old value (as :meth:`Rcu.update`)."""
        return self._publish("update", None, fn, Site.here(2))

    def _publish(
        self, op: str, new: T | None, fn: Callable[[T], T] | None, site: Site
    ) -> RcuDropGuard[T]:
        if not self._busy.acquire(blocking=False):
            raise GuardError(
                f"{op} through the RcuWrite of {self._rcu._box.label}",
                f"R12: the RcuWrite is already in use by thread {self._user!r}; it is the "
                "exclusive update capability (Rust: &mut RcuWrite), so two updaters at once "
                "is a bug",
                guard="the RcuWrite",
                created_at=self._user_site,
                sites=[("second use at", site)],
                hint="serialize updaters with your own lock, or give one thread the RcuWrite",
            )
        self._user = site.thread
        self._user_site = site
        try:
            return self._rcu._publish(new, fn, site)
        finally:
            self._user_site = None
            self._busy.release()


# Rcu synchronizes itself: an Rcu inside a published value comes out as it is.
allow_interior_mutability(Rcu)

"""The RFC RCU pointer ``Rcu<P: ForeignOwnable>`` and ``RcuOld<P>`` (Boqun Feng, RFC v3, 2025-04).

Mirrors the latest posted version, RFC v3 (April 2025; called "almost
ready" in January 2026; ``read_copy_update`` is ``copy_update`` in the
author's branch).  Readers: ``Rcu::dereference(&self, &'a Guard) ->
Option<P::Borrowed<'a>>``, ``Rcu::null()``.  Updaters: ``replace`` and
``read_copy_update`` take ``Pin<&mut Self>``, so updater exclusivity is
checked at compile time (an update-side lock, or unique ownership).  They
return an ``RcuOld<P>``; dropping it waits for a grace period, then frees.
Open in the RFC (not mirrored): ``call_rcu``/``kfree_rcu`` (see
:mod:`kbind.rfc.rcu_box`, :mod:`kbind.rfc.callback`), field projection;
"detecting a drop in atomic context" is left to klint there, and checked
here (:mod:`kbind.context`).

kbind's run-time stand-ins for the compile-time rules:

* ``&mut self`` is an :class:`RcuExclusive` handle, from
  :meth:`Rcu.exclusive` (a second concurrent handle raises ``GuardError``
  naming both sites) or :meth:`Rcu.exclusive` with the guard of the lock
  that owns the Rcu (Rust: ``Mutex<Rcu<P>>``); only the handle has
  ``replace``/``read_copy_update``, so mypy rejects an update without one;
* ``&'a Guard`` is a :class:`kbind.kernel.sync.rcu.Guard`: the reference
  :meth:`Rcu.dereference` returns (a :class:`Borrowed`) dies with it;
* ``RcuOld`` is a :class:`kbind.lifetime.MustUse` owner: ``drop()`` waits
  (``DeadlockError`` inside a reader, ``AtomicContextError`` in another
  atomic section), frees and poisons; a leaked one warns
  (``RcuOldLeakWarning``) and is freed after a grace period.

The read path is the C dereference descriptor of :class:`kbind.rcu.Rcu`
(``kbind._bridge._hotpath``), bound as :meth:`Rcu.dereference` itself (no
Python frame); a null pointer is an unset slot, which the descriptor reads
as None (``none_if_unset``).
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Callable
from types import TracebackType
from typing import TYPE_CHECKING, Any, Final, Generic, TypeVar, final

import kbind.rcu._runtime as _rt
from kbind._bridge.guard import NotClone, Site, capture
from kbind._bridge.native import hot, lib
from kbind.errors import GuardError, GuardLeakWarning, LifetimeError, RcuOldLeakWarning
from kbind.kernel._guarded import is_missing, ref_policy, refuse_guard, wait_allowed
from kbind.kernel.sync.rcu import Guard
from kbind.lifetime import MustUse, Ref, Scope
from kbind.rcu._callbacks import callbacks
from kbind.rcu.reference import _FREED, _Box
from kbind.sync import LockGuard

__all__ = ["Borrowed", "Rcu", "RcuExclusive", "RcuOld"]

P = TypeVar("P")

_SLOT: Final = "_box"
_claims = threading.Lock()


@final
class Borrowed(Ref):
    """A read-only reference to the pointee, valid while the guard it was obtained under is.

    Rust: ``<P as ForeignOwnable>::Borrowed<'a>`` (``&'a T`` for ``Box<T>``,
    ``ArcBorrow<'a, T>`` for ``Arc<T>``).  Every use checks the guard
    (``LifetimeError``) and the pointee (``UseAfterFreeError``); writes
    raise ``ReadOnlyError``.
    """

    __slots__ = ()


_POLICY: Final = ref_policy("the P::Borrowed<'a> of Rcu::dereference()")


def _label_of(value: object) -> str:
    return f"rfc Rcu[{type(value).__name__}]"


_DEREFERENCE_DOC: Final = """\
Return the pointee as a reference bound to ``guard``, or None when null.

Rust: ``Rcu::dereference<'a>(&self, guard: &'a rcu::Guard) ->
Option<P::Borrowed<'a>>``.  Kernel: ``rcu_dereference(p)``.  Declared
``P`` (at run time a :class:`Borrowed`): mypy checks attributes and
items; writes through it raise ``ReadOnlyError``, use after ``guard``
``LifetimeError``.

Raises:
    TypeError: ``guard`` is not a :class:`kbind.kernel.sync.rcu.Guard`.
    LifetimeError: ``guard`` was unlocked.
    GuardError: ``guard`` belongs to another thread (``!Send``).
"""


@final
class Rcu(NotClone, Generic[P]):
    """An RCU-protected pointer owning a ``P``, or null; readers dereference under a guard.

    Rust: ``Rcu<P: ForeignOwnable>`` (Boqun Feng, RFC v3, April 2025).
    Kernel: an ``__rcu`` pointer with ``rcu_dereference()`` and
    ``rcu_replace_pointer()``.

    Rules: :meth:`dereference` needs an open ``rcu::Guard`` of the calling
    thread and returns a reference bound to it (or None when null); updates
    go through the exclusive handle of :meth:`exclusive` (Rust:
    ``Pin<&mut Self>``) and hand back an :class:`RcuOld` owning the old
    pointee.

    Examples:
        >>> from kbind.kernel.sync import rcu
        >>> from kbind.rfc.rcu_pointer import Rcu
        >>> p: Rcu[dict[str, int]] = Rcu({"mtu": 1500})
        >>> with rcu.Guard() as g:
        ...     p.dereference(g)["mtu"]
        1500
        >>> with p.exclusive() as w:
        ...     old = w.replace(None)
        >>> old.drop()
        >>> with rcu.Guard() as g:
        ...     p.dereference(g) is None
        True
    """

    __slots__ = ("__weakref__", "_box", "_label", "_writer_site")
    _CLONE_ROLE = "owner"

    def __init__(self, value: P | None) -> None:
        site = Site.here(2)
        self._label = _label_of(value) if value is not None else "rfc Rcu (null)"
        self._writer_site: Site | None = None
        if value is not None:
            self._box = _Box(value, self._label, site)

    @classmethod
    def null(cls) -> Rcu[P]:
        """Return a null pointer (Rust: ``Rcu::null()``); :meth:`dereference` gives None."""
        return cls(None)

    def __repr__(self) -> str:
        box = getattr(self, _SLOT, None)
        return f"<{self._label}{' (null)' if box is None else ''}>"

    # The read path is the C descriptor bound below the class (no Python
    # frame): see _DEREFERENCE_DOC.
    if TYPE_CHECKING:

        def dereference(self, guard: Guard) -> P | None:
            """See _DEREFERENCE_DOC (the C method's documentation)."""

    def exclusive(self, lock_guard: LockGuard[Any] | None = None) -> RcuExclusive[P]:
        """Open the exclusive update handle (Rust: ``Pin<&mut Rcu<P>>``); use it in a ``with``.

        Without ``lock_guard`` the handle itself is the proof: a second one
        opened while it is open raises ``GuardError`` naming both sites.  With
        ``lock_guard``, it must be the live guard, on this thread, of the lock
        whose protected value is this Rcu (Rust: ``Mutex<Rcu<P>>``), and the
        handle dies when that guard is unlocked.

        Raises:
            GuardError: another handle is open, or ``lock_guard`` does not
                guard this Rcu or belongs to another thread.
            LifetimeError: ``lock_guard`` was unlocked.
        """
        return RcuExclusive(self, lock_guard)


def _claim(handle: RcuExclusive[Any], rcu: Rcu[Any], lock_guard: LockGuard[Any] | None) -> None:
    # Begin hook: take the Rcu's one exclusive claim (Rust: one &mut at a time).
    site = Site.here(2)
    if type(rcu) is not Rcu:
        raise TypeError(f"RcuExclusive() needs an rfc Rcu, not {type(rcu).__name__}")
    if lock_guard is not None:
        _check_lock_guard(rcu, lock_guard, "open an exclusive handle")
    with _claims:
        first = rcu._writer_site
        if first is None:
            rcu._writer_site = site
    if first is not None:
        raise GuardError(
            f"open a second exclusive handle on {rcu._label}",
            "Rcu::replace()/read_copy_update() take Pin<&mut Self>: one updater at a time "
            "(Rust checks it at compile time; here the first handle is still open)",
            guard=f"the exclusive handle of {rcu._label}",
            created_at=first,
            sites=[("second handle at", site)],
            hint="leave the first handle's with block first, or serialise updaters with a "
            "lock that owns the Rcu (rcu.exclusive(lock_guard))",
        )
    handle._rcu = rcu
    handle._lock_guard = lock_guard


def _release(handle: RcuExclusive[Any]) -> None:
    rcu = handle._rcu
    with _claims:
        rcu._writer_site = None


def _check_lock_guard(rcu: Rcu[Any], g: object, op: str) -> None:
    if type(g) is not LockGuard:
        raise TypeError(
            f"{op} on {rcu._label}: needs the LockGuard of the lock that owns it, not "
            f"{type(g).__name__}"
        )
    lock_guard: LockGuard[Any] = g
    if not lock_guard.alive:
        raise LifetimeError(
            f"{op} on {rcu._label} under {lock_guard.name}",
            f"{lock_guard.name} was unlocked; the exclusive handle borrows &mut Rcu through "
            "the lock's guard and dies with it",
            guard=lock_guard.name,
            created_at=lock_guard.created_at,
            dropped_at=lock_guard.dropped_at,
            hint="open the handle inside the lock's with block",
        )
    lock_guard.check_owner(f"{op} on {rcu._label} under {lock_guard.name}")
    if lock_guard.value is not rcu:
        raise GuardError(
            f"{op} on {rcu._label} under {lock_guard.name}",
            "the lock's protected value is not this Rcu, so holding it does not make this "
            "updater exclusive (Rust: &mut Rcu comes from the Mutex<Rcu<P>> that owns it)",
            guard=lock_guard.name,
            created_at=lock_guard.created_at,
            hint="keep the Rcu inside the lock (Mutex(rcu)) or use rcu.exclusive() alone",
        )


def _handle_leaked(handle: RcuExclusive[Any], ended: bool) -> None:
    warnings.warn(
        GuardLeakWarning(
            f"{handle.name}, created at {handle.created_at}, was garbage-collected while open; "
            "its exclusive claim was released. Use `with p.exclusive() as w:`."
        ),
        stacklevel=1,
    )


@final
class RcuExclusive(
    Scope, Generic[P], kind="rfc Rcu exclusive handle", begin=_claim, end=_release,
    on_leak=_handle_leaked, end_anywhere=True,
):  # fmt: skip
    """The exclusive update handle of one :class:`Rcu` (Rust: ``Pin<&mut Rcu<P>>``).

    Made by :meth:`Rcu.exclusive`; a :class:`kbind.lifetime.Scope`: ends once
    (``end()`` or its ``with`` block), on its own thread.  Rules: while it is
    open no other handle on the same Rcu can open (``GuardError`` naming both
    sites); :meth:`replace` and :meth:`read_copy_update` need it open, on its
    thread, and (if it was opened with a lock guard) that guard still held.
    """

    __slots__ = ("_lock_guard", "_rcu")
    _lock_guard: LockGuard[Any] | None
    _rcu: Rcu[P]

    def _check(self, op: str) -> Rcu[P]:
        self.check_alive(f"{op} through {self.name}", "update inside the handle's with block")
        self.check_owner(f"{op} through {self.name}")
        rcu: Rcu[P] = self._rcu
        if self._lock_guard is not None:
            _check_lock_guard(rcu, self._lock_guard, op)
        return rcu

    def replace(self, new: P | None) -> RcuOld[P]:
        """Publish ``new`` (None: null); return the :class:`RcuOld` owning the old pointee.

        Rust: ``Rcu::replace(self: Pin<&mut Self>, new: P) -> RcuOld<P>``.
        Kernel: ``rcu_replace_pointer()``.  Never waits (the RcuOld does).

        Raises:
            LifetimeError: the handle (or its lock guard) has ended.
            GuardError: on another thread, or ``new`` is already published (R15).
            TypeError: ``new`` is a reference (a :class:`Borrowed`).
        """
        rcu = self._check("replace")
        return _publish(rcu, new, Site.here(2))

    def read_copy_update(self, fn: Callable[[P | None], P | None]) -> RcuOld[P]:
        """Publish ``fn(old)``; return the :class:`RcuOld` owning the old pointee.

        Rust: ``Rcu::read_copy_update`` (``copy_update`` in the RFC branch):
        ``fn`` gets the current pointee (None when null) as a reference bound
        to this handle, and returns a new object (or None for null).

        Raises:
            As :meth:`replace`; ``TypeError`` if ``fn`` returns a reference.
        """
        rcu = self._check("read_copy_update")
        site = Site.here(2)
        try:
            old = hot.bind_open(Borrowed, _POLICY, self, rcu._box)
        except AttributeError as e:
            if not is_missing(e, rcu, _SLOT):
                raise
            old = None
        return _publish(rcu, fn(old), site)


def _publish(rcu: Rcu[P], new: P | None, site: Site) -> RcuOld[P]:
    if type(new) is Borrowed:
        raise TypeError(
            f"cannot publish a Borrowed reference in {rcu._label}: it is bound to its guard and "
            "dies with it; publish a new object (copy.deepcopy(ref) gives a plain copy)"
        )
    old: _Box | None = getattr(rcu, _SLOT, None)
    if new is not None:
        rcu._box = _Box(new, _label_of(new), site)  # rcu_assign_pointer(): atomic under the GIL
        rcu._label = _label_of(new)
    elif old is not None:
        delattr(rcu, _SLOT)
    cookie = int(lib.kb_get_state_synchronize_rcu())  # full barrier, then the GP to wait
    if old is not None:
        old.retired_at = site
        callbacks.ensure_thread()  # so a leaked RcuOld can still be freed later
    return RcuOld(old, cookie, site)


@final
class RcuOld(MustUse, Generic[P]):
    """Owns an unpublished pointee that readers may still hold; frees it after a grace period.

    Rust: ``RcuOld<P>`` (Boqun Feng, RFC v3, April 2025): its ``Drop`` waits
    for a grace period (``synchronize_rcu()``), then drops the ``P``.  A
    :class:`kbind.lifetime.MustUse` owner: consumed once, by :meth:`drop` or
    the end of its ``with`` block.

    Rules: :meth:`drop` may sleep (``DeadlockError`` inside a read-side
    section, ``AtomicContextError`` in another atomic section; the RFC
    leaves that check to klint); a second ``drop()`` raises ``GuardError``;
    after it the old pointee is poisoned (``UseAfterFreeError`` through a
    reference that outlived its guard).  Collected undropped, it warns
    (``RcuOldLeakWarning``) and frees after a grace period.
    """

    __slots__ = ("_box", "_cookie")
    LEAK_WARNING = RcuOldLeakWarning

    def __init__(self, box: _Box | None, cookie: int, retired_at: Site) -> None:
        super().__init__(retired_at)
        self._box = box
        self._cookie = cookie

    def __repr__(self) -> str:
        what = "null" if self._box is None else f"the old {self._box.label} value"
        state = "freed" if self.freed else ("dropping" if self.consumed else "pending")
        return f"<RcuOld of {what}, {state}>"

    @property
    def is_null(self) -> bool:
        """Whether the old pointer was null (nothing to free)."""
        return self._box is None

    @property
    def freed(self) -> bool:
        """Whether the old pointee has been freed (always True for a null one once dropped)."""
        return self._box.value is _FREED if self._box is not None else self.consumed

    def drop(self) -> None:
        """Wait for a grace period, then free the old pointee (Rust: ``Drop for RcuOld``).

        Context: may sleep.

        Raises:
            DeadlockError: inside a read-side section of this thread.
            AtomicContextError: inside another atomic section.
            GuardError: already dropped.
        """
        self._drop(Site.here(2))

    def _drop(self, site: Site) -> None:
        what = "null" if self._box is None else f"the old {self._box.label} value"
        wait_allowed(f"drop the RcuOld of {what} (it waits for a grace period)")
        self._consume("drop", site)
        if self._box is None:
            return
        try:
            _rt.wait_gp(self._cookie, 3)
        except BaseException:
            self._unconsume()  # interrupted (Ctrl-C): still owned, still droppable
            raise
        self._box.free(site)

    def _kb_twice(self, how: str, site: Site) -> BaseException:
        return GuardError(
            f"{how} {self!r}",
            "it was already dropped; an RcuOld frees its pointee exactly once (Rust: drop "
            "consumes it)",
            guard="the RcuOld",
            created_at=self.made_at,
            dropped_at=self._consumed_at,
            sites=[("second drop at", site)],
            hint="drop each RcuOld once (or let its with block do it)",
        )

    def _kb_unused(self) -> None:
        box = self._box
        made = self.made_at
        what = repr(self)
        self._consumed_at, self._how = made, "leak"  # finalizers take no locks
        if box is not None:
            site = Site(
                made.filename, made.lineno, made.function, made.thread,
                "freed after a grace period: its RcuOld was garbage-collected undropped",
            )  # fmt: skip
            try:
                callbacks.queue_from_finalizer(lambda: box.free(site), capture(1))
            except Exception:  # interpreter shutdown: nothing can run any more
                return
        warnings.warn(
            RcuOldLeakWarning(
                f"{what}, made by the update at {made}, was garbage-collected without drop(); "
                "kbind frees the old pointee after a grace period. Use `with w.replace(new):` "
                "or old.drop()."
            ),
            stacklevel=1,
        )

    def __enter__(self) -> RcuOld[P]:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if not self.consumed:
            self._drop(Site.here(2, "leaving its with block"))


def _label(obj: Any) -> str:
    return str(obj._label)


# A null pointer (the slot unset) reads as None in C (none_if_unset=True).
Rcu.dereference = hot.deref_method(  # type: ignore[method-assign]
    "dereference", _DEREFERENCE_DOC, Borrowed, _POLICY, Guard, _SLOT,
    refuse_guard("Rcu::dereference()", _label), True,
)  # fmt: skip

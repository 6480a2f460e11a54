"""Drop guards: :class:`RcuDropGuard` owns a retired value and frees it after a grace period.

Rust: ``RcuDropGuard<T>`` (``RcuWriteGuard`` in
fishinabarrel/linux-kernel-module-rust#143; its destructor calls
``synchronize_rcu()`` then frees).  Kernel: ``synchronize_rcu(); kfree(old)``
(:meth:`RcuDropGuard.drop`) or ``kfree_rcu(old)``/``call_rcu()``
(:meth:`RcuDropGuard.defer`).  Also here: the opt-in registry of live drop
guards the pytest plugin's strict mode checks for leaks
(:func:`track_drop_guards`, :func:`tracked_drop_guards`).  Public names are
re-exported by :mod:`kbind.rcu`.
"""

from __future__ import annotations

import warnings
from types import TracebackType
from typing import Any, Final, Generic, TypeVar, final

import kbind.rcu._runtime as _rt
from kbind._bridge.guard import LiveRegistry, Site, capture
from kbind.errors import GuardError, RcuDropGuardLeakWarning
from kbind.lifetime import MustUse
from kbind.rcu._callbacks import call_rcu, callbacks
from kbind.rcu.reference import _FREED, _Box

T = TypeVar("T")


@final
class RcuDropGuard(MustUse, Generic[T]):
    """Owns an old value that readers may still hold; frees it after a grace period.

    Rust: ``RcuDropGuard<T>`` (``RcuWriteGuard`` in
    fishinabarrel/linux-kernel-module-rust#143; its destructor calls
    ``synchronize_rcu()`` then frees).  Kernel: ``synchronize_rcu(); kfree(old)``
    (:meth:`drop`) or ``kfree_rcu(old)``/``call_rcu()`` (:meth:`defer`).
    A :class:`kbind.lifetime.MustUse` value: consumed exactly once.

    Invariants:
        Exactly one of :meth:`drop` (or leaving the ``with`` block) and
        :meth:`defer` happens, once (R15: ``GuardError`` for a second);
        the value is freed only after a grace period that began after it
        was retired (R13).  A guard collected undropped warns
        (``RcuDropGuardLeakWarning``, R14) and defers the free.  Unlike
        read guards it may be dropped on any thread (Rust: ``Send`` when
        ``T`` is).
    """

    __slots__ = ("_box", "_cookie")
    LEAK_WARNING = RcuDropGuardLeakWarning

    def __init__(self, box: _Box, cookie: int, retired_at: Site) -> None:
        super().__init__(retired_at)
        self._box = box
        self._cookie = cookie
        reg = _registry.members
        if reg is not None:
            reg.add(self)

    def __repr__(self) -> str:
        how = self.consumed_by
        freed = self._box.value is _FREED
        if not how:
            state = "pending"
        elif how == "defer":
            state = "freed (deferred)" if freed else "deferred"
        else:
            state = "freed" if freed else "dropping"
        return f"<RcuDropGuard of the old {self._box.label} value, {state}>"

    @property
    def retired_at(self) -> Site:
        """Where the value was unpublished (the ``replace``/``update`` call)."""
        return self.made_at

    @property
    def freed(self) -> bool:
        """Whether the old value has been freed (a grace period ended after retirement)."""
        return self._box.value is _FREED

    @property
    def pending(self) -> bool:
        """True until drop() or defer() was called."""
        return not self.consumed

    def _kb_twice(self, how: str, site: Site) -> BaseException:
        what = "deferred" if self.consumed_by == "defer" else "dropped"
        return GuardError(
            f"{how} the RcuDropGuard of the old {self._box.label} value",
            f"it was already {what}; an old value is retired, and freed, exactly once "
            "(R15; Rust: the guard is consumed by drop)",
            guard="the RcuDropGuard",
            created_at=self.made_at,
            dropped_at=self._consumed_at,
            sites=[("second attempt at", site)],
            hint="drop or defer each RcuDropGuard once",
        )

    def drop(self) -> None:
        """Wait for a grace period, then free the old value.

        Kernel: ``synchronize_rcu(); kfree(old)``.  Waits with the GIL
        released, in slices that report stalls (``RcuStallWarning``).  If the
        grace period already ended since the update (``cond_synchronize_rcu``),
        returns at once.

        Context: may block; not inside a read-side section.

        Raises:
            DeadlockError: inside a read-side section of this thread (R06).
            GuardError: already dropped or deferred.
        """
        site = Site.here(2)
        self._drop(site)

    def _drop(self, site: Site) -> None:
        ts = _rt.current_state()
        if ts is not None and ts.guards:
            _rt.raise_in_reader(f"drop the RcuDropGuard of the old {self._box.label} value", ts)
        self._consume("drop", site)
        tr = _rt.tracer
        gp = tr._drop_start(self._cookie, f"free the old {self._box.label}") if tr else None
        try:
            _rt.wait_gp(self._cookie, 3)
            if tr is not None and gp is not None:
                tr._gp_end(gp)
        except BaseException:
            self._unconsume()  # interrupted (Ctrl-C): still owned, still droppable
            raise
        self._box.free(site)

    def defer(self) -> None:
        """Free the old value after a grace period, without waiting (``call_rcu``).

        Kernel: ``kfree_rcu(old, rcu)`` / ``call_rcu()``.  The free runs on
        kbind's callback thread.  Context: any, including read-side sections.

        Raises:
            GuardError: already dropped or deferred.
        """
        site = Site.here(2, "freed by the call_rcu callback thread after a grace period")
        self._consume("defer", site)
        box = self._box
        call_rcu(lambda: box.free(site), capture(1))

    def __enter__(self) -> RcuDropGuard[T]:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if not self.consumed:
            self._drop(Site.here(2, "leaving its with block"))

    def _kb_unused(self) -> None:
        # Collected undropped (R14): defer the free, and say so.
        box = self._box
        created = self.made_at
        freed_site = Site(
            created.filename, created.lineno, created.function, created.thread,
            "freed after a grace period: its RcuDropGuard was garbage-collected undropped",
        )  # fmt: skip
        self._consumed_at, self._how = freed_site, "defer"  # finalizers take no locks
        try:
            callbacks.queue_from_finalizer(lambda: box.free(freed_site), capture(1))
        except Exception:  # interpreter shutdown: nothing can run any more
            return
        warnings.warn(
            RcuDropGuardLeakWarning(
                f"the RcuDropGuard of the old {box.label} value, created at {created}, was "
                "garbage-collected without drop() or defer() (R14); kbind will free the old "
                "value after a grace period. Use `with rcu.replace(new):`, .drop() or .defer()."
            ),
            stacklevel=1,
        )


#: Drop-guard registry for leak checks (kbind.pytest_plugin's strict mode),
#: off by default; see :func:`track_drop_guards`.
_registry: Final[LiveRegistry[RcuDropGuard[Any]]] = LiveRegistry(lambda g: g.pending)


def track_drop_guards(on: bool) -> None:
    """Start (with an empty registry) or stop recording every new RcuDropGuard (leak checks)."""
    _registry.track(on)


def tracked_drop_guards() -> list[RcuDropGuard[Any]]:
    """Return the RcuDropGuards created since tracking began and neither dropped nor deferred."""
    return _registry.live()

"""The RFC boxes freed after a grace period: ``RcuBox<T>`` and ``RcuFreeBox<T>``.

* ``RcuBox<T>`` (Alice Ryhl, January 2026, posted with
  ``MapleTree::load_rcu()``): readers borrow the value under an RCU guard;
  dropping the box never blocks: the value is dropped in an RCU callback,
  ``kfree_rcu()`` style ("can't afford ``synchronize_rcu()`` for cleanup").
  The thread discussed folding it into ``Rcu<Box<..: HasRcuHead>>``.
* ``RcuFreeBox<T>`` (Boqun Feng, June 2026): "clean up and unshare now, free
  after a grace period": the value's drop runs at once, in the caller's
  context, and only the memory waits for the grace period.

Mirrors those postings.  The difference they argue about is *where the
drop runs*: an ``RcuBox`` drops its value in callback context, which is
atomic (the dma_fence series, May 2026, warns that such a drop can
deadlock), checked here by :mod:`kbind.context` (``AtomicContextError``
for a sleeping drop); an ``RcuFreeBox`` drops it in the caller's context,
and readers still inside their section may see the cleaned-up value until
the grace period ends.

Rules (run-time checks): :meth:`RcuBox.borrow` needs an open
``kbind.kernel.sync.rcu.Guard`` of the calling thread and returns a
reference bound to it; a box is dropped once (``GuardError`` for a second);
borrowing from a dropped box raises ``LifetimeError`` (Rust: use after
move); the memory is poisoned after the grace period (``UseAfterFreeError``
through a reference that outlived its guard); dropping never blocks, so it
is allowed inside read-side sections.  A box collected undropped is
dropped as Rust would drop it: after a grace period, without a warning.
"""

from __future__ import annotations

from typing import Any, Final, Generic, TypeVar, final

from kbind._bridge.guard import Site, capture
from kbind._bridge.native import hot
from kbind.errors import GuardError, LifetimeError
from kbind.kernel._guarded import is_missing, ref_policy, refuse_guard
from kbind.kernel.sync.rcu import Guard
from kbind.lifetime import Cell, MustUse, Ref
from kbind.rcu import _callbacks as _cb
from kbind.rfc.callback import _drop_hook, drop_in_callback_context

__all__ = ["BoxRef", "RcuBox", "RcuFreeBox"]

T = TypeVar("T")

_SLOT: Final = "_cell"


@final
class BoxRef(Ref):
    """A read-only reference into an :class:`RcuBox` or :class:`RcuFreeBox`, valid with its guard.

    Rust: the ``&'a T`` borrowed under ``&'a rcu::Guard`` (``load_rcu()``).
    """

    __slots__ = ()


_POLICY: Final = ref_policy("the &'a T borrowed from an RcuBox under &'a rcu::Guard")


class _RcuBoxBase(MustUse, Generic[T]):
    """What both boxes share: the cell, borrowing under a guard, one drop."""

    __slots__ = ("_cell", "_freed", "_label")
    _CLONE_ROLE = "owner"
    _RUST: str = ""

    def __init__(self, value: T) -> None:
        super().__init__(Site.here(2))
        self._label = f"{type(self).__name__}[{type(value).__name__}]"
        self._cell = Cell(value, self._label, self.made_at)
        self._freed = False

    def __repr__(self) -> str:
        if not self.consumed:
            state = "live"
        elif self._freed:
            state = "freed"
        else:
            state = "dropped, freed after a grace period"
        return f"<{self._label} {state}>"

    @property
    def freed(self) -> bool:
        """Whether the memory has been freed (the grace period after :meth:`drop` ended)."""
        return self._freed

    def borrow(self, guard: Guard) -> T:
        """Return the value as a reference bound to ``guard`` (Rust: ``&'a T`` under ``&'a Guard``).

        Declared ``T`` (at run time a :class:`BoxRef`).

        Raises:
            TypeError: ``guard`` is not a :class:`kbind.kernel.sync.rcu.Guard`.
            LifetimeError: ``guard`` was unlocked, or the box was dropped.
            GuardError: ``guard`` belongs to another thread.
        """
        try:
            return _borrow(self, guard)  # type: ignore[no-any-return]
        except AttributeError as e:
            if not is_missing(e, self, _SLOT):
                raise
        raise LifetimeError(
            f"borrow from {self._label}",
            f"the {type(self).__name__} was dropped (unshared), so its value may be freed by "
            "now; Rust rejects a use after the move into drop at compile time",
            guard=self._label,
            created_at=self.made_at,
            dropped_at=self._consumed_at,
            sites=[("borrow attempted at", Site.here(2))],
            hint="take references before dropping the box, inside a read-side section",
        )

    def _unshare(self, site: Site) -> Cell:
        self._consume("drop", site)
        cell: Cell = self._cell
        delattr(self, _SLOT)  # new borrows raise from now on
        cell.retire(site)
        return cell

    def _kb_twice(self, how: str, site: Site) -> BaseException:
        return GuardError(
            f"drop {self._label}",
            f"it was already dropped; a box is dropped exactly once (Rust: {self._RUST} is "
            "moved into drop)",
            guard=self._label,
            created_at=self.made_at,
            dropped_at=self._consumed_at,
            sites=[("second drop at", site)],
            hint="drop each box once",
        )


def _free_later(box: _RcuBoxBase[Any], cell: Cell, site: Site, before: bool) -> None:
    # After a grace period: (RcuBox) the value's drop in callback context, then the memory.
    def free() -> None:
        try:
            if before:
                drop_in_callback_context(cell.value, site)
        finally:
            cell.poison(site)
            box._freed = True

    _cb.call_rcu(free, capture(1))


@final
class RcuBox(_RcuBoxBase[T]):
    """A box whose value is dropped after a grace period, in an RCU callback; dropping never blocks.

    Rust: ``RcuBox<T>`` (Alice Ryhl, January 2026; ``kfree_rcu()`` style).
    Kernel: ``kfree_rcu(obj, rcu)`` / ``call_rcu()`` with a free function.

    Rules: :meth:`drop` unshares the box now (:meth:`borrow` then raises
    ``LifetimeError``) and queues the drop on the call_rcu queue; it never
    waits, so it is allowed anywhere, including read-side sections.  After
    the grace period the value's drop hook (``__rcu_drop__()``, else
    ``drop()``) runs in callback context, an atomic section: a sleeping call
    there raises ``AtomicContextError`` (reported through
    ``sys.unraisablehook``), the dma_fence warning.  Then the memory is
    poisoned.

    Examples:
        >>> from kbind.kernel.sync import rcu
        >>> from kbind.rfc.rcu_box import RcuBox
        >>> b = RcuBox({"index": 7})
        >>> with rcu.Guard() as g:
        ...     b.borrow(g)["index"]
        ...     b.drop()  # inside the reader: fine, it does not wait
        7
        >>> rcu.rcu_barrier(); b.freed
        True
    """

    __slots__ = ()
    _RUST = "RcuBox<T>"

    def drop(self) -> None:
        """Unshare now; drop the value (callback context) and free after a grace period.

        Context: any; never blocks.

        Raises:
            GuardError: already dropped.
        """
        site = Site.here(
            2, "dropped here; the value's drop ran in an RCU callback after a grace period"
        )
        cell = self._unshare(site)
        _free_later(self, cell, site, before=True)

    def _kb_unused(self) -> None:
        # Collected undropped: Rust drops it the same way, so no warning.
        cell = self._cell
        site = self.made_at
        self._consumed_at, self._how = site, "collected"  # finalizers take no locks

        def free() -> None:
            try:
                drop_in_callback_context(cell.value, site)
            finally:
                cell.poison(site)

        try:
            _cb.callbacks.queue_from_finalizer(free, capture(1))
        except Exception:  # interpreter shutdown: nothing can run any more
            return


@final
class RcuFreeBox(_RcuBoxBase[T]):
    """A box whose value is cleaned up and unshared now, and freed after a grace period.

    Rust: ``RcuFreeBox<T>`` (Boqun Feng, June 2026: "clean up and unshare
    now, free after a grace period").

    Rules: :meth:`drop` unshares the box (:meth:`borrow` then raises
    ``LifetimeError``), runs the value's drop hook (``__rcu_drop__()``, else
    ``drop()``) at once **in the caller's context** (so it may sleep where
    the caller may: not in callback context, unlike :class:`RcuBox`), and
    poisons the memory only after a grace period: readers already inside
    their section keep a valid reference to the cleaned-up value until then.
    It never waits for the grace period itself.

    Examples:
        >>> from kbind.kernel.sync import rcu
        >>> from kbind.rfc.rcu_box import RcuFreeBox
        >>> b = RcuFreeBox({"index": 7})
        >>> b.drop(); rcu.rcu_barrier(); b.freed
        True
    """

    __slots__ = ()
    _RUST = "RcuFreeBox<T>"

    def drop(self) -> None:
        """Unshare and clean up now (the value's drop hook, here); free after a grace period.

        Context: that of the drop hook (kbind.context checks what it calls).

        Raises:
            GuardError: already dropped.
        """
        site = Site.here(2, "freed by the call_rcu callback thread after a grace period")
        cell = self._unshare(site)
        try:
            hook = _drop_hook(cell.value)
            if hook is not None:
                hook()  # type: ignore[operator]
        finally:
            _free_later(self, cell, site, before=False)

    def _kb_unused(self) -> None:
        # Collected undropped: clean up here (a finalizer: on whichever thread collected
        # it), free after a grace period; Rust drops it the same way, so no warning.
        cell = self._cell
        site = self.made_at
        self._consumed_at, self._how = site, "collected"
        hook = _drop_hook(cell.value)
        if hook is not None:
            try:
                hook()  # type: ignore[operator]
            except Exception as exc:
                _cb.report_unraisable(exc, f"Exception ignored in the drop of {self._label}", hook)

        def free() -> None:
            cell.poison(site)

        try:
            _cb.callbacks.queue_from_finalizer(free, capture(1))
        except Exception:  # interpreter shutdown: nothing can run any more
            return


_borrow: Final[Any] = hot.deref_method(
    "borrow", _RcuBoxBase.borrow.__doc__ or "", BoxRef, _POLICY, Guard, _SLOT,
    refuse_guard("borrow()", lambda b: str(b._label)),
)  # fmt: skip

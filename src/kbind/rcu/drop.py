"""Read-copy update with Rust-style guards: ``RcuReadGuard``, ``Rcu[T]``, ``RcuDropGuard[T]``.

Mirrors the RCU bindings proposed for Rust-for-Linux (``Rcu<T>``,
``RcuWrite<T>``, ``RcuReadGuard``, ``RcuDropGuard<T>``; kernel:
include/linux/rcupdate.h) over kbind's QSBR engine (csrc/engine/rcu.c).  What Rust
checks at compile time is checked here at run time, with errors that name
the rule and the sites involved.

Readers::

    with RcuReadGuard() as g:          # rcu_read_lock()
        cfg = config.read(g)           # rcu_dereference(): an RcuRef bound to g
        timeout = cfg.timeout          # plain values come out as they are
    # rcu_read_unlock(): cfg is dead now; using it raises LifetimeError

    timeout = config.with_read(lambda cfg: cfg.timeout)   # the closure form

Updaters publish a new object and get back an :class:`RcuDropGuard` that owns
the old one; the old object is freed only after a grace period, when no
reader can still hold it::

    with config.replace(Config(timeout=5)):   # leaving the block: synchronize_rcu() + free
        pass
    config.update(lambda old: Config(timeout=old.timeout + 1)).defer()   # call_rcu() free

"Freed" is real in the sense that matters: the C engine's grace periods
decide when, and a freed object is poisoned, so a late access through any
reference raises :class:`kbind.UseAfterFreeError`.  With a correct engine no
reader ever sees that; the busted engines (tests only) make it happen.

Threads register with the engine on first use and unregister when they end.
A Python thread is online (holds up grace periods) only while it holds a
read guard, unless it opted into explicit QSBR mode (:func:`qsbr_mode`), in
which it stays online and must report :func:`quiescent_state` itself.

Rules enforced at run time (rule codes of docs/misuse.md):

* R01/R02: a reference used after its guard was dropped: ``LifetimeError``.
* R04: readers need a guard: ``read()`` takes one (type-checked too).
* R05/R06/R07: ``synchronize_rcu()``, ``rcu_barrier()`` and a blocking
  ``RcuDropGuard.drop()`` inside a read-side section: ``DeadlockError``.
* R08/R10: a guard dropped on another thread or twice: ``GuardError``.
* R09/R22: a grace period held up past the stall threshold:
  ``RcuStallWarning`` naming the thread and its guard's site.
* R11: nested guards may be dropped in any order (counted).
* R12: ``replace``/``update`` serialize on the Rcu's lock; an ``RcuWrite``
  used by two threads at once raises ``GuardError``.
* R13: only an ``RcuDropGuard`` frees; freed objects are poisoned.
* R14: an ``RcuDropGuard`` collected undropped: ``RcuDropGuardLeakWarning``,
  and the old object is still freed after a grace period.
* R15: an object published in two places (so it would be retired twice):
  ``GuardError``.
* R16: in-place mutation through a reference: :class:`kbind.ReadOnlyError`.
  Mypy sees ``read(g)`` as the ``T`` it points to (Python has no ``&T``),
  so such mutation type-checks and is refused here.
* Copy-on-write: references inside a new value (``with_read``'s result, a
  published value) are deep-copied out while their guard lives; immutable
  values, and types declared with :func:`immutable`, leave readers as they are.
* R19: callbacks pending at exit run first; a failing callback goes to
  ``sys.unraisablehook`` and the others still run.
"""

from __future__ import annotations

import copy
import copyreg
import os
import threading
import types
import warnings
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import TracebackType
from typing import TYPE_CHECKING, Any, Final, Generic, NoReturn, TypeVar, cast, final, overload

from kbind._bridge import immutable as _im
from kbind._bridge.guard import NotClone, Sealed, Site, ThreadToken, capture, user_frame
from kbind._bridge.immutable import immutable
from kbind._bridge.native import hot, lib
from kbind._bridge.site import _tls as _guard_tls
from kbind._bridge.tracing import Tracer
from kbind.errors import (
    DeadlockError,
    GuardError,
    GuardLeakWarning,
    LifetimeError,
    RcuDropGuardLeakWarning,
    ReadOnlyError,
    UseAfterFreeError,
)
from kbind.lifetime import FREED, MUTATING_METHODS, Cell, MustUse, Ref, RefPolicy, Scope
from kbind.rcu import _runtime as _rt

__all__ = [
    "Rcu",
    "RcuDropGuard",
    "RcuReadGuard",
    "RcuRef",
    "RcuWrite",
    "allow_interior_mutability",
    "call_rcu",
    "get_stall_timeout",
    "immutable",
    "open_guards",
    "pending_callbacks",
    "qsbr_mode",
    "quiescent_state",
    "rcu_barrier",
    "read_lock",
    "read_lock_depth",
    "set_qsbr_mode",
    "set_stall_timeout",
    "synchronize_rcu",
    "thread_offline",
    "thread_online",
]

T = TypeVar("T")
R = TypeVar("R")

_thread_state = _rt.thread_state
_bind = hot.bind
_ref_parts = hot.ref_parts
_ref_target = hot.ref_target
#: The active kbind.trace recording, or None (set by kbind.trace.record()).
#: Read guards are observed through their hooks (RcuReadGuard._kb_hooks.observer).
_tracer: Tracer | None = None
_HOW_WITH_READ: Final = "when with_read() returned"

# ------------------------------------------------------------ read guards


def _guard_leaked(g: RcuReadGuard, ended: bool) -> None:
    # kbind.lifetime: an open guard was collected.  On its own thread (the
    # usual case: refcounting frees it where it was dropped) the C core ended
    # its section; elsewhere (a collection cycle on another thread) only the
    # owner could, so the engine counts it until the thread exits.
    if not ended:
        return
    warnings.warn(
        GuardLeakWarning(
            "an RcuReadGuard was garbage-collected inside its read-side critical section "
            f"(or abandoned by an exception before its with block); kbind ended the "
            f"section. The guard was created at {g.created_at}. Use `with RcuReadGuard() as g:` "
            "or call g.drop()."
        ),
        stacklevel=1,
    )


def _thread_exited(guards: list[RcuReadGuard]) -> None:
    # kbind.lifetime: the thread exited inside read-side sections.  The C
    # engine's key destructor takes the thread offline and unregisters it.
    first = guards[0]
    names = ", ".join(g.name for g in guards)
    warnings.warn(
        GuardLeakWarning(
            f"thread {first.owner.name!r} exited inside {len(guards)} read-side critical "
            f"section(s) ({names}); the outermost guard was created at {first.created_at} "
            "(R09). Use `with RcuReadGuard() as g:` or call g.drop()."
        ),
        stacklevel=1,
    )


@final
class RcuReadGuard(
    Scope, kind="RcuReadGuard", engine="rcu_read", on_leak=_guard_leaked,
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

    def _never(self, op: str) -> GuardError:
        return GuardError(
            f"{op} of an {self.KIND}",
            "R10: this guard never entered a read-side section (created without calling "
            "RcuReadGuard())",
            hint="create guards with RcuReadGuard() or kbind.rcu.read_lock()",
        )

    def _kb_refuse(self, what: str, how: str) -> object:
        if what == "enter":  # a with block on a dropped guard: its exit does nothing
            return None
        if what == "never":
            raise self._never("leave the read-side section")
        if what == "ended":
            self._refuse_dropped(f"drop {self.name}", user_frame(), how)
        if what == "thread":
            self._refuse_thread(f"drop {self.name}", user_frame(), how)
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

    def _refuse_dropped(self, op: str, f: types.FrameType, how: str = "") -> None:
        raise GuardError(
            op,
            f"R10: {self.name} was already dropped; a guard is dropped exactly once",
            guard=self.name,
            created_at=self.created_at,
            dropped_at=self.dropped_at,
            sites=[("second drop at", Site.from_frame(f, how))],
            hint="drop it either explicitly or by leaving its with block, not both",
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


_rt.GUARD_KIND = RcuReadGuard


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


_Guardish = RcuReadGuard | _UpdateGuard

# ----------------------------------------------------------------- boxes


#: The value a freed box holds (kbind.lifetime.FREED).
_FREED: Final = FREED

#: Object types returned as they are through a reference: immutable values,
#: the types declared with immutable() and the interior-mutability types
#: (kbind._bridge.immutable.PLAIN; tuples, frozensets, NamedTuples and frozen
#: dataclasses of such values are plain too: _is_plain()).
_PLAIN_TYPES: Final = _im.PLAIN

#: Types with their own synchronization (interior mutability): reached through a
#: reference they come out as they are, like ``&Mutex<T>`` or ``&AtomicU64`` in
#: Rust, whose shared references may still lock, store or write.  Filled below
#: with kbind's primitives and the threading ones; see allow_interior_mutability().
_INTERIOR: set[type] = set()


def allow_interior_mutability(cls: type) -> type:
    """Let instances of ``cls`` come out of references unwrapped (usable as a class decorator).

    For types that synchronize themselves (they own a lock, or are atomics)
    and are meant to be changed through a shared reference, like Rust's
    ``Sync`` types with interior mutability (``Mutex<T>``, ``AtomicU64``,
    ``SeqLock<T>``).  kbind's own primitives and ``threading``'s are
    registered already.
    """
    _INTERIOR.add(cls)
    _PLAIN_TYPES.add(cls)
    return cls


_own_lock = threading.Lock()
#: id(value) -> the live box that owns it (published, or retired and not yet freed).
_owned: dict[int, _Box] = {}


_is_plain: Final = _im.is_plain


class _Box(Cell):
    """One published value: what an ``Rcu`` points to and an ``RcuRef`` reaches.

    A :class:`kbind.lifetime.Cell`: freed (poisoned) at most once, only by an
    RcuDropGuard, only after a grace period that began after ``retired_at``;
    then ``value`` is ``_FREED`` and every reference into it raises.
    """

    __slots__ = ()

    def __init__(self, value: object, label: str, published_at: Site) -> None:
        super().__init__(value, label, published_at)
        if not _is_plain(value):
            with _own_lock:
                other = _owned.get(id(value))
                if other is not None:
                    raise GuardError(
                        f"publish this {type(value).__name__} object in {label}",
                        "R15: it is already owned by a published or retired-but-not-freed "
                        f"value of {other.label}; one object published in two places would be "
                        "retired, and freed, twice (C: a double free; Rust: a Box has one owner)",
                        guard=f"the {type(value).__name__} object",
                        created_at=other.published_at,
                        sites=[("retired at", other.retired_at)] if other.retired_at else [],
                        hint="publish a new object (copy.copy() of the old one, then change "
                        "the copy)",
                    )
                _owned[id(value)] = self

    def free(self, site: Site) -> None:
        value = self.value
        if value is _FREED:
            return
        with _own_lock:
            if _owned.get(id(value)) is self:
                del _owned[id(value)]
        self.poison(site)


def _ref_guard(v: object) -> str:
    if type(v) is not RcuRef:
        return f"a {type(v).__name__} holding an RcuRef"
    g = _kb_get(v)[0]
    return f"an RcuRef bound to {g.name} (created at {g.created_at})"


_COPYABLE: Final = "dicts, lists, sets, tuples, NamedTuples and dataclasses"


def _clone(ref: object, where: str) -> object:
    """Deep-copy what ``ref`` points to (Rust: ``.clone()``); its guard must still live."""
    g, b, v = _target(cast("RcuRef[Any]", ref), f"copy {where or 'a value'} out")
    try:
        return _im.deep_clone(v)  # immutable and self-synchronizing parts are shared
    except Exception as e:
        raise TypeError(
            f"cannot copy {where or 'the value'} ({type(v).__name__}, reached through a "
            f"reference into {b.label} under {g.name}) out of the reference: "
            f"copy.deepcopy() failed: {e}\nhint: build a new {type(v).__name__} from its "
            "parts, or declare its type immutable (kbind.rcu.immutable) if it never changes, "
            "or allow_interior_mutability() if it synchronizes itself"
        ) from e


def _copy_refs_out(value: object, label: str) -> object:
    """Replace references inside a value about to be published by plain copies (R02)."""
    if type(value) is RcuRef:
        raise TypeError(
            f"cannot publish an RcuRef in {label}: a reference is bound to its read guard and "
            "dies with it (R02); publish a new object (copy.copy(ref) gives a plain shallow copy)"
        )
    if type(value) in _PLAIN_TYPES:
        return value
    top = type(value).__name__

    def stuck(v: object, where: str, holder: object) -> BaseException:
        return TypeError(
            f"cannot publish this {top} in {label}: its {where} is {_ref_guard(v)}; a "
            f"reference must not be stored in a long-lived object (R02), and kbind copies "
            f"references out of {_COPYABLE} only, it cannot assign into a "
            f"{type(holder).__name__}\n"
            f"hint: store a plain copy at {where} instead: copy.deepcopy(ref) (or "
            "copy.copy(ref), shallow), or declare the referenced type immutable with "
            "kbind.rcu.immutable"
        )

    return _im.copy_out(value, _is_ref, _clone, stuck)


def _is_ref(v: object) -> bool:
    return type(v) is RcuRef


def _copy_result_out(result: object, g: RcuReadGuard) -> object:
    """Replace references inside ``with_read``'s result by plain copies before ``g`` ends (R02)."""

    def stuck(v: object, where: str, holder: object) -> BaseException:
        return LifetimeError(
            f"return a {type(result).__name__} from with_read()",
            f"R02: its {where} is {_ref_guard(v)}, which dies when with_read() returns; kbind "
            f"copies references out of {_COPYABLE} only, it cannot assign into a "
            f"{type(holder).__name__}",
            guard=g.name,
            created_at=g.created_at,
            hint=f"put a plain copy at {where}, made inside fn: copy.deepcopy(ref) (or "
            "copy.copy(ref), shallow), or declare the referenced type immutable with "
            "kbind.rcu.immutable",
        )

    return _im.copy_out(result, _is_ref, _clone, stuck)


def _label_of(value: object) -> str:
    return f"Rcu[{type(value).__name__}]"


# ------------------------------------------------------------ references

#: Mutating methods of builtin containers, refused through a reference (R16).
_MUTATORS: Final = MUTATING_METHODS


@final
class RcuRef(Ref, Sealed, Generic[T]):
    """A read-only reference to an RCU-protected object, valid while its guard is.

    Kernel: the pointer ``rcu_dereference()`` returns.  Rust: ``&'g T``
    borrowed from ``&'g Guard``.  Made by :meth:`Rcu.read` (and handed to
    ``with_read``/``update`` closures).

    Attribute, item, iteration, ``len``, ``in``, comparison, hashing and
    calls reach the object.  Values that come out are returned as they are
    when immutable (numbers, strings, bytes, None, tuples of those), and
    otherwise wrapped in a reference bound to the same guard, so
    ``ref.items.append(x)`` is refused and ``ref.items`` kept past the guard
    raises.  Methods of your own classes called through a reference see a
    reference as ``self``.  ``copy.copy(ref)`` / ``copy.deepcopy(ref)`` give
    plain copies to keep; references inside a value returned by
    ``with_read`` or published by ``replace``/``update`` are deep-copied
    out automatically.  Immutable values (including NamedTuples, frozen
    dataclasses of immutable fields and types declared with
    :func:`immutable`) come out as they are.

    Static type: none of its own.  :meth:`Rcu.read` and the closures of
    ``with_read``/``update`` declare the reference as the ``T`` it forwards
    to, so mypy checks attribute and item types; it cannot see that the
    reference is read-only or bound to its guard, which the checks below
    enforce at run time.

    Invariants:
        Every access checks that the guard is alive (R01/R02:
        ``LifetimeError`` naming where it was created and dropped) and that
        the object was not freed (R13: ``UseAfterFreeError``, which a
        correct engine never lets a guarded reader see).  Nothing can be
        assigned or deleted through it (R16: ``ReadOnlyError``).
    """

    __slots__ = ()

    # Attribute, item, len, in, iteration, call, comparison, hash, truth and
    # str are kbind.lifetime.Ref's, in C: each checks the guard and the box
    # (_stale, _uaf), refuses writes (_refuse) and wraps what comes out
    # (_child_hook), through _POLICY below.

    def __deepcopy__(self, memo: dict[int, object]) -> Any:
        # As the copy-on-write does (Rust: .clone() of a struct of Arcs): locks,
        # atomics and other self-synchronizing parts are shared, not duplicated.
        v = _target(self, "deep-copy")[2]
        _im.share_in_memo(v, memo)
        return copy.deepcopy(v, memo)

    def __reduce_ex__(self, protocol: object) -> Any:
        _refuse_pickle(self)

    def __repr__(self) -> str:
        g, b, o = _kb_get(self)
        if not g.alive:
            return f"<RcuRef into {b.label} (stale: {g.name} was dropped)>"
        v = b.value
        if v is _FREED:
            return f"<RcuRef into {b.label} (freed)>"
        return f"<RcuRef into {b.label} under {g.name}: {(v if o is None else o)!r}>"


def _refuse_pickle(ref: object) -> NoReturn:
    raise TypeError(
        "cannot pickle an RcuRef: it is bound to its read guard; pickle a copy "
        "(copy.deepcopy(ref)) made inside the read-side critical section"
    )


# pickle and copy.deepcopy look special methods up on the instance, which an
# RcuRef forwards to its target (so they would pickle or copy the target's
# method instead).  Their tables are consulted first, by type: register the
# RcuRef's own behaviour there (costs nothing on attribute reads).
copyreg.pickle(RcuRef, _refuse_pickle)
copy._deepcopy_dispatch[RcuRef] = lambda ref, memo: RcuRef.__deepcopy__(ref, memo)  # type: ignore[attr-defined]

_kb_get = cast("Callable[[RcuRef[Any]], tuple[Any, _Box, object]]", _ref_parts)


def _make_ref(g: _Guardish, b: _Box, o: object) -> RcuRef[Any]:
    r: RcuRef[Any] = _bind(RcuRef, _POLICY, g, b, o)
    return r


def _target(ref: RcuRef[Any], op: str) -> tuple[_Guardish, _Box, object]:
    """Return the guard, box and object of ``ref``, after its checks (R01/R02, R13)."""
    parts: tuple[_Guardish, _Box, object] = _ref_target(ref, op)
    return parts


def _unwrap(x: object) -> object:
    if type(x) is RcuRef:
        return _target(x, "compare")[2]
    return x


def _wrap(v: object, g: _Guardish, b: _Box) -> Any:
    if _is_plain(v):
        return v
    if type(v) is RcuRef:
        return v
    return _make_ref(g, b, v)


class _SelfBoundMethod:
    """A method of a user class called through a reference: ``self`` is the reference."""

    __slots__ = ("_func", "_self")

    def __init__(self, func: Callable[..., object], self_ref: RcuRef[Any]) -> None:
        self._func = func
        self._self = self_ref

    def __call__(self, *args: object, **kwargs: object) -> Any:
        g, b, _ = _target(self._self, f"call {self._func.__name__}()")
        return _wrap(self._func(self._self, *args, **kwargs), g, b)

    def __repr__(self) -> str:
        return f"<method {self._func.__qualname__} bound to {self._self!r}>"


def _child(a: object, g: _Guardish, b: _Box, v: object, name: str) -> Any:
    t = type(a)
    if type(v) in _INTERIOR:
        return a  # a method of a self-synchronizing object (root published as one)
    if t is types.MethodType and a.__self__ is v:  # type: ignore[attr-defined]
        return _SelfBoundMethod(a.__func__, _make_ref(g, b, v))  # type: ignore[attr-defined]
    if t is types.BuiltinMethodType or t is types.MethodWrapperType:
        if name in _MUTATORS and getattr(a, "__self__", None) is v:
            raise ReadOnlyError(
                f"call .{name}() through a reference into {b.label}",
                f"R16: .{name}() changes the {type(v).__name__} in place, and it is shared "
                "with every reader of the published value",
                guard=g.name,
                created_at=g.created_at,
                hint="build a new value (copy.copy(ref), change the copy) and publish it with "
                "replace()/update()",
            )
        return _make_ref(g, b, a)
    if _is_plain(a):
        return a
    return _make_ref(g, b, a)


def _refuse(ref: RcuRef[Any], op: str) -> None:
    g, b, o = _kb_get(ref)
    v = b.value if o is None else o
    raise ReadOnlyError(
        f"{op} through a reference into {b.label}",
        "R16: references are read-only; the published object is shared with every reader, "
        "so it must not change while published (Rust: readers get &T)",
        guard=g.name,
        created_at=g.created_at,
        hint=f"build a new {type(v).__name__} and publish it with replace()/update() "
        "(copy.copy(ref) gives a plain copy to change)",
    )


def _stale(g: _Guardish, b: _Box, op: str) -> LifetimeError:
    return LifetimeError(
        f"{op} through a reference into {b.label} obtained under {g.name}",
        f"R01/R02: {g.name} was dropped, so the object may already be freed; a reference "
        "must not outlive its guard (Rust rejects this at compile time: lifetime of &Guard)",
        guard=g.name,
        created_at=g.created_at,
        dropped_at=g.dropped_at,
        hint="copy what you need out of the reference inside the read-side critical section",
    )


def _uaf(g: _Guardish, b: _Box, op: str) -> UseAfterFreeError:
    return UseAfterFreeError(
        f"{op} through a reference into {b.label} obtained under {g.name}",
        "R13: the object was freed at the end of a grace period while this reference could "
        "still reach it; a grace period must wait for every reader that began before the "
        "object was retired, so the engine is broken (a busted variant?) or the object was "
        "freed by hand",
        guard=f"the {b.label} value",
        created_at=b.published_at,
        retired_at=b.retired_at,
        freed_at=b.freed_at,
        sites=[(f"reference obtained under {g.name} created at", g.created_at)],
        hint="free old values only through RcuDropGuard.drop()/defer()",
    )


def _child_hook(ref: RcuRef[Any], a: object, holder: object, name: str | None) -> Any:
    # RefPolicy.child: what a non-plain value reached through ``ref`` becomes.
    g, b, _ = _kb_get(ref)
    if name is None:  # an item, an iteration step, a call's result
        return _wrap(a, g, b)
    return _child(a, g, b, holder, name)


#: How RcuRefs behave (kbind.lifetime.RefPolicy): plain types, errors, children.
_POLICY: Final = RefPolicy(_PLAIN_TYPES, _stale, _uaf, _refuse, _child_hook)


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
        value = cast(T, _copy_refs_out(value, _label_of(value)))
        self._box = _Box(value, _label_of(value), Site.here(2))
        self._lock = threading.Lock()
        self._owner: ThreadToken | None = None
        self._owner_site: Site | None = None
        self._split = False

    @classmethod
    def init(cls, value: T) -> tuple[Rcu[T], RcuWrite[T]]:
        """Split-capability constructor: the Rcu for readers and its only writer.

        Rust: ``Rcu::init(data) -> (Rcu<T>, RcuWrite<T>)``
        (fishinabarrel/linux-kernel-module-rust#143).
        The Rcu's own :meth:`replace`/:meth:`update` then raise
        ``GuardError``; only the returned :class:`RcuWrite` updates it.
        """
        rcu: Rcu[T] = cls.__new__(cls)
        value = cast(T, _copy_refs_out(value, _label_of(value)))
        rcu._box = _Box(value, _label_of(value), Site.here(2))
        rcu._lock = threading.Lock()
        rcu._owner = None
        rcu._owner_site = None
        rcu._split = True
        return rcu, RcuWrite(rcu)

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
        tr = _tracer
        t_retire = tr._stamp() if tr is not None else 0
        cookie = int(lib.kb_get_state_synchronize_rcu())  # full barrier, then the GP to wait
        if tr is not None:
            tr._retire(cookie, t_retire)
        old.retired_at = site
        _rt.callbacks.ensure_thread()  # so a leaked drop guard can still be freed later
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
        site = Site.here(2)
        self._begin("replace", site)
        try:
            return self._rcu._publish(new, None, site)
        finally:
            self._end()

    def update(self, fn: Callable[[T], T]) -> RcuDropGuard[T]:
        """Publish ``fn(old)``; return the drop guard of the old value (as :meth:`Rcu.update`)."""
        site = Site.here(2)
        self._begin("update", site)
        try:
            return self._rcu._publish(None, fn, site)
        finally:
            self._end()

    def _begin(self, op: str, site: Site) -> None:
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

    def _end(self) -> None:
        self._user_site = None
        self._busy.release()


# ------------------------------------------------------------ drop guards


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
        reg = _tracked_drop_guards
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
        tr = _tracer
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
        _rt.call_rcu(lambda: box.free(site), capture(1))

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
            _rt.callbacks.queue_from_finalizer(lambda: box.free(freed_site), capture(1))
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


#: Drop-guard registry for leak checks (kbind.pytest_plugin's strict mode):
#: None by default, else a WeakSet every new RcuDropGuard joins.
_tracked_drop_guards: weakref.WeakSet[RcuDropGuard[Any]] | None = None


def track_drop_guards(on: bool) -> None:
    """Start (with an empty registry) or stop recording every new RcuDropGuard (leak checks)."""
    global _tracked_drop_guards
    _tracked_drop_guards = weakref.WeakSet() if on else None


def tracked_drop_guards() -> list[RcuDropGuard[Any]]:
    """Return the RcuDropGuards created since tracking began and neither dropped nor deferred."""
    reg = _tracked_drop_guards
    return [] if reg is None else [g for g in list(reg) if g.pending]


# -------------------------------------------------------- module functions


def synchronize_rcu() -> None:
    """Wait until every read-side critical section that began before the call has ended.

    Kernel: ``synchronize_rcu()``.  Rust: ``kernel::sync::rcu::synchronize_rcu()``.
    C: ``kb_rcu_wait_gp()`` in bounded slices with the GIL released; a grace
    period held up past the stall threshold warns (``RcuStallWarning``).

    Context: may block; not inside a read-side section.

    Raises:
        DeadlockError: inside a read-side section of this thread (R05).
    """
    ts = _rt.current_state()
    if ts is not None and ts.guards:
        _rt.raise_in_reader("call synchronize_rcu()", ts)
    tr = _tracer
    if tr is None:
        _rt.wait_gp(int(lib.kb_get_state_synchronize_rcu()), 2)
        return
    t = tr._stamp()
    gp = tr._gp("synchronize_rcu", "synchronize_rcu()", t, t)
    _rt.wait_gp(int(lib.kb_get_state_synchronize_rcu()), 2)
    tr._gp_end(gp)


def call_rcu(fn: Callable[[], object]) -> None:
    """Run ``fn()`` after a grace period, on kbind's callback thread.

    Kernel: ``call_rcu(head, func)``.  C: ``kb_call_rcu_token()`` plus a
    Python thread reaping tokens.  Callbacks run one at a time, in order, on
    the thread ``kbind-rcu-callbacks`` (R18: never on the caller's thread,
    so they must not rely on its stack or thread-locals).  An exception
    from ``fn`` goes to ``sys.unraisablehook`` and the next callbacks still
    run; pending callbacks run before the interpreter exits (R19).

    Context: any, including read-side sections and callbacks; never blocks,
    except in an atexit handler that runs after kbind's own (registered
    before ``import kbind``): the callback thread has stopped by then, so the
    call waits until ``fn`` has run (R19).
    """
    if not callable(fn):
        raise TypeError(f"call_rcu() needs a callable taking no arguments, not {fn!r}")
    _rt.call_rcu(fn, capture(1))


def rcu_barrier(timeout: float | None = None) -> bool:
    """Wait until every callback queued before the call (``call_rcu``, ``defer``) has run.

    Kernel: ``rcu_barrier()``.  Returns True, or False if ``timeout``
    seconds passed first.

    Context: may block; not inside a read-side section, not in a callback.

    Raises:
        DeadlockError: inside a read-side section (R07) or a callback.
        TypeError: ``timeout`` is not a number of seconds (or None).
        ValueError: ``timeout`` is NaN or negative (``inf``: no bound).
    """
    return _rt.rcu_barrier("call rcu_barrier()", _thread_state(), timeout, 2)


def pending_callbacks() -> int:
    """Callbacks (``call_rcu``, deferred frees) queued and not yet run."""
    return _rt.callbacks.count()


def open_guards() -> list[RcuReadGuard]:
    """Return the RcuReadGuards held right now on every thread (for leak checks)."""
    return cast("list[RcuReadGuard]", _rt.open_guards())


def read_lock_depth() -> int:
    """How many RcuReadGuards the calling thread holds (``rcu_read_lock_held()`` if > 0)."""
    ts = _rt.current_state()
    return 0 if ts is None else len(ts.guards)


def _outside_reader(op: str) -> _rt.ThreadState:
    ts = _thread_state()
    if ts.guards:
        first = ts.first()
        name = first.name if first is not None else "a collected RcuReadGuard"
        raise GuardError(
            op,
            f"the thread is inside a read-side critical section ({name}); a quiescent "
            "state or going offline there would let a grace period end, and free what the "
            "section is reading",
            guard=name,
            created_at=first.created_at if first is not None else None,
            hint="drop the guard first",
        )
    return ts


def quiescent_state() -> None:
    """Report that this thread holds no RCU references (QSBR).

    liburcu: ``rcu_quiescent_state()``.  C: ``kb_rcu_quiescent_state()``.
    Only an online thread in explicit QSBR mode needs it; otherwise (the
    thread is offline outside its guards) it does nothing.

    Raises:
        GuardError: inside a read-side critical section.
    """
    ts = _outside_reader("report a quiescent state")
    if ts.qsbr:
        lib.kb_rcu_quiescent_state()


def thread_offline() -> None:
    """Enter an extended quiescent state: stop holding up grace periods (QSBR).

    liburcu: ``rcu_thread_offline()``.  In explicit QSBR mode the thread
    stays offline (guards still bring it online while held) until
    :func:`thread_online`; otherwise threads are offline outside their
    guards anyway and this does nothing.

    Raises:
        GuardError: inside a read-side critical section.
    """
    ts = _outside_reader("go offline")
    if ts.qsbr:
        lib.kb_rcu_thread_offline()
        ts.qsbr = False
        ts.qsbr_mode = True


def thread_online() -> None:
    """Leave an extended quiescent state (QSBR mode): hold up grace periods again.

    liburcu: ``rcu_thread_online()``.  Only meaningful in explicit QSBR mode
    after :func:`thread_offline`; otherwise does nothing.
    """
    ts = _thread_state()
    if ts.qsbr_mode and not ts.qsbr:
        ts.qsbr = True
        ts.online_raw = capture(1, "went online here")
        if not ts.guards:
            lib.kb_rcu_thread_online()


def set_qsbr_mode(on: bool) -> None:
    """Opt the calling thread into (or out of) explicit QSBR mode.

    In QSBR mode the thread goes online now and stays online across its
    guards: grace periods wait for it until it calls
    :func:`quiescent_state` (or :func:`thread_offline`).  That is how
    liburcu's QSBR flavour works and is taught; a thread that forgets
    holds up every grace period (``RcuStallWarning``).  Off (the default),
    the thread is online only while it holds a guard.
    """
    ts = _thread_state()
    if on:
        ts.qsbr_mode = True
        if not ts.qsbr:
            ts.qsbr = True
            ts.online_raw = capture(1, "went online (explicit QSBR mode) here")
            if not ts.guards:
                lib.kb_rcu_thread_online()
    else:
        ts.qsbr_mode = False
        if ts.qsbr:
            ts.qsbr = False
            ts.online_raw = None
            if not ts.guards:
                lib.kb_rcu_thread_offline()


@contextmanager
def qsbr_mode() -> Iterator[None]:
    """Explicit QSBR mode for the body of a ``with`` block (see :func:`set_qsbr_mode`)."""
    set_qsbr_mode(True)
    try:
        yield
    finally:
        set_qsbr_mode(False)


def set_stall_timeout(seconds: float) -> None:
    """Set the grace-period age that counts as a stall (process-wide; default 21 s).

    Kernel: ``rcupdate.rcu_cpu_stall_timeout``.  C: ``kb_rcu_set_stall_timeout_ns()``.
    """
    _rt.set_stall_timeout(seconds)


def get_stall_timeout() -> float:
    """Return the stall threshold in seconds."""
    return _rt.get_stall_timeout()


def _register_interior() -> None:
    import queue

    from kbind.atomic import AtomicI32, AtomicI64, AtomicUsize
    from kbind.seqlock import SeqLatch, SeqLock
    from kbind.sync import Mutex, SpinLock
    from kbind.word import Word

    for cls in (
        AtomicI32, AtomicI64, AtomicUsize, SeqLock, SeqLatch, SpinLock, Mutex, Word, Rcu,
        type(threading.Lock()), type(threading.RLock()), threading.Condition,
        threading.Event, threading.Semaphore, threading.BoundedSemaphore, queue.Queue,
    ):  # fmt: skip
        allow_interior_mutability(cls)


_register_interior()


def _after_fork_in_child() -> None:
    """In a child of fork(): module locks another thread held at fork are reset."""
    global _own_lock
    _own_lock = threading.Lock()


os.register_at_fork(after_in_child=_after_fork_in_child)

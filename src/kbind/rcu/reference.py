"""References into RCU-protected objects: the boxes they reach, :class:`RcuRef`, the copy-out rules.

Kernel: the pointer ``rcu_dereference()`` returns.  Rust: ``&'g T``
borrowed from ``&'g Guard``.  What Rust checks at compile time is checked
here at run time, by the C core (``kbind._bridge._hotpath``) through the
reference policy ``_POLICY`` (:class:`kbind.lifetime.RefPolicy`):

* ``_Box``: one published value (a :class:`kbind.lifetime.Cell`), freed
  (poisoned) at most once; an object owned by two live boxes is refused (R15).
* :class:`RcuRef`: read-only (R16), dead with its guard (R01/R02), and
  refusing a freed value (R13); values that come out are plain or wrapped.
* The copy-out rules: references inside a value about to be published, or
  returned by ``with_read``, are replaced by deep copies while their guard
  lives; immutable and self-synchronizing types (:func:`allow_interior_mutability`)
  come out as they are.

Public names are re-exported by :mod:`kbind.rcu`.
"""

from __future__ import annotations

import copy
import copyreg
import os
import threading
import types
from collections.abc import Callable
from typing import Any, Final, Generic, NoReturn, TypeVar, cast, final

from kbind._bridge import immutable as _im
from kbind._bridge.guard import Sealed, Site
from kbind._bridge.native import hot
from kbind.errors import GuardError, LifetimeError, ReadOnlyError, UseAfterFreeError
from kbind.lifetime import FREED, MUTATING_METHODS, Cell, Ref, RefPolicy
from kbind.rcu.guard import RcuReadGuard, _Guardish

T = TypeVar("T")

_bind = hot.bind
_ref_parts = hot.ref_parts
_ref_target = hot.ref_target

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
#: Rust, whose shared references may still lock, store or write.  Filled at the
#: end of this module with kbind's primitives and the threading ones (and by
#: kbind.rcu.pointer with Rcu); see allow_interior_mutability().
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
        hint="copy what you need out of the reference inside the read-side critical section, "
        "or keep the object past it properly: a reference count taken inside it "
        "(kbind.rcu.try_get) or its own lock, rechecking that it was not deleted "
        "(kbind.rcu.lock_existing)",
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


def _register_interior() -> None:
    # kbind's primitives and the threading ones (kbind.rcu.pointer adds Rcu).
    import queue

    from kbind.atomic import AtomicI32, AtomicI64, AtomicUsize
    from kbind.seqlock import SeqLatch, SeqLock
    from kbind.sync import Mutex, SpinLock
    from kbind.word import Word

    for cls in (
        AtomicI32, AtomicI64, AtomicUsize, SeqLock, SeqLatch, SpinLock, Mutex, Word,
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

"""Which values may leave an RCU reader as they are, and copying references out of new values.

Rust: a ``&'g T`` borrowed from a read guard cannot outlive it, but what is
read through it can when it is owned: a ``Copy`` value, or a ``Clone``
made inside the section.  kbind's equivalents, used by :mod:`kbind.rcu`:

* *Immutable* values come out of a reference as they are and may be kept
  after the guard: numbers, strings, bytes, None, ranges, types, functions,
  enum members, ``datetime``/``Decimal`` values, tuples (NamedTuples
  included) and frozensets of immutable values, frozen dataclasses whose
  fields hold immutable values, and any type declared with
  :func:`immutable` (like ``Copy``, or an ``Arc`` of a type without
  interior mutability: sharing it is as good as copying it).
* Anything else comes out as a reference bound to the guard.  When such a
  reference ends up inside a *new* value (the result of ``with_read(fn)``,
  a value being published), :func:`copy_out` replaces it with a deep copy
  of what it points to, made while the guard is still alive (Rust:
  ``.clone()``; :func:`deep_clone` shares immutable and self-synchronizing
  parts, as cloning ``Arc``s does), or, where it cannot (an attribute of an
  arbitrary object), reports exactly where the reference sits so the
  caller can copy it.

Rules enforced: a reference never survives inside a new value; an
immutable type is never a builtin mutable container.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime
import decimal
import enum
import types
from collections.abc import Callable, MutableMapping, MutableSequence, MutableSet
from typing import Final, TypeVar

__all__ = ["PLAIN", "copy_out", "deep_clone", "immutable", "is_plain", "share_in_memo"]

C = TypeVar("C", bound=type)

#: Types whose instances come out of references as they are (exact types).
#: kbind.rcu also adds the interior-mutability types here.
PLAIN: Final[set[type]] = {
    int, float, complex, str, bytes, bool, type(None), range, type, types.FunctionType,
    type(Ellipsis), type(NotImplemented), decimal.Decimal, datetime.date, datetime.time,
    datetime.datetime, datetime.timedelta, datetime.timezone,
}  # fmt: skip

# Per-type verdicts for types not in PLAIN (filled on first sight).
_MUTABLE: Final = 0  # instances are references' business
_ITEMS: Final = 1  # a tuple or frozenset (or a subclass without __dict__): plain if its items are
_FROZEN: Final = 2  # a frozen dataclass: plain if its fields are
_kinds: dict[type, int] = {}
_fields_of: dict[type, tuple[str, ...]] = {}


def immutable(cls: C) -> C:
    """Declare ``cls`` immutable: its instances leave RCU readers freely (a class decorator).

    Rust: a type that is ``Copy`` (or shared through an ``Arc`` with no
    interior mutability): a reader may keep it after its guard, because
    nothing can change it.  kbind then returns instances of ``cls``
    (exactly that class; decorate subclasses too) as they are from a
    reference, instead of wrapping them in one, and shares them between a
    value and the new values built from it instead of copying them.

    The declaration is a promise kbind cannot check: no code changes an
    instance once it is built.  ``kbind.rcu.immutable`` is the public name.

    Raises:
        TypeError: ``cls`` is not a class, or is a mutable container
            (a list, dict or set, or a mutable collections.abc type).
    """
    if not isinstance(cls, type):
        raise TypeError(f"immutable() takes a class, not {cls!r}")
    if issubclass(cls, (MutableSequence, MutableMapping, MutableSet, bytearray)):
        raise TypeError(
            f"cannot declare {cls.__qualname__} immutable: it is a mutable container (its "
            "instances change in place through methods such as append/update/add); use a "
            "tuple or frozenset, or a class of your own whose instances never change"
        )
    PLAIN.add(cls)
    _kinds.pop(cls, None)
    return cls


def _kind(t: type) -> int:
    if issubclass(t, enum.Enum):
        PLAIN.add(t)  # members are singletons, fixed when the class is made
        return _ITEMS  # not reached again: PLAIN answers first next time
    if issubclass(t, (tuple, frozenset)) and t.__dictoffset__ == 0:
        return _ITEMS  # tuple, frozenset, NamedTuple, a slotted subclass
    params = getattr(t, "__dataclass_params__", None)
    if params is not None and params.frozen:
        _fields_of[t] = tuple(f.name for f in dataclasses.fields(t))  # type: ignore[arg-type]
        return _FROZEN
    return _MUTABLE


def is_plain(v: object) -> bool:
    """Tell whether ``v`` may leave a reader as it is (see the module docstring)."""
    t = type(v)
    if t in PLAIN:
        return True
    if t is tuple:  # the common case first: (a, b) of plain values
        for x in v:  # type: ignore[attr-defined]  # noqa: SIM110 (no generator: hot path)
            if type(x) not in PLAIN and not is_plain(x):
                return False
        return True
    k = _kinds.get(t)
    if k is None:
        k = _kinds[t] = _kind(t)
        if t in PLAIN:
            return True
    if k == _MUTABLE:
        return False
    if k == _ITEMS:
        return all(is_plain(x) for x in v)  # type: ignore[attr-defined]
    if k == _FROZEN:
        return all(is_plain(getattr(v, n)) for n in _fields_of[t])
    return False


def deep_clone(v: object) -> object:
    """``copy.deepcopy(v)``, except that immutable and self-synchronizing parts are shared.

    Rust: ``.clone()`` of a struct holding ``Arc``s clones the pointers, not
    what they point to.  Objects with interior mutability (locks, atomics,
    sequence locks: :func:`kbind.rcu.allow_interior_mutability`) and
    immutable values (see :func:`is_plain`) reached from ``v`` through
    containers and attributes are put in deepcopy's memo, so the copy
    refers to the same objects instead of duplicating them (a copied lock
    would be another lock, and would no longer exclude anyone).
    """
    memo: dict[int, object] = {}
    _share(v, memo, set())
    return copy.deepcopy(v, memo)


def share_in_memo(v: object, memo: dict[int, object]) -> None:
    """Seed deepcopy's ``memo`` so immutable and self-synchronizing parts of ``v`` are shared."""
    _share(v, memo, set())


def _share(x: object, memo: dict[int, object], seen: set[int]) -> None:
    if id(x) in seen:
        return
    seen.add(id(x))
    t = type(x)
    if t in _ATOMIC:
        return
    if is_plain(x):
        memo[id(x)] = x
        return
    if isinstance(x, dict):
        for k, v in x.items():
            _share(k, memo, seen)
            _share(v, memo, seen)
        return
    if isinstance(x, (list, tuple, set, frozenset)):
        for v in x:
            _share(v, memo, seen)
        return
    d = getattr(x, "__dict__", None)
    if isinstance(d, dict):
        for v in d.values():
            _share(v, memo, seen)
    for cls in t.__mro__:
        slots = cls.__dict__.get("__slots__", ())
        for slot in (slots,) if isinstance(slots, str) else slots:
            ok = isinstance(slot, str) and slot not in ("__dict__", "__weakref__")
            if ok and hasattr(x, slot):
                _share(getattr(x, slot), memo, seen)


#: Plain types deepcopy already returns as they are (no need to seed the memo).
_ATOMIC: Final = frozenset({int, float, complex, str, bytes, bool, type(None), range, type})

#: copy_out()'s view of references: is this a reference; give the plain deep
#: copy of what it points to (raising if its guard is gone); report one that
#: cannot be replaced (``where`` is its path, e.g. ``.hosts[0]``).
IsRef = Callable[[object], bool]
Clone = Callable[[object, str], object]
Stuck = Callable[[object, str, object], BaseException]


def copy_out(value: object, is_ref: IsRef, clone: Clone, stuck: Stuck) -> object:
    """Return ``value`` with every reference inside it replaced by a plain deep copy.

    Lists, dicts and sets are changed in place; tuples, NamedTuples,
    frozensets and frozen dataclasses are rebuilt (``_make``,
    ``dataclasses.replace``) when one of their items changes; non-frozen
    dataclasses get the field assigned.  Immutable values are left alone
    (shared).  An attribute of any other object that holds a reference (or
    a tuple holding one) cannot be replaced without assigning into the
    object: ``stuck(ref, where, obj)`` makes the exception raised then.
    Returns ``value`` itself unless it had to be rebuilt.
    """
    if is_plain(value):
        return value
    return _Walk(is_ref, clone, stuck).walk(value, "", True)


class _Walk:
    __slots__ = ("clone", "is_ref", "seen", "stuck")

    def __init__(self, is_ref: IsRef, clone: Clone, stuck: Stuck) -> None:
        self.is_ref = is_ref
        self.clone = clone
        self.stuck = stuck
        self.seen: set[int] = set()

    def walk(self, x: object, where: str, objects: bool) -> object:
        if type(x) in PLAIN:
            return x
        if self.is_ref(x):
            return self.clone(x, where)
        if id(x) in self.seen:  # a cycle, or an object reached twice: done already
            return x
        self.seen.add(id(x))
        if isinstance(x, dict):
            for k, v in list(x.items()):
                nk = self.walk(k, f"{where} (a key)", objects)
                nv = self.walk(v, f"{where}[{k!r}]", objects)
                if nk is not k:
                    del x[k]
                if nk is not k or nv is not v:
                    x[nk] = nv
            return x
        if isinstance(x, list):
            for i, v in enumerate(x):
                nv = self.walk(v, f"{where}[{i}]", objects)
                if nv is not v:
                    x[i] = nv
            return x
        if isinstance(x, set):
            for v in list(x):
                nv = self.walk(v, f"{where} (an item)", objects)
                if nv is not v:
                    x.discard(v)
                    x.add(nv)
            return x
        if isinstance(x, (tuple, frozenset)):
            items = [self.walk(v, f"{where}[{i}]", objects) for i, v in enumerate(x)]
            if all(a is b for a, b in zip(items, x, strict=True)):
                return x
            t = type(x)
            make = getattr(t, "_make", None)
            if make is not None:  # a NamedTuple
                return make(items)
            if t is tuple or t is frozenset:
                return t(items)
            raise self.stuck(x, where, x)  # a tuple subclass kbind cannot rebuild
        if dataclasses.is_dataclass(x) and not isinstance(x, type):
            changes: dict[str, object] = {}
            for f in dataclasses.fields(x):
                v = getattr(x, f.name)
                nv = self.walk(v, f"{where}.{f.name}", objects)
                if nv is not v:
                    if not f.init:
                        raise self.stuck(v, f"{where}.{f.name}", x)
                    changes[f.name] = nv
            if not changes:
                return x
            if getattr(type(x), "__dataclass_params__").frozen:  # noqa: B009
                return dataclasses.replace(x, **changes)
            for name, nv in changes.items():
                setattr(x, name, nv)
            return x
        return self._attributes(x, where) if objects else x

    def _attributes(self, x: object, where: str) -> object:
        # Any other object: references in its attributes cannot be replaced
        # without assigning into it (which may run its own code), so they are
        # reported; containers held in attributes are fixed in place.  Other
        # objects reached from here are not scanned (no walk of a whole graph).
        d = getattr(x, "__dict__", None)
        items: list[tuple[str, object]] = []
        if isinstance(d, dict):
            items = list(d.items())
        for cls in type(x).__mro__:
            slots = cls.__dict__.get("__slots__", ())
            for slot in (slots,) if isinstance(slots, str) else slots:
                ok = isinstance(slot, str) and slot not in ("__dict__", "__weakref__")
                if ok and hasattr(x, slot):
                    items.append((slot, getattr(x, slot)))
        for name, v in items:
            if type(v) in PLAIN:
                continue
            if self.walk(v, f"{where}.{name}", False) is not v:
                raise self.stuck(v, f"{where}.{name}", x)
        return x

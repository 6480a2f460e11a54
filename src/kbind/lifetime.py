"""The lifetime toolkit: what Rust checks at compile time, checked at run time.

Every kbind design is built from these pieces, and a design of your own can
be too (``examples/design_your_own_guard.py``):

* :class:`Scope` - a lifetime that begins once and ends exactly once, on
  the thread that began it (Rust: a guard that is ``!Send`` and consumed by
  ``drop``).  It records where it began and ended, nests per thread, and
  runs its kind's hooks at begin and end.  kbind's read guards and lock
  guards are scopes whose hooks are C functions of the engine.
* :class:`Cell` - a retirable home for one published object; once poisoned
  (freed), every reference into it raises :class:`~kbind.UseAfterFreeError`.
* :class:`Ref` - a proxy to an object in a cell, usable only while its scope
  is open and its cell not poisoned (Rust: ``&'a T`` borrowed from a guard).
  Read-only unless its design says otherwise; attribute, item, iteration,
  comparison and call go through; what comes out is plain (immutable) or a
  child reference bound to the same scope (:func:`rebind` moves it to another).
* :class:`MustUse` - a value that must be consumed exactly once (dropped or
  deferred); collected unconsumed, it warns naming where it was made (Rust:
  ``#[must_use]`` plus a destructor that must not be skipped).

The hot parts (begin/end, the checks of every reference access) are C, in
``kbind._bridge._hotpath``, and never release the GIL; errors are built here, in
Python, only when a rule is broken.

Thread safety: scopes, cells and references are protected by the GIL; a
scope is changed only by its owner thread (ending it elsewhere raises), a
cell is poisoned once (later poisons do nothing), and a reference's checks
and its access happen without the GIL being released in between.
"""

from __future__ import annotations

import contextlib
import copy
import itertools
import os
import threading
import types
import warnings
import weakref
from collections.abc import Callable, Iterable, Iterator
from typing import Any, ClassVar, Final, NoReturn, TypeVar

from kbind._bridge.guard import NotClone, Site, owner_thread_error, user_frame
from kbind._bridge.native import hot
from kbind.errors import GuardError, LifetimeError, ReadOnlyError, UseAfterFreeError

__all__ = [
    "FREED",
    "MUTATING_METHODS",
    "Cell",
    "MustUse",
    "MustUseWarning",
    "Ref",
    "RefPolicy",
    "Scope",
    "ScopeHooks",
    "Site",
    "ThreadToken",
    "bind",
    "current_thread",
    "open_scopes",
    "policy",
    "reader",
    "rebind",
]

T = TypeVar("T")

#: The identity of one Python thread (never reused; compare with ``is``).
ThreadToken = hot.ThreadToken
#: How one kind of scope begins and ends (made by :class:`Scope` subclasses).
ScopeHooks = hot.ScopeHooks
#: What a design's references return as they are, and the errors they raise.
RefPolicy = hot.RefPolicy
#: The value of a poisoned cell.
FREED: Final = hot.FREED


def current_thread() -> ThreadToken:
    """Return the calling thread's :class:`ThreadToken` (made on first use)."""
    return hot.current_thread()


def open_scopes(token: ThreadToken | None = None, kind: type[Scope] | None = None) -> list[Any]:
    """Return a thread's open scopes (default: the caller's), oldest first; of one kind if given."""
    return hot.open_scopes(token if token is not None else hot.current_thread(), kind)


# ----------------------------------------------------------------- scopes


def _seal_if_plain(cls: type) -> None:
    """Free instances of ``cls`` without subtype_dealloc if it adds no fields (a C fast path).

    ``hot.seal`` refuses a class with slots, a ``__dict__`` or ``__del__`` of
    its own; such classes keep CPython's generic deallocation.
    """
    with contextlib.suppress(TypeError):
        hot.seal(cls)


class Scope(hot.Scope, NotClone):
    """A lifetime that begins once and ends exactly once, on the thread that began it.

    Rust: a guard object - ``!Send`` (it cannot move to another thread) and
    consumed by ``drop`` (it ends once).  Kernel: the bracket of a critical
    section (``rcu_read_lock()``/``rcu_read_unlock()``, ``spin_lock()``/
    ``spin_unlock()``).

    Define a kind of scope by subclassing, with its hooks as class keywords::

        class DomainReadGuard(Scope, kind="DomainReadGuard",
                              begin=enter_domain, end=leave_domain):
            __slots__ = ("domain",)

    ``DomainReadGuard(domain)`` then begins a scope: it records the caller's
    line and thread, calls ``begin(scope, domain)``, and joins the thread's
    open scopes.  Leaving its ``with`` block or calling :meth:`end` ends it:
    ``end(scope)`` runs.  The rules, checked in C on every call:

    * it ends exactly once (``GuardError`` naming where it began and ended);
    * only on the thread that began it (``GuardError``: Rust's ``!Send``);
    * references bound to it (:func:`bind`) die with it (``LifetimeError``);
    * collected while open, it is ended (on its own thread) and ``on_leak``
      warns; open when its thread exits, ``on_thread_exit`` reports it.

    Hooks (class keywords, all optional): ``begin(scope, *args)``,
    ``end(scope)``, ``on_leak(scope, ended)``, ``on_thread_exit(scopes)``;
    ``kind`` (the name in messages, default the class name);
    ``end_anywhere`` (a collected scope may be ended on any thread, as a
    lock's guard can unlock anywhere).  kbind's own kinds pass ``engine``:
    the name of C hooks in ``kbind._bridge._hotpath``.  A subclass overrides
    :meth:`_kb_refuse` to word its own errors.

    Sizes and costs: see docs/performance.md.
    """

    __slots__ = ()

    KIND: ClassVar[str] = "Scope"
    _kb_hooks: ClassVar[hot.ScopeHooks]
    _numbers: ClassVar[itertools.count[int]]

    def __init_subclass__(
        cls,
        *,
        kind: str | None = None,
        begin: Callable[..., object] | None = None,
        end: Callable[[Any], object] | None = None,
        on_leak: Callable[[Any, bool], object] | None = None,
        on_thread_exit: Callable[[list[Any]], object] | None = None,
        end_anywhere: bool = False,
        keep_at_thread_exit: bool = False,
        engine: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init_subclass__(**kwargs)
        name = kind or cls.__dict__.get("KIND") or cls.__name__
        cls.KIND = name
        cls._numbers = itertools.count(1)
        cls._kb_hooks = hot.ScopeHooks(
            name, begin, end, on_leak, on_thread_exit, end_anywhere, keep_at_thread_exit, engine
        )
        _seal_if_plain(cls)

    # -- identity and sites

    @property
    def name(self) -> str:
        """``KIND#n``, unique in the process (numbered on first use)."""
        num: int = self._num
        if not num:
            num = self._num = next(type(self)._numbers)
        return f"{self.KIND}#{num}"

    @property
    def created_at(self) -> Site:
        """Where (and on which thread) the scope began (the same Site object each time).

        Raises:
            GuardError: it never began.
        """
        sites = self._sites
        if sites is not None:
            created: Site = sites[0]
            return created
        raw = self._begin_raw
        if raw is None:
            raise self._never("ask where it was created")
        created = Site.from_raw(raw)
        self._sites = (created, None)
        return created

    @property
    def dropped_at(self) -> Site | None:
        """Where it ended, or None while it is open (or if it never began)."""
        sites = self._sites
        if sites is not None and sites[1] is not None:
            dropped: Site = sites[1]
            return dropped
        raw = self._end_raw
        if raw is None:
            return None
        dropped = Site.from_raw(raw)
        self._sites = (self.created_at, dropped)
        return dropped

    def __repr__(self) -> str:
        if not self.begun:
            return f"<{self.KIND} (not entered)>"
        state = "alive" if self.alive else f"dropped at {self.dropped_at}"
        return f"<{self.name} {state}, created at {self.created_at}>"

    # -- refusals (called by the C core; each raises)

    def _never(self, op: str) -> GuardError:
        return GuardError(
            f"{op} of a {self.KIND}",
            f"this {self.KIND} never began (created without calling {self.KIND}())",
            hint=f"create scopes with {self.KIND}(...)",
        )

    def _kb_refuse(self, what: str, how: str) -> object:
        """Raise the error for a broken rule; ``what`` names it (see below).

        ``never``: ending a scope that never began; ``ended``: ending it a
        second time; ``thread``: ending it on another thread; ``enter``: a
        ``with`` block on an ended scope; ``begun``: beginning it twice;
        ``engine``: the engine disagrees.  Returning instead of raising
        waives the refusal (the operation then does nothing).
        """
        here = Site.from_frame(user_frame(), how)
        if what == "never":
            raise self._never("end")
        if what == "thread":
            raise owner_thread_error(
                f"end {self.name}", self.name, self.owner, self.created_at,
                "a scope cannot move between threads (Rust: the guard is !Send)",
                "create the scope on the thread that uses it, and end it there",
                sites=[("attempted at", here)], dropped_at=self.dropped_at,
            )  # fmt: skip
        if what == "enter":
            raise LifetimeError(
                f"enter a with block on {self.name}",
                f"{self.name} was dropped, so what it protected may no longer be used",
                guard=self.name, created_at=self.created_at, dropped_at=self.dropped_at,
                hint="create a new scope",
            )  # fmt: skip
        if what == "begun":
            raise GuardError(
                f"begin {self.name} again",
                f"{self.name} has begun already; a scope begins exactly once",
                guard=self.name, created_at=self.created_at, sites=[("second begin at", here)],
                hint=f"create a new {self.KIND}",
            )  # fmt: skip
        if what == "ended":
            raise GuardError(
                f"end {self.name}",
                f"{self.name} was already dropped; a scope ends exactly once",
                guard=self.name, created_at=self.created_at, dropped_at=self.dropped_at,
                sites=[("second drop at", here)],
                hint="end it either explicitly or by leaving its with block, not both",
            )  # fmt: skip
        raise RuntimeError(f"kbind: the engine refused to end {self.name} ({what})")

    def check_alive(self, op: str, hint: str | None = None) -> None:
        """Raise LifetimeError if the scope ended (or never began); ``op`` says what was tried."""
        if not self.alive:
            if not self.begun:
                raise self._never(op)
            raise LifetimeError(
                op,
                f"{self.name} was dropped, so what it protected may no longer be used",
                guard=self.name, created_at=self.created_at, dropped_at=self.dropped_at,
                hint=hint or "copy what you need out while the guard is held",
            )  # fmt: skip

    def check_owner(self, op: str) -> None:
        """Raise GuardError unless called on the thread that began the scope."""
        if not self._is_mine():
            raise owner_thread_error(
                op, self.name, self.owner, self.created_at if self.begun else None,
                "guards cannot move between threads (Rust: the guard is !Send)",
                "create a guard on the thread that needs it", dropped_at=self.dropped_at,
            )  # fmt: skip


# ------------------------------------------------------------------ cells


class Cell(hot.Cell):
    """A retirable home for one published object: poisoned once freed.

    Kernel: the object an ``__rcu`` pointer points to, from
    ``rcu_assign_pointer()`` to the ``kfree()`` after its grace period.
    Rust: the ``Box<T>`` an ``Rcu<T>`` owns.

    Rules: ``retire(site)`` records that the object was unpublished (it may
    still be read by references made before); ``poison(site)`` frees it: the
    cell drops the object, and every reference into it raises
    ``UseAfterFreeError`` naming where it was published, retired and freed.
    A cell is freed at most once.  ``retire(site, readers)`` also records the
    readers the free waits for; :func:`bind` then refuses any other thread's.
    """

    __slots__ = ("freed_at", "label", "published_at", "readers", "retired_at")

    def __init__(self, value: object, label: str = "", published_at: Site | None = None) -> None:
        super().__init__(value)
        self.label = label or f"a {type(value).__name__}"
        self.published_at = published_at if published_at is not None else Site.here(2)
        self.retired_at: Site | None = None
        self.freed_at: Site | None = None
        #: weak references to the readers open at the retire (None: any scope may bind)
        self.readers: tuple[weakref.ref[Any], ...] | None = None

    def retire(self, site: Site | None = None, readers: Iterable[Scope] | None = None) -> None:
        """Record that the object was unpublished; ``readers``: the scopes that may still use it."""
        self.retired_at = site if site is not None else Site.here(2)
        if readers is not None:
            self.readers = tuple(weakref.ref(s) for s in readers)

    def admits(self, scope: Scope) -> bool:
        """Whether ``scope`` may bind: no readers recorded, or one of its thread's lives on."""
        owner = scope.owner
        live = (w() for w in self.readers or ())
        return self.readers is None or any(
            s is not None and s.alive and s.owner is owner for s in live
        )

    def poison(self, site: Site | None = None) -> bool:
        """Free the object: every reference into the cell raises from now on.

        Returns False if it was freed already (nothing changes then).
        """
        if self.freed:
            return False
        self.freed_at = site if site is not None else Site.here(2)
        return bool(self._poison())


# ------------------------------------------------------------- references


def _default_stale(scope: Any, cell: Cell, op: str) -> LifetimeError:
    return LifetimeError(
        f"{op} through a reference into {cell.label} obtained under {scope.name}",
        f"{scope.name} ended, so the object may already be freed; a reference must not "
        "outlive its scope (Rust rejects this at compile time: the reference's lifetime)",
        guard=scope.name, created_at=scope.created_at, dropped_at=scope.dropped_at,
        hint="copy what you need out of the reference while the scope is open, or keep the "
        "object by a count (kbind.rcu.try_get) or its lock (kbind.rcu.lock_existing)",
    )  # fmt: skip


def _default_freed(scope: Any, cell: Cell, op: str) -> UseAfterFreeError:
    return UseAfterFreeError(
        f"{op} through a reference into {cell.label} obtained under {scope.name}",
        "the object was freed while this reference could still reach it (use after free)",
        guard=f"the {cell.label} value", created_at=cell.published_at,
        retired_at=cell.retired_at, freed_at=cell.freed_at,
        sites=[(f"reference obtained under {scope.name} created at", scope.created_at)],
        hint="free objects only after every reader that could hold them has ended",
    )  # fmt: skip


def _default_refuse(ref: Ref, op: str) -> ReadOnlyError:
    scope, cell, _ = hot.ref_parts(ref)
    return ReadOnlyError(
        f"{op} through a reference into {cell.label}",
        "references are read-only; the object is shared with every reader (Rust: &T)",
        guard=scope.name, created_at=scope.created_at,
        hint="build a new object and publish it",
    )  # fmt: skip


#: Methods of builtin containers that change them in place: refused through a
#: read-only reference (Rust: they take ``&mut self``, a ``&T`` cannot call them).
MUTATING_METHODS: Final = frozenset(
    {"append", "appendleft", "extend", "extendleft", "insert", "pop", "popleft", "popitem",
     "remove", "clear", "sort", "reverse", "rotate", "update", "setdefault", "add", "discard",
     "intersection_update", "difference_update", "symmetric_difference_update",
     "__setitem__", "__delitem__", "__setattr__", "__delattr__", "__iadd__", "__imul__",
     "__ior__", "__iand__", "__isub__", "__ixor__", "__init__"}
)  # fmt: skip

_BUILTIN_METHODS: Final = (types.BuiltinMethodType, types.MethodWrapperType)


def _default_child(ref: Ref, value: object, holder: object, name: str | None) -> object:
    """Return what a non-plain value reached through ``ref`` becomes: a reference bound like it.

    A mutating method of a builtin container (``ref.items.append``) is refused
    here, when it is looked up.
    """
    if (
        name in MUTATING_METHODS
        and isinstance(value, _BUILTIN_METHODS)
        and getattr(value, "__self__", None) is holder
    ):
        scope, cell, _ = hot.ref_parts(ref)
        raise ReadOnlyError(
            f"call .{name}() through a reference into {cell.label}",
            f".{name}() changes the {type(holder).__name__} in place, and it is shared with "
            "every reader (Rust: it takes &mut self; a reference is &T)",
            guard=scope.name, created_at=scope.created_at,
            hint="build a new object (copy.copy(ref), change the copy) and publish it",
        )  # fmt: skip
    return hot.ref_wrap(ref, value)


#: Types whose values leave references as they are (immutable builtins).
_PLAIN: Final[set[type]] = {
    int, float, complex, str, bytes, bool, type(None), range, slice, type(Ellipsis),
}  # fmt: skip


def policy(
    *,
    plain: set[type] | None = None,
    writable: bool = False,
    stale: Callable[[Any, Cell, str], BaseException] = _default_stale,
    freed: Callable[[Any, Cell, str], BaseException] = _default_freed,
    refuse: Callable[[Any, str], BaseException] = _default_refuse,
    child: Callable[[Any, object, object, str | None], object] | None = _default_child,
) -> hot.RefPolicy:
    """Build a :class:`RefPolicy`: the plain types, writability and errors of a design's refs.

    ``plain``: the set of types returned as they are (default: the immutable
    builtins; the set is used live, so adding to it later takes effect).
    ``child(ref, value, holder, name)``: decides what a non-plain value
    becomes (default: a reference bound like ``ref``, and the in-place
    mutators of builtin containers, :data:`MUTATING_METHODS`, refused).
    """
    return hot.RefPolicy(
        plain if plain is not None else set(_PLAIN), stale, freed, refuse, child, writable
    )


DEFAULT_POLICY: Final = policy()


class Ref(hot.Ref):
    """A proxy to an object in a :class:`Cell`, valid while its scope is open.

    Rust: ``&'a T`` borrowed from a guard of lifetime ``'a``.  Made by
    :func:`bind`.  Every access checks, in C, that the scope is open
    (``LifetimeError``) and the cell not poisoned (``UseAfterFreeError``);
    assignments and deletions through it raise ``ReadOnlyError`` unless the
    policy is writable.  Values that come out are plain (returned as they
    are) or child references bound to the same scope and cell.
    ``copy.copy``/``copy.deepcopy`` give plain copies to keep.
    """

    __slots__ = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        _seal_if_plain(cls)

    def __repr__(self) -> str:
        scope, cell, obj = hot.ref_parts(self)
        if not scope.alive:
            return f"<{type(self).__name__} into {cell.label} (stale: {scope.name} was dropped)>"
        if cell.freed:
            return f"<{type(self).__name__} into {cell.label} (freed)>"
        return f"<{type(self).__name__} into {cell.label} under {scope.name}: " \
            f"{(cell.value if obj is None else obj)!r}>"  # fmt: skip

    def __reversed__(self) -> Iterator[Any]:
        target = hot.ref_target(self, "iterate in reverse")[2]
        for x in reversed(target):
            hot.ref_target(self, "continue iterating")
            yield hot.ref_wrap(self, x)

    def __format__(self, spec: str) -> str:
        return format(hot.ref_target(self, "format")[2], spec)

    def __int__(self) -> int:
        return int(hot.ref_target(self, "convert to int")[2])

    def __float__(self) -> float:
        return float(hot.ref_target(self, "convert to float")[2])

    def __index__(self) -> int:
        return int(hot.ref_target(self, "use as an index")[2].__index__())

    def __copy__(self) -> Any:
        return copy.copy(hot.ref_target(self, "copy")[2])

    def __deepcopy__(self, memo: dict[int, object]) -> Any:
        return copy.deepcopy(hot.ref_target(self, "deep-copy")[2], memo)

    def __reduce_ex__(self, protocol: object) -> NoReturn:
        raise TypeError(
            f"cannot pickle a {type(self).__name__}: it is bound to its scope; pickle a copy "
            "(copy.deepcopy(ref)) made while the scope is open"
        )


def bind(
    scope: Scope, cell: Cell, ref_type: type[Ref] = Ref, ref_policy: hot.RefPolicy | None = None
) -> Any:
    """Return a reference to ``cell``'s object, bound to ``scope`` (open, on this thread).

    Rust: ``fn deref<'a>(&self, guard: &'a Guard) -> &'a T``.

    Raises:
        LifetimeError: ``scope`` has ended, or began after ``cell`` was retired
            with its readers (:meth:`Cell.retire`): the free will not wait for it.
        GuardError: ``scope`` belongs to another thread.
    """
    r = hot.bind_open(ref_type, ref_policy or DEFAULT_POLICY, scope, cell)
    if r is None:
        scope.check_alive(f"bind a reference into {cell.label} to {scope.name}")
        scope.check_owner(f"bind a reference into {cell.label} to {scope.name}")
        raise TypeError(f"bind(): {scope!r} is not a scope")
    if getattr(cell, "readers", None) is not None and not cell.admits(scope):
        raise _retired(
            f"bind a reference into {cell.label} to {scope.name}", cell, scope,
            f"it was retired before {scope.name}'s read-side section began, so the grace "
            "period that frees it does not wait for this reader (call_rcu() moves it from the "
            "readers that began before the retire to nobody)",
            "reach objects through what publishes them; keep one past its readers with a "
            "count taken before the retire (kbind.rcu.try_get)",
        )  # fmt: skip
    return r


def _retired(op: str, cell: Cell, scope: Any, why: str, hint: str) -> LifetimeError:
    sites = [("retired at", cell.retired_at)] if cell.retired_at else []
    return LifetimeError(
        op, f"{cell.label}: {why}; only the readers that began before the retire may still "
        "use it, until they end", guard=scope.name, created_at=scope.created_at, sites=sites,
        hint=hint,
    )  # fmt: skip


def rebind(ref: T, scope: Scope) -> T:
    """Return a reference to what ``ref`` reaches, with its type and policy, bound to ``scope``.

    A re-borrow (Rust: ``&'a T`` as ``&'b T``, ``'b`` guaranteed by a lock
    taken while ``ref`` is valid: the kernel's existence lock).  Raises
    ``LifetimeError`` if either scope has ended or the cell was retired (a
    grace period frees it whatever ``scope`` holds), ``UseAfterFreeError``
    if it was freed, ``GuardError`` if ``scope`` is another thread's.
    """
    name = getattr(scope, "name", type(scope).__name__)
    if not isinstance(ref, Ref):
        raise TypeError(f"rebind(): {type(ref).__name__} is not a reference (kbind.lifetime.Ref)")
    old, cell, _ = hot.ref_target(ref, f"move it to {name}")
    op = f"move a reference into {cell.label} from {old.name} to {name}"
    if getattr(cell, "retired_at", None) is not None:
        raise _retired(
            op, cell, old, f"it was retired (unpublished), so a grace period frees it whatever "
            f"{name} holds", "recheck under the lock that the object was not deleted, and "
            "drop it if it was (kbind.rcu.lock_existing)",
        )  # fmt: skip
    r: T | None = hot.rebind_open(ref, scope)
    if r is None:
        if not isinstance(scope, Scope):
            raise TypeError(f"rebind(): {scope!r} is not a scope")
        scope.check_alive(op)
        scope.check_owner(op)
        raise TypeError(f"rebind(): {scope!r} cannot hold references")
    return r


def _refuse_read(kind: type[Scope], cell_attr: str) -> Callable[[object, object], None]:
    def refuse(obj: object, scope: object) -> None:
        cell: Cell = getattr(obj, cell_attr)
        op = f"read {cell.label}"
        if type(scope) is not kind or not isinstance(scope, Scope) or not scope.begun:
            raise TypeError(
                f"{op}: needs a {kind.KIND} (the guard this value is read under), not "
                f"{getattr(type(scope), 'KIND', type(scope).__name__)}"
            )
        scope.check_alive(f"{op} under {scope.name}")
        scope.check_owner(f"{op} under {scope.name}")

    return refuse


def reader(
    kind: type[Scope],
    cell_attr: str = "_cell",
    *,
    ref_type: type[Ref] = Ref,
    ref_policy: hot.RefPolicy | None = None,
    doc: str = "",
) -> Any:
    """Return a method ``obj.read(scope, fn=None)`` for a design's class, running in C.

    Rust: ``fn read<'g>(&self, guard: &'g Guard) -> &'g T``.  Returns a
    reference into ``getattr(obj, cell_attr)`` (a :class:`Cell`) bound to
    ``scope``, which must be an open ``kind`` scope of the calling thread
    (``TypeError`` for another kind, ``LifetimeError`` once ended,
    ``GuardError`` on another thread); with ``fn``, returns ``fn(ref)``.
    Put it in a class body: ``read = lifetime.reader(MyGuard)``.  It is a
    method descriptor implemented in C: no Python frame, the cost of
    kbind's own ``Rcu.read``.
    """
    return hot.deref_method(
        "read", doc or reader.__doc__ or "", ref_type, ref_policy or DEFAULT_POLICY, kind,
        cell_attr, _refuse_read(kind, cell_attr),
    )  # fmt: skip


# ------------------------------------------------------------- must-use


class MustUseWarning(ResourceWarning):
    """A :class:`MustUse` value was collected without being consumed."""


class MustUse(NotClone):
    """A value that must be consumed exactly once: by :meth:`_consume`, never twice.

    Rust: a ``#[must_use]`` owner whose destructor must run (an
    ``RcuDropGuard<T>`` frees its old value; dropping it on the floor would
    leak it).  Subclasses call ``self._consume(how, site)`` in each consuming
    method (``drop``, ``defer``...): the first call wins, a second raises
    the error :meth:`_kb_twice` builds (default: ``GuardError`` naming both
    sites).  A consumption that cannot finish (interrupted) calls
    :meth:`_unconsume`.  Collected unconsumed, the instance calls
    :meth:`_kb_unused` (default: warn :class:`MustUseWarning`, naming where
    it was made).

    Thread safety: consuming is atomic (a lock), so two threads racing to
    consume get one success and one error.
    """

    __slots__ = ("__weakref__", "_consumed_at", "_how", "_made_at")
    _lock: ClassVar[threading.Lock] = threading.Lock()
    LEAK_WARNING: ClassVar[type[Warning]] = MustUseWarning

    def __init__(self, made_at: Site | None = None) -> None:
        self._made_at = made_at if made_at is not None else Site.here(2)
        self._consumed_at: Site | None = None
        self._how = ""

    @property
    def made_at(self) -> Site:
        """Where the value was made."""
        return self._made_at

    @property
    def consumed(self) -> bool:
        """Whether it has been consumed."""
        return self._consumed_at is not None

    @property
    def consumed_by(self) -> str:
        """How it was consumed ("" while it is not)."""
        return self._how

    def _consume(self, how: str, site: Site) -> None:
        """Mark the value consumed by ``how`` at ``site``; raise if it was already."""
        with MustUse._lock:
            if self._consumed_at is None:
                self._consumed_at = site
                self._how = how
                return
        raise self._kb_twice(how, site)

    def _unconsume(self) -> None:
        """Undo a consumption that could not finish (interrupted): it may be consumed again."""
        with MustUse._lock:
            self._consumed_at = None
            self._how = ""

    def _kb_twice(self, how: str, site: Site) -> BaseException:
        """Build the error for a second consumption (``how`` at ``site``)."""
        return GuardError(
            f"{how} {self!r}",
            f"it was already consumed ({self._how}); a must-use value is consumed exactly "
            "once (Rust: it is moved by the call that consumes it)",
            guard=repr(self), created_at=self._made_at, dropped_at=self._consumed_at,
            sites=[("second attempt at", site)], hint="consume each value once",
        )  # fmt: skip

    def _kb_unused(self) -> None:
        """Report a value collected unconsumed (default: warn, naming where it was made)."""
        warnings.warn(
            self.LEAK_WARNING(
                f"{self!r}, made at {self._made_at}, was garbage-collected without being consumed"
            ),
            stacklevel=1,
        )

    def __del__(self) -> None:
        try:
            if self._consumed_at is not None:
                return
        except AttributeError:  # never initialised
            return
        self._kb_unused()


def _after_fork_in_child() -> None:
    # A lock another thread held at fork() would never be released in the child.
    MustUse._lock = threading.Lock()


os.register_at_fork(after_in_child=_after_fork_in_child)

_seal_if_plain(Ref)

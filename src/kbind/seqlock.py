"""Sequence locks: ``SeqLock[T]`` with closure and loop readers, tentative values, ``SeqLatch[T]``.

Mirrors the kernel's include/linux/seqlock.h (C: csrc/seqlock.c) and the
reader designs discussed for Rust-for-Linux.  The protected fields live in C
memory and are read and written with marked accesses, so Python readers,
Python writers and C threads race for real: a reader that overlaps a writer
really is rejected by the retry check and really runs again.

Fields are 64-bit signed integers or fixed-size byte strings: nothing that
could be followed (S04).  Readers come in two shapes:

* the closure reader ``sl.read(fn)`` calls ``fn(view)`` until an attempt
  validates and returns only that attempt's result (S01 by construction);
  the view dies when ``fn`` returns (S02);
* the explicit loop reader ``seq = sl.read_begin()`` / ``seq.<field>`` /
  ``sl.read_retry(seq)``, for code whose retry check sits in a helper: what
  ``seq.<field>`` returns is a :class:`TentativeValue`, usable for
  computation and branching inside the attempt, usable as a plain value once
  ``read_retry`` validated it, and raising :class:`kbind.TentativeValueError`
  (naming where it was read) if used after the attempt failed.

Rules enforced at run time (rule codes of docs/misuse.md):

* S01: values from a failed attempt cannot be used (closure: never returned;
  loop: ``TentativeValueError``).
* S02: a view used after its closure returned raises ``LifetimeError``.
* S03: ``fn`` may run several times; side effects are the caller's business
  (documented), but a write to the same lock inside a reader is recognised
  as the sdma_flush "upgrade" pattern: it ends the attempt (see ``read``).
* S04: only ``int`` (64-bit signed) and fixed-size ``bytes`` are storable.
* S05/S09: writers serialize on the embedded spinlock; a second ``write()``
  on the thread that holds the write side raises ``DeadlockError``.
* S06: a reader on the thread that holds the write side raises
  ``DeadlockError`` instead of spinning forever.
* S07: all protected data are accessed with marked accesses (C memory); the
  busted variants are exercised by :mod:`kbind.torture_seqlock`.
* S08: a token passed to another lock's ``read_retry``, reused, or used on
  another thread raises ``GuardError``.
* S10: ``SeqLatch.write`` only ever hands out the copy readers are not
  directed to; a stashed write view raises ``LifetimeError`` after the flip.
"""

from __future__ import annotations

import operator
import warnings
import weakref
from collections.abc import Callable, Iterator
from types import TracebackType
from typing import Any, ClassVar, Final, Generic, TypeVar, cast, final, overload

from kbind._guard import GuardBase, NotClone, Site, ThreadToken, _tls
from kbind._native import ffi, lib
from kbind.errors import (
    DeadlockError,
    GuardError,
    GuardLeakWarning,
    LifetimeError,
    TentativeValueError,
)

__all__ = [
    "FieldValue",
    "SeqLatch",
    "SeqLatchWriteView",
    "SeqLock",
    "SeqReadToken",
    "SeqView",
    "SeqWriteGuard",
    "TentativeValue",
]

T = TypeVar("T")
R = TypeVar("R")

#: What a field holds.
FieldValue = int | bytes

_MIN: Final = -(2**63)
_MAX: Final = 2**63 - 1
#: How long one C call may spin/yield before coming back to Python (which
#: then checks for signals and calls again).
_WAIT_SLICE_NS: Final = 50_000_000
_SLICE: Final = _WAIT_SLICE_NS
#: Picks a successful C status (KB_OK) out of a C-only call chain (see SeqLock.write).
_OK: Final = lib.KB_OK.__eq__
#: Names a field may not take: they are methods or attributes of the views.
_RESERVED: Final = frozenset(
    {
        "fields",
        "update",
        "unlock",
        "name",
        "alive",
        "owner",
        "number",
        "created_at",
        "dropped_at",
        "check_alive",
        "check_owner",
        "mark_dropped",
        "copy",
        "sequence",
        "KIND",
    }
)


# --------------------------------------------------------------------- layout


@final
class _Field:
    """One field's place in the word array: ``nbytes == 0`` means an int."""

    __slots__ = ("name", "nbytes", "nwords", "offset")

    def __init__(self, name: str, offset: int, nbytes: int) -> None:
        self.name = name
        self.offset = offset
        self.nbytes = nbytes
        self.nwords = 1 if nbytes == 0 else (nbytes + 7) // 8

    @property
    def kind(self) -> str:
        return "int" if self.nbytes == 0 else f"bytes[{self.nbytes}]"

    def check(self, value: object, owner: str) -> int | bytes:
        """Validate ``value`` for this field and return what to store; raise before any change."""
        if self.nbytes == 0:
            if isinstance(value, (bytes, bytearray, memoryview, str, float)) or not hasattr(
                value, "__index__"
            ):
                raise TypeError(
                    f"{owner}.{self.name} holds a 64-bit signed int; cannot store "
                    f"{type(value).__name__} {value!r} (MISUSE S04: only ints and fixed-size "
                    "bytes are storable)"
                )
            v = operator.index(cast("int", value))
            if not _MIN <= v <= _MAX:
                raise OverflowError(
                    f"{owner}.{self.name}: {v} does not fit a 64-bit signed word [{_MIN}, {_MAX}]"
                )
            return v
        if isinstance(value, TentativeValue):
            value = value.value
        if not isinstance(value, (bytes, bytearray)):
            raise TypeError(
                f"{owner}.{self.name} holds {self.nbytes} bytes; cannot store "
                f"{type(value).__name__} {value!r} (MISUSE S04: only ints and fixed-size "
                "bytes are storable)"
            )
        if len(value) != self.nbytes:
            raise ValueError(
                f"{owner}.{self.name} holds exactly {self.nbytes} bytes; got {len(value)} "
                "(fields have a fixed size, like a C array; pad or slice explicitly)"
            )
        return bytes(value)


def _layout(owner: str, fields: dict[str, object]) -> tuple[dict[str, _Field], int]:
    if not fields:
        raise ValueError(f"{owner} needs at least one field, e.g. {owner}(sec=0, nsec=0)")
    layout: dict[str, _Field] = {}
    offset = 0
    for name, initial in fields.items():
        if name.startswith("_") or name in _RESERVED:
            raise ValueError(
                f"{owner} field name {name!r} is reserved (it names an attribute of the views); "
                "pick another"
            )
        if isinstance(initial, int):
            f = _Field(name, offset, 0)
        elif isinstance(initial, (bytes, bytearray)):
            if len(initial) == 0:
                raise ValueError(f"{owner} bytes field {name!r} must not be empty")
            f = _Field(name, offset, len(initial))
        else:
            raise TypeError(
                f"{owner} field {name!r}: initial value {type(initial).__name__} {initial!r} is "
                "not storable; fields are 64-bit signed ints or fixed-size bytes (MISUSE S04: a "
                "sequence lock cannot protect pointers or objects, a writer could free what a "
                "reader follows)"
            )
        f.check(initial, owner)
        layout[name] = f
        offset += f.nwords
    return layout, offset


class _Words:
    """A private word buffer (a snapshot) and fast Python views on it."""

    __slots__ = ("buf", "q", "raw", "seqp")

    def __init__(self, n: int) -> None:
        self.buf = ffi.new("int64_t[]", n)
        self.seqp = ffi.new("uint32_t *")
        self.raw = memoryview(ffi.buffer(self.buf))
        self.q = self.raw.cast("q")

    def get(self, f: _Field) -> int | bytes:
        if f.nbytes == 0:
            return int(self.q[f.offset])
        start = f.offset * 8
        return bytes(self.raw[start : start + f.nbytes])


class _Data:
    """The protected words in C memory plus per-field pointers and a buffer pool."""

    __slots__ = ("fields", "n", "pool", "ptrs", "view_cls", "words")

    def __init__(self, fields: dict[str, _Field], n: int) -> None:
        self.fields = fields
        self.n = n
        self.words = ffi.new("int64_t[]", n)
        self.ptrs = {name: self.words + f.offset for name, f in fields.items()}
        self.pool: list[_Words] = []
        self.view_cls: type[SeqView[object]] = _view_class(fields)

    def take(self) -> _Words:
        try:
            return self.pool.pop()
        except IndexError:
            return _Words(self.n)

    def give(self, w: _Words) -> None:
        if len(self.pool) < 8:
            self.pool.append(w)

    def load(self, name: str) -> int | bytes:
        """Read the live field with a marked access (the caller holds the write side)."""
        f = self.fields[name]
        p = self.ptrs[name]
        if f.nbytes == 0:
            return int(lib.kb_seq_word_read(p))
        out = ffi.new("char[]", f.nbytes)
        lib.kb_seq_bytes_load(out, p, f.nbytes)
        return bytes(ffi.buffer(out, f.nbytes))

    def store(self, name: str, value: int | bytes) -> None:
        """Store an already validated value with marked accesses."""
        f = self.fields[name]
        p = self.ptrs[name]
        if isinstance(value, int):
            lib.kb_seq_word_write(p, value)
        else:
            lib.kb_seq_bytes_store(p, ffi.from_buffer(value), f.nbytes)


def _no_field(owner: str, name: str, fields: dict[str, _Field]) -> AttributeError:
    return AttributeError(f"{owner} has no field {name!r}; its fields are {', '.join(fields)}")


def _check_spec(spec: object, fields: dict[str, _Field], owner: str) -> None:
    """Check a TypedDict-like field spec against the fields given."""
    hints = getattr(spec, "__annotations__", None)
    if not isinstance(hints, dict):
        raise TypeError(f"{owner} field spec must be a TypedDict class, not {spec!r}")
    if set(hints) != set(fields):
        raise ValueError(
            f"{owner} fields {sorted(fields)} do not match the spec "
            f"{getattr(spec, '__name__', spec)} {sorted(hints)}"
        )
    for name, hint in hints.items():
        want = "int" if fields[name].nbytes == 0 else "bytes"
        got = getattr(hint, "__forward_arg__", hint)
        if not isinstance(got, str):
            got = getattr(got, "__name__", repr(got))
        if got != want:
            raise TypeError(f"{owner} field {name!r} is {want} but the spec says {got}")


# ------------------------------------------------------------------ attempts


_PENDING: Final = 0
_VALID: Final = 1
_FAILED: Final = 2


@final
class _Attempt:
    """One pass of a read-side critical section and how it ended."""

    __slots__ = ("__weakref__", "began_at", "closed", "ended_at", "how", "label", "owner", "state")

    def __init__(self, label: str, began_at: Site, owner: ThreadToken | None = None) -> None:
        self.label = label
        self.began_at = began_at
        self.state = _PENDING
        self.closed = False  # a closure attempt whose fn returned
        self.owner = owner
        self.ended_at: Site | None = None
        self.how = ""

    def fail(self, how: str, site: Site) -> None:
        if self.state == _PENDING:
            self.state = _FAILED
            self.how = how
            self.ended_at = site


# ----------------------------------------------------------- tentative values


_Op = Callable[[object, object], object]
_LT: Final = cast(_Op, operator.lt)
_LE: Final = cast(_Op, operator.le)
_GT: Final = cast(_Op, operator.gt)
_GE: Final = cast(_Op, operator.ge)


def _raw(x: object) -> object:
    return x._use("compute with") if isinstance(x, TentativeValue) else x


@final
class TentativeValue:
    """A value read inside a sequence-lock read attempt that has not been validated yet.

    Paul E. McKenney's "tentatively readable" wish (blog post "Can Rust Code
    Own Sequence Locks?", 2021), checked at run time.  While the
    attempt is pending, arithmetic, comparisons, indexing and ``len`` give
    tentative results tied to the same attempt(s); ``int()``, ``bool()``,
    ``bytes()`` and ``.value`` give the plain value (to branch or index
    inside the section; the plain result is no longer tracked).  Once
    ``read_retry`` validated the attempt it behaves as the plain value.  If
    the attempt failed, every use raises :class:`kbind.TentativeValueError`
    naming where the value was read; ``repr()`` never raises.

    Kernel: nothing (MISUSE S01 is not caught in C).  Rust: a wished-for
    ownership class.

    Invariants:
        ``_attempts`` is every attempt the value depends on; the value is
        usable iff none of them failed.
    """

    __slots__ = ("_attempts", "_read_at", "_v")

    def __init__(self, v: int | bytes, attempts: tuple[_Attempt, ...], read_at: Site) -> None:
        self._v = v
        self._attempts = attempts
        self._read_at = read_at

    # -- state
    @property
    def is_valid(self) -> bool:
        """True once every attempt it depends on validated."""
        return all(a.state == _VALID for a in self._attempts)

    @property
    def is_pending(self) -> bool:
        """True while some attempt it depends on is still open (and none failed)."""
        return not self.is_failed and any(a.state == _PENDING for a in self._attempts)

    @property
    def is_failed(self) -> bool:
        """True if some attempt it depends on failed its retry check."""
        return any(a.state == _FAILED for a in self._attempts)

    @property
    def read_at(self) -> Site:
        """Where the (first) underlying protected value was read."""
        return self._read_at

    def _use(self, op: str) -> int | bytes:
        for a in self._attempts:
            if a.state == _FAILED:
                sites: list[tuple[str, Site]] = [("attempt began at", a.began_at)]
                if a.ended_at is not None:
                    sites.append((f"attempt {a.how} at", a.ended_at))
                raise TentativeValueError(
                    f"{op} a tentative value read in {a.label}",
                    f"the attempt {a.how}, so the value may be torn by a concurrent writer "
                    "(MISUSE S01: values from a failed read attempt must not be used)",
                    guard="value",
                    created_at=self._read_at,
                    sites=sites,
                    hint="use only values from the attempt whose read_retry() returned False; "
                    "re-read them in the next attempt, or use the closure reader sl.read(fn)",
                )
        return self._v

    @property
    def value(self) -> int | bytes:
        """The plain value (pending or validated attempt); raises if the attempt failed."""
        return self._use("take .value of")

    def _wrap(self, v: object, other: object = None) -> TentativeValue:
        attempts = self._attempts
        if isinstance(other, TentativeValue):
            attempts = attempts + tuple(a for a in other._attempts if a not in attempts)
        if not isinstance(v, (int, bytes)):
            raise TypeError(f"tentative values hold ints or bytes, not {type(v).__name__}")
        return TentativeValue(v, attempts, self._read_at)

    def _bin(self, other: object, fn: Callable[[object, object], object]) -> TentativeValue:
        a = self._use("compute with")
        b = _raw(other)
        return self._wrap(fn(a, b), other)

    def _rbin(self, other: object, fn: Callable[[object, object], object]) -> TentativeValue:
        a = self._use("compute with")
        return self._wrap(fn(other, a), other)

    # -- arithmetic (results stay tentative, tied to the same attempts)
    def __add__(self, o: int | TentativeValue) -> TentativeValue:
        return self._bin(o, operator.add)

    def __radd__(self, o: int) -> TentativeValue:
        return self._rbin(o, operator.add)

    def __sub__(self, o: int | TentativeValue) -> TentativeValue:
        return self._bin(o, operator.sub)

    def __rsub__(self, o: int) -> TentativeValue:
        return self._rbin(o, operator.sub)

    def __mul__(self, o: int | TentativeValue) -> TentativeValue:
        return self._bin(o, operator.mul)

    def __rmul__(self, o: int) -> TentativeValue:
        return self._rbin(o, operator.mul)

    def __floordiv__(self, o: int | TentativeValue) -> TentativeValue:
        return self._bin(o, operator.floordiv)

    def __rfloordiv__(self, o: int) -> TentativeValue:
        return self._rbin(o, operator.floordiv)

    def __mod__(self, o: int | TentativeValue) -> TentativeValue:
        return self._bin(o, operator.mod)

    def __rmod__(self, o: int) -> TentativeValue:
        return self._rbin(o, operator.mod)

    def __and__(self, o: int | TentativeValue) -> TentativeValue:
        return self._bin(o, operator.and_)

    def __rand__(self, o: int) -> TentativeValue:
        return self._rbin(o, operator.and_)

    def __or__(self, o: int | TentativeValue) -> TentativeValue:
        return self._bin(o, operator.or_)

    def __ror__(self, o: int) -> TentativeValue:
        return self._rbin(o, operator.or_)

    def __xor__(self, o: int | TentativeValue) -> TentativeValue:
        return self._bin(o, operator.xor)

    def __rxor__(self, o: int) -> TentativeValue:
        return self._rbin(o, operator.xor)

    def __lshift__(self, o: int | TentativeValue) -> TentativeValue:
        return self._bin(o, operator.lshift)

    def __rshift__(self, o: int | TentativeValue) -> TentativeValue:
        return self._bin(o, operator.rshift)

    def __neg__(self) -> TentativeValue:
        return self._wrap(operator.neg(cast("int", self._use("compute with"))))

    def __abs__(self) -> TentativeValue:
        return self._wrap(abs(cast("int", self._use("compute with"))))

    # -- comparisons (tentative booleans)
    def __eq__(self, o: object) -> TentativeValue:  # type: ignore[override]
        return self._bin(o, operator.eq)

    def __ne__(self, o: object) -> TentativeValue:  # type: ignore[override]
        return self._bin(o, operator.ne)

    def __lt__(self, o: int | TentativeValue) -> TentativeValue:
        return self._bin(o, _LT)

    def __le__(self, o: int | TentativeValue) -> TentativeValue:
        return self._bin(o, _LE)

    def __gt__(self, o: int | TentativeValue) -> TentativeValue:
        return self._bin(o, _GT)

    def __ge__(self, o: int | TentativeValue) -> TentativeValue:
        return self._bin(o, _GE)

    # -- byte strings
    def __len__(self) -> int:
        return len(cast("bytes", self._use("take len() of")))

    def __getitem__(self, i: int | slice) -> TentativeValue:
        return self._wrap(cast("bytes", self._use("index"))[i])

    # -- conversion to plain values (allowed while pending: branch inside the section)
    def __bool__(self) -> bool:
        return bool(self._use("test the truth of"))

    def __int__(self) -> int:
        return int(cast("int", self._use("convert to int")))

    def __index__(self) -> int:
        return operator.index(cast("int", self._use("use as an index")))

    def __bytes__(self) -> bytes:
        return bytes(cast("bytes", self._use("convert to bytes")))

    def __hash__(self) -> int:
        return hash(self._use("hash"))

    def __format__(self, spec: str) -> str:
        return format(self._use("format"), spec)

    def __str__(self) -> str:
        return str(self._use("convert to str"))

    def __repr__(self) -> str:
        state = "failed" if self.is_failed else "valid" if self.is_valid else "pending"
        return f"<TentativeValue {self._v!r} ({state}) read at {self._read_at.location}>"


# ---------------------------------------------------------------- the lock


@final
class SeqLock(NotClone, Generic[T]):
    """A sequence lock protecting a fixed set of fields in C memory.

    Readers never block writers; a reader that overlaps a writer retries.
    Writers serialize on the embedded spinlock.  Fields are 64-bit signed
    integers (given by their initial ``int``) or fixed-size byte strings
    (given by their initial ``bytes``).

    ``T`` is the field spec for mypy: pass a ``TypedDict`` class first
    (``SeqLock(Clock, sec=0, nsec=0)``) and :meth:`snapshot` and
    ``view.fields`` are typed ``Clock``; the spec is checked against the
    fields at run time.  With kbind's mypy plugin enabled
    (``plugins = ["kbind.mypy_plugin"]``) each field read through a view or
    a write guard has the spec's type too (``v.sec`` is ``int``, a bytes
    field ``bytes``); mypy alone cannot map a TypedDict's keys to
    attributes, so without the plugin a field is ``int | bytes``.  Without
    a spec, ``T`` is ``dict[str, int | bytes]``.

    Kernel: ``seqlock_t`` (``DEFINE_SEQLOCK``).  Rust: the proposed
    ``SeqLock<T>``.  C: ``kb_seqlock_t``, ``kb_seqlock_init()``.

    Invariants:
        The fields are written only inside a write section (the sequence is
        odd meanwhile), by the one thread holding the write side.

    Examples:
        >>> from kbind.seqlock import SeqLock
        >>> clock = SeqLock(sec=0, nsec=0)
        >>> with clock.write() as w:
        ...     w.sec, w.nsec = 5, 500
        >>> clock.read(lambda v: v.sec * 1_000_000_000 + v.nsec)
        5000000500
    """

    __slots__ = (
        "__weakref__",
        "_data",
        "_excl",
        "_open",
        "_readers",
        "_sl",
        "_spec",
        "_writer",
        "_writer_name",
        "_writer_num",
        "_writer_site",
    )

    KIND: ClassVar[str] = "SeqLock"
    _CLONE_ROLE = "owner"

    @overload
    def __init__(self: SeqLock[dict[str, int | bytes]], /, **fields: int | bytes) -> None: ...

    @overload
    def __init__(self, spec: type[T], /, **fields: int | bytes) -> None: ...

    def __init__(self, spec: type[T] | None = None, /, **fields: int | bytes) -> None:
        layout, n = _layout(self.KIND, dict(fields))
        if spec is not None:
            _check_spec(spec, layout, self.KIND)
        self._spec = spec
        self._sl = ffi.new("kb_seqlock_t *")
        lib.kb_seqlock_init(self._sl)
        self._data = _Data(layout, n)
        for name, value in fields.items():
            self._data.store(name, layout[name].check(value, self.KIND))
        self._writer: ThreadToken | None = None
        # The write guard, by number, name and site, not by reference: an
        # abandoned guard must be collectable, and release in __del__.
        self._writer_num = 0
        self._writer_name = ""
        self._writer_site: Site | None = None
        self._excl: ThreadToken | None = None  # thread holding the lock as an exclusive reader
        # Open lockless attempts: closure readers (always removed when fn
        # returns) and, per thread, loop tokens (weakly: a token may be
        # abandoned without read_retry, as the kernel's "break" does).
        self._readers: list[_Attempt] = []
        self._open: dict[ThreadToken, weakref.WeakSet[_Attempt]] = {}

    def __repr__(self) -> str:
        site = self._writer_site
        state = f"write side held by thread {site.thread!r}" if site is not None else "idle"
        return f"<SeqLock fields=({', '.join(self._data.fields)}) {state}>"

    @property
    def field_names(self) -> tuple[str, ...]:
        """The names of the protected fields, in declaration order."""
        return tuple(self._data.fields)

    @property
    def sequence(self) -> int:
        """The current sequence (odd while a writer is inside); for diagnostics."""
        return int(lib.kb_raw_read_seqcount(ffi.addressof(self._sl, "seqcount")))

    # -- bookkeeping
    def _check_not_writer(self, op: str, depth: int = 3) -> None:
        me = _tls.me
        if self._writer is me:
            raise DeadlockError(
                op,
                "this thread holds the write side, so the sequence stays odd until it ends and "
                "a lockless reader would spin forever (MISUSE S06; the kernel livelocks here)",
                guard=self._writer_name or "the write guard",
                created_at=self._writer_site,
                sites=[("reader started at", Site.here(depth))],
                hint="read through the write guard (w.<field>) while you hold it, or end the "
                "write section first",
            )

    def _register(self, attempt: _Attempt) -> None:
        me = _tls.me
        s = self._open.get(me)
        if s is None:
            s = self._open[me] = weakref.WeakSet()
        s.add(attempt)

    def _unregister(self, attempt: _Attempt) -> None:
        s = self._open.get(_tls.me)
        if s is not None:
            s.discard(attempt)

    def _wait_snapshot(self, words: _Words, seqp: object) -> None:
        sl, src, n, buf = self._sl, self._data.words, self._data.n, words.buf
        while lib.kb_seqlock_snapshot_begin(sl, buf, src, n, _WAIT_SLICE_NS, seqp) != lib.KB_OK:
            pass  # a writer stayed inside a whole slice: back in Python for signals, then retry

    # -- closure reader
    def read(self, fn: Callable[[SeqView[T]], R], *, lock_after: int | None = None) -> R:
        """Run ``fn(view)`` in a read section until an attempt validates; return that result.

        Each attempt begins a section and snapshots the fields (one C call),
        runs ``fn`` on the snapshot, and ends with the retry check (one C
        call).  If a writer overlapped, ``fn``'s result (or exception) is
        discarded and ``fn`` runs again: ``fn`` may run several times, so it
        must not have side effects it cannot repeat (S03).  An exception
        from ``fn`` propagates only if its attempt validated (a torn read
        may well raise).

        ``lock_after=n``: after ``n`` failed attempts, take the lock as an
        exclusive reader (writers wait; the next attempt cannot fail), so
        incessant writers cannot starve this reader.  ``lock_after=0`` reads
        under the lock at once.

        A reader that itself writes (``with sl.write()`` inside ``fn``, the
        kernel's sdma_flush pattern) upgrades: the write section serializes
        with every writer, so the attempt ends there and ``read`` returns
        ``fn``'s result without retrying; the view dies at the upgrade
        (read through the write guard after it).  Not allowed under
        ``lock_after`` (the lock is already held: ``DeadlockError``).

        Kernel: ``do { seq = read_seqbegin(); ... } while (read_seqretry())``;
        with ``lock_after``: ``read_seqbegin_or_lock()``/``need_seqretry()``/
        ``done_seqretry()``.  C: ``kb_seqlock_snapshot_begin()``,
        ``kb_read_seqretry()``, ``kb_read_seqlock_excl()``.

        Context: may spin (GIL released in slices) while a writer is inside.

        Raises:
            DeadlockError: the calling thread holds the write side (S06).
            ValueError: ``lock_after`` is negative.
        """
        if lock_after is not None:
            if isinstance(lock_after, bool) or not isinstance(lock_after, int):
                raise TypeError(f"lock_after must be an int or None, not {lock_after!r}")
            if lock_after < 0:
                raise ValueError(f"lock_after must be >= 0, not {lock_after}")
        me = _tls.me
        if self._writer is me:
            self._check_not_writer("begin a read section on SeqLock")
        data = self._data
        words = data.take()
        seqp = words.seqp
        site = Site.here(2)  # lazy: the line is worked out only if an error needs it
        readers = self._readers
        sl = self._sl
        fields = data.fields
        view_cls = data.view_cls
        failed = 0
        try:
            while True:
                if lock_after is not None and failed >= lock_after:
                    return self._read_locked(fn, words, site)
                if (
                    lib.kb_seqlock_snapshot_begin(
                        sl, words.buf, data.words, data.n, _WAIT_SLICE_NS, seqp
                    )
                    != lib.KB_OK
                ):
                    continue  # a writer stayed inside a whole slice: signals, then again
                attempt = _Attempt("read attempt of SeqLock.read()", site, me)
                view: SeqView[T] = view_cls("SeqLock", fields, words, attempt)  # type: ignore[assignment]
                readers.append(attempt)
                try:
                    result = fn(view)
                except BaseException:
                    attempt.closed = True
                    readers.remove(attempt)
                    if attempt.state == _FAILED:  # upgraded: the write ended the attempt
                        raise
                    if not lib.kb_read_seqretry(sl, seqp[0]):
                        raise
                    failed += 1
                    continue
                attempt.closed = True
                readers.remove(attempt)
                if attempt.state == _FAILED:  # upgraded (sdma_flush): no retry
                    return result
                if not lib.kb_read_seqretry(sl, seqp[0]):
                    return result
                failed += 1
        finally:
            data.give(words)

    def _read_locked(self, fn: Callable[[SeqView[T]], R], words: _Words, site: Site) -> R:
        me = _tls.me
        while lib.kb_read_seqlock_excl_timeout(self._sl, _WAIT_SLICE_NS) != lib.KB_OK:
            pass
        self._excl = me
        try:
            lib.kb_seq_words_load(words.buf, self._data.words, self._data.n)
            attempt = _Attempt("the locked attempt of SeqLock.read()", site, me)
            view: SeqView[T] = self._data.view_cls(  # type: ignore[assignment]
                "SeqLock", self._data.fields, words, attempt
            )
            try:
                return fn(view)
            finally:
                attempt.closed = True
        finally:
            self._excl = None
            lib.kb_read_sequnlock_excl(self._sl)

    def snapshot(self) -> T:
        """Return a consistent copy of every field, as a dict (typed ``T``).

        The whole read loop runs in one C call (``kb_seqlock_read_words()``):
        the cheapest consistent read from Python.
        Kernel: a ``read_seqbegin()`` loop around a memcpy().

        Raises:
            DeadlockError: the calling thread holds the write side (S06).
        """
        self._check_not_writer("take a snapshot of SeqLock")
        data = self._data
        words = data.take()
        try:
            while (
                lib.kb_seqlock_read_words(
                    self._sl, words.buf, data.words, data.n, _WAIT_SLICE_NS, words.seqp, ffi.NULL
                )
                != lib.KB_OK
            ):
                pass
            return cast(T, {name: words.get(f) for name, f in data.fields.items()})
        finally:
            data.give(words)

    # -- explicit loop reader
    def read_begin(self) -> SeqReadToken[T]:
        """Begin a read attempt; return its token (``seq.<field>`` gives tentative values).

        Use with :meth:`read_retry`::

            while True:
                seq = sl.read_begin()
                total = seq.a + seq.b          # TentativeValue
                if not sl.read_retry(seq):
                    break
            print(int(total))                  # validated: a plain int

        Kernel: ``read_seqbegin()``.  C: ``kb_seqlock_snapshot_begin()``.
        Context: may spin (GIL released in slices) while a writer is inside.

        Raises:
            DeadlockError: the calling thread holds the write side (S06).
        """
        self._check_not_writer("begin a read attempt on SeqLock")
        token: SeqReadToken[T] = SeqReadToken(self)
        self._wait_snapshot(token._words, token._words.seqp)
        self._register(token._attempt)
        return token

    def read_retry(self, seq: SeqReadToken[T]) -> bool:
        """End the attempt ``seq``: True if it must be retried (its values are torn).

        After False, the attempt's tentative values are valid (plain values);
        after True they raise :class:`kbind.TentativeValueError` when used.
        Either way the token is spent: its fields can no longer be read.

        Kernel: ``read_seqretry()``.  C: ``kb_read_seqretry()``.

        Raises:
            TypeError: ``seq`` is not a token.
            GuardError: the token belongs to another lock, was already
                retried, or belongs to another thread (S08).
        """
        if not isinstance(seq, SeqReadToken):
            raise TypeError(
                f"read_retry() takes the token read_begin() returned, not {type(seq).__name__}"
            )
        if seq._lock is not self:
            raise GuardError(
                f"check {seq.name} against another SeqLock",
                "a read token is bound to the lock whose read_begin() made it (MISUSE S08: the "
                "sequence of one lock says nothing about another)",
                guard=seq.name,
                created_at=seq.created_at,
                sites=[("read_retry() called at", Site.here(2))],
                hint="call read_retry() on the lock you called read_begin() on",
            )
        seq.mark_dropped("call read_retry() again (MISUSE S08: each token is checked once) with")
        site = seq.dropped_at
        assert site is not None
        self._unregister(seq._attempt)
        attempt = seq._attempt
        if attempt.state == _FAILED:  # superseded by this thread's own write
            retry = True
        else:
            retry = bool(lib.kb_read_seqretry(self._sl, seq._words.seqp[0]))
            if retry:
                attempt.fail("failed its retry check (a writer overlapped it)", site)
            else:
                attempt.state = _VALID
                attempt.ended_at = site
        self._data.give(seq._words)
        return retry

    def read_loop(self) -> Iterator[SeqReadToken[T]]:
        """Yield attempts until one validates: ``for seq in sl.read_loop(): x = seq.a``.

        The body runs once per attempt; after the loop, values from the last
        (validated) attempt are plain.  Kernel: the ``do { } while
        (read_seqretry())`` loop.
        """
        while True:
            seq = self.read_begin()
            yield seq
            if not seq.alive:  # the body called read_retry() itself
                if seq._attempt.state == _VALID:
                    return
                continue
            if not self.read_retry(seq):
                return

    # -- writer
    def write(self) -> SeqWriteGuard[T]:
        """Take the write side; return the guard through which fields are assigned.

        ``with sl.write() as w: w.sec = 1`` (or ``w.update(sec=1, nsec=2)``).
        If this thread has lockless read attempts open on this lock (the
        sdma_flush pattern: a reader that decides to write), they end here:
        they can no longer be validated, so their tentative values raise and
        a closure reader returns without retrying.

        Kernel: ``write_seqlock()``.  Rust: ``SeqLock::write()`` guard.
        C: ``kb_write_seqlock()``.
        Context: spins (GIL released in slices) while another writer or an
        exclusive reader holds the lock.

        Raises:
            DeadlockError: this thread already holds the write side (S09), or
                holds the lock as an exclusive reader (``lock_after``).
        """
        me = _tls.me
        if self._writer is me or self._excl is me:
            writing = self._writer is me
            what = "write side" if writing else "lock as an exclusive reader"
            raise DeadlockError(
                "take the write side of SeqLock again",
                f"this thread already holds its {what}, so it would wait for itself forever "
                "(MISUSE S09; the kernel's lockdep reports recursive locking)",
                guard=self._writer_name if writing else "the exclusive reader",
                created_at=self._writer_site if writing else None,
                sites=[("second write() at", Site.here(2))],
                hint="do all the updates inside one write section",
            )
        # As kbind.sync's _Lock._take: the C call runs in a C-only chain so
        # that ``taken`` records its success before Ctrl-C can be raised; the
        # guard is then recorded with stores only (``_writer_num``: the
        # commit), and an exception before the commit ends the write here.
        sl = self._sl
        taken: list[object] = []
        try:
            taken.extend(filter(_OK, map(lib.kb_write_seqlock_timeout, (sl,), (0,))))
            while not taken:
                taken.extend(filter(_OK, map(lib.kb_write_seqlock_timeout, (sl,), (_SLICE,))))
            guard: SeqWriteGuard[T] = SeqWriteGuard(self)
            name = guard.name
            self._writer_num = guard.number  # the commit: stores only from here on
            self._writer = me
            self._writer_name = name
            self._writer_site = guard.created_at
        except BaseException:
            if taken and self._writer_num == 0:
                lib.kb_write_sequnlock(sl)
            raise
        superseded = [a for a in self._readers if a.owner is me]
        opened = self._open.pop(me, None)
        if opened:
            superseded.extend(opened)
        for a in superseded:
            a.fail(
                f"was superseded by this thread's own write section ({guard.name})",
                guard.created_at,
            )
        return guard

    def _release_write(self) -> None:
        # Stores, then the C unlock as the one call (no Ctrl-C window between).
        self._writer_num = 0
        self._writer_name = ""
        self._writer_site = None
        self._writer = None
        lib.kb_write_sequnlock(self._sl)

    def update(self, **fields: int | bytes) -> None:
        """One write section assigning ``fields`` (all validated first: all or nothing)."""
        with self.write() as w:
            w.update(**fields)


# --------------------------------------------------------------------- views


class SeqView(NotClone, Generic[T]):
    """What a closure reader sees: ``view.<field>`` reads this attempt's snapshot.

    Kernel: the loads between ``read_seqbegin()`` and ``read_seqretry()``.
    Rust: the reference handed to the proposed ``SeqLock::read(|v| ...)``.

    Invariants:
        Usable only while its closure runs, on its thread (S02); values
        read from it are returned to the caller only if the attempt
        validated (S01).
    """

    __slots__ = ("_attempt", "_fields", "_kind", "_owner", "_q", "_words")

    def __init_subclass__(cls, _kbind_view: bool = False, **kwargs: Any) -> None:
        # Final to users like the other public types; each lock's layout has
        # its own view class (one property per field), made by _view_class().
        if not _kbind_view:
            raise TypeError(
                "cannot subclass kbind.seqlock.SeqView: kbind's primitives are final (Rust "
                "types cannot be extended); read what you need from the view inside fn"
            )
        super().__init_subclass__(**kwargs)

    _attempt: _Attempt
    _fields: dict[str, _Field]
    _kind: str
    _owner: ThreadToken
    _q: memoryview
    _words: _Words

    def __init__(
        self, kind: str, fields: dict[str, _Field], words: _Words, attempt: _Attempt
    ) -> None:
        # Plain slot stores: no __setattr__ override, so this stays cheap.
        # Assigning a field through a view fails (no such slot / read-only
        # property): readers never write.
        self._kind = kind
        self._fields = fields
        self._words = words
        self._q = words.q
        self._attempt = attempt
        self._owner = _tls.me

    def _check(self, name: str) -> None:
        a = self._attempt
        if a.closed or a.state == _FAILED:
            upgraded = a.state == _FAILED and not a.closed and a.ended_at is not None
            raise LifetimeError(
                f"read .{name} through a {self._kind} view",
                "this thread's own write section ended the read attempt; read through the write "
                "guard from here on"
                if upgraded
                else "the view belongs to a read attempt that has ended (MISUSE S02: protected "
                "data may be read only inside the reader)",
                guard=f"view of {a.label}",
                created_at=a.began_at,
                sites=[("attempt ended at", a.ended_at)]
                if upgraded and a.ended_at is not None
                else [],
                hint="return what you need from fn; do not keep the view",
            )
        if _tls.me is not self._owner:
            raise GuardError(
                f"read .{name} through a view on another thread",
                "a view belongs to the thread running the reader (Rust: !Send)",
                guard=f"view of {a.label}",
                created_at=a.began_at,
                hint="start a reader on the thread that needs the data",
            )

    def __getattr__(self, name: str) -> int | bytes:
        f = self._fields.get(name)
        if f is None:
            if name.startswith("_"):
                raise AttributeError(name)
            raise _no_field(f"{self._kind} view", name, self._fields)
        a = self._attempt
        if a.closed or a.state or _tls.me is not self._owner:
            self._check(name)
        if f.nbytes == 0:
            return int(self._q[f.offset])
        return self._words.get(f)

    @property
    def fields(self) -> T:
        """Every field of this attempt's snapshot, as a dict typed with the lock's spec."""
        a = self._attempt
        if a.closed or a.state or _tls.me is not self._owner:
            self._check("fields")
        return cast(T, {n: self._words.get(f) for n, f in self._fields.items()})


def _view_class(fields: dict[str, _Field]) -> type[SeqView[object]]:
    """Build a SeqView subclass with one property per field (no __getattr__ miss when reading)."""
    ns: dict[str, object] = {"__slots__": ()}
    for name, f in fields.items():
        ns[name] = property(_int_getter(name, f.offset) if f.nbytes == 0 else _bytes_getter(f))
    return type("SeqView", (SeqView,), ns, _kbind_view=True)


def _int_getter(name: str, offset: int) -> Callable[[SeqView[object]], int]:
    def get(self: SeqView[object]) -> int:
        a = self._attempt
        if a.closed or a.state or _tls.me is not self._owner:
            self._check(name)
        return int(self._q[offset])

    return get


def _bytes_getter(f: _Field) -> Callable[[SeqView[object]], bytes]:
    name = f.name

    def get(self: SeqView[object]) -> bytes:
        a = self._attempt
        if a.closed or a.state or _tls.me is not self._owner:
            self._check(name)
        return cast(bytes, self._words.get(f))

    return get


@final
class SeqReadToken(GuardBase, Generic[T]):
    """One attempt of an explicit-loop reader: ``seq.<field>`` returns a :class:`TentativeValue`.

    Kernel: the ``unsigned seq`` that ``read_seqbegin()`` returns.  Rust: a
    token bound to its lock by a lifetime.

    Invariants:
        Bound to one lock, one thread and one attempt (S08); fields readable
        until :meth:`SeqLock.read_retry` spends it.
    """

    __slots__ = ("_attempt", "_lock", "_words")
    _attempt: _Attempt
    _lock: SeqLock[T]
    _words: _Words
    KIND = "SeqReadToken"

    def __init__(self, lock: SeqLock[T]) -> None:
        super().__init__(depth=3)
        self._lock = lock
        self._words = lock._data.take()
        self._attempt = _Attempt(f"{self.name}", self.created_at, self.owner)

    @property
    def sequence(self) -> int:
        """The (even) sequence this attempt started at."""
        return int(self._words.seqp[0])

    def __getattr__(self, name: str) -> TentativeValue:
        if name.startswith("_"):
            raise AttributeError(name)
        f = self._lock._data.fields.get(name)
        if f is None:
            raise _no_field(self.name, name, self._lock._data.fields)
        if self.dropped_at is not None or _tls.me is not self.owner:
            op = f"read .{name} through {self.name}"  # formatted only for the error
            self.check_owner(op)
            self.check_alive(
                op, hint="read_retry() ended this attempt; begin a new one with read_begin()"
            )
        if self._attempt.state == _FAILED:
            raise TentativeValueError(
                f"read .{name} through {self.name}",
                f"the attempt {self._attempt.how}",
                guard=self.name,
                created_at=self.created_at,
                sites=[("attempt ended at", self._attempt.ended_at)]
                if self._attempt.ended_at
                else [],
                hint="begin a new attempt with read_begin() (or read through the write guard)",
            )
        return TentativeValue(self._words.get(f), (self._attempt,), Site.here(2))


@final
class SeqWriteGuard(GuardBase, Generic[T]):
    """Proof that this thread is inside a write section; fields are assigned through it.

    ``w.<field> = value`` stores with a marked access (validated first:
    ``TypeError``/``OverflowError``/``ValueError`` and nothing changes);
    ``w.<field>`` reads the current value.

    Kernel: the section between ``write_seqlock()`` and ``write_sequnlock()``.
    Rust: the proposed ``SeqLockWriteGuard``.  C: ``kb_write_seqlock()``.

    Invariants:
        While alive, this thread holds the lock and the sequence is odd.
    """

    __slots__ = ("_lock",)
    _lock: SeqLock[T]
    KIND = "SeqWriteGuard"

    def __init__(self, lock: SeqLock[T]) -> None:
        super().__init__(depth=3)
        object.__setattr__(self, "_lock", lock)

    def _live(self, op: str) -> None:
        self.check_owner(op)
        if self._lock._writer_num != self.number and self.dropped_at is None:
            object.__setattr__(self, "dropped_at", self.created_at)  # ended, site lost to Ctrl-C
        self.check_alive(op, hint="assign fields only inside the with block of sl.write()")

    def __getattr__(self, name: str) -> int | bytes:
        if name.startswith("_"):
            raise AttributeError(name)
        data = self._lock._data
        if name not in data.fields:
            raise _no_field(self.name, name, data.fields)
        self._live(f"read .{name} through {self.name}")
        return data.load(name)

    def __setattr__(self, name: str, value: object) -> None:
        if name in ("created_at", "dropped_at", "number", "owner"):
            object.__setattr__(self, name, value)
            return
        data = self._lock._data
        f = data.fields.get(name)
        if f is None:
            raise _no_field(self.name, name, data.fields)
        self._live(f"assign .{name} through {self.name}")
        data.store(name, f.check(value, "SeqLock"))

    def update(self, **fields: object) -> None:
        """Assign several fields; all are validated before any is stored."""
        self._live(f"update fields through {self.name}")
        data = self._lock._data
        checked: list[tuple[str, int | bytes]] = []
        for name, value in fields.items():
            f = data.fields.get(name)
            if f is None:
                raise _no_field(self.name, name, data.fields)
            checked.append((name, f.check(value, "SeqLock")))
        for name, v in checked:
            data.store(name, v)

    def unlock(self) -> None:
        """End the write section now.  Kernel: ``write_sequnlock()``."""
        self._end("")

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self.dropped_at is None:
            self._end("leaving its with block")

    def _end(self, how: str) -> None:
        lock = self._lock
        if _tls.me is not self.owner or lock._writer_num != self.number:
            # Raises (wrong thread, or twice), unless a Ctrl-C landed after
            # the section ended and before dropped_at was set: then it records it.
            self.mark_dropped("end the write section of", depth=3, how=how)
            return
        site = Site.here(3, how)
        # Stores, then the C unlock as the one call: a Ctrl-C cannot land
        # between the lock's bookkeeping (which decides whether the guard
        # is live: _live()) and the end of the write section.
        lock._writer_num = 0
        lock._writer_name = ""
        lock._writer_site = None
        lock._writer = None
        lib.kb_write_sequnlock(lock._sl)
        object.__setattr__(self, "dropped_at", site)

    def __del__(self) -> None:
        # A guard collected while its write section is open (its thread
        # exited, it was dropped on the floor, or Ctrl-C abandoned it before
        # it reached the caller): end the section, as LockGuard does (L10).
        # A guard abandoned half-built is not the recorded writer: nothing to do.
        try:
            lock = self._lock
            num = self.number
        except AttributeError:
            return
        if lock._writer_num != num:
            return
        lock._release_write()
        object.__setattr__(self, "dropped_at", self.created_at)
        warnings.warn(
            GuardLeakWarning(
                f"{self.name} was garbage-collected inside its write section; kbind ended "
                f"the section (the sequence is even again). The guard was created at "
                f"{self.created_at}. Use `with sl.write() as w:` or call w.unlock()."
            ),
            stacklevel=1,
        )


# --------------------------------------------------------------------- latch


@final
class SeqLatchWriteView(NotClone, Generic[T]):
    """The inactive copy of a :class:`SeqLatch`, handed to the ``fn`` of ``latch.write(fn)``.

    Reads give that copy's current values; assignments store into it.
    Readers are directed to the other copy meanwhile (S10).
    """

    __slots__ = ("_copy", "_dead", "_latch", "_site")
    _copy: int
    _dead: bool
    _latch: SeqLatch[T]
    _site: Site

    def __init__(self, latch: SeqLatch[T], copy: int, site: Site) -> None:
        object.__setattr__(self, "_latch", latch)
        object.__setattr__(self, "_copy", copy)
        object.__setattr__(self, "_site", site)
        object.__setattr__(self, "_dead", False)

    def _check(self, op: str) -> None:
        if self._dead:
            raise LifetimeError(
                op,
                f"copy {self._copy} is no longer inactive: the latch flipped and readers may "
                "be directed to it (MISUSE S10: only the copy readers are not using may change)",
                guard=f"write view of copy {self._copy}",
                created_at=self._site,
                hint="do all the changes inside fn; latch.write() applies fn to each copy in turn",
            )
        if self._latch._writer is not _tls.me:
            raise GuardError(op, "only the writing thread may use the write view")

    def __getattr__(self, name: str) -> int | bytes:
        if name.startswith("_"):
            raise AttributeError(name)
        data = self._latch._copies[self._copy]
        if name not in data.fields:
            raise _no_field("SeqLatch", name, data.fields)
        self._check(f"read .{name} of latch copy {self._copy}")
        return data.load(name)

    def __setattr__(self, name: str, value: object) -> None:
        data = self._latch._copies[self._copy]
        f = data.fields.get(name)
        if f is None:
            raise _no_field("SeqLatch", name, data.fields)
        self._check(f"assign .{name} of latch copy {self._copy}")
        data.store(name, f.check(value, "SeqLatch"))


@final
class SeqLatch(NotClone, Generic[T]):
    """Two copies of the fields and a latch sequence: readers never wait, not even for writers.

    ``latch.write(fn)`` flips readers to copy 1, applies ``fn`` to copy 0,
    flips them back to copy 0, applies ``fn`` to copy 1: at every moment one
    copy is complete and readers are directed to it.  ``latch.read(fn)``
    reads the copy the sequence's low bit selects and retries if the latch
    flipped meanwhile.  Readers may run on the writer's thread (the kernel
    uses latches for NMI readers that interrupt the writer).

    Kernel: ``seqcount_latch_t`` with ``raw_write_seqcount_latch()``,
    ``read_seqcount_latch()``, ``read_seqcount_latch_retry()``.  C:
    ``kb_seqcount_latch_t``.

    Invariants:
        ``fn`` only ever sees the copy readers are not directed to (S10);
        after ``write`` both copies are equal (``fn`` must be deterministic:
        ``ValueError`` otherwise, and the copies are made equal again).
    """

    __slots__ = ("__weakref__", "_copies", "_latch", "_lock", "_n", "_writer")
    _CLONE_ROLE = "owner"

    @overload
    def __init__(self: SeqLatch[dict[str, int | bytes]], /, **fields: int | bytes) -> None: ...

    @overload
    def __init__(self, spec: type[T], /, **fields: int | bytes) -> None: ...

    def __init__(self, spec: type[T] | None = None, /, **fields: int | bytes) -> None:
        layout, n = _layout("SeqLatch", dict(fields))
        if spec is not None:
            _check_spec(spec, layout, "SeqLatch")
        self._latch = ffi.new("kb_seqcount_latch_t *")
        lib.kb_seqcount_latch_init(self._latch)
        self._lock = ffi.new("kb_spinlock_t *")
        lib.kb_spin_lock_init(self._lock)
        self._copies = (_Data(layout, n), _Data(layout, n))
        self._n = n
        for copy in self._copies:
            for name, value in fields.items():
                copy.store(name, layout[name].check(value, "SeqLatch"))
        self._writer: ThreadToken | None = None

    @property
    def _data(self) -> _Data:
        return self._copies[0]

    @property
    def sequence(self) -> int:
        """The latch sequence; its low bit is the copy readers use."""
        return int(lib.kb_raw_read_seqcount_latch(self._latch))

    def read(self, fn: Callable[[SeqView[T]], R]) -> R:
        """Run ``fn(view)`` on the copy readers are directed to, until no flip overlapped.

        Kernel: ``do { seq = read_seqcount_latch(); idx = seq & 1; ... } while
        (read_seqcount_latch_retry())``.  C: ``kb_latch_snapshot_begin()``.
        Context: never waits for a writer; callable on the writer's thread.
        """
        c0, c1 = self._copies
        words = c0.take()
        site = Site.here(2)  # lazy: the line is worked out only if an error needs it
        n = 0
        try:
            while True:
                n += 1
                seq = lib.kb_latch_snapshot_begin(
                    self._latch, words.buf, c0.words, c1.words, self._n
                )
                attempt = _Attempt(f"latch read attempt {n}", site)
                view: SeqView[T] = c0.view_cls(  # type: ignore[assignment]
                    "SeqLatch", c0.fields, words, attempt
                )
                try:
                    result = fn(view)
                except BaseException:
                    attempt.closed = True
                    if not lib.kb_read_seqcount_latch_retry(self._latch, seq):
                        raise
                    continue
                attempt.closed = True
                if not lib.kb_read_seqcount_latch_retry(self._latch, seq):
                    return result
        finally:
            c0.give(words)

    def write(self, fn: Callable[[SeqLatchWriteView[T]], object]) -> None:
        """Apply ``fn(w)`` to each copy in turn, always the one readers are not using.

        ``fn`` runs twice (once per copy) and must make the same change both
        times.  If it raises on the first copy nothing changes; a
        difference between the copies afterwards raises ``ValueError``
        (copy 1 is reset to copy 0, so readers stay consistent).

        Kernel: ``write_seqcount_latch_begin()``; modify data[0];
        ``write_seqcount_latch()``; modify data[1]; ``write_seqcount_latch_end()``.

        Raises:
            DeadlockError: this thread is already inside ``write`` of this latch.
        """
        me = _tls.me
        if self._writer is me:
            raise DeadlockError(
                "call SeqLatch.write() inside SeqLatch.write()",
                "latch writers are serialized and this thread is already the writer (S09)",
                sites=[("nested write() at", Site.here(2))],
                hint="make all changes in the one fn",
            )
        site = Site.here(2)
        while lib.kb_spin_lock_timeout(self._lock, _WAIT_SLICE_NS) != lib.KB_OK:
            pass
        self._writer = me
        c0, c1 = self._copies
        try:
            # Readers -> copy 1; copy 0 is free to change.
            lib.kb_write_seqcount_latch_begin(self._latch)
            w0: SeqLatchWriteView[T] = SeqLatchWriteView(self, 0, site)
            try:
                fn(w0)
            except BaseException:
                object.__setattr__(w0, "_dead", True)
                # Undo: copy 0 := copy 1, then readers back to copy 0.
                self._copy_words(c1, c0)
                lib.kb_write_seqcount_latch(self._latch)
                raise
            object.__setattr__(w0, "_dead", True)
            # Readers -> copy 0 (updated); copy 1 is free to change.
            lib.kb_write_seqcount_latch(self._latch)
            w1: SeqLatchWriteView[T] = SeqLatchWriteView(self, 1, site)
            try:
                fn(w1)
            finally:
                object.__setattr__(w1, "_dead", True)
                differs = self._differs(c0, c1)
                if differs:
                    self._copy_words(c0, c1)
            lib.kb_write_seqcount_latch_end(self._latch)
            if differs:
                raise ValueError(
                    "SeqLatch.write(fn): fn made different changes to the two copies; fn runs "
                    "once per copy and must be deterministic (copy 1 was reset to copy 0)"
                )
        finally:
            self._writer = None
            lib.kb_spin_unlock(self._lock)

    def _copy_words(self, src: _Data, dst: _Data) -> None:
        tmp = ffi.new("int64_t[]", self._n)
        lib.kb_seq_words_load(tmp, src.words, self._n)
        lib.kb_seq_words_store(dst.words, tmp, self._n)

    def _differs(self, a: _Data, b: _Data) -> bool:
        ta = ffi.new("int64_t[]", self._n)
        tb = ffi.new("int64_t[]", self._n)
        lib.kb_seq_words_load(ta, a.words, self._n)
        lib.kb_seq_words_load(tb, b.words, self._n)
        return bytes(ffi.buffer(ta)) != bytes(ffi.buffer(tb))

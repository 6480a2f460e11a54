"""Sequence locks: ``SeqLock[T]`` with closure and loop readers, tentative values, ``SeqLatch[T]``.

Mirrors the kernel's include/linux/seqlock.h (C: csrc/engine/seqlock.c) and the
reader designs discussed for Rust-for-Linux, which has no merged seqlock
binding.  The protected fields live in C memory and are read and written
with marked accesses, so Python readers, Python writers and C threads race
for real: a reader that overlaps a writer really is rejected by the retry
check and really runs again.

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

Built on :mod:`kbind.lifetime`: every read attempt (a closure's, or a
:class:`SeqReadToken`) and every write section (:class:`SeqWriteGuard`, a
latch copy's :class:`SeqLatchWriteView`) is a :class:`~kbind.lifetime.Scope`
(begins once, ends exactly once, on its thread); views and tentative values
are checked against their attempt's scope.  The hot paths (``read``,
``read_begin``/``read_retry``, field reads, ``snapshot``, ``write`` and the
guard's fields) are C in ``kbind._bridge._hotpath`` (csrc/pyext/seqlock_read.c,
seqlock_write.c) and never release the GIL; what waits for a writer stays in
cffi here, with the GIL released and Ctrl-C let in between slices.  Errors
are built here, in Python, when a rule is broken.

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
  busted variants are exercised by :mod:`kbind.torture.seqlock`.
* S08: a token passed to another lock's ``read_retry``, reused, or used on
  another thread raises ``GuardError``.
* S10: ``SeqLatch.write`` only ever hands out the copy readers are not
  directed to; a stashed write view raises ``LifetimeError`` after the flip.
"""

from __future__ import annotations

import operator
import warnings
from collections.abc import Callable, Iterator
from typing import (
    TYPE_CHECKING,
    Any,
    ClassVar,
    Final,
    Generic,
    NoReturn,
    Self,
    TypeVar,
    cast,
    final,
    overload,
)

from kbind._bridge.guard import NotClone, Site, user_frame
from kbind._bridge.native import ffi, hot, lib
from kbind._bridge.site import _tls
from kbind.errors import (
    DeadlockError,
    GuardError,
    GuardLeakWarning,
    LifetimeError,
    TentativeValueError,
)
from kbind.lifetime import Scope

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
#: Picks a successful C status (KB_OK) out of a C-only call chain (see SeqLock._write_wait).
_OK: Final = lib.KB_OK.__eq__
#: Names a field may not take: they are methods or attributes of the views.
_RESERVED: Final = frozenset(
    {
        "fields",
        "update",
        "unlock",
        "name",
        "alive",
        "begun",
        "end",
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


class _Data:
    """The protected words in C memory and a pointer to each field."""

    __slots__ = ("codes", "fields", "n", "ptrs", "words")

    def __init__(self, fields: dict[str, _Field], n: int) -> None:
        self.fields = fields
        self.n = n
        self.words = ffi.new("int64_t[]", n)
        self.ptrs = {name: self.words + f.offset for name, f in fields.items()}
        #: each field's place for the C core: (nbytes << 32) | word offset
        self.codes = {name: (f.nbytes << 32) | f.offset for name, f in fields.items()}

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

    def decode(self, buf: Any) -> dict[str, int | bytes]:
        """Return the fields of a private copy of the words (a cffi ``int64_t[]``)."""
        raw = ffi.buffer(buf)
        return {
            name: int(buf[f.offset])
            if f.nbytes == 0
            else bytes(raw[f.offset * 8 : f.offset * 8 + f.nbytes])
            for name, f in self.fields.items()
        }


def _missing(owner: str, name: str, fields: dict[str, _Field]) -> AttributeError:
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


class _Attempt(hot.SeqAttempt, Scope):
    """One pass of a read-side critical section (a scope): its snapshot and outcome.

    Kernel: one pass of ``do { seq = read_seqbegin(); ... } while
    (read_seqretry(&sl, seq))``.  C (``kbind._bridge._hotpath.SeqAttempt``):
    ``_state`` (pending, valid, failed), ``_how``, ``_lock``, ``_start``, the
    snapshot; the scope begins when the attempt has sampled an even sequence
    and copied the words, and ends when its closure returns or
    ``read_retry()`` spends it.
    """

    __slots__ = ()
    #: The lock type named in its view's messages.
    _VIEW: ClassVar[str] = "SeqLock"

    @property
    def _label(self) -> str:
        return self.KIND

    @property
    def _ended_at(self) -> Site | None:
        raw = self._fail_raw
        return Site.from_raw(raw) if raw is not None else self.dropped_at


@final
class _ReadAttempt(_Attempt, kind="read attempt of SeqLock.read()"):
    __slots__ = ()


@final
class _LockedAttempt(_Attempt, kind="the locked attempt of SeqLock.read()"):
    __slots__ = ()


@final
class _LatchAttempt(_Attempt, kind="latch read attempt"):
    __slots__ = ()
    _VIEW = "SeqLatch"

    @property
    def _label(self) -> str:
        return f"latch read attempt {self._no}"


# ----------------------------------------------------------- tentative values


_Op = Callable[[object, object], object]
_LT: Final = cast(_Op, operator.lt)
_LE: Final = cast(_Op, operator.le)
_GT: Final = cast(_Op, operator.gt)
_GE: Final = cast(_Op, operator.ge)


def _raw(x: object) -> object:
    return x._use("compute with") if isinstance(x, TentativeValue) else x


@final
class TentativeValue(hot.TentativeCore):
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
    ownership class (Rust-for-Linux has no merged seqlock binding).  Made in
    C by ``seq.<field>`` (``kbind._bridge._hotpath.TentativeCore``: the value, its
    attempts, where it was read); what it does is here.

    Invariants:
        ``_attempts`` is every attempt the value depends on; the value is
        usable iff none of them failed.
    """

    __slots__ = ()

    # -- state
    @property
    def is_valid(self) -> bool:
        """True once every attempt it depends on validated."""
        return all(a._state == _VALID for a in self._attempts)

    @property
    def is_pending(self) -> bool:
        """True while some attempt it depends on is still open (and none failed)."""
        return not self.is_failed and any(a._state == _PENDING for a in self._attempts)

    @property
    def is_failed(self) -> bool:
        """True if some attempt it depends on failed its retry check."""
        return any(a._state == _FAILED for a in self._attempts)

    @property
    def read_at(self) -> Site:
        """Where the (first) underlying protected value was read."""
        site: Site = self._read_at
        return site

    def _use(self, op: str) -> int | bytes:
        for a in self._attempts:
            if a._state == _FAILED:
                sites: list[tuple[str, Site]] = [("attempt began at", a.created_at)]
                ended = a._ended_at
                if ended is not None:
                    sites.append((f"attempt {a._how} at", ended))
                raise TentativeValueError(
                    f"{op} a tentative value read in {a._label}",
                    f"the attempt {a._how}, so the value may be torn by a concurrent writer "
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
class SeqLock(hot.SeqCore, NotClone, Generic[T]):
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
    ``SeqLock<T>`` (Rust-for-Linux has no merged seqlock binding).  C:
    ``kb_seqlock_t``, ``kb_seqlock_init()``; the readers and ``write()`` are
    C methods (``kbind._bridge._hotpath``, csrc/pyext/seqlock_read.c).

    Invariants:
        The fields are written only inside a write section (the sequence is
        odd meanwhile), by the one thread holding the write side.  The lock
        records its write guard weakly (``_write_guard``), so an abandoned
        guard can be collected, and then ends its section.

    Examples:
        >>> from kbind.seqlock import SeqLock
        >>> clock = SeqLock(sec=0, nsec=0)
        >>> with clock.write() as w:
        ...     w.sec, w.nsec = 5, 500
        >>> clock.read(lambda v: v.sec * 1_000_000_000 + v.nsec)
        5000000500
    """

    __slots__ = ("__weakref__", "_data", "_sl", "_spec")

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
        words = self._data.words
        self._core_init(False, _addr(self._sl), _addr(words), 0, n, self._data.codes,
                        (self._sl, words))  # fmt: skip

    def __repr__(self) -> str:
        guard = self._write_guard
        state = f"write side held by thread {guard.owner.name!r}" if guard is not None else "idle"
        return f"<SeqLock fields=({', '.join(self._data.fields)}) {state}>"

    @property
    def field_names(self) -> tuple[str, ...]:
        """The names of the protected fields, in declaration order."""
        return tuple(self._data.fields)

    @property
    def sequence(self) -> int:
        """The current sequence (odd while a writer is inside); for diagnostics."""
        return int(lib.kb_raw_read_seqcount(ffi.addressof(self._sl, "seqcount")))

    # -- the readers and write(): C methods (see _READ_DOC ... _WRITE_DOC below)
    if TYPE_CHECKING:

        def read(self, fn: Callable[[SeqView[T]], R], *, lock_after: int | None = None) -> R:
            """Closure reader (C): see ``_READ_DOC``."""

        def read_begin(self) -> SeqReadToken[T]:
            """Begin a read attempt (C): see ``_READ_BEGIN_DOC``."""

        def read_retry(self, seq: SeqReadToken[T]) -> bool:
            """End an attempt (C): see ``_READ_RETRY_DOC``."""

        def snapshot(self) -> T:
            """Return a consistent copy of every field (C): see ``_SNAPSHOT_DOC``."""

        def write(self) -> SeqWriteGuard[T]:
            """Take the write side (C): see ``_WRITE_DOC``."""

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
                if seq._state == _VALID:
                    return
                continue
            if not self.read_retry(seq):
                return

    def update(self, **fields: int | bytes) -> None:
        """One write section assigning ``fields`` (all validated first: all or nothing)."""
        with self.write() as w:
            w.update(**fields)

    # -- the slow halves and refusals, called by the C methods

    def _wait_writer(self) -> None:
        # A writer is inside (odd sequence): wait for it in cffi (GIL released),
        # back in Python between slices so Ctrl-C gets in; C then samples again.
        start = ffi.new("uint32_t *")
        count = ffi.addressof(self._sl, "seqcount")
        while lib.kb_read_seqcount_begin_timeout(count, _WAIT_SLICE_NS, start) != lib.KB_OK:
            pass

    def _read_locked(self, fn: Callable[[SeqView[T]], R]) -> R:
        # read(fn, lock_after=n) after n torn attempts: read as an exclusive
        # reader (kernel: read_seqbegin_or_lock()'s locked pass); writers wait.
        sl = self._sl
        taken: list[object] = []
        try:
            while not taken:
                taken.extend(filter(_OK, map(lib.kb_read_seqlock_excl_timeout, (sl,), (_SLICE,))))
            self._excl = _tls.me
            result: R = hot.seq_read_locked(self, fn)
            return result
        finally:
            if taken:
                self._excl = None
                lib.kb_read_sequnlock_excl(sl)

    def _snapshot_wait(self) -> T:
        # snapshot() met a writer: the whole read loop in one cffi call (GIL released).
        data = self._data
        buf = ffi.new("int64_t[]", data.n)
        seqp = ffi.new("uint32_t *")
        while (
            lib.kb_seqlock_read_words(self._sl, buf, data.words, data.n, _SLICE, seqp, ffi.NULL)
            != lib.KB_OK
        ):
            pass
        return cast(T, data.decode(buf))

    def _write_wait(self) -> SeqWriteGuard[T]:
        # The contended half of write(): C's trylock failed.  Ctrl-C safety:
        # the C call runs inside ``list.extend(filter(..., map(...)))``, all C,
        # so ``taken`` records its success before Python can be interrupted;
        # seq_write_commit() then makes and records the guard in one C call
        # (it counts _writes first): an exception before that ends the write here.
        sl = self._sl
        committed = self._writes
        taken: list[object] = []
        try:
            while not taken:
                taken.extend(filter(_OK, map(lib.kb_write_seqlock_timeout, (sl,), (_SLICE,))))
            guard: SeqWriteGuard[T] = hot.seq_write_commit(self)
        except BaseException:
            if taken and self._writes == committed:
                lib.kb_write_sequnlock(sl)
            raise
        return guard

    def _refuse_reader(self, op: str) -> NoReturn:
        guard = self._write_guard
        raise DeadlockError(
            op,
            "this thread holds the write side, so the sequence stays odd until it ends and "
            "a lockless reader would spin forever (MISUSE S06; the kernel livelocks here)",
            guard=guard.name if guard is not None else "the write guard",
            created_at=guard.created_at if guard is not None else None,
            sites=[("reader started at", Site.from_frame(user_frame()))],
            hint="read through the write guard (w.<field>) while you hold it, or end the "
            "write section first",
        )

    def _refuse_write(self) -> NoReturn:
        guard = self._write_guard
        what = "write side" if guard is not None else "lock as an exclusive reader"
        raise DeadlockError(
            "take the write side of SeqLock again",
            f"this thread already holds its {what}, so it would wait for itself forever "
            "(MISUSE S09; the kernel's lockdep reports recursive locking)",
            guard=guard.name if guard is not None else "the exclusive reader",
            created_at=guard.created_at if guard is not None else None,
            sites=[("second write() at", Site.from_frame(user_frame()))],
            hint="do all the updates inside one write section",
        )

    def _refuse_retry(self, seq: SeqReadToken[T]) -> NoReturn:
        raise GuardError(
            f"check {seq.name} against another SeqLock",
            "a read token is bound to the lock whose read_begin() made it (MISUSE S08: the "
            "sequence of one lock says nothing about another)",
            guard=seq.name,
            created_at=seq.created_at,
            sites=[("read_retry() called at", Site.from_frame(user_frame()))],
            hint="call read_retry() on the lock you called read_begin() on",
        )


def _addr(p: Any) -> int:
    return int(ffi.cast("uintptr_t", p))


_READ_DOC: Final = """Run ``fn(view)`` in read attempts until one validates; return its result.

Each attempt begins a section and snapshots the fields (C, the engine's
marked loads), runs ``fn`` on the snapshot, and ends with the retry check.
If a writer overlapped, ``fn``'s result (or exception) is discarded and
``fn`` runs again: ``fn`` may run several times, so it must not have side
effects it cannot repeat (S03).  An exception from ``fn`` propagates only if
its attempt validated (a torn read may well raise).  The view dies when
``fn`` returns (S02).

``lock_after=n``: after ``n`` failed attempts, take the lock as an exclusive
reader (writers wait; the next attempt cannot fail), so incessant writers
cannot starve this reader.  ``lock_after=0`` reads under the lock at once.

A reader that itself writes (``with sl.write()`` inside ``fn``, the kernel's
sdma_flush pattern) upgrades: the write section serializes with every
writer, so the attempt ends there and ``read`` returns ``fn``'s result
without retrying; the view dies at the upgrade (read through the write
guard after it).  Not allowed under ``lock_after`` (the lock is already
held: ``DeadlockError``).

Kernel: ``do { seq = read_seqbegin(); ... } while (read_seqretry())``; with
``lock_after``: ``read_seqbegin_or_lock()``/``need_seqretry()``/
``done_seqretry()``.  Rust: the closure reader proposed for ``SeqLock<T>``
(no merged binding).  C: kbind._bridge._hotpath (``kb_raw_read_seqcount()``,
``kb_seq_words_load()``, ``kb_read_seqretry()``), ``kb_read_seqlock_excl()``.

Context: may wait (GIL released, in slices) while a writer is inside.

Raises:
    DeadlockError: the calling thread holds the write side (S06).
    ValueError: ``lock_after`` is negative.
"""

_READ_BEGIN_DOC: Final = """Begin a read attempt; return its token (``seq.<field>`` is tentative).

Use with :meth:`read_retry`::

    while True:
        seq = sl.read_begin()
        total = seq.a + seq.b          # TentativeValue
        if not sl.read_retry(seq):
            break
    print(int(total))                  # validated: a plain int

The token is a :class:`kbind.lifetime.Scope` bound to this lock, this
thread and this attempt (S08).  Kernel: ``read_seqbegin()``.  C:
kbind._bridge._hotpath (``kb_raw_read_seqcount()``, ``kb_seq_words_load()``).
Context: may wait (GIL released, in slices) while a writer is inside.

Raises:
    DeadlockError: the calling thread holds the write side (S06).
"""

_READ_RETRY_DOC: Final = """End the attempt ``seq``: True if it must be retried (its values torn).

After False, the attempt's tentative values are valid (plain values); after
True they raise :class:`kbind.TentativeValueError` when used.  Either way the
token is spent: its fields can no longer be read.

Kernel: ``read_seqretry()``.  C: ``kb_read_seqretry()`` (kbind._bridge._hotpath).

Raises:
    TypeError: ``seq`` is not a token.
    GuardError: the token belongs to another lock, was already retried, or
        belongs to another thread (S08).
"""

_SNAPSHOT_DOC: Final = """Return a consistent copy of every field, as a dict (typed ``T``).

The cheapest consistent read from Python: a few lockless passes in C (the
engine's marked loads and retry check); if a writer is inside, the whole
read loop runs in one cffi call (``kb_seqlock_read_words()``, GIL released).
Kernel: a ``read_seqbegin()`` loop around a memcpy().

Raises:
    DeadlockError: the calling thread holds the write side (S06).
"""

_WRITE_DOC: Final = """Take the write side; return the guard through which fields are assigned.

``with sl.write() as w: w.sec = 1`` (or ``w.update(sec=1, nsec=2)``).  If
this thread has lockless read attempts open on this lock (the sdma_flush
pattern: a reader that decides to write), they end here: they can no longer
be validated, so their tentative values raise and a closure reader returns
without retrying.

Kernel: ``write_seqlock()``.  Rust: the proposed ``SeqLock`` write guard (no
merged binding).  C: ``kb_spin_trylock()`` + ``kb_write_seqcount_begin()``
and the guard in one C call (kbind._bridge._hotpath); if the side is busy,
``kb_write_seqlock_timeout()`` in cffi.
Context: waits (GIL released, in slices) while another writer or an
exclusive reader holds the lock.

Raises:
    DeadlockError: this thread already holds the write side (S09), or holds
        the lock as an exclusive reader (``lock_after``).
"""

_LATCH_READ_DOC: Final = """Run ``fn(view)`` on the copy readers use, until no flip overlaps.

Kernel: ``do { seq = read_seqcount_latch(); idx = seq & 1; ... } while
(read_seqcount_latch_retry())``.  C: ``kb_latch_snapshot_begin()``,
``kb_read_seqcount_latch_retry()`` (kbind._bridge._hotpath).
Context: never waits for a writer; callable on the writer's thread.
"""


# --------------------------------------------------------------------- views


@final
class SeqView(hot.SeqViewCore, NotClone, Generic[T]):
    """What a closure reader sees: ``view.<field>`` reads this attempt's snapshot.

    Kernel: the loads between ``read_seqbegin()`` and ``read_seqretry()``.
    Rust: the reference handed to the proposed ``SeqLock::read(|v| ...)``
    (Rust-for-Linux has no merged seqlock binding).  C: kbind._bridge._hotpath's
    ``SeqViewCore`` reads the snapshot of its attempt (a scope) while the
    attempt is open, on its thread; assigning a field raises
    ``AttributeError`` (readers never write).

    Invariants:
        Usable only while its closure runs, on its thread (S02); values
        read from it are returned to the caller only if the attempt
        validated (S01).
    """

    __slots__ = ()
    if TYPE_CHECKING:

        @property
        def fields(self) -> T:
            """Every field of this attempt's snapshot, as a dict typed with the lock's spec."""
            ...

        def __getattr__(self, name: str) -> int | bytes: ...

    def _refuse(self, name: str) -> NoReturn:
        a = self._attempt
        if not a.alive or a._state:
            upgraded = a._state == _FAILED and a.alive
            ended = a._ended_at if upgraded else None
            raise LifetimeError(
                f"read .{name} through a {a._VIEW} view",
                "this thread's own write section ended the read attempt; read through the write "
                "guard from here on"
                if upgraded
                else "the view belongs to a read attempt that has ended (MISUSE S02: protected "
                "data may be read only inside the reader)",
                guard=f"view of {a._label}",
                created_at=a.created_at,
                sites=[("attempt ended at", ended)] if ended is not None else [],
                hint="return what you need from fn; do not keep the view",
            )
        raise GuardError(
            f"read .{name} through a view on another thread",
            "a view belongs to the thread running the reader (Rust: !Send)",
            guard=f"view of {a._label}",
            created_at=a.created_at,
            hint="start a reader on the thread that needs the data",
        )

    def _no_field(self, name: str) -> NoReturn:
        a = self._attempt
        raise _missing(f"{a._VIEW} view", name, a._lock._data.fields)


@final
class SeqReadToken(_Attempt, Generic[T], kind="SeqReadToken", keep_at_thread_exit=True):
    """One attempt of an explicit-loop reader: ``seq.<field>`` returns a :class:`TentativeValue`.

    Kernel: the ``unsigned seq`` that ``read_seqbegin()`` returns.  Rust: a
    token bound to its lock by a lifetime (Rust-for-Linux has no merged
    seqlock binding).  A :class:`kbind.lifetime.Scope`: begun by
    ``read_begin()``, ended by ``read_retry()`` (C, kbind._bridge._hotpath).  An
    abandoned token (the kernel's ``break`` out of the loop) is legal: it
    ends, silently, when it is collected; it outlives its thread unended.

    Invariants:
        Bound to one lock, one thread and one attempt (S08); fields readable
        until :meth:`SeqLock.read_retry` spends it.
    """

    __slots__ = ()
    if TYPE_CHECKING:

        def __getattr__(self, name: str) -> TentativeValue: ...

    @property
    def sequence(self) -> int:
        """The (even) sequence this attempt started at."""
        return int(self._start)

    @property
    def _label(self) -> str:
        return self.name

    def _refuse_field(self, name: str) -> NoReturn:
        op = f"read .{name} through {self.name}"
        self.check_owner(op)
        self.check_alive(
            op, hint="read_retry() ended this attempt; begin a new one with read_begin()"
        )
        ended = self._ended_at
        raise TentativeValueError(
            op,
            f"the attempt {self._how}",
            guard=self.name,
            created_at=self.created_at,
            sites=[("attempt ended at", ended)] if ended is not None else [],
            hint="begin a new attempt with read_begin() (or read through the write guard)",
        )

    def _no_field(self, name: str) -> NoReturn:
        raise _missing(self.name, name, self._lock._data.fields)

    def _kb_refuse(self, what: str, how: str) -> object:
        op = f"call read_retry() again (MISUSE S08: each token is checked once) with {self.name}"
        if what == "thread":
            self.check_owner(op)
        if what == "ended":
            raise GuardError(
                op,
                f"{self.name} was already dropped; a guard is dropped exactly once",
                guard=self.name,
                created_at=self.created_at,
                dropped_at=self.dropped_at,
                sites=[("second drop at", Site.from_frame(user_frame(), how))],
                hint="drop it either explicitly or by leaving its with block, not both",
            )
        return super()._kb_refuse(what, how)


# -------------------------------------------------------------------- writers


def _write_leaked(w: SeqWriteGuard[Any], ended: bool) -> None:
    # kbind.lifetime: a guard collected inside its write section (its thread
    # exited with it in a local, it was dropped on the floor, or Ctrl-C
    # abandoned it before it reached the caller).  C ended the section first.
    warnings.warn(
        GuardLeakWarning(
            f"{w.name} was garbage-collected inside its write section; kbind ended "
            f"the section (the sequence is even again). The guard was created at "
            f"{w.created_at}. Use `with sl.write() as w:` or call w.unlock()."
        ),
        stacklevel=1,
    )


class _Writer(hot.SeqWriterCore, Scope):
    """The C half's shared Python part: field values checked, missing fields named."""

    __slots__ = ()
    _OWNER: ClassVar[str]

    def _check_value(self, name: str, value: object) -> int | bytes:
        # Called by C for what its fast path does not take: S04's errors, or a
        # conversion (an __index__ int, a validated TentativeValue, bytearray).
        return cast(_Data, self._lock._data).fields[name].check(value, self._OWNER)

    def _no_field(self, name: str) -> NoReturn:
        raise _missing(self._where(), name, self._lock._data.fields)

    def _where(self) -> str:
        return self.name


@final
class SeqWriteGuard(
    _Writer, Generic[T], kind="SeqWriteGuard", end_anywhere=True, keep_at_thread_exit=True,
    on_leak=_write_leaked,
):  # fmt: skip
    """Proof that this thread is inside a write section; fields are assigned through it.

    ``w.<field> = value`` stores with a marked access (validated first:
    ``TypeError``/``OverflowError``/``ValueError`` and nothing changes);
    ``w.<field>`` reads the current value.

    Kernel: the section between ``write_seqlock()`` and ``write_sequnlock()``.
    Rust: the proposed ``SeqLockWriteGuard`` (Rust-for-Linux has no merged
    seqlock binding).  A :class:`kbind.lifetime.Scope` whose end (C,
    kbind._bridge._hotpath) records the end, then calls ``kb_write_sequnlock()``.

    Invariants:
        While alive, this thread holds the lock and the sequence is odd.
        Collected while alive, it ends the section and warns (L10:
        ``GuardLeakWarning``).
    """

    __slots__ = ()
    _OWNER = "SeqLock"
    if TYPE_CHECKING:

        def __enter__(self) -> Self: ...

        def __getattr__(self, name: str) -> int | bytes: ...

        def __setattr__(self, name: str, value: object) -> None: ...

    def _live(self, op: str) -> None:
        self.check_owner(op)
        self.check_alive(op, hint="assign fields only inside the with block of sl.write()")

    def _refuse_field(self, verb: str, name: str) -> None:
        self._live(f"{verb} .{name} through {self.name}")

    def update(self, **fields: object) -> None:
        """Assign several fields; all are validated before any is stored."""
        self._live(f"update fields through {self.name}")
        data: _Data = self._lock._data
        checked: list[tuple[str, int | bytes]] = []
        for name, value in fields.items():
            f = data.fields.get(name)
            if f is None:
                raise _missing(self.name, name, data.fields)
            checked.append((name, f.check(value, "SeqLock")))
        for name, v in checked:
            data.store(name, v)

    def unlock(self) -> None:
        """End the write section now.  Kernel: ``write_sequnlock()``."""
        self.end()

    def _kb_refuse(self, what: str, how: str) -> object:
        op = f"end the write section of {self.name}"
        if what == "thread":
            self.check_owner(op)
        if what == "ended":
            raise GuardError(
                op,
                f"{self.name} was already dropped; a guard is dropped exactly once",
                guard=self.name,
                created_at=self.created_at,
                dropped_at=self.dropped_at,
                sites=[("second drop at", Site.from_frame(user_frame(), how))],
                hint="drop it either explicitly or by leaving its with block, not both",
            )
        if what == "enter":
            self.check_alive(f"enter a with block on {self.name}")
        return super()._kb_refuse(what, how)


# --------------------------------------------------------------------- latch


@final
class SeqLatchWriteView(_Writer, Generic[T], kind="SeqLatchWriteView"):
    """The inactive copy of a :class:`SeqLatch`, handed to the ``fn`` of ``latch.write(fn)``.

    Reads give that copy's current values; assignments store into it.
    Readers are directed to the other copy meanwhile (S10).  A
    :class:`kbind.lifetime.Scope`, open while ``fn`` runs on that copy; its
    fields are the engine's marked accesses to that copy's words (C).

    Kernel: the ``data[0]``/``data[1]`` updates between
    ``write_seqcount_latch_begin()``, ``write_seqcount_latch()`` and
    ``write_seqcount_latch_end()``.  Rust: no binding.
    """

    __slots__ = ()
    _OWNER = "SeqLatch"
    if TYPE_CHECKING:

        def __getattr__(self, name: str) -> int | bytes: ...

        def __setattr__(self, name: str, value: object) -> None: ...

    def _where(self) -> str:
        return "SeqLatch"

    def _refuse_field(self, verb: str, name: str) -> None:
        op = f"{verb} .{name} of latch copy {self._copy}"
        if not self.alive:
            raise LifetimeError(
                op,
                f"copy {self._copy} is no longer inactive: the latch flipped and readers may "
                "be directed to it (MISUSE S10: only the copy readers are not using may change)",
                guard=f"write view of copy {self._copy}",
                created_at=self.created_at,
                hint="do all the changes inside fn; latch.write() applies fn to each copy in turn",
            )
        raise GuardError(op, "only the writing thread may use the write view")


def _closed(w: SeqLatchWriteView[Any]) -> None:
    if w.alive:
        w.end()


@final
class SeqLatch(hot.SeqCore, NotClone, Generic[T]):
    """Two copies of the fields and a latch sequence: readers never wait, not even for writers.

    ``latch.write(fn)`` flips readers to copy 1, applies ``fn`` to copy 0,
    flips them back to copy 0, applies ``fn`` to copy 1: at every moment one
    copy is complete and readers are directed to it.  ``latch.read(fn)``
    reads the copy the sequence's low bit selects and retries if the latch
    flipped meanwhile (C, kbind._bridge._hotpath).  Readers may run on the writer's
    thread (the kernel uses latches for NMI readers that interrupt the writer).

    Kernel: ``seqcount_latch_t`` with ``raw_write_seqcount_latch()``,
    ``read_seqcount_latch()``, ``read_seqcount_latch_retry()``.  Rust: no
    binding.  C: ``kb_seqcount_latch_t``.

    Invariants:
        ``fn`` only ever sees the copy readers are not directed to (S10);
        after ``write`` both copies are equal (``fn`` must be deterministic:
        ``ValueError`` otherwise, and the copies are made equal again).
    """

    __slots__ = ("__weakref__", "_copies", "_latch", "_latch_writer", "_lock", "_n")
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
        self._latch_writer: object = None
        w0, w1 = self._copies[0].words, self._copies[1].words
        self._core_init(True, _addr(self._latch), _addr(w0), _addr(w1), n, self._copies[0].codes,
                        (self._latch, w0, w1))  # fmt: skip

    if TYPE_CHECKING:

        def read(self, fn: Callable[[SeqView[T]], R]) -> R:
            """Closure reader (C): see ``_LATCH_READ_DOC``."""

    @property
    def _data(self) -> _Data:
        return self._copies[0]

    @property
    def sequence(self) -> int:
        """The latch sequence; its low bit is the copy readers use."""
        return int(lib.kb_raw_read_seqcount_latch(self._latch))

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
        if self._latch_writer is me:
            raise DeadlockError(
                "call SeqLatch.write() inside SeqLatch.write()",
                "latch writers are serialized and this thread is already the writer (S09)",
                sites=[("nested write() at", Site.here(2))],
                hint="make all changes in the one fn",
            )
        while lib.kb_spin_lock_timeout(self._lock, _WAIT_SLICE_NS) != lib.KB_OK:
            pass
        self._latch_writer = me
        c0, c1 = self._copies
        try:
            # Readers -> copy 1; copy 0 is free to change.
            lib.kb_write_seqcount_latch_begin(self._latch)
            w0: SeqLatchWriteView[T] = hot.seq_writer(SeqLatchWriteView, self, 0)
            try:
                fn(w0)
            except BaseException:
                _closed(w0)
                # Undo: copy 0 := copy 1, then readers back to copy 0.
                self._copy_words(c1, c0)
                lib.kb_write_seqcount_latch(self._latch)
                raise
            _closed(w0)
            # Readers -> copy 0 (updated); copy 1 is free to change.
            lib.kb_write_seqcount_latch(self._latch)
            w1: SeqLatchWriteView[T] = hot.seq_writer(SeqLatchWriteView, self, 1)
            try:
                fn(w1)
            finally:
                _closed(w1)
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
            self._latch_writer = None
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


# The readers and SeqLock.write() are C methods of kbind._bridge._hotpath
# (csrc/pyext/seqlock_read.c, seqlock_write.c), put in the classes here.
hot.bind_seqlock(
    SeqLock,
    SeqLatch,
    (
        _ReadAttempt,
        _LockedAttempt,
        _LatchAttempt,
        SeqReadToken,
        SeqView,
        TentativeValue,
        SeqWriteGuard,
    ),
    {
        "read": _READ_DOC,
        "read_begin": _READ_BEGIN_DOC,
        "read_retry": _READ_RETRY_DOC,
        "snapshot": _SNAPSHOT_DOC,
        "write": _WRITE_DOC,
        "latch_read": _LATCH_READ_DOC,
    },
    Site.from_raw,
)

"""``SeqLock[T]``: a sequence lock protecting a fixed set of fields in C memory.

Kernel: ``seqlock_t`` (``DEFINE_SEQLOCK``).  Rust: the proposed
``SeqLock<T>`` (Rust-for-Linux has no merged seqlock binding).  C:
``kb_seqlock_t``, ``kb_seqlock_init()`` (csrc/engine/seqlock.c).  The hot
paths (``read``, ``read_begin``/``read_retry``, ``snapshot``, ``write``) are
C methods of ``kbind._bridge._hotpath`` (csrc/pyext/seqlock_read.c,
seqlock_write.c), put in the class by kbind/seqlock/__init__.py with the
docstrings below (``_READ_DOC`` ...); they never release the GIL.  What
waits for a writer stays in cffi here, with the GIL released and Ctrl-C let
in between slices, and the errors for a broken rule are built here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import (
    TYPE_CHECKING,
    Any,
    ClassVar,
    Final,
    Generic,
    NoReturn,
    TypeVar,
    cast,
    final,
    overload,
)

from kbind._bridge.guard import NotClone, Site, user_frame
from kbind._bridge.native import ffi, hot, lib
from kbind._bridge.site import _tls
from kbind.errors import DeadlockError, GuardError
from kbind.seqlock.layout import _WAIT_SLICE_NS, _addr, _Data, _layout
from kbind.seqlock.read import SeqReadToken, SeqView
from kbind.seqlock.tentative import _VALID
from kbind.seqlock.write import SeqWriteGuard

T = TypeVar("T")
R = TypeVar("R")

#: Picks a successful C status (KB_OK) out of a C-only call chain (see _take).
_OK: Final = lib.KB_OK.__eq__


def _take(lock: Callable[[Any, int], object], sl: Any, taken: list[object]) -> None:
    """Call ``lock(sl, slice)`` (a cffi ``*_timeout`` lock) until it succeeds; ``taken`` says so.

    Ctrl-C safety: each call runs inside ``list.extend(filter(...,
    map(...)))``, all C, so ``taken`` records the success before Python can
    be interrupted; the caller's cleanup reads ``taken``.
    """
    while not taken:
        taken.extend(filter(_OK, map(lock, (sl,), (_WAIT_SLICE_NS,))))


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
        layout, n = _layout(self.KIND, spec, dict(fields))
        self._spec = spec
        self._sl = ffi.new("kb_seqlock_t *")
        lib.kb_seqlock_init(self._sl)
        self._data = _Data(layout, n)
        self._data.fill(fields, self.KIND)
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
            _take(lib.kb_read_seqlock_excl_timeout, sl, taken)
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
            lib.kb_seqlock_read_words(
                self._sl, buf, data.words, data.n, _WAIT_SLICE_NS, seqp, ffi.NULL
            )
            != lib.KB_OK
        ):
            pass
        return cast(T, data.decode(buf))

    def _write_wait(self) -> SeqWriteGuard[T]:
        # The contended half of write(): C's trylock failed.  Ctrl-C safety:
        # _take() records its success in ``taken`` before Python can be
        # interrupted; seq_write_commit() then makes and records the guard in
        # one C call (it counts _writes first): an exception before that ends
        # the write here.
        sl = self._sl
        committed = self._writes
        taken: list[object] = []
        try:
            _take(lib.kb_write_seqlock_timeout, sl, taken)
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

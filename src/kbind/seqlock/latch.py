"""``SeqLatch[T]``: two copies of the fields and a latch sequence; readers never wait.

Kernel: ``seqcount_latch_t`` with ``raw_write_seqcount_latch()``,
``read_seqcount_latch()``, ``read_seqcount_latch_retry()``.  Rust: no
binding.  C: ``kb_seqcount_latch_t`` (csrc/engine/seqlock.c).
``latch.write(fn)`` hands ``fn`` a ``SeqLatchWriteView`` of the copy
readers are not directed to (S10); ``latch.read(fn)`` is a C method of
``kbind._bridge._hotpath`` (csrc/pyext/seqlock_read.c), put in the class by
kbind/seqlock/__init__.py with ``_LATCH_READ_DOC`` below.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final, Generic, TypeVar, final, overload

from kbind._bridge.guard import NotClone, Site
from kbind._bridge.native import ffi, hot, lib
from kbind._bridge.site import _tls
from kbind.errors import DeadlockError, GuardError, LifetimeError
from kbind.seqlock.layout import _WAIT_SLICE_NS, _addr, _Data, _layout
from kbind.seqlock.read import SeqView
from kbind.seqlock.write import _Writer

T = TypeVar("T")
R = TypeVar("R")


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

    __slots__ = ("__weakref__", "_copies", "_latch", "_latch_write_site", "_latch_writer", "_lock")
    _CLONE_ROLE = "owner"

    @overload
    def __init__(self: SeqLatch[dict[str, int | bytes]], /, **fields: int | bytes) -> None: ...

    @overload
    def __init__(self, spec: type[T], /, **fields: int | bytes) -> None: ...

    def __init__(self, spec: type[T] | None = None, /, **fields: int | bytes) -> None:
        layout, n = _layout("SeqLatch", spec, dict(fields))
        self._latch = ffi.new("kb_seqcount_latch_t *")
        lib.kb_seqcount_latch_init(self._latch)
        self._lock = ffi.new("kb_spinlock_t *")
        lib.kb_spin_lock_init(self._lock)
        self._copies = (_Data(layout, n), _Data(layout, n))
        for copy in self._copies:
            copy.fill(fields, "SeqLatch")
        self._latch_writer: object = None
        self._latch_write_site: Site | None = None
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
            outer = self._latch_write_site
            began = [("the outer write() began at", outer)] if outer is not None else []
            raise DeadlockError(
                "call SeqLatch.write() inside SeqLatch.write()",
                "latch writers are serialized and this thread is already the writer (S09)",
                sites=[*began, ("nested write() at", Site.here(2))],
                hint="make all changes in the one fn",
            )
        while lib.kb_spin_lock_timeout(self._lock, _WAIT_SLICE_NS) != lib.KB_OK:
            pass
        self._latch_writer = me
        self._latch_write_site = Site.here(2)
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
        lib.kb_seq_words_store(dst.words, src.copy_words(), dst.n)

    def _differs(self, a: _Data, b: _Data) -> bool:
        return bytes(ffi.buffer(a.copy_words())) != bytes(ffi.buffer(b.copy_words()))


_LATCH_READ_DOC: Final = """Run ``fn(view)`` on the copy readers use, until no flip overlaps.

Kernel: ``do { seq = read_seqcount_latch(); idx = seq & 1; ... } while
(read_seqcount_latch_retry())``.  C: ``kb_latch_snapshot_begin()``,
``kb_read_seqcount_latch_retry()`` (kbind._bridge._hotpath).
Context: never waits for a writer; callable on the writer's thread.
"""

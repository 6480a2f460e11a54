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
cffi, with the GIL released and Ctrl-C let in between slices.  Errors are
built in Python, when a rule is broken.

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

The package's modules (this file re-exports their API and binds the C
methods):

* :mod:`kbind.seqlock.lock` -- ``SeqLock``;
* :mod:`kbind.seqlock.read` -- read attempts, ``SeqView``, ``SeqReadToken``;
* :mod:`kbind.seqlock.tentative` -- ``TentativeValue``;
* :mod:`kbind.seqlock.write` -- ``SeqWriteGuard``;
* :mod:`kbind.seqlock.latch` -- ``SeqLatch``, ``SeqLatchWriteView``;
* :mod:`kbind.seqlock.layout` -- the fields' places in C memory (S04).
"""

from __future__ import annotations

from kbind._bridge import present_as
from kbind._bridge.guard import Site
from kbind._bridge.native import hot
from kbind.seqlock.latch import _LATCH_READ_DOC, SeqLatch, SeqLatchWriteView
from kbind.seqlock.layout import FieldValue
from kbind.seqlock.lock import (
    _READ_BEGIN_DOC,
    _READ_DOC,
    _READ_RETRY_DOC,
    _SNAPSHOT_DOC,
    _WRITE_DOC,
    SeqLock,
)
from kbind.seqlock.read import (
    SeqReadToken,
    SeqView,
    _LatchAttempt,
    _LockedAttempt,
    _ReadAttempt,
)
from kbind.seqlock.tentative import TentativeValue
from kbind.seqlock.write import SeqWriteGuard

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

# The readers and SeqLock.write() are C methods of kbind._bridge._hotpath
# (csrc/pyext/seqlock_read.c, seqlock_write.c), put in the classes here, once
# every class is defined (it needs them all; the package runs this before any
# of its modules can be used).
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

present_as(__name__, globals(), __all__)

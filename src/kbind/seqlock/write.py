"""The write side of a ``SeqLock``: ``SeqWriteGuard``, and the part every writer shares.

Kernel: the section between ``write_seqlock()`` and ``write_sequnlock()``.
Rust: the proposed ``SeqLockWriteGuard`` (Rust-for-Linux has no merged
seqlock binding).  ``SeqLock.write()`` and the guard's fields are C
(``kbind._bridge._hotpath.SeqWriterCore``, csrc/pyext/seqlock_write.c);
here: the values C's fast path does not take (S04's errors, conversions),
missing fields named, the refusals, and the leak hook: a guard collected
inside its write section ends it and warns (L10: ``GuardLeakWarning``).
``_Writer`` is also the base of the latch's write view
(kbind/seqlock/latch.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, Final, Generic, NoReturn, Self, TypeVar, cast, final

from kbind._bridge.guard import leak_warning, refuse_as_guard
from kbind._bridge.native import hot
from kbind.lifetime import Scope
from kbind.seqlock.layout import _Data, _missing

T = TypeVar("T")


# kbind.lifetime: a guard collected inside its write section (its thread
# exited with it in a local, it was dropped on the floor, or Ctrl-C abandoned
# it before it reached the caller).  C ended the section first.
_write_leaked: Final = leak_warning(
    "inside its write section",
    "ended the section (the sequence is even again)",
    "Use `with sl.write() as w:` or call w.unlock().",
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
        refuse_as_guard(self, f"end the write section of {self.name}", what, how)
        return super()._kb_refuse(what, how)

"""Read attempts and what readers hold: ``SeqView`` (closure readers), ``SeqReadToken`` (loops).

Kernel: one pass of ``do { seq = read_seqbegin(); ... } while
(read_seqretry(&sl, seq))``; the ``unsigned seq`` that ``read_seqbegin()``
returns.  Rust: the reference handed to the proposed ``SeqLock::read(|v|
...)``, a token bound to its lock by a lifetime (Rust-for-Linux has no
merged seqlock binding).  Every attempt is a :class:`kbind.lifetime.Scope`
(C: ``kbind._bridge._hotpath.SeqAttempt``); the readers that make them
(``read``, ``read_begin``/``read_retry``, ``SeqLatch.read``) are C methods
of the lock classes (kbind/seqlock/lock.py, latch.py).  Here: the kinds of
attempts, the views and tokens, and the errors they raise when a rule is
broken (S01, S02, S08).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, Generic, NoReturn, TypeVar, final

from kbind._bridge.guard import NotClone, Site, refuse_as_guard
from kbind._bridge.native import hot
from kbind.errors import GuardError, LifetimeError, TentativeValueError
from kbind.lifetime import Scope
from kbind.seqlock.layout import _missing
from kbind.seqlock.tentative import _FAILED, TentativeValue

T = TypeVar("T")


# ------------------------------------------------------------------ attempts


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
        if what != "enter":  # a with block on an ended token gets the Scope's own refusal
            refuse_as_guard(self, op, what, how)
        return super()._kb_refuse(what, how)

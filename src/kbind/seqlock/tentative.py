"""Tentative values: what an explicit-loop reader's ``seq.<field>`` returns.

Paul E. McKenney's "tentatively readable" wish (blog post "Can Rust Code
Own Sequence Locks?", 2021), checked at run time: a :class:`TentativeValue`
is usable for computation and branching inside its read attempt, usable as
a plain value once ``read_retry`` validated it, and raises
:class:`kbind.TentativeValueError` (naming where it was read) if used after
the attempt failed (MISUSE S01).  Kernel: nothing (S01 is not caught in C).
Rust: a wished-for ownership class (Rust-for-Linux has no merged seqlock
binding).  Made in C by ``seq.<field>`` (``kbind._bridge._hotpath.TentativeCore``);
what it does is here, with the states of the attempts it depends on
(kbind/seqlock/read.py).
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Final, cast, final

from kbind._bridge.guard import Site
from kbind._bridge.native import hot
from kbind.errors import TentativeValueError

#: The state of a read attempt (``_Attempt._state``, set in C): open, validated, failed.
_PENDING: Final = 0
_VALID: Final = 1
_FAILED: Final = 2

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

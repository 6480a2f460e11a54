"""The field layout of a sequence lock: each field's place in the C word array, and the words.

Fields are 64-bit signed integers or fixed-size byte strings: nothing that
could be followed (MISUSE S04).  ``_Field`` checks a value before anything
is stored; ``_layout()`` places the fields a lock is built with (and checks
them against a ``TypedDict`` spec); ``_Data`` holds the protected words in
C memory and reads and writes them with the engine's marked accesses
(``kb_seq_word_read/write()``, ``kb_seq_bytes_load/store()``,
``kb_seq_words_load/store()``).  Shared by ``SeqLock`` (one copy,
kbind/seqlock/lock.py) and ``SeqLatch`` (two copies, kbind/seqlock/latch.py).

Kernel: the data a ``seqlock_t`` protects.  Rust: the fields of the struct
a proposed ``SeqLock<T>`` protects (Rust-for-Linux has no merged seqlock
binding).  C: ``int64_t[]`` words.
"""

from __future__ import annotations

import operator
from collections.abc import Mapping
from typing import Any, Final, cast, final

from kbind._bridge.native import ffi, lib
from kbind.seqlock.tentative import TentativeValue

#: What a field holds.
FieldValue = int | bytes

_MIN: Final = -(2**63)
_MAX: Final = 2**63 - 1
#: How long one C call may spin/yield before coming back to Python (which
#: then checks for signals and calls again).
_WAIT_SLICE_NS: Final = 50_000_000
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


def _layout(owner: str, spec: object, fields: dict[str, object]) -> tuple[dict[str, _Field], int]:
    """Place ``fields`` (name -> initial value) in a word array; return the places and the size.

    Each initial value is checked (it gives the field's kind); ``spec``, a
    ``TypedDict`` class or None, is checked against the fields.
    """
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
    if spec is not None:
        _check_spec(spec, layout, owner)
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

    def fill(self, values: Mapping[str, object], owner: str) -> None:
        """Store the initial ``values`` (each checked by its field first)."""
        for name, value in values.items():
            self.store(name, self.fields[name].check(value, owner))

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

    def copy_words(self) -> Any:
        """Return a private copy of the words (a cffi ``int64_t[]``; no writer may be inside)."""
        out = ffi.new("int64_t[]", self.n)
        lib.kb_seq_words_load(out, self.words, self.n)
        return out

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


def _addr(p: Any) -> int:
    """Return the address of cffi memory, as the C halves (``_core_init()``) take it."""
    return int(ffi.cast("uintptr_t", p))

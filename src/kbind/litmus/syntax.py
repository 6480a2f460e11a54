"""The syntax tree of a C litmus test, as the kernel's memory-model tests write them.

A test (``tools/memory-model/litmus-tests/*.litmus`` in the kernel tree, the
format of herdtools' ``herd7``/``klitmus7``) is a name, an optional comment
whose ``Result:`` line states the LKMM's verdict, an initial state, one
function per process and a final condition.  :mod:`kbind.litmus.parser`
builds these nodes; :mod:`kbind.litmus.cgen` translates them to C for the
hardware run.

The kernel primitives are resolved when parsed, as the LKMM's
``tools/memory-model/linux-kernel.def`` resolves them: every node below is
one of the model's event kinds (a load or store with its ordering, a fence,
a read-modify-write, a lock operation, an RCU or SRCU event), and keeps the
name the test used (``src``) and its line, for messages.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal, TypeAlias

__all__ = [
    "AddrOf",
    "Assign",
    "Binary",
    "Condition",
    "Const",
    "Expr",
    "ExprStmt",
    "Fence",
    "If",
    "InitItem",
    "LitmusTest",
    "Load",
    "Loc",
    "Lock",
    "PAnd",
    "PAtom",
    "PBool",
    "PNot",
    "POr",
    "Param",
    "Prop",
    "Reg",
    "RegLoc",
    "Rmw",
    "SpinQuery",
    "SrcuLock",
    "SrcuSync",
    "SrcuUnlock",
    "Stmt",
    "Store",
    "Thread",
    "Unary",
    "Unlock",
    "VarLoc",
    "VarType",
]

#: How a variable is declared: a plain ``int`` (or pointer) cell, ``atomic_t``,
#: ``spinlock_t`` or an SRCU domain (``struct srcu_struct``).
VarType: TypeAlias = Literal["int", "atomic_t", "spinlock_t", "srcu"]

#: A load's or store's ordering: ``plain`` (an unmarked C access), ``once``
#: (READ_ONCE/WRITE_ONCE, rcu_dereference), ``acquire``, ``release``.
AccessMode: TypeAlias = Literal["plain", "once", "acquire", "release"]

#: A read-modify-write's ordering: ``mb`` (fully ordered), ``relaxed``, ``acquire``, ``release``.
RmwMode: TypeAlias = Literal["mb", "relaxed", "acquire", "release"]

#: The LKMM's fence kinds (linux-kernel.def), RCU's read-side markers included.
FenceKind: TypeAlias = Literal[
    "mb",
    "rmb",
    "wmb",
    "before-atomic",
    "after-atomic",
    "after-spinlock",
    "after-unlock-lock",
    "barrier",
    "rcu-lock",
    "rcu-unlock",
    "sync-rcu",
]


@dataclass(frozen=True)
class Const:
    """An integer literal."""

    value: int
    line: int = 0


@dataclass(frozen=True)
class Reg:
    """A register: a process's local variable (``r0``)."""

    name: str
    line: int = 0


@dataclass(frozen=True)
class AddrOf:
    """The address of a shared variable: a parameter name ``x`` or ``&x``."""

    var: str
    line: int = 0


@dataclass(frozen=True)
class Unary:
    """``-e``, ``!e`` or ``~e``."""

    op: Literal["-", "!", "~"]
    operand: Expr
    line: int = 0


@dataclass(frozen=True)
class Binary:
    """An arithmetic, bitwise, comparison or logical operation of two expressions."""

    op: str
    left: Expr
    right: Expr
    line: int = 0


@dataclass(frozen=True)
class Load:
    """A load from the cell ``addr`` points to (``READ_ONCE(*x)``, ``smp_load_acquire(x)``).

    ``width`` is ``atomic_t`` for the ``atomic_read*()`` family.
    """

    addr: Expr
    mode: AccessMode
    src: str
    line: int = 0
    width: VarType = "int"


@dataclass(frozen=True)
class Rmw:
    """An atomic read-modify-write: ``xchg``, ``cmpxchg`` and the ``atomic_*`` operations.

    Attributes:
        op: ``xchg``, ``cmpxchg``, or the arithmetic ``add``, ``sub``, ``and``,
            ``or``, ``xor``, ``andnot``.
        mode: its ordering (a non-value-returning ``atomic_add()`` is ``relaxed``).
        addr: the cell.
        operands: ``xchg``: the new value; ``cmpxchg``: expected, new; the
            arithmetic operations: the operand (``inc``/``dec`` are add/sub 1).
        returns: ``none``, ``old`` (fetch_*, xchg, cmpxchg), ``new`` (*_return),
            ``zero`` (``*_and_test``: the new value is 0) or ``negative``
            (``add_negative``).
        src: the name the test used; its kbind C function is ``kb_`` + ``src``
            (``kb_atomic64_`` + the name for ``xchg``/``cmpxchg`` on an int).
        width: ``atomic_t`` or ``int``.
    """

    op: str
    mode: RmwMode
    addr: Expr
    operands: tuple[Expr, ...]
    returns: Literal["none", "old", "new", "zero", "negative"]
    src: str
    line: int = 0
    width: VarType = "int"


@dataclass(frozen=True)
class SpinQuery:
    """``spin_trylock(l)`` (1 when taken) or ``spin_is_locked(l)``."""

    kind: Literal["trylock", "is_locked"]
    addr: Expr
    line: int = 0


@dataclass(frozen=True)
class SrcuLock:
    """``srcu_read_lock(s)``: enters an SRCU read-side section; its value is the index."""

    domain: str
    line: int = 0


Expr: TypeAlias = Const | Reg | AddrOf | Unary | Binary | Load | Rmw | SpinQuery | SrcuLock


@dataclass(frozen=True)
class Assign:
    """``r = e;`` (also a declaration with an initializer)."""

    reg: str
    value: Expr
    line: int = 0


@dataclass(frozen=True)
class Store:
    """A store to the cell ``addr`` points to (``WRITE_ONCE(*x, v)``, ``smp_store_release``)."""

    addr: Expr
    value: Expr
    mode: AccessMode
    src: str
    line: int = 0
    width: VarType = "int"


@dataclass(frozen=True)
class Fence:
    """A fence or an RCU marker (``smp_mb()``, ``rcu_read_lock()``, ``synchronize_rcu()``)."""

    kind: FenceKind
    src: str
    line: int = 0


@dataclass(frozen=True)
class Lock:
    """``spin_lock(l)``."""

    addr: Expr
    line: int = 0


@dataclass(frozen=True)
class Unlock:
    """``spin_unlock(l)``."""

    addr: Expr
    line: int = 0


@dataclass(frozen=True)
class SrcuUnlock:
    """``srcu_read_unlock(s, idx)``."""

    domain: str
    index: Expr
    line: int = 0


@dataclass(frozen=True)
class SrcuSync:
    """``synchronize_srcu(s)`` (or its expedited form)."""

    domain: str
    src: str
    line: int = 0


@dataclass(frozen=True)
class ExprStmt:
    """An expression evaluated for its effect (``xchg(x, 1);``, ``spin_trylock(l);``)."""

    expr: Expr
    line: int = 0


@dataclass(frozen=True)
class If:
    """``if (cond) then else other``."""

    cond: Expr
    then: tuple[Stmt, ...]
    other: tuple[Stmt, ...]
    line: int = 0


Stmt: TypeAlias = Assign | Store | Fence | Lock | Unlock | SrcuUnlock | SrcuSync | ExprStmt | If


@dataclass(frozen=True)
class Param:
    """One parameter of a process: a shared variable and its declared type."""

    name: str
    type: VarType
    pointer_depth: int
    line: int = 0


@dataclass(frozen=True)
class Thread:
    """One process ``Pn(params) { body }``: its registers and statements."""

    index: int
    params: tuple[Param, ...]
    registers: tuple[str, ...]
    body: tuple[Stmt, ...]
    line: int = 0


@dataclass(frozen=True)
class VarLoc:
    """A shared variable named in a condition (``x=1`` is its final value)."""

    name: str

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True)
class RegLoc:
    """A register of a process named in a condition (``1:r0``)."""

    thread: int
    name: str

    def __str__(self) -> str:
        return f"{self.thread}:{self.name}"


Loc: TypeAlias = VarLoc | RegLoc


@dataclass(frozen=True)
class PAtom:
    """``loc=value`` (or ``loc!=value``): the value an int, a variable's address, or a register.

    ``0:r1=1:r4`` compares two registers' final values (herd7 allows it).
    """

    loc: Loc
    value: int | AddrOf | RegLoc
    negated: bool = False


@dataclass(frozen=True)
class PNot:
    """``~p``."""

    operand: Prop


@dataclass(frozen=True)
class PAnd:
    r"""``p /\\ q``."""

    left: Prop
    right: Prop


@dataclass(frozen=True)
class POr:
    r"""``p \\/ q``."""

    left: Prop
    right: Prop


@dataclass(frozen=True)
class PBool:
    """``true`` or ``false``."""

    value: bool


Prop: TypeAlias = PAtom | PNot | PAnd | POr | PBool


@dataclass(frozen=True)
class Condition:
    """The final condition: ``exists``, ``~exists`` or ``forall`` and its proposition."""

    quantifier: Literal["exists", "~exists", "forall"]
    prop: Prop
    line: int = 0


@dataclass(frozen=True)
class InitItem:
    """One item of the initial state: ``x=1``, ``y=&x`` (``y=x``) or ``0:r1=2``."""

    loc: Loc
    value: int | AddrOf
    line: int = 0


@dataclass(frozen=True)
class LitmusTest:
    """A parsed litmus test.

    Attributes:
        name: the name on the ``C`` line (``SB+fencembonceonces``).
        path: the file it came from (``""`` for text).
        result: the ``Result:`` of its comment (``Never``, ``Sometimes``,
            ``Always``), the LKMM's verdict for the condition, or None.
        comment: the ``(* ... *)`` comment's text.
        variables: every shared variable and its type, in order of appearance.
        init: the initial state (variables not named start at 0).
        threads: the processes, ``P0`` first.
        condition: the final condition.
        locations: extra locations whose final values are shown (``locations [...]``).
        filter: outcomes that do not satisfy it are left out (``filter (...)``).
    """

    name: str
    path: str
    result: Literal["Never", "Sometimes", "Always"] | None
    comment: str
    variables: dict[str, VarType]
    init: tuple[InitItem, ...]
    threads: tuple[Thread, ...]
    condition: Condition
    locations: tuple[Loc, ...] = ()
    filter: Prop | None = None
    source: str = field(default="", repr=False)

    @property
    def expects_data_race(self) -> bool:
        """Whether the ``Result:`` line adds ``DATARACE`` (``Result: Sometimes DATARACE``).

        The kernel's tools/memory-model/scripts/judgelitmus.sh reads it so: the
        model must then flag a data race, and its verdict is not judged (a racy
        test's outcome is undefined); without it, the model must flag none.
        """
        return self.result is not None and bool(_DATARACE.search(self.comment))

    @property
    def uses_rcu(self) -> bool:
        """Whether a process uses RCU (its threads must then be the engine's readers)."""
        return any(_uses_rcu(t.body) for t in self.threads)


_DATARACE = re.compile(r"Result:\s*(?:Never|Sometimes|Always)\s+DATARACE\b")


def walk(body: tuple[Stmt, ...]) -> list[Stmt]:
    """Return every statement of ``body``, those inside ``if``/``else`` included, in order."""
    out: list[Stmt] = []
    for st in body:
        out.append(st)
        if isinstance(st, If):
            out += walk(st.then) + walk(st.other)
    return out


def _uses_rcu(body: tuple[Stmt, ...]) -> bool:
    return any(
        isinstance(st, Fence) and st.kind in ("rcu-lock", "rcu-unlock", "sync-rcu")
        for st in walk(body)
    )

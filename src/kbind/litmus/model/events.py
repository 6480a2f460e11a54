"""Events of the LKMM and one process's executions (its traces).

Each primitive becomes the events ``linux-kernel.def`` and herd7 give it:
a read (``R``), a write (``W``) or a fence (``F``) with its tags (``once``,
``acquire``, ``release``, ``noreturn``, ``mb``), the lock events of
``lock.cat`` (``LKR``/``LKW`` for ``spin_lock()``, ``UL``, ``LF`` for a failed
``spin_trylock()``, ``RL``/``RU`` for ``spin_is_locked()``), RCU's fences
(``rcu-lock``, ``rcu-unlock``, ``sync-rcu``) and SRCU's events.  A fully
ordered RMW (``xchg()``, ``atomic_inc_return()``) is its read and write
between two ``mb`` fences, as explanation.txt describes it; a failed
``cmpxchg()`` is only a read, unordered.

A process runs concretely: every read takes one of the values its location
may hold (the caller's oracle), so one process has a set of traces, each
with its events, its dependencies (addr, data, ctrl, through registers) and
its registers' final values.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field

from kbind.litmus import syntax as s
from kbind.litmus.parser import LitmusUnsupportedError

__all__ = ["Ev", "Trace", "Value", "traces"]

#: A value: an integer or the name of the variable it points to.
Value = int | str


@dataclass(frozen=True)
class Ev:
    """One event of a process (or an initial write, thread -1).

    Attributes:
        kind: ``R``, ``W`` or ``F``.
        tags: herd's annotations and event classes: ``plain``, ``once``,
            ``acquire``, ``release``, ``noreturn``, ``rmw``, ``LKR``, ``LKW``,
            ``UL``, ``LF``, ``RL``, ``RU``, a fence's kind (``mb``, ``rmb``,
            ...), ``srcu-lock``, ``srcu-unlock``, ``sync-srcu``, ``IW``.
        loc: the variable accessed (an SRCU event: its domain), or None.
        value: the value read or written.
        thread: the process, -1 for an initial write.
        line: the source line.
        text: what the test wrote (``READ_ONCE``; ``xchg`` for its events).
    """

    kind: str
    tags: frozenset[str]
    loc: str | None
    value: Value
    thread: int
    line: int
    text: str


@dataclass
class Trace:
    """One execution of one process, given the values its reads return.

    Attributes:
        events: in program order.
        addr, data, ctrl: per event, the mask (over ``events``) of the reads
            its address, value, or a branch before it depends on.
        rmw: (read, write) index pairs of atomic operations, lock.cat's
            ``lk-rmw`` included.
        srcu_index: per ``srcu-unlock`` event, the mask of events its index
            came from (matching it to its ``srcu_read_lock()``).
        regs: every register's final value.
    """

    events: list[Ev] = field(default_factory=list)
    addr: list[int] = field(default_factory=list)
    data: list[int] = field(default_factory=list)
    ctrl: list[int] = field(default_factory=list)
    rmw: list[tuple[int, int]] = field(default_factory=list)
    srcu_index: dict[int, int] = field(default_factory=dict)
    regs: dict[str, Value] = field(default_factory=dict)


class _Need(Exception):
    """The oracle has no value for the next read: the caller branches."""

    def __init__(self, loc: str, choices: tuple[Value, ...]) -> None:
        self.loc = loc
        self.choices = choices


class _Fault(Exception):
    """The trace dereferences a value that is not an address: no such execution."""


def _arith(op: str, a: Value, b: Value, line: int, path: str) -> Value:
    if op == "==":
        return int(a == b)
    if op == "!=":
        return int(a != b)
    if op == "&&":
        return int(bool(a) and bool(b))
    if op == "||":
        return int(bool(a) or bool(b))
    if isinstance(a, str) or isinstance(b, str):
        raise LitmusUnsupportedError(path, line, f"pointer arithmetic ({op})")
    if op in ("/", "%") and b == 0:
        raise _Fault
    f: dict[str, Callable[[int, int], int]] = {
        "+": lambda x, y: x + y,
        "-": lambda x, y: x - y,
        "*": lambda x, y: x * y,
        "/": lambda x, y: int(x / y),
        "%": lambda x, y: x - y * int(x / y),
        "&": lambda x, y: x & y,
        "|": lambda x, y: x | y,
        "^": lambda x, y: x ^ y,
        "<<": lambda x, y: x << y,
        ">>": lambda x, y: x >> y,
        "<": lambda x, y: int(x < y),
        ">": lambda x, y: int(x > y),
        "<=": lambda x, y: int(x <= y),
        ">=": lambda x, y: int(x >= y),
    }
    if op not in f:
        raise LitmusUnsupportedError(path, line, f"operator {op}")
    return f[op](a, b)


_RMW_OPS: dict[str, Callable[[int, int], int]] = {
    "add": lambda x, y: x + y,
    "sub": lambda x, y: x - y,
    "and": lambda x, y: x & y,
    "or": lambda x, y: x | y,
    "xor": lambda x, y: x ^ y,
    "andnot": lambda x, y: x & ~y,
}


class _Run:
    """One concrete run of a process under an oracle of read values."""

    def __init__(
        self, thread: s.Thread, oracle: list[Value], values: Mapping[str, tuple[Value, ...]],
        regs: dict[str, Value], path: str, locks: frozenset[str],
    ) -> None:  # fmt: skip
        self.t = thread
        self.oracle = oracle
        self.next = 0
        self.values = values
        self.path = path
        self.locks = locks
        self.tr = Trace()
        self.regs: dict[str, tuple[Value, int]] = {r: (v, 0) for r, v in regs.items()}
        self.ctrl = 0

    def choose(self, loc: str, choices: tuple[Value, ...]) -> Value:
        if self.next < len(self.oracle):
            v = self.oracle[self.next]
            self.next += 1
            return v
        raise _Need(loc, choices)

    def emit(self, kind: str, tags: set[str] | frozenset[str], loc: str | None, value: Value,
             line: int, text: str, addr: int = 0, data: int = 0) -> int:  # fmt: skip
        tr = self.tr
        tr.events.append(Ev(kind, frozenset(tags), loc, value, self.t.index, line, text))
        tr.addr.append(addr)
        tr.data.append(data)
        tr.ctrl.append(self.ctrl)
        return len(tr.events) - 1

    def location(self, e: s.Expr, line: int) -> tuple[str, int]:
        v, taint = self.expr(e)
        if not isinstance(v, str):
            raise _Fault
        return v, taint

    def read(self, loc: str, mode: str, line: int, text: str, taint: int) -> tuple[Value, int]:
        if loc in self.locks:
            raise LitmusUnsupportedError(self.path, line, f"{text} of a spinlock")
        v = self.choose(loc, self.values.get(loc, (0,)))
        i = self.emit("R", {mode}, loc, v, line, text, addr=taint)
        return v, 1 << i

    def expr(self, e: s.Expr) -> tuple[Value, int]:
        if isinstance(e, s.Const):
            return e.value, 0
        if isinstance(e, s.Reg):
            return self.regs.get(e.name, (0, 0))
        if isinstance(e, s.AddrOf):
            return e.var, 0
        if isinstance(e, s.Unary):
            v, t = self.expr(e.operand)
            if isinstance(v, str):
                if e.op == "!":
                    return 0, t
                raise LitmusUnsupportedError(self.path, e.line, f"pointer arithmetic ({e.op})")
            return {"-": -v, "!": int(not v), "~": ~v}[e.op], t
        if isinstance(e, s.Binary):
            a, ta = self.expr(e.left)
            b, tb = self.expr(e.right)
            return _arith(e.op, a, b, e.line, self.path), ta | tb
        if isinstance(e, s.Load):
            loc, taint = self.location(e.addr, e.line)
            return self.read(loc, e.mode, e.line, e.src, taint)
        if isinstance(e, s.Rmw):
            return self.rmw(e)
        if isinstance(e, s.SpinQuery):
            return self.spin_query(e)
        # SrcuLock: its value is an index; only its data flow matters
        i = self.emit("F", {"srcu-lock"}, e.domain, 0, e.line, "srcu_read_lock")
        return 0, 1 << i

    def rmw(self, e: s.Rmw) -> tuple[Value, int]:
        loc, taint = self.location(e.addr, e.line)
        ops = [self.expr(o) for o in e.operands]
        old = self.choose(loc, self.values.get(loc, (0,)))
        if e.op == "cmpxchg" and old != ops[0][0]:
            i = self.emit("R", {"once"}, loc, old, e.line, e.src, addr=taint)
            return old, 1 << i
        if e.op in ("xchg", "cmpxchg"):
            new, dtaint = ops[-1]
        else:
            b, dtaint = ops[0]
            if isinstance(old, str) or isinstance(b, str):
                raise LitmusUnsupportedError(self.path, e.line, f"{e.src} on a pointer")
            new = _RMW_OPS[e.op](old, b)
        if e.mode == "mb":
            self.emit("F", {"mb", "rmw-mb"}, None, 0, e.line, e.src)
        rtags = {"acquire" if e.mode == "acquire" else "once", "rmw"}
        if e.returns == "none":
            rtags.add("noreturn")
        r = self.emit("R", rtags, loc, old, e.line, e.src, addr=taint)
        wtags = {"release" if e.mode == "release" else "once", "rmw"}
        w = self.emit("W", wtags, loc, new, e.line, e.src, addr=taint, data=dtaint)
        self.tr.rmw.append((r, w))
        if e.mode == "mb":
            self.emit("F", {"mb", "rmw-mb"}, None, 0, e.line, e.src)
        if e.returns == "old":
            out: Value = old
        elif e.returns == "new":
            out = new
        elif e.returns == "zero":
            out = int(new == 0)
        elif e.returns == "negative":
            out = int(isinstance(new, int) and new < 0)
        else:
            out = 0
        return out, 1 << r

    def lock(self, loc: str, line: int, text: str) -> None:
        r = self.emit("R", {"LKR", "acquire"}, loc, 0, line, text)
        w = self.emit("W", {"LKW"}, loc, 1, line, text)
        self.tr.rmw.append((r, w))

    def spin_query(self, e: s.SpinQuery) -> tuple[Value, int]:
        loc, _ = self.location(e.addr, e.line)
        if e.kind == "trylock":
            if self.choose(loc, (1, 0)):
                self.lock(loc, e.line, "spin_trylock")
                return 1, 0
            i = self.emit("R", {"LF"}, loc, 1, e.line, "spin_trylock")
            return 0, 1 << i
        held = self.choose(loc, (1, 0))
        i = self.emit("R", {"RL" if held else "RU"}, loc, int(bool(held)), e.line,
                      "spin_is_locked")  # fmt: skip
        return int(bool(held)), 1 << i

    def stmts(self, body: tuple[s.Stmt, ...]) -> None:
        for st in body:
            self.stmt(st)

    def stmt(self, st: s.Stmt) -> None:
        if isinstance(st, s.Assign):
            self.regs[st.reg] = self.expr(st.value)
        elif isinstance(st, s.ExprStmt):
            self.expr(st.expr)
        elif isinstance(st, s.Store):
            loc, taint = self.location(st.addr, st.line)
            if loc in self.locks:
                raise LitmusUnsupportedError(self.path, st.line, f"{st.src} to a spinlock")
            v, dt = self.expr(st.value)
            self.emit("W", {st.mode}, loc, v, st.line, st.src, addr=taint, data=dt)
        elif isinstance(st, s.Fence):
            self.emit("F", {st.kind}, None, 0, st.line, st.src)
        elif isinstance(st, s.Lock):
            self.lock(self.location(st.addr, st.line)[0], st.line, "spin_lock")
        elif isinstance(st, s.Unlock):
            loc, _ = self.location(st.addr, st.line)
            self.emit("W", {"UL", "release"}, loc, 0, st.line, "spin_unlock")
        elif isinstance(st, s.SrcuUnlock):
            _, t = self.expr(st.index)
            i = self.emit("F", {"srcu-unlock"}, st.domain, 0, st.line, "srcu_read_unlock")
            self.tr.srcu_index[i] = t
        elif isinstance(st, s.SrcuSync):
            self.emit("F", {"sync-srcu"}, st.domain, 0, st.line, st.src)
        else:  # If
            # A control dependency reaches the branch taken, not the code after the if
            # (explanation.txt, "CONTROL DEPENDENCIES"; herd7's C semantics).
            v, t = self.expr(st.cond)
            outer = self.ctrl
            self.ctrl |= t
            self.stmts(st.then if v else st.other)
            self.ctrl = outer

    def finish(self) -> Trace:
        self.tr.regs = {r: v for r, (v, _) in self.regs.items()}
        return self.tr


def traces(
    thread: s.Thread,
    values: Mapping[str, tuple[Value, ...]],
    regs: Mapping[str, Value],
    path: str,
    locks: frozenset[str],
    partial: list[Trace] | None = None,
) -> Iterator[Trace]:
    """Yield every execution of ``thread`` whose reads return values from ``values``.

    ``values`` maps a location to the values a read of it may return (the
    initial value and every value some process may store); ``regs`` holds
    the registers' initial values.  A trace that dereferences a non-address
    is no execution and is skipped; with ``partial``, the events it emitted
    before the fault are kept there (its writes still widen ``values``).

    Raises:
        LitmusUnsupportedError: the process does what the model does not support.
    """
    pending: list[list[Value]] = [[]]
    init = {r: 0 for r in thread.registers} | dict(regs)
    while pending:
        oracle = pending.pop()
        run = _Run(thread, oracle, values, dict(init), path, locks)
        try:
            run.stmts(thread.body)
        except _Need as need:
            for v in reversed(need.choices):
                pending.append([*oracle, v])
            continue
        except _Fault:
            if partial is not None:
                partial.append(run.tr)
            continue
        yield run.finish()

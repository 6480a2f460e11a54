"""The kernel primitives a C litmus test may call, resolved to the LKMM's event kinds.

As the LKMM's ``tools/memory-model/linux-kernel.def`` resolves them for herd7:
each call becomes a node of :mod:`kbind.litmus.syntax` (a load or store with
its ordering, a fence, a read-modify-write, a lock or an RCU/SRCU event), or
statements in order for a call with no value (:class:`StmtCall`).  Used by
:mod:`kbind.litmus.parser`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from kbind.litmus import syntax as s
from kbind.litmus.lexer import TokenStream

__all__ = ["ATOMIC", "CALLS", "MODES", "XCHG", "StmtCall", "atomic_call"]

FENCES: dict[str, s.FenceKind] = {
    "smp_mb": "mb",
    "smp_rmb": "rmb",
    "smp_wmb": "wmb",
    "smp_mb__before_atomic": "before-atomic",
    "smp_mb__after_atomic": "after-atomic",
    "smp_mb__after_spinlock": "after-spinlock",
    "smp_mb__after_unlock_lock": "after-unlock-lock",
    "barrier": "barrier",
    "rcu_read_lock": "rcu-lock",
    "rcu_read_unlock": "rcu-unlock",
    "synchronize_rcu": "sync-rcu",
    "synchronize_rcu_expedited": "sync-rcu",
}

MODES: dict[str, s.RmwMode] = {
    "": "mb",
    "_relaxed": "relaxed",
    "_acquire": "acquire",
    "_release": "release",
}
ARITH = "add|sub|inc|dec|and|or|xor|andnot"
ATOMIC = re.compile(
    rf"atomic_(?:(?P<void>{ARITH})"
    rf"|(?P<ret>add|sub|inc|dec)_return(?P<m1>_relaxed|_acquire|_release)?"
    rf"|fetch_(?P<fetch>{ARITH})(?P<m2>_relaxed|_acquire|_release)?"
    r"|(?P<x>xchg|cmpxchg)(?P<m3>_relaxed|_acquire|_release)?"
    r"|(?P<test>sub|dec|inc)_and_test"
    r"|add_negative(?P<m4>_relaxed|_acquire|_release)?)$"
)
XCHG = re.compile(r"(?P<x>xchg|cmpxchg)(?P<m>_relaxed|_acquire|_release)?$")


@dataclass(frozen=True)
class StmtCall:
    """A call with no value (``WRITE_ONCE``, ``smp_mb``): statements, in order."""

    name: str
    stmts: tuple[s.Stmt, ...]
    line: int


Handler = Callable[[TokenStream, str, list[s.Expr], int], "s.Expr | StmtCall"]


def _fence(p: TokenStream, name: str, args: list[s.Expr], line: int) -> StmtCall:
    p.arity(name, args, 0, line)
    return StmtCall(name, (s.Fence(FENCES[name], name, line),), line)


def _read_once(p: TokenStream, name: str, args: list[s.Expr], line: int) -> s.Expr:
    p.arity(name, args, 1, line)
    return s.Load(p.lvalue(name, args[0], line), "once", name, line)


def _write_once(p: TokenStream, name: str, args: list[s.Expr], line: int) -> StmtCall:
    p.arity(name, args, 2, line)
    addr = p.lvalue(name, args[0], line)
    mode: s.AccessMode = "release" if name == "rcu_assign_pointer" else "once"
    stmts: tuple[s.Stmt, ...] = (s.Store(addr, args[1], mode, name, line),)
    if name == "smp_store_mb":
        stmts += (s.Fence("mb", name, line),)
    return StmtCall(name, stmts, line)


def _load_acquire(p: TokenStream, name: str, args: list[s.Expr], line: int) -> s.Expr:
    p.arity(name, args, 1, line)
    return s.Load(args[0], "acquire", name, line)


def _store_release(p: TokenStream, name: str, args: list[s.Expr], line: int) -> StmtCall:
    p.arity(name, args, 2, line)
    return StmtCall(name, (s.Store(args[0], args[1], "release", name, line),), line)


def _spin(p: TokenStream, name: str, args: list[s.Expr], line: int) -> s.Expr | StmtCall:
    """Resolve an ``atomic_*()`` call that ``ATOMIC`` matched to its RMW (or void op)."""
    p.arity(name, args, 1, line)
    if name == "spin_lock":
        return StmtCall(name, (s.Lock(args[0], line),), line)
    if name == "spin_unlock":
        return StmtCall(name, (s.Unlock(args[0], line),), line)
    return s.SpinQuery("trylock" if name == "spin_trylock" else "is_locked", args[0], line)


def _srcu(p: TokenStream, name: str, args: list[s.Expr], line: int) -> s.Expr | StmtCall:
    if name == "srcu_read_lock":
        p.arity(name, args, 1, line)
        return s.SrcuLock(p.srcu_domain(name, args[0], line), line)
    if name == "srcu_read_unlock":
        p.arity(name, args, 2, line)
        return StmtCall(
            name, (s.SrcuUnlock(p.srcu_domain(name, args[0], line), args[1], line),), line
        )
    p.arity(name, args, 1, line)
    return StmtCall(name, (s.SrcuSync(p.srcu_domain(name, args[0], line), name, line),), line)


def _srcu_deref(p: TokenStream, name: str, args: list[s.Expr], line: int) -> s.Expr:
    p.arity(name, args, 2, line)
    p.srcu_domain(name, args[1], line)
    return s.Load(p.lvalue(name, args[0], line), "once", name, line)


CALLS: dict[str, Handler] = {
    **{f: _fence for f in FENCES},
    "READ_ONCE": _read_once,
    "rcu_dereference": _read_once,
    "WRITE_ONCE": _write_once,
    "rcu_assign_pointer": _write_once,
    "smp_store_mb": _write_once,
    "smp_load_acquire": _load_acquire,
    "smp_store_release": _store_release,
    "spin_lock": _spin,
    "spin_unlock": _spin,
    "spin_trylock": _spin,
    "spin_is_locked": _spin,
    "srcu_read_lock": _srcu,
    "srcu_read_unlock": _srcu,
    "synchronize_srcu": _srcu,
    "synchronize_srcu_expedited": _srcu,
    "srcu_dereference": _srcu_deref,
}


def atomic_call(
    p: TokenStream, name: str, m: re.Match[str], args: list[s.Expr], line: int
) -> s.Expr | StmtCall:
    """Resolve an ``atomic_*()`` call that ``ATOMIC`` matched to its RMW (or void op)."""

    def unit(op: str) -> tuple[str, bool]:  # inc/dec take no operand
        return {"inc": ("add", True), "dec": ("sub", True)}.get(op, (op, False))

    mode = MODES[m.group("m1") or m.group("m2") or m.group("m3") or m.group("m4") or ""]
    if m.group("x"):
        want = 2 if m.group("x") == "xchg" else 3
        p.arity(name, args, want, line)
        return s.Rmw(m.group("x"), mode, args[0], tuple(args[1:]), "old", name, line, "atomic_t")
    op_name = m.group("void") or m.group("ret") or m.group("fetch") or m.group("test") or "add"
    op, implicit = unit(op_name)
    p.arity(name, args, 1 if implicit else 2, line)
    operand = s.Const(1, line) if implicit else args[0]
    target = args[-1]
    if m.group("void"):
        rmw = s.Rmw(op, "relaxed", target, (operand,), "none", name, line, "atomic_t")
        return StmtCall(name, (s.ExprStmt(rmw, line),), line)
    if m.group("ret"):
        return s.Rmw(op, mode, target, (operand,), "new", name, line, "atomic_t")
    if m.group("fetch"):
        return s.Rmw(op, mode, target, (operand,), "old", name, line, "atomic_t")
    if m.group("test"):
        return s.Rmw(op, "mb", target, (operand,), "zero", name, line, "atomic_t")
    return s.Rmw("add", mode, target, (operand,), "negative", name, line, "atomic_t")


def _atomic_rw(p: TokenStream, name: str, args: list[s.Expr], line: int) -> s.Expr | StmtCall:
    if name in ("atomic_read", "atomic_read_acquire"):
        p.arity(name, args, 1, line)
        mode: s.AccessMode = "acquire" if name.endswith("acquire") else "once"
        return s.Load(args[0], mode, name, line, "atomic_t")
    p.arity(name, args, 2, line)
    mode = "release" if name.endswith("release") else "once"
    return StmtCall(name, (s.Store(args[0], args[1], mode, name, line, "atomic_t"),), line)


for _n in ("atomic_read", "atomic_read_acquire", "atomic_set", "atomic_set_release"):
    CALLS[_n] = _atomic_rw

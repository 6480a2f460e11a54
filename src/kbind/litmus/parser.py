"""A parser for C litmus tests in the format of the kernel's memory-model tests.

Reads what ``tools/memory-model/litmus-tests/*.litmus`` in the kernel tree
(and Paul McKenney's public ``litmus`` repository) write: the ``C name``
line, the ``(* ... *)`` comment and its ``Result:``, the ``{ ... }`` initial
state, the processes ``P0(int *x, int **y) { ... }`` (declarations,
assignments, ``if``/``else``, arithmetic on registers, loads and stores
through pointers, the kernel primitives of ``linux-kernel.def``) and the
``exists``/``~exists``/``forall``, ``locations`` and ``filter`` clauses.

A malformed file raises :class:`LitmusSyntaxError`; a construct this
project does not support (a loop, ``return``, an unknown primitive) raises
:class:`LitmusUnsupportedError`.  Both say the file, the line and what
was wrong, in one line.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, NoReturn, cast

from kbind.litmus import syntax as s

__all__ = [
    "LitmusError",
    "LitmusSyntaxError",
    "LitmusUnsupportedError",
    "parse",
    "parse_file",
]


class LitmusError(ValueError):
    """A litmus file that cannot be run: it names the file, the line and the problem."""

    def __init__(self, path: str, line: int, message: str) -> None:
        self.path = path or "<litmus>"
        self.line = line
        self.message = message
        super().__init__(f"{self.path}:{line}: {message}")


class LitmusSyntaxError(LitmusError):
    """The file is not a well-formed C litmus test."""


class LitmusUnsupportedError(LitmusError):
    """The file uses a construct kbind's litmus runner does not support (named in the message)."""

    def __init__(self, path: str, line: int, construct: str, why: str = "") -> None:
        self.construct = construct
        super().__init__(
            path, line, f"unsupported construct {construct!r}" + (f": {why}" if why else "")
        )


# ------------------------------------------------------------------ tokens


@dataclass(frozen=True)
class Tok:
    """One token: its kind (``id``, ``num``, ``op``, ``end``), text and line."""

    kind: str
    text: str
    line: int


_TOKEN = re.compile(
    r"(?P<ws>[ \t\r\n]+)"
    # "(*" opens an OCaml-style comment unless a dereference follows: READ_ONCE(*x)
    r"|(?P<comment>\(\*(?![\w(*]).*?\*\)|/\*.*?\*/|//[^\n]*)"
    r"|(?P<num>0[xX][0-9a-fA-F]+|\d+)(?![A-Za-z_])"
    r"|(?P<id>[A-Za-z_][A-Za-z_0-9]*)"
    r"|(?P<op>/\\|\\/|<<|>>|<=|>=|==|!=|&&|\|\||\+\+|--|\+=|-=|->|[-+*/%&|^~!<>=(){}\[\];,:.?])",
    re.S,
)

_UNSUPPORTED_KEYWORDS = {
    "while": "loops are not supported (a litmus test runs each process once, straight through)",
    "for": "loops are not supported",
    "do": "loops are not supported",
    "goto": "jumps are not supported",
    "return": "a process cannot return early",
    "switch": "use if/else",
    "break": "loops are not supported",
    "continue": "loops are not supported",
}

_TYPES_INT = {"int", "long", "unsigned", "signed", "short", "char", "u8", "u16", "u32", "u64",
              "s8", "s16", "s32", "s64", "intptr_t", "uintptr_t", "bool", "_Bool",
              "size_t"}  # fmt: skip
_QUALIFIERS = {"volatile", "const", "static", "register"}


def _tokens(text: str, path: str, first_line: int) -> list[Tok]:
    out: list[Tok] = []
    pos, line = 0, first_line
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m:
            raise LitmusSyntaxError(path, line, f"unexpected character {text[pos]!r}")
        kind = m.lastgroup or ""
        tok = m.group()
        if kind in ("num", "id", "op"):
            out.append(Tok(kind, tok, line))
        line += tok.count("\n")
        pos = m.end()
    out.append(Tok("end", "", line))
    return out


# ------------------------------------------------------------------ the parser

_RESULT = re.compile(r"Result:\s*(Never|Sometimes|Always)\b")

_FENCES: dict[str, s.FenceKind] = {
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

_MODES: dict[str, s.RmwMode] = {
    "": "mb",
    "_relaxed": "relaxed",
    "_acquire": "acquire",
    "_release": "release",
}
_ARITH = "add|sub|inc|dec|and|or|xor|andnot"
_ATOMIC = re.compile(
    rf"atomic_(?:(?P<void>{_ARITH})"
    rf"|(?P<ret>add|sub|inc|dec)_return(?P<m1>_relaxed|_acquire|_release)?"
    rf"|fetch_(?P<fetch>{_ARITH})(?P<m2>_relaxed|_acquire|_release)?"
    r"|(?P<x>xchg|cmpxchg)(?P<m3>_relaxed|_acquire|_release)?"
    r"|(?P<test>sub|dec|inc)_and_test"
    r"|add_negative(?P<m4>_relaxed|_acquire|_release)?)$"
)
_XCHG = re.compile(r"(?P<x>xchg|cmpxchg)(?P<m>_relaxed|_acquire|_release)?$")


class _Parser:
    def __init__(self, toks: list[Tok], path: str, variables: dict[str, s.VarType]) -> None:
        self.toks = toks
        self.i = 0
        self.path = path
        self.variables = variables
        self.params: dict[str, s.Param] = {}
        self.registers: dict[str, None] = {}

    # -- token helpers
    @property
    def tok(self) -> Tok:
        return self.toks[self.i]

    def peek(self, k: int = 1) -> Tok:
        return self.toks[min(self.i + k, len(self.toks) - 1)]

    def error(self, message: str, line: int | None = None) -> NoReturn:
        raise LitmusSyntaxError(self.path, self.tok.line if line is None else line, message)

    def unsupported(self, construct: str, why: str = "", line: int | None = None) -> NoReturn:
        raise LitmusUnsupportedError(
            self.path, self.tok.line if line is None else line, construct, why
        )

    def at(self, *texts: str) -> bool:
        return self.tok.kind in ("op", "id") and self.tok.text in texts

    def take(self) -> Tok:
        t = self.tok
        self.i += 1
        return t

    def expect(self, text: str, what: str = "") -> Tok:
        if not self.at(text):
            found = repr(self.tok.text) if self.tok.kind != "end" else "the end of the file"
            self.error(f"expected {text!r}{' ' + what if what else ''}, found {found}")
        return self.take()

    def ident(self, what: str) -> Tok:
        if self.tok.kind != "id":
            self.error(f"expected {what}, found {self.tok.text or 'the end of the file'!r}")
        return self.take()

    def number(self) -> int:
        neg = False
        if self.at("-"):
            self.take()
            neg = True
        if self.tok.kind != "num":
            self.error(f"expected a number, found {self.tok.text!r}")
        v = int(self.take().text, 0)
        return -v if neg else v

    # -- types
    def at_type(self) -> bool:
        return self.tok.kind == "id" and (
            self.tok.text in _TYPES_INT
            or self.tok.text in _QUALIFIERS
            or self.tok.text in ("atomic_t", "spinlock_t", "struct", "void")
            or self.tok.text.endswith("_t")
        )

    def type_spec(self) -> tuple[s.VarType, int]:
        """Parse a type and the ``*``s after it: (kind, pointer depth)."""
        line = self.tok.line
        words: list[str] = []
        while self.tok.kind == "id" and (self.at_type() or (words and words[-1] == "struct")):
            words.append(self.take().text)
        words = [w for w in words if w not in _QUALIFIERS]
        depth = 0
        while self.at("*"):
            self.take()
            depth += 1
        if not words:
            if self.tok.kind == "id":
                self.unsupported(
                    self.tok.text,
                    "the types supported are int (and the other "
                    "integer types), pointers to them, atomic_t, spinlock_t and "
                    "struct srcu_struct",
                    line,
                )
            self.error("expected a type")
        kind: s.VarType
        if words == ["atomic_t"]:
            kind = "atomic_t"
        elif words == ["spinlock_t"]:
            kind = "spinlock_t"
        elif words == ["struct", "srcu_struct"]:
            kind = "srcu"
        elif all(w in _TYPES_INT for w in words) or (words == ["void"] and depth):
            kind = "int"
        else:
            self.unsupported(
                " ".join(words),
                "the types supported are int (and the other "
                "integer types), pointers to them, atomic_t, spinlock_t and "
                "struct srcu_struct",
                line,
            )
        return kind, depth

    def declare_var(self, name: str, kind: s.VarType, line: int) -> None:
        old = self.variables.get(name)
        if old is not None and old != kind:
            self.error(f"{name} is declared {old} and {kind}", line)
        self.variables[name] = kind

    # -- the initial state
    def init_section(self) -> list[s.InitItem]:
        items: list[s.InitItem] = []
        self.expect("{", "(the initial state)")
        while not self.at("}"):
            if self.at(";"):
                self.take()
                continue
            line = self.tok.line
            if self.tok.kind == "num":  # 0:r1=2
                tid = int(self.take().text)
                self.expect(":")
                reg = self.ident("a register").text
                self.expect("=")
                items.append(s.InitItem(s.RegLoc(tid, reg), self.init_value(), line))
            else:
                kind: s.VarType = "int"
                if (
                    (self.at_type() and self.peek().kind != "op")
                    or self.at("struct")
                    or (self.at_type() and self.peek().text == "*")
                ):
                    kind, _ = self.type_spec()
                name = self.ident("a variable").text
                if self.at("["):
                    self.unsupported("array", "arrays are not supported; use one variable per cell")
                self.declare_var(name, kind, line)
                if self.at("="):
                    self.take()
                    items.append(s.InitItem(s.VarLoc(name), self.init_value(), line))
            if not self.at("}"):
                self.expect(";", "between items of the initial state")
        self.take()
        return items

    def init_value(self) -> int | s.AddrOf:
        line = self.tok.line
        if self.at("&"):
            self.take()
            name = self.ident("a variable").text
            self.variables.setdefault(name, "int")
            return s.AddrOf(name, line)
        if self.at("ATOMIC_INIT"):
            self.take()
            self.expect("(")
            v = self.number()
            self.expect(")")
            return v
        if self.tok.kind == "id":
            name = self.take().text
            self.variables.setdefault(name, "int")
            return s.AddrOf(name, line)
        return self.number()

    # -- processes
    def thread(self, index: int) -> s.Thread:
        line = self.tok.line
        self.params = {}
        self.registers = {}
        self.expect("(")
        params: list[s.Param] = []
        while not self.at(")"):
            pline = self.tok.line
            kind, depth = self.type_spec()
            name = self.ident("a parameter name").text
            if depth == 0:
                self.error(f"parameter {name} of P{index} must be a pointer (int *{name})", pline)
            self.declare_var(name, kind, pline)
            p = s.Param(name, kind, depth, pline)
            params.append(p)
            self.params[name] = p
            if not self.at(")"):
                self.expect(",", "between parameters")
        self.take()
        body = self.block()
        return s.Thread(index, tuple(params), tuple(self.registers), tuple(body), line)

    def block(self) -> list[s.Stmt]:
        self.expect("{")
        out: list[s.Stmt] = []
        while not self.at("}"):
            if self.tok.kind == "end":
                self.error("unterminated block: expected '}'")
            out.extend(self.statement())
        self.take()
        return out

    def statement(self) -> list[s.Stmt]:
        t = self.tok
        if t.kind == "id" and t.text in _UNSUPPORTED_KEYWORDS:
            self.unsupported(t.text, _UNSUPPORTED_KEYWORDS[t.text])
        if self.at(";"):
            self.take()
            return []
        if self.at("{"):
            return self.block()
        if self.at("if"):
            self.take()
            self.expect("(")
            cond = self.expr()
            self.expect(")")
            then = self.statement()
            other: list[s.Stmt] = []
            if self.at("else"):
                self.take()
                other = self.statement()
            return [s.If(cond, tuple(then), tuple(other), t.line)]
        if self.at_type() and not (self.peek().kind == "op" and self.peek().text == "("):
            return self.declaration()
        out = self.expr_statement()
        self.expect(";", "after a statement")
        return out

    def declaration(self) -> list[s.Stmt]:
        kind, _ = self.type_spec()
        if kind not in ("int",):
            self.unsupported(f"a local {kind}", "shared variables are the parameters of a process")
        out: list[s.Stmt] = []
        while True:
            line = self.tok.line
            while self.at("*"):
                self.take()
            name = self.ident("a register name").text
            if name in self.params:
                self.error(f"register {name} has the name of a parameter", line)
            self.registers[name] = None
            if self.at("="):
                self.take()
                out.append(s.Assign(name, self.expr(), line))
            if not self.at(","):
                break
            self.take()
        self.expect(";", "after a declaration")
        return out

    def expr_statement(self) -> list[s.Stmt]:
        line = self.tok.line
        # r++ / r-- / ++r
        if self.at("++", "--"):
            op = self.take().text
            name = self.ident("a register").text
            return [
                self.assign(name, s.Binary(op[0], s.Reg(name, line), s.Const(1, line), line), line)
            ]
        target = self.unary()
        if self.at("=", "+=", "-="):
            op = self.take().text
            value = self.expr()
            if op != "=":
                if not isinstance(target, s.Reg):
                    self.unsupported(op, "compound assignment only to a register", line)
                value = s.Binary(op[0], target, value, line)
            if isinstance(target, s.Reg):
                return [self.assign(target.name, value, line)]
            if isinstance(target, s.Load) and target.mode == "plain":
                return [s.Store(target.addr, value, "plain", "plain store", line)]
            if isinstance(target, s.AddrOf):
                self.unsupported(
                    f"{target.var} = ...",
                    f"{target.var} is a shared variable's "
                    f"address; store to it with WRITE_ONCE(*{target.var}, v)",
                    line,
                )
            self.error("the left side of '=' must be a register or *pointer", line)
        if self.at("++", "--"):
            op = self.take().text
            if not isinstance(target, s.Reg):
                self.unsupported(op, "increment only a register", line)
            return [self.assign(target.name, s.Binary(op[0], target, s.Const(1, line), line), line)]
        if isinstance(target, _StmtCall):
            return list(target.stmts)
        if isinstance(target, (s.Load, s.Rmw, s.SpinQuery, s.SrcuLock)):
            return [s.ExprStmt(target, line)]
        self.error("a statement must be an assignment or a call", line)

    def assign(self, name: str, value: s.Expr, line: int) -> s.Assign:
        if name in self.params or name in self.variables:
            self.unsupported(
                f"{name} = ...",
                f"{name} is a shared variable; store through it with WRITE_ONCE(*{name}, v)",
                line,
            )
        self.registers[name] = None
        return s.Assign(name, value, line)

    # -- expressions (C precedence)
    _LEVELS: tuple[tuple[str, ...], ...] = (
        ("||",), ("&&",), ("|",), ("^",), ("&",), ("==", "!="),
        ("<", ">", "<=", ">="), ("<<", ">>"), ("+", "-"), ("*", "/", "%"),
    )  # fmt: skip

    def expr(self) -> s.Expr:
        e = self.binary(0)
        if self.at("?"):
            self.unsupported("?:", "use if/else")
        return e

    def binary(self, level: int) -> s.Expr:
        if level == len(self._LEVELS):
            return self.value(self.unary())
        left = self.binary(level + 1)
        while self.tok.kind == "op" and self.tok.text in self._LEVELS[level]:
            op = self.take()
            right = self.binary(level + 1)
            left = s.Binary(op.text, self.value(left), right, op.line)
        return left

    def value(self, e: s.Expr | _StmtCall) -> s.Expr:
        if isinstance(e, _StmtCall):
            self.error(f"{e.name}() has no value", e.line)
        return e

    def unary(self) -> s.Expr | _StmtCall:
        t = self.tok
        if self.at("-", "!", "~"):
            self.take()
            op = cast(Literal["-", "!", "~"], t.text)
            operand = self.value(self.unary())
            if op == "-" and isinstance(operand, s.Const):
                return s.Const(-operand.value, t.line)
            return s.Unary(op, operand, t.line)
        if self.at("*"):
            self.take()
            return s.Load(self.value(self.unary()), "plain", "plain load", t.line)
        if self.at("&"):
            self.take()
            name = self.ident("a variable").text
            if name not in self.params and name not in self.variables:
                self.unsupported(f"&{name}", "only the address of a shared variable", t.line)
            return s.AddrOf(name, t.line)
        return self.primary()

    def primary(self) -> s.Expr | _StmtCall:
        t = self.tok
        if t.kind == "num":
            self.take()
            return s.Const(int(t.text, 0), t.line)
        if self.at("("):
            self.take()
            e = self.expr()
            self.expect(")")
            return e
        if t.kind == "id":
            self.take()
            if self.at("("):
                return self.call(t)
            if self.at("[", "->", "."):
                self.unsupported(
                    f"{t.text}{self.tok.text}", "arrays and structures are not supported"
                )
            if t.text in self.params or (t.text in self.variables and t.text not in self.registers):
                return s.AddrOf(t.text, t.line)
            if t.text in _UNSUPPORTED_KEYWORDS:
                self.unsupported(t.text, _UNSUPPORTED_KEYWORDS[t.text])
            self.registers.setdefault(t.text, None)
            return s.Reg(t.text, t.line)
        self.error(f"expected an expression, found {t.text or 'the end of the file'!r}")

    def args(self) -> list[s.Expr]:
        self.expect("(")
        out: list[s.Expr] = []
        while not self.at(")"):
            out.append(self.expr())
            if not self.at(")"):
                self.expect(",", "between arguments")
        self.take()
        return out

    def call(self, name_tok: Tok) -> s.Expr | _StmtCall:
        name, line = name_tok.text, name_tok.line
        args = self.args()
        handler = _CALLS.get(name)
        if handler is not None:
            return handler(self, name, args, line)
        m = _ATOMIC.match(name)
        if m:
            return _atomic(self, name, m, args, line)
        m = _XCHG.match(name)
        if m:
            mode = _MODES[m.group("m") or ""]
            want = 2 if m.group("x") == "xchg" else 3
            self.arity(name, args, want, line)
            return s.Rmw(m.group("x"), mode, args[0], tuple(args[1:]), "old", name, line)
        self.unsupported(
            f"{name}()",
            "not a kernel primitive this runner knows (docs/litmus.md lists them)",
            line,
        )

    def arity(self, name: str, args: list[s.Expr], n: int, line: int) -> None:
        if len(args) != n:
            self.error(f"{name}() takes {n} argument{'s' if n != 1 else ''}, not {len(args)}", line)

    def lvalue(self, name: str, arg: s.Expr, line: int) -> s.Expr:
        """``READ_ONCE(*x)``: the argument is ``*p``; return ``p``."""
        if isinstance(arg, s.Load) and arg.mode == "plain":
            return arg.addr
        self.error(f"{name}() takes an lvalue such as *x", line)

    def srcu_domain(self, name: str, arg: s.Expr, line: int) -> str:
        if isinstance(arg, s.AddrOf) and self.variables.get(arg.var) == "srcu":
            return arg.var
        self.error(f"{name}() takes a struct srcu_struct * parameter", line)


@dataclass(frozen=True)
class _StmtCall:
    """A call with no value (``WRITE_ONCE``, ``smp_mb``): statements, in order."""

    name: str
    stmts: tuple[s.Stmt, ...]
    line: int


_Handler = Callable[[_Parser, str, list[s.Expr], int], "s.Expr | _StmtCall"]


def _fence(p: _Parser, name: str, args: list[s.Expr], line: int) -> _StmtCall:
    p.arity(name, args, 0, line)
    return _StmtCall(name, (s.Fence(_FENCES[name], name, line),), line)


def _read_once(p: _Parser, name: str, args: list[s.Expr], line: int) -> s.Expr:
    p.arity(name, args, 1, line)
    return s.Load(p.lvalue(name, args[0], line), "once", name, line)


def _write_once(p: _Parser, name: str, args: list[s.Expr], line: int) -> _StmtCall:
    p.arity(name, args, 2, line)
    addr = p.lvalue(name, args[0], line)
    mode: s.AccessMode = "release" if name == "rcu_assign_pointer" else "once"
    stmts: tuple[s.Stmt, ...] = (s.Store(addr, args[1], mode, name, line),)
    if name == "smp_store_mb":
        stmts += (s.Fence("mb", name, line),)
    return _StmtCall(name, stmts, line)


def _load_acquire(p: _Parser, name: str, args: list[s.Expr], line: int) -> s.Expr:
    p.arity(name, args, 1, line)
    return s.Load(args[0], "acquire", name, line)


def _store_release(p: _Parser, name: str, args: list[s.Expr], line: int) -> _StmtCall:
    p.arity(name, args, 2, line)
    return _StmtCall(name, (s.Store(args[0], args[1], "release", name, line),), line)


def _spin(p: _Parser, name: str, args: list[s.Expr], line: int) -> s.Expr | _StmtCall:
    p.arity(name, args, 1, line)
    if name == "spin_lock":
        return _StmtCall(name, (s.Lock(args[0], line),), line)
    if name == "spin_unlock":
        return _StmtCall(name, (s.Unlock(args[0], line),), line)
    return s.SpinQuery("trylock" if name == "spin_trylock" else "is_locked", args[0], line)


def _srcu(p: _Parser, name: str, args: list[s.Expr], line: int) -> s.Expr | _StmtCall:
    if name == "srcu_read_lock":
        p.arity(name, args, 1, line)
        return s.SrcuLock(p.srcu_domain(name, args[0], line), line)
    if name == "srcu_read_unlock":
        p.arity(name, args, 2, line)
        return _StmtCall(
            name, (s.SrcuUnlock(p.srcu_domain(name, args[0], line), args[1], line),), line
        )
    p.arity(name, args, 1, line)
    return _StmtCall(name, (s.SrcuSync(p.srcu_domain(name, args[0], line), name, line),), line)


def _srcu_deref(p: _Parser, name: str, args: list[s.Expr], line: int) -> s.Expr:
    p.arity(name, args, 2, line)
    p.srcu_domain(name, args[1], line)
    return s.Load(p.lvalue(name, args[0], line), "once", name, line)


_CALLS: dict[str, _Handler] = {
    **{f: _fence for f in _FENCES},
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


def _atomic(
    p: _Parser, name: str, m: re.Match[str], args: list[s.Expr], line: int
) -> s.Expr | _StmtCall:
    def unit(op: str) -> tuple[str, bool]:  # inc/dec take no operand
        return {"inc": ("add", True), "dec": ("sub", True)}.get(op, (op, False))

    mode = _MODES[m.group("m1") or m.group("m2") or m.group("m3") or m.group("m4") or ""]
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
        return _StmtCall(name, (s.ExprStmt(rmw, line),), line)
    if m.group("ret"):
        return s.Rmw(op, mode, target, (operand,), "new", name, line, "atomic_t")
    if m.group("fetch"):
        return s.Rmw(op, mode, target, (operand,), "old", name, line, "atomic_t")
    if m.group("test"):
        return s.Rmw(op, "mb", target, (operand,), "zero", name, line, "atomic_t")
    return s.Rmw("add", mode, target, (operand,), "negative", name, line, "atomic_t")


def _atomic_rw(p: _Parser, name: str, args: list[s.Expr], line: int) -> s.Expr | _StmtCall:
    if name in ("atomic_read", "atomic_read_acquire"):
        p.arity(name, args, 1, line)
        mode: s.AccessMode = "acquire" if name.endswith("acquire") else "once"
        return s.Load(args[0], mode, name, line, "atomic_t")
    p.arity(name, args, 2, line)
    mode = "release" if name.endswith("release") else "once"
    return _StmtCall(name, (s.Store(args[0], args[1], mode, name, line, "atomic_t"),), line)


for _n in ("atomic_read", "atomic_read_acquire", "atomic_set", "atomic_set_release"):
    _CALLS[_n] = _atomic_rw


# ------------------------------------------------------------------ the tail: conditions


class _PropParser:
    def __init__(self, p: _Parser) -> None:
        self.p = p

    def disj(self) -> s.Prop:
        left = self.conj()
        while self.p.at("\\/"):
            self.p.take()
            left = s.POr(left, self.conj())
        return left

    def conj(self) -> s.Prop:
        left = self.atom()
        while self.p.at("/\\"):
            self.p.take()
            left = s.PAnd(left, self.atom())
        return left

    def atom(self) -> s.Prop:
        p = self.p
        if p.at("~", "!"):
            p.take()
            return s.PNot(self.atom())
        if p.at("("):
            p.take()
            inner = self.disj()
            p.expect(")")
            return inner
        if p.at("true", "false"):
            return s.PBool(p.take().text == "true")
        loc = self.loc()
        if p.at("!="):
            p.take()
            return s.PAtom(loc, self.value(), negated=True)
        p.expect("=", f"after {loc}")
        return s.PAtom(loc, self.value())

    def loc(self) -> s.Loc:
        p = self.p
        if p.tok.kind == "num":
            tid = int(p.take().text)
            p.expect(":")
            return s.RegLoc(tid, p.ident("a register").text)
        if p.tok.kind == "id" and re.fullmatch(r"P\d+", p.tok.text) and p.peek().text == ":":
            tid = int(p.take().text[1:])
            p.take()
            return s.RegLoc(tid, p.ident("a register").text)
        if p.at("*"):
            p.unsupported("*" + p.peek().text, "name the variable itself: x=1")
        if p.at("["):  # herd's [x] for a location
            p.take()
            name = p.ident("a variable").text
            p.expect("]")
            return s.VarLoc(name)
        return s.VarLoc(p.ident("a location (x or 0:r0)").text)

    def value(self) -> int | s.AddrOf:
        p = self.p
        if p.tok.kind == "id":
            t = p.take()
            return s.AddrOf(t.text, t.line)
        if p.at("&"):
            p.take()
            t = p.ident("a variable")
            return s.AddrOf(t.text, t.line)
        return p.number()


def _tail(p: _Parser) -> tuple[s.Condition | None, list[s.Loc], s.Prop | None]:
    cond: s.Condition | None = None
    locations: list[s.Loc] = []
    filt: s.Prop | None = None
    props = _PropParser(p)
    while p.tok.kind != "end":
        line = p.tok.line
        if p.at("locations"):
            p.take()
            p.expect("[")
            while not p.at("]"):
                locations.append(props.loc())
                if p.at(";", ","):
                    p.take()
            p.take()
        elif p.at("filter"):
            p.take()
            filt = props.disj()
        elif p.at("exists", "forall") or (p.at("~") and p.peek().text == "exists"):
            if cond is not None:
                p.error("a test has one final condition", line)
            if p.at("~"):
                p.take()
                p.take()
                quant: Literal["exists", "~exists", "forall"] = "~exists"
            else:
                quant = cast(Literal["exists", "forall"], p.take().text)
            cond = s.Condition(quant, props.disj(), line)
        elif p.tok.kind == "id" and re.fullmatch(r"P\d+", p.tok.text):
            p.error(f"process {p.tok.text} after the final condition")
        elif p.at(";"):
            p.take()
        else:
            p.error(f"expected exists, ~exists, forall, locations or filter, found {p.tok.text!r}")
    return cond, locations, filt


# ------------------------------------------------------------------ entry points


def parse(text: str, path: str = "") -> s.LitmusTest:
    """Parse the text of a C litmus test.

    Raises:
        LitmusSyntaxError: the text is not a well-formed test.
        LitmusUnsupportedError: it uses a construct the runner does not support.
    """
    lines = text.splitlines()
    first = 0
    while first < len(lines) and not lines[first].strip():
        first += 1
    if first == len(lines):
        raise LitmusSyntaxError(path, 1, "empty file: a litmus test starts with 'C name'")
    head = lines[first].split()
    if head[0] != "C":
        if len(head) == 2 and head[0] in (
            "X86",
            "X86_64",
            "AArch64",
            "ARM",
            "PPC",
            "RISCV",
            "LISA",
        ):
            raise LitmusUnsupportedError(
                path, first + 1, f"{head[0]} test", "only C litmus tests are supported"
            )
        raise LitmusSyntaxError(path, first + 1, "a litmus test starts with 'C name'")
    if len(head) < 2:
        raise LitmusSyntaxError(path, first + 1, "the 'C' line must name the test")
    name = head[1]
    rest = "\n".join(lines[first + 1 :])
    # The comment(s) and a quoted doc string before the initial state.
    comment_parts: list[str] = []
    body_start = 0
    for m in _iter_head(rest):
        comment_parts.append(m)
    comment = "\n".join(comment_parts)
    brace = _find_init(rest)
    if brace < 0:
        raise LitmusSyntaxError(
            path,
            first + 1 + rest.count("\n") + 1,
            "no initial state: expected '{ ... }' after the comment",
        )
    body_start = brace
    result_m = _RESULT.search(comment)
    result = cast(
        Literal["Never", "Sometimes", "Always"] | None, result_m.group(1) if result_m else None
    )
    line0 = first + 2 + rest[:body_start].count("\n")
    toks = _tokens(rest[body_start:], path, line0)
    variables: dict[str, s.VarType] = {}
    p = _Parser(toks, path, variables)
    init = p.init_section()
    threads: list[s.Thread] = []
    while p.tok.kind == "id" and (re.fullmatch(r"P\d+", p.tok.text) or p.at("void")):
        if p.at("void"):
            p.take()
        t = p.ident("a process")
        index = int(t.text[1:])
        if index != len(threads):
            p.error(f"expected P{len(threads)}, found {t.text}", t.line)
        threads.append(p.thread(index))
    if not threads:
        p.error("expected a process P0(...) { ... } after the initial state")
    if len(threads) > MAX_THREADS:
        raise LitmusUnsupportedError(
            path, threads[-1].line, f"{len(threads)} processes", f"at most {MAX_THREADS}"
        )
    cond, locations, filt = _tail(p)
    if cond is None:
        p.error("no final condition: expected exists (...), ~exists (...) or forall (...)")
    test = s.LitmusTest(name, path, result, comment, dict(variables), tuple(init), tuple(threads),
                        cond, tuple(locations), filt, text)  # fmt: skip
    _check(test)
    return test


#: The most processes a test may have (the hardware harness's limit).
MAX_THREADS = 8


def _iter_head(text: str) -> Iterator[str]:
    """Yield the texts of the comments before the initial state."""
    pos = 0
    while True:
        m = re.compile(r"\s*(\(\*.*?\*\)|\"[^\"]*\")", re.S).match(text, pos)
        if not m:
            return
        yield m.group(1).strip('(*)"')
        pos = m.end()


def _find_init(text: str) -> int:
    """Return where the initial state's ``{`` is (after the leading comments), or -1."""
    pos = 0
    pat = re.compile(r"\s*(\(\*.*?\*\)|\"[^\"]*\")", re.S)
    while True:
        m = pat.match(text, pos)
        if not m:
            break
        pos = m.end()
    m2 = re.compile(r"\s*\{").match(text, pos)
    return m2.end() - 1 if m2 else -1


def _check(test: s.LitmusTest) -> None:
    """Check what the grammar cannot: names in the condition and the initial state exist."""
    path = test.path
    regs = {t.index: set(t.registers) for t in test.threads}

    def check_loc(loc: s.Loc, line: int) -> None:
        if isinstance(loc, s.RegLoc):
            if loc.thread not in regs:
                raise LitmusSyntaxError(path, line, f"{loc}: the test has no process P{loc.thread}")
            if loc.name not in regs[loc.thread]:
                raise LitmusSyntaxError(
                    path, line, f"{loc}: P{loc.thread} has no register {loc.name}"
                )
        elif loc.name not in test.variables:
            raise LitmusSyntaxError(path, line, f"{loc.name} is not a variable of the test")
        elif test.variables[loc.name] in ("spinlock_t", "srcu"):
            raise LitmusUnsupportedError(
                path,
                line,
                f"{loc.name}={'...'}",
                f"the final value of a {test.variables[loc.name]} is not observable",
            )

    def check_prop(prop: s.Prop, line: int) -> None:
        if isinstance(prop, s.PAtom):
            check_loc(prop.loc, line)
            if isinstance(prop.value, s.AddrOf) and prop.value.var not in test.variables:
                raise LitmusSyntaxError(
                    path, line, f"{prop.value.var} is not a variable of the test"
                )
        elif isinstance(prop, s.PNot):
            check_prop(prop.operand, line)
        elif isinstance(prop, (s.PAnd, s.POr)):
            check_prop(prop.left, line)
            check_prop(prop.right, line)

    check_prop(test.condition.prop, test.condition.line)
    if test.filter is not None:
        check_prop(test.filter, test.condition.line)
    for loc in test.locations:
        check_loc(loc, test.condition.line)
    for item in test.init:
        if isinstance(item.loc, s.RegLoc) and item.loc.thread not in regs:
            raise LitmusSyntaxError(
                path, item.line, f"{item.loc}: the test has no process P{item.loc.thread}"
            )


def parse_file(path: str | Path) -> s.LitmusTest:
    """Read and parse a ``.litmus`` file (see :func:`parse`).

    Raises:
        OSError: the file cannot be read.
        LitmusSyntaxError, LitmusUnsupportedError: as :func:`parse`.
    """
    p = Path(path)
    return parse(p.read_text(encoding="utf-8", errors="replace"), str(path))

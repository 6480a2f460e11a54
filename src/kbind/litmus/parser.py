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
from pathlib import Path
from typing import Literal, cast

from kbind.litmus import syntax as s
from kbind.litmus.clauses import tail
from kbind.litmus.lexer import (
    LitmusError,
    LitmusSyntaxError,
    LitmusUnsupportedError,
    Tok,
    TokenStream,
    tokens,
)
from kbind.litmus.primitives import ATOMIC, CALLS, MODES, XCHG, StmtCall, atomic_call

__all__ = [
    "LitmusError",
    "LitmusSyntaxError",
    "LitmusUnsupportedError",
    "parse",
    "parse_file",
]


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


# ------------------------------------------------------------------ the parser

_RESULT = re.compile(r"Result:\s*(Never|Sometimes|Always)\b")


class _Parser(TokenStream):
    def __init__(self, toks: list[Tok], path: str, variables: dict[str, s.VarType]) -> None:
        super().__init__(toks, path, variables)
        self.params: dict[str, s.Param] = {}
        self.registers: dict[str, None] = {}

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
                if self.tok.kind == "num":  # int 0:r1; or int *1:r1 = x;
                    tid = int(self.take().text)
                    self.expect(":")
                    reg = self.ident("a register").text
                    if self.at("="):
                        self.take()
                        items.append(s.InitItem(s.RegLoc(tid, reg), self.init_value(), line))
                    if not self.at("}"):
                        self.expect(";", "between items of the initial state")
                    continue
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
        if isinstance(target, StmtCall):
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

    def value(self, e: s.Expr | StmtCall) -> s.Expr:
        if isinstance(e, StmtCall):
            self.error(f"{e.name}() has no value", e.line)
        return e

    def unary(self) -> s.Expr | StmtCall:
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

    def primary(self) -> s.Expr | StmtCall:
        t = self.tok
        if t.kind == "num":
            self.take()
            return s.Const(int(t.text, 0), t.line)
        if self.at("("):
            self.take()
            if (
                self.at_type()
                and self.tok.text not in self.registers
                and not (self.tok.text in self.params or self.tok.text in self.variables)
            ):  # a cast: (int)x, (char *)1, *(int **)y; the model and the C ignore it
                self.type_spec()
                self.expect(")", "after the type of a cast")
                return self.value(self.unary())
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

    def call(self, name_tok: Tok) -> s.Expr | StmtCall:
        name, line = name_tok.text, name_tok.line
        args = self.args()
        handler = CALLS.get(name)
        if handler is not None:
            return handler(self, name, args, line)
        m = ATOMIC.match(name)
        if m:
            return atomic_call(self, name, m, args, line)
        m = XCHG.match(name)
        if m:
            mode = MODES[m.group("m") or ""]
            want = 2 if m.group("x") == "xchg" else 3
            self.arity(name, args, want, line)
            return s.Rmw(m.group("x"), mode, args[0], tuple(args[1:]), "old", name, line)
        self.unsupported(
            f"{name}()",
            "not a kernel primitive this runner knows (docs/litmus.md lists them)",
            line,
        )


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
        if len(head) >= 2 and head[0] in (
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
    comment, body_start = _head(rest)
    if body_start < 0:
        raise LitmusSyntaxError(
            path,
            first + 1 + rest.count("\n") + 1,
            "no initial state: expected '{ ... }' after the comment",
        )
    result_m = _RESULT.search(comment)
    result = cast(
        Literal["Never", "Sometimes", "Always"] | None, result_m.group(1) if result_m else None
    )
    line0 = first + 2 + rest[:body_start].count("\n")
    toks = tokens(rest[body_start:], path, line0)
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
    cond, locations, filt = tail(p)
    if cond is None:
        p.error("no final condition: expected exists (...), ~exists (...) or forall (...)")
    test = s.LitmusTest(name, path, result, comment, dict(variables), tuple(init), tuple(threads),
                        cond, tuple(locations), filt, text)  # fmt: skip
    _check(test)
    return test


#: The most processes a test may have (the model's bound; the hardware harness
#: runs at most KB_LITMUS_MAX_THREADS of them).
MAX_THREADS = 16


#: What may come between the ``C`` line and the initial state: comments, the
#: quoted doc string, and the ``key=value`` lines diy7 writes (``Prefetch=...``,
#: ``Com=...``, ``Orig=...``; group 2, not kept).
_LEADING = re.compile(r"\s*(?:(\(\*.*?\*\)|\"[^\"]*\")|([A-Za-z][\w.-]*[ \t]*=[^\n{]*))", re.S)


def _head(text: str) -> tuple[str, int]:
    """Return the comments before the initial state, and where its ``{`` is (-1: none)."""
    parts: list[str] = []
    pos = 0
    while m := _LEADING.match(text, pos):
        if m.group(1):
            parts.append(m.group(1).strip('(*)"'))
        pos = m.end()
    brace = re.compile(r"\s*\{").match(text, pos)
    return "\n".join(parts), brace.end() - 1 if brace else -1


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
            if isinstance(prop.value, s.RegLoc):
                check_loc(prop.value, line)
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

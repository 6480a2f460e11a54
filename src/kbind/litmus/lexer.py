"""Tokens of a C litmus test, the errors that name a file and line, and reading tokens.

:class:`TokenStream` holds what every part of the parser shares (the
current token, expecting and taking tokens, the one-line errors);
:mod:`kbind.litmus.parser`, :mod:`kbind.litmus.primitives` and
:mod:`kbind.litmus.clauses` read a test through it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import NoReturn

from kbind.litmus import syntax as s

__all__ = [
    "LitmusError",
    "LitmusSyntaxError",
    "LitmusUnsupportedError",
    "Tok",
    "TokenStream",
    "tokens",
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
    # "(*" opens an OCaml-style comment unless it is a dereference: READ_ONCE(*x),
    # f(*r1, 2), *(*p), (**pp); "(*More precisely, ..." and "(* Cache, ...)" are comments
    r"|(?P<comment>\(\*(?!\w+\s*[),\[]|[(*]).*?\*\)|/\*.*?\*/|//[^\n]*)"
    r"|(?P<num>0[xX][0-9a-fA-F]+|\d+)(?![A-Za-z_])"
    r"|(?P<id>[A-Za-z_][A-Za-z_0-9]*)"
    r"|(?P<op>/\\|\\/|<<|>>|<=|>=|==|!=|&&|\|\||\+\+|--|\+=|-=|->|[-+*/%&|^~!<>=(){}\[\];,:.?])",
    re.S,
)


def tokens(text: str, path: str, first_line: int) -> list[Tok]:
    """Return the tokens of ``text`` (lines from ``first_line``), ending with an ``end`` token."""
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


class TokenStream:
    """The tokens of a test being read, with the helpers every part of the parser uses."""

    def __init__(self, toks: list[Tok], path: str, variables: dict[str, s.VarType]) -> None:
        self.toks = toks
        self.i = 0
        self.path = path
        self.variables = variables  # every shared variable and its type, as declared so far

    @property
    def tok(self) -> Tok:
        """Return the current token."""
        return self.toks[self.i]

    def peek(self, k: int = 1) -> Tok:
        """Return the token ``k`` ahead (the end token past the end)."""
        return self.toks[min(self.i + k, len(self.toks) - 1)]

    def error(self, message: str, line: int | None = None) -> NoReturn:
        """Raise LitmusSyntaxError at ``line`` (default: the current token's)."""
        raise LitmusSyntaxError(self.path, self.tok.line if line is None else line, message)

    def unsupported(self, construct: str, why: str = "", line: int | None = None) -> NoReturn:
        """Raise LitmusUnsupportedError naming ``construct``."""
        raise LitmusUnsupportedError(
            self.path, self.tok.line if line is None else line, construct, why
        )

    def at(self, *texts: str) -> bool:
        """Return whether the current token is one of ``texts``."""
        return self.tok.kind in ("op", "id") and self.tok.text in texts

    def take(self) -> Tok:
        """Return the current token and move past it."""
        t = self.tok
        self.i += 1
        return t

    def expect(self, text: str, what: str = "") -> Tok:
        """Take the token ``text``, or raise a syntax error saying what was found."""
        if not self.at(text):
            found = repr(self.tok.text) if self.tok.kind != "end" else "the end of the file"
            self.error(f"expected {text!r}{' ' + what if what else ''}, found {found}")
        return self.take()

    def ident(self, what: str) -> Tok:
        """Take an identifier, or raise a syntax error asking for ``what``."""
        if self.tok.kind != "id":
            self.error(f"expected {what}, found {self.tok.text or 'the end of the file'!r}")
        return self.take()

    def number(self) -> int:
        """Take an integer, with an optional minus sign."""
        neg = False
        if self.at("-"):
            self.take()
            neg = True
        if self.tok.kind != "num":
            self.error(f"expected a number, found {self.tok.text!r}")
        v = int(self.take().text, 0)
        return -v if neg else v

    def arity(self, name: str, args: list[s.Expr], n: int, line: int) -> None:
        """Refuse a call of ``name`` without exactly ``n`` arguments."""
        if len(args) != n:
            self.error(f"{name}() takes {n} argument{'s' if n != 1 else ''}, not {len(args)}", line)

    def lvalue(self, name: str, arg: s.Expr, line: int) -> s.Expr:
        """``READ_ONCE(*x)``: the argument is ``*p``; return ``p``."""
        if isinstance(arg, s.Load) and arg.mode == "plain":
            return arg.addr
        self.error(f"{name}() takes an lvalue such as *x", line)

    def srcu_domain(self, name: str, arg: s.Expr, line: int) -> str:
        """Return the SRCU domain ``arg`` names, or refuse it."""
        if isinstance(arg, s.AddrOf) and self.variables.get(arg.var) == "srcu":
            return arg.var
        self.error(f"{name}() takes a struct srcu_struct * parameter", line)

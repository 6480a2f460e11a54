r"""The clauses after the processes of a litmus test: ``locations``, ``filter`` and the condition.

``exists``, ``~exists`` or ``forall`` with a proposition of ``/\\``, ``\\/``,
``~``, ``N:rX=v``, ``x=v`` and ``!=`` terms, as herd7 reads them.  Used by
:mod:`kbind.litmus.parser`.
"""

from __future__ import annotations

import re
from typing import Literal, cast

from kbind.litmus import syntax as s
from kbind.litmus.lexer import TokenStream

__all__ = ["tail"]


class _PropParser:
    def __init__(self, p: TokenStream) -> None:
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
        if p.at("~", "!", "not"):  # herd7 spells negation ~ or not
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

    def value(self) -> int | s.AddrOf | s.RegLoc:
        p = self.p
        if p.tok.kind == "num" and p.peek().text == ":":  # 0:r1=0:r4, another register
            tid = int(p.take().text)
            p.take()
            return s.RegLoc(tid, p.ident("a register").text)
        if p.tok.kind == "id":
            t = p.take()
            return s.AddrOf(t.text, t.line)
        if p.at("&"):
            p.take()
            t = p.ident("a variable")
            return s.AddrOf(t.text, t.line)
        return p.number()


def tail(p: TokenStream) -> tuple[s.Condition | None, list[s.Loc], s.Prop | None]:
    """Parse the clauses after the processes: (condition or None, locations, filter or None)."""
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

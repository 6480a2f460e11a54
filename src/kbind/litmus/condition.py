"""The final condition of a litmus test: rendering it and evaluating it on an outcome.

An outcome maps each observed location (``0:r0``, ``x``) to its final value:
an ``int``, or the name of the variable whose address it holds (``"x"``), as
herd7 prints pointer values.  The hardware runner and the LKMM evaluator
judge outcomes with the same function, :func:`holds`.
"""

from __future__ import annotations

from collections.abc import Mapping

from kbind.litmus import syntax as s

__all__ = ["Value", "holds", "render", "render_value"]

#: A final value: an integer, or the name of the variable it points to.
Value = int | str


def render_value(v: Value | s.AddrOf | s.RegLoc) -> str:
    """Return a value as a condition writes it."""
    if isinstance(v, s.AddrOf):
        return v.var
    return str(v)


def render(p: s.Prop) -> str:
    r"""Return the proposition in the litmus syntax (``0:r0=0 /\\ 1:r0=0``)."""
    if isinstance(p, s.PAtom):
        return f"{p.loc}{'!=' if p.negated else '='}{render_value(p.value)}"
    if isinstance(p, s.PNot):
        return f"~{_paren(p.operand)}"
    if isinstance(p, s.PAnd):
        return f"{_paren(p.left, s.POr)} /\\ {_paren(p.right, s.POr)}"
    if isinstance(p, s.POr):
        return f"{render(p.left)} \\/ {render(p.right)}"
    return "true" if p.value else "false"


def _paren(p: s.Prop, *kinds: type) -> str:
    text = render(p)
    if isinstance(p, (s.PAnd, s.POr)) and (not kinds or isinstance(p, kinds)):
        return f"({text})"
    return text


def holds(p: s.Prop, outcome: Mapping[s.Loc, Value]) -> bool:
    """Whether the proposition is true of the outcome (every location it names is in it).

    Raises:
        KeyError: the outcome lacks a location the proposition names.
    """
    if isinstance(p, s.PAtom):
        v = p.value
        want = v.var if isinstance(v, s.AddrOf) else outcome[v] if isinstance(v, s.RegLoc) else v
        return (outcome[p.loc] == want) != p.negated
    if isinstance(p, s.PNot):
        return not holds(p.operand, outcome)
    if isinstance(p, s.PAnd):
        return holds(p.left, outcome) and holds(p.right, outcome)
    if isinstance(p, s.POr):
        return holds(p.left, outcome) or holds(p.right, outcome)
    return p.value

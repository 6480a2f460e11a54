"""The final condition of a litmus test: rendering it and evaluating it on an outcome.

An outcome maps each observed location (``0:r0``, ``x``) to its final value:
an ``int``, or the name of the variable whose address it holds (``"x"``), as
herd7 prints pointer values.  The hardware runner and the LKMM evaluator
judge outcomes with the same function, :func:`holds`.
"""

from __future__ import annotations

from collections.abc import Mapping

from kbind.litmus import syntax as s

__all__ = ["Value", "holds", "observables", "render", "render_value"]

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


def _prop_locs(p: s.Prop | None, out: dict[s.Loc, None]) -> None:
    if isinstance(p, s.PAtom):
        out.setdefault(p.loc, None)
        if isinstance(p.value, s.RegLoc):
            out.setdefault(p.value, None)
    elif isinstance(p, s.PNot):
        _prop_locs(p.operand, out)
    elif isinstance(p, (s.PAnd, s.POr)):
        _prop_locs(p.left, out)
        _prop_locs(p.right, out)


def observables(test: s.LitmusTest) -> list[s.Loc]:
    """Return the locations an outcome shows in herd7's order: registers by process, variables.

    They are the condition's, the filter's and ``locations``'; the hardware
    runner and the LKMM evaluator both label a final state with them, so
    their states compare as they are written (``0:r0=0; 1:r0=1; x=1``).
    """
    found: dict[s.Loc, None] = {}
    _prop_locs(test.condition.prop, found)
    _prop_locs(test.filter, found)
    for loc in test.locations:
        found.setdefault(loc, None)
    if not found:  # `exists (true)`: show the first register or variable anyway
        first = next((s.RegLoc(t.index, t.registers[0]) for t in test.threads if t.registers), None)
        found[first or s.VarLoc(next(iter(test.variables)))] = None

    # Registers by process, then variables, as herd7 lists a state.
    def key(loc: s.Loc) -> tuple[int, int, int]:
        if isinstance(loc, s.RegLoc):
            return (0, loc.thread, test.threads[loc.thread].registers.index(loc.name))
        return (1, 0, 0)

    return sorted(found, key=key)

r"""Relations over a candidate execution's events, as bit masks.

herd7 evaluates ``linux-kernel.cat`` over relations on events; here a
relation on ``n`` events is a list of ``n`` ints, row ``i`` the mask of the
events ``i`` is related to.  Sets of events are ints (bit ``i`` = event
``i``).  The operators below are the cat language's: ``;`` (:func:`seq`),
``|``, ``&``, ``\\``, ``^-1``, ``?``, ``*``, ``+`` and ``[S]``.
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = [
    "Rel",
    "acyclic",
    "bits",
    "cross",
    "diff",
    "empty",
    "ident",
    "inter",
    "inverse",
    "opt",
    "plus",
    "restrict",
    "seq",
    "star",
    "union",
]

#: A relation: row i is the mask of the events event i is related to.
Rel = list[int]


def bits(mask: int) -> Iterable[int]:
    """Yield the indices of the set bits of ``mask``, lowest first."""
    while mask:
        low = mask & -mask
        yield low.bit_length() - 1
        mask ^= low


def empty(n: int) -> Rel:
    """Return the empty relation on ``n`` events (cat's ``0``)."""
    return [0] * n


def ident(n: int, s: int) -> Rel:
    """Return ``[S]``: the identity on the set ``s``."""
    return [(1 << i) if s >> i & 1 else 0 for i in range(n)]


def cross(n: int, a: int, b: int) -> Rel:
    """Return ``A * B``: every event of ``a`` to every event of ``b``."""
    return [b if a >> i & 1 else 0 for i in range(n)]


def restrict(r: Rel, dom: int, rng: int) -> Rel:
    """Return ``[dom] ; r ; [rng]``."""
    return [(row & rng) if dom >> i & 1 else 0 for i, row in enumerate(r)]


def union(*rs: Rel) -> Rel:
    """Return ``r1 | r2 | ...``."""
    out = list(rs[0])
    for r in rs[1:]:
        for i, row in enumerate(r):
            out[i] |= row
    return out


def inter(a: Rel, b: Rel) -> Rel:
    """Return ``a & b``."""
    return [x & y for x, y in zip(a, b, strict=True)]


def diff(a: Rel, b: Rel) -> Rel:
    r"""Return ``a \\ b``."""
    return [x & ~y for x, y in zip(a, b, strict=True)]


def seq(*rs: Rel) -> Rel:
    """Return the composition ``r1 ; r2 ; ...``."""
    out = rs[0]
    for b in rs[1:]:
        nxt = []
        for row in out:
            acc = 0
            while row:
                low = row & -row
                acc |= b[low.bit_length() - 1]
                row ^= low
            nxt.append(acc)
        out = nxt
    return list(out)


def inverse(r: Rel) -> Rel:
    """Return ``r^-1``."""
    out = [0] * len(r)
    for i, row in enumerate(r):
        for j in bits(row):
            out[j] |= 1 << i
    return out


def opt(r: Rel) -> Rel:
    """Return ``r?`` (``r | id``)."""
    return [row | (1 << i) for i, row in enumerate(r)]


def plus(r: Rel) -> Rel:
    """Return the transitive closure ``r+`` (Warshall's algorithm on bit rows)."""
    out = list(r)
    n = len(out)
    for k in range(n):
        bk = 1 << k
        rk = out[k]
        if not rk:
            continue
        for i in range(n):
            if out[i] & bk:
                out[i] |= rk
    return out


def star(r: Rel) -> Rel:
    """Return the reflexive-transitive closure ``r*``."""
    return opt(plus(r))


def acyclic(r: Rel) -> bool:
    """Whether ``r`` has no cycle (cat's ``acyclic``)."""
    c = plus(r)
    return not any(row >> i & 1 for i, row in enumerate(c))


def is_empty(r: Rel) -> bool:
    """Whether ``r`` relates nothing (cat's ``empty``)."""
    return not any(r)

"""Call sites name the user's line wherever the guard is made: functions, generators, coroutines,
lambdas, class bodies, comprehensions, module level, and through kbind's own frames."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Iterator

import pytest

from kbind.kernel.sync import rcu as krcu
from kbind.rcu import RcuReadGuard

HERE = __file__


def _line() -> int:
    """The line of the caller's next statement."""
    frame = inspect.currentframe()
    assert frame is not None and frame.f_back is not None
    return frame.f_back.f_lineno + 1


@pytest.mark.parametrize("make", [RcuReadGuard, krcu.Guard], ids=["RcuReadGuard", "rcu::Guard"])
def test_site_in_a_function(make: type) -> None:
    """A guard made in a function names that line."""
    line = _line()
    g = make()
    g.end()
    assert (g.created_at.filename, g.created_at.lineno) == (HERE, line)
    assert g.created_at.function == "test_site_in_a_function"


def test_site_in_a_generator_and_across_resumes() -> None:
    """A guard made in a generator names the generator's line, also after it was resumed."""
    lines: list[int] = []

    def gen() -> Iterator[RcuReadGuard]:
        lines.append(_line())
        g = RcuReadGuard()
        yield g
        g.end()
        lines.append(_line())
        g2 = RcuReadGuard()
        yield g2
        g2.end()

    it = gen()
    first = next(it)
    second = next(it)
    next(it, None)
    assert [first.created_at.lineno, second.created_at.lineno] == lines
    assert first.created_at.function == "gen"


def test_site_in_a_coroutine() -> None:
    """A guard made in a coroutine (after an await) names the coroutine's line."""
    got: list[tuple[int, int]] = []

    async def coro() -> None:
        await asyncio.sleep(0)
        line = _line()
        g = krcu.Guard()
        g.unlock()
        got.append((g.created_at.lineno, line))

    asyncio.run(coro())
    assert got and got[0][0] == got[0][1]


def test_site_in_a_lambda_a_comprehension_and_a_class_body() -> None:
    """Lambdas, comprehensions and class bodies are user frames too."""
    line = _line()
    guards = [RcuReadGuard() for _ in range(2)]
    for g in guards:
        g.end()
    assert {g.created_at.lineno for g in guards} == {line}
    line = _line()
    lam = (lambda: RcuReadGuard())()
    lam.end()
    assert lam.created_at.lineno == line

    class Holder:
        line = _line()
        g = RcuReadGuard()
        g.end()

    assert Holder.g.created_at.lineno == Holder.line


def test_site_through_kbind_frames_is_the_callers() -> None:
    """A guard made by kbind on the user's behalf (read_lock()) names the user's line."""
    line = _line()
    g = krcu.read_lock()
    g.unlock()
    assert (g.created_at.filename, g.created_at.lineno) == (HERE, line)

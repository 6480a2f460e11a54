"""What every scenario and adapter module of :mod:`kbind.compare` shares.

* :class:`Registrar`: the ``@scenario("R01")`` decorator of one primitive's
  scenario module, which adds each scenario to that module's list;
* :func:`snippet`: the module a ruled-out step hands to mypy;
* :class:`KernelCOptions`: the ``kernel_c`` / ``kernel_c+debug`` columns
  switch, every debug option of :mod:`kbind.kernel_c` off or on for a cell;
* :func:`run_on_thread` / :func:`on_thread`: run a step on a short helper
  thread (another thread unlocks, a writer overlaps a read), joined with a
  timeout, so that no scenario can hang.
"""

from __future__ import annotations

import dataclasses
import textwrap
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Final, Generic, TypeVar

from kbind import kernel_c
from kbind.compare.model import Adapter, Scenario

__all__ = ["JOIN_S", "KernelCOptions", "Registrar", "on_thread", "run_on_thread", "snippet"]

A = TypeVar("A", bound=Adapter)

#: How long a helper thread may take; each takes milliseconds.
JOIN_S: Final = 10.0


class Registrar(Generic[A]):
    """``@scenario(id, ...)`` for one primitive: registers each function as a :class:`Scenario`.

    Args:
        into: the module's list of scenarios (in row order).
        primitive: the primitive the scenarios belong to.
        sites: the default number of call sites a catching message must name.
    """

    def __init__(self, into: list[Scenario], primitive: str, sites: int = 2) -> None:
        self.into = into
        self.primitive = primitive
        self.sites = sites

    def __call__(
        self,
        id: str,
        *,
        sites: int | None = None,
        fine: bool = False,
        accepts: tuple[str, ...] = (),
    ) -> Callable[[Callable[[A], str]], Callable[[A], str]]:
        """Return the decorator that registers a scenario under the catalog code ``id``."""
        n = self.sites if sites is None else sites

        def register(fn: Callable[[A], str]) -> Callable[[A], str]:
            self.into.append(Scenario(id, self.primitive, fn, sites=n, fine=fine, accepts=accepts))
            return fn

        return register


def snippet(imports: str, body: str, prelude: str = "") -> str:
    """Return a module for mypy: ``imports``, ``prelude`` (definitions), then ``body``.

    ``body`` holds the misuse, its line ending with ``# misuse``
    (:mod:`kbind.compare.typecheck`).
    """
    head = f"from __future__ import annotations\n{textwrap.dedent(imports).strip()}\n\n"
    if prelude:
        head += f"\n{textwrap.dedent(prelude).strip()}\n\n\n"
    return head + textwrap.dedent(body).strip() + "\n"


def run_on_thread(fn: Callable[[], object], name: str) -> BaseException | None:
    """Run ``fn`` on a new thread, wait for it, and return what it raised (None: nothing).

    Raises:
        RuntimeError: the thread did not finish in :data:`JOIN_S` seconds.
    """
    raised: list[BaseException] = []

    def body() -> None:
        try:
            fn()
        except BaseException as exc:  # handed back to the cell's thread
            raised.append(exc)

    t = threading.Thread(target=body, name=name, daemon=True)
    t.start()
    t.join(JOIN_S)
    if t.is_alive():
        raise RuntimeError(f"thread {name!r} did not finish in {JOIN_S:g} s")
    return raised[0] if raised else None


def on_thread(fn: Callable[[], object], name: str) -> None:
    """Run ``fn`` on a new thread, wait for it, and raise here what it raised."""
    exc = run_on_thread(fn, name)
    if exc is not None:
        raise exc


class KernelCOptions:
    """A ``kbind.kernel_c`` adapter's options: all debug options off, or all on (``+debug``).

    Mixed in before the primitive's adapter class, so its :meth:`session`
    switches the options (:func:`kbind.kernel_c.configured`) around the cell.
    """

    design = "kernel_c"

    def __init__(self, checks: bool) -> None:
        self.checks = checks
        self.design = "kernel_c+debug" if checks else "kernel_c"

    def session(self) -> AbstractContextManager[object]:
        """Return the block with every option of ``kbind.kernel_c.Config`` set to the column's."""
        names = [f.name for f in dataclasses.fields(kernel_c.Config)]
        return kernel_c.configured(**dict.fromkeys(names, self.checks))

# Type stub for the hand-written CPython extension kbind._hotpath (csrc/pyext/).
# Only kbind/_native.py imports it; kbind's modules reach it as kbind._native.hot.
from collections.abc import Callable
from typing import Any

from kbind.ordering import Ordering

def engine_functions() -> tuple[str, ...]: ...
def bind_engine(addresses: dict[str, int], /) -> None: ...

# -- atomics (csrc/pyext/atomic_type.c): the C halves of kbind.atomic's classes.
# Their methods are typed on kbind.atomic._Atomic, the Python half.
class Atomic32:
    @property
    def _address(self) -> int: ...

class Atomic64:
    @property
    def _address(self) -> int: ...

class AtomicULong:
    @property
    def _address(self) -> int: ...

def bind_atomics(
    orderings: tuple[Ordering, ...],
    methods: dict[str, tuple[Callable[..., object], str]],
    classes: tuple[type, ...],
    /,
) -> None: ...

# The parts of the module not typed here yet.
def __getattr__(name: str) -> Any: ...

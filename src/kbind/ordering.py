"""Memory-ordering markers: ``Relaxed``, ``Acquire``, ``Release``, ``Full``.

Mirrors Rust-for-Linux ``kernel::sync::atomic::ordering``: each ordering is a
distinct type, so an operation's signature lists exactly the orderings the
kernel offers for it, and mypy rejects ``load(Release)`` before the program
runs.  At run time every operation checks again and raises
:class:`kbind.OrderingError` naming the orderings it accepts.

The kernel spells orderings as name suffixes: ``_relaxed``, ``_acquire``,
``_release`` and no suffix for fully ordered.  :attr:`Ordering.suffix` holds
that spelling, which is how kbind finds the C function to call.
"""

from __future__ import annotations

from typing import ClassVar, Final, TypeAlias, final

__all__ = [
    "Acquire",
    "AcquireOrRelaxed",
    "AcquireOrdering",
    "AnyOrdering",
    "Full",
    "FullOrdering",
    "Ordering",
    "Relaxed",
    "RelaxedOrdering",
    "Release",
    "ReleaseOrRelaxed",
    "ReleaseOrdering",
]


class Ordering:
    """Base of the four ordering markers; use the singletons, never instantiate.

    Attributes:
        name: "Relaxed", "Acquire", "Release" or "Full".
        suffix: the kernel's function-name suffix for this ordering.
    """

    __slots__ = ()
    name: ClassVar[str]
    suffix: ClassVar[str]
    _instance: ClassVar[Ordering | None] = None

    def __new__(cls) -> Ordering:
        """Return the one instance of this ordering (markers are singletons)."""
        if cls is Ordering:
            raise TypeError("use kbind.Relaxed, kbind.Acquire, kbind.Release or kbind.Full")
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return f"kbind.{self.name}"

    def __reduce__(self) -> str:
        return self.name


@final
class RelaxedOrdering(Ordering):
    """No ordering: the access is atomic and nothing more.  Kernel: ``_relaxed``."""

    __slots__ = ()
    name = "Relaxed"
    suffix = "_relaxed"


@final
class AcquireOrdering(Ordering):
    """Later accesses stay after this load.  Kernel: ``_acquire``, ``smp_load_acquire()``."""

    __slots__ = ()
    name = "Acquire"
    suffix = "_acquire"


@final
class ReleaseOrdering(Ordering):
    """Earlier accesses stay before this store.  Kernel: ``_release``, ``smp_store_release()``."""

    __slots__ = ()
    name = "Release"
    suffix = "_release"


@final
class FullOrdering(Ordering):
    """A full barrier on each side of the operation.  Kernel: the unsuffixed RMW operations."""

    __slots__ = ()
    name = "Full"
    suffix = ""


Relaxed: Final = RelaxedOrdering()
Acquire: Final = AcquireOrdering()
Release: Final = ReleaseOrdering()
Full: Final = FullOrdering()

#: Orderings a load accepts.
AcquireOrRelaxed: TypeAlias = RelaxedOrdering | AcquireOrdering
#: Orderings a store accepts.
ReleaseOrRelaxed: TypeAlias = RelaxedOrdering | ReleaseOrdering
#: Orderings a value-returning read-modify-write accepts.
AnyOrdering: TypeAlias = RelaxedOrdering | AcquireOrdering | ReleaseOrdering | FullOrdering

#: All four, strongest last (the order OrderingError lists them in).
ALL_ORDERINGS: Final[tuple[Ordering, ...]] = (Relaxed, Acquire, Release, Full)

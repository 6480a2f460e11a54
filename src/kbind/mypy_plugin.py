"""A mypy plugin: sequence-lock fields have the types of their ``TypedDict`` spec.

``SeqLock(Clock, sec=0, nsec=0)`` with ``class Clock(TypedDict): sec: int;
nsec: int`` is a ``SeqLock[Clock]``; its readers receive a ``SeqView[Clock]``
whose ``v.sec`` is read through ``__getattr__``.  Python's type system has no
way to map a TypedDict's keys to a proxy's attributes, so without help mypy
types every field ``int | bytes``.  With this plugin enabled, a field read
through a ``SeqView``, a ``SeqWriteGuard`` or a ``SeqLatchWriteView`` of a
TypedDict-spec lock has the spec's type (``v.sec`` is ``int``, a bytes field
is ``bytes``), and a name that is not in the spec is an error, as a missing
struct field is in C or Rust.  Locks without a spec keep ``int | bytes``.

Enable it in the mypy configuration of the program that uses kbind::

    [tool.mypy]            # pyproject.toml; in mypy.ini: [mypy]
    plugins = ["kbind.mypy_plugin"]

Rust: the proposed ``SeqLock<T>`` hands readers a ``&T`` of the user's
struct, whose fields the compiler types; this plugin is that check for
kbind's TypedDict specs.
"""

from __future__ import annotations

from collections.abc import Callable

from mypy.plugin import AttributeContext, Plugin
from mypy.types import AnyType, Instance, Type, TypedDictType, TypeOfAny, get_proper_type

__all__ = ["KbindPlugin", "plugin"]

#: The classes whose ``__getattr__`` reads a sequence-lock field, by the full
#: name mypy knows them by: that of the module defining them (``kbind.seqlock``
#: re-exports them from its modules).
_FIELD_VIEWS = frozenset(
    {
        "kbind.seqlock.read.SeqView",
        "kbind.seqlock.write.SeqWriteGuard",
        "kbind.seqlock.latch.SeqLatchWriteView",
    }
)


def _field_type(name: str) -> Callable[[AttributeContext], Type]:
    def hook(ctx: AttributeContext) -> Type:
        t = get_proper_type(ctx.type)
        if not isinstance(t, Instance) or not t.args or t.type.get(name) is not None:
            return ctx.default_attr_type  # a real member of the view, or not a view of a spec
        spec = get_proper_type(t.args[0])
        if not isinstance(spec, TypedDictType):
            return ctx.default_attr_type  # SeqLock(**fields): int | bytes
        item = spec.items.get(name)
        if item is not None:
            return item
        spec_name = spec.fallback.type.name
        ctx.api.fail(
            f'SeqLock field spec "{spec_name}" has no field "{name}"; its fields are '
            f"{', '.join(spec.items)}",
            ctx.context,
        )
        return AnyType(TypeOfAny.from_error)

    return hook


class KbindPlugin(Plugin):
    """Types sequence-lock field reads from the lock's ``TypedDict`` spec."""

    def get_attribute_hook(self, fullname: str) -> Callable[[AttributeContext], Type] | None:
        """Return the field hook for attribute reads on the views of a SeqLock/SeqLatch."""
        cls, _, name = fullname.rpartition(".")
        if cls in _FIELD_VIEWS and not name.startswith("_"):
            return _field_type(name)
        return None


def plugin(version: str) -> type[Plugin]:
    """Entry point mypy calls (``plugins = ["kbind.mypy_plugin"]``)."""
    return KbindPlugin

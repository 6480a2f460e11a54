"""The hooks a recording tool implements: what kbind.rcu tells a tracer.

kbind.trace records read-side sections, grace periods and callbacks.  The
primitives below it must not import it (a lower layer never imports a tool,
not even for types), so they talk to "a tracer" through this protocol, and
kbind.trace installs its recording at run time (``kbind.rcu._runtime.tracer``
and the read guards' scope observer).
"""

from __future__ import annotations

from typing import Any, Protocol

__all__ = ["Tracer"]


class Tracer(Protocol):
    """What the modules of kbind.rcu call on an active recording.

    Grace periods are the tracer's own objects: the primitives only hand
    back what ``_gp``/``_drop_start`` returned.
    """

    def _stamp(self) -> int: ...

    def _retire(self, cookie: int, t: int) -> None: ...

    def _gp(self, kind: Any, label: str, start: int, wait_start: int) -> Any: ...

    def _drop_start(self, cookie: int, label: str) -> Any: ...

    def _gp_end(self, gp: Any) -> None: ...

    def _callback_end(self, gp: Any) -> None: ...

    def _scope_begin(self, guard: Any, depth: int) -> None: ...

    def _scope_end(self, guard: object) -> None: ...

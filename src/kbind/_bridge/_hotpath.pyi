# Type stub for the hand-written CPython extension kbind._bridge._hotpath (csrc/pyext/).
# Only kbind/_bridge/native.py imports it; kbind's modules reach it as kbind._bridge.native.hot.
from collections.abc import Callable
from types import CodeType
from typing import Any, Self

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

# -- lifetime (csrc/pyext/lifetime.c, ref.c, deref.c, kinds.c): kbind.lifetime's C core.
class ThreadToken:
    @property
    def name(self) -> str: ...
    @property
    def exited(self) -> bool: ...
    @property
    def ident(self) -> int: ...
    @property
    def native_id(self) -> int: ...
    _bits: int

class ScopeHooks:
    observer: object
    @property
    def kind(self) -> str: ...
    def __init__(
        self,
        kind: str,
        begin: Callable[..., object] | None = ...,
        end: Callable[[Any], object] | None = ...,
        on_leak: Callable[[Any, bool], object] | None = ...,
        on_thread_exit: Callable[[list[Any]], object] | None = ...,
        end_anywhere: bool = ...,
        keep_at_thread_exit: bool = ...,
        engine: str | None = ...,
    ) -> None: ...

_RawSite = tuple[CodeType, int, str, str]

class Scope:
    _num: int
    _sites: tuple[Any, Any] | None
    _data: Any
    def __init__(self, *args: Any) -> None: ...
    @property
    def alive(self) -> bool: ...
    @property
    def begun(self) -> bool: ...
    @property
    def owner(self) -> ThreadToken: ...
    @property
    def _begin_raw(self) -> _RawSite | None: ...
    @property
    def _end_raw(self) -> _RawSite | None: ...
    def __enter__(self) -> Self: ...
    def __exit__(self, *exc: object) -> None: ...
    def end(self, how: str = ..., /) -> None: ...
    def _is_mine(self) -> bool: ...

class Cell:
    def __init__(self, value: object, /) -> None: ...
    @property
    def value(self) -> Any: ...
    @property
    def freed(self) -> bool: ...
    def _poison(self) -> bool: ...

class RefPolicy:
    def __init__(
        self,
        plain: set[type],
        stale: Callable[[Any, Any, str], BaseException],
        freed: Callable[[Any, Any, str], BaseException],
        refuse: Callable[[Any, str], BaseException | None],
        child: Callable[[Any, object, object, str | None], object] | None = ...,
        writable: bool = ...,
    ) -> None: ...

class Ref:
    def __getattr__(self, name: str) -> Any: ...

class LockWord:
    def __init__(self, kind: str, value: object) -> None: ...
    value: Any
    @property
    def kind(self) -> str: ...
    @property
    def owner(self) -> ThreadToken | None: ...
    @property
    def holder(self) -> Any: ...
    @property
    def address(self) -> int: ...

class LockGuardBase(Scope):
    value: Any

def lock_method(
    name: str,
    doc: str,
    guard_type: type,
    word_attr: str,
    busy: str | None,
    recursive: str | None,
    /,
) -> Any: ...
def lock_commit(word: LockWord, guard_type: type[Any], /) -> Any: ...

class SrcuWord:
    def __init__(self, mem: object, address: int, ref: Any, /) -> None: ...
    closed: bool
    @property
    def mem(self) -> Any: ...
    @property
    def ref(self) -> Any: ...

class SrcuGuardBase(Scope): ...

def srcu_read_method(name: str, doc: str, guard_type: type, word_attr: str, /) -> Any: ...
def configure_srcu(register: Callable[[ThreadToken], object], /) -> None: ...

FREED: object

def current_thread() -> ThreadToken: ...
def open_scopes(token: ThreadToken, kind: type | None = ..., /) -> list[Any]: ...
def configure(
    internal_files: dict[str, bool],
    is_internal: Callable[[str, Any], bool],
    thread_name: Callable[[], str],
    /,
) -> None: ...
def configure_rcu(register: Callable[[], None], /) -> None: ...
def seal(cls: type, /) -> None: ...
def bind(
    ref_type: type[Any], policy: RefPolicy, scope: Scope, cell: Cell, obj: object = ..., /
) -> Any: ...
def bind_open(
    ref_type: type[Any], policy: RefPolicy, scope: object, cell: Cell, kind: type | None = ..., /
) -> Any: ...
def ref_parts(ref: Ref, /) -> tuple[Any, Any, object]: ...
def ref_target(ref: Ref, op: str, /) -> tuple[Any, Any, Any]: ...
def ref_wrap(ref: Ref, value: object, /) -> Any: ...
def rebind_open(ref: Ref, scope: object, /) -> Any: ...
def deref_method(
    name: str,
    doc: str,
    ref_type: type,
    policy: RefPolicy,
    kind: type,
    cell_attr: str,
    refuse: str | Callable[[Any, Any], object],
    none_if_unset: bool = ...,
    /,
) -> Any: ...
def scoped_call_method(
    name: str,
    doc: str,
    ref_type: type,
    policy: RefPolicy,
    kind: type,
    cell_attr: str,
    copy_out: Callable[[Any, Any], object],
    escaped: Callable[[Any, Any], BaseException],
    how: str,
    none_if_unset: bool = ...,
    /,
) -> Any: ...

# The parts of the module not typed here yet.
def __getattr__(name: str) -> Any: ...

# -- seqlock (csrc/pyext/seqlock_read.c, seqlock_write.c): the C halves of kbind.seqlock's
# types.  The lock classes' read/read_begin/read_retry/snapshot/write (and SeqLatch.read)
# are C methods bind_seqlock() puts in them; they are typed on kbind.seqlock's classes.
class SeqCore:
    _excl: ThreadToken | None
    @property
    def _writer(self) -> ThreadToken | None: ...
    @property
    def _write_guard(self) -> Any: ...
    @property
    def _writes(self) -> int: ...
    def _core_init(
        self,
        latch: bool,
        sync: int,
        words0: int,
        words1: int,
        n: int,
        fields: dict[str, int],
        keep: object,
        /,
    ) -> None: ...

class SeqAttempt(Scope):
    @property
    def _state(self) -> int: ...
    @property
    def _how(self) -> str: ...
    @property
    def _lock(self) -> Any: ...
    @property
    def _start(self) -> int: ...
    @property
    def _copy(self) -> int: ...
    @property
    def _no(self) -> int: ...
    @property
    def _fail_raw(self) -> _RawSite | None: ...

class SeqViewCore:
    @property
    def _attempt(self) -> Any: ...
    @property
    def fields(self) -> Any: ...

class TentativeCore:
    def __init__(self, v: int | bytes, attempts: tuple[Any, ...], read_at: Any) -> None: ...
    @property
    def _v(self) -> int | bytes: ...
    @property
    def _attempts(self) -> tuple[Any, ...]: ...
    @property
    def _read_at(self) -> Any: ...

class SeqWriterCore(Scope):
    @property
    def _lock(self) -> Any: ...
    @property
    def _copy(self) -> int: ...

def bind_seqlock(
    lock_cls: type,
    latch_cls: type,
    kinds: tuple[type, ...],
    docs: dict[str, str],
    site_from_raw: Callable[[Any], Any],
    /,
) -> None: ...
def seq_read_locked(lock: SeqCore, fn: Callable[[Any], Any], /) -> Any: ...
def seq_write_commit(lock: SeqCore, /) -> Any: ...
def seq_writer(kind: type, latch: SeqCore, copy: int, /) -> Any: ...

# -- end of seqlock

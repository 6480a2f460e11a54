"""Translate a parsed litmus test into C for kbind's hardware harness.

The output is one C file that includes kbind's own headers and defines a
``struct kb_litmus_prog`` (csrc/kbind_api.h): a function per process, the
initial state, the outcome's observables, and the condition and filter as
C predicates.  Each kernel primitive becomes kbind's implementation of it:

* marked accesses: ``KB_READ_ONCE``/``KB_WRITE_ONCE`` (csrc/engine/arch/barrier.h),
  ``kb_smp_load_acquire``/``kb_smp_store_release``; a plain C access
  (``*x = 1``) is compiled as a marked one too, since a racing plain access
  is undefined behaviour in C (the CPU sees the same load or store);
* fences: ``kb_smp_mb()`` and the other macros of csrc/engine/arch/;
* ``xchg``/``cmpxchg`` and the ``atomic_*`` operations: the engine's
  ``kb_atomic64_*``/``kb_atomic_*`` functions (csrc/engine/atomic.c);
* spinlocks: ``kb_spin_lock_timeout``/``kb_spin_unlock``/... (csrc/engine/lock.c);
* RCU and SRCU: the engine's ``kb_rcu_read_lock``, ``kb_synchronize_rcu_timeout``,
  ``kb_srcu_read_lock``, ``kb_synchronize_srcu_timeout`` (csrc/engine/rcu_api.c,
  csrc/engine/srcu.c) - the same engine, with the same busted variants, as
  the rest of kbind.

The engine's functions are reached through addresses bound at load time
(``kbl_bind()``), so the compiled test shares the one engine of
``kbind._bridge._ffi``.  A compiler barrier follows every statement, as the
kernel's volatile accesses keep the compiler from reordering them: every
reordering a run counts is the CPU's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from kbind.litmus import syntax as s
from kbind.litmus.condition import observables
from kbind.litmus.parser import LitmusUnsupportedError

__all__ = ["POINTER_TAG", "Translation", "translate"]

#: An observed value that is the address of shared variable k is reported as
#: ``POINTER_TAG + k`` (the outcome names it ``x``, as herd7 does).
POINTER_TAG = -(1 << 62)

#: How long a process may wait for a lock or a grace period before the run
#: stops with an error (a test that deadlocks must not hang the harness).
WAIT_NS = 2_000_000_000


@dataclass
class Translation:
    """A test translated to C.

    Attributes:
        source: the C file.
        functions: the engine functions it calls, in the order ``kbl_bind()`` takes them.
        slots: the shared variables with a cell per instance, in slot order.
        observables: what each outcome value is, in order.
        nregs: registers reported per process.
    """

    source: str
    functions: list[str]
    slots: list[str]
    observables: list[s.Loc]
    nregs: int


@dataclass
class _Ctx:
    test: s.LitmusTest
    busted: bool
    slots: dict[str, int]
    functions: dict[str, None] = field(default_factory=dict)

    def fn(self, name: str) -> str:
        self.functions.setdefault(name, None)
        return f"kbl_fn_{name}"


def _wrap(op: str, a: str, b: str) -> str:
    return f"(int64_t)((uint64_t)({a}) {op} (uint64_t)({b}))"


def _expr(c: _Ctx, e: s.Expr) -> str:
    if isinstance(e, s.Const):
        return f"INT64_C({e.value})"
    if isinstance(e, s.Reg):
        return f"kbl_r_{e.name}"
    if isinstance(e, s.AddrOf):
        if c.test.variables.get(e.var) == "srcu":
            raise LitmusUnsupportedError(
                c.test.path,
                e.line,
                f"{e.var} as a value",
                "an SRCU domain is only an argument of the srcu_*() calls",
            )
        return f"(int64_t)(intptr_t)KBL_SLOT({c.slots[e.var]})"
    if isinstance(e, s.Unary):
        inner = _expr(c, e.operand)
        if e.op == "-":
            return f"(int64_t)(0u - (uint64_t)({inner}))"
        return f"(int64_t)({e.op}({inner}))"
    if isinstance(e, s.Binary):
        a, b = _expr(c, e.left), _expr(c, e.right)
        if e.op in ("+", "-", "*"):
            return _wrap(e.op, a, b)
        if e.op in ("/", "%"):
            return f"kbl_div({a}, {b}, {1 if e.op == '%' else 0})"
        if e.op == "<<":
            return f"kbl_shl({a}, {b})"
        if e.op == ">>":
            return f"kbl_shr({a}, {b})"
        return f"(int64_t)(({a}) {e.op} ({b}))"
    if isinstance(e, s.Load):
        return _load(c, e)
    if isinstance(e, s.Rmw):
        return _rmw(c, e)
    if isinstance(e, s.SpinQuery):
        fn = "kb_spin_trylock" if e.kind == "trylock" else "kb_spin_is_locked"
        return f"(int64_t){c.fn(fn)}((kb_spinlock_t *){_ptr(c, e.addr)})"
    if isinstance(e, s.SrcuLock):
        return f"(int64_t){c.fn('kb_srcu_read_lock')}(&kbl_srcu_{e.domain})"
    raise AssertionError(e)  # pragma: no cover - the parser builds no other node


def _ptr(c: _Ctx, addr: s.Expr) -> str:
    """Return the C ``int64_t *`` for an address expression (checked unless it is a variable)."""
    if isinstance(addr, s.AddrOf) and addr.var in c.slots:
        return f"KBL_SLOT({c.slots[addr.var]})"
    return f"kbl_ptr(kbl_mem, {_expr(c, addr)})"


def _load(c: _Ctx, e: s.Load) -> str:
    p = _ptr(c, e.addr)
    if e.width == "atomic_t":
        fn = "kb_atomic_read_acquire" if e.mode == "acquire" else "kb_atomic_read"
        return f"(int64_t){c.fn(fn)}((kb_atomic_t *)(void *){p})"
    if e.mode == "acquire":
        return f"kb_smp_load_acquire({p})"
    return f"KB_READ_ONCE(*{p})"


def _store(c: _Ctx, st: s.Store) -> str:
    p, v = _ptr(c, st.addr), _expr(c, st.value)
    if st.width == "atomic_t":
        fn = "kb_atomic_set_release" if st.mode == "release" else "kb_atomic_set"
        return f"{c.fn(fn)}((kb_atomic_t *)(void *){p}, (int32_t)({v}));"
    if st.mode == "release":
        return f"kb_smp_store_release({p}, {v});"
    return f"KB_WRITE_ONCE(*{p}, {v});"


_IMPLICIT_ONE = re.compile(r"(^|_)(inc|dec)(_|$)")


def _rmw(c: _Ctx, e: s.Rmw) -> str:
    p = _ptr(c, e.addr)
    ops = [_expr(c, o) for o in e.operands]
    if c.busted and e.mode == "mb":
        return _busted_rmw(e, p, ops)
    if e.width == "atomic_t":
        ap = f"(kb_atomic_t *)(void *){p}"
        if e.op in ("xchg", "cmpxchg"):
            args = [ap, *(f"(int32_t)({o})" for o in ops)]
        elif _IMPLICIT_ONE.search(e.src.removeprefix("atomic_")):
            args = [ap]
        else:
            args = [f"(int32_t)({ops[0]})", ap]
        return f"(int64_t){c.fn('kb_' + e.src)}({', '.join(args)})"
    # xchg()/cmpxchg() on an int variable: the 64-bit cell's functions.
    name = "kb_atomic64_" + e.src
    return f"(int64_t){c.fn(name)}((kb_atomic64_t *)(void *){p}, {', '.join(ops)})"


def _busted_rmw(e: s.Rmw, p: str, ops: list[str]) -> str:
    """Return a fully ordered RMW without its atomicity or ordering (the bug to catch)."""
    if e.width == "atomic_t":
        cell, t = f"((kb_atomic_t *)(void *){p})->counter", "int32_t"
    else:
        cell, t = f"(*{p})", "int64_t"
    if e.op == "xchg":
        new = ops[0]
    elif e.op == "cmpxchg":
        new = f"(kbl_o == ({t})({ops[0]}) ? ({t})({ops[1]}) : kbl_o)"
    else:
        sym = {"add": "+", "sub": "-", "and": "&", "or": "|", "xor": "^", "andnot": "& ~"}[e.op]
        new = (
            f"({t})((uint64_t)kbl_o {sym} (uint64_t)({ops[0]}))"
            if e.op in ("add", "sub")
            else f"({t})(kbl_o {sym} ({t})({ops[0]}))"
        )
    result = {"none": "0", "old": "kbl_o", "new": "kbl_n", "zero": "kbl_n == 0",
              "negative": "kbl_n < 0"}[e.returns]  # fmt: skip
    return (
        f"({{ {t} kbl_o = KB_READ_ONCE({cell}); {t} kbl_n = {new}; "
        f"KB_WRITE_ONCE({cell}, kbl_n); (void)kbl_n; (int64_t)({result}); }})"
    )


_FENCE_C = {
    "mb": "kb_smp_mb();",
    "rmb": "kb_smp_rmb();",
    "wmb": "kb_smp_wmb();",
    "before-atomic": "kb_smp_mb__before_atomic();",
    "after-atomic": "kb_smp_mb__after_atomic();",
    "after-spinlock": "kb_smp_mb__after_spinlock();",
    "after-unlock-lock": "kb_smp_mb__after_unlock_lock();",
    "barrier": "kb_barrier();",
}
_BUSTABLE = {"mb", "before-atomic", "after-atomic", "after-spinlock", "after-unlock-lock"}


def _stmt(c: _Ctx, st: s.Stmt, out: list[str], indent: str) -> None:
    if isinstance(st, s.Assign):
        out.append(f"{indent}kbl_r_{st.reg} = {_expr(c, st.value)};")
    elif isinstance(st, s.Store):
        out.append(f"{indent}{_store(c, st)}")
    elif isinstance(st, s.Fence):
        if st.kind == "rcu-lock":
            out.append(f"{indent}{c.fn('kb_rcu_read_lock')}();")
        elif st.kind == "rcu-unlock":
            out.append(f"{indent}{c.fn('kb_rcu_read_unlock')}();")
        elif st.kind == "sync-rcu":
            fn = c.fn("kb_synchronize_rcu_timeout")
            out.append(f"{indent}if ({fn}(KBL_WAIT_NS) != KB_OK) kbl_fail(KB_LITMUS_ERR_GP);")
        elif c.busted and st.kind in _BUSTABLE:
            out.append(f"{indent}kb_barrier(); /* busted: {st.src}() without its fence */")
        else:
            out.append(f"{indent}{_FENCE_C[st.kind]}")
    elif isinstance(st, s.Lock):
        fn = c.fn("kb_spin_lock_timeout")
        out.append(
            f"{indent}if ({fn}((kb_spinlock_t *){_ptr(c, st.addr)}, KBL_WAIT_NS) != KB_OK) "
            "kbl_fail(KB_LITMUS_ERR_LOCK);"
        )
    elif isinstance(st, s.Unlock):
        p = f"(kb_spinlock_t *){_ptr(c, st.addr)}"
        out.append(
            f"{indent}if (!{c.fn('kb_spin_is_locked')}({p})) kbl_fail(KB_LITMUS_ERR_UNLOCK); "
            f"else {c.fn('kb_spin_unlock')}({p});"
        )
    elif isinstance(st, s.SrcuUnlock):
        out.append(
            f"{indent}(void){c.fn('kb_srcu_read_unlock')}(&kbl_srcu_{st.domain}, "
            f"(int)({_expr(c, st.index)}));"
        )
    elif isinstance(st, s.SrcuSync):
        fn = (
            "kb_synchronize_srcu_expedited_timeout"
            if "expedited" in st.src
            else "kb_synchronize_srcu_timeout"
        )
        out.append(
            f"{indent}if ({c.fn(fn)}(&kbl_srcu_{st.domain}, KBL_WAIT_NS) != KB_OK) "
            "kbl_fail(KB_LITMUS_ERR_GP);"
        )
    elif isinstance(st, s.ExprStmt):
        out.append(f"{indent}(void)({_expr(c, st.expr)});")
    elif isinstance(st, s.If):
        out.append(f"{indent}if ({_expr(c, st.cond)}) {{")
        for x in st.then:
            _stmt(c, x, out, indent + "\t")
        if st.other:
            out.append(f"{indent}}} else {{")
            for x in st.other:
                _stmt(c, x, out, indent + "\t")
        out.append(f"{indent}}}")
        return
    out.append(f"{indent}kb_barrier();")


def _value(c: _Ctx, v: int | s.AddrOf | s.RegLoc, index: dict[s.Loc, int]) -> str:
    if isinstance(v, s.RegLoc):
        return f"kbl_obs[{index[v]}]"
    if isinstance(v, s.AddrOf):
        return f"(INT64_C({POINTER_TAG}) + {c.slots[v.var]})"
    return f"INT64_C({v})"


def _prop(c: _Ctx, p: s.Prop, index: dict[s.Loc, int]) -> str:
    if isinstance(p, s.PAtom):
        op = "!=" if p.negated else "=="
        return f"(kbl_obs[{index[p.loc]}] {op} {_value(c, p.value, index)})"
    if isinstance(p, s.PNot):
        return f"!{_prop(c, p.operand, index)}"
    if isinstance(p, s.PAnd):
        return f"({_prop(c, p.left, index)} && {_prop(c, p.right, index)})"
    if isinstance(p, s.POr):
        return f"({_prop(c, p.left, index)} || {_prop(c, p.right, index)})"
    return "1" if p.value else "0"


_PRELUDE = """\
/* Generated by kbind.litmus from {name} - do not edit. */
#include "kbind.h"

#define KBL_NSLOTS {nslots}
#define KBL_NREGS {nregs}
#define KBL_WAIT_NS INT64_C({wait})
#define KBL_TAG INT64_C({tag})
#define KBL_SLOT(k) ((int64_t *)(void *)(kbl_mem + (k) * KB_LITMUS_SLOT))

static int32_t kbl_error;
static _Thread_local int64_t kbl_scratch[KB_LITMUS_SLOT / sizeof(int64_t)]
	__attribute__((aligned(64)));

static void kbl_fail(int32_t why)
{{
	__atomic_store_n(&kbl_error, why, __ATOMIC_RELAXED);
}}

/* A value used as a pointer must be the address of one of this instance's cells. */
static inline int64_t *kbl_ptr(char *kbl_mem, int64_t v)
{{
	intptr_t off = (intptr_t)v - (intptr_t)kbl_mem;

	if (off < 0 || off >= KBL_NSLOTS * KB_LITMUS_SLOT || off % KB_LITMUS_SLOT != 0) {{
		kbl_fail(KB_LITMUS_ERR_POINTER);
		return kbl_scratch;
	}}
	return (int64_t *)(void *)(kbl_mem + off);
}}

/* Report a cell's address as KBL_TAG + its slot; any other value as itself. */
static inline int64_t kbl_enc(const char *kbl_mem, int64_t v)
{{
	intptr_t off = (intptr_t)v - (intptr_t)kbl_mem;

	if (off >= 0 && off < KBL_NSLOTS * KB_LITMUS_SLOT && off % KB_LITMUS_SLOT == 0)
		return KBL_TAG + (int64_t)(off / KB_LITMUS_SLOT);
	return v;
}}

static inline int64_t kbl_div(int64_t a, int64_t b, int rem)
{{
	if (b == 0 || (a == INT64_MIN && b == -1))
		return 0;
	return rem ? a % b : a / b;
}}

static inline int64_t kbl_shl(int64_t a, int64_t b)
{{
	return b < 0 || b > 63 ? 0 : (int64_t)((uint64_t)a << b);
}}

static inline int64_t kbl_shr(int64_t a, int64_t b)
{{
	return b < 0 || b > 63 ? (a < 0 ? -1 : 0) : a >> b;
}}
"""


def translate(test: s.LitmusTest, *, busted_barrier: bool = False) -> Translation:
    """Translate ``test`` to the C of a ``struct kb_litmus_prog``.

    ``busted_barrier`` compiles ``smp_mb()`` and the other full fences as a
    compiler barrier only, and every fully ordered RMW as a plain load and
    store: the broken barrier a run must catch.

    Raises:
        LitmusUnsupportedError: a construct that cannot be compiled.
    """
    slot_vars = [v for v, t in test.variables.items() if t != "srcu"] or ["kbl_unused"]
    slots = {v: i for i, v in enumerate(slot_vars)}
    c = _Ctx(test, busted_barrier, slots)
    nregs = max([len(t.registers) for t in test.threads] + [1])
    obs = observables(test)
    out: list[str] = [_PRELUDE.format(name=test.name, nslots=len(slot_vars), nregs=nregs,
                                      wait=WAIT_NS, tag=POINTER_TAG)]  # fmt: skip
    domains = [v for v, t in test.variables.items() if t == "srcu"]
    for d in domains:
        out.append(f"static kb_srcu_t kbl_srcu_{d};")
    if domains:
        c.fn("kb_srcu_init")
        c.fn("kb_cleanup_srcu_struct")
    if "spinlock_t" in test.variables.values():
        c.fn("kb_spin_lock_init")
    bodies: list[str] = []
    reg_init = {
        (i.loc.thread, i.loc.name): i.value for i in test.init if isinstance(i.loc, s.RegLoc)
    }
    for t in test.threads:
        lines = [f"static void kbl_P{t.index}(char *kbl_mem, int64_t *kbl_regs)", "{"]
        for r in t.registers:
            init = reg_init.get((t.index, r), 0)
            lines.append(f"\tint64_t kbl_r_{r} = {_init_value(c, init)};")
        lines.append("\t(void)kbl_mem;")
        for st in t.body:
            _stmt(c, st, lines, "\t")
        for k, r in enumerate(t.registers):
            lines.append(f"\tkbl_regs[{k}] = kbl_r_{r};")
        lines.append("}")
        bodies.append("\n".join(lines))
    init_lines = ["static void kbl_init(char *kbl_mem)", "{", "\t(void)kbl_mem;"]
    for v, vkind in test.variables.items():
        if vkind == "spinlock_t":
            init_lines.append(
                f"\tkbl_fn_kb_spin_lock_init((kb_spinlock_t *)(void *)KBL_SLOT({slots[v]}));"
            )
    for item in test.init:
        if isinstance(item.loc, s.VarLoc):
            var = item.loc.name
            kind = test.variables[var]
            if kind == "atomic_t":
                init_lines.append(
                    f"\t((kb_atomic_t *)(void *)KBL_SLOT({slots[var]}))->counter = "
                    f"(int32_t){_init_value(c, item.value)};"
                )
            elif kind == "int":
                init_lines.append(f"\t*KBL_SLOT({slots[var]}) = {_init_value(c, item.value)};")
            else:
                raise LitmusUnsupportedError(
                    test.path, item.line, f"{var}=...", f"a {kind} has no initial value"
                )
    init_lines.append("}")
    table = [f"static __typeof__({f}) *kbl_fn_{f};" for f in c.functions]
    index = {loc: k for k, loc in enumerate(obs)}
    observe = ["static void kbl_observe(const char *kbl_mem, const int64_t *kbl_regs, "
               "int64_t *kbl_obs)",
               "{"]  # fmt: skip
    for k, loc in enumerate(obs):
        if isinstance(loc, s.RegLoc):
            thread = test.threads[loc.thread]
            ri = thread.registers.index(loc.name)
            observe.append(
                f"\tkbl_obs[{k}] = kbl_enc(kbl_mem, kbl_regs[{loc.thread * nregs + ri}]);"
            )
        elif test.variables[loc.name] == "atomic_t":
            observe.append(
                f"\tkbl_obs[{k}] = ((const kb_atomic_t *)(const void *)"
                f"(kbl_mem + {slots[loc.name]} * KB_LITMUS_SLOT))->counter;"
            )
        else:
            observe.append(
                f"\tkbl_obs[{k}] = kbl_enc(kbl_mem, KB_READ_ONCE(*(const int64_t *)"
                f"(const void *)(kbl_mem + {slots[loc.name]} * KB_LITMUS_SLOT)));"
            )
    observe.append("}")
    cond = ["static int kbl_cond(const int64_t *kbl_obs)", "{",
            f"\treturn {_prop(c, test.condition.prop, index)};", "}"]  # fmt: skip
    filt = []
    if test.filter is not None:
        filt = ["static int kbl_filter(const int64_t *kbl_obs)", "{",
                f"\treturn {_prop(c, test.filter, index)};", "}"]  # fmt: skip
    names = list(c.functions)
    threads = ", ".join(f"kbl_P{t.index}" for t in test.threads)
    binds = "\n".join(
        f"\tkbl_fn_{f} = (__typeof__(kbl_fn_{f}))kbl_addrs[{i}];" for i, f in enumerate(names)
    )
    tail = f"""
static const kb_litmus_prog_t kbl_the_prog = {{
	.nthreads = {len(test.threads)},
	.nslots = KBL_NSLOTS,
	.nregs = KBL_NREGS,
	.nobs = {len(obs)},
	.uses_rcu = {1 if test.uses_rcu else 0},
	.init = kbl_init,
	.thread = {{ {threads} }},
	.observe = kbl_observe,
	.cond = kbl_cond,
	.filter = {"kbl_filter" if filt else "NULL"},
	.error = &kbl_error,
}};

uintptr_t kbl_prog(void)
{{
	return (uintptr_t)&kbl_the_prog;
}}

void kbl_bind(const uintptr_t *kbl_addrs)
{{
{binds}
	(void)kbl_addrs;
}}

int kbl_setup(void)
{{
{chr(10).join(f"	if (kbl_fn_kb_srcu_init(&kbl_srcu_{d}) != KB_OK) return -1;" for d in domains)}
	return 0;
}}

void kbl_teardown(void)
{{
{chr(10).join(f"	(void)kbl_fn_kb_cleanup_srcu_struct(&kbl_srcu_{d});" for d in domains)}
}}
"""
    source = "\n".join([*out, *table, "", *bodies, "", *init_lines, "", *observe, "", *cond, "",
                        *filt, tail])  # fmt: skip
    return Translation(source, names, slot_vars, obs, nregs)


def _init_value(c: _Ctx, v: int | s.AddrOf) -> str:
    if isinstance(v, s.AddrOf):
        if v.var not in c.slots:
            raise LitmusUnsupportedError(
                c.test.path, v.line, f"&{v.var}", "not a variable with a cell"
            )
        return f"(int64_t)(intptr_t)KBL_SLOT({c.slots[v.var]})"
    return f"INT64_C({v})"

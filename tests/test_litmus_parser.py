"""The C litmus parser: every construct of the kernel's tests, and one clear line for bad files."""

from __future__ import annotations

import pytest

from kbind import litmus
from kbind.litmus import syntax as s
from kbind.litmus.condition import holds, render
from kbind.litmus.parser import LitmusSyntaxError, LitmusUnsupportedError, parse

FULL = r"""
C Every+construct
"docstring line"

(*
 * Result: Sometimes
 * A test that uses every construct the parser knows.
 *)

{
	int *p = &a;
	q = b;
	int n = 3;
	atomic_t v = ATOMIC_INIT(2);
	spinlock_t l;
	1:r7 = 5;
}

P0(int *a, int *b, int **p, int **q, atomic_t *v, spinlock_t *l, struct srcu_struct *s)
{
	int r0;
	int *r1, r2 = 1;
	int idx;

	WRITE_ONCE(*a, 1);          // a comment
	smp_store_release(b, r2 + 1);
	rcu_assign_pointer(*p, b);
	smp_store_mb(*a, 2);
	r0 = READ_ONCE(*a) * 2 - 1;
	r1 = rcu_dereference(*q);
	r2 = READ_ONCE(*r1);
	r0 = smp_load_acquire(a);
	*b = r0;                    /* a plain store */
	r2 = *a;
	if (r0 == 1 && !r2) {
		smp_mb();
	} else if (r0 > 3)
		smp_wmb();
	else
		smp_rmb();
	r0++;
	r0 += 2;
	r0 = r0 % 3 + (r0 << 1) - (r0 >> 1) + (r0 & 1) + (r0 | 2) + (r0 ^ 1) + ~r0 + -r0;
	smp_mb__before_atomic();
	atomic_inc(v);
	smp_mb__after_atomic();
	r0 = atomic_add_return_relaxed(2, v);
	r0 = atomic_fetch_andnot_acquire(1, v);
	r0 = atomic_cmpxchg(v, 3, 4);
	r0 = atomic_xchg_release(v, 1);
	r0 = atomic_dec_and_test(v);
	r0 = atomic_read(v);
	atomic_set_release(v, 7);
	r0 = xchg(a, 3);
	r0 = cmpxchg_relaxed(b, 1, 2);
	spin_lock(l);
	smp_mb__after_spinlock();
	spin_unlock(l);
	r0 = spin_trylock(l);
	if (r0)
		spin_unlock(l);
	r0 = spin_is_locked(l);
	smp_mb__after_unlock_lock();
	rcu_read_lock();
	rcu_read_unlock();
	synchronize_rcu();
	idx = srcu_read_lock(s);
	srcu_read_unlock(s, idx);
	synchronize_srcu(s);
	barrier();
}

P1(int *a, int *b)
{
	int r7;

	r7 = READ_ONCE(*b);
}

locations [a; 0:r2;]
filter (0:r0=1 \/ ~(1:r7=0))
exists (a=1 /\ 0:r1=b /\ ~(1:r7=2 \/ b=0))
"""


def kinds(body: tuple[s.Stmt, ...]) -> list[str]:
    out: list[str] = []
    for st in body:
        out.append(type(st).__name__)
        if isinstance(st, s.If):
            out += kinds(st.then) + kinds(st.other)
    return out


def test_parser_reads_every_construct() -> None:
    t = parse(FULL, "full.litmus")
    assert t.name == "Every+construct" and t.result == "Sometimes"
    assert "every construct" in t.comment
    assert t.variables == {"p": "int", "a": "int", "q": "int", "b": "int", "n": "int",
                           "v": "atomic_t", "l": "spinlock_t", "s": "srcu"}  # fmt: skip
    init = {str(i.loc): i.value for i in t.init}
    assert init == {"p": s.AddrOf("a", 11), "q": s.AddrOf("b", 12), "n": 3, "v": 2, "1:r7": 5}
    p0, p1 = t.threads
    assert [p.name for p in p0.params] == ["a", "b", "p", "q", "v", "l", "s"]
    assert [p.pointer_depth for p in p0.params][:4] == [1, 1, 2, 2]
    assert set(p0.registers) == {"r0", "r1", "r2", "idx"} and p1.registers == ("r7",)
    found = kinds(p0.body)
    for k in ("Store", "Fence", "Assign", "If", "ExprStmt", "Lock", "Unlock", "SrcuUnlock",
              "SrcuSync"):  # fmt: skip
        assert k in found, k
    stores = [x for x in p0.body if isinstance(x, s.Store)]
    assert [(x.mode, x.src) for x in stores][:4] == [
        ("once", "WRITE_ONCE"), ("release", "smp_store_release"),
        ("release", "rcu_assign_pointer"), ("once", "smp_store_mb"),
    ]  # fmt: skip
    assert any(x.mode == "plain" for x in stores)
    # smp_store_mb() is a store and a full fence
    i = next(k for k, x in enumerate(p0.body) if isinstance(x, s.Store) and x.src == "smp_store_mb")
    assert p0.body[i + 1] == s.Fence("mb", "smp_store_mb", p0.body[i].line)
    # the atomics are resolved to their LKMM event: op, ordering, what they return
    rmws = [x.value for x in p0.body if isinstance(x, s.Assign) and isinstance(x.value, s.Rmw)]
    assert [(r.op, r.mode, r.returns, r.width) for r in rmws] == [
        ("add", "relaxed", "new", "atomic_t"), ("andnot", "acquire", "old", "atomic_t"),
        ("cmpxchg", "mb", "old", "atomic_t"), ("xchg", "release", "old", "atomic_t"),
        ("sub", "mb", "zero", "atomic_t"), ("xchg", "mb", "old", "int"),
        ("cmpxchg", "relaxed", "old", "int"),
    ]  # fmt: skip
    void = next(x.expr for x in p0.body if isinstance(x, s.ExprStmt) and isinstance(x.expr, s.Rmw))
    assert (void.op, void.mode, void.returns, void.operands) == ("add", "relaxed", "none",
                                                                  (s.Const(1, void.line),))  # fmt: skip
    fences = [x.kind for x in p0.body if isinstance(x, s.Fence)]
    assert fences == ["mb", "before-atomic", "after-atomic", "after-spinlock",
                      "after-unlock-lock", "rcu-lock", "rcu-unlock", "sync-rcu", "barrier"]  # fmt: skip
    # address dependency: r2 = READ_ONCE(*r1) loads through a register
    dep = next(x for x in p0.body if isinstance(x, s.Assign) and x.reg == "r2"
               and isinstance(x.value, s.Load) and x.value.mode == "once")  # fmt: skip
    assert isinstance(dep.value, s.Load) and dep.value.addr == s.Reg("r1", dep.line)
    assert t.uses_rcu
    assert t.condition.quantifier == "exists"
    assert render(t.condition.prop) == "a=1 /\\ 0:r1=b /\\ ~(1:r7=2 \\/ b=0)"
    assert [str(x) for x in t.locations] == ["a", "0:r2"]
    assert t.filter is not None and render(t.filter) == "0:r0=1 \\/ ~1:r7=0"


def test_condition_quantifiers_and_evaluation() -> None:
    base = "C T\n{}\nP0(int *x) { int r0; r0 = READ_ONCE(*x); }\n"
    for q in ("exists", "~exists", "forall"):
        t = parse(base + f"{q} (0:r0=1 \\/ x!=0)")
        assert t.condition.quantifier == q
    prop = parse(base + "exists 0:r0=1 /\\ x=0").condition.prop  # no parentheses
    assert holds(prop, {s.RegLoc(0, "r0"): 1, s.VarLoc("x"): 0})
    assert not holds(prop, {s.RegLoc(0, "r0"): 1, s.VarLoc("x"): 2})
    ptr = parse("C T\n{ y=x; }\nP0(int **y) { int *r0; r0 = READ_ONCE(*y); }\nexists (0:r0=x)")
    assert holds(ptr.condition.prop, {s.RegLoc(0, "r0"): "x"})
    assert not holds(ptr.condition.prop, {s.RegLoc(0, "r0"): 0})


def test_every_shipped_test_parses_with_its_result() -> None:
    files = litmus.shipped()
    assert len(files) >= 40
    for f in files:
        t = litmus.parse_file(f)
        assert t.name == f.stem
        assert t.result in ("Never", "Sometimes", "Always"), f
    for spec in litmus.TESTS.values():
        for name in spec.files.values():
            assert litmus.shipped_path(name) is not None, name


@pytest.mark.parametrize(
    ("text", "error", "line", "words"),
    [
        ("", LitmusSyntaxError, 1, "empty file"),
        ("X86 SB\n{}\n", LitmusUnsupportedError, 1, "only C litmus"),
        ("Hello\n", LitmusSyntaxError, 1, "starts with 'C name'"),
        ("C\n", LitmusSyntaxError, 1, "must name the test"),
        ("C T\nP0(int *x) {}\n", LitmusSyntaxError, 2, "no initial state"),
        ("C T\n{}\n\nexists (x=1)\n", LitmusSyntaxError, 4, "expected a process P0"),
        ("C T\n{}\nP1(int *x) {}\nexists (x=1)\n", LitmusSyntaxError, 3, "expected P0"),
        (
            "C T\n{}\nP0(int *x) { WRITE_ONCE(*x, 1); }\n",
            LitmusSyntaxError,
            3,
            "no final condition",
        ),
        (
            "C T\n{}\nP0(int *x) {\n WRITE_ONCE(*x, 1)\n}\nexists (x=1)",
            LitmusSyntaxError,
            5,
            "expected ';'",
        ),
        (
            "C T\n{}\nP0(int *x) {\n while (1) {}\n}\nexists (x=1)",
            LitmusUnsupportedError,
            4,
            "'while'",
        ),
        (
            "C T\n{}\nP0(int *x) {\n frob(x);\n}\nexists (x=1)",
            LitmusUnsupportedError,
            4,
            "'frob()'",
        ),
        (
            "C T\n{}\nP0(int *x) {\n int r0;\n r0 = READ_ONCE(x);\n}\nexists (x=1)",
            LitmusSyntaxError,
            5,
            "lvalue such as *x",
        ),
        (
            "C T\n{}\nP0(int *x) {\n WRITE_ONCE(*x);\n}\nexists (x=1)",
            LitmusSyntaxError,
            4,
            "takes 2 arguments",
        ),
        (
            "C T\n{}\nP0(int *x) { int r0; r0 = 1; }\nexists (1:r0=1)",
            LitmusSyntaxError,
            4,
            "no process P1",
        ),
        (
            "C T\n{}\nP0(int *x) { int r0; r0 = 1; }\nexists (0:r9=1)",
            LitmusSyntaxError,
            4,
            "no register r9",
        ),
        (
            "C T\n{}\nP0(int *x) { int r0; r0 = 1; }\nexists (z=1)",
            LitmusSyntaxError,
            4,
            "z is not a variable",
        ),
        (
            "C T\n{}\nP0(int *x) {\n x = 1;\n}\nexists (x=1)",
            LitmusUnsupportedError,
            4,
            "shared variable",
        ),
        (
            "C T\n{}\nP0(int *x) {\n int r0 = r1 ? 1 : 2;\n}\nexists (x=1)",
            LitmusUnsupportedError,
            4,
            "'?:'",
        ),
        (
            "C T\n{}\nP0(int *x) {\n int r0 = x[1];\n}\nexists (x=1)",
            LitmusUnsupportedError,
            4,
            "arrays",
        ),
        ("C T\n{}\nP0(int x) {}\nexists (x=1)", LitmusSyntaxError, 3, "must be a pointer"),
        ("C T\n{}\nP0(float *x) {}\nexists (x=1)", LitmusUnsupportedError, 3, "'float'"),
        (
            "C T\n{}\nP0(int *x) {}\nP1(atomic_t *x) {}\nexists (x=1)",
            LitmusSyntaxError,
            4,
            "declared int and atomic_t",
        ),
        ("C T\n{}\nP0(int *x) { $ }\nexists (x=1)", LitmusSyntaxError, 3, "unexpected character"),
        ("C T\n{}\nP0(int *x) {\n smp_mb();\n", LitmusSyntaxError, 4, "unterminated block"),
    ],
)
def test_malformed_and_unsupported_files_give_one_clear_line(
    text: str, error: type[Exception], line: int, words: str
) -> None:
    with pytest.raises(error) as info:
        parse(text, "bad.litmus")
    exc = info.value
    assert isinstance(exc, litmus.LitmusError)
    assert exc.line == line, str(exc)
    assert words in str(exc)
    assert str(exc).startswith(f"bad.litmus:{line}: ")
    assert "\n" not in str(exc)


DIY = """C LB+datas+diy
"DpDatadW Rfe DpDatadW Rfe"
Cycle=DpDatadW Rfe DpDatadW Rfe
Com=Rf Rf
Orig=DpDatadW Rfe DpDatadW Rfe
{
int 0:r9;
int *1:r8 = x;
}

P0(int *x, int *y)
{
	int r0 = READ_ONCE(*x);
	WRITE_ONCE(*(int *)y, (int)r0);
}

P1(int *x, int *y)
{
	int r0 = READ_ONCE(*y);
	WRITE_ONCE(*x, r0);
}

exists
(0:r0=1:r0 /\\ not (0:r0=0))
(* After the condition: "a comment", with (parentheses) and 'quotes'. *)
"""


def test_diy_headers_casts_typed_registers_and_register_comparisons() -> None:
    """What diy7-made and hand-written public tests use: all of it parses, and means what herd7 reads.

    The key=value lines after the name, typed register declarations in the
    initial state, casts (dropped), ``not``, a register compared with a
    register, and a comment after the condition.
    """
    t = parse(DIY, "diy.litmus")
    assert t.name == "LB+datas+diy" and t.comment == "DpDatadW Rfe DpDatadW Rfe"
    assert [(i.loc, i.value) for i in t.init] == [(s.RegLoc(1, "r8"), s.AddrOf("x", 8))]
    store = t.threads[0].body[-1]
    assert isinstance(store, s.Store) and store.addr == s.AddrOf("y", 14)
    assert render(t.condition.prop) == "0:r0=1:r0 /\\ ~0:r0=0"
    r0, r1 = s.RegLoc(0, "r0"), s.RegLoc(1, "r0")
    assert holds(t.condition.prop, {r0: 1, r1: 1})
    assert not holds(t.condition.prop, {r0: 1, r1: 2}) and not holds(
        t.condition.prop, {r0: 0, r1: 0}
    )
    assert litmus.model(t).verdict == "Never"  # LB with data dependencies both ways: no cycle


def test_other_languages_are_refused_by_name_whatever_their_title() -> None:
    with pytest.raises(LitmusUnsupportedError, match="'LISA test': only C litmus tests"):
        parse("LISA cris-crossing read-side sections\n{}\nP0 | P1 ;\n", "l.litmus")

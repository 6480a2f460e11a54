/* SPDX-License-Identifier: MIT */
/*
 * csrc/pyext/atomic_width.h - one width of kbind._bridge._hotpath's atomics (a template).
 *
 * csrc/pyext/atomic_type.c includes this file once per width (like the
 * engine's csrc/engine/atomic_template.h), after defining:
 *
 *   KB_HP_W(x)     this width's name for x (kb_hp_i64_##x)
 *   KB_HP_E(op)    the bound engine pointer of op (kb_hp_kb_atomic64_##op)
 *   KB_HP_CELL(s)  the engine cell of the object s (&((kb_hp_atomic *)s)->cell.i64)
 *   KB_HP_VAL      the engine's value type (int64_t)
 *   KB_HP_ARG      int (PyObject *, KB_HP_VAL *): 0, or -1 (no exception set)
 *                  when the operand is not an int of this width's Python range
 *   KB_HP_RET      PyObject *(KB_HP_VAL): the Python int of a C value
 *
 * It defines KB_HP_W(methods), this width's methods, which bind_atomics() puts
 * in the public class (AtomicI64...) with their documentation.  Each method
 * takes its operands, then the ordering, positionally; any other call shape
 * goes to the typed Python method (kb_hp_atomic_slow), any refused ordering
 * or operand to kbind.atomic's _reject (kb_hp_atomic_reject).
 */

/* The operands of a positional call, converted: 0, or -1 if one is refused. */
static inline int KB_HP_W(operands)(PyObject *const *args, Py_ssize_t n, KB_HP_VAL *v)
{
	for (Py_ssize_t i = 0; i < n; i++) {
		if (KB_HP_ARG(args[i], &v[i]) < 0)
			return -1;
	}
	return 0;
}

/*
 * The method op: nv operands, then the ordering.  fns: the engine pointers by
 * ordering index (Relaxed, Acquire, Release, Full; NULL where the kernel has
 * no such operation), all of the type of KB_HP_E(key).  body: the call, with
 * f (the engine function), cell and v[] (the operands) in scope.
 */
#define KB_HP_METHOD(op, nv, key, fns_init, body)                                              \
	static PyObject *KB_HP_W(op)(PyObject *self, PyObject *const *args, Py_ssize_t nargs, \
				     PyObject *kwnames)                                        \
	{                                                                                      \
		static __typeof__(&KB_HP_E(key)) const fns[KB_HP_NORDERINGS] = fns_init;       \
		KB_HP_VAL v[2] = { 0, 0 };                                                     \
		__typeof__(KB_HP_E(key)) f;                                                    \
		int o;                                                                         \
                                                                                               \
		if (kwnames != NULL || nargs != (nv) + 1)                                      \
			return kb_hp_atomic_slow(self, KB_HP_OP_##op, args, nargs, kwnames);   \
		o = kb_hp_ordering(args[nv]);                                                  \
		if (o < 0 || fns[o] == NULL)                                                   \
			return kb_hp_atomic_reject(self, KB_HP_OP_##op, args, (nv), 1);        \
		if (KB_HP_W(operands)(args, (nv), v) < 0)                                      \
			return kb_hp_atomic_reject(self, KB_HP_OP_##op, args, (nv), 0);        \
		f = *fns[o];                                                                   \
		{                                                                              \
			__typeof__(KB_HP_CELL(self)) cell = KB_HP_CELL(self);                  \
			body;                                                                  \
		}                                                                              \
	}

#define KB_HP_ANY(name) \
	{ &KB_HP_E(name##_relaxed), &KB_HP_E(name##_acquire), &KB_HP_E(name##_release), &KB_HP_E(name) }
#define KB_HP_RELAXED_ONLY(name) { &KB_HP_E(name), NULL, NULL, NULL }
#define KB_HP_FULL_ONLY(name) { NULL, NULL, NULL, &KB_HP_E(name) }

/* load / store */
#define KB_HP_LOAD_FNS { &KB_HP_E(read), &KB_HP_E(read_acquire), NULL, NULL }
#define KB_HP_STORE_FNS { &KB_HP_E(set), NULL, &KB_HP_E(set_release), NULL }
KB_HP_METHOD(load, 0, read, KB_HP_LOAD_FNS, return KB_HP_RET(f(cell)))
KB_HP_METHOD(store, 1, set, KB_HP_STORE_FNS, f(cell, v[0]); Py_RETURN_NONE)
#undef KB_HP_STORE_FNS
#undef KB_HP_LOAD_FNS

/* void RMW: relaxed only */
KB_HP_METHOD(add, 1, add, KB_HP_RELAXED_ONLY(add), f(v[0], cell); Py_RETURN_NONE)
KB_HP_METHOD(sub, 1, sub, KB_HP_RELAXED_ONLY(sub), f(v[0], cell); Py_RETURN_NONE)
KB_HP_METHOD(inc, 0, inc, KB_HP_RELAXED_ONLY(inc), f(cell); Py_RETURN_NONE)
KB_HP_METHOD(dec, 0, dec, KB_HP_RELAXED_ONLY(dec), f(cell); Py_RETURN_NONE)

/* value-returning RMW: any ordering */
KB_HP_METHOD(add_return, 1, add_return, KB_HP_ANY(add_return), return KB_HP_RET(f(v[0], cell)))
KB_HP_METHOD(sub_return, 1, sub_return, KB_HP_ANY(sub_return), return KB_HP_RET(f(v[0], cell)))
KB_HP_METHOD(inc_return, 0, inc_return, KB_HP_ANY(inc_return), return KB_HP_RET(f(cell)))
KB_HP_METHOD(dec_return, 0, dec_return, KB_HP_ANY(dec_return), return KB_HP_RET(f(cell)))
KB_HP_METHOD(fetch_add, 1, fetch_add, KB_HP_ANY(fetch_add), return KB_HP_RET(f(v[0], cell)))
KB_HP_METHOD(fetch_sub, 1, fetch_sub, KB_HP_ANY(fetch_sub), return KB_HP_RET(f(v[0], cell)))
KB_HP_METHOD(fetch_inc, 0, fetch_inc, KB_HP_ANY(fetch_inc), return KB_HP_RET(f(cell)))
KB_HP_METHOD(fetch_dec, 0, fetch_dec, KB_HP_ANY(fetch_dec), return KB_HP_RET(f(cell)))
KB_HP_METHOD(fetch_and, 1, fetch_and, KB_HP_ANY(fetch_and), return KB_HP_RET(f(v[0], cell)))
KB_HP_METHOD(fetch_or, 1, fetch_or, KB_HP_ANY(fetch_or), return KB_HP_RET(f(v[0], cell)))
KB_HP_METHOD(fetch_xor, 1, fetch_xor, KB_HP_ANY(fetch_xor), return KB_HP_RET(f(v[0], cell)))
KB_HP_METHOD(fetch_andnot, 1, fetch_andnot, KB_HP_ANY(fetch_andnot),
	     return KB_HP_RET(f(v[0], cell)))
KB_HP_METHOD(xchg, 1, xchg, KB_HP_ANY(xchg), return KB_HP_RET(f(cell, v[0])))
KB_HP_METHOD(cmpxchg, 2, cmpxchg, KB_HP_ANY(cmpxchg), return KB_HP_RET(f(cell, v[0], v[1])))
/* (True, old) or (False, found): the kernel updates *old on failure */
KB_HP_METHOD(try_cmpxchg, 2, try_cmpxchg, KB_HP_ANY(try_cmpxchg),
	     int ok = f(cell, &v[0], v[1]);
	     return kb_hp_atomic_pair(ok, KB_HP_RET(v[0])))
KB_HP_METHOD(add_negative, 1, add_negative, KB_HP_ANY(add_negative),
	     return PyBool_FromLong(f(v[0], cell)))

/* conditional RMW: fully ordered only */
KB_HP_METHOD(sub_and_test, 1, sub_and_test, KB_HP_FULL_ONLY(sub_and_test),
	     return PyBool_FromLong(f(v[0], cell)))
KB_HP_METHOD(dec_and_test, 0, dec_and_test, KB_HP_FULL_ONLY(dec_and_test),
	     return PyBool_FromLong(f(cell)))
KB_HP_METHOD(inc_and_test, 0, inc_and_test, KB_HP_FULL_ONLY(inc_and_test),
	     return PyBool_FromLong(f(cell)))
KB_HP_METHOD(fetch_add_unless, 2, fetch_add_unless, KB_HP_FULL_ONLY(fetch_add_unless),
	     return KB_HP_RET(f(cell, v[0], v[1])))
KB_HP_METHOD(add_unless, 2, add_unless, KB_HP_FULL_ONLY(add_unless),
	     return PyBool_FromLong(f(cell, v[0], v[1])))
KB_HP_METHOD(inc_not_zero, 0, inc_not_zero, KB_HP_FULL_ONLY(inc_not_zero),
	     return PyBool_FromLong(f(cell)))

#undef KB_HP_FULL_ONLY
#undef KB_HP_RELAXED_ONLY
#undef KB_HP_ANY
#undef KB_HP_METHOD

/* ml_doc: set by bind_atomics(), from kbind.atomic's typed methods. */
static PyMethodDef KB_HP_W(methods)[] = {
#define KB_HP_X(op) \
	{ #op, (PyCFunction)(void (*)(void))KB_HP_W(op), METH_FASTCALL | METH_KEYWORDS, NULL },
	KB_HP_ATOMIC_OPS(KB_HP_X)
#undef KB_HP_X
	{ NULL, NULL, 0, NULL }
};

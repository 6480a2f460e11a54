/* SPDX-License-Identifier: MIT */
/*
 * csrc/pyext/kernel_atomic_width.h - one value type of kernel::sync::atomic's
 * Atomic<T> in kbind._bridge._hotpath (a template).
 *
 * csrc/pyext/kernel_atomic.c includes this file once per Rust T, after
 * defining:
 *
 *   KB_HP_W(x)     this type's name for x (kb_hp_k_u32_##x)
 *   KB_HP_E(op)    the bound engine pointer of op (kb_hp_kb_atomic_##op)
 *   KB_HP_CELL(s)  the engine cell of the object s
 *   KB_HP_VAL      the engine's value type (int32_t)
 *   KB_HP_ARG      int (PyObject *, KB_HP_VAL *): 0, or -1 (no exception set)
 *                  when the operand is not a value of T (range, type)
 *   KB_HP_RET      PyObject *(KB_HP_VAL): the Python value of a C value
 *   KB_HP_ARITH    1 if T has add/fetch_add/fetch_sub (Rust: AtomicAdd), 0 if not
 *
 * It defines KB_HP_W(methods), the Rust method set of this T.  Each method
 * takes its operands, then the ordering, positionally; any other call shape
 * goes to the typed Python method (kb_hp_k_slow), any refused ordering or
 * operand to kbind.kernel.sync.atomic's _reject (kb_hp_k_reject).
 */

static inline int KB_HP_W(operands)(PyObject *const *args, Py_ssize_t n, KB_HP_VAL *v)
{
	for (Py_ssize_t i = 0; i < n; i++) {
		if (KB_HP_ARG(args[i], &v[i]) < 0)
			return -1;
	}
	return 0;
}

/* As csrc/pyext/atomic_width.h's KB_HP_METHOD, for the ops of kernel_atomic.c. */
#define KB_HP_KMETHOD(op, nv, key, fns_init, body)                                              \
	static PyObject *KB_HP_W(op)(PyObject *self, PyObject *const *args, Py_ssize_t nargs,  \
				     PyObject *kwnames)                                         \
	{                                                                                       \
		static __typeof__(&KB_HP_E(key)) const fns[KB_HP_K_NORDERINGS] = fns_init;      \
		KB_HP_VAL v[2] = { 0, 0 };                                                      \
		__typeof__(KB_HP_E(key)) f;                                                     \
		int o;                                                                          \
                                                                                                \
		if (kwnames != NULL || nargs != (nv) + 1)                                       \
			return kb_hp_k_slow(self, KB_HP_K_OP_##op, args, nargs, kwnames);       \
		o = kb_hp_k_ordering(args[nv]);                                                 \
		if (o < 0 || fns[o] == NULL)                                                    \
			return kb_hp_k_reject(self, KB_HP_K_OP_##op, args, (nv));               \
		if (KB_HP_W(operands)(args, (nv), v) < 0)                                       \
			return kb_hp_k_reject(self, KB_HP_K_OP_##op, args, (nv));               \
		f = *fns[o];                                                                    \
		{                                                                               \
			__typeof__(KB_HP_CELL(self)) cell = KB_HP_CELL(self);                   \
			body;                                                                   \
		}                                                                               \
	}

#define KB_HP_ANY(name) \
	{ &KB_HP_E(name##_relaxed), &KB_HP_E(name##_acquire), &KB_HP_E(name##_release), &KB_HP_E(name) }
#define KB_HP_LOAD_FNS { &KB_HP_E(read), &KB_HP_E(read_acquire), NULL, NULL }
#define KB_HP_STORE_FNS { &KB_HP_E(set), NULL, &KB_HP_E(set_release), NULL }

KB_HP_KMETHOD(load, 0, read, KB_HP_LOAD_FNS, return KB_HP_RET(f(cell)))
KB_HP_KMETHOD(store, 1, set, KB_HP_STORE_FNS, f(cell, v[0]); Py_RETURN_NONE)
KB_HP_KMETHOD(xchg, 1, xchg, KB_HP_ANY(xchg), return KB_HP_RET(f(cell, v[0])))
/* Ok(old) or Err(current): the engine's cmpxchg returns the value it found,
 * and it stored iff that is old (a failure is a relaxed load). */
KB_HP_KMETHOD(cmpxchg, 2, cmpxchg, KB_HP_ANY(cmpxchg),
	      KB_HP_VAL found = f(cell, v[0], v[1]);
	      return kb_hp_k_result(found == v[0], KB_HP_RET(found)))
#if KB_HP_ARITH
#define KB_HP_ADD_FNS { &KB_HP_E(add), NULL, NULL, NULL }
KB_HP_KMETHOD(add, 1, add, KB_HP_ADD_FNS, f(v[0], cell); Py_RETURN_NONE)
#undef KB_HP_ADD_FNS
KB_HP_KMETHOD(fetch_add, 1, fetch_add, KB_HP_ANY(fetch_add), return KB_HP_RET(f(v[0], cell)))
KB_HP_KMETHOD(fetch_sub, 1, fetch_sub, KB_HP_ANY(fetch_sub), return KB_HP_RET(f(v[0], cell)))
#endif

#undef KB_HP_STORE_FNS
#undef KB_HP_LOAD_FNS
#undef KB_HP_ANY
#undef KB_HP_KMETHOD

/* In the order of KB_HP_K_OPS (the arithmetic last); ml_doc set by bind. */
static PyMethodDef KB_HP_W(methods)[] = {
#define KB_HP_X(op) \
	{ #op, (PyCFunction)(void (*)(void))KB_HP_W(op), METH_FASTCALL | METH_KEYWORDS, NULL },
	KB_HP_K_BASIC_OPS(KB_HP_X)
#if KB_HP_ARITH
	KB_HP_K_ARITH_OPS(KB_HP_X)
#endif
#undef KB_HP_X
	{ NULL, NULL, 0, NULL }
};

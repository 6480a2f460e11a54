/* SPDX-License-Identifier: MIT */
/*
 * csrc/pyext/kernel_atomic.c - the hot path of kbind.kernel.sync.atomic.
 *
 * kernel::sync::atomic::Atomic<T> (Rust-for-Linux, framework in Linux 6.18)
 * for T in i8, i16, i32, i64, isize, u32, u64, usize, bool, and AtomicFlag.
 * One C type, KernelAtomic, holds the engine cell (8, 16, 32, 64 bits or a
 * long); each public class of kbind.kernel.sync.atomic derives from it and
 * bind_kernel_atomics() puts in it the C methods of its T, so
 * a.fetch_add(1, Full) is one METH_FASTCALL call, as for kbind.atomic
 * (csrc/pyext/atomic_type.c): the ordering recognised by identity, the
 * operand converted and range-checked for T, the engine's function for that
 * operation and ordering called through the pointer kbind._bridge.native
 * bound.  The GIL is never released.
 *
 * Only Rust's method set: load, store, xchg, cmpxchg, and for the types with
 * arithmetic (AtomicAdd: not i8, i16, bool) add, fetch_add, fetch_sub.
 * cmpxchg returns CmpxchgOk(old) or CmpxchgErr(current), the classes handed
 * over by bind_kernel_atomics().  u32/u64/usize use the engine's signed cells
 * with the same bits; bool uses the 8-bit cell (Rust: its Repr is i8).
 *
 * As in atomic_type.c, refusals are Python's: a refused ordering or operand
 * raises what self._reject(op, ordering, *operands) returns, any other call
 * shape goes to the typed Python method, which calls back positionally.
 */
#include "hotpath.h"

#include <limits.h>
#include <string.h>

#define KB_HP_K_BASIC_OPS(X) X(load) X(store) X(xchg) X(cmpxchg)
#define KB_HP_K_ARITH_OPS(X) X(add) X(fetch_add) X(fetch_sub)
#define KB_HP_K_OPS(X) KB_HP_K_BASIC_OPS(X) KB_HP_K_ARITH_OPS(X)

enum kb_hp_k_op {
#define KB_HP_X(op) KB_HP_K_OP_##op,
	KB_HP_K_OPS(KB_HP_X)
#undef KB_HP_X
	KB_HP_K_NOPS
};

static const char *const kb_hp_k_op_names[KB_HP_K_NOPS] = {
#define KB_HP_X(op) #op,
	KB_HP_K_OPS(KB_HP_X)
#undef KB_HP_X
};

/* Ordering indices: the order of kbind.ordering.ALL_ORDERINGS. */
enum { KB_HP_K_NORDERINGS = 4 };

static const char *const kb_hp_k_suffixes[KB_HP_K_NORDERINGS] = { "_relaxed", "_acquire",
								  "_release", "" };

/* Set once by bind_kernel_atomics() (strong references, kept for the process). */
static PyObject *kb_hp_k_orderings[KB_HP_K_NORDERINGS];
static PyObject *kb_hp_k_py_methods[KB_HP_K_NOPS];
static PyObject *kb_hp_k_py_names[KB_HP_K_NOPS];
static PyObject *kb_hp_k_ok; /* CmpxchgOk */
static PyObject *kb_hp_k_err; /* CmpxchgErr */
static PyObject *kb_hp_k_str_reject;
static int kb_hp_k_bound;

typedef struct {
	PyObject_HEAD
	union {
		kb_atomic_i8_t i8;
		kb_atomic_i16_t i16;
		kb_atomic_t i32;
		kb_atomic64_t i64;
		kb_atomic_long_t l;
	} cell;
	PyObject *weakreflist;
} kb_hp_katomic;

static inline int kb_hp_k_ordering(PyObject *o)
{
	for (int i = 0; i < KB_HP_K_NORDERINGS; i++) {
		if (o == kb_hp_k_orderings[i])
			return i;
	}
	return -1;
}

static PyObject *kb_hp_k_unbound(void)
{
	PyErr_SetString(PyExc_RuntimeError, "kbind._bridge._hotpath: kernel atomics used before "
					    "kbind.kernel.sync.atomic bound them");
	return NULL;
}

/* Raise the exception self._reject(op, ordering, *operands) returns. */
static PyObject *kb_hp_k_reject(PyObject *self, int op, PyObject *const *args, Py_ssize_t nv)
{
	PyObject *call[5];
	PyObject *exc;

	if (!kb_hp_k_bound)
		return kb_hp_k_unbound();
	call[0] = self;
	call[1] = kb_hp_k_py_names[op];
	call[2] = args[nv];
	for (Py_ssize_t i = 0; i < nv; i++)
		call[3 + i] = args[i];
	exc = PyObject_VectorcallMethod(kb_hp_k_str_reject, call, (size_t)(3 + nv), NULL);
	if (exc == NULL)
		return NULL;
	if (!PyExceptionInstance_Check(exc)) {
		PyErr_Format(PyExc_TypeError, "%s._reject() returned %.200s, not an exception",
			     Py_TYPE(self)->tp_name, Py_TYPE(exc)->tp_name);
		Py_DECREF(exc);
		return NULL;
	}
	PyErr_SetObject((PyObject *)Py_TYPE(exc), exc);
	Py_DECREF(exc);
	return NULL;
}

/* Any other call shape: the typed Python method binds the arguments. */
static PyObject *kb_hp_k_slow(PyObject *self, int op, PyObject *const *args, Py_ssize_t nargs,
			      PyObject *kwnames)
{
	Py_ssize_t n = nargs + (kwnames != NULL ? PyTuple_GET_SIZE(kwnames) : 0);
	PyObject *small[8];
	PyObject **call = small;
	PyObject *result;

	if (!kb_hp_k_bound)
		return kb_hp_k_unbound();
	if (n + 1 > (Py_ssize_t)(sizeof(small) / sizeof(small[0]))) {
		call = PyMem_New(PyObject *, (size_t)n + 1);
		if (call == NULL)
			return PyErr_NoMemory();
	}
	call[0] = self;
	if (n > 0)
		memcpy(call + 1, args, (size_t)n * sizeof(*args));
	result = PyObject_Vectorcall(kb_hp_k_py_methods[op], call, (size_t)nargs + 1, kwnames);
	if (call != small)
		PyMem_Free(call);
	return result;
}

/* CmpxchgOk(value) or CmpxchgErr(value); steals value. */
static PyObject *kb_hp_k_result(int ok, PyObject *value)
{
	PyObject *r;

	if (value == NULL)
		return NULL;
	r = PyObject_Vectorcall(ok ? kb_hp_k_ok : kb_hp_k_err, &value, 1, NULL);
	Py_DECREF(value);
	return r;
}

/* -- operand conversions ------------------------------------------------------- */

_Static_assert(sizeof(long long) == sizeof(int64_t), "long long must be int64_t");

/* An int (or int subclass) in [lo, hi]. */
static inline int kb_hp_k_signed(PyObject *o, long long lo, long long hi, long long *out)
{
	int overflow;
	long long x;

	if (!PyLong_Check(o))
		return -1;
	x = PyLong_AsLongLongAndOverflow(o, &overflow);
	if (overflow != 0 || x < lo || x > hi)
		return -1;
	*out = x;
	return 0;
}

/* An int (or int subclass) in [0, hi]. */
static inline int kb_hp_k_unsigned(PyObject *o, unsigned long long hi, unsigned long long *out)
{
	int overflow;
	long long x;
	unsigned long long u;

	if (!PyLong_Check(o))
		return -1;
	x = PyLong_AsLongLongAndOverflow(o, &overflow);
	if (overflow == 0) {
		if (x < 0 || (unsigned long long)x > hi)
			return -1;
		*out = (unsigned long long)x;
		return 0;
	}
	if (overflow < 0)
		return -1;
	u = PyLong_AsUnsignedLongLong(o);
	if (u == (unsigned long long)-1 && PyErr_Occurred()) {
		PyErr_Clear(); /* refused: _reject builds the error */
		return -1;
	}
	if (u > hi)
		return -1;
	*out = u;
	return 0;
}

#define KB_HP_K_SIGNED_ARG(name, T, LO, HI)                          \
	static inline int kb_hp_k_##name##_arg(PyObject *o, T *out) \
	{                                                            \
		long long x;                                         \
                                                                     \
		if (kb_hp_k_signed(o, (LO), (HI), &x) < 0)           \
			return -1;                                   \
		*out = (T)x;                                         \
		return 0;                                            \
	}
/* The unsigned value as the signed engine type of the same bits. */
#define KB_HP_K_UNSIGNED_ARG(name, T, UT, HI)                        \
	static inline int kb_hp_k_##name##_arg(PyObject *o, T *out) \
	{                                                            \
		unsigned long long x;                                \
                                                                     \
		if (kb_hp_k_unsigned(o, (HI), &x) < 0)               \
			return -1;                                   \
		*out = (T)(UT)x;                                     \
		return 0;                                            \
	}

KB_HP_K_SIGNED_ARG(i8, int8_t, INT8_MIN, INT8_MAX)
KB_HP_K_SIGNED_ARG(i16, int16_t, INT16_MIN, INT16_MAX)
KB_HP_K_SIGNED_ARG(i32, int32_t, INT32_MIN, INT32_MAX)
KB_HP_K_SIGNED_ARG(i64, int64_t, INT64_MIN, INT64_MAX)
KB_HP_K_SIGNED_ARG(isize, long, LONG_MIN, LONG_MAX)
KB_HP_K_UNSIGNED_ARG(u32, int32_t, uint32_t, UINT32_MAX)
KB_HP_K_UNSIGNED_ARG(u64, int64_t, uint64_t, UINT64_MAX)
KB_HP_K_UNSIGNED_ARG(usize, long, unsigned long, ULONG_MAX)
#undef KB_HP_K_UNSIGNED_ARG
#undef KB_HP_K_SIGNED_ARG

/* bool: True or False only (Rust: a bool is not an integer). */
static inline int kb_hp_k_bool_arg(PyObject *o, int8_t *out)
{
	if (o == Py_True)
		*out = 1;
	else if (o == Py_False)
		*out = 0;
	else
		return -1;
	return 0;
}

/* -- the nine value types --------------------------------------------------------- */

#define KB_HP_VAL int8_t
#define KB_HP_W(x) kb_hp_k_i8_##x
#define KB_HP_E(op) kb_hp_kb_atomic_i8_##op
#define KB_HP_CELL(s) (&((kb_hp_katomic *)(s))->cell.i8)
#define KB_HP_ARG kb_hp_k_i8_arg
#define KB_HP_RET(r) PyLong_FromLong((long)(r))
#define KB_HP_ARITH 0
#include "kernel_atomic_width.h"
#undef KB_HP_W
#undef KB_HP_ARG
#undef KB_HP_RET
#define KB_HP_W(x) kb_hp_k_bool_##x
#define KB_HP_ARG kb_hp_k_bool_arg
#define KB_HP_RET(r) PyBool_FromLong((long)((r) != 0))
#include "kernel_atomic_width.h"
#undef KB_HP_ARITH
#undef KB_HP_RET
#undef KB_HP_ARG
#undef KB_HP_CELL
#undef KB_HP_E
#undef KB_HP_W
#undef KB_HP_VAL

#define KB_HP_VAL int16_t
#define KB_HP_W(x) kb_hp_k_i16_##x
#define KB_HP_E(op) kb_hp_kb_atomic_i16_##op
#define KB_HP_CELL(s) (&((kb_hp_katomic *)(s))->cell.i16)
#define KB_HP_ARG kb_hp_k_i16_arg
#define KB_HP_RET(r) PyLong_FromLong((long)(r))
#define KB_HP_ARITH 0
#include "kernel_atomic_width.h"
#undef KB_HP_ARITH
#undef KB_HP_RET
#undef KB_HP_ARG
#undef KB_HP_CELL
#undef KB_HP_E
#undef KB_HP_W
#undef KB_HP_VAL

#define KB_HP_ARITH 1
#define KB_HP_VAL int32_t
#define KB_HP_E(op) kb_hp_kb_atomic_##op
#define KB_HP_CELL(s) (&((kb_hp_katomic *)(s))->cell.i32)
#define KB_HP_W(x) kb_hp_k_i32_##x
#define KB_HP_ARG kb_hp_k_i32_arg
#define KB_HP_RET(r) PyLong_FromLong((long)(r))
#include "kernel_atomic_width.h"
#undef KB_HP_RET
#undef KB_HP_ARG
#undef KB_HP_W
#define KB_HP_W(x) kb_hp_k_u32_##x
#define KB_HP_ARG kb_hp_k_u32_arg
#define KB_HP_RET(r) PyLong_FromUnsignedLong((unsigned long)(uint32_t)(r))
#include "kernel_atomic_width.h"
#undef KB_HP_RET
#undef KB_HP_ARG
#undef KB_HP_W
#undef KB_HP_CELL
#undef KB_HP_E
#undef KB_HP_VAL

#define KB_HP_VAL int64_t
#define KB_HP_E(op) kb_hp_kb_atomic64_##op
#define KB_HP_CELL(s) (&((kb_hp_katomic *)(s))->cell.i64)
#define KB_HP_W(x) kb_hp_k_i64_##x
#define KB_HP_ARG kb_hp_k_i64_arg
#define KB_HP_RET(r) PyLong_FromLongLong((long long)(r))
#include "kernel_atomic_width.h"
#undef KB_HP_RET
#undef KB_HP_ARG
#undef KB_HP_W
#define KB_HP_W(x) kb_hp_k_u64_##x
#define KB_HP_ARG kb_hp_k_u64_arg
#define KB_HP_RET(r) PyLong_FromUnsignedLongLong((unsigned long long)(uint64_t)(r))
#include "kernel_atomic_width.h"
#undef KB_HP_RET
#undef KB_HP_ARG
#undef KB_HP_W
#undef KB_HP_CELL
#undef KB_HP_E
#undef KB_HP_VAL

#define KB_HP_VAL long
#define KB_HP_E(op) kb_hp_kb_atomic_long_##op
#define KB_HP_CELL(s) (&((kb_hp_katomic *)(s))->cell.l)
#define KB_HP_W(x) kb_hp_k_isize_##x
#define KB_HP_ARG kb_hp_k_isize_arg
#define KB_HP_RET(r) PyLong_FromLong(r)
#include "kernel_atomic_width.h"
#undef KB_HP_RET
#undef KB_HP_ARG
#undef KB_HP_W
#define KB_HP_W(x) kb_hp_k_usize_##x
#define KB_HP_ARG kb_hp_k_usize_arg
#define KB_HP_RET(r) PyLong_FromUnsignedLong((unsigned long)(r))
#include "kernel_atomic_width.h"
#undef KB_HP_RET
#undef KB_HP_ARG
#undef KB_HP_W
#undef KB_HP_CELL
#undef KB_HP_E
#undef KB_HP_VAL
#undef KB_HP_ARITH

/* Each Rust T by name (the names kbind.kernel.sync.atomic passes), its methods. */
static const struct {
	const char *name;
	PyMethodDef *methods;
	int nops;
} kb_hp_k_kinds[] = {
	{ "i8", kb_hp_k_i8_methods, 4 },	  { "i16", kb_hp_k_i16_methods, 4 },
	{ "i32", kb_hp_k_i32_methods, 7 },	  { "i64", kb_hp_k_i64_methods, 7 },
	{ "isize", kb_hp_k_isize_methods, 7 }, { "u32", kb_hp_k_u32_methods, 7 },
	{ "u64", kb_hp_k_u64_methods, 7 },	  { "usize", kb_hp_k_usize_methods, 7 },
	{ "bool", kb_hp_k_bool_methods, 4 },
};

#define KB_HP_K_NKINDS (sizeof(kb_hp_k_kinds) / sizeof(kb_hp_k_kinds[0]))

/* -- the type ------------------------------------------------------------------------ */

static PyTypeObject kb_hp_KernelAtomic_Type;

static PyObject *kb_hp_k_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
	(void)args; /* the Python __init__ takes the value */
	(void)kwds;
	if (type == &kb_hp_KernelAtomic_Type) {
		PyErr_SetString(PyExc_TypeError,
				"cannot create 'KernelAtomic' instances: use "
				"kbind.kernel.sync.atomic.Atomic[I32](v) or AtomicFlag(b)");
		return NULL;
	}
	return type->tp_alloc(type, 0); /* zeroed: the cell starts at 0 */
}

static void kb_hp_k_dealloc(PyObject *self)
{
	if (((kb_hp_katomic *)self)->weakreflist != NULL)
		PyObject_ClearWeakRefs(self);
	Py_TYPE(self)->tp_free(self);
}

static PyObject *kb_hp_k_address(PyObject *self, void *closure)
{
	(void)closure;
	return PyLong_FromVoidPtr(&((kb_hp_katomic *)self)->cell);
}

static PyGetSetDef kb_hp_k_getset[] = {
	{ "_address", kb_hp_k_address, NULL,
	  "The address of the engine cell inside this object (valid while it lives).", NULL },
	{ NULL, NULL, NULL, NULL, NULL }
};

static PyTypeObject kb_hp_KernelAtomic_Type = {
	PyVarObject_HEAD_INIT(NULL, 0)
	.tp_name = "kbind._bridge._hotpath.KernelAtomic",
	.tp_basicsize = sizeof(kb_hp_katomic),
	.tp_dealloc = kb_hp_k_dealloc,
	.tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,
	.tp_doc = "The C half of kbind.kernel.sync.atomic (private: use Atomic[T] or AtomicFlag).",
	.tp_weaklistoffset = offsetof(kb_hp_katomic, weakreflist),
	.tp_getset = kb_hp_k_getset,
	.tp_new = kb_hp_k_new,
};

/* -- bind_kernel_atomics() ------------------------------------------------------------- */

static int kb_hp_k_check_orderings(PyObject *orderings)
{
	if (!PyTuple_Check(orderings) || PyTuple_GET_SIZE(orderings) != KB_HP_K_NORDERINGS) {
		PyErr_SetString(PyExc_TypeError, "bind_kernel_atomics(): orderings must be "
						 "(Relaxed, Acquire, Release, Full)");
		return -1;
	}
	for (int i = 0; i < KB_HP_K_NORDERINGS; i++) {
		PyObject *suffix = PyObject_GetAttrString(PyTuple_GET_ITEM(orderings, i), "suffix");
		int ok = suffix != NULL && PyUnicode_Check(suffix) &&
			 PyUnicode_CompareWithASCIIString(suffix, kb_hp_k_suffixes[i]) == 0;

		Py_XDECREF(suffix);
		if (!ok) {
			if (!PyErr_Occurred())
				PyErr_Format(PyExc_ValueError,
					     "bind_kernel_atomics(): orderings[%d] must have suffix '%s'",
					     i, kb_hp_k_suffixes[i]);
			return -1;
		}
	}
	return 0;
}

/* classes: ((cls, kind), ...); the index of each kind, or -1. */
static int kb_hp_k_kind(PyObject *entry, PyObject **cls)
{
	PyObject *name;

	if (!PyTuple_Check(entry) || PyTuple_GET_SIZE(entry) != 2 ||
	    !PyType_Check(PyTuple_GET_ITEM(entry, 0)) ||
	    !PyType_IsSubtype((PyTypeObject *)PyTuple_GET_ITEM(entry, 0),
			      &kb_hp_KernelAtomic_Type) ||
	    (PyTypeObject *)PyTuple_GET_ITEM(entry, 0) == &kb_hp_KernelAtomic_Type ||
	    !PyUnicode_Check(PyTuple_GET_ITEM(entry, 1))) {
		PyErr_SetString(PyExc_TypeError, "bind_kernel_atomics(): classes must be "
						 "((subclass of KernelAtomic, kind), ...)");
		return -1;
	}
	*cls = PyTuple_GET_ITEM(entry, 0);
	name = PyTuple_GET_ITEM(entry, 1);
	for (size_t k = 0; k < KB_HP_K_NKINDS; k++) {
		if (PyUnicode_CompareWithASCIIString(name, kb_hp_k_kinds[k].name) == 0)
			return (int)k;
	}
	PyErr_Format(PyExc_ValueError, "bind_kernel_atomics(): unknown kind %R", name);
	return -1;
}

/* Each method as a descriptor of the class itself (see atomic_type.c: CPython
 * specialises calls only to descriptors of the instance's exact class). */
static int kb_hp_k_install(PyObject *classes)
{
	for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(classes); i++) {
		PyObject *cls;
		int k = kb_hp_k_kind(PyTuple_GET_ITEM(classes, i), &cls);

		if (k < 0)
			return -1;
		for (int op = 0; op < kb_hp_k_kinds[k].nops; op++) {
			PyMethodDef *def = &kb_hp_k_kinds[k].methods[op];
			PyObject *descr = PyDescr_NewMethod((PyTypeObject *)cls, def);
			int rc;

			if (descr == NULL)
				return -1;
			rc = PyObject_SetAttrString(cls, def->ml_name, descr);
			Py_DECREF(descr);
			if (rc < 0)
				return -1;
		}
	}
	return 0;
}

static PyObject *bind_kernel_atomics(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
	PyObject *fns[KB_HP_K_NOPS];
	char *docs[KB_HP_K_NOPS] = { NULL };
	PyObject *cls;

	(void)module;
	if (nargs != 4) {
		PyErr_SetString(PyExc_TypeError, "bind_kernel_atomics(orderings, methods, classes, "
						 "results) takes 4 arguments");
		return NULL;
	}
	if (kb_hp_k_bound) {
		PyErr_SetString(PyExc_RuntimeError, "kernel atomics are bound already");
		return NULL;
	}
	if (!kb_hp_engine_bound()) {
		PyErr_SetString(PyExc_RuntimeError, "kbind._bridge._hotpath: bind_engine() must "
						    "come before bind_kernel_atomics()");
		return NULL;
	}
	if (kb_hp_k_check_orderings(args[0]) < 0)
		return NULL;
	if (!PyTuple_Check(args[2]) || !PyTuple_Check(args[3]) || PyTuple_GET_SIZE(args[3]) != 2 ||
	    !PyDict_Check(args[1])) {
		PyErr_SetString(PyExc_TypeError, "bind_kernel_atomics(): methods must be a dict, "
						 "classes a tuple, results (CmpxchgOk, CmpxchgErr)");
		return NULL;
	}
	for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(args[2]); i++) {
		if (kb_hp_k_kind(PyTuple_GET_ITEM(args[2], i), &cls) < 0)
			return NULL;
	}
	for (int op = 0; op < KB_HP_K_NOPS; op++) {
		PyObject *entry = PyDict_GetItemString(args[1], kb_hp_k_op_names[op]);
		const char *doc;

		if (entry == NULL || !PyTuple_Check(entry) || PyTuple_GET_SIZE(entry) != 2 ||
		    !PyCallable_Check(PyTuple_GET_ITEM(entry, 0)) ||
		    !PyUnicode_Check(PyTuple_GET_ITEM(entry, 1))) {
			PyErr_Format(PyExc_TypeError,
				     "bind_kernel_atomics(): methods['%s'] must be (function, doc)",
				     kb_hp_k_op_names[op]);
			goto fail;
		}
		fns[op] = PyTuple_GET_ITEM(entry, 0);
		doc = PyUnicode_AsUTF8(PyTuple_GET_ITEM(entry, 1));
		if (doc == NULL)
			goto fail;
		/* kept for the process: the descriptors read it from the tables */
		docs[op] = PyMem_RawMalloc(strlen(doc) + 1);
		if (docs[op] == NULL) {
			PyErr_NoMemory();
			goto fail;
		}
		memcpy(docs[op], doc, strlen(doc) + 1);
	}
	for (size_t k = 0; k < KB_HP_K_NKINDS; k++) {
		for (int op = 0; op < kb_hp_k_kinds[k].nops; op++)
			kb_hp_k_kinds[k].methods[op].ml_doc = docs[op];
	}
	for (int op = 0; op < KB_HP_K_NOPS; op++)
		kb_hp_k_py_methods[op] = Py_NewRef(fns[op]);
	for (int i = 0; i < KB_HP_K_NORDERINGS; i++)
		kb_hp_k_orderings[i] = Py_NewRef(PyTuple_GET_ITEM(args[0], i));
	kb_hp_k_ok = Py_NewRef(PyTuple_GET_ITEM(args[3], 0));
	kb_hp_k_err = Py_NewRef(PyTuple_GET_ITEM(args[3], 1));
	kb_hp_k_bound = 1;
	if (kb_hp_k_install(args[2]) < 0)
		return NULL;
	Py_RETURN_NONE;
fail:
	for (int op = 0; op < KB_HP_K_NOPS; op++)
		PyMem_RawFree(docs[op]);
	return NULL;
}

static PyMethodDef kb_hp_k_functions[] = {
	{ "bind_kernel_atomics", (PyCFunction)(void (*)(void))bind_kernel_atomics, METH_FASTCALL,
	  "bind_kernel_atomics(orderings, methods, classes, results): give kernel::sync::atomic's "
	  "hot path the ordering markers, per operation (typed Python method, doc), the classes "
	  "as ((class, kind), ...) and (CmpxchgOk, CmpxchgErr); put the C methods in the "
	  "classes (called once, by kbind.kernel.sync.atomic)." },
	{ NULL, NULL, 0, NULL }
};

int kb_hp_init_kernel_atomics(PyObject *m)
{
	for (int op = 0; op < KB_HP_K_NOPS; op++)
		KB_INTERN(kb_hp_k_py_names[op], kb_hp_k_op_names[op]);
	KB_INTERN(kb_hp_k_str_reject, "_reject");
	if (PyType_Ready(&kb_hp_KernelAtomic_Type) < 0)
		return -1;
	if (PyModule_AddObjectRef(m, "KernelAtomic", (PyObject *)&kb_hp_KernelAtomic_Type) < 0)
		return -1;
	return PyModule_AddFunctions(m, kb_hp_k_functions);
}

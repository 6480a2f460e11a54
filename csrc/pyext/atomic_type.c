/* SPDX-License-Identifier: MIT */
/*
 * csrc/pyext/atomic_type.c - the hot path of kbind's LKMM atomics.
 *
 * Three C types, one per engine cell: Atomic32 (kb_atomic_t), Atomic64
 * (kb_atomic64_t) and AtomicULong (kb_atomic_long_t, read as unsigned).  The
 * public classes of kbind.atomic derive from them (AtomicI64 from Atomic64
 * and kbind.atomic._Atomic), and bind_atomics() puts the C methods in those
 * classes, so a.fetch_add(1, Full) is one METH_FASTCALL call here: the
 * ordering is recognised by identity, the operand converted and
 * range-checked, and the engine's function for that operation and ordering
 * (csrc/engine/atomic.c, a real hardware atomic) called through the pointer
 * kbind._bridge.native bound (engine_fns.h).  The GIL is never released: nothing
 * here waits.
 *
 * The cell lives inside the object.  Everything that is not the hot path
 * stays in Python and is reached from here only when needed:
 *   - a refused call (an ordering the operation lacks, a non-int operand, an
 *     operand out of range) raises the exception self._reject(op, ordering,
 *     *operands) builds, so every message is kbind.atomic's;
 *   - any other call shape (keyword arguments, a wrong number of arguments)
 *     is handed to the typed Python method of kbind.atomic._Atomic, which
 *     binds the arguments as Python does (its TypeErrors) and calls back here
 *     positionally.
 * kbind.atomic hands over the orderings and those methods with bind_atomics().
 */
#include "hotpath.h"

#include <limits.h>
#include <string.h>

/* Every operation, in the order of kbind.atomic (one method per width each). */
#define KB_HP_ATOMIC_OPS(X)                                                                   \
	X(load) X(store) X(add) X(sub) X(inc) X(dec) X(add_return) X(sub_return) X(inc_return) \
	X(dec_return) X(fetch_add) X(fetch_sub) X(fetch_inc) X(fetch_dec) X(fetch_and)         \
	X(fetch_or) X(fetch_xor) X(fetch_andnot) X(xchg) X(cmpxchg) X(try_cmpxchg)             \
	X(add_negative) X(sub_and_test) X(dec_and_test) X(inc_and_test) X(fetch_add_unless)    \
	X(add_unless) X(inc_not_zero)

enum kb_hp_atomic_op {
#define KB_HP_X(op) KB_HP_OP_##op,
	KB_HP_ATOMIC_OPS(KB_HP_X)
#undef KB_HP_X
	KB_HP_NOPS
};

static const char *const kb_hp_op_names[KB_HP_NOPS] = {
#define KB_HP_X(op) #op,
	KB_HP_ATOMIC_OPS(KB_HP_X)
#undef KB_HP_X
};

/* Ordering indices: the order of kbind.ordering.ALL_ORDERINGS. */
enum { KB_HP_RELAXED, KB_HP_ACQUIRE, KB_HP_RELEASE, KB_HP_FULL, KB_HP_NORDERINGS };

static const char *const kb_hp_ordering_suffixes[KB_HP_NORDERINGS] = { "_relaxed", "_acquire",
								       "_release", "" };

/* Set once by bind_atomics() (strong references, kept for the process). */
static PyObject *kb_hp_orderings[KB_HP_NORDERINGS];
static PyObject *kb_hp_py_methods[KB_HP_NOPS]; /* kbind.atomic._Atomic.<op> */
static PyObject *kb_hp_py_names[KB_HP_NOPS]; /* "load", ... */
static PyObject *kb_hp_str_reject; /* "_reject" */
static int kb_hp_atomics_bound;

typedef struct {
	PyObject_HEAD
	union {
		kb_atomic_t i32;
		kb_atomic64_t i64;
		kb_atomic_long_t ulong;
	} cell;
	PyObject *weakreflist;
} kb_hp_atomic;

/* The index of an ordering marker (by identity), or -1 for anything else. */
static inline int kb_hp_ordering(PyObject *o)
{
	for (int i = 0; i < KB_HP_NORDERINGS; i++) {
		if (o == kb_hp_orderings[i])
			return i;
	}
	return -1;
}

static int kb_hp_atomic_unbound(void)
{
	PyErr_SetString(PyExc_RuntimeError,
			"kbind._bridge._hotpath: atomics used before kbind.atomic bound them");
	return -1;
}

/*
 * Raise the exception self._reject(op, ordering, *operands) returns, for a
 * positional call whose ordering (bad_ordering) or operands were refused.
 * A refused ordering of load or fetch_add is raised "from None", everything
 * else plainly, as kbind.atomic's Python implementation did.
 */
static PyObject *kb_hp_atomic_reject(PyObject *self, int op, PyObject *const *args,
				     Py_ssize_t nv, int bad_ordering)
{
	PyObject *call[5];
	PyObject *exc;

	if (!kb_hp_atomics_bound) {
		kb_hp_atomic_unbound();
		return NULL;
	}
	call[0] = self;
	call[1] = kb_hp_py_names[op];
	call[2] = args[nv];
	for (Py_ssize_t i = 0; i < nv; i++)
		call[3 + i] = args[i];
	exc = PyObject_VectorcallMethod(kb_hp_str_reject, call, (size_t)(3 + nv), NULL);
	if (exc == NULL)
		return NULL;
	if (!PyExceptionInstance_Check(exc)) {
		PyErr_Format(PyExc_TypeError, "%s._reject() returned %.200s, not an exception",
			     Py_TYPE(self)->tp_name, Py_TYPE(exc)->tp_name);
		Py_DECREF(exc);
		return NULL;
	}
	if (bad_ordering && (op == KB_HP_OP_load || op == KB_HP_OP_fetch_add))
		PyException_SetCause(exc, NULL); /* from None: also sets __suppress_context__ */
	PyErr_SetObject((PyObject *)Py_TYPE(exc), exc);
	Py_DECREF(exc);
	return NULL;
}

/* Any call that is not "operands, then the ordering, positionally": the typed
 * Python method binds the arguments (or raises Python's TypeError) and calls
 * back positionally. */
static PyObject *kb_hp_atomic_slow(PyObject *self, int op, PyObject *const *args,
				   Py_ssize_t nargs, PyObject *kwnames)
{
	Py_ssize_t n = nargs + (kwnames != NULL ? PyTuple_GET_SIZE(kwnames) : 0);
	PyObject *small[8];
	PyObject **call = small;
	PyObject *result;

	if (!kb_hp_atomics_bound) {
		kb_hp_atomic_unbound();
		return NULL;
	}
	if (n + 1 > (Py_ssize_t)(sizeof(small) / sizeof(small[0]))) {
		call = PyMem_New(PyObject *, (size_t)n + 1);
		if (call == NULL)
			return PyErr_NoMemory();
	}
	call[0] = self;
	if (n > 0)
		memcpy(call + 1, args, (size_t)n * sizeof(*args));
	result = PyObject_Vectorcall(kb_hp_py_methods[op], call, (size_t)nargs + 1, kwnames);
	if (call != small)
		PyMem_Free(call);
	return result;
}

/* (ok, value) for try_cmpxchg; steals value. */
static PyObject *kb_hp_atomic_pair(int ok, PyObject *value)
{
	PyObject *pair;

	if (value == NULL)
		return NULL;
	pair = PyTuple_New(2);
	if (pair == NULL) {
		Py_DECREF(value);
		return NULL;
	}
	PyTuple_SET_ITEM(pair, 0, PyBool_FromLong(ok));
	PyTuple_SET_ITEM(pair, 1, value);
	return pair;
}

/* -- operand conversions: an int (or int subclass) in the width's Python range */

static inline int kb_hp_i32_arg(PyObject *o, int32_t *out)
{
	int overflow;
	long x;

	if (!PyLong_Check(o))
		return -1;
	x = PyLong_AsLongAndOverflow(o, &overflow);
	if (overflow != 0 || x < INT32_MIN || x > INT32_MAX)
		return -1;
	*out = (int32_t)x;
	return 0;
}

_Static_assert(sizeof(long long) == sizeof(int64_t), "long long must be int64_t");

static inline int kb_hp_i64_arg(PyObject *o, int64_t *out)
{
	int overflow;
	long long x;

	if (!PyLong_Check(o))
		return -1;
	x = PyLong_AsLongLongAndOverflow(o, &overflow);
	if (overflow != 0)
		return -1;
	*out = (int64_t)x;
	return 0;
}

/* [0, ULONG_MAX], handed to the engine as the long of the same bits. */
static inline int kb_hp_ulong_arg(PyObject *o, long *out)
{
	int overflow;
	long x;
	unsigned long u;

	if (!PyLong_Check(o))
		return -1;
	x = PyLong_AsLongAndOverflow(o, &overflow);
	if (overflow == 0) {
		if (x < 0)
			return -1;
		*out = x;
		return 0;
	}
	if (overflow < 0)
		return -1;
	u = PyLong_AsUnsignedLong(o); /* (LONG_MAX, ULONG_MAX], or an OverflowError */
	if (u == (unsigned long)-1 && PyErr_Occurred()) {
		PyErr_Clear(); /* refused: _reject builds the error */
		return -1;
	}
	*out = (long)u;
	return 0;
}

static inline PyObject *kb_hp_ulong_ret(long r)
{
	return PyLong_FromUnsignedLong((unsigned long)r);
}

/* -- the three widths -------------------------------------------------------- */

#define KB_HP_W(x) kb_hp_i32_##x
#define KB_HP_E(op) kb_hp_kb_atomic_##op
#define KB_HP_CELL(s) (&((kb_hp_atomic *)(s))->cell.i32)
#define KB_HP_VAL int32_t
#define KB_HP_ARG kb_hp_i32_arg
#define KB_HP_RET(r) PyLong_FromLong((long)(r))
#include "atomic_width.h"
#undef KB_HP_RET
#undef KB_HP_ARG
#undef KB_HP_VAL
#undef KB_HP_CELL
#undef KB_HP_E
#undef KB_HP_W

#define KB_HP_W(x) kb_hp_i64_##x
#define KB_HP_E(op) kb_hp_kb_atomic64_##op
#define KB_HP_CELL(s) (&((kb_hp_atomic *)(s))->cell.i64)
#define KB_HP_VAL int64_t
#define KB_HP_ARG kb_hp_i64_arg
#define KB_HP_RET(r) PyLong_FromLongLong((long long)(r))
#include "atomic_width.h"
#undef KB_HP_RET
#undef KB_HP_ARG
#undef KB_HP_VAL
#undef KB_HP_CELL
#undef KB_HP_E
#undef KB_HP_W

#define KB_HP_W(x) kb_hp_ulong_##x
#define KB_HP_E(op) kb_hp_kb_atomic_long_##op
#define KB_HP_CELL(s) (&((kb_hp_atomic *)(s))->cell.ulong)
#define KB_HP_VAL long
#define KB_HP_ARG kb_hp_ulong_arg
#define KB_HP_RET(r) kb_hp_ulong_ret(r)
#include "atomic_width.h"
#undef KB_HP_RET
#undef KB_HP_ARG
#undef KB_HP_VAL
#undef KB_HP_CELL
#undef KB_HP_E
#undef KB_HP_W

/* -- the types ---------------------------------------------------------------- */

static PyTypeObject kb_hp_Atomic32_Type;
static PyTypeObject kb_hp_Atomic64_Type;
static PyTypeObject kb_hp_AtomicULong_Type;

static PyObject *kb_hp_atomic_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
	(void)args; /* kbind.atomic._Atomic.__init__ takes the value */
	(void)kwds;
	if (type == &kb_hp_Atomic32_Type || type == &kb_hp_Atomic64_Type ||
	    type == &kb_hp_AtomicULong_Type) {
		PyErr_Format(PyExc_TypeError,
			     "cannot create '%s' instances: use kbind.AtomicI32, "
			     "kbind.AtomicI64 or kbind.AtomicUsize",
			     type->tp_name);
		return NULL;
	}
	return type->tp_alloc(type, 0); /* zeroed: the cell starts at 0 */
}

static void kb_hp_atomic_dealloc(PyObject *self)
{
	if (((kb_hp_atomic *)self)->weakreflist != NULL)
		PyObject_ClearWeakRefs(self);
	Py_TYPE(self)->tp_free(self);
}

static PyObject *kb_hp_atomic_address(PyObject *self, void *closure)
{
	(void)closure;
	return PyLong_FromVoidPtr(&((kb_hp_atomic *)self)->cell);
}

static PyGetSetDef kb_hp_atomic_getset[] = {
	{ "_address", kb_hp_atomic_address, NULL,
	  "The address of the engine cell inside this object (valid while it lives).", NULL },
	{ NULL, NULL, NULL, NULL, NULL }
};

/* The methods are not the types' own: bind_atomics() puts them in the public
 * classes (see there). */
#define KB_HP_ATOMIC_TYPE(NAME, CELL)                                                           \
	static PyTypeObject kb_hp_##NAME##_Type = {                                            \
		PyVarObject_HEAD_INIT(NULL, 0)                                                  \
		.tp_name = "kbind._bridge._hotpath." #NAME,                                             \
		.tp_basicsize = sizeof(kb_hp_atomic),                                           \
		.tp_dealloc = kb_hp_atomic_dealloc,                                             \
		.tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,                           \
		.tp_doc = "The C half of kbind's atomics over the engine's " CELL               \
			  " (private: use kbind.AtomicI32, AtomicI64, AtomicUsize).",            \
		.tp_weaklistoffset = offsetof(kb_hp_atomic, weakreflist),                       \
		.tp_getset = kb_hp_atomic_getset,                                               \
		.tp_new = kb_hp_atomic_new,                                                     \
	};

KB_HP_ATOMIC_TYPE(Atomic32, "kb_atomic_t")
KB_HP_ATOMIC_TYPE(Atomic64, "kb_atomic64_t")
KB_HP_ATOMIC_TYPE(AtomicULong, "kb_atomic_long_t")
#undef KB_HP_ATOMIC_TYPE

/* Each C type and its width's methods. */
static const struct {
	PyTypeObject *type;
	PyMethodDef *methods;
} kb_hp_atomic_widths[] = {
	{ &kb_hp_Atomic32_Type, kb_hp_i32_methods },
	{ &kb_hp_Atomic64_Type, kb_hp_i64_methods },
	{ &kb_hp_AtomicULong_Type, kb_hp_ulong_methods },
};

#define KB_HP_NWIDTHS (sizeof(kb_hp_atomic_widths) / sizeof(kb_hp_atomic_widths[0]))

/* -- bind_atomics() ------------------------------------------------------------ */

/* methods[name] = (function, doc): check every operation has one. */
static int kb_hp_check_methods(PyObject *methods, PyObject **fns, const char **docs)
{
	if (!PyDict_Check(methods)) {
		PyErr_SetString(PyExc_TypeError, "bind_atomics(): methods must be a dict");
		return -1;
	}
	for (int op = 0; op < KB_HP_NOPS; op++) {
		PyObject *entry = PyDict_GetItemString(methods, kb_hp_op_names[op]);

		if (entry == NULL || !PyTuple_Check(entry) || PyTuple_GET_SIZE(entry) != 2 ||
		    !PyCallable_Check(PyTuple_GET_ITEM(entry, 0)) ||
		    !PyUnicode_Check(PyTuple_GET_ITEM(entry, 1))) {
			PyErr_Format(PyExc_TypeError,
				     "bind_atomics(): methods['%s'] must be (function, doc)",
				     kb_hp_op_names[op]);
			return -1;
		}
		fns[op] = PyTuple_GET_ITEM(entry, 0);
		docs[op] = PyUnicode_AsUTF8(PyTuple_GET_ITEM(entry, 1));
		if (docs[op] == NULL)
			return -1;
	}
	return 0;
}

/* orderings: (Relaxed, Acquire, Release, Full), checked by their kernel suffixes. */
static int kb_hp_check_orderings(PyObject *orderings)
{
	if (!PyTuple_Check(orderings) || PyTuple_GET_SIZE(orderings) != KB_HP_NORDERINGS) {
		PyErr_SetString(PyExc_TypeError,
				"bind_atomics(): orderings must be (Relaxed, Acquire, Release, Full)");
		return -1;
	}
	for (int i = 0; i < KB_HP_NORDERINGS; i++) {
		PyObject *suffix = PyObject_GetAttrString(PyTuple_GET_ITEM(orderings, i), "suffix");
		int ok = suffix != NULL && PyUnicode_Check(suffix) &&
			 PyUnicode_CompareWithASCIIString(suffix, kb_hp_ordering_suffixes[i]) == 0;

		Py_XDECREF(suffix);
		if (!ok) {
			if (!PyErr_Occurred())
				PyErr_Format(PyExc_ValueError,
					     "bind_atomics(): orderings[%d] must have suffix '%s'", i,
					     kb_hp_ordering_suffixes[i]);
			return -1;
		}
	}
	return 0;
}

/* classes: Python subclasses of the C types; each class's width (-1: error). */
static int kb_hp_class_width(PyObject *cls)
{
	if (PyType_Check(cls)) {
		for (size_t w = 0; w < KB_HP_NWIDTHS; w++) {
			if ((PyTypeObject *)cls != kb_hp_atomic_widths[w].type &&
			    PyType_IsSubtype((PyTypeObject *)cls, kb_hp_atomic_widths[w].type))
				return (int)w;
		}
	}
	PyErr_Format(PyExc_TypeError,
		     "bind_atomics(): %R is not a subclass of Atomic32, Atomic64 or AtomicULong", cls);
	return -1;
}

/*
 * Put the methods in each class, as method descriptors of that class: CPython
 * specialises a call to a method descriptor only for instances of exactly
 * the descriptor's class, so methods inherited from the C types would take
 * the generic call path on every call.
 */
static int kb_hp_install_methods(PyObject *classes)
{
	Py_ssize_t n = PyTuple_GET_SIZE(classes);

	for (Py_ssize_t i = 0; i < n; i++) {
		PyObject *cls = PyTuple_GET_ITEM(classes, i);
		PyMethodDef *methods = kb_hp_atomic_widths[kb_hp_class_width(cls)].methods;

		for (int op = 0; op < KB_HP_NOPS; op++) {
			PyObject *descr = PyDescr_NewMethod((PyTypeObject *)cls, &methods[op]);
			int rc;

			if (descr == NULL)
				return -1;
			rc = PyObject_SetAttrString(cls, methods[op].ml_name, descr);
			Py_DECREF(descr);
			if (rc < 0)
				return -1;
		}
	}
	return 0;
}

static PyObject *bind_atomics(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
	PyObject *fns[KB_HP_NOPS];
	const char *docs[KB_HP_NOPS];
	char *copies[KB_HP_NOPS] = { NULL };

	(void)module;
	if (nargs != 3) {
		PyErr_SetString(PyExc_TypeError,
				"bind_atomics(orderings, methods, classes) takes 3 arguments");
		return NULL;
	}
	if (kb_hp_atomics_bound) {
		PyErr_SetString(PyExc_RuntimeError, "kbind._bridge._hotpath's atomics are bound already");
		return NULL;
	}
	if (!kb_hp_engine_bound()) {
		PyErr_SetString(PyExc_RuntimeError,
				"kbind._bridge._hotpath: bind_engine() must come before bind_atomics()");
		return NULL;
	}
	if (kb_hp_check_orderings(args[0]) < 0 || kb_hp_check_methods(args[1], fns, docs) < 0)
		return NULL;
	if (!PyTuple_Check(args[2])) {
		PyErr_SetString(PyExc_TypeError, "bind_atomics(): classes must be a tuple");
		return NULL;
	}
	for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(args[2]); i++) {
		if (kb_hp_class_width(PyTuple_GET_ITEM(args[2], i)) < 0)
			return NULL;
	}
	/* The documentation of each method (with its __text_signature__), kept for
	 * the process: the descriptors read it from the method tables. */
	for (int op = 0; op < KB_HP_NOPS; op++) {
		size_t len = strlen(docs[op]) + 1;

		copies[op] = PyMem_RawMalloc(len);
		if (copies[op] == NULL) {
			for (int i = 0; i < op; i++)
				PyMem_RawFree(copies[i]);
			return PyErr_NoMemory();
		}
		memcpy(copies[op], docs[op], len);
	}
	for (size_t w = 0; w < KB_HP_NWIDTHS; w++) {
		for (int op = 0; op < KB_HP_NOPS; op++)
			kb_hp_atomic_widths[w].methods[op].ml_doc = copies[op];
	}
	for (int op = 0; op < KB_HP_NOPS; op++)
		kb_hp_py_methods[op] = Py_NewRef(fns[op]);
	for (int i = 0; i < KB_HP_NORDERINGS; i++)
		kb_hp_orderings[i] = Py_NewRef(PyTuple_GET_ITEM(args[0], i));
	kb_hp_atomics_bound = 1;
	/* Last: until here no class has a C method.  (Only a failed allocation can
	 * stop it half-way; a class then keeps its typed Python methods, which
	 * reach C for the operations already installed.) */
	if (kb_hp_install_methods(args[2]) < 0)
		return NULL;
	Py_RETURN_NONE;
}

static PyMethodDef kb_hp_atomic_functions[] = {
	{ "bind_atomics", (PyCFunction)(void (*)(void))bind_atomics, METH_FASTCALL,
	  "bind_atomics(orderings, methods, classes): give the atomics the ordering markers "
	  "(Relaxed, Acquire, Release, Full) and, per operation, (typed Python method, doc), "
	  "and put the C methods in classes, the public subclasses of the C types "
	  "(called once, by kbind.atomic)." },
	{ NULL, NULL, 0, NULL }
};

int kb_hp_init_atomics(PyObject *m)
{
	static PyTypeObject *const types[] = { &kb_hp_Atomic32_Type, &kb_hp_Atomic64_Type,
					       &kb_hp_AtomicULong_Type };

	for (int op = 0; op < KB_HP_NOPS; op++) {
		kb_hp_py_names[op] = PyUnicode_InternFromString(kb_hp_op_names[op]);
		if (kb_hp_py_names[op] == NULL)
			return -1;
	}
	kb_hp_str_reject = PyUnicode_InternFromString("_reject");
	if (kb_hp_str_reject == NULL)
		return -1;
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		if (PyType_Ready(types[i]) < 0)
			return -1;
		/* PyModule_AddObjectRef: the module's reference is its own; ours is static. */
		if (PyModule_AddObjectRef(m, types[i]->tp_name + sizeof("kbind._bridge._hotpath.") - 1,
					  (PyObject *)types[i]) < 0)
			return -1;
	}
	return PyModule_AddFunctions(m, kb_hp_atomic_functions);
}

/* SPDX-License-Identifier: MIT */
/*
 * csrc/pyext/engine.c - how kbind._bridge._hotpath reaches the one C engine.
 *
 * The engine is compiled once, into the cffi module kbind._bridge._ffi.  This module
 * links none of it; kbind._bridge.native calls bind_engine() at import with the
 * address of every function listed in engine_fns.h, which it takes from the
 * cffi module (ffi.addressof(lib, name)).  Until then every hot-path call
 * that needs the engine raises instead of jumping through a NULL pointer.
 */
#include "hotpath.h"

#define KB_HP_FN(name) __typeof__(&name) kb_hp_##name;
#include "engine_fns.h"
#undef KB_HP_FN

struct kb_hp_binding {
	const char *name;
	void **slot;
};

/* Function pointers and object pointers are converted through void ** here:
 * the platforms kbind supports (x86-64, aarch64; POSIX) make them the same. */
static const struct kb_hp_binding kb_hp_bindings[] = {
#define KB_HP_FN(name) { #name, (void **)&kb_hp_##name },
#include "engine_fns.h"
#undef KB_HP_FN
};

#define KB_HP_NBINDINGS (sizeof(kb_hp_bindings) / sizeof(kb_hp_bindings[0]))

static int kb_hp_bound;

int kb_hp_engine_bound(void)
{
	return kb_hp_bound;
}

static PyObject *engine_functions(PyObject *self, PyObject *unused)
{
	PyObject *names = PyTuple_New((Py_ssize_t)KB_HP_NBINDINGS);

	(void)self;
	(void)unused;
	if (names == NULL)
		return NULL;
	for (size_t i = 0; i < KB_HP_NBINDINGS; i++) {
		PyObject *s = PyUnicode_FromString(kb_hp_bindings[i].name);

		if (s == NULL) {
			Py_DECREF(names);
			return NULL;
		}
		PyTuple_SET_ITEM(names, (Py_ssize_t)i, s);
	}
	return names;
}

static PyObject *bind_engine(PyObject *self, PyObject *table)
{
	(void)self;
	if (!PyDict_Check(table)) {
		PyErr_SetString(PyExc_TypeError, "bind_engine() takes a dict {name: address}");
		return NULL;
	}
	if (kb_hp_bound) {
		PyErr_SetString(PyExc_RuntimeError, "kbind._bridge._hotpath is bound to its engine already");
		return NULL;
	}
	/* Check everything first: a partial binding is never left behind. */
	for (size_t i = 0; i < KB_HP_NBINDINGS; i++) {
		PyObject *addr = PyDict_GetItemString(table, kb_hp_bindings[i].name);

		if (addr == NULL || !PyLong_Check(addr)) {
			PyErr_Format(PyExc_ImportError,
				     "kbind._bridge._hotpath: no address for engine function %s",
				     kb_hp_bindings[i].name);
			return NULL;
		}
		if (PyLong_AsVoidPtr(addr) == NULL) {
			if (!PyErr_Occurred())
				PyErr_Format(PyExc_ImportError,
					     "kbind._bridge._hotpath: NULL address for %s",
					     kb_hp_bindings[i].name);
			return NULL;
		}
	}
	for (size_t i = 0; i < KB_HP_NBINDINGS; i++) {
		PyObject *addr = PyDict_GetItemString(table, kb_hp_bindings[i].name);

		*kb_hp_bindings[i].slot = PyLong_AsVoidPtr(addr);
	}
	kb_hp_bound = 1;
	Py_RETURN_NONE;
}

PyMethodDef kb_hp_engine_methods[] = {
	{ "engine_functions", engine_functions, METH_NOARGS,
	  "engine_functions() -> tuple[str, ...]: the engine functions bind_engine() needs." },
	{ "bind_engine", bind_engine, METH_O,
	  "bind_engine(addresses): give the module the address of each engine function "
	  "(called once, by kbind._bridge.native, with addresses from the cffi module)." },
	{ NULL, NULL, 0, NULL }
};

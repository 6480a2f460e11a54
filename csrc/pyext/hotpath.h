/* SPDX-License-Identifier: MIT */
/*
 * csrc/pyext/hotpath.h - shared declarations of the extension kbind._bridge._hotpath.
 *
 * kbind._bridge._hotpath holds the Python-facing hot-path types (scopes, bound
 * references, must-use owners, retirable cells, atomics, lock guards,
 * seqlock reads) as a hand-written CPython C-API module.  Its calls never
 * release the GIL: everything here is non-blocking.  Calls that can wait
 * (grace periods, lock waits) stay in the cffi module kbind._bridge._ffi, which
 * releases the GIL around them.  See ARCHITECTURE.md, "The hot path".
 */
#ifndef KB_HOTPATH_H
#define KB_HOTPATH_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "kbind.h" /* kbind_api.h: the engine's declarations; none of it is linked here */

/* Pointers to the engine's functions, set by kbind._bridge.native at import. */
#define KB_HP_FN(name) extern __typeof__(&name) kb_hp_##name;
#include "engine_fns.h"
#undef KB_HP_FN

/* Set @var to the interned string @text, or return -1 (in an init function). */
#define KB_INTERN(var, text)                            \
	do {                                            \
		var = PyUnicode_InternFromString(text); \
		if (var == NULL)                        \
			return -1;                      \
	} while (0)

/* engine.c */
extern PyMethodDef kb_hp_engine_methods[];
int kb_hp_engine_bound(void);

/* kinds.c */
extern PyMethodDef kb_hp_kind_methods[];

/* Each part of the module adds its types and functions (0, or -1 with an exception). */
int kb_hp_init_lifetime(PyObject *m);
int kb_hp_init_atomics(PyObject *m);
int kb_hp_init_kernel_atomics(PyObject *m);
int kb_hp_init_locks(PyObject *m);
int kb_hp_init_srcu(PyObject *m);
int kb_hp_init_seqlock(PyObject *m);

#endif /* KB_HOTPATH_H */

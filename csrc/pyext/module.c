/* SPDX-License-Identifier: MIT */
/*
 * csrc/pyext/module.c - the module object of kbind._bridge._hotpath.
 *
 * Single-phase initialisation with static types: kbind runs in the main
 * interpreter only (its engine state is per process).
 */
#include "hotpath.h"

static struct PyModuleDef kb_hp_module = {
	PyModuleDef_HEAD_INIT,
	.m_name = "kbind._bridge._hotpath",
	.m_doc = "kbind's hot-path types in C (scopes, bound references, atomics, lock "
		 "guards, seqlock reads). Private: use kbind.lifetime and kbind's primitives.",
	.m_size = -1,
	.m_methods = NULL,
};

PyMODINIT_FUNC PyInit__hotpath(void)
{
	PyObject *m = PyModule_Create(&kb_hp_module);

	if (m == NULL)
		return NULL;
	if (PyModule_AddFunctions(m, kb_hp_engine_methods) < 0 ||
	    PyModule_AddFunctions(m, kb_hp_kind_methods) < 0 || kb_hp_init_lifetime(m) < 0 ||
	    kb_hp_init_atomics(m) < 0 ||
	    kb_hp_init_kernel_atomics(m) < 0 || kb_hp_init_locks(m) < 0 || kb_hp_init_srcu(m) < 0 ||
	    kb_hp_init_seqlock(m) < 0) {
		Py_DECREF(m);
		return NULL;
	}
	return m;
}

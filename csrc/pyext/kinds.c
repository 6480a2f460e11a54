/* SPDX-License-Identifier: MIT */
/*
 * csrc/pyext/kinds.c - the C hooks of kbind's own kinds of scope.
 *
 * A kind names its hooks with ScopeHooks(..., engine="rcu_read"): the
 * begin and end of each scope then run here, in C, with the GIL held and no
 * bytecode in between (a Ctrl-C cannot split the engine's state from the
 * scope's record of it).
 */
#include "lifetime.h"

static PyObject *kb_rcu_register; /* kbind.rcu._runtime.thread_state */

static int engine_ready(void)
{
	if (kb_hp_engine_bound())
		return 1;
	PyErr_SetString(PyExc_RuntimeError, "kbind._bridge._hotpath is not bound to its engine yet");
	return 0;
}

static int refuse_engine(kb_scope *s)
{
	PyObject *r = kb_hp_scope_refuse(s, "engine", NULL);

	Py_XDECREF(r);
	if (r != NULL)
		PyErr_SetString(PyExc_RuntimeError, "kbind: the RCU engine refused the section");
	return -1;
}

/* RcuReadGuard: rcu_read_lock() / rcu_read_unlock() of the engine. */
static int rcu_read_begin(kb_scope *s)
{
	if (!engine_ready())
		return -1;
	if (!(s->owner->bits & KB_THREAD_RCU_READY)) {
		/* First section of this thread: kbind.rcu._runtime registers it
		 * with the engine (and sets KB_THREAD_RCU_READY). */
		PyObject *r;

		if (kb_rcu_register == NULL) {
			PyErr_SetString(PyExc_RuntimeError, "kbind: RCU hooks not configured");
			return -1;
		}
		r = PyObject_CallNoArgs(kb_rcu_register);
		if (r == NULL)
			return -1;
		Py_DECREF(r);
	}
	if (kb_hp_kb_rcu_py_read_enter() < 0) {
		PyErr_SetString(PyExc_MemoryError,
				"kbind: cannot register the thread with the RCU engine");
		return -1;
	}
	return 0;
}

static int rcu_read_end(kb_scope *s)
{
	if (!engine_ready())
		return -1;
	if (kb_hp_kb_rcu_py_read_exit(!(s->owner->bits & KB_THREAD_RCU_QSBR)) < 0)
		return refuse_engine(s);
	return 0;
}


const struct kb_c_hooks kb_hp_c_hooks[] = {
	{ "rcu_read", rcu_read_begin, rcu_read_end },
	{ "lock", NULL, kb_hp_lock_end },
	{ "srcu_read", kb_hp_srcu_read_begin, kb_hp_srcu_read_end },
	{ NULL, NULL, NULL },
};

static PyObject *py_configure_rcu(PyObject *self, PyObject *fn)
{
	(void)self;
	Py_INCREF(fn);
	Py_XSETREF(kb_rcu_register, fn);
	Py_RETURN_NONE;
}

PyMethodDef kb_hp_kind_methods[] = {
	{ "configure_rcu", py_configure_rcu, METH_O,
	  "configure_rcu(register): the function that registers a thread with the RCU engine "
	  "on its first read-side section (it sets the thread's RCU-ready bit)." },
	{ NULL, NULL, 0, NULL }
};

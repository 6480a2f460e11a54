/* SPDX-License-Identifier: MIT */
/*
 * csrc/pyext/hooks.c - ScopeHooks: how one kind of scope begins and ends.
 *
 * One object per kind (a Scope subclass's _kb_hooks), shared by its scopes:
 * C hooks of kbind's engine (by name, from kinds.c) and/or Python callables,
 * the leak and thread-exit reports, and an optional observer.
 */
#include "lifetime.h"

#include <structmember.h>

static PyObject *kb_str_hooks;

static int hooks_traverse(kb_hooks *h, visitproc visit, void *arg)
{
	Py_VISIT(h->py_begin);
	Py_VISIT(h->py_end);
	Py_VISIT(h->on_leak);
	Py_VISIT(h->on_thread_exit);
	Py_VISIT(h->observer);
	Py_VISIT(h->kind);
	return 0;
}

static int hooks_clear(kb_hooks *h)
{
	Py_CLEAR(h->py_begin);
	Py_CLEAR(h->py_end);
	Py_CLEAR(h->on_leak);
	Py_CLEAR(h->on_thread_exit);
	Py_CLEAR(h->observer);
	Py_CLEAR(h->kind);
	return 0;
}

static void hooks_dealloc(kb_hooks *h)
{
	PyObject_GC_UnTrack(h);
	hooks_clear(h);
	Py_TYPE(h)->tp_free((PyObject *)h);
}

PyObject *kb_hp_none_to_null(PyObject *o)
{
	if (o == NULL || o == Py_None)
		return NULL;
	Py_INCREF(o);
	return o;
}


static PyObject *hooks_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
	static char *kwlist[] = { "kind",	    "begin",	    "end",
				  "on_leak",	    "on_thread_exit", "end_anywhere",
				  "keep_at_thread_exit", "engine", NULL };
	PyObject *kind, *begin = NULL, *end = NULL, *leak = NULL, *texit = NULL;
	int anywhere = 0, keep = 0;
	const char *engine = NULL;
	kb_hooks *h;

	if (!PyArg_ParseTupleAndKeywords(args, kwds, "U|OOOOppz:ScopeHooks", kwlist, &kind, &begin,
					 &end, &leak, &texit, &anywhere, &keep, &engine))
		return NULL;
	h = (kb_hooks *)type->tp_alloc(type, 0);
	if (h == NULL)
		return NULL;
	Py_INCREF(kind);
	h->kind = kind;
	h->py_begin = kb_hp_none_to_null(begin);
	h->py_end = kb_hp_none_to_null(end);
	h->on_leak = kb_hp_none_to_null(leak);
	h->on_thread_exit = kb_hp_none_to_null(texit);
	h->end_anywhere = anywhere;
	h->keep_at_thread_exit = keep;
	if (engine != NULL) {
		const struct kb_c_hooks *c;

		for (c = kb_hp_c_hooks; c->name != NULL; c++)
			if (strcmp(c->name, engine) == 0)
				break;
		if (c->name == NULL) {
			PyErr_Format(PyExc_ValueError, "ScopeHooks: no engine hooks named %s",
				     engine);
			Py_DECREF(h);
			return NULL;
		}
		h->c_begin = c->begin;
		h->c_end = c->end;
	}
	return (PyObject *)h;
}

static PyObject *hooks_get_observer(kb_hooks *h, void *closure)
{
	(void)closure;
	return Py_NewRef(h->observer != NULL ? h->observer : Py_None);
}

static int hooks_set_observer(kb_hooks *h, PyObject *v, void *closure)
{
	(void)closure;
	Py_XSETREF(h->observer, kb_hp_none_to_null(v));
	return 0;
}

static PyGetSetDef hooks_getset[] = {
	{ "observer", (getter)hooks_get_observer, (setter)hooks_set_observer,
	  "An object told of every begin and end (_scope_begin(scope, depth), "
	  "_scope_end(scope)), or None: how kbind.trace records sections.",
	  NULL },
	{ NULL, NULL, NULL, NULL, NULL }
};

static PyMemberDef hooks_members[] = {
	{ "kind", T_OBJECT, offsetof(kb_hooks, kind), READONLY, "The kind's name." },
	{ NULL, 0, 0, 0, NULL }
};

PyTypeObject kb_hooks_type = {
	PyVarObject_HEAD_INIT(NULL, 0).tp_name = "kbind.lifetime.ScopeHooks",
	.tp_basicsize = sizeof(kb_hooks),
	.tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
	.tp_doc = "ScopeHooks(kind, begin=None, end=None, on_leak=None, on_thread_exit=None, "
		  "end_anywhere=False, keep_at_thread_exit=False, engine=None): how one kind "
		  "of scope begins and ends.  Made by kbind.lifetime.Scope.__init_subclass__.",
	.tp_new = hooks_new,
	.tp_traverse = (traverseproc)hooks_traverse,
	.tp_clear = (inquiry)hooks_clear,
	.tp_dealloc = (destructor)hooks_dealloc,
	.tp_getset = hooks_getset,
	.tp_members = hooks_members,
};
static PyTypeObject *kb_last_kind; /* single-entry cache, strong references */
static PyObject *kb_last_hooks;

kb_hooks *kb_hp_hooks_of(PyTypeObject *type)
{
	PyObject *h;

	if (type == kb_last_kind)
		return (kb_hooks *)kb_last_hooks;
	h = _PyType_Lookup(type, kb_str_hooks);
	if (h != NULL && PyObject_TypeCheck(h, &kb_hooks_type)) {
		Py_INCREF(type);
		Py_XSETREF(kb_last_kind, type);
		Py_INCREF(h);
		Py_XSETREF(kb_last_hooks, h);
	}

	if (h == NULL || !PyObject_TypeCheck(h, &kb_hooks_type)) {
		PyErr_Format(PyExc_TypeError,
			     "%s is not a kind of scope: subclass kbind.lifetime.Scope",
			     type->tp_name);
		return NULL;
	}
	return (kb_hooks *)h;
}

int kb_hp_init_hooks(PyObject *m)
{
	kb_str_hooks = PyUnicode_InternFromString("_kb_hooks");
	if (kb_str_hooks == NULL || PyType_Ready(&kb_hooks_type) < 0)
		return -1;
	return PyModule_AddObjectRef(m, "ScopeHooks", (PyObject *)&kb_hooks_type);
}

/* SPDX-License-Identifier: MIT */
/*
 * csrc/pyext/lifetime.c - thread tokens, call sites and scopes of kbind.lifetime.
 *
 * A scope is a lifetime that begins once and ends exactly once, on the
 * thread that began it (Rust: a guard is !Send).  Each scope records where
 * it began and ended (code object and instruction offset: the line is worked
 * out only when a message needs it) and sits, while open, in its thread's
 * list of open scopes (oldest first: nesting, diagnostics, leak reports).
 * Its kind's hooks run at begin and end: C functions for kbind's engines,
 * Python callables for a user's prototype.
 *
 * Thread tokens and call sites are in thread.c, kinds' hooks in hooks.c.
 *
 * Every refusal is built in Python: the C code calls the scope's
 * _kb_refuse(what, how) method, so each kind keeps its own messages.
 */
#include "lifetime.h"

#include <structmember.h>
/* Interned strings. */
static PyObject *kb_str_refuse;
static PyObject *kb_str_begin, *kb_str_end;
static PyObject *kb_how_with, *kb_how_exit, *kb_how_collected, *kb_how_empty;

/* ----------------------------------------------------------------- scopes */

static void scope_link(kb_thread *t, kb_scope *s)
{
	s->prev = t->tail;
	s->next = NULL;
	if (t->tail != NULL)
		t->tail->next = s;
	else
		t->head = s;
	t->tail = s;
}

static void scope_unlink(kb_scope *s)
{
	kb_thread *t = s->owner;

	if (t == NULL)
		return;
	if (s->prev != NULL)
		s->prev->next = s->next;
	else if (t->head == s)
		t->head = s->next;
	if (s->next != NULL)
		s->next->prev = s->prev;
	else if (t->tail == s)
		t->tail = s->prev;
	s->prev = s->next = NULL;
}

static Py_ssize_t thread_depth(kb_thread *t, PyTypeObject *kind)
{
	Py_ssize_t n = 0;

	for (kb_scope *s = t->head; s != NULL; s = s->next)
		if (kind == NULL || Py_TYPE(s) == kind)
			n++;
	return n;
}

/* Call scope._kb_refuse(what, how): it raises (NULL).  If it returns instead,
 * the refusal is waived and its result (a new reference) is returned. */
PyObject *kb_hp_scope_refuse(kb_scope *s, const char *what, PyObject *how)
{
	PyObject *w = PyUnicode_InternFromString(what);
	PyObject *r;

	if (w == NULL)
		return NULL;
	r = PyObject_CallMethodObjArgs((PyObject *)s, kb_str_refuse, w,
				       how != NULL ? how : kb_how_empty, NULL);
	Py_DECREF(w);
	return r;
}

static int observe(kb_hooks *h, PyObject *method, kb_scope *s, Py_ssize_t depth)
{
	PyObject *r;

	if (depth >= 0) {
		PyObject *d = PyLong_FromSsize_t(depth);

		if (d == NULL)
			return -1;
		r = PyObject_CallMethodObjArgs(h->observer, method, (PyObject *)s, d, NULL);
		Py_DECREF(d);
	} else {
		r = PyObject_CallMethodObjArgs(h->observer, method, (PyObject *)s, NULL);
	}
	if (r == NULL)
		return -1;
	Py_DECREF(r);
	return 0;
}

int kb_scope_begin(kb_scope *s, kb_hooks *hooks, PyObject *args)
{
	kb_thread *t = kb_current_thread();
	PyObject *code;
	int lasti;

	if (t == NULL || kb_capture_site(&code, &lasti) < 0)
		return -1;
	Py_INCREF(t);
	Py_XSETREF(s->owner, t);
	Py_INCREF(hooks);
	Py_XSETREF(s->hooks, hooks);
	Py_XSETREF(s->code, code);
	s->lasti = lasti;
	if (hooks->py_begin != NULL) {
		PyObject *r;

		if (args != NULL && PyTuple_GET_SIZE(args) > 0) {
			Py_ssize_t n = PyTuple_GET_SIZE(args);
			PyObject *full = PyTuple_New(n + 1);

			if (full == NULL)
				return -1;
			Py_INCREF(s);
			PyTuple_SET_ITEM(full, 0, (PyObject *)s);
			for (Py_ssize_t i = 0; i < n; i++) {
				PyObject *a = PyTuple_GET_ITEM(args, i);

				Py_INCREF(a);
				PyTuple_SET_ITEM(full, i + 1, a);
			}
			r = PyObject_Call(hooks->py_begin, full, NULL);
			Py_DECREF(full);
		} else {
			r = PyObject_CallOneArg(hooks->py_begin, (PyObject *)s);
		}
		if (r == NULL)
			return -1;
		Py_DECREF(r);
	} else if (args != NULL && PyTuple_GET_SIZE(args) > 0) {
		PyErr_Format(PyExc_TypeError, "%s() takes no arguments", Py_TYPE(s)->tp_name);
		return -1;
	}
	/* From here to the end: C only, no bytecode, so Ctrl-C cannot land
	 * between the engine's state and the scope's record of it. */
	if (hooks->c_begin != NULL && hooks->c_begin(s) < 0) {
		if (hooks->py_end != NULL) {
			PyObject *type, *value, *tb, *r;

			PyErr_Fetch(&type, &value, &tb);
			r = PyObject_CallOneArg(hooks->py_end, (PyObject *)s);
			Py_XDECREF(r);
			PyErr_Restore(type, value, tb);
		}
		return -1;
	}
	s->state = KB_SCOPE_OPEN;
	scope_link(t, s);
	if (hooks->observer != NULL)
		return observe(hooks, kb_str_begin, s, thread_depth(t, Py_TYPE(s)));
	return 0;
}

static void scope_mark_ended(kb_scope *s, PyObject *code, int lasti, PyObject *how)
{
	s->state = KB_SCOPE_ENDED;
	Py_XSETREF(s->end_code, code);
	s->end_lasti = lasti;
	Py_INCREF(how);
	Py_XSETREF(s->end_how, how);
	scope_unlink(s);
}

int kb_scope_end(kb_scope *s, PyObject *how)
{
	kb_hooks *h = s->hooks;
	PyObject *code;
	int lasti, rc = 0;

	if (kb_capture_site(&code, &lasti) < 0)
		return -1;
	if (h->observer != NULL && observe(h, kb_str_end, s, -1) < 0) {
		Py_DECREF(code);
		return -1;
	}
	/* Stores, then the hooks: the record and the engine never disagree
	 * at a bytecode boundary. */
	scope_mark_ended(s, code, lasti, how);
	if (h->c_end != NULL && h->c_end(s) < 0)
		rc = -1;
	if (h->py_end != NULL) {
		PyObject *r = PyObject_CallOneArg(h->py_end, (PyObject *)s);

		if (r == NULL)
			rc = -1;
		Py_XDECREF(r);
	}
	return rc;
}

/* Check @s may end now on this thread; -1 with the kind's error if not. */
static int scope_check_end(kb_scope *s, PyObject *how, int *skip)
{
	*skip = 0;
	if (s->state != KB_SCOPE_OPEN) {
		PyObject *r = kb_hp_scope_refuse(s, s->state == KB_SCOPE_NEW ? "never" : "ended", how);

		if (r == NULL)
			return -1;
		Py_DECREF(r);
		*skip = 1;
		return 0;
	}
	if (s->owner != kb_hp_thread_if_any()) {
		PyObject *r = kb_hp_scope_refuse(s, "thread", how);

		if (r == NULL)
			return -1;
		Py_DECREF(r);
		*skip = 1;
	}
	return 0;
}

int kb_hp_scope_end_checked(kb_scope *s, PyObject *how)
{
	int skip;

	if (scope_check_end(s, how, &skip) < 0)
		return -1;
	return skip ? 0 : kb_scope_end(s, how);
}

static PyObject *scope_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
	kb_scope *s;

	(void)args;
	(void)kwds;
	s = (kb_scope *)kb_hp_scope_alloc(type);
	if (s == NULL)
		return NULL;
	s->state = KB_SCOPE_NEW;
	s->lasti = s->end_lasti = -1;
	return (PyObject *)s;
}

static int scope_init(kb_scope *s, PyObject *args, PyObject *kwds)
{
	kb_hooks *h;

	if (kwds != NULL && PyDict_GET_SIZE(kwds) > 0) {
		PyErr_Format(PyExc_TypeError, "%s() takes no keyword arguments",
			     Py_TYPE(s)->tp_name);
		return -1;
	}
	if (s->state != KB_SCOPE_NEW) {
		PyObject *r = kb_hp_scope_refuse(s, "begun", NULL);

		Py_XDECREF(r);
		return r == NULL ? -1 : 0;
	}
	h = kb_hp_hooks_of(Py_TYPE(s));
	if (h == NULL)
		return -1;
	return kb_scope_begin(s, h, args);
}

static PyObject *scope_enter(kb_scope *s, PyObject *unused)
{
	(void)unused;
	if (s->state != KB_SCOPE_OPEN) {
		PyObject *r = kb_hp_scope_refuse(s, "enter", NULL);

		if (r == NULL)
			return NULL;
		Py_DECREF(r);
	}
	Py_INCREF(s);
	return (PyObject *)s;
}

static PyObject *scope_exit(kb_scope *s, PyObject *const *args, Py_ssize_t nargs)
{
	(void)args;
	(void)nargs;
	if (s->state == KB_SCOPE_ENDED) /* ended inside the block (drop()): fine */
		Py_RETURN_NONE;
	if (kb_hp_scope_end_checked(s, kb_how_with) < 0)
		return NULL;
	Py_RETURN_NONE;
}

static PyObject *scope_end(kb_scope *s, PyObject *const *args, Py_ssize_t nargs)
{
	PyObject *how = kb_how_empty;

	if (nargs > 1) {
		PyErr_SetString(PyExc_TypeError, "end() takes at most one argument (how)");
		return NULL;
	}
	if (nargs == 1) {
		how = args[0];
		if (!PyUnicode_Check(how)) {
			PyErr_SetString(PyExc_TypeError, "end(how): how must be a str");
			return NULL;
		}
	}
	if (kb_hp_scope_end_checked(s, how) < 0)
		return NULL;
	Py_RETURN_NONE;
}

static PyObject *scope_is_mine(kb_scope *s, PyObject *unused)
{
	(void)unused;
	return PyBool_FromLong(s->owner != NULL && s->owner == kb_hp_thread_if_any());
}

/* The leak path: an open scope is being collected. */
static void scope_finalize(kb_scope *s)
{
	PyObject *type, *value, *tb, *cur;
	kb_hooks *h = s->hooks;
	int ended;

	if (s->state != KB_SCOPE_OPEN || h == NULL)
		return;
	PyErr_Fetch(&type, &value, &tb);
	cur = (PyObject *)kb_hp_thread_if_any();
	ended = h->end_anywhere || (PyObject *)s->owner == cur;
	Py_INCREF(h);
	if (ended) {
		if (kb_scope_end(s, kb_how_collected) < 0)
			PyErr_WriteUnraisable((PyObject *)s);
	} else {
		/* Only the owner can end it in the engine (a collection on another
		 * thread): the books forget it; the engine counts it until the
		 * owner thread exits. */
		Py_INCREF(s->code);
		scope_mark_ended(s, s->code, s->lasti, kb_how_collected);
	}
	if (h->on_leak != NULL) {
		PyObject *r = PyObject_CallFunctionObjArgs(h->on_leak, (PyObject *)s,
							   ended ? Py_True : Py_False, NULL);

		if (r == NULL)
			PyErr_WriteUnraisable(h->on_leak);
		Py_XDECREF(r);
	}
	Py_DECREF(h);
	PyErr_Restore(type, value, tb);
}

void kb_hp_scopes_at_thread_exit(kb_thread *t)
{
	/* Group by kind, oldest first, and hand each kind's list to its hook. */
	while (t->head != NULL) {
		kb_hooks *h = NULL;
		PyObject *batch = PyList_New(0);
		kb_scope *s, *next;

		if (batch == NULL) {
			PyErr_WriteUnraisable(NULL);
			return;
		}
		for (s = t->head; s != NULL; s = s->next) {
			if (s->hooks->keep_at_thread_exit)
				continue;
			if (h == NULL)
				h = s->hooks;
			if (s->hooks == h && PyList_Append(batch, (PyObject *)s) < 0) {
				PyErr_WriteUnraisable(NULL);
				break;
			}
		}
		if (h == NULL) {
			Py_DECREF(batch);
			return;
		}
		Py_INCREF(h);
		if (h->on_thread_exit != NULL) {
			PyObject *r = PyObject_CallOneArg(h->on_thread_exit, batch);

			if (r == NULL)
				PyErr_WriteUnraisable(h->on_thread_exit);
			Py_XDECREF(r);
		}
		for (s = t->head; s != NULL; s = next) {
			next = s->next;
			if (s->hooks == h && s->state == KB_SCOPE_OPEN) {
				Py_INCREF(s->code);
				scope_mark_ended(s, s->code, s->lasti, kb_how_exit);
			}
		}
		Py_DECREF(h);
		Py_DECREF(batch);
	}
}

static int scope_traverse(kb_scope *s, visitproc visit, void *arg)
{
	Py_VISIT(s->sites);
	Py_VISIT(s->owner);
	Py_VISIT(s->hooks);
	Py_VISIT(s->data);
	return 0;
}

static int scope_clear(kb_scope *s)
{
	Py_CLEAR(s->sites);
	Py_CLEAR(s->data);
	return 0;
}

/* Drop what @s holds (it is freed, or kept for reuse, next). */
static void scope_release(kb_scope *s)
{
	PyObject_GC_UnTrack(s);
	if (s->weakrefs != NULL)
		PyObject_ClearWeakRefs((PyObject *)s);
	scope_unlink(s);
	Py_CLEAR(s->owner);
	Py_CLEAR(s->hooks);
	Py_CLEAR(s->code);
	Py_CLEAR(s->end_code);
	Py_CLEAR(s->end_how);
	Py_CLEAR(s->data);
	Py_CLEAR(s->sites);
}

static void scope_dealloc(kb_scope *s)
{
	PyTypeObject *tp = Py_TYPE(s);

	if (PyObject_CallFinalizerFromDealloc((PyObject *)s) < 0)
		return; /* resurrected */
	scope_release(s);
	tp->tp_free((PyObject *)s); /* a subclass's subtype_dealloc drops its type */
}

/*
 * seal(cls): the fast deallocation of a final kind with no fields of its own.
 *
 * CPython frees every instance of a class statement's type through
 * subtype_dealloc, which looks for __dict__, slots, weak references and a
 * finalizer at every call.  A final kbind type (RcuReadGuard, RcuRef) adds
 * none of them to its C base, so seal() gives it a dealloc that goes
 * straight to the base's, then drops the type as subtype_dealloc would.  A
 * subclass made anyway keeps subtype_dealloc, which calls this one as its
 * base's: then the type is not dropped here (subtype_dealloc does it).
 */
static void sealed_scope_dealloc(kb_scope *s);
static void sealed_ref_dealloc(PyObject *r);

/*
 * Sealed kinds of the base size recycle their memory: a guard is made and
 * freed at every read.  Only a scope that ended and was never finalized is
 * kept (the GC's "finalized" mark would survive reuse and stop a recycled
 * open scope's leak path); the list holds at most KB_FREE_MAX blocks.
 */
#define KB_FREE_MAX 32
static kb_scope *kb_scope_free[KB_FREE_MAX];
static int kb_scope_nfree;

static void sealed_scope_dealloc(kb_scope *s)
{
	PyTypeObject *tp = Py_TYPE(s);
	int own = tp->tp_dealloc == (destructor)sealed_scope_dealloc;

	if (own && s->state != KB_SCOPE_OPEN && tp->tp_basicsize == sizeof(kb_scope) &&
	    kb_scope_nfree < KB_FREE_MAX && !PyObject_GC_IsFinalized((PyObject *)s)) {
		scope_release(s);
		kb_scope_free[kb_scope_nfree++] = s;
		Py_DECREF(tp);
		return;
	}
	scope_dealloc(s);
	if (own)
		Py_DECREF(tp);
}

PyObject *kb_hp_scope_alloc(PyTypeObject *type)
{
	if (kb_scope_nfree > 0 && type->tp_dealloc == (destructor)sealed_scope_dealloc &&
	    type->tp_basicsize == sizeof(kb_scope)) {
		kb_scope *s = kb_scope_free[--kb_scope_nfree];

		memset((char *)s + sizeof(PyObject), 0, sizeof(kb_scope) - sizeof(PyObject));
		Py_SET_TYPE(s, type);
		Py_INCREF(type);
		_Py_NewReference((PyObject *)s);
		PyObject_GC_Track(s);
		return (PyObject *)s;
	}
	return type->tp_alloc(type, 0);
}

static void sealed_ref_dealloc(PyObject *r)
{
	PyTypeObject *tp = Py_TYPE(r);
	int own = tp->tp_dealloc == sealed_ref_dealloc;

	if (own && kb_hp_ref_recycle(r)) {
		Py_DECREF(tp);
		return;
	}
	kb_hp_ref_dealloc(r);
	if (own)
		Py_DECREF(tp);
}

int kb_hp_is_sealed_ref_type(PyTypeObject *type)
{
	return type->tp_dealloc == sealed_ref_dealloc;
}

static PyObject *py_seal(PyObject *self, PyObject *arg)
{
	PyTypeObject *tp, *base;
	destructor fast;

	(void)self;
	if (!PyType_Check(arg) || !(((PyTypeObject *)arg)->tp_flags & Py_TPFLAGS_HEAPTYPE)) {
		PyErr_SetString(PyExc_TypeError, "seal() takes a class");
		return NULL;
	}
	tp = (PyTypeObject *)arg;
	if (PyType_IsSubtype(tp, &kb_scope_type)) {
		base = &kb_scope_type;
		fast = (destructor)sealed_scope_dealloc;
	} else if (PyType_IsSubtype(tp, kb_hp_ref_type_p)) {
		base = kb_hp_ref_type_p;
		fast = sealed_ref_dealloc;
	} else {
		PyErr_SetString(PyExc_TypeError, "seal() takes a Scope or Ref subclass");
		return NULL;
	}
	if (tp->tp_basicsize != base->tp_basicsize || tp->tp_dictoffset != 0 ||
	    tp->tp_weaklistoffset != base->tp_weaklistoffset || tp->tp_finalize != base->tp_finalize ||
	    tp->tp_del != NULL) {
		PyErr_Format(PyExc_TypeError,
			     "seal(): %s adds fields, a __dict__, weak references or __del__ to %s",
			     tp->tp_name, base->tp_name);
		return NULL;
	}
	tp->tp_dealloc = fast;
	Py_RETURN_NONE;
}

static PyObject *scope_get_alive(kb_scope *s, void *closure)
{
	(void)closure;
	return PyBool_FromLong(s->state == KB_SCOPE_OPEN);
}

static PyObject *scope_get_begun(kb_scope *s, void *closure)
{
	(void)closure;
	return PyBool_FromLong(s->state != KB_SCOPE_NEW);
}

static PyObject *scope_get_owner(kb_scope *s, void *closure)
{
	(void)closure;
	return Py_NewRef(s->owner != NULL ? (PyObject *)s->owner : Py_None);
}

static PyObject *scope_get_begin_raw(kb_scope *s, void *closure)
{
	(void)closure;
	if (s->state == KB_SCOPE_NEW || s->code == NULL)
		Py_RETURN_NONE;
	return Py_BuildValue("(OiOO)", s->code, s->lasti, s->owner->name, kb_how_empty);
}

static PyObject *scope_get_end_raw(kb_scope *s, void *closure)
{
	(void)closure;
	if (s->state != KB_SCOPE_ENDED || s->end_code == NULL)
		Py_RETURN_NONE;
	return Py_BuildValue("(OiOO)", s->end_code, s->end_lasti, s->owner->name, s->end_how);
}

static PyObject *scope_get_data(kb_scope *s, void *closure)
{
	(void)closure;
	return Py_NewRef(s->data != NULL ? s->data : Py_None);
}

static int scope_set_data(kb_scope *s, PyObject *v, void *closure)
{
	(void)closure;
	Py_XSETREF(s->data, kb_hp_none_to_null(v));
	return 0;
}

static PyObject *scope_get_num(kb_scope *s, void *closure)
{
	(void)closure;
	return PyLong_FromLongLong(s->number);
}

static int scope_set_num(kb_scope *s, PyObject *v, void *closure)
{
	long long n;

	(void)closure;
	if (v == NULL) {
		PyErr_SetString(PyExc_AttributeError, "cannot delete _num");
		return -1;
	}
	n = PyLong_AsLongLong(v);
	if (n == -1 && PyErr_Occurred())
		return -1;
	s->number = n;
	return 0;
}

static PyObject *scope_get_sites(kb_scope *s, void *closure)
{
	(void)closure;
	return Py_NewRef(s->sites != NULL ? s->sites : Py_None);
}

static int scope_set_sites(kb_scope *s, PyObject *v, void *closure)
{
	(void)closure;
	Py_XSETREF(s->sites, kb_hp_none_to_null(v));
	return 0;
}

static PyGetSetDef scope_getset[] = {
	{ "_sites", (getter)scope_get_sites, (setter)scope_set_sites,
	  "kbind.lifetime's cache of the scope's Site objects.", NULL },
	{ "alive", (getter)scope_get_alive, NULL,
	  "True from the scope's begin until its end (False if it never began).", NULL },
	{ "begun", (getter)scope_get_begun, NULL, "Whether the scope has begun.", NULL },
	{ "owner", (getter)scope_get_owner, NULL,
	  "The ThreadToken of the thread that began it (None before it began).", NULL },
	{ "_begin_raw", (getter)scope_get_begin_raw, NULL,
	  "(code, offset, thread name, how) of where it began, or None.", NULL },
	{ "_end_raw", (getter)scope_get_end_raw, NULL,
	  "(code, offset, thread name, how) of where it ended, or None while open.", NULL },
	{ "_num", (getter)scope_get_num, (setter)scope_set_num,
	  "The scope's number in messages (0: not numbered yet).", NULL },
	{ "_data", (getter)scope_get_data, (setter)scope_set_data,
	  "What the kind's C hooks work on (None for most kinds).", NULL },
	{ NULL, NULL, NULL, NULL, NULL }
};

static PyMethodDef scope_methods[] = {
	{ "__enter__", (PyCFunction)scope_enter, METH_NOARGS, "Enter a with block: the scope." },
	{ "__exit__", (PyCFunction)(void (*)(void))scope_exit, METH_FASTCALL,
	  "Leave the with block: the scope ends (unless it ended inside it)." },
	{ "end", (PyCFunction)(void (*)(void))scope_end, METH_FASTCALL,
	  "end(how='') -> None: end the scope now, on its thread, exactly once." },
	{ "_is_mine", (PyCFunction)scope_is_mine, METH_NOARGS,
	  "Whether the calling thread began it." },
	{ NULL, NULL, 0, NULL }
};

PyTypeObject kb_scope_type = {
	PyVarObject_HEAD_INIT(NULL, 0).tp_name = "kbind._bridge._hotpath.Scope",
	.tp_basicsize = sizeof(kb_scope),
	.tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
	.tp_doc = "The C core of kbind.lifetime.Scope (use that class).",
	.tp_new = scope_new,
	.tp_init = (initproc)scope_init,
	.tp_traverse = (traverseproc)scope_traverse,
	.tp_clear = (inquiry)scope_clear,
	.tp_dealloc = (destructor)scope_dealloc,
	.tp_finalize = (destructor)scope_finalize,
	.tp_methods = scope_methods,
	.tp_getset = scope_getset,
	.tp_weaklistoffset = offsetof(kb_scope, weakrefs),
};

/* ------------------------------------------------------ module functions */

static PyObject *py_open_scopes(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
	PyTypeObject *kind = NULL;
	kb_thread *t;
	PyObject *out;

	(void)self;
	if (nargs < 1 || nargs > 2 || !PyObject_TypeCheck(args[0], &kb_thread_type)) {
		PyErr_SetString(PyExc_TypeError, "open_scopes(token, kind=None)");
		return NULL;
	}
	t = (kb_thread *)args[0];
	if (nargs == 2 && args[1] != Py_None) {
		if (!PyType_Check(args[1])) {
			PyErr_SetString(PyExc_TypeError, "open_scopes(): kind must be a type");
			return NULL;
		}
		kind = (PyTypeObject *)args[1];
	}
	out = PyList_New(0);
	if (out == NULL)
		return NULL;
	for (kb_scope *s = t->head; s != NULL; s = s->next)
		if ((kind == NULL || Py_TYPE(s) == kind) && PyList_Append(out, (PyObject *)s) < 0) {
			Py_DECREF(out);
			return NULL;
		}
	return out;
}

static PyMethodDef lifetime_methods[] = {
	{ "open_scopes", (PyCFunction)(void (*)(void))py_open_scopes, METH_FASTCALL,
	  "open_scopes(token, kind=None) -> list: the thread's open scopes, oldest first." },
	{ "seal", py_seal, METH_O,
	  "seal(cls): a final Scope or Ref subclass adding no fields is freed without "
	  "subtype_dealloc's generic work." },
	{ NULL, NULL, 0, NULL }
};

int kb_hp_init_lifetime(PyObject *m)
{
	KB_INTERN(kb_str_refuse, "_kb_refuse");
	KB_INTERN(kb_str_begin, "_scope_begin");
	KB_INTERN(kb_str_end, "_scope_end");
	KB_INTERN(kb_how_with, "leaving its with block");
	KB_INTERN(kb_how_exit, "its thread exited");
	KB_INTERN(kb_how_collected, "garbage-collected while open");
	KB_INTERN(kb_how_empty, "");
	if (kb_hp_init_thread(m) < 0 || kb_hp_init_hooks(m) < 0)
		return -1;
	if (PyType_Ready(&kb_scope_type) < 0 ||
	    PyModule_AddObjectRef(m, "Scope", (PyObject *)&kb_scope_type) < 0)
		return -1;
	if (PyModule_AddFunctions(m, lifetime_methods) < 0)
		return -1;
	if (kb_hp_init_deref(m) < 0)
		return -1;
	return kb_hp_init_ref(m);
}

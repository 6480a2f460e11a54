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
 * Every refusal is built in Python: the C code calls the scope's
 * _kb_refuse(what, how) method, so each kind keeps its own messages.
 */
#include "lifetime.h"

#include <structmember.h>

/* ------------------------------------------------------------ configuration */

static PyObject *kb_internal_files; /* dict co_filename -> bool (kbind._guard's) */
static PyObject *kb_is_internal;    /* callable(filename, frame) -> bool */
static PyObject *kb_thread_name;    /* callable() -> the current thread's name */
PyObject *kb_hp_key_thread;	    /* interned keys of the thread-state dict */
static PyObject *kb_key_exit;
static PyObject *kb_str_refuse;
static PyObject *kb_str_begin, *kb_str_end, *kb_str_hooks;
static PyObject *kb_how_with, *kb_how_exit, *kb_how_collected, *kb_how_empty;

/* ------------------------------------------------------------ thread tokens */

static int thread_traverse(kb_thread *t, visitproc visit, void *arg)
{
	Py_VISIT(t->name);
	return 0;
}

static void forget_cached(kb_thread *t);

static void thread_dealloc(kb_thread *t)
{
	forget_cached(t);
	PyObject_GC_UnTrack(t);
	if (t->weakrefs != NULL)
		PyObject_ClearWeakRefs((PyObject *)t);
	Py_CLEAR(t->name);
	Py_TYPE(t)->tp_free((PyObject *)t);
}

static PyObject *thread_repr(kb_thread *t)
{
	return PyUnicode_FromFormat("<ThreadToken of thread %R (%s)>", t->name,
				    t->exited ? "exited" : "running");
}

static PyMemberDef thread_members[] = {
	{ "name", T_OBJECT, offsetof(kb_thread, name), READONLY,
	  "The thread's name when the token was made." },
	{ "exited", T_BOOL, offsetof(kb_thread, exited), READONLY,
	  "True once the thread has ended." },
	{ "ident", T_ULONG, offsetof(kb_thread, ident), READONLY,
	  "threading.get_ident() of the thread (reused by the OS: never compare it)." },
	{ "native_id", T_ULONG, offsetof(kb_thread, native_id), READONLY,
	  "threading.get_native_id() of the thread." },
	{ "_bits", T_ULONG, offsetof(kb_thread, bits), 0,
	  "Flags kbind's own kinds keep per thread (RCU: registered, QSBR mode)." },
	{ NULL, 0, 0, 0, NULL }
};

PyTypeObject kb_thread_type = {
	PyVarObject_HEAD_INIT(NULL, 0).tp_name = "kbind.lifetime.ThreadToken",
	.tp_basicsize = sizeof(kb_thread),
	.tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
	.tp_doc = "The identity of one Python thread: never reused, unlike threading.get_ident().\n\n"
		  "The OS reuses a thread's ident as soon as it exits, so an ident compared "
		  "with == would let a new thread pass for a dead one.  A token is one object "
		  "per thread, compared with `is`; a scope keeps its owner's token alive.",
	.tp_traverse = (traverseproc)thread_traverse,
	.tp_dealloc = (destructor)thread_dealloc,
	.tp_repr = (reprfunc)thread_repr,
	.tp_members = thread_members,
	.tp_weaklistoffset = offsetof(kb_thread, weakrefs),
};

/* Lives only in the thread's state dict: when the thread ends and the dict is
 * cleared, it marks the token exited and closes the scopes left open. */
typedef struct {
	PyObject_HEAD
	kb_thread *thread;
} kb_thread_exit;

static void scopes_at_thread_exit(kb_thread *t);

static void thread_exit_dealloc(kb_thread_exit *e)
{
	kb_thread *t = e->thread;

	if (t != NULL) {
		PyObject *type, *value, *tb;

		PyErr_Fetch(&type, &value, &tb);
		forget_cached(t);
		t->exited = 1;
		scopes_at_thread_exit(t);
		PyErr_Restore(type, value, tb);
		Py_DECREF(t);
	}
	Py_TYPE(e)->tp_free((PyObject *)e);
}

static PyTypeObject kb_thread_exit_type = {
	PyVarObject_HEAD_INIT(NULL, 0).tp_name = "kbind._hotpath._ThreadExit",
	.tp_basicsize = sizeof(kb_thread_exit),
	.tp_flags = Py_TPFLAGS_DEFAULT,
	.tp_dealloc = (destructor)thread_exit_dealloc,
};

static kb_thread *new_thread_token(PyObject *dict)
{
	kb_thread *t;
	kb_thread_exit *e;
	PyObject *name;

	name = kb_thread_name != NULL ? PyObject_CallNoArgs(kb_thread_name) : NULL;
	if (name == NULL && kb_thread_name != NULL)
		return NULL;
	if (name == NULL)
		name = PyUnicode_FromString("?");
	if (name == NULL)
		return NULL;
	t = PyObject_GC_New(kb_thread, &kb_thread_type);
	if (t == NULL) {
		Py_DECREF(name);
		return NULL;
	}
	t->weakrefs = NULL;
	t->name = name;
	t->exited = 0;
	t->ident = PyThread_get_thread_ident();
	t->native_id = PyThread_get_thread_native_id();
	t->bits = 0;
	t->head = t->tail = NULL;
	PyObject_GC_Track(t);
	e = PyObject_New(kb_thread_exit, &kb_thread_exit_type);
	if (e == NULL) {
		Py_DECREF(t);
		return NULL;
	}
	Py_INCREF(t);
	e->thread = t;
	if (PyDict_SetItem(dict, kb_hp_key_thread, (PyObject *)t) < 0 ||
	    PyDict_SetItem(dict, kb_key_exit, (PyObject *)e) < 0) {
		Py_DECREF(e);
		Py_DECREF(t);
		return NULL;
	}
	Py_DECREF(e);
	Py_DECREF(t); /* the dict holds it */
	return t;
}

/*
 * A one-entry cache of the last token looked up, checked against the thread
 * state and its unique id (a new thread state at the same address has
 * another id); the GIL protects it.  The pointer is borrowed from that
 * thread's state dict, which holds the token until the thread ends; the exit
 * sentinel and the token's own deallocation clear the cache first.
 */
static PyThreadState *kb_cached_tstate;
static uint64_t kb_cached_id;
static kb_thread *kb_cached_token;

static void forget_cached(kb_thread *t)
{
	if (kb_cached_token == t) {
		kb_cached_token = NULL;
		kb_cached_tstate = NULL;
	}
}

kb_thread *kb_hp_thread_if_any(void)
{
	PyThreadState *ts = PyThreadState_Get();
	PyObject *dict, *t;

	if (KB_LIKELY(ts == kb_cached_tstate && kb_cached_token != NULL &&
		      PyThreadState_GetID(ts) == kb_cached_id))
		return kb_cached_token;
	dict = PyThreadState_GetDict();
	if (dict == NULL)
		return NULL;
	t = PyDict_GetItemWithError(dict, kb_hp_key_thread);
	if (t == NULL) {
		PyErr_Clear();
		return NULL;
	}
	kb_cached_tstate = ts;
	kb_cached_id = PyThreadState_GetID(ts);
	kb_cached_token = (kb_thread *)t;
	return (kb_thread *)t;
}

kb_thread *kb_current_thread(void)
{
	kb_thread *t = kb_hp_thread_if_any();
	PyObject *dict;

	if (t != NULL)
		return t;
	dict = PyThreadState_GetDict();
	if (dict == NULL) {
		PyErr_SetString(PyExc_RuntimeError, "kbind: no thread state dict");
		return NULL;
	}
	return new_thread_token(dict);
}

static PyObject *py_current_thread(PyObject *self, PyObject *unused)
{
	kb_thread *t = kb_current_thread();

	(void)self;
	(void)unused;
	Py_XINCREF(t);
	return (PyObject *)t;
}

/* ------------------------------------------------------------- call sites */

/* The last code object seen, and whether it is kbind's (a strong reference:
 * its address cannot be reused while cached). */
static PyObject *kb_last_code;
static int kb_last_internal;

static int frame_is_internal(PyObject *filename, PyFrameObject *f)
{
	PyObject *v, *r;
	int internal;

	if (kb_internal_files == NULL)
		return 0;
	v = PyDict_GetItemWithError(kb_internal_files, filename);
	if (v == Py_False)
		return 0;
	if (v == Py_True)
		return 1;
	if (v == NULL && PyErr_Occurred())
		return -1;
	if (kb_is_internal == NULL)
		return 0;
	r = PyObject_CallFunctionObjArgs(kb_is_internal, filename, (PyObject *)f, NULL);
	if (r == NULL)
		return -1;
	internal = PyObject_IsTrue(r);
	Py_DECREF(r);
	return internal;
}

int kb_capture_site(PyObject **code, int *lasti)
{
	PyFrameObject *f = PyEval_GetFrame();
	PyCodeObject *co;

	if (f == NULL) { /* called from C with no Python frame: no site */
		Py_INCREF(Py_None);
		*code = Py_None;
		*lasti = -1;
		return 0;
	}
	Py_INCREF(f);
	for (;;) {
		PyFrameObject *back;
		int internal;

		co = PyFrame_GetCode(f);
		if ((PyObject *)co == kb_last_code) {
			internal = kb_last_internal;
		} else {
			internal = frame_is_internal(co->co_filename, f);
			if (internal >= 0) {
				Py_INCREF(co);
				Py_XSETREF(kb_last_code, (PyObject *)co);
				kb_last_internal = internal;
			}
		}
		if (internal < 0) {
			Py_DECREF(co);
			Py_DECREF(f);
			return -1;
		}
		if (!internal)
			break;
		back = PyFrame_GetBack(f);
		if (back == NULL)
			break;
		Py_DECREF(co);
		Py_DECREF(f);
		f = back;
	}
	*code = (PyObject *)co;
	*lasti = PyFrame_GetLasti(f);
	Py_DECREF(f);
	return 0;
}

static PyObject *py_capture(PyObject *self, PyObject *unused)
{
	PyObject *code;
	int lasti;

	(void)self;
	(void)unused;
	if (kb_capture_site(&code, &lasti) < 0)
		return NULL;
	return Py_BuildValue("(Ni)", code, lasti);
}

/* ------------------------------------------------------------------ hooks */

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

static PyObject *none_to_null(PyObject *o)
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
	h->py_begin = none_to_null(begin);
	h->py_end = none_to_null(end);
	h->on_leak = none_to_null(leak);
	h->on_thread_exit = none_to_null(texit);
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
	Py_XSETREF(h->observer, none_to_null(v));
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
static PyObject *refuse(kb_scope *s, const char *what, PyObject *how)
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
		PyObject *r = refuse(s, s->state == KB_SCOPE_NEW ? "never" : "ended", how);

		if (r == NULL)
			return -1;
		Py_DECREF(r);
		*skip = 1;
		return 0;
	}
	if (s->owner != kb_hp_thread_if_any()) {
		PyObject *r = refuse(s, "thread", how);

		if (r == NULL)
			return -1;
		Py_DECREF(r);
		*skip = 1;
	}
	return 0;
}

static PyObject *scope_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
	kb_scope *s;

	(void)args;
	(void)kwds;
	s = (kb_scope *)type->tp_alloc(type, 0);
	if (s == NULL)
		return NULL;
	s->state = KB_SCOPE_NEW;
	s->lasti = s->end_lasti = -1;
	return (PyObject *)s;
}

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

static int scope_init(kb_scope *s, PyObject *args, PyObject *kwds)
{
	kb_hooks *h;

	if (kwds != NULL && PyDict_GET_SIZE(kwds) > 0) {
		PyErr_Format(PyExc_TypeError, "%s() takes no keyword arguments",
			     Py_TYPE(s)->tp_name);
		return -1;
	}
	if (s->state != KB_SCOPE_NEW) {
		PyObject *r = refuse(s, "begun", NULL);

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
		PyObject *r = refuse(s, "enter", NULL);

		if (r == NULL)
			return NULL;
		Py_DECREF(r);
	}
	Py_INCREF(s);
	return (PyObject *)s;
}

static PyObject *scope_exit(kb_scope *s, PyObject *const *args, Py_ssize_t nargs)
{
	int skip;

	(void)args;
	(void)nargs;
	if (s->state == KB_SCOPE_ENDED) /* ended inside the block (drop()): fine */
		Py_RETURN_NONE;
	if (scope_check_end(s, kb_how_with, &skip) < 0)
		return NULL;
	if (!skip && kb_scope_end(s, kb_how_with) < 0)
		return NULL;
	Py_RETURN_NONE;
}

static PyObject *scope_end(kb_scope *s, PyObject *const *args, Py_ssize_t nargs)
{
	PyObject *how = kb_how_empty;
	int skip;

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
	if (scope_check_end(s, how, &skip) < 0)
		return NULL;
	if (!skip && kb_scope_end(s, how) < 0)
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

static void scopes_at_thread_exit(kb_thread *t)
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

static void scope_dealloc(kb_scope *s)
{
	PyTypeObject *tp = Py_TYPE(s);

	if (PyObject_CallFinalizerFromDealloc((PyObject *)s) < 0)
		return; /* resurrected */
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

static void sealed_scope_dealloc(kb_scope *s)
{
	PyTypeObject *tp = Py_TYPE(s);
	int own = tp->tp_dealloc == (destructor)sealed_scope_dealloc;

	scope_dealloc(s);
	if (own)
		Py_DECREF(tp);
}

static void sealed_ref_dealloc(PyObject *r)
{
	PyTypeObject *tp = Py_TYPE(r);
	int own = tp->tp_dealloc == sealed_ref_dealloc;

	kb_hp_ref_dealloc(r);
	if (own)
		Py_DECREF(tp);
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
	Py_XSETREF(s->data, none_to_null(v));
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
	Py_XSETREF(s->sites, none_to_null(v));
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
	PyVarObject_HEAD_INIT(NULL, 0).tp_name = "kbind._hotpath.Scope",
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

static PyObject *py_depth(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
	(void)self;
	if (nargs != 2 || !PyObject_TypeCheck(args[0], &kb_thread_type) || !PyType_Check(args[1])) {
		PyErr_SetString(PyExc_TypeError, "depth(token, kind)");
		return NULL;
	}
	return PyLong_FromSsize_t(thread_depth((kb_thread *)args[0], (PyTypeObject *)args[1]));
}

static PyObject *py_configure(PyObject *self, PyObject *args)
{
	PyObject *files, *is_internal, *name;

	(void)self;
	if (!PyArg_ParseTuple(args, "O!OO:configure", &PyDict_Type, &files, &is_internal, &name))
		return NULL;
	Py_INCREF(files);
	Py_XSETREF(kb_internal_files, files);
	Py_INCREF(is_internal);
	Py_XSETREF(kb_is_internal, is_internal);
	Py_INCREF(name);
	Py_XSETREF(kb_thread_name, name);
	Py_RETURN_NONE;
}

static PyObject *py_forget_thread(PyObject *self, PyObject *unused)
{
	/* After fork() in the child: the token of the forking thread stays;
	 * nothing to do for the others (their thread states are gone). */
	(void)self;
	(void)unused;
	Py_RETURN_NONE;
}

static PyMethodDef lifetime_methods[] = {
	{ "current_thread", py_current_thread, METH_NOARGS,
	  "current_thread() -> ThreadToken: the calling thread's token." },
	{ "capture", py_capture, METH_NOARGS,
	  "capture() -> (code, offset): the caller's site, kbind's own frames skipped." },
	{ "open_scopes", (PyCFunction)(void (*)(void))py_open_scopes, METH_FASTCALL,
	  "open_scopes(token, kind=None) -> list: the thread's open scopes, oldest first." },
	{ "depth", (PyCFunction)(void (*)(void))py_depth, METH_FASTCALL,
	  "depth(token, kind) -> int: how many scopes of that kind the thread has open." },
	{ "configure", py_configure, METH_VARARGS,
	  "configure(internal_files, is_internal, thread_name): how sites skip kbind's frames." },
	{ "_forget_thread", py_forget_thread, METH_NOARGS, NULL },
	{ "seal", py_seal, METH_O,
	  "seal(cls): a final Scope or Ref subclass adding no fields is freed without "
	  "subtype_dealloc's generic work." },
	{ NULL, NULL, 0, NULL }
};

int kb_hp_init_ref(PyObject *m);

int kb_hp_init_lifetime(PyObject *m)
{
#define KB_INTERN(var, text)                                 \
	do {                                                 \
		var = PyUnicode_InternFromString(text);      \
		if (var == NULL)                             \
			return -1;                           \
	} while (0)
	KB_INTERN(kb_hp_key_thread, "kbind.lifetime.thread");
	KB_INTERN(kb_key_exit, "kbind.lifetime.thread_exit");
	KB_INTERN(kb_str_refuse, "_kb_refuse");
	KB_INTERN(kb_str_begin, "_scope_begin");
	KB_INTERN(kb_str_end, "_scope_end");
	KB_INTERN(kb_str_hooks, "_kb_hooks");
	KB_INTERN(kb_how_with, "leaving its with block");
	KB_INTERN(kb_how_exit, "its thread exited");
	KB_INTERN(kb_how_collected, "garbage-collected while open");
	KB_INTERN(kb_how_empty, "");
#undef KB_INTERN
	if (PyType_Ready(&kb_thread_type) < 0 || PyType_Ready(&kb_thread_exit_type) < 0 ||
	    PyType_Ready(&kb_hooks_type) < 0 || PyType_Ready(&kb_scope_type) < 0)
		return -1;
	if (PyModule_AddObjectRef(m, "ThreadToken", (PyObject *)&kb_thread_type) < 0 ||
	    PyModule_AddObjectRef(m, "ScopeHooks", (PyObject *)&kb_hooks_type) < 0 ||
	    PyModule_AddObjectRef(m, "Scope", (PyObject *)&kb_scope_type) < 0)
		return -1;
	if (PyModule_AddFunctions(m, lifetime_methods) < 0)
		return -1;
	if (kb_hp_init_deref(m) < 0)
		return -1;
	return kb_hp_init_ref(m);
}

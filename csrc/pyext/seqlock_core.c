/* SPDX-License-Identifier: MIT */
/*
 * csrc/pyext/seqlock_core.c - the types behind kbind.seqlock's read side.
 *
 * Kernel: include/linux/seqlock.h.  Rust: Rust-for-Linux has no merged
 * seqlock binding.
 *
 * SeqCore: the C half of SeqLock and SeqLatch (where the engine's seqlock
 * or latch and the protected words are, the field layout, who holds the
 * write side).  SeqViewCore: the C half of SeqView, a closure reader's view
 * of one attempt's snapshot, readable only while the attempt (a
 * kbind.lifetime scope) is open, on its thread (S02).  TentativeCore: the C
 * half of TentativeValue, a token's field tied to its attempt (S01).  The
 * readers that make them are csrc/pyext/seqlock_read.c.
 *
 * Nothing here releases the GIL or calls the engine; refusals call back
 * into kbind.seqlock, which builds every message.
 */
#include "seqlock_hp.h"

#include <structmember.h>

/* Set once by bind_seqlock() (seqlock_read.c). */
PyTypeObject *kb_seq_view_kind; /* kbind.seqlock.SeqView */
PyTypeObject *kb_seq_tv_kind;	/* kbind.seqlock.TentativeValue */
PyObject *kb_seq_site_from_raw; /* kbind._bridge.guard.Site.from_raw */
int kb_seq_bound;

static PyObject *kb_str_refuse, *kb_str_no_field, *kb_str_empty;

/* ------------------------------------------------------------ helpers */

int kb_seq_engine_ready(void)
{
	if (KB_LIKELY(kb_seq_bound))
		return 1;
	PyErr_SetString(PyExc_RuntimeError,
			"kbind._bridge._hotpath: kbind.seqlock has not called bind_seqlock() yet");
	return 0;
}

/* Call obj.<method>(a1, a2) (either may be NULL) for a refusal: it raises. */
PyObject *kb_seq_call_refuse(PyObject *obj, PyObject *method, PyObject *a1, PyObject *a2)
{
	PyObject *r = PyObject_CallMethodObjArgs(obj, method, a1, a2, NULL);

	if (r != NULL) {
		Py_DECREF(r);
		PyErr_Format(PyExc_RuntimeError, "kbind: %R.%U() did not raise", obj, method);
	}
	return NULL;
}

/* ------------------------------------------------------------- layout */

int kb_seq_field(kb_seq_core *c, PyObject *name, long long *code)
{
	PyObject *v;

	if (c == NULL || c->fields == NULL)
		return 0;
	v = PyDict_GetItemWithError(c->fields, name);
	if (v == NULL)
		return PyErr_Occurred() ? -1 : 0;
	*code = PyLong_AsLongLong(v);
	return *code == -1 && PyErr_Occurred() ? -1 : 1;
}

/* A field's value in a private snapshot (no marked access needed there). */
PyObject *kb_seq_snapshot_value(const int64_t *w, long long code)
{
	Py_ssize_t nb = KB_SEQ_NBYTES(code);

	if (nb == 0)
		return PyLong_FromLongLong(w[KB_SEQ_OFFSET(code)]);
	return PyBytes_FromStringAndSize((const char *)(w + KB_SEQ_OFFSET(code)), nb);
}

/* Every field of a snapshot, as a dict in declaration order. */
PyObject *kb_seq_snapshot_dict(kb_seq_core *c, const int64_t *w)
{
	PyObject *d = PyDict_New(), *name, *code;
	Py_ssize_t pos = 0;

	if (d == NULL)
		return NULL;
	while (PyDict_Next(c->fields, &pos, &name, &code)) {
		long long k = PyLong_AsLongLong(code);
		PyObject *v = k == -1 && PyErr_Occurred() ? NULL : kb_seq_snapshot_value(w, k);

		if (v == NULL || PyDict_SetItem(d, name, v) < 0) {
			Py_XDECREF(v);
			Py_DECREF(d);
			return NULL;
		}
		Py_DECREF(v);
	}
	return d;
}

/* Attribute @name of @o that is not a field: the normal lookup, and for a
 * public name that does not exist, o._no_field(name) raises (names the fields). */
PyObject *kb_seq_not_a_field(PyObject *o, PyObject *name)
{
	PyObject *r = PyObject_GenericGetAttr(o, name);

	if (r != NULL || !PyErr_ExceptionMatches(PyExc_AttributeError))
		return r;
	if (PyUnicode_GET_LENGTH(name) == 0 || PyUnicode_READ_CHAR(name, 0) == '_')
		return NULL;
	PyErr_Clear();
	return kb_seq_call_refuse(o, kb_str_no_field, name, NULL);
}

int kb_seq_is_private(PyObject *name)
{
	return PyUnicode_Check(name) && PyUnicode_GET_LENGTH(name) > 0 &&
	       PyUnicode_READ_CHAR(name, 0) == '_';
}


PyObject *kb_seq_no_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
	(void)args;
	(void)kwds;
	PyErr_Format(PyExc_TypeError,
		     "cannot create %s objects directly: kbind's seqlocks hand them out", type->tp_name);
	return NULL;
}

/* --------------------------------------------------------------- core */

static int core_traverse(kb_seq_core *c, visitproc visit, void *arg)
{
	Py_VISIT(c->fields);
	Py_VISIT(c->keep);
	Py_VISIT(c->writer);
	Py_VISIT(c->excl);
	return 0;
}

static int core_clear(kb_seq_core *c)
{
	Py_CLEAR(c->excl);
	return 0;
}

static void core_dealloc(kb_seq_core *c)
{
	PyTypeObject *tp = Py_TYPE(c);

	PyObject_GC_UnTrack(c);
	Py_CLEAR(c->fields);
	Py_CLEAR(c->keep);
	Py_CLEAR(c->writer);
	Py_CLEAR(c->excl);
	tp->tp_free((PyObject *)c); /* a subclass's subtype_dealloc drops its type */
}

/* _core_init(latch, sync_address, words0, words1, n, fields, keep) */
static PyObject *core_init(kb_seq_core *c, PyObject *args)
{
	int latch;
	PyObject *sync, *w0, *w1, *fields, *keep;
	Py_ssize_t n;

	if (!PyArg_ParseTuple(args, "pOOOnO!O:_core_init", &latch, &sync, &w0, &w1, &n,
			      &PyDict_Type, &fields, &keep))
		return NULL;
	if (c->fields != NULL) {
		PyErr_SetString(PyExc_RuntimeError, "kbind: the seqlock's core is set up already");
		return NULL;
	}
	if (n <= 0 || n > 0x7fffffff) {
		PyErr_SetString(PyExc_ValueError, "_core_init(): bad word count");
		return NULL;
	}
	if (latch)
		c->latch = PyLong_AsVoidPtr(sync);
	else
		c->sl = PyLong_AsVoidPtr(sync);
	c->words[0] = PyLong_AsVoidPtr(w0);
	c->words[1] = latch ? PyLong_AsVoidPtr(w1) : NULL;
	if (PyErr_Occurred())
		return NULL;
	c->n = n;
	c->fields = Py_NewRef(fields);
	c->keep = Py_NewRef(keep);
	Py_RETURN_NONE;
}

static PyObject *core_get_writer(kb_seq_core *c, void *closure)
{
	(void)closure;
	return Py_NewRef(c->writer != NULL ? (PyObject *)c->writer : Py_None);
}

static PyObject *core_get_excl(kb_seq_core *c, void *closure)
{
	(void)closure;
	return Py_NewRef(c->excl != NULL ? c->excl : Py_None);
}

static int core_set_excl(kb_seq_core *c, PyObject *v, void *closure)
{
	(void)closure;
	Py_XSETREF(c->excl, v == NULL || v == Py_None ? NULL : Py_NewRef(v));
	return 0;
}

static PyObject *core_get_guard(kb_seq_core *c, void *closure)
{
	(void)closure;
	return Py_NewRef(c->wguard != NULL ? (PyObject *)c->wguard : Py_None);
}

static PyObject *core_get_writes(kb_seq_core *c, void *closure)
{
	(void)closure;
	return PyLong_FromUnsignedLongLong(c->writes);
}

static PyGetSetDef core_getset[] = {
	{ "_writer", (getter)core_get_writer, NULL,
	  "The ThreadToken of the thread holding the write side, or None.", NULL },
	{ "_excl", (getter)core_get_excl, (setter)core_set_excl,
	  "The ThreadToken of the thread reading under the lock (lock_after), or None.", NULL },
	{ "_write_guard", (getter)core_get_guard, NULL, "The open SeqWriteGuard, or None.",
	  NULL },
	{ "_writes", (getter)core_get_writes, NULL,
	  "How many write sections have been committed (a commit check for Ctrl-C).", NULL },
	{ NULL, NULL, NULL, NULL, NULL }
};

static PyMethodDef core_methods[] = {
	{ "_core_init", (PyCFunction)core_init, METH_VARARGS,
	  "_core_init(latch, sync_address, words0, words1, n, fields, keep): where the engine's "
	  "seqlock (or latch) and the protected words are; fields maps each name to "
	  "(nbytes << 32) | word offset; keep holds the memory's owners." },
	{ NULL, NULL, 0, NULL }
};

PyTypeObject kb_seq_core_type = {
	PyVarObject_HEAD_INIT(NULL, 0).tp_name = "kbind._bridge._hotpath.SeqCore",
	.tp_basicsize = sizeof(kb_seq_core),
	.tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
	.tp_doc = "The C half of kbind.seqlock.SeqLock and SeqLatch.",
	.tp_new = PyType_GenericNew,
	.tp_traverse = (traverseproc)core_traverse,
	.tp_clear = (inquiry)core_clear,
	.tp_dealloc = (destructor)core_dealloc,
	.tp_methods = core_methods,
	.tp_getset = core_getset,
};

int kb_seq_core_ready(kb_seq_core *c, int latch)
{
	if (!kb_seq_engine_ready())
		return 0;
	if (KB_UNLIKELY(c->fields == NULL || (latch ? c->latch == NULL : c->sl == NULL))) {
		PyErr_Format(PyExc_RuntimeError, "kbind: %s is not initialised",
			     latch ? "SeqLatch" : "SeqLock");
		return 0;
	}
	return 1;
}

/* -------------------------------------------------------------- views */

static int view_traverse(kb_seq_view *v, visitproc visit, void *arg)
{
	Py_VISIT(v->attempt);
	return 0;
}

static int view_clear(kb_seq_view *v)
{
	Py_CLEAR(v->attempt);
	return 0;
}

void kb_seq_view_dealloc(kb_seq_view *v)
{
	PyTypeObject *tp = Py_TYPE(v);

	PyObject_GC_UnTrack(v);
	Py_CLEAR(v->attempt);
	tp->tp_free((PyObject *)v);
}

static inline int view_live(kb_seq_attempt *a)
{
	return a->scope.state == KB_SCOPE_OPEN && a->state == KB_SEQ_PENDING &&
	       a->scope.owner == kb_hp_thread_if_any();
}

static PyObject *view_getattro(kb_seq_view *v, PyObject *name)
{
	kb_seq_attempt *a = v->attempt;
	long long code;
	int r;

	if (a == NULL || kb_seq_is_private(name))
		return PyObject_GenericGetAttr((PyObject *)v, name);
	r = kb_seq_field(a->lock, name, &code);
	if (r < 0)
		return NULL;
	if (r == 0)
		return kb_seq_not_a_field((PyObject *)v, name);
	if (KB_UNLIKELY(!view_live(a)))
		return kb_seq_call_refuse((PyObject *)v, kb_str_refuse, name, NULL);
	return kb_seq_snapshot_value(a->words, code);
}

static PyObject *view_get_fields(kb_seq_view *v, void *closure)
{
	static PyObject *name;

	(void)closure;
	if (v->attempt == NULL)
		Py_RETURN_NONE;
	if (!view_live(v->attempt)) {
		if (name == NULL && (name = PyUnicode_InternFromString("fields")) == NULL)
			return NULL;
		return kb_seq_call_refuse((PyObject *)v, kb_str_refuse, name, NULL);
	}
	return kb_seq_snapshot_dict(v->attempt->lock, v->attempt->words);
}

static PyObject *view_get_attempt(kb_seq_view *v, void *closure)
{
	(void)closure;
	return Py_NewRef(v->attempt != NULL ? (PyObject *)v->attempt : Py_None);
}

static PyGetSetDef view_getset[] = {
	{ "fields", (getter)view_get_fields, NULL,
	  "Every field of this attempt's snapshot, as a dict typed with the lock's spec.", NULL },
	{ "_attempt", (getter)view_get_attempt, NULL, "The read attempt the view belongs to.",
	  NULL },
	{ NULL, NULL, NULL, NULL, NULL }
};

PyTypeObject kb_seq_view_type = {
	PyVarObject_HEAD_INIT(NULL, 0).tp_name = "kbind._bridge._hotpath.SeqViewCore",
	.tp_basicsize = sizeof(kb_seq_view),
	.tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
	.tp_doc = "The C half of kbind.seqlock.SeqView: reads one attempt's snapshot.",
	.tp_new = kb_seq_no_new,
	.tp_traverse = (traverseproc)view_traverse,
	.tp_clear = (inquiry)view_clear,
	.tp_dealloc = (destructor)kb_seq_view_dealloc,
	.tp_getattro = (getattrofunc)view_getattro,
	.tp_getset = view_getset,
};

/* ---------------------------------------------------- tentative values */

typedef struct {
	PyObject_HEAD
	PyObject *v;	    /* int or bytes */
	PyObject *attempts; /* tuple of the attempts it depends on */
	PyObject *read_at;  /* Site, or NULL until asked (then built from code/lasti) */
	PyObject *code;	    /* where it was read (values made in C) */
	int lasti;
} kb_tentative;

static int tv_traverse(kb_tentative *t, visitproc visit, void *arg)
{
	Py_VISIT(t->v);
	Py_VISIT(t->attempts);
	Py_VISIT(t->read_at);
	return 0;
}

static int tv_clear(kb_tentative *t)
{
	Py_CLEAR(t->attempts);
	Py_CLEAR(t->read_at);
	return 0;
}

void kb_seq_tv_dealloc(PyObject *o)
{
	kb_tentative *t = (kb_tentative *)o;
	PyTypeObject *tp = Py_TYPE(t);

	PyObject_GC_UnTrack(t);
	Py_CLEAR(t->v);
	Py_CLEAR(t->attempts);
	Py_CLEAR(t->read_at);
	Py_CLEAR(t->code);
	tp->tp_free((PyObject *)t);
}

static PyObject *tv_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
	static char *kwlist[] = { "v", "attempts", "read_at", NULL };
	PyObject *v, *attempts, *read_at;
	kb_tentative *t;

	if (!PyArg_ParseTupleAndKeywords(args, kwds, "OO!O:TentativeValue", kwlist, &v,
					 &PyTuple_Type, &attempts, &read_at))
		return NULL;
	t = (kb_tentative *)type->tp_alloc(type, 0);
	if (t == NULL)
		return NULL;
	t->v = Py_NewRef(v);
	t->attempts = Py_NewRef(attempts);
	t->read_at = Py_NewRef(read_at);
	t->lasti = -1;
	return (PyObject *)t;
}

/* A value of token @a's snapshot, read here (steals @v). */
PyObject *kb_seq_tentative_make(kb_seq_attempt *a, PyObject *v)
{
	kb_tentative *t;

	if (v == NULL)
		return NULL;
	t = (kb_tentative *)kb_seq_tv_kind->tp_alloc(kb_seq_tv_kind, 0);
	if (t == NULL) {
		Py_DECREF(v);
		return NULL;
	}
	t->v = v;
	t->attempts = PyTuple_Pack(1, (PyObject *)a);
	if (t->attempts == NULL || kb_capture_site(&t->code, &t->lasti) < 0) {
		Py_DECREF(t);
		return NULL;
	}
	return (PyObject *)t;
}

static PyObject *tv_get_read_at(kb_tentative *t, void *closure)
{
	PyObject *raw, *thread = kb_str_empty, *first;

	(void)closure;
	if (t->read_at != NULL)
		return Py_NewRef(t->read_at);
	if (t->code == NULL || kb_seq_site_from_raw == NULL)
		Py_RETURN_NONE;
	first = t->attempts != NULL && PyTuple_GET_SIZE(t->attempts) > 0
			? PyTuple_GET_ITEM(t->attempts, 0)
			: NULL;
	if (first != NULL && PyObject_TypeCheck(first, &kb_scope_type) &&
	    ((kb_scope *)first)->owner != NULL)
		thread = ((kb_scope *)first)->owner->name;
	raw = Py_BuildValue("(OiOO)", t->code, t->lasti, thread, kb_str_empty);
	if (raw == NULL)
		return NULL;
	t->read_at = PyObject_CallOneArg(kb_seq_site_from_raw, raw);
	Py_DECREF(raw);
	return Py_XNewRef(t->read_at);
}

static PyMemberDef tv_members[] = {
	{ "_v", T_OBJECT, offsetof(kb_tentative, v), READONLY, "The value read." },
	{ "_attempts", T_OBJECT, offsetof(kb_tentative, attempts), READONLY,
	  "The read attempts the value depends on." },
	{ NULL, 0, 0, 0, NULL }
};

static PyGetSetDef tv_getset[] = {
	{ "_read_at", (getter)tv_get_read_at, NULL,
	  "Where the (first) protected value was read (a Site).", NULL },
	{ NULL, NULL, NULL, NULL, NULL }
};

PyTypeObject kb_seq_tv_type = {
	PyVarObject_HEAD_INIT(NULL, 0).tp_name = "kbind._bridge._hotpath.TentativeCore",
	.tp_basicsize = sizeof(kb_tentative),
	.tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
	.tp_doc = "TentativeCore(v, attempts, read_at): the C half of "
		  "kbind.seqlock.TentativeValue.",
	.tp_new = tv_new,
	.tp_traverse = (traverseproc)tv_traverse,
	.tp_clear = (inquiry)tv_clear,
	.tp_dealloc = kb_seq_tv_dealloc,
	.tp_members = tv_members,
	.tp_getset = tv_getset,
};

/* -------------------------------------------------------------- init */

int kb_hp_init_seqlock_core(PyObject *m)
{
	kb_str_refuse = PyUnicode_InternFromString("_refuse");
	kb_str_no_field = PyUnicode_InternFromString("_no_field");
	kb_str_empty = PyUnicode_InternFromString("");
	if (kb_str_refuse == NULL || kb_str_no_field == NULL || kb_str_empty == NULL)
		return -1;
	if (PyType_Ready(&kb_seq_core_type) < 0 || PyType_Ready(&kb_seq_view_type) < 0 ||
	    PyType_Ready(&kb_seq_tv_type) < 0)
		return -1;
	if (PyModule_AddObjectRef(m, "SeqCore", (PyObject *)&kb_seq_core_type) < 0 ||
	    PyModule_AddObjectRef(m, "SeqViewCore", (PyObject *)&kb_seq_view_type) < 0 ||
	    PyModule_AddObjectRef(m, "TentativeCore", (PyObject *)&kb_seq_tv_type) < 0)
		return -1;
	return 0;
}

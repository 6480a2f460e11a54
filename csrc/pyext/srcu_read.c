/* SPDX-License-Identifier: MIT */
/*
 * csrc/pyext/srcu_read.c - the read side of kbind.kernel.sync.srcu in C.
 *
 * SrcuWord: the reader's view of one Srcu domain: the address of its C
 * kb_srcu_t (owned by a cffi object it keeps alive), a weak reference to the
 * Python Srcu, and whether the domain is closed.  SrcuGuardBase: the C half
 * of srcu::Guard, a kbind.lifetime scope of hooks "srcu_read" whose begin
 * calls kb_srcu_read_lock() on its word's domain and keeps the index in the
 * scope (kb_scope.cval), and whose end calls kb_srcu_read_unlock() with it.
 * The engine call and the scope's record are one C sequence, with the GIL
 * held (neither call blocks) and no bytecode in between, so a Ctrl-C cannot
 * split them.
 *
 * srcu_read_method(): the descriptor behind Srcu.read_lock(): the guard is
 * made and begun here, with no Python frame.  A closed domain hands over to
 * the domain's Python check, which raises.
 */
#include "lifetime.h"

typedef struct {
	PyObject_HEAD
	kb_srcu_t *sp;	/* the C domain, inside @mem */
	PyObject *mem;	/* the cffi object owning *sp */
	PyObject *ref;	/* weakref.ref to the kbind Srcu */
	int closed;	/* the Srcu was closed (or collected): no new readers */
} kb_srcuword;

static PyTypeObject kb_srcuword_type;
static PyTypeObject kb_srcuguard_type;

static PyObject *kb_srcu_register; /* callable(token): the thread's first SRCU reader */
static PyObject *kb_str_check_open, *kb_str_read_lock_op;

/* ------------------------------------------------------------ the word */

static void sw_dealloc(kb_srcuword *w)
{
	Py_CLEAR(w->mem);
	Py_CLEAR(w->ref);
	Py_TYPE(w)->tp_free((PyObject *)w);
}

/* SrcuWord(mem, address, ref): @address is the kb_srcu_t that @mem owns. */
static PyObject *sw_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
	PyObject *mem, *address, *ref;
	kb_srcuword *w;
	void *sp;

	if (kwds != NULL && PyDict_GET_SIZE(kwds) > 0) {
		PyErr_SetString(PyExc_TypeError, "SrcuWord() takes no keyword arguments");
		return NULL;
	}
	if (!PyArg_ParseTuple(args, "OO!O!:SrcuWord", &mem, &PyLong_Type, &address,
			      &_PyWeakref_RefType, &ref))
		return NULL;
	sp = PyLong_AsVoidPtr(address);
	if (sp == NULL) {
		if (!PyErr_Occurred())
			PyErr_SetString(PyExc_ValueError, "SrcuWord: the domain's address is NULL");
		return NULL;
	}
	w = (kb_srcuword *)type->tp_alloc(type, 0);
	if (w == NULL)
		return NULL;
	w->sp = sp;
	w->mem = Py_NewRef(mem);
	w->ref = Py_NewRef(ref);
	return (PyObject *)w;
}

static PyObject *sw_get_closed(kb_srcuword *w, void *closure)
{
	(void)closure;
	return PyBool_FromLong(w->closed);
}

static int sw_set_closed(kb_srcuword *w, PyObject *v, void *closure)
{
	int on;

	(void)closure;
	if (v == NULL) {
		PyErr_SetString(PyExc_AttributeError, "cannot delete closed");
		return -1;
	}
	on = PyObject_IsTrue(v);
	if (on < 0)
		return -1;
	if (!on && w->closed) {
		PyErr_SetString(PyExc_ValueError, "a closed SRCU domain stays closed");
		return -1;
	}
	w->closed = on;
	return 0;
}

static PyObject *sw_get_mem(kb_srcuword *w, void *closure)
{
	(void)closure;
	return Py_NewRef(w->mem);
}

static PyObject *sw_get_ref(kb_srcuword *w, void *closure)
{
	(void)closure;
	return Py_NewRef(w->ref);
}

static PyGetSetDef sw_getset[] = {
	{ "closed", (getter)sw_get_closed, (setter)sw_set_closed,
	  "Whether the domain refuses new readers (set once, by Srcu's teardown).", NULL },
	{ "mem", (getter)sw_get_mem, NULL, "The cffi object owning the kb_srcu_t.", NULL },
	{ "ref", (getter)sw_get_ref, NULL, "A weak reference to the Srcu.", NULL },
	{ NULL, NULL, NULL, NULL, NULL }
};

static PyTypeObject kb_srcuword_type = {
	PyVarObject_HEAD_INIT(NULL, 0).tp_name = "kbind._bridge._hotpath.SrcuWord",
	.tp_basicsize = sizeof(kb_srcuword),
	.tp_flags = Py_TPFLAGS_DEFAULT,
	.tp_doc = "SrcuWord(mem, address, ref): the C domain of a kbind Srcu, as its readers see it.",
	.tp_new = sw_new,
	.tp_dealloc = (destructor)sw_dealloc,
	.tp_getset = sw_getset,
};

/* ------------------------------------------------------------ the hooks */

static kb_srcuword *word_of_scope(kb_scope *s)
{
	PyObject *w = s->data;

	if (w != NULL && Py_IS_TYPE(w, &kb_srcuword_type))
		return (kb_srcuword *)w;
	return NULL;
}

/* Hooks "srcu_read", begin: srcu_read_lock() on the guard's domain; the index
 * goes into the scope.  Only C after the first reader of a thread. */
int kb_hp_srcu_read_begin(kb_scope *s)
{
	kb_srcuword *w = word_of_scope(s);

	if (!kb_hp_engine_bound()) {
		PyErr_SetString(PyExc_RuntimeError,
				"kbind._bridge._hotpath is not bound to its engine yet");
		return -1;
	}
	if (w == NULL) {
		PyErr_SetString(PyExc_TypeError, "kbind: an SRCU guard begins only with its domain");
		return -1;
	}
	if (KB_UNLIKELY(!(s->owner->bits & KB_THREAD_SRCU_SEEN))) {
		/* First SRCU reader of this thread: kbind.kernel.sync.srcu notes
		 * the thread (a domain's teardown names the readers of each). */
		PyObject *r;

		if (kb_srcu_register == NULL) {
			PyErr_SetString(PyExc_RuntimeError, "kbind: SRCU hooks not configured");
			return -1;
		}
		r = PyObject_CallOneArg(kb_srcu_register, (PyObject *)s->owner);
		if (r == NULL)
			return -1;
		Py_DECREF(r);
		s->owner->bits |= KB_THREAD_SRCU_SEEN;
	}
	s->cval = kb_hp_kb_srcu_read_lock(w->sp);
	return 0;
}

/* Hooks "srcu_read", end: srcu_read_unlock() with the index begin left (on
 * any thread for the leak path: SRCU indexes may be released anywhere). */
int kb_hp_srcu_read_end(kb_scope *s)
{
	kb_srcuword *w = word_of_scope(s);

	if (w == NULL)
		return 0; /* never locked */
	if (kb_hp_kb_srcu_read_unlock(w->sp, s->cval) != KB_OK) {
		PyErr_Format(PyExc_RuntimeError, "kbind: the SRCU engine refused index %d",
			     s->cval);
		return -1;
	}
	return 0;
}

/* ------------------------------------------------------------ the guard */

/* Make and begin a guard of @type reading @w's domain (open on return). */
static PyObject *guard_make(PyTypeObject *type, kb_srcuword *w)
{
	kb_hooks *h = kb_hp_hooks_of(type);
	kb_scope *s;

	if (h == NULL)
		return NULL;
	s = (kb_scope *)kb_hp_scope_alloc(type);
	if (s == NULL)
		return NULL;
	s->state = KB_SCOPE_NEW;
	s->lasti = s->end_lasti = -1;
	s->data = Py_NewRef((PyObject *)w);
	if (kb_scope_begin(s, h, NULL) < 0) {
		Py_DECREF(s);
		return NULL;
	}
	return (PyObject *)s;
}

/* The word of @domain (a new reference), or NULL with TypeError. */
static kb_srcuword *domain_word(PyObject *domain, PyObject *attr, const char *who)
{
	PyObject *w = PyObject_GetAttr(domain, attr);

	if (w != NULL && Py_IS_TYPE(w, &kb_srcuword_type))
		return (kb_srcuword *)w;
	if (w == NULL && !PyErr_ExceptionMatches(PyExc_AttributeError))
		return NULL;
	Py_XDECREF(w);
	PyErr_Clear();
	{
		const char *name = Py_TYPE(domain)->tp_name, *dot = strrchr(name, '.');

		PyErr_Format(PyExc_TypeError, "%s: domain must be an Srcu, not %s", who,
			     dot != NULL ? dot + 1 : name);
	}
	return NULL;
}

/* A closed domain refuses readers: its Python check raises (naming the sites). */
static int check_open(PyObject *domain, kb_srcuword *w)
{
	PyObject *r;

	if (KB_LIKELY(!w->closed))
		return 0;
	r = PyObject_CallMethodOneArg(domain, kb_str_check_open, kb_str_read_lock_op);
	if (r == NULL)
		return -1;
	Py_DECREF(r);
	return 0;
}

static PyObject *kb_str_word;

/* srcu::Guard(domain): the same as domain.read_lock(). */
static int guard_init(kb_scope *s, PyObject *args, PyObject *kwds)
{
	kb_srcuword *w;
	kb_hooks *h;
	int rc;

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
	if (PyTuple_GET_SIZE(args) != 1) {
		PyErr_Format(PyExc_TypeError, "%s(domain) takes exactly one argument",
			     Py_TYPE(s)->tp_name);
		return -1;
	}
	h = kb_hp_hooks_of(Py_TYPE(s));
	if (h == NULL)
		return -1;
	w = domain_word(PyTuple_GET_ITEM(args, 0), kb_str_word, "srcu::Guard(domain)");
	if (w == NULL)
		return -1;
	if (check_open(PyTuple_GET_ITEM(args, 0), w) < 0) {
		Py_DECREF(w);
		return -1;
	}
	Py_XSETREF(s->data, (PyObject *)w);
	rc = kb_scope_begin(s, h, NULL);
	if (rc < 0 && s->state == KB_SCOPE_NEW)
		Py_CLEAR(s->data);
	return rc;
}

static PyObject *guard_get_sp(kb_scope *s, void *closure)
{
	kb_srcuword *w = word_of_scope(s);

	(void)closure;
	if (w == NULL) {
		PyErr_SetString(PyExc_AttributeError, "_sp: the guard never began");
		return NULL;
	}
	return Py_NewRef(w->mem);
}

static PyObject *guard_get_domain(kb_scope *s, void *closure)
{
	kb_srcuword *w = word_of_scope(s);

	(void)closure;
	if (w == NULL) {
		PyErr_SetString(PyExc_AttributeError, "_domain: the guard never began");
		return NULL;
	}
	return Py_NewRef(w->ref);
}

static PyObject *guard_get_idx(kb_scope *s, void *closure)
{
	(void)closure;
	if (word_of_scope(s) == NULL || s->state == KB_SCOPE_NEW) {
		PyErr_SetString(PyExc_AttributeError, "_idx: the guard never began");
		return NULL;
	}
	return PyLong_FromLong(s->cval);
}

static PyGetSetDef guard_getset[] = {
	{ "_sp", (getter)guard_get_sp, NULL, "The cffi kb_srcu_t * of the guard's domain.", NULL },
	{ "_domain", (getter)guard_get_domain, NULL, "A weak reference to the guard's Srcu.",
	  NULL },
	{ "_idx", (getter)guard_get_idx, NULL, "The SRCU index its read lock returned.", NULL },
	{ NULL, NULL, NULL, NULL, NULL }
};

static PyTypeObject kb_srcuguard_type = {
	PyVarObject_HEAD_INIT(NULL, 0).tp_name = "kbind._bridge._hotpath.SrcuGuardBase",
	.tp_basicsize = sizeof(kb_scope),
	.tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
	.tp_doc = "The C half of kbind.kernel.sync.srcu.Guard.",
	.tp_init = (initproc)guard_init,
	.tp_getset = guard_getset,
};

/* ----------------------------------------------------------- read_lock() */

typedef struct {
	PyObject_HEAD
	vectorcallfunc vectorcall;
	PyObject *name;
	PyObject *doc;
	PyObject *guard_type;
	PyObject *word_attr; /* the domain's slot holding its SrcuWord */
} kb_srcumethod;

static PyObject *srcumethod_vectorcall(kb_srcumethod *m, PyObject *const *args, size_t nargsf,
				       PyObject *kwnames)
{
	Py_ssize_t nargs = PyVectorcall_NARGS(nargsf);
	kb_srcuword *w;
	PyObject *out;

	if (nargs != 1 || (kwnames != NULL && PyTuple_GET_SIZE(kwnames) > 0)) {
		PyErr_Format(PyExc_TypeError, "%U() takes no arguments", m->name);
		return NULL;
	}
	w = domain_word(args[0], m->word_attr, "Srcu.read_lock()");
	if (w == NULL)
		return NULL;
	out = check_open(args[0], w) < 0 ? NULL : guard_make((PyTypeObject *)m->guard_type, w);
	Py_DECREF(w);
	return out;
}

static int srcumethod_traverse(kb_srcumethod *m, visitproc visit, void *arg)
{
	Py_VISIT(m->guard_type);
	return 0;
}

static void srcumethod_dealloc(kb_srcumethod *m)
{
	PyObject_GC_UnTrack(m);
	Py_CLEAR(m->name);
	Py_CLEAR(m->doc);
	Py_CLEAR(m->guard_type);
	Py_CLEAR(m->word_attr);
	PyObject_GC_Del(m);
}

static PyObject *srcumethod_get(PyObject *self, PyObject *obj, PyObject *type)
{
	(void)type;
	if (obj == NULL || obj == Py_None)
		return Py_NewRef(self);
	return PyMethod_New(self, obj);
}

static PyObject *srcumethod_get_doc(kb_srcumethod *m, void *closure)
{
	(void)closure;
	return Py_NewRef(m->doc);
}

static PyObject *srcumethod_get_name(kb_srcumethod *m, void *closure)
{
	(void)closure;
	return Py_NewRef(m->name);
}

static PyGetSetDef srcumethod_getset[] = {
	{ "__doc__", (getter)srcumethod_get_doc, NULL, NULL, NULL },
	{ "__name__", (getter)srcumethod_get_name, NULL, NULL, NULL },
	{ NULL, NULL, NULL, NULL, NULL }
};

static PyTypeObject kb_srcumethod_type = {
	PyVarObject_HEAD_INIT(NULL, 0).tp_name = "kbind._bridge._hotpath.SrcuReadMethod",
	.tp_basicsize = sizeof(kb_srcumethod),
	.tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_METHOD_DESCRIPTOR |
		    Py_TPFLAGS_HAVE_VECTORCALL,
	.tp_vectorcall_offset = offsetof(kb_srcumethod, vectorcall),
	.tp_call = PyVectorcall_Call,
	.tp_traverse = (traverseproc)srcumethod_traverse,
	.tp_dealloc = (destructor)srcumethod_dealloc,
	.tp_descr_get = srcumethod_get,
	.tp_getset = srcumethod_getset,
};

/* srcu_read_method(name, doc, guard_type, word_attr) */
static PyObject *py_srcu_read_method(PyObject *self, PyObject *args)
{
	PyObject *name, *doc, *guard_type, *word_attr;
	kb_srcumethod *m;

	(void)self;
	if (!PyArg_ParseTuple(args, "UUO!U:srcu_read_method", &name, &doc, &PyType_Type,
			      &guard_type, &word_attr))
		return NULL;
	if (!PyType_IsSubtype((PyTypeObject *)guard_type, &kb_srcuguard_type)) {
		PyErr_SetString(PyExc_TypeError,
				"srcu_read_method(): guard_type must subclass SrcuGuardBase");
		return NULL;
	}
	m = PyObject_GC_New(kb_srcumethod, &kb_srcumethod_type);
	if (m == NULL)
		return NULL;
	m->vectorcall = (vectorcallfunc)srcumethod_vectorcall;
	m->name = Py_NewRef(name);
	m->doc = Py_NewRef(doc);
	m->guard_type = Py_NewRef(guard_type);
	m->word_attr = Py_NewRef(word_attr);
	PyUnicode_InternInPlace(&m->word_attr);
	PyObject_GC_Track(m);
	return (PyObject *)m;
}

static PyObject *py_configure_srcu(PyObject *self, PyObject *fn)
{
	(void)self;
	Py_INCREF(fn);
	Py_XSETREF(kb_srcu_register, fn);
	Py_RETURN_NONE;
}

static PyMethodDef srcu_methods[] = {
	{ "srcu_read_method", py_srcu_read_method, METH_VARARGS,
	  "srcu_read_method(name, doc, guard_type, word_attr): the descriptor of Srcu.read_lock(): "
	  "the guard is made and srcu_read_lock() taken in C; a closed domain's "
	  "obj._check_open('read_lock()') raises." },
	{ "configure_srcu", py_configure_srcu, METH_O,
	  "configure_srcu(register): register(token) runs at a thread's first SRCU reader." },
	{ NULL, NULL, 0, NULL }
};

int kb_hp_init_srcu(PyObject *m)
{
	KB_INTERN(kb_str_check_open, "_check_open");
	KB_INTERN(kb_str_read_lock_op, "read_lock()");
	KB_INTERN(kb_str_word, "_word");
	kb_srcuguard_type.tp_base = &kb_scope_type;
	kb_srcuguard_type.tp_traverse = kb_scope_type.tp_traverse;
	kb_srcuguard_type.tp_clear = kb_scope_type.tp_clear;
	if (PyType_Ready(&kb_srcuword_type) < 0 || PyType_Ready(&kb_srcuguard_type) < 0 ||
	    PyType_Ready(&kb_srcumethod_type) < 0)
		return -1;
	if (PyModule_AddObjectRef(m, "SrcuWord", (PyObject *)&kb_srcuword_type) < 0 ||
	    PyModule_AddObjectRef(m, "SrcuGuardBase", (PyObject *)&kb_srcuguard_type) < 0)
		return -1;
	return PyModule_AddFunctions(m, srcu_methods);
}

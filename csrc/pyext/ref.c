/* SPDX-License-Identifier: MIT */
/*
 * csrc/pyext/ref.c - retirable cells and bound references of kbind.lifetime.
 *
 * A Cell holds one published object until it is poisoned (freed): then its
 * value is dropped and every reference into it raises.  A Ref is a proxy to
 * an object in a cell (or to an object reached from it), usable only while
 * its scope is open and its cell not poisoned.  What comes out of a Ref is
 * returned as it is when its type is plain (immutable, or synchronizing
 * itself) and otherwise wrapped in a Ref bound to the same scope and cell.
 * A RefPolicy says what is plain, how children are made, whether the Ref is
 * read-only, and builds the errors (in Python, so each design keeps its
 * messages).
 */
#include "lifetime.h"

#include <structmember.h>

/* ------------------------------------------------------------------ cells */

typedef struct {
	PyObject_HEAD
	PyObject *weakrefs;
	PyObject *value; /* the object; kb_freed once poisoned */
	int freed;
} kb_cell;

static PyObject *kb_freed; /* the value of a poisoned cell */

static PyObject *freed_repr(PyObject *self)
{
	(void)self;
	return PyUnicode_FromString("<freed>");
}

static PyTypeObject kb_freed_type = {
	PyVarObject_HEAD_INIT(NULL, 0).tp_name = "kbind._bridge._hotpath.Freed",
	.tp_basicsize = sizeof(PyObject),
	.tp_flags = Py_TPFLAGS_DEFAULT,
	.tp_doc = "The value of a poisoned (freed) cell.",
	.tp_repr = freed_repr,
};

static int cell_traverse(kb_cell *c, visitproc visit, void *arg)
{
	Py_VISIT(c->value);
	return 0;
}

static int cell_clear(kb_cell *c)
{
	Py_CLEAR(c->value);
	return 0;
}

static void cell_dealloc(kb_cell *c)
{
	PyTypeObject *tp = Py_TYPE(c);

	PyObject_GC_UnTrack(c);
	if (c->weakrefs != NULL)
		PyObject_ClearWeakRefs((PyObject *)c);
	Py_CLEAR(c->value);
	tp->tp_free((PyObject *)c); /* a subclass's subtype_dealloc drops its type */
}

static int cell_init(kb_cell *c, PyObject *args, PyObject *kwds)
{
	PyObject *value;

	if (kwds != NULL && PyDict_GET_SIZE(kwds) > 0) {
		PyErr_SetString(PyExc_TypeError, "Cell() takes no keyword arguments");
		return -1;
	}
	if (!PyArg_ParseTuple(args, "O:Cell", &value))
		return -1;
	Py_INCREF(value);
	Py_XSETREF(c->value, value);
	c->freed = 0;
	return 0;
}

static PyObject *cell_poison(kb_cell *c, PyObject *unused)
{
	PyObject *old = c->value;

	(void)unused;
	if (c->freed)
		Py_RETURN_FALSE;
	/* Stores first: a finalizer run by the last reference's release sees
	 * the cell poisoned already. */
	Py_INCREF(kb_freed);
	c->value = kb_freed;
	c->freed = 1;
	Py_XDECREF(old);
	Py_RETURN_TRUE;
}

static PyObject *cell_get_value(kb_cell *c, void *closure)
{
	(void)closure;
	return Py_NewRef(c->value != NULL ? c->value : kb_freed);
}

static PyObject *cell_get_freed(kb_cell *c, void *closure)
{
	(void)closure;
	return PyBool_FromLong(c->freed);
}

static PyGetSetDef cell_getset[] = {
	{ "value", (getter)cell_get_value, NULL,
	  "The object, or kbind.lifetime.FREED once the cell is poisoned.", NULL },
	{ "freed", (getter)cell_get_freed, NULL, "Whether the cell was poisoned.", NULL },
	{ NULL, NULL, NULL, NULL, NULL }
};

static PyMethodDef cell_methods[] = {
	{ "_poison", (PyCFunction)cell_poison, METH_NOARGS,
	  "Drop the object; every reference into the cell raises from now on. "
	  "Returns False if it was poisoned already." },
	{ NULL, NULL, 0, NULL }
};

static PyTypeObject kb_cell_type = {
	PyVarObject_HEAD_INIT(NULL, 0).tp_name = "kbind._bridge._hotpath.Cell",
	.tp_basicsize = sizeof(kb_cell),
	.tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
	.tp_doc = "The C core of kbind.lifetime.Cell (use that class).",
	.tp_new = PyType_GenericNew,
	.tp_init = (initproc)cell_init,
	.tp_traverse = (traverseproc)cell_traverse,
	.tp_clear = (inquiry)cell_clear,
	.tp_dealloc = (destructor)cell_dealloc,
	.tp_methods = cell_methods,
	.tp_getset = cell_getset,
	.tp_weaklistoffset = offsetof(kb_cell, weakrefs),
};

/* --------------------------------------------------------------- policies */

typedef struct {
	PyObject_HEAD
	PyObject *plain;  /* set of types returned as they are */
	PyObject *child;  /* callable(ref, value, holder, name or None) or NULL */
	PyObject *stale;  /* callable(scope, cell, op) -> exception */
	PyObject *freed;  /* callable(scope, cell, op) -> exception */
	PyObject *refuse; /* callable(ref, op) -> exception (a write through a read-only ref) */
	int writable;
} kb_policy;

static int policy_traverse(kb_policy *p, visitproc visit, void *arg)
{
	Py_VISIT(p->plain);
	Py_VISIT(p->child);
	Py_VISIT(p->stale);
	Py_VISIT(p->freed);
	Py_VISIT(p->refuse);
	return 0;
}

static int policy_clear(kb_policy *p)
{
	Py_CLEAR(p->plain);
	Py_CLEAR(p->child);
	Py_CLEAR(p->stale);
	Py_CLEAR(p->freed);
	Py_CLEAR(p->refuse);
	return 0;
}

static void policy_dealloc(kb_policy *p)
{
	PyObject_GC_UnTrack(p);
	policy_clear(p);
	Py_TYPE(p)->tp_free((PyObject *)p);
}

static PyObject *policy_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
	static char *kwlist[] = { "plain", "stale", "freed", "refuse", "child", "writable", NULL };
	PyObject *plain, *stale, *freed, *refuse, *child = NULL;
	int writable = 0;
	kb_policy *p;

	if (!PyArg_ParseTupleAndKeywords(args, kwds, "O!OOO|Op:RefPolicy", kwlist, &PySet_Type,
					 &plain, &stale, &freed, &refuse, &child, &writable))
		return NULL;
	p = (kb_policy *)type->tp_alloc(type, 0);
	if (p == NULL)
		return NULL;
	p->plain = Py_NewRef(plain);
	p->stale = Py_NewRef(stale);
	p->freed = Py_NewRef(freed);
	p->refuse = Py_NewRef(refuse);
	p->child = child != NULL && child != Py_None ? Py_NewRef(child) : NULL;
	p->writable = writable;
	return (PyObject *)p;
}

static PyTypeObject kb_policy_type = {
	PyVarObject_HEAD_INIT(NULL, 0).tp_name = "kbind.lifetime.RefPolicy",
	.tp_basicsize = sizeof(kb_policy),
	.tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
	.tp_doc = "RefPolicy(plain, stale, freed, refuse, child=None, writable=False): what "
		  "one design's references return as they are, and the errors they raise.",
	.tp_new = policy_new,
	.tp_traverse = (traverseproc)policy_traverse,
	.tp_clear = (inquiry)policy_clear,
	.tp_dealloc = (destructor)policy_dealloc,
};

/* ------------------------------------------------------------- references */

typedef struct {
	PyObject_HEAD
	kb_scope *scope;
	kb_cell *cell;
	PyObject *obj; /* NULL: the cell's value */
	kb_policy *policy;
} kb_ref;

static PyTypeObject kb_ref_type;
static PyObject *ref_make(PyTypeObject *type, kb_scope *scope, kb_cell *cell, PyObject *obj,
			  kb_policy *policy);

#define KB_IS_REF(o) PyObject_TypeCheck((o), &kb_ref_type)

/* Raise policy->fn(scope, cell, op) (op formatted only now). */
static void ref_raise(kb_ref *r, PyObject *fn, const char *fmt, PyObject *arg)
{
	PyObject *op = arg != NULL ? PyUnicode_FromFormat(fmt, arg) : PyUnicode_FromString(fmt);
	PyObject *exc;

	if (op == NULL)
		return;
	if (fn == r->policy->refuse)
		exc = PyObject_CallFunctionObjArgs(fn, (PyObject *)r, op, NULL);
	else
		exc = PyObject_CallFunctionObjArgs(fn, (PyObject *)r->scope, (PyObject *)r->cell,
						   op, NULL);
	Py_DECREF(op);
	if (exc == NULL)
		return;
	if (PyExceptionInstance_Check(exc))
		PyErr_SetObject((PyObject *)Py_TYPE(exc), exc);
	else
		PyErr_SetString(PyExc_RuntimeError, "kbind: a RefPolicy hook returned no exception");
	Py_DECREF(exc);
}

/* The object @r reaches (a new reference: what runs next may poison the
 * cell), or NULL with the design's error. */
static inline PyObject *ref_get(kb_ref *r, const char *fmt, PyObject *arg)
{
	if (r->scope->state != KB_SCOPE_OPEN) {
		ref_raise(r, r->policy->stale, fmt, arg);
		return NULL;
	}
	if (r->cell->freed) {
		ref_raise(r, r->policy->freed, fmt, arg);
		return NULL;
	}
	return Py_NewRef(r->obj != NULL ? r->obj : r->cell->value);
}

PyObject *kb_hp_ref_make(PyTypeObject *type, kb_scope *scope, PyObject *cell, PyObject *obj,
			 PyObject *policy)
{
	return ref_make(type, scope, (kb_cell *)cell, obj, (kb_policy *)policy);
}

static PyObject *ref_make(PyTypeObject *type, kb_scope *scope, kb_cell *cell, PyObject *obj,
			  kb_policy *policy)
{
	kb_ref *r = (kb_ref *)kb_hp_ref_alloc(type);

	if (r == NULL)
		return NULL;
	r->scope = (kb_scope *)Py_NewRef((PyObject *)scope);
	r->cell = (kb_cell *)Py_NewRef((PyObject *)cell);
	r->obj = Py_XNewRef(obj);
	r->policy = (kb_policy *)Py_NewRef((PyObject *)policy);
	return (PyObject *)r;
}

static inline int fast_plain(PyObject *v)
{
	return v == Py_None || PyLong_CheckExact(v) || PyUnicode_CheckExact(v) ||
	       PyFloat_CheckExact(v) || PyBool_Check(v) || PyBytes_CheckExact(v);
}

int kb_hp_is_plain(PyObject *policy, PyObject *v)
{
	if (fast_plain(v))
		return 1;
	return PySet_Contains(((kb_policy *)policy)->plain, (PyObject *)Py_TYPE(v));
}

int kb_hp_is_ref(PyObject *v)
{
	return KB_IS_REF(v);
}

int kb_hp_is_cell(PyObject *v)
{
	return PyObject_TypeCheck(v, &kb_cell_type);
}

/* What comes out of @r: @v (a new reference, stolen) as it is, or a child. */
static PyObject *ref_child(kb_ref *r, PyObject *v, PyObject *holder, PyObject *name)
{
	int plain;
	PyObject *out;

	if (v == NULL || fast_plain(v))
		return v;
	plain = PySet_Contains(r->policy->plain, (PyObject *)Py_TYPE(v));
	if (plain != 0) {
		if (plain < 0)
			Py_CLEAR(v);
		return v;
	}
	if (KB_IS_REF(v))
		return v;
	if (r->policy->child != NULL) {
		out = PyObject_CallFunctionObjArgs(r->policy->child, (PyObject *)r, v, holder,
						   name != NULL ? name : Py_None, NULL);
		Py_DECREF(v);
		return out;
	}
	out = ref_make(Py_TYPE(r), r->scope, r->cell, v, r->policy);
	Py_DECREF(v);
	return out;
}

/* @x, or what it reaches if it is a reference: a new reference. */
static PyObject *ref_unwrap(PyObject *x, const char *fmt)
{
	if (KB_IS_REF(x))
		return ref_get((kb_ref *)x, fmt, NULL);
	return Py_NewRef(x);
}

static PyObject *ref_getattro(kb_ref *r, PyObject *name)
{
	PyObject *v = ref_get(r, "read .%U", name);
	PyObject *out;

	if (v == NULL)
		return NULL;
	out = ref_child(r, PyObject_GetAttr(v, name), v, name);
	Py_DECREF(v);
	return out;
}

static int ref_setattro(kb_ref *r, PyObject *name, PyObject *value)
{
	PyObject *v;
	int rc;

	if (!r->policy->writable) {
		ref_raise(r, r->policy->refuse, value != NULL ? "assign .%U" : "delete .%U", name);
		return -1;
	}
	v = ref_get(r, value != NULL ? "assign .%U" : "delete .%U", name);
	if (v == NULL)
		return -1;
	rc = PyObject_SetAttr(v, name, value);
	Py_DECREF(v);
	return rc;
}

static PyObject *ref_subscript(kb_ref *r, PyObject *key)
{
	PyObject *v = ref_get(r, "read [...]", NULL);
	PyObject *out;

	if (v == NULL)
		return NULL;
	out = ref_child(r, PyObject_GetItem(v, key), v, NULL);
	Py_DECREF(v);
	return out;
}

static int ref_ass_subscript(kb_ref *r, PyObject *key, PyObject *value)
{
	PyObject *v;
	int rc;

	if (!r->policy->writable) {
		ref_raise(r, r->policy->refuse, value != NULL ? "assign [%R]" : "delete [%R]", key);
		return -1;
	}
	v = ref_get(r, value != NULL ? "assign [%R]" : "delete [%R]", key);
	if (v == NULL)
		return -1;
	rc = value != NULL ? PyObject_SetItem(v, key, value) : PyObject_DelItem(v, key);
	Py_DECREF(v);
	return rc;
}

static Py_ssize_t ref_length(kb_ref *r)
{
	PyObject *v = ref_get(r, "take len()", NULL);
	Py_ssize_t n;

	if (v == NULL)
		return -1;
	n = PyObject_Length(v);
	Py_DECREF(v);
	return n;
}

static int ref_contains(kb_ref *r, PyObject *item)
{
	PyObject *v = ref_get(r, "test `in`", NULL);
	int rc;

	if (v == NULL)
		return -1;
	item = ref_unwrap(item, "compare");
	if (item == NULL) {
		Py_DECREF(v);
		return -1;
	}
	rc = PySequence_Contains(v, item);
	Py_DECREF(item);
	Py_DECREF(v);
	return rc;
}

static PyObject *ref_call(kb_ref *r, PyObject *args, PyObject *kwargs)
{
	PyObject *v = ref_get(r, "call", NULL);
	PyObject *out;

	if (v == NULL)
		return NULL;
	out = ref_child(r, PyObject_Call(v, args, kwargs), v, NULL);
	Py_DECREF(v);
	return out;
}

static PyObject *ref_richcompare(kb_ref *r, PyObject *other, int op)
{
	static const char *const ops[] = { "compare <",	 "compare <=", "compare ==",
					   "compare !=", "compare >",  "compare >=" };
	PyObject *v = ref_get(r, ops[op], NULL);
	int res;

	if (v == NULL)
		return NULL;
	other = ref_unwrap(other, "compare");
	if (other == NULL) {
		Py_DECREF(v);
		return NULL;
	}
	res = PyObject_RichCompareBool(v, other, op);
	Py_DECREF(other);
	Py_DECREF(v);
	if (res < 0)
		return NULL;
	return PyBool_FromLong(res);
}

static Py_hash_t ref_hash(kb_ref *r)
{
	PyObject *v = ref_get(r, "hash", NULL);
	Py_hash_t h;

	if (v == NULL)
		return -1;
	h = PyObject_Hash(v);
	Py_DECREF(v);
	return h;
}

static int ref_bool(kb_ref *r)
{
	PyObject *v = ref_get(r, "test truth", NULL);
	int t;

	if (v == NULL)
		return -1;
	t = PyObject_IsTrue(v);
	Py_DECREF(v);
	return t;
}

static PyObject *ref_str(kb_ref *r)
{
	PyObject *v = ref_get(r, "convert to str", NULL);
	PyObject *out;

	if (v == NULL)
		return NULL;
	out = PyObject_Str(v);
	Py_DECREF(v);
	return out;
}

/* Iteration: each step checks the scope and the cell again. */
typedef struct {
	PyObject_HEAD
	kb_ref *ref;
	PyObject *it;
} kb_ref_iter;

static PyTypeObject kb_ref_iter_type;

static PyObject *ref_iter(kb_ref *r)
{
	PyObject *v = ref_get(r, "iterate", NULL);
	kb_ref_iter *ri;
	PyObject *it;

	if (v == NULL)
		return NULL;
	it = PyObject_GetIter(v);
	Py_DECREF(v);
	if (it == NULL)
		return NULL;
	ri = PyObject_GC_New(kb_ref_iter, &kb_ref_iter_type);
	if (ri == NULL) {
		Py_DECREF(it);
		return NULL;
	}
	ri->ref = (kb_ref *)Py_NewRef((PyObject *)r);
	ri->it = it;
	PyObject_GC_Track(ri);
	return (PyObject *)ri;
}

static PyObject *ref_iter_next(kb_ref_iter *ri)
{
	PyObject *x = PyIter_Next(ri->it);
	PyObject *holder;

	if (x == NULL)
		return NULL;
	PyObject *out;

	holder = ref_get(ri->ref, "continue iterating", NULL);
	if (holder == NULL) {
		Py_DECREF(x);
		return NULL;
	}
	out = ref_child(ri->ref, x, holder, NULL);
	Py_DECREF(holder);
	return out;
}

static int ref_iter_traverse(kb_ref_iter *ri, visitproc visit, void *arg)
{
	Py_VISIT(ri->ref);
	Py_VISIT(ri->it);
	return 0;
}

static void ref_iter_dealloc(kb_ref_iter *ri)
{
	PyObject_GC_UnTrack(ri);
	Py_CLEAR(ri->ref);
	Py_CLEAR(ri->it);
	PyObject_GC_Del(ri);
}

static PyTypeObject kb_ref_iter_type = {
	PyVarObject_HEAD_INIT(NULL, 0).tp_name = "kbind._bridge._hotpath.RefIterator",
	.tp_basicsize = sizeof(kb_ref_iter),
	.tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
	.tp_traverse = (traverseproc)ref_iter_traverse,
	.tp_dealloc = (destructor)ref_iter_dealloc,
	.tp_iter = PyObject_SelfIter,
	.tp_iternext = (iternextfunc)ref_iter_next,
};

static int ref_traverse(kb_ref *r, visitproc visit, void *arg)
{
	Py_VISIT(r->scope);
	Py_VISIT(r->cell);
	Py_VISIT(r->obj);
	Py_VISIT(r->policy);
	return 0;
}

static int ref_clear(kb_ref *r)
{
	Py_CLEAR(r->obj);
	return 0;
}

static void ref_dealloc(kb_ref *r)
{
	PyTypeObject *tp = Py_TYPE(r);

	PyObject_GC_UnTrack(r);
	Py_CLEAR(r->scope);
	Py_CLEAR(r->cell);
	Py_CLEAR(r->obj);
	Py_CLEAR(r->policy);
	tp->tp_free((PyObject *)r); /* a subclass's subtype_dealloc drops its type */
}

static PyObject *ref_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
	(void)args;
	(void)kwds;
	PyErr_Format(PyExc_TypeError,
		     "%s cannot be created directly: references come from their design's read "
		     "(kbind.lifetime.bind() for a design of your own)",
		     type->tp_name);
	return NULL;
}

static PyMappingMethods ref_as_mapping = {
	.mp_length = (lenfunc)ref_length,
	.mp_subscript = (binaryfunc)ref_subscript,
	.mp_ass_subscript = (objobjargproc)ref_ass_subscript,
};

static PySequenceMethods ref_as_sequence = {
	.sq_length = (lenfunc)ref_length,
	.sq_contains = (objobjproc)ref_contains,
};

static PyNumberMethods ref_as_number = {
	.nb_bool = (inquiry)ref_bool,
};

static PyTypeObject kb_ref_type = {
	PyVarObject_HEAD_INIT(NULL, 0).tp_name = "kbind._bridge._hotpath.Ref",
	.tp_basicsize = sizeof(kb_ref),
	.tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
	.tp_doc = "The C core of kbind.lifetime.Ref (use that class).",
	.tp_new = ref_new,
	.tp_traverse = (traverseproc)ref_traverse,
	.tp_clear = (inquiry)ref_clear,
	.tp_dealloc = (destructor)ref_dealloc,
	.tp_getattro = (getattrofunc)ref_getattro,
	.tp_setattro = (setattrofunc)ref_setattro,
	.tp_as_mapping = &ref_as_mapping,
	.tp_as_sequence = &ref_as_sequence,
	.tp_as_number = &ref_as_number,
	.tp_call = (ternaryfunc)ref_call,
	.tp_richcompare = (richcmpfunc)ref_richcompare,
	.tp_hash = (hashfunc)ref_hash,
	.tp_str = (reprfunc)ref_str,
	.tp_iter = (getiterfunc)ref_iter,
};

/* ------------------------------------------------------ module functions */

/* bind(ref_type, policy, scope, cell, obj=None) -> a new reference. */
static PyObject *py_bind(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
	PyTypeObject *type;

	(void)self;
	if (nargs < 4 || nargs > 5 || !PyType_Check(args[0]) ||
	    !PyType_IsSubtype((PyTypeObject *)args[0], &kb_ref_type) ||
	    !PyObject_TypeCheck(args[1], &kb_policy_type) ||
	    !PyObject_TypeCheck(args[2], &kb_scope_type) ||
	    !PyObject_TypeCheck(args[3], &kb_cell_type)) {
		PyErr_SetString(PyExc_TypeError,
				"bind(ref_type, policy, scope, cell, obj=None): a Ref subclass, a "
				"RefPolicy, a Scope and a Cell");
		return NULL;
	}
	type = (PyTypeObject *)args[0];
	return ref_make(type, (kb_scope *)args[2], (kb_cell *)args[3],
			nargs == 5 && args[4] != Py_None ? args[4] : NULL, (kb_policy *)args[1]);
}

/* bind_open(ref_type, policy, scope, cell, kind=None): as bind(), but the
 * scope must be open on the calling thread (and of type kind if given);
 * returns None instead if it is not (the caller then builds its own error). */
static PyObject *py_bind_open(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
	kb_scope *s;
	PyObject *cur;

	(void)self;
	if (nargs < 4 || nargs > 5 || !PyType_Check(args[0]) ||
	    !PyType_IsSubtype((PyTypeObject *)args[0], &kb_ref_type) ||
	    !PyObject_TypeCheck(args[1], &kb_policy_type) ||
	    !PyObject_TypeCheck(args[3], &kb_cell_type)) {
		PyErr_SetString(PyExc_TypeError, "bind_open(ref_type, policy, scope, cell, kind=None)");
		return NULL;
	}
	if (!PyObject_TypeCheck(args[2], &kb_scope_type))
		Py_RETURN_NONE;
	if (nargs == 5 && args[4] != Py_None && (PyObject *)Py_TYPE(args[2]) != args[4])
		Py_RETURN_NONE;
	s = (kb_scope *)args[2];
	if (s->state != KB_SCOPE_OPEN)
		Py_RETURN_NONE;
	cur = (PyObject *)kb_hp_thread_if_any();
	if ((PyObject *)s->owner != cur)
		Py_RETURN_NONE;
	return ref_make((PyTypeObject *)args[0], s, (kb_cell *)args[3], NULL,
			(kb_policy *)args[1]);
}

static PyObject *py_ref_parts(PyObject *self, PyObject *r)
{
	kb_ref *ref = (kb_ref *)r;

	(void)self;
	if (!KB_IS_REF(r)) {
		PyErr_SetString(PyExc_TypeError, "ref_parts() takes a reference");
		return NULL;
	}
	return Py_BuildValue("(OOO)", ref->scope, ref->cell, ref->obj != NULL ? ref->obj : Py_None);
}

/* ref_target(ref, op) -> (scope, cell, object), after the checks. */
static PyObject *py_ref_target(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
	kb_ref *r;
	PyObject *v;

	(void)self;
	if (nargs != 2 || !KB_IS_REF(args[0]) || !PyUnicode_Check(args[1])) {
		PyErr_SetString(PyExc_TypeError, "ref_target(ref, op)");
		return NULL;
	}
	r = (kb_ref *)args[0];
	v = ref_get(r, "%U", args[1]);
	if (v == NULL)
		return NULL;
	return Py_BuildValue("(OON)", r->scope, r->cell, v);
}

/* ref_child(ref, value, holder, name=None): what ref's access returning value gives. */
static PyObject *py_ref_wrap(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
	kb_ref *r;

	(void)self;
	if (nargs != 2 || !KB_IS_REF(args[0])) {
		PyErr_SetString(PyExc_TypeError, "ref_wrap(ref, value)");
		return NULL;
	}
	r = (kb_ref *)args[0];
	if (fast_plain(args[1]) || KB_IS_REF(args[1]))
		return Py_NewRef(args[1]);
	return ref_make(Py_TYPE(r), r->scope, r->cell, args[1], r->policy);
}

/* rebind_open(ref, scope): a new reference to what @ref reaches (its cell and
 * object), with its type and policy, bound to @scope instead; None unless
 * @scope is open on the calling thread (the caller then builds its error).
 * The checks of @ref itself are the caller's (ref_target() first). */
static PyObject *py_rebind_open(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
	kb_ref *r;
	kb_scope *s;

	(void)self;
	if (nargs != 2 || !KB_IS_REF(args[0])) {
		PyErr_SetString(PyExc_TypeError, "rebind_open(ref, scope)");
		return NULL;
	}
	if (!PyObject_TypeCheck(args[1], &kb_scope_type))
		Py_RETURN_NONE;
	r = (kb_ref *)args[0];
	s = (kb_scope *)args[1];
	if (s->state != KB_SCOPE_OPEN || (PyObject *)s->owner != (PyObject *)kb_hp_thread_if_any())
		Py_RETURN_NONE;
	return ref_make(Py_TYPE(r), s, r->cell, r->obj, r->policy);
}

static PyMethodDef ref_methods[] = {
	{ "bind", (PyCFunction)(void (*)(void))py_bind, METH_FASTCALL,
	  "bind(ref_type, policy, scope, cell, obj=None) -> a reference bound to scope." },
	{ "bind_open", (PyCFunction)(void (*)(void))py_bind_open, METH_FASTCALL,
	  "bind_open(ref_type, policy, scope, cell) -> a reference, or None unless scope is "
	  "open on this thread." },
	{ "ref_parts", py_ref_parts, METH_O, "ref_parts(ref) -> (scope, cell, object or None)." },
	{ "ref_target", (PyCFunction)(void (*)(void))py_ref_target, METH_FASTCALL,
	  "ref_target(ref, op) -> (scope, cell, object): the checks, then the parts." },
	{ "ref_wrap", (PyCFunction)(void (*)(void))py_ref_wrap, METH_FASTCALL,
	  "ref_wrap(ref, value) -> a reference to value bound as ref is (plain values as they are)." },
	{ "rebind_open", (PyCFunction)(void (*)(void))py_rebind_open, METH_FASTCALL,
	  "rebind_open(ref, scope) -> a reference to what ref reaches, bound to scope, or None "
	  "unless scope is open on this thread." },
	{ NULL, NULL, 0, NULL }
};

PyTypeObject *kb_hp_ref_type_p = &kb_ref_type;

void kb_hp_ref_dealloc(PyObject *r)
{
	ref_dealloc((kb_ref *)r);
}

/* Recycled references (see lifetime.c's scope free list): sealed kinds of
 * the base size only; a reference has no finalizer. */
#define KB_FREE_MAX 32
static kb_ref *kb_ref_free[KB_FREE_MAX];
static int kb_ref_nfree;

int kb_hp_ref_recycle(PyObject *o)
{
	kb_ref *r = (kb_ref *)o;

	if (kb_ref_nfree >= KB_FREE_MAX || Py_TYPE(o)->tp_basicsize != sizeof(kb_ref))
		return 0;
	PyObject_GC_UnTrack(r);
	Py_CLEAR(r->scope);
	Py_CLEAR(r->cell);
	Py_CLEAR(r->obj);
	Py_CLEAR(r->policy);
	kb_ref_free[kb_ref_nfree++] = r;
	return 1;
}

PyObject *kb_hp_ref_alloc(PyTypeObject *type)
{
	if (kb_ref_nfree > 0 && kb_hp_is_sealed_ref_type(type) &&
	    type->tp_basicsize == sizeof(kb_ref)) {
		kb_ref *r = kb_ref_free[--kb_ref_nfree];

		memset((char *)r + sizeof(PyObject), 0, sizeof(kb_ref) - sizeof(PyObject));
		Py_SET_TYPE(r, type);
		Py_INCREF(type);
		_Py_NewReference((PyObject *)r);
		PyObject_GC_Track(r); /* as tp_alloc leaves it */
		return (PyObject *)r;
	}
	return type->tp_alloc(type, 0);
}

int kb_hp_init_ref(PyObject *m)
{
	if (PyType_Ready(&kb_freed_type) < 0 || PyType_Ready(&kb_cell_type) < 0 ||
	    PyType_Ready(&kb_policy_type) < 0 || PyType_Ready(&kb_ref_type) < 0 ||
	    PyType_Ready(&kb_ref_iter_type) < 0)
		return -1;
	kb_freed = PyObject_New(PyObject, &kb_freed_type);
	if (kb_freed == NULL)
		return -1;
	if (PyModule_AddObjectRef(m, "FREED", kb_freed) < 0 ||
	    PyModule_AddObjectRef(m, "Cell", (PyObject *)&kb_cell_type) < 0 ||
	    PyModule_AddObjectRef(m, "RefPolicy", (PyObject *)&kb_policy_type) < 0 ||
	    PyModule_AddObjectRef(m, "Ref", (PyObject *)&kb_ref_type) < 0)
		return -1;
	return PyModule_AddFunctions(m, ref_methods);
}

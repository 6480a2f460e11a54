/* SPDX-License-Identifier: MIT */
/*
 * csrc/pyext/deref.c - the two read paths of a design, as method descriptors.
 *
 * Deref: ``obj.read(scope[, fn])``: a reference into ``obj``'s cell bound to
 * an open scope of the calling thread (Rust: ``fn read<'a>(&self, &'a
 * Guard) -> &'a T``).  ScopedCall: ``obj.with_read(fn)``: a new scope of a
 * given kind, ``fn(ref)``, the scope's end (the closure form).
 *
 * Both are method descriptors (Py_TPFLAGS_METHOD_DESCRIPTOR): ``obj.read(g)``
 * calls them with ``obj`` as the first argument and no bound method is made.
 * Refusals call back into a Python method of ``obj`` that raises the
 * design's error.
 *
 * Optionally (``none_if_unset``), an unset cell attribute (a null or revoked
 * pointer: ``obj.cell_attr`` raises AttributeError naming ``obj`` and
 * ``cell_attr``) reads as None instead of raising: ``read`` returns None
 * without calling ``fn``, ``with_read`` ends its scope without calling
 * ``fn`` and returns None.  An AttributeError raised by ``fn`` itself, or
 * about any other attribute, propagates as always.
 */
#include "lifetime.h"

#include <structmember.h>

typedef struct {
	PyObject_HEAD
	vectorcallfunc vectorcall;
	PyObject *ref_type;  /* the Ref subclass made */
	PyObject *policy;    /* its RefPolicy */
	PyObject *kind;	     /* the Scope subclass: required (Deref) or made (ScopedCall) */
	PyObject *cell_attr; /* the attribute of obj holding the Cell */
	PyObject *refuse;    /* Deref: name of obj's method raising for a bad scope;
			      * ScopedCall: callable(result, scope, obj) for results that are
			      * neither plain nor a reference (copies them out) */
	PyObject *escaped;   /* ScopedCall: callable(scope, obj) -> exception, for a
			      * reference returned past its scope */
	PyObject *how;	     /* ScopedCall: how the scope ends */
	PyObject *name;
	PyObject *doc;
	PyTypeObject *slot_type; /* the type whose cell_attr is a slot at slot_offset */
	Py_ssize_t slot_offset;
	int none_if_unset; /* an unset cell_attr reads as None (cell_of() returns Py_None) */
} kb_deref;

static int deref_traverse(kb_deref *d, visitproc visit, void *arg)
{
	Py_VISIT(d->ref_type);
	Py_VISIT(d->policy);
	Py_VISIT(d->kind);
	Py_VISIT(d->refuse);
	Py_VISIT(d->escaped);
	return 0;
}

static void deref_dealloc(kb_deref *d)
{
	PyObject_GC_UnTrack(d);
	Py_CLEAR(d->ref_type);
	Py_CLEAR(d->policy);
	Py_CLEAR(d->kind);
	Py_CLEAR(d->cell_attr);
	Py_CLEAR(d->refuse);
	Py_CLEAR(d->escaped);
	Py_CLEAR(d->how);
	Py_CLEAR(d->name);
	Py_CLEAR(d->doc);
	Py_CLEAR(d->slot_type);
	PyObject_GC_Del(d);
}

static PyObject *deref_get(PyObject *self, PyObject *obj, PyObject *type)
{
	(void)type;
	if (obj == NULL || obj == Py_None)
		return Py_NewRef(self);
	return PyMethod_New(self, obj);
}

/* Whether the AttributeError being raised says obj.attr is unset (its obj
 * and name are those), not some other attribute's error; 1 or 0, never an
 * error (the pending exception is left as it was). */
static int unset_error(PyObject *obj, PyObject *attr)
{
	PyObject *type, *value, *tb, *eobj, *ename;
	int match = 0;

	if (!PyErr_ExceptionMatches(PyExc_AttributeError))
		return 0;
	PyErr_Fetch(&type, &value, &tb);
	PyErr_NormalizeException(&type, &value, &tb);
	if (value != NULL) {
		eobj = PyObject_GetAttrString(value, "obj");
		ename = eobj != NULL ? PyObject_GetAttrString(value, "name") : NULL;
		match = eobj == obj && ename != NULL && PyUnicode_Check(ename) &&
			PyUnicode_Compare(ename, attr) == 0;
		Py_XDECREF(eobj);
		Py_XDECREF(ename);
		PyErr_Clear(); /* from the lookups (and PyUnicode_Compare): not the caller's */
	}
	PyErr_Restore(type, value, tb);
	return match;
}

/* A new reference to obj's Cell; Py_None (new) for an unset attribute if
 * d->none_if_unset; NULL with an error. */
static PyObject *cell_of(kb_deref *d, PyObject *obj)
{
	PyObject *cell;

	/* A __slots__ attribute (Rcu._box): read the slot directly once its
	 * offset is known for this type. */
	if (Py_TYPE(obj) == d->slot_type) {
		cell = *(PyObject **)((char *)obj + d->slot_offset);
		if (cell != NULL)
			return Py_NewRef(cell);
		if (d->none_if_unset)
			return Py_NewRef(Py_None);
	} else if (d->slot_type == NULL) {
		PyObject *descr = _PyType_Lookup(Py_TYPE(obj), d->cell_attr);

		if (descr != NULL && Py_IS_TYPE(descr, &PyMemberDescr_Type)) {
			PyMemberDef *m = ((PyMemberDescrObject *)descr)->d_member;

			if (m->type == T_OBJECT_EX && !(m->flags & READONLY)) {
				d->slot_type = (PyTypeObject *)Py_NewRef((PyObject *)Py_TYPE(obj));
				d->slot_offset = m->offset;
			}
		}
	}
	cell = PyObject_GetAttr(obj, d->cell_attr);
	if (cell == NULL && d->none_if_unset && unset_error(obj, d->cell_attr)) {
		PyErr_Clear();
		return Py_NewRef(Py_None);
	}
	if (cell != NULL && !kb_hp_is_cell(cell)) {
		PyErr_Format(PyExc_TypeError, "%R.%U is not a kbind.lifetime.Cell", obj,
			     d->cell_attr);
		Py_CLEAR(cell);
	}
	return cell;
}

static PyObject *deref_vectorcall(kb_deref *d, PyObject *const *args, size_t nargsf,
				  PyObject *kwnames)
{
	Py_ssize_t nargs = PyVectorcall_NARGS(nargsf);
	PyObject *obj, *scope, *cell, *ref, *cur, *out;
	kb_scope *s;

	if (kwnames != NULL && PyTuple_GET_SIZE(kwnames) > 0) {
		PyErr_Format(PyExc_TypeError, "%U() takes no keyword arguments", d->name);
		return NULL;
	}
	if (nargs < 2 || nargs > 3) {
		PyErr_Format(PyExc_TypeError, "%U() takes a scope and an optional function",
			     d->name);
		return NULL;
	}
	obj = args[0];
	scope = args[1];
	s = (kb_scope *)scope;
	cur = (PyObject *)kb_hp_thread_if_any();
	if ((PyObject *)Py_TYPE(scope) != d->kind || s->state != KB_SCOPE_OPEN ||
	    (PyObject *)s->owner != cur) {
		PyObject *r;

		r = PyUnicode_Check(d->refuse)
			    ? PyObject_CallMethodOneArg(obj, d->refuse, scope)
			    : PyObject_CallFunctionObjArgs(d->refuse, obj, scope, NULL);
		if (r == NULL)
			return NULL;
		Py_DECREF(r);
		PyErr_Format(PyExc_RuntimeError, "kbind: %U() refused %R without an error", d->name,
			     scope);
		return NULL;
	}
	cell = cell_of(d, obj);
	if (cell == NULL || cell == Py_None) /* Py_None: unset, with none_if_unset */
		return cell;
	ref = kb_hp_ref_make((PyTypeObject *)d->ref_type, s, cell, NULL, d->policy);
	Py_DECREF(cell);
	if (ref == NULL || nargs == 2)
		return ref;
	out = PyObject_CallOneArg(args[2], ref);
	Py_DECREF(ref);
	return out;
}

static PyObject *scoped_vectorcall(kb_deref *d, PyObject *const *args, size_t nargsf,
				   PyObject *kwnames)
{
	Py_ssize_t nargs = PyVectorcall_NARGS(nargsf);
	PyTypeObject *kind = (PyTypeObject *)d->kind;
	PyObject *obj, *cell, *ref, *res;
	kb_scope *s;
	kb_hooks *h;

	if ((kwnames != NULL && PyTuple_GET_SIZE(kwnames) > 0) || nargs != 2) {
		PyErr_Format(PyExc_TypeError, "%U() takes one function", d->name);
		return NULL;
	}
	obj = args[0];
	h = kb_hp_hooks_of(kind);
	if (h == NULL)
		return NULL;
	s = (kb_scope *)kb_hp_scope_alloc(kind);
	if (s == NULL)
		return NULL;
	s->state = KB_SCOPE_NEW;
	s->lasti = s->end_lasti = -1;
	if (kb_scope_begin(s, h, NULL) < 0) {
		Py_DECREF(s);
		return NULL;
	}
	/* The cell is loaded inside the section (rcu_dereference() after
	 * rcu_read_lock()): loaded before, it could be freed by a grace period
	 * that ends before the section begins. */
	cell = cell_of(d, obj);
	if (cell == Py_None) { /* unset, with none_if_unset: no fn, the result is None */
		ref = NULL;
		res = cell;
	} else {
		ref = cell != NULL ? kb_hp_ref_make((PyTypeObject *)d->ref_type, s, cell, NULL,
						    d->policy)
				   : NULL;
		Py_XDECREF(cell);
		res = ref != NULL ? PyObject_CallOneArg(args[1], ref) : NULL;
		Py_XDECREF(ref);
	}
	if (res != NULL && res != Py_None && !kb_hp_is_ref(res)) {
		int plain = kb_hp_is_plain(d->policy, res);

		if (plain < 0) {
			Py_CLEAR(res);
		} else if (!plain) {
			/* Copy references out of the result while the scope lives. */
			PyObject *copied =
				PyObject_CallFunctionObjArgs(d->refuse, res, (PyObject *)s, NULL);

			Py_SETREF(res, copied);
		}
	}
	if (s->state == KB_SCOPE_OPEN) {
		PyObject *type, *value, *tb;

		PyErr_Fetch(&type, &value, &tb);
		kb_hp_scope_end_checked(s, d->how);
		if (PyErr_Occurred()) { /* the end's error wins, as a finally's would */
			Py_XDECREF(type);
			Py_XDECREF(value);
			Py_XDECREF(tb);
			Py_CLEAR(res);
		} else {
			PyErr_Restore(type, value, tb);
		}
	}
	if (res != NULL && kb_hp_is_ref(res)) {
		PyObject *exc = PyObject_CallFunctionObjArgs(d->escaped, (PyObject *)s, obj, NULL);

		Py_CLEAR(res);
		if (exc != NULL) {
			PyErr_SetObject((PyObject *)Py_TYPE(exc), exc);
			Py_DECREF(exc);
		}
	}
	Py_DECREF(s);
	return res;
}

static PyObject *deref_call(PyObject *self, PyObject *args, PyObject *kwargs)
{
	return PyVectorcall_Call(self, args, kwargs);
}

static PyObject *deref_get_doc(kb_deref *d, void *closure)
{
	(void)closure;
	return Py_NewRef(d->doc);
}

static PyObject *deref_get_name(kb_deref *d, void *closure)
{
	(void)closure;
	return Py_NewRef(d->name);
}

static PyGetSetDef deref_getset[] = {
	{ "__doc__", (getter)deref_get_doc, NULL, NULL, NULL },
	{ "__name__", (getter)deref_get_name, NULL, NULL, NULL },
	{ NULL, NULL, NULL, NULL, NULL }
};

static PyObject *deref_repr(kb_deref *d)
{
	return PyUnicode_FromFormat("<kbind read method %U>", d->name);
}

static PyTypeObject kb_deref_type = {
	PyVarObject_HEAD_INIT(NULL, 0).tp_name = "kbind.lifetime.Deref",
	.tp_basicsize = sizeof(kb_deref),
	.tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_METHOD_DESCRIPTOR |
		    Py_TPFLAGS_HAVE_VECTORCALL,
	.tp_vectorcall_offset = offsetof(kb_deref, vectorcall),
	.tp_call = deref_call,
	.tp_traverse = (traverseproc)deref_traverse,
	.tp_dealloc = (destructor)deref_dealloc,
	.tp_descr_get = deref_get,
	.tp_getset = deref_getset,
	.tp_repr = (reprfunc)deref_repr,
};

/* A descriptor running @call, with the fields both kinds share; NULL on error. */
static kb_deref *deref_new(vectorcallfunc call, PyObject *name, PyObject *doc,
			   PyObject *ref_type, PyObject *policy, PyObject *kind, PyObject *cell_attr,
			   PyObject *refuse, PyObject *escaped, PyObject *how,
			   int none_if_unset)
{
	kb_deref *d = PyObject_GC_New(kb_deref, &kb_deref_type);

	if (d == NULL)
		return NULL;
	d->vectorcall = call;
	d->name = Py_NewRef(name);
	d->doc = Py_NewRef(doc);
	d->ref_type = Py_NewRef(ref_type);
	d->policy = Py_NewRef(policy);
	d->kind = Py_NewRef(kind);
	d->cell_attr = Py_NewRef(cell_attr);
	PyUnicode_InternInPlace(&d->cell_attr);
	d->refuse = Py_NewRef(refuse);
	if (PyUnicode_Check(d->refuse))
		PyUnicode_InternInPlace(&d->refuse);
	d->escaped = Py_XNewRef(escaped);
	d->how = Py_XNewRef(how);
	d->slot_type = NULL;
	d->slot_offset = 0;
	d->none_if_unset = none_if_unset;
	PyObject_GC_Track(d);
	return d;
}

/* deref_method(name, doc, ref_type, policy, kind, cell_attr, refuse[, none_if_unset]) */
static PyObject *py_deref_method(PyObject *self, PyObject *args)
{
	PyObject *name, *doc, *ref_type, *policy, *kind, *cell_attr, *refuse;
	int none_if_unset = 0;

	(void)self;
	if (!PyArg_ParseTuple(args, "UOO!OO!UO|p:deref_method", &name, &doc, &PyType_Type,
			      &ref_type, &policy, &PyType_Type, &kind, &cell_attr, &refuse,
			      &none_if_unset))
		return NULL;
	if (!PyUnicode_Check(refuse) && !PyCallable_Check(refuse)) {
		PyErr_SetString(PyExc_TypeError,
				"deref_method(): refuse must be a method name or a callable(obj, scope)");
		return NULL;
	}
	return (PyObject *)deref_new((vectorcallfunc)deref_vectorcall, name, doc, ref_type, policy,
				     kind, cell_attr, refuse, NULL, NULL, none_if_unset);
}

/* scoped_call_method(name, doc, ref_type, policy, kind, cell_attr, copy_out, escaped, how
 *		      [, none_if_unset]) */
static PyObject *py_scoped_call_method(PyObject *self, PyObject *args)
{
	PyObject *name, *doc, *ref_type, *policy, *kind, *cell_attr, *copy_out, *escaped, *how;
	int none_if_unset = 0;

	(void)self;
	if (!PyArg_ParseTuple(args, "UOO!OO!UOOU|p:scoped_call_method", &name, &doc, &PyType_Type,
			      &ref_type, &policy, &PyType_Type, &kind, &cell_attr, &copy_out,
			      &escaped, &how, &none_if_unset))
		return NULL;
	return (PyObject *)deref_new((vectorcallfunc)scoped_vectorcall, name, doc, ref_type, policy,
				     kind, cell_attr, copy_out, escaped, how, none_if_unset);
}

static PyMethodDef deref_methods[] = {
	{ "deref_method", py_deref_method, METH_VARARGS,
	  "deref_method(name, doc, ref_type, policy, kind, cell_attr, refuse, none_if_unset=False): "
	  "a method obj.name(scope, fn=None) returning a reference into getattr(obj, cell_attr) "
	  "bound to scope (an open scope of type kind on this thread; else obj.refuse(scope), "
	  "refuse a method name, or refuse(obj, scope), raises), or fn(reference); with "
	  "none_if_unset, None (fn not called) when obj.cell_attr is unset." },
	{ "scoped_call_method", py_scoped_call_method, METH_VARARGS,
	  "scoped_call_method(name, doc, ref_type, policy, kind, cell_attr, copy_out, escaped, "
	  "how): a method obj.name(fn) running fn(reference) inside a new scope of type kind; a "
	  "result that is neither plain nor a reference goes through copy_out(result, scope) "
	  "first; a reference returned raises escaped(scope, obj); with none_if_unset (a last "
	  "argument, default False), None (fn not called) when obj.cell_attr is unset." },
	{ NULL, NULL, 0, NULL }
};

int kb_hp_init_deref(PyObject *m)
{
	if (PyType_Ready(&kb_deref_type) < 0)
		return -1;
	return PyModule_AddFunctions(m, deref_methods);
}

/* SPDX-License-Identifier: MIT */
/*
 * csrc/pyext/lock_guard.c - the hot path of SpinLock/Mutex and LockGuard.
 *
 * LockWord: the C lock word of one kbind.sync lock (a kb_spinlock_t or a
 * kb_mutex_t, inside the object), the value it protects, and who holds it
 * (the owner thread's token and the holding guard).  LockGuardBase: the C
 * half of kbind.sync.LockGuard, a kbind.lifetime scope whose end unlocks
 * (hooks "lock" in kinds.c) and whose .value is checked here.
 *
 * lock_park()/lock_unpark(): a CondVar wait releases the C lock and takes it
 * again while its guard stays open (kbind.kernel.sync.lock.CondVar).
 *
 * lock_method(): the descriptor behind SpinLock.lock() and try_lock(): it
 * takes the lock with the engine's non-blocking trylock and builds the guard
 * in one C sequence (no bytecode in between, so Ctrl-C cannot split the
 * lock word from its record).  When the lock is busy, lock() hands over to
 * a Python method that waits in cffi with the GIL released, in slices that
 * let Ctrl-C in, then calls lock_commit().
 */
#include "lifetime.h"

enum { KB_LOCK_SPIN = 0, KB_LOCK_MUTEX = 1 };

typedef struct {
	PyObject_HEAD
	union {
		kb_spinlock_t spin;
		kb_mutex_t mutex;
	} word;
	int kind;
	PyObject *value;  /* the protected value */
	kb_thread *owner; /* the holder's thread (strong), NULL when unlocked */
	kb_scope *holder; /* the holding guard (borrowed: it clears this when it ends) */
} kb_lockword;

static PyTypeObject kb_lockword_type;
static PyTypeObject kb_lockguard_type;

static int lw_trylock(kb_lockword *lw)
{
	return lw->kind == KB_LOCK_SPIN ? kb_hp_kb_spin_trylock(&lw->word.spin)
					: kb_hp_kb_mutex_trylock(&lw->word.mutex);
}

static void lw_unlock(kb_lockword *lw)
{
	if (lw->kind == KB_LOCK_SPIN)
		kb_hp_kb_spin_unlock(&lw->word.spin);
	else
		kb_hp_kb_mutex_unlock(&lw->word.mutex);
}

static int lw_traverse(kb_lockword *lw, visitproc visit, void *arg)
{
	Py_VISIT(lw->value);
	Py_VISIT(lw->owner);
	return 0;
}

static int lw_clear(kb_lockword *lw)
{
	Py_CLEAR(lw->value);
	return 0;
}

static void lw_dealloc(kb_lockword *lw)
{
	PyObject_GC_UnTrack(lw);
	Py_CLEAR(lw->value);
	Py_CLEAR(lw->owner);
	PyObject_GC_Del(lw);
}

static PyObject *lw_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
	static char *kwlist[] = { "kind", "value", NULL };
	const char *kind;
	PyObject *value;
	kb_lockword *lw;

	if (!kb_hp_engine_bound()) {
		PyErr_SetString(PyExc_RuntimeError, "kbind._bridge._hotpath is not bound to its engine yet");
		return NULL;
	}
	if (!PyArg_ParseTupleAndKeywords(args, kwds, "sO:LockWord", kwlist, &kind, &value))
		return NULL;
	lw = (kb_lockword *)type->tp_alloc(type, 0);
	if (lw == NULL)
		return NULL;
	if (strcmp(kind, "spin") == 0) {
		lw->kind = KB_LOCK_SPIN;
	} else if (strcmp(kind, "mutex") == 0) {
		lw->kind = KB_LOCK_MUTEX;
	} else {
		Py_DECREF(lw);
		PyErr_Format(PyExc_ValueError, "LockWord: kind must be 'spin' or 'mutex', not %s",
			     kind);
		return NULL;
	}
	/* tp_alloc zeroed the word: the unlocked state of both (kb_*_init). */
	lw->value = Py_NewRef(value);
	return (PyObject *)lw;
}

static PyObject *lw_get_value(kb_lockword *lw, void *closure)
{
	(void)closure;
	return Py_NewRef(lw->value);
}

static int lw_set_value(kb_lockword *lw, PyObject *v, void *closure)
{
	(void)closure;
	if (v == NULL) {
		PyErr_SetString(PyExc_AttributeError, "cannot delete the protected value");
		return -1;
	}
	Py_INCREF(v);
	Py_SETREF(lw->value, v);
	return 0;
}

static PyObject *lw_get_owner(kb_lockword *lw, void *closure)
{
	(void)closure;
	return Py_NewRef(lw->owner != NULL ? (PyObject *)lw->owner : Py_None);
}

static PyObject *lw_get_holder(kb_lockword *lw, void *closure)
{
	(void)closure;
	return Py_NewRef(lw->holder != NULL ? (PyObject *)lw->holder : Py_None);
}

static PyObject *lw_get_address(kb_lockword *lw, void *closure)
{
	(void)closure;
	return PyLong_FromVoidPtr(&lw->word);
}

static PyObject *lw_get_kind(kb_lockword *lw, void *closure)
{
	(void)closure;
	return PyUnicode_FromString(lw->kind == KB_LOCK_SPIN ? "spin" : "mutex");
}

static PyGetSetDef lw_getset[] = {
	{ "kind", (getter)lw_get_kind, NULL, "'spin' or 'mutex'.", NULL },
	{ "value", (getter)lw_get_value, (setter)lw_set_value, "The protected value.", NULL },
	{ "owner", (getter)lw_get_owner, NULL, "The holder's ThreadToken, or None.", NULL },
	{ "holder", (getter)lw_get_holder, NULL, "The guard holding the lock, or None.", NULL },
	{ "address", (getter)lw_get_address, NULL,
	  "The address of the C lock word (for the cffi calls that wait).", NULL },
	{ NULL, NULL, NULL, NULL, NULL }
};

static PyTypeObject kb_lockword_type = {
	PyVarObject_HEAD_INIT(NULL, 0).tp_name = "kbind._bridge._hotpath.LockWord",
	.tp_basicsize = sizeof(kb_lockword),
	.tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
	.tp_doc = "LockWord(kind, value): the C lock word, value and holder of a kbind.sync lock.",
	.tp_new = lw_new,
	.tp_traverse = (traverseproc)lw_traverse,
	.tp_clear = (inquiry)lw_clear,
	.tp_dealloc = (destructor)lw_dealloc,
	.tp_getset = lw_getset,
};

/* ------------------------------------------------------------ the guard */

/* Hooks "lock": the guard's end releases the lock (on any thread for the
 * leak path: a spinlock or futex word can be released by any thread). */
int kb_hp_lock_end(kb_scope *s)
{
	kb_lockword *lw = (kb_lockword *)s->data;

	if (lw == NULL || !PyObject_TypeCheck((PyObject *)lw, &kb_lockword_type))
		return 0;
	if (lw->holder != s)
		return 0; /* not the holder (never committed) */
	/* Stores, then the C unlock as the one call. */
	lw->holder = NULL;
	Py_CLEAR(lw->owner);
	lw_unlock(lw);
	return 0;
}

/* Make the guard of a lock just taken by this thread (the C lock is held). */
static PyObject *commit(kb_lockword *lw, PyTypeObject *guard_type)
{
	kb_hooks *h = kb_hp_hooks_of(guard_type);
	kb_scope *s;

	if (h == NULL)
		goto undo;
	s = (kb_scope *)kb_hp_scope_alloc(guard_type);
	if (s == NULL)
		goto undo;
	s->state = KB_SCOPE_NEW;
	s->lasti = s->end_lasti = -1;
	s->data = Py_NewRef((PyObject *)lw);
	if (kb_scope_begin(s, h, NULL) < 0) {
		Py_CLEAR(s->data); /* so its dealloc does not unlock: the undo below does */
		Py_DECREF(s);
		goto undo;
	}
	lw->owner = (kb_thread *)Py_NewRef((PyObject *)s->owner);
	lw->holder = s;
	return (PyObject *)s;
undo:
	lw_unlock(lw);
	return NULL;
}

static PyObject *guard_value_get(kb_scope *s, void *closure)
{
	(void)closure;
	if (KB_LIKELY(s->state == KB_SCOPE_OPEN && s->owner == kb_hp_thread_if_any() &&
		      s->data != NULL))
		return Py_NewRef(((kb_lockword *)s->data)->value);
	return PyObject_CallMethod((PyObject *)s, "_refuse_value", "s", "read");
}

static int guard_value_set(kb_scope *s, PyObject *v, void *closure)
{
	(void)closure;
	if (v == NULL) {
		PyErr_SetString(PyExc_AttributeError, "cannot delete .value");
		return -1;
	}
	if (KB_LIKELY(s->state == KB_SCOPE_OPEN && s->owner == kb_hp_thread_if_any() &&
		      s->data != NULL)) {
		kb_lockword *lw = (kb_lockword *)s->data;

		Py_INCREF(v);
		Py_SETREF(lw->value, v);
		return 0;
	}
	{
		PyObject *r = PyObject_CallMethod((PyObject *)s, "_refuse_value", "s", "assign");

		Py_XDECREF(r);
		return r == NULL ? -1 : 0;
	}
}

static PyGetSetDef guard_getset[] = {
	{ "value", (getter)guard_value_get, (setter)guard_value_set,
	  "The protected value (only while the guard is live, on its thread).", NULL },
	{ NULL, NULL, NULL, NULL, NULL }
};

static PyTypeObject kb_lockguard_type = {
	PyVarObject_HEAD_INIT(NULL, 0).tp_name = "kbind._bridge._hotpath.LockGuardBase",
	.tp_basicsize = sizeof(kb_scope),
	.tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
	.tp_doc = "The C half of kbind.sync.LockGuard.",
	.tp_getset = guard_getset,
};

/* ------------------------------------------------------ lock()/try_lock() */

typedef struct {
	PyObject_HEAD
	vectorcallfunc vectorcall;
	PyObject *name;
	PyObject *doc;
	PyObject *guard_type;
	PyObject *word_attr; /* the lock object's slot holding its LockWord */
	PyObject *busy;	     /* name of the method called when the lock is busy (or NULL: None) */
	PyObject *recursive; /* name of the method raising for a recursive lock (or NULL: None) */
} kb_lockmethod;

static kb_lockword *word_of(kb_lockmethod *m, PyObject *obj)
{
	PyObject *w = PyObject_GetAttr(obj, m->word_attr);

	if (w != NULL && !PyObject_TypeCheck(w, &kb_lockword_type)) {
		PyErr_Format(PyExc_TypeError, "%R.%U is not a LockWord", obj, m->word_attr);
		Py_CLEAR(w);
	}
	return (kb_lockword *)w;
}

static PyObject *lockmethod_vectorcall(kb_lockmethod *m, PyObject *const *args, size_t nargsf,
				       PyObject *kwnames)
{
	Py_ssize_t nargs = PyVectorcall_NARGS(nargsf);
	kb_lockword *lw;
	kb_thread *me;
	PyObject *out;

	if (nargs != 1 || (kwnames != NULL && PyTuple_GET_SIZE(kwnames) > 0)) {
		PyErr_Format(PyExc_TypeError, "%U() takes no arguments", m->name);
		return NULL;
	}
	me = kb_current_thread();
	if (me == NULL)
		return NULL;
	lw = word_of(m, args[0]);
	if (lw == NULL)
		return NULL;
	if (lw->owner == me) { /* L04: this thread holds it already */
		Py_DECREF(lw);
		if (m->recursive == NULL)
			Py_RETURN_NONE;
		return PyObject_CallMethodNoArgs(args[0], m->recursive);
	}
	if (lw_trylock(lw))
		out = commit(lw, (PyTypeObject *)m->guard_type);
	else if (m->busy != NULL)
		out = PyObject_CallMethodNoArgs(args[0], m->busy);
	else
		out = Py_NewRef(Py_None);
	Py_DECREF(lw);
	return out;
}

static int lockmethod_traverse(kb_lockmethod *m, visitproc visit, void *arg)
{
	Py_VISIT(m->guard_type);
	return 0;
}

static void lockmethod_dealloc(kb_lockmethod *m)
{
	PyObject_GC_UnTrack(m);
	Py_CLEAR(m->name);
	Py_CLEAR(m->doc);
	Py_CLEAR(m->guard_type);
	Py_CLEAR(m->word_attr);
	Py_CLEAR(m->busy);
	Py_CLEAR(m->recursive);
	PyObject_GC_Del(m);
}

static PyObject *lockmethod_get(PyObject *self, PyObject *obj, PyObject *type)
{
	(void)type;
	if (obj == NULL || obj == Py_None)
		return Py_NewRef(self);
	return PyMethod_New(self, obj);
}

static PyObject *lockmethod_get_doc(kb_lockmethod *m, void *closure)
{
	(void)closure;
	return Py_NewRef(m->doc);
}

static PyObject *lockmethod_get_name(kb_lockmethod *m, void *closure)
{
	(void)closure;
	return Py_NewRef(m->name);
}

static PyGetSetDef lockmethod_getset[] = {
	{ "__doc__", (getter)lockmethod_get_doc, NULL, NULL, NULL },
	{ "__name__", (getter)lockmethod_get_name, NULL, NULL, NULL },
	{ NULL, NULL, NULL, NULL, NULL }
};

static PyTypeObject kb_lockmethod_type = {
	PyVarObject_HEAD_INIT(NULL, 0).tp_name = "kbind._bridge._hotpath.LockMethod",
	.tp_basicsize = sizeof(kb_lockmethod),
	.tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_METHOD_DESCRIPTOR |
		    Py_TPFLAGS_HAVE_VECTORCALL,
	.tp_vectorcall_offset = offsetof(kb_lockmethod, vectorcall),
	.tp_call = PyVectorcall_Call,
	.tp_traverse = (traverseproc)lockmethod_traverse,
	.tp_dealloc = (destructor)lockmethod_dealloc,
	.tp_descr_get = lockmethod_get,
	.tp_getset = lockmethod_getset,
};

static PyObject *none_or(PyObject *o)
{
	if (o == Py_None)
		return NULL;
	Py_INCREF(o);
	PyUnicode_InternInPlace(&o);
	return o;
}

/* lock_method(name, doc, guard_type, word_attr, busy_method, recursive_method) */
static PyObject *py_lock_method(PyObject *self, PyObject *args)
{
	PyObject *name, *doc, *guard_type, *word_attr, *busy, *recursive;
	kb_lockmethod *m;

	(void)self;
	if (!PyArg_ParseTuple(args, "UUO!UOO:lock_method", &name, &doc, &PyType_Type, &guard_type,
			      &word_attr, &busy, &recursive))
		return NULL;
	if (!PyType_IsSubtype((PyTypeObject *)guard_type, &kb_lockguard_type)) {
		PyErr_SetString(PyExc_TypeError, "lock_method(): guard_type must subclass LockGuardBase");
		return NULL;
	}
	if ((busy != Py_None && !PyUnicode_Check(busy)) ||
	    (recursive != Py_None && !PyUnicode_Check(recursive))) {
		PyErr_SetString(PyExc_TypeError, "lock_method(): method names must be str or None");
		return NULL;
	}
	m = PyObject_GC_New(kb_lockmethod, &kb_lockmethod_type);
	if (m == NULL)
		return NULL;
	m->vectorcall = (vectorcallfunc)lockmethod_vectorcall;
	m->name = Py_NewRef(name);
	m->doc = Py_NewRef(doc);
	m->guard_type = Py_NewRef(guard_type);
	m->word_attr = Py_NewRef(word_attr);
	PyUnicode_InternInPlace(&m->word_attr);
	m->busy = none_or(busy);
	m->recursive = none_or(recursive);
	PyObject_GC_Track(m);
	return (PyObject *)m;
}

/* lock_commit(word, guard_type): the lock was taken by a wait in cffi; make its guard. */
static PyObject *py_lock_commit(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
	(void)self;
	if (nargs != 2 || !PyObject_TypeCheck(args[0], &kb_lockword_type) || !PyType_Check(args[1]) ||
	    !PyType_IsSubtype((PyTypeObject *)args[1], &kb_lockguard_type)) {
		PyErr_SetString(PyExc_TypeError, "lock_commit(word, guard_type)");
		return NULL;
	}
	return commit((kb_lockword *)args[0], (PyTypeObject *)args[1]);
}

/* The guard's lock word, if @arg is an open guard of this thread holding it; else NULL with
 * RuntimeError (the Python callers check every rule first, so this only guards the C state). */
static kb_lockword *parked_word(PyObject *arg, int held)
{
	kb_scope *s = (kb_scope *)arg;
	kb_lockword *lw;

	if (!PyObject_TypeCheck(arg, &kb_lockguard_type)) {
		PyErr_SetString(PyExc_TypeError, "lock_park()/lock_unpark(): not a lock guard");
		return NULL;
	}
	lw = (kb_lockword *)s->data;
	if (s->state != KB_SCOPE_OPEN || s->owner != kb_hp_thread_if_any() || lw == NULL ||
	    !PyObject_TypeCheck((PyObject *)lw, &kb_lockword_type) ||
	    (held ? lw->holder != s : lw->holder != NULL)) {
		PyErr_SetString(PyExc_RuntimeError,
				held ? "lock_park(): the guard does not hold its lock"
				     : "lock_unpark(): the guard's lock is recorded as held");
		return NULL;
	}
	return lw;
}

/* lock_park(guard): a condition-variable wait releases the lock its guard holds; the guard
 * stays open (Rust: CondVar::wait(&mut guard) unlocks the backend and relocks it). */
static PyObject *py_lock_park(PyObject *self, PyObject *arg)
{
	kb_lockword *lw = parked_word(arg, 1);

	(void)self;
	if (lw == NULL)
		return NULL;
	/* Stores, then the C unlock as the one call (as kb_hp_lock_end). */
	lw->holder = NULL;
	Py_CLEAR(lw->owner);
	lw_unlock(lw);
	Py_RETURN_NONE;
}

/* lock_unpark(guard): this thread has taken the C lock again (a wait in cffi); the guard
 * holds it once more. */
static PyObject *py_lock_unpark(PyObject *self, PyObject *arg)
{
	kb_lockword *lw = parked_word(arg, 0);
	kb_scope *s = (kb_scope *)arg;

	(void)self;
	if (lw == NULL)
		return NULL;
	lw->owner = (kb_thread *)Py_NewRef((PyObject *)s->owner);
	lw->holder = s;
	Py_RETURN_NONE;
}

static PyMethodDef lock_methods[] = {
	{ "lock_method", py_lock_method, METH_VARARGS,
	  "lock_method(name, doc, guard_type, word_attr, busy, recursive): the descriptor of "
	  "lock()/try_lock(): trylock and the guard in C; obj.<busy>() when the lock is busy "
	  "(None: return None), obj.<recursive>() when this thread holds it (None: return None)." },
	{ "lock_commit", (PyCFunction)(void (*)(void))py_lock_commit, METH_FASTCALL,
	  "lock_commit(word, guard_type): make the guard of a lock this thread has just taken "
	  "(on failure the lock is released)." },
	{ "lock_park", py_lock_park, METH_O,
	  "lock_park(guard): release the C lock the guard holds, the guard staying open (a "
	  "condition-variable wait)." },
	{ "lock_unpark", py_lock_unpark, METH_O,
	  "lock_unpark(guard): record the guard as the holder again, once this thread has "
	  "retaken the C lock." },
	{ NULL, NULL, 0, NULL }
};

int kb_hp_init_locks(PyObject *m)
{
	kb_lockguard_type.tp_base = &kb_scope_type;
	kb_lockguard_type.tp_traverse = kb_scope_type.tp_traverse;
	kb_lockguard_type.tp_clear = kb_scope_type.tp_clear;
	if (PyType_Ready(&kb_lockword_type) < 0 || PyType_Ready(&kb_lockguard_type) < 0 ||
	    PyType_Ready(&kb_lockmethod_type) < 0)
		return -1;
	if (PyModule_AddObjectRef(m, "LockWord", (PyObject *)&kb_lockword_type) < 0 ||
	    PyModule_AddObjectRef(m, "LockGuardBase", (PyObject *)&kb_lockguard_type) < 0)
		return -1;
	return PyModule_AddFunctions(m, lock_methods);
}

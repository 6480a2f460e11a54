/* SPDX-License-Identifier: MIT */
/*
 * csrc/pyext/seqlock_write.c - the write side of kbind.seqlock, in C.
 *
 * Kernel: include/linux/seqlock.h, write_seqlock() / write_sequnlock(), and
 * the two copies of a seqcount_latch_t.  Rust: Rust-for-Linux has no merged
 * seqlock binding; SeqWriteGuard mirrors the proposed write guard.
 *
 * A write section is a kbind.lifetime scope (kb_seq_writer) whose end ends
 * the section: SeqLock.write() takes the write side with the engine's
 * non-blocking trylock and commits the guard in one C sequence; when the
 * side is busy, SeqLock._write_wait() waits in cffi (GIL released, Ctrl-C
 * can interrupt between slices) and calls seq_write_commit().  Ending the
 * guard (unlock(), its with block, or its collection while open) records
 * the end, clears the lock's record, then calls kb_write_sequnlock() as the
 * last step: no bytecode runs between the engine's state and the record of
 * it.  The committing write also ends this thread's own lockless attempts on
 * the lock (the sdma_flush upgrade: they can no longer be validated).
 *
 * The same type, with guard = 0, is SeqLatchWriteView: the write view of
 * one latch copy, alive while latch.write()'s fn runs on that copy.
 *
 * Field accesses through a writer are the engine's marked accesses
 * (kb_seq_word_read/write, kb_seq_bytes_load/store) on the live words.
 */
#include "seqlock_hp.h"

#include <structmember.h>

static PyTypeObject *kb_seq_guard_kind; /* kbind.seqlock.SeqWriteGuard */
static kb_hooks *kb_seq_guard_hooks;
static long long kb_seq_guard_numbers; /* SeqWriteGuard#n, numbered at the commit */

static PyObject *kb_str_refuse_write, *kb_str_write_wait, *kb_str_refuse_field,
	*kb_str_check_value, *kb_str_kb_refuse, *kb_str_thread, *kb_str_ended, *kb_str_never,
	*kb_str_read, *kb_str_assign, *kb_how_empty, *kb_how_with;

int kb_seq_bind_write(PyObject *guard_type)
{
	kb_hooks *h = kb_hp_hooks_of((PyTypeObject *)guard_type);

	if (h == NULL)
		return -1;
	kb_seq_guard_hooks = (kb_hooks *)Py_NewRef((PyObject *)h);
	kb_seq_guard_kind = (PyTypeObject *)Py_NewRef(guard_type);
	return 0;
}

/* ------------------------------------------------------------ the end */

/* Stores, then the C unlock as the one call (a guard that holds the side). */
static void writer_release(kb_seq_writer *w)
{
	kb_seq_core *c = w->lock;
	kb_thread *writer;

	if (!w->guard || c == NULL || c->wguard != &w->scope)
		return;
	writer = c->writer;
	c->wguard = NULL;
	c->writer = NULL;
	kb_hp_kb_write_sequnlock(c->sl);
	Py_XDECREF(writer);
}

/* End @w on this thread (refusals: w._kb_refuse raises, or waives: 0). */
static int writer_end(kb_seq_writer *w, PyObject *how)
{
	PyObject *what = NULL;

	if (w->scope.state != KB_SCOPE_OPEN)
		what = w->scope.state == KB_SCOPE_NEW ? kb_str_never : kb_str_ended;
	else if (w->scope.owner != kb_hp_thread_if_any())
		what = kb_str_thread;
	if (what != NULL) {
		PyObject *r = PyObject_CallMethodObjArgs((PyObject *)w, kb_str_kb_refuse, what, how,
							 NULL);

		Py_XDECREF(r);
		return r == NULL ? -1 : 0;
	}
	if (kb_scope_end(&w->scope, how) < 0)
		return -1;
	writer_release(w); /* no bytecode since the end was recorded */
	return 0;
}

static PyObject *writer_end_method(kb_seq_writer *w, PyObject *const *args, Py_ssize_t nargs)
{
	PyObject *how = kb_how_empty;

	if (nargs > 1 || (nargs == 1 && !PyUnicode_Check(args[0]))) {
		PyErr_SetString(PyExc_TypeError, "end(how=''): how must be a str");
		return NULL;
	}
	if (nargs == 1)
		how = args[0];
	if (writer_end(w, how) < 0)
		return NULL;
	Py_RETURN_NONE;
}

static PyObject *writer_exit(kb_seq_writer *w, PyObject *const *args, Py_ssize_t nargs)
{
	(void)args;
	(void)nargs;
	if (w->scope.state == KB_SCOPE_ENDED) /* ended inside the block (unlock()): fine */
		Py_RETURN_NONE;
	if (writer_end(w, kb_how_with) < 0)
		return NULL;
	Py_RETURN_NONE;
}

/* Collected while open (dropped on the floor, abandoned by Ctrl-C, its thread
 * gone): end the write section first, then the scope's own leak path (which
 * ends the scope and calls on_leak: the warning). */
static void writer_finalize(kb_seq_writer *w)
{
	if (w->scope.state == KB_SCOPE_OPEN)
		writer_release(w);
	kb_scope_type.tp_finalize((PyObject *)w);
}

/* ------------------------------------------------------------- fields */

static inline int writer_live(kb_seq_writer *w)
{
	return w->scope.state == KB_SCOPE_OPEN && w->scope.owner == kb_hp_thread_if_any();
}

static PyObject *live_value(kb_seq_writer *w, long long code)
{
	const int64_t *p = w->lock->words[w->copy] + KB_SEQ_OFFSET(code);
	Py_ssize_t nb = KB_SEQ_NBYTES(code);
	PyObject *b;

	if (nb == 0)
		return PyLong_FromLongLong(kb_hp_kb_seq_word_read(p));
	b = PyBytes_FromStringAndSize(NULL, nb);
	if (b != NULL)
		kb_hp_kb_seq_bytes_load(PyBytes_AS_STRING(b), p, (size_t)nb);
	return b;
}

/* Store an int (in range) or bytes (of the field's size); 1 if stored, 0 if
 * @v is not of that exact form (nothing stored, no error), -1 on error. */
static int store_exact(kb_seq_writer *w, long long code, PyObject *v)
{
	int64_t *p = w->lock->words[w->copy] + KB_SEQ_OFFSET(code);
	Py_ssize_t nb = KB_SEQ_NBYTES(code);

	if (nb == 0 && PyLong_CheckExact(v)) {
		int overflow;
		long long x = PyLong_AsLongLongAndOverflow(v, &overflow);

		if (overflow || (x == -1 && PyErr_Occurred())) {
			PyErr_Clear();
			return 0;
		}
		kb_hp_kb_seq_word_write(p, x);
		return 1;
	}
	if (nb > 0 && PyBytes_CheckExact(v) && PyBytes_GET_SIZE(v) == nb) {
		kb_hp_kb_seq_bytes_store(p, PyBytes_AS_STRING(v), (size_t)nb);
		return 1;
	}
	return 0;
}

static PyObject *writer_getattro(kb_seq_writer *w, PyObject *name)
{
	long long code;
	int r;

	if (w->lock == NULL || kb_seq_is_private(name))
		return PyObject_GenericGetAttr((PyObject *)w, name);
	r = kb_seq_field(w->lock, name, &code);
	if (r < 0)
		return NULL;
	if (r == 0)
		return kb_seq_not_a_field((PyObject *)w, name);
	if (KB_UNLIKELY(!writer_live(w)))
		return kb_seq_call_refuse((PyObject *)w, kb_str_refuse_field, kb_str_read, name);
	return live_value(w, code);
}

static int writer_setattro(kb_seq_writer *w, PyObject *name, PyObject *v)
{
	long long code;
	int r;

	if (w->lock == NULL || v == NULL || kb_seq_is_private(name))
		return PyObject_GenericSetAttr((PyObject *)w, name, v);
	r = kb_seq_field(w->lock, name, &code);
	if (r < 0)
		return -1;
	if (r == 0) {
		static PyObject *no_field;

		if (no_field == NULL && (no_field = PyUnicode_InternFromString("_no_field")) == NULL)
			return -1;
		kb_seq_call_refuse((PyObject *)w, no_field, name, NULL);
		return -1;
	}
	if (KB_UNLIKELY(!writer_live(w))) {
		kb_seq_call_refuse((PyObject *)w, kb_str_refuse_field, kb_str_assign, name);
		return -1;
	}
	r = store_exact(w, code, v);
	if (r != 0)
		return r < 0 ? -1 : 0;
	/* Anything else: kbind.seqlock validates it (S04: its TypeError,
	 * OverflowError or ValueError, nothing stored) or converts it. */
	v = PyObject_CallMethodObjArgs((PyObject *)w, kb_str_check_value, name, v, NULL);
	if (v == NULL)
		return -1;
	r = store_exact(w, code, v);
	Py_DECREF(v);
	if (r == 0)
		PyErr_Format(PyExc_TypeError, "kbind: _check_value() returned a bad value for %U",
			     name);
	return r > 0 ? 0 : -1;
}

/* ------------------------------------------------------------- the type */

static int writer_traverse(kb_seq_writer *w, visitproc visit, void *arg)
{
	Py_VISIT(w->lock);
	return kb_scope_type.tp_traverse((PyObject *)w, visit, arg);
}

static int writer_clear(kb_seq_writer *w)
{
	return kb_scope_type.tp_clear((PyObject *)w);
}

static void writer_dealloc(kb_seq_writer *w)
{
	if (PyObject_CallFinalizerFromDealloc((PyObject *)w) < 0)
		return; /* resurrected */
	Py_CLEAR(w->lock);
	kb_scope_type.tp_dealloc((PyObject *)w);
}

static PyObject *writer_get_lock(kb_seq_writer *w, void *closure)
{
	(void)closure;
	return Py_NewRef(w->lock != NULL ? (PyObject *)w->lock : Py_None);
}

static PyGetSetDef writer_getset[] = {
	{ "_lock", (getter)writer_get_lock, NULL, "The SeqLock or SeqLatch written.", NULL },
	{ NULL, NULL, NULL, NULL, NULL }
};

static PyMemberDef writer_members[] = {
	{ "_copy", T_INT, offsetof(kb_seq_writer, copy), READONLY,
	  "The copy its fields store into (0 for a SeqLock)." },
	{ NULL, 0, 0, 0, NULL }
};

static PyMethodDef writer_methods[] = {
	{ "end", (PyCFunction)(void (*)(void))writer_end_method, METH_FASTCALL,
	  "end(how='') -> None: end it now, on its thread, exactly once; a SeqWriteGuard's end "
	  "ends the write section (kernel: write_sequnlock())." },
	{ "__exit__", (PyCFunction)(void (*)(void))writer_exit, METH_FASTCALL,
	  "Leave the with block: it ends (unless it ended inside it)." },
	{ NULL, NULL, 0, NULL }
};

PyTypeObject kb_seq_writer_type = {
	PyVarObject_HEAD_INIT(NULL, 0).tp_name = "kbind._bridge._hotpath.SeqWriterCore",
	.tp_basicsize = sizeof(kb_seq_writer),
	.tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
	.tp_doc = "The C half of kbind.seqlock.SeqWriteGuard and SeqLatchWriteView: a scope "
		  "whose fields are the live protected words.",
	.tp_new = kb_seq_no_new,
	.tp_traverse = (traverseproc)writer_traverse,
	.tp_clear = (inquiry)writer_clear,
	.tp_dealloc = (destructor)writer_dealloc,
	.tp_finalize = (destructor)writer_finalize,
	.tp_getattro = (getattrofunc)writer_getattro,
	.tp_setattro = (setattrofunc)writer_setattro,
	.tp_methods = writer_methods,
	.tp_members = writer_members,
	.tp_getset = writer_getset,
};

/* ------------------------------------------------------------ write() */

/* End this thread's open lockless attempts on @c: they can no longer be
 * validated (their values raise, a closure reader returns without retry). */
static int supersede(kb_seq_core *c, kb_seq_writer *w)
{
	PyObject *how = NULL;

	for (kb_scope *s = w->scope.owner->head; s != NULL; s = s->next) {
		kb_seq_attempt *a = (kb_seq_attempt *)s;

		if (!PyObject_TypeCheck((PyObject *)s, &kb_seq_attempt_type) || a->lock != c ||
		    a->state != KB_SEQ_PENDING)
			continue;
		if (how == NULL) {
			how = PyUnicode_FromFormat(
				"was superseded by this thread's own write section (%U#%lld)",
				w->scope.hooks->kind, w->scope.number);
			if (how == NULL)
				return -1;
		}
		a->state = KB_SEQ_FAILED;
		Py_XSETREF(a->how, Py_NewRef(how));
		Py_XSETREF(a->fail_code, Py_XNewRef(w->scope.code));
		a->fail_lasti = w->scope.lasti;
	}
	Py_XDECREF(how);
	return 0;
}

/* This thread has just taken @c's write side: make the guard and record it
 * (one C sequence).  On failure the write side is released. */
static PyObject *write_commit(kb_seq_core *c)
{
	kb_seq_writer *w;

	c->writes++; /* from here this function answers for the write side */
	w = (kb_seq_writer *)kb_seq_guard_kind->tp_alloc(kb_seq_guard_kind, 0);
	if (w == NULL)
		goto undo;
	w->scope.state = KB_SCOPE_NEW;
	w->scope.lasti = w->scope.end_lasti = -1;
	w->lock = (kb_seq_core *)Py_NewRef((PyObject *)c);
	w->guard = 1;
	if (kb_scope_begin(&w->scope, kb_seq_guard_hooks, NULL) < 0) {
		Py_DECREF(w); /* never recorded: its finalizer leaves the side alone */
		goto undo;
	}
	w->scope.number = ++kb_seq_guard_numbers;
	c->writer = (kb_thread *)Py_NewRef((PyObject *)w->scope.owner);
	c->wguard = &w->scope;
	if (supersede(c, w) < 0) {
		Py_DECREF(w); /* its finalizer ends the write section */
		return NULL;
	}
	return (PyObject *)w;
undo:
	kb_hp_kb_write_sequnlock(c->sl);
	return NULL;
}

/* SeqLock.write() */
static PyObject *seq_write(kb_seq_core *c, PyObject *unused)
{
	kb_thread *me;

	(void)unused;
	if (!kb_seq_engine_ready())
		return NULL;
	if (c->sl == NULL || kb_seq_guard_kind == NULL) {
		PyErr_SetString(PyExc_RuntimeError, "kbind: SeqLock is not initialised");
		return NULL;
	}
	me = kb_current_thread();
	if (me == NULL)
		return NULL;
	if (c->writer == me || (c->excl != NULL && c->excl == (PyObject *)me)) /* S09 */
		return kb_seq_call_refuse((PyObject *)c, kb_str_refuse_write, NULL, NULL);
	if (kb_hp_kb_spin_trylock(&c->sl->lock)) {
		/* kb_write_seqlock() in two non-blocking halves. */
		kb_hp_kb_write_seqcount_begin(&c->sl->seqcount);
		return write_commit(c);
	}
	/* Busy: wait in cffi (GIL released), then seq_write_commit(). */
	return PyObject_CallMethodNoArgs((PyObject *)c, kb_str_write_wait);
}

PyMethodDef kb_seq_write_methods[] = {
	{ "write", (PyCFunction)seq_write, METH_NOARGS, NULL },
	{ NULL, NULL, 0, NULL }
};

/* seq_write_commit(lock): the write side was taken by a wait in cffi. */
static PyObject *py_write_commit(PyObject *self, PyObject *lock)
{
	(void)self;
	if (!PyObject_TypeCheck(lock, &kb_seq_core_type) || ((kb_seq_core *)lock)->sl == NULL ||
	    kb_seq_guard_kind == NULL) {
		PyErr_SetString(PyExc_TypeError, "seq_write_commit(lock): a bound SeqLock");
		return NULL;
	}
	return write_commit((kb_seq_core *)lock);
}

/* seq_writer(kind, latch, copy): the write view of one latch copy. */
static PyObject *py_writer(PyObject *self, PyObject *args)
{
	PyTypeObject *kind;
	PyObject *lock;
	int copy;
	kb_hooks *h;
	kb_seq_writer *w;

	(void)self;
	if (!PyArg_ParseTuple(args, "O!O!i:seq_writer", &PyType_Type, &kind, &kb_seq_core_type,
			      &lock, &copy))
		return NULL;
	if (!PyType_IsSubtype(kind, &kb_seq_writer_type) || copy < 0 || copy > 1 ||
	    ((kb_seq_core *)lock)->words[copy] == NULL) {
		PyErr_SetString(PyExc_TypeError, "seq_writer(kind, latch, copy)");
		return NULL;
	}
	h = kb_hp_hooks_of(kind);
	if (h == NULL)
		return NULL;
	w = (kb_seq_writer *)kind->tp_alloc(kind, 0);
	if (w == NULL)
		return NULL;
	w->scope.state = KB_SCOPE_NEW;
	w->scope.lasti = w->scope.end_lasti = -1;
	w->lock = (kb_seq_core *)Py_NewRef(lock);
	w->copy = copy;
	if (kb_scope_begin(&w->scope, h, NULL) < 0) {
		Py_DECREF(w);
		return NULL;
	}
	return (PyObject *)w;
}

static PyMethodDef kb_seq_write_functions[] = {
	{ "seq_write_commit", py_write_commit, METH_O,
	  "seq_write_commit(lock) -> SeqWriteGuard: this thread has just taken the write side "
	  "(a wait in cffi): make its guard and record it (on failure the side is released)." },
	{ "seq_writer", py_writer, METH_VARARGS,
	  "seq_writer(kind, latch, copy): a new open write view (a scope of kind) of one copy "
	  "of a latch." },
	{ NULL, NULL, 0, NULL }
};

int kb_hp_init_seqlock_write(PyObject *m)
{
	KB_INTERN(kb_str_refuse_write, "_refuse_write");
	KB_INTERN(kb_str_write_wait, "_write_wait");
	KB_INTERN(kb_str_refuse_field, "_refuse_field");
	KB_INTERN(kb_str_check_value, "_check_value");
	KB_INTERN(kb_str_kb_refuse, "_kb_refuse");
	KB_INTERN(kb_str_thread, "thread");
	KB_INTERN(kb_str_ended, "ended");
	KB_INTERN(kb_str_never, "never");
	KB_INTERN(kb_str_read, "read");
	KB_INTERN(kb_str_assign, "assign");
	KB_INTERN(kb_how_empty, "");
	KB_INTERN(kb_how_with, "leaving its with block");
	kb_seq_writer_type.tp_base = &kb_scope_type;
	if (PyType_Ready(&kb_seq_writer_type) < 0)
		return -1;
	if (PyModule_AddObjectRef(m, "SeqWriterCore", (PyObject *)&kb_seq_writer_type) < 0)
		return -1;
	return PyModule_AddFunctions(m, kb_seq_write_functions);
}

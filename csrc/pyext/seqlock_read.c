/* SPDX-License-Identifier: MIT */
/*
 * csrc/pyext/seqlock_read.c - the read side of kbind.seqlock, in C.
 *
 * Kernel: include/linux/seqlock.h, read_seqbegin() / read_seqretry() (and
 * read_seqcount_latch() / read_seqcount_latch_retry() for a latch).  Rust:
 * Rust-for-Linux has no merged seqlock binding; SeqLock.read(fn) is the
 * closure reader proposed for it, SeqReadToken the `seq` a C reader keeps.
 *
 * Every read attempt is a kbind.lifetime scope (kb_seq_attempt, on the
 * types of csrc/pyext/seqlock_core.c): it begins when the attempt has
 * sampled an even sequence and copied the protected words (one C sequence,
 * the engine's marked loads), and ends when the closure returns or when
 * read_retry() spends the token.  A closure's view (SeqView) reads the
 * attempt's snapshot while the scope is open, on its thread (S02); a token's
 * field is a TentativeValue tied to the attempt (S01).
 *
 * Rules of this file (see csrc/pyext/hotpath.h): the GIL is never released
 * here, and only non-blocking engine calls are made (sampling the sequence,
 * copying the words, the retry check).  When a writer is inside (odd
 * sequence), C hands over to SeqLock._wait_writer(), which waits in cffi
 * with the GIL released, in slices that let Ctrl-C in, then samples again.
 * Every refusal is built in Python by a method of the object concerned
 * (kbind.seqlock), so the messages stay kbind.seqlock's.
 */
#include "seqlock_hp.h"

#include <limits.h>
#include <structmember.h>

/* ------------------------------------------------------ configuration */

/* The kinds kbind.seqlock defines on these C types (bind_seqlock()). */
static PyTypeObject *kb_seq_read_kind;	 /* _ReadAttempt: an attempt of SeqLock.read(fn) */
static PyTypeObject *kb_seq_locked_kind; /* _LockedAttempt: read(fn, lock_after=n) locked */
static PyTypeObject *kb_seq_latch_kind;	 /* _LatchAttempt: an attempt of SeqLatch.read(fn) */
static PyTypeObject *kb_seq_token_kind;	 /* SeqReadToken */
static kb_hooks *kb_seq_read_hooks, *kb_seq_locked_hooks, *kb_seq_latch_hooks,
	*kb_seq_token_hooks;

static PyObject *kb_str_refuse_reader, *kb_str_wait_writer, *kb_str_read_locked,
	*kb_str_refuse_retry, *kb_str_snapshot_wait, *kb_str_refuse_field, *kb_str_kb_refuse,
	*kb_str_thread, *kb_str_ended, *kb_str_empty, *kb_str_retry_failed, *kb_op_read,
	*kb_op_begin, *kb_op_snapshot;

/* ----------------------------------------------------------- attempts */

static kb_seq_attempt *attempt_new(PyTypeObject *type, kb_seq_core *c)
{
	kb_seq_attempt *a = (kb_seq_attempt *)type->tp_alloc(type, 0);

	if (a == NULL)
		return NULL;
	a->scope.state = KB_SCOPE_NEW;
	a->scope.lasti = a->scope.end_lasti = -1;
	a->lock = (kb_seq_core *)Py_NewRef((PyObject *)c);
	if (c->n <= KB_SEQ_INLINE) {
		a->words = a->inline_words;
	} else {
		a->words = PyMem_Malloc((size_t)c->n * sizeof(int64_t));
		if (a->words == NULL) {
			Py_DECREF(a);
			PyErr_NoMemory();
			return NULL;
		}
	}
	return a;
}

static void attempt_free_words(kb_seq_attempt *a)
{
	if (a->words != NULL && a->words != a->inline_words)
		PyMem_Free(a->words);
	a->words = a->inline_words;
}

static int attempt_traverse(kb_seq_attempt *a, visitproc visit, void *arg)
{
	Py_VISIT(a->lock);
	return kb_scope_type.tp_traverse((PyObject *)a, visit, arg);
}

static int attempt_clear(kb_seq_attempt *a)
{
	/* The lock stays: nothing it holds leads back to an attempt, and views
	 * still reaching the attempt find it there. */
	return kb_scope_type.tp_clear((PyObject *)a);
}

/* 0 when freed, -1 when its finalizer resurrected it. */
static int attempt_free(kb_seq_attempt *a)
{
	/* The scope's finalizer first (an abandoned token ends here), then ours. */
	if (PyObject_CallFinalizerFromDealloc((PyObject *)a) < 0)
		return -1;
	attempt_free_words(a);
	Py_CLEAR(a->lock);
	Py_CLEAR(a->how);
	Py_CLEAR(a->fail_code);
	kb_scope_type.tp_dealloc((PyObject *)a);
	return 0;
}

static void attempt_dealloc(kb_seq_attempt *a)
{
	(void)attempt_free(a);
}

/* A read attempt ends with read_retry() (a token) or when its closure returns:
 * ending it any other way would skip the retry check. */
static PyObject *attempt_no_end(PyObject *a, PyObject *const *args, Py_ssize_t nargs)
{
	(void)args;
	(void)nargs;
	PyErr_Format(PyExc_TypeError,
		     "%s: a read attempt ends with SeqLock.read_retry(seq) (or when its reader "
		     "returns), which checks whether a writer overlapped it",
		     Py_TYPE(a)->tp_name);
	return NULL;
}

static PyObject *attempt_getattro(kb_seq_attempt *a, PyObject *name)
{
	long long code;
	int r;

	if (a->lock == NULL || kb_seq_is_private(name))
		return PyObject_GenericGetAttr((PyObject *)a, name);
	r = kb_seq_field(a->lock, name, &code);
	if (r < 0)
		return NULL;
	if (r == 0)
		return kb_seq_not_a_field((PyObject *)a, name);
	if (KB_UNLIKELY(a->scope.state != KB_SCOPE_OPEN || a->state == KB_SEQ_FAILED ||
			a->scope.owner != kb_hp_thread_if_any()))
		return kb_seq_call_refuse((PyObject *)a, kb_str_refuse_field, name, NULL);
	return kb_seq_tentative_make(a, kb_seq_snapshot_value(a->words, code));
}

static PyObject *attempt_get_fail_raw(kb_seq_attempt *a, void *closure)
{
	(void)closure;
	if (a->fail_code == NULL || a->scope.owner == NULL)
		Py_RETURN_NONE;
	return Py_BuildValue("(OiOO)", a->fail_code, a->fail_lasti, a->scope.owner->name,
			     kb_str_empty);
}

static PyObject *attempt_get_how(kb_seq_attempt *a, void *closure)
{
	(void)closure;
	return Py_NewRef(a->how != NULL ? a->how : kb_str_empty);
}

static PyObject *attempt_get_lock(kb_seq_attempt *a, void *closure)
{
	(void)closure;
	return Py_NewRef(a->lock != NULL ? (PyObject *)a->lock : Py_None);
}

static PyGetSetDef attempt_getset[] = {
	{ "_fail_raw", (getter)attempt_get_fail_raw, NULL,
	  "(code, offset, thread, how) of the write that superseded the attempt, or None.",
	  NULL },
	{ "_how", (getter)attempt_get_how, NULL, "How the attempt failed ('' if it did not).",
	  NULL },
	{ "_lock", (getter)attempt_get_lock, NULL, "The SeqLock or SeqLatch read.", NULL },
	{ NULL, NULL, NULL, NULL, NULL }
};

static PyMemberDef attempt_members[] = {
	{ "_state", T_INT, offsetof(kb_seq_attempt, state), READONLY,
	  "0 pending, 1 valid (its retry check passed), 2 failed." },
	{ "_start", T_UINT, offsetof(kb_seq_attempt, start), READONLY,
	  "The (even) sequence the attempt began at." },
	{ "_copy", T_INT, offsetof(kb_seq_attempt, copy), READONLY,
	  "A latch read: the copy it read." },
	{ "_no", T_INT, offsetof(kb_seq_attempt, no), READONLY,
	  "A latch read: its number in its read()." },
	{ NULL, 0, 0, 0, NULL }
};

static PyMethodDef attempt_methods[] = {
	{ "end", (PyCFunction)(void (*)(void))attempt_no_end, METH_FASTCALL,
	  "Refused: a read attempt ends with SeqLock.read_retry(seq)." },
	{ "__exit__", (PyCFunction)(void (*)(void))attempt_no_end, METH_FASTCALL,
	  "Refused: a read attempt ends with SeqLock.read_retry(seq)." },
	{ NULL, NULL, 0, NULL }
};

PyTypeObject kb_seq_attempt_type = {
	PyVarObject_HEAD_INIT(NULL, 0).tp_name = "kbind._bridge._hotpath.SeqAttempt",
	.tp_basicsize = sizeof(kb_seq_attempt),
	.tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
	.tp_doc = "One read attempt of a seqlock (a kbind.lifetime scope): its snapshot and "
		  "how it ended.  The C half of SeqReadToken and of the closure readers' "
		  "attempts.",
	.tp_new = kb_seq_no_new,
	.tp_traverse = (traverseproc)attempt_traverse,
	.tp_clear = (inquiry)attempt_clear,
	.tp_dealloc = (destructor)attempt_dealloc,
	.tp_getattro = (getattrofunc)attempt_getattro,
	.tp_methods = attempt_methods,
	.tp_members = attempt_members,
	.tp_getset = attempt_getset,
};

/* --------------------------------------------------------- the readers */

/* Sample the sequence and copy the words into @a, waiting (in Python, GIL
 * released) while a writer is inside.  0, or -1 with an exception. */
static int attempt_snapshot(kb_seq_core *c, kb_seq_attempt *a)
{
	for (;;) {
		uint32_t seq = kb_hp_kb_raw_read_seqcount(&c->sl->seqcount);
		PyObject *r;

		if (KB_LIKELY(!(seq & 1))) {
			kb_hp_kb_seq_words_load(a->words, c->words[0], (size_t)c->n);
			a->start = seq;
			return 0;
		}
		/* A writer is inside: wait in cffi (Ctrl-C can interrupt), then again. */
		r = PyObject_CallMethodNoArgs((PyObject *)c, kb_str_wait_writer);
		if (r == NULL)
			return -1;
		Py_DECREF(r);
	}
}

/*
 * Begin @a (its snapshot is taken), run fn(view) and end @a.  Returns fn's
 * result, or NULL with fn's exception (or one from ending @a).  *ran is 0
 * if fn never ran (an error beginning the attempt or making its view).
 */
static PyObject *attempt_run(kb_seq_attempt *a, kb_hooks *h, PyObject *fn, int *ran)
{
	kb_seq_view *view;
	PyObject *res;

	*ran = 0;
	if (kb_scope_begin(&a->scope, h, NULL) < 0)
		return NULL;
	view = (kb_seq_view *)kb_seq_view_kind->tp_alloc(kb_seq_view_kind, 0);
	if (view == NULL) {
		PyObject *type, *value, *tb;

		PyErr_Fetch(&type, &value, &tb);
		(void)kb_scope_end(&a->scope, kb_str_empty);
		PyErr_Restore(type, value, tb);
		return NULL;
	}
	view->attempt = (kb_seq_attempt *)Py_NewRef((PyObject *)a);
	*ran = 1;
	res = PyObject_CallOneArg(fn, (PyObject *)view);
	Py_DECREF(view);
	if (a->scope.state == KB_SCOPE_OPEN) {
		if (res == NULL) {
			PyObject *type, *value, *tb;

			PyErr_Fetch(&type, &value, &tb);
			if (kb_scope_end(&a->scope, kb_str_empty) < 0) {
				Py_XDECREF(type);
				Py_XDECREF(value);
				Py_XDECREF(tb);
			} else {
				PyErr_Restore(type, value, tb);
			}
		} else if (kb_scope_end(&a->scope, kb_str_empty) < 0) {
			Py_CLEAR(res);
		}
	}
	return res;
}

static int parse_lock_after(PyObject *v, long long *out)
{
	int overflow;

	*out = -1;
	if (v == NULL || v == Py_None)
		return 0;
	if (PyBool_Check(v) || !PyLong_Check(v)) {
		PyErr_Format(PyExc_TypeError, "lock_after must be an int or None, not %R", v);
		return -1;
	}
	*out = PyLong_AsLongLongAndOverflow(v, &overflow);
	if (overflow > 0)
		*out = LLONG_MAX;
	else if (overflow < 0)
		*out = -1;
	else if (*out == -1 && PyErr_Occurred())
		return -1;
	if (*out < 0) {
		PyErr_Format(PyExc_ValueError, "lock_after must be >= 0, not %R", v);
		return -1;
	}
	return 0;
}

/* SeqLock.read(fn, *, lock_after=None) */
static PyObject *seq_read(kb_seq_core *c, PyObject *const *args, Py_ssize_t nargs,
			  PyObject *kwnames)
{
	PyObject *fn, *la = NULL;
	long long lock_after, failed = 0;
	kb_thread *me;

	if (nargs != 1) {
		PyErr_Format(PyExc_TypeError,
			     "read() takes 1 positional argument (fn) but %zd were given", nargs);
		return NULL;
	}
	fn = args[0];
	if (kwnames != NULL) {
		for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(kwnames); i++) {
			PyObject *k = PyTuple_GET_ITEM(kwnames, i);

			if (PyUnicode_Check(k) && PyUnicode_CompareWithASCIIString(k, "lock_after") == 0) {
				la = args[nargs + i];
			} else {
				PyErr_Format(PyExc_TypeError,
					     "read() got an unexpected keyword argument %R", k);
				return NULL;
			}
		}
	}
	if (parse_lock_after(la, &lock_after) < 0 || !kb_seq_core_ready(c, 0))
		return NULL;
	me = kb_current_thread();
	if (me == NULL)
		return NULL;
	if (KB_UNLIKELY(c->writer == me)) /* S06: the sequence stays odd until this thread ends it */
		return kb_seq_call_refuse((PyObject *)c, kb_str_refuse_reader, kb_op_read, NULL);
	for (;;) {
		kb_seq_attempt *a;
		PyObject *res;
		int ran, retry;

		if (lock_after >= 0 && failed >= lock_after)
			return PyObject_CallMethodOneArg((PyObject *)c, kb_str_read_locked, fn);
		a = attempt_new(kb_seq_read_kind, c);
		if (a == NULL)
			return NULL;
		if (attempt_snapshot(c, a) < 0) {
			Py_DECREF(a);
			return NULL;
		}
		res = attempt_run(a, kb_seq_read_hooks, fn, &ran);
		/* Superseded by this thread's own write (the sdma_flush upgrade):
		 * that write serialized with every writer, so no retry. */
		retry = ran && a->state != KB_SEQ_FAILED && kb_hp_kb_read_seqretry(c->sl, a->start);
		Py_DECREF(a);
		if (!retry)
			return res; /* fn's result or exception, from a validated attempt */
		/* Torn: whatever fn returned or raised is thrown away (S01). */
		if (res != NULL)
			Py_DECREF(res);
		else
			PyErr_Clear();
		failed++;
	}
}

/* SeqLock.read_begin() */
static PyObject *seq_read_begin(kb_seq_core *c, PyObject *unused)
{
	kb_seq_attempt *a;
	kb_thread *me;

	(void)unused;
	if (!kb_seq_core_ready(c, 0))
		return NULL;
	me = kb_current_thread();
	if (me == NULL)
		return NULL;
	if (KB_UNLIKELY(c->writer == me))
		return kb_seq_call_refuse((PyObject *)c, kb_str_refuse_reader, kb_op_begin, NULL);
	a = attempt_new(kb_seq_token_kind, c);
	if (a == NULL)
		return NULL;
	if (attempt_snapshot(c, a) < 0 || kb_scope_begin(&a->scope, kb_seq_token_hooks, NULL) < 0) {
		Py_DECREF(a);
		return NULL;
	}
	return (PyObject *)a;
}

/* SeqLock.read_retry(seq) */
static PyObject *seq_read_retry(kb_seq_core *c, PyObject *seq)
{
	kb_seq_attempt *a = (kb_seq_attempt *)seq;
	int retry;

	if (!kb_seq_core_ready(c, 0))
		return NULL;
	if (Py_TYPE(seq) != kb_seq_token_kind) {
		PyObject *tn = PyType_GetName(Py_TYPE(seq));

		if (tn != NULL) {
			PyErr_Format(PyExc_TypeError,
				     "read_retry() takes the token read_begin() returned, not %U", tn);
			Py_DECREF(tn);
		}
		return NULL;
	}
	if (a->lock != c) /* S08 */
		return kb_seq_call_refuse((PyObject *)c, kb_str_refuse_retry, seq, NULL);
	if (a->scope.owner != kb_hp_thread_if_any())
		return kb_seq_call_refuse(seq, kb_str_kb_refuse, kb_str_thread, kb_str_empty);
	if (a->scope.state != KB_SCOPE_OPEN)
		return kb_seq_call_refuse(seq, kb_str_kb_refuse, kb_str_ended, kb_str_empty);
	if (kb_scope_end(&a->scope, kb_str_empty) < 0)
		return NULL;
	if (a->state == KB_SEQ_FAILED) { /* superseded by this thread's own write */
		retry = 1;
	} else {
		retry = kb_hp_kb_read_seqretry(c->sl, a->start) != 0;
		a->state = retry ? KB_SEQ_FAILED : KB_SEQ_VALID;
		if (retry)
			Py_XSETREF(a->how, Py_NewRef(kb_str_retry_failed));
	}
	attempt_free_words(a); /* spent: its fields can no longer be read */
	return PyBool_FromLong(retry);
}

/* SeqLock.snapshot() */
static PyObject *seq_snapshot(kb_seq_core *c, PyObject *unused)
{
	int64_t stack[KB_SEQ_INLINE], *buf;
	kb_thread *me;

	(void)unused;
	if (!kb_seq_core_ready(c, 0))
		return NULL;
	me = kb_current_thread();
	if (me == NULL)
		return NULL;
	if (KB_UNLIKELY(c->writer == me))
		return kb_seq_call_refuse((PyObject *)c, kb_str_refuse_reader, kb_op_snapshot, NULL);
	buf = c->n <= KB_SEQ_INLINE ? stack : PyMem_Malloc((size_t)c->n * sizeof(int64_t));
	if (buf == NULL)
		return PyErr_NoMemory();
	/* A few lockless passes; a writer inside or busy writers: wait in cffi. */
	for (int tries = 0; tries < 4; tries++) {
		uint32_t seq = kb_hp_kb_raw_read_seqcount(&c->sl->seqcount);

		if (seq & 1)
			break;
		kb_hp_kb_seq_words_load(buf, c->words[0], (size_t)c->n);
		if (!kb_hp_kb_read_seqretry(c->sl, seq)) {
			PyObject *d = kb_seq_snapshot_dict(c, buf);

			if (buf != stack)
				PyMem_Free(buf);
			return d;
		}
	}
	if (buf != stack)
		PyMem_Free(buf);
	return PyObject_CallMethodNoArgs((PyObject *)c, kb_str_snapshot_wait);
}

/* SeqLatch.read(fn): never waits, not even on the writer's thread. */
static PyObject *latch_read(kb_seq_core *c, PyObject *fn)
{
	int no = 0;

	if (!kb_seq_core_ready(c, 1))
		return NULL;
	for (;;) {
		kb_seq_attempt *a = attempt_new(kb_seq_latch_kind, c);
		PyObject *res;
		int ran, retry;
		uint32_t seq;

		if (a == NULL)
			return NULL;
		seq = kb_hp_kb_latch_snapshot_begin(c->latch, a->words, c->words[0], c->words[1],
						    (size_t)c->n);
		a->start = seq;
		a->copy = (int)(seq & 1);
		a->no = ++no;
		res = attempt_run(a, kb_seq_latch_hooks, fn, &ran);
		retry = ran && kb_hp_kb_read_seqcount_latch_retry(c->latch, seq);
		Py_DECREF(a);
		if (!retry)
			return res;
		if (res != NULL)
			Py_DECREF(res);
		else
			PyErr_Clear();
	}
}

/* read_locked(lock, fn): one attempt under the lock (lock_after); the caller
 * holds it as an exclusive reader, so it cannot fail. */
static PyObject *py_read_locked(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
	kb_seq_core *c;
	kb_seq_attempt *a;
	PyObject *res;
	int ran;

	(void)self;
	if (nargs != 2 || !PyObject_TypeCheck(args[0], &kb_seq_core_type)) {
		PyErr_SetString(PyExc_TypeError, "seq_read_locked(lock, fn)");
		return NULL;
	}
	c = (kb_seq_core *)args[0];
	if (!kb_seq_core_ready(c, 0))
		return NULL;
	a = attempt_new(kb_seq_locked_kind, c);
	if (a == NULL)
		return NULL;
	kb_hp_kb_seq_words_load(a->words, c->words[0], (size_t)c->n);
	res = attempt_run(a, kb_seq_locked_hooks, args[1], &ran);
	Py_DECREF(a);
	return res;
}

/* ------------------------------------------------------------- binding */

/*
 * Sealed kinds: kbind.seqlock's final classes over these C types add no
 * fields, so their instances (one attempt and one view per closure read, one
 * value per token field) are freed by the C base's dealloc directly instead
 * of subtype_dealloc's generic work, which then drops the type as it would
 * (the same as kbind.lifetime's seal(), for these layouts).
 */
static void sealed_attempt_dealloc(PyObject *o);
static void sealed_view_dealloc(PyObject *o);
static void sealed_tv_dealloc(PyObject *o);

static void sealed_attempt_dealloc(PyObject *o)
{
	PyTypeObject *tp = Py_TYPE(o);
	int own = tp->tp_dealloc == sealed_attempt_dealloc;

	if (attempt_free((kb_seq_attempt *)o) == 0 && own)
		Py_DECREF(tp);
}

static void sealed_view_dealloc(PyObject *o)
{
	PyTypeObject *tp = Py_TYPE(o);
	int own = tp->tp_dealloc == sealed_view_dealloc;

	kb_seq_view_dealloc((kb_seq_view *)o);
	if (own)
		Py_DECREF(tp);
}

static void sealed_tv_dealloc(PyObject *o)
{
	PyTypeObject *tp = Py_TYPE(o);
	int own = tp->tp_dealloc == sealed_tv_dealloc;

	kb_seq_tv_dealloc(o);
	if (own)
		Py_DECREF(tp);
}

static int seal(PyTypeObject *tp, PyTypeObject *base, destructor fast)
{
	if (!(tp->tp_flags & Py_TPFLAGS_HEAPTYPE) || tp->tp_basicsize != base->tp_basicsize ||
	    tp->tp_dictoffset != 0 || tp->tp_weaklistoffset != base->tp_weaklistoffset ||
	    tp->tp_finalize != base->tp_finalize || tp->tp_del != NULL) {
		PyErr_Format(PyExc_TypeError,
			     "bind_seqlock(): %s adds fields, a __dict__, weak references or "
			     "__del__ to %s",
			     tp->tp_name, base->tp_name);
		return -1;
	}
	tp->tp_dealloc = fast;
	return 0;
}

static PyMethodDef kb_seq_lock_methods[] = {
	{ "read", (PyCFunction)(void (*)(void))seq_read, METH_FASTCALL | METH_KEYWORDS, NULL },
	{ "read_begin", (PyCFunction)seq_read_begin, METH_NOARGS, NULL },
	{ "read_retry", (PyCFunction)seq_read_retry, METH_O, NULL },
	{ "snapshot", (PyCFunction)seq_snapshot, METH_NOARGS, NULL },
	{ NULL, NULL, 0, NULL }
};

static PyMethodDef kb_seq_latch_methods[] = {
	{ "read", (PyCFunction)latch_read, METH_O, NULL },
	{ NULL, NULL, 0, NULL }
};

static const char *const kb_seq_sigs[] = { "read($self, fn, /, *, lock_after=None)",
					   "read_begin($self, /)", "read_retry($self, seq, /)",
					   "snapshot($self, /)" };

/* ml_doc = "<signature>\n--\n\n<doc>" (kept for the process: descriptors read it). */
static int set_doc(PyMethodDef *def, const char *sig, PyObject *docs, const char *key)
{
	PyObject *doc = PyDict_GetItemString(docs, key);
	const char *text;
	size_t n;
	char *copy;

	if (doc == NULL || !PyUnicode_Check(doc)) {
		PyErr_Format(PyExc_TypeError, "bind_seqlock(): no doc for %s", key);
		return -1;
	}
	text = PyUnicode_AsUTF8(doc);
	if (text == NULL)
		return -1;
	n = strlen(sig) + strlen(text) + 8;
	copy = PyMem_RawMalloc(n);
	if (copy == NULL) {
		PyErr_NoMemory();
		return -1;
	}
	PyOS_snprintf(copy, n, "%s\n--\n\n%s", sig, text);
	def->ml_doc = copy;
	return 0;
}

static int install(PyObject *cls, PyMethodDef *def)
{
	PyObject *descr = PyDescr_NewMethod((PyTypeObject *)cls, def);
	int rc;

	if (descr == NULL)
		return -1;
	rc = PyObject_SetAttrString(cls, def->ml_name, descr);
	Py_DECREF(descr);
	return rc;
}

static kb_hooks *hooks_of(PyTypeObject *t)
{
	kb_hooks *h = kb_hp_hooks_of(t);

	Py_XINCREF(h);
	return h;
}

/* bind_seqlock(lock_cls, latch_cls, kinds, docs, site_from_raw) */
static PyObject *py_bind_seqlock(PyObject *self, PyObject *args)
{
	PyObject *lock_cls, *latch_cls, *kinds, *docs, *from_raw;
	PyTypeObject *k[7];
	static const char *const keys[] = { "read", "read_begin", "read_retry", "snapshot" };

	(void)self;
	if (!PyArg_ParseTuple(args, "O!O!O!O!O:bind_seqlock", &PyType_Type, &lock_cls,
			      &PyType_Type, &latch_cls, &PyTuple_Type, &kinds, &PyDict_Type, &docs,
			      &from_raw))
		return NULL;
	if (kb_seq_bound) {
		PyErr_SetString(PyExc_RuntimeError, "kbind._bridge._hotpath: seqlocks are bound already");
		return NULL;
	}
	if (!kb_hp_engine_bound()) {
		PyErr_SetString(PyExc_RuntimeError,
				"kbind._bridge._hotpath: bind_engine() must come before bind_seqlock()");
		return NULL;
	}
	if (PyTuple_GET_SIZE(kinds) != 7) {
		PyErr_SetString(PyExc_TypeError,
				"bind_seqlock(): kinds = (read attempt, locked attempt, latch "
				"attempt, token, view, tentative value, write guard)");
		return NULL;
	}
	for (int i = 0; i < 7; i++) {
		PyObject *t = PyTuple_GET_ITEM(kinds, i);
		PyTypeObject *base = i < 4 ? &kb_seq_attempt_type
				     : i == 4 ? &kb_seq_view_type
				     : i == 5 ? &kb_seq_tv_type
					      : &kb_seq_writer_type;

		if (!PyType_Check(t) || !PyType_IsSubtype((PyTypeObject *)t, base) ||
		    ((PyTypeObject *)t)->tp_basicsize != base->tp_basicsize) {
			PyErr_Format(PyExc_TypeError, "bind_seqlock(): kind %d must subclass %s "
				     "and add no fields", i, base->tp_name);
			return NULL;
		}
		k[i] = (PyTypeObject *)t;
	}
	if (!PyType_IsSubtype((PyTypeObject *)lock_cls, &kb_seq_core_type) ||
	    !PyType_IsSubtype((PyTypeObject *)latch_cls, &kb_seq_core_type)) {
		PyErr_SetString(PyExc_TypeError, "bind_seqlock(): the lock classes must subclass "
				"SeqCore");
		return NULL;
	}
	for (int i = 0; i < 4; i++)
		if (set_doc(&kb_seq_lock_methods[i], kb_seq_sigs[i], docs, keys[i]) < 0)
			return NULL;
	if (set_doc(&kb_seq_latch_methods[0], "read($self, fn, /)", docs, "latch_read") < 0 ||
	    set_doc(&kb_seq_write_methods[0], "write($self, /)", docs, "write") < 0)
		return NULL;
	kb_seq_read_hooks = hooks_of(k[0]);
	kb_seq_locked_hooks = hooks_of(k[1]);
	kb_seq_latch_hooks = hooks_of(k[2]);
	kb_seq_token_hooks = hooks_of(k[3]);
	if (kb_seq_read_hooks == NULL || kb_seq_locked_hooks == NULL ||
	    kb_seq_latch_hooks == NULL || kb_seq_token_hooks == NULL)
		return NULL;
	kb_seq_read_kind = (PyTypeObject *)Py_NewRef((PyObject *)k[0]);
	kb_seq_locked_kind = (PyTypeObject *)Py_NewRef((PyObject *)k[1]);
	kb_seq_latch_kind = (PyTypeObject *)Py_NewRef((PyObject *)k[2]);
	kb_seq_token_kind = (PyTypeObject *)Py_NewRef((PyObject *)k[3]);
	kb_seq_view_kind = (PyTypeObject *)Py_NewRef((PyObject *)k[4]);
	kb_seq_tv_kind = (PyTypeObject *)Py_NewRef((PyObject *)k[5]);
	kb_seq_site_from_raw = Py_NewRef(from_raw);
	for (int i = 0; i < 4; i++)
		if (seal(k[i], &kb_seq_attempt_type, sealed_attempt_dealloc) < 0)
			return NULL;
	if (seal(k[4], &kb_seq_view_type, sealed_view_dealloc) < 0 ||
	    seal(k[5], &kb_seq_tv_type, sealed_tv_dealloc) < 0 ||
	    kb_seq_bind_write((PyObject *)k[6]) < 0)
		return NULL;
	kb_seq_bound = 1;
	for (int i = 0; i < 4; i++)
		if (install(lock_cls, &kb_seq_lock_methods[i]) < 0)
			return NULL;
	if (install(lock_cls, &kb_seq_write_methods[0]) < 0 ||
	    install(latch_cls, &kb_seq_latch_methods[0]) < 0)
		return NULL;
	Py_RETURN_NONE;
}

static PyMethodDef kb_seq_functions[] = {
	{ "bind_seqlock", py_bind_seqlock, METH_VARARGS,
	  "bind_seqlock(lock_cls, latch_cls, kinds, docs, site_from_raw): give kbind.seqlock's "
	  "read path its kinds (read attempt, locked attempt, latch attempt, SeqReadToken, "
	  "SeqView, TentativeValue, SeqWriteGuard) and put the C methods (read, read_begin, "
	  "read_retry, snapshot, write; SeqLatch.read) in the lock classes, with docs "
	  "(called once, by kbind.seqlock)." },
	{ "seq_read_locked", (PyCFunction)(void (*)(void))py_read_locked, METH_FASTCALL,
	  "seq_read_locked(lock, fn): fn(view) on one attempt taken under the lock (the caller "
	  "holds it as an exclusive reader)." },
	{ NULL, NULL, 0, NULL }
};

int kb_hp_init_seqlock(PyObject *m)
{
	KB_INTERN(kb_str_refuse_reader, "_refuse_reader");
	KB_INTERN(kb_str_wait_writer, "_wait_writer");
	KB_INTERN(kb_str_read_locked, "_read_locked");
	KB_INTERN(kb_str_refuse_retry, "_refuse_retry");
	KB_INTERN(kb_str_snapshot_wait, "_snapshot_wait");
	KB_INTERN(kb_str_refuse_field, "_refuse_field");
	KB_INTERN(kb_str_kb_refuse, "_kb_refuse");
	KB_INTERN(kb_str_thread, "thread");
	KB_INTERN(kb_str_ended, "ended");
	KB_INTERN(kb_str_empty, "");
	KB_INTERN(kb_str_retry_failed, "failed its retry check (a writer overlapped it)");
	KB_INTERN(kb_op_read, "begin a read section on SeqLock");
	KB_INTERN(kb_op_begin, "begin a read attempt on SeqLock");
	KB_INTERN(kb_op_snapshot, "take a snapshot of SeqLock");
	if (kb_hp_init_seqlock_core(m) < 0)
		return -1;
	kb_seq_attempt_type.tp_base = &kb_scope_type;
	if (PyType_Ready(&kb_seq_attempt_type) < 0 ||
	    PyModule_AddObjectRef(m, "SeqAttempt", (PyObject *)&kb_seq_attempt_type) < 0)
		return -1;
	if (PyModule_AddFunctions(m, kb_seq_functions) < 0)
		return -1;
	return kb_hp_init_seqlock_write(m);
}

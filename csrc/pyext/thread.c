/* SPDX-License-Identifier: MIT */
/*
 * csrc/pyext/thread.c - thread tokens and call sites of kbind.lifetime.
 *
 * A ThreadToken is the identity of one Python thread (never reused, unlike
 * thread idents), kept in the thread's state dict; a sentinel beside it marks
 * the token exited, and closes the scopes left open, when the thread ends.
 * kb_capture_site() records where something happens: the code object and
 * instruction offset of the first frame that is not kbind's own.
 */
#include "lifetime.h"

#include <structmember.h>

/* ------------------------------------------------------------ configuration */

static PyObject *kb_internal_files; /* dict co_filename -> bool (kbind._bridge.guard's) */
static PyObject *kb_is_internal;    /* callable(filename, frame) -> bool */
static PyObject *kb_thread_name;    /* callable() -> the current thread's name */
PyObject *kb_hp_key_thread;	    /* interned keys of the thread-state dict */
static PyObject *kb_key_exit;

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

static void thread_exit_dealloc(kb_thread_exit *e)
{
	kb_thread *t = e->thread;

	if (t != NULL) {
		PyObject *type, *value, *tb;

		PyErr_Fetch(&type, &value, &tb);
		forget_cached(t);
		t->exited = 1;
		kb_hp_scopes_at_thread_exit(t);
		PyErr_Restore(type, value, tb);
		Py_DECREF(t);
	}
	Py_TYPE(e)->tp_free((PyObject *)e);
}

static PyTypeObject kb_thread_exit_type = {
	PyVarObject_HEAD_INIT(NULL, 0).tp_name = "kbind._bridge._hotpath._ThreadExit",
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

#if PY_VERSION_HEX >= 0x030B0000 && PY_VERSION_HEX < 0x030C0000
/*
 * CPython 3.11 only: the leading fields of its _PyInterpreterFrame
 * (Include/internal/pycore_frame.h), read-only, so that a capture finds the
 * user's code object and instruction offset without making a frame object
 * (PyEval_GetFrame() allocates one per call of the function that captures:
 * about 40 ns of every guard).  Frames whose file is not yet in the cache
 * take the public path below.  Other versions always take the public path.
 */
struct kb_iframe311 {
	PyObject *f_func;
	PyObject *f_globals;
	PyObject *f_builtins;
	PyObject *f_locals;
	PyCodeObject *f_code;
	PyFrameObject *frame_obj;
	struct kb_iframe311 *previous;
	_Py_CODEUNIT *prev_instr;
	int stacktop;
	bool is_entry;
	char owner;
};
#define KB_FRAME_OWNED_BY_GENERATOR 1

/* 1: found (*code, *lasti set); 0: a frame's file is not cached yet; -1: error. */
static int capture_fast(PyObject **code, int *lasti)
{
	PyThreadState *ts = PyThreadState_Get();
	struct kb_iframe311 *f;

	if (kb_internal_files == NULL || ts->cframe == NULL)
		return 0;
	for (f = (struct kb_iframe311 *)ts->cframe->current_frame; f != NULL; f = f->previous) {
		PyCodeObject *co = f->f_code;
		int internal;

		/* An incomplete frame (its function has not started) is not on the
		 * stack for PyEval_GetFrame() either. */
		if (f->owner != KB_FRAME_OWNED_BY_GENERATOR &&
		    f->prev_instr < _PyCode_CODE(co) + co->_co_firsttraceable)
			continue;
		if ((PyObject *)co == kb_last_code) {
			internal = kb_last_internal;
		} else {
			PyObject *v = PyDict_GetItemWithError(kb_internal_files, co->co_filename);

			if (v == NULL)
				return PyErr_Occurred() ? -1 : 0;
			internal = v == Py_True;
			Py_INCREF(co);
			Py_XSETREF(kb_last_code, (PyObject *)co);
			kb_last_internal = internal;
		}
		if (!internal || f->previous == NULL) {
			int units = (int)(f->prev_instr - _PyCode_CODE(co));

			Py_INCREF(co);
			*code = (PyObject *)co;
			*lasti = units < 0 ? -1 : units * (int)sizeof(_Py_CODEUNIT);
			return 1;
		}
	}
	return 0;
}
#else
static int capture_fast(PyObject **code, int *lasti)
{
	(void)code;
	(void)lasti;
	return 0;
}
#endif

int kb_capture_site(PyObject **code, int *lasti)
{
	PyFrameObject *f;
	int fast = capture_fast(code, lasti);

	if (fast != 0)
		return fast < 0 ? -1 : 0;
	f = PyEval_GetFrame();
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

static PyMethodDef thread_methods[] = {
	{ "current_thread", py_current_thread, METH_NOARGS,
	  "current_thread() -> ThreadToken: the calling thread's token." },
	{ "configure", py_configure, METH_VARARGS,
	  "configure(internal_files, is_internal, thread_name): how sites skip kbind's frames." },
	{ NULL, NULL, 0, NULL }
};

int kb_hp_init_thread(PyObject *m)
{
	kb_hp_key_thread = PyUnicode_InternFromString("kbind.lifetime.thread");
	kb_key_exit = PyUnicode_InternFromString("kbind.lifetime.thread_exit");
	if (kb_hp_key_thread == NULL || kb_key_exit == NULL)
		return -1;
	if (PyType_Ready(&kb_thread_type) < 0 || PyType_Ready(&kb_thread_exit_type) < 0)
		return -1;
	if (PyModule_AddObjectRef(m, "ThreadToken", (PyObject *)&kb_thread_type) < 0)
		return -1;
	return PyModule_AddFunctions(m, thread_methods);
}

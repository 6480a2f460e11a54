/* SPDX-License-Identifier: MIT */
/*
 * csrc/pyext/seqlock_hp.h - the C layout of kbind.seqlock's hot types.
 *
 * Kernel: include/linux/seqlock.h (seqlock_t, seqcount_latch_t).  Rust:
 * Rust-for-Linux has no merged seqlock binding; the types mirror the closure
 * reader and write guard proposed for it.
 *
 *   kb_seq_core     the C half of SeqLock and SeqLatch: where the engine's
 *                   seqlock/latch and the protected words are, the field
 *                   layout, and who holds the write side.
 *   kb_seq_attempt  one read attempt (a kbind.lifetime scope): the snapshot
 *                   of the words it took and how it ended (pending, valid,
 *                   failed).  SeqReadToken and the closure readers' attempts.
 *   kb_seq_writer   a write section (SeqWriteGuard) or the write view of a
 *                   latch copy (SeqLatchWriteView): a scope whose field
 *                   accesses are marked stores and loads of the live words.
 *   kb_seq_view     a closure reader's view of one attempt's snapshot.
 *
 * seqlock_core.c: SeqCore, SeqViewCore, TentativeCore and the helpers;
 * seqlock_read.c: the attempts and the readers, bind_seqlock(), the module
 * init (kb_hp_init_seqlock); seqlock_write.c: the writers and write().
 *
 * Thread safety: everything is read and written with the GIL held; nothing
 * here releases it.  The protected words are shared with writers on other
 * threads (C or Python, GIL released) and are only ever touched with the
 * engine's marked accesses (kb_seq_word_*, kb_seq_words_load).
 */
#ifndef KB_HP_SEQLOCK_H
#define KB_HP_SEQLOCK_H

#include "lifetime.h"

/* Words of a snapshot kept inside the attempt; longer layouts allocate. */
#define KB_SEQ_INLINE 8

/* How a read attempt ended (kb_seq_attempt.state). */
enum { KB_SEQ_PENDING = 0, KB_SEQ_VALID = 1, KB_SEQ_FAILED = 2 };

/* A field's place: (nbytes << 32) | word offset; nbytes 0 is a 64-bit int. */
#define KB_SEQ_OFFSET(code) ((Py_ssize_t)((code) & 0xffffffffLL))
#define KB_SEQ_NBYTES(code) ((Py_ssize_t)((code) >> 32))

typedef struct kb_seq_core {
	PyObject_HEAD
	kb_seqlock_t *sl;	    /* SeqLock: the engine's seqlock (NULL for a latch) */
	kb_seqcount_latch_t *latch; /* SeqLatch: the latch sequence (NULL for a seqlock) */
	int64_t *words[2];	    /* the protected words (a latch: copy 0 and copy 1) */
	Py_ssize_t n;		    /* words per copy */
	PyObject *fields;	    /* dict: field name -> code (see KB_SEQ_OFFSET) */
	PyObject *keep;		    /* the cffi allocations behind the pointers */
	kb_thread *writer;	    /* the thread holding the write side (strong), or NULL */
	PyObject *excl;		    /* the thread reading under the lock (lock_after), or NULL */
	kb_scope *wguard;	    /* the open SeqWriteGuard (borrowed: cleared at its end) */
	unsigned long long writes;  /* write sections committed (SeqLock._write_wait) */
} kb_seq_core;

typedef struct kb_seq_attempt {
	kb_scope scope;
	kb_seq_core *lock; /* strong */
	PyObject *how;	   /* str: how it failed, or NULL */
	PyObject *fail_code; /* where the write that superseded it began, or NULL */
	int fail_lasti;
	int state; /* KB_SEQ_PENDING/VALID/FAILED */
	uint32_t start; /* the sequence it began at */
	int copy;	/* a latch read: the copy it read */
	int no;		/* a latch read: the attempt's number in its read() */
	int64_t *words; /* the snapshot: inline_words or allocated */
	int64_t inline_words[KB_SEQ_INLINE];
} kb_seq_attempt;

typedef struct kb_seq_writer {
	kb_scope scope;
	kb_seq_core *lock; /* strong */
	int copy;	   /* the copy its fields store into (0 for a SeqLock) */
	int guard;	   /* 1: a SeqWriteGuard, whose end ends the write section */
} kb_seq_writer;

typedef struct kb_seq_view {
	PyObject_HEAD
	kb_seq_attempt *attempt; /* strong */
} kb_seq_view;

extern PyTypeObject kb_seq_core_type;
extern PyTypeObject kb_seq_attempt_type;
extern PyTypeObject kb_seq_view_type;
extern PyTypeObject kb_seq_tv_type;
extern PyTypeObject kb_seq_writer_type;

/* seqlock_core.c: set once by bind_seqlock(). */
extern PyTypeObject *kb_seq_view_kind; /* kbind.seqlock.SeqView */
extern PyTypeObject *kb_seq_tv_kind;   /* kbind.seqlock.TentativeValue */
extern PyObject *kb_seq_site_from_raw; /* kbind._bridge.guard.Site.from_raw */
extern int kb_seq_bound;
int kb_hp_init_seqlock_core(PyObject *m);
/* 1 if @c is bound (a seqlock; a latch if @latch), else 0 with an exception. */
int kb_seq_core_ready(kb_seq_core *c, int latch);
/* A field's value in a private snapshot; every field of one, as a dict. */
PyObject *kb_seq_snapshot_value(const int64_t *w, long long code);
PyObject *kb_seq_snapshot_dict(kb_seq_core *c, const int64_t *w);
/* A TentativeValue of @v (stolen) read now from token @a's snapshot. */
PyObject *kb_seq_tentative_make(kb_seq_attempt *a, PyObject *v);
void kb_seq_view_dealloc(kb_seq_view *v);
void kb_seq_tv_dealloc(PyObject *o);

/* Look up @name in @c's layout: 1 (and *code), 0 if not a field, -1 on error. */
int kb_seq_field(kb_seq_core *c, PyObject *name, long long *code);
/* Call obj.<method>(a1, a2) (either may be NULL) for a refusal: it raises (NULL). */
PyObject *kb_seq_call_refuse(PyObject *obj, PyObject *method, PyObject *a1, PyObject *a2);
/* A non-field attribute: the normal lookup; a missing public one: obj._no_field(name). */
PyObject *kb_seq_not_a_field(PyObject *o, PyObject *name);
/* Whether @name starts with '_' (never a field). */
int kb_seq_is_private(PyObject *name);
/* tp_new of the types only kbind makes. */
PyObject *kb_seq_no_new(PyTypeObject *type, PyObject *args, PyObject *kwds);
/* 1 once kbind.seqlock has called bind_seqlock(), else 0 with a RuntimeError. */
int kb_seq_engine_ready(void);

/* seqlock_write.c */
int kb_hp_init_seqlock_write(PyObject *m);
extern PyMethodDef kb_seq_write_methods[]; /* SeqLock.write() */
int kb_seq_bind_write(PyObject *guard_type);

#endif /* KB_HP_SEQLOCK_H */

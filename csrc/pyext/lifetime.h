/* SPDX-License-Identifier: MIT */
/*
 * csrc/pyext/lifetime.h - the C layout of kbind.lifetime's hot types.
 *
 * Threads (ThreadToken), scopes (Scope), their hooks (ScopeHooks), retirable
 * cells (Cell) and bound references (Ref).  The other parts of kbind._bridge._hotpath
 * (lock guards) build on these.
 *
 * Thread safety: every field is read and written with the GIL held; the
 * extension never releases it.  Each scope is changed only by its owner
 * thread, except the leak paths (a collection on another thread), which
 * touch only the scope being collected and its owner's list.
 */
#ifndef KB_HP_LIFETIME_H
#define KB_HP_LIFETIME_H

#include "hotpath.h"

struct kb_scope;

/* Bits of kb_thread.bits that kbind's own kinds use. */
#define KB_THREAD_RCU_READY 1UL /* registered with the RCU engine (kbind.rcu._runtime) */
#define KB_THREAD_RCU_QSBR 2UL	/* explicit QSBR mode, online between guards */
#define KB_THREAD_SRCU_SEEN 4UL /* known to kbind.kernel.sync.srcu (it began an SRCU reader) */

/* One Python thread: never reused (unlike thread idents); compared by identity. */
typedef struct kb_thread {
	PyObject_HEAD
	PyObject *weakrefs;
	PyObject *name; /* str: the thread's name when the token was made */
	int exited;	/* the thread has ended (its thread state was cleared) */
	unsigned long ident;
	unsigned long native_id;
	unsigned long bits; /* KB_THREAD_* */
	struct kb_scope *head, *tail; /* its open scopes, oldest first (borrowed) */
} kb_thread;

/* How one kind of scope begins and ends; shared by every scope of the kind. */
typedef struct kb_hooks {
	PyObject_HEAD
	int (*c_begin)(struct kb_scope *); /* 0, or -1 with an exception */
	int (*c_end)(struct kb_scope *);
	PyObject *py_begin;	  /* callable(scope, *args) or NULL */
	PyObject *py_end;	  /* callable(scope) or NULL */
	PyObject *on_leak;	  /* callable(scope, ended: bool) or NULL */
	PyObject *on_thread_exit; /* callable(list[scope]) or NULL */
	PyObject *observer;	  /* object with _scope_begin/_scope_end, or NULL (kbind.trace) */
	int end_anywhere;	  /* a collected open scope may be ended on any thread */
	int keep_at_thread_exit;  /* scopes stay open when their thread exits */
	PyObject *kind;		  /* str, for messages */
} kb_hooks;

enum { KB_SCOPE_NEW = 0, KB_SCOPE_OPEN = 1, KB_SCOPE_ENDED = 2 };

typedef struct kb_scope {
	PyObject_HEAD
	PyObject *weakrefs;
	kb_thread *owner; /* NULL until it begins */
	kb_hooks *hooks;  /* NULL until it begins */
	PyObject *code;	  /* where it began: code object and instruction offset */
	int lasti;
	int state;
	PyObject *end_code; /* where it ended (NULL while open) */
	int end_lasti;
	int cval;	   /* what the kind's C begin leaves for its end (an SRCU index);
			    * it fills the padding after end_lasti: no bigger scope */
	PyObject *end_how; /* str: how it ended ("leaving its with block", ...) */
	PyObject *data;	   /* what the kind's C hooks work on (a lock for a LockGuard) */
	long long number;  /* its number in messages (0: not numbered yet) */
	PyObject *sites;   /* Python's cache of its Site objects (kbind.lifetime), or NULL */
	struct kb_scope *prev, *next;
} kb_scope;

extern PyTypeObject kb_thread_type;
extern PyTypeObject kb_scope_type;
extern PyTypeObject kb_hooks_type;

/* The key of the thread token in each thread's state dict (interned). */
extern PyObject *kb_hp_key_thread;

/* The calling thread's token (borrowed), or NULL if it has none yet (no error). */
kb_thread *kb_hp_thread_if_any(void);
/* The calling thread's token (borrowed), made on first use; NULL on error. */
kb_thread *kb_current_thread(void);
/* thread.c: the module's thread part; lifetime.c: what a thread's exit does. */
int kb_hp_init_thread(PyObject *m);
void kb_hp_scopes_at_thread_exit(kb_thread *t);
/* hooks.c */
int kb_hp_init_hooks(PyObject *m);
/* NULL for None, else a new reference to @o. */
PyObject *kb_hp_none_to_null(PyObject *o);
/* ref.c */
int kb_hp_init_ref(PyObject *m);

/* Record the caller's site (kbind's own frames skipped): a new code reference. */
int kb_capture_site(PyObject **code, int *lasti);
/* Begin @s on the calling thread (hooks run); 0 or -1. */
int kb_scope_begin(kb_scope *s, kb_hooks *hooks, PyObject *args);
/* End @s, which must be open on the calling thread; @how is borrowed. */
int kb_scope_end(kb_scope *s, PyObject *how);

/* Call scope._kb_refuse(what, how): NULL with the kind's error, or, if the
 * kind waives the refusal, its result (a new reference). */
PyObject *kb_hp_scope_refuse(kb_scope *s, const char *what, PyObject *how);
/* End @s as its end() does: the kind's error unless it is open on this thread. */
int kb_hp_scope_end_checked(kb_scope *s, PyObject *how);

/* The hooks of a kind of scope (borrowed), or NULL with TypeError. */
kb_hooks *kb_hp_hooks_of(PyTypeObject *kind);

/* ref.c: a new reference of @type into @cell (or to @obj in it) bound to @scope. */
PyObject *kb_hp_ref_make(PyTypeObject *type, kb_scope *scope, PyObject *cell, PyObject *obj,
			 PyObject *policy);
/* Whether @v leaves a reference of @policy as it is (-1: error). */
int kb_hp_is_plain(PyObject *policy, PyObject *v);
int kb_hp_is_ref(PyObject *v);
int kb_hp_is_cell(PyObject *v);
/* The C base of references, and its dealloc (for seal()). */
extern PyTypeObject *kb_hp_ref_type_p;
void kb_hp_ref_dealloc(PyObject *r);
/* Free lists of sealed kinds (lifetime.c, ref.c). */
PyObject *kb_hp_scope_alloc(PyTypeObject *type);
PyObject *kb_hp_ref_alloc(PyTypeObject *type);
int kb_hp_ref_recycle(PyObject *r);
int kb_hp_is_sealed_ref_type(PyTypeObject *type);

/* lock_guard.c: the end of a LockGuard (hooks "lock"). */
int kb_hp_lock_end(kb_scope *s);

/* srcu_read.c: the begin and end of an SRCU reader (hooks "srcu_read"). */
int kb_hp_srcu_read_begin(kb_scope *s);
int kb_hp_srcu_read_end(kb_scope *s);

/* deref.c */
int kb_hp_init_deref(PyObject *m);

/* The C hooks of kbind's own kinds, by name (kinds.c); ends with a NULL name. */
struct kb_c_hooks {
	const char *name;
	int (*begin)(kb_scope *);
	int (*end)(kb_scope *);
};
extern const struct kb_c_hooks kb_hp_c_hooks[];

#endif /* KB_HP_LIFETIME_H */

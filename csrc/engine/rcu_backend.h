/* SPDX-License-Identifier: MIT */
/*
 * csrc/engine/rcu_backend.h - the boundary between kbind's RCU API and an engine.
 *
 * Like liburcu's struct rcu_flavor_struct: one table of operations per
 * grace-period engine ("backend").  csrc/engine/rcu_api.c defines every public
 * kb_rcu_*() function of csrc/kbind_api.h once, and does there what does
 * not depend on the engine: the registry of reader threads and their names,
 * read-side nesting counts, argument checks, KB_EDEADLK inside a read-side
 * section or on the callback thread, going offline around waits, deadlines,
 * the stall settings, call_rcu accounting (queued/invoked counts and
 * rcu_barrier()), the token channel and the busted-variant switch.  What is
 * left - how a thread reports, how grace periods are numbered, run and
 * waited for, how callbacks are queued - goes through the table below.
 *
 * Backends: csrc/engine/rcu.c (kb_rcu_builtin_backend, kbind's own QSBR engine)
 * and csrc/engine/rcu_liburcu.c (kb_rcu_liburcu_backend, liburcu's QSBR flavour,
 * loaded with dlopen()).  Adding one: write its table, give it a
 * KB_RCU_BACKEND_* number in csrc/kbind_api.h and list it in the backends[]
 * array of csrc/engine/rcu_api.c.
 */
#ifndef KB_RCU_BACKEND_H
#define KB_RCU_BACKEND_H

#include "rcu_inline.h"

#include <pthread.h>
#include <string.h>

/**
 * struct kb_rcu_backend - the operations of one grace-period engine.
 * @name: what kb_rcu_backend_name() returns ("builtin", "liburcu").
 * @load: make the engine usable (load a library); called at most once per
 *        selection, before any other operation.  Return KB_OK or KB_ENOENT
 *        (kb_rcu_backend_error() then says why).  NULL: nothing to load.
 * @register_thread: the calling thread (record @r, already in the registry,
 *        kb_rcu_self set) becomes a reader and comes online.
 * @unregister_thread: the calling thread (offline) stops being a reader.
 * @quiescent_state: report a quiescent state for @r (outside sections).
 * @thread_offline: @r stops holding up grace periods.
 * @thread_online: @r holds up grace periods again.
 * @read_lock: hook run after the shared nesting count is raised; NULL for
 *        QSBR engines (their read-side sections are empty).
 * @read_unlock: hook run before the count is lowered; NULL for QSBR.
 * @get_state: a cookie naming the first grace period that starts after
 *        the call (full barrier first, as get_state_synchronize_rcu()).
 * @poll_state: has the grace period of a cookie ended?  Acquire on true.
 * @wait_gp: wait until the cookie's grace period has ended or the absolute
 *        CLOCK_MONOTONIC @deadline (ns; -1: none) passed.  The caller is
 *        offline and outside sections.  Return KB_OK, KB_ETIMEDOUT, or
 *        KB_EAGAIN if a thread it needs cannot be started.
 * @gp_count: grace periods completed since the engine started.
 * @stalled_readers: as kb_rcu_stalled_readers() (registry lock not held).
 * @call_rcu: queue @head; head->func is set and the callback counted in
 *        kb_rcu_cb_queued.  The engine invokes it after a grace period on
 *        a thread where kb_rcu_on_cb_thread is true, and then reports it
 *        with kb_rcu_callbacks_done().  Return KB_OK, or KB_EAGAIN with
 *        nothing queued when the callback thread cannot be started.
 * @shutdown: stop the engine's callback thread if it can (no callback
 *        pending); KB_OK.
 * @fork_pause: before fork(), wait until the engine's threads hold nothing
 *        a child would need (may sleep; the forking thread holds the
 *        selection of forks, so at most one pause at a time).
 * @fork_prepare: before fork(), after the pause: take the engine's short
 *        locks (never sleeps long).
 * @fork_parent: in the parent after fork(): undo @fork_prepare and the pause.
 * @fork_child: in the child: the engine's threads are gone; reset what
 *        they owned and recover the callbacks they held.
 * @fork_drop_reader: in the child, before a dead thread's record is freed.
 * @restart_callbacks: start the callback thread if callbacks are queued
 *        and it does not run (in a child of fork()).
 * @usable: false when the backend refuses all but read-side sections (a
 *        child of fork() it cannot support); NULL: always usable.
 *
 * Every operation but @load may assume @load succeeded.  All are called
 * only by csrc/engine/rcu_api.c.
 */
struct kb_rcu_backend {
	const char *name;
	int (*load)(void);
	void (*register_thread)(struct kb_rcu_reader *r);
	void (*unregister_thread)(struct kb_rcu_reader *r);
	void (*quiescent_state)(struct kb_rcu_reader *r);
	void (*thread_offline)(struct kb_rcu_reader *r);
	void (*thread_online)(struct kb_rcu_reader *r);
	void (*read_lock)(void);
	void (*read_unlock)(void);
	uint64_t (*get_state)(void);
	bool (*poll_state)(uint64_t cookie);
	int (*wait_gp)(uint64_t cookie, int64_t deadline);
	uint64_t (*gp_count)(void);
	int (*stalled_readers)(kb_rcu_reader_info_t *out, int max);
	int (*call_rcu)(kb_rcu_head_t *head);
	int (*shutdown)(void);
	/* fork() support (csrc/engine/rcu_api.c's pthread_atfork handlers). */
	void (*fork_pause)(void);
	void (*fork_prepare)(void);
	void (*fork_parent)(void);
	void (*fork_child)(void);
	void (*fork_drop_reader)(struct kb_rcu_reader *r);
	int (*restart_callbacks)(void);
	bool (*usable)(void);
};

extern const struct kb_rcu_backend kb_rcu_builtin_backend;
extern const struct kb_rcu_backend kb_rcu_liburcu_backend;

/* ------------------------------------------- shared state (csrc/engine/rcu_api.c) */

/* Why the last @load failed (written by @load, under the selection lock). */
extern char kb_rcu_load_error[256];

/* The registry: a circular list of records under kb_rcu_registry_lock. */
extern pthread_mutex_t kb_rcu_registry_lock;
extern struct kb_rcu_reader kb_rcu_registry;

/* The busted variant in use (KB_RCU_BUSTED_*); read with KB_READ_ONCE. */
extern int kb_rcu_busted;

/* Stall settings and the count of stalls seen (kb_rcu_set_stall_*()). */
extern int64_t kb_rcu_stall_timeout_ns;
extern bool kb_rcu_stall_verbose;
extern uint64_t kb_rcu_stall_count_;

/* call_rcu accounting: callbacks counted by kb_call_rcu() / invoked. */
extern uint64_t kb_rcu_cb_queued;
extern uint64_t kb_rcu_cb_invoked;
/* True on a thread that invokes call_rcu callbacks. */
extern _Thread_local bool kb_rcu_on_cb_thread;

void kb_rcu_callbacks_done(uint64_t n, bool tokens);
void kb_rcu_token_done(kb_rcu_head_t *head);
void kb_rcu_print_stalled(uint64_t gp, int64_t age_ns);

/**
 * kb_rcu_left() - time left until @deadline (-1: none); 0 once passed.
 * @deadline: absolute CLOCK_MONOTONIC time in ns, or -1.
 */
static inline int64_t kb_rcu_left(int64_t deadline)
{
	int64_t left;

	if (deadline < 0)
		return -1;
	left = deadline - kb_now_ns();
	return left > 0 ? left : 0;
}

/**
 * kb_rcu_start_thread() - start an engine thread with every signal blocked.
 * @thread: filled with the new thread.
 * @fn: its body.
 * @name: its name (at most 15 bytes).
 *
 * The thread must not take signals meant for the caller (Python's SIGINT).
 * Context: any.
 * Return: KB_OK, or KB_EAGAIN if the thread cannot be created (no memory
 * for its stack, a thread limit): the caller reports it, nothing aborts.
 */
int kb_rcu_start_thread(pthread_t *thread, void *(*fn)(void *), const char *name);

/**
 * kb_rcu_report_stalled() - count reader @r as stalled; describe it if room.
 * @out: the caller's array (may be NULL), @max: its length, @n: readers
 * counted so far, @r: the stalled reader, @age_ns: how long the grace
 * period has been running.
 *
 * Context: registry lock held.  Return: @n + 1.
 */
static inline int kb_rcu_report_stalled(kb_rcu_reader_info_t *out, int max, int n,
					const struct kb_rcu_reader *r, int64_t age_ns)
{
	if (out && n < max) {
		out[n].tid = r->tid;
		out[n].blocked_ns = age_ns;
		memcpy(out[n].name, r->name, sizeof(out[n].name));
	}
	return n + 1;
}

#endif /* KB_RCU_BACKEND_H */

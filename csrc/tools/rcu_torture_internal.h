/* SPDX-License-Identifier: MIT */
/*
 * csrc/tools/rcu_torture_internal.h - what the two halves of the RCU torture
 * share: csrc/tools/rcu_torture.c (elements, readers, updaters, the driver)
 * and csrc/tools/rcu_torture_checks.c (the rcu_barrier() test, the callback
 * flood, the stall check, the reader churn).  Not part of the API.
 */
#ifndef KB_RCU_TORTURE_INTERNAL_H
#define KB_RCU_TORTURE_INTERNAL_H

/* Count read-side nesting in the inline fast path too (see rcu_inline.h). */
#define KB_RCU_DEBUG 1
#include "engine/rcu_inline.h"

#include <pthread.h>

#define KB_TORTURE_POOL 16
#define KB_TORTURE_SRCU_POOL 4
#define KB_TORTURE_BARRIER_CBS 32
#define KB_TORTURE_STALL_NAME "rcu_torture_stall"
#define KB_TORTURE_READER_NAME "rcu_torture_reader"

struct kb_torture;

/**
 * struct kb_torture_elem - one element of a pool.
 * @rh: for call_rcu() (first, so the callback can cast back).
 * @t: the run it belongs to.
 * @age: 0 while published, 1 once retired, +1 per later grace period.
 * @freed: 1 once reclaimed (until republished).
 * @gen: incremented each time it is published.
 * @magic: KB_TORTURE_MAGIC while live, KB_TORTURE_POISON once freed.
 * @cookie: polled reclamation: the grace period whose end ages it next.
 * @next: pool free list / sync pipeline link (under the owning lock).
 */
struct kb_torture_elem {
	kb_rcu_head_t rh;
	struct kb_torture *t;
	uint32_t age;
	uint32_t freed;
	uint32_t gen;
	uint32_t pad__;
	uint64_t magic;
	uint64_t cookie;
	struct kb_torture_elem *next;
};

#define KB_TORTURE_MAGIC 0x6b62696e64726375ULL
#define KB_TORTURE_POISON 0xdeaddeaddeaddeadULL

/* What one reader thread saw, written only by that reader. */
struct kb_torture_reader_stats {
	int kind; /* bit number of its KB_RCU_TORTURE_READER_* */
	uint64_t reads;
	uint64_t pipe[KB_RCU_TORTURE_PIPE_LEN];
	uint64_t batch[KB_RCU_TORTURE_PIPE_LEN];
	uint64_t freed_seen;
	uint64_t too_old;
	kb_rcu_torture_churn_t churn; /* churn_stats[]: @exits counts the threads */
} __attribute__((aligned(64)));

/* One call_rcu() head of the flood or the barrier test. */
struct kb_torture_cb {
	kb_rcu_head_t rh;
	struct kb_torture *t;
	struct kb_torture_cb *next;
};

struct kb_torture {
	kb_rcu_torture_config_t cfg;
	int kinds[KB_RCU_TORTURE_NKINDS]; /* the bit numbers selected, in order */
	int nkinds;
	void *cur; /* the RCU-protected pointer */
	struct kb_torture_elem pool[KB_TORTURE_POOL];
	pthread_mutex_t pool_lock;
	struct kb_torture_elem *free_list; /* pool_lock */
	pthread_mutex_t update_lock;
	struct kb_torture_elem *sync_pipe; /* update_lock */
	/* SRCU readers: their own pointer, pool and domain. */
	kb_srcu_t srcu;
	void *srcu_cur;
	struct kb_torture_elem srcu_pool[KB_TORTURE_SRCU_POOL];
	uint64_t srcu_updates;
	uint32_t go;   /* futex: threads start when 1 */
	uint32_t stop; /* futex: everyone stops when 1 */
	int64_t start_ns; /* written before go */
	int64_t deadline_ns;
	uint64_t updates;
	uint64_t callbacks;
	uint64_t barriers;
	uint64_t outstanding; /* call_rcu chains not yet finished */
	uint64_t circulation[KB_RCU_TORTURE_PIPE_LEN + 1];
	kb_rcu_torture_updates_t mix; /* atomics */
	struct kb_torture_reader_stats *rstats;
	/* Readers started by the churn, folded in as they exit (stats_lock). */
	pthread_mutex_t stats_lock;
	struct kb_torture_reader_stats churn_stats[KB_RCU_TORTURE_NKINDS];
	uint64_t churn_exits;
	uint64_t churn_restarts;
	/* The rcu_barrier() test. */
	struct kb_torture_cb bar_cbs[KB_TORTURE_BARRIER_CBS];
	uint64_t bar_done;    /* callbacks of the current test that ran */
	uint64_t bar_pending; /* queued, not yet run */
	kb_rcu_torture_barrier_t bar; /* barrier thread only */
	/* The flood. */
	struct kb_torture_cb *flood_cbs; /* KB_RCU_TORTURE_FLOOD_CAP of them */
	pthread_mutex_t flood_lock;
	struct kb_torture_cb *flood_free; /* flood_lock: invoked, reusable */
	uint64_t flood_invoked;
	kb_rcu_torture_flood_t flood; /* flood thread only, until joined */
	/* The stall. */
	uint32_t stall_state; /* futex: KB_TORTURE_STALL_* */
	int64_t stall_tid;
	int64_t stall_begin_ns;
	kb_rcu_torture_stall_t stall; /* the driver's, except @held_ns, @tid */
};

#define KB_TORTURE_STALL_IDLE 0
#define KB_TORTURE_STALL_HOLDING 1
#define KB_TORTURE_STALL_RELEASED 2

/* csrc/tools/rcu_torture.c */
bool kb_torture_stopped(struct kb_torture *t);
void kb_torture_wait_go(struct kb_torture *t);
uint64_t kb_torture_rand(uint64_t *s);
void kb_torture_nap(struct kb_torture *t, int64_t ns);
void kb_torture_read_loop(struct kb_torture *t, int kind, uint64_t seed,
			  struct kb_torture_reader_stats *st, uint64_t max_sections);

/* csrc/tools/rcu_torture_checks.c */
void *kb_torture_barrier_tester(void *arg);
void *kb_torture_flooder(void *arg);
void *kb_torture_staller(void *arg);
void *kb_torture_churner(void *arg);
void kb_torture_stall_monitor(struct kb_torture *t);
bool kb_torture_stall_pending(struct kb_torture *t);
void kb_torture_flood_drain(struct kb_torture *t);

#endif /* KB_RCU_TORTURE_INTERNAL_H */

/* SPDX-License-Identifier: MIT */
/*
 * csrc/tools/rculist_torture.c - an rcutorture-style stress test of the RCU
 * list (csrc/engine/rculist.c) over the RCU engine (csrc/engine/rcu_api.c).
 *
 * In the spirit of rcutorture (Documentation/RCU/torture.rst), shaped like
 * the kernel's RCU-list users (Documentation/RCU/listRCU.rst); docs/rcu.md
 * describes the run.  Each linked element of a pool is on one list and on
 * the hash bucket of its key.  Updaters, serialized by one spinlock, add,
 * delete and replace elements; a removed element is retired with age 1,
 * ages by one per later grace period (synchronize_rcu() cookies, or call_rcu
 * callbacks that re-queue themselves, as in csrc/tools/rcu_torture.c) and is
 * freed at age KB_RCULIST_TORTURE_PIPE_LEN: poisoned and put at the tail of
 * the pool.  Readers traverse the list or a bucket, one traversal per
 * read-side section, and check each element twice: its state word (the slab
 * poisons of include/linux/poison.h once freed or before initialisation),
 * its generation (reused?) and its age (>= 2: a grace period did not wait).
 *
 * The busted variants break the updaters' side of the contract: FREE_NO_GP
 * frees a removed element at once, PUBLISH_BEFORE_INIT links a new element
 * first and writes its fields later (what a plain store instead of the
 * release permits; done for real, so x86-64 shows it too).  Elements are
 * never returned to malloc, so a late reader reads poison, not freed memory,
 * and a traversal that does not get back to its head within a bound (a
 * reused element's links can send a reader round) stops and counts as lost.
 * Every shared field is accessed with KB_READ_ONCE/KB_WRITE_ONCE, atomics,
 * the list primitives or under a lock: no data race in the C11 sense, even
 * in the busted variants.
 */
/* Count read-side nesting in the inline fast path too (see rcu_inline.h). */
#define KB_RCU_DEBUG 1
#include "engine/rcu_inline.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define KB_RCULIST_POOL 256
#define KB_RCULIST_BUCKETS 4
#define KB_RCULIST_LOW 8   /* the updaters keep the list between these lengths */
#define KB_RCULIST_HIGH 32
#define KB_RCULIST_STEP_BOUND (2 * KB_RCULIST_POOL + 4)
#define KB_RCULIST_MAX_NS (3600LL * 1000000000LL)
#define KB_RCULIST_INIT_DELAY_NS 2000
#define KB_RCULIST_LIVE 0x6b62726375736c74ULL
#define KB_RCULIST_POISON_FREE 0x6b6b6b6b6b6b6b6bULL  /* POISON_FREE */
#define KB_RCULIST_POISON_INUSE 0x5a5a5a5a5a5a5a5aULL /* POISON_INUSE */
#define KB_PIPE KB_RCULIST_TORTURE_PIPE_LEN

#define kb_rculist_entry(ptr, member) \
	((struct kb_rculist_elem *)((char *)(ptr) - offsetof(struct kb_rculist_elem, member)))

struct kb_rculist_torture;

/*
 * One element of the pool.  What readers load comes first, on its own cache
 * line: the two nodes, @state (KB_RCULIST_LIVE, _POISON_INUSE once allocated,
 * _POISON_FREE once freed), @gen (new at each initialisation) and @age (0
 * while linked, 1 once removed, +1 per later grace period).  The second line
 * is the updaters' and the callbacks' (@slot, its index in t->live, too):
 * queueing a callback or ageing a retired element takes no line from readers.
 * @link: the pool FIFO (pool lock) or the sync pipeline (update lock).
 */
struct kb_rculist_elem {
	kb_list_head_t list;
	kb_hlist_node_t hnode;
	uint64_t state;
	uint64_t gen;
	uint32_t age;
	int32_t slot;
	kb_rcu_head_t rh __attribute__((aligned(64)));
	struct kb_rculist_torture *t;
	uint64_t key;
	uint64_t cookie;
	struct kb_rculist_elem *link;
};

/* One thread's counts, written only by that thread (a reader: at its end). */
struct kb_rculist_stats {
	uint64_t reads, hlist_reads, visits;
	uint64_t pipe[KB_PIPE];
	uint64_t freed_seen, uninit_seen, too_old, lost;
	uint64_t adds, deletes, replaces;
} __attribute__((aligned(64)));

/*
 * The run.  Readers load the first group (and the lists' heads, which the
 * updaters write as the kernel's do) and @stop; the updaters' bookkeeping
 * and the counters they bump live on other cache lines, so that an update
 * costs readers only the lines the list operation itself writes.
 */
struct kb_rculist_torture {
	kb_rculist_torture_config_t cfg;
	kb_list_head_t head;
	kb_hlist_head_t buckets[KB_RCULIST_BUCKETS];
	uint32_t go __attribute__((aligned(64))); /* futex: threads start when 1 */
	uint32_t stop; /* futex: everyone stops when 1 */
	kb_spinlock_t update_lock __attribute__((aligned(64)));
	int nlive, max_len;                            /* update_lock */
	uint64_t gen;                                  /* update_lock */
	struct kb_rculist_elem *sync_pipe;             /* update_lock */
	struct kb_rculist_elem *live[KB_RCULIST_POOL]; /* update_lock */
	kb_spinlock_t pool_lock __attribute__((aligned(64)));
	struct kb_rculist_elem *free_head, *free_tail; /* pool_lock */
	int32_t status __attribute__((aligned(64))); /* first failure of a thread (KB_OK: none) */
	uint64_t updates, callbacks, refills, outstanding; /* atomics */
	struct kb_rculist_elem pool[KB_RCULIST_POOL];
};

struct kb_rculist_thread {
	struct kb_rculist_stats st;
	struct kb_rculist_torture *t;
	pthread_t tid;
	int32_t index;		/* for kb_torture_pin() */
	uint64_t seed;
};

static uint64_t kb_rculist_rand(uint64_t *s)
{
	/* xorshift64*: cheap, per thread, reproducible */
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ULL;
}

static bool kb_rculist_stopped(struct kb_rculist_torture *t)
{
	return KB_READ_ONCE(t->stop) != 0;
}

static void kb_rculist_set_stop(struct kb_rculist_torture *t)
{
	if (__atomic_exchange_n(&t->stop, 1, __ATOMIC_SEQ_CST) == 0)
		kb_futex_wake(&t->stop, INT_MAX);
}

/* A thread could not go on (no RCU registration, a grace period refused). */
static void kb_rculist_fail(struct kb_rculist_torture *t, int status)
{
	int32_t none = KB_OK;

	__atomic_compare_exchange_n(&t->status, &none, status, false, __ATOMIC_RELAXED,
				    __ATOMIC_RELAXED);
	kb_rculist_set_stop(t);
}

static void kb_rculist_wait_go(struct kb_rculist_torture *t)
{
	while (!__atomic_load_n(&t->go, __ATOMIC_ACQUIRE))
		kb_futex_wait(&t->go, 0, -1);
}

/* ------------------------------------------------------------- the pool */

/* Free: poison, then queue at the tail, so it stays poisoned for a while. */
static void kb_rculist_free(struct kb_rculist_torture *t, struct kb_rculist_elem *e)
{
	KB_WRITE_ONCE(e->state, KB_RCULIST_POISON_FREE);
	kb_spin_lock(&t->pool_lock);
	e->link = NULL;
	if (t->free_tail)
		t->free_tail->link = e;
	else
		t->free_head = e;
	t->free_tail = e;
	kb_spin_unlock(&t->pool_lock);
}

/* Allocate: the slab's use-before-initialisation poison until init. */
static struct kb_rculist_elem *kb_rculist_alloc(struct kb_rculist_torture *t)
{
	struct kb_rculist_elem *e;

	kb_spin_lock(&t->pool_lock);
	e = t->free_head;
	if (e) {
		t->free_head = e->link;
		if (!t->free_head)
			t->free_tail = NULL;
		KB_WRITE_ONCE(e->state, KB_RCULIST_POISON_INUSE);
	}
	kb_spin_unlock(&t->pool_lock);
	return e;
}

/* Write the element's fields; the state word last.  Under update_lock. */
static void kb_rculist_init_elem(struct kb_rculist_torture *t, struct kb_rculist_elem *e,
				 uint64_t key)
{
	KB_WRITE_ONCE(e->age, 0);
	KB_WRITE_ONCE(e->key, key);
	KB_WRITE_ONCE(e->gen, ++t->gen);
	KB_WRITE_ONCE(e->state, KB_RCULIST_LIVE);
}

/* ---------------------------------------------------------- reclamation */

/* call_rcu reclamation: one grace period has passed since the last step. */
static void kb_rculist_cb(kb_rcu_head_t *head)
{
	struct kb_rculist_elem *e = kb_rculist_entry(head, rh);
	struct kb_rculist_torture *t = e->t;
	uint32_t age = KB_READ_ONCE(e->age) + 1;

	__atomic_fetch_add(&t->callbacks, 1, __ATOMIC_RELAXED);
	KB_WRITE_ONCE(e->age, age);
	if (age < KB_PIPE && kb_call_rcu(head, kb_rculist_cb) == KB_OK)
		return;
	/* Freed after its last grace period (or, if the queue refused it,
	 * after the one that just ended: still safe). */
	kb_rculist_free(t, e);
	__atomic_fetch_sub(&t->outstanding, 1, __ATOMIC_RELEASE);
}

/*
 * Sync reclamation: age every retired element whose grace period has
 * ended, and free those that reached the end of the pipeline.
 */
static void kb_rculist_age_sync_pipe(struct kb_rculist_torture *t)
{
	struct kb_rculist_elem **pp, *e;

	kb_spin_lock(&t->update_lock);
	pp = &t->sync_pipe;
	while ((e = *pp)) {
		uint32_t age;

		if (!kb_poll_state_synchronize_rcu(e->cookie)) {
			pp = &e->link;
			continue;
		}
		age = KB_READ_ONCE(e->age) + 1;
		KB_WRITE_ONCE(e->age, age);
		if (age >= KB_PIPE) {
			*pp = e->link;
			kb_rculist_free(t, e);
		} else {
			e->cookie = kb_get_state_synchronize_rcu();
			pp = &e->link;
		}
	}
	kb_spin_unlock(&t->update_lock);
}

/* Wait for a grace period; a refusal ends the run (nothing may be freed). */
static bool kb_rculist_sync(struct kb_rculist_torture *t)
{
	int rc = kb_synchronize_rcu();

	if (rc != KB_OK) {
		kb_rculist_fail(t, rc);
		return false;
	}
	kb_rculist_age_sync_pipe(t);
	return true;
}

/* The pool is empty: push reclamation forward (as rcu_torture's refill). */
static void kb_rculist_refill(struct kb_rculist_torture *t)
{
	bool empty;

	__atomic_fetch_add(&t->refills, 1, __ATOMIC_RELAXED);
	if (!kb_rculist_sync(t))
		return;
	kb_spin_lock(&t->pool_lock);
	empty = t->free_head == NULL;
	kb_spin_unlock(&t->pool_lock);
	if (empty && __atomic_load_n(&t->outstanding, __ATOMIC_ACQUIRE) > 0)
		kb_rcu_barrier();
	else if (empty)
		sched_yield(); /* other updaters hold the elements for now */
}

/* ------------------------------------------------------------- readers */

/* Check one element the reader reached; count what is wrong with it. */
static void kb_rculist_visit(struct kb_rculist_stats *st, struct kb_rculist_elem *e,
			     int spin)
{
	uint64_t state = KB_READ_ONCE(e->state);
	uint64_t gen = KB_READ_ONCE(e->gen);
	uint32_t age;

	st->visits++;
	if (state != KB_RCULIST_LIVE) {
		if (state == KB_RCULIST_POISON_INUSE)
			st->uninit_seen++;
		else
			st->freed_seen++;
		return;
	}
	for (int k = 0; k < spin; k++)
		kb_cpu_relax();
	age = KB_READ_ONCE(e->age);
	if (KB_READ_ONCE(e->state) != KB_RCULIST_LIVE || KB_READ_ONCE(e->gen) != gen)
		st->freed_seen++;
	st->pipe[age < KB_PIPE ? age : KB_PIPE - 1]++;
	if (age >= 2)
		st->too_old++;
}

static void *kb_rculist_reader(void *arg)
{
	struct kb_rculist_thread *th = arg;
	struct kb_rculist_torture *t = th->t;
	struct kb_rculist_stats st;
	const int spin = t->cfg.read_spin;
	int rc;

	(void)kb_torture_pin(th->index);
	memset(&st, 0, sizeof(st));
	rc = kb_rcu_register_thread();
	if (rc != KB_OK) {
		kb_rculist_fail(t, rc);
		return NULL;
	}
	kb_rcu_thread_offline(); /* do not hold up anyone while waiting */
	kb_rculist_wait_go(t);
	kb_rcu_thread_online();
	while (!kb_rculist_stopped(t)) {
		int steps = 0;

		kb_rcu_read_lock();
		if (st.reads & 1) {
			/* hlist_for_each_entry_rcu() over one bucket */
			const kb_hlist_head_t *h = &t->buckets[(st.reads >> 1) % KB_RCULIST_BUCKETS];
			kb_hlist_node_t *n;

			for (n = kb_hlist_first_rcu(h); n; n = kb_hlist_next_rcu(n)) {
				if (++steps > KB_RCULIST_STEP_BOUND) {
					st.lost++;
					break;
				}
				kb_rculist_visit(&st, kb_rculist_entry(n, hnode), spin);
			}
			st.hlist_reads++;
		} else {
			/* list_for_each_entry_rcu() */
			kb_list_head_t *p;

			for (p = kb_list_next_rcu(&t->head); p != &t->head; p = kb_list_next_rcu(p)) {
				if (++steps > KB_RCULIST_STEP_BOUND) {
					st.lost++;
					break;
				}
				kb_rculist_visit(&st, kb_rculist_entry(p, list), spin);
			}
		}
		kb_rcu_read_unlock();
		st.reads++;
		kb_rcu_quiescent_state();
		if ((st.reads & 255) == 0) {
			/* Exercise the offline/online path too. */
			kb_rcu_thread_offline();
			kb_rcu_thread_online();
		}
	}
	(void)kb_rcu_unregister_thread();
	th->st = st;
	return NULL;
}

/* ------------------------------------------------------------ updaters */

enum kb_rculist_op { KB_RCULIST_ADD, KB_RCULIST_DEL, KB_RCULIST_REPLACE };

static enum kb_rculist_op kb_rculist_pick(struct kb_rculist_torture *t, uint64_t r)
{
	if (t->nlive <= KB_RCULIST_LOW)
		return KB_RCULIST_ADD;
	if (t->nlive >= KB_RCULIST_HIGH)
		return r % 2 ? KB_RCULIST_DEL : KB_RCULIST_REPLACE;
	return (enum kb_rculist_op)(r % 3);
}

/* Link @e (initialised, or not in the busted variant) on the list and its bucket. */
static void kb_rculist_link(struct kb_rculist_torture *t, struct kb_rculist_elem *e, uint64_t r)
{
	kb_hlist_head_t *h = &t->buckets[KB_READ_ONCE(e->key) % KB_RCULIST_BUCKETS];
	kb_hlist_node_t *first = kb_hlist_first_rcu(h);
	int rc;

	rc = (r & 1) ? kb_list_add_tail_rcu(&e->list, &t->head)
		     : kb_list_add_rcu(&e->list, &t->head);
	switch (first ? (r >> 1) % 4 : 0) {
	case 1:
		rc |= kb_hlist_add_tail_rcu(&e->hnode, h);
		break;
	case 2:
		rc |= kb_hlist_add_before_rcu(&e->hnode, first);
		break;
	case 3:
		rc |= kb_hlist_add_behind_rcu(&e->hnode, first);
		break;
	default:
		rc |= kb_hlist_add_head_rcu(&e->hnode, h);
	}
	if (rc != KB_OK)
		kb_rculist_fail(t, KB_EINVAL); /* a bug in csrc/engine/rculist.c */
}

/* Take @old out of the updaters' bookkeeping and retire it (age 1). */
static void kb_rculist_retire(struct kb_rculist_torture *t, struct kb_rculist_elem *old,
			      struct kb_rculist_elem *replacement)
{
	int slot = old->slot;

	if (replacement) {
		replacement->slot = slot;
		t->live[slot] = replacement;
	} else {
		t->live[slot] = t->live[--t->nlive];
		t->live[slot]->slot = slot;
	}
	KB_WRITE_ONCE(old->age, 1);
}

/*
 * One add, delete or replace, under update_lock.  Return false if the pool
 * had no element for it; else true, with *@oldp the element it removed
 * (NULL for an add), queued on the sync pipeline if it is to wait there.
 */
static bool kb_rculist_update_locked(struct kb_rculist_torture *t, struct kb_rculist_thread *th,
				     uint64_t r, struct kb_rculist_elem **oldp, bool *use_cb)
{
	const int busted = t->cfg.busted;
	enum kb_rculist_op op = kb_rculist_pick(t, r);
	struct kb_rculist_elem *e = NULL, *old = NULL;

	if (op != KB_RCULIST_DEL && !(e = kb_rculist_alloc(t)))
		return false;
	r >>= 2;
	if (op != KB_RCULIST_ADD)
		old = t->live[(r >> 8) % (uint64_t)t->nlive];
	if (op == KB_RCULIST_ADD) {
		if (busted == KB_RCULIST_BUSTED_PUBLISH_BEFORE_INIT) {
			KB_WRITE_ONCE(e->key, r >> 16); /* the bucket; nothing else yet */
			kb_rculist_link(t, e, r);
			kb_ndelay(KB_RCULIST_INIT_DELAY_NS);
		}
		kb_rculist_init_elem(t, e, r >> 16);
		if (busted != KB_RCULIST_BUSTED_PUBLISH_BEFORE_INIT)
			kb_rculist_link(t, e, r);
		e->slot = t->nlive;
		t->live[t->nlive++] = e;
		if (t->nlive > t->max_len)
			t->max_len = t->nlive;
		th->st.adds++;
	} else if (op == KB_RCULIST_DEL) {
		if ((kb_list_del_rcu(&old->list) | kb_hlist_del_rcu(&old->hnode)) != KB_OK)
			kb_rculist_fail(t, KB_EINVAL);
		kb_rculist_retire(t, old, NULL);
		th->st.deletes++;
	} else {
		/* Same key: the replacement stays on the same bucket. */
		kb_rculist_init_elem(t, e, KB_READ_ONCE(old->key));
		if ((kb_list_replace_rcu(&old->list, &e->list) |
		     kb_hlist_replace_rcu(&old->hnode, &e->hnode)) != KB_OK)
			kb_rculist_fail(t, KB_EINVAL);
		kb_rculist_retire(t, old, e);
		th->st.replaces++;
	}
	*use_cb = t->cfg.reclaim == KB_RCU_TORTURE_MIX ? (r >> 40) & 1
						       : t->cfg.reclaim == KB_RCU_TORTURE_CALL;
	if (old && !*use_cb && busted != KB_RCULIST_BUSTED_FREE_NO_GP) {
		old->cookie = kb_get_state_synchronize_rcu();
		old->link = t->sync_pipe;
		t->sync_pipe = old;
	}
	*oldp = old;
	return true;
}

/* Free @old after its grace periods (or at once, in the busted variant). */
static bool kb_rculist_reclaim(struct kb_rculist_torture *t, struct kb_rculist_elem *old,
			       bool use_cb)
{
	if (t->cfg.busted == KB_RCULIST_BUSTED_FREE_NO_GP) {
		kb_rculist_free(t, old); /* the bug: no grace period */
		return true;
	}
	if (!use_cb)
		return kb_rculist_sync(t); /* ages the pipeline @old is on */
	__atomic_fetch_add(&t->outstanding, 1, __ATOMIC_RELAXED);
	if (kb_call_rcu(&old->rh, kb_rculist_cb) == KB_OK)
		return true;
	/* No callback thread: wait here, then free. */
	__atomic_fetch_sub(&t->outstanding, 1, __ATOMIC_RELAXED);
	if (!kb_rculist_sync(t))
		return false;
	kb_rculist_free(t, old);
	return true;
}

static void *kb_rculist_updater(void *arg)
{
	struct kb_rculist_thread *th = arg;
	struct kb_rculist_torture *t = th->t;

	(void)kb_torture_pin(th->index);
	kb_rculist_wait_go(t);
	while (!kb_rculist_stopped(t)) {
		struct kb_rculist_elem *old;
		bool use_cb, done;
		uint64_t n;

		kb_spin_lock(&t->update_lock);
		done = kb_rculist_update_locked(t, th, kb_rculist_rand(&th->seed), &old, &use_cb);
		kb_spin_unlock(&t->update_lock);
		if (!done) {
			kb_rculist_refill(t);
			continue;
		}
		if (old && !kb_rculist_reclaim(t, old, use_cb))
			break;
		n = __atomic_add_fetch(&t->updates, 1, __ATOMIC_RELAXED);
		if (t->cfg.max_updates > 0 && n >= (uint64_t)t->cfg.max_updates)
			kb_rculist_set_stop(t);
	}
	return NULL;
}

/* ----------------------------------------------------------------- run */

/* calloc() for the cache-line-aligned structures above (malloc() aligns to 16). */
static void *kb_rculist_zalloc(size_t size)
{
	void *p;

	size = (size + 63) & ~(size_t)63; /* aligned_alloc() wants a multiple */
	p = aligned_alloc(64, size);
	if (p)
		memset(p, 0, size);
	return p;
}

static bool kb_rculist_config_ok(const kb_rculist_torture_config_t *cfg)
{
	return cfg->readers >= 1 && cfg->readers <= KB_RCULIST_TORTURE_MAX_THREADS &&
	       cfg->updaters >= 0 && cfg->updaters <= KB_RCULIST_TORTURE_MAX_THREADS &&
	       cfg->busted >= KB_RCULIST_BUSTED_NONE && cfg->busted <= KB_RCULIST_BUSTED_MAX &&
	       (cfg->busted == KB_RCULIST_BUSTED_NONE || cfg->updaters > 0) &&
	       cfg->reclaim >= KB_RCU_TORTURE_SYNC && cfg->reclaim <= KB_RCU_TORTURE_MIX &&
	       cfg->read_spin >= 0 && cfg->read_spin <= 100000 && cfg->duration_ns > 0 &&
	       cfg->duration_ns <= KB_RCULIST_MAX_NS && cfg->max_updates >= 0;
}

/* The list before any thread runs: half-way between the bounds, spread on the buckets. */
static void kb_rculist_setup(struct kb_rculist_torture *t)
{
	int i;

	kb_list_init(&t->head);
	for (i = 0; i < KB_RCULIST_BUCKETS; i++)
		kb_hlist_head_init(&t->buckets[i]);
	kb_spin_lock_init(&t->update_lock);
	kb_spin_lock_init(&t->pool_lock);
	for (i = 0; i < KB_RCULIST_POOL; i++) {
		struct kb_rculist_elem *e = &t->pool[i];

		e->t = t;
		kb_list_init(&e->list);
		kb_hlist_node_init(&e->hnode);
		kb_rculist_free(t, e);
	}
	while (t->nlive < (KB_RCULIST_LOW + KB_RCULIST_HIGH) / 2) {
		struct kb_rculist_elem *e = kb_rculist_alloc(t);

		kb_rculist_init_elem(t, e, (uint64_t)t->nlive);
		(void)kb_list_add_tail_rcu(&e->list, &t->head);
		(void)kb_hlist_add_head_rcu(&e->hnode, &t->buckets[e->key % KB_RCULIST_BUCKETS]);
		e->slot = t->nlive;
		t->live[t->nlive++] = e;
	}
	t->max_len = t->nlive;
}

static void kb_rculist_collect(struct kb_rculist_torture *t, const struct kb_rculist_thread *th,
			       int created, kb_rculist_torture_result_t *res)
{
	for (int i = 0; i < created; i++) {
		const struct kb_rculist_stats *st = &th[i].st;

		res->reads += st->reads;
		res->hlist_reads += st->hlist_reads;
		res->visits += st->visits;
		for (int j = 0; j < KB_PIPE; j++)
			res->pipe[j] += st->pipe[j];
		res->freed_seen += st->freed_seen;
		res->uninit_seen += st->uninit_seen;
		res->too_old += st->too_old;
		res->lost += st->lost;
		res->adds += st->adds;
		res->deletes += st->deletes;
		res->replaces += st->replaces;
	}
	res->updates = res->adds + res->deletes + res->replaces;
	res->callbacks = __atomic_load_n(&t->callbacks, __ATOMIC_RELAXED);
	res->refills = __atomic_load_n(&t->refills, __ATOMIC_RELAXED);
	res->errors = res->freed_seen + res->uninit_seen + res->too_old + res->lost;
	res->max_len = t->max_len;
}

/**
 * kb_rculist_torture() - run list readers against list updaters.
 * @cfg: what to run (see struct kb_rculist_torture_config).
 * @res: filled with what was observed.
 *
 * Creates the reader and updater threads, runs until @cfg->duration_ns has
 * passed, @cfg->max_updates updates were made or kb_torture_request_stop()
 * was called, then drains the run's call_rcu callbacks before returning.
 * Uses the RCU backend in use, whatever it is; never changes it.
 * Context: may sleep for the duration; not from a call_rcu callback, not
 * inside a read-side section.
 * Return: KB_OK (check @res->errors), KB_EINVAL (a bad configuration),
 * KB_ENOTSUP (this process cannot wait for grace periods: a child of fork()
 * over liburcu), KB_ENOMEM, KB_EAGAIN (a thread could not be created), or
 * the status of an RCU call that failed in a thread (the counts are then
 * those of the run until then).
 */
int kb_rculist_torture(const kb_rculist_torture_config_t *cfg, kb_rculist_torture_result_t *res)
{
	struct kb_rculist_torture *t;
	struct kb_rculist_thread *th;
	int nthreads, created = 0, ret = KB_OK, i;
	uint64_t gp0;
	int64_t start, deadline;

	if (!cfg || !res || !kb_rculist_config_ok(cfg))
		return KB_EINVAL;
	if (!kb_rcu_backend_usable())
		return KB_ENOTSUP;
	memset(res, 0, sizeof(*res));
	nthreads = cfg->readers + cfg->updaters;
	t = kb_rculist_zalloc(sizeof(*t));
	th = kb_rculist_zalloc((size_t)nthreads * sizeof(*th));
	if (!t || !th) {
		free(t);
		free(th);
		return KB_ENOMEM;
	}
	t->cfg = *cfg;
	kb_rculist_setup(t);
	gp0 = kb_rcu_gp_count();

	for (i = 0; i < nthreads; i++) {
		bool reader = i < cfg->readers;

		th[i].t = t;
		th[i].index = i;
		th[i].seed = (cfg->seed + 1) * 0x9e3779b97f4a7c15ULL + (uint64_t)i;
		if (pthread_create(&th[i].tid, NULL,
				   reader ? kb_rculist_reader : kb_rculist_updater, &th[i]) != 0) {
			ret = KB_EAGAIN;
			kb_rculist_set_stop(t);
			break;
		}
		created++;
	}
	start = kb_now_ns();
	deadline = kb_deadline_after(start, cfg->duration_ns);
	/* Release: the set-up above before every thread's first access. */
	__atomic_store_n(&t->go, 1, __ATOMIC_RELEASE);
	kb_futex_wake(&t->go, INT_MAX);
	while (!kb_rculist_stopped(t)) {
		int64_t left = deadline - kb_now_ns();

		if (left <= 0 || kb_torture_stop_requested())
			break;
		/* Sliced only so a stop request (Ctrl-C) ends the run promptly. */
		kb_futex_wait(&t->stop, 0, left < 50000000 ? left : 50000000);
	}
	res->stopped_early = kb_torture_stop_requested();
	kb_rculist_set_stop(t);
	for (i = 0; i < created; i++)
		pthread_join(th[i].tid, NULL);
	res->elapsed_ns = kb_now_ns() - start;
	/* Let every call_rcu chain finish: they point into @t. */
	while (__atomic_load_n(&t->outstanding, __ATOMIC_ACQUIRE) > 0)
		kb_rcu_barrier();
	res->grace_periods = kb_rcu_gp_count() - gp0;
	kb_rculist_collect(t, th, created, res);
	if (ret == KB_OK)
		ret = __atomic_load_n(&t->status, __ATOMIC_RELAXED);
	free(t);
	free(th);
	return ret;
}

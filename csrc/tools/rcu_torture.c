/* SPDX-License-Identifier: MIT */
/*
 * csrc/tools/rcu_torture.c - an rcutorture-style stress test of the RCU API
 * (csrc/engine/rcu_api.c), over whichever backend is selected.
 *
 * Modelled on what the kernel's rcutorture checks (kernel/rcu/rcutorture.c,
 * Documentation/RCU/torture.rst).  Updaters publish elements from a small
 * pool through one RCU-protected pointer.  An element being replaced is
 * retired with age 1; after every later grace period its age grows by one,
 * and at age KB_RCU_TORTURE_PIPE_LEN it is freed (poisoned) and goes back to
 * the pool.  Each update picks how its element waits (the update-side mix):
 * synchronize_rcu(), a polled cookie (get_state/poll_state, then
 * cond_synchronize_rcu() when the poll says not yet) - both age a pipeline
 * of cookies - or call_rcu() callbacks that re-queue themselves, optionally
 * followed by rcu_barrier().  Readers, inside read-side sections, watch the
 * element they reached: if it is freed (or reused) under them, or its age
 * reaches 2 (a whole grace period began after its retirement and ended while
 * they still held it), the engine is broken.
 *
 * Reader kinds (csrc/tools/rcu_torture_readers.c): plain sections; nested sections (an outer element must
 * survive the inner section); QSBR readers holding several elements across
 * sections until their next explicit quiescent state; SRCU readers of a
 * second pointer whose elements are freed after synchronize_srcu().  Each
 * section also records the grace periods that completed during it (Reader
 * Batch), and every age an element reaches is counted (Free-Block
 * Circulation).  The optional checks - rcu_barrier() test, callback flood,
 * stall, reader churn - are in csrc/tools/rcu_torture_checks.c.
 *
 * Every shared field is accessed with KB_READ_ONCE/KB_WRITE_ONCE, atomics,
 * or under a lock: no data races in the C11 sense.
 */
#include "tools/rcu_torture_internal.h"

#include <sched.h>
#include <stdlib.h>
#include <string.h>

#define KB_TORTURE_MAX_DURATION_MS 3600000
#define KB_TORTURE_DEFAULT_STALL_MS 20

/* The update-side primitives (an update's choice). */
enum { KB_TORTURE_P_SYNC, KB_TORTURE_P_POLL, KB_TORTURE_P_CALL, KB_TORTURE_P_BARRIER };

struct kb_torture_thread {
	struct kb_torture *t;
	int index;
	pthread_t tid;
};

static void kb_torture_circ(struct kb_torture *t, uint32_t age)
{
	__atomic_fetch_add(&t->circulation[age < KB_RCU_TORTURE_PIPE_LEN ? age
									  : KB_RCU_TORTURE_PIPE_LEN],
			   1, __ATOMIC_RELAXED);
}

static void kb_torture_free(struct kb_torture *t, struct kb_torture_elem *e)
{
	KB_WRITE_ONCE(e->magic, KB_TORTURE_POISON);
	KB_WRITE_ONCE(e->freed, 1);
	pthread_mutex_lock(&t->pool_lock);
	e->next = t->free_list;
	t->free_list = e;
	pthread_mutex_unlock(&t->pool_lock);
}

static struct kb_torture_elem *kb_torture_alloc(struct kb_torture *t)
{
	struct kb_torture_elem *e;

	pthread_mutex_lock(&t->pool_lock);
	e = t->free_list;
	if (e)
		t->free_list = e->next;
	pthread_mutex_unlock(&t->pool_lock);
	return e;
}

/* call_rcu reclamation: one grace period has passed since the last step. */
static void kb_torture_cb(kb_rcu_head_t *head)
{
	struct kb_torture_elem *e = (struct kb_torture_elem *)head;
	struct kb_torture *t = e->t;
	uint32_t age = KB_READ_ONCE(e->age) + 1;

	__atomic_fetch_add(&t->callbacks, 1, __ATOMIC_RELAXED);
	KB_WRITE_ONCE(e->age, age);
	kb_torture_circ(t, age);
	if (age >= KB_RCU_TORTURE_PIPE_LEN) {
		kb_torture_free(t, e);
		__atomic_fetch_sub(&t->outstanding, 1, __ATOMIC_RELEASE);
	} else {
		kb_call_rcu(head, kb_torture_cb);
	}
}

/*
 * Cookie reclamation (synchronize_rcu() and polled updates): age every
 * retired element whose grace period has ended, and free those that
 * reached the end of the pipeline.
 */
static void kb_torture_age_sync_pipe(struct kb_torture *t)
{
	struct kb_torture_elem **pp, *e;

	pthread_mutex_lock(&t->update_lock);
	pp = &t->sync_pipe;
	while ((e = *pp)) {
		uint32_t age;

		if (!kb_poll_state_synchronize_rcu(e->cookie)) {
			pp = &e->next;
			continue;
		}
		age = KB_READ_ONCE(e->age) + 1;
		KB_WRITE_ONCE(e->age, age);
		kb_torture_circ(t, age);
		if (age >= KB_RCU_TORTURE_PIPE_LEN) {
			*pp = e->next;
			kb_torture_free(t, e);
		} else {
			e->cookie = kb_get_state_synchronize_rcu();
			pp = &e->next;
		}
	}
	pthread_mutex_unlock(&t->update_lock);
}

void kb_torture_wait_go(struct kb_torture *t)
{
	while (!__atomic_load_n(&t->go, __ATOMIC_ACQUIRE))
		kb_futex_wait(&t->go, 0, -1);
}

bool kb_torture_stopped(struct kb_torture *t)
{
	return KB_READ_ONCE(t->stop) != 0;
}

static void kb_torture_set_stop(struct kb_torture *t)
{
	if (__atomic_exchange_n(&t->stop, 1, __ATOMIC_SEQ_CST) == 0)
		kb_futex_wake(&t->stop, INT_MAX);
}

/** kb_torture_nap() - sleep @ns, or less if the run stops meanwhile. */
void kb_torture_nap(struct kb_torture *t, int64_t ns)
{
	if (!kb_torture_stopped(t))
		kb_futex_wait(&t->stop, 0, ns);
}

uint64_t kb_torture_rand(uint64_t *s)
{
	/* xorshift64 */
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void *kb_torture_reader(void *arg)
{
	struct kb_torture_thread *th = arg;
	struct kb_torture *t = th->t;
	struct kb_torture_reader_stats st;

	kb_torture_read_loop(t, t->kinds[th->index % t->nkinds],
			     t->cfg.seed * 0x9e3779b97f4a7c15ULL + (uint64_t)th->index, &st, 0);
	t->rstats[th->index] = st;
	return NULL;
}

/* --------------------------------------------------------------- updaters */

static bool kb_torture_pool_empty(struct kb_torture *t)
{
	bool empty;

	pthread_mutex_lock(&t->pool_lock);
	empty = t->free_list == NULL;
	pthread_mutex_unlock(&t->pool_lock);
	return empty;
}

/*
 * The pool is empty: push reclamation forward.  A grace period ages the
 * cookie pipeline; rcu_barrier() (which waits for call_rcu chains, 10 ms
 * per batch on liburcu) only if that freed nothing.
 */
static void kb_torture_refill(struct kb_torture *t)
{
	__atomic_fetch_add(&t->barriers, 1, __ATOMIC_RELAXED);
	(void)kb_synchronize_rcu();
	kb_torture_age_sync_pipe(t);
	if (kb_torture_pool_empty(t))
		kb_rcu_barrier();
}

static int kb_torture_pick(struct kb_torture *t, uint64_t *seed)
{
	switch (t->cfg.reclaim) {
	case KB_RCU_TORTURE_SYNC:
		return KB_TORTURE_P_SYNC;
	case KB_RCU_TORTURE_CALL:
		return KB_TORTURE_P_CALL;
	case KB_RCU_TORTURE_MIX:
		return (kb_torture_rand(seed) >> 11) & 1 ? KB_TORTURE_P_CALL : KB_TORTURE_P_SYNC;
	default:
		return (int)((kb_torture_rand(seed) >> 11) & 3);
	}
}

static void kb_torture_count(uint64_t *counter)
{
	__atomic_fetch_add(counter, 1, __ATOMIC_RELAXED);
}

static void *kb_torture_updater(void *arg)
{
	struct kb_torture_thread *th = arg;
	struct kb_torture *t = th->t;
	uint64_t seed = t->cfg.seed * 2654435761u + (uint64_t)th->index + 1;

	kb_torture_wait_go(t);
	while (!kb_torture_stopped(t)) {
		struct kb_torture_elem *e, *old;
		uint64_t n, cookie = 0;
		int how;

		e = kb_torture_alloc(t);
		if (!e) {
			kb_torture_refill(t);
			continue;
		}
		how = kb_torture_pick(t, &seed);
		KB_WRITE_ONCE(e->age, 0);
		KB_WRITE_ONCE(e->gen, KB_READ_ONCE(e->gen) + 1);
		KB_WRITE_ONCE(e->magic, KB_TORTURE_MAGIC);
		KB_WRITE_ONCE(e->freed, 0);
		kb_torture_circ(t, 0);

		pthread_mutex_lock(&t->update_lock);
		/* Release: readers that reach @e see it initialised. */
		old = kb_rcu_replace_pointer(&t->cur, e);
		KB_WRITE_ONCE(old->age, 1); /* retired */
		kb_torture_circ(t, 1);
		if (how == KB_TORTURE_P_SYNC || how == KB_TORTURE_P_POLL) {
			cookie = kb_get_state_synchronize_rcu();
			old->cookie = cookie;
			old->next = t->sync_pipe;
			t->sync_pipe = old;
		}
		pthread_mutex_unlock(&t->update_lock);

		switch (how) {
		case KB_TORTURE_P_SYNC:
			kb_torture_count(&t->mix.sync);
			(void)kb_synchronize_rcu();
			kb_torture_age_sync_pipe(t);
			break;
		case KB_TORTURE_P_POLL:
			kb_torture_count(&t->mix.poll);
			sched_yield(); /* give the grace period a chance to end first */
			if (kb_poll_state_synchronize_rcu(cookie)) {
				kb_torture_count(&t->mix.poll_done);
			} else {
				kb_torture_count(&t->mix.cond);
				(void)kb_cond_synchronize_rcu(cookie);
			}
			kb_torture_age_sync_pipe(t);
			break;
		default:
			__atomic_fetch_add(&t->outstanding, 1, __ATOMIC_RELAXED);
			kb_call_rcu(&old->rh, kb_torture_cb);
			if (how == KB_TORTURE_P_BARRIER) {
				kb_torture_count(&t->mix.barrier);
				kb_rcu_barrier();
			} else {
				kb_torture_count(&t->mix.call);
			}
			break;
		}
		n = __atomic_add_fetch(&t->updates, 1, __ATOMIC_RELAXED);
		if (t->cfg.max_updates > 0 && n >= (uint64_t)t->cfg.max_updates)
			kb_torture_set_stop(t);
	}
	return NULL;
}

/*
 * The SRCU readers' updater: replace their element, retire the old one
 * (age 1), wait for an SRCU grace period of the run's domain, mark it aged
 * (2: an SRCU reader that still sees it caught a grace period that did not
 * wait for it) and free it.  Only this thread touches the SRCU pool.
 */
static void *kb_torture_srcu_updater(void *arg)
{
	struct kb_torture *t = arg;
	int next = 1;

	kb_torture_wait_go(t);
	while (!kb_torture_stopped(t)) {
		struct kb_torture_elem *e = &t->srcu_pool[next], *old;

		next = (next + 1) % KB_TORTURE_SRCU_POOL;
		if (!KB_READ_ONCE(e->freed))
			continue; /* the published one */
		KB_WRITE_ONCE(e->age, 0);
		KB_WRITE_ONCE(e->gen, KB_READ_ONCE(e->gen) + 1);
		KB_WRITE_ONCE(e->magic, KB_TORTURE_MAGIC);
		KB_WRITE_ONCE(e->freed, 0);
		old = kb_rcu_replace_pointer(&t->srcu_cur, e);
		KB_WRITE_ONCE(old->age, 1);
		kb_synchronize_srcu(&t->srcu);
		KB_WRITE_ONCE(old->age, 2);
		KB_WRITE_ONCE(old->magic, KB_TORTURE_POISON);
		KB_WRITE_ONCE(old->freed, 1);
		__atomic_fetch_add(&t->srcu_updates, 1, __ATOMIC_RELAXED);
		kb_torture_nap(t, 100000); /* leave the CPUs to the readers */
	}
	return NULL;
}

/* ----------------------------------------------------------------- driver */

static int kb_torture_check(const kb_rcu_torture_config_t *cfg)
{
	if (cfg->readers < 1 || cfg->readers > KB_RCU_TORTURE_MAX_THREADS)
		return KB_EINVAL;
	if (cfg->updaters < 1 || cfg->updaters > KB_RCU_TORTURE_MAX_THREADS)
		return KB_EINVAL;
	if (cfg->duration_ms < 1 || cfg->duration_ms > KB_TORTURE_MAX_DURATION_MS)
		return KB_EINVAL;
	if (cfg->max_updates < 0 || cfg->read_spin < 0 || cfg->read_spin > 1000000)
		return KB_EINVAL;
	if (cfg->reclaim < KB_RCU_TORTURE_SYNC || cfg->reclaim > KB_RCU_TORTURE_ALL)
		return KB_EINVAL;
	if (cfg->busted < KB_RCU_BUSTED_NONE || cfg->busted > KB_RCU_BUSTED_BARRIER)
		return KB_EINVAL;
	if (cfg->reader_kinds >= 1u << KB_RCU_TORTURE_NKINDS || cfg->checks > 15u)
		return KB_EINVAL;
	if (cfg->stall_timeout_ms < 0 || cfg->stall_timeout_ms > 1000)
		return KB_EINVAL;
	return KB_OK;
}

static void kb_torture_init_pool(struct kb_torture_elem *pool, int n, struct kb_torture *t,
				 struct kb_torture_elem **free_list)
{
	int i;

	for (i = 0; i < n; i++) {
		pool[i].t = t;
		pool[i].magic = KB_TORTURE_POISON;
		pool[i].freed = 1;
		if (i > 0 && free_list) {
			pool[i].next = *free_list;
			*free_list = &pool[i];
		}
	}
	pool[0].magic = KB_TORTURE_MAGIC;
	pool[0].freed = 0;
	pool[0].gen = 1;
}

static void kb_torture_add_stats(kb_rcu_torture_result_t *res,
				 const struct kb_torture_reader_stats *st, uint64_t readers)
{
	kb_rcu_torture_kind_t *k = &res->kinds[st->kind];
	int j;

	res->reads += st->reads;
	res->freed_seen += st->freed_seen;
	res->too_old += st->too_old;
	for (j = 0; j < KB_RCU_TORTURE_PIPE_LEN; j++) {
		res->pipe[j] += st->pipe[j];
		res->batch[j] += st->batch[j];
	}
	k->readers += readers;
	k->reads += st->reads;
	k->errors += st->freed_seen + st->too_old;
	res->churn.registrations += st->churn.registrations;
	res->churn.unregistrations += st->churn.unregistrations;
	res->churn.offline += st->churn.offline;
	res->churn.online += st->churn.online;
}

static struct kb_torture *kb_torture_new(const kb_rcu_torture_config_t *cfg)
{
	struct kb_torture *t = calloc(1, sizeof(*t));
	uint32_t kinds = cfg->reader_kinds ? cfg->reader_kinds : KB_RCU_TORTURE_READER_PLAIN;
	int i;

	if (!t)
		return NULL;
	t->rstats = calloc((size_t)cfg->readers, sizeof(*t->rstats));
	if (t->rstats && (cfg->checks & KB_RCU_TORTURE_CHECK_FLOOD))
		t->flood_cbs = calloc(KB_RCU_TORTURE_FLOOD_CAP, sizeof(*t->flood_cbs));
	if (!t->rstats || ((cfg->checks & KB_RCU_TORTURE_CHECK_FLOOD) && !t->flood_cbs)) {
		free(t->rstats);
		free(t);
		return NULL;
	}
	t->cfg = *cfg;
	for (i = 0; i < KB_RCU_TORTURE_NKINDS; i++)
		if (kinds & (1u << i))
			t->kinds[t->nkinds++] = i;
	pthread_mutex_init(&t->pool_lock, NULL);
	pthread_mutex_init(&t->update_lock, NULL);
	pthread_mutex_init(&t->stats_lock, NULL);
	pthread_mutex_init(&t->flood_lock, NULL);
	kb_torture_init_pool(t->pool, KB_TORTURE_POOL, t, &t->free_list);
	kb_rcu_init_pointer(&t->cur, &t->pool[0]);
	kb_torture_init_pool(t->srcu_pool, KB_TORTURE_SRCU_POOL, t, NULL);
	kb_rcu_init_pointer(&t->srcu_cur, &t->srcu_pool[0]);
	(void)kb_srcu_init(&t->srcu);
	for (i = 0; i < KB_TORTURE_BARRIER_CBS; i++)
		t->bar_cbs[i].t = t;
	return t;
}

static void kb_torture_destroy(struct kb_torture *t)
{
	(void)kb_cleanup_srcu_struct(&t->srcu);
	pthread_mutex_destroy(&t->pool_lock);
	pthread_mutex_destroy(&t->update_lock);
	pthread_mutex_destroy(&t->stats_lock);
	pthread_mutex_destroy(&t->flood_lock);
	free(t->flood_cbs);
	free(t->rstats);
	free(t);
}

/* Wait for the deadline (or a stop), and for the stall check to finish. */
static void kb_torture_wait_end(struct kb_torture *t)
{
	for (;;) {
		int64_t left;

		if (kb_torture_stop_requested())
			break;
		if (kb_torture_stall_pending(t)) {
			kb_torture_stall_monitor(t);
			continue;
		}
		if (kb_torture_stopped(t))
			break;
		left = t->deadline_ns - kb_now_ns();
		if (left <= 0)
			break;
		/* Sliced only so a stop request (Ctrl-C) ends the run promptly. */
		kb_futex_wait(&t->stop, 0, left < 50000000 ? left : 50000000);
	}
	/* Ctrl-C during a stall: let the stalling reader go. */
	if (__atomic_exchange_n(&t->stall_state, KB_TORTURE_STALL_RELEASED, __ATOMIC_SEQ_CST) !=
	    KB_TORTURE_STALL_RELEASED)
		kb_futex_wake(&t->stall_state, INT_MAX);
}

struct kb_torture_role {
	void *(*fn)(void *);
	void *arg;
	pthread_t tid;
};

/**
 * kb_rcu_torture() - run one torture test.
 * @cfg: what to run (see struct kb_rcu_torture_config).
 * @res: filled with what was observed.
 *
 * Creates the reader and updater threads (and one thread per optional
 * check, one SRCU updater if SRCU readers are asked for), runs until
 * @cfg->duration_ms has passed or @cfg->max_updates updates were made - and
 * the stall check, if any, has finished (at most 50 stall timeouts) - then
 * drains all callbacks before returning.  @cfg->busted selects the engine
 * variant for the run (process-wide; the previous one is restored
 * afterwards, before the callbacks are drained), as the stall timeout.
 * Context: may sleep for the duration; not from a call_rcu callback.
 * Return: KB_OK (check @res->errors), KB_EINVAL, KB_ENOTSUP (@cfg->busted
 * does not exist on the backend in use), KB_ENOMEM or KB_EAGAIN (a thread
 * could not be created).
 */
int kb_rcu_torture(const kb_rcu_torture_config_t *cfg, kb_rcu_torture_result_t *res)
{
	struct kb_torture *t;
	struct kb_torture_thread *th;
	struct kb_torture_role *roles;
	int nroles = 0, created = 0, ret = KB_OK, prev_busted, i;
	int64_t prev_stall = 0;
	uint64_t gp0, stalls0;

	if (!cfg || !res)
		return KB_EINVAL;
	ret = kb_torture_check(cfg);
	if (ret != KB_OK)
		return ret;
	if (!kb_rcu_busted_supported(cfg->busted))
		return KB_ENOTSUP;
	memset(res, 0, sizeof(*res));
	t = kb_torture_new(cfg);
	th = calloc((size_t)(cfg->readers + cfg->updaters), sizeof(*th));
	roles = calloc((size_t)(cfg->readers + cfg->updaters + 5), sizeof(*roles));
	if (!t || !th || !roles) {
		if (t)
			kb_torture_destroy(t);
		free(th);
		free(roles);
		return KB_ENOMEM;
	}
	for (i = 0; i < cfg->readers + cfg->updaters; i++) {
		bool reader = i < cfg->readers;

		th[i].t = t;
		th[i].index = reader ? i : i - cfg->readers;
		roles[nroles].fn = reader ? kb_torture_reader : kb_torture_updater;
		roles[nroles++].arg = &th[i];
	}
	for (i = 0; i < t->nkinds; i++)
		if (t->kinds[i] == 3) {
			roles[nroles].fn = kb_torture_srcu_updater;
			roles[nroles++].arg = t;
		}
	if (cfg->checks & KB_RCU_TORTURE_CHECK_BARRIER) {
		roles[nroles].fn = kb_torture_barrier_tester;
		roles[nroles++].arg = t;
	}
	if (cfg->checks & KB_RCU_TORTURE_CHECK_FLOOD) {
		roles[nroles].fn = kb_torture_flooder;
		roles[nroles++].arg = t;
	}
	if (cfg->checks & KB_RCU_TORTURE_CHECK_STALL) {
		roles[nroles].fn = kb_torture_staller;
		roles[nroles++].arg = t;
		prev_stall = kb_rcu_get_stall_timeout_ns();
		t->stall.timeout_ns =
			(int64_t)(cfg->stall_timeout_ms ? cfg->stall_timeout_ms
							: KB_TORTURE_DEFAULT_STALL_MS) * 1000000;
		kb_rcu_set_stall_timeout_ns(t->stall.timeout_ns);
	} else {
		t->stall_state = KB_TORTURE_STALL_RELEASED; /* nothing to wait for */
	}
	if (cfg->checks & KB_RCU_TORTURE_CHECK_CHURN) {
		roles[nroles].fn = kb_torture_churner;
		roles[nroles++].arg = t;
	}

	prev_busted = kb_rcu_get_busted();
	kb_rcu_set_busted(cfg->busted);
	gp0 = kb_rcu_gp_count();
	stalls0 = kb_rcu_stall_count();

	for (i = 0; i < nroles; i++) {
		if (pthread_create(&roles[i].tid, NULL, roles[i].fn, roles[i].arg) != 0) {
			ret = KB_EAGAIN;
			kb_torture_set_stop(t);
			/* No stall to wait for (a stalling reader lets go). */
			__atomic_store_n(&t->stall_state, KB_TORTURE_STALL_RELEASED,
					 __ATOMIC_SEQ_CST);
			kb_futex_wake(&t->stall_state, INT_MAX);
			break;
		}
		created++;
	}
	t->start_ns = kb_now_ns();
	t->deadline_ns = kb_deadline_after(t->start_ns, cfg->duration_ms * 1000000);
	__atomic_store_n(&t->go, 1, __ATOMIC_RELEASE);
	kb_futex_wake(&t->go, INT_MAX);
	kb_torture_wait_end(t);
	kb_torture_set_stop(t);
	for (i = 0; i < created; i++)
		pthread_join(roles[i].tid, NULL);
	res->elapsed_ns = kb_now_ns() - t->start_ns;
	/* The real engine again, so that the callbacks below really drain. */
	kb_rcu_set_busted(prev_busted);
	if (cfg->checks & KB_RCU_TORTURE_CHECK_STALL)
		kb_rcu_set_stall_timeout_ns(prev_stall);
	if (cfg->checks & KB_RCU_TORTURE_CHECK_FLOOD)
		kb_torture_flood_drain(t);
	/* Let every call_rcu chain finish: they point into @t. */
	while (__atomic_load_n(&t->outstanding, __ATOMIC_ACQUIRE) > 0 ||
	       __atomic_load_n(&t->bar_pending, __ATOMIC_ACQUIRE) > 0)
		kb_rcu_barrier();
	res->grace_periods = kb_rcu_gp_count() - gp0;

	for (i = 0; i < cfg->readers && i < created; i++)
		kb_torture_add_stats(res, &t->rstats[i], 1);
	for (i = 0; i < KB_RCU_TORTURE_NKINDS; i++)
		if (t->churn_stats[i].reads || t->churn_stats[i].churn.registrations)
			kb_torture_add_stats(res, &t->churn_stats[i], t->churn_stats[i].churn.exits);
	res->updates = __atomic_load_n(&t->updates, __ATOMIC_RELAXED);
	res->callbacks = __atomic_load_n(&t->callbacks, __ATOMIC_RELAXED);
	res->barriers = __atomic_load_n(&t->barriers, __ATOMIC_RELAXED);
	for (i = 0; i <= KB_RCU_TORTURE_PIPE_LEN; i++)
		res->circulation[i] = __atomic_load_n(&t->circulation[i], __ATOMIC_RELAXED);
	res->mix = t->mix; /* every writer has been joined */
	res->barrier = t->bar;
	res->flood = t->flood;
	res->stall = t->stall;
	res->stall.stalls = kb_rcu_stall_count() - stalls0;
	res->churn.exits = t->churn_exits;
	res->churn.restarts = t->churn_restarts;
	res->srcu_updates = t->srcu_updates;
	res->srcu_grace_periods = kb_srcu_gp_count(&t->srcu);
	res->errors = res->freed_seen + res->too_old + res->barrier.rtbe + res->flood.errors +
		      res->stall.errors;
	kb_torture_destroy(t);
	free(th);
	free(roles);
	return ret;
}

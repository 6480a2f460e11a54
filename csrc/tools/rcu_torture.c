/* SPDX-License-Identifier: MIT */
/*
 * csrc/tools/rcu_torture.c - an rcutorture-style stress test of the RCU API
 * (csrc/engine/rcu_api.c), over whichever backend is selected.
 *
 * Modelled on what the kernel's rcutorture checks.  Updaters publish
 * elements from a small pool through one RCU-protected pointer.  An element
 * being replaced is retired with age 1; after every later grace period its
 * age grows by one, and at age KB_RCU_TORTURE_PIPE_LEN it is freed
 * (poisoned) and goes back to the pool.  Ages grow either in the updaters
 * (synchronize_rcu(): each retired element remembers a grace-period cookie,
 * and ages only once that grace period has ended) or in call_rcu callbacks
 * that re-queue themselves.  Readers, inside read-side sections, watch the
 * element they reached: if it is freed (or reused) under them, or its age
 * reaches 2 (a whole grace period began after its retirement and ended while
 * they still held it), the engine is broken.
 *
 * Readers hold each section for a few hundred loads and report a quiescent
 * state between sections, so at almost any instant some reader is inside a
 * section: a grace period that does not wait for it is caught within a few
 * updates.  Every shared field is accessed with KB_READ_ONCE/KB_WRITE_ONCE
 * or under a lock: no data races in the C11 sense.
 */
/* Count read-side nesting in the inline fast path too (see rcu_inline.h). */
#define KB_RCU_DEBUG 1
#include "engine/rcu_inline.h"

#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#define KB_TORTURE_POOL 16
#define KB_TORTURE_DEFAULT_SPIN 256
#define KB_TORTURE_MAX_DURATION_MS 3600000
#define KB_TORTURE_MAGIC 0x6b62696e64726375ULL
#define KB_TORTURE_POISON 0xdeaddeaddeaddeadULL

struct kb_torture;

/**
 * struct kb_torture_elem - one element of the pool.
 * @rh: for call_rcu() (first, so the callback can cast back).
 * @t: the run it belongs to.
 * @age: 0 while published, 1 once retired, +1 per later grace period.
 * @freed: 1 once reclaimed (until republished).
 * @gen: incremented each time it is published.
 * @magic: KB_TORTURE_MAGIC while live, KB_TORTURE_POISON once freed.
 * @cookie: sync reclamation: the grace period whose end ages it next.
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

/* Per-reader statistics, written only by that reader. */
struct kb_torture_reader_stats {
	uint64_t reads;
	uint64_t pipe[KB_RCU_TORTURE_PIPE_LEN];
	uint64_t freed_seen;
	uint64_t too_old;
} __attribute__((aligned(64)));

struct kb_torture {
	kb_rcu_torture_config_t cfg;
	void *cur; /* the RCU-protected pointer */
	struct kb_torture_elem pool[KB_TORTURE_POOL];
	pthread_mutex_t pool_lock;
	struct kb_torture_elem *free_list; /* pool_lock */
	pthread_mutex_t update_lock;
	struct kb_torture_elem *sync_pipe; /* update_lock */
	uint32_t go;   /* futex: threads start when 1 */
	uint32_t stop; /* futex: everyone stops when 1 */
	uint64_t updates;
	uint64_t callbacks;
	uint64_t barriers;
	uint64_t outstanding; /* call_rcu chains not yet finished */
	struct kb_torture_reader_stats *rstats;
};

struct kb_torture_thread {
	struct kb_torture *t;
	int index;
	pthread_t tid;
};

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
	if (age >= KB_RCU_TORTURE_PIPE_LEN) {
		kb_torture_free(t, e);
		__atomic_fetch_sub(&t->outstanding, 1, __ATOMIC_RELEASE);
	} else {
		kb_call_rcu(head, kb_torture_cb);
	}
}

/*
 * sync reclamation: age every retired element whose grace period has
 * ended, and free those that reached the end of the pipeline.
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

static void kb_torture_wait_go(struct kb_torture *t)
{
	while (!__atomic_load_n(&t->go, __ATOMIC_ACQUIRE))
		kb_futex_wait(&t->go, 0, -1);
}

static bool kb_torture_stopped(struct kb_torture *t)
{
	return KB_READ_ONCE(t->stop) != 0;
}

static void kb_torture_set_stop(struct kb_torture *t)
{
	if (__atomic_exchange_n(&t->stop, 1, __ATOMIC_SEQ_CST) == 0)
		kb_futex_wake(&t->stop, INT_MAX);
}

static void *kb_torture_reader(void *arg)
{
	struct kb_torture_thread *th = arg;
	struct kb_torture *t = th->t;
	struct kb_torture_reader_stats st;
	int spin = t->cfg.read_spin > 0 ? t->cfg.read_spin : KB_TORTURE_DEFAULT_SPIN;

	memset(&st, 0, sizeof(st));
	(void)kb_rcu_register_thread();
	kb_rcu_thread_offline(); /* do not hold up anyone while waiting */
	kb_torture_wait_go(t);
	kb_rcu_thread_online();
	while (!kb_torture_stopped(t)) {
		struct kb_torture_elem *e;
		uint32_t gen, maxage = 0;
		bool bad = false;
		int k;

		kb_rcu_read_lock();
		e = kb_rcu_dereference(&t->cur);
		gen = KB_READ_ONCE(e->gen);
		for (k = 0; k < spin; k++) {
			uint32_t age;

			if (KB_READ_ONCE(e->freed) || KB_READ_ONCE(e->gen) != gen ||
			    KB_READ_ONCE(e->magic) != KB_TORTURE_MAGIC) {
				bad = true;
				break;
			}
			age = KB_READ_ONCE(e->age);
			if (age > maxage)
				maxage = age;
		}
		kb_rcu_read_unlock();
		st.reads++;
		st.pipe[maxage < KB_RCU_TORTURE_PIPE_LEN ? maxage : KB_RCU_TORTURE_PIPE_LEN - 1]++;
		if (bad)
			st.freed_seen++;
		if (maxage >= 2)
			st.too_old++;
		kb_rcu_quiescent_state();
		if ((st.reads & 255) == 0) {
			/* Exercise the offline/online path too. */
			kb_rcu_thread_offline();
			kb_rcu_thread_online();
		}
	}
	(void)kb_rcu_unregister_thread();
	t->rstats[th->index] = st;
	return NULL;
}

static uint64_t kb_torture_rand(uint64_t *s)
{
	/* xorshift64 */
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

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
 * synchronize_rcu pipeline; rcu_barrier() (which waits for call_rcu
 * chains, 10 ms per batch on liburcu) only if that freed nothing.
 */
static void kb_torture_refill(struct kb_torture *t)
{
	__atomic_fetch_add(&t->barriers, 1, __ATOMIC_RELAXED);
	(void)kb_synchronize_rcu();
	kb_torture_age_sync_pipe(t);
	if (kb_torture_pool_empty(t))
		kb_rcu_barrier();
}

static void *kb_torture_updater(void *arg)
{
	struct kb_torture_thread *th = arg;
	struct kb_torture *t = th->t;
	uint64_t seed = t->cfg.seed * 2654435761u + (uint64_t)th->index + 1;

	kb_torture_wait_go(t);
	while (!kb_torture_stopped(t)) {
		struct kb_torture_elem *e, *old;
		bool use_cb;
		uint64_t n;

		e = kb_torture_alloc(t);
		if (!e) {
			kb_torture_refill(t);
			continue;
		}
		if (t->cfg.reclaim == KB_RCU_TORTURE_MIX)
			use_cb = (kb_torture_rand(&seed) >> 11) & 1;
		else
			use_cb = t->cfg.reclaim == KB_RCU_TORTURE_CALL;
		KB_WRITE_ONCE(e->age, 0);
		KB_WRITE_ONCE(e->gen, KB_READ_ONCE(e->gen) + 1);
		KB_WRITE_ONCE(e->magic, KB_TORTURE_MAGIC);
		KB_WRITE_ONCE(e->freed, 0);

		pthread_mutex_lock(&t->update_lock);
		/* Release: readers that reach @e see it initialised. */
		old = kb_rcu_replace_pointer(&t->cur, e);
		KB_WRITE_ONCE(old->age, 1); /* retired */
		if (!use_cb) {
			old->cookie = kb_get_state_synchronize_rcu();
			old->next = t->sync_pipe;
			t->sync_pipe = old;
		}
		pthread_mutex_unlock(&t->update_lock);

		if (use_cb) {
			__atomic_fetch_add(&t->outstanding, 1, __ATOMIC_RELAXED);
			kb_call_rcu(&old->rh, kb_torture_cb);
		} else {
			(void)kb_synchronize_rcu();
			kb_torture_age_sync_pipe(t);
		}
		n = __atomic_add_fetch(&t->updates, 1, __ATOMIC_RELAXED);
		if (t->cfg.max_updates > 0 && n >= (uint64_t)t->cfg.max_updates)
			kb_torture_set_stop(t);
	}
	return NULL;
}

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
	if (cfg->reclaim < KB_RCU_TORTURE_SYNC || cfg->reclaim > KB_RCU_TORTURE_MIX)
		return KB_EINVAL;
	if (cfg->busted < KB_RCU_BUSTED_NONE || cfg->busted > KB_RCU_BUSTED_EARLY_CB)
		return KB_EINVAL;
	return KB_OK;
}

/**
 * kb_rcu_torture() - run one torture test.
 * @cfg: what to run (see struct kb_rcu_torture_config).
 * @res: filled with what was observed.
 *
 * Creates the reader and updater threads, runs until @cfg->duration_ms has
 * passed or @cfg->max_updates updates were made, then drains all callbacks
 * before returning.  @cfg->busted selects the engine variant for the run
 * (process-wide; the previous one is restored afterwards).
 * Context: may sleep for the duration; not from a call_rcu callback.
 * Return: KB_OK (check @res->errors), KB_EINVAL, KB_ENOTSUP (@cfg->busted
 * does not exist on the backend in use), KB_ENOMEM or KB_EAGAIN (a thread
 * could not be created).
 */
int kb_rcu_torture(const kb_rcu_torture_config_t *cfg, kb_rcu_torture_result_t *res)
{
	struct kb_torture *t;
	struct kb_torture_thread *th;
	int nthreads, created = 0, ret = KB_OK, prev_busted, i, j;
	uint64_t gp0;
	int64_t start, deadline;

	if (!cfg || !res)
		return KB_EINVAL;
	ret = kb_torture_check(cfg);
	if (ret != KB_OK)
		return ret;
	if (!kb_rcu_busted_supported(cfg->busted))
		return KB_ENOTSUP;
	memset(res, 0, sizeof(*res));
	nthreads = cfg->readers + cfg->updaters;
	t = calloc(1, sizeof(*t));
	th = calloc((size_t)nthreads, sizeof(*th));
	if (t)
		t->rstats = calloc((size_t)cfg->readers, sizeof(*t->rstats));
	if (!t || !th || !t->rstats) {
		if (t)
			free(t->rstats);
		free(t);
		free(th);
		return KB_ENOMEM;
	}
	t->cfg = *cfg;
	pthread_mutex_init(&t->pool_lock, NULL);
	pthread_mutex_init(&t->update_lock, NULL);
	for (i = 0; i < KB_TORTURE_POOL; i++) {
		t->pool[i].t = t;
		t->pool[i].magic = KB_TORTURE_POISON;
		t->pool[i].freed = 1;
		if (i > 0) {
			t->pool[i].next = t->free_list;
			t->free_list = &t->pool[i];
		}
	}
	t->pool[0].magic = KB_TORTURE_MAGIC;
	t->pool[0].freed = 0;
	t->pool[0].gen = 1;
	kb_rcu_init_pointer(&t->cur, &t->pool[0]);

	prev_busted = kb_rcu_get_busted();
	kb_rcu_set_busted(cfg->busted);
	gp0 = kb_rcu_gp_count();

	for (i = 0; i < nthreads; i++) {
		bool reader = i < cfg->readers;

		th[i].t = t;
		th[i].index = reader ? i : i - cfg->readers;
		if (pthread_create(&th[i].tid, NULL,
				   reader ? kb_torture_reader : kb_torture_updater, &th[i]) != 0) {
			ret = KB_EAGAIN;
			kb_torture_set_stop(t);
			break;
		}
		created++;
	}
	start = kb_now_ns();
	deadline = kb_deadline_after(start, cfg->duration_ms * 1000000);
	__atomic_store_n(&t->go, 1, __ATOMIC_RELEASE);
	kb_futex_wake(&t->go, INT_MAX);
	while (!kb_torture_stopped(t)) {
		int64_t left = deadline - kb_now_ns();

		if (left <= 0 || kb_torture_stop_requested())
			break;
		/* Sliced only so a stop request (Ctrl-C) ends the run promptly. */
		kb_futex_wait(&t->stop, 0, left < 50000000 ? left : 50000000);
	}
	kb_torture_set_stop(t);
	for (i = 0; i < created; i++)
		pthread_join(th[i].tid, NULL);
	res->elapsed_ns = kb_now_ns() - start;
	/* Let every call_rcu chain finish: they point into @t. */
	while (__atomic_load_n(&t->outstanding, __ATOMIC_ACQUIRE) > 0)
		kb_rcu_barrier();
	res->grace_periods = kb_rcu_gp_count() - gp0;
	kb_rcu_set_busted(prev_busted);

	for (i = 0; i < cfg->readers && i < created; i++) {
		const struct kb_torture_reader_stats *st = &t->rstats[i];

		res->reads += st->reads;
		res->freed_seen += st->freed_seen;
		res->too_old += st->too_old;
		for (j = 0; j < KB_RCU_TORTURE_PIPE_LEN; j++)
			res->pipe[j] += st->pipe[j];
	}
	res->updates = __atomic_load_n(&t->updates, __ATOMIC_RELAXED);
	res->callbacks = __atomic_load_n(&t->callbacks, __ATOMIC_RELAXED);
	res->barriers = __atomic_load_n(&t->barriers, __ATOMIC_RELAXED);
	res->errors = res->freed_seen + res->too_old;
	pthread_mutex_destroy(&t->pool_lock);
	pthread_mutex_destroy(&t->update_lock);
	free(t->rstats);
	free(t);
	free(th);
	return ret;
}

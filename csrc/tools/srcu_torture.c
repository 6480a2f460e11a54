/* SPDX-License-Identifier: MIT */
/*
 * csrc/tools/srcu_torture.c - an rcutorture-style stress test of SRCU
 * (csrc/engine/srcu.c), with readers that sleep.
 *
 * In the spirit of rcutorture's srcu flavour (kernel/rcu/rcutorture.c):
 * updaters replace the element one SRCU-protected pointer points to, wait
 * for a grace period of the run's domain (synchronize_srcu() or its
 * expedited form), then free the old element: poison it and put it back at
 * the tail of a pool, from which it is reused much later.  Readers, inside
 * read-side sections, check the element they reached is live, hold it (one
 * section in sleep_every sleeps, which SRCU allows), and check again that it
 * is neither poisoned nor reused.  A correct SRCU shows no error; the busted
 * variants (KB_SRCU_BUSTED_*) free elements under sleeping readers at once.
 *
 * Every shared field is accessed with KB_READ_ONCE/KB_WRITE_ONCE, atomics
 * or under the pool's lock: no data race in the C11 sense, so TSan stays
 * quiet even for the busted variants (elements are never returned to
 * malloc, so a late reader touches poisoned memory, not freed memory).
 */
#include "kbind.h"

#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define KB_SRCU_TORTURE_POOL 64
#define KB_SRCU_TORTURE_MAX_NS (3600LL * 1000000000LL)
#define KB_SRCU_TORTURE_HOLD_SPINS 64
#define KB_SRCU_TORTURE_LIVE 0x6b6273726375ULL
#define KB_SRCU_TORTURE_POISON 0xdeaddeaddeaddeadULL

/**
 * struct kb_srcu_torture_elem - one element of the pool.
 * @state: KB_SRCU_TORTURE_LIVE while it may be reached, _POISON once freed.
 * @gen: bumped each time it is published (a reused element has a new one).
 * @next: pool link (under the pool lock).
 */
struct kb_srcu_torture_elem {
	uint64_t state;
	uint64_t gen;
	struct kb_srcu_torture_elem *next;
};

struct kb_srcu_torture {
	kb_srcu_t srcu;
	struct kb_srcu_torture_elem elems[KB_SRCU_TORTURE_POOL];
	struct kb_srcu_torture_elem *cur; /* the SRCU-protected pointer */
	kb_spinlock_t pool_lock;
	struct kb_srcu_torture_elem *head, *tail; /* free elements, FIFO */
	uint64_t gen;				    /* under pool_lock */
	const kb_srcu_torture_config_t *cfg;
	int stop;    /* marked accesses */
	int go;      /* release store by the controller */
	uint64_t updates; /* atomic: the max_updates bound */
};

struct kb_srcu_torture_thread {
	struct kb_srcu_torture *t;
	pthread_t tid;
	int32_t index;		/* for kb_torture_pin() */
	uint64_t seed;
	uint64_t reads, sleeping_reads, updates, expedited, freed_seen;
};

static uint64_t kb_srcu_torture_rand(uint64_t *s)
{
	/* xorshift64*: cheap, per thread, reproducible */
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ULL;
}

static bool kb_srcu_torture_stopping(struct kb_srcu_torture *t)
{
	return KB_READ_ONCE(t->stop) || kb_torture_stop_requested();
}

/* The acquire pairs with the controller's release store of @go. */
static void kb_srcu_torture_wait_go(struct kb_srcu_torture *t)
{
	while (!__atomic_load_n(&t->go, __ATOMIC_ACQUIRE))
		sched_yield();
}

static bool kb_srcu_torture_intact(struct kb_srcu_torture_elem *p, uint64_t gen)
{
	return KB_READ_ONCE(p->state) == KB_SRCU_TORTURE_LIVE && KB_READ_ONCE(p->gen) == gen;
}

static void *kb_srcu_torture_reader(void *arg)
{
	struct kb_srcu_torture_thread *me = arg;
	struct kb_srcu_torture *t = me->t;
	const int every = t->cfg->sleep_every;
	const int64_t nap = (int64_t)t->cfg->sleep_us * 1000;

	(void)kb_torture_pin(me->index);
	kb_srcu_torture_wait_go(t);
	while (!kb_srcu_torture_stopping(t)) {
		int idx = kb_srcu_read_lock(&t->srcu);
		/* rcu_dereference(): pairs with the updaters' release exchange. */
		struct kb_srcu_torture_elem *p = __atomic_load_n(&t->cur, __ATOMIC_ACQUIRE);
		uint64_t gen = KB_READ_ONCE(p->gen);
		bool ok = KB_READ_ONCE(p->state) == KB_SRCU_TORTURE_LIVE;

		if (every > 0 && kb_srcu_torture_rand(&me->seed) % (uint64_t)every == 0) {
			struct timespec ts = { .tv_sec = nap / 1000000000, .tv_nsec = nap % 1000000000 };

			nanosleep(&ts, NULL); /* SRCU readers may sleep */
			me->sleeping_reads++;
		} else {
			for (int i = 0; i < KB_SRCU_TORTURE_HOLD_SPINS; i++)
				kb_cpu_relax();
		}
		ok = ok && kb_srcu_torture_intact(p, gen);
		kb_srcu_read_unlock(&t->srcu, idx);
		me->reads++;
		if (!ok)
			me->freed_seen++;
	}
	return NULL;
}

static struct kb_srcu_torture_elem *kb_srcu_torture_alloc(struct kb_srcu_torture *t)
{
	struct kb_srcu_torture_elem *p;

	kb_spin_lock(&t->pool_lock);
	p = t->head;
	if (p != NULL) {
		t->head = p->next;
		if (t->head == NULL)
			t->tail = NULL;
		KB_WRITE_ONCE(p->gen, ++t->gen);
		KB_WRITE_ONCE(p->state, KB_SRCU_TORTURE_LIVE);
	}
	kb_spin_unlock(&t->pool_lock);
	return p;
}

/* Free: poison, then queue at the tail, so it stays poisoned for a while. */
static void kb_srcu_torture_free(struct kb_srcu_torture *t, struct kb_srcu_torture_elem *p)
{
	KB_WRITE_ONCE(p->state, KB_SRCU_TORTURE_POISON);
	kb_spin_lock(&t->pool_lock);
	p->next = NULL;
	if (t->tail != NULL)
		t->tail->next = p;
	else
		t->head = p;
	t->tail = p;
	kb_spin_unlock(&t->pool_lock);
}

static void *kb_srcu_torture_updater(void *arg)
{
	struct kb_srcu_torture_thread *me = arg;
	struct kb_srcu_torture *t = me->t;
	const int64_t max_updates = t->cfg->max_updates;

	(void)kb_torture_pin(me->index);
	kb_srcu_torture_wait_go(t);
	while (!kb_srcu_torture_stopping(t)) {
		struct kb_srcu_torture_elem *p, *old;
		bool exp;

		if (max_updates > 0 &&
		    __atomic_fetch_add(&t->updates, 1, __ATOMIC_RELAXED) >= (uint64_t)max_updates)
			break;
		p = kb_srcu_torture_alloc(t);
		if (p == NULL) { /* every element waits for a grace period elsewhere */
			sched_yield();
			continue;
		}
		/* rcu_replace_pointer(): the element's set-up before it is reachable. */
		old = __atomic_exchange_n(&t->cur, p, __ATOMIC_ACQ_REL);
		exp = t->cfg->gp == KB_SRCU_TORTURE_EXPEDITED ||
		      (t->cfg->gp == KB_SRCU_TORTURE_MIX && (kb_srcu_torture_rand(&me->seed) & 1));
		if (exp) {
			kb_synchronize_srcu_expedited(&t->srcu);
			me->expedited++;
		} else {
			kb_synchronize_srcu(&t->srcu);
		}
		kb_srcu_torture_free(t, old);
		me->updates++;
	}
	return NULL;
}

static bool kb_srcu_torture_config_ok(const kb_srcu_torture_config_t *cfg)
{
	return cfg->readers >= 1 && cfg->readers <= KB_SRCU_TORTURE_MAX_THREADS &&
	       cfg->updaters >= 1 && cfg->updaters <= KB_SRCU_TORTURE_MAX_THREADS &&
	       cfg->busted >= KB_SRCU_BUSTED_NONE && cfg->busted <= KB_SRCU_BUSTED_MAX &&
	       cfg->gp >= KB_SRCU_TORTURE_NORMAL && cfg->gp <= KB_SRCU_TORTURE_MIX &&
	       cfg->sleep_every >= 1 && cfg->sleep_every <= 1000000 && cfg->sleep_us >= 0 &&
	       cfg->sleep_us <= 100000 && cfg->duration_ns > 0 &&
	       cfg->duration_ns <= KB_SRCU_TORTURE_MAX_NS && cfg->max_updates >= 0;
}

static void kb_srcu_torture_sleep_until(struct kb_srcu_torture *t, int64_t end)
{
	for (;;) {
		int64_t left = end - kb_now_ns();
		struct timespec ts;

		if (left <= 0 || kb_torture_stop_requested())
			return;
		if (left > 10000000)
			left = 10000000; /* check the stop request every 10 ms */
		ts.tv_sec = 0;
		ts.tv_nsec = left;
		nanosleep(&ts, NULL);
		if (t->cfg->max_updates > 0 &&
		    __atomic_load_n(&t->updates, __ATOMIC_RELAXED) >= (uint64_t)t->cfg->max_updates)
			return;
	}
}

/**
 * kb_srcu_torture() - run SRCU readers (some sleeping) against updaters.
 * @cfg: what to run (see struct kb_srcu_torture_config).
 * @res: filled with what the run observed.
 *
 * Context: blocks for about @cfg->duration_ns (less if
 * kb_torture_request_stop() is called); touches no Python object.
 * Return: KB_OK, KB_EINVAL for a bad configuration, KB_ENOMEM or KB_EAGAIN
 * if the run could not be set up (no thread started then, or all joined).
 */
int kb_srcu_torture(const kb_srcu_torture_config_t *cfg, kb_srcu_torture_result_t *res)
{
	struct kb_srcu_torture *t;
	struct kb_srcu_torture_thread *th;
	int n, started = 0, rc = KB_OK;
	int64_t start;
	uint64_t gp0;

	if (cfg == NULL || res == NULL || !kb_srcu_torture_config_ok(cfg))
		return KB_EINVAL;
	n = cfg->readers + cfg->updaters;
	t = calloc(1, sizeof(*t));
	th = calloc((size_t)n, sizeof(*th));
	if (t == NULL || th == NULL) {
		free(t);
		free(th);
		return KB_ENOMEM;
	}
	kb_srcu_init(&t->srcu);
	t->srcu.busted = cfg->busted;
	t->cfg = cfg;
	kb_spin_lock_init(&t->pool_lock);
	for (int i = 1; i < KB_SRCU_TORTURE_POOL; i++)
		kb_srcu_torture_free(t, &t->elems[i]);
	t->elems[0].state = KB_SRCU_TORTURE_LIVE;
	t->elems[0].gen = ++t->gen;
	t->cur = &t->elems[0];
	gp0 = kb_srcu_gp_count(&t->srcu);

	for (int i = 0; i < n; i++) {
		th[i].t = t;
		th[i].index = i;
		th[i].seed = 0x9e3779b97f4a7c15ULL * (uint64_t)(i + 1);
		if (pthread_create(&th[i].tid, NULL,
				   i < cfg->readers ? kb_srcu_torture_reader : kb_srcu_torture_updater,
				   &th[i]) != 0) {
			rc = KB_EAGAIN;
			break;
		}
		started++;
	}
	start = kb_now_ns();
	/* Release: the set-up above before every thread's first access. */
	__atomic_store_n(&t->go, 1, __ATOMIC_RELEASE);
	if (rc == KB_OK)
		kb_srcu_torture_sleep_until(t, kb_deadline_after(start, cfg->duration_ns));
	KB_WRITE_ONCE(t->stop, 1);
	for (int i = 0; i < started; i++)
		pthread_join(th[i].tid, NULL);

	memset(res, 0, sizeof(*res));
	res->elapsed_ns = kb_now_ns() - start;
	res->stopped_early = kb_torture_stop_requested();
	for (int i = 0; i < started; i++) {
		res->reads += th[i].reads;
		res->sleeping_reads += th[i].sleeping_reads;
		res->updates += th[i].updates;
		res->expedited += th[i].expedited;
		res->freed_seen += th[i].freed_seen;
	}
	res->errors = res->freed_seen;
	res->grace_periods = kb_srcu_gp_count(&t->srcu) - gp0;
	free(th);
	free(t);
	return rc;
}

/* SPDX-License-Identifier: MIT */
/*
 * csrc/tools/lock_torture.c - a lock torture test in C threads, after the
 * kernel's locktorture (kernel/locking/locktorture.c,
 * Documentation/locking/locktorture.rst).
 *
 * Writer threads take the lock, rewrite a record of words (all equal)
 * half before and half after a busy hold, and let go; reader threads take
 * it too (neither kb_spinlock_t nor kb_mutex_t has a shared mode) and
 * check the record's words are equal.  Every holder bumps a shared "inside"
 * counter on entry and drops it on exit: finding it nonzero on entry means
 * two holders at once, a failure counted against the acquisition (the
 * kernel's n_lock_fail).  One hold in @long_every is long and yields the
 * CPU in the middle, so a waiter gets to run even when it shares the CPU.
 * Per-thread acquisition counts give the fairness spread (Max/Min).
 *
 * The busted variants replace the lock: NO_LOCK takes nothing (the
 * kernel's lock_busted), NO_RMW tests the word and then stores to it, with
 * a window in between, instead of one atomic exchange.
 *
 * Every racing access is marked (the busted locks race for real).  Runs
 * with the GIL released (cffi) and touches no Python object.
 */
#include "kbind.h"

#include <pthread.h>
#include <sched.h>
#include <string.h>

/* Longest run allowed (one hour, as every kbind torture). */
#define KB_LT_MAX_NS (3600LL * 1000000000LL)
#define KB_LT_MAX_HOLD_NS 1000000LL	  /* 1 ms */
#define KB_LT_MAX_LONG_NS 100000000LL	  /* 100 ms */
#define KB_LT_MAX_EVERY 1000000000LL
/* CPU-relax pauses in the NO_RMW lock between its test and its store. */
#define KB_LT_BUSTED_WINDOW 32

struct kb_lt {
	kb_spinlock_t spin;
	kb_mutex_t mutex;
	uint32_t busted_word;
	/* The protected record, on its own cache line. */
	_Alignas(64) int64_t words[KB_LOCK_TORTURE_WORDS];
	_Alignas(64) int64_t inside;	/* atomic RMW by every holder */
	int64_t max_holders;		/* atomic max */
	_Alignas(64) kb_lock_torture_config_t cfg;
	int stop;			/* marked: set by the controller */
	int go;				/* release store by the controller */
};

struct kb_lt_thread {
	struct kb_lt *t;
	pthread_t tid;
	int32_t index;
	bool writer;
	int64_t acquisitions;
	int64_t fails;
	int64_t torn;
	int64_t long_holds;
	uint64_t rng;
};

static uint64_t kb_lt_random(struct kb_lt_thread *me)
{
	/* xorshift64: a per-thread stream, no shared state. */
	me->rng ^= me->rng << 13;
	me->rng ^= me->rng >> 7;
	me->rng ^= me->rng << 17;
	return me->rng;
}

static void kb_lt_busted_lock(struct kb_lt *t)
{
	struct kb_backoff b = KB_BACKOFF_INIT;

	/*
	 * BUGGY on purpose: the test and the set are two accesses, so two
	 * lockers that both see the word free both get in.  The window makes
	 * that likely; the yield makes it possible on a single CPU too.
	 */
	while (KB_READ_ONCE(t->busted_word))
		(void)kb_backoff_wait(&b, -1);
	for (int i = 0; i < KB_LT_BUSTED_WINDOW; i++)
		kb_cpu_relax();
	sched_yield();
	KB_WRITE_ONCE(t->busted_word, 1);
}

static void kb_lt_lock(struct kb_lt *t)
{
	switch (t->cfg.busted) {
	case KB_LOCK_BUSTED_NO_LOCK:
		return; /* the kernel's lock_busted: no lock at all */
	case KB_LOCK_BUSTED_NO_RMW:
		kb_lt_busted_lock(t);
		return;
	default:
		break;
	}
	if (t->cfg.lock == KB_LOCK_TORTURE_MUTEX)
		kb_mutex_lock(&t->mutex);
	else
		kb_spin_lock(&t->spin);
}

static void kb_lt_unlock(struct kb_lt *t)
{
	switch (t->cfg.busted) {
	case KB_LOCK_BUSTED_NO_LOCK:
		return;
	case KB_LOCK_BUSTED_NO_RMW:
		__atomic_store_n(&t->busted_word, 0, __ATOMIC_RELEASE);
		return;
	default:
		break;
	}
	if (t->cfg.lock == KB_LOCK_TORTURE_MUTEX)
		kb_mutex_unlock(&t->mutex);
	else
		kb_spin_unlock(&t->spin);
}

/* Entering the critical section: was somebody else inside? */
static void kb_lt_enter(struct kb_lt *t, struct kb_lt_thread *me)
{
	int64_t now = __atomic_fetch_add(&t->inside, 1, __ATOMIC_RELAXED) + 1;
	int64_t max = __atomic_load_n(&t->max_holders, __ATOMIC_RELAXED);

	if (now > 1)
		me->fails++;
	while (now > max && !__atomic_compare_exchange_n(&t->max_holders, &max, now, true,
							 __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		;
}

static void kb_lt_exit(struct kb_lt *t)
{
	__atomic_fetch_sub(&t->inside, 1, __ATOMIC_RELAXED);
}

/* The hold: short mostly, long (yielding once in the middle) one time in @long_every. */
static void kb_lt_hold(struct kb_lt *t, struct kb_lt_thread *me, int64_t ns)
{
	const kb_lock_torture_config_t *cfg = &t->cfg;

	if (cfg->long_hold_ns > 0 && kb_lt_random(me) % (uint64_t)cfg->long_every == 0) {
		kb_ndelay(cfg->long_hold_ns / 2);
		sched_yield();
		kb_ndelay(cfg->long_hold_ns - cfg->long_hold_ns / 2);
		me->long_holds++;
		return;
	}
	kb_ndelay(ns);
}

static void kb_lt_write_section(struct kb_lt *t, struct kb_lt_thread *me)
{
	const int n = KB_LOCK_TORTURE_WORDS;
	/* Only holders store: for a real lock this load races with nobody. */
	int64_t v = KB_READ_ONCE(t->words[0]) + 1;
	int i;

	/* Half the record, the hold, the other half: a torn record in between. */
	for (i = 0; i < n / 2; i++)
		KB_WRITE_ONCE(t->words[i], v);
	kb_lt_hold(t, me, t->cfg.hold_ns);
	for (; i < n; i++)
		KB_WRITE_ONCE(t->words[i], v);
}

static void kb_lt_read_section(struct kb_lt *t, struct kb_lt_thread *me)
{
	int64_t first = KB_READ_ONCE(t->words[0]);
	bool torn = false;

	kb_lt_hold(t, me, t->cfg.read_hold_ns);
	for (int i = 1; i < KB_LOCK_TORTURE_WORDS; i++)
		if (KB_READ_ONCE(t->words[i]) != first)
			torn = true;
	if (torn)
		me->torn++;
}

static void *kb_lt_thread_fn(void *arg)
{
	struct kb_lt_thread *me = arg;
	struct kb_lt *t = me->t;
	const int64_t gap = me->writer ? t->cfg.hold_ns : t->cfg.read_hold_ns;

	(void)kb_torture_pin(me->index);
	/* Pairs with the release store in kb_lock_torture(): the set-up is visible. */
	while (!__atomic_load_n(&t->go, __ATOMIC_ACQUIRE))
		sched_yield();
	while (!KB_READ_ONCE(t->stop) && !kb_torture_stop_requested()) {
		kb_lt_lock(t);
		kb_lt_enter(t, me);
		if (me->writer)
			kb_lt_write_section(t, me);
		else
			kb_lt_read_section(t, me);
		kb_lt_exit(t);
		kb_lt_unlock(t);
		me->acquisitions++;
		/* A random pause outside, so the last holder does not always win. */
		if (gap > 0)
			kb_ndelay((int64_t)(kb_lt_random(me) % (uint64_t)(gap + 1)));
	}
	return NULL;
}

static int kb_lt_check(const kb_lock_torture_config_t *cfg)
{
	if (cfg->lock != KB_LOCK_TORTURE_SPIN && cfg->lock != KB_LOCK_TORTURE_MUTEX)
		return KB_EINVAL;
	if (cfg->busted < KB_LOCK_BUSTED_NONE || cfg->busted > KB_LOCK_BUSTED_NO_RMW)
		return KB_EINVAL;
	if (cfg->writers < 0 || cfg->readers < 0 || cfg->writers + cfg->readers < 1 ||
	    cfg->writers + cfg->readers > KB_LOCK_TORTURE_MAX_THREADS)
		return KB_EINVAL;
	if (cfg->hold_ns < 0 || cfg->hold_ns > KB_LT_MAX_HOLD_NS || cfg->read_hold_ns < 0 ||
	    cfg->read_hold_ns > KB_LT_MAX_HOLD_NS || cfg->long_hold_ns < 0 ||
	    cfg->long_hold_ns > KB_LT_MAX_LONG_NS || cfg->long_every < 1 ||
	    cfg->long_every > KB_LT_MAX_EVERY)
		return KB_EINVAL;
	if (cfg->duration_ns <= 0 || cfg->duration_ns > KB_LT_MAX_NS)
		return KB_EINVAL;
	return KB_OK;
}

static void kb_lt_spread(const struct kb_lt_thread *th, int from, int to, int64_t *total,
			 int64_t *max, int64_t *min)
{
	*total = *max = *min = 0;
	for (int i = from; i < to; i++) {
		int64_t n = th[i].acquisitions;

		*total += n;
		if (i == from || n > *max)
			*max = n;
		if (i == from || n < *min)
			*min = n;
	}
}

/**
 * kb_lock_torture() - run writers and readers on one lock (kernel: locktorture).
 * @cfg: what to run (validated: KB_EINVAL if anything is out of range).
 * @res: filled with the per-thread counts and the totals; zeroed first.
 *
 * Starts @cfg->writers writer then @cfg->readers reader threads (pinned if
 * kb_torture_set_cpus() set a list), lines them up on a start flag, lets
 * them run for @cfg->duration_ns or until kb_torture_request_stop(), stops
 * and joins them.
 * Context: blocks the caller for about @cfg->duration_ns; never touches
 * Python objects.
 * Return: KB_OK; KB_EINVAL for a bad @cfg (nothing run); KB_EAGAIN if
 * threads could not be created (the ones started are stopped and joined).
 */
int kb_lock_torture(const kb_lock_torture_config_t *cfg, kb_lock_torture_result_t *res)
{
	struct kb_lt *t;
	struct kb_lt_thread *th;
	int nthreads, started = 0, ret;
	int64_t t0, deadline;

	if (!cfg || !res)
		return KB_EINVAL;
	ret = kb_lt_check(cfg);
	if (ret != KB_OK)
		return ret;
	memset(res, 0, sizeof(*res));
	nthreads = cfg->writers + cfg->readers;
	t = aligned_alloc(64, sizeof(*t));
	th = calloc((size_t)nthreads, sizeof(*th));
	if (!t || !th) {
		free(t);
		free(th);
		return KB_EAGAIN;
	}
	memset(t, 0, sizeof(*t));
	kb_spin_lock_init(&t->spin);
	kb_mutex_init(&t->mutex);
	t->cfg = *cfg;

	for (int i = 0; i < nthreads; i++) {
		th[i].t = t;
		th[i].index = i;
		th[i].writer = i < cfg->writers;
		th[i].rng = 0x9E3779B97F4A7C15ULL * (uint64_t)(i + 1);
		if (pthread_create(&th[i].tid, NULL, kb_lt_thread_fn, &th[i]) != 0) {
			ret = KB_EAGAIN;
			KB_WRITE_ONCE(t->stop, 1); /* the started ones leave at once */
			break;
		}
		started++;
	}
	t0 = kb_now_ns();
	deadline = kb_deadline_after(t0, cfg->duration_ns);
	/* Pairs with the acquire in kb_lt_thread_fn(). */
	__atomic_store_n(&t->go, 1, __ATOMIC_RELEASE);
	while (ret == KB_OK) {
		int64_t left = deadline - kb_now_ns();
		struct timespec ts;

		if (left <= 0 || kb_torture_stop_requested())
			break;
		if (left > 1000000)
			left = 1000000;
		ts.tv_sec = 0;
		ts.tv_nsec = (long)left;
		nanosleep(&ts, NULL);
	}
	KB_WRITE_ONCE(t->stop, 1);
	for (int i = 0; i < started; i++)
		pthread_join(th[i].tid, NULL);
	res->elapsed_ns = kb_now_ns() - t0;
	for (int i = 0; i < started; i++) {
		res->acquisitions[i] = th[i].acquisitions;
		if (th[i].writer)
			res->write_fail += th[i].fails;
		else
			res->read_fail += th[i].fails;
		res->torn_reads += th[i].torn;
		res->long_holds += th[i].long_holds;
	}
	kb_lt_spread(th, 0, cfg->writers < started ? cfg->writers : started, &res->write_total,
		     &res->write_max, &res->write_min);
	kb_lt_spread(th, cfg->writers, started, &res->read_total, &res->read_max, &res->read_min);
	res->max_holders = __atomic_load_n(&t->max_holders, __ATOMIC_RELAXED);
	res->stopped_early = kb_torture_stop_requested();
	res->pinned = kb_torture_ncpus() > 0;
	free(th);
	free(t);
	return ret;
}

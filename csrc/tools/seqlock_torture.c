/* SPDX-License-Identifier: MIT */
/*
 * csrc/tools/seqlock_torture.c - a seqlock torture test in C threads.
 *
 * In the spirit of the kernel's rcutorture/locktorture: writers keep an
 * invariant across a record of several words (all words equal), storing
 * the words one at a time with pauses in between, so a reader that is not
 * protected by the sequence check is very likely to see a half-written
 * record.  Readers check the invariant on every read the retry check
 * accepts and count violations, retries and reads.  A correct seqlock
 * shows zero violations; every busted variant (KB_SEQ_BUSTED_*) shows many
 * within a fraction of a second.
 *
 * Runs with the GIL released (cffi) and touches no Python object.
 */
#include "kbind.h"
#include "engine/seqlock_internal.h"

#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

/* Longest run allowed (one hour), so a typo cannot hang a test run. */
#define KB_SEQ_TORTURE_MAX_NS (3600LL * 1000000000LL)
#define KB_SEQ_TORTURE_MAX_SPINS 100000
/* One read in this many is a long read (a stall in mid-copy). */
#define KB_SEQ_TORTURE_LONG_EVERY 16
#define KB_SEQ_TORTURE_LONG_SPINS 64
/* CPU-relax pauses a writer leaves between two write sections. */
#define KB_SEQ_TORTURE_WRITER_GAP 32

struct kb_seq_torture {
	kb_seqlock_t sl;
	/* The protected record, on its own cache lines. */
	_Alignas(64) int64_t words[KB_SEQ_TORTURE_MAX_WORDS];
	_Alignas(64) kb_seqlock_torture_config_t cfg;
	int stop;		/* marked accesses: set by the controller */
	int readers_done;	/* marked RMW: readers that hit max_reads */
	int go;			/* release store by the controller: start */
};

struct kb_seq_torture_thread {
	struct kb_seq_torture *t;
	pthread_t tid;
	int32_t index;		/* for kb_torture_pin() */
	int64_t reads;
	int64_t successes;
	int64_t retries;
	int64_t writes;
	int64_t violations;
	int64_t first_bad_word;
	int64_t max_run;
};

static void kb_seq_torture_pause(int spins)
{
	for (int i = 0; i < spins; i++)
		kb_cpu_relax();
}

/*
 * Line up: wait for the controller's go.  The acquire pairs with the
 * release store in kb_seqlock_torture(), which orders its set-up (the
 * record, the config) before every thread's first access.
 */
static void kb_seq_torture_wait_go(struct kb_seq_torture *t)
{
	while (!__atomic_load_n(&t->go, __ATOMIC_ACQUIRE))
		sched_yield();
}

static void *kb_seq_torture_reader(void *arg)
{
	struct kb_seq_torture_thread *me = arg;
	struct kb_seq_torture *t = me->t;
	const int n = t->cfg.words;
	const int busted = t->cfg.busted;
	const int64_t max_reads = t->cfg.max_reads;
	const int spins = t->cfg.reader_spins;
	const int long_reads = t->cfg.check; /* benchmarks measure plain reads */
	int64_t local[KB_SEQ_TORTURE_MAX_WORDS];
	int64_t run = 0;

	(void)kb_torture_pin(me->index);
	kb_seq_torture_wait_go(t);
	while (!KB_READ_ONCE(t->stop)) {
		uint32_t seq;
		int i;

		if (max_reads && me->reads >= max_reads)
			break;
		seq = kb__read_seqcount_begin(&t->sl.seqcount);
		/* The read section: racing loads, all marked. */
		for (i = 0; i < n; i++) {
			local[i] = KB_READ_ONCE(t->words[i]);
			kb_seq_torture_pause(spins);
			/*
			 * Every KB_SEQ_TORTURE_LONG_EVERY-th read stalls in the
			 * middle (rcutorture's long readers): a spin, then a
			 * yield, so a writer gets to run even when it shares
			 * this CPU.  Busted variants then accept a torn record
			 * however the threads are scheduled.
			 */
			if (i == n / 2 && long_reads && (me->reads % KB_SEQ_TORTURE_LONG_EVERY) == 0) {
				kb_seq_torture_pause(KB_SEQ_TORTURE_LONG_SPINS);
				sched_yield();
			}
		}
		me->reads++;
		if (kb__read_seqcount_retry(&t->sl.seqcount, seq, busted)) {
			me->retries++;
			if (++run > me->max_run)
				me->max_run = run;
			continue;
		}
		run = 0;
		me->successes++;
		if (!t->cfg.check)
			continue;
		for (i = 1; i < n; i++) {
			if (local[i] != local[0]) {
				if (me->violations++ == 0)
					me->first_bad_word = i;
				break;
			}
		}
	}
	__atomic_fetch_add(&t->readers_done, 1, __ATOMIC_RELAXED);
	return NULL;
}

static void *kb_seq_torture_writer(void *arg)
{
	struct kb_seq_torture_thread *me = arg;
	struct kb_seq_torture *t = me->t;
	const int n = t->cfg.words;
	const int busted = t->cfg.busted;
	const int spins = t->cfg.writer_spins;

	(void)kb_torture_pin(me->index);
	kb_seq_torture_wait_go(t);
	while (!KB_READ_ONCE(t->stop)) {
		int64_t v;

		kb_spin_lock(&t->sl.lock);
		kb__write_seqcount_begin(&t->sl.seqcount, busted);
		/* Only writers store, under the lock: this load races with nobody. */
		v = KB_READ_ONCE(t->words[0]) + 1;
		/*
		 * Last word first, with pauses: readers copy first word first,
		 * so a reader that overlaps the start of this write sees a new
		 * last word and old first words.  Were both in the same order,
		 * a slow writer would rarely be overtaken and torn reads would
		 * be rare even for a busted reader.
		 */
		for (int i = n - 1; i >= 0; i--) {
			KB_WRITE_ONCE(t->words[i], v);
			kb_seq_torture_pause(spins);
		}
		kb__write_seqcount_end(&t->sl.seqcount);
		kb_spin_unlock(&t->sl.lock);
		me->writes++;
		/*
		 * Leave readers a window: a writer that re-enters at once keeps
		 * the sequence odd nearly all the time and starves them (the
		 * incessant-writer case read_seqbegin_or_lock() exists for).
		 */
		kb_seq_torture_pause(KB_SEQ_TORTURE_WRITER_GAP + spins * n);
	}
	return NULL;
}

static int kb_seq_torture_check(const kb_seqlock_torture_config_t *cfg)
{
	if (cfg->readers < 0 || cfg->readers > KB_SEQ_TORTURE_MAX_THREADS ||
	    cfg->writers < 0 || cfg->writers > KB_SEQ_TORTURE_MAX_THREADS ||
	    cfg->readers + cfg->writers < 1)
		return KB_EINVAL;
	if (cfg->words < 2 || cfg->words > KB_SEQ_TORTURE_MAX_WORDS)
		return KB_EINVAL;
	if (cfg->duration_ns <= 0 || cfg->duration_ns > KB_SEQ_TORTURE_MAX_NS)
		return KB_EINVAL;
	if (cfg->max_reads < 0 || cfg->writer_spins < 0 ||
	    cfg->writer_spins > KB_SEQ_TORTURE_MAX_SPINS || cfg->reader_spins < 0 ||
	    cfg->reader_spins > KB_SEQ_TORTURE_MAX_SPINS || cfg->reserved != 0)
		return KB_EINVAL;
	if (cfg->busted < KB_SEQ_BUSTED_NONE || cfg->busted > KB_SEQ_BUSTED_MAX)
		return KB_EINVAL;
	if (cfg->check != 0 && cfg->check != 1)
		return KB_EINVAL;
	return KB_OK;
}

/**
 * kb_seqlock_torture() - run readers and writers on one seqlock.
 * @cfg: what to run (validated: KB_EINVAL if anything is out of range).
 * @res: filled with the totals.
 *
 * Starts @cfg->readers reader and @cfg->writers writer threads, lines them
 * up on a start flag, lets them run for @cfg->duration_ns (or until every
 * reader has made @cfg->max_reads attempts), stops and joins them.
 * Context: blocks the calling thread for about @cfg->duration_ns; never
 * touches Python objects.
 * Return: KB_OK; KB_EINVAL for a bad @cfg (nothing run); KB_EAGAIN if
 * threads could not be created (the ones started are stopped and joined).
 */
int kb_seqlock_torture(const kb_seqlock_torture_config_t *cfg, kb_seqlock_torture_result_t *res)
{
	struct kb_seq_torture *t;
	struct kb_seq_torture_thread *th;
	int nthreads, started = 0, ret;
	int64_t t0, deadline;

	if (!cfg || !res)
		return KB_EINVAL;
	ret = kb_seq_torture_check(cfg);
	if (ret != KB_OK)
		return ret;
	memset(res, 0, sizeof(*res));
	res->first_violation_word = -1;

	nthreads = cfg->readers + cfg->writers;
	t = aligned_alloc(64, sizeof(*t));
	th = calloc((size_t)nthreads, sizeof(*th));
	if (!t || !th) {
		free(t);
		free(th);
		return KB_EAGAIN;
	}
	memset(t, 0, sizeof(*t));
	kb_seqlock_init(&t->sl);
	t->cfg = *cfg;

	for (int i = 0; i < nthreads; i++) {
		th[i].t = t;
		th[i].index = i;
		th[i].first_bad_word = -1;
		if (pthread_create(&th[i].tid, NULL,
				   i < cfg->readers ? kb_seq_torture_reader : kb_seq_torture_writer,
				   &th[i]) != 0) {
			ret = KB_EAGAIN;
			/* Let the threads already started see stop and leave. */
			KB_WRITE_ONCE(t->stop, 1);
			break;
		}
		started++;
	}

	t0 = kb_now_ns();
	deadline = kb_deadline_after(t0, cfg->duration_ns);
	/* Pairs with the acquire in kb_seq_torture_wait_go(). */
	__atomic_store_n(&t->go, 1, __ATOMIC_RELEASE);
	while (ret == KB_OK) {
		int64_t left = deadline - kb_now_ns();
		struct timespec ts;

		if (left <= 0 || kb_torture_stop_requested())
			break;
		if (cfg->max_reads && cfg->readers > 0 &&
		    __atomic_load_n(&t->readers_done, __ATOMIC_RELAXED) == cfg->readers)
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
		res->reads += th[i].reads;
		res->successful_reads += th[i].successes;
		res->retries += th[i].retries;
		res->writes += th[i].writes;
		res->violations += th[i].violations;
		if (res->first_violation_word < 0)
			res->first_violation_word = th[i].first_bad_word;
		if (th[i].max_run > res->max_retries_in_a_row)
			res->max_retries_in_a_row = th[i].max_run;
	}
	free(th);
	free(t);
	return ret;
}

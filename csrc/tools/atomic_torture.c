/* SPDX-License-Identifier: MIT */
/*
 * csrc/tools/atomic_torture.c - hammer the LKMM atomics from C threads and check
 * three invariants that hold only if the operations are really atomic and
 * really ordered:
 *
 *  1. Exact counting: every thread increments one shared atomic64_t with
 *     each ordering (fetch_add, add_return_acquire, fetch_add_release, inc)
 *     and tallies its own increments; the final value equals the sum.
 *  2. Lock-free retry loops: increments by try_cmpxchg() loops lose nothing.
 *  3. Message passing: thread 0 writes a payload, then publishes its number
 *     with atomic64_set_release(); the others read the number with
 *     atomic64_read_acquire() and check the payload is at least that new.
 *
 * Busted variants prove the checks can fail: TORN_RMW replaces each
 * increment by a plain load then store (updates get lost under
 * contention); EARLY_PUBLISH stores the flag before the payload (readers
 * see a payload older than the flag).
 */
#include "kbind.h"

#include <pthread.h>
#include <sched.h>
#include <string.h>

#define KB_AT_PAYLOAD 4

struct kb_at_shared {
	kb_atomic64_t counter;
	char pad1[56];
	kb_atomic64_t cmpxchg_counter;
	char pad2[56];
	kb_atomic64_t flag;
	char pad3[56];
	int64_t payload[KB_AT_PAYLOAD];
	const kb_atomic_torture_config_t *cfg;
	int64_t deadline;
};

struct kb_at_thread {
	struct kb_at_shared *sh;
	pthread_t tid;
	int id;
	int64_t increments, cmpxchg_increments, cmpxchg_failures;
	int64_t messages, checks, violations;
};

/* One increment of @v with the ordering picked by @k, or a torn one. */
static inline void kb_at_increment(kb_atomic64_t *v, unsigned int k, bool torn)
{
	if (torn) {
		/* The bug under test: a read-modify-write that is not atomic. */
		int64_t old = kb_atomic64_read(v);

		kb_cpu_relax();
		kb_atomic64_set(v, old + 1);
		return;
	}
	switch (k & 3) {
	case 0:
		(void)kb_atomic64_fetch_add(1, v);
		break;
	case 1:
		(void)kb_atomic64_add_return_acquire(1, v);
		break;
	case 2:
		(void)kb_atomic64_fetch_add_release(1, v);
		break;
	default:
		kb_atomic64_inc(v);
		break;
	}
}

static void kb_at_publish(struct kb_at_shared *sh, struct kb_at_thread *t, bool early)
{
	int64_t next = kb_atomic64_read(&sh->flag) + 1;
	int i;

	if (early) /* the bug under test: flag first, payload after */
		kb_atomic64_set_release(&sh->flag, next);
	for (i = 0; i < KB_AT_PAYLOAD; i++) {
		KB_WRITE_ONCE(sh->payload[i], next);
		kb_cpu_relax(); /* widen the window a reader can fall into */
	}
	/* Orders the payload stores before the flag; pairs with kb_at_check(). */
	if (!early)
		kb_atomic64_set_release(&sh->flag, next);
	t->messages++;
}

static void kb_at_check(struct kb_at_shared *sh, struct kb_at_thread *t)
{
	/* Orders the payload loads after the flag; pairs with kb_at_publish(). */
	int64_t f = kb_atomic64_read_acquire(&sh->flag);
	int i;

	if (f == 0)
		return;
	t->checks++;
	for (i = 0; i < KB_AT_PAYLOAD; i++) {
		if (KB_READ_ONCE(sh->payload[i]) < f) {
			t->violations++;
			break;
		}
	}
}

static void *kb_at_worker(void *arg)
{
	struct kb_at_thread *t = arg;
	struct kb_at_shared *sh = t->sh;
	const kb_atomic_torture_config_t *cfg = sh->cfg;
	bool torn = cfg->busted == KB_ATOMIC_BUSTED_TORN_RMW;
	bool early = cfg->busted == KB_ATOMIC_BUSTED_EARLY_PUBLISH;
	unsigned int k = 0;

	(void)kb_torture_pin(t->id);
	/* KB_READ_ONCE: the start-up error path stops the workers (races). */
	while (!kb_torture_stop_requested() && kb_now_ns() < KB_READ_ONCE(sh->deadline) &&
	       (cfg->max_ops <= 0 || t->increments < cfg->max_ops)) {
		int j;

		for (j = 0; j < 64; j++, k++) {
			kb_at_increment(&sh->counter, k, torn);
			t->increments++;
		}
		for (j = 0; j < 16; j++) {
			int64_t old = kb_atomic64_read(&sh->cmpxchg_counter);

			if (torn) {
				kb_atomic64_set(&sh->cmpxchg_counter, old + 1);
			} else {
				while (!kb_atomic64_try_cmpxchg(&sh->cmpxchg_counter, &old, old + 1))
					t->cmpxchg_failures++;
			}
			t->cmpxchg_increments++;
		}
		for (j = 0; j < 8; j++) {
			if (t->id == 0)
				kb_at_publish(sh, t, early);
			else
				kb_at_check(sh, t);
		}
	}
	return NULL;
}

/**
 * kb_atomic_torture() - run the atomic torture test.
 * @cfg: the run (validated).
 * @res: filled with totals; zeroed first.
 *
 * Context: blocks the caller for about @cfg->duration_ns (less if a stop
 * is requested); creates and joins its own threads.
 * Return: KB_OK, KB_EINVAL for a bad @cfg, KB_EAGAIN if threads could not
 * be created.
 */
int kb_atomic_torture(const kb_atomic_torture_config_t *cfg, kb_atomic_torture_result_t *res)
{
	struct kb_at_thread *th;
	struct kb_at_shared *sh;
	int i, started = 0, rc = KB_OK;
	int64_t t0;

	if (!cfg || !res || cfg->threads < 2 || cfg->threads > KB_ATOMIC_TORTURE_MAX_THREADS ||
	    cfg->duration_ns <= 0 || cfg->busted < KB_ATOMIC_BUSTED_NONE ||
	    cfg->busted > KB_ATOMIC_BUSTED_EARLY_PUBLISH)
		return KB_EINVAL;
	memset(res, 0, sizeof(*res));
	sh = calloc(1, sizeof(*sh));
	th = calloc((size_t)cfg->threads, sizeof(*th));
	if (!sh || !th) {
		free(sh);
		free(th);
		return KB_EAGAIN;
	}
	sh->cfg = cfg;
	t0 = kb_now_ns();
	sh->deadline = kb_deadline_after(t0, cfg->duration_ns);
	for (i = 0; i < cfg->threads; i++) {
		th[i].sh = sh;
		th[i].id = i;
		if (pthread_create(&th[i].tid, NULL, kb_at_worker, &th[i]) != 0) {
			rc = KB_EAGAIN;
			KB_WRITE_ONCE(sh->deadline, 0); /* the started ones stop at once */
			break;
		}
		started++;
	}
	for (i = 0; i < started; i++) {
		pthread_join(th[i].tid, NULL);
		res->increments += th[i].increments;
		res->cmpxchg_increments += th[i].cmpxchg_increments;
		res->cmpxchg_failures += th[i].cmpxchg_failures;
		res->messages += th[i].messages;
		res->message_checks += th[i].checks;
		res->message_violations += th[i].violations;
	}
	res->counter = kb_atomic64_read(&sh->counter);
	res->cmpxchg_counter = kb_atomic64_read(&sh->cmpxchg_counter);
	res->elapsed_ns = kb_now_ns() - t0;
	res->stopped_early = kb_torture_stop_requested();
	free(sh);
	free(th);
	return rc;
}

/* SPDX-License-Identifier: MIT */
/*
 * csrc/tools/rcu_torture_readers.c - the readers of the RCU torture
 * (csrc/tools/rcu_torture.c), one function per reader kind, as
 * rcutorture's rcu_torture_reader() and its read-side variants
 * (kernel/rcu/rcutorture.c: rcu_torture_one_read(), nested readers, SRCU's
 * srcu_torture_read_lock()).
 *
 * Each section watches the element it reached for a few hundred loads: if
 * it is freed or reused under the reader, or reaches age 2, the engine is
 * broken (Reader Pipe).  Each section also records how many grace periods
 * completed while it ran (Reader Batch): kb_rcu_gp_count() for the RCU
 * kinds, the run's SRCU domain's kb_srcu_gp_count() for SRCU readers.
 */
#include "tools/rcu_torture_internal.h"

#include <sched.h>
#include <string.h>

#define KB_TORTURE_DEFAULT_SPIN 256

/* Watch @e for @spin loads: false if it is freed or reused; track its age. */
static bool kb_torture_watch(const struct kb_torture_elem *e, uint32_t gen, int spin,
			     uint32_t *maxage)
{
	int k;

	for (k = 0; k < spin; k++) {
		uint32_t age;

		if (KB_READ_ONCE(e->freed) || KB_READ_ONCE(e->gen) != gen ||
		    KB_READ_ONCE(e->magic) != KB_TORTURE_MAGIC)
			return false;
		age = KB_READ_ONCE(e->age);
		if (age > *maxage)
			*maxage = age;
	}
	return true;
}

static void kb_torture_record(struct kb_torture_reader_stats *st, uint32_t maxage, uint64_t gps,
			      bool bad)
{
	st->reads++;
	st->pipe[maxage < KB_RCU_TORTURE_PIPE_LEN ? maxage : KB_RCU_TORTURE_PIPE_LEN - 1]++;
	st->batch[gps < KB_RCU_TORTURE_PIPE_LEN ? gps : KB_RCU_TORTURE_PIPE_LEN - 1]++;
	if (bad)
		st->freed_seen++;
	if (maxage >= 2)
		st->too_old++;
}

/* A plain section: one element, watched while it is held. */
static void kb_torture_read_plain(struct kb_torture *t, int spin, struct kb_torture_reader_stats *st)
{
	struct kb_torture_elem *e;
	uint32_t maxage = 0;
	uint64_t g0;
	bool ok;

	kb_rcu_read_lock();
	g0 = kb_rcu_gp_count();
	e = kb_rcu_dereference(&t->cur);
	ok = kb_torture_watch(e, KB_READ_ONCE(e->gen), spin, &maxage);
	kb_torture_record(st, maxage, kb_rcu_gp_count() - g0, !ok);
	kb_rcu_read_unlock();
	kb_rcu_quiescent_state();
}

/*
 * Nested sections, 2 or 3 deep: the element reached in the outer section
 * must still be live after the inner ones ended, and the nesting count
 * must say how deep the reader is.
 */
static void kb_torture_read_nested(struct kb_torture *t, int spin, uint64_t *seed,
				   struct kb_torture_reader_stats *st)
{
	int depth = 2 + (int)(kb_torture_rand(seed) >> 20) % 2, d;
	struct kb_torture_elem *outer, *inner;
	uint32_t maxage = 0, ogen;
	uint64_t g0;
	bool ok;

	kb_rcu_read_lock();
	g0 = kb_rcu_gp_count();
	outer = kb_rcu_dereference(&t->cur);
	ogen = KB_READ_ONCE(outer->gen);
	ok = kb_torture_watch(outer, ogen, spin / 4 + 1, &maxage);
	for (d = 1; d < depth; d++)
		kb_rcu_read_lock();
	inner = kb_rcu_dereference(&t->cur);
	ok = kb_torture_watch(inner, KB_READ_ONCE(inner->gen), spin / 2 + 1, &maxage) && ok;
	if (kb_rcu_read_lock_nesting() != depth)
		ok = false;
	for (d = 1; d < depth; d++)
		kb_rcu_read_unlock();
	ok = kb_torture_watch(outer, ogen, spin / 4 + 1, &maxage) && ok;
	kb_torture_record(st, maxage, kb_rcu_gp_count() - g0, !ok);
	kb_rcu_read_unlock();
	kb_rcu_quiescent_state();
}

/*
 * QSBR: no read_lock() at all.  Between two explicit quiescent states the
 * reader reaches one new element per "section", up to four, and keeps
 * watching all of them: each must stay live until its next report.
 */
static void kb_torture_read_qsbr(struct kb_torture *t, int spin, uint64_t *seed,
				 struct kb_torture_reader_stats *st)
{
	struct kb_torture_elem *held[4];
	uint32_t gens[4];
	int n = 1 + (int)(kb_torture_rand(seed) >> 20) % 4, i, j;
	uint64_t g0 = kb_rcu_gp_count();

	for (i = 0; i < n; i++) {
		uint32_t maxage = 0;
		bool ok = true;

		held[i] = kb_rcu_dereference(&t->cur);
		gens[i] = KB_READ_ONCE(held[i]->gen);
		for (j = 0; j <= i; j++)
			ok = kb_torture_watch(held[j], gens[j], spin / (i + 1) + 1, &maxage) && ok;
		kb_torture_record(st, maxage, kb_rcu_gp_count() - g0, !ok);
		if (kb_torture_stopped(t))
			break;
	}
	kb_rcu_quiescent_state();
}

/* SRCU: a section of the run's domain over its own pointer. */
static void kb_torture_read_srcu(struct kb_torture *t, int spin, struct kb_torture_reader_stats *st)
{
	struct kb_torture_elem *e;
	uint32_t maxage = 0;
	uint64_t g0 = kb_srcu_gp_count(&t->srcu);
	int idx = kb_srcu_read_lock(&t->srcu);
	bool ok;

	e = kb_rcu_dereference(&t->srcu_cur);
	ok = kb_torture_watch(e, KB_READ_ONCE(e->gen), spin, &maxage);
	kb_torture_record(st, maxage, kb_srcu_gp_count(&t->srcu) - g0, !ok);
	kb_srcu_read_unlock(&t->srcu, idx);
}

static void kb_torture_register(struct kb_torture_reader_stats *st)
{
	if (kb_rcu_register_thread() == KB_OK) {
		st->churn.registrations++;
		(void)kb_rcu_set_thread_name(KB_TORTURE_READER_NAME);
	}
}

/*
 * Between sections: go offline and online again now and then (every 256
 * sections; with churn, at random every 64..255, or unregister and
 * register again instead).
 */
static void kb_torture_between(struct kb_torture *t, uint64_t *seed,
			       struct kb_torture_reader_stats *st, uint64_t *next)
{
	bool churn = (t->cfg.checks & KB_RCU_TORTURE_CHECK_CHURN) != 0;
	uint64_t r;

	if (st->reads < *next)
		return;
	r = kb_torture_rand(seed);
	*next = st->reads + (churn ? 64 + (r >> 8) % 192 : 256);
	if (churn && (r & 1)) {
		if (kb_rcu_unregister_thread() == KB_OK)
			st->churn.unregistrations++;
		sched_yield();
		kb_torture_register(st);
		return;
	}
	kb_rcu_thread_offline();
	st->churn.offline++;
	if (churn)
		sched_yield();
	kb_rcu_thread_online();
	st->churn.online++;
}

/**
 * kb_torture_read_loop() - a reader's life: register, read until the run
 * stops (or @max_sections sections, if not 0), unregister.
 * @t: the run.
 * @kind: bit number of a KB_RCU_TORTURE_READER_*.
 * @seed: its choices.
 * @st: filled (zeroed first).
 * @max_sections: 0, or how many sections a short-lived (churn) reader reads.
 */
void kb_torture_read_loop(struct kb_torture *t, int kind, uint64_t seed,
			  struct kb_torture_reader_stats *st, uint64_t max_sections)
{
	int spin = t->cfg.read_spin > 0 ? t->cfg.read_spin : KB_TORTURE_DEFAULT_SPIN;
	bool srcu = kind == 3; /* KB_RCU_TORTURE_READER_SRCU */
	uint64_t next = 256;

	memset(st, 0, sizeof(*st));
	st->kind = kind;
	seed |= 1;
	if (!srcu) {
		kb_torture_register(st);
		kb_rcu_thread_offline(); /* do not hold up anyone while waiting */
		kb_torture_wait_go(t);
		kb_rcu_thread_online();
	} else {
		kb_torture_wait_go(t);
	}
	while (!kb_torture_stopped(t) && (max_sections == 0 || st->reads < max_sections)) {
		switch (kind) {
		case 0:
			kb_torture_read_plain(t, spin, st);
			break;
		case 1:
			kb_torture_read_nested(t, spin, &seed, st);
			break;
		case 2:
			kb_torture_read_qsbr(t, spin, &seed, st);
			break;
		default:
			kb_torture_read_srcu(t, spin, st);
			continue;
		}
		kb_torture_between(t, &seed, st, &next);
	}
	if (!srcu && kb_rcu_unregister_thread() == KB_OK)
		st->churn.unregistrations++;
}


/* SPDX-License-Identifier: MIT */
/*
 * csrc/tools/litmus.c - the hardware litmus harness: run a compiled litmus
 * test (struct kb_litmus_prog, generated from a C litmus file by
 * kbind/litmus/cgen.py and compiled at run time) on the real CPU.
 *
 * As herdtools' litmus7 does: one thread per process, pinned to distinct
 * CPUs; the test's memory holds @size instances (every shared variable of
 * every instance on its own cache line); per synchronised round, each
 * thread runs its process once on every instance in turn, meeting the
 * others at a light barrier before each instance (with a pseudo-random
 * start jitter, so the processes' windows overlap at many offsets).  After
 * the round, thread 0 alone reads every instance's outcome (registers and
 * final memory values), evaluates the filter and the condition, counts the
 * outcome in the table of distinct outcomes and resets the memory, while
 * the others wait at the round barrier.
 *
 * For a test that uses RCU each thread is a registered reader of kbind's
 * engine: online while it runs its process, offline (an extended quiescent
 * state) while it waits between instances, so a synchronize_rcu() in one
 * process waits exactly for the read-side sections of the others.
 */
#include "kbind.h"

#include <pthread.h>
#include <sched.h>
#include <string.h>

#define KB_LITMUS_LINE 64

/* A sense-reversing barrier; waiters spin, then yield (threads may share CPUs). */
struct kb_litmus_barrier {
	uint32_t count;
	char pad1[KB_LITMUS_LINE - sizeof(uint32_t)];
	uint32_t sense;
	char pad2[KB_LITMUS_LINE - sizeof(uint32_t)];
};

struct kb_litmus_table {
	int64_t *keys;	 /* caller's: cap * nobs */
	int64_t *counts; /* caller's: cap */
	int32_t *index;	 /* hash slot -> entry + 1 (0: empty) */
	uint32_t mask;
	int32_t cap;
	int32_t n;
	int32_t nobs;
};

struct kb_litmus_ctx {
	struct kb_litmus_barrier round; /* all threads, once per round */
	struct kb_litmus_barrier inst;	/* all threads, before each instance */
	const kb_litmus_prog_t *prog;
	const kb_litmus_config_t *cfg;
	kb_litmus_result_t *res;
	char *mem;	/* size * stride bytes */
	int64_t *regs;	/* size * nthreads * nregs */
	size_t stride;	/* bytes per instance */
	int32_t size;	/* instances in the current round (thread 0 sets it) */
	int nthreads;
	int stop;	/* set by thread 0 before the round barrier */
	int cpus[CPU_SETSIZE];
	int ncpus;
	int64_t deadline;
	struct kb_litmus_table table;
	int64_t obs[KB_LITMUS_MAX_OBS];
};

struct kb_litmus_thread {
	struct kb_litmus_ctx *ctx;
	int id;
	uint32_t round_sense;
	uint32_t inst_sense;
	uint64_t rng; /* xorshift state for the start jitter */
};

/* Up to KB_LITMUS_JITTER-1 CPU relaxes before each instance. */
#define KB_LITMUS_JITTER 16

static inline void kb_litmus_jitter(struct kb_litmus_thread *t)
{
	uint64_t x = t->rng;
	unsigned int n;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	t->rng = x;
	for (n = (unsigned int)(x % KB_LITMUS_JITTER); n > 0; n--)
		kb_cpu_relax();
}

static void kb_litmus_barrier_wait(struct kb_litmus_barrier *b, int nthreads, uint32_t *sense)
{
	uint32_t s = !*sense;
	unsigned int spins = 0;

	*sense = s;
	/*
	 * The arrival RMW is acq_rel and the release store of the new sense
	 * pairs with the waiters' acquire loads: what each thread did before
	 * the barrier (its process, thread 0's reset) is visible to all after.
	 */
	if (__atomic_add_fetch(&b->count, 1, __ATOMIC_ACQ_REL) == (uint32_t)nthreads) {
		KB_WRITE_ONCE(b->count, 0);
		__atomic_store_n(&b->sense, s, __ATOMIC_RELEASE);
		return;
	}
	while (__atomic_load_n(&b->sense, __ATOMIC_ACQUIRE) != s) {
		if (++spins < 2000)
			kb_cpu_relax();
		else
			sched_yield();
	}
}

/* ------------------------------------------------------ the outcome table */

static uint64_t kb_litmus_hash(const int64_t *obs, int n)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	int i;

	for (i = 0; i < n; i++) {
		h ^= (uint64_t)obs[i];
		h *= 0x100000001b3ULL;
		h ^= h >> 29;
	}
	return h;
}

/* Count @obs once; return false when the table is full and @obs is new. */
static bool kb_litmus_count(struct kb_litmus_table *t, const int64_t *obs)
{
	uint32_t slot = (uint32_t)kb_litmus_hash(obs, t->nobs) & t->mask;

	for (;; slot = (slot + 1) & t->mask) {
		int32_t e = t->index[slot];

		if (e == 0)
			break;
		if (memcmp(t->keys + (size_t)(e - 1) * (size_t)t->nobs, obs,
			   sizeof(int64_t) * (size_t)t->nobs) == 0) {
			t->counts[e - 1]++;
			return true;
		}
	}
	if (t->n == t->cap)
		return false;
	memcpy(t->keys + (size_t)t->n * (size_t)t->nobs, obs, sizeof(int64_t) * (size_t)t->nobs);
	t->counts[t->n] = 1;
	t->index[slot] = ++t->n;
	return true;
}

/* ------------------------------------------------------------ the threads */

static void kb_litmus_reset(struct kb_litmus_ctx *ctx, int32_t n)
{
	const kb_litmus_prog_t *prog = ctx->prog;
	int32_t i;

	memset(ctx->mem, 0, ctx->stride * (size_t)n);
	memset(ctx->regs, 0, sizeof(int64_t) * (size_t)n * (size_t)prog->nthreads * (size_t)prog->nregs);
	for (i = 0; i < n; i++)
		prog->init(ctx->mem + ctx->stride * (size_t)i);
}

/* Thread 0, after a round: count its outcomes, reset, decide whether to stop. */
static void kb_litmus_collect(struct kb_litmus_ctx *ctx)
{
	const kb_litmus_prog_t *prog = ctx->prog;
	const kb_litmus_config_t *cfg = ctx->cfg;
	kb_litmus_result_t *res = ctx->res;
	size_t per = (size_t)prog->nthreads * (size_t)prog->nregs;
	int32_t i, n = ctx->size;
	int64_t left;

	for (i = 0; i < n; i++) {
		prog->observe(ctx->mem + ctx->stride * (size_t)i, ctx->regs + per * (size_t)i, ctx->obs);
		if (prog->filter && !prog->filter(ctx->obs)) {
			res->filtered++;
			continue;
		}
		if (prog->cond(ctx->obs))
			res->matches++;
		if (!kb_litmus_count(&ctx->table, ctx->obs))
			res->lost++;
	}
	res->instances += n;
	res->rounds++;
	left = cfg->instances - res->instances;
	res->error = __atomic_load_n(prog->error, __ATOMIC_RELAXED);
	if (left <= 0 || res->error || (cfg->stop_matches > 0 && res->matches >= cfg->stop_matches) ||
	    (ctx->deadline && kb_now_ns() >= ctx->deadline) || kb_torture_stop_requested()) {
		KB_WRITE_ONCE(ctx->stop, 1);
		return;
	}
	n = left < cfg->size ? (int32_t)left : cfg->size;
	kb_litmus_reset(ctx, n);
	KB_WRITE_ONCE(ctx->size, n);
}

static void *kb_litmus_thread_fn(void *arg)
{
	struct kb_litmus_thread *t = arg;
	struct kb_litmus_ctx *ctx = t->ctx;
	const kb_litmus_prog_t *prog = ctx->prog;
	void (*body)(char *, int64_t *) = prog->thread[t->id];
	size_t per = (size_t)prog->nthreads * (size_t)prog->nregs;
	bool rcu = prog->uses_rcu && kb_rcu_register_thread_offline() == KB_OK;
	int32_t i, n;

	if (ctx->cfg->pin && ctx->ncpus > 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(ctx->cpus[t->id % ctx->ncpus], &set);
		(void)pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
	}
	for (;;) {
		kb_litmus_barrier_wait(&ctx->round, KB_READ_ONCE(ctx->nthreads), &t->round_sense);
		if (KB_READ_ONCE(ctx->stop))
			break;
		n = KB_READ_ONCE(ctx->size);
		for (i = 0; i < n; i++) {
			kb_litmus_barrier_wait(&ctx->inst, KB_READ_ONCE(ctx->nthreads), &t->inst_sense);
			kb_litmus_jitter(t);
			if (rcu)
				kb_rcu_thread_online();
			body(ctx->mem + ctx->stride * (size_t)i, ctx->regs + per * (size_t)i + (size_t)t->id * (size_t)prog->nregs);
			if (rcu)
				kb_rcu_thread_offline();
		}
		kb_litmus_barrier_wait(&ctx->round, KB_READ_ONCE(ctx->nthreads), &t->round_sense);
		if (t->id == 0)
			kb_litmus_collect(ctx); /* the others wait at the next round barrier */
	}
	if (rcu)
		(void)kb_rcu_unregister_thread();
	return NULL;
}

/**
 * kb_litmus_usable_cpus() - how many CPUs this process may run on.
 *
 * Context: any.  Return: at least 1.
 */
int kb_litmus_usable_cpus(void)
{
	cpu_set_t set;

	if (sched_getaffinity(0, sizeof(set), &set) != 0)
		return 1;
	return CPU_COUNT(&set) > 0 ? CPU_COUNT(&set) : 1;
}

static bool kb_litmus_prog_ok(const kb_litmus_prog_t *p)
{
	int i;

	if (!p || p->nthreads < 1 || p->nthreads > KB_LITMUS_MAX_THREADS || p->nslots < 1 ||
	    p->nslots > 4096 || p->nregs < 1 || p->nregs > 4096 || p->nobs < 1 ||
	    p->nobs > KB_LITMUS_MAX_OBS || !p->init || !p->observe || !p->cond || !p->error)
		return false;
	for (i = 0; i < p->nthreads; i++)
		if (!p->thread[i])
			return false;
	return true;
}

/**
 * kb_litmus_run() - run a compiled litmus test and count its outcomes.
 * @prog: the test (validated here).
 * @cfg: how to run it (validated here).
 * @res: filled with the run's counts; zeroed first.
 * @outcomes: the table of distinct outcomes: @cfg->max_outcomes rows of
 *	@prog->nobs values, filled from the first row.
 * @counts: how often each row of @outcomes occurred.
 *
 * Context: blocks the caller until the run ends (bounded by
 * @cfg->instances and @cfg->max_ns, and by a process that reports an
 * error); creates and joins its own threads.  A calling thread that is an
 * online RCU reader is taken offline for the run, so that the processes'
 * grace periods do not wait for it.
 * Return: KB_OK (a process's error is in @res->error), KB_EINVAL for a bad
 * argument, KB_EAGAIN when memory or threads could not be had.
 */
int kb_litmus_run(const kb_litmus_prog_t *prog, const kb_litmus_config_t *cfg,
		  kb_litmus_result_t *res, int64_t *outcomes, int64_t *counts)
{
	struct kb_litmus_ctx *ctx;
	struct kb_litmus_thread th[KB_LITMUS_MAX_THREADS];
	pthread_t tids[KB_LITMUS_MAX_THREADS];
	cpu_set_t set;
	int i, n, started = 0, rc = KB_OK;
	uint32_t slots = 1;
	bool was_online = false;
	int64_t t0;

	if (!kb_litmus_prog_ok(prog) || !cfg || !res || !outcomes || !counts || cfg->instances < 1 ||
	    cfg->size < 1 || cfg->size > KB_LITMUS_MAX_SIZE || cfg->max_outcomes < 1 ||
	    cfg->max_outcomes > (1 << 20) || cfg->stop_matches < 0)
		return KB_EINVAL;
	memset(res, 0, sizeof(*res));
	ctx = aligned_alloc(KB_LITMUS_LINE, (sizeof(*ctx) + KB_LITMUS_LINE - 1) / KB_LITMUS_LINE * KB_LITMUS_LINE);
	if (!ctx)
		return KB_EAGAIN;
	memset(ctx, 0, sizeof(*ctx));
	ctx->prog = prog;
	ctx->cfg = cfg;
	ctx->res = res;
	ctx->stride = (size_t)prog->nslots * KB_LITMUS_SLOT;
	ctx->size = cfg->instances < cfg->size ? (int32_t)cfg->instances : cfg->size;
	while (slots < 2u * (uint32_t)cfg->max_outcomes)
		slots <<= 1;
	ctx->table = (struct kb_litmus_table){ .keys = outcomes, .counts = counts, .mask = slots - 1,
					       .cap = cfg->max_outcomes, .nobs = prog->nobs };
	ctx->table.index = calloc(slots, sizeof(int32_t));
	ctx->mem = aligned_alloc(KB_LITMUS_LINE, ctx->stride * (size_t)cfg->size);
	ctx->regs = calloc((size_t)cfg->size * (size_t)prog->nthreads * (size_t)prog->nregs, sizeof(int64_t));
	if (!ctx->table.index || !ctx->mem || !ctx->regs) {
		rc = KB_EAGAIN;
		goto out;
	}
	__atomic_store_n(prog->error, 0, __ATOMIC_RELAXED);
	n = prog->nthreads;
	KB_WRITE_ONCE(ctx->nthreads, n);
	res->nthreads = n;
	if (sched_getaffinity(0, sizeof(set), &set) == 0) {
		for (i = 0; i < CPU_SETSIZE; i++)
			if (CPU_ISSET(i, &set))
				ctx->cpus[ctx->ncpus++] = i;
	}
	res->cpus = ctx->ncpus > 0 ? ctx->ncpus : 1;
	if (prog->uses_rcu && kb_rcu_is_registered() && kb_rcu_is_online()) {
		was_online = true;
		kb_rcu_thread_offline();
	}
	kb_litmus_reset(ctx, ctx->size);
	t0 = kb_now_ns();
	ctx->deadline = cfg->max_ns > 0 ? kb_deadline_after(t0, cfg->max_ns) : 0;
	for (i = 0; i < n; i++) {
		th[i] = (struct kb_litmus_thread){ .ctx = ctx, .id = i,
						   .rng = 0x9E3779B97F4A7C15ULL * (uint64_t)(i + 1) };
		if (pthread_create(&tids[i], NULL, kb_litmus_thread_fn, &th[i]) != 0) {
			rc = KB_EAGAIN;
			break;
		}
		started++;
	}
	if (rc != KB_OK && started > 0) {
		/*
		 * Release the threads already waiting at the first round
		 * barrier: they see stop and leave.  They count to @started.
		 */
		KB_WRITE_ONCE(ctx->stop, 1);
		KB_WRITE_ONCE(ctx->nthreads, started);
		__atomic_store_n(&ctx->round.count, 0, __ATOMIC_RELAXED);
		__atomic_store_n(&ctx->round.sense, 1, __ATOMIC_RELEASE);
	}
	for (i = 0; i < started; i++)
		pthread_join(tids[i], NULL);
	res->elapsed_ns = kb_now_ns() - t0;
	res->noutcomes = ctx->table.n;
	if (was_online)
		kb_rcu_thread_online();
out:
	free(ctx->table.index);
	free(ctx->mem);
	free(ctx->regs);
	free(ctx);
	return rc;
}

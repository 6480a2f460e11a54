/* SPDX-License-Identifier: MIT */
/*
 * csrc/tools/litmus.c - classic memory-model litmus tests on the real CPU.
 *
 * Each test is run @iterations times by its threads (2 to 4), pinned to
 * different CPUs when asked.  Every iteration: all threads meet at a spin
 * barrier, run their part of the pattern, meet again; thread 0 then records
 * the outcome (registers and final memory values) and resets memory before
 * the next meeting.  Shared variables sit on separate cache lines and are
 * accessed only with marked accesses (KB_READ_ONCE/KB_WRITE_ONCE), so races
 * are defined behaviour; between the two accesses of a thread a compiler
 * barrier always stops the compiler, so every reordering counted is the
 * hardware's.
 *
 * Observables are encoded as bits of the outcome index; bit i is set when
 * observable i took its "second" value (a register read the written value,
 * a final value is the later-listed store).  kbind/litmus.py names them.
 */
#include "kbind.h"

#include <pthread.h>
#include <sched.h>
#include <string.h>

#define KB_LITMUS_LINE 64

struct kb_litmus_var {
	int64_t v;
	char pad[KB_LITMUS_LINE - sizeof(int64_t)];
};

/* A sense-reversing barrier; waiters spin, then yield (threads may share CPUs). */
struct kb_litmus_barrier {
	uint32_t count;
	char pad1[KB_LITMUS_LINE - sizeof(uint32_t)];
	uint32_t sense;
	char pad2[KB_LITMUS_LINE - sizeof(uint32_t)];
};

struct kb_litmus_ctx {
	struct kb_litmus_var x, y;
	struct kb_litmus_var dummy[4]; /* targets of the atomic variant's RMW */
	struct kb_litmus_barrier bar;
	const kb_litmus_config_t *cfg;
	kb_litmus_result_t *res;
	int nthreads;
	int cpus[CPU_SETSIZE];
	int ncpus;
	int stop; /* set by thread 0 before a barrier; read by all after it */
	int64_t r[4][2]; /* registers: [thread][0..1], written by their thread */
};

struct kb_litmus_thread {
	struct kb_litmus_ctx *ctx;
	int id;
	uint32_t sense;
	uint64_t rng; /* xorshift state for the start jitter */
};

/*
 * Start jitter: each thread waits a pseudo-random 0..KB_LITMUS_JITTER-1
 * CPU relaxes before its part, so the threads' access windows overlap at
 * many different offsets (the thread that releases the barrier would
 * otherwise always start first, by about one cache-line transfer).
 */
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

static void kb_litmus_barrier_wait(struct kb_litmus_ctx *ctx, uint32_t *sense)
{
	struct kb_litmus_barrier *b = &ctx->bar;
	uint32_t s = !*sense;
	unsigned int spins = 0;

	*sense = s;
	/*
	 * The arrival RMW is acq_rel and the release store of the new sense
	 * pairs with the waiters' acquire loads: everything each thread did
	 * before the barrier (its part of the pattern, thread 0's reset) is
	 * visible to every thread after it.
	 */
	/* KB_READ_ONCE: the start-up error path lowers nthreads while threads wait. */
	if (__atomic_add_fetch(&b->count, 1, __ATOMIC_ACQ_REL) == (uint32_t)KB_READ_ONCE(ctx->nthreads)) {
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

/* ------------------------------------------------------------ accesses */

static inline void kb_l_write(struct kb_litmus_var *p, int64_t v, bool release)
{
	if (release)
		kb_smp_store_release(&p->v, v);
	else
		KB_WRITE_ONCE(p->v, v);
}

static inline int64_t kb_l_read(struct kb_litmus_var *p, bool acquire)
{
	return acquire ? kb_smp_load_acquire(&p->v) : KB_READ_ONCE(p->v);
}

enum kb_l_kind { KB_L_WW, KB_L_WR, KB_L_RW, KB_L_RR };

/*
 * What separates a thread's first and second access, per variant.  The
 * compiler barrier is always there: the test is about the CPU.
 */
static inline void kb_l_fence(struct kb_litmus_ctx *ctx, int tid, enum kb_l_kind kind)
{
	const kb_litmus_config_t *cfg = ctx->cfg;

	kb_barrier();
	switch (cfg->variant) {
	case KB_LITMUS_MB:
		if (cfg->busted_barrier)
			kb_barrier(); /* the bug under test: no CPU fence at all */
		else
			kb_smp_mb();
		break;
	case KB_LITMUS_WMB_RMB:
		if (kind == KB_L_WW)
			kb_smp_wmb();
		else if (kind == KB_L_RR)
			kb_smp_rmb();
		break; /* W->R and R->W: neither smp_wmb() nor smp_rmb() applies */
	case KB_LITMUS_ATOMIC:
		/* A fully ordered RMW is smp_mb() on each side of it (LKMM). */
		if (cfg->busted_barrier) {
			/*
			 * The bug under test: the RMW without its ordering.  Not
			 * a relaxed atomic RMW, which is still a locked (fully
			 * fencing) instruction on x86 and could never be caught
			 * there: a marked load and store of this thread's own
			 * word (nobody else touches it), no fence at all.
			 */
			KB_WRITE_ONCE(ctx->dummy[tid].v, KB_READ_ONCE(ctx->dummy[tid].v) + 1);
		} else
			(void)kb_atomic64_fetch_add(1, (kb_atomic64_t *)&ctx->dummy[tid].v);
		break;
	default:
		break;
	}
	kb_barrier();
}

#define RELACQ(ctx) ((ctx)->cfg->variant == KB_LITMUS_REL_ACQ)

/* ----------------------------------------------------------- the tests */
/*
 * Each part: what thread @tid does in one iteration.  Registers land in
 * ctx->r[tid][]; the outcome is computed by kb_litmus_outcome().
 */
static void kb_litmus_part(struct kb_litmus_ctx *ctx, int tid)
{
	struct kb_litmus_var *x = &ctx->x, *y = &ctx->y;
	bool ra = RELACQ(ctx);

	switch (ctx->cfg->test) {
	case KB_LITMUS_SB: /* P0: x=1; r0=y.  P1: y=1; r1=x.  exists r0=0, r1=0 */
		kb_l_write(tid ? y : x, 1, false);
		kb_l_fence(ctx, tid, KB_L_WR);
		ctx->r[tid][0] = kb_l_read(tid ? x : y, ra);
		break;
	case KB_LITMUS_MP: /* P0: x=1; y=1.  P1: r0=y; r1=x.  exists r0=1, r1=0 */
		if (tid == 0) {
			kb_l_write(x, 1, false);
			kb_l_fence(ctx, tid, KB_L_WW);
			kb_l_write(y, 1, ra);
		} else {
			ctx->r[1][0] = kb_l_read(y, ra);
			kb_l_fence(ctx, tid, KB_L_RR);
			ctx->r[1][1] = kb_l_read(x, false);
		}
		break;
	case KB_LITMUS_LB: /* P0: r0=x; y=1.  P1: r1=y; x=1.  exists r0=1, r1=1 */
		ctx->r[tid][0] = kb_l_read(tid ? y : x, ra);
		kb_l_fence(ctx, tid, KB_L_RW);
		kb_l_write(tid ? x : y, 1, ra);
		break;
	case KB_LITMUS_R: /* P0: x=1; y=1.  P1: y=2; r0=x.  exists y=2, r0=0 */
		if (tid == 0) {
			kb_l_write(x, 1, false);
			kb_l_fence(ctx, tid, KB_L_WW);
			kb_l_write(y, 1, ra);
		} else {
			kb_l_write(y, 2, false);
			kb_l_fence(ctx, tid, KB_L_WR);
			ctx->r[1][0] = kb_l_read(x, ra);
		}
		break;
	case KB_LITMUS_S: /* P0: x=2; y=1.  P1: r0=y; x=1.  exists x=2, r0=1 */
		if (tid == 0) {
			kb_l_write(x, 2, false);
			kb_l_fence(ctx, tid, KB_L_WW);
			kb_l_write(y, 1, ra);
		} else {
			ctx->r[1][0] = kb_l_read(y, ra);
			kb_l_fence(ctx, tid, KB_L_RW);
			kb_l_write(x, 1, ra);
		}
		break;
	case KB_LITMUS_2_2W: /* P0: x=1; y=2.  P1: y=1; x=2.  exists x=1, y=1 */
		kb_l_write(tid ? y : x, 1, false);
		kb_l_fence(ctx, tid, KB_L_WW);
		kb_l_write(tid ? x : y, 2, ra);
		break;
	case KB_LITMUS_WRC: /* P0: x=1.  P1: r0=x; y=1.  P2: r1=y; r2=x.  exists 1,1,0 */
		if (tid == 0) {
			kb_l_write(x, 1, false);
		} else if (tid == 1) {
			ctx->r[1][0] = kb_l_read(x, ra);
			kb_l_fence(ctx, tid, KB_L_RW);
			kb_l_write(y, 1, ra);
		} else {
			ctx->r[2][0] = kb_l_read(y, ra);
			kb_l_fence(ctx, tid, KB_L_RR);
			ctx->r[2][1] = kb_l_read(x, false);
		}
		break;
	case KB_LITMUS_IRIW: /* P0: x=1.  P1: y=1.  P2: r0=x; r1=y.  P3: r2=y; r3=x. */
		if (tid < 2) {
			kb_l_write(tid ? y : x, 1, false);
		} else {
			struct kb_litmus_var *first = tid == 2 ? x : y;
			struct kb_litmus_var *second = tid == 2 ? y : x;

			ctx->r[tid][0] = kb_l_read(first, ra);
			kb_l_fence(ctx, tid, KB_L_RR);
			ctx->r[tid][1] = kb_l_read(second, false);
		}
		break;
	default:
		break;
	}
}

static const int kb_litmus_threads[KB_LITMUS_NTESTS] = { 2, 2, 2, 2, 2, 2, 3, 4 };

/* Thread 0, after the closing barrier: the outcome index of this iteration. */
static int kb_litmus_outcome(struct kb_litmus_ctx *ctx)
{
	int64_t (*r)[2] = ctx->r;
	int64_t x = KB_READ_ONCE(ctx->x.v), y = KB_READ_ONCE(ctx->y.v);

	switch (ctx->cfg->test) {
	case KB_LITMUS_SB:
	case KB_LITMUS_LB:
		return (r[0][0] == 1) | (r[1][0] == 1) << 1;
	case KB_LITMUS_MP:
		return (r[1][0] == 1) | (r[1][1] == 1) << 1;
	case KB_LITMUS_R:
		return (r[1][0] == 1) | (y == 2) << 1;
	case KB_LITMUS_S:
		return (r[1][0] == 1) | (x == 1) << 1;
	case KB_LITMUS_2_2W:
		return (x == 2) | (y == 2) << 1;
	case KB_LITMUS_WRC:
		return (r[1][0] == 1) | (r[2][0] == 1) << 1 | (r[2][1] == 1) << 2;
	case KB_LITMUS_IRIW:
		return (r[2][0] == 1) | (r[2][1] == 1) << 1 | (r[3][0] == 1) << 2 |
		       (r[3][1] == 1) << 3;
	default:
		return 0;
	}
}

static void *kb_litmus_thread_fn(void *arg)
{
	struct kb_litmus_thread *t = arg;
	struct kb_litmus_ctx *ctx = t->ctx;
	const kb_litmus_config_t *cfg = ctx->cfg;
	int64_t deadline = cfg->max_ns > 0 ? kb_deadline_ns(cfg->max_ns) : 0;
	int64_t i;

	if (cfg->pin && ctx->ncpus > 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(ctx->cpus[t->id % ctx->ncpus], &set);
		(void)pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
	}
	for (i = 0;; i++) {
		kb_litmus_barrier_wait(ctx, &t->sense);
		if (KB_READ_ONCE(ctx->stop))
			break;
		kb_litmus_jitter(t);
		kb_litmus_part(ctx, t->id);
		kb_litmus_barrier_wait(ctx, &t->sense);
		if (t->id != 0)
			continue;
		/* Thread 0 alone, while the others wait at the next barrier. */
		{
			int o = kb_litmus_outcome(ctx);
			kb_litmus_result_t *res = ctx->res;

			res->counts[o]++;
			res->iterations = i + 1;
			KB_WRITE_ONCE(ctx->x.v, 0);
			KB_WRITE_ONCE(ctx->y.v, 0);
			memset(ctx->r, 0, sizeof(ctx->r));
			if (res->iterations >= cfg->iterations ||
			    (cfg->stop_outcome >= 0 && res->counts[cfg->stop_outcome] >= cfg->stop_count) ||
			    ((i & 255) == 0 && ((deadline && kb_now_ns() >= deadline) ||
						kb_torture_stop_requested())))
				KB_WRITE_ONCE(ctx->stop, 1);
		}
	}
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

/**
 * kb_litmus_run() - run one litmus test and count its outcomes.
 * @cfg: what to run (validated here).
 * @res: filled with the counts; zeroed first.
 *
 * Context: blocks the caller until the run ends (bounded by
 * @cfg->iterations and @cfg->max_ns); creates and joins its own threads.
 * Return: KB_OK, KB_EINVAL for a bad @cfg, KB_EAGAIN if threads could not
 * be created.
 */
int kb_litmus_run(const kb_litmus_config_t *cfg, kb_litmus_result_t *res)
{
	static struct kb_litmus_ctx zero_ctx;
	struct kb_litmus_ctx *ctx;
	struct kb_litmus_thread th[4];
	pthread_t tids[4];
	cpu_set_t set;
	int i, n, started = 0, rc = KB_OK;
	int64_t t0;

	if (!cfg || !res || cfg->test < 0 || cfg->test >= KB_LITMUS_NTESTS ||
	    cfg->variant < 0 || cfg->variant >= KB_LITMUS_NVARIANTS || cfg->iterations < 1 ||
	    cfg->stop_outcome >= KB_LITMUS_MAX_OUTCOMES)
		return KB_EINVAL;
	memset(res, 0, sizeof(*res));
	ctx = aligned_alloc(KB_LITMUS_LINE, sizeof(*ctx) + KB_LITMUS_LINE - sizeof(*ctx) % KB_LITMUS_LINE);
	if (!ctx)
		return KB_EAGAIN;
	*ctx = zero_ctx;
	ctx->cfg = cfg;
	ctx->res = res;
	n = ctx->nthreads = kb_litmus_threads[cfg->test];
	res->nthreads = n;
	if (sched_getaffinity(0, sizeof(set), &set) == 0) {
		for (i = 0; i < CPU_SETSIZE; i++)
			if (CPU_ISSET(i, &set))
				ctx->cpus[ctx->ncpus++] = i;
	}
	res->cpus = ctx->ncpus > 0 ? ctx->ncpus : 1;
	t0 = kb_now_ns();
	for (i = 1; i < n; i++) {
		th[i] = (struct kb_litmus_thread){ .ctx = ctx, .id = i, .rng = 0x9E3779B97F4A7C15ULL * (uint64_t)(i + 1) };
		if (pthread_create(&tids[i], NULL, kb_litmus_thread_fn, &th[i]) != 0) {
			rc = KB_EAGAIN;
			break;
		}
		started++;
	}
	if (rc == KB_OK) {
		th[0] = (struct kb_litmus_thread){ .ctx = ctx, .id = 0, .rng = 0x2545F4914F6CDD1DULL };
		/* Thread 0 is a new thread too, so the caller's affinity is untouched. */
		if (pthread_create(&tids[0], NULL, kb_litmus_thread_fn, &th[0]) != 0) {
			rc = KB_EAGAIN;
		} else {
			pthread_join(tids[0], NULL);
		}
	}
	if (rc != KB_OK) {
		/* Release the threads already waiting at the first barrier. */
		KB_WRITE_ONCE(ctx->stop, 1);
		KB_WRITE_ONCE(ctx->nthreads, started);
		__atomic_store_n(&ctx->bar.count, 0, __ATOMIC_RELAXED);
		__atomic_store_n(&ctx->bar.sense, 1, __ATOMIC_RELEASE);
	}
	for (i = 1; i <= started; i++)
		pthread_join(tids[i], NULL);
	res->elapsed_ns = kb_now_ns() - t0;
	free(ctx);
	return rc;
}

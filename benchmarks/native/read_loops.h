/* SPDX-License-Identifier: MIT */
/*
 * benchmarks/native/read_loops.h - one read-side loop, instantiated per
 * flavour, so that every flavour is measured with the same code shape.
 *
 * READ_LOOP() expands to a reader thread function whose inner loop is
 *	for 1024 times: LOCK; it = LOAD; sum += it->v; UNLOCK
 * followed by QS (a quiescent state, or nothing) and a check of the stop
 * flag.  Each flavour reads its own pointer, alone on a cache line, that
 * points to its own item, alone on a cache line; each reader function is
 * 64-byte aligned and kept out of line, so the loops differ only in what
 * LOCK/LOAD/UNLOCK/QS expand to (benchmarks/rcu_vs_liburcu.py --disasm
 * prints the inner loops to compare).  Thread i is pinned to the i-th
 * usable CPU (round robin) when pinning is on.
 *
 * Used by rcu_bench.c (kbind against liburcu) and rcu_scaling_bench.c
 * (read-side scaling at 1..N threads).
 */
#ifndef KB_BENCH_READ_LOOPS_H
#define KB_BENCH_READ_LOOPS_H

#include "kbind.h"

#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK_EVERY 1024
#define BENCH_MAX_THREADS 256

struct item {
	long v;
} __attribute__((aligned(64)));

/* A protected pointer alone on its cache line. */
struct slot {
	void *p;
} __attribute__((aligned(64)));

static struct item bench_items[4] = { { 1 }, { 2 }, { 3 }, { 4 } };

struct reader_arg {
	uint64_t reads;
	long sum;
	int cpu; /* -1: not pinned */
} __attribute__((aligned(64)));

static struct {
	uint32_t v;
} __attribute__((aligned(64))) stop_flag, ready_count;

static void bench_pin(int cpu)
{
	cpu_set_t set;

	if (cpu < 0)
		return;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	(void)pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

#define READ_LOOP(NAME, REG, LOCK, LOAD, UNLOCK, QS, UNREG)                          \
	static __attribute__((noinline, aligned(64))) void *NAME(void *p)            \
	{                                                                             \
		struct reader_arg *a = p;                                             \
		uint64_t n = 0;                                                       \
		long sum = 0;                                                         \
                                                                                      \
		bench_pin(a->cpu);                                                    \
		REG;                                                                  \
		__atomic_fetch_add(&ready_count.v, 1, __ATOMIC_SEQ_CST);              \
		while (!KB_READ_ONCE(stop_flag.v)) {                                  \
			for (int i = 0; i < CHECK_EVERY; i++) {                       \
				const struct item *it;                                \
				LOCK;                                                 \
				it = (LOAD);                                          \
				sum += it->v;                                         \
				UNLOCK;                                               \
			}                                                             \
			QS;                                                           \
			n += CHECK_EVERY;                                             \
		}                                                                     \
		UNREG;                                                                \
		a->reads = n;                                                         \
		a->sum = sum;                                                         \
		return NULL;                                                          \
	}

struct readers {
	int n;
	pthread_t tid[BENCH_MAX_THREADS];
	struct reader_arg arg[BENCH_MAX_THREADS];
};

static int bench_cpus[BENCH_MAX_THREADS];
static int bench_ncpus; /* 0: no pinning */

/* Collect the usable CPUs for pinning (round robin over them). */
static void bench_init_pinning(bool pin)
{
	cpu_set_t set;

	bench_ncpus = 0;
	if (!pin || sched_getaffinity(0, sizeof(set), &set) != 0)
		return;
	for (int c = 0; c < CPU_SETSIZE && bench_ncpus < BENCH_MAX_THREADS; c++)
		if (CPU_ISSET(c, &set))
			bench_cpus[bench_ncpus++] = c;
}

static void readers_start(struct readers *r, int n, void *(*fn)(void *))
{
	KB_WRITE_ONCE(stop_flag.v, 0);
	__atomic_store_n(&ready_count.v, 0, __ATOMIC_SEQ_CST);
	r->n = n;
	for (int i = 0; i < n; i++) {
		memset(&r->arg[i], 0, sizeof(r->arg[i]));
		r->arg[i].cpu = bench_ncpus ? bench_cpus[i % bench_ncpus] : -1;
		if (pthread_create(&r->tid[i], NULL, fn, &r->arg[i]) != 0) {
			fprintf(stderr, "pthread_create failed\n");
			exit(2);
		}
	}
	while (__atomic_load_n(&ready_count.v, __ATOMIC_SEQ_CST) < (uint32_t)n)
		sched_yield();
}

static void readers_stop(struct readers *r)
{
	KB_WRITE_ONCE(stop_flag.v, 1);
	for (int i = 0; i < r->n; i++)
		pthread_join(r->tid[i], NULL);
}

/* Total reads per second of @n readers of @fn running for @seconds. */
static double read_rate_total(void *(*fn)(void *), int n, double seconds)
{
	static struct readers r;
	struct timespec ts = { (time_t)seconds,
			       (long)((seconds - (double)(time_t)seconds) * 1e9) };
	int64_t t0, t1;
	double total = 0;

	readers_start(&r, n, fn);
	t0 = kb_now_ns();
	nanosleep(&ts, NULL);
	readers_stop(&r);
	t1 = kb_now_ns();
	for (int i = 0; i < n; i++)
		total += (double)r.arg[i].reads;
	return total / ((double)(t1 - t0) / 1e9);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Print "NAME_med", "NAME_min", "NAME_max" of @v[0..@n) (sorts @v). */
static void print_spread(const char *name, double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	printf("%s_med %.6g\n%s_min %.6g\n%s_max %.6g\n", name, v[n / 2], name, v[0], name,
	       v[n - 1]);
}

#endif /* KB_BENCH_READ_LOOPS_H */

/* SPDX-License-Identifier: MIT */
/*
 * benchmarks/native/litmus_builtin_bench.c - the baseline of the litmus
 * benchmark: the hard-coded SB harness kbind had before litmus files
 * (csrc/tools/litmus.c until the file-driven harness replaced it), kept
 * here only to be measured against: per iteration, all threads meet at a
 * spin barrier, run SB with marked accesses, meet again; thread 0 records
 * the outcome and resets memory.  Prints "iterations_per_s N".
 *
 * Usage: litmus_builtin_bench ITERATIONS
 */
#include "kbind.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#define LINE 64

struct var {
	int64_t v;
	char pad[LINE - sizeof(int64_t)];
};

struct barrier {
	uint32_t count;
	char pad1[LINE - sizeof(uint32_t)];
	uint32_t sense;
	char pad2[LINE - sizeof(uint32_t)];
};

static struct {
	struct var x, y;
	struct barrier bar;
	int64_t r[2];
	int64_t counts[4];
	int64_t iterations;
	int64_t target;
	int stop;
} ctx __attribute__((aligned(64)));

static void barrier_wait(uint32_t *sense)
{
	uint32_t s = !*sense;
	unsigned int spins = 0;

	*sense = s;
	if (__atomic_add_fetch(&ctx.bar.count, 1, __ATOMIC_ACQ_REL) == 2) {
		KB_WRITE_ONCE(ctx.bar.count, 0);
		__atomic_store_n(&ctx.bar.sense, s, __ATOMIC_RELEASE);
		return;
	}
	while (__atomic_load_n(&ctx.bar.sense, __ATOMIC_ACQUIRE) != s) {
		if (++spins < 2000)
			kb_cpu_relax();
		else
			sched_yield();
	}
}

static void *thread_fn(void *arg)
{
	int id = (int)(intptr_t)arg;
	uint32_t sense = 0;
	uint64_t rng = 0x9E3779B97F4A7C15ULL * (uint64_t)(id + 1);
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(id, &set);
	(void)pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
	for (;;) {
		unsigned int n;

		barrier_wait(&sense);
		if (KB_READ_ONCE(ctx.stop))
			break;
		rng ^= rng << 13;
		rng ^= rng >> 7;
		rng ^= rng << 17;
		for (n = (unsigned int)(rng % 16); n > 0; n--)
			kb_cpu_relax();
		KB_WRITE_ONCE((id ? &ctx.y : &ctx.x)->v, 1);
		kb_barrier();
		ctx.r[id] = KB_READ_ONCE((id ? &ctx.x : &ctx.y)->v);
		barrier_wait(&sense);
		if (id != 0)
			continue;
		ctx.counts[(ctx.r[0] == 1) | (ctx.r[1] == 1) << 1]++;
		ctx.iterations++;
		KB_WRITE_ONCE(ctx.x.v, 0);
		KB_WRITE_ONCE(ctx.y.v, 0);
		memset(ctx.r, 0, sizeof(ctx.r));
		if (ctx.iterations >= ctx.target)
			KB_WRITE_ONCE(ctx.stop, 1);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t t[2];
	int64_t t0;
	int i;

	ctx.target = argc > 1 ? atoll(argv[1]) : 1000000;
	t0 = kb_now_ns();
	for (i = 0; i < 2; i++)
		pthread_create(&t[i], NULL, thread_fn, (void *)(intptr_t)i);
	for (i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	printf("iterations_per_s %.0f\n", (double)ctx.iterations * 1e9 / (double)(kb_now_ns() - t0));
	printf("observed %lld\n", (long long)ctx.counts[0]);
	return 0;
}

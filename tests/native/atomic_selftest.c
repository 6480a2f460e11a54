/* SPDX-License-Identifier: MIT */
/*
 * tests/native/atomic_selftest.c - checks the atomics and barriers natively,
 * with whichever csrc/engine/arch/ header the build selects (tests/test_build.py
 * builds it for the machine's architecture and for the generic fallback).
 * Exit status 0 iff every check passed.
 */
#include "kbind.h"

#include <pthread.h>
#include <stdio.h>

static int failures;

#define CHECK(cond)                                                       \
	do {                                                              \
		if (!(cond)) {                                            \
			fprintf(stderr, "FAIL %s:%d: %s\n", __FILE__,     \
				__LINE__, #cond);                         \
			failures++;                                       \
		}                                                         \
	} while (0)

#define PER_THREAD 1000000

static kb_atomic64_t counter;
static kb_word_t data, flag;
static long mp_violations;

static void *adder(void *arg)
{
	(void)arg;
	for (int i = 0; i < PER_THREAD; i++) {
		kb_atomic64_fetch_add_relaxed(1, &counter);
		kb_atomic64_inc(&counter);
		kb_atomic64_sub_return(1, &counter);
	}
	return NULL;
}

/* Message passing: data then flag with release; reader acquires flag then data. */
static void *mp_writer(void *arg)
{
	(void)arg;
	for (int64_t i = 1; i <= PER_THREAD; i++) {
		kb_word_write_once(&data, i);
		kb_word_store_release(&flag, i);
	}
	return NULL;
}

static void *mp_reader(void *arg)
{
	int64_t f = 0;

	(void)arg;
	while (f < PER_THREAD) {
		f = kb_word_load_acquire(&flag);
		if (kb_word_read_once(&data) < f)
			mp_violations++;
	}
	return NULL;
}

int main(void)
{
	kb_atomic_t a32 = { INT32_MAX };
	kb_atomic_long_t al = { 5 };
	pthread_t t[2];
	int32_t old32;

	CHECK(kb_atomic_fetch_add(1, &a32) == INT32_MAX);
	CHECK(kb_atomic_read(&a32) == INT32_MIN);
	CHECK(kb_atomic_dec_return_acquire(&a32) == INT32_MAX);
	old32 = 7;
	CHECK(!kb_atomic_try_cmpxchg_release(&a32, &old32, 1) && old32 == INT32_MAX);
	CHECK(kb_atomic_cmpxchg(&a32, INT32_MAX, 3) == INT32_MAX);
	CHECK(kb_atomic_fetch_andnot(1, &a32) == 3 && kb_atomic_read(&a32) == 2);
	CHECK(kb_atomic_add_unless(&a32, 1, 2) == false);
	CHECK(kb_atomic_inc_not_zero(&a32) && kb_atomic_read(&a32) == 3);
	CHECK(kb_atomic_long_dec_if_positive(&al) == 4);
	CHECK(kb_atomic_long_add_negative(-10, &al) == true);

	for (int i = 0; i < 2; i++)
		pthread_create(&t[i], NULL, adder, NULL);
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	CHECK(kb_atomic64_read(&counter) == 2 * PER_THREAD);

	pthread_create(&t[0], NULL, mp_writer, NULL);
	pthread_create(&t[1], NULL, mp_reader, NULL);
	pthread_join(t[0], NULL);
	pthread_join(t[1], NULL);
	CHECK(mp_violations == 0);

	kb_smp_mb();
	kb_smp_rmb();
	kb_smp_wmb();
	printf("arch %s: %s\n", kb_arch_name(), failures ? "FAILED" : "ok");
	return failures ? 1 : 0;
}

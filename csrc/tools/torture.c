/* SPDX-License-Identifier: MIT */
/*
 * csrc/tools/torture.c - what every native torture test shares: the stop request.
 */
#include "kbind.h"

#include <pthread.h>
#include <sched.h>

static int kb_torture_stop;

/*
 * The pinning list.  Set between runs; read by torture threads.  Every
 * access is atomic (a run started while another thread changes the list is
 * a caller's bug, but a defined one): the elements relaxed, the count with
 * release/acquire so a reader of the count sees the elements it covers.
 */
static int32_t kb_torture_cpus[KB_TORTURE_MAX_CPUS];
static int32_t kb_torture_ncpus_;

/**
 * kb_torture_request_stop() - ask running torture tests to finish early.
 *
 * Their threads see it within one loop iteration and the run returns with
 * what it counted so far (Python calls this on Ctrl-C).
 * Context: any thread; never blocks.
 */
void kb_torture_request_stop(void)
{
	/* Pairs with the acquire in kb_torture_stop_requested(). */
	__atomic_store_n(&kb_torture_stop, 1, __ATOMIC_RELEASE);
}

/** kb_torture_clear_stop() - reset the request before a new run.  Context: any. */
void kb_torture_clear_stop(void)
{
	__atomic_store_n(&kb_torture_stop, 0, __ATOMIC_RELEASE);
}

/** kb_torture_stop_requested() - has a stop been requested?  Context: any. */
bool kb_torture_stop_requested(void)
{
	return __atomic_load_n(&kb_torture_stop, __ATOMIC_ACQUIRE) != 0;
}

/**
 * kb_torture_set_cpus() - pin the threads of later torture runs to @cpus.
 * @cpus: CPU numbers (each 0..KB_TORTURE_MAX_CPUS-1); NULL with @n 0 clears.
 * @n: how many (0..KB_TORTURE_MAX_CPUS); 0: no pinning (the default).
 *
 * Thread i of a run is pinned to @cpus[i % @n] (kb_torture_pin()).
 * Context: between runs (not while a torture is starting its threads).
 * Return: KB_OK, or KB_EINVAL (nothing changed) for a bad list.
 */
int kb_torture_set_cpus(const int32_t *cpus, int32_t n)
{
	if (n < 0 || n > KB_TORTURE_MAX_CPUS || (n > 0 && !cpus))
		return KB_EINVAL;
	for (int32_t i = 0; i < n; i++)
		if (cpus[i] < 0 || cpus[i] >= KB_TORTURE_MAX_CPUS)
			return KB_EINVAL;
	__atomic_store_n(&kb_torture_ncpus_, 0, __ATOMIC_RELEASE);
	for (int32_t i = 0; i < n; i++)
		__atomic_store_n(&kb_torture_cpus[i], cpus[i], __ATOMIC_RELAXED);
	/* Pairs with the acquire in kb_torture_ncpus(). */
	__atomic_store_n(&kb_torture_ncpus_, n, __ATOMIC_RELEASE);
	return KB_OK;
}

/** kb_torture_ncpus() - the length of the pinning list (0: no pinning).  Context: any. */
int32_t kb_torture_ncpus(void)
{
	return __atomic_load_n(&kb_torture_ncpus_, __ATOMIC_ACQUIRE);
}

/**
 * kb_torture_pin() - pin the calling thread for torture thread number @index.
 * @index: the thread's index in its run (>= 0).
 *
 * Context: a torture thread, as it starts.
 * Return: KB_OK (also when there is no list: nothing to do), KB_EINVAL for
 * a negative @index, or KB_EAGAIN if the kernel refused the CPU (not in
 * the process's affinity mask, offline); the thread then runs unpinned.
 */
int kb_torture_pin(int32_t index)
{
	int32_t n = kb_torture_ncpus();
	cpu_set_t set;

	if (index < 0)
		return KB_EINVAL;
	if (n == 0)
		return KB_OK;
	CPU_ZERO(&set);
	CPU_SET(__atomic_load_n(&kb_torture_cpus[index % n], __ATOMIC_RELAXED), &set);
	return pthread_setaffinity_np(pthread_self(), sizeof(set), &set) == 0 ? KB_OK : KB_EAGAIN;
}

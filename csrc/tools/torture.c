/* SPDX-License-Identifier: MIT */
/*
 * csrc/tools/torture.c - what every native torture test shares: the stop request.
 */
#include "kbind.h"

static int kb_torture_stop;

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

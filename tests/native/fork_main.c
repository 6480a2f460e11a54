/* SPDX-License-Identifier: MIT */
/*
 * tests/native/fork_main.c - the RCU engine across fork(), as a native
 * program for sanitizer builds (tests/test_fork.py).
 * Usage: fork_main [builtin|liburcu] [nothreads]
 *
 * A reader thread sits in a read-side section and callbacks are queued
 * (held up by it) when the main thread forks.  The child must: wait for a
 * grace period without waiting for the reader (which it lacks), run the
 * callbacks queued before the fork, queue and run new ones, and start a
 * reader thread of its own.  Over liburcu (which cannot follow a fork while
 * another thread is registered) the child must refuse grace periods and
 * call_rcu with KB_ENOTSUP instead.  Exit status 0 iff all of it held, in
 * the child and in the parent.  With "nothreads" the child starts no
 * thread (sanitizer runtimes do not support starting threads after a
 * multi-threaded fork): it checks the grace period and that the callbacks
 * queued before the fork are all still accounted for, without running them.
 */
#include "kbind.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define NCB 64

static uint32_t reader_in, reader_leave;
static kb_rcu_head_t heads[NCB];
static uint64_t ran;

static void count_cb(kb_rcu_head_t *head)
{
	KB_UNUSED(head);
	__atomic_fetch_add(&ran, 1, __ATOMIC_RELAXED);
}

static void *reader(void *arg)
{
	KB_UNUSED(arg);
	kb_rcu_register_thread();
	kb_rcu_read_lock();
	__atomic_store_n(&reader_in, 1, __ATOMIC_RELEASE);
	while (!__atomic_load_n(&reader_leave, __ATOMIC_ACQUIRE))
		kb_futex_wait(&reader_leave, 0, 1000000);
	kb_rcu_read_unlock();
	kb_rcu_unregister_thread();
	return NULL;
}

static void *short_reader(void *arg)
{
	KB_UNUSED(arg);
	kb_rcu_register_thread();
	kb_rcu_read_lock();
	kb_rcu_read_unlock();
	kb_rcu_unregister_thread();
	return NULL;
}

static int child(bool liburcu, bool nothreads)
{
	const int64_t s = 1000000000;
	pthread_t t;
	int i, brc;

	if (liburcu) {
		if (kb_rcu_backend_usable() || kb_synchronize_rcu_timeout(s) != KB_ENOTSUP ||
		    kb_call_rcu(&heads[0], count_cb) != KB_ENOTSUP)
			return 10;
		return 0;
	}
	if (kb_synchronize_rcu_timeout(10 * s) != KB_OK)
		return 1;
	if (nothreads)
		return kb_rcu_pending_callbacks() == NCB ? 0 : 7;
	brc = kb_rcu_barrier_timeout(10 * s);
	if (brc != KB_OK || __atomic_load_n(&ran, __ATOMIC_RELAXED) != NCB) {
		fprintf(stderr, "child: barrier %d, ran %llu, pending %llu\n", brc,
			(unsigned long long)ran, (unsigned long long)kb_rcu_pending_callbacks());
		return 2;
	}
	for (i = 0; i < NCB; i++)
		if (kb_call_rcu(&heads[i], count_cb) != KB_OK)
			return 3;
	if (kb_rcu_barrier_timeout(10 * s) != KB_OK ||
	    __atomic_load_n(&ran, __ATOMIC_RELAXED) != 2 * NCB)
		return 4;
	if (pthread_create(&t, NULL, short_reader, NULL) != 0)
		return 5;
	pthread_join(t, NULL);
	if (kb_synchronize_rcu_timeout(10 * s) != KB_OK)
		return 6;
	return 0;
}

int main(int argc, char **argv)
{
	bool liburcu = argc > 1 && strcmp(argv[1], "liburcu") == 0;
	bool nothreads = argc > 2 && strcmp(argv[2], "nothreads") == 0;
	pthread_t t;
	pid_t pid;
	int status, i;

	if (liburcu && kb_rcu_set_backend(KB_RCU_BACKEND_LIBURCU) != KB_OK) {
		printf("SKIP: liburcu cannot be loaded\n");
		return 77;
	}
	kb_rcu_register_thread();
	kb_rcu_thread_offline();
	if (pthread_create(&t, NULL, reader, NULL) != 0)
		return 2;
	while (!__atomic_load_n(&reader_in, __ATOMIC_ACQUIRE))
		sched_yield();
	for (i = 0; i < NCB; i++)
		kb_call_rcu(&heads[i], count_cb);
	pid = fork();
	if (pid == 0) {
		alarm(20); /* a hung child dies of SIGALRM and the parent says so */
		_exit(child(liburcu, nothreads));
	}
	__atomic_store_n(&reader_leave, 1, __ATOMIC_RELEASE);
	kb_futex_wake(&reader_leave, 1);
	pthread_join(t, NULL);
	if (pid < 0 || waitpid(pid, &status, 0) != pid) {
		printf("FAIL: fork/waitpid\n");
		return 1;
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		printf("FAIL: child %s %d\n", WIFEXITED(status) ? "exit" : "signal",
		       WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
		return 1;
	}
	kb_rcu_barrier();
	if (__atomic_load_n(&ran, __ATOMIC_RELAXED) != NCB) {
		printf("FAIL: parent ran %llu of %d callbacks\n", (unsigned long long)ran, NCB);
		return 1;
	}
	printf("PASS (0 failures)\n");
	return 0;
}

/* SPDX-License-Identifier: MIT */
/*
 * csrc/engine/lock.c - spinlock and futex mutex.
 *
 * Both are acquire/release locks: the winning RMW (or exchange) on the lock
 * word is an acquire, the store that frees it a release, so everything done
 * under the lock is ordered before everything the next holder does.
 */
#include "kbind.h"

/* Mutex: how many spins before a locker goes to sleep on the futex. */
#define KB_MUTEX_SPINS 64

/* -------------------------------------------------------------- spinlock */

/** kb_spin_lock_init() - an unlocked spinlock.  Context: not shared yet. */
void kb_spin_lock_init(kb_spinlock_t *lock)
{
	KB_WRITE_ONCE(lock->locked, 0);
}

/**
 * kb_spin_trylock() - take @lock if it is free.
 * @lock: the spinlock.
 *
 * Ordering: acquire on success (pairs with the release in kb_spin_unlock()).
 * Context: any; never blocks.
 * Return: true if the caller now holds @lock.
 */
bool kb_spin_trylock(kb_spinlock_t *lock)
{
	/* Test first: waiting readers share the line instead of bouncing it. */
	if (KB_READ_ONCE(lock->locked))
		return false;
	return __atomic_exchange_n(&lock->locked, 1, __ATOMIC_ACQUIRE) == 0;
}

/**
 * kb_spin_lock_timeout() - take @lock, giving up after @timeout_ns.
 * @lock: the spinlock.
 * @timeout_ns: the limit; negative means none.
 *
 * Spins with kb_cpu_relax() while the holder is likely running, then
 * yields the CPU between tries so a preempted holder can run.
 * Context: may spin and yield; callers that must stay responsive (Python,
 * which checks for signals between calls) pass a bound and retry.
 * Return: KB_OK holding the lock, or KB_ETIMEDOUT without it.
 */
int kb_spin_lock_timeout(kb_spinlock_t *lock, int64_t timeout_ns)
{
	struct kb_backoff b = KB_BACKOFF_INIT;

	while (!kb_spin_trylock(lock))
		if (kb_backoff_wait(&b, timeout_ns) != KB_OK)
			return KB_ETIMEDOUT;
	return KB_OK;
}

/** kb_spin_lock() - take @lock, however long it takes.  Context: may spin. */
void kb_spin_lock(kb_spinlock_t *lock)
{
	(void)kb_spin_lock_timeout(lock, -1);
}

/**
 * kb_spin_unlock() - release @lock.
 * @lock: a spinlock the caller holds.
 *
 * Ordering: release; pairs with the acquire in kb_spin_trylock().
 * Context: any.
 */
void kb_spin_unlock(kb_spinlock_t *lock)
{
	__atomic_store_n(&lock->locked, 0, __ATOMIC_RELEASE);
}

/** kb_spin_is_locked() - a racy snapshot, for diagnostics only. */
bool kb_spin_is_locked(const kb_spinlock_t *lock)
{
	return KB_READ_ONCE(lock->locked) != 0;
}

/* ----------------------------------------------------------------- mutex */
/*
 * The three-state futex mutex of Drepper's "Futexes Are Tricky": 0 free,
 * 1 held, 2 held and someone may sleep.  Unlock wakes only from state 2.
 */

/** kb_mutex_init() - an unlocked mutex.  Context: not shared yet. */
void kb_mutex_init(kb_mutex_t *lock)
{
	KB_WRITE_ONCE(lock->state, 0);
}

/**
 * kb_mutex_trylock() - take @lock if it is free.
 * Ordering: acquire on success (pairs with the release in kb_mutex_unlock()).
 * Context: any; never blocks.  Return: true if the caller now holds @lock.
 */
bool kb_mutex_trylock(kb_mutex_t *lock)
{
	uint32_t expected = 0;

	return __atomic_compare_exchange_n(&lock->state, &expected, 1, false,
					   __ATOMIC_ACQUIRE, __ATOMIC_RELAXED);
}

/**
 * kb_mutex_lock_timeout() - take @lock, sleeping while it is held.
 * @lock: the mutex.
 * @timeout_ns: the limit; negative means none.
 *
 * Spins briefly, then marks the lock contended and sleeps on the futex
 * until the holder's unlock wakes it.
 * Context: may sleep.
 * Return: KB_OK holding the lock, or KB_ETIMEDOUT without it.
 */
int kb_mutex_lock_timeout(kb_mutex_t *lock, int64_t timeout_ns)
{
	int64_t deadline = timeout_ns >= 0 ? kb_deadline_ns(timeout_ns) : 0;
	uint32_t c;
	int i;

	for (i = 0; i < KB_MUTEX_SPINS; i++) {
		if (kb_mutex_trylock(lock))
			return KB_OK;
		kb_cpu_relax();
	}
	/*
	 * Announce a sleeper: whoever holds it now will wake us.  The acquire
	 * exchange pairs with the release in kb_mutex_unlock(); when it finds 0
	 * we own the lock (in state 2, which costs at most one spare wake-up).
	 */
	while ((c = __atomic_exchange_n(&lock->state, 2, __ATOMIC_ACQUIRE)) != 0) {
		int64_t left = -1;

		if (timeout_ns >= 0) {
			left = deadline - kb_now_ns();
			if (left <= 0)
				return KB_ETIMEDOUT;
		}
		kb_futex_wait(&lock->state, 2, left);
	}
	return KB_OK;
}

/** kb_mutex_lock() - take @lock, however long it takes.  Context: may sleep. */
void kb_mutex_lock(kb_mutex_t *lock)
{
	(void)kb_mutex_lock_timeout(lock, -1);
}

/**
 * kb_mutex_unlock() - release @lock and wake one sleeper if there may be one.
 * Ordering: release; pairs with the acquire in kb_mutex_trylock() and in the
 * exchange of kb_mutex_lock_timeout().
 * Context: any; never blocks.
 */
void kb_mutex_unlock(kb_mutex_t *lock)
{
	if (__atomic_exchange_n(&lock->state, 0, __ATOMIC_RELEASE) == 2)
		kb_futex_wake(&lock->state, 1);
}

/** kb_mutex_is_locked() - a racy snapshot, for diagnostics only. */
bool kb_mutex_is_locked(const kb_mutex_t *lock)
{
	return KB_READ_ONCE(lock->state) != 0;
}

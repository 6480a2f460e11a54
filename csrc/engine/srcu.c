/* SPDX-License-Identifier: MIT */
/*
 * csrc/engine/srcu.c - sleepable RCU, as the kernel's classic SRCU.
 *
 * Kernel: kernel/rcu/srcutree.c (and the older kernel/rcu/srcu.c),
 * Documentation/RCU/whatisRCU.rst.  A domain (struct srcu_struct) counts
 * its readers in two indexes, striped over KB_SRCU_SLOTS slots:
 *
 *	reader:  idx = READ_ONCE(d->idx) & 1;
 *	         slot->lock_count[idx]++;  smp_mb();     (B)
 *	         ... read-side section, may sleep ...
 *	         smp_mb();  slot->unlock_count[idx]++;   (C)
 *
 * An index is drained when the sum of its unlock counts, read first, then
 * smp_mb() (A), equals the sum of its lock counts: an unlock counted implies
 * its lock was counted too, so the sums can be equal only when every reader
 * that the lock sum saw has unlocked (srcu_readers_active_idx_check()).  A
 * reader whose lock_count increment the lock sum missed is safe: (A) and
 * (B) form the store-buffering pattern, so it sees every store the updater
 * made before the grace period (the new pointer).
 *
 * A grace period (srcu_gp_mutex held) waits for the inactive index to drain
 * (readers that sampled the index before the previous flip may still be
 * using it), flips the index, and waits for the old index to drain.  Its
 * progress lives in gp_seq (rcu_seq: phase in the low two bits), so a wait
 * that runs out of its time slice leaves the grace period where it was and
 * the next slice, or another caller, continues it.
 */
#include "kbind.h"

#include <time.h>

#define KB_SRCU_STATE_MASK 3ULL
#define KB_SRCU_STATE_IDLE 0ULL
#define KB_SRCU_STATE_SCAN1 1ULL
#define KB_SRCU_STATE_SCAN2 2ULL
/* Normal waits: spin this many checks, then sleep from MIN to MAX ns, doubling. */
#define KB_SRCU_SPIN_CHECKS 16
#define KB_SRCU_SLEEP_MIN_NS 2000
#define KB_SRCU_SLEEP_MAX_NS 1000000

static int kb_srcu_busted_mode;
static unsigned int kb_srcu_next_slot;
static _Thread_local int kb_srcu_my_slot = -1;

/**
 * kb_srcu_set_busted() - pick the variant later kb_srcu_init() calls use.
 * @mode: KB_SRCU_BUSTED_NONE (the real SRCU) .. KB_SRCU_BUSTED_MAX.
 *
 * For torture tests only.  Domains already initialized keep their mode.
 * Context: any.  Return: KB_OK, or KB_EINVAL for an unknown mode.
 */
int kb_srcu_set_busted(int mode)
{
	if (mode < KB_SRCU_BUSTED_NONE || mode > KB_SRCU_BUSTED_MAX)
		return KB_EINVAL;
	KB_WRITE_ONCE(kb_srcu_busted_mode, mode);
	return KB_OK;
}

/** kb_srcu_get_busted() - the mode kb_srcu_init() uses now.  Context: any. */
int kb_srcu_get_busted(void)
{
	return KB_READ_ONCE(kb_srcu_busted_mode);
}

/**
 * kb_srcu_init() - an SRCU domain with no readers (init_srcu_struct()).
 * @d: the domain, not yet shared.
 *
 * Context: any.  Return: KB_OK, or KB_EINVAL for a NULL @d.
 */
int kb_srcu_init(kb_srcu_t *d)
{
	if (d == NULL)
		return KB_EINVAL;
	for (int s = 0; s < KB_SRCU_SLOTS; s++)
		for (int i = 0; i < 2; i++) {
			KB_WRITE_ONCE(d->slots[s].lock_count[i], 0);
			KB_WRITE_ONCE(d->slots[s].unlock_count[i], 0);
		}
	KB_WRITE_ONCE(d->idx, 0);
	KB_WRITE_ONCE(d->gp_seq, 0);
	kb_mutex_init(&d->lock);
	KB_WRITE_ONCE(d->busted, kb_srcu_get_busted());
	/* Pairs with nothing: publishing @d to other threads orders it. */
	KB_WRITE_ONCE(d->initialized, 1);
	return KB_OK;
}

/* The calling thread's slot, picked round robin at its first use. */
static kb_srcu_slot_t *kb_srcu_slot(kb_srcu_t *d)
{
	int s = kb_srcu_my_slot;

	if (KB_UNLIKELY(s < 0)) {
		s = (int)(__atomic_fetch_add(&kb_srcu_next_slot, 1, __ATOMIC_RELAXED) %
			  KB_SRCU_SLOTS);
		kb_srcu_my_slot = s;
	}
	return &d->slots[s];
}

/**
 * kb_srcu_read_lock() - enter a read-side section of @d (srcu_read_lock()).
 * @d: an initialized domain.
 *
 * Ordering: the increment, then smp_mb() (B): the section's loads come after
 * it, and pair with the updater's smp_mb() (A) in kb_srcu_idx_drained().
 * Context: any; never blocks.  The section may sleep.
 * Return: the index to pass to kb_srcu_read_unlock() (0 or 1).
 */
int kb_srcu_read_lock(kb_srcu_t *d)
{
	kb_srcu_slot_t *slot = kb_srcu_slot(d);
	int idx = (int)(KB_READ_ONCE(d->idx) & 1);

	__atomic_fetch_add(&slot->lock_count[idx], 1, __ATOMIC_RELAXED);
	kb_smp_mb(); /* (B): pairs with (A) in kb_srcu_idx_drained() */
	return idx;
}

/**
 * kb_srcu_read_unlock() - leave a read-side section (srcu_read_unlock()).
 * @d: the domain the section was entered in.
 * @idx: what kb_srcu_read_lock() returned (any thread may pass it).
 *
 * Ordering: smp_mb() (C), then the increment: the section's accesses come
 * before it; pairs with (A) in kb_srcu_idx_drained().
 * Context: any; never blocks.  Return: KB_OK, or KB_EINVAL for a bad @idx.
 */
int kb_srcu_read_unlock(kb_srcu_t *d, int idx)
{
	kb_srcu_slot_t *slot;

	if (idx != 0 && idx != 1)
		return KB_EINVAL;
	slot = kb_srcu_slot(d);
	kb_smp_mb(); /* (C): pairs with (A) in kb_srcu_idx_drained() */
	__atomic_fetch_add(&slot->unlock_count[idx], 1, __ATOMIC_RELAXED);
	return KB_OK;
}

static uint64_t kb_srcu_sum(kb_srcu_t *d, int idx, bool locks)
{
	uint64_t sum = 0;

	for (int s = 0; s < KB_SRCU_SLOTS; s++)
		sum += locks ? KB_READ_ONCE(d->slots[s].lock_count[idx])
			     : KB_READ_ONCE(d->slots[s].unlock_count[idx]);
	return sum;
}

/* srcu_readers_active_idx_check(): has every reader of @idx left? */
static bool kb_srcu_idx_drained(kb_srcu_t *d, int idx)
{
	uint64_t unlocks = kb_srcu_sum(d, idx, false);

	kb_smp_mb(); /* (A): pairs with (B) and (C) in the readers */
	return kb_srcu_sum(d, idx, true) == unlocks;
}

/**
 * kb_srcu_readers_active() - is any reader in @d now (srcu_readers_active())?
 *
 * A snapshot for diagnostics and clean-up checks.  Context: any.
 */
bool kb_srcu_readers_active(kb_srcu_t *d)
{
	return !kb_srcu_idx_drained(d, 0) || !kb_srcu_idx_drained(d, 1);
}

/** kb_srcu_gp_count() - grace periods @d has completed.  Context: any. */
uint64_t kb_srcu_gp_count(kb_srcu_t *d)
{
	return __atomic_load_n(&d->gp_seq, __ATOMIC_ACQUIRE) >> 2;
}

/**
 * kb_get_state_synchronize_srcu() - a cookie for the next full grace period.
 * @d: the domain.
 *
 * rcu_seq_snap(): a grace period in progress may have started after some
 * reader the caller cares about, so the cookie names the one after it.
 * Context: any.  Return: the cookie for kb_poll_state_synchronize_srcu().
 */
uint64_t kb_get_state_synchronize_srcu(kb_srcu_t *d)
{
	kb_smp_mb(); /* the caller's updates before the snapshot (as get_state_synchronize_srcu()) */
	return (__atomic_load_n(&d->gp_seq, __ATOMIC_ACQUIRE) + 2 * KB_SRCU_STATE_MASK + 1) &
	       ~KB_SRCU_STATE_MASK;
}

/**
 * kb_poll_state_synchronize_srcu() - has the cookie's grace period ended?
 *
 * Ordering: acquire; pairs with the release that ends a grace period.
 * Context: any; never blocks.
 */
bool kb_poll_state_synchronize_srcu(kb_srcu_t *d, uint64_t cookie)
{
	return (int64_t)(__atomic_load_n(&d->gp_seq, __ATOMIC_ACQUIRE) - cookie) >= 0;
}

static void kb_srcu_nap(int64_t ns)
{
	struct timespec ts = { .tv_sec = ns / 1000000000, .tv_nsec = ns % 1000000000 };

	nanosleep(&ts, NULL);
}

/*
 * Wait until @idx drains or @deadline passes.  Normal waits check a few
 * times, then sleep with a doubling interval (the readers may sleep too);
 * expedited ones spin, then yield (kb_backoff_wait()), never sleep.
 */
static int kb_srcu_drain(kb_srcu_t *d, int idx, int64_t deadline, bool expedited)
{
	struct kb_backoff b = KB_BACKOFF_INIT;
	int64_t nap = KB_SRCU_SLEEP_MIN_NS;
	int checks = 0;

	while (!kb_srcu_idx_drained(d, idx)) {
		int64_t now = kb_now_ns();

		if (now >= deadline)
			return KB_ETIMEDOUT;
		if (expedited) {
			if (kb_backoff_wait(&b, deadline - now) != KB_OK)
				return KB_ETIMEDOUT;
		} else if (++checks < KB_SRCU_SPIN_CHECKS) {
			kb_cpu_relax();
		} else {
			kb_srcu_nap(nap < deadline - now ? nap : deadline - now);
			if (nap < KB_SRCU_SLEEP_MAX_NS)
				nap *= 2;
		}
	}
	return KB_OK;
}

/* Advance gp_seq (the mutex is held); release: the scans before it are visible. */
static void kb_srcu_set_seq(kb_srcu_t *d, uint64_t seq)
{
	__atomic_store_n(&d->gp_seq, seq, __ATOMIC_RELEASE);
}

/*
 * One step of the grace-period machine, the mutex held: start a grace
 * period, or finish the scan its phase is in.  KB_ETIMEDOUT leaves the
 * phase as it was.
 */
static int kb_srcu_advance(kb_srcu_t *d, int64_t deadline, bool expedited)
{
	uint64_t seq = KB_READ_ONCE(d->gp_seq);
	int busted = KB_READ_ONCE(d->busted);
	int idx;

	switch (seq & KB_SRCU_STATE_MASK) {
	case KB_SRCU_STATE_IDLE: /* srcu_gp_start() */
		kb_smp_mb(); /* the updates the caller made before the scans */
		kb_srcu_set_seq(d, seq + 1);
		return KB_OK;
	case KB_SRCU_STATE_SCAN1: /* stragglers of the previous flip */
		idx = (int)((KB_READ_ONCE(d->idx) & 1) ^ 1);
		if (kb_srcu_drain(d, idx, deadline, expedited) != KB_OK)
			return KB_ETIMEDOUT;
		if (busted != KB_SRCU_BUSTED_NO_FLIP) {
			/* srcu_flip(): the scan above before the flip, the flip before the next. */
			kb_smp_mb();
			KB_WRITE_ONCE(d->idx, KB_READ_ONCE(d->idx) + 1);
			kb_smp_mb();
		}
		kb_srcu_set_seq(d, seq + 1);
		return KB_OK;
	default: /* SCAN2: the readers of the index in use until the flip */
		idx = (int)((KB_READ_ONCE(d->idx) & 1) ^ 1);
		if (busted == KB_SRCU_BUSTED_WRONG_INDEX)
			idx ^= 1;
		if (kb_srcu_drain(d, idx, deadline, expedited) != KB_OK)
			return KB_ETIMEDOUT;
		kb_smp_mb(); /* srcu_gp_end(): the readers' sections before what follows */
		kb_srcu_set_seq(d, (seq | KB_SRCU_STATE_MASK) + 1);
		return KB_OK;
	}
}

/**
 * kb_srcu_wait_gp() - wait until the cookie's grace period has ended.
 * @d: the domain.
 * @cookie: from kb_get_state_synchronize_srcu().
 * @timeout_ns: the limit of this call; negative: none.
 * @expedited: spin and yield instead of sleeping between checks.
 *
 * Drives the grace-period machine itself (under the domain's mutex), so
 * concurrent callers share grace periods.  A timed-out call keeps the
 * progress made; call again with the same cookie.
 * Context: may sleep; must not be called inside a read-side section of @d.
 * Return: KB_OK, or KB_ETIMEDOUT.
 */
int kb_srcu_wait_gp(kb_srcu_t *d, uint64_t cookie, int64_t timeout_ns, bool expedited)
{
	int64_t deadline = timeout_ns >= 0 ? kb_deadline_ns(timeout_ns) : INT64_MAX;

	while (!kb_poll_state_synchronize_srcu(d, cookie)) {
		int64_t left = timeout_ns >= 0 ? deadline - kb_now_ns() : -1;
		int rc;

		if (timeout_ns >= 0 && left <= 0)
			return KB_ETIMEDOUT;
		if (kb_mutex_lock_timeout(&d->lock, left) != KB_OK)
			return KB_ETIMEDOUT;
		rc = KB_OK;
		while (rc == KB_OK && !kb_poll_state_synchronize_srcu(d, cookie))
			rc = kb_srcu_advance(d, deadline, expedited);
		kb_mutex_unlock(&d->lock);
		if (rc != KB_OK)
			return rc;
	}
	kb_smp_mb(); /* the grace period before the caller's frees */
	return KB_OK;
}

/**
 * kb_synchronize_srcu_timeout() - synchronize_srcu(), bounded by @timeout_ns.
 *
 * Takes a new cookie each call: Python uses kb_srcu_wait_gp() with one
 * cookie across slices instead.  Context: may sleep.
 * Return: KB_OK, or KB_ETIMEDOUT.
 */
int kb_synchronize_srcu_timeout(kb_srcu_t *d, int64_t timeout_ns)
{
	return kb_srcu_wait_gp(d, kb_get_state_synchronize_srcu(d), timeout_ns, false);
}

/** kb_synchronize_srcu_expedited_timeout() - as above, spinning (synchronize_srcu_expedited()). */
int kb_synchronize_srcu_expedited_timeout(kb_srcu_t *d, int64_t timeout_ns)
{
	return kb_srcu_wait_gp(d, kb_get_state_synchronize_srcu(d), timeout_ns, true);
}

/** kb_synchronize_srcu() - wait for a full grace period of @d.  Context: may sleep. */
void kb_synchronize_srcu(kb_srcu_t *d)
{
	(void)kb_synchronize_srcu_timeout(d, -1);
}

/** kb_synchronize_srcu_expedited() - the same, waiting by spinning and yielding. */
void kb_synchronize_srcu_expedited(kb_srcu_t *d)
{
	(void)kb_synchronize_srcu_expedited_timeout(d, -1);
}

/**
 * kb_srcu_barrier_timeout() - srcu_barrier(), bounded by @timeout_ns.
 *
 * kbind has no call_srcu(), so no callbacks are ever queued: the barrier
 * waits for a grace period in progress (a caller that ran out of time may
 * have left one half done) to complete.
 * Context: may sleep.  Return: KB_OK, or KB_ETIMEDOUT.
 */
int kb_srcu_barrier_timeout(kb_srcu_t *d, int64_t timeout_ns)
{
	uint64_t seq = __atomic_load_n(&d->gp_seq, __ATOMIC_ACQUIRE);

	if ((seq & KB_SRCU_STATE_MASK) == KB_SRCU_STATE_IDLE)
		return KB_OK;
	return kb_srcu_wait_gp(d, (seq | KB_SRCU_STATE_MASK) + 1, timeout_ns, false);
}

/**
 * kb_cleanup_srcu_struct() - retire @d (cleanup_srcu_struct()).
 *
 * Refuses while readers are active or a grace period is in progress
 * (the kernel WARNs and leaks the domain then).
 * Context: any.  Return: KB_OK, or KB_EBUSY.
 */
int kb_cleanup_srcu_struct(kb_srcu_t *d)
{
	if (kb_srcu_readers_active(d) ||
	    (__atomic_load_n(&d->gp_seq, __ATOMIC_ACQUIRE) & KB_SRCU_STATE_MASK) != 0)
		return KB_EBUSY;
	KB_WRITE_ONCE(d->initialized, 0);
	return KB_OK;
}

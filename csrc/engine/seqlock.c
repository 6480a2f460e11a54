/* SPDX-License-Identifier: MIT */
/*
 * csrc/engine/seqlock.c - sequence counters, sequence locks and latches.
 *
 * Mirrors include/linux/seqlock.h (see Documentation/locking/seqlock.rst).
 *
 * The protocol.  A writer makes the sequence odd, stores the data, makes it
 * even again.  A reader samples an even sequence, loads the data, and
 * samples the sequence again: if it changed, a writer overlapped and the
 * reader retries.  Two barrier pairs make that sound:
 *
 *   writer                              reader
 *   seq++                (odd)          s = READ_ONCE(seq)   (wait for even)
 *   smp_wmb()   [W1]                    smp_rmb()   [R1]
 *   WRITE_ONCE(data...)                 READ_ONCE(data...)
 *   smp_wmb()   [W2]                    smp_rmb()   [R2]
 *   seq++                (even)         retry if READ_ONCE(seq) != s
 *
 * W1 pairs with R2: if the reader's loads saw any of the writer's data
 * stores, its second sample sees at least the first increment, and it
 * retries.  W2 pairs with R1: if its first sample saw a writer's final
 * increment, its loads see all of that writer's data.  So a section that
 * passes the check read one writer's complete data.
 *
 * Every racing access is marked (KB_READ_ONCE()/KB_WRITE_ONCE(), i.e.
 * relaxed __atomic accesses), so a reader that loses the race has read
 * stale words, not invoked undefined behaviour.  The kernel's sequence++
 * is a plain increment (the writer is exclusive); here it is a marked
 * load plus a marked store, because readers load the counter concurrently.
 */
#include "kbind.h"
#include "seqlock_internal.h"

#include <sched.h>
#include <string.h>

/* ------------------------------------------------------- busted variants */

/* Global torture switch; read and written with marked accesses. */
static int kb_seq_busted_mode = KB_SEQ_BUSTED_NONE;

/**
 * kb_seqlock_set_busted() - select a deliberately broken variant.
 * @mode: one of KB_SEQ_BUSTED_*.
 *
 * Affects every kb_*seqcount*()/kb_*seq*() call made afterwards, by every
 * thread, until reset to KB_SEQ_BUSTED_NONE.  Torture runs pass their own
 * mode instead (struct kb_seqlock_torture_config) and leave this alone.
 *
 * Context: any; intended for tests.
 * Return: KB_OK, or KB_EINVAL (nothing changed) for an unknown @mode.
 */
int kb_seqlock_set_busted(int mode)
{
	if (mode < KB_SEQ_BUSTED_NONE || mode > KB_SEQ_BUSTED_MAX)
		return KB_EINVAL;
	KB_WRITE_ONCE(kb_seq_busted_mode, mode);
	return KB_OK;
}

/** kb_seqlock_get_busted() - the current global KB_SEQ_BUSTED_* mode. */
int kb_seqlock_get_busted(void)
{
	return KB_READ_ONCE(kb_seq_busted_mode);
}

/*
 * The KB_SEQ_BUSTED_WRITER_NO_BARRIER emulation.  Without the smp_wmb()
 * after the first increment, nothing orders that increment before the
 * data stores that follow: the compiler may sink it below them, and a
 * weakly ordered CPU may make it visible after them.  x86-64 never
 * reorders stores, so to make the bug observable everywhere the begin
 * records the increment as pending and the end performs it, after the
 * protected stores: exactly the order the missing barrier allows.
 *
 * A busted write section records its mode at the begin, per section, and
 * the end follows that record, not the global switch: flipping the switch
 * while a writer is inside must not leave the sequence odd, and nested
 * sections on two seqcounts each keep their own pending increment.  The
 * records are a small per-thread stack (write sections on one thread nest
 * LIFO); a section begun with the stack full runs the real, unbroken begin
 * and end.
 */
#define KB_SEQ_BUSTED_NEST_MAX 16

struct kb_seq_busted_section {
	kb_seqcount_t *s;
	int mode;
};

static _Thread_local struct kb_seq_busted_section kb_seq_busted_stack[KB_SEQ_BUSTED_NEST_MAX];
static _Thread_local int kb_seq_busted_depth;

/* Record a busted section's mode; false if there is no room (run it unbroken). */
static bool kb_seq_busted_push(kb_seqcount_t *s, int mode)
{
	if (kb_seq_busted_depth == KB_SEQ_BUSTED_NEST_MAX)
		return false;
	kb_seq_busted_stack[kb_seq_busted_depth].s = s;
	kb_seq_busted_stack[kb_seq_busted_depth].mode = mode;
	kb_seq_busted_depth++;
	return true;
}

/* The mode @s's innermost open section began with (removing its record). */
static int kb_seq_busted_pop(const kb_seqcount_t *s)
{
	for (int i = kb_seq_busted_depth - 1; i >= 0; i--) {
		if (kb_seq_busted_stack[i].s != s)
			continue;
		int mode = kb_seq_busted_stack[i].mode;

		for (int j = i + 1; j < kb_seq_busted_depth; j++)
			kb_seq_busted_stack[j - 1] = kb_seq_busted_stack[j];
		kb_seq_busted_depth--;
		return mode;
	}
	return KB_SEQ_BUSTED_NONE;
}

static inline void kb_seq_inc(kb_seqcount_t *s)
{
	/* Writers are serialized: only the reads of this word race. */
	KB_WRITE_ONCE(s->sequence, KB_READ_ONCE(s->sequence) + 1);
}

/* ------------------------------------------- seqcount_t, mode explicit */
/*
 * The kb__*() helpers take the busted mode as an argument, so the torture
 * can run a broken variant without touching the global switch.  They are
 * shared with csrc/tools/seqlock_torture.c through csrc/engine/seqlock_internal.h.
 */

uint32_t kb__read_seqcount_begin(const kb_seqcount_t *s)
{
	uint32_t seq;

	while ((seq = KB_READ_ONCE(s->sequence)) & 1)
		kb_cpu_relax();
	/* Pairs with the smp_wmb() in kb__write_seqcount_end(). */
	kb_smp_rmb();
	return seq;
}

int kb__read_seqcount_retry(const kb_seqcount_t *s, uint32_t start, int busted)
{
	if (busted == KB_SEQ_BUSTED_READER_NO_RETRY)
		return 0;
	/* Pairs with the smp_wmb() in kb__write_seqcount_begin(). */
	kb_smp_rmb();
	return KB_UNLIKELY(KB_READ_ONCE(s->sequence) != start);
}

void kb__write_seqcount_begin(kb_seqcount_t *s, int busted)
{
	if ((busted == KB_SEQ_BUSTED_WRITER_NO_INCREMENT ||
	     busted == KB_SEQ_BUSTED_WRITER_NO_BARRIER) &&
	    kb_seq_busted_push(s, busted))
		return; /* no increment now (NO_BARRIER: the end does it late) */
	kb_seq_inc(s);
	/*
	 * Order the odd sequence before the data stores; pairs with the
	 * smp_rmb() in kb__read_seqcount_retry().
	 */
	kb_smp_wmb();
}

void kb__write_seqcount_end(kb_seqcount_t *s)
{
	int busted = kb_seq_busted_pop(s);

	if (busted == KB_SEQ_BUSTED_WRITER_NO_INCREMENT)
		return;
	if (busted == KB_SEQ_BUSTED_WRITER_NO_BARRIER) {
		/* The begin's increment, performed late: no barrier before it. */
		kb_seq_inc(s);
	}
	/*
	 * Order the data stores before the even sequence; pairs with the
	 * smp_rmb() in kb__read_seqcount_begin().
	 */
	kb_smp_wmb();
	kb_seq_inc(s);
}

/* --------------------------------------------------------------- seqcount */

/** kb_seqcount_init() - a sequence counter at 0.  Context: not shared yet. */
void kb_seqcount_init(kb_seqcount_t *s)
{
	KB_WRITE_ONCE(s->sequence, 0);
}

/**
 * kb_raw_read_seqcount() - sample the sequence without waiting for even.
 * @s: the counter.
 *
 * Kernel: raw_read_seqcount().  The result may be odd; a reader that
 * starts on an odd value will fail its retry check.
 * Ordering: smp_rmb() after the load; pairs with the smp_wmb() in
 * kb_write_seqcount_end().
 * Context: any; never waits.
 * Return: the sequence.
 */
uint32_t kb_raw_read_seqcount(const kb_seqcount_t *s)
{
	uint32_t seq = KB_READ_ONCE(s->sequence);

	/* Pairs with the smp_wmb() in kb__write_seqcount_end(). */
	kb_smp_rmb();
	return seq;
}

/**
 * kb_raw_read_seqcount_begin() - start a read section.
 * @s: the counter.
 *
 * Kernel: raw_read_seqcount_begin().  Spins (cpu_relax) while a writer is
 * inside, then orders the sample before the section's loads.
 * Ordering: smp_rmb(); pairs with the smp_wmb() in kb_write_seqcount_end().
 * Context: spins while the sequence is odd; never call it on the thread
 * that is inside a write section of @s (it would spin forever).
 * Return: the (even) sequence to pass to kb_read_seqcount_retry().
 */
uint32_t kb_raw_read_seqcount_begin(const kb_seqcount_t *s)
{
	return kb__read_seqcount_begin(s);
}

/**
 * kb_read_seqcount_begin() - start a read section.
 * @s: the counter.
 *
 * Kernel: read_seqcount_begin() (lockdep annotations aside, the same as
 * the raw variant).
 * Context: spins while a writer is inside.
 * Return: the sequence for kb_read_seqcount_retry().
 */
uint32_t kb_read_seqcount_begin(const kb_seqcount_t *s)
{
	return kb__read_seqcount_begin(s);
}

/**
 * kb_read_seqcount_begin_timeout() - kb_read_seqcount_begin(), bounded.
 * @s: the counter.
 * @timeout_ns: give up after this long if the sequence stays odd (< 0: no
 *	limit).
 * @start: where to store the sequence.
 *
 * For callers that must stay responsive (Python checks for signals
 * between calls): spins with kb_cpu_relax(), then yields the CPU, so a
 * preempted writer can finish.
 * Ordering: as kb_read_seqcount_begin().
 * Context: spins and yields, at most about @timeout_ns.
 * Return: KB_OK with *@start set, or KB_ETIMEDOUT.
 */
int kb_read_seqcount_begin_timeout(const kb_seqcount_t *s, int64_t timeout_ns, uint32_t *start)
{
	struct kb_backoff b = KB_BACKOFF_INIT;
	uint32_t seq;

	while ((seq = KB_READ_ONCE(s->sequence)) & 1)
		if (kb_backoff_wait(&b, timeout_ns) != KB_OK)
			return KB_ETIMEDOUT;
	/* Pairs with the smp_wmb() in kb__write_seqcount_end(). */
	kb_smp_rmb();
	*start = seq;
	return KB_OK;
}

/**
 * kb___read_seqcount_retry() - the retry check without its barrier.
 * @s: the counter.
 * @start: what the section's begin returned.
 *
 * Kernel: __read_seqcount_retry(): the caller provides the smp_rmb() that
 * orders its data loads before this load.
 * Context: any.
 * Return: nonzero if a writer overlapped the section (retry).
 */
int kb___read_seqcount_retry(const kb_seqcount_t *s, uint32_t start)
{
	if (kb_seqlock_get_busted() == KB_SEQ_BUSTED_READER_NO_RETRY)
		return 0;
	return KB_UNLIKELY(KB_READ_ONCE(s->sequence) != start);
}

/**
 * kb_read_seqcount_retry() - end a read section: did a writer overlap it?
 * @s: the counter.
 * @start: what kb_read_seqcount_begin() returned.
 *
 * Kernel: read_seqcount_retry().
 * Ordering: smp_rmb() before the load; pairs with the smp_wmb() in
 * kb_write_seqcount_begin(): if the section saw any store of a writer,
 * it sees that writer's first increment.
 * Context: any; never waits.
 * Return: nonzero if the section must be retried (its loads may be torn).
 */
int kb_read_seqcount_retry(const kb_seqcount_t *s, uint32_t start)
{
	return kb__read_seqcount_retry(s, start, kb_seqlock_get_busted());
}

/**
 * kb_raw_write_seqcount_begin() - start a write section.
 * @s: the counter; writers must be serialized by the caller.
 *
 * Kernel: raw_write_seqcount_begin().
 * Ordering: increment, then smp_wmb(); pairs with the smp_rmb() in
 * kb_read_seqcount_retry().
 * Context: caller serializes writers; no reader may run on this thread
 * until kb_raw_write_seqcount_end().
 */
void kb_raw_write_seqcount_begin(kb_seqcount_t *s)
{
	kb__write_seqcount_begin(s, kb_seqlock_get_busted());
}

/**
 * kb_raw_write_seqcount_end() - end a write section.
 * @s: the counter.
 *
 * Kernel: raw_write_seqcount_end().
 * Ordering: smp_wmb(), then increment; pairs with the smp_rmb() in
 * kb_read_seqcount_begin().
 * Context: the caller is the writer that began the section.
 */
void kb_raw_write_seqcount_end(kb_seqcount_t *s)
{
	kb__write_seqcount_end(s);
}

/** kb_write_seqcount_begin() - Kernel: write_seqcount_begin(); see the raw variant. */
void kb_write_seqcount_begin(kb_seqcount_t *s)
{
	kb__write_seqcount_begin(s, kb_seqlock_get_busted());
}

/** kb_write_seqcount_end() - Kernel: write_seqcount_end(); see the raw variant. */
void kb_write_seqcount_end(kb_seqcount_t *s)
{
	kb__write_seqcount_end(s);
}

/**
 * kb_raw_write_seqcount_barrier() - make readers in flight retry.
 * @s: the counter.
 *
 * Kernel: raw_write_seqcount_barrier(): two increments around an
 * smp_wmb(), so stores before it and after it are never seen by one
 * successful read section.
 * Ordering: the smp_wmb() pairs with the smp_rmb() of readers.
 * Context: caller serializes writers.
 */
void kb_raw_write_seqcount_barrier(kb_seqcount_t *s)
{
	kb_seq_inc(s);
	/* Pairs with the smp_rmb() in kb_read_seqcount_retry(). */
	kb_smp_wmb();
	kb_seq_inc(s);
}

/**
 * kb_write_seqcount_invalidate() - fail every read section in flight.
 * @s: the counter.
 *
 * Kernel: write_seqcount_invalidate(): smp_wmb(), then sequence += 2.
 * Ordering: the smp_wmb() orders earlier stores before the new count;
 * pairs with the smp_rmb() in kb_read_seqcount_begin().
 * Context: caller serializes writers.
 */
void kb_write_seqcount_invalidate(kb_seqcount_t *s)
{
	/* Pairs with the smp_rmb() in kb_read_seqcount_begin(). */
	kb_smp_wmb();
	KB_WRITE_ONCE(s->sequence, KB_READ_ONCE(s->sequence) + 2);
}

/* ---------------------------------------------------------------- seqlock */

/** kb_seqlock_init() - an unlocked seqlock at sequence 0.  Context: not shared yet. */
void kb_seqlock_init(kb_seqlock_t *sl)
{
	kb_seqcount_init(&sl->seqcount);
	kb_spin_lock_init(&sl->lock);
}

/**
 * kb_read_seqbegin() - start a lockless read section.
 * @sl: the seqlock.
 *
 * Kernel: read_seqbegin().
 * Ordering: as kb_read_seqcount_begin().
 * Context: spins while a writer is inside; never on the writer's thread.
 * Return: the sequence for kb_read_seqretry().
 */
uint32_t kb_read_seqbegin(const kb_seqlock_t *sl)
{
	return kb__read_seqcount_begin(&sl->seqcount);
}

/**
 * kb_read_seqretry() - end a lockless read section.
 * @sl: the seqlock.
 * @start: what kb_read_seqbegin() returned.
 *
 * Kernel: read_seqretry().
 * Ordering: as kb_read_seqcount_retry().
 * Context: any.
 * Return: nonzero if the section must be retried.
 */
int kb_read_seqretry(const kb_seqlock_t *sl, uint32_t start)
{
	return kb__read_seqcount_retry(&sl->seqcount, start, kb_seqlock_get_busted());
}

/**
 * kb_write_seqlock() - take the writer lock and start a write section.
 * @sl: the seqlock.
 *
 * Kernel: write_seqlock().
 * Ordering: the spinlock's acquire orders this section after the previous
 * writer's; the sequence barriers are kb_write_seqcount_begin()'s.
 * Context: spins (then yields) while another writer or exclusive reader
 * holds the lock.
 */
void kb_write_seqlock(kb_seqlock_t *sl)
{
	kb_spin_lock(&sl->lock);
	kb__write_seqcount_begin(&sl->seqcount, kb_seqlock_get_busted());
}

/**
 * kb_write_seqlock_timeout() - kb_write_seqlock(), giving up after a while.
 * @sl: the seqlock.
 * @timeout_ns: the limit (< 0: none).
 *
 * Context: spins and yields at most about @timeout_ns.
 * Return: KB_OK inside the write section, or KB_ETIMEDOUT (nothing held).
 */
int kb_write_seqlock_timeout(kb_seqlock_t *sl, int64_t timeout_ns)
{
	int ret = kb_spin_lock_timeout(&sl->lock, timeout_ns);

	if (ret == KB_OK)
		kb__write_seqcount_begin(&sl->seqcount, kb_seqlock_get_busted());
	return ret;
}

/**
 * kb_write_sequnlock() - end the write section and release the writer lock.
 * @sl: the seqlock.
 *
 * Kernel: write_sequnlock().
 * Ordering: kb_write_seqcount_end()'s smp_wmb(), then the spinlock's
 * release.
 * Context: the caller holds the write side.
 */
void kb_write_sequnlock(kb_seqlock_t *sl)
{
	kb__write_seqcount_end(&sl->seqcount);
	kb_spin_unlock(&sl->lock);
}

/**
 * kb_read_seqlock_excl() - a locking reader: exclude writers, not readers
 * of the lockless kind.
 * @sl: the seqlock.
 *
 * Kernel: read_seqlock_excl().  Takes the writer lock without touching the
 * sequence, so lockless readers keep going and writers wait.
 * Ordering: the spinlock's acquire (pairs with kb_write_sequnlock()'s
 * release).
 * Context: spins while a writer holds the lock.
 */
void kb_read_seqlock_excl(kb_seqlock_t *sl)
{
	kb_spin_lock(&sl->lock);
}

/**
 * kb_read_seqlock_excl_timeout() - kb_read_seqlock_excl(), bounded.
 * @sl: the seqlock.
 * @timeout_ns: the limit (< 0: none).
 *
 * Context: spins and yields at most about @timeout_ns.
 * Return: KB_OK holding the lock, or KB_ETIMEDOUT.
 */
int kb_read_seqlock_excl_timeout(kb_seqlock_t *sl, int64_t timeout_ns)
{
	return kb_spin_lock_timeout(&sl->lock, timeout_ns);
}

/** kb_read_sequnlock_excl() - Kernel: read_sequnlock_excl().  Ordering: release. */
void kb_read_sequnlock_excl(kb_seqlock_t *sl)
{
	kb_spin_unlock(&sl->lock);
}

/**
 * kb_read_seqbegin_or_lock() - lockless read, or locking read on request.
 * @lock: the seqlock.
 * @seq: in: even to try a lockless pass, odd to take the lock; out: the
 *	sequence of the lockless pass (even) or the odd marker.
 *
 * Kernel: read_seqbegin_or_lock().  The usual loop is
 *	seq = 0;
 *   again:
 *	kb_read_seqbegin_or_lock(lock, &seq);
 *	... read ...
 *	if (kb_need_seqretry(lock, seq)) { seq = 1; goto again; }
 *	kb_done_seqretry(lock, seq);
 * so at most one lockless pass fails before the reader locks out writers:
 * readers cannot be starved by incessant writers.
 * Context: may spin on the lock.
 */
void kb_read_seqbegin_or_lock(kb_seqlock_t *lock, int *seq)
{
	if (!(*seq & 1))
		*seq = (int)kb_read_seqbegin(lock);
	else
		kb_read_seqlock_excl(lock);
}

/**
 * kb_need_seqretry() - Kernel: need_seqretry().
 * @lock: the seqlock.
 * @seq: what kb_read_seqbegin_or_lock() left.
 *
 * Return: nonzero if a lockless pass was torn (a locked pass never is).
 */
int kb_need_seqretry(kb_seqlock_t *lock, int seq)
{
	return !(seq & 1) && kb_read_seqretry(lock, (uint32_t)seq);
}

/** kb_done_seqretry() - Kernel: done_seqretry(); drops the lock of a locked pass. */
void kb_done_seqretry(kb_seqlock_t *lock, int seq)
{
	if (seq & 1)
		kb_read_sequnlock_excl(lock);
}

/* ------------------------------------------------------------------ latch */

/** kb_seqcount_latch_init() - a latch at 0 (readers use copy 0).  Context: not shared yet. */
void kb_seqcount_latch_init(kb_seqcount_latch_t *s)
{
	kb_seqcount_init(&s->seqcount);
}

/**
 * kb_raw_read_seqcount_latch() - pick the copy to read.
 * @s: the latch.
 *
 * Kernel: raw_read_seqcount_latch(), a READ_ONCE() whose low bit indexes
 * the copies: the kernel relies on that address dependency to order the
 * copy's loads after it.  ISO C does not promise dependency ordering (a
 * compiler may break the dependency), so kbind uses an acquire load:
 * still a plain MOV on x86-64, LDAR on arm64.
 * Ordering: acquire; pairs with the first smp_wmb() in
 * kb_raw_write_seqcount_latch().
 * Context: any; never waits, not even while a writer is inside (that is
 * the point of a latch: NMI-safe readers).
 * Return: the sequence; copy (seq & 1) is the one to read.
 */
uint32_t kb_raw_read_seqcount_latch(const kb_seqcount_latch_t *s)
{
	/* Pairs with the first smp_wmb() in kb_raw_write_seqcount_latch(). */
	return kb_smp_load_acquire(&s->seqcount.sequence);
}

/** kb_read_seqcount_latch() - Kernel: read_seqcount_latch(); see the raw variant. */
uint32_t kb_read_seqcount_latch(const kb_seqcount_latch_t *s)
{
	return kb_raw_read_seqcount_latch(s);
}

/**
 * kb_read_seqcount_latch_retry() - was the copy read modified meanwhile?
 * @s: the latch.
 * @start: what kb_read_seqcount_latch() returned.
 *
 * Kernel: read_seqcount_latch_retry().
 * Ordering: smp_rmb() before the load; pairs with the second smp_wmb() in
 * kb_raw_write_seqcount_latch().
 * Context: any.
 * Return: nonzero if the reader must retry.
 */
int kb_read_seqcount_latch_retry(const kb_seqcount_latch_t *s, uint32_t start)
{
	return kb__read_seqcount_retry(&s->seqcount, start, kb_seqlock_get_busted());
}

/**
 * kb_raw_write_seqcount_latch() - redirect readers to the other copy.
 * @s: the latch; writers serialized by the caller.
 *
 * Kernel: raw_write_seqcount_latch().  The writer calls it, updates the
 * copy readers just left, calls it again, updates the other copy.
 * Ordering: smp_wmb() (orders the previous copy's update before the flip;
 * pairs with the acquire in kb_raw_read_seqcount_latch()), increment,
 * smp_wmb() (orders the flip before the next copy's update; pairs with the
 * smp_rmb() in kb_read_seqcount_latch_retry()).
 * Context: caller serializes writers.
 */
void kb_raw_write_seqcount_latch(kb_seqcount_latch_t *s)
{
	int busted = kb_seqlock_get_busted();

	/* Pairs with the acquire in kb_raw_read_seqcount_latch(). */
	kb_smp_wmb();
	if (busted != KB_SEQ_BUSTED_WRITER_NO_INCREMENT)
		kb_seq_inc(&s->seqcount);
	/* Pairs with the smp_rmb() in kb_read_seqcount_latch_retry(). */
	kb_smp_wmb();
}

/** kb_write_seqcount_latch_begin() - Kernel: write_seqcount_latch_begin(): the first flip. */
void kb_write_seqcount_latch_begin(kb_seqcount_latch_t *s)
{
	kb_raw_write_seqcount_latch(s);
}

/** kb_write_seqcount_latch() - Kernel: write_seqcount_latch(): the second flip. */
void kb_write_seqcount_latch(kb_seqcount_latch_t *s)
{
	kb_raw_write_seqcount_latch(s);
}

/** kb_write_seqcount_latch_end() - Kernel: write_seqcount_latch_end() (KCSAN only; no-op). */
void kb_write_seqcount_latch_end(kb_seqcount_latch_t *s)
{
	KB_UNUSED(s);
}

/* ------------------------------------------------------- protected data */

/** kb_seq_word_read() - READ_ONCE() of a protected word.  Context: any. */
int64_t kb_seq_word_read(const int64_t *p)
{
	return KB_READ_ONCE(*p);
}

/** kb_seq_word_write() - WRITE_ONCE() of a protected word.  Context: a writer. */
void kb_seq_word_write(int64_t *p, int64_t v)
{
	KB_WRITE_ONCE(*p, v);
}

/**
 * kb_seq_words_load() - copy @n protected words into private memory.
 * @dst: private destination (not shared).
 * @src: the protected words.
 * @n: how many.
 *
 * One READ_ONCE() per word, in order; racing with a writer gives a mix of
 * old and new words, never undefined behaviour.
 * Context: inside a read section (or holding the lock).
 */
void kb_seq_words_load(int64_t *dst, const int64_t *src, size_t n)
{
	for (size_t i = 0; i < n; i++)
		dst[i] = KB_READ_ONCE(src[i]);
}

/**
 * kb_seq_words_store() - store @n words into protected memory.
 * @dst: the protected words.
 * @src: private source.
 * @n: how many.
 *
 * One WRITE_ONCE() per word, in order.
 * Context: inside a write section.
 */
void kb_seq_words_store(int64_t *dst, const int64_t *src, size_t n)
{
	for (size_t i = 0; i < n; i++)
		KB_WRITE_ONCE(dst[i], src[i]);
}

/**
 * kb_seq_bytes_load() - memcpy() out of a protected byte field.
 * @dst: private destination of @nbytes bytes.
 * @src: the field's words (ceil(@nbytes / 8) of them).
 * @nbytes: the field's length.
 *
 * The neigh_hh_output() pattern: a reader copies a buffer.  Word by word
 * with READ_ONCE(), so a racing copy is not undefined behaviour.
 * Context: inside a read section.
 */
void kb_seq_bytes_load(void *dst, const int64_t *src, size_t nbytes)
{
	unsigned char *out = dst;

	for (size_t i = 0; i < nbytes; i += 8) {
		int64_t w = KB_READ_ONCE(src[i / 8]);
		size_t len = nbytes - i < 8 ? nbytes - i : 8;

		memcpy(out + i, &w, len);
	}
}

/**
 * kb_seq_bytes_store() - memcpy() into a protected byte field.
 * @dst: the field's words.
 * @src: private source of @nbytes bytes.
 * @nbytes: the field's length; the last word is zero-padded.
 *
 * Context: inside a write section.
 */
void kb_seq_bytes_store(int64_t *dst, const void *src, size_t nbytes)
{
	const unsigned char *in = src;

	for (size_t i = 0; i < nbytes; i += 8) {
		int64_t w = 0;
		size_t len = nbytes - i < 8 ? nbytes - i : 8;

		memcpy(&w, in + i, len);
		KB_WRITE_ONCE(dst[i / 8], w);
	}
}

/* ------------------------------------------------- coarse Python entries */

/**
 * kb_seqlock_snapshot_begin() - read_seqbegin() plus a copy of the data.
 * @sl: the seqlock.
 * @dst: private buffer of @n words.
 * @src: the protected words.
 * @n: how many.
 * @timeout_ns: give up if a writer stays inside this long (< 0: no limit).
 * @start: the section's sequence, for kb_read_seqretry().
 *
 * Begins a read section and copies the data, but does NOT end it: the
 * caller computes on @dst and then calls kb_read_seqretry(), which tells
 * it whether the copy (and so the computation) is valid.  One C call per
 * attempt instead of one per field.
 * Context: spins/yields while a writer is inside, at most about @timeout_ns.
 * Return: KB_OK, or KB_ETIMEDOUT (nothing copied).
 */
int kb_seqlock_snapshot_begin(const kb_seqlock_t *sl, int64_t *dst, const int64_t *src,
			      size_t n, int64_t timeout_ns, uint32_t *start)
{
	int ret = kb_read_seqcount_begin_timeout(&sl->seqcount, timeout_ns, start);

	if (ret == KB_OK)
		kb_seq_words_load(dst, src, n);
	return ret;
}

/**
 * kb_seqlock_read_words() - a whole read-side loop: a consistent copy.
 * @sl: the seqlock.
 * @dst: private buffer of @n words.
 * @src: the protected words.
 * @n: how many.
 * @timeout_ns: overall limit while writers keep it busy (< 0: none).
 * @start: the sequence of the successful pass.
 * @retries: how many passes were torn (may be NULL).
 *
 * Kernel pattern: do { seq = read_seqbegin(); copy } while (read_seqretry()).
 * Context: spins/yields; bounded by @timeout_ns.
 * Return: KB_OK with a consistent copy, or KB_ETIMEDOUT (the copy may be
 * torn and must not be used).
 */
int kb_seqlock_read_words(const kb_seqlock_t *sl, int64_t *dst, const int64_t *src,
			  size_t n, int64_t timeout_ns, uint32_t *start, int64_t *retries)
{
	int64_t deadline = timeout_ns >= 0 ? kb_deadline_ns(timeout_ns) : 0;
	int64_t torn = 0;
	int ret;

	for (;;) {
		ret = kb_seqlock_snapshot_begin(sl, dst, src, n, timeout_ns, start);
		if (ret != KB_OK)
			break;
		if (!kb_read_seqretry(sl, *start))
			break;
		torn++;
		if (timeout_ns >= 0 && kb_now_ns() >= deadline) {
			ret = KB_ETIMEDOUT;
			break;
		}
	}
	if (retries)
		*retries = torn;
	return ret;
}

/**
 * kb_seqlock_write_words() - a whole write section storing @n words.
 * @sl: the seqlock.
 * @dst: the protected words.
 * @src: private source.
 * @n: how many.
 * @timeout_ns: give up waiting for the lock after this long (< 0: none).
 *
 * Context: spins/yields for the writer lock; bounded by @timeout_ns.
 * Return: KB_OK, or KB_ETIMEDOUT (nothing written).
 */
int kb_seqlock_write_words(kb_seqlock_t *sl, int64_t *dst, const int64_t *src,
			   size_t n, int64_t timeout_ns)
{
	int ret = kb_write_seqlock_timeout(sl, timeout_ns);

	if (ret != KB_OK)
		return ret;
	kb_seq_words_store(dst, src, n);
	kb_write_sequnlock(sl);
	return KB_OK;
}

/**
 * kb_latch_snapshot_begin() - read_seqcount_latch() plus a copy of the
 * copy readers are directed to.
 * @s: the latch.
 * @dst: private buffer of @n words.
 * @copy0: the protected words of copy 0.
 * @copy1: the protected words of copy 1.
 * @n: words per copy.
 *
 * The caller ends the section with kb_read_seqcount_latch_retry().
 * Context: any; never waits.
 * Return: the latch sequence.
 */
uint32_t kb_latch_snapshot_begin(const kb_seqcount_latch_t *s, int64_t *dst,
				 const int64_t *copy0, const int64_t *copy1, size_t n)
{
	uint32_t seq = kb_read_seqcount_latch(s);

	kb_seq_words_load(dst, (seq & 1) ? copy1 : copy0, n);
	return seq;
}

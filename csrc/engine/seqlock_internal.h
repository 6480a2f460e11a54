/* SPDX-License-Identifier: MIT */
/*
 * csrc/engine/seqlock_internal.h - what csrc/engine/seqlock.c shares with
 * csrc/tools/seqlock_torture.c and nobody else: the seqcount primitives with the
 * busted mode as an explicit argument, so a torture run can use a broken
 * variant without touching the global switch (kb_seqlock_set_busted()).
 * Include after kbind.h.
 */
#ifndef KB_SEQLOCK_INTERNAL_H
#define KB_SEQLOCK_INTERNAL_H

uint32_t kb__read_seqcount_begin(const kb_seqcount_t *s);
int kb__read_seqcount_retry(const kb_seqcount_t *s, uint32_t start, int busted);
void kb__write_seqcount_begin(kb_seqcount_t *s, int busted);
/* Ends the section the way its begin recorded (a busted begin's mode). */
void kb__write_seqcount_end(kb_seqcount_t *s);

#endif /* KB_SEQLOCK_INTERNAL_H */

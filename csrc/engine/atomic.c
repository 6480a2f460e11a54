/* SPDX-License-Identifier: MIT */
/*
 * csrc/engine/atomic.c - atomic_t, atomic64_t and atomic_long_t, and the 8-
 * and 16-bit cells.
 *
 * One template (csrc/engine/atomic_template.h), five instantiations, so each
 * operation and ordering is written once for all widths.  The 8- and 16-bit
 * cells (kb_atomic_i8_t, kb_atomic_i16_t) get only load, store, xchg and
 * cmpxchg (KB_ATOMIC_XCHG_ONLY), as the kernel has for u8/u16 and Rust's
 * Atomic<i8>/Atomic<i16>/Atomic<bool> offer.
 */
#include "kbind.h"

#define KB_PFX kb_atomic_
#define KB_AT kb_atomic_t
#define KB_T int32_t
#include "atomic_template.h"
#undef KB_PFX
#undef KB_AT
#undef KB_T

#define KB_PFX kb_atomic64_
#define KB_AT kb_atomic64_t
#define KB_T int64_t
#include "atomic_template.h"
#undef KB_PFX
#undef KB_AT
#undef KB_T

#define KB_PFX kb_atomic_long_
#define KB_AT kb_atomic_long_t
#define KB_T long
#include "atomic_template.h"
#undef KB_PFX
#undef KB_AT
#undef KB_T

#define KB_ATOMIC_XCHG_ONLY
#define KB_PFX kb_atomic_i8_
#define KB_AT kb_atomic_i8_t
#define KB_T int8_t
#include "atomic_template.h"
#undef KB_PFX
#undef KB_AT
#undef KB_T

#define KB_PFX kb_atomic_i16_
#define KB_AT kb_atomic_i16_t
#define KB_T int16_t
#include "atomic_template.h"
#undef KB_PFX
#undef KB_AT
#undef KB_T
#undef KB_ATOMIC_XCHG_ONLY

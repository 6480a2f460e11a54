/* SPDX-License-Identifier: MIT */
/*
 * csrc/engine/atomic.c - atomic_t, atomic64_t and atomic_long_t.
 *
 * One template (csrc/engine/atomic_template.h), three instantiations, so each
 * operation and ordering is written once for all widths.
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

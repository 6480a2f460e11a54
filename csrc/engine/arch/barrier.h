/* SPDX-License-Identifier: MIT */
/*
 * csrc/engine/arch/barrier.h - the one place that picks the architecture.
 *
 * Every file gets barriers through here (via csrc/kbind.h).  Marked
 * accesses come first because the arch headers build on them.
 *
 * KB_READ_ONCE()/KB_WRITE_ONCE() mirror READ_ONCE()/WRITE_ONCE(): one
 * access of the full width that the compiler may not tear, fuse, repeat
 * or invent.  They are relaxed __atomic accesses, which C11 defines for
 * racing accesses (a volatile access, the kernel's choice, is a data race
 * and so undefined behaviour in ISO C) and which ThreadSanitizer
 * understands; on x86-64 and arm64 they compile to a plain MOV/LDR/STR,
 * exactly what the kernel's volatile accesses give.
 */
#ifndef KB_ARCH_BARRIER_H
#define KB_ARCH_BARRIER_H

#define KB_READ_ONCE(x) __atomic_load_n(&(x), __ATOMIC_RELAXED)
#define KB_WRITE_ONCE(x, v) __atomic_store_n(&(x), (v), __ATOMIC_RELAXED)

#if defined(KB_FORCE_GENERIC_ARCH) || defined(__SANITIZE_THREAD__)
#include "generic.h"
#elif defined(__x86_64__)
#include "x86_64.h"
#elif defined(__aarch64__)
#include "aarch64.h"
#elif defined(__GNUC__)
#include "generic.h"
#else
#error "csrc/engine/arch/barrier.h: no barrier implementation for this compiler; add one to csrc/engine/arch/"
#endif

#endif /* KB_ARCH_BARRIER_H */

/* SPDX-License-Identifier: MIT */
/*
 * csrc/pyext/engine_fns.h - the engine functions the hot-path extension calls.
 *
 * An X-macro list: KB_HP_FN(name) once per function of csrc/kbind_api.h that
 * kbind._hotpath calls.  The extension links none of the engine: at import,
 * kbind._native hands it each function's address, taken from the cffi module
 * (ffi.addressof(lib, name)), so there is one engine and one copy of its
 * state.  The pointer types come from the prototypes in kbind_api.h
 * (__typeof__), so no prototype is typed twice.
 */
/* RCU read side (RcuReadGuard) */
KB_HP_FN(kb_rcu_py_read_enter)
KB_HP_FN(kb_rcu_py_read_exit)
KB_HP_FN(kb_rcu_read_lock_nesting)
/* locks (LockGuard): the non-blocking halves; waiting stays in cffi */
KB_HP_FN(kb_spin_trylock)
KB_HP_FN(kb_spin_unlock)
KB_HP_FN(kb_mutex_trylock)
KB_HP_FN(kb_mutex_unlock)

"""Mirrors of the Rust-for-Linux ``kernel`` crate as merged in mainline, at the Rust paths.

``kbind.kernel.sync.rcu`` is ``kernel::sync::rcu`` (rust/kernel/sync/rcu.rs),
and so on: the module path says which Rust item a class mirrors.  They run
on kbind's engine with kbind's run-time checks, beside the original
proposals (:mod:`kbind.rcu`), the pending RFCs (:mod:`kbind.rfc`) and the raw
C API (:mod:`kbind.kernel_c`).  docs/designs.md lists every design.
"""

"""``kernel::sync`` (rust/kernel/sync.rs, rust/kernel/sync/): RCU, SRCU, atomics, barriers, locks.

Each submodule mirrors the Rust module of the same path and says, per
class, which Rust item and kernel release (or merge date) it follows.
"""

"""Mirrors of pending Rust-for-Linux RFCs: designs posted to the mailing lists, not merged.

Each module mirrors the latest posted version of one RFC and says which (the
author, the version or posting date), so a binding designer can run it
beside the merged API (:mod:`kbind.kernel`) and the original proposals
(:mod:`kbind.rcu`), on the same engine and with the same run-time checks:

* :mod:`kbind.rfc.rcu_pointer`: ``Rcu<P: ForeignOwnable>`` and ``RcuOld<P>``
  (Boqun Feng, RFC v3, April 2025);
* :mod:`kbind.rfc.rcu_box`: ``RcuBox<T>`` (Alice Ryhl, January 2026) and
  ``RcuFreeBox<T>`` (Boqun Feng, June 2026);
* :mod:`kbind.rfc.callback`: ``rcu::Callback``, a ``call_rcu()`` that takes
  data, not code (Philipp Stanner, May 2026).

An RFC that changes when a new version is posted changes here too; the
module's docstring then names the new version.  docs/designs.md lists every
design with its status.
"""

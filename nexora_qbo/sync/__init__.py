"""The sync engine: outbox, three-way merge, CDC pull, audit and report data. Never imports frappe.

Public entry points: `nexora_qbo.sync.engine.SyncEngine`, the ports in `nexora_qbo.sync.ports`, the canonical
records in `nexora_qbo.sync.records`, `nexora_qbo.sync.outbox.record_change` (doc events call it inside the
document's transaction) and the SQLite reference implementation in `sqlite_store` / `sqlite_ledger`.
"""

"""A local, QuickBooks-Online-compatible server used to test the client and the sync engine over real HTTP.

It is an independent model of QBO derived from ../shared/docs/qbo-api.md and the recorded fixtures in
../shared/qbo-fixtures; it deliberately imports nothing from `nexora_qbo.qbo` or `nexora_qbo.sync` so that a
misunderstanding in the client cannot be mirrored here and hidden (contracts.md §2). See README.md.
"""

# Copyright (c) 2026, Nexora QBO and contributors
# For license information, please see license.txt
"""QBO Cursor: where the inbound pull of one realm stands (one row per realm, named after the realm).

Kept apart from QBO Realm on purpose: the pull job rewrites it often, and a row lock on the realm itself
would make token writes (token_store.py) wait for the job's commit.
"""

from __future__ import annotations

from nexora_qbo.erpnext.guards import EngineOwnedDocument


class QBOCursor(EngineOwnedDocument):
	"""Written only by the engine (FrappeStore.save_cursor); nobody edits or deletes it by hand."""


def cursor_to_fields(cursor, realm: str) -> dict:
	from nexora_qbo.erpnext.token_store import to_db_datetime
	from nexora_qbo.sync.records import dumps

	return {
		"realm": realm,
		"changed_since": to_db_datetime(cursor.changed_since),
		"seen": dumps(cursor.seen or {}),
		"last_sweep_at": to_db_datetime(cursor.last_sweep_at),
		"updated_at": to_db_datetime(cursor.updated_at),
	}


def row_to_cursor(row, realm_id: str):
	from nexora_qbo.erpnext.token_store import from_db_datetime
	from nexora_qbo.sync.ports import Cursor
	from nexora_qbo.sync.records import loads

	return Cursor(
		realm_id=realm_id,
		changed_since=from_db_datetime(row.changed_since),
		seen=loads(row.seen) or {},
		last_sweep_at=from_db_datetime(row.last_sweep_at),
		updated_at=from_db_datetime(row.updated_at),
	)

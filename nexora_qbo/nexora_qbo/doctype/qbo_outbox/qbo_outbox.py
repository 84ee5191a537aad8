# Copyright (c) 2026, Nexora QBO and contributors
# For license information, please see license.txt
"""QBO Outbox: intents to change QBO, recorded in the same transaction as the ERPNext document change.

Ids are autoincrement integers, so they sort in insertion order within a realm (the Store port's rule)
and inserting one never takes a naming-series row lock inside a user's submit.

`OutboxRows` is the outbox part of the engine's Store port on this DocType. Document events use it
directly (through nexora_qbo.sync.outbox.record_change); the full Frappe Store (part B) should delegate
its outbox methods here so there is one implementation of the row <-> OutboxEntry conversion.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterable, Iterator

import frappe

from nexora_qbo.erpnext import constants as K
from nexora_qbo.erpnext.guards import EngineOwnedDocument, engine_insert, refuse_unless_engine

_FIELDS = [
	"name",
	"realm",
	"local_type",
	"reference_name",
	"action",
	"generation",
	"state",
	"attempts",
	"next_attempt_at",
	"last_error",
	"conflict",
	"created_at",
	"updated_at",
]


class QBOOutbox(EngineOwnedDocument):
	def validate(self):
		refuse_unless_engine(self, "created or edited")
		self.reference_doctype = K.LOCAL_DOCTYPE.get(self.local_type, self.reference_doctype)

	def on_trash(self):
		refuse_unless_engine(self, "deleted")


def entry_to_fields(entry, realm: str) -> dict:
	from nexora_qbo.erpnext.token_store import to_db_datetime

	return {
		"realm": realm,
		"local_type": entry.local_type,
		"reference_doctype": K.LOCAL_DOCTYPE[entry.local_type],
		"reference_name": entry.local_id,
		"action": entry.action,
		"generation": entry.generation,
		"state": entry.state,
		"attempts": entry.attempts,
		"next_attempt_at": to_db_datetime(entry.next_attempt_at),
		"last_error": entry.last_error,
		"conflict": entry.conflict_id or None,
		"created_at": to_db_datetime(entry.created_at),
		"updated_at": to_db_datetime(entry.updated_at),
	}


def row_to_entry(row, realm_id: str):
	from nexora_qbo.erpnext.token_store import from_db_datetime
	from nexora_qbo.sync.ports import OutboxEntry

	return OutboxEntry(
		realm_id=realm_id,
		local_type=row.local_type,
		local_id=row.reference_name,
		action=row.action,
		generation=int(row.generation or 1),
		state=row.state,
		attempts=int(row.attempts or 0),
		next_attempt_at=from_db_datetime(row.next_attempt_at),
		last_error=row.last_error,
		created_at=from_db_datetime(row.created_at),
		updated_at=from_db_datetime(row.updated_at),
		conflict_id=str(row.conflict) if row.conflict else None,
		id=str(row.name),
	)


class OutboxRows:
	"""The outbox methods of nexora_qbo.sync.ports.Store on QBO Outbox (joins the caller's transaction)."""

	def __init__(self, realm_id: str | None = None, realm: str | None = None):
		"""`realm_id`/`realm`: a realm the caller has already read (the doc event has), so it is not read again."""
		self._realm_names: dict[str, str] = {realm_id: realm} if realm_id and realm else {}
		self._realm_ids: dict[str, str] = {realm: realm_id} if realm_id and realm else {}

	def realm_name(self, realm_id: str) -> str:
		if realm_id not in self._realm_names:
			name = frappe.db.get_value(K.REALM, {"realm_id": realm_id}, "name")
			if not name:
				raise LookupError(f"no QBO Realm for realmId {realm_id}")
			self._realm_names[realm_id] = name
			self._realm_ids[name] = realm_id
		return self._realm_names[realm_id]

	def realm_id(self, realm: str) -> str:
		if realm not in self._realm_ids:
			self._realm_ids[realm] = frappe.db.get_value(K.REALM, realm, "realm_id")
		return self._realm_ids[realm]

	@contextmanager
	def transaction(self) -> Iterator[None]:
		# Frappe always has a transaction open; doc events and jobs decide when it commits.
		yield

	def add_outbox(self, entry):
		doc = frappe.get_doc({"doctype": K.OUTBOX, **entry_to_fields(entry, self.realm_name(entry.realm_id))})
		engine_insert(doc)  # inside a user's submit: the plain INSERT, not the DocType machinery (guards.py)
		entry.id = str(doc.name)
		return entry

	def save_outbox(self, entry) -> None:
		"""Update state, attempts, retry time, error, conflict AND generation (a retried, rejected intent gets a
		new generation, hence a new requestid: it must be stored, or the next run would reuse the old one)."""
		from nexora_qbo.erpnext.token_store import to_db_datetime

		# A plain UPDATE (what set_value sends, with modified/modified_by), twice per pushed document: set_value
		# with the integer name also builds a query and drops the cached documents of every outbox row (issue 9)
		values = {
			"state": entry.state,
			"attempts": entry.attempts,
			"generation": entry.generation,
			"next_attempt_at": to_db_datetime(entry.next_attempt_at),
			"last_error": entry.last_error,
			"conflict": entry.conflict_id or None,
			"updated_at": to_db_datetime(entry.updated_at),
			"modified": frappe.utils.now(),
			"modified_by": frappe.session.user,
		}
		frappe.db.sql(
			"update `tab{}` set {} where name=%(name)s".format(K.OUTBOX, ", ".join(f"`{k}`=%({k})s" for k in values)),
			{**values, "name": int(entry.id)},
		)
		frappe.clear_document_cache(K.OUTBOX, str(entry.id))

	def get_outbox(self, entry_id: str):
		rows = frappe.get_all(K.OUTBOX, filters={"name": int(entry_id)}, fields=_FIELDS, limit=1)
		return row_to_entry(rows[0], self.realm_id(rows[0].realm)) if rows else None

	def list_outbox(
		self,
		realm_id: str,
		states: Iterable[str] | None = None,
		local_type: str | None = None,
		local_id: str | None = None,
	) -> list:
		filters: dict = {"realm": self.realm_name(realm_id)}
		if states is not None:
			filters["state"] = ("in", list(states) or [""])
		if local_type:
			filters["local_type"] = local_type
		if local_id:
			filters["reference_name"] = local_id
		rows = frappe.get_all(K.OUTBOX, filters=filters, fields=_FIELDS, order_by="name asc")
		return [row_to_entry(row, realm_id) for row in rows]

	def max_generation(self, realm_id: str, local_type: str, local_id: str) -> int:
		from frappe.query_builder.functions import Max

		t = frappe.qb.DocType(K.OUTBOX)
		value = (
			frappe.qb.from_(t)
			.select(Max(t.generation))
			.where(
				(t.realm == self.realm_name(realm_id))
				& (t.local_type == local_type)
				& (t.reference_name == local_id)
			)
		).run()[0][0]
		return int(value or 0)

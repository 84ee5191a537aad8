# Copyright (c) 2026, Nexora QBO and contributors
# For license information, please see license.txt
"""QBO Entity Map: the authoritative link between one ERPNext document and one QBO record, per realm.

Unique on (realm, reference_doctype, reference_name) and on (realm, qbo_entity, qbo_id): enforced by
database unique indexes (created in `on_doctype_update`, so also under concurrent workers) and checked in
`validate` for a readable message.
"""

from __future__ import annotations

import frappe
from frappe import _

from nexora_qbo.erpnext import constants as K
from nexora_qbo.erpnext.guards import EngineOwnedDocument, refuse_unless_engine


class QBOEntityMap(EngineOwnedDocument):
	def validate(self):
		refuse_unless_engine(self, "created or edited")
		self.reference_doctype = K.LOCAL_DOCTYPE.get(self.local_type, self.reference_doctype)
		for fields in (("reference_doctype", "reference_name"), ("qbo_entity", "qbo_id")):
			filters = {
				"realm": self.realm,
				**{f: self.get(f) for f in fields},
				"name": ("!=", self.name or ""),
			}
			other = frappe.db.get_value(K.ENTITY_MAP, filters, "name")
			if other:
				frappe.throw(
					_("{0} {1} is already mapped in realm {2} ({3}).").format(
						self.get(fields[0]), self.get(fields[1]), self.realm, other
					),
					frappe.UniqueValidationError,
				)

	def on_trash(self):
		refuse_unless_engine(self, "deleted")


def on_doctype_update():
	frappe.db.add_unique(
		K.ENTITY_MAP, ["realm", "reference_doctype", "reference_name"], "unique_local_document"
	)
	frappe.db.add_unique(K.ENTITY_MAP, ["realm", "qbo_entity", "qbo_id"], "unique_qbo_record")


def mapping_to_fields(mapping, realm: str) -> dict:
	from nexora_qbo.erpnext.token_store import to_db_datetime
	from nexora_qbo.sync.records import dumps

	return {
		"realm": realm,
		"local_type": mapping.local_type,
		"reference_doctype": K.LOCAL_DOCTYPE[mapping.local_type],
		"reference_name": mapping.local_id,
		"qbo_entity": mapping.qbo_entity,
		"qbo_id": mapping.qbo_id,
		"sync_token": mapping.sync_token,
		"base_snapshot": dumps(mapping.base) if mapping.base is not None else None,
		"last_sent_hash": mapping.last_sent_hash,
		"remote_hash": mapping.remote_hash,
		"status": mapping.status,
		"last_synced_on": to_db_datetime(mapping.updated_at),
		"origin": getattr(mapping, "origin", None),
	}


def row_to_mapping(row, realm_id: str):
	from nexora_qbo.erpnext.token_store import from_db_datetime
	from nexora_qbo.sync.ports import Mapping
	from nexora_qbo.sync.records import loads

	return Mapping(
		realm_id=realm_id,
		local_type=row.local_type,
		local_id=row.reference_name,
		qbo_entity=row.qbo_entity,
		qbo_id=row.qbo_id,
		sync_token=row.sync_token,
		base=loads(row.base_snapshot),
		last_sent_hash=row.last_sent_hash,
		remote_hash=row.remote_hash,
		status=row.status or "active",
		updated_at=from_db_datetime(row.last_synced_on),
		origin=row.get("origin") or None,
	)

# Copyright (c) 2026, Nexora QBO and contributors
# For license information, please see license.txt
"""QBO Sync Event: one document-level outcome of the sync (created, updated, voided, linked, imported ...),
written in the same transaction as the change it describes; what the monthly reconciliation counts.
Like the Sync Log it is history: nobody edits or deletes a row.
"""

from __future__ import annotations

import frappe
from frappe import _
from frappe.model.document import Document

from nexora_qbo.erpnext import constants as K


class QBOSyncEvent(Document):
	def save(self, *args, **kwargs):
		# insert() does not come through here; any save of an existing row is an edit. Refused before
		# Frappe's own checks (links, timestamps) so the reason is always this one.
		if not self.is_new():
			frappe.throw(_("QBO Sync Event rows are history and cannot be edited."), frappe.PermissionError)
		return super().save(*args, **kwargs)

	def validate(self):
		if not self.is_new():
			frappe.throw(_("QBO Sync Event rows are history and cannot be edited."), frappe.PermissionError)

	def on_trash(self):
		frappe.throw(_("QBO Sync Event rows are history and cannot be deleted."), frappe.PermissionError)


def event_to_fields(event, realm: str) -> dict:
	from frappe.utils import now_datetime

	from nexora_qbo.erpnext.token_store import to_db_datetime

	direction = {v: k for k, v in K.DIRECTION_LABELS.items()}
	return {
		"realm": realm,
		"qbo_realm_id": event.realm_id,
		"direction": direction.get(event.direction, event.direction),
		"local_type": event.local_type,
		"reference_doctype": K.LOCAL_DOCTYPE.get(event.local_type) if event.local_type else None,
		"reference_name": event.local_id,
		"qbo_entity": event.qbo_entity,
		"qbo_id": event.qbo_id,
		"action": event.action,
		"detail": event.detail,
		"conflict": int(event.conflict_id) if event.conflict_id else None,
		"timestamp": to_db_datetime(event.timestamp) or now_datetime(),
	}


def row_to_event(row, realm_id: str):
	from nexora_qbo.erpnext.token_store import from_db_datetime
	from nexora_qbo.sync.ports import SyncEvent

	return SyncEvent(
		realm_id=realm_id,
		direction=K.DIRECTION_LABELS.get(row.direction, row.direction),
		local_type=row.local_type or None,
		local_id=row.reference_name or None,
		qbo_entity=row.qbo_entity or None,
		qbo_id=row.qbo_id or None,
		action=row.action,
		detail=row.detail or None,
		conflict_id=str(row.conflict) if row.conflict else None,
		timestamp=from_db_datetime(row.timestamp),
		id=str(row.name),
	)

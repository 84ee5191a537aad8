# Copyright (c) 2026, Nexora QBO and contributors
# For license information, please see license.txt
"""QBO Sync Event: history rows (round trip, never edited or deleted)."""

from __future__ import annotations

from datetime import datetime, timezone

import frappe

from nexora_qbo.erpnext import constants as K
from nexora_qbo.nexora_qbo.doctype.qbo_realm.test_qbo_realm import TEST_IGNORE, QBOTestCase, make_realm
from nexora_qbo.nexora_qbo.doctype.qbo_sync_event.qbo_sync_event import event_to_fields, row_to_event
from nexora_qbo.sync.ports import SyncEvent

REALM_ID = "9130000001201"

test_ignore = TEST_IGNORE  # ERPNext test records are not needed here


class TestQBOSyncEvent(QBOTestCase):
	def setUp(self):
		super().setUp()
		self.realm = make_realm(realm_id=REALM_ID)
		event = SyncEvent(
			realm_id=REALM_ID,
			direction="outbound",
			local_type="invoice",
			local_id="SINV-1",
			qbo_entity="Invoice",
			qbo_id="130",
			action="created",
			timestamp=datetime(2026, 11, 24, 12, 0, tzinfo=timezone.utc),
		)
		self.doc = frappe.get_doc(
			{"doctype": K.SYNC_EVENT, **event_to_fields(event, self.realm.name)}
		).insert(ignore_permissions=True, ignore_links=True)

	def test_round_trip(self):
		back = row_to_event(frappe.get_doc(K.SYNC_EVENT, self.doc.name), REALM_ID)
		self.assertEqual(
			(back.direction, back.local_type, back.local_id, back.action),
			("outbound", "invoice", "SINV-1", "created"),
		)
		self.assertEqual(back.timestamp, datetime(2026, 11, 24, 12, 0, tzinfo=timezone.utc))
		self.assertEqual(self.doc.direction, "Outbound")
		self.assertEqual(self.doc.reference_doctype, "Sales Invoice")

	def test_history_is_immutable(self):
		self.doc.action = "deleted"
		with self.assertRaises(frappe.PermissionError):
			self.doc.save(ignore_permissions=True)
		with self.assertRaises(frappe.PermissionError):
			frappe.delete_doc(K.SYNC_EVENT, self.doc.name, ignore_permissions=True, force=True)

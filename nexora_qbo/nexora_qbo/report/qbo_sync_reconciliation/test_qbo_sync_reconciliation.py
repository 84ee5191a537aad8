# Copyright (c) 2026, Nexora QBO and contributors
# For license information, please see license.txt
"""QBO Sync Reconciliation: the engine's month report over the DocTypes of one realm (columns, rows, chart,
summary cards); another realm's data never shows up."""

from __future__ import annotations

from datetime import datetime, timezone

import frappe

from nexora_qbo.erpnext import constants as K
from nexora_qbo.erpnext.guards import engine_writes
from nexora_qbo.nexora_qbo.doctype.qbo_conflict.qbo_conflict import conflict_to_fields
from nexora_qbo.nexora_qbo.doctype.qbo_realm.test_qbo_realm import QBOTestCase, make_realm, two_companies
from nexora_qbo.nexora_qbo.doctype.qbo_sync_event.qbo_sync_event import event_to_fields
from nexora_qbo.nexora_qbo.doctype.qbo_sync_log.qbo_sync_log import append_audit_row
from nexora_qbo.nexora_qbo.report.qbo_sync_reconciliation.qbo_sync_reconciliation import execute
from nexora_qbo.sync.ports import AuditRow, Conflict, SyncEvent

A, B = "9130000001401", "9130000001402"
NOV = datetime(2026, 11, 10, 12, 0, tzinfo=timezone.utc)


def event(realm, realm_id, direction, entity, local_type, action, when=NOV):
	e = SyncEvent(
		realm_id=realm_id,
		direction=direction,
		local_type=local_type,
		local_id=f"{entity}-1",
		qbo_entity=entity,
		qbo_id="1",
		action=action,
		timestamp=when,
	)
	frappe.get_doc({"doctype": K.SYNC_EVENT, **event_to_fields(e, realm.name)}).insert(
		ignore_permissions=True, ignore_links=True
	)


class TestQBOSyncReconciliation(QBOTestCase):
	def setUp(self):
		super().setUp()
		first, second = two_companies()
		self.a = make_realm(first, realm_id=A)
		self.b = make_realm(second, realm_id=B)
		for _ in range(3):
			event(self.a, A, "outbound", "Invoice", "invoice", "created")
		event(self.a, A, "inbound", "Payment", "payment", "imported")
		event(
			self.a,
			A,
			"outbound",
			"Invoice",
			"invoice",
			"created",
			when=datetime(2026, 10, 31, 23, 0, tzinfo=timezone.utc),
		)
		event(self.b, B, "outbound", "Customer", "customer", "created")
		open_conflict = Conflict(
			realm_id=A,
			local_type="invoice",
			local_id="Invoice-1",
			qbo_entity="Invoice",
			qbo_id="1",
			kind="transaction_edited",
			reason="A bookkeeper changed the amount in QuickBooks.",
			actions=["keep_qbo", "dismiss"],
			created_at=NOV,
		)
		with engine_writes():
			frappe.get_doc({"doctype": K.CONFLICT, **conflict_to_fields(open_conflict, self.a.name)}).insert(
				ignore_permissions=True, ignore_links=True
			)
		append_audit_row(
			AuditRow(
				realm_id=A,
				direction="outbound",
				qbo_entity="Invoice",
				operation="create",
				outcome="ThrottleError",
				error_code="3001",
				http_status=429,
				timestamp=NOV,
			)
		)
		append_audit_row(
			AuditRow(
				realm_id=A,
				direction="outbound",
				qbo_entity="Invoice",
				operation="create",
				outcome="ok",
				http_status=200,
				timestamp=NOV,
			)
		)

	def test_month_of_one_realm(self):
		columns, rows, message, chart, summary = execute({"realm": self.a.name, "month": "2026-11"})
		self.assertIsNone(message)
		self.assertIn("section", [c["fieldname"] for c in columns])
		synced = [r for r in rows if r["section"] == "Synced"]
		self.assertEqual(
			{(r["entity"], r["action"], r["count"]) for r in synced},
			{("Invoice", "created", 3), ("Payment", "imported", 1)},
		)  # October's row and realm B's are not here
		waiting = [r for r in rows if r["section"] == "Awaiting review"]
		self.assertEqual(len(waiting), 1)
		self.assertIn("bookkeeper", waiting[0]["detail"])
		self.assertEqual(waiting[0]["action"], "Edited in QuickBooks")  # the kind in words, not its key
		cards = {c["label"]: c["value"] for c in summary}
		self.assertEqual((cards["Sent to QuickBooks"], cards["Received from QuickBooks"]), (3, 1))
		self.assertEqual((cards["Awaiting review"], cards["HTTP exchanges"]), (1, 2))
		self.assertEqual(chart["data"]["labels"], ["Invoice", "Payment"])
		# the exchange's outcome in words, never the client's error class name
		errors = [r for r in rows if r["section"] == "QuickBooks errors (HTTP)"]
		self.assertEqual([(r["action"], r["count"]) for r in errors],
			[("asked by QuickBooks to slow down (waited, resent, nothing duplicated)", 1)])
		self.assertFalse([r for r in rows if "Error" in str(r.get("action"))])

	def test_realm_without_connection_says_so(self):
		self.b.db_set("realm_id", None)
		_columns, rows, message, _chart, _summary = execute({"realm": self.b.name, "month": "2026-11"})
		self.assertEqual(rows, [])
		self.assertIn("never connected", message)

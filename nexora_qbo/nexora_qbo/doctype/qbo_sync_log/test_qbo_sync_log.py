# Copyright (c) 2026, Nexora QBO and contributors
# For license information, please see license.txt
"""QBO Sync Log is an audit trail: nobody edits or deletes a row; retention follows QBO Settings."""

from __future__ import annotations

from datetime import datetime, timezone

import frappe
from frappe.utils import add_days, now_datetime

from nexora_qbo.erpnext import constants as K
from nexora_qbo.erpnext.guards import engine_writes
from nexora_qbo.nexora_qbo.doctype.qbo_realm.test_qbo_realm import TEST_IGNORE, QBOTestCase, make_realm
from nexora_qbo.nexora_qbo.doctype.qbo_sync_log.qbo_sync_log import (
	QBOSyncLog,
	append_audit_row,
	fields_to_audit_row,
)
from nexora_qbo.sync.ports import AuditRow

REALM_ID = "9130000000101"

test_ignore = TEST_IGNORE  # ERPNext test records are not needed here


def audit_row(**kw) -> AuditRow:
	values = dict(
		realm_id=REALM_ID,
		direction="outbound",
		qbo_entity="Invoice",
		operation="create",
		local_type="invoice",
		local_id="ACC-SINV-TEST-1",
		qbo_id="130",
		http_method="POST",
		url="/v3/company/x/invoice?minorversion=75",
		request_payload='{"Line": []}',
		response_payload='{"Invoice": {"Id": "130"}}',
		http_status=200,
		sync_token_received="0",
		request_id="nxcr0123",
		intuit_tid="1-abc",
		outcome="ok",
		attempt=1,
		duration_ms=12.5,
		timestamp=datetime(2026, 11, 3, 10, 0, tzinfo=timezone.utc),
	)
	values.update(kw)
	return AuditRow(**values)


class TestQBOSyncLog(QBOTestCase):
	def setUp(self):
		super().setUp()
		self.realm = make_realm(realm_id=REALM_ID)

	def test_row_keeps_every_audit_field(self):
		name = append_audit_row(audit_row())
		doc = frappe.get_doc(K.SYNC_LOG, name)
		self.assertEqual(
			(doc.realm, doc.direction, doc.entity, doc.operation),
			(self.realm.name, "Outbound", "Invoice", "create"),
		)
		self.assertEqual((doc.reference_doctype, doc.reference_name), ("Sales Invoice", "ACC-SINV-TEST-1"))
		self.assertEqual((doc.request_id, doc.intuit_tid, doc.http_status), ("nxcr0123", "1-abc", 200))
		back = fields_to_audit_row(doc)
		self.assertEqual(back.direction, "outbound")
		self.assertEqual(back.timestamp, datetime(2026, 11, 3, 10, 0, tzinfo=timezone.utc))
		self.assertEqual(back.realm_id, REALM_ID)

	def test_row_cannot_be_edited_even_by_administrator(self):
		doc = frappe.get_doc(K.SYNC_LOG, append_audit_row(audit_row()))
		doc.outcome = "tampered"
		with self.assertRaises(frappe.PermissionError):
			doc.save(ignore_permissions=True)

	def test_row_cannot_be_deleted_even_by_administrator(self):
		name = append_audit_row(audit_row())
		with self.assertRaises(frappe.PermissionError):
			frappe.delete_doc(K.SYNC_LOG, name, ignore_permissions=True, force=True)
		self.assertTrue(frappe.db.exists(K.SYNC_LOG, name))

	def test_no_role_may_create_write_or_delete(self):
		meta = frappe.get_meta(K.SYNC_LOG)
		self.assertTrue(meta.in_create)
		for perm in meta.permissions:
			self.assertFalse(
				perm.write or perm.create or perm.delete or perm.submit or perm.cancel, perm.role
			)
		roles = {p.role for p in meta.permissions if p.read}
		self.assertTrue({"Accounts User", "Accounts Manager"} <= roles)

	def test_retention_setting_wins_over_log_settings(self):
		frappe.db.set_single_value(K.SETTINGS, "log_retention_days", 2555)
		young = append_audit_row(audit_row())
		old = append_audit_row(audit_row())
		ancient = append_audit_row(audit_row())
		frappe.db.set_value(
			K.SYNC_LOG, old, "creation", add_days(now_datetime(), -400), update_modified=False
		)
		frappe.db.set_value(
			K.SYNC_LOG, ancient, "creation", add_days(now_datetime(), -3000), update_modified=False
		)

		QBOSyncLog.clear_old_logs(days=30)  # what Log Settings might ask for

		self.assertTrue(frappe.db.exists(K.SYNC_LOG, young))
		self.assertTrue(frappe.db.exists(K.SYNC_LOG, old))  # 400 days < 7 years
		self.assertFalse(frappe.db.exists(K.SYNC_LOG, ancient))

	def test_retention_keeps_rows_of_open_conflicts(self):
		frappe.db.set_single_value(K.SETTINGS, "log_retention_days", K.MIN_LOG_RETENTION_DAYS)
		with engine_writes():
			conflict = frappe.get_doc(
				{
					"doctype": K.CONFLICT,
					"realm": self.realm.name,
					"kind": "rejected",
					"reason": "QuickBooks rejected it",
					"status": "Open",
				}
			).insert(ignore_permissions=True)
		linked = append_audit_row(audit_row(conflict_id=str(conflict.name)))
		plain = append_audit_row(audit_row())
		for name in (linked, plain):
			frappe.db.set_value(
				K.SYNC_LOG, name, "creation", add_days(now_datetime(), -1200), update_modified=False
			)
		QBOSyncLog.clear_old_logs(days=30)
		self.assertTrue(frappe.db.exists(K.SYNC_LOG, linked))
		self.assertFalse(frappe.db.exists(K.SYNC_LOG, plain))

	def test_registered_for_log_settings(self):
		from frappe.core.doctype.log_settings.log_settings import _supports_log_clearing

		self.assertTrue(_supports_log_clearing(K.SYNC_LOG))
		self.assertIn(K.SYNC_LOG, frappe.get_hooks("default_log_clearing_doctypes"))

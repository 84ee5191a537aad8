# Copyright (c) 2026, Nexora QBO and contributors
# For license information, please see license.txt
"""The review queue: side-by-side diff (escaped), engine round trip, role-checked and audited actions."""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal
from unittest.mock import patch

import frappe

from nexora_qbo.erpnext import constants as K
from nexora_qbo.erpnext.guards import engine_writes
from nexora_qbo.nexora_qbo.doctype.qbo_conflict.qbo_conflict import (
	conflict_to_fields,
	resolve,
	row_to_conflict,
)
from nexora_qbo.nexora_qbo.doctype.qbo_realm.test_qbo_realm import (
	TEST_IGNORE,
	QBOTestCase,
	make_realm,
	make_user,
)
from nexora_qbo.sync.ports import Conflict

REALM_ID = "9130000000201"

test_ignore = TEST_IGNORE  # ERPNext test records are not needed here


def engine_conflict(**kw) -> Conflict:
	values = dict(
		realm_id=REALM_ID,
		local_type="customer",
		local_id="Acme Staffing",
		qbo_entity="Customer",
		qbo_id="58",
		kind="field_conflict",
		reason="The email was changed in both ERPNext and QuickBooks.",
		local_version={"email": "ap@acme.example", "credit": Decimal("10.50")},
		qbo_version={"email": "<script>alert(1)</script>", "credit": Decimal("10.50")},
		base_version={"email": "old@acme.example", "credit": Decimal("10.50")},
		diffs=[
			{
				"field": "email",
				"base": "old@acme.example",
				"local": "ap@acme.example",
				"qbo": "<script>alert(1)</script>",
			}
		],
		actions=["keep_qbo", "keep_local", "dismiss"],
		created_at=datetime(2026, 11, 5, 9, 30, tzinfo=timezone.utc),
	)
	values.update(kw)
	return Conflict(**values)


def insert_conflict(realm, **kw):
	doc = frappe.get_doc({"doctype": K.CONFLICT, **conflict_to_fields(engine_conflict(**kw), realm.name)})
	with engine_writes():
		doc.insert(ignore_permissions=True, ignore_links=True)
	return doc


class TestQBOConflict(QBOTestCase):
	def setUp(self):
		super().setUp()
		self.realm = make_realm(realm_id=REALM_ID)

	def test_round_trip_keeps_decimals_and_status(self):
		doc = insert_conflict(self.realm)
		self.assertEqual(doc.status, "Open")
		self.assertEqual(doc.reference_doctype, "Customer")
		back = row_to_conflict(frappe.get_doc(K.CONFLICT, doc.name), REALM_ID)
		self.assertEqual(back.status, "open")
		self.assertEqual(back.local_version["credit"], Decimal("10.50"))
		self.assertEqual(back.actions, ["keep_qbo", "keep_local", "dismiss"])
		self.assertEqual(back.created_at, datetime(2026, 11, 5, 9, 30, tzinfo=timezone.utc))
		self.assertEqual(back.id, str(doc.name))

	def test_diff_is_side_by_side_and_escaped(self):
		html = insert_conflict(self.realm).render_diff()
		self.assertIn("ap@acme.example", html)
		self.assertIn("old@acme.example", html)
		self.assertIn("&lt;script&gt;", html)
		self.assertNotIn("<script>", html)
		self.assertEqual(html.count("<th>"), 4)  # field | last synced | ERPNext | QuickBooks

	def test_diff_computed_when_engine_sent_none(self):
		html = insert_conflict(self.realm, diffs=[]).render_diff()
		self.assertIn("email", html)
		self.assertNotIn(">credit<", html)  # equal on both sides: not a difference

	def test_resolve_needs_a_manager(self):
		doc = insert_conflict(self.realm)
		with self.set_user(make_user("qbo-viewer@example.com", ["Accounts User"])):
			with self.assertRaises(frappe.PermissionError):
				resolve(str(doc.name), "keep_qbo")

	def test_resolve_refuses_an_action_the_engine_did_not_offer(self):
		doc = insert_conflict(self.realm)
		with self.assertRaises(frappe.ValidationError):
			resolve(str(doc.name), "accept_qbo")

	def test_resolve_records_who_and_enqueues_after_commit(self):
		doc = insert_conflict(self.realm)
		with patch.object(frappe, "enqueue") as enqueue:
			resolve(str(doc.name), "keep_qbo", note="QuickBooks is right")
		doc.reload()
		self.assertEqual((doc.requested_action, doc.requested_by), ("keep_qbo", "Administrator"))
		self.assertEqual(doc.resolution_note, "QuickBooks is right")
		self.assertEqual(doc.status, "Open")  # the engine resolves it, not the web request
		kwargs = enqueue.call_args.kwargs
		self.assertTrue(kwargs["enqueue_after_commit"])
		self.assertEqual(
			(kwargs["conflict_id"], kwargs["action"], kwargs["user"]),
			(str(doc.name), "keep_qbo", "Administrator"),
		)
		comments = frappe.get_all(
			"Comment",
			filters={"reference_doctype": K.CONFLICT, "reference_name": str(doc.name)},
			pluck="content",
		)
		self.assertTrue(any("Keep QuickBooks" in c for c in comments))

	def test_resolved_conflict_cannot_be_resolved_again(self):
		doc = insert_conflict(self.realm, status="resolved", resolution="keep_qbo")
		with self.assertRaises(frappe.ValidationError):
			resolve(str(doc.name), "keep_qbo")

# Copyright (c) 2026, Nexora QBO and contributors
# For license information, please see license.txt
"""QBO Outbox rows behave as the engine's Store port expects (through the engine's own record_change)."""

from __future__ import annotations

from datetime import datetime, timezone

import frappe

from nexora_qbo.erpnext import constants as K
from nexora_qbo.nexora_qbo.doctype.qbo_outbox.qbo_outbox import OutboxRows
from nexora_qbo.nexora_qbo.doctype.qbo_realm.test_qbo_realm import (
	TEST_IGNORE,
	QBOTestCase,
	make_realm,
	two_companies,
)
from nexora_qbo.sync.outbox import record_change

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=timezone.utc)

test_ignore = TEST_IGNORE  # ERPNext test records are not needed here


class TestQBOOutbox(QBOTestCase):
	def setUp(self):
		super().setUp()
		first, second = two_companies()
		make_realm(first, realm_id="9130000000401")
		make_realm(second, realm_id="9130000000402")
		self.rows = OutboxRows()

	def test_ids_sort_in_insertion_order(self):
		ids = [
			record_change(self.rows, "9130000000401", "invoice", f"SINV-{i}", "create", NOW).id
			for i in range(3)
		]
		self.assertEqual([e.id for e in self.rows.list_outbox("9130000000401")], ids)
		self.assertEqual(sorted(ids, key=int), ids)

	def test_never_attempted_intent_absorbs_the_next(self):
		first = record_change(self.rows, "9130000000401", "customer", "Acme", "create", NOW)
		again = record_change(self.rows, "9130000000401", "customer", "Acme", "update", NOW)
		self.assertEqual(first.id, again.id)
		self.assertEqual(len(self.rows.list_outbox("9130000000401", local_id="Acme")), 1)

	def test_attempted_intent_gets_a_new_generation(self):
		first = record_change(self.rows, "9130000000401", "customer", "Acme", "create", NOW)
		first.attempts, first.state = 1, "failed"
		self.rows.save_outbox(first)
		second = record_change(self.rows, "9130000000401", "customer", "Acme", "update", NOW)
		self.assertNotEqual(first.id, second.id)
		self.assertEqual(second.generation, 2)
		self.assertEqual(self.rows.max_generation("9130000000401", "customer", "Acme"), 2)

	def test_a_regenerated_intent_keeps_its_new_generation(self):
		"""Retrying a rejected intent bumps its generation (a new requestid); saving must keep it."""
		entry = record_change(self.rows, "9130000000401", "payment", "PE-1", "create", NOW)
		entry.generation, entry.state = 3, "pending"
		self.rows.save_outbox(entry)
		self.assertEqual(self.rows.get_outbox(entry.id).generation, 3)

	def test_entries_round_trip(self):
		entry = record_change(self.rows, "9130000000401", "credit_memo", "SINV-RET-1", "create", NOW)
		loaded = self.rows.get_outbox(entry.id)
		self.assertEqual(
			(loaded.realm_id, loaded.local_type, loaded.local_id, loaded.action),
			("9130000000401", "credit_memo", "SINV-RET-1", "create"),
		)
		self.assertEqual(loaded.created_at, NOW)
		self.assertEqual(frappe.db.get_value(K.OUTBOX, int(entry.id), "reference_doctype"), "Sales Invoice")

	def test_realms_do_not_see_each_other(self):
		record_change(self.rows, "9130000000401", "invoice", "SINV-1", "create", NOW)
		self.assertEqual(self.rows.list_outbox("9130000000402"), [])
		self.assertEqual(self.rows.max_generation("9130000000402", "invoice", "SINV-1"), 0)

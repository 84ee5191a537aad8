# Copyright (c) 2026, Nexora QBO and contributors
# For license information, please see license.txt
"""QBO Cursor: one row per realm; the engine's Cursor round-trips with aware UTC times (invariant 8)."""

from __future__ import annotations

from datetime import datetime, timezone

import frappe

from nexora_qbo.erpnext import constants as K
from nexora_qbo.erpnext.guards import engine_writes
from nexora_qbo.erpnext.token_store import to_db_datetime
from nexora_qbo.nexora_qbo.doctype.qbo_cursor.qbo_cursor import cursor_to_fields, row_to_cursor
from nexora_qbo.nexora_qbo.doctype.qbo_realm.test_qbo_realm import TEST_IGNORE, QBOTestCase, make_realm
from nexora_qbo.sync.ports import Cursor

REALM_ID = "9130000001101"

test_ignore = TEST_IGNORE  # ERPNext test records are not needed here


class TestQBOCursor(QBOTestCase):
	def test_round_trip_keeps_microseconds_and_seen_tokens(self):
		realm = make_realm(realm_id=REALM_ID)
		since = datetime(2026, 11, 24, 11, 59, 58, 123456, tzinfo=timezone.utc)
		cursor = Cursor(realm_id=REALM_ID, changed_since=since, seen={"Invoice:130": "2"}, updated_at=since)
		with engine_writes():
			frappe.get_doc({"doctype": K.CURSOR, **cursor_to_fields(cursor, realm.name)}).insert(
				ignore_permissions=True
			)
		back = row_to_cursor(frappe.get_doc(K.CURSOR, realm.name), REALM_ID)
		self.assertEqual(back.changed_since, since)
		self.assertEqual(back.seen, {"Invoice:130": "2"})
		form = frappe.get_doc(K.REALM, realm.name)
		form.run_method("onload")  # the realm form shows where the pull stands
		self.assertEqual(form.last_pull_cursor, to_db_datetime(since))  # shown in system time

	def test_one_cursor_per_realm(self):
		realm = make_realm(realm_id=REALM_ID)
		with engine_writes():
			frappe.get_doc({"doctype": K.CURSOR, "realm": realm.name}).insert(ignore_permissions=True)
		with self.assertRaises(frappe.DuplicateEntryError), engine_writes():
			frappe.get_doc({"doctype": K.CURSOR, "realm": realm.name}).insert(ignore_permissions=True)

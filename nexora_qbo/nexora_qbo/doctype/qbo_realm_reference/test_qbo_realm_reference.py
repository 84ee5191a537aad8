# Copyright (c) 2026, Nexora QBO and contributors
# For license information, please see license.txt
"""QBO Realm Reference rows: the local DocType follows the type, and a local value maps once per type."""
from __future__ import annotations

import frappe

from nexora_qbo.nexora_qbo.doctype.qbo_realm.test_qbo_realm import QBOTestCase, make_realm, test_ignore  # noqa: F401


class TestQBORealmReference(QBOTestCase):
	def test_local_doctype_follows_the_type(self):
		realm = make_realm(realm_id="9130000001301")
		realm.append("reference_maps", {"map_type": "Class", "local_value": realm.cost_center or "Main", "qbo_id": "5"})
		realm.flags.ignore_links = True
		realm.save(ignore_permissions=True)
		self.assertEqual(realm.reference_maps[0].local_doctype, "Cost Center")

	def test_duplicate_local_value_is_refused(self):
		realm = make_realm(realm_id="9130000001302")
		for qbo_id in ("1", "2"):
			realm.append("reference_maps", {"map_type": "Mode of Payment", "local_value": "Cash", "qbo_id": qbo_id})
		with self.assertRaises(frappe.ValidationError):
			realm.save(ignore_permissions=True)

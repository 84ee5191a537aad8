# Copyright (c) 2026, Nexora QBO and contributors
# For license information, please see license.txt
"""QBO Realm Reference rows: the row's type is the ERPNext DocType its value links to; one QBO Id per
value."""

from __future__ import annotations

import frappe

from nexora_qbo.nexora_qbo.doctype.qbo_realm.test_qbo_realm import (
	TEST_IGNORE,
	QBOTestCase,
	cash_mode_of_payment,
	make_realm,
)

test_ignore = TEST_IGNORE  # ERPNext test records are not needed here


class TestQBORealmReference(QBOTestCase):
	def test_value_must_exist_as_the_chosen_doctype(self):
		realm = make_realm(realm_id="9130000001301")
		cost_center = frappe.db.get_value("Cost Center", {"company": realm.company, "is_group": 0}, "name")
		realm.append("reference_maps", {"map_type": "Cost Center", "local_value": cost_center, "qbo_id": "5"})
		realm.save(ignore_permissions=True)
		self.assertEqual(realm.to_settings().class_map, {cost_center: "5"})
		realm.append("reference_maps", {"map_type": "Branch", "local_value": "No Such Branch", "qbo_id": "6"})
		with self.assertRaises(frappe.LinkValidationError):
			realm.save(ignore_permissions=True)

	def test_duplicate_local_value_is_refused(self):
		realm = make_realm(realm_id="9130000001302")
		for qbo_id in ("1", "2"):
			realm.append(
				"reference_maps",
				{"map_type": "Mode of Payment", "local_value": cash_mode_of_payment(), "qbo_id": qbo_id},
			)
		with self.assertRaises(frappe.ValidationError):
			realm.save(ignore_permissions=True)

# Copyright (c) 2026, Nexora QBO and contributors
# For license information, please see license.txt
"""QBO Entity Map: one mapping per local document and per QBO record within a realm; realms are separate."""

from __future__ import annotations

from decimal import Decimal

import frappe

from nexora_qbo.erpnext import constants as K
from nexora_qbo.erpnext.guards import engine_writes
from nexora_qbo.nexora_qbo.doctype.qbo_entity_map.qbo_entity_map import mapping_to_fields, row_to_mapping
from nexora_qbo.nexora_qbo.doctype.qbo_realm.test_qbo_realm import (
	TEST_IGNORE,
	QBOTestCase,
	make_realm,
	two_companies,
)
from nexora_qbo.sync.ports import Mapping

test_ignore = TEST_IGNORE  # ERPNext test records are not needed here


def insert_mapping(realm, local_id: str, qbo_id: str, realm_id: str, local_type: str = "customer"):
	mapping = Mapping(
		realm_id=realm_id,
		local_type=local_type,
		local_id=local_id,
		qbo_entity={"customer": "Customer", "invoice": "Invoice"}[local_type],
		qbo_id=qbo_id,
		sync_token="3",
		base={"Id": qbo_id, "Balance": Decimal("100.10")},
		last_sent_hash="abc",
	)
	doc = frappe.get_doc({"doctype": K.ENTITY_MAP, **mapping_to_fields(mapping, realm.name)})
	with engine_writes():
		return doc.insert(ignore_permissions=True, ignore_links=True)


class TestQBOEntityMap(QBOTestCase):
	def setUp(self):
		super().setUp()
		first, second = two_companies()
		self.realm_a = make_realm(first, realm_id="9130000000301")
		self.realm_b = make_realm(second, realm_id="9130000000302")

	def test_round_trip_keeps_the_base_snapshot_decimals(self):
		doc = insert_mapping(self.realm_a, "Acme", "58", "9130000000301")
		back = row_to_mapping(frappe.get_doc(K.ENTITY_MAP, doc.name), "9130000000301")
		self.assertEqual(back.base["Balance"], Decimal("100.10"))
		self.assertEqual(
			(back.local_type, back.local_id, back.qbo_id, back.sync_token), ("customer", "Acme", "58", "3")
		)
		self.assertEqual(doc.reference_doctype, "Customer")

	def test_local_document_maps_once_per_realm(self):
		insert_mapping(self.realm_a, "Acme", "58", "9130000000301")
		with self.assertRaises(frappe.UniqueValidationError):
			insert_mapping(self.realm_a, "Acme", "59", "9130000000301")

	def test_qbo_record_maps_once_per_realm(self):
		insert_mapping(self.realm_a, "Acme", "58", "9130000000301")
		with self.assertRaises(frappe.UniqueValidationError):
			insert_mapping(self.realm_a, "Acme Two", "58", "9130000000301")

	def test_database_enforces_uniqueness_too(self):
		"""Two workers racing past validate() still cannot create a duplicate."""
		insert_mapping(self.realm_a, "Acme", "58", "9130000000301")
		doc = frappe.get_doc(
			{
				"doctype": K.ENTITY_MAP,
				"realm": self.realm_a.name,
				"local_type": "customer",
				"reference_doctype": "Customer",
				"reference_name": "Other",
				"qbo_entity": "Customer",
				"qbo_id": "58",
			}
		)
		doc.flags.ignore_validate = True
		with self.assertRaises(frappe.UniqueValidationError), engine_writes():
			doc.insert(ignore_permissions=True, ignore_links=True)

	def test_same_ids_in_two_realms_are_independent(self):
		insert_mapping(self.realm_a, "Acme", "58", "9130000000301")
		insert_mapping(self.realm_b, "Acme", "58", "9130000000302")
		self.assertEqual(frappe.db.count(K.ENTITY_MAP, {"reference_name": "Acme"}), 2)

"""Install wiring: custom fields (read-only, allowed on submit, owned by the module), settings defaults,
hooks that bench reads."""

from __future__ import annotations

from unittest.mock import patch

import frappe
from frappe.tests.utils import FrappeTestCase

from nexora_qbo.erpnext import constants as K
from nexora_qbo.erpnext.guards import engine_writes
from nexora_qbo.erpnext.setup import make_custom_fields
from nexora_qbo.nexora_qbo.doctype.qbo_realm.test_qbo_realm import QBOTestCase, make_realm


class TestSetup(FrappeTestCase):
	def test_custom_fields_are_read_only_and_allowed_on_submit(self):
		make_custom_fields()  # idempotent
		make_custom_fields()
		for doctype in K.SYNCED_DOCTYPES:
			for fieldname in (K.CF_QBO_ID, K.CF_SYNC_STATUS):
				field = frappe.db.get_value(
					"Custom Field",
					{"dt": doctype, "fieldname": fieldname},
					["read_only", "allow_on_submit", "module", "no_copy"],
					as_dict=True,
				)
				self.assertIsNotNone(field, f"{doctype}.{fieldname}")
				self.assertEqual((field.read_only, field.allow_on_submit, field.no_copy), (1, 1, 1))
				self.assertEqual(field.module, K.MODULE)
			meta = frappe.get_meta(doctype)
			self.assertTrue(meta.has_field(K.CF_SYNC_STATUS))

	def test_retention_default_is_years_not_days(self):
		self.assertGreaterEqual(frappe.db.get_single_value(K.SETTINGS, "log_retention_days"), 2555)

	def test_doc_events_are_wired(self):
		hooks = frappe.get_hooks("doc_events")
		self.assertIn(
			"nexora_qbo.erpnext.events.sales_invoice_on_submit", hooks["Sales Invoice"]["on_submit"]
		)
		self.assertIn(
			"nexora_qbo.erpnext.events.payment_entry_on_cancel", hooks["Payment Entry"]["on_cancel"]
		)
		self.assertIn("QBO Sync Log", frappe.get_hooks("ignore_links_on_delete"))


class TestDeletingSyncedDocuments(QBOTestCase):
	def test_mapping_and_audit_rows_never_block_deleting_the_erpnext_document(self):
		from nexora_qbo.erpnext.test_events import make_customer

		realm = make_realm(realm_id="9130000001501")
		customer = make_customer("QBO Deletable Customer").name
		with engine_writes():
			frappe.get_doc(
				{
					"doctype": K.ENTITY_MAP,
					"realm": realm.name,
					"local_type": "customer",
					"reference_doctype": "Customer",
					"reference_name": customer,
					"qbo_entity": "Customer",
					"qbo_id": "77",
				}
			).insert(ignore_permissions=True)
		with patch.object(frappe, "enqueue"):
			frappe.delete_doc("Customer", customer, ignore_permissions=True)
		self.assertFalse(frappe.db.exists("Customer", customer))
		# the deletion itself is an intent for QBO (deactivate the customer there)
		actions = frappe.get_all(K.OUTBOX, filters={"reference_name": customer}, pluck="action")
		self.assertIn("delete", actions)

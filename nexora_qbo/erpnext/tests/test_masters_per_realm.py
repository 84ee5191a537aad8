"""Issue 7 section 4 on ERPNext: Customers and Items are global, each QBO realm belongs to one Company, so a
master goes to a realm only when that realm's Company uses it (or a person sends it), never to every realm.
The engine-level crossover over HTTP runs in CI (tests/sync/test_masters_per_realm.py); here the Frappe
pieces the engine relies on: doc events, FrappeLedger.list_ids / used_by and the explicit export."""

from __future__ import annotations

from unittest.mock import patch

import frappe

from nexora_qbo.erpnext import constants as K
from nexora_qbo.erpnext import events
from nexora_qbo.erpnext.ledger import FrappeLedger
from nexora_qbo.erpnext.test_events import make_customer, make_invoice, make_item
from nexora_qbo.nexora_qbo.doctype.qbo_realm.test_qbo_realm import QBOTestCase, make_realm, two_companies
from nexora_qbo.sync import constants as C


def _outbox(realm: str, name: str) -> list[tuple[str, str]]:
	return [
		(r.local_type, r.action)
		for r in frappe.get_all(
			K.OUTBOX,
			filters={"realm": realm, "reference_name": name},
			fields=["local_type", "action"],
			order_by="name asc",
		)
	]


class TestMastersPerRealm(QBOTestCase):
	def setUp(self):
		super().setUp()
		self.company_a, self.company_b = two_companies()
		self.realm_a = make_realm(self.company_a, realm_id="9130000000801")
		self.realm_b = make_realm(self.company_b, realm_id="9130000000802")
		patch.object(frappe, "enqueue").start()
		self.addCleanup(patch.stopall)
		self.ledger = FrappeLedger()

	def test_a_customer_used_by_company_a_never_goes_to_realm_b(self):
		customer = make_customer("NQB Crossover Customer").name
		item = make_item("NQB-CROSSOVER-HOURS").name
		self.assertEqual(_outbox(self.realm_a.name, customer), [])
		self.assertEqual(_outbox(self.realm_b.name, customer), [])
		si = make_invoice(self.company_a, customer, item)
		self.assertEqual(_outbox(self.realm_a.name, si.name), [("invoice", "create")])
		self.assertEqual(_outbox(self.realm_b.name, si.name), [])
		self.assertEqual(self.ledger.used_by(C.CUSTOMER, customer), {self.company_a})
		self.assertEqual(self.ledger.used_by(C.ITEM, item), {self.company_a})
		self.assertIn(customer, self.ledger.list_ids(self.company_a, C.CUSTOMER))
		self.assertNotIn(customer, self.ledger.list_ids(self.company_b, C.CUSTOMER))
		self.assertNotIn(item, self.ledger.list_ids(self.company_b, C.ITEM))
		# an edit of the customer goes to no realm until a realm has it (mapped)
		doc = frappe.get_doc("Customer", customer)
		doc.customer_details = "edited"
		doc.save(ignore_permissions=True)
		self.assertEqual(_outbox(self.realm_b.name, customer), [])

	def test_an_explicit_choice_sends_the_master_to_that_realm_only(self):
		customer = make_customer("NQB Chosen Customer").name
		events.export_master("Customer", customer, self.company_b)
		self.assertEqual(_outbox(self.realm_b.name, customer), [("customer", "create")])
		self.assertEqual(_outbox(self.realm_a.name, customer), [])

	def test_only_managers_may_send_a_master(self):
		customer = make_customer("NQB Guarded Customer").name
		with patch(
			"nexora_qbo.nexora_qbo.doctype.qbo_realm.qbo_realm.is_manager", return_value=False
		), self.assertRaises(frappe.PermissionError):
			events.export_master("Customer", customer, self.company_b)
		self.assertEqual(_outbox(self.realm_b.name, customer), [])

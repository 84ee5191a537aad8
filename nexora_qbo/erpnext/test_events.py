"""doc_events record outbox intents in the document's transaction and enqueue after commit; they never
raise (QBO down, or even a failing intent write) and never echo the sync's own changes."""

from __future__ import annotations

from unittest.mock import patch

import frappe
from frappe.utils import nowdate
from frappe.utils.nestedset import get_root_of

from nexora_qbo.erpnext import constants as K
from nexora_qbo.erpnext import events, jobs
from nexora_qbo.erpnext.guards import engine_writes
from nexora_qbo.nexora_qbo.doctype.qbo_realm.test_qbo_realm import (
	QBOTestCase,
	make_realm,
	two_companies,
)

REALM_ID = "9130000000701"


def make_customer(name: str, **flags):
	doc = frappe.get_doc(
		{
			"doctype": "Customer",
			"customer_name": name,
			"customer_type": "Company",
			"customer_group": get_root_of("Customer Group"),
			"territory": get_root_of("Territory"),
		}
	)
	doc.flags.update(flags)
	return doc.insert(ignore_permissions=True)


def make_item(code: str):
	if frappe.db.exists("Item", code):
		return frappe.get_doc("Item", code)
	group = frappe.db.get_value("Item Group", {"is_group": 0}, "name") or get_root_of("Item Group")
	return frappe.get_doc(
		{
			"doctype": "Item",
			"item_code": code,
			"item_name": code,
			"item_group": group,
			"stock_uom": "Nos",
			"is_stock_item": 0,
			"is_sales_item": 1,
		}
	).insert(ignore_permissions=True)


def make_invoice(
	company: str, customer: str, item: str, qty: float = 1, rate: float = 100, submit: bool = True, **extra
):
	company_doc = frappe.get_cached_doc("Company", company)
	si = frappe.get_doc(
		{
			"doctype": "Sales Invoice",
			"company": company,
			"customer": customer,
			"posting_date": nowdate(),
			"due_date": nowdate(),
			"set_posting_time": 1,
			"currency": company_doc.default_currency,
			"debit_to": company_doc.default_receivable_account,
			"items": [
				{
					"item_code": item,
					"qty": qty,
					"rate": rate,
					"income_account": company_doc.default_income_account,
					"cost_center": company_doc.cost_center,
				}
			],
			**extra,
		}
	)
	si.insert(ignore_permissions=True)
	if submit:
		si.submit()
	return si


def outbox(**filters):
	return frappe.get_all(
		K.OUTBOX,
		filters=filters,
		fields=["local_type", "reference_name", "action", "state"],
		order_by="name asc",
	)


class TestDocEvents(QBOTestCase):
	def setUp(self):
		super().setUp()
		self.company = two_companies()[0]
		self.realm = make_realm(self.company, realm_id=REALM_ID)  # custom_base_url points at a closed port
		self.enqueue = patch.object(frappe, "enqueue").start()
		self.addCleanup(patch.stopall)
		self.customer = make_customer("QBO Events Customer").name
		self.item = make_item("QBO-EVENTS-SERVICE").name

	def test_invoice_submit_records_create_while_qbo_is_down(self):
		si = make_invoice(self.company, self.customer, self.item)
		self.assertEqual(si.docstatus, 1)  # submitted although nothing answers at the realm's URL
		rows = outbox(realm=self.realm.name, reference_doctype="Sales Invoice")
		self.assertEqual(
			[(r.local_type, r.reference_name, r.action, r.state) for r in rows],
			[("invoice", si.name, "create", "pending")],
		)
		self.assertEqual(frappe.db.get_value("Sales Invoice", si.name, K.CF_SYNC_STATUS), "Queued")

	def test_push_is_enqueued_only_after_commit(self):
		make_invoice(self.company, self.customer, self.item)
		self.enqueue.assert_not_called()
		pending = [
			f for f in frappe.db.after_commit._functions if getattr(f, "func", None) is jobs._enqueue_now
		]
		self.assertTrue(pending)
		self.assertEqual(pending[-1].args[:2], (REALM_ID, "push"))
		with patch("frappe.utils.background_jobs.get_job", return_value=None):
			pending[-1]()
		kwargs = self.enqueue.call_args.kwargs
		self.assertEqual(
			(kwargs["job_id"], kwargs["queue"], kwargs["deduplicate"]),
			(f"qbo-push::{REALM_ID}", "long", True),
		)
		frappe.db.after_commit._functions.clear()

	def test_return_is_a_credit_memo_and_cancel_is_recorded(self):
		si = make_invoice(self.company, self.customer, self.item)
		ret = make_invoice(
			self.company, self.customer, self.item, qty=-1, is_return=1, return_against=si.name
		)
		self.assertEqual(outbox(reference_name=ret.name)[0].local_type, "credit_memo")
		si.reload()
		ret.cancel()
		self.assertEqual([r.action for r in outbox(reference_name=ret.name)], ["create", "cancel"])

	def test_failing_intent_write_never_blocks_the_submit(self):
		with patch("nexora_qbo.sync.outbox.record_change", side_effect=RuntimeError("bug")):
			si = make_invoice(self.company, self.customer, self.item)
		self.assertEqual(frappe.db.get_value("Sales Invoice", si.name, "docstatus"), 1)
		self.assertEqual(outbox(reference_name=si.name), [])
		self.assertTrue(frappe.db.exists("Error Log", {"reference_name": si.name}))

	def test_deadlock_is_not_swallowed(self):
		"""A deadlock has already rolled back the whole transaction: pretending the submit went through
		would be a lie, so it propagates (Frappe reports it; a job would be retried)."""
		with patch("nexora_qbo.sync.outbox.record_change", side_effect=frappe.QueryDeadlockError("1213")):
			with self.assertRaises(frappe.QueryDeadlockError):
				make_invoice(self.company, self.customer, self.item)

	def test_sync_origin_flag_on_the_document_suppresses_the_echo(self):
		si = make_invoice(self.company, self.customer, self.item, submit=False)
		si.flags.nexora_qbo_origin = "qbo"
		si.submit()
		self.assertEqual(outbox(reference_name=si.name), [])

	def test_inbound_job_flag_suppresses_every_echo(self):
		with events.inbound():
			customer = make_customer("QBO Inbound Customer")
			si = make_invoice(self.company, self.customer, self.item)
		self.assertEqual(outbox(reference_name=customer.name), [])
		self.assertEqual(outbox(reference_name=si.name), [])
		self.assertFalse(frappe.flags.get(K.INBOUND_FLAG))

	def test_a_new_customer_goes_to_no_realm_until_a_person_sends_it(self):
		"""Customers are global in ERPNext; a realm belongs to one Company (issue 7 section 4)."""
		self.realm.db_set("push_new_masters", 1)  # the old flag is no longer read
		later = make_customer("QBO Events Customer Two")
		self.assertEqual(outbox(reference_name=self.customer), [])
		self.assertEqual(outbox(reference_name=later.name), [])
		events.export_master("Customer", later.name, self.company)
		self.assertEqual(
			[(r.local_type, r.action) for r in outbox(realm=self.realm.name, reference_name=later.name)],
			[("customer", "create")],
		)
		self.assertEqual(len(outbox(reference_name=later.name)), 1)  # that realm only

	def test_mapped_customer_update_records_an_update(self):
		with engine_writes():
			frappe.get_doc(
				{
					"doctype": K.ENTITY_MAP,
					"realm": self.realm.name,
					"local_type": "customer",
					"reference_doctype": "Customer",
					"reference_name": self.customer,
					"qbo_entity": "Customer",
					"qbo_id": "58",
				}
			).insert(ignore_permissions=True)
		frappe.db.delete(K.OUTBOX, {"realm": self.realm.name})
		doc = frappe.get_doc("Customer", self.customer)
		doc.customer_details = "changed"
		doc.save(ignore_permissions=True)
		self.assertEqual(
			[(r.action, r.state) for r in outbox(reference_name=self.customer)], [("update", "pending")]
		)

	def test_company_without_realm_records_nothing(self):
		si = make_invoice(two_companies()[1], self.customer, self.item)
		self.assertEqual(outbox(reference_name=si.name), [])

	def test_payment_entry_submit_and_cancel(self):
		from erpnext.accounts.doctype.payment_entry.payment_entry import get_payment_entry

		si = make_invoice(self.company, self.customer, self.item)
		pe = get_payment_entry("Sales Invoice", si.name)
		pe.reference_no, pe.reference_date = "CHK-1", nowdate()
		pe.insert(ignore_permissions=True)
		pe.submit()
		pe.cancel()
		self.assertEqual(
			[(r.local_type, r.action) for r in outbox(reference_name=pe.name)],
			[("payment", "create"), ("payment", "cancel")],
		)

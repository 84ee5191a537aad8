"""Issue 7 §2 in the bench: review actions that cannot damage either book, on real ERPNext documents.

ERPNext <-> the local QBO sandbox over real HTTP, through the real engine on the Frappe store and ledger (as
test_e2e_sandbox does). Each test asserts both books: QuickBooks through the bookkeeper's client, ERPNext
through its documents.
- amending a Sales Invoice (ERPNext cancel -> amend, `amended_from`) after a bookkeeper edited it in QBO
  updates the SAME QBO invoice instead of leaving two live invoices for one sale;
- cancelling a Payment Entry that was imported from QBO opens a question and voids nothing;
- "Void in QuickBooks too" on that question voids it there.
"""

from __future__ import annotations

import secrets
from decimal import Decimal

import frappe
from frappe.tests.utils import FrappeTestCase
from frappe.utils import add_days, getdate, nowdate

from nexora_qbo.erpnext.events import inbound
from nexora_qbo.erpnext.tests.test_e2e_sandbox import _PatientBookkeeper
from nexora_qbo.erpnext.tests.utils import connect_to_sandbox, ensure_company, purge_committed_audit
from nexora_qbo.sync import constants as C

COMPANY = "_Test NQB Review"
ABBR = "_TNQR"


def _money(value) -> Decimal:
	return Decimal(str(value)).quantize(Decimal("0.01"))


def _voided(obj: dict) -> bool:
	return "voided" in str(obj.get("PrivateNote") or "").lower() and _money(obj.get("TotalAmt")) == 0


class TestReviewActions(FrappeTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		from nexora_qbo.sandbox.bookkeeper import Bookkeeper
		from nexora_qbo.sandbox.server import SandboxServer

		ensure_company(COMPANY, ABBR)
		cls.sb = SandboxServer(seed=11)
		realm_id = "9342" + "".join(secrets.choice("0123456789") for _ in range(11))
		cls.realm_id = cls.sb.create_realm(company_name="Nexora Review (QBO sandbox)", realm_id=realm_id)
		cls.sb.set_options(cls.realm_id, per_second=40, per_minute=2000)
		cls.realm, cls.store, cls.engine = connect_to_sandbox(cls.sb, COMPANY, cls.realm_id)
		cls.bk = _PatientBookkeeper(Bookkeeper(cls.sb, cls.realm_id))
		with inbound():
			cls.engine.initial_import(cls.realm_id)

	@classmethod
	def tearDownClass(cls):
		cls.sb.stop()
		purge_committed_audit([cls.realm])
		super().tearDownClass()

	# ------------------------------------------------------------------------------------------ helpers
	def pull(self):
		with inbound():
			return self.engine.pull(self.realm_id)

	def qbo_id(self, local_type, local_id):
		m = self.store.get_mapping(self.realm_id, local_type, local_id)
		self.assertIsNotNone(m, f"{local_type} {local_id} is not mapped")
		return m.qbo_id

	def open_items(self, local_type=None, local_id=None):
		return self.store.list_conflicts(self.realm_id, status=C.OPEN, local_type=local_type, local_id=local_id)

	def submitted_invoice(self, customer: str, qty: float) -> frappe.model.document.Document:
		si = frappe.get_doc(
			{
				"doctype": "Sales Invoice",
				"company": COMPANY,
				"customer": customer,
				"posting_date": getdate(nowdate()),
				"due_date": add_days(nowdate(), 30),
				"currency": "USD",
				"debit_to": f"Debtors - {ABBR}",
				"items": [
					{
						"item_code": "Staffing Hours",
						"qty": qty,
						"rate": 45,
						"income_account": f"Sales - {ABBR}",
						"cost_center": f"Main - {ABBR}",
					}
				],
			}
		).insert()
		si.submit()
		return si

	def bookkeeper_sets_hours(self, qid: str, qty: int, rate: str = "45") -> None:
		remote = self.bk.read("Invoice", qid)
		line = [ln for ln in remote["Line"] if ln["DetailType"] == "SalesItemLineDetail"][0]
		line["SalesItemLineDetail"]["Qty"] = qty
		line["Amount"] = Decimal(rate) * qty
		self.bk.update("Invoice", qid, {"Line": [line]})

	# -------------------------------------------------------------------------------------------- tests
	def test_amending_a_sales_invoice_after_a_qbo_edit_updates_the_same_qbo_invoice(self):
		si = self.submitted_invoice("Acme Logistics", 40)
		self.engine.push(self.realm_id)
		qid = self.qbo_id(C.INVOICE, si.name)
		self.bookkeeper_sets_hours(qid, 42)
		self.pull()
		[edited] = self.open_items(C.INVOICE, si.name)
		self.assertEqual(edited.kind, "transaction_edited")

		# the advice: cancel and amend in ERPNext (ERPNext's own cancel -> amend)
		si.reload()
		si.cancel()
		self.engine.push(self.realm_id)  # the cancel meets her edit: parked under it, nothing voided
		self.assertFalse(_voided(self.bk.read("Invoice", qid)))
		amended = frappe.copy_doc(si)  # what the form's Amend button does
		amended.docstatus = 0  # copy_doc keeps docstatus while tests run (frappe.flags.in_test)
		amended.amended_from = si.name
		amended.items[0].qty = 42
		amended.insert()
		amended.submit()
		self.engine.push(self.realm_id)

		cust_qid = self.qbo_id(C.CUSTOMER, "Acme Logistics")
		live = [
			r
			for r in self.bk.query(f"select * from Invoice where CustomerRef = '{cust_qid}'").get("Invoice", [])
			if not _voided(r)
		]
		self.assertEqual([r["Id"] for r in live if r["DocNumber"] in (si.name, amended.name)], [qid])
		remote = self.bk.read("Invoice", qid)
		self.assertEqual(_money(remote["TotalAmt"]), Decimal("1890.00"))
		self.assertEqual(remote["DocNumber"], amended.name)
		self.assertEqual(self.qbo_id(C.INVOICE, amended.name), qid)
		self.assertIsNone(self.store.get_mapping(self.realm_id, C.INVOICE, si.name))
		self.assertEqual(
			_money(frappe.db.get_value("Sales Invoice", amended.name, "outstanding_amount")),
			_money(remote["Balance"]),
		)
		self.assertEqual(self.open_items(C.INVOICE, si.name) + self.open_items(C.INVOICE, amended.name), [])
		self.assertEqual(self.store.get_conflict(edited.id).resolution, C.RESOLUTION_AMENDED)

	def test_cancelling_a_payment_entry_imported_from_qbo_asks_and_void_in_quickbooks_too_voids(self):
		si = self.submitted_invoice("Bluebonnet Health", 20)
		self.engine.push(self.realm_id)
		inv_qid = self.qbo_id(C.INVOICE, si.name)
		pay = self.bk.receive_payment(self.qbo_id(C.CUSTOMER, "Bluebonnet Health"), "300.00", [inv_qid])
		self.pull()
		m = self.store.get_mapping_by_qbo(self.realm_id, "Payment", pay["Id"])
		self.assertIsNotNone(m)
		self.assertEqual(m.origin, C.ORIGIN_QBO)
		self.assertEqual(_money(frappe.db.get_value("Sales Invoice", si.name, "outstanding_amount")), Decimal("600.00"))

		pe = frappe.get_doc("Payment Entry", m.local_id)
		pe.cancel()
		self.engine.push(self.realm_id)
		remote = self.bk.read("Payment", pay["Id"])
		self.assertFalse(_voided(remote))  # the bookkeeper's payment is not voided as a side effect
		self.assertEqual(_money(remote["TotalAmt"]), Decimal("300.00"))
		[question] = self.open_items(C.PAYMENT, pe.name)
		self.assertEqual(question.kind, "qbo_born_cancel")
		self.assertIn("it is still live in QuickBooks", question.reason)
		self.assertIn(C.ACTION_VOID_IN_QBO, question.actions)
		doc = frappe.get_doc("QBO Conflict", question.id)
		labels = [b["label"] for b in doc.action_buttons()]
		self.assertIn("Void in QuickBooks too", labels)

		with inbound():
			self.engine.resolve_conflict(question.id, C.ACTION_VOID_IN_QBO, by="Administrator")
		self.assertTrue(_voided(self.bk.read("Payment", pay["Id"])))
		self.assertEqual(
			_money(self.bk.read("Invoice", inv_qid)["Balance"]),
			_money(frappe.db.get_value("Sales Invoice", si.name, "outstanding_amount")),
		)
		self.assertEqual(self.open_items(C.PAYMENT, pe.name), [])

"""Issue 13 in the bench: an ERPNext additional discount and a short-pay with a write-off deduction reach QBO
so that the invoice totals and balances agree to the cent; a QBO percent discount comes back as ERPNext's
additional discount; the tie-out then shows no difference per invoice and per customer."""

from __future__ import annotations

from decimal import Decimal

import frappe
from frappe.tests.utils import FrappeTestCase
from frappe.utils import add_days, getdate, nowdate

from nexora_qbo.erpnext.events import inbound
from nexora_qbo.erpnext.tests.utils import SandboxRealmCase
from nexora_qbo.sync import constants as C

COMPANY = "_Test NQB Receivables"
ABBR = "_TNQV"


def _money(value) -> Decimal:
	return Decimal(str(value)).quantize(Decimal("0.01"))


class TestReceivables(SandboxRealmCase, FrappeTestCase):
	COMPANY, ABBR, REALM_PREFIX, SANDBOX_NAME = COMPANY, ABBR, "9352", "Nexora Receivables (QBO sandbox)"

	def test_discount_both_ways_and_short_pay_deduction_tie_out(self):
		from erpnext.accounts.doctype.payment_entry.payment_entry import get_payment_entry

		with inbound():
			self.engine.initial_import(self.realm_id)
		acme = "Acme Logistics"
		# ERPNext -> QBO: an additional discount on the net total
		si = frappe.get_doc({
			"doctype": "Sales Invoice", "company": COMPANY, "customer": acme, "posting_date": getdate(nowdate()),
			"due_date": add_days(nowdate(), 30), "currency": "USD", "debit_to": f"Debtors - {ABBR}",
			"apply_discount_on": "Net Total", "discount_amount": 45.50,
			"items": [{"item_code": "Staffing Hours", "qty": 10, "rate": 45, "income_account": f"Sales - {ABBR}",
				"cost_center": f"Main - {ABBR}"}],
		}).insert()
		si.submit()
		self.assertEqual(_money(si.grand_total), Decimal("404.50"))
		si2 = self._invoice(acme, 20)  # 900
		pushed = self.engine.push(self.realm_id)
		self.assertEqual(pushed.get("parked", 0), 0, pushed)
		self.assertEqual(_money(self.bk.read("Invoice", self.qbo_id(C.INVOICE, si.name))["TotalAmt"]), Decimal("404.50"))
		self.assertEqual([c.kind for c in self.store.list_conflicts(self.realm_id, status=C.OPEN)], [])
		# a short-pay: 850 received for the 900 invoice, 50 written off (Payment Entry Deduction)
		pe = get_payment_entry("Sales Invoice", si2.name)
		pe.paid_amount = pe.received_amount = 850
		pe.append("deductions", {"account": f"Write Off - {ABBR}", "cost_center": f"Main - {ABBR}", "amount": 50})
		pe.reference_no, pe.reference_date = "ACH-SHORT", nowdate()
		pe.insert()
		pe.submit()
		self.assertEqual(_money(frappe.db.get_value("Sales Invoice", si2.name, "outstanding_amount")), Decimal("0.00"))
		pushed = self.engine.push(self.realm_id)
		self.assertEqual(pushed.get("parked", 0), 0, pushed)
		self.assertEqual(_money(self.bk.read("Invoice", self.qbo_id(C.INVOICE, si2.name))["Balance"]), Decimal("0.00"))
		# QBO -> ERPNext: a 10 % discount line
		created = self.bk.create("Invoice", {"CustomerRef": {"value": self.qbo_id(C.CUSTOMER, acme)},
			"TxnDate": nowdate(), "Line": [{"Amount": Decimal("450.00"), "DetailType": "SalesItemLineDetail",
				"SalesItemLineDetail": {"ItemRef": {"value": self.qbo_id(C.ITEM, "Staffing Hours")}, "Qty": 10,
				"UnitPrice": Decimal("45.00")}}, {"DetailType": "DiscountLineDetail",
				"DiscountLineDetail": {"PercentBased": True, "DiscountPercent": 10}}]})
		with inbound():
			self.engine.pull(self.realm_id)
			self.engine.pull(self.realm_id)
		m = self.store.get_mapping_by_qbo(self.realm_id, "Invoice", created["Id"])
		self.assertIsNotNone(m)
		imported = frappe.get_doc("Sales Invoice", m.local_id)
		self.assertEqual((_money(imported.discount_amount), _money(imported.grand_total)),
			(Decimal("45.00"), Decimal("405.00")))
		result = self.engine.tie_out(self.realm_id)
		self.assertEqual([r.label for r in result.differences], [])
		self.assertEqual(result.unexplained_count, 0)
		self.assertEqual([c.kind for c in self.store.list_conflicts(self.realm_id, status=C.OPEN)], [])
		print("\n[issue-13 bench tie-out]", {c.customer: (str(c.erpnext), str(c.qbo)) for c in result.customers})

	def _pull(self):
		with inbound():
			self.engine.pull(self.realm_id)
			self.engine.pull(self.realm_id)

	def _open_kinds(self):
		return [(c.kind, c.local_id) for c in self.store.list_conflicts(self.realm_id, status=C.OPEN)]

	def test_later_allocation_in_qbo_is_reconciled_in_erpnext(self):
		"""A Payment Entry with 55 unallocated reaches QBO as a payment with 55 unapplied; the bookkeeper applies
		it to another invoice weeks later: ERPNext reconciles the submitted entry (reconcile_against_document)."""
		from erpnext.accounts.doctype.payment_entry.payment_entry import get_payment_entry

		with inbound():
			self.engine.initial_import(self.realm_id)
		acme = "Acme Logistics"
		si1, si2 = self._invoice(acme, 2), self._invoice(acme, 3)  # 90, 135
		pe = get_payment_entry("Sales Invoice", si1.name)
		pe.paid_amount = pe.received_amount = 145
		pe.reference_no, pe.reference_date = "ACH-ONACCT", nowdate()
		pe.insert()
		pe.submit()
		self.assertEqual(_money(pe.unallocated_amount), Decimal("55.00"))
		pushed = self.engine.push(self.realm_id)
		self.assertEqual(pushed.get("parked", 0), 0, pushed)
		q = self.qbo_id(C.PAYMENT, pe.name)
		self.assertEqual(_money(self.bk.read("Payment", q)["UnappliedAmt"]), Decimal("55.00"))
		self.bk.update("Payment", q, {"Line": [
			{"Amount": Decimal("90.00"), "LinkedTxn": [{"TxnId": self.qbo_id(C.INVOICE, si1.name), "TxnType": "Invoice"}]},
			{"Amount": Decimal("55.00"), "LinkedTxn": [{"TxnId": self.qbo_id(C.INVOICE, si2.name), "TxnType": "Invoice"}]}]})
		self._pull()
		self.assertEqual(self._open_kinds(), [])
		self.assertEqual(_money(frappe.db.get_value("Payment Entry", pe.name, "unallocated_amount")), Decimal("0.00"))
		self.assertEqual(_money(frappe.db.get_value("Sales Invoice", si2.name, "outstanding_amount")), Decimal("80.00"))
		self.assertEqual(_money(self.bk.read("Invoice", self.qbo_id(C.INVOICE, si2.name))["Balance"]), Decimal("80.00"))
		result = self.engine.tie_out(self.realm_id)
		self.assertEqual([r.label for r in result.differences], [])
		print("\n[issue-13 bench later allocation tie-out]", result.unexplained_count,
			{c.customer: (str(c.erpnext), str(c.qbo)) for c in result.customers})

	def test_merge_of_customers_inactive_hold_and_edit_without_reactivating(self):
		"""A duplicate customer merged in QBO is merged in ERPNext too (no review item per invoice); a customer
		with open AR made inactive in QBO stays active here with one review item, and an ERPNext edit of it
		reaches QBO without making it active there again."""
		with inbound():
			self.engine.initial_import(self.realm_id)
		acme = "Acme Logistics"
		dup = frappe.get_doc({"doctype": "Customer", "customer_name": "Acme Logistics Dup NX",
			"customer_group": frappe.db.get_value("Customer", acme, "customer_group"),
			"territory": frappe.db.get_value("Customer", acme, "territory")}).insert()
		si_dup, si_acme = self._invoice(dup.name, 2), self._invoice(acme, 4)
		pushed = self.engine.push(self.realm_id)
		self.assertEqual(pushed.get("parked", 0), 0, pushed)
		self.bk.merge("Customer", self.qbo_id(C.CUSTOMER, dup.name), self.qbo_id(C.CUSTOMER, acme))
		self._pull()
		self.assertEqual(self._open_kinds(), [], [c.reason for c in self.store.list_conflicts(self.realm_id, status=C.OPEN)])
		self.assertFalse(frappe.db.exists("Customer", dup.name))
		self.assertEqual(frappe.db.get_value("Sales Invoice", si_dup.name, "customer"), acme)
		self.assertEqual(self._open_kinds(), [])
		result = self.engine.tie_out(self.realm_id)
		self.assertEqual([r.label for r in result.differences], [])
		print("\n[issue-13 bench merge tie-out]", result.unexplained_count,
			{c.customer: (str(c.erpnext), str(c.qbo)) for c in result.customers})
		# inactive in QBO with open AR: held, one review item
		q_acme = self.qbo_id(C.CUSTOMER, acme)
		self.bk.deactivate("Customer", q_acme)
		self._pull()
		self.assertEqual(cint_disabled(acme), 0)
		self.assertEqual(self._open_kinds(), [("inactive_with_open_ar", acme)],
			[c.reason for c in self.store.list_conflicts(self.realm_id, status=C.OPEN)])
		# an ERPNext edit: goes to QBO, "active" does not
		doc = frappe.get_doc("Customer", acme)
		doc.website = "https://acme-logistics.example"
		doc.customer_details = "Billing contact changed"
		doc.save()
		self.engine.push(self.realm_id)
		self.assertIs(self.bk.read("Customer", q_acme)["Active"], False)
		self.assertEqual(self._open_kinds(), [("inactive_with_open_ar", acme)])
		_ = si_acme


def cint_disabled(customer: str) -> int:
	return int(frappe.db.get_value("Customer", customer, "disabled") or 0)

"""Issue 7 on ERPNext: opening balances at go-live (section 3) and the posting time of invoices from QBO
(section 5). Run through FrappeLedger, the seam the engine uses; the engine's plan/apply over HTTP runs in
CI (tests/sync/test_go_live.py)."""

from __future__ import annotations

from decimal import Decimal

import frappe
from frappe.tests.utils import FrappeTestCase
from frappe.utils import add_days, getdate, nowdate

from nexora_qbo.erpnext.ledger import FrappeLedger
from nexora_qbo.erpnext.tests.utils import ensure_company, make_realm
from nexora_qbo.sync import constants as C
from nexora_qbo.sync import golive as G

COMPANY = "_Test NQB Go-Live"
ABBR = "_TNQG"
REALM_ID = "GOLIVE-1"


class TestGoLiveOnERPNext(FrappeTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		ensure_company(COMPANY, ABBR)
		cls.realm = make_realm(COMPANY, REALM_ID)
		cls.ledger = FrappeLedger()
		cls.today = getdate(nowdate())
		cls.customer = cls.ledger.upsert_from_qbo(
			COMPANY, C.CUSTOMER, None, {"display_name": "Go-Live Test Customer", "email": "ap@golive.example"}
		)
		cls.hours = cls.ledger.upsert_from_qbo(
			COMPANY, C.ITEM, None, {"name": "NQB Go-Live Hours", "type": "Service", "rate": "45.00"}
		)

	def _qbo_invoice(self, number, balance, total):
		return {"Id": number, "DocNumber": number, "TxnDate": str(add_days(self.today, -20)),
			"DueDate": str(add_days(self.today, 10)), "Balance": balance, "TotalAmt": total}

	def test_an_open_qbo_invoice_becomes_an_opening_sales_invoice_against_temporary_opening(self):
		obj = self._qbo_invoice("GL-1001", "200.00", "300.00")
		record = G.opening_record(C.INVOICE, obj, self.customer, Decimal("200.00"), "USD")
		name = self.ledger.upsert_from_qbo(COMPANY, C.INVOICE, None, record)
		si = frappe.get_doc("Sales Invoice", name)
		self.assertEqual((si.docstatus, si.is_opening), (1, "Yes"))
		self.assertEqual(len(si.items), 1)
		self.assertEqual(frappe.db.get_value("Account", si.items[0].income_account, "account_type"), "Temporary")
		self.assertEqual(Decimal(str(si.outstanding_amount)), Decimal("200.00"))
		self.assertIn("GL-1001", si.remarks)
		income = frappe.db.sql(
			"""select ifnull(sum(credit - debit), 0) from `tabGL Entry` gle join `tabAccount` a on a.name = gle.account
			where gle.voucher_no=%s and a.root_type='Income' and gle.is_cancelled=0""",
			name,
		)[0][0]
		self.assertEqual(Decimal(str(income)), Decimal("0"))  # no revenue booked a second time
		self.assertTrue(self.ledger.get(COMPANY, C.INVOICE, name)["opening"])

	def test_an_unused_qbo_credit_memo_becomes_an_opening_credit_note(self):
		obj = self._qbo_invoice("GL-CM-7", "40.00", "40.00")
		record = G.opening_record(C.CREDIT_MEMO, obj, self.customer, Decimal("40.00"), "USD")
		name = self.ledger.upsert_from_qbo(COMPANY, C.CREDIT_MEMO, None, record)
		si = frappe.get_doc("Sales Invoice", name)
		self.assertEqual((si.is_return, si.is_opening, si.return_against), (1, "Yes", None))
		self.assertEqual(Decimal(str(si.outstanding_amount)), Decimal("-40.00"))

	def test_a_same_morning_credit_note_against_an_invoice_from_qbo_is_accepted_at_any_hour(self):
		"""The fixed 12:00 posting time refused a credit note made the same morning ("Posting timestamp
		must be after ..."): the test sets the note's time to 08:00, so it fails with 12:00 whatever the hour."""
		from erpnext.accounts.doctype.sales_invoice.sales_invoice import make_sales_return

		inv = self.ledger.upsert_from_qbo(COMPANY, C.INVOICE, None, {
			"doc_number": "GL-2001", "customer": self.customer, "txn_date": str(self.today),
			"due_date": str(add_days(self.today, 30)), "currency": "USD", "exchange_rate": 1,
			"lines": [{"item": self.hours, "qty": 2, "rate": "45.00", "amount": "90.00"}],
			"tax_total": "0", "total": "90.00",
		})
		second = self.ledger.upsert_from_qbo(COMPANY, C.INVOICE, None, {
			"doc_number": "GL-2002", "customer": self.customer, "txn_date": str(self.today),
			"due_date": str(add_days(self.today, 30)), "currency": "USD", "exchange_rate": 1,
			"lines": [{"item": self.hours, "qty": 1, "rate": "45.00", "amount": "45.00"}],
			"tax_total": "0", "total": "45.00",
		})
		first_time = frappe.db.get_value("Sales Invoice", inv, "posting_time")
		second_time = frappe.db.get_value("Sales Invoice", second, "posting_time")
		self.assertLess(first_time, second_time)  # QBO's order kept, one second apart
		note = make_sales_return(inv)
		note.set_posting_time = 1
		note.posting_date = self.today
		note.posting_time = "08:00:00"
		note.insert(ignore_permissions=True)
		note.submit()
		self.assertEqual(note.docstatus, 1)

	def test_an_unapplied_qbo_payment_becomes_an_opening_credit_that_a_later_application_reconciles(self):
		"""The opening credit is a Journal Entry (is_opening Yes) crediting the customer against Temporary Opening
		(no bank account: the money is already in the bank's opening balance); open_balances counts it negative;
		a later application is reconciled against the invoice the way Payment Reconciliation does."""
		customer = self.ledger.upsert_from_qbo(
			COMPANY, C.CUSTOMER, None, {"display_name": "Go-Live Credit Customer", "email": "ap@golive-credit.example"}
		)
		obj = {"Id": "GL-P-9", "TxnDate": str(add_days(self.today, -20)), "PaymentRefNum": "CHK-9",
			"UnappliedAmt": "30.00", "TotalAmt": "130.00"}
		name = self.ledger.upsert_from_qbo(
			COMPANY, C.PAYMENT, None, G.opening_record(C.PAYMENT, obj, customer, Decimal("30.00"), "USD")
		)
		je = frappe.get_doc("Journal Entry", name)
		self.assertEqual((je.docstatus, je.is_opening), (1, "Yes"))
		banks = [a for a in je.accounts if frappe.db.get_value("Account", a.account, "account_type") in ("Bank", "Cash")]
		self.assertEqual(banks, [])
		record = self.ledger.get(COMPANY, C.PAYMENT, name)
		self.assertEqual((record["opening"], record["unapplied"], record["applications"]), (True, Decimal("30.00"), []))
		rows = {r["local_id"]: r for r in self.ledger.open_balances(COMPANY)}
		self.assertEqual(rows[name]["outstanding"], Decimal("-30.00"))
		self.assertEqual(rows[name]["customer"], customer)
		inv = self.ledger.upsert_from_qbo(
			COMPANY, C.INVOICE, None,
			G.opening_record(C.INVOICE, self._qbo_invoice("GL-3001", "100.00", "100.00"), customer, Decimal("100.00"), "USD"),
		)
		applied = dict(record, applications=[{"doc_type": C.INVOICE, "doc_key": inv, "amount": Decimal("30.00")}],
			unapplied=Decimal("0"))
		self.assertEqual(self.ledger.upsert_from_qbo(COMPANY, C.PAYMENT, name, applied), name)
		self.assertEqual(Decimal(str(frappe.db.get_value("Sales Invoice", inv, "outstanding_amount"))), Decimal("70.00"))
		after = self.ledger.get(COMPANY, C.PAYMENT, name)
		self.assertEqual((after["unapplied"], after["total"]), (Decimal("0.00"), Decimal("30.00")))
		self.assertEqual(after["applications"], [{"doc_type": C.INVOICE, "doc_key": inv, "amount": Decimal("30.00")}])
		self.assertNotIn(name, {r["local_id"] for r in self.ledger.open_balances(COMPANY)})

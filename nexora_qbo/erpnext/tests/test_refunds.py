"""Issue 13 in the bench, refunds to a customer both ways, with the income each book shows:
(a) an ERPNext credit note refunded by a Payment Entry "Pay" reaches QBO as a journal entry to A/R (out of the
mapped bank) linked to the credit memo by a zero payment: the credit memo's Balance is 0, the customer ties,
income is unchanged in both books; (b) a refund receipt made in QBO comes into ERPNext as a credit note with the
same lines paid out at once from the mapped account: GL income and bank move by QBO's amounts, the tie-out is 0.
QBO's income is computed here from the sandbox's documents over HTTP, ERPNext's from its GL Entries."""

from __future__ import annotations

from decimal import Decimal

import frappe
from frappe.tests.utils import FrappeTestCase
from frappe.utils import add_days, getdate, nowdate

from nexora_qbo.erpnext import constants as K
from nexora_qbo.erpnext.events import inbound
from nexora_qbo.erpnext.tests.utils import SandboxRealmCase, outbox_for
from nexora_qbo.sync import constants as C

COMPANY = "_Test NQB Refunds"
ABBR = "_TNQRF"
ZERO = Decimal("0.00")


def _money(value) -> Decimal:
	return Decimal(str(value or 0)).quantize(Decimal("0.01"))


def _all(bk, entity):
	return bk.query(f"select * from {entity} MAXRESULTS 1000").get(entity, [])


def _lines(obj) -> Decimal:
	return sum((_money(ln.get("Amount")) for ln in obj.get("Line") or [] if ln.get("DetailType") == "SalesItemLineDetail"),
		ZERO) - sum((_money(ln.get("Amount")) for ln in obj.get("Line") or [] if ln.get("DetailType") == "DiscountLineDetail"), ZERO)


def qbo_income(bk) -> Decimal:
	"""Income in QBO as its documents post it: invoices +, credit memos and refund receipts -, journal entry
	lines to Income accounts (credit +, debit -)."""
	income = {str(a["Id"]) for a in _all(bk, "Account") if a.get("AccountType") == "Income"}
	total = sum((_lines(o) for o in _all(bk, "Invoice")), ZERO)
	total -= sum((_lines(o) for o in _all(bk, "CreditMemo") + _all(bk, "RefundReceipt")), ZERO)
	for je in _all(bk, "JournalEntry"):
		for ln in je.get("Line") or []:
			d = ln.get("JournalEntryLineDetail") or {}
			if str((d.get("AccountRef") or {}).get("value")) in income:
				total += _money(ln.get("Amount")) * (1 if d.get("PostingType") == "Credit" else -1)
	return total


def gl_income(company: str) -> Decimal:
	"""Income in ERPNext's general ledger (credit - debit on Income accounts)."""
	row = frappe.db.sql("""select sum(gle.credit - gle.debit) from `tabGL Entry` gle join `tabAccount` acc
		on acc.name = gle.account where gle.company = %s and gle.is_cancelled = 0 and acc.root_type = 'Income'""",
		(company,))
	return _money(row[0][0])


def gl_balance(company: str, account: str) -> Decimal:
	row = frappe.db.sql("""select sum(debit - credit) from `tabGL Entry` where company = %s and account = %s
		and is_cancelled = 0""", (company, account))
	return _money(row[0][0])


class TestRefunds(SandboxRealmCase, FrappeTestCase):
	COMPANY, ABBR, REALM_PREFIX, SANDBOX_NAME = COMPANY, ABBR, "9371", "Nexora Refunds (QBO sandbox)"

	def setUp(self):
		with inbound():
			self.engine.initial_import(self.realm_id)
		self.checking = self.bk.query("select * from Account where Name = 'Checking'")["Account"][0]["Id"]
		self.cash = f"Cash - {ABBR}"
		realm = frappe.get_doc(K.REALM, self.realm)
		if not [r for r in realm.reference_maps if r.map_type == "Account" and r.local_value == self.cash]:
			realm.append("reference_maps", {"map_type": "Account", "local_value": self.cash, "qbo_id": self.checking})
			realm.save(ignore_permissions=True)

	def _pull(self):
		with inbound():
			self.engine.pull(self.realm_id)
			self.engine.pull(self.realm_id)

	def _open(self):
		return [c.reason for c in self.store.list_conflicts(self.realm_id, status=C.OPEN)]

	def _credit_note(self, customer, qty, rate):
		cn = frappe.get_doc({
			"doctype": "Sales Invoice", "company": COMPANY, "customer": customer, "is_return": 1,
			"posting_date": getdate(nowdate()), "due_date": add_days(nowdate(), 30), "currency": "USD",
			"debit_to": f"Debtors - {ABBR}",
			"items": [{"item_code": "Staffing Hours", "qty": -qty, "rate": rate, "income_account": f"Sales - {ABBR}",
				"cost_center": f"Main - {ABBR}"}],
		}).insert()
		cn.submit()
		return cn

	def test_erpnext_refund_of_a_credit_note_reaches_qbo_as_journal_entry_and_linking_payment(self):
		from erpnext.accounts.doctype.payment_entry.payment_entry import get_payment_entry

		acme = "Acme Logistics"
		cn = self._credit_note(acme, 2, 60)  # -120
		pushed = self.engine.push(self.realm_id)
		self.assertEqual(pushed.get("parked", 0), 0, (pushed, self._open()))
		cm_id = self.qbo_id(C.CREDIT_MEMO, cn.name)
		self.assertEqual(_money(self.bk.read("CreditMemo", cm_id)["Balance"]), Decimal("120.00"))
		income_erp, income_qbo = gl_income(COMPANY), qbo_income(self.bk)
		# the bookkeeper pays the credit out: Payment Entry "Pay" to the customer against the return invoice
		pe = get_payment_entry("Sales Invoice", cn.name)
		self.assertEqual((pe.payment_type, pe.party_type), ("Pay", "Customer"))
		pe.paid_from = self.cash
		pe.reference_no, pe.reference_date = "CHK 1042", nowdate()
		pe.insert()
		pe.submit()
		self.assertEqual(_money(frappe.db.get_value("Sales Invoice", cn.name, "outstanding_amount")), ZERO)
		self.assertEqual(outbox_for("Payment Entry", pe.name, self.realm), ["create"])  # the doc event queued it
		pushed = self.engine.push(self.realm_id)
		self.assertEqual(pushed.get("parked", 0), 0, (pushed, self._open()))
		je = self.bk.read("JournalEntry", self.qbo_id(C.REFUND, pe.name))
		debit, credit = je["Line"]
		self.assertEqual(debit["JournalEntryLineDetail"]["Entity"]["EntityRef"]["value"], self.qbo_id(C.CUSTOMER, acme))
		self.assertEqual((credit["JournalEntryLineDetail"]["AccountRef"]["value"], _money(credit["Amount"])),
			(self.checking, Decimal("120.00")))
		self.assertEqual(_money(self.bk.read("CreditMemo", cm_id)["Balance"]), ZERO)
		self.assertEqual(_all(self.bk, "RefundReceipt"), [])
		# income untouched in both books by the refund
		self.assertEqual((gl_income(COMPANY), qbo_income(self.bk)), (income_erp, income_qbo))
		self._pull()  # our journal entry and linking payment come back as echoes: nothing booked twice
		self.assertEqual(self._open(), [])
		self.assertEqual(frappe.db.count("Payment Entry", {"company": COMPANY, "party": acme, "docstatus": 1,
			"payment_type": "Receive"}), 0)
		result = self.engine.tie_out(self.realm_id)
		self.assertEqual([r.label for r in result.differences], [])
		self.assertEqual(result.unexplained_count, 0)
		qbo_balance = _money(self.bk.read("Customer", self.qbo_id(C.CUSTOMER, acme))["Balance"])
		erp_balance = {c.customer: c.erpnext for c in result.customers}.get(acme, ZERO)
		self.assertEqual(qbo_balance, _money(erp_balance))
		print("\n[issue-13 bench refund of a credit note]", {"credit memo balance": "0.00", "customer": (
			str(erp_balance), str(qbo_balance)), "income erpnext/qbo": (str(gl_income(COMPANY)), str(qbo_income(self.bk))),
			"unexplained": result.unexplained_count})

	def test_qbo_refund_receipt_comes_in_as_a_paid_out_credit_note(self):
		acme = "Acme Logistics"
		income_erp, income_qbo = gl_income(COMPANY), qbo_income(self.bk)
		cash_before = gl_balance(COMPANY, self.cash)
		rr = self.bk.create("RefundReceipt", {"CustomerRef": {"value": self.qbo_id(C.CUSTOMER, acme)},
			"TxnDate": nowdate(), "PaymentRefNum": "CHK 77", "DepositToAccountRef": {"value": self.checking},
			"Line": [{"Amount": Decimal("90.00"), "DetailType": "SalesItemLineDetail", "SalesItemLineDetail": {
				"ItemRef": {"value": self.qbo_id(C.ITEM, "Staffing Hours")}, "Qty": 2, "UnitPrice": Decimal("45.00")}}]})
		self._pull()
		self.assertEqual(self._open(), [])
		m = self.store.get_mapping_by_qbo(self.realm_id, "RefundReceipt", rr["Id"])
		self.assertIsNotNone(m)
		self.assertEqual(m.local_type, C.REFUND_RECEIPT)
		si = frappe.get_doc("Sales Invoice", m.local_id)
		self.assertEqual((si.is_return, si.docstatus, _money(si.grand_total), _money(si.outstanding_amount)),
			(1, 1, Decimal("-90.00"), ZERO))
		self.assertEqual([(it.item_code, it.qty, _money(it.rate)) for it in si.items], [("Staffing Hours", -2, Decimal("45.00"))])
		payout = frappe.get_all("Payment Entry Reference", filters={"reference_name": si.name, "docstatus": 1},
			pluck="parent")
		self.assertEqual(len(payout), 1)
		pe = frappe.get_doc("Payment Entry", payout[0])
		self.assertEqual((pe.payment_type, pe.paid_from, _money(pe.paid_amount), pe.reference_no),
			("Pay", self.cash, Decimal("90.00"), "CHK 77"))
		# income and the bank move by QuickBooks' amounts, in both books
		self.assertEqual(qbo_income(self.bk) - income_qbo, Decimal("-90.00"))
		self.assertEqual(gl_income(COMPANY) - income_erp, Decimal("-90.00"))
		self.assertEqual(gl_balance(COMPANY, self.cash) - cash_before, -_money(rr["TotalAmt"]))
		# the credit note is not sent back to QBO as a credit memo, and nothing is booked twice
		self.assertEqual(outbox_for("Sales Invoice", si.name, self.realm), [])
		self.assertIsNone(self.store.get_mapping(self.realm_id, C.CREDIT_MEMO, si.name))
		returns = frappe.db.count("Sales Invoice", {"company": COMPANY, "is_return": 1, "docstatus": 1})
		pushed = self.engine.push(self.realm_id)
		self.assertEqual(pushed.get("parked", 0), 0, pushed)
		self._pull()
		self.assertEqual(frappe.db.count("Sales Invoice", {"company": COMPANY, "is_return": 1, "docstatus": 1}), returns)
		self.assertEqual([x.local_id for x in self.store.list_mappings(self.realm_id, C.REFUND_RECEIPT)], [si.name])
		result = self.engine.tie_out(self.realm_id)
		self.assertEqual([r.label for r in result.differences], [])
		self.assertEqual(result.unexplained_count, 0)
		print("\n[issue-13 bench refund receipt]", {"income delta erpnext/qbo": (str(gl_income(COMPANY) - income_erp),
			str(qbo_income(self.bk) - income_qbo)), "cash delta": str(gl_balance(COMPANY, self.cash) - cash_before),
			"unexplained": result.unexplained_count})

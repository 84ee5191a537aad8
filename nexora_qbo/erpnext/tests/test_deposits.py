"""Issue 13 in the bench: bank deposits both ways on real ERPNext documents. A QBO Deposit of a payment (less a
bank fee) becomes a Bank Entry Journal Entry; a bookkeeper's Bank Entry that deposits a Payment Entry becomes a
QBO Deposit linking the QBO payment; ERPNext's general ledger then shows in Undeposited Funds, the bank and the
fee account exactly QBO's balances (the sandbox's Account.CurrentBalance), and the AR tie-out has no difference."""

from __future__ import annotations

from decimal import Decimal

import frappe
from frappe.tests.utils import FrappeTestCase
from frappe.utils import getdate, nowdate

from nexora_qbo.erpnext import constants as K
from nexora_qbo.erpnext.events import inbound
from nexora_qbo.erpnext.tests.utils import SandboxRealmCase
from nexora_qbo.sync import constants as C

COMPANY = "_Test NQB Deposits"
ABBR = "_TNQDP"


def _money(value) -> Decimal:
	return Decimal(str(value)).quantize(Decimal("0.01"))


def _account(name: str, parent: str, **values) -> str:
	full = f"{name} - {ABBR}"
	if not frappe.db.exists("Account", full):
		frappe.get_doc({"doctype": "Account", "account_name": name, "company": COMPANY,
			"parent_account": f"{parent} - {ABBR}", **values}).insert(ignore_permissions=True)
	return full


class TestDeposits(SandboxRealmCase, FrappeTestCase):
	COMPANY, ABBR, REALM_PREFIX, SANDBOX_NAME = COMPANY, ABBR, "9353", "Nexora Deposits (QBO sandbox)"

	def setUp(self):
		self.uf = _account("Undeposited Funds", "Current Assets", account_type="Cash")
		self.bank = _account("Checking", "Bank Accounts", account_type="Bank")
		self.fees = _account("Bank Fees", "Indirect Expenses", account_type="Expense Account")
		seeds = self.sb.seed_info(self.realm_id)["accounts"]
		self.q_uf, self.q_bank = seeds["Undeposited Funds"], seeds["Checking"]
		self.q_fees = self.bk.create("Account", {"Name": "Bank Service Charges", "AccountType": "Expense"})["Id"]
		realm = frappe.get_doc(K.REALM, self.realm)
		for local, qid in ((self.uf, self.q_uf), (self.bank, self.q_bank), (self.fees, self.q_fees)):
			realm.append("reference_maps", {"map_type": "Account", "local_value": local, "qbo_id": qid})
		realm.save(ignore_permissions=True)

	def _receive(self, si, account):
		from erpnext.accounts.doctype.payment_entry.payment_entry import get_payment_entry

		pe = get_payment_entry("Sales Invoice", si.name)
		pe.paid_to = account
		pe.reference_no, pe.reference_date = f"CHK-{si.name[-5:]}", nowdate()
		pe.insert()
		pe.submit()
		return pe

	def _balances(self):
		from nexora_qbo.erpnext.ledger import FrappeLedger

		gl = FrappeLedger(self.store).account_balances(COMPANY, [self.uf, self.bank, self.fees])
		qbo = {self.uf: _money(self.bk.read("Account", self.q_uf)["CurrentBalance"]),
			self.bank: _money(self.bk.read("Account", self.q_bank)["CurrentBalance"])}
		return gl, qbo

	def test_deposits_both_ways_leave_the_same_cash_in_the_same_accounts(self):
		with inbound():
			self.engine.initial_import(self.realm_id)
		acme = "Acme Logistics"
		pe1 = self._receive(self._invoice(acme, 20), self.uf)  # 900
		pe2 = self._receive(self._invoice(acme, 10), self.uf)  # 450
		pushed = self.engine.push(self.realm_id)
		self.assertEqual(pushed.get("parked", 0), 0, pushed)
		self.assertEqual(self.bk.read("Payment", self.qbo_id(C.PAYMENT, pe1.name))["DepositToAccountRef"]["value"], self.q_uf)
		# QBO -> ERPNext: the bookkeeper deposits the 900 to Checking, less a 12.50 bank fee
		dep = self.bk.create("Deposit", {"DepositToAccountRef": {"value": self.q_bank}, "TxnDate": nowdate(), "Line": [
			{"Amount": Decimal("900.00"), "LinkedTxn": [{"TxnId": self.qbo_id(C.PAYMENT, pe1.name), "TxnType": "Payment",
				"TxnLineId": "0"}]},
			{"Amount": Decimal("-12.50"), "DetailType": "DepositLineDetail", "DepositLineDetail": {"AccountRef": {
				"value": self.q_fees}}}]})
		with inbound():
			self.engine.pull(self.realm_id)
		m = self.store.get_mapping_by_qbo(self.realm_id, "Deposit", dep["Id"])
		self.assertIsNotNone(m, [c.reason for c in self.store.list_conflicts(self.realm_id, status=C.OPEN)])
		je = frappe.get_doc("Journal Entry", m.local_id)
		self.assertEqual((je.docstatus, je.voucher_type), (1, "Bank Entry"))
		self.assertEqual([(r.reference_type, r.reference_name) for r in je.accounts if r.reference_type],
			[("Payment Entry", pe1.name)])
		gl, qbo = self._balances()
		self.assertEqual(gl, {self.uf: Decimal("450.00"), self.bank: Decimal("887.50"), self.fees: Decimal("12.50")})
		self.assertEqual(qbo, {self.uf: gl[self.uf], self.bank: gl[self.bank]})
		# ERPNext -> QBO: the bookkeeper's own Bank Entry deposits the 450, less 5.00
		mine = frappe.get_doc({"doctype": "Journal Entry", "voucher_type": "Bank Entry", "company": COMPANY,
			"posting_date": getdate(nowdate()), "cheque_no": "DEP-2", "cheque_date": nowdate(), "accounts": [
				{"account": self.bank, "debit_in_account_currency": 445, "cost_center": f"Main - {ABBR}"},
				{"account": self.fees, "debit_in_account_currency": 5, "cost_center": f"Main - {ABBR}"},
				{"account": self.uf, "credit_in_account_currency": 450, "reference_type": "Payment Entry",
					"reference_name": pe2.name, "cost_center": f"Main - {ABBR}"}]}).insert()
		mine.submit()
		pushed = self.engine.push(self.realm_id)
		self.assertEqual(pushed.get("parked", 0), 0, [c.reason for c in self.store.list_conflicts(self.realm_id, status=C.OPEN)])
		q = self.bk.read("Deposit", self.qbo_id(C.DEPOSIT, mine.name))
		self.assertEqual(_money(q["TotalAmt"]), Decimal("445.00"))
		self.assertEqual([lt["TxnId"] for ln in q["Line"] for lt in ln.get("LinkedTxn") or []],
			[self.qbo_id(C.PAYMENT, pe2.name)])
		with inbound():
			self.engine.pull(self.realm_id)
		gl, qbo = self._balances()
		self.assertEqual(gl, {self.uf: Decimal("0.00"), self.bank: Decimal("1332.50"), self.fees: Decimal("17.50")})
		self.assertEqual(qbo, {self.uf: gl[self.uf], self.bank: gl[self.bank]})
		result = self.engine.tie_out(self.realm_id)
		self.assertEqual([r.label for r in result.differences], [])
		self.assertEqual([c.kind for c in self.store.list_conflicts(self.realm_id, status=C.OPEN)], [])
		print("\n[issue-13 bench deposits] GL", {k: str(v) for k, v in gl.items()}, "QBO", {k: str(v) for k, v in qbo.items()})

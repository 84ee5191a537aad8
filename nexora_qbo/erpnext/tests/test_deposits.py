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
	_ready = False

	def setUp(self):
		self.uf = _account("Undeposited Funds", "Current Assets", account_type="Cash")
		self.bank = _account("Checking", "Bank Accounts", account_type="Bank")
		self.fees = _account("Bank Fees", "Indirect Expenses", account_type="Expense Account")
		seeds = self.sb.seed_info(self.realm_id)["accounts"]
		self.q_uf, self.q_bank = seeds["Undeposited Funds"], seeds["Checking"]
		if TestDeposits._ready:
			self.q_fees = TestDeposits._q_fees
			return
		self.q_fees = TestDeposits._q_fees = self.bk.create("Account", {"Name": "Bank Service Charges",
			"AccountType": "Expense"})["Id"]
		self._map(self.uf, self.q_uf)
		self._map(self.bank, self.q_bank)
		self._map(self.fees, self.q_fees)
		with inbound():
			self.engine.initial_import(self.realm_id)
		TestDeposits._ready = True

	def _map(self, local, qid):
		realm = frappe.get_doc(K.REALM, self.realm)
		realm.append("reference_maps", {"map_type": "Account", "local_value": local, "qbo_id": qid})
		realm.save(ignore_permissions=True)

	def _receive(self, si, account, amount=None):
		from erpnext.accounts.doctype.payment_entry.payment_entry import get_payment_entry

		pe = get_payment_entry("Sales Invoice", si.name, party_amount=amount)
		pe.paid_to = account
		pe.reference_no, pe.reference_date = f"CHK-{si.name[-5:]}", nowdate()
		pe.insert()
		pe.submit()
		return pe

	def _deposit(self, payments, net, fee, ref="DEP"):
		"""The bookkeeper's own Bank Entry: Dr bank net, Dr fee, Cr Undeposited Funds per payment deposited."""
		rows = [{"account": self.bank, "debit_in_account_currency": net, "cost_center": f"Main - {ABBR}"}]
		if fee:
			rows.append({"account": self.fees, "debit_in_account_currency": fee, "cost_center": f"Main - {ABBR}"})
		rows += [{"account": self.uf, "credit_in_account_currency": pe.paid_amount, "reference_type": "Payment Entry",
			"reference_name": pe.name, "cost_center": f"Main - {ABBR}"} for pe in payments]
		je = frappe.get_doc({"doctype": "Journal Entry", "voucher_type": "Bank Entry", "company": COMPANY,
			"posting_date": getdate(nowdate()), "cheque_no": ref, "cheque_date": nowdate(), "accounts": rows}).insert()
		je.submit()
		return je

	def _balances(self, extra=()):
		"""(ERPNext GL, QBO CurrentBalance) of Undeposited Funds, the bank, the fee account (GL only: the sandbox
		models CurrentBalance for balance-sheet accounts) and `extra` (local, qbo id) pairs."""
		from nexora_qbo.erpnext.ledger import FrappeLedger

		pairs = [(self.uf, self.q_uf), (self.bank, self.q_bank), *extra]
		gl = FrappeLedger(self.store).account_balances(COMPANY, [self.fees] + [a for a, _ in pairs])
		qbo = {a: _money(self.bk.read("Account", q)["CurrentBalance"]) for a, q in pairs}
		return gl, qbo

	def _receivables(self, invoices, customer):
		"""ERPNext's and QBO's open amounts of each invoice and of the customer."""
		from erpnext.accounts.utils import get_balance_on

		here = {si.name: _money(frappe.db.get_value("Sales Invoice", si.name, "outstanding_amount")) for si in invoices}
		here[customer] = _money(get_balance_on(party_type="Customer", party=customer, company=COMPANY))
		qbo = {si.name: _money(self.bk.read("Invoice", self.qbo_id(C.INVOICE, si.name))["Balance"]) for si in invoices}
		qbo[customer] = _money(self.bk.read("Customer", self.qbo_id(C.CUSTOMER, customer))["Balance"])
		return here, qbo

	def _open_reasons(self):
		return [c.reason for c in self.store.list_conflicts(self.realm_id, status=C.OPEN)]

	def _moved(self, before, after):
		return {a: after[a] - before.get(a, Decimal("0.00")) for a in after}

	def test_deposits_both_ways_leave_the_same_cash_in_the_same_accounts(self):
		acme = "Acme Logistics"
		gl0, _ = self._balances()
		si1, si2 = self._invoice(acme, 20), self._invoice(acme, 10)  # 900, 450
		pe1 = self._receive(si1, self.uf)  # 900: si1 paid
		pe2 = self._receive(si2, self.uf, amount=300)  # a short-pay: si2 keeps 150 open
		pushed = self.engine.push(self.realm_id)
		self.assertEqual(pushed.get("parked", 0), 0, self._open_reasons())
		self.assertEqual(self.bk.read("Payment", self.qbo_id(C.PAYMENT, pe1.name))["DepositToAccountRef"]["value"], self.q_uf)
		ar_before = self._receivables([si1, si2], acme)
		self.assertEqual(ar_before[0], ar_before[1])
		self.assertEqual((ar_before[0][si1.name], ar_before[0][si2.name]), (Decimal("0.00"), Decimal("150.00")))
		# QBO -> ERPNext: the bookkeeper deposits the 900 to Checking, less a 12.50 bank fee
		dep = self.bk.create("Deposit", {"DepositToAccountRef": {"value": self.q_bank}, "TxnDate": nowdate(), "Line": [
			{"Amount": Decimal("900.00"), "LinkedTxn": [{"TxnId": self.qbo_id(C.PAYMENT, pe1.name), "TxnType": "Payment",
				"TxnLineId": "0"}]},
			{"Amount": Decimal("-12.50"), "DetailType": "DepositLineDetail", "DepositLineDetail": {"AccountRef": {
				"value": self.q_fees}}}]})
		with inbound():
			self.engine.pull(self.realm_id)
		m = self.store.get_mapping_by_qbo(self.realm_id, "Deposit", dep["Id"])
		self.assertIsNotNone(m, self._open_reasons())
		je = frappe.get_doc("Journal Entry", m.local_id)
		self.assertEqual((je.docstatus, je.voucher_type), (1, "Bank Entry"))
		self.assertEqual([(r.reference_type, r.reference_name) for r in je.accounts if r.reference_type],
			[("Payment Entry", pe1.name)])
		gl, qbo = self._balances()
		self.assertEqual(self._moved(gl0, gl), {self.uf: Decimal("300.00"), self.bank: Decimal("887.50"),
			self.fees: Decimal("12.50")})
		self.assertEqual(qbo, {self.uf: gl[self.uf], self.bank: gl[self.bank]})
		# the deposit moved cash only: no invoice's outstanding, no customer's balance, in either book
		self.assertEqual(self._receivables([si1, si2], acme), ar_before)
		# ERPNext -> QBO: the bookkeeper's own Bank Entry deposits the 300, less 5.00
		mine = self._deposit([pe2], 295, 5, ref="DEP-2")
		pushed = self.engine.push(self.realm_id)
		self.assertEqual(pushed.get("parked", 0), 0, self._open_reasons())
		q = self.bk.read("Deposit", self.qbo_id(C.DEPOSIT, mine.name))
		self.assertEqual(_money(q["TotalAmt"]), Decimal("295.00"))
		self.assertEqual([lt["TxnId"] for ln in q["Line"] for lt in ln.get("LinkedTxn") or []],
			[self.qbo_id(C.PAYMENT, pe2.name)])
		with inbound():
			self.engine.pull(self.realm_id)
		gl, qbo = self._balances()
		self.assertEqual(self._moved(gl0, gl), {self.uf: Decimal("0.00"), self.bank: Decimal("1182.50"),
			self.fees: Decimal("17.50")})
		self.assertEqual(qbo, {self.uf: gl[self.uf], self.bank: gl[self.bank]})
		self.assertEqual(self._receivables([si1, si2], acme), ar_before)
		result = self.engine.tie_out(self.realm_id)
		self.assertEqual([r.label for r in result.differences], [])
		rows = {r.local_id: (r.erpnext, r.qbo) for r in result.documents}
		self.assertEqual(rows.get(si2.name), (Decimal("150.00"), Decimal("150.00")), rows)
		self.assertIn(acme, {c.customer for c in result.customers})
		self.assertEqual(self._open_reasons(), [])
		print("\n[issue-13 bench deposits] GL", {k: str(v) for k, v in gl.items()}, "QBO", {k: str(v) for k, v in qbo.items()},
			"AR (ERPNext, QBO)", {k: str(v) for k, v in ar_before[0].items()}, {k: str(v) for k, v in ar_before[1].items()})

	def test_a_deposited_payment_is_not_cancelled_before_its_deposit(self):
		"""As QBO refuses to void a payment in a deposit; also with ERPNext's "Unlink Payment on Cancellation of
		Invoice" on, which would otherwise strip the reference and leave the deposit moving money never received."""
		si = self._invoice("Acme Logistics", 4)  # 180
		pe = self._receive(si, self.uf)
		dep = self._deposit([pe], 180, 0, ref="DEP-G")
		for unlink in (0, 1):
			frappe.db.set_single_value("Accounts Settings", "unlink_payment_on_cancellation_of_invoice", unlink)
			frappe.db.savepoint("before_cancel")
			with self.assertRaises(frappe.ValidationError) as caught:
				frappe.get_doc("Payment Entry", pe.name).cancel()
			frappe.db.rollback(save_point="before_cancel")
			self.assertIn(f"This payment is in bank deposit {dep.name}; cancel the deposit first", str(caught.exception))
			self.assertEqual(frappe.db.get_value("Payment Entry", pe.name, "docstatus"), 1)
			self.assertEqual(frappe.db.get_value("Journal Entry Account", {"parent": dep.name,
				"reference_type": "Payment Entry"}, "reference_name"), pe.name)
		frappe.get_doc("Journal Entry", dep.name).cancel()
		frappe.get_doc("Payment Entry", pe.name).cancel()
		self.assertEqual(frappe.db.get_value("Payment Entry", pe.name, "docstatus"), 2)
		pushed = self.engine.push(self.realm_id)  # what this left in the outbox syncs without a review item
		self.assertEqual(pushed.get("parked", 0), 0, self._open_reasons())

	def test_payment_into_an_unmapped_account_waits_for_its_mapping(self):
		"""Not sent to QBO's default (Undeposited Funds) while ERPNext holds the money elsewhere: one review item
		names the account; mapped, "Retry" sends it to that account and both books show the same cash there."""
		petty = _account("Petty Cash", "Bank Accounts", account_type="Bank")
		si = self._invoice("Acme Logistics", 2)  # 90
		self.engine.push(self.realm_id)
		gl0, qbo0 = self._balances()
		pe = self._receive(si, petty)
		pushed = self.engine.push(self.realm_id)
		self.assertEqual(pushed.get("parked", 0), 1, pushed)
		items = [c for c in self.store.list_conflicts(self.realm_id, status=C.OPEN) if c.local_id == pe.name]
		self.assertEqual(len(items), 1, self._open_reasons())
		self.assertIn(f"ERPNext account \u201c{petty}\u201d", items[0].reason)
		self.assertIn(C.ACTION_LABELS[C.ACTION_RETRY], items[0].reason)
		self.assertIsNone(self.store.get_mapping(self.realm_id, C.PAYMENT, pe.name))
		self.assertEqual(self._balances()[1], qbo0)  # nothing landed in QBO's Undeposited Funds
		q_petty = self.bk.create("Account", {"Name": "Petty Cash", "AccountType": "Bank"})["Id"]
		self._map(petty, q_petty)
		self.engine.resolve_conflict(items[0].id, C.ACTION_RETRY, by="Administrator")
		pushed = self.engine.push(self.realm_id)
		self.assertEqual(pushed.get("parked", 0), 0, self._open_reasons())
		self.assertEqual(self.bk.read("Payment", self.qbo_id(C.PAYMENT, pe.name))["DepositToAccountRef"]["value"], q_petty)
		gl, qbo = self._balances(extra=[(petty, q_petty)])
		self.assertEqual(self._moved(gl0, gl), {self.uf: Decimal("0.00"), self.bank: Decimal("0.00"),
			self.fees: Decimal("0.00"), petty: Decimal("90.00")})
		self.assertEqual(qbo, {a: gl[a] for a in qbo})
		self.assertEqual([r.label for r in self.engine.tie_out(self.realm_id).differences], [])
		# the other way: a QBO payment deposited to a QBO account the realm does not map is not booked in the
		# realm's Payment Account (ERPNext would hold the money in another account than QBO)
		q_savings = self.bk.create("Account", {"Name": "Savings", "AccountType": "Bank"})["Id"]
		si2 = self._invoice("Acme Logistics", 1)  # 45
		self.engine.push(self.realm_id)
		qp = self.bk.create("Payment", {"CustomerRef": {"value": self.qbo_id(C.CUSTOMER, "Acme Logistics")},
			"TotalAmt": Decimal("45.00"), "TxnDate": nowdate(), "DepositToAccountRef": {"value": q_savings},
			"Line": [{"Amount": Decimal("45.00"), "LinkedTxn": [{"TxnId": self.qbo_id(C.INVOICE, si2.name),
				"TxnType": "Invoice"}]}]})
		with inbound():
			self.engine.pull(self.realm_id)
		self.assertIsNone(self.store.get_mapping_by_qbo(self.realm_id, "Payment", qp["Id"]))
		items = [c for c in self.store.list_conflicts(self.realm_id, status=C.OPEN) if c.qbo_id == str(qp["Id"])]
		self.assertEqual(len(items), 1, self._open_reasons())
		self.assertIn(f"its account {q_savings}, which is not mapped", items[0].reason)
		savings = _account("Savings", "Bank Accounts", account_type="Bank")
		self._map(savings, q_savings)
		with inbound():
			self.engine.resolve_conflict(items[0].id, C.ACTION_RETRY, by="Administrator")
		m = self.store.get_mapping_by_qbo(self.realm_id, "Payment", qp["Id"])
		self.assertIsNotNone(m, self._open_reasons())
		self.assertEqual(frappe.db.get_value("Payment Entry", m.local_id, "paid_to"), savings)
		gl, qbo = self._balances(extra=[(petty, q_petty), (savings, q_savings)])
		self.assertEqual((gl[savings], qbo), (Decimal("45.00"), {a: gl[a] for a in qbo}))
		self.assertEqual([r.label for r in self.engine.tie_out(self.realm_id).differences], [])

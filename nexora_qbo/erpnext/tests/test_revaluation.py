"""The AR tie-out after an ERPNext Exchange Rate Revaluation (issue 7, "a currency revaluation" as a cause).

ERPNext revalues a foreign-currency receivable per account and party: the revaluation's Journal Entry has two
rows per customer (its balance at the new rate, the same balance at the old one) referencing the Exchange Rate
Revaluation, never an invoice. So no invoice's outstanding x conversion_rate shows it; only the GL base amounts
on the receivable account, party-wise, do. QBO keeps the document's rate. Played on a real EUR Sales Invoice
pushed to a multicurrency sandbox realm over real HTTP and a real Exchange Rate Revaluation with its Journal
Entry: the customer's home-currency figure (and the total) follow ERPNext's ledger, and the difference is
explained as "currency revaluation", never unexplained.
"""

from __future__ import annotations

import secrets
from decimal import Decimal

import frappe
from frappe.tests.utils import FrappeTestCase
from frappe.utils import add_days, flt, getdate, nowdate

from nexora_qbo.erpnext.events import inbound
from nexora_qbo.erpnext.ledger import FrappeLedger
from nexora_qbo.erpnext.mappers import mark_origin
from nexora_qbo.erpnext.tests.utils import connect_to_sandbox, ensure_company, purge_committed_audit
from nexora_qbo.sync import constants as C
from nexora_qbo.sync.tieout import format_tie_out

COMPANY = "_Test NQB Revaluation"
ABBR = "_TNQRV"
EUR_CUSTOMER = "Rhein Personal GmbH"  # seeded in the sandbox under multicurrency, CurrencyRef EUR
RATE = Decimal("1.0900")  # the invoice's conversion_rate (USD per EUR), pushed as its ExchangeRate
NEW_RATE = Decimal("1.1200")  # the month-end rate ERPNext revalues at


def _money(value) -> Decimal:
	return Decimal(str(value or 0)).quantize(Decimal("0.01"))


class TestRevaluationTieOut(FrappeTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		from nexora_qbo.sandbox.server import SandboxServer

		ensure_company(COMPANY, ABBR)
		cls.today = getdate(nowdate())
		company = frappe.get_doc("Company", COMPANY)
		if not company.unrealized_exchange_gain_loss_account:
			company.unrealized_exchange_gain_loss_account = company.exchange_gain_loss_account
			company.save()
		cls.debtors_eur = cls._eur_receivable()
		cls.sb = SandboxServer(seed=29)
		realm_id = "9352" + "".join(secrets.choice("0123456789") for _ in range(11))
		cls.realm_id = cls.sb.create_realm(
			company_name="Nexora Revaluation (QBO sandbox)", realm_id=realm_id, multicurrency=True
		)
		cls.sb.set_options(cls.realm_id, per_second=40, per_minute=2000)
		cls.realm, cls.store, cls.engine = connect_to_sandbox(cls.sb, COMPANY, cls.realm_id)
		with inbound():
			cls.engine.initial_import(cls.realm_id)
		cust = frappe.get_doc("Customer", EUR_CUSTOMER)
		if not any(a.company == COMPANY for a in cust.accounts):
			cust.append("accounts", {"company": COMPANY, "account": cls.debtors_eur})
			mark_origin(cust)  # a bookkeeping setting of ERPNext's, nothing to send to QBO
			cust.save()

	@classmethod
	def tearDownClass(cls):
		cls.sb.stop()
		purge_committed_audit([cls.realm])
		super().tearDownClass()

	@staticmethod
	def _eur_receivable() -> str:
		name = f"Debtors EUR - {ABBR}"
		if not frappe.db.exists("Account", name):
			parent = frappe.db.get_value(
				"Account", {"company": COMPANY, "account_name": "Accounts Receivable", "is_group": 1}, "name"
			)
			frappe.get_doc({"doctype": "Account", "account_name": "Debtors EUR", "parent_account": parent,
				"company": COMPANY, "account_type": "Receivable", "account_currency": "EUR"}).insert(
				ignore_permissions=True)
		return name

	def eur_invoice(self, qty, rate):
		si = frappe.get_doc({
			"doctype": "Sales Invoice",
			"company": COMPANY,
			"customer": EUR_CUSTOMER,
			"posting_date": self.today,
			"due_date": add_days(self.today, 30),
			"currency": "EUR",
			"conversion_rate": float(RATE),
			"debit_to": self.debtors_eur,
			"disable_rounded_total": 1,
			"items": [{"item_code": "Staffing Hours", "qty": qty, "rate": rate, "income_account": f"Sales - {ABBR}",
				"cost_center": f"Main - {ABBR}"}],
		}).insert()
		si.submit()
		return si

	def revalue(self, new_rate: Decimal):
		"""ERPNext's month-end revaluation, as the form does it: fetch the accounts, set the new rate, submit,
		then make and submit its Journal Entry."""
		err = frappe.new_doc("Exchange Rate Revaluation")
		err.company = COMPANY
		err.posting_date = self.today
		err.extend("accounts", [a for a in err.get_accounts_data() if a.get("account") == self.debtors_eur])
		self.assertTrue(err.accounts, "the EUR receivable has nothing to revalue")
		for row in err.accounts:
			row.new_exchange_rate = float(new_rate)
			row.new_balance_in_base_currency = flt(row.new_exchange_rate * flt(row.balance_in_account_currency), 2)
			row.gain_loss = row.new_balance_in_base_currency - flt(row.balance_in_base_currency)
		err.set_total_gain_loss()
		err.save().submit()
		journals = err.make_jv_entries()
		je = frappe.get_doc("Journal Entry", journals.get("revaluation_jv"))
		je.submit()
		return je

	def test_a_revaluation_in_erpnext_is_the_cause_per_customer_and_in_total(self):
		si = self.eur_invoice(10, 120)  # EUR 1200.00 at 1.09 = USD 1308.00
		self.engine.push(self.realm_id)
		m = self.store.get_mapping(self.realm_id, C.INVOICE, si.name)
		self.assertIsNotNone(m)
		before = self.engine.tie_out(self.realm_id, self.today)
		self.assertEqual(before.differences, [], format_tie_out(before))
		self.assertEqual(before.totals()["home"]["erpnext"], before.totals()["home"]["qbo"])

		je = self.revalue(NEW_RATE)
		# ERPNext booked it per party on the receivable, referencing the revaluation, not the invoice
		party_rows = [a for a in je.accounts if a.account == self.debtors_eur]
		self.assertTrue(party_rows and all(a.party == EUR_CUSTOMER for a in party_rows))
		self.assertTrue(all(a.reference_type == "Exchange Rate Revaluation" for a in party_rows))
		self.assertEqual(_money(frappe.db.get_value("Sales Invoice", si.name, "outstanding_amount")),
			Decimal("1200.00"))  # the document is untouched
		gain = _money(Decimal("1200.00") * NEW_RATE) - _money(Decimal("1200.00") * RATE)  # 36.00
		ledger_home = FrappeLedger(self.store).receivable_home_balances(COMPANY)
		self.assertEqual(ledger_home[EUR_CUSTOMER], Decimal("1344.00"))

		result = self.engine.tie_out(self.realm_id, self.today)
		text = format_tie_out(result)
		print(f"\n{text}")
		[cust] = [c for c in result.customers if c.customer == EUR_CUSTOMER]
		self.assertEqual((cust.erpnext, cust.qbo), (Decimal("1200.00"), Decimal("1200.00")))
		self.assertEqual((cust.erpnext_home, cust.qbo_home), (Decimal("1344.00"), Decimal("1308.00")))
		self.assertEqual(cust.difference_home, gain)
		self.assertEqual(cust.cause, C.CAUSE_REVALUATION, text)
		self.assertIn("revaluation", cust.explanation)
		self.assertIn("No action is needed", cust.explanation)
		totals = result.totals()
		self.assertEqual(totals["home"]["difference"], gain)
		self.assertEqual(totals["by_currency"]["EUR"]["difference"], Decimal("0.00"))
		self.assertEqual(result.unexplained_count, 0, text)
		self.assertEqual([c for c in self.store.list_conflicts(self.realm_id, status=C.OPEN)
			if c.kind == C.UNEXPLAINED_DIFFERENCE], [])

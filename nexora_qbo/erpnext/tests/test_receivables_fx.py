"""Issue 13 in the bench, foreign currency: one exchange-rate source per realm, the realized exchange gain the
same in both books, home amounts to the cent (a rounding cent shown with its cause, never silently equal).

Played on real ERPNext documents (an EUR customer on an EUR receivable of the test company, Currency Exchange
rows, Sales Invoices, Payment Entries with their exchange gain/loss journals) against a multicurrency sandbox
realm over real HTTP. QuickBooks' realized gain is read from the sandbox's books
(GET /_sandbox/realms/<id>/exchangegains); ERPNext's from the GL of the company's exchange gain/loss account.

- ERPNext as the rate source: the Currency Exchange rows of the invoice day (1.08) and the payment day (1.10)
  reach QuickBooks' rate table; an ERPNext Payment Entry at 1.10 goes out with its rate, and a payment the
  bookkeeper records in QuickBooks without typing a rate takes 1.10 too (only because the rate was sent).
- QuickBooks as the rate source: a QBO-born EUR invoice and payment come in at QuickBooks' rates, which become
  Currency Exchange rows; an ERPNext invoice typed at another rate goes out at its own rate with an
  informational review item naming both rates.
"""

from __future__ import annotations

from decimal import Decimal

import frappe
from frappe.tests.utils import FrappeTestCase
from frappe.utils import add_days, getdate, nowdate

from nexora_qbo.erpnext.events import inbound
from nexora_qbo.erpnext.ledger import FrappeLedger
from nexora_qbo.erpnext.mappers import mark_origin
from nexora_qbo.erpnext.tests.utils import SandboxRealmCase
from nexora_qbo.sync import constants as C
from nexora_qbo.sync.tieout import format_tie_out

EUR_CUSTOMER = "Rhein Personal GmbH"  # seeded in the sandbox under multicurrency, CurrencyRef EUR
INVOICE_RATE, PAYMENT_RATE = Decimal("1.08"), Decimal("1.10")  # USD per EUR on the invoice and payment days


def _money(value) -> Decimal:
	return Decimal(str(value or 0)).quantize(Decimal("0.01"))


def _rate(value) -> Decimal:
	return Decimal(str(value)).normalize()


class _FxRealmCase(SandboxRealmCase):
	"""A company with an EUR receivable, connected to its own multicurrency sandbox realm with RATE_SOURCE."""

	COMPANY = ABBR = RATE_SOURCE = SANDBOX_NAME = REALM_PREFIX = None
	SEED = 31
	REALM_OPTIONS = {"multicurrency": True}

	@classmethod
	def realm_values(cls) -> dict:
		return {"rate_source": cls.RATE_SOURCE}

	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		cls.today = getdate(nowdate())
		cls.invoice_day = getdate(add_days(cls.today, -6))
		cls.payment_day = cls.today
		cls.debtors_eur = cls._eur_receivable()
		cls.prepare_rates()
		with inbound():
			cls.engine.initial_import(cls.realm_id)
		cust = frappe.get_doc("Customer", EUR_CUSTOMER)
		if not any(a.company == cls.COMPANY for a in cust.accounts):
			cust.append("accounts", {"company": cls.COMPANY, "account": cls.debtors_eur})
			mark_origin(cust)  # a bookkeeping setting of ERPNext's, nothing to send to QBO
			cust.save()
		with inbound():  # the first pull settles the rate source (sync/exchange_rates.py)
			cls.settled = cls.engine.pull(cls.realm_id)

	@classmethod
	def prepare_rates(cls):
		raise NotImplementedError

	@classmethod
	def _eur_receivable(cls) -> str:
		name = f"Debtors EUR - {cls.ABBR}"
		if not frappe.db.exists("Account", name):
			parent = frappe.db.get_value(
				"Account", {"company": cls.COMPANY, "account_name": "Accounts Receivable", "is_group": 1}, "name"
			)
			frappe.get_doc({"doctype": "Account", "account_name": "Debtors EUR", "parent_account": parent,
				"company": cls.COMPANY, "account_type": "Receivable", "account_currency": "EUR"}).insert(
				ignore_permissions=True)
		return name

	@staticmethod
	def currency_exchange(day, rate) -> None:
		frappe.get_doc({"doctype": "Currency Exchange", "date": day, "from_currency": "EUR", "to_currency": "USD",
			"exchange_rate": float(rate), "for_selling": 1, "for_buying": 1}).insert(ignore_permissions=True)

	@staticmethod
	def erpnext_rate(day):
		value = frappe.db.get_value("Currency Exchange", {"from_currency": "EUR", "to_currency": "USD", "date": day},
			"exchange_rate")
		return _rate(value) if value is not None else None

	def pull(self):
		with inbound():
			self.engine.pull(self.realm_id)
			self.engine.pull(self.realm_id)

	def push(self):
		counts = self.engine.push(self.realm_id)
		self.assertEqual(counts.get("parked", 0), 0, (counts, self.open_items()))
		return counts

	def open_items(self):
		return [(c.kind, c.local_id, c.reason) for c in self.store.list_conflicts(self.realm_id, status=C.OPEN)]

	def local_of(self, entity, qbo_id):
		m = self.store.get_mapping_by_qbo(self.realm_id, entity, qbo_id)
		self.assertIsNotNone(m, f"QBO {entity} {qbo_id} was not imported: {self.open_items()}")
		return m.local_id

	def eur_invoice(self, items, day, rate=None):
		doc = {
			"doctype": "Sales Invoice", "company": self.COMPANY, "customer": EUR_CUSTOMER, "posting_date": day,
			"set_posting_time": 1, "due_date": add_days(day, 30), "currency": "EUR", "debit_to": self.debtors_eur,
			"disable_rounded_total": 1,
			"items": [{"income_account": f"Sales - {self.ABBR}", "cost_center": f"Main - {self.ABBR}", **it}
				for it in items],
		}
		if rate is not None:
			doc["conversion_rate"] = float(rate)
		si = frappe.get_doc(doc).insert()
		si.submit()
		return si

	def qbo_gains(self) -> dict:
		return {p["Id"]: _money(p["ExchangeGainLoss"]) for p in self.bk.exchange_gains()["Payments"]}

	def erpnext_gain_gl(self) -> Decimal:
		"""ERPNext's realized gain as its GL carries it: credit - debit on the company's exchange gain/loss
		account (the Payment Entries' exchange gain/loss journals)."""
		account = frappe.get_cached_value("Company", self.COMPANY, "exchange_gain_loss_account")
		self.assertTrue(account, "the test company has no exchange gain/loss account")
		rows = frappe.get_all("GL Entry", filters={"company": self.COMPANY, "account": account, "is_cancelled": 0},
			fields=["debit", "credit"])
		return _money(sum((_money(r.credit) - _money(r.debit) for r in rows), Decimal(0)))

	def assert_gains_agree(self, pe_name: str, expected: Decimal) -> None:
		ours = FrappeLedger(self.store).exchange_gain_loss(self.COMPANY, pe_name)
		theirs = self.qbo_gains()[self.qbo_id(C.PAYMENT, pe_name)]
		pe = frappe.get_doc("Payment Entry", pe_name)
		detail = ([(r.reference_name, r.exchange_rate, r.allocated_amount, r.exchange_gain_loss) for r in pe.references],
			[(d.account, d.amount) for d in pe.deductions], pe.base_paid_amount, pe.base_received_amount)
		self.assertEqual((ours, theirs), (expected, expected), (detail, self.bk.exchange_gains()))

	def assert_ties(self, names, customer_eur: Decimal, customer_usd: Decimal):
		result = self.engine.tie_out(self.realm_id)
		text = format_tie_out(result)
		rows = {r.local_id: r for r in result.documents if r.local_id in names}
		for name in names:
			if name in rows:  # a document open in either book is listed; it must agree in EUR and in USD
				r = rows[name]
				self.assertEqual((r.difference, r.difference_home), (0, 0), text)
		[cust] = [c for c in result.customers if c.customer == EUR_CUSTOMER]
		self.assertEqual((cust.erpnext, cust.qbo, cust.erpnext_home, cust.qbo_home),
			(customer_eur, customer_eur, customer_usd, customer_usd), text)
		self.assertEqual(result.unexplained_count, 0, text)
		print(f"\n[issue-13 bench FX tie-out, rate source {self.RATE_SOURCE}]\n{text}")
		return result


class TestFxErpnextRateSource(_FxRealmCase, FrappeTestCase):
	COMPANY, ABBR = "_Test NQB FX ERPNext", "_TNQFE"
	RATE_SOURCE = "ERPNext Currency Exchange (sent to QuickBooks)"
	SANDBOX_NAME, REALM_PREFIX = "Nexora FX ERPNext (QBO sandbox)", "9371"

	@classmethod
	def prepare_rates(cls):
		cls.currency_exchange(cls.invoice_day, INVOICE_RATE)
		cls.currency_exchange(cls.payment_day, PAYMENT_RATE)

	def test_a_rates_reach_quickbooks_and_both_books_realize_the_same_gain(self):
		from erpnext.accounts.doctype.payment_entry.payment_entry import get_payment_entry
		from erpnext.setup.utils import get_exchange_rate

		# the first pull sent ERPNext's rates to QuickBooks' rate table
		self.assertGreaterEqual(self.settled.get("rates_sent", 0), 2, self.settled)
		for day, rate in ((self.invoice_day, INVOICE_RATE), (self.payment_day, PAYMENT_RATE)):
			got = self.bk._call("GET", "/exchangerate", params={"sourcecurrencycode": "EUR", "asofdate": str(day)})
			self.assertEqual(_rate(got["ExchangeRate"]["Rate"]), rate, day)
		line = lambda qty: [{"item_code": "Staffing Hours", "qty": qty, "rate": 45}]  # noqa: E731
		si1 = self.eur_invoice(line(20), self.invoice_day)  # EUR 900 at 1.08 (Currency Exchange) = USD 972
		si2 = self.eur_invoice(line(10), self.invoice_day)  # EUR 450 = USD 486
		self.assertEqual((_rate(si1.conversion_rate), _money(si1.base_grand_total)), (INVOICE_RATE, Decimal("972.00")))
		self.push()
		q1 = self.bk.read("Invoice", self.qbo_id(C.INVOICE, si1.name))
		self.assertEqual((_rate(q1["ExchangeRate"]), _money(q1["HomeTotalAmt"])), (INVOICE_RATE, Decimal("972.00")))
		# a real Payment Entry today for si1 in full; ERPNext proposes the invoice's rate and, as the form does when
		# the posting date is set, takes the day's rate from its Currency Exchange (get_exchange_rate): 1.10
		pe = get_payment_entry("Sales Invoice", si1.name)
		day_rate = get_exchange_rate("EUR", "USD", pe.posting_date)
		self.assertEqual((pe.paid_from, _rate(day_rate)), (self.debtors_eur, PAYMENT_RATE))
		pe.source_exchange_rate = day_rate
		pe.received_amount = float(_money(Decimal(str(pe.paid_amount)) * PAYMENT_RATE))  # paid to a USD account
		pe.reference_no, pe.reference_date = "SEPA-FX-1", self.payment_day
		pe.insert()
		pe.submit()
		self.assertEqual([_money(r.exchange_gain_loss) for r in pe.references], [Decimal("18.00")])  # 900 x 0.02
		self.push()
		qp = self.bk.read("Payment", self.qbo_id(C.PAYMENT, pe.name))
		self.assertEqual((_rate(qp["ExchangeRate"]), _money(qp["HomeTotalAmt"])), (PAYMENT_RATE, Decimal("990.00")))
		self.assert_gains_agree(pe.name, Decimal("18.00"))
		# the bookkeeper records 300 of si2 in QuickBooks, typing no rate: QuickBooks uses its rate of the day,
		# which is ERPNext's 1.10 only because the rate source sent it
		paid = self.bk.create("Payment", {"CustomerRef": {"value": self.qbo_id(C.CUSTOMER, EUR_CUSTOMER)},
			"TotalAmt": Decimal("300.00"), "TxnDate": str(self.payment_day), "Line": [{"Amount": Decimal("300.00"),
				"LinkedTxn": [{"TxnId": self.qbo_id(C.INVOICE, si2.name), "TxnType": "Invoice"}]}]})
		self.assertEqual(_rate(paid["ExchangeRate"]), PAYMENT_RATE)
		self.pull()
		pe2 = frappe.get_doc("Payment Entry", self.local_of("Payment", paid["Id"]))
		self.assertEqual((pe2.docstatus, _rate(pe2.source_exchange_rate)), (1, PAYMENT_RATE))
		self.assert_gains_agree(pe2.name, Decimal("6.00"))
		# ERPNext's GL (its exchange gain/loss journals) and QuickBooks' books: 24.00 each, to the cent
		qbo_total = _money(self.bk.exchange_gains()["Total"])
		erpnext_total = self.erpnext_gain_gl()
		print(f"\n[issue-13 bench realized gain, ERPNext rate source] ERPNext GL {erpnext_total}, QuickBooks {qbo_total}")
		self.assertEqual((erpnext_total, qbo_total), (Decimal("24.00"), Decimal("24.00")))
		# both books: EUR 150 open on si2, USD 162 (at its 1.08)
		self.assert_ties([si1.name, si2.name], Decimal("150.00"), Decimal("162.00"))
		self.assertEqual(self.open_items(), [])

	def test_b_home_rounding_per_line_is_shown_with_its_cause(self):
		"""ERPNext adds each line's rounded home amount (1674.12 + 237.72 = 1911.84); QuickBooks rounds
		TotalAmt x ExchangeRate once (1748.04 x 1.0937 = 1911.83): the cent is on the tie-out with its cause."""
		si = self.eur_invoice([{"item_code": "Staffing Hours", "qty": 37, "rate": 41.37},
			{"item_code": "Overtime Hours", "qty": 3.5, "rate": 62.10}], self.today, rate="1.0937")
		self.assertEqual((_money(si.grand_total), _money(si.base_grand_total)), (Decimal("1748.04"), Decimal("1911.84")))
		self.push()
		q = self.bk.read("Invoice", self.qbo_id(C.INVOICE, si.name))
		self.assertEqual((_money(q["TotalAmt"]), _money(q["HomeTotalAmt"])), (Decimal("1748.04"), Decimal("1911.83")))
		result = self.engine.tie_out(self.realm_id)
		text = format_tie_out(result)
		print(f"\n[issue-13 bench home rounding]\n{text}")
		row = next(r for r in result.documents if r.local_id == si.name)
		self.assertEqual((row.erpnext, row.qbo, row.erpnext_home, row.qbo_home),
			(Decimal("1748.04"), Decimal("1748.04"), Decimal("1911.84"), Decimal("1911.83")), text)
		self.assertEqual(row.cause, C.CAUSE_HOME_ROUNDING, text)
		self.assertIn("0.01", row.explanation)
		self.assertEqual(result.unexplained_count, 0, text)


class TestFxQboRateSource(_FxRealmCase, FrappeTestCase):
	COMPANY, ABBR = "_Test NQB FX QuickBooks", "_TNQFQ"
	RATE_SOURCE = "QuickBooks rate of the day (brought into ERPNext)"
	SANDBOX_NAME, REALM_PREFIX = "Nexora FX QuickBooks (QBO sandbox)", "9372"

	@classmethod
	def prepare_rates(cls):
		from nexora_qbo.sandbox.rates import set_rate

		realm = cls.sb.realm(cls.realm_id)
		set_rate(realm, "EUR", cls.invoice_day, INVOICE_RATE)
		set_rate(realm, "EUR", cls.payment_day, PAYMENT_RATE)

	def test_a_qbo_born_invoice_and_payment_come_in_at_quickbooks_rates_with_the_same_gain(self):
		# the first pull brought QuickBooks' rates into ERPNext's Currency Exchange
		self.assertGreaterEqual(self.settled.get("rates_brought_in", 0), 2, self.settled)
		self.assertEqual((self.erpnext_rate(self.invoice_day), self.erpnext_rate(self.payment_day)),
			(INVOICE_RATE, PAYMENT_RATE))
		cust = self.qbo_id(C.CUSTOMER, EUR_CUSTOMER)
		item = self.qbo_id(C.ITEM, "Staffing Hours")
		inv = self.bk.create("Invoice", {"CustomerRef": {"value": cust}, "TxnDate": str(self.invoice_day),
			"Line": [{"Amount": Decimal("900.00"), "DetailType": "SalesItemLineDetail", "SalesItemLineDetail": {
				"ItemRef": {"value": item}, "Qty": 20, "UnitPrice": Decimal("45.00")}}]})
		self.assertEqual(_rate(inv["ExchangeRate"]), INVOICE_RATE)
		self.pull()
		si = frappe.get_doc("Sales Invoice", self.local_of("Invoice", inv["Id"]))
		self.assertEqual((si.docstatus, si.debit_to, _rate(si.conversion_rate), _money(si.base_grand_total)),
			(1, self.debtors_eur, INVOICE_RATE, Decimal("972.00")))
		paid = self.bk.create("Payment", {"CustomerRef": {"value": cust}, "TotalAmt": Decimal("750.00"),
			"TxnDate": str(self.payment_day), "Line": [{"Amount": Decimal("750.00"),
				"LinkedTxn": [{"TxnId": inv["Id"], "TxnType": "Invoice"}]}]})
		self.assertEqual(_rate(paid["ExchangeRate"]), PAYMENT_RATE)
		self.pull()
		pe = frappe.get_doc("Payment Entry", self.local_of("Payment", paid["Id"]))
		self.assertEqual((pe.docstatus, _rate(pe.source_exchange_rate)), (1, PAYMENT_RATE))
		self.assertEqual(self.erpnext_rate(self.payment_day), PAYMENT_RATE)
		self.assert_gains_agree(pe.name, Decimal("15.00"))  # 750 x (1.10 - 1.08)
		qbo_total = _money(self.bk.exchange_gains()["Total"])
		erpnext_total = self.erpnext_gain_gl()
		print(f"\n[issue-13 bench realized gain, QuickBooks rate source] ERPNext GL {erpnext_total}, "
			f"QuickBooks {qbo_total}")
		self.assertEqual((erpnext_total, qbo_total), (Decimal("15.00"), Decimal("15.00")))
		# EUR 150 open, USD 162 at the invoice's 1.08, in both books
		self.assert_ties([si.name], Decimal("150.00"), Decimal("162.00"))
		self.assertEqual(self.open_items(), [])

	def test_b_erpnext_invoice_at_its_own_rate_goes_out_at_it_and_is_shown(self):
		"""QuickBooks' rate of the invoice day is 1.08; the bookkeeper typed 1.0937 on the ERPNext invoice. It is
		sent at 1.0937 (ERPNext's GL holds it; QuickBooks' copy then agrees) and one informational review item
		names both rates."""
		si = self.eur_invoice([{"item_code": "Staffing Hours", "qty": 20, "rate": 45}], self.invoice_day,
			rate="1.0937")
		self.push()
		q = self.bk.read("Invoice", self.qbo_id(C.INVOICE, si.name))
		self.assertEqual((_rate(q["ExchangeRate"]), _money(q["HomeTotalAmt"])), (Decimal("1.0937"), Decimal("984.33")))
		items = [i for i in self.open_items() if i[1] == si.name]
		self.assertEqual([i[0] for i in items], [C.KIND_RATE_DIFFERS], self.open_items())
		reason = items[0][2]
		self.assertIn("sent at ERPNext's rate 1.0937", reason)
		self.assertIn(f"QuickBooks' rate for {self.invoice_day} is 1.08", reason)
		result = self.engine.tie_out(self.realm_id)
		row = next(r for r in result.documents if r.local_id == si.name)
		self.assertEqual((row.difference, row.difference_home), (0, 0), format_tie_out(result))

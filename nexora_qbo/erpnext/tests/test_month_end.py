"""Issue 7's proof in the bench: a month for TWO entities on real ERPNext documents, then both books tie.

Two Companies, each connected to its own QBO realm of the in-process sandbox (real HTTP), through the real
engine on the Frappe store and ledger. Masters are global in ERPNext: the seed customers of both QBO companies
link to the same ERPNext customers, so "Acme Logistics" is shared by both companies; a customer that only
Company A uses never reaches realm B. Played on Sales Invoices, returns (credit notes), Payment Entries and
amendments (cancel -> Amend, `amended_from`), with review items resolved as their text advises:
- a bookkeeper line edit in QBO A -> cancel and amend in ERPNext (the amendment updates the same QBO invoice);
- a payment recorded in QBO B, cancelled in ERPNext (the cheque bounced) -> the question -> "Void in
  QuickBooks too";
- a credit note against an invoice and partial Payment Entries in ERPNext; a partial QBO payment.
At the end, INDEPENDENTLY of sync/tieout.py (ERPNext read through frappe.db, QBO through the bookkeeper's own
client): each invoice's and credit note's QBO Balance equals its ERPNext outstanding to the cent, each
payment's unapplied amount matches, each customer's QBO Balance equals ERPNext's; and engine.tie_out agrees
with 0 unexplained. (Go-live, the transient-failure, rejected-master, lost-response and clock cases have
their own FrappeTestCases / engine tests; the SQLite month-end scenario plays all of them together.)
"""

from __future__ import annotations

import secrets
from collections import defaultdict
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import frappe
from frappe.tests.utils import FrappeTestCase
from frappe.utils import add_days, getdate, nowdate

from nexora_qbo.erpnext.events import inbound
from nexora_qbo.erpnext.ledger import FrappeLedger
from nexora_qbo.erpnext.store import FrappeStore
from nexora_qbo.erpnext.tests.test_e2e_sandbox import _PatientBookkeeper
from nexora_qbo.erpnext.tests.utils import ensure_company, make_realm, purge_committed_audit
from nexora_qbo.sync import constants as C
from nexora_qbo.sync.engine import SyncEngine
from nexora_qbo.sync.runtime import SystemClock
from nexora_qbo.sync.tieout import format_tie_out

ENTITIES = (("_Test NQB Month A", "_TNMA"), ("_Test NQB Month B", "_TNMB"))


def _money(value) -> Decimal:
	return Decimal(str(value or 0)).quantize(Decimal("0.01"))


def _voided(obj: dict) -> bool:
	return "voided" in str(obj.get("PrivateNote") or "").lower() and _money(obj.get("TotalAmt")) == 0


class TestMonthEnd(FrappeTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		from nexora_qbo.erpnext.jobs import client_for
		from nexora_qbo.erpnext.locks import RedisRealmLock
		from nexora_qbo.erpnext.token_store import RealmTokenStore
		from nexora_qbo.nexora_qbo.doctype.qbo_realm.qbo_realm import callback_url
		from nexora_qbo.qbo.oauth import OAuthTokens
		from nexora_qbo.sandbox.bookkeeper import Bookkeeper
		from nexora_qbo.sandbox.server import SandboxServer

		cls.sb = SandboxServer(seed=11)
		cls.store = FrappeStore()
		cls.engine = SyncEngine(
			cls.store, FrappeLedger(cls.store), client_for, RedisRealmLock(), SystemClock(), lock_timeout=30
		)
		cls.realm_ids, cls.realm_docs, cls.bks, cls.abbr = {}, [], {}, {}
		for company, abbr in ENTITIES:
			ensure_company(company, abbr)
			realm_id = "9343" + "".join(secrets.choice("0123456789") for _ in range(11))
			realm_id = cls.sb.create_realm(company_name=f"{company} (QBO sandbox)", realm_id=realm_id)
			cls.sb.set_options(realm_id, per_second=40, per_minute=4000)
			client_id, secret = cls.sb.register_app(redirect_uri=callback_url())
			doc = make_realm(company, realm_id, base_url=cls.sb.base_url, client_id=client_id, client_secret=secret)
			issued = cls.sb.issue_tokens(realm_id, client_id)
			now = datetime.now(timezone.utc)
			RealmTokenStore(realm=doc).save(
				realm_id,
				OAuthTokens(
					access_token=issued["access_token"],
					refresh_token=issued["refresh_token"],
					expires_at=now + timedelta(seconds=int(issued.get("expires_in") or 3600)),
					refresh_expires_at=now + timedelta(days=100),
					realm_id=realm_id,
				),
			)
			cls.realm_ids[company], cls.abbr[company] = realm_id, abbr
			cls.realm_docs.append(doc)
			cls.bks[company] = _PatientBookkeeper(Bookkeeper(cls.sb, realm_id))
			with inbound():
				cls.engine.initial_import(realm_id)

	@classmethod
	def tearDownClass(cls):
		cls.sb.stop()
		purge_committed_audit(cls.realm_docs)
		super().tearDownClass()

	# ------------------------------------------------------------------------------------------ helpers
	def realm(self, company):
		return self.realm_ids[company]

	def pull(self, company):
		with inbound():
			return self.engine.pull(self.realm(company))

	def sync(self, company):
		self.pull(company)
		return self.engine.push(self.realm(company))

	def qbo_id(self, company, local_type, local_id):
		m = self.store.get_mapping(self.realm(company), local_type, local_id)
		self.assertIsNotNone(m, f"{local_type} {local_id} is not mapped in {company}'s realm")
		return m.qbo_id

	def open_items(self, company):
		return self.store.list_conflicts(self.realm(company), status=C.OPEN)

	def invoice(self, company, customer, qty, rate=45):
		abbr = self.abbr[company]
		si = frappe.get_doc(
			{
				"doctype": "Sales Invoice",
				"company": company,
				"customer": customer,
				"posting_date": getdate(nowdate()),
				"due_date": add_days(nowdate(), 30),
				"currency": "USD",
				"debit_to": f"Debtors - {abbr}",
				"items": [
					{
						"item_code": "Staffing Hours",
						"qty": qty,
						"rate": rate,
						"income_account": f"Sales - {abbr}",
						"cost_center": f"Main - {abbr}",
					}
				],
			}
		).insert()
		si.submit()
		return si

	def set_hours(self, company, qid, qty, rate="45"):
		bk = self.bks[company]
		remote = bk.read("Invoice", qid)
		line = [ln for ln in remote["Line"] if ln["DetailType"] == "SalesItemLineDetail"][0]
		line["SalesItemLineDetail"]["Qty"] = qty
		line["Amount"] = Decimal(rate) * qty
		bk.update("Invoice", qid, {"Line": [line]})

	def paid(self, si_name, amount, ref):
		from erpnext.accounts.doctype.payment_entry.payment_entry import get_payment_entry

		pe = get_payment_entry("Sales Invoice", si_name, party_amount=amount)
		pe.reference_no, pe.reference_date = ref, nowdate()
		pe.insert()
		pe.submit()
		return pe

	def credit_note(self, si_name, qty):
		from erpnext.controllers.sales_and_purchase_return import make_return_doc

		ret = make_return_doc("Sales Invoice", si_name)
		ret.items[0].qty = -qty
		ret.update_outstanding_for_self = 0  # the credit is booked against the invoice's outstanding
		ret.insert()
		ret.submit()
		return ret

	# ------------------------------------------------------------------ the independent month-end check
	def assert_books_tie(self, company):
		"""Per document and per customer, from ERPNext's documents and QBO's records directly (not the tie-out);
		with no open review item left, every difference is a failure."""
		realm, bk = self.realm(company), self.bks[company]
		self.assertEqual(self.open_items(company), [])
		per_customer: dict[str, Decimal] = defaultdict(lambda: Decimal("0.00"))
		compared = 0
		for si in frappe.get_all("Sales Invoice", filters={"company": company, "docstatus": ("in", (1, 2))},
				fields=["name", "customer", "docstatus", "outstanding_amount", "is_return"]):
			local_type = C.CREDIT_MEMO if si.is_return else C.INVOICE
			m = self.store.get_mapping(realm, local_type, si.name)
			if si.docstatus == 2:
				if m is not None:  # cancelled here: voided there (or its mapping moved to the amendment)
					self.assertTrue(_voided(bk.read(m.qbo_entity, m.qbo_id)), si.name)
				continue
			self.assertIsNotNone(m, f"{si.name} is not in QuickBooks")
			remote = bk.read(m.qbo_entity, m.qbo_id)
			ours = _money(si.outstanding_amount)
			theirs = _money(remote.get("Balance")) if not si.is_return else -_money(remote.get("RemainingCredit"))
			self.assertEqual(ours, theirs, f"{si.name}: ERPNext outstanding {ours}, QuickBooks balance {theirs}")
			per_customer[si.customer] += ours
			compared += 1
		for pe in frappe.get_all("Payment Entry", filters={"company": company, "docstatus": 1,
				"party_type": "Customer"}, fields=["name", "party", "unallocated_amount"]):
			m = self.store.get_mapping(realm, C.PAYMENT, pe.name)
			self.assertIsNotNone(m, f"{pe.name} is not in QuickBooks")
			remote = bk.read("Payment", m.qbo_id)
			self.assertEqual(_money(pe.unallocated_amount), _money(remote.get("UnappliedAmt")), pe.name)
			per_customer[pe.party] -= _money(pe.unallocated_amount)
		for m in self.store.list_mappings(realm, C.CUSTOMER):
			theirs = _money(bk.read("Customer", m.qbo_id).get("Balance"))
			self.assertEqual(per_customer.get(m.local_id, Decimal("0.00")), theirs, f"customer {m.local_id}")
		# every open QBO invoice is an ERPNext invoice of this company
		for obj in bk.query("select * from Invoice where Balance > '0' MAXRESULTS 1000").get("Invoice", []):
			m = self.store.get_mapping_by_qbo(realm, "Invoice", str(obj["Id"]))
			self.assertIsNotNone(m, f"QuickBooks invoice {obj['Id']} is open but not in ERPNext")
		return per_customer, compared

	# -------------------------------------------------------------------------------------------- the month
	def test_a_month_for_two_entities_ties_per_invoice_and_per_customer(self):
		A, B = ENTITIES[0][0], ENTITIES[1][0]
		shared = "Acme Logistics"  # one ERPNext customer, linked in both QBO companies
		only_a = frappe.get_doc({"doctype": "Customer", "customer_name": "Anvil Month Logistics",
			"customer_type": "Company", "email_id": "ap@anvil-month.example"}).insert().name
		self.assertEqual(self.store.list_outbox(self.realm(B), states=C.OPEN_STATES), [])

		# week 1: invoices in both entities
		a_acme, a_anvil = self.invoice(A, shared, 40), self.invoice(A, only_a, 20)
		b_acme, b_blue = self.invoice(B, shared, 30), self.invoice(B, "Bluebonnet Health", 10)
		self.sync(A)
		self.sync(B)

		# a bookkeeper line edit in QBO A (20 -> 18 hours); the advice: cancel and amend in ERPNext
		anvil_qid = self.qbo_id(A, C.INVOICE, a_anvil.name)
		self.set_hours(A, anvil_qid, 18)
		self.pull(A)
		[edited] = self.open_items(A)
		self.assertEqual(edited.kind, "transaction_edited")
		self.assertIn("cancel and amend", edited.reason)
		a_anvil.reload()
		a_anvil.cancel()
		self.engine.push(self.realm(A))
		amended = frappe.copy_doc(a_anvil)  # the form's Amend button
		amended.docstatus, amended.amended_from = 0, a_anvil.name
		amended.items[0].qty = 18
		amended.insert()
		amended.submit()
		self.engine.push(self.realm(A))
		self.assertEqual(self.qbo_id(A, C.INVOICE, amended.name), anvil_qid)  # the same QBO invoice
		self.assertEqual(self.open_items(A), [])

		# a payment recorded in QBO B (a cheque), cancelled in ERPNext (it bounced): the question, then
		# "Void in QuickBooks too" as its text offers
		cheque = self.bks[B].receive_payment(self.qbo_id(B, C.CUSTOMER, shared), "1350.00",
			[self.qbo_id(B, C.INVOICE, b_acme.name)])
		self.pull(B)
		pe_cheque = self.store.get_mapping_by_qbo(self.realm(B), "Payment", cheque["Id"]).local_id
		self.assertEqual(_money(frappe.db.get_value("Sales Invoice", b_acme.name, "outstanding_amount")), 0)
		frappe.get_doc("Payment Entry", pe_cheque).cancel()
		self.engine.push(self.realm(B))
		self.assertFalse(_voided(self.bks[B].read("Payment", cheque["Id"])))  # never voided as a side effect
		[question] = self.open_items(B)
		self.assertEqual(question.kind, "qbo_born_cancel")
		self.assertIn(C.ACTION_LABELS[C.ACTION_VOID_IN_QBO], question.reason)
		with inbound():
			self.engine.resolve_conflict(question.id, C.ACTION_VOID_IN_QBO, by="Administrator")
		self.assertTrue(_voided(self.bks[B].read("Payment", cheque["Id"])))

		# week 2: a credit note and payments in ERPNext, a partial payment in QBO A, more invoices
		self.credit_note(a_acme.name, 2)  # 2 disputed hours
		self.paid(a_acme.name, 500, "ACH-A-1")
		self.paid(b_blue.name, 450, "ACH-B-1")
		self.sync(A)
		self.sync(B)
		self.bks[A].receive_payment(self.qbo_id(A, C.CUSTOMER, only_a), "400.00", [anvil_qid])
		self.invoice(A, shared, 16)
		self.invoice(B, shared, 8)
		for _ in range(2):
			self.sync(A)
			self.sync(B)

		# the close: both books tie in each entity, independently of the tie-out, and the tie-out agrees
		per_a, n_a = self.assert_books_tie(A)
		per_b, n_b = self.assert_books_tie(B)
		# A: Acme 1800 - 90 - 500 + 720 = 1930; Anvil 810 - 400 = 410.  B: Acme 1350 (cheque voided) + 360; Blue 0
		self.assertEqual(per_a[shared], Decimal("1930.00"))
		self.assertEqual(per_a[only_a], Decimal("410.00"))
		self.assertEqual(per_b[shared], Decimal("1710.00"))
		self.assertEqual(per_b["Bluebonnet Health"], Decimal("0.00"))
		for company in (A, B):
			result = self.engine.tie_out(self.realm(company), getdate(nowdate()))
			print(f"\n=== {company} (realm {self.realm(company)}) ===\n{format_tie_out(result)}")
			self.assertEqual(result.unexplained_count, 0, format_tie_out(result))
			self.assertEqual(result.differences, [], format_tie_out(result))
			self.assertEqual({c.customer: c.qbo for c in result.customers if c.qbo},
				{k: v for k, v in (per_a if company == A else per_b).items() if v})
		# masters per realm: the customer only A uses never reached B's QuickBooks
		self.assertIsNone(self.store.get_mapping(self.realm(B), C.CUSTOMER, only_a))
		self.assertEqual(self.bks[B].query("select * from Customer where DisplayName = 'Anvil Month Logistics'")
			.get("Customer", []), [])
		self.assertEqual(n_a, 4)  # Acme w1, its credit note, Anvil's amendment, Acme w2
		self.assertEqual(n_b, 3)

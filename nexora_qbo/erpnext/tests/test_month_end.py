"""Issue 7's proof in the bench: a month for TWO entities on real ERPNext documents, then both books tie.

Two Companies, each connected to its own QBO realm of the in-process sandbox (real HTTP), through the real
engine on the Frappe store and ledger. Masters are global in ERPNext: the seed customers of both QBO companies
link to the same ERPNext customers, so "Acme Logistics" is shared by both companies; a customer that only
Company A uses never reaches realm B. Played on Sales Invoices, returns (credit notes), Payment Entries and
amendments (cancel -> Amend, `amended_from`), with review items resolved as their text advises:
- a bookkeeper line edit in QBO A -> cancel and amend in ERPNext (the amendment updates the same QBO invoice);
- a payment recorded in QBO B, cancelled in ERPNext (the cheque bounced) -> the question -> "Void in
  QuickBooks too";
- a credit note against an invoice and partial Payment Entries in ERPNext; a partial QBO payment;
- the go-live of A with QuickBooks history (open invoices, one part paid, an unused credit memo, an unapplied
  payment): previewed, confirmed, brought in as opening Sales Invoices on Temporary Opening and an opening
  Journal Entry; the first check ties, and a later QBO payment of an opening invoice follows;
- the engine's host clock 60 s ahead of QBO for the whole month: a payment the bookkeeper records right after
  a pull is still pulled;
- a master QBO rejects (B's QuickBooks has a vendor of that name) with three invoices waiting: one review item,
  fixed in QuickBooks, then "Retry": the invoices land;
- a lost response on an update ("Keep ERPNext" after a bookkeeper edit): the retry does not take our own
  write for a bookkeeper edit;
- a credit note whose invoice met a transient failure (503s): it waits for the invoice and is applied.
At the end, INDEPENDENTLY of sync/tieout.py (ERPNext read through frappe.db, QBO through the bookkeeper's own
client): each invoice's and credit note's QBO Balance equals its ERPNext outstanding to the cent, each
payment's (and opening credit's) unapplied amount matches, each customer's QBO Balance equals ERPNext's (its
documents and its GL balance on the receivable); and engine.tie_out agrees with 0 unexplained.
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
from nexora_qbo.sync.tieout import format_tie_out

ENTITIES = (("_Test NQB Month A", "_TNMA"), ("_Test NQB Month B", "_TNMB"))
HOST_AHEAD = timedelta(seconds=60)


class _HostAhead:
	"""The engine's clock: the host is 60 s ahead of QBO (the sandbox runs on real time) for the whole month;
	`later` moves the host on (retry backoffs come due) without touching QBO's clock."""

	def __init__(self):
		self.extra = timedelta(0)

	def now(self):
		return datetime.now(timezone.utc) + HOST_AHEAD + self.extra

	def later(self, **kw):
		self.extra += timedelta(**kw)


def _quick_client_for(realm_id, on_exchange=None, **kw):
	"""The bench's client with three attempts and short waits, as the engine tests use: an injected run of
	faults outlasts the client's own retries, so the engine's retry path is what is played."""
	from nexora_qbo.erpnext.jobs import client_for
	from nexora_qbo.qbo.retry import RetryPolicy

	client = client_for(realm_id, on_exchange, **kw)
	client.retry = RetryPolicy(max_attempts=3, base_backoff=0.05, max_backoff=0.2, jitter=0.0)
	return client


def _money(value) -> Decimal:
	return Decimal(str(value or 0)).quantize(Decimal("0.01"))


def _voided(obj: dict) -> bool:
	return "voided" in str(obj.get("PrivateNote") or "").lower() and _money(obj.get("TotalAmt")) == 0


class TestMonthEnd(FrappeTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		from nexora_qbo.erpnext.locks import RedisRealmLock
		from nexora_qbo.erpnext.token_store import RealmTokenStore
		from nexora_qbo.nexora_qbo.doctype.qbo_realm.qbo_realm import callback_url
		from nexora_qbo.qbo.oauth import OAuthTokens
		from nexora_qbo.sandbox.bookkeeper import Bookkeeper
		from nexora_qbo.sandbox.server import SandboxServer

		cls.sb = SandboxServer(seed=11)
		cls.store = FrappeStore()
		cls.clock = _HostAhead()
		cls.engine = SyncEngine(
			cls.store, FrappeLedger(cls.store), _quick_client_for, RedisRealmLock(), cls.clock, lock_timeout=30
		)
		cls.today = getdate(nowdate())
		cls.realm_ids, cls.realm_docs, cls.bks, cls.abbr = {}, [], {}, {}
		for n, (company, abbr) in enumerate(ENTITIES):
			ensure_company(company, abbr)
			realm_id = "9343" + "".join(secrets.choice("0123456789") for _ in range(11))
			realm_id = cls.sb.create_realm(company_name=f"{company} (QBO sandbox)", realm_id=realm_id)
			cls.sb.set_options(realm_id, per_second=40, per_minute=4000)
			client_id, secret = cls.sb.register_app(redirect_uri=callback_url())
			go_live = {"sync_start_date": cls.today} if n == 0 else {}  # A goes live with QBO history
			doc = make_realm(company, realm_id, base_url=cls.sb.base_url, client_id=client_id, client_secret=secret,
				**go_live)
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
			if n == 0:
				cls.history = cls._qbo_history(cls.bks[company])
			else:
				with inbound():
					cls.engine.initial_import(realm_id)

	@classmethod
	def _qbo_history(cls, bk) -> dict:
		"""A's QuickBooks before the go-live: two open invoices (one part paid), an unused credit memo, an
		unapplied payment, all dated 20 days back."""
		cust = {c["DisplayName"]: c["Id"] for c in bk.query("SELECT * FROM Customer").get("Customer", [])}
		item = next(i["Id"] for i in bk.query("SELECT * FROM Item").get("Item", []) if i["Name"] == "Staffing Hours")
		before = str(add_days(cls.today, -20))

		def doc(entity, customer, number, amount):
			return bk.create(entity, {"CustomerRef": {"value": cust[customer]}, "TxnDate": before, "DocNumber": number,
				"Line": [{"DetailType": "SalesItemLineDetail", "Amount": Decimal(amount), "SalesItemLineDetail": {
					"ItemRef": {"value": item}, "Qty": 1, "UnitPrice": Decimal(amount)}}]})

		docs = {"cust": cust,
			"acme_1001": doc("Invoice", "Acme Logistics", "ME-1001", "450.00"),
			"blue_1002": doc("Invoice", "Bluebonnet Health", "ME-1002", "300.00"),
			"lone_cm7": doc("CreditMemo", "Lone Star Manufacturing", "ME-CM-7", "40.00")}
		bk.create("Payment", {"CustomerRef": {"value": cust["Bluebonnet Health"]}, "TotalAmt": Decimal("100.00"),
			"TxnDate": before, "Line": [{"Amount": Decimal("100.00"),
				"LinkedTxn": [{"TxnId": docs["blue_1002"]["Id"], "TxnType": "Invoice"}]}]})
		docs["acme_unapplied"] = bk.create("Payment", {"CustomerRef": {"value": cust["Acme Logistics"]},
			"TotalAmt": Decimal("30.00"), "TxnDate": before, "PaymentRefNum": "ME-CHK-30", "Line": []})
		return docs

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
		for m in self.store.list_mappings(realm, C.PAYMENT):
			if not frappe.db.exists("Journal Entry", m.local_id):
				continue  # an opening credit (an unapplied QBO payment at go-live) is a Journal Entry
			party, open_credit = frappe.db.sql(
				"""select jea.party, sum(jea.credit_in_account_currency - jea.debit_in_account_currency)
				from `tabJournal Entry Account` jea join `tabAccount` acc on acc.name = jea.account
				where jea.parent = %s and jea.party_type = 'Customer' and acc.account_type = 'Receivable'
				and ifnull(jea.reference_type, '') = '' group by jea.party""", m.local_id)[0]
			remote = bk.read("Payment", m.qbo_id)
			self.assertEqual(_money(open_credit), _money(remote.get("UnappliedAmt")), m.local_id)
			per_customer[party] -= _money(open_credit)
		# ERPNext's general ledger agrees with its documents, party-wise, on the receivable (USD: home == document)
		gl = dict(frappe.db.sql(
			"""select gle.party, sum(gle.debit - gle.credit) from `tabGL Entry` gle
			join `tabAccount` acc on acc.name = gle.account
			where gle.company = %s and gle.is_cancelled = 0 and gle.party_type = 'Customer'
			and acc.account_type = 'Receivable' group by gle.party""", company))
		for customer in set(gl) | set(per_customer):
			self.assertEqual(_money(gl.get(customer)), per_customer.get(customer, Decimal("0.00")),
				f"GL receivable of {customer}")
		for m in self.store.list_mappings(realm, C.CUSTOMER):
			theirs = _money(bk.read("Customer", m.qbo_id).get("Balance"))
			self.assertEqual(per_customer.get(m.local_id, Decimal("0.00")), theirs, f"customer {m.local_id}")
		# every open QBO invoice is an ERPNext invoice of this company
		for obj in bk.query("select * from Invoice where Balance > '0' MAXRESULTS 1000").get("Invoice", []):
			m = self.store.get_mapping_by_qbo(realm, "Invoice", str(obj["Id"]))
			self.assertIsNotNone(m, f"QuickBooks invoice {obj['Id']} is open but not in ERPNext")
		return per_customer, compared

	# ---------------------------------------------------------------------------------------------- go-live
	def go_live_a(self):
		"""A connects with QuickBooks history: the preview writes nothing and lists the openings; the plan is
		confirmed as proposed; the openings come in the ERPNext way and the first check ties."""
		from nexora_qbo.sync import golive as G

		A, realm, hist = ENTITIES[0][0], self.realm(ENTITIES[0][0]), self.history
		plan = self.engine.go_live_preview(realm)
		self.assertEqual(self.store.list_mappings(realm), [])  # the preview writes nothing
		openings = {r.qbo_name: r.amount for r in plan.rows if r.action == G.OPENING}
		self.assertEqual(openings, {"ME-1001": Decimal("450.00"), "ME-1002": Decimal("200.00"),
			"ME-CM-7": Decimal("40.00"), "ME-CHK-30": Decimal("30.00")})
		with inbound():
			self.engine.apply_go_live(realm, G.GoLivePlan.from_dict(plan.to_dict()))  # as the plan's form confirms
		local = {}
		for key, entity in (("acme_1001", "Invoice"), ("blue_1002", "Invoice"), ("lone_cm7", "CreditMemo"),
				("acme_unapplied", "Payment")):
			m = self.store.get_mapping_by_qbo(realm, entity, hist[key]["Id"])
			self.assertIsNotNone(m, f"{key} was not brought in")
			local[key] = m.local_id
		for key in ("acme_1001", "blue_1002", "lone_cm7"):
			si = frappe.get_doc("Sales Invoice", local[key])
			self.assertEqual((si.docstatus, si.is_opening), (1, "Yes"), key)
			types = {frappe.db.get_value("Account", it.income_account, "account_type") for it in si.items}
			self.assertEqual(types, {"Temporary"}, key)  # against Temporary Opening: no revenue booked twice
		self.assertEqual(_money(frappe.db.get_value("Sales Invoice", local["blue_1002"], "outstanding_amount")),
			Decimal("200.00"))
		je = frappe.get_doc("Journal Entry", local["acme_unapplied"])
		self.assertEqual((je.docstatus, je.is_opening, je.voucher_type), (1, "Yes", "Opening Entry"))
		self.assertEqual({frappe.db.get_value("Account", a.account, "account_type") for a in je.accounts},
			{"Receivable", "Temporary"})
		per, _n = self.assert_books_tie(A)  # the first check is zero
		self.assertEqual(per[self.local_customer(A, "Acme Logistics")], Decimal("420.00"))
		return local

	def local_customer(self, company, qbo_name):
		m = self.store.get_mapping_by_qbo(self.realm(company), "Customer", self.history["cust"][qbo_name])
		self.assertIsNotNone(m, qbo_name)
		return m.local_id

	# -------------------------------------------------------------------------------------------- the month
	def test_a_month_for_two_entities_ties_per_invoice_and_per_customer(self):
		A, B = ENTITIES[0][0], ENTITIES[1][0]
		opening = self.go_live_a()
		shared = self.local_customer(A, "Acme Logistics")  # one ERPNext customer, linked in both QBO companies
		self.assertEqual(self.store.get_mapping_by_qbo(self.realm(B), "Customer",
			self.qbo_id(B, C.CUSTOMER, shared)).local_id, shared)
		only_a = frappe.get_doc({"doctype": "Customer", "customer_name": "Anvil Month Logistics",
			"customer_type": "Company", "email_id": "ap@anvil-month.example"}).insert().name
		harbor = frappe.get_doc({"doctype": "Customer", "customer_name": "Harbor Month Freightways",
			"customer_type": "Company", "email_id": "ap@harbor-month.example"}).insert().name
		self.assertEqual(self.store.list_outbox(self.realm(B), states=C.OPEN_STATES), [])

		# the host is 60 s ahead of QBO: a payment the bookkeeper records right after the go-live, and another
		# right after the next pull, are both pulled (the high-water marks are QBO's time, not the host's)
		for amount in ("200.00", "250.00"):
			paid = self.bks[A].receive_payment(self.qbo_id(A, C.CUSTOMER, shared), amount,
				[self.history["acme_1001"]["Id"]])
			self.pull(A)
			self.assertIsNotNone(self.store.get_mapping_by_qbo(self.realm(A), "Payment", paid["Id"]), amount)
		self.assertEqual(_money(frappe.db.get_value("Sales Invoice", opening["acme_1001"], "outstanding_amount")), 0)

		# week 1: invoices in both entities
		a_acme, a_anvil = self.invoice(A, shared, 40), self.invoice(A, only_a, 20)
		b_acme, b_blue = self.invoice(B, shared, 30), self.invoice(B, "Bluebonnet Health", 10)
		self.sync(A)
		self.sync(B)

		# a master QBO rejects: B's QuickBooks already has a vendor of that name; three invoices wait on it,
		# ONE review item for the cause (not a flood), fixed in QuickBooks ("Rename one of them"), then Retry
		self.bks[B].create("Vendor", {"DisplayName": harbor})
		b_harbor = [self.invoice(B, harbor, 8) for _ in range(3)]
		self.sync(B)
		self.clock.later(minutes=30)
		self.sync(B)
		[rejected] = self.open_items(B)
		self.assertEqual((rejected.kind, rejected.local_id), ("rejected", harbor))
		self.assertIn(C.ACTION_LABELS[C.ACTION_RETRY], rejected.reason)
		for si in b_harbor:
			[entry] = self.store.list_outbox(self.realm(B), local_type=C.INVOICE, local_id=si.name)
			self.assertEqual(entry.state, C.FAILED)
			self.assertIn(f"item {rejected.id}", entry.last_error)
		vendor = self.bks[B].query(f"select * from Vendor where DisplayName = '{harbor}'")["Vendor"][0]
		self.bks[B].update("Vendor", vendor["Id"], {"DisplayName": f"{harbor} (carrier)"})
		with inbound():
			self.engine.resolve_conflict(rejected.id, C.ACTION_RETRY, by="Administrator")
		self.engine.push(self.realm(B))
		self.clock.later(minutes=10)
		self.sync(B)
		self.assertEqual(self.open_items(B), [])
		creates = [a for a in self.store.list_audit(self.realm(B)) if a.operation == "create"
			and a.qbo_entity == "Customer" and a.local_id == harbor]
		self.assertEqual(len(creates), 2)  # the refused create and the retry, never a flood
		for si in b_harbor:
			self.assertEqual(_money(self.bks[B].read("Invoice", self.qbo_id(B, C.INVOICE, si.name))["Balance"]),
				Decimal("360.00"))

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
		a_acme2 = self.invoice(A, shared, 16)
		self.invoice(B, shared, 8)
		for _ in range(2):
			self.sync(A)
			self.sync(B)

		# a lost response on an update: the bookkeeper edits A's Acme week-2 hours (16 -> 14), ERPNext's timesheet
		# is right ("Keep ERPNext"); QBO applies our update but every answer is lost; the retry must not take our
		# own write for her edit
		acme2_qid = self.qbo_id(A, C.INVOICE, a_acme2.name)
		self.set_hours(A, acme2_qid, 14)
		self.pull(A)
		[edited2] = self.open_items(A)
		self.assertEqual((edited2.kind, edited2.local_id), ("transaction_edited", a_acme2.name))
		self.assertIn(C.ACTION_LABELS[C.ACTION_KEEP_LOCAL], edited2.reason)
		self.sb.set_faults(self.realm(A), script=["none"] + ["lost_response"] * 3)  # the re-read, then the update
		with inbound():
			self.engine.resolve_conflict(edited2.id, C.ACTION_KEEP_LOCAL, by="Administrator")
		self.sb.set_faults(self.realm(A), script=[])
		self.assertEqual(_money(self.bks[A].read("Invoice", acme2_qid)["Balance"]), Decimal("720.00"))  # applied
		self.assertIn(C.FAILED, [e.state for e in self.store.list_outbox(self.realm(A), local_id=a_acme2.name)])
		self.clock.later(minutes=5)
		self.engine.push(self.realm(A))  # the scheduler's push retries it before any pull
		self.sync(A)
		self.assertEqual(self.open_items(A), [])
		self.assertTrue(all(e.state == C.DONE for e in self.store.list_outbox(self.realm(A), local_id=a_acme2.name)))

		# a credit note whose invoice met a transient failure (B): Bluebonnet's week-3 invoice meets 503s until the
		# client gives up; its credit note (2 hours disputed) waits for it and is applied once it lands
		b_blue3 = self.invoice(B, "Bluebonnet Health", 14)
		b_blue3_cn = self.credit_note(b_blue3.name, 2)
		t0 = datetime.now(timezone.utc) - timedelta(seconds=1)
		self.sb.set_faults(self.realm(B), script=["error503"] * 3)  # the invoice's create, three attempts
		self.engine.push(self.realm(B))
		self.sb.set_faults(self.realm(B), script=[])
		failed = [x for x in self.store.list_audit(self.realm(B), since=t0) if (x.operation, x.qbo_entity, x.local_id,
			x.outcome) == ("create", "Invoice", b_blue3.name, "ServerError")]
		self.assertEqual(len(failed), 3)  # the invoice really met the failure (the client gave up)
		self.clock.later(minutes=5)
		self.sync(B)
		self.assertEqual(_money(self.bks[B].read("Invoice", self.qbo_id(B, C.INVOICE, b_blue3.name))["Balance"]),
			Decimal("540.00"))
		self.assertEqual(_money(frappe.db.get_value("Sales Invoice", b_blue3.name, "outstanding_amount")),
			Decimal("540.00"))
		cm = self.bks[B].read("CreditMemo", self.qbo_id(B, C.CREDIT_MEMO, b_blue3_cn.name))
		self.assertEqual(_money(cm.get("RemainingCredit", cm.get("Balance"))), 0)
		self.assertEqual(self.open_items(B), [])

		# the close: both books tie in each entity, independently of the tie-out, and the tie-out agrees
		per_a, n_a = self.assert_books_tie(A)
		per_b, n_b = self.assert_books_tie(B)
		# A: Acme 450 (1001, paid in QBO) - 450 - 30 (unapplied) + 1800 - 90 - 500 + 720 = 1900; Anvil 810 - 400;
		#    Bluebonnet 200 (1002); Lone Star -40 (CM-7).  B: Acme 1350 (cheque voided) + 360; Bluebonnet 630 - 90;
		#    Harbor 3 x 360
		self.assertEqual(per_a[shared], Decimal("1900.00"))
		self.assertEqual(per_a[only_a], Decimal("410.00"))
		self.assertEqual(per_a[self.local_customer(A, "Bluebonnet Health")], Decimal("200.00"))
		self.assertEqual(per_a[self.local_customer(A, "Lone Star Manufacturing")], Decimal("-40.00"))
		self.assertEqual(per_b[shared], Decimal("1710.00"))
		self.assertEqual(per_b["Bluebonnet Health"], Decimal("540.00"))
		self.assertEqual(per_b[harbor], Decimal("1080.00"))
		for company in (A, B):
			result = self.engine.tie_out(self.realm(company), self.today)
			print(f"\n=== {company} (realm {self.realm(company)}) ===\n{format_tie_out(result)}")
			self.assertEqual(result.unexplained_count, 0, format_tie_out(result))
			self.assertEqual(result.differences, [], format_tie_out(result))
			self.assertEqual({c.customer: c.qbo for c in result.customers if c.qbo},
				{k: v for k, v in (per_a if company == A else per_b).items() if v})
		# masters per realm: the customer only A uses never reached B's QuickBooks
		self.assertIsNone(self.store.get_mapping(self.realm(B), C.CUSTOMER, only_a))
		self.assertEqual(self.bks[B].query("select * from Customer where DisplayName = 'Anvil Month Logistics'")
			.get("Customer", []), [])
		# A: 3 openings, Acme w1, its credit note, Anvil's amendment, Acme w2
		self.assertEqual(n_a, 7)
		# B: Acme w1, Bluebonnet w1, 3 x Harbor, Acme w2, Bluebonnet w3 and its credit note
		self.assertEqual(n_b, 8)

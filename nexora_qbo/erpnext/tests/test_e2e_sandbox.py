"""End to end in the bench: ERPNext <-> the local QBO sandbox over real HTTP, through the real engine on the
Frappe store and ledger, the realm's own client (tokens issued by the sandbox, stored by RealmTokenStore),
the Redis realm lock and pacer. The engine is called directly (no RQ).

One month of a staffing agency, in order: import of the sandbox's seeded company, an invoice submitted in
ERPNext and pushed with all its lines, a bookkeeper's customer edit merged on pull, a bookkeeper's edit of
the invoice lines held as a conflict (ERPNext untouched), a partial payment recorded in QBO booked as a
submitted Payment Entry that moves the outstanding amount, and the reconciliation report for the month.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

import frappe
from frappe.tests.utils import FrappeTestCase
from frappe.utils import add_days, getdate, nowdate

from nexora_qbo.erpnext import constants as K
from nexora_qbo.erpnext.events import inbound
from nexora_qbo.erpnext.ledger import FrappeLedger
from nexora_qbo.erpnext.store import FrappeStore
from nexora_qbo.erpnext.tests.utils import ensure_company, make_realm, outbox_for, purge_committed_audit
from nexora_qbo.sync import constants as C
from nexora_qbo.sync.engine import SyncEngine
from nexora_qbo.sync.runtime import SystemClock

COMPANY = "_Test NQB E2E"
ABBR = "_TNQE"


class _PatientBookkeeper:
	"""The bookkeeper shares the realm's request limits with the sync (10/s in the sandbox, as in QBO): like a
	person clicking again, it waits a second and retries when QBO throttles it."""

	def __init__(self, bookkeeper):
		self._bk = bookkeeper

	def __getattr__(self, name):
		import time

		from nexora_qbo.sandbox.bookkeeper import BookkeeperError

		fn = getattr(self._bk, name)

		def call(*args, **kwargs):
			for attempt in range(10):
				try:
					return fn(*args, **kwargs)
				except BookkeeperError as exc:
					if exc.status != 429 or attempt == 9:
						raise
					time.sleep(1.1)

		return call


def _money(value) -> Decimal:
	return Decimal(str(value)).quantize(Decimal("0.01"))


class TestEndToEndSandbox(FrappeTestCase):
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

		ensure_company(COMPANY, ABBR)
		cls.sb = SandboxServer(seed=11)
		# an explicit, random realm id: never the same as a realm another test (or a leftover row) uses
		import secrets

		realm_id = "9341" + "".join(secrets.choice("0123456789") for _ in range(11))
		cls.realm_id = cls.sb.create_realm(company_name="Nexora Staffing (QBO sandbox)", realm_id=realm_id)
		# In QBO a bookkeeper works in the web UI, outside our app's API budget; here the bookkeeper is an API
		# client of the same realm, so the realm gets room for both (the sync still paces itself at 8/s).
		cls.sb.set_options(cls.realm_id, per_second=40, per_minute=2000)
		seed = cls.sb.seed_info(cls.realm_id)
		cls.seed = seed
		client_id, secret = cls.sb.register_app(redirect_uri=callback_url())
		cls.realm = make_realm(
			COMPANY,
			cls.realm_id,
			base_url=cls.sb.base_url,
			client_id=client_id,
			client_secret=secret,
			# the QBO default accounts are left empty: the engine discovers them at the initial import and
			# saves them through FrappeStore.save_settings (checked in test_a)
		)
		issued = cls.sb.issue_tokens(cls.realm_id, client_id)
		now = datetime.now(timezone.utc)
		RealmTokenStore(realm=cls.realm).save(
			cls.realm_id,
			OAuthTokens(
				access_token=issued["access_token"],
				refresh_token=issued["refresh_token"],
				expires_at=now + timedelta(seconds=int(issued.get("expires_in") or 3600)),
				refresh_expires_at=now + timedelta(days=100),
				realm_id=cls.realm_id,
			),
		)
		cls.store = FrappeStore()
		cls.engine = SyncEngine(
			cls.store, FrappeLedger(cls.store), client_for, RedisRealmLock(), SystemClock(), lock_timeout=30
		)
		cls.bk = _PatientBookkeeper(Bookkeeper(cls.sb, cls.realm_id))

	@classmethod
	def tearDownClass(cls):
		cls.sb.stop()
		purge_committed_audit([cls.realm])
		super().tearDownClass()

	def pull(self):
		with inbound():
			return self.engine.pull(self.realm_id)

	def qbo_id(self, local_type, local_id):
		m = self.store.get_mapping(self.realm_id, local_type, local_id)
		self.assertIsNotNone(m, f"{local_type} {local_id} is not mapped")
		return m.qbo_id

	def outstanding(self, name: str) -> Decimal:
		return _money(frappe.db.get_value("Sales Invoice", name, "outstanding_amount"))

	def test_a_month_of_billing_both_ways(self):
		# 1. initial import of the seeded staffing company ------------------------------------------------
		with inbound():
			counts = self.engine.initial_import(self.realm_id)
		self.assertEqual(counts.get("parked", 0), 0, counts)
		for name in ("Acme Logistics", "Bluebonnet Health", "Lone Star Manufacturing"):
			self.assertTrue(frappe.db.exists("Customer", name), name)
		acme = "Acme Logistics"
		self.assertEqual(FrappeLedger().get(COMPANY, C.CUSTOMER, acme)["email"], "ap@acme-logistics.example")
		for name in ("Staffing Hours", "Overtime Hours", "Per Diem", "Safety Vest", "Hard Hat"):
			self.assertTrue(frappe.db.exists("Item", name), name)
		self.assertEqual(len(self.store.list_mappings(self.realm_id, C.CUSTOMER)), 3)
		echoed = frappe.get_all(K.OUTBOX, filters={"realm": self.realm}, fields=["local_type", "reference_name", "action", "state"])
		self.assertEqual(echoed, [])  # the import echoed nothing
		realm = frappe.get_doc(K.REALM, self.realm)
		self.assertEqual(realm.default_deposit_account_id, self.seed["accounts"]["Undeposited Funds"])
		self.assertEqual(realm.default_income_account_id, self.seed["accounts"]["Services"])
		self.assertEqual(realm.tax_account, f"Sales Tax Payable - {ABBR}")  # ERPNext defaults untouched

		# 2. an invoice submitted in ERPNext is pushed with all its lines ----------------------------------
		si = frappe.get_doc(
			{
				"doctype": "Sales Invoice",
				"company": COMPANY,
				"customer": acme,
				"posting_date": getdate(nowdate()),
				"due_date": add_days(nowdate(), 30),
				"currency": "USD",
				"debit_to": f"Debtors - {ABBR}",
				"items": [
					{
						"item_code": "Staffing Hours",
						"qty": 40,
						"rate": 45,
						"description": "Warehouse crew, week 45",
						"income_account": f"Sales - {ABBR}",
						"cost_center": f"Main - {ABBR}",
					},
					{
						"item_code": "Overtime Hours",
						"qty": 5.5,
						"rate": 67.5,
						"description": "Overtime",
						"income_account": f"Sales - {ABBR}",
						"cost_center": f"Main - {ABBR}",
					},
				],
			}
		)
		si.insert()
		si.submit()
		self.assertEqual(outbox_for("Sales Invoice", si.name, self.realm), ["create"])
		pushed = self.engine.push(self.realm_id)
		self.assertEqual(pushed.get("parked", 0), 0, pushed)
		inv_qbo = self.qbo_id(C.INVOICE, si.name)
		remote = self.bk.read("Invoice", inv_qbo)
		lines = [ln for ln in remote["Line"] if ln["DetailType"] == "SalesItemLineDetail"]
		self.assertEqual(
			[(_money(ln["Amount"]), ln.get("Description")) for ln in lines],
			[(Decimal("1800.00"), "Warehouse crew, week 45"), (Decimal("371.25"), "Overtime")],
		)
		self.assertEqual(_money(remote["TotalAmt"]), Decimal("2171.25"))
		self.assertEqual(remote["DocNumber"], si.name)
		self.assertEqual(remote["CustomerRef"]["value"], self.qbo_id(C.CUSTOMER, acme))

		# 3. the bookkeeper edits the customer in QBO: merged into ERPNext on pull -------------------------
		acme_qbo = self.qbo_id(C.CUSTOMER, acme)
		self.bk.update("Customer", acme_qbo, {"PrimaryPhone": {"FreeFormNumber": "(512) 555-0147"}})
		self.pull()
		self.assertEqual(FrappeLedger().get(COMPANY, C.CUSTOMER, acme)["phone"], "(512) 555-0147")
		contact = frappe.db.get_value("Customer", acme, "customer_primary_contact")
		self.assertEqual(frappe.db.get_value("Contact", contact, "phone"), "(512) 555-0147")
		open_customer_intents = self.store.list_outbox(
			self.realm_id, states=C.OPEN_STATES, local_type=C.CUSTOMER
		)
		self.assertEqual(open_customer_intents, [])  # merged, not echoed back

		# 4. the bookkeeper edits the invoice lines in QBO: a conflict, ERPNext unchanged -------------------
		remote = self.bk.read("Invoice", inv_qbo)
		edited = [ln for ln in remote["Line"] if ln["DetailType"] == "SalesItemLineDetail"]
		edited[0]["SalesItemLineDetail"]["Qty"] = 38
		edited[0]["Amount"] = Decimal("1710.00")
		self.bk.update("Invoice", inv_qbo, {"Line": edited})
		self.pull()
		conflicts = self.store.list_conflicts(
			self.realm_id, status=C.OPEN, local_type=C.INVOICE, local_id=si.name
		)
		self.assertEqual(len(conflicts), 1)
		conflict = conflicts[0]
		self.assertEqual(conflict.kind, "transaction_edited")
		self.assertEqual(Decimal(conflict.local_version["lines"][0]["qty"]), Decimal("40"))
		self.assertEqual(Decimal(conflict.qbo_version["lines"][0]["qty"]), Decimal("38"))
		row = frappe.get_doc(K.CONFLICT, conflict.id)
		self.assertEqual(
			(row.status, row.reference_doctype, row.reference_name), ("Open", "Sales Invoice", si.name)
		)
		si.reload()
		self.assertEqual((si.docstatus, si.items[0].qty, _money(si.grand_total)), (1, 40, Decimal("2171.25")))

		# 5. a partial payment recorded in QBO: a submitted Payment Entry, outstanding follows -------------
		self.bk.receive_payment(acme_qbo, "1000.00", [inv_qbo])
		self.pull()
		payments = self.store.list_mappings(self.realm_id, C.PAYMENT)
		self.assertEqual(len(payments), 1)
		pe = frappe.get_doc("Payment Entry", payments[0].local_id)
		self.assertEqual((pe.docstatus, pe.party, _money(pe.paid_amount)), (1, acme, Decimal("1000.00")))
		self.assertEqual(
			[(r.reference_name, _money(r.allocated_amount)) for r in pe.references],
			[(si.name, Decimal("1000.00"))],
		)
		self.assertEqual(
			_money(frappe.db.get_value("Sales Invoice", si.name, "outstanding_amount")), Decimal("1171.25")
		)
		self.assertEqual(frappe.db.get_value("Sales Invoice", si.name, "status"), "Partly Paid")
		self.assertEqual(
			self.store.list_outbox(self.realm_id, states=C.OPEN_STATES, local_type=C.PAYMENT), []
		)

		# 6. the reconciliation report shows the month ------------------------------------------------------
		from nexora_qbo.nexora_qbo.report.qbo_sync_reconciliation.qbo_sync_reconciliation import execute

		month = datetime.now(timezone.utc).strftime("%Y-%m")
		result = execute({"realm": self.realm, "month": month})
		data = result[1]
		synced = {(r.get("entity"), r.get("action")) for r in data if r.get("count") and r.get("action")}
		self.assertIn(("Invoice", "created"), synced)
		self.assertIn(("Payment", "imported"), synced)
		self.assertIn(("Customer", "imported"), synced)
		review = [r for r in data if r.get("conflict") and str(r.get("conflict")) == str(conflict.id)]
		self.assertEqual(len(review), 1)
		audit = self.store.list_audit(self.realm_id)
		self.assertTrue(any(a.operation == "create" and a.qbo_entity == "Invoice" for a in audit))

	def test_b_qbo_invoices_imported_held_and_voided(self):
		"""Invoices typed in QBO: imported submitted when ERPNext's total agrees to the cent, held for review
		(nothing booked) when it does not, and cancelled here when a void is accepted."""
		with inbound():
			self.engine.initial_import(self.realm_id)  # idempotent: already imported records are unchanged
		customer = "Bluebonnet Health"
		cust_qbo = self.qbo_id(C.CUSTOMER, customer)
		per_diem = self.qbo_id(C.ITEM, "Per Diem")

		def line(qty, price, amount):
			return {
				"DetailType": "SalesItemLineDetail",
				"Amount": Decimal(amount),
				"SalesItemLineDetail": {
					"ItemRef": {"value": per_diem},
					"Qty": qty,
					"UnitPrice": Decimal(price),
				},
			}

		good = self.bk.create(
			"Invoice", {"CustomerRef": {"value": cust_qbo}, "Line": [line(2, "75.00", "150.00")]}
		)
		# 3 x 33.333 is 100.00 in QBO (rounded per line); ERPNext keeps rates to the cent: 3 x 33.33 = 99.99
		odd = self.bk.create(
			"Invoice", {"CustomerRef": {"value": cust_qbo}, "Line": [line(3, "33.333", "100.00")]}
		)
		self.pull()

		imported = self.store.get_mapping_by_qbo(self.realm_id, "Invoice", good["Id"])
		self.assertIsNotNone(imported)
		si = frappe.get_doc("Sales Invoice", imported.local_id)
		self.assertEqual(
			(si.docstatus, si.customer, _money(si.grand_total)), (1, customer, Decimal("150.00"))
		)
		self.assertEqual(outbox_for("Sales Invoice", si.name, self.realm), [])  # imported, not echoed back

		self.assertIsNone(self.store.get_mapping_by_qbo(self.realm_id, "Invoice", odd["Id"]))
		held = [
			c for c in self.store.list_conflicts(self.realm_id, status=C.OPEN) if c.qbo_id == str(odd["Id"])
		]
		self.assertEqual(len(held), 1)
		self.assertIn("99.99", held[0].reason)
		self.assertIn("100.00", held[0].reason)
		self.assertEqual(
			frappe.db.count("Sales Invoice", {"company": COMPANY, "customer": customer, "docstatus": 1}), 1
		)

		# the bookkeeper voids the imported invoice; the realm holds voids for review; accepting cancels it here
		self.bk.void("Invoice", good["Id"])
		self.pull()
		voids = self.store.list_conflicts(
			self.realm_id, status=C.OPEN, local_type=C.INVOICE, local_id=si.name
		)
		self.assertEqual([c.kind for c in voids], ["remote_void"])
		self.assertEqual(frappe.db.get_value("Sales Invoice", si.name, "docstatus"), 1)
		self.engine.resolve_conflict(voids[0].id, C.ACTION_ACCEPT_QBO, by="Administrator")
		self.assertEqual(frappe.db.get_value("Sales Invoice", si.name, "docstatus"), 2)
		self.assertEqual(
			outbox_for("Sales Invoice", si.name, self.realm), []
		)  # the cancel came from QBO: no void echo

	def test_c_credit_note_and_payment_made_in_erpnext_reach_qbo(self):
		"""The other direction for transactions: a credit note and a partial Payment Entry submitted in ERPNext
		are pushed (CreditMemo, Payment applied to the invoice), and cancelling the payment voids it in QBO."""
		from erpnext.accounts.doctype.payment_entry.payment_entry import get_payment_entry
		from erpnext.controllers.sales_and_purchase_return import make_return_doc

		with inbound():
			self.engine.initial_import(self.realm_id)
		customer = "Lone Star Manufacturing"
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
						"qty": 10,
						"rate": 45,
						"income_account": f"Sales - {ABBR}",
						"cost_center": f"Main - {ABBR}",
					},
					{
						"item_code": "Per Diem",
						"qty": 2,
						"rate": 75,
						"income_account": f"Sales - {ABBR}",
						"cost_center": f"Main - {ABBR}",
					},
				],
			}
		).insert()
		si.submit()
		ret = make_return_doc("Sales Invoice", si.name)
		ret.items = [row for row in ret.items if row.item_code == "Per Diem"]
		ret.items[0].qty = -1
		ret.update_outstanding_for_self = 0  # the credit is booked against the invoice's outstanding
		ret.insert()
		ret.submit()
		self.assertEqual(self.outstanding(si.name), Decimal("525.00"))
		pe = get_payment_entry("Sales Invoice", si.name, party_amount=200)
		pe.reference_no, pe.reference_date = "ACH-77", nowdate()
		pe.insert()
		pe.submit()
		self.assertEqual(outbox_for("Payment Entry", pe.name, self.realm), ["create"])
		pushed = self.engine.push(self.realm_id)
		self.assertEqual(pushed.get("parked", 0), 0, pushed)

		cm = self.bk.read("CreditMemo", self.qbo_id(C.CREDIT_MEMO, ret.name))
		self.assertEqual(_money(cm["TotalAmt"]), Decimal("75.00"))
		payment = self.bk.read("Payment", self.qbo_id(C.PAYMENT, pe.name))
		self.assertEqual(_money(payment["TotalAmt"]), Decimal("200.00"))
		inv_qbo = self.qbo_id(C.INVOICE, si.name)
		self.assertEqual(
			[(ln["LinkedTxn"][0]["TxnId"], _money(ln["Amount"])) for ln in payment["Line"]],
			[(inv_qbo, Decimal("200.00"))],
		)
		# both books agree document by document: the credit note applied to its invoice (the engine links
		# them in QBO with a zero payment), the partial payment on the invoice
		cm_qbo = self.qbo_id(C.CREDIT_MEMO, ret.name)
		self.assertEqual(self.outstanding(si.name), Decimal("325.00"))
		self.assertEqual(_money(self.bk.read("Invoice", inv_qbo)["Balance"]), Decimal("325.00"))
		self.assertEqual(self.outstanding(ret.name), Decimal("0.00"))
		self.assertEqual(_money(self.bk.read("CreditMemo", cm_qbo)["RemainingCredit"]), Decimal("0.00"))
		# the zero payment that applies the credit comes back on the next pull and is not booked twice
		payments_before = len(self.store.list_mappings(self.realm_id, C.PAYMENT))
		counts = self.pull()
		self.assertEqual(counts.get("parked", 0), 0, counts)
		self.assertEqual(self.outstanding(si.name), Decimal("325.00"))
		self.assertEqual(len(self.store.list_mappings(self.realm_id, C.PAYMENT)), payments_before)

		pe.reload()
		pe.cancel()
		self.assertIn("cancel", outbox_for("Payment Entry", pe.name, self.realm))
		self.engine.push(self.realm_id)
		self.assertEqual(self.outstanding(si.name), Decimal("525.00"))
		self.assertEqual(_money(self.bk.read("Invoice", inv_qbo)["Balance"]), Decimal("525.00"))
		self.assertEqual(self.store.get_mapping(self.realm_id, C.PAYMENT, pe.name).status, C.VOIDED)

	def test_d_credit_memo_applied_in_qbo_follows_in_erpnext(self):
		"""The bookkeeper issues a credit memo in QBO and applies it to an invoice with a zero payment: ERPNext
		gets the credit note and a "Credit Note" journal entry, and both invoices agree on what is owed."""
		with inbound():
			self.engine.initial_import(self.realm_id)
		customer = "Bluebonnet Health"
		cust_qbo = self.qbo_id(C.CUSTOMER, customer)
		per_diem = self.qbo_id(C.ITEM, "Per Diem")

		def line(qty, amount):
			return {
				"DetailType": "SalesItemLineDetail",
				"Amount": Decimal(amount),
				"SalesItemLineDetail": {
					"ItemRef": {"value": per_diem},
					"Qty": qty,
					"UnitPrice": Decimal("75.00"),
				},
			}

		inv = self.bk.create("Invoice", {"CustomerRef": {"value": cust_qbo}, "Line": [line(4, "300.00")]})
		cm = self.bk.create("CreditMemo", {"CustomerRef": {"value": cust_qbo}, "Line": [line(1, "75.00")]})
		self.bk.create(
			"Payment",
			{
				"CustomerRef": {"value": cust_qbo},
				"TotalAmt": Decimal("0"),
				"Line": [
					{"Amount": Decimal("75.00"), "LinkedTxn": [{"TxnId": inv["Id"], "TxnType": "Invoice"}]},
					{"Amount": Decimal("75.00"), "LinkedTxn": [{"TxnId": cm["Id"], "TxnType": "CreditMemo"}]},
				],
			},
		)
		counts = self.pull()
		self.assertEqual(counts.get("parked", 0), 0, counts)
		si = self.store.get_mapping_by_qbo(self.realm_id, "Invoice", inv["Id"]).local_id
		note = self.store.get_mapping_by_qbo(self.realm_id, "CreditMemo", cm["Id"]).local_id
		self.assertEqual(frappe.db.get_value("Sales Invoice", note, ["is_return", "docstatus"]), (1, 1))
		self.assertEqual(self.outstanding(si), Decimal("225.00"))
		self.assertEqual(self.outstanding(note), Decimal("0.00"))
		self.assertEqual(_money(self.bk.read("Invoice", inv["Id"])["Balance"]), self.outstanding(si))

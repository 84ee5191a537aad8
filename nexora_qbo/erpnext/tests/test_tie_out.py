"""The AR tie-out in the bench: FrappeLedger.open_balances on real ERPNext invoices, returns and Payment
Entries; the tie-out against the local QBO sandbox over real HTTP; the QBO Tie Out row kept per realm and day;
an unexplained difference as a review item that a later tie-out resolves; the reconciliation report's cards
and drill-down rows."""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal

import frappe
from frappe.tests.utils import FrappeTestCase
from frappe.utils import getdate, nowdate

from nexora_qbo.erpnext import constants as K
from nexora_qbo.erpnext.events import inbound
from nexora_qbo.erpnext.ledger import FrappeLedger
from nexora_qbo.erpnext.tests.utils import SandboxRealmCase
from nexora_qbo.sync import constants as C

COMPANY = "_Test NQB TieOut"
ABBR = "_TNQT"


def _money(value) -> Decimal:
	return Decimal(str(value)).quantize(Decimal("0.01"))


class TestTieOut(SandboxRealmCase, FrappeTestCase):
	COMPANY, ABBR, REALM_PREFIX, SANDBOX_NAME = COMPANY, ABBR, "9351", "Nexora Tie-out (QBO sandbox)"

	def test_open_balances_tie_out_persistence_unexplained_item_and_report(self):
		from erpnext.accounts.doctype.payment_entry.payment_entry import get_payment_entry
		from erpnext.controllers.sales_and_purchase_return import make_return_doc

		from nexora_qbo.nexora_qbo.report.qbo_sync_reconciliation.qbo_sync_reconciliation import execute

		with inbound():
			self.engine.initial_import(self.realm_id)
		acme, blue = "Acme Logistics", "Bluebonnet Health"
		si1 = self._invoice(acme, 40)  # 1800
		si2 = self._invoice(blue, 10)  # 450
		# a partial payment on si1 and a payment on account (unallocated) from Acme
		pe = get_payment_entry("Sales Invoice", si1.name, party_amount=500)
		pe.reference_no, pe.reference_date = "ACH-1", nowdate()
		pe.insert()
		pe.submit()
		on_account = frappe.get_doc({
			"doctype": "Payment Entry",
			"payment_type": "Receive",
			"company": COMPANY,
			"posting_date": getdate(nowdate()),
			"party_type": "Customer",
			"party": acme,
			"paid_from": f"Debtors - {ABBR}",
			"paid_to": f"Cash - {ABBR}",
			"paid_amount": 100,
			"received_amount": 100,
			"source_exchange_rate": 1,
			"target_exchange_rate": 1,
			"reference_no": "ACH-2",
			"reference_date": nowdate(),
		}).insert()
		on_account.submit()
		# a standalone credit note for Bluebonnet (a return whose credit stays open on the customer)
		ret = make_return_doc("Sales Invoice", si2.name)
		ret.items[0].qty = -1
		ret.update_outstanding_for_self = 1
		ret.insert()
		ret.submit()

		# 1. the ledger's open balances, as ERPNext carries them
		rows = {(r["local_type"], r["local_id"]): r for r in FrappeLedger().open_balances(COMPANY, getdate(nowdate()))}
		self.assertEqual(rows[(C.INVOICE, si1.name)]["outstanding"], Decimal("1300.00"))
		self.assertEqual(rows[(C.INVOICE, si2.name)]["outstanding"], Decimal("450.00"))
		self.assertEqual(rows[(C.CREDIT_MEMO, ret.name)]["outstanding"], Decimal("-45.00"))
		self.assertEqual(rows[(C.PAYMENT, on_account.name)]["outstanding"], Decimal("-100.00"))
		self.assertNotIn((C.PAYMENT, pe.name), rows)  # fully allocated
		self.assertEqual(rows[(C.INVOICE, si1.name)]["customer"], acme)
		self.assertEqual(rows[(C.INVOICE, si1.name)]["outstanding_home"], Decimal("1300.00"))

		# 2. pushed: the books tie, and the day's result is kept
		pushed = self.engine.push(self.realm_id)
		self.assertEqual(pushed.get("parked", 0), 0, pushed)
		with inbound():
			self.engine.pull(self.realm_id)
		result = self.engine.tie_out(self.realm_id)
		self.assertEqual([r.label for r in result.differences], [])
		self.assertEqual(result.unexplained_count, 0)
		today = datetime.now(timezone.utc).date()
		row = frappe.get_doc(K.TIE_OUT, f"{self.realm_id}:{today.isoformat()}")
		self.assertEqual((row.realm, row.unexplained, row.differences), (self.realm, 0, 0))
		self.assertEqual(_money(row.erpnext_ar), _money(row.qbo_ar))
		self.assertEqual(_money(row.erpnext_ar), Decimal("1605.00"))  # 1300 + 450 - 45 - 100

		# 3. a payment applied straight in QBO, not pulled yet: an unexplained difference, one review item
		self.bk.receive_payment(self.qbo_id(C.CUSTOMER, blue), "200.00", [self.qbo_id(C.INVOICE, si2.name)])
		result = self.engine.tie_out(self.realm_id)
		self.assertEqual(result.unexplained_count, 1)
		items = self.store.list_conflicts(self.realm_id, status=C.OPEN, local_type=C.INVOICE, local_id=si2.name)
		self.assertEqual([c.kind for c in items], [C.UNEXPLAINED_DIFFERENCE])
		doc = frappe.get_doc(K.CONFLICT, items[0].id)
		self.assertEqual((doc.reference_doctype, doc.reference_name), ("Sales Invoice", si2.name))
		self.engine.tie_out(self.realm_id)  # refreshed, not duplicated
		self.assertEqual(len(self.store.list_conflicts(self.realm_id, status=C.OPEN, local_id=si2.name)), 1)
		self.assertEqual(frappe.db.count(K.TIE_OUT, {"realm": self.realm}), 1)  # the day's row replaced

		# 4. the report: cards and the drill-down rows of the month-end tie-out
		month = today.strftime("%Y-%m")
		_cols, data, _msg, chart, cards = execute({"realm": self.realm, "month": month, "view": "AR tie-out"})
		by_label = {c["label"]: c["value"] for c in cards}
		self.assertEqual(by_label["Unexplained"], 1)
		self.assertEqual(by_label[f"AR difference ({today.isoformat()})"], 200.0)
		[diff] = [r for r in data if r.get("reference_name") == si2.name]
		self.assertEqual((diff["reference_doctype"], diff["difference"], diff["conflict"]),
			("Sales Invoice", 200.0, items[0].id))
		self.assertNotIn("<a ", diff["qbo_link"])  # a custom (local sandbox) realm has no QBO web page
		self.assertEqual(chart["type"], "bar")  # one day of the trend: a line of one point would not show
		self.assertEqual(diff["action"], "Unexplained")  # the cause in words, never its key
		self.assertNotIn("direction", [c["fieldname"] for c in _cols])  # the tie-out view's own columns
		# its totals row counts what differs as a bookkeeper does: the invoice, and its customer (their sum)
		[totals] = [r for r in data if r["section"] == "AR tie-out: totals"]
		self.assertEqual(totals["action"], "1 document differs, 1 customer differs, 1 unexplained")
		self.assertEqual(totals["difference"], 200.0)

		# 5. the pull brings the payment in; the next tie-out finds the books agree and resolves the item
		with inbound():
			self.engine.pull(self.realm_id)
		result = self.engine.tie_out(self.realm_id)
		self.assertEqual((len(result.differences), result.unexplained_count), (0, 0))
		self.assertEqual(self.store.get_conflict(items[0].id).status, C.RESOLVED)

		# 6. the books tie again: the tie-out view still has its rows and its trend chart (Frappe's query report
		# draws the chart only when the result has rows; with no difference the view was empty, chart unseen)
		_cols, data, _msg, chart, _cards = execute({"realm": self.realm, "month": month, "view": "AR tie-out"})
		self.assertTrue(data)
		[totals] = [r for r in data if r["section"] == "AR tie-out: totals"]
		self.assertEqual((totals["erpnext_amount"], totals["qbo_amount"], totals["difference"]), (1405.0, 1405.0, 0.0))
		self.assertEqual(totals["action"], "Books tie")
		self.assertEqual(chart["data"]["labels"], [today.isoformat()])
		values = {d["name"]: d["values"] for d in chart["data"]["datasets"]}
		self.assertEqual(values, {"ERPNext AR": [1405.0], "QuickBooks A/R": [1405.0], "Difference": [0.0]})

	def test_qbo_web_links_per_environment(self):
		from nexora_qbo.nexora_qbo.report.qbo_sync_reconciliation.qbo_sync_reconciliation import qbo_app_url

		self.assertEqual(qbo_app_url("production", "Invoice", "130"), "https://app.qbo.intuit.com/app/invoice?txnId=130")
		self.assertEqual(qbo_app_url("sandbox", "Payment", "7"),
			"https://app.sandbox.qbo.intuit.com/app/recvpayment?txnId=7")
		self.assertIsNone(qbo_app_url("custom", "Invoice", "130"))

"""FrappeLedger on real ERPNext documents: canonical records both ways, matching, echo suppression,
amounts to the cent, credit notes, partial and multi-invoice payments, cancels."""

from __future__ import annotations

from decimal import Decimal

import frappe
from frappe.tests.utils import FrappeTestCase, change_settings
from frappe.utils import add_days, getdate, nowdate

from nexora_qbo.erpnext import constants as K
from nexora_qbo.erpnext.ledger import FrappeLedger
from nexora_qbo.erpnext.mappers import AmountMismatch, CannotCancel, LedgerError, MissingMasterData
from nexora_qbo.erpnext.tests.utils import ensure_company, make_realm, outbox_for
from nexora_qbo.sync import constants as C
from nexora_qbo.sync import records as R
from nexora_qbo.sync.errors import SyncError

COMPANY = "_Test NQB Ledger"
ABBR = "_TNQL"
REALM_ID = "LEDGER-1"


class TestFrappeLedger(FrappeTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		ensure_company(COMPANY, ABBR)
		cls.realm = make_realm(COMPANY, REALM_ID)
		cls.ledger = FrappeLedger()
		cls.today = getdate(nowdate())
		cls.customer = cls.ledger.upsert_from_qbo(
			COMPANY,
			C.CUSTOMER,
			None,
			{
				"display_name": "Ledger Test Customer",
				"company_name": "Ledger Test Customer",
				"email": "ap@ledger-test.example",
			},
		)
		cls.hours = cls.ledger.upsert_from_qbo(
			COMPANY,
			C.ITEM,
			None,
			{
				"name": "NQB Staffing Hours",
				"type": "Service",
				"rate": "45.00",
				"description": "Regular hours",
			},
		)
		cls.overtime = cls.ledger.upsert_from_qbo(
			COMPANY, C.ITEM, None, {"name": "NQB Overtime Hours", "type": "Service", "rate": "67.50"}
		)

	# helpers ----------------------------------------------------------------------------------------------
	def invoice_record(self, lines, tax_total="0", **kw):
		lines = [dict(line) for line in lines]
		for line in lines:
			line.setdefault("amount", R.line_amount(line["qty"], line["rate"]))
		total = sum((R.money(line["amount"]) for line in lines), Decimal(0)) + R.money(tax_total)
		rec = {
			"doc_number": "1001",
			"customer": self.customer,
			"txn_date": str(self.today),
			"due_date": str(add_days(self.today, 30)),
			"currency": "USD",
			"exchange_rate": 1,
			"lines": lines,
			"tax_total": tax_total,
			"total": total,
		}
		rec.update(kw)
		return rec

	def import_invoice(self, amount_lines, **kw):
		return self.ledger.upsert_from_qbo(COMPANY, C.INVOICE, None, self.invoice_record(amount_lines, **kw))

	def outstanding(self, name):
		return Decimal(str(frappe.db.get_value("Sales Invoice", name, "outstanding_amount"))).quantize(R.CENT)

	# customers ----------------------------------------------------------------------------------------------
	def test_customer_from_qbo_and_back(self):
		rec = {
			"display_name": "Bluebonnet Health NQB",
			"company_name": "Bluebonnet Health NQB",
			"email": "Billing@Bluebonnet-nqb.example",
			"phone": "(512) 555-0101",
			"tax_id": "74-1234567",
			"notes": "Send to AP portal",
			"billing_address": {
				"line1": "88 Medical Pkwy",
				"city": "Dallas",
				"region": "TX",
				"postal_code": "75390",
				"country": "US",
			},
			"active": True,
		}
		name = self.ledger.upsert_from_qbo(COMPANY, C.CUSTOMER, None, rec)
		got = self.ledger.get(COMPANY, C.CUSTOMER, name)
		self.assertEqual(got["display_name"], "Bluebonnet Health NQB")
		self.assertEqual(got["email"], "billing@bluebonnet-nqb.example")
		self.assertEqual(got["phone"], "(512) 555-0101")
		self.assertEqual(got["tax_id"], "74-1234567")
		self.assertEqual(got["notes"], "Send to AP portal")
		self.assertEqual(got["billing_address"]["city"], "Dallas")
		self.assertEqual(got["billing_address"]["country"], "United States")
		# written from QBO: no outbox intent, although the realm pushes new masters (echo suppression)
		self.assertEqual(outbox_for("Customer", name, self.realm), [])
		# an update from QBO (merged record) changes the contact, still without an echo
		self.ledger.upsert_from_qbo(
			COMPANY, C.CUSTOMER, name, {**got, "phone": "(214) 555-0199", "active": False}
		)
		again = self.ledger.get(COMPANY, C.CUSTOMER, name)
		self.assertEqual(again["phone"], "(214) 555-0199")
		self.assertFalse(again["active"])
		self.assertEqual(outbox_for("Customer", name, self.realm), [])

	def test_a_user_edit_does_record_an_intent(self):
		"""The control for the echo test: the same kind of save without the sync's flags is sent to QBO
		(for a customer this realm already has: a new one goes nowhere until the Company uses it)."""
		doc = frappe.get_doc(
			{
				"doctype": "Customer",
				"customer_name": "Typed By Ops NQB",
				"customer_group": frappe.db.get_value("Customer Group", {"is_group": 0}),
				"territory": frappe.db.get_value("Territory", {"is_group": 0}),
			}
		).insert()
		self.assertEqual(outbox_for("Customer", doc.name, self.realm), [])
		from nexora_qbo.erpnext.guards import engine_writes

		with engine_writes():  # the mapping is the sync's own row (issue 8): seeded as the engine writes it
			frappe.get_doc(
				{
					"doctype": K.ENTITY_MAP,
					"realm": self.realm,
					"local_type": "customer",
					"reference_doctype": "Customer",
					"reference_name": doc.name,
					"qbo_entity": "Customer",
					"qbo_id": "9901",
				}
			).insert(ignore_permissions=True)
		doc.customer_details = "typed by ops"
		doc.save()
		self.assertEqual(outbox_for("Customer", doc.name, self.realm), ["update"])

	def test_find_match_customer_by_stable_keys_never_by_suffixed_name(self):
		first = self.ledger.upsert_from_qbo(COMPANY, C.CUSTOMER, None, {"display_name": "Twin Staffing NQB"})
		second = self.ledger.upsert_from_qbo(
			COMPANY, C.CUSTOMER, None, {"display_name": "Twin Staffing NQB", "email": "two@twin.example"}
		)
		self.assertEqual(second, f"{first} - 1")
		match = lambda rec: self.ledger.find_match(COMPANY, C.CUSTOMER, rec)  # noqa: E731
		self.assertEqual(match({"display_name": "twin  staffing nqb"}), first)
		self.assertEqual(match({"display_name": "Someone Else", "email": "TWO@twin.example"}), second)
		self.assertEqual(match({"display_name": "Ledger Test Customer - 1"}), None)
		self.assertEqual(match({"display_name": "Nobody NQB"}), None)

	# items --------------------------------------------------------------------------------------------------
	def test_item_from_qbo_and_back(self):
		income = f"Service - {ABBR}"
		if not frappe.db.exists("Account", income):
			income = f"Sales - {ABBR}"
		realm = frappe.get_doc(K.REALM, self.realm)
		realm.append("reference_maps", {"map_type": "Account", "local_value": income, "qbo_id": "1"})
		realm.save()
		name = self.ledger.upsert_from_qbo(
			COMPANY,
			C.ITEM,
			None,
			{
				"name": "NQB Per Diem",
				"type": "NonInventory",
				"rate": "75.00",
				"description": "Daily per diem",
				"income_account": income,
			},
		)
		got = self.ledger.get(COMPANY, C.ITEM, name)
		self.assertEqual(
			(got["name"], got["rate"], got["description"]), ("NQB Per Diem", Decimal("75"), "Daily per diem")
		)
		self.assertEqual(got["income_account"], income)
		self.assertEqual(
			frappe.db.get_value("Item Default", {"parent": name, "company": COMPANY}, "income_account"),
			income,
		)
		self.assertEqual(frappe.db.get_value("Item", name, "is_stock_item"), 0)
		self.assertEqual(outbox_for("Item", name, self.realm), [])
		self.assertEqual(self.ledger.find_match(COMPANY, C.ITEM, {"name": "nqb per diem"}), name)

	# invoices -----------------------------------------------------------------------------------------------
	def test_invoice_from_qbo_is_submitted_with_qbo_amounts_and_reads_back(self):
		past = add_days(self.today, -3)
		name = self.import_invoice(
			[
				{"item": self.hours, "qty": "40", "rate": "45.00", "description": "Week 45"},
				{"item": self.overtime, "qty": "4.5", "rate": "67.50"},
			],
			tax_total="12.34",
			txn_date=str(past),
			due_date=str(add_days(past, 30)),
		)
		si = frappe.get_doc("Sales Invoice", name)
		self.assertEqual(si.docstatus, 1)
		self.assertEqual(getdate(si.posting_date), getdate(past))
		self.assertEqual(si.set_posting_time, 1)
		self.assertEqual(Decimal(str(si.grand_total)).quantize(R.CENT), Decimal("2116.09"))
		self.assertTrue(si.flags.get(K.DOC_ORIGIN_FLAG) is None)  # flags live on the saved object only
		self.assertEqual(outbox_for("Sales Invoice", name, self.realm), [])
		got = self.ledger.get(COMPANY, C.INVOICE, name)
		self.assertEqual(got["state"], "submitted")
		self.assertEqual(got["total"], Decimal("2116.09"))
		self.assertEqual(got["tax_total"], Decimal("12.34"))
		self.assertEqual(got["outstanding"], Decimal("2116.09"))
		self.assertEqual(
			[(ln["item"], ln["qty"], ln["amount"]) for ln in got["lines"]],
			[
				(self.hours, Decimal("40"), Decimal("1800.00")),
				(self.overtime, Decimal("4.5"), Decimal("303.75")),
			],
		)
		self.assertEqual(got["lines"][0]["description"], "Week 45")
		self.assertIn(name, self.ledger.list_ids(COMPANY, C.INVOICE))
		self.assertEqual(
			self.ledger.find_match(COMPANY, C.INVOICE, {"doc_number": name, "customer": self.customer}), name
		)

	def test_total_mismatch_is_reported_not_forced(self):
		rec = self.invoice_record([{"item": self.hours, "qty": "10", "rate": "45.00"}])
		rec["total"] = Decimal("450.01")
		before = frappe.db.count("Sales Invoice", {"company": COMPANY})
		with self.assertRaises(AmountMismatch) as ctx:
			self.ledger.upsert_from_qbo(COMPANY, C.INVOICE, None, rec)
		self.assertIn("450.00", str(ctx.exception))
		self.assertIn("450.01", str(ctx.exception))
		self.assertTrue(isinstance(ctx.exception, SyncError))  # the engine parks it as a review item
		self.assertEqual(
			frappe.db.count("Sales Invoice", {"company": COMPANY}), before
		)  # no draft left behind

	def test_missing_master_data_is_a_readable_error(self):
		rec = self.invoice_record([{"item": "No Such Item NQB", "qty": "1", "rate": "10"}])
		with self.assertRaises(MissingMasterData) as ctx:
			self.ledger.upsert_from_qbo(COMPANY, C.INVOICE, None, rec)
		self.assertIn("No Such Item NQB", str(ctx.exception))
		self.assertIn("not in ERPNext", str(ctx.exception))

	def test_local_invoice_reads_as_canonical_and_records_intent(self):
		si = frappe.get_doc(
			{
				"doctype": "Sales Invoice",
				"company": COMPANY,
				"customer": self.customer,
				"posting_date": self.today,
				"due_date": add_days(self.today, 30),
				"currency": "USD",
				"debit_to": f"Debtors - {ABBR}",
				"items": [
					{
						"item_code": self.hours,
						"qty": 8,
						"rate": 45,
						"income_account": f"Sales - {ABBR}",
						"cost_center": f"Main - {ABBR}",
					}
				],
			}
		)
		si.insert()
		si.submit()
		self.assertEqual(outbox_for("Sales Invoice", si.name, self.realm), ["create"])
		got = self.ledger.get(COMPANY, C.INVOICE, si.name)
		self.assertEqual(
			(got["doc_number"], got["customer"], got["total"]), (si.name, self.customer, Decimal("360.00"))
		)
		self.assertIsNone(self.ledger.get(COMPANY, C.CREDIT_MEMO, si.name))  # an invoice is not a credit memo

	# credit notes -------------------------------------------------------------------------------------------
	def test_credit_memo_against_invoice_reduces_its_outstanding(self):
		inv = self.import_invoice([{"item": self.hours, "qty": "20", "rate": "45.00"}])
		cm = self.ledger.upsert_from_qbo(
			COMPANY,
			C.CREDIT_MEMO,
			None,
			{
				"doc_number": "CM-1",
				"customer": self.customer,
				"txn_date": str(self.today),
				"currency": "USD",
				"lines": [{"item": self.hours, "qty": "2", "rate": "45.00"}],
				"tax_total": "0",
				"total": "90.00",
				"against_invoice": inv,
			},
		)
		doc = frappe.get_doc("Sales Invoice", cm)
		self.assertEqual((doc.is_return, doc.return_against, doc.docstatus), (1, inv, 1))
		self.assertLess(doc.items[0].qty, 0)
		self.assertEqual(self.outstanding(inv), Decimal("810.00"))
		got = self.ledger.get(COMPANY, C.CREDIT_MEMO, cm)
		self.assertEqual(
			(got["total"], got["lines"][0]["qty"], got["against_invoice"]),
			(Decimal("90.00"), Decimal("2"), inv),
		)
		self.assertIsNone(self.ledger.get(COMPANY, C.INVOICE, cm))

	def test_standalone_credit_memo_has_its_own_credit(self):
		cm = self.ledger.upsert_from_qbo(
			COMPANY,
			C.CREDIT_MEMO,
			None,
			{
				"customer": self.customer,
				"txn_date": str(self.today),
				"lines": [{"item": self.hours, "qty": "1", "rate": "45.00"}],
				"total": "45.00",
			},
		)
		self.assertEqual(self.outstanding(cm), Decimal("-45.00"))
		self.assertEqual(self.ledger.get(COMPANY, C.CREDIT_MEMO, cm)["outstanding"], Decimal("45.00"))

	# payments -----------------------------------------------------------------------------------------------
	def test_partial_multi_invoice_payment_moves_each_outstanding(self):
		inv1 = self.import_invoice([{"item": self.hours, "qty": "10", "rate": "45.00"}])  # 450
		inv2 = self.import_invoice([{"item": self.overtime, "qty": "8", "rate": "67.50"}])  # 540
		pay = self.ledger.upsert_from_qbo(
			COMPANY,
			C.PAYMENT,
			None,
			{
				"customer": self.customer,
				"txn_date": str(self.today),
				"total": "700.00",
				"currency": "USD",
				"reference": "CHK 1042",
				"applications": [
					{"doc_type": "invoice", "doc_key": inv1, "amount": "450.00"},
					{"doc_type": "invoice", "doc_key": inv2, "amount": "200.00"},
				],
				"unapplied": "50.00",
			},
		)
		pe = frappe.get_doc("Payment Entry", pay)
		self.assertEqual(pe.docstatus, 1)
		self.assertEqual(outbox_for("Payment Entry", pay, self.realm), [])
		self.assertEqual(self.outstanding(inv1), Decimal("0.00"))
		self.assertEqual(self.outstanding(inv2), Decimal("340.00"))
		self.assertEqual(frappe.db.get_value("Sales Invoice", inv1, "status"), "Paid")
		self.assertIn(frappe.db.get_value("Sales Invoice", inv2, "status"), ("Partly Paid", "Unpaid"))
		got = self.ledger.get(COMPANY, C.PAYMENT, pay)
		self.assertEqual(got["total"], Decimal("700.00"))
		self.assertEqual(got["unapplied"], Decimal("50.00"))
		self.assertEqual(got["reference"], "CHK 1042")
		self.assertEqual(
			got["applications"],
			[
				{"doc_type": "invoice", "doc_key": inv1, "amount": Decimal("450.00")},
				{"doc_type": "invoice", "doc_key": inv2, "amount": Decimal("200.00")},
			],
		)
		self.assertEqual(self.ledger.get(COMPANY, C.INVOICE, inv2)["outstanding"], Decimal("340.00"))

		# a paid invoice cannot be cancelled while the payment is allocated to it: clear reason
		with change_settings("Accounts Settings", {"unlink_payment_on_cancellation_of_invoice": 0}):
			with self.assertRaises(CannotCancel) as ctx:
				self.ledger.cancel_from_qbo(COMPANY, C.INVOICE, inv1, "voided in QuickBooks")
		self.assertIn(pay, str(ctx.exception))
		self.assertIn("Unlink Payment on Cancellation of Invoice", str(ctx.exception))
		self.assertEqual(frappe.db.get_value("Sales Invoice", inv1, "docstatus"), 1)
		# voiding the payment in QBO cancels the Payment Entry and the outstanding amounts come back
		self.ledger.cancel_from_qbo(COMPANY, C.PAYMENT, pay, "voided in QuickBooks")
		self.assertEqual(frappe.db.get_value("Payment Entry", pay, "docstatus"), 2)
		self.assertEqual(self.outstanding(inv1), Decimal("450.00"))
		self.assertEqual(self.outstanding(inv2), Decimal("540.00"))
		self.ledger.cancel_from_qbo(COMPANY, C.INVOICE, inv1, "voided in QuickBooks")
		self.assertEqual(self.ledger.get(COMPANY, C.INVOICE, inv1)["state"], "cancelled")

	def test_paid_invoice_cancel_with_unlink_setting_leaves_an_advance(self):
		inv = self.import_invoice([{"item": self.hours, "qty": "2", "rate": "45.00"}])
		pay = self.ledger.upsert_from_qbo(
			COMPANY,
			C.PAYMENT,
			None,
			{
				"customer": self.customer,
				"txn_date": str(self.today),
				"total": "90.00",
				"applications": [{"doc_type": "invoice", "doc_key": inv, "amount": "90.00"}],
			},
		)
		with change_settings("Accounts Settings", {"unlink_payment_on_cancellation_of_invoice": 1}):
			self.ledger.cancel_from_qbo(COMPANY, C.INVOICE, inv, "voided in QuickBooks")
		self.assertEqual(frappe.db.get_value("Sales Invoice", inv, "docstatus"), 2)
		pe = frappe.get_doc("Payment Entry", pay)
		self.assertEqual(
			(pe.docstatus, Decimal(str(pe.unallocated_amount)).quantize(R.CENT)), (1, Decimal("90.00"))
		)

	def test_over_allocation_is_refused_with_erpnext_reason(self):
		inv = self.import_invoice([{"item": self.hours, "qty": "1", "rate": "45.00"}])
		with self.assertRaises(LedgerError):
			self.ledger.upsert_from_qbo(
				COMPANY,
				C.PAYMENT,
				None,
				{
					"customer": self.customer,
					"txn_date": str(self.today),
					"total": "100.00",
					"applications": [{"doc_type": "invoice", "doc_key": inv, "amount": "100.00"}],
					"unapplied": "0",
				},
			)
		self.assertEqual(self.outstanding(inv), Decimal("45.00"))

	def test_disable_master_from_qbo(self):
		item = self.ledger.upsert_from_qbo(
			COMPANY, C.ITEM, None, {"name": "NQB Retired Service", "type": "Service"}
		)
		from nexora_qbo.erpnext.mappers import company_context
		from nexora_qbo.erpnext.mappers import item as item_mapper

		# (Ledger.list_ids adds "used by the company" on top: masters are global, issue 7 section 4)
		self.assertIn(item, item_mapper.list_ids(company_context(COMPANY)))
		self.ledger.cancel_from_qbo(COMPANY, C.ITEM, item, "made inactive in QuickBooks")
		self.assertFalse(self.ledger.get(COMPANY, C.ITEM, item)["active"])
		self.assertNotIn(item, item_mapper.list_ids(company_context(COMPANY)))

	def test_fields_erpnext_cannot_hold_keep_qbos_last_synced_value(self):
		"""A NonInventory item stays NonInventory (ERPNext has only stock/non-stock) and its SKU and taxable
		flag are not wiped: read back from the mapping's snapshot, so they never look like local edits."""
		from nexora_qbo.erpnext.store import FrappeStore
		from nexora_qbo.sync.ports import Mapping

		name = self.ledger.upsert_from_qbo(
			COMPANY,
			C.ITEM,
			None,
			{
				"name": "NQB Safety Vest",
				"type": "NonInventory",
				"rate": "12.00",
				"sku": "VEST-1",
				"taxable": True,
			},
		)
		self.assertEqual(
			self.ledger.get(COMPANY, C.ITEM, name)["type"], "Service"
		)  # unmapped: ERPNext's view
		base = {
			"Id": "77",
			"SyncToken": "0",
			"Name": "NQB Safety Vest",
			"Type": "NonInventory",
			"Sku": "VEST-1",
			"UnitPrice": Decimal("12.00"),
			"Taxable": True,
			"Active": True,
		}
		FrappeStore().save_mapping(
			Mapping(
				realm_id=REALM_ID,
				local_type=C.ITEM,
				local_id=name,
				qbo_entity="Item",
				qbo_id="77",
				sync_token="0",
				base=base,
			)
		)
		got = self.ledger.get(COMPANY, C.ITEM, name)
		self.assertEqual(
			(got["type"], got["sku"], got["taxable"], got["rate"]),
			("NonInventory", "VEST-1", True, Decimal("12")),
		)
		# a customer's CompanyName that differs from its display name survives the same way
		cust = self.ledger.upsert_from_qbo(
			COMPANY,
			C.CUSTOMER,
			None,
			{"display_name": "Gulf Welding NQB", "company_name": "Gulf Coast Welding LLC", "terms": "qbo:3"},
		)
		FrappeStore().save_mapping(
			Mapping(
				realm_id=REALM_ID,
				local_type=C.CUSTOMER,
				local_id=cust,
				qbo_entity="Customer",
				qbo_id="78",
				sync_token="0",
				base={
					"Id": "78",
					"DisplayName": "Gulf Welding NQB",
					"CompanyName": "Gulf Coast Welding LLC",
					"SalesTermRef": {"value": "3"},
					"Active": True,
				},
			)
		)
		got = self.ledger.get(COMPANY, C.CUSTOMER, cust)
		self.assertEqual((got["company_name"], got["terms"]), ("Gulf Coast Welding LLC", "qbo:3"))

	def test_class_map_puts_invoice_on_the_mapped_cost_center(self):
		cc = frappe.get_doc(
			{
				"doctype": "Cost Center",
				"cost_center_name": "Healthcare NQB",
				"company": COMPANY,
				"parent_cost_center": f"{COMPANY} - {ABBR}",
				"is_group": 0,
			}
		).insert()
		realm = frappe.get_doc(K.REALM, self.realm)
		realm.append("reference_maps", {"map_type": "Cost Center", "local_value": cc.name, "qbo_id": "300"})
		realm.save()
		name = self.import_invoice([{"item": self.hours, "qty": "1", "rate": "45.00"}], class_=cc.name)
		si = frappe.get_doc("Sales Invoice", name)
		self.assertEqual((si.cost_center, si.items[0].cost_center), (cc.name, cc.name))
		self.assertEqual(self.ledger.get(COMPANY, C.INVOICE, name)["class_"], cc.name)

	def test_zero_payment_applying_a_credit_memo_is_a_credit_note_journal_entry(self):
		"""QBO: a payment of 0 that applies a standalone credit memo to an invoice."""
		inv = self.import_invoice([{"item": self.hours, "qty": "4", "rate": "45.00"}])  # 180
		cm = self.ledger.upsert_from_qbo(
			COMPANY,
			C.CREDIT_MEMO,
			None,
			{
				"customer": self.customer,
				"txn_date": str(self.today),
				"lines": [{"item": self.hours, "qty": "1", "rate": "45.00"}],
				"total": "45.00",
			},
		)
		record = {
			"customer": self.customer,
			"txn_date": str(self.today),
			"total": "0",
			"applications": [
				{"doc_type": "invoice", "doc_key": inv, "amount": "45.00"},
				{"doc_type": "credit_memo", "doc_key": cm, "amount": "45.00"},
			],
		}
		local_id = self.ledger.upsert_from_qbo(COMPANY, C.PAYMENT, None, record)
		self.assertEqual(
			frappe.db.get_value("Journal Entry", local_id, ["voucher_type", "docstatus"]), ("Credit Note", 1)
		)
		self.assertEqual(self.outstanding(inv), Decimal("135.00"))
		self.assertEqual(self.outstanding(cm), Decimal("0.00"))
		got = self.ledger.get(COMPANY, C.PAYMENT, local_id)
		self.assertEqual(
			R.content(C.PAYMENT, got)["applications"], R.content(C.PAYMENT, record)["applications"]
		)
		self.assertEqual(got["total"], Decimal("0.00"))
		# voided in QBO: the application is undone
		self.ledger.cancel_from_qbo(COMPANY, C.PAYMENT, local_id, "voided in QuickBooks")
		self.assertEqual(self.outstanding(inv), Decimal("180.00"))
		self.assertEqual(self.outstanding(cm), Decimal("-45.00"))

	def test_zero_payment_that_is_not_a_credit_application_is_refused(self):
		with self.assertRaises(LedgerError) as ctx:
			self.ledger.upsert_from_qbo(
				COMPANY,
				C.PAYMENT,
				None,
				{"customer": self.customer, "txn_date": str(self.today), "total": "0", "applications": []},
			)
		self.assertIn("Payment Reconciliation", str(ctx.exception))

	def test_payment_applying_cash_and_a_credit_memo(self):
		"""QBO: one payment of 100 pays an invoice of 150 together with a credit memo of 50."""
		inv = self.import_invoice([{"item": self.hours, "qty": "1", "rate": "150.00"}])
		cm = self.ledger.upsert_from_qbo(
			COMPANY,
			C.CREDIT_MEMO,
			None,
			{
				"customer": self.customer,
				"txn_date": str(self.today),
				"lines": [{"item": self.hours, "qty": "1", "rate": "50.00"}],
				"total": "50.00",
			},
		)
		pay = self.ledger.upsert_from_qbo(
			COMPANY,
			C.PAYMENT,
			None,
			{
				"customer": self.customer,
				"txn_date": str(self.today),
				"total": "100.00",
				"applications": [
					{"doc_type": "invoice", "doc_key": inv, "amount": "150.00"},
					{"doc_type": "credit_memo", "doc_key": cm, "amount": "50.00"},
				],
				"unapplied": "0",
			},
		)
		self.assertEqual(self.outstanding(inv), Decimal("0.00"))
		self.assertEqual(self.outstanding(cm), Decimal("0.00"))
		got = self.ledger.get(COMPANY, C.PAYMENT, pay)
		self.assertEqual(
			sorted((a["doc_type"], a["amount"]) for a in got["applications"]),
			[("credit_memo", Decimal("50.00")), ("invoice", Decimal("150.00"))],
		)

	def test_credit_note_keeping_its_own_credit_is_not_against_the_invoice(self):
		"""ERPNext's default return (update_outstanding_for_self=1) leaves the invoice's outstanding alone, so
		for the engine it is an unapplied credit: the engine must not apply it to the invoice in QBO."""
		from erpnext.controllers.sales_and_purchase_return import make_return_doc

		inv = self.import_invoice([{"item": self.hours, "qty": "3", "rate": "45.00"}])
		ret = make_return_doc("Sales Invoice", inv)
		ret.update_outstanding_for_self = 1
		ret.insert()
		ret.submit()
		self.assertEqual(self.outstanding(inv), Decimal("135.00"))
		got = self.ledger.get(COMPANY, C.CREDIT_MEMO, ret.name)
		self.assertIsNone(got["against_invoice"])
		self.assertEqual((got["total"], got["outstanding"]), (Decimal("135.00"), Decimal("135.00")))

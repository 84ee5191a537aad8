"""Issue 11 in the bench: a real ERPNext Timesheet billed as a Sales Invoice reaches an automated-sales-tax QBO
company (sandbox over HTTP) with readable lines; a job site is a QBO sub-customer; per-line taxability from
ERPNext's item tax; QBO's preferences and reference lists shown on the realm."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import frappe
from frappe.tests.utils import FrappeTestCase
from frappe.utils import add_days, getdate, nowdate

from nexora_qbo.erpnext import constants as K
from nexora_qbo.erpnext.events import inbound
from nexora_qbo.erpnext.ledger import FrappeLedger
from nexora_qbo.erpnext.store import FrappeStore
from nexora_qbo.erpnext.tests.utils import ensure_company, make_realm, purge_committed_audit, tax_account
from nexora_qbo.sync import constants as C
from nexora_qbo.sync.engine import SyncEngine
from nexora_qbo.sync.runtime import SystemClock

COMPANY = "_Test NQB Staffing"
ABBR = "_TNQS"


class TestStaffingBilling(FrappeTestCase):
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
		cls.today = getdate(nowdate())
		cls.sb = SandboxServer(seed=31)
		realm_id = "9343" + "".join(secrets.choice("0123456789") for _ in range(11))
		cls.realm_id = cls.sb.create_realm(company_name="Nexora Staffing AST", realm_id=realm_id,
			automated_sales_tax=True)
		cls.sb.set_options(cls.realm_id, per_second=40, per_minute=2000)
		cls.seed = cls.sb.seed_info(cls.realm_id)
		client_id, secret = cls.sb.register_app(redirect_uri=callback_url())
		cls.realm = make_realm(COMPANY, cls.realm_id, base_url=cls.sb.base_url, client_id=client_id,
			client_secret=secret, default_income_account_id=cls.seed["accounts"]["Services"])
		issued = cls.sb.issue_tokens(cls.realm_id, client_id)
		now = datetime.now(timezone.utc)
		RealmTokenStore(realm=cls.realm).save(cls.realm_id, OAuthTokens(access_token=issued["access_token"],
			refresh_token=issued["refresh_token"], expires_at=now + timedelta(seconds=3600),
			refresh_expires_at=now + timedelta(days=100), realm_id=cls.realm_id))
		cls.store = FrappeStore()
		cls.engine = SyncEngine(cls.store, FrappeLedger(cls.store), client_for, RedisRealmLock(), SystemClock(),
			lock_timeout=30)
		cls.bk = Bookkeeper(cls.sb, cls.realm_id)
		cls.prefs = cls.engine.read_preferences(cls.realm_id)
		cls.tax_account = tax_account(COMPANY)
		cls.template = cls._tax_template()
		cls.exempt_tax = cls._item_tax_template()
		cls.reg = cls._item("NQS Regular Hours", 32)
		cls.per_diem = cls._item("NQS Per Diem", 60, item_tax=cls.exempt_tax)
		cls.client = cls._customer("NQS Lone Star Builders", "1200 Freight Way", "Austin", "78744")
		cls.job = cls._customer("NQS Lone Star - North Yard", "1200 Freight Way", "Austin", "78744", parent=cls.client)

	@classmethod
	def tearDownClass(cls):
		cls.sb.stop()
		purge_committed_audit([cls.realm])
		super().tearDownClass()

	# -------------------------------------------------------------------------------------------- setup
	@classmethod
	def _tax_template(cls):
		name = f"NQS Texas 8.25 - {ABBR}"
		if not frappe.db.exists("Sales Taxes and Charges Template", name):
			frappe.get_doc({"doctype": "Sales Taxes and Charges Template", "title": "NQS Texas 8.25", "company": COMPANY,
				"taxes": [{"charge_type": "On Net Total", "account_head": cls.tax_account, "rate": 8.25,
					"description": "Texas sales tax"}]}).insert(ignore_permissions=True)
		return name

	@classmethod
	def _item_tax_template(cls):
		name = f"NQS Non-taxable - {ABBR}"
		if not frappe.db.exists("Item Tax Template", name):
			frappe.get_doc({"doctype": "Item Tax Template", "title": "NQS Non-taxable", "company": COMPANY,
				"taxes": [{"tax_type": cls.tax_account, "tax_rate": 0}]}).insert(ignore_permissions=True)
		return name

	@classmethod
	def _item(cls, code, rate, item_tax=None):
		if not frappe.db.exists("Item", code):
			doc = frappe.get_doc({"doctype": "Item", "item_code": code, "item_group": "Services", "stock_uom": "Nos",
				"is_stock_item": 0, "standard_rate": rate,
				"item_defaults": [{"company": COMPANY, "income_account": f"Sales - {ABBR}",
					"default_warehouse": frappe.db.get_value("Warehouse", {"company": COMPANY, "is_group": 0})}],
				"taxes": [{"item_tax_template": item_tax}] if item_tax else []})
			doc.insert(ignore_permissions=True)
		return code

	@classmethod
	def _customer(cls, name, street, city, zip_code, parent=None):
		if frappe.db.exists("Customer", name):
			return name
		doc = frappe.get_doc({"doctype": "Customer", "customer_name": name, "customer_type": "Company",
			"customer_group": frappe.db.get_value("Customer Group", {"is_group": 0}) or "All Customer Groups",
			"territory": frappe.db.get_value("Territory", {"is_group": 0}) or "All Territories",
			K.CF_PARENT_CUSTOMER: parent, K.CF_BILL_WITH_PARENT: 1 if parent else 0})
		doc.insert(ignore_permissions=True)
		addr = frappe.get_doc({"doctype": "Address", "address_title": name, "address_type": "Billing",
			"address_line1": street, "city": city, "state": "TX", "pincode": zip_code, "country": "United States",
			"links": [{"link_doctype": "Customer", "link_name": doc.name}]})
		addr.insert(ignore_permissions=True)
		frappe.db.set_value("Customer", doc.name, "customer_primary_address", addr.name)
		return doc.name

	def _timesheet_invoice(self, customer):
		from erpnext.projects.doctype.timesheet.timesheet import make_sales_invoice

		activity = "NQS Staffing"
		if not frappe.db.exists("Activity Type", activity):
			frappe.get_doc({"doctype": "Activity Type", "activity_type": activity, "billing_rate": 32}).insert()
		emp = frappe.db.get_value("Employee", {"first_name": "Maria NQS"})
		if not emp:
			emp = frappe.get_doc({"doctype": "Employee", "first_name": "Maria NQS", "last_name": "Lopez",
				"gender": frappe.db.get_value("Gender", {}) or "Female", "date_of_birth": "1990-01-01",
				"date_of_joining": "2020-01-01", "company": COMPANY}).insert(ignore_permissions=True).name
		monday = add_days(self.today, -self.today.weekday() - 7)
		ts = frappe.get_doc({"doctype": "Timesheet", "company": COMPANY, "employee": emp, "customer": customer,
			"time_logs": [{"activity_type": activity, "from_time": f"{monday} 08:00:00", "hours": 40, "is_billable": 1,
				"billing_hours": 40, "billing_rate": 32}]})
		ts.insert(ignore_permissions=True)
		ts.submit()
		si = make_sales_invoice(ts.name, item_code=self.reg, customer=customer)
		si.company = COMPANY
		si.debit_to = f"Debtors - {ABBR}"
		si.taxes_and_charges = self.template
		si.set_taxes()
		for row in si.items:
			row.description = f"Maria Lopez, week of {monday}, 40.00 h regular"
			row.income_account = f"Sales - {ABBR}"
			row.cost_center = f"Main - {ABBR}"
		si.append("items", {"item_code": self.per_diem, "qty": 5, "rate": 60, "income_account": f"Sales - {ABBR}",
			"cost_center": f"Main - {ABBR}", "item_tax_template": self.exempt_tax, "description": "Maria Lopez, per diem, 5 days"})
		si.insert(ignore_permissions=True)
		si.submit()
		return si, monday

	# -------------------------------------------------------------------------------------------- tests
	def test_realm_shows_qbo_preferences_and_the_pull_keeps_reference_lists(self):
		doc = frappe.get_doc(K.REALM, self.realm)
		self.assertIn("Automated sales tax is on", doc.qbo_preferences_summary)
		self.assertTrue(self.store.get_settings(self.realm_id).preferences["automated_sales_tax"])
		self.engine.refresh_references(self.realm_id)
		classes = frappe.get_all(K.QBO_REFERENCE, filters={"realm": self.realm, "ref_type": "Class"}, pluck="qbo_name")
		self.assertEqual(sorted(classes), ["Clerical", "Healthcare", "Light Industrial"])

	def test_timesheet_invoice_to_a_job_site_reaches_the_ast_company_with_per_line_taxability(self):
		si, monday = self._timesheet_invoice(self.job)
		self.assertTrue(si.timesheets, "ERPNext linked the timesheet to the invoice")
		counts = self.engine.push(self.realm_id)
		self.assertEqual(counts.get("parked", 0), 0, [c.reason for c in self.store.list_conflicts(self.realm_id)])
		job = self.bk.read("Customer", self.store.get_mapping(self.realm_id, C.CUSTOMER, self.job).qbo_id)
		self.assertTrue(job["Job"])
		self.assertEqual(job["ParentRef"]["value"], self.store.get_mapping(self.realm_id, C.CUSTOMER, self.client).qbo_id)
		qbo = self.bk.read("Invoice", self.store.get_mapping(self.realm_id, C.INVOICE, si.name).qbo_id)
		lines = [ln for ln in qbo["Line"] if ln["DetailType"] == "SalesItemLineDetail"]
		self.assertEqual(lines[0]["SalesItemLineDetail"]["ServiceDate"], str(monday))
		self.assertEqual(Decimal(str(lines[0]["SalesItemLineDetail"]["Qty"])), Decimal("40"))
		self.assertEqual([ln["SalesItemLineDetail"]["TaxCodeRef"]["value"] for ln in lines], ["TAX", "NON"])
		self.assertEqual(Decimal(str(qbo["TxnTaxDetail"]["TotalTax"])), Decimal(str(si.total_taxes_and_charges)))
		self.assertEqual(qbo["CustomerRef"]["value"], job["Id"])
		frappe.msgprint(f"bench: timesheet invoice {si.name} -> QBO Invoice {qbo['Id']} lines "
			f"{[(ln['Description'], ln['SalesItemLineDetail'].get('ServiceDate'), ln['SalesItemLineDetail']['TaxCodeRef']['value']) for ln in lines]}"
			f" tax {qbo['TxnTaxDetail']['TotalTax']} total {qbo['TotalAmt']}")

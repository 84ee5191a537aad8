"""Shared test setup for the Frappe store/ledger tests: a dedicated US company and a QBO Realm for it.

Everything is created inside the test class's transaction (FrappeTestCase rolls it back afterwards), except
audit rows, which are committed on their own connection by design; `purge_committed_audit` removes the
ones a test class wrote.
"""

from __future__ import annotations

import frappe

from nexora_qbo.erpnext import constants as K


def ensure_company(name: str, abbr: str) -> str:
	if not frappe.db.exists("Company", name):
		frappe.get_doc(
			{
				"doctype": "Company",
				"company_name": name,
				"abbr": abbr,
				"default_currency": "USD",
				"country": "United States",
				"create_chart_of_accounts_based_on": "Standard Template",
				"chart_of_accounts": "Standard",
			}
		).insert(ignore_permissions=True)
	ensure_fiscal_year()
	return name


def ensure_fiscal_year() -> None:
	from frappe.utils import getdate

	from nexora_qbo.erpnext.setup import ensure_fiscal_year as ensure

	ensure(getdate())


def tax_account(company: str) -> str:
	abbr = frappe.get_cached_value("Company", company, "abbr")
	name = f"Sales Tax Payable - {abbr}"
	if not frappe.db.exists("Account", name):
		parent = frappe.db.get_value(
			"Account", {"company": company, "account_name": "Duties and Taxes", "is_group": 1}, "name"
		)
		frappe.get_doc(
			{
				"doctype": "Account",
				"account_name": "Sales Tax Payable",
				"parent_account": parent,
				"company": company,
				"account_type": "Tax",
			}
		).insert(ignore_permissions=True)
	return name


def make_realm(
	company: str,
	realm_id: str,
	*,
	base_url: str = "http://127.0.0.1:9",
	client_id: str = "test-client",
	client_secret: str = "test-secret",
	**values,
) -> str:
	"""A connected QBO Realm for `company` in the custom (local sandbox) environment."""
	from nexora_qbo.erpnext.setup import allow_custom_base_url_for_tests

	allow_custom_base_url_for_tests()
	abbr = frappe.get_cached_value("Company", company, "abbr")
	doc = frappe.get_doc(
		{
			"doctype": K.REALM,
			"company": company,
			"environment": "custom",
			"custom_base_url": base_url,
			"client_id": client_id,
			"client_secret": client_secret,
			"realm_id": realm_id,
			"enabled": 1,
			"connection_status": K.CONNECTED,
			"conflict_policy": "QBO wins",
			"void_policy": "Review",
			"push_new_masters": 1,
			"home_currency": "USD",
			"tax_account": tax_account(company),
			"payment_account": f"Cash - {abbr}",
			"income_account": f"Sales - {abbr}",
			"receivable_account": f"Debtors - {abbr}",
			"cost_center": f"Main - {abbr}",
			**values,
		}
	)
	doc.insert(ignore_permissions=True)
	return doc.name


def purge_committed_audit(realms) -> None:
	from nexora_qbo.erpnext.token_store import AutonomousDB

	with AutonomousDB() as adb:
		with adb.transaction() as cur:
			for realm in realms:
				cur.execute(f"delete from `tab{K.SYNC_LOG}` where realm=%s", (realm,))


def outbox_for(doctype: str, name: str, realm: str) -> list:
	"""Actions of the realm's outbox entries for one document (other realms on the site are not ours)."""
	return frappe.get_all(
		K.OUTBOX,
		filters={"realm": realm, "reference_doctype": doctype, "reference_name": name},
		pluck="action",
		order_by="name asc",
	)


def connect_to_sandbox(sandbox, company: str, realm_id: str, **realm_values):
	"""A connected QBO Realm for `company` on one realm of an in-process sandbox, the way a person connects
	one: the app registered with the site's real callback URL, the tokens the sandbox issues stored as the
	OAuth callback stores them, and an engine on the Frappe store and ledger with the Redis lock, as the jobs
	build it. Returns (realm name, store, engine)."""
	from datetime import datetime, timedelta, timezone

	from nexora_qbo.erpnext.jobs import client_for
	from nexora_qbo.erpnext.ledger import FrappeLedger
	from nexora_qbo.erpnext.locks import RedisRealmLock
	from nexora_qbo.erpnext.store import FrappeStore
	from nexora_qbo.erpnext.token_store import RealmTokenStore
	from nexora_qbo.nexora_qbo.doctype.qbo_realm.qbo_realm import callback_url
	from nexora_qbo.qbo.oauth import OAuthTokens
	from nexora_qbo.sync.engine import SyncEngine
	from nexora_qbo.sync.runtime import SystemClock

	client_id, secret = sandbox.register_app(redirect_uri=callback_url())
	realm = make_realm(company, realm_id, base_url=sandbox.base_url, client_id=client_id, client_secret=secret,
		**realm_values)
	issued = sandbox.issue_tokens(realm_id, client_id)
	now = datetime.now(timezone.utc)
	RealmTokenStore(realm=realm).save(
		realm_id,
		OAuthTokens(
			access_token=issued["access_token"],
			refresh_token=issued["refresh_token"],
			expires_at=now + timedelta(seconds=int(issued.get("expires_in") or 3600)),
			refresh_expires_at=now + timedelta(days=100),
			realm_id=realm_id,
		),
	)
	store = FrappeStore()
	engine = SyncEngine(store, FrappeLedger(store), client_for, RedisRealmLock(), SystemClock(), lock_timeout=30)
	return realm, store, engine


class SandboxRealmCase:
	"""Base for test classes whose company is connected to its own realm of an in-process sandbox:
	set COMPANY, ABBR, REALM_PREFIX (4 digits, keeps realm ids apart between modules) and SANDBOX_NAME on the
	subclass, which also derives from FrappeTestCase (listed after this class)."""

	SEED = 11
	REALM_OPTIONS: dict = {}  # the sandbox company's set-up (e.g. multicurrency=True)

	@classmethod
	def realm_values(cls) -> dict:
		"""QBO Realm fields of the connected realm beyond the defaults (e.g. its exchange-rate source)."""
		return {}

	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		import secrets

		from nexora_qbo.sandbox.bookkeeper import Bookkeeper
		from nexora_qbo.sandbox.server import SandboxServer

		ensure_company(cls.COMPANY, cls.ABBR)
		cls.sb = SandboxServer(seed=cls.SEED)
		realm_id = cls.REALM_PREFIX + "".join(secrets.choice("0123456789") for _ in range(11))
		cls.realm_id = cls.sb.create_realm(company_name=cls.SANDBOX_NAME, realm_id=realm_id, **cls.REALM_OPTIONS)
		# the bookkeeper is an API client of the same realm here (in QBO she works in the web UI): room for both
		cls.sb.set_options(cls.realm_id, per_second=40, per_minute=2000)
		cls.realm, cls.store, cls.engine = connect_to_sandbox(cls.sb, cls.COMPANY, cls.realm_id, **cls.realm_values())
		cls.bk = Bookkeeper(cls.sb, cls.realm_id)

	@classmethod
	def tearDownClass(cls):
		cls.sb.stop()
		purge_committed_audit([cls.realm])
		super().tearDownClass()

	def qbo_id(self, local_type, local_id):
		m = self.store.get_mapping(self.realm_id, local_type, local_id)
		self.assertIsNotNone(m, f"{local_type} {local_id} is not mapped")
		return m.qbo_id

	def _invoice(self, customer, qty, item="Staffing Hours", rate=45):
		"""A submitted USD Sales Invoice of the test company (one line)."""
		from frappe.utils import add_days, getdate, nowdate

		abbr = self.ABBR
		si = frappe.get_doc({
			"doctype": "Sales Invoice",
			"company": self.COMPANY,
			"customer": customer,
			"posting_date": getdate(nowdate()),
			"due_date": add_days(nowdate(), 30),
			"currency": "USD",
			"debit_to": f"Debtors - {abbr}",
			"items": [{"item_code": item, "qty": qty, "rate": rate, "income_account": f"Sales - {abbr}",
				"cost_center": f"Main - {abbr}"}],
		}).insert()
		si.submit()
		return si

# Copyright (c) 2026, Nexora QBO and contributors
# For license information, please see license.txt
"""QBO Realm: one company per realm, one realm per realmId, tokens safe from form saves, settings mapping,
role checks on the buttons. Also the shared helpers (`make_realm`, `two_companies`) of the app's tests."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from unittest.mock import patch

import frappe
from frappe.tests.utils import FrappeTestCase
from frappe.utils import add_days, now_datetime

from nexora_qbo.erpnext import constants as K

# ERPNext/Frappe test records are not needed (and ERPNext's depend on its own before_tests).
TEST_IGNORE = [
	"Company",
	"Account",
	"Cost Center",
	"Currency",
	"Customer Group",
	"Territory",
	"Item Group",
	"UOM",
	"Price List",
	"Mode of Payment",
	"User",
	"DocType",
	"Branch",
	"Payment Terms Template",
	"Sales Taxes and Charges Template",
	"QBO Outbox",
	"QBO Conflict",
]
test_ignore = TEST_IGNORE


def two_companies() -> list[str]:
	"""Two companies (before_tests makes sure the second one exists)."""
	from nexora_qbo.erpnext.setup import TEST_COMPANY_2

	first = frappe.get_all(
		"Company", filters={"name": ("!=", TEST_COMPANY_2)}, pluck="name", order_by="creation asc"
	)
	return [first[0], TEST_COMPANY_2]


def make_realm(
	company: str | None = None,
	realm_id: str | None = "9130000000001",
	verifier: str | None = None,
	connected: bool = True,
	**fields,
):
	"""A QBO Realm in the current (uncommitted) transaction."""
	from nexora_qbo.erpnext.setup import allow_custom_base_url_for_tests

	allow_custom_base_url_for_tests()
	doc = frappe.get_doc(
		{
			"doctype": K.REALM,
			"company": company or two_companies()[0],
			"environment": "custom",
			"custom_base_url": "http://127.0.0.1:9",  # nothing listens there: QBO is "down"
			"client_id": "test-client",
			"client_secret": "test-secret",
			"webhook_verifier_token": verifier,
			"realm_id": realm_id,
			"connection_status": K.CONNECTED if connected else K.NOT_CONNECTED,
			**fields,
		}
	).insert(ignore_permissions=True)
	return doc


def make_user(email: str, roles: list[str]) -> str:
	if not frappe.db.exists("User", email):
		user = frappe.get_doc(
			{"doctype": "User", "email": email, "first_name": email.split("@")[0], "send_welcome_email": 0}
		)
		user.insert(ignore_permissions=True)
	user = frappe.get_doc("User", email)
	user.add_roles(*roles)
	return email


def cash_mode_of_payment() -> str:
	return (
		frappe.db.get_value("Mode of Payment", {"type": "Cash"}, "name")
		or frappe.get_doc({"doctype": "Mode of Payment", "mode_of_payment": "QBO Test Cash", "type": "Cash"})
		.insert(ignore_permissions=True)
		.name
	)


def sample_tokens(access: str = "access-1", refresh: str = "refresh-1"):
	from nexora_qbo.qbo.oauth import OAuthTokens

	now = datetime.now(timezone.utc).replace(microsecond=0)
	return OAuthTokens(
		access_token=access,
		refresh_token=refresh,
		expires_at=now + timedelta(hours=1),
		refresh_expires_at=now + timedelta(days=100),
		refresh_hard_expires_at=now + timedelta(days=1800),
	)


class QBOTestCase(FrappeTestCase):
	"""Every test starts from the class's committed state: FrappeTestCase rolls back only at the end of the
	class, so without this, fixtures made in one test (a realm for a company) collide with the next."""

	def setUp(self):
		super().setUp()
		frappe.local.response = frappe._dict()
		self.addCleanup(frappe.db.rollback)


class TestQBORealm(QBOTestCase):
	def test_one_realm_per_company(self):
		make_realm(realm_id="9130000000001")
		with self.assertRaises(frappe.DuplicateEntryError):
			make_realm(realm_id="9130000000002")

	def test_one_company_per_realm_id(self):
		first, second = two_companies()
		make_realm(first, realm_id="9130000000003")
		with self.assertRaises(frappe.UniqueValidationError):
			make_realm(second, realm_id="9130000000003")

	def test_form_save_never_overwrites_or_deletes_tokens(self):
		from nexora_qbo.erpnext.token_store import RealmTokenStore

		realm = make_realm(realm_id="9130000000004")
		RealmTokenStore(realm=realm.name).save("9130000000004", sample_tokens("a-1", "r-1"))
		doc = frappe.get_doc(K.REALM, realm.name)
		doc.access_token = ""  # what a form without the masked value would send
		doc.refresh_token = "typed-by-someone"
		doc.save(ignore_permissions=True)
		loaded = RealmTokenStore(realm=realm.name).load("9130000000004")
		self.assertEqual((loaded.access_token, loaded.refresh_token), ("a-1", "r-1"))

	def test_custom_environment_refuses_plain_http_off_loopback(self):
		with self.assertRaises(frappe.ValidationError):
			make_realm(realm_id=None, connected=False, custom_base_url="http://qbo.example.com")

	def test_to_settings_translates_labels_and_reference_maps(self):
		realm = make_realm(
			realm_id="9130000000005",
			conflict_policy="Hold for review",
			void_policy="Follow",
			default_deposit_account_id="4",
		)
		realm.append(
			"reference_maps",
			{"map_type": "Mode of Payment", "local_value": cash_mode_of_payment(), "qbo_id": "1"},
		)
		realm.save(ignore_permissions=True)
		settings = realm.to_settings()
		self.assertEqual(settings.realm_id, "9130000000005")
		self.assertEqual((settings.conflict_policy, settings.void_policy), ("review", "follow"))
		self.assertEqual(settings.default_deposit_account_id, "4")
		self.assertEqual(settings.payment_method_map, {cash_mode_of_payment(): "1"})

		copy = frappe.new_doc(K.REALM)
		copy.apply_settings(settings)
		self.assertEqual(copy.to_settings().payment_method_map, {cash_mode_of_payment(): "1"})
		self.assertEqual(copy.conflict_policy, "Hold for review")

	def test_refresh_hard_expiry_warning_within_30_days(self):
		realm = make_realm(realm_id="9130000000006")
		realm.refresh_token_hard_expiry = add_days(now_datetime(), 10)
		self.assertTrue(realm.needs_reconnect_warning())
		realm.refresh_token_hard_expiry = add_days(now_datetime(), 60)
		self.assertFalse(realm.needs_reconnect_warning())

	def test_buttons_need_accounts_or_system_manager(self):
		from nexora_qbo.nexora_qbo.doctype.qbo_realm import qbo_realm

		realm = make_realm(realm_id="9130000000007")
		clerk = make_user("qbo-clerk@example.com", ["Accounts User"])
		with self.set_user(clerk):
			for method in (
				qbo_realm.sync_now,
				qbo_realm.initial_import,
				qbo_realm.disconnect,
				qbo_realm.connect,
			):
				with self.assertRaises(frappe.PermissionError):
					method(realm.name)

	def test_sync_now_enqueues_after_commit_only(self):
		from nexora_qbo.erpnext import jobs
		from nexora_qbo.nexora_qbo.doctype.qbo_realm import qbo_realm

		realm = make_realm(realm_id="9130000000008")
		with patch.object(frappe, "enqueue") as enqueue:
			qbo_realm.sync_now(realm.name)
			enqueue.assert_not_called()  # nothing before the commit
			pending = [
				f for f in frappe.db.after_commit._functions if getattr(f, "func", None) is jobs._enqueue_now
			]
			self.assertEqual(len(pending), 1)
			with patch("frappe.utils.background_jobs.get_job", return_value=None):
				pending[0]()
			kwargs = enqueue.call_args.kwargs
			self.assertEqual(kwargs["job_id"], K.job_id("sync", "9130000000008"))
			self.assertTrue(kwargs["deduplicate"])
			self.assertEqual(kwargs["queue"], "long")
		frappe.db.after_commit._functions.clear()

	def test_realm_with_history_cannot_be_deleted(self):
		from nexora_qbo.nexora_qbo.doctype.qbo_sync_log.qbo_sync_log import append_audit_row
		from nexora_qbo.sync.ports import AuditRow

		realm = make_realm(realm_id="9130000000009")
		append_audit_row(
			AuditRow(
				realm_id="9130000000009", direction="outbound", qbo_entity="Customer", operation="create"
			)
		)
		with self.assertRaises(frappe.LinkExistsError):
			frappe.delete_doc(K.REALM, realm.name, ignore_permissions=True)

"""Security hardening (issue 8): one test class per finding of the Frappe-layer review. Each test fails
without its fix (recorded in the branch's report).

F1 reflected script in the OAuth callback      F2 secrets sent to any host (rebinding fields, custom URL)
F3 tokens in Error Log                         F4 OAuth state readable through REST
F5 audit retention cut short                   F6 bookkeeping rows editable/deletable
F7 rebinding a realm to another QBO company (and the realmId on every audit row)
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from unittest.mock import patch
from urllib.parse import parse_qs, urlsplit

import frappe
from frappe.utils import add_days, now_datetime

from nexora_qbo.erpnext import constants as K
from nexora_qbo.erpnext import jobs, oauth
from nexora_qbo.erpnext.guards import engine_writes
from nexora_qbo.erpnext.token_store import RealmTokenStore
from nexora_qbo.nexora_qbo.doctype.qbo_realm.test_qbo_realm import (
	QBOTestCase,
	make_realm,
	make_user,
	sample_tokens,
)

PAYLOAD = "<script>alert(document.cookie)</script>"


def only_role(email: str, role: str) -> str:
	"""A test user holding exactly one role (plus Frappe's automatic ones)."""
	make_user(email, [role])
	user = frappe.get_doc("User", email)
	extra = [r.role for r in user.roles if r.role != role]
	if extra:
		user.remove_roles(*extra)
	return email


def connected_realm(realm_id: str, **fields):
	realm = make_realm(realm_id=realm_id, **fields)
	RealmTokenStore(realm=realm.name).save(realm_id, sample_tokens("access-secret-1", "refresh-secret-1"))
	return frappe.get_doc(K.REALM, realm.name)


class _PageTestCase(QBOTestCase):
	def setUp(self):
		super().setUp()
		frappe.local.message = None
		frappe.local.message_title = None

	def page(self) -> str:
		return f"{frappe.local.message_title or ''}\n{frappe.local.message or ''}"


# ---------------------------------------------------------------------------------------------------- F1
class TestF1CallbackEscapesEveryValue(_PageTestCase):
	def setUp(self):
		super().setUp()
		self.realm = make_realm(realm_id=None, connected=False)
		oauth.remember_state(self.realm.name, "f1-state", "Administrator")
		self.addCleanup(oauth.forget_state, "f1-state")

	def test_error_with_a_valid_state_is_shown_escaped(self):
		oauth.callback(state="f1-state", error=PAYLOAD)
		self.assertEqual(frappe.local.response.http_status_code, 400)
		self.assertNotIn("<script", self.page())
		self.assertIn("&lt;script&gt;", self.page())

	def test_error_of_a_crafted_link_is_not_reflected_at_all(self):
		oauth.callback(state="not-a-state", error=PAYLOAD)
		self.assertNotIn("<script", self.page())
		self.assertNotIn("document.cookie", self.page())

	def test_realm_id_payload_is_refused_and_escaped(self):
		with (
			patch("nexora_qbo.qbo.oauth.OAuthApp.exchange_code", return_value=sample_tokens()) as exchange,
			patch.object(jobs, "enqueue_realm"),
		):
			oauth.callback(code="c", state="f1-state", realmId=PAYLOAD)
		exchange.assert_not_called()
		self.assertEqual(frappe.local.response.http_status_code, 400)
		self.assertNotIn("<script", self.page())


# ---------------------------------------------------------------------------------------------------- F2
class TestF2RebindingFieldsCutTheConnection(QBOTestCase):
	def setUp(self):
		super().setUp()
		self.manager = only_role("qbo-sec-am@example.com", "Accounts Manager")
		self.realm = connected_realm("9130000000801")
		self.enqueue = patch.object(frappe, "enqueue").start()
		self.addCleanup(patch.stopall)

	def _change(self, **values):
		with self.set_user(self.manager):
			doc = frappe.get_doc(K.REALM, self.realm.name)
			doc.update(values)
			doc.save()

	def _assert_cut(self):
		self.assertIsNone(RealmTokenStore(realm=self.realm.name).load("9130000000801"))
		self.assertEqual(frappe.db.get_value(K.REALM, self.realm.name, "connection_status"), K.DISCONNECTED)
		self.assertEqual(jobs.run("9130000000801", "pull"), {"skipped": f"realm is {K.DISCONNECTED}"})
		methods = [c.args[0] for c in self.enqueue.call_args_list]
		self.assertIn("nexora_qbo.erpnext.jobs.revoke_pending", methods)

	def test_changing_the_base_url_forgets_the_tokens(self):
		self._change(custom_base_url="https://qbo.attacker.example")
		self._assert_cut()

	def test_changing_the_environment_forgets_the_tokens(self):
		self._change(environment="production")
		self._assert_cut()

	def test_changing_the_client_id_forgets_the_tokens(self):
		self._change(client_id="someone-elses-app")
		self._assert_cut()

	def test_other_edits_keep_the_connection(self):
		self._change(conflict_policy="Hold for review")
		self.assertIsNotNone(RealmTokenStore(realm=self.realm.name).load("9130000000801"))
		self.assertEqual(frappe.db.get_value(K.REALM, self.realm.name, "connection_status"), K.CONNECTED)

	def test_the_old_token_is_revoked_at_the_old_host_only(self):
		self._change(custom_base_url="https://qbo.attacker.example")
		with patch("nexora_qbo.qbo.oauth.OAuthApp.revoke", autospec=True) as revoke:
			jobs.revoke_pending(self.realm.name)
		self.assertIsNotNone(revoke.call_args, "the old refresh token was never revoked")
		(app, token), kwargs = revoke.call_args
		self.assertEqual(token, "refresh-secret-1")
		self.assertTrue(app.endpoints.revoke_url.startswith("http://127.0.0.1:9"))
		self.assertEqual(kwargs["realm_id"], "9130000000801")
		jobs.revoke_pending(self.realm.name)  # used once, then forgotten
		self.assertEqual(revoke.call_count, 1)

	def test_custom_base_url_needs_the_site_config(self):
		with patch.dict(frappe.local.conf, {K.ALLOW_CUSTOM_BASE_URL_CONF: 0}):
			with self.assertRaises(frappe.ValidationError):
				make_realm(
					company="_Test Nexora QBO 2", realm_id=None, custom_base_url="https://qbo.example.com"
				)
			with self.assertRaises(frappe.PermissionError):  # and nothing is sent there any more
				frappe.get_doc(K.REALM, self.realm.name).endpoints()

	def test_plain_http_is_refused_off_loopback(self):
		with self.assertRaises(frappe.ValidationError):
			self._change(custom_base_url="http://qbo.example.com")


# ---------------------------------------------------------------------------------------------------- F3
class TestF3ErrorLogHasNoSecrets(QBOTestCase):
	"""A failed refresh / revoke, logged the way Frappe logs a failed RQ job (execute_job calls
	frappe.log_error(title=method) in the except block: traceback WITH every frame's locals)."""

	REFRESH = "AB11-f3-refresh-token-that-must-not-leak"

	def setUp(self):
		super().setUp()
		from nexora_qbo.nexora_qbo.doctype.qbo_realm.qbo_realm import callback_url
		from nexora_qbo.sandbox.server import SandboxServer

		self.sandbox = SandboxServer().start()
		self.addCleanup(self.sandbox.stop)
		self.realm_id = self.sandbox.create_realm(seed=False)
		self.client_id, self.secret = self.sandbox.register_app(
			redirect_uri=callback_url(), default_realm=self.realm_id
		)
		self.realm = make_realm(
			realm_id=self.realm_id,
			custom_base_url=self.sandbox.base_url,
			client_id=self.client_id,
			client_secret=self.secret,
		)
		now = datetime.now(timezone.utc)
		from nexora_qbo.qbo.oauth import OAuthTokens

		self.tokens = OAuthTokens(
			access_token="f3-access-token-that-must-not-leak",
			refresh_token=self.REFRESH,
			expires_at=now - timedelta(minutes=1),  # expired: the next call refreshes
			refresh_expires_at=now + timedelta(days=100),
		)
		RealmTokenStore(realm=self.realm.name).save(self.realm_id, self.tokens)
		self.before = set(frappe.get_all("Error Log", pluck="name"))
		patch.object(frappe, "enqueue").start()
		self.addCleanup(patch.stopall)

	def _new_errors(self) -> str:
		rows = frappe.get_all(
			"Error Log", filters={"name": ("not in", list(self.before) or [""])}, fields=["error", "method"]
		)
		self.assertTrue(rows, "the failure must be logged")
		return "\n".join(f"{r.method}\n{r.error}" for r in rows)

	def _assert_clean(self, text: str):
		import base64

		basic = base64.b64encode(f"{self.client_id}:{self.secret}".encode()).decode()
		for secret in (self.REFRESH, self.tokens.access_token, self.secret, basic):
			self.assertNotIn(secret, text)

	def test_failed_refresh_in_a_job(self):
		try:
			jobs.run(self.realm_id, "companyinfo")
		except Exception:
			frappe.log_error(title="nexora_qbo.erpnext.jobs.run")  # what RQ's execute_job does
		else:
			self.fail("the refresh should have failed")
		self._assert_clean(self._new_errors())

	def test_failed_revoke_on_disconnect(self):
		frappe.db.set_value(
			K.REALM, self.realm.name, "custom_base_url", "http://127.0.0.1:9"
		)  # "Intuit" is down
		jobs.disconnect_realm(self.realm.name)
		self._assert_clean(self._new_errors())
		self.assertIsNone(RealmTokenStore(realm=self.realm.name).load(self.realm_id))

	def test_token_objects_print_redacted(self):
		self.assertNotIn(self.REFRESH, repr(self.tokens))
		app = frappe.get_doc(K.REALM, self.realm.name).oauth_app()
		self.assertNotIn(self.secret, repr(app))


# ---------------------------------------------------------------------------------------------------- F4
class TestF4OAuthStateIsNotReadable(QBOTestCase):
	def setUp(self):
		super().setUp()
		self.realm = make_realm(realm_id=None, connected=False)
		self.clerk = only_role("qbo-sec-au@example.com", "Accounts User")
		url = oauth.start_authorization(self.realm.name)
		self.state = parse_qs(urlsplit(url).query)["state"][0]
		self.addCleanup(oauth.forget_state, self.state)

	def test_accounts_user_cannot_read_the_state(self):
		from frappe.client import get, get_list

		with self.set_user(self.clerk):
			doc = get(K.REALM, self.realm.name)
			rows = get_list(K.REALM, fields=["*"], limit_page_length=0)
		self.assertNotIn(self.state, json.dumps(doc, default=str))
		self.assertNotIn(self.state, json.dumps(rows, default=str))
		self.assertFalse(frappe.get_meta(K.REALM).has_field("oauth_state"))

	def test_state_stays_bound_to_realm_and_user(self):
		self.assertEqual(
			oauth.pending_authorization(self.state), {"realm": self.realm.name, "user": "Administrator"}
		)
		other = only_role("qbo-sec-am2@example.com", "Accounts Manager")
		frappe.local.response = frappe._dict()
		with self.set_user(other), patch("nexora_qbo.qbo.oauth.OAuthApp.exchange_code") as exchange:
			oauth.callback(code="c", state=self.state, realmId="9130000000811")
		exchange.assert_not_called()
		self.assertEqual(frappe.local.response.http_status_code, 403)
		self.assertIsNone(oauth.pending_authorization(self.state))  # one-time, even when refused


# ---------------------------------------------------------------------------------------------------- F5
class TestF5AuditRetention(QBOTestCase):
	def setUp(self):
		super().setUp()
		frappe.db.set_single_value(K.SETTINGS, "log_retention_days", K.DEFAULT_LOG_RETENTION_DAYS)
		self.manager = only_role("qbo-sec-am@example.com", "Accounts Manager")
		self.admin = only_role("qbo-sec-sm@example.com", "System Manager")

	def _set(self, user: str, days: int):
		with self.set_user(user):
			settings = frappe.get_single(K.SETTINGS)
			settings.log_retention_days = days
			settings.save()

	def test_accounts_manager_cannot_change_retention(self):
		with self.assertRaises(frappe.PermissionError):
			self._set(self.manager, 30)
		with self.assertRaises(frappe.PermissionError):  # not even upwards
			self._set(self.manager, 4000)
		self.assertEqual(
			frappe.db.get_single_value(K.SETTINGS, "log_retention_days"), K.DEFAULT_LOG_RETENTION_DAYS
		)

	def test_accounts_manager_may_still_pause_the_sync(self):
		with self.set_user(self.manager):
			settings = frappe.get_single(K.SETTINGS)
			settings.sync_paused = 1
			settings.save()

	def test_floor_is_three_years_even_for_system_manager(self):
		with self.assertRaises(frappe.ValidationError):
			self._set(self.admin, 3 * 365 - 1)

	def test_system_manager_change_is_recorded(self):
		self._set(self.admin, 1500)
		comments = frappe.get_all(
			"Comment",
			filters={"reference_doctype": K.SETTINGS, "comment_type": "Info"},
			pluck="content",
		)
		self.assertTrue(any(self.admin in c and "1500" in c for c in comments), comments)

	def test_purge_never_goes_below_the_floor(self):
		from nexora_qbo.nexora_qbo.doctype.qbo_sync_log.qbo_sync_log import QBOSyncLog, append_audit_row
		from nexora_qbo.sync.ports import AuditRow

		make_realm(realm_id="9130000000821")
		frappe.db.set_single_value(K.SETTINGS, "log_retention_days", 30)  # around the form
		name = append_audit_row(
			AuditRow(realm_id="9130000000821", direction="outbound", qbo_entity="Customer", operation="read")
		)
		frappe.db.set_value(
			K.SYNC_LOG, name, "creation", add_days(now_datetime(), -400), update_modified=False
		)
		QBOSyncLog.clear_old_logs(days=30)
		self.assertTrue(frappe.db.exists(K.SYNC_LOG, name))


# ---------------------------------------------------------------------------------------------------- F6
class TestF6BookkeepingRowsAreReadOnly(QBOTestCase):
	def setUp(self):
		super().setUp()
		from nexora_qbo.erpnext.store import FrappeStore
		from nexora_qbo.sync.ports import Conflict, Cursor, Mapping, OutboxEntry

		self.realm = make_realm(realm_id="9130000000831")
		self.store = FrappeStore()
		now = datetime.now(timezone.utc)
		self.store.save_mapping(
			Mapping(
				realm_id="9130000000831",
				local_type="customer",
				local_id="F6 Customer",
				qbo_entity="Customer",
				qbo_id="58",
			)
		)
		self.map = frappe.db.get_value(K.ENTITY_MAP, {"realm": self.realm.name})
		self.outbox = self.store.add_outbox(
			OutboxEntry(
				realm_id="9130000000831",
				local_type="invoice",
				local_id="SINV-F6",
				action="create",
				created_at=now,
			)
		).id
		self.store.save_cursor(Cursor(realm_id="9130000000831", changed_since=now, updated_at=now))
		self.cursor = frappe.db.get_value(K.CURSOR, {"realm": self.realm.name})
		self.conflict = self.store.add_conflict(
			Conflict(
				realm_id="9130000000831",
				local_type="invoice",
				local_id="SINV-F6",
				qbo_entity="Invoice",
				qbo_id="130",
				kind="rejected",
				reason="x",
				outbox_id=self.outbox,
				created_at=now,
			)
		).id
		self.sm = only_role("qbo-sec-sm@example.com", "System Manager")

	def _refused(self, call):
		with self.assertRaises(frappe.PermissionError):
			call()

	def _rows(self):
		return (
			(K.ENTITY_MAP, self.map, "qbo_id"),
			(K.OUTBOX, self.outbox, "state"),
			(K.CURSOR, self.cursor, "seen"),
			(K.CONFLICT, self.conflict, "status"),
		)

	def test_administrator_and_system_manager_cannot_edit_or_delete(self):
		from frappe.client import delete, set_value

		for user in ("Administrator", self.sm):
			with self.set_user(user):
				for doctype, name, field in self._rows():
					self._refused(lambda d=doctype, n=name, f=field: set_value(d, n, f, "999"))
					self._refused(lambda d=doctype, n=name: delete(d, n))
		self.assertEqual(frappe.db.get_value(K.ENTITY_MAP, self.map, "qbo_id"), "58")
		self.assertTrue(frappe.db.exists(K.CONFLICT, self.conflict))

	def test_nobody_inserts_a_map_by_hand(self):
		from frappe.client import insert

		doc = {
			"doctype": K.ENTITY_MAP,
			"realm": self.realm.name,
			"local_type": "customer",
			"reference_doctype": "Customer",
			"reference_name": "Another",
			"qbo_entity": "Customer",
			"qbo_id": "59",
		}
		self._refused(lambda: insert(doc))

	def test_no_role_has_write_create_or_delete(self):
		for doctype in K.BOOKKEEPING_DOCTYPES:
			for perm in frappe.get_meta(doctype).permissions:
				self.assertFalse(perm.write or perm.create or perm.delete, (doctype, perm.role))

	def test_the_engine_still_writes_and_deletes(self):
		from nexora_qbo.sync.ports import Mapping

		self.store.save_mapping(
			Mapping(
				realm_id="9130000000831",
				local_type="customer",
				local_id="F6 Customer",
				qbo_entity="Customer",
				qbo_id="58",
				sync_token="4",
			)
		)
		self.store.delete_mapping("9130000000831", "customer", "F6 Customer")
		self.assertFalse(frappe.db.exists(K.ENTITY_MAP, self.map))
		with engine_writes():
			frappe.delete_doc(K.CONFLICT, self.conflict, ignore_permissions=True)


# ---------------------------------------------------------------------------------------------------- F7
class TestF7RebindingNeedsAnExplicitReset(_PageTestCase):
	OLD, NEW = "9130000000841", "9130000000849"

	def setUp(self):
		super().setUp()
		from nexora_qbo.nexora_qbo.doctype.qbo_sync_log.qbo_sync_log import append_audit_row
		from nexora_qbo.sync.ports import AuditRow

		patch.object(frappe, "enqueue").start()
		patch.object(jobs, "enqueue_realm").start()
		self.addCleanup(patch.stopall)
		self.realm = connected_realm(self.OLD)  # bound, but no entity maps yet
		self.audit = append_audit_row(
			AuditRow(realm_id=self.OLD, direction="outbound", qbo_entity="Customer", operation="read")
		)
		oauth.remember_state(self.realm.name, "f7-state", "Administrator")
		self.addCleanup(oauth.forget_state, "f7-state")

	def _callback(self, realm_id: str):
		frappe.local.response = frappe._dict()
		with patch("nexora_qbo.qbo.oauth.OAuthApp.exchange_code", return_value=sample_tokens()) as exchange:
			oauth.callback(code="c", state="f7-state", realmId=realm_id)
		return exchange

	def test_another_company_is_refused_even_without_maps(self):
		exchange = self._callback(self.NEW)
		exchange.assert_not_called()
		self.assertEqual(frappe.local.response.http_status_code, 409)
		self.assertEqual(frappe.db.get_value(K.REALM, self.realm.name, "realm_id"), self.OLD)

	def test_nobody_sets_the_realm_id_by_hand(self):
		from frappe.client import insert, set_value

		manager = only_role("qbo-sec-am@example.com", "Accounts Manager")
		for user in (manager, "Administrator"):
			with self.set_user(user):
				with self.assertRaises(frappe.PermissionError):
					set_value(K.REALM, self.realm.name, "realm_id", self.NEW)
				with self.assertRaises(frappe.PermissionError):
					insert(
						{
							"doctype": K.REALM,
							"company": "_Test Nexora QBO 2",
							"environment": "sandbox",
							"client_id": "x",
							"client_secret": "y",
							"realm_id": self.NEW,
							"connection_status": K.CONNECTED,
						}
					)
		self.assertEqual(frappe.db.get_value(K.REALM, self.realm.name, "realm_id"), self.OLD)

	def test_audit_rows_keep_the_qbo_realm_id(self):
		self.assertEqual(frappe.db.get_value(K.SYNC_LOG, self.audit, "qbo_realm_id"), self.OLD)

	def test_reset_is_system_manager_only(self):
		from nexora_qbo.nexora_qbo.doctype.qbo_realm.qbo_realm import reset_realm

		manager = only_role("qbo-sec-am@example.com", "Accounts Manager")
		with self.set_user(manager), self.assertRaises(frappe.PermissionError):
			reset_realm(self.realm.name)
		self.assertEqual(frappe.db.get_value(K.REALM, self.realm.name, "realm_id"), self.OLD)

	def test_after_a_reset_another_company_may_connect(self):
		from nexora_qbo.erpnext.store import FrappeStore
		from nexora_qbo.nexora_qbo.doctype.qbo_realm.qbo_realm import reset_realm
		from nexora_qbo.sync.ports import Conflict, Cursor, Mapping, SyncEvent

		store = FrappeStore()
		event = store.add_event(
			SyncEvent(self.OLD, "inbound", "customer", "F7 Customer", "Customer", "58", "imported")
		).id
		now = datetime.now(timezone.utc)
		store.save_mapping(Mapping(self.OLD, "customer", "F7 Customer", "Customer", "58"))
		store.save_cursor(Cursor(realm_id=self.OLD, changed_since=now, updated_at=now))
		conflict = store.add_conflict(
			Conflict(
				realm_id=self.OLD,
				local_type="customer",
				local_id="F7 Customer",
				qbo_entity="Customer",
				qbo_id="58",
				kind="rejected",
				reason="x",
				created_at=now,
			)
		).id
		admin = only_role("qbo-sec-sm@example.com", "System Manager")
		with self.set_user(admin):
			reset_realm(self.realm.name)
		for doctype in (K.ENTITY_MAP, K.CURSOR, K.OUTBOX):
			self.assertEqual(frappe.db.count(doctype, {"realm": self.realm.name}), 0, doctype)
		self.assertEqual(frappe.db.get_value(K.CONFLICT, conflict, "status"), "Resolved")  # closed, kept
		self.assertEqual(frappe.db.get_value(K.SYNC_LOG, self.audit, "qbo_realm_id"), self.OLD)  # kept
		self.assertIsNone(RealmTokenStore(realm=self.realm.name).load(self.OLD))
		comments = frappe.get_all(
			"Comment",
			filters={"reference_doctype": K.REALM, "reference_name": self.realm.name},
			pluck="content",
		)
		self.assertTrue(any(admin in c and self.OLD in c for c in comments), comments)

		exchange = self._callback(self.NEW)
		exchange.assert_called_once()
		self.assertEqual(frappe.db.get_value(K.REALM, self.realm.name, "realm_id"), self.NEW)
		# the new company's history does not include the old company's exchanges
		self.assertNotIn(self.audit, [r.id for r in FrappeStore().list_audit(self.NEW)])
		self.assertNotIn(event, [e.id for e in FrappeStore().list_events(self.NEW)])
		self.assertTrue(frappe.db.exists(K.SYNC_EVENT, event))  # history is kept

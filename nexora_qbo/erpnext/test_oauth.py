"""OAuth callback: state checked (wrong/expired refused before any HTTP), guests sent to login, the happy
path against the local QBO sandbox over real HTTP (tokens stored, realm Connected), realm binding."""

from __future__ import annotations

from unittest.mock import patch
from urllib.parse import parse_qs, urlsplit

import frappe
import requests

from nexora_qbo.erpnext import constants as K
from nexora_qbo.erpnext import jobs, oauth
from nexora_qbo.erpnext.token_store import RealmTokenStore
from nexora_qbo.nexora_qbo.doctype.qbo_realm.qbo_realm import callback_url
from nexora_qbo.nexora_qbo.doctype.qbo_realm.test_qbo_realm import (
	QBOTestCase,
	make_realm,
	two_companies,
)


class TestOAuthCallback(QBOTestCase):
	def setUp(self):
		super().setUp()
		frappe.local.response = frappe._dict()
		self.realm = make_realm(realm_id=None, connected=False)
		oauth.remember_state(self.realm.name, "the-right-state", "Administrator")
		self.addCleanup(oauth.forget_state, "the-right-state")

	def test_wrong_state_is_refused_without_exchanging_the_code(self):
		with patch("nexora_qbo.qbo.oauth.OAuthApp.exchange_code") as exchange:
			oauth.callback(code="c", state="a-forged-state", realmId="9130000000601")
		exchange.assert_not_called()
		self.assertEqual(frappe.local.response.http_status_code, 400)
		self.assertEqual(frappe.db.get_value(K.REALM, self.realm.name, "connection_status"), K.NOT_CONNECTED)

	def test_expired_state_is_refused(self):
		oauth.forget_state("the-right-state")  # what the cache's expiry does after 15 minutes
		with patch("nexora_qbo.qbo.oauth.OAuthApp.exchange_code") as exchange:
			oauth.callback(code="c", state="the-right-state", realmId="9130000000601")
		exchange.assert_not_called()
		self.assertEqual(frappe.local.response.http_status_code, 400)

	def test_guest_is_sent_to_login_and_back(self):
		frappe.set_user("Guest")
		try:
			frappe.local.form_dict = frappe._dict(code="c", state="the-right-state", realmId="1")
			oauth.callback(code="c", state="the-right-state", realmId="1")
		finally:
			frappe.set_user("Administrator")
		self.assertEqual(frappe.local.response["type"], "redirect")
		location = frappe.local.response["location"]
		self.assertTrue(location.startswith("/login?"))
		self.assertIn("the-right-state", parse_qs(urlsplit(location).query)["redirect-to"][0])

	def test_a_realm_id_bound_to_another_realm_is_refused(self):
		_first, second = two_companies()
		make_realm(second, realm_id="9130000000602")
		with patch("nexora_qbo.qbo.oauth.OAuthApp.exchange_code") as exchange:
			oauth.callback(code="c", state="the-right-state", realmId="9130000000602")
		exchange.assert_not_called()
		self.assertEqual(frappe.local.response.http_status_code, 409)

	def test_connect_against_the_sandbox(self):
		from nexora_qbo.sandbox.server import SandboxServer

		with SandboxServer() as sandbox:
			realm_id = sandbox.create_realm(seed=False)
			client_id, client_secret = sandbox.register_app(
				redirect_uri=callback_url(), default_realm=realm_id
			)
			self.realm.reload()
			self.realm.update(
				{"custom_base_url": sandbox.base_url, "client_id": client_id, "client_secret": client_secret}
			).save(ignore_permissions=True)

			authorize_url = oauth.start_authorization(self.realm.name)
			state = parse_qs(urlsplit(authorize_url).query)["state"][0]
			self.assertEqual(oauth.pending_authorization(state)["realm"], self.realm.name)
			consent = requests.get(authorize_url, allow_redirects=False, timeout=10)
			self.assertEqual(consent.status_code, 302)
			query = {k: v[0] for k, v in parse_qs(urlsplit(consent.headers["Location"]).query).items()}

			with patch.object(jobs, "enqueue_realm") as enqueue:
				oauth.callback(**query)

		self.assertEqual(frappe.local.response["type"], "redirect")
		doc = frappe.get_doc(K.REALM, self.realm.name)
		self.assertEqual((doc.realm_id, doc.connection_status), (realm_id, K.CONNECTED))
		self.assertIsNone(oauth.pending_authorization(state))  # one-time
		tokens = RealmTokenStore(realm=doc.name).load(realm_id)
		self.assertTrue(tokens.access_token and tokens.refresh_token)
		self.assertIsNotNone(doc.access_token_expires_at)
		enqueue.assert_called_once()
		logged = frappe.get_all(
			K.SYNC_LOG, filters={"realm": doc.name, "operation": "token"}, fields=["outcome"]
		)
		self.assertEqual([r.outcome for r in logged], ["ok"])  # the code exchange is audited, tokens redacted
		payloads = frappe.get_all(K.SYNC_LOG, filters={"realm": doc.name}, pluck="response_payload")
		self.assertFalse(any(tokens.refresh_token in (p or "") for p in payloads))

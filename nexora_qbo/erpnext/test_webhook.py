"""Webhook endpoint: HMAC over the raw body with the realm's verifier token, both payload formats, mixed
realms, 401 on a bad signature, enqueue per realm after commit, never a 500."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from datetime import datetime, timedelta, timezone
from unittest.mock import patch

import frappe
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from nexora_qbo.erpnext import constants as K
from nexora_qbo.erpnext import jobs, webhook
from nexora_qbo.nexora_qbo.doctype.qbo_realm.test_qbo_realm import (
	QBOTestCase,
	make_realm,
	two_companies,
)

REALM_A, REALM_B = "9130000000501", "9130000000502"


def sign(body: bytes, token: str) -> str:
	return base64.b64encode(hmac.new(token.encode(), body, hashlib.sha256).digest()).decode()


def _now(**delta) -> str:
	return (datetime.now(timezone.utc) - timedelta(**delta)).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def legacy(*pairs, at: str | None = None) -> bytes:
	"""pairs of (realm_id, entity, id, operation) -> legacy eventNotifications body (raw bytes, as sent).
	Events are dated now (older ones are refused), to the millisecond (the dedupe key of a legacy event)."""
	at = at or _now()
	notes: dict[str, list] = {}
	for realm_id, entity, entity_id, op in pairs:
		notes.setdefault(realm_id, []).append(
			{"name": entity, "id": entity_id, "operation": op, "lastUpdated": at}
		)
	body = {
		"eventNotifications": [{"realmId": r, "dataChangeEvent": {"entities": e}} for r, e in notes.items()]
	}
	return json.dumps(body, indent=2).encode()  # whitespace matters: the HMAC is over these exact bytes


def cloudevents(realm_id: str, entity: str, entity_id: str, verb: str) -> bytes:
	return json.dumps(
		[
			{
				"specversion": "1.0",
				"id": str(uuid.uuid4()),
				"source": "intuit.dsnBgbseACLLRZNxo2dfc4evmEJdxde58xeeYcZliOU=",
				"type": f"qbo.{entity.lower()}.{verb}.v1",
				"datacontenttype": "application/json",
				"time": _now()[:19] + "Z",
				"intuitentityid": entity_id,
				"intuitaccountid": realm_id,
				"data": {},
			}
		]
	).encode()


class TestWebhook(QBOTestCase):
	def setUp(self):
		super().setUp()
		first, second = two_companies()
		make_realm(first, realm_id=REALM_A, verifier="verifier-a")
		make_realm(second, realm_id=REALM_B, verifier="verifier-b")
		self.enqueued = []
		patcher = patch.object(
			jobs,
			"enqueue_realm",
			side_effect=lambda realm_id, kind, **kw: self.enqueued.append((realm_id, kind, kw)),
		)
		patcher.start()
		self.addCleanup(patcher.stop)
		frappe.cache.delete_keys(K.WEBHOOK_DEDUPE_PREFIX)

	def test_bad_signature_is_401_and_enqueues_nothing(self):
		body = legacy((REALM_A, "Customer", "1", "Create"))
		self.assertEqual(webhook.handle(body, sign(body, "not-the-token"))[0], 401)
		self.assertEqual(webhook.handle(body, None)[0], 401)
		self.assertEqual(self.enqueued, [])

	def test_signature_over_reserialised_json_fails(self):
		body = legacy((REALM_A, "Customer", "1", "Create"))
		compact = json.dumps(json.loads(body)).encode()
		self.assertEqual(webhook.handle(body, sign(compact, "verifier-a"))[0], 401)

	def test_legacy_payload_with_good_signature_enqueues_a_pull_after_commit(self):
		body = legacy((REALM_A, "Customer", "1", "Create"), (REALM_A, "Invoice", "130", "Update"))
		status, accepted = webhook.handle(body, sign(body, "verifier-a"))
		self.assertEqual(status, 200)
		self.assertEqual([e["entity"] for e in accepted[REALM_A]], ["Customer", "Invoice"])
		self.assertEqual(len(self.enqueued), 1)
		realm_id, kind, kw = self.enqueued[0]
		self.assertEqual(
			(realm_id, kind, kw["after_commit"], kw["reason"]), (REALM_A, "pull", True, "webhook")
		)
		self.assertEqual(kw["events"][1]["entity_id"], "130")

	def test_cloudevents_payload_with_good_signature(self):
		body = cloudevents(REALM_B, "creditmemo", "77", "voided")
		status, accepted = webhook.handle(body, sign(body, "verifier-b"))
		self.assertEqual(status, 200)
		event = accepted[REALM_B][0]
		self.assertEqual(
			(event["entity"], event["entity_id"], event["operation"]), ("CreditMemo", "77", "Void")
		)
		self.assertEqual(self.enqueued[0][:2], (REALM_B, "pull"))

	def test_mixed_delivery_only_accepts_realms_of_the_signing_token(self):
		body = legacy((REALM_A, "Customer", "1", "Create"), (REALM_B, "Customer", "2", "Create"))
		status, accepted = webhook.handle(body, sign(body, "verifier-a"))
		self.assertEqual(status, 200)
		self.assertEqual(set(accepted), {REALM_A})
		self.assertEqual([e[0] for e in self.enqueued], [REALM_A])

	def test_same_app_token_accepts_every_realm_of_the_delivery(self):
		frappe.get_doc(K.REALM, frappe.db.get_value(K.REALM, {"realm_id": REALM_B})).update(
			{"webhook_verifier_token": "verifier-a"}
		).save(ignore_permissions=True)
		body = legacy((REALM_A, "Customer", "1", "Create"), (REALM_B, "Customer", "2", "Create"))
		status, accepted = webhook.handle(body, sign(body, "verifier-a"))
		self.assertEqual((status, set(accepted)), (200, {REALM_A, REALM_B}))
		self.assertEqual(sorted(e[0] for e in self.enqueued), [REALM_A, REALM_B])

	def test_unknown_realm_is_ignored(self):
		body = legacy(("999", "Customer", "1", "Create"))
		self.assertEqual(webhook.handle(body, sign(body, "verifier-a")), (200, {}))
		self.assertEqual(self.enqueued, [])

	def test_signature_is_checked_before_the_body_is_read(self):
		body = legacy(*[(str(900000 + i), "Customer", "1", "Create") for i in range(500)])
		with (
			patch("nexora_qbo.qbo.webhooks.parse_events") as parse,
			patch.object(frappe, "get_all", wraps=frappe.get_all) as get_all,
		):
			self.assertEqual(webhook.handle(body, sign(body, "forged"))[0], 401)
		parse.assert_not_called()
		for call in get_all.call_args_list:  # only the site's own realms were read, nothing the body named
			self.assertNotIn("900000", json.dumps(call.kwargs.get("filters"), default=str))

	def test_a_redelivery_is_taken_once(self):
		body = legacy((REALM_A, "Customer", "1", "Create"))
		self.assertEqual(set(webhook.handle(body, sign(body, "verifier-a"))[1]), {REALM_A})
		self.assertEqual(webhook.handle(body, sign(body, "verifier-a")), (200, {}))
		self.assertEqual(len(self.enqueued), 1)
		event = cloudevents(REALM_B, "invoice", "130", "updated")
		self.assertEqual(set(webhook.handle(event, sign(event, "verifier-b"))[1]), {REALM_B})
		self.assertEqual(webhook.handle(event, sign(event, "verifier-b")), (200, {}))

	def test_old_events_are_refused(self):
		body = legacy((REALM_A, "Customer", "1", "Create"), at=_now(hours=K.WEBHOOK_MAX_EVENT_AGE_HOURS + 1))
		self.assertEqual(webhook.handle(body, sign(body, "verifier-a")), (200, {}))
		self.assertEqual(self.enqueued, [])

	def test_oversized_body_is_refused_before_anything_else(self):
		body = b" " * (K.WEBHOOK_MAX_BODY_BYTES + 1)
		self.assertEqual(webhook.handle(body, sign(body, "verifier-a"))[0], 413)
		self._request(body, sign(body, "verifier-a"))
		webhook.receive()
		self.assertEqual(frappe.local.response.http_status_code, 413)

	def test_endpoint_reads_raw_body_and_sets_status(self):
		body = legacy((REALM_A, "Customer", "1", "Create"))
		for signature, status in ((sign(body, "verifier-a"), 200), (sign(body, "wrong"), 401)):
			self._request(body, signature)
			result = webhook.receive()
			self.assertEqual(frappe.local.response.http_status_code, status)
			self.assertEqual(result["ok"], status == 200)

	def test_endpoint_never_answers_500(self):
		body = legacy((REALM_A, "Customer", "1", "Create"))
		self._request(body, sign(body, "verifier-a"))
		with patch.object(webhook, "handle", side_effect=RuntimeError("redis is down")):
			webhook.receive()
		self.assertEqual(frappe.local.response.http_status_code, 200)

	def _request(self, body: bytes, signature: str) -> None:
		builder = EnvironBuilder(
			method="POST",
			path=f"/api/method/{K.WEBHOOK_METHOD}",
			data=body,
			headers={"intuit-signature": signature, "Content-Type": "application/json"},
		)
		frappe.local.request = Request(builder.get_environ())
		frappe.local.response = frappe._dict()
		self.addCleanup(lambda: setattr(frappe.local, "request", None))

"""Intuit webhook endpoint: verify, enqueue per realm, answer within Intuit's 3 seconds.

- The HMAC is computed over the RAW request body (`frappe.request.get_data()`); form_dict of a guest request
  is HTML-sanitised and would never verify.
- Order matters, because the request is unauthenticated until the signature is checked: the body size is
  capped first (a real delivery is a few KB), then the signature is checked against the few verifier
  tokens the site holds (one per connected realm; no database query uses anything from the body), and only
  then is the body parsed. Intuit signs with the verifier token of the *app*; one delivery can carry events
  of several realms of that app, and only events of realms holding a matching token are accepted (a body
  cannot smuggle in a realm of another app).
- Each accepted event is taken once (deduplicated by its event id, or by realm/entity/id/operation/time for
  legacy payloads, which have no id) and only if it is recent (K.WEBHOOK_MAX_EVENT_AGE_HOURS): a replayed
  delivery enqueues nothing. What an event names is read from QBO before it is applied; a "Delete" too
  (nexora_qbo.sync.pull.pull_events).
- 401 on a missing/bad signature (Intuit then retries, and an attacker learns nothing), 413 on an oversized
  body; 200 otherwise, including for payloads we cannot use; never a 500, because a webhook is only a
  hint: the scheduled CDC pull finds the same changes even if this delivery is lost.
- The work is a pull job per realm (deduplicated by job id, enqueued after commit).
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta, timezone

import frappe

from nexora_qbo.erpnext import constants as K

MAX_BODY_BYTES = K.WEBHOOK_MAX_BODY_BYTES


@frappe.whitelist(allow_guest=True, methods=["POST"])
def receive():
	try:
		length = frappe.request.content_length
		if length is not None and length > MAX_BODY_BYTES:
			status, accepted = 413, {}
		else:
			raw = frappe.request.get_data(cache=True) or b""
			signature = frappe.get_request_header("intuit-signature")
			status, accepted = handle(raw, signature)
	except Exception as exc:
		from nexora_qbo.erpnext.errorlog import log_error

		log_error("QBO webhook could not be handled", exc)
		status, accepted = 200, {}
	frappe.local.response.http_status_code = status
	if status != 200:
		return {"ok": False}
	return {"ok": True, "realms": sorted(accepted)}


def handle(raw: bytes, signature: str | None) -> tuple[int, dict[str, list]]:
	"""Verify and enqueue. Returns (http status, {realm_id: [events as dicts]} that were accepted)."""
	from nexora_qbo.qbo.webhooks import parse_events, verify_signature

	if len(raw) > MAX_BODY_BYTES:
		return 413, {}
	if not signature or len(signature) > 200:
		return 401, {}
	realms_by_token = _site_verifier_tokens()
	matching = [token for token in realms_by_token if verify_signature(raw, signature, token)]
	if not matching:
		return 401, {}
	allowed = set().union(*(realms_by_token[token] for token in matching))

	try:
		events = parse_events(raw)
	except ValueError:
		events = None
	if not events:
		return 200, {}  # signed by our app, but nothing we can use

	oldest = datetime.now(timezone.utc) - timedelta(hours=K.WEBHOOK_MAX_EVENT_AGE_HOURS)
	accepted: dict[str, list] = {}
	for event in events:
		if event.realm_id not in allowed:
			continue
		if event.occurred_at is not None and _aware(event.occurred_at) < oldest:
			continue  # a replay, or a delivery Intuit gave up on long ago: the CDC pull covers it
		if not _first_delivery(event):
			continue
		accepted.setdefault(event.realm_id, []).append(_event_dict(event))

	from nexora_qbo.erpnext import jobs

	for realm_id, realm_events in accepted.items():
		jobs.enqueue_realm(realm_id, "pull", after_commit=True, reason="webhook", events=realm_events)
	return 200, accepted


def _site_verifier_tokens() -> dict[str, set[str]]:
	"""verifier token -> realmIds holding it, over the site's connected realms (a handful of rows)."""
	from frappe.utils.password import get_decrypted_password

	out: dict[str, set[str]] = {}
	for row in frappe.get_all(
		K.REALM,
		filters={"realm_id": ("is", "set"), "connection_status": ("!=", K.DISCONNECTED)},
		fields=["name", "realm_id"],
	):
		token = get_decrypted_password(K.REALM, row.name, "webhook_verifier_token", raise_exception=False)
		if token:
			out.setdefault(token, set()).add(row.realm_id)
	return out


def _aware(value: datetime) -> datetime:
	return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def _first_delivery(event) -> bool:
	"""True the first time an event is seen within K.WEBHOOK_DEDUPE_TTL_SECONDS (atomic SET NX in Redis)."""
	identity = event.event_id or "|".join(
		str(x) for x in (event.entity, event.entity_id, event.operation, event.occurred_at, event.deleted_id)
	)
	digest = hashlib.sha256(f"{event.realm_id}|{identity}".encode()).hexdigest()
	key = frappe.cache.make_key(K.WEBHOOK_DEDUPE_PREFIX + digest)
	return bool(frappe.cache.set(key, 1, ex=K.WEBHOOK_DEDUPE_TTL_SECONDS, nx=True))


def _event_dict(event) -> dict:
	return {
		"entity": event.entity,
		"entity_id": event.entity_id,
		"operation": event.operation,
		"occurred_at": event.occurred_at.isoformat() if event.occurred_at else None,
		"deleted_id": event.deleted_id,
		"event_id": event.event_id,
		"source_format": event.source_format,
	}

"""Intuit webhook endpoint: verify, enqueue per realm, answer within Intuit's 3 seconds.

- The HMAC is computed over the RAW request body (`frappe.request.get_data()`); form_dict of a guest request
  is HTML-sanitised and would never verify.
- Intuit signs a delivery with the verifier token of the *app*; one delivery can carry events of several
  realms (of that app). The realmIds in the body pick the candidate tokens; the signature must match one of
  them, and only events of realms holding the matching token are accepted (a body cannot smuggle in a
  realm of another app).
- 401 on a missing/bad signature (Intuit then retries, and an attacker learns nothing); 200 otherwise,
  including for payloads we cannot use; never a 500, because a webhook is only a hint: the scheduled CDC
  pull finds the same changes even if this delivery is lost.
- The work is a pull job per realm (deduplicated by job id, enqueued after commit).
"""

from __future__ import annotations

import frappe

from nexora_qbo.erpnext import constants as K

MAX_BODY_BYTES = 1024 * 1024  # Intuit batches events; a megabyte is far above any real delivery


@frappe.whitelist(allow_guest=True, methods=["POST"])
def receive():
	try:
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

	if not signature or len(raw) > MAX_BODY_BYTES:
		return 401, {}
	try:
		events = parse_events(raw)
	except ValueError:
		events = None
	if events is None:
		return 401, {}  # cannot tell whose token to check: unverifiable is unauthorised

	realm_ids = sorted({e.realm_id for e in events if e.realm_id})
	tokens = _verifier_tokens(realm_ids)
	matching = {token for token in set(tokens.values()) if verify_signature(raw, signature, token)}
	if not matching:
		return 401, {}

	accepted: dict[str, list] = {}
	for event in events:
		if tokens.get(event.realm_id) in matching:
			accepted.setdefault(event.realm_id, []).append(_event_dict(event))

	from nexora_qbo.erpnext import jobs

	for realm_id, realm_events in accepted.items():
		jobs.enqueue_realm(realm_id, "pull", after_commit=True, reason="webhook", events=realm_events)
	return 200, accepted


def _verifier_tokens(realm_ids: list[str]) -> dict[str, str]:
	"""realm_id -> verifier token, for connected realms that have one."""
	if not realm_ids:
		return {}
	from frappe.utils.password import get_decrypted_password

	out = {}
	for row in frappe.get_all(
		K.REALM, filters={"realm_id": ("in", realm_ids)}, fields=["name", "realm_id", "connection_status"]
	):
		if row.connection_status == K.DISCONNECTED:
			continue
		token = get_decrypted_password(K.REALM, row.name, "webhook_verifier_token", raise_exception=False)
		if token:
			out[row.realm_id] = token
	return out


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

"""Webhook helpers: signature check on the RAW body, and parsing of both payload formats.

Intuit is moving from the legacy `eventNotifications` object to a CloudEvents array (deadline 2026);
during the switch either can arrive, so both are accepted and normalised to WebhookEvent.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from . import constants as C
from .jsonutil import loads
from .timeutil import parse_qbo_datetime


@dataclass(frozen=True)
class WebhookEvent:
	realm_id: str
	entity: str
	entity_id: str
	operation: str
	occurred_at: datetime | None
	deleted_id: str | None = None
	event_id: str | None = None
	source_format: str = "legacy"


def verify_signature(raw_body: bytes, signature: str | None, verifier_token: str) -> bool:
	"""base64(HMAC-SHA256(verifier token, raw body)) == intuit-signature, compared in constant time.

	Must run on the exact bytes received: re-serialised JSON changes whitespace and breaks the HMAC.
	"""
	if not signature or not verifier_token:
		return False
	if isinstance(raw_body, str):
		raw_body = raw_body.encode("utf-8")
	digest = hmac.new(verifier_token.encode("utf-8"), raw_body, hashlib.sha256).digest()
	expected = base64.b64encode(digest)
	return hmac.compare_digest(expected, signature.strip().encode("utf-8"))


def parse_events(raw_body: bytes | str) -> list[WebhookEvent]:
	"""Legacy `{"eventNotifications":[...]}` or a CloudEvents JSON array -> events (ValueError if neither)."""
	data = loads(raw_body)
	if isinstance(data, list):
		return [_cloud_event(item) for item in data if isinstance(item, dict)]
	if isinstance(data, dict) and "eventNotifications" in data:
		return _legacy(data)
	if isinstance(data, dict) and "specversion" in data:
		return [_cloud_event(data)]
	raise ValueError("not a QBO webhook payload (neither eventNotifications nor a CloudEvents array)")


def entity_name(raw: str) -> str:
	"""QBO spelling for a lower-case (CloudEvents) entity name: creditmemo -> CreditMemo."""
	known = C.ENTITY_BY_LOWER.get(raw.lower())
	if known:
		return known
	return raw[:1].upper() + raw[1:]


def _legacy(data: dict[str, Any]) -> list[WebhookEvent]:
	events = []
	for notification in data.get("eventNotifications") or []:
		realm_id = str(notification.get("realmId") or "")
		for entity in (notification.get("dataChangeEvent") or {}).get("entities") or []:
			deleted = entity.get("deletedId") or entity.get("deletedID")
			events.append(
				WebhookEvent(
					realm_id=realm_id,
					entity=entity_name(str(entity.get("name") or "")),
					entity_id=str(entity.get("id") or ""),
					operation=str(entity.get("operation") or ""),
					occurred_at=_when(entity.get("lastUpdated")),
					deleted_id=str(deleted) if deleted else None,
					event_id=None,
					source_format="legacy",
				)
			)
	return events


def _cloud_event(item: dict[str, Any]) -> WebhookEvent:
	"""type = qbo.<entity>.<verb>.v<n>; intuitaccountid = realm; intuitentityid = the entity Id."""
	parts = str(item.get("type") or "").split(".")
	raw_entity = parts[1] if len(parts) >= 3 else ""
	verb = parts[2] if len(parts) >= 3 else ""
	operation = C.CLOUDEVENT_OPERATIONS.get(verb.lower(), verb[:1].upper() + verb[1:])
	data = item.get("data") if isinstance(item.get("data"), dict) else {}
	deleted = data.get("deletedId") or data.get("deletedid") or item.get("intuitdeletedid")
	return WebhookEvent(
		realm_id=str(item.get("intuitaccountid") or ""),
		entity=entity_name(raw_entity),
		entity_id=str(item.get("intuitentityid") or ""),
		operation=operation,
		occurred_at=_when(item.get("time")),
		deleted_id=str(deleted) if deleted else None,
		event_id=str(item["id"]) if item.get("id") else None,
		source_format="cloudevents",
	)


def _when(value: Any) -> datetime | None:
	if not value:
		return None
	try:
		return parse_qbo_datetime(str(value))
	except ValueError:
		return None

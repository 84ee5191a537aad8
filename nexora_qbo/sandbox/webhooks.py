"""Webhook deliveries (qbo-api.md §8), from a background thread so a slow receiver never delays the API.

Every committed create/update/delete/void of a realm with a webhook configured is POSTed, signed with
`intuit-signature` = base64(HMAC-SHA256(verifier_token, raw body)), in the configured format:
- "legacy": {"eventNotifications":[{"realmId", "dataChangeEvent":{"entities":[{id, operation, name,
  lastUpdated}]}}]} (fx:intuit-sdk-webhook-vectors/*.vector.json),
- "cloudevents": a JSON array of {specversion, id, source, type "qbo.<entity>.<created|updated|deleted|
  voided>.v1", datacontenttype, time, intuitentityid, intuitaccountid, data:{}} (blog sample 2025-11-12).
All events of one API request go in one delivery. No retries (QBO retries for hours; tests want determinism);
failures are counted in the realm stats. Deactivating a name list is sent as "Delete" (see service.update).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import queue
import threading
import urllib.request
import uuid
from datetime import datetime, timezone

from .util import dumps, utc_iso_millis

CLOUD_VERBS = {
	"Create": "created",
	"Update": "updated",
	"Delete": "deleted",
	"Void": "voided",
	"Merge": "merged",
}
FORMATS = ("legacy", "cloudevents")


def sign(verifier_token: str, body: bytes) -> str:
	digest = hmac.new(verifier_token.encode("utf-8"), body, hashlib.sha256).digest()
	return base64.b64encode(digest).decode("ascii")


def nanos_utc(dt: datetime) -> str:
	return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f") + "000Z"


def build_payload(fmt: str, realm_id: str, events: list) -> bytes:
	if fmt == "cloudevents":
		source = "intuit." + base64.b64encode(f"sandbox:{realm_id}".encode()).decode("ascii")
		body = [
			{
				"specversion": "1.0",
				"id": str(uuid.uuid4()),
				"source": source,
				"type": f"qbo.{entity.lower()}.{CLOUD_VERBS.get(op, op.lower())}.v1",
				"datacontenttype": "application/json",
				"time": nanos_utc(when),
				"intuitentityid": str(entity_id),
				"intuitaccountid": str(realm_id),
				"data": {"deletedId": str(ev[4])} if len(ev) > 4 and ev[4] else {},
			}
			for ev in events
			for entity, entity_id, op, when in [ev[:4]]
		]
	else:
		body = {
			"eventNotifications": [
				{
					"realmId": str(realm_id),
					"dataChangeEvent": {
						"entities": [
							{
								"id": str(entity_id),
								"operation": op,
								"name": entity,
								"lastUpdated": utc_iso_millis(when),
								**({"deletedId": str(ev[4])} if len(ev) > 4 and ev[4] else {}),
							}
							for ev in events
							for entity, entity_id, op, when in [ev[:4]]
						]
					},
				}
			]
		}
	return dumps(body).encode("utf-8")


class Dispatcher:
	def __init__(self):
		self._queue: queue.Queue = queue.Queue()
		self._thread = threading.Thread(target=self._run, name="qbo-sandbox-webhooks", daemon=True)
		self._thread.start()

	def emit(self, realm, events: list) -> None:
		config = realm.webhook
		if not config or not events or not config.get("url"):
			return
		payload = build_payload(config.get("format", "legacy"), realm.id, events)
		self._queue.put((realm, config["url"], config.get("verifier_token", ""), payload))

	def _run(self) -> None:
		while True:
			job = self._queue.get()
			if job is None:
				self._queue.task_done()
				return
			realm, url, token, payload = job
			try:
				req = urllib.request.Request(
					url,
					data=payload,
					method="POST",
					headers={
						"Content-Type": "application/json",
						"intuit-signature": sign(token, payload),
						"User-Agent": "nexora-qbo-sandbox-webhooks",
					},
				)
				with urllib.request.urlopen(req, timeout=5) as resp:
					ok = 200 <= resp.status < 300
			except Exception:
				ok = False
			with realm.lock:
				realm.count_stat("webhooks_sent" if ok else "webhooks_failed")
			self._queue.task_done()

	def flush(self, timeout: float = 5.0) -> bool:
		"""Wait until every queued delivery was attempted (tests)."""
		done = threading.Event()

		def waiter():
			self._queue.join()
			done.set()

		threading.Thread(target=waiter, daemon=True).start()
		return done.wait(timeout)

	def stop(self) -> None:
		self._queue.put(None)
